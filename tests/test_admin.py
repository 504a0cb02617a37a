"""Admin pages: users and roles, teams and their leads, API tokens; for the admin role only."""

from __future__ import annotations

import html
import re

import pytest
from peewee import JOIN
from support import PASSWORD, csrf_from, in_app, login, post_form

from feedback import accounts
from feedback.models import ApiToken, SuggestionCategory, Team, TeamLead, User

# Any CSRF token on a page, whatever the order of the input's attributes (the logout form in
# the header writes them differently from WTForms).
ANY_CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
TOKEN = re.compile(r'class="token"[^>]*>\s*([^<\s]+)\s*<')

# Every admin route, with a POST body that would change something if it got through.
ROUTES = [
    ("GET", "/admin/", None),
    ("GET", "/admin/surveys", None),
    ("GET", "/admin/surveys/post-case/v1", None),
    ("GET", "/admin/users", None),
    ("GET", "/admin/users/new", None),
    (
        "POST",
        "/admin/users/new",
        {
            "username": "intruder",
            "password": "long enough 123",
            "role": "admin",
            "team": "",
            "locale": "",
        },
    ),
    ("GET", "/admin/users/{staff}", None),
    (
        "POST",
        "/admin/users/{staff}",
        {
            "display_name": "Boss",
            "role": "admin",
            "team": "",
            "locale": "",
            "active": "y",
            "new_password": "long enough 123",
        },
    ),
    ("GET", "/admin/teams", None),
    ("GET", "/admin/teams/new", None),
    ("POST", "/admin/teams/new", {"name": "Intruders"}),
    ("GET", "/admin/teams/{team}", None),
    ("POST", "/admin/teams/{team}", {"name": "Taken over", "leads": "{staff}"}),
    ("GET", "/admin/tokens", None),
    ("GET", "/admin/tokens/new", None),
    ("POST", "/admin/tokens/new", {"name": "stolen"}),
    ("GET", "/admin/tokens/{token}/revoke", None),
    ("POST", "/admin/tokens/{token}/revoke", {}),
    ("GET", "/admin/suggestion-box", None),
    ("GET", "/admin/suggestion-box/categories/new", None),
    (
        "POST",
        "/admin/suggestion-box/categories/new",
        {"name_zh": "入侵", "name_en": "Intrusion", "active": "y"},
    ),
    ("GET", "/admin/suggestion-box/categories/1", None),
    ("POST", "/admin/suggestion-box/categories/1", {"name_zh": "改了", "name_en": "Changed"}),
    ("GET", "/admin/suggestion-box/poster-customer.pdf", None),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _data in ROUTES]
POSTS = [route for route in ROUTES if route[0] == "POST"]
POST_IDS = [f"POST {path}" for _method, path, _data in POSTS]

NEW_USER = {
    "username": "wang.fang",
    "display_name": "王芳",
    "password": "s3cret-enough",
    "role": "staff",
    "team": "",
    "locale": "zh_CN",
}


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def ids(app, users, api_token):
    """The ids the route templates name: a staff user, team Billing, the fixture's token."""
    with in_app(app):
        return {
            "staff": users["staff"].id,
            "admin": users["admin"].id,
            "manager": users["manager"].id,
            "lead": users["lead"].id,
            "team": Team.get(Team.name == "Billing").id,
            "token": ApiToken.get(ApiToken.name == "test helpdesk").id,
        }


def fill(template: str, ids: dict) -> str:
    return template.format(**ids)


def fill_data(data: dict | None, ids: dict) -> dict:
    return {key: fill(value, ids) for key, value in (data or {}).items()}


def as_admin(client, username: str = "admin"):
    assert login(client, username).status_code == 302
    client.get("/?lang=en")  # the assertions below read the English text


def page_text(reply) -> str:
    return html.unescape(reply.get_data(as_text=True))


def error_beside(reply, field: str) -> str:
    """The error message shown beside a field, which the field names in aria-describedby."""
    page = reply.get_data(as_text=True)
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    assert match, f"no error beside {field}"
    tag = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{field}"[^>]*>', page)
    assert tag and f"{field}-error" in tag.group(0), f"{field} does not point at its error"
    return html.unescape(match.group(1))


def snapshot(app):
    """Everything the admin pages can change."""
    with in_app(app):
        return (
            sorted(
                User.select(
                    User.username,
                    User.display_name,
                    User.password_hash,
                    User.role,
                    User.team,
                    User.active,
                    User.locale,
                ).tuples()
            ),
            sorted(Team.select(Team.id, Team.name).tuples()),
            sorted(TeamLead.select(TeamLead.team, TeamLead.user).tuples()),
            sorted(
                ApiToken.select(ApiToken.name, ApiToken.token_hash, ApiToken.revoked_at).tuples(),
                key=repr,
            ),
            sorted(
                SuggestionCategory.select(
                    SuggestionCategory.name_zh,
                    SuggestionCategory.name_en,
                    SuggestionCategory.active,
                ).tuples()
            ),
        )


def get_user(app, username: str) -> User | None:
    with in_app(app):
        return (
            User.select(User, Team)
            .join(Team, JOIN.LEFT_OUTER, on=(User.team == Team.id))
            .where(User.username == username)
            .first()
        )


def leads_of(app, team_name: str) -> set[str]:
    with in_app(app):
        return {
            row.user.username
            for row in TeamLead.select(TeamLead, User)
            .join(User)
            .switch(TeamLead)
            .join(Team)
            .where(Team.name == team_name)
        }


def edit_data(**changes) -> dict:
    """A whole edit-user form, as the browser sends it (an unticked box is not sent)."""
    data = {
        "display_name": "Somebody",
        "role": "staff",
        "team": "",
        "locale": "",
        "active": "y",
        "new_password": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- who may see the pages --------------------------------------------------------------------


def test_every_admin_route_is_tested_and_admin_only(app):
    adapter = app.url_map.bind("feedback.test")
    tested = set()
    for method, path, _data in ROUTES:
        endpoint, _args = adapter.match(
            fill(path, {"staff": 1, "team": 1, "token": 1}), method=method
        )
        tested.add(endpoint)
    admin_endpoints = {
        rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")
    }
    assert tested == admin_endpoints
    for endpoint in admin_endpoints:
        assert app.view_functions[endpoint].roles == ("admin",), endpoint


@pytest.mark.parametrize("method, path, data", ROUTES, ids=ROUTE_IDS)
def test_logged_out_is_sent_to_login(app, client, ids, method, path, data):
    before = snapshot(app)
    url = fill(path, ids)
    if method == "POST":
        token = csrf_from(client.get("/login").get_data(as_text=True))
        reply = client.post(url, data={**fill_data(data, ids), "csrf_token": token})
    else:
        reply = client.get(url)
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith("/login?next=")
    assert snapshot(app) == before


@pytest.mark.parametrize("role", ["manager", "lead", "staff"])
@pytest.mark.parametrize("method, path, data", ROUTES, ids=ROUTE_IDS)
def test_other_roles_are_forbidden(app, client, ids, role, method, path, data):
    assert login(client, role).status_code == 302
    before = snapshot(app)
    url = fill(path, ids)
    if method == "POST":
        token = ANY_CSRF.search(client.get("/").get_data(as_text=True)).group(1)
        reply = client.post(url, data={**fill_data(data, ids), "csrf_token": token})
    else:
        reply = client.get(url)
    assert reply.status_code == 403
    assert snapshot(app) == before


@pytest.mark.parametrize("method, path, data", POSTS, ids=POST_IDS)
def test_post_without_csrf_token_is_refused_and_writes_nothing(
    app, client, ids, method, path, data
):
    as_admin(client)
    before = snapshot(app)
    reply = client.post(fill(path, ids), data=fill_data(data, ids))
    assert reply.status_code == 400
    assert snapshot(app) == before
    reply = client.post(fill(path, ids), data={**fill_data(data, ids), "csrf_token": "forged"})
    assert reply.status_code == 400
    assert snapshot(app) == before


def test_admin_sees_every_page(app, client, ids):
    as_admin(client)
    for method, path, _data in ROUTES:
        if method == "GET":
            assert client.get(fill(path, ids)).status_code == 200, path
    index = client.get("/admin/").get_data(as_text=True)
    for link in ("/admin/surveys", "/admin/users", "/admin/teams", "/admin/tokens"):
        assert f'href="{link}"' in index


def test_unknown_ids_are_404(app, client, ids):
    as_admin(client)
    for path in (
        "/admin/users/9999",
        "/admin/teams/9999",
        "/admin/tokens/9999/revoke",
        "/admin/suggestion-box/categories/9999",
    ):
        assert client.get(path).status_code == 404, path


def test_tables_scroll_on_a_narrow_screen(app, client, ids):
    as_admin(client)
    for path in ("/admin/users", "/admin/teams", "/admin/tokens"):
        page = client.get(path).get_data(as_text=True)
        # its own scrolling box, which a keyboard can reach (tabindex) to scroll it
        wrapped = page.count('<div class="table-wrap" tabindex="0">\n<table')
        assert page.count("<table") == wrapped == 1, path


# --- users ------------------------------------------------------------------------------------


def test_user_list_shows_each_user(app, client, ids):
    as_admin(client)
    page = page_text(client.get("/admin/users"))
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    lead_row = next(row for row in rows if ">lead</a>" in row)
    cells = [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td>(.*?)</td>", lead_row, re.S)
    ]
    assert cells == ["lead", "lead", "Team lead", "Billing", "yes", "Billing", ""]  # no agent code
    assert f'href="/admin/users/{ids["staff"]}"' in page


def test_create_user_stores_a_hashed_password(app, client, ids):
    as_admin(client)
    reply = post_form(client, "/admin/users/new", {**NEW_USER, "team": str(ids["team"])})
    assert reply.status_code == 302 and reply.headers["Location"] == "/admin/users"
    listing = page_text(client.get("/admin/users"))
    assert "User wang.fang was created." in listing
    assert "wang.fang" in listing and "王芳" in listing
    user = get_user(app, "wang.fang")
    assert (user.display_name, user.role, user.team.name, user.locale, user.active) == (
        "王芳",
        "staff",
        "Billing",
        "zh_CN",
        True,
    )
    assert user.password_hash != NEW_USER["password"]
    assert NEW_USER["password"] not in user.password_hash
    with in_app(app):
        assert accounts.authenticate("wang.fang", NEW_USER["password"]).id == user.id
        assert accounts.authenticate("wang.fang", "wrong password") is None
    other = app.test_client()
    assert login(other, "wang.fang", NEW_USER["password"]).headers["Location"] == "/"


def test_create_user_without_display_name_or_team_or_locale(app, client, ids):
    as_admin(client)
    reply = post_form(
        client,
        "/admin/users/new",
        {**NEW_USER, "display_name": "", "locale": "", "role": "manager"},
    )
    assert reply.status_code == 302
    user = get_user(app, "wang.fang")
    assert (user.display_name, user.team_id, user.locale, user.role) == (
        "wang.fang",
        None,
        None,
        "manager",
    )


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"username": "staff"}, "username", "This username is taken."),
        ({"username": "STAFF"}, "username", "This username is taken."),
        ({"username": "wang fang"}, "username", "letters, digits"),
        ({"username": "w"}, "username", "letters, digits"),
        ({"username": "   "}, "username", "Please enter a username."),
        ({"password": "short"}, "password", "At least 8 characters."),
        ({"password": "1234567"}, "password", "At least 8 characters."),
        ({"password": ""}, "password", "Please enter a password."),
        ({"role": "owner"}, "role", ""),
        ({"team": "9999"}, "team", ""),
        ({"locale": "fr"}, "locale", ""),
        ({"display_name": "x" * 101}, "display_name", "100"),
    ],
    ids=[
        "taken",
        "taken-other-case",
        "space",
        "too-short",
        "blank",
        "short-password",
        "seven-characters",
        "no-password",
        "unknown-role",
        "unknown-team",
        "unknown-locale",
        "long-display-name",
    ],
)
def test_create_user_bad_input_is_shown_beside_the_field(app, client, ids, changes, field, message):
    as_admin(client)
    before = snapshot(app)
    reply = post_form(client, "/admin/users/new", {**NEW_USER, **changes})
    assert reply.status_code == 422
    assert message in error_beside(reply, field)
    assert 'class="error-summary" role="alert"' in reply.get_data(as_text=True)
    assert snapshot(app) == before
    if changes.get("password") is None and field != "username":
        assert 'value="wang.fang"' in reply.get_data(as_text=True)  # what was typed is kept


def test_edit_user_changes_everything_asked(app, client, ids):
    as_admin(client)
    page = client.get(f"/admin/users/{ids['staff']}").get_data(as_text=True)
    assert 'value="staff"' in page and "Billing</option>" in page
    reply = post_form(
        client,
        f"/admin/users/{ids['staff']}",
        edit_data(
            display_name="Zhang Wei",
            role="lead",
            team="",
            locale="en",
            new_password="brand new pass",
        ),
    )
    assert reply.status_code == 302 and reply.headers["Location"] == "/admin/users"
    assert "The changes to staff were saved." in page_text(client.get("/admin/users"))
    user = get_user(app, "staff")
    assert (user.display_name, user.role, user.team_id, user.locale, user.active) == (
        "Zhang Wei",
        "lead",
        None,
        "en",
        True,
    )
    assert user.password_hash != "brand new pass"
    with in_app(app):
        assert accounts.authenticate("staff", "brand new pass") is not None
        assert accounts.authenticate("staff", PASSWORD) is None


def test_edit_user_without_new_password_keeps_the_old_one(app, client, ids):
    as_admin(client)
    old_hash = get_user(app, "staff").password_hash
    reply = post_form(
        client,
        f"/admin/users/{ids['staff']}",
        edit_data(display_name="Staff", team=str(ids["team"])),
    )
    assert reply.status_code == 302
    assert get_user(app, "staff").password_hash == old_hash


def test_deactivated_user_cannot_log_in_and_is_logged_out(app, client, ids):
    staff = app.test_client()
    assert login(staff, "staff").status_code == 302
    assert staff.get("/").status_code == 200
    as_admin(client)
    reply = post_form(
        client, f"/admin/users/{ids['staff']}", edit_data(display_name="Staff", active=None)
    )
    assert reply.status_code == 302
    assert get_user(app, "staff").active is False
    assert "/login" in staff.get("/").headers["Location"]  # the open session ends
    assert login(app.test_client(), "staff").status_code == 200  # the form again, refused
    listing = page_text(client.get("/admin/users"))
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", listing, re.S) if ">staff</a>" in r)
    assert "<td>no</td>" in row


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"new_password": "short"}, "new_password", "At least 8 characters."),
        ({"display_name": ""}, "display_name", "Please enter a display name."),
        ({"role": "root"}, "role", ""),
        ({"team": "abc"}, "team", ""),
    ],
    ids=["short-password", "no-display-name", "unknown-role", "unknown-team"],
)
def test_edit_user_bad_input_changes_nothing(app, client, ids, changes, field, message):
    as_admin(client)
    before = snapshot(app)
    reply = post_form(client, f"/admin/users/{ids['staff']}", edit_data(**changes))
    assert reply.status_code == 422
    assert message in error_beside(reply, field)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"role": "manager"}, "role", "You cannot take the admin role away from yourself."),
        ({"active": None}, "active", "You cannot deactivate your own account."),
    ],
    ids=["demote", "deactivate"],
)
def test_admin_cannot_demote_or_deactivate_themself(app, client, ids, changes, field, message):
    as_admin(client)
    before = snapshot(app)
    reply = post_form(
        client,
        f"/admin/users/{ids['admin']}",
        edit_data(**{"display_name": "admin", "role": "admin", **changes}),
    )
    assert reply.status_code == 422
    assert message in error_beside(reply, field)
    assert snapshot(app) == before
    assert client.get("/admin/users").status_code == 200  # still an admin


def test_admin_can_change_own_details_and_demote_another_admin(app, client, ids):
    with in_app(app):
        accounts.create_user("second", PASSWORD, "admin")
    as_admin(client)
    reply = post_form(
        client, f"/admin/users/{ids['admin']}", edit_data(display_name="Chief", role="admin")
    )
    assert reply.status_code == 302
    assert get_user(app, "admin").display_name == "Chief"
    second = app.test_client()
    as_admin(second, "second")
    reply = post_form(
        second,
        f"/admin/users/{ids['admin']}",
        edit_data(display_name="Chief", role="manager", active=None),
    )
    assert reply.status_code == 302
    user = get_user(app, "admin")
    assert (user.role, user.active) == ("manager", False)


# --- teams ------------------------------------------------------------------------------------


def test_team_create_rename_and_duplicates(app, client, ids):
    as_admin(client)
    reply = post_form(client, "/admin/teams/new", {"name": "  售后服务  "})
    assert reply.status_code == 302 and reply.headers["Location"] == "/admin/teams"
    listing = page_text(client.get("/admin/teams"))
    assert "Team 售后服务 was created." in listing and ">售后服务</a>" in listing
    with in_app(app):
        team_id = Team.get(Team.name == "售后服务").id

    for url, name in (
        ("/admin/teams/new", "Billing"),
        ("/admin/teams/new", "billing"),
        (f"/admin/teams/{team_id}", "BILLING"),
        ("/admin/teams/new", " "),
    ):
        before = snapshot(app)
        reply = post_form(client, url, {"name": name})
        assert reply.status_code == 422, (url, name)
        expected = "Please enter a name." if not name.strip() else "already a team"
        assert expected in error_beside(reply, "name")
        assert snapshot(app) == before

    reply = post_form(client, f"/admin/teams/{team_id}", {"name": "After-sales"})
    assert reply.status_code == 302
    with in_app(app):
        assert Team.get_by_id(team_id).name == "After-sales"
        assert Team.select().count() == 2
    # keeping its own name is no clash, nor is a change of case of its own name
    assert post_form(client, f"/admin/teams/{team_id}", {"name": "AFTER-SALES"}).status_code == 302


def test_team_list_counts_active_members_and_shows_leads(app, client, ids):
    as_admin(client)
    page = page_text(client.get("/admin/teams"))
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", page, re.S) if ">Billing</a>" in r)
    assert "<td>4</td>" in row and "lead (lead)" in row
    post_form(
        client,
        f"/admin/users/{ids['staff']}",
        edit_data(display_name="S", active=None, team=str(ids["team"])),
    )
    page = page_text(client.get("/admin/teams"))
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", page, re.S) if ">Billing</a>" in r)
    assert "<td>3</td>" in row


def test_team_leads_are_set_and_shown(app, client, ids):
    as_admin(client)
    page = client.get(f"/admin/teams/{ids['team']}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{ids["lead"]}">', page)
    assert "multiple" in page and 'for="leads"' in page

    reply = client.post(
        f"/admin/teams/{ids['team']}",
        data={
            "name": "Billing",
            "leads": [str(ids["manager"]), str(ids["lead"])],
            "csrf_token": csrf_from(page),
        },
    )
    assert reply.status_code == 302
    assert leads_of(app, "Billing") == {"manager", "lead"}

    # a second team led by the same person: a user can lead several teams
    reply = post_form(client, "/admin/teams/new", {"name": "Returns", "leads": [str(ids["lead"])]})
    assert reply.status_code == 302
    assert leads_of(app, "Returns") == {"lead"}
    assert leads_of(app, "Billing") == {"manager", "lead"}

    teams = page_text(client.get("/admin/teams"))
    rows = {
        re.search(r">([^<]+)</a>", r).group(1): r
        for r in re.findall(r"<tr>(.*?)</tr>", teams, re.S)
        if "</a>" in r
    }
    assert "manager (manager)" in rows["Billing"] and "lead (lead)" in rows["Billing"]
    assert "lead (lead)" in rows["Returns"] and "manager" not in rows["Returns"]

    users = page_text(client.get("/admin/users"))
    lead_row = next(r for r in re.findall(r"<tr>(.*?)</tr>", users, re.S) if ">lead</a>" in r)
    assert "Billing, Returns" in lead_row
    with in_app(app):
        assert len(User.get_by_id(ids["lead"]).led_team_ids()) == 2

    # and none at all
    assert post_form(client, f"/admin/teams/{ids['team']}", {"name": "Billing"}).status_code == 302
    assert leads_of(app, "Billing") == set()
    assert leads_of(app, "Returns") == {"lead"}


def test_team_leads_must_be_known_users(app, client, ids):
    as_admin(client)
    before = snapshot(app)
    reply = post_form(client, f"/admin/teams/{ids['team']}", {"name": "Billing", "leads": ["9999"]})
    assert reply.status_code == 422
    error_beside(reply, "leads")
    assert snapshot(app) == before


# --- API tokens -------------------------------------------------------------------------------


def test_new_token_is_shown_once_and_works(app, client, ids):
    as_admin(client)
    # Shown in the answer to the POST itself: never in a cookie, never kept by a cache.
    created = post_form(client, "/admin/tokens/new", {"name": "Helpdesk production"})
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    page = page_text(created)
    token = TOKEN.search(page).group(1)
    assert token.startswith("fbk_") and len(token) > 30
    assert "It will not be shown again" in page and "Helpdesk production was created" in page
    serializer = app.session_interface.get_signing_serializer(app)
    for header in created.headers.getlist("Set-Cookie"):
        name, value = header.split(";", 1)[0].split("=", 1)
        assert token not in header
        if name == app.config["SESSION_COOKIE_NAME"] and value:
            assert token not in repr(serializer.loads(value))
    with client.session_transaction() as session:
        assert token not in repr(dict(session))

    with in_app(app):
        stored = ApiToken.get(ApiToken.name == "Helpdesk production")
        assert stored.token_hash != token and token not in repr(stored.__data__)
        assert stored.last_used_at is None and stored.revoked_at is None

    listing = page_text(client.get("/admin/tokens"))
    assert token not in listing and "Helpdesk production" in listing

    api = client.get("/api/v1/surveys/post-case", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.get_json()["slug"] == "post-case"
    with in_app(app):
        assert ApiToken.get_by_id(stored.id).last_used_at is not None


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Please enter a name."),
        ("   ", "Please enter a name."),
        ("x" * 101, "At most 100 characters."),
    ],
)
def test_new_token_needs_a_name(app, client, ids, name, message):
    as_admin(client)
    before = snapshot(app)
    reply = post_form(client, "/admin/tokens/new", {"name": name})
    assert reply.status_code == 422
    assert message in error_beside(reply, "name")
    assert snapshot(app) == before


def test_revoked_token_is_refused(app, client, ids, api_headers):
    assert client.get("/api/v1/surveys/post-case", headers=api_headers).status_code == 200
    as_admin(client)
    confirm = page_text(client.get(f"/admin/tokens/{ids['token']}/revoke"))
    assert "Revoke API token test helpdesk?" in confirm
    reply = post_form(client, f"/admin/tokens/{ids['token']}/revoke", {})
    assert reply.status_code == 302 and reply.headers["Location"] == "/admin/tokens"
    assert "was revoked" in page_text(client.get("/admin/tokens"))
    with in_app(app):
        assert ApiToken.get_by_id(ids["token"]).revoked_at is not None
    refused = client.get("/api/v1/surveys/post-case", headers=api_headers)
    assert refused.status_code == 401

    listing = page_text(client.get("/admin/tokens"))
    assert f'/admin/tokens/{ids["token"]}/revoke"' not in listing  # no second revoke link
    # a second POST (an old tab) says so and changes nothing
    before = snapshot(app)
    token = ANY_CSRF.search(client.get("/admin/tokens").get_data(as_text=True)).group(1)
    reply = client.post(
        f"/admin/tokens/{ids['token']}/revoke", data={"csrf_token": token}, follow_redirects=True
    )
    assert "already revoked" in page_text(reply)
    assert snapshot(app) == before


def test_revoking_one_token_leaves_the_others(app, client, ids, api_headers):
    as_admin(client)
    second = TOKEN.search(
        page_text(post_form(client, "/admin/tokens/new", {"name": "Second"}))
    ).group(1)
    post_form(client, f"/admin/tokens/{ids['token']}/revoke", {})
    assert client.get("/api/v1/surveys/post-case", headers=api_headers).status_code == 401
    assert (
        client.get(
            "/api/v1/surveys/post-case", headers={"Authorization": f"Bearer {second}"}
        ).status_code
        == 200
    )
