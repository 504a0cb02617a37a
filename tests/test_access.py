"""Who may see and do what: one matrix in docs/access.md, walked over the whole URL map.

The focused tests first (a lead reaching another team's suggestion through a duplicate, the
call-back desk limited to one's own teams, the grant for all teams, the audit of each view of a
customer's contact details); then ``test_the_access_matrix`` tries every route of the app with
every role, another team's object and a huge id, as docs/access.md says.
"""

from __future__ import annotations

import os
import re
import time
from datetime import date
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from support import PASSWORD, csrf_from, in_app, login, new_case, post_form, user_form
from werkzeug.routing import IntegerConverter

from feedback import accounts, actions, meeting_pack, posters, suggestions
from feedback.models import (
    ApiToken,
    AuditEntry,
    Case,
    FollowUp,
    ImprovementAction,
    Robot,
    Suggestion,
    SuggestionCategory,
    Survey,
    Team,
    User,
)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "access.md"
CALLBACK_UNHAPPY = {"reached": "yes", "resolved": "no", "csat": "2", "nps": "5"}


def client_of(app, role: str | None):
    client = app.test_client()
    if role:
        login(client, role)
    return client


def _suggestion(app, title: str, team: str | None) -> int:
    with in_app(app):
        team_id = Team.by_name(team).id if team else None
        category = SuggestionCategory.select().order_by(SuggestionCategory.id).first()
        made, _code = suggestions.submit(
            suggestions.NewSuggestion(
                box="customer",
                category_id=category.id,
                title=title,
                body="正文",
                anonymous=True,
                locale="zh_CN",
                team_id=team_id,
            ),
            app.config,
        )
        return made.id


# --- item 9: a duplicate's target must be a suggestion the user may see -----------------------


def test_a_lead_cannot_reach_another_teams_suggestion_through_a_duplicate(app, users):
    own = _suggestion(app, "我们组的建议", "Billing")
    theirs = _suggestion(app, "别的组的秘密建议", "Support")
    with in_app(app):
        billing = str(Team.by_name("Billing").id)
    lead = client_of(app, "lead")
    unknown = post_form(
        lead,
        f"/manage/suggestions/{own}?lang=en",
        {"status": "duplicate", "merged_into": "99999", "team": billing},
    )
    reply = post_form(
        lead,
        f"/manage/suggestions/{own}?lang=en",
        {"status": "duplicate", "merged_into": str(theirs), "team": billing},
    )
    text = reply.get_data(as_text=True)
    assert reply.status_code == 422
    # the same answer as for a number that does not exist, beside the field
    assert re.search(r'id="merged_into-error">[^<]*no suggestion with that number', text)
    assert unknown.status_code == 422 and "no suggestion with that number" in unknown.get_data(
        as_text=True
    )
    assert "别的组的秘密建议" not in text
    with in_app(app):
        assert Suggestion.get_by_id(own).status == "new"
        assert Suggestion.get_by_id(own).merged_into_id is None
    # a manager sees every team: the merge is allowed
    manager = client_of(app, "manager")
    assert (
        post_form(
            manager,
            f"/manage/suggestions/{own}",
            {"status": "duplicate", "merged_into": str(theirs), "team": billing},
        ).status_code
        == 303
    )
    # and the lead, looking at their own suggestion, is not shown the other team's title
    page = lead.get(f"/manage/suggestions/{own}").get_data(as_text=True)
    assert "别的组的秘密建议" not in page and f"/manage/suggestions/{theirs}" not in page


def test_another_teams_objects_are_404_for_a_lead_like_unknown_ones(app, users):
    theirs = _suggestion(app, "别的组", "Support")
    lead = client_of(app, "lead")
    assert lead.get(f"/manage/suggestions/{theirs}").status_code == 404
    assert lead.get("/manage/suggestions/99999").status_code == 404
    with in_app(app):
        survey = Survey.get(Survey.slug == "post-case")
        action = actions.create_action(
            {
                "title": "别组的行动",
                "description": "",
                "metric": "csat",
                "survey": survey.id,
                "team": Team.by_name("Support").id,
                "owner": users["manager"].id,
                "start_date": date(2026, 11, 1),
                "due_date": date(2026, 12, 1),
            },
            users["manager"],
        )
    assert lead.get(f"/manage/actions/{action.id}").status_code == 404
    assert lead.get(f"/manage/actions/{action.id}/edit").status_code == 404


def test_a_lead_filtering_by_another_team_gets_the_unknown_team_answer(app, users):
    with in_app(app):
        Team.by_name("Support")
    lead = client_of(app, "lead")
    for url in (
        "/manage/",
        "/api/v1/metrics",
        "/manage/export/responses.csv",
        "/manage/charts/csat-trend.csv",
    ):
        unknown = lead.get(f"{url}?team=Nope")
        other = lead.get(f"{url}?team=Support")
        assert other.status_code == unknown.status_code, url
        assert other.status_code in (400, 404), url
        text = other.get_data(as_text=True)
        assert "unknown team" in text or "未知的团队" in text, url
    assert client_of(app, "manager").get("/manage/?team=Support").status_code == 200


# --- item 10: the call-back desk sees the cases of one's own teams ----------------------------


@pytest.fixture
def two_cases(app, client, api_headers, users):
    """A case of Billing (everyone's team in ``users``) and one of Support, both with a phone."""
    new_case(
        client,
        api_headers,
        case_id="B-1",
        customer={"id": "b1", "name": "王小明", "phone": "+86 139 0000 0001"},
    )
    new_case(
        client,
        api_headers,
        case_id="S-1",
        team="Support",
        customer={"id": "s1", "name": "李秘密", "phone": "+86 139 0000 0002"},
    )
    with in_app(app):
        support = Team.by_name("Support")
        accounts.create_user("other_staff", PASSWORD, "staff", team=support)
        accounts.create_user("other_lead", PASSWORD, "lead", team=None)
        accounts.set_team_leads(support, [User.get(User.username == "other_lead")])
        return {case.case_ref: case.id for case in Case.select()}


def _sees(client, case_id: int, ref: str) -> dict:
    return {
        "case": client.get(f"/callback/case/{case_id}").status_code,
        "record": client.get(f"/callback/case/{case_id}/callback").status_code,
        "find": client.get(f"/callback/?case={ref}").status_code,
    }


SEES = {"case": 200, "record": 200, "find": 302}
HIDDEN = {"case": 404, "record": 404, "find": 404}


@pytest.mark.parametrize(
    "role,billing,support",
    [
        ("staff", SEES, HIDDEN),
        ("lead", SEES, HIDDEN),
        ("other_staff", HIDDEN, SEES),
        ("other_lead", HIDDEN, SEES),
        ("manager", SEES, SEES),
        ("admin", SEES, SEES),
    ],
)
def test_call_backs_are_for_ones_own_teams(app, two_cases, role, billing, support):
    client = client_of(app, role)
    assert _sees(client, two_cases["B-1"], "B-1") == billing
    assert _sees(client, two_cases["S-1"], "S-1") == support
    hidden = [ref for ref, seen in (("B-1", billing), ("S-1", support)) if seen is HIDDEN]
    for ref in hidden:
        case_id = two_cases[ref]
        page = client.get(f"/callback/case/{case_id}").get_data(as_text=True)
        assert "139 0000" not in page and "秘密" not in page
        # the same answer as for a case that does not exist
        found = client.get(f"/callback/?case={ref}&lang=en").get_data(as_text=True)
        assert "No case has this reference." in found
        token = csrf_from(client.get("/").get_data(as_text=True))
        reply = client.post(
            f"/callback/case/{case_id}/callback", data={**CALLBACK_UNHAPPY, "csrf_token": token}
        )
        assert reply.status_code == 404
    with in_app(app):
        assert FollowUp.select().count() == 0


def test_an_admin_grants_call_backs_for_all_teams(app, two_cases):
    admin = client_of(app, "admin")
    with in_app(app):
        staff = User.get(User.username == "staff")
    desk = client_of(app, "staff")
    assert desk.get(f"/callback/case/{two_cases['S-1']}").status_code == 404
    page = admin.get(f"/admin/users/{staff.id}?lang=en").get_data(as_text=True)
    assert 'name="callbacks_all_teams"' in page and "Call-backs for all teams" in page
    form = user_form(staff, callbacks_all_teams="y")
    assert post_form(admin, f"/admin/users/{staff.id}", form).status_code == 302
    with in_app(app):
        assert User.get_by_id(staff.id).callbacks_all_teams is True
    assert _sees(desk, two_cases["S-1"], "S-1") == SEES
    assert "李秘密" in desk.get(f"/callback/case/{two_cases['S-1']}").get_data(as_text=True)
    # unticked, the grant is gone
    form.pop("callbacks_all_teams")
    assert post_form(admin, f"/admin/users/{staff.id}", form).status_code == 302
    assert _sees(desk, two_cases["S-1"], "S-1") == HIDDEN


def test_each_view_of_a_customers_contact_details_is_audited(app, two_cases):
    client = client_of(app, "staff")
    client.get(f"/callback/case/{two_cases['B-1']}")
    client.get(f"/callback/case/{two_cases['B-1']}")
    client.get(f"/callback/case/{two_cases['S-1']}")  # refused: nothing seen, nothing audited
    with in_app(app):
        entries = list(
            AuditEntry.select().where(AuditEntry.action == "callback.view").order_by(AuditEntry.id)
        )
        staff = User.get(User.username == "staff")
    assert [(e.actor, e.actor_user_id, e.target) for e in entries] == [
        ("staff", staff.id, "case B-1")
    ] * 2
    assert entries[0].address == "127.0.0.1"


# --- item 6: the whole URL map against the matrix of docs/access.md ----------------------------

ROLES = ("anonymous", "staff", "lead", "manager", "admin")
COLUMNS = (*ROLES, "other team", "huge id")
ROW = re.compile(r"^\|\s*`(GET|POST) (\S+)`\s*\|(.*)\|\s*$")
# Path parameters that name a team's object: tried with another team's too.
TEAM_OBJECTS = ("case_id", "suggestion_id", "follow_up_id", "action_id")
HUGE_IDS = (2**31, 10**20)  # beyond PostgreSQL's SERIAL, and beyond SQLite's 64 bits


def denied(role: str, status: int | None) -> bool:
    """Whether the role has no access at all (anonymous: sent to the login page)."""
    return status in (401, 403) or (role == "anonymous" and status == 302)


def read_matrix(text: str) -> dict[tuple[str, str], dict[str, int | None]]:
    """The rows of docs/access.md's table: (method, rule) -> {column: status or None}."""
    rows: dict[tuple[str, str], dict[str, int | None]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = ROW.match(line)
        if not match:
            continue
        cells = [cell.strip() for cell in match.group(3).split("|")]
        assert len(cells) == len(COLUMNS), f"docs/access.md, line {number}: {len(cells)} cells"
        key = (match.group(1), match.group(2))
        assert key not in rows, f"docs/access.md, line {number}: {key} twice"
        rows[key] = {
            column: None if cell in ("–", "-", "") else int(cell)
            for column, cell in zip(COLUMNS, cells, strict=False)
        }
    return rows


def routes(app) -> list[tuple[str, str, object]]:
    """Every (method, rule) the app answers, but HEAD and OPTIONS."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule, rule))
    return sorted(found, key=lambda item: (item[1], item[0]))


def make_world(app, client, api_headers, users) -> dict:
    """One of each object in Billing (the lead's and staff's team) and in Support; returns the
    path parameters of the routes, for own objects ("own") and another team's ("other")."""
    billing_case = new_case(
        client,
        api_headers,
        case_id="B-1",
        customer={"id": "b1", "name": "王", "phone": "139 0000 0001"},
    )
    new_case(
        client,
        api_headers,
        case_id="S-1",
        team="Support",
        customer={"id": "s1", "name": "李", "phone": "139 0000 0002"},
    )
    with in_app(app):
        cases = {c.case_ref: c.id for c in Case.select()}
        # the staff member is the agent of the cases (support.CASE): their own figures, /me/
        User.update(agent_code="李娜").where(User.username == "staff").execute()
    manager = client_of(app, "manager")
    for ref in ("B-1", "S-1"):  # an unhappy call-back opens a follow-up in each team
        assert (
            post_form(
                manager, f"/callback/case/{cases[ref]}/callback", CALLBACK_UNHAPPY
            ).status_code
            == 302
        )
    billing_suggestion = _suggestion(app, "账单组的建议", "Billing")
    support_suggestion = _suggestion(app, "支持组的建议", "Support")
    with in_app(app):
        follow_ups = {f.case.case_ref: f.id for f in FollowUp.select()}
        survey = Survey.get(Survey.slug == "post-case")
        plans = {}
        for team in ("Billing", "Support"):
            plan = actions.create_action(
                {
                    "title": f"{team} action",
                    "description": "",
                    "metric": "csat",
                    "survey": survey.id,
                    "team": Team.by_name(team).id,
                    "owner": users["manager"].id,
                    "start_date": date(2026, 11, 1),
                    "due_date": date(2026, 12, 1),
                },
                users["manager"],
            )
            milestone = actions.add_milestone(plan, "first step", date(2026, 11, 15))
            plans[team] = (plan.id, milestone.id)
        actions.link(
            ImprovementAction.get_by_id(plans["Billing"][0]), "suggestion", billing_suggestion
        )
        # Objects of the admin pages that a POST of the CSRF token alone may change (a team
        # without leads, a hidden category, a revoked token): spares, so the walk goes on.
        spare_team = Team.by_name("Spare").id
        spare_token = accounts.create_token("spare")
        token_id = ApiToken.get(ApiToken.token_hash == accounts._hash_token(spare_token)).id
        robot_id = Robot.create(
            team=spare_team, platform="wecom", name="spare", url="http://127.0.0.1:9/"
        ).id
        category_id = SuggestionCategory.create(
            slug="spare", name_zh="备用", name_en="Spare", position=99, active=True
        ).id
        _made, code = suggestions.submit(
            suggestions.NewSuggestion(
                box="customer",
                category_id=category_id,
                title="有码的建议",
                body="正文",
                anonymous=True,
                locale="zh_CN",
            ),
            app.config,
        )
    own = {
        "case_id": cases["B-1"],
        "suggestion_id": billing_suggestion,
        "follow_up_id": follow_ups["B-1"],
        "action_id": plans["Billing"][0],
        "milestone_id": plans["Billing"][1],
        "target_id": billing_suggestion,
        "kind": "suggestion",
        "token_id": token_id,
        "team_id": spare_team,
        # the admin's own: a form without "active" may not deactivate oneself (422)
        "user_id": users["admin"].id,
        "category_id": category_id,
        "robot_id": robot_id,
        "number": 1,
        "box": "customer",
        "name": "csat-trend",
        "filename": "survey.js",
        "code": code,
        "token": billing_case["invitation"]["url"].rstrip("/").rsplit("/", 1)[1],
        "signature": "0" * 32,  # an unsubscribe link we did not make (the case has no email)
    }
    other = {
        **own,
        "case_id": cases["S-1"],
        "suggestion_id": support_suggestion,
        "follow_up_id": follow_ups["S-1"],
        "action_id": plans["Support"][0],
        "milestone_id": plans["Support"][1],
    }
    return {"own": own, "other": other}


def url_for_rule(rule, values: dict) -> str:
    """The rule's path with these values; slug and fmt depend on the route."""
    chosen = {name: values[name] for name in rule.arguments if name in values}
    if "slug" in rule.arguments:
        chosen["slug"] = "callback" if rule.rule.startswith("/callback/") else "post-case"
    if "fmt" in rule.arguments:
        chosen["fmt"] = "png" if "poster" in rule.rule else "csv"
    missing = rule.arguments - chosen.keys()
    assert not missing, f"{rule.rule}: no test value for {sorted(missing)}"
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(chosen[name]), path)
    return path


class Visitor:
    """One logged-in (or anonymous) test client per role, sending valid CSRF tokens."""

    def __init__(self, app):
        self.app = app
        self.seconds: dict[tuple[str, str], float] = {}  # time spent on each URL
        self.clients = {role: self._client(role) for role in ROLES}

    def _client(self, role):
        client = client_of(self.app, None if role == "anonymous" else role)
        page = client.get("/login" if role == "anonymous" else "/")
        client.csrf = csrf_from(page.get_data(as_text=True))
        return client

    def send(self, role: str, method: str, path: str):
        started = time.perf_counter()
        try:
            return self._send(role, method, path)
        finally:
            self.seconds[method, path] = (
                self.seconds.get((method, path), 0) + time.perf_counter() - started
            )

    def _send(self, role: str, method: str, path: str):
        client = self.clients[role]
        if method == "GET":
            reply = client.get(path)
        else:
            reply = client.post(path, data={"csrf_token": client.csrf})
        reply.close()
        if path == "/logout":  # log in again for the rest of the walk
            self.clients[role] = self._client(role)
        return reply


def test_the_access_matrix(app, client, api_headers, users, monkeypatch):
    """Every route of the URL map is in docs/access.md, and answers each role, another team's
    object and a huge id as the table says (GET, and POST with a valid CSRF token)."""
    # Who gets the meeting pack and the posters is tested here, what is in them elsewhere
    # (test_meeting_pack.py, test_suggestions.py): drawing them took half a minute of this test.
    monkeypatch.setattr(meeting_pack, "build_pack", lambda *args, **kwargs: b"%PDF-1.4 stub")
    monkeypatch.setattr(posters, "poster", lambda url, box: Figure(figsize=(1, 1)))
    matrix = read_matrix(DOCS.read_text(encoding="utf-8"))
    world = make_world(app, client, api_headers, users)
    visitor = Visitor(app)
    if os.environ.get("ACCESS_MATRIX_OBSERVE"):  # print what the app does, as table rows
        observe(visitor, world, app)
        pytest.skip("observed, not checked")
    listed = {(method, path) for method, path, _rule in routes(app)}
    missing, stale = sorted(listed - matrix.keys()), sorted(matrix.keys() - listed)
    assert not missing, f"routes missing from docs/access.md: {missing}"
    assert not stale, f"rows of docs/access.md for no route: {stale}"
    wrong, tried = [], 0
    for method, path, rule in routes(app):
        expected = matrix[(method, path)]
        objects = [name for name in TEAM_OBJECTS if name in rule.arguments]
        ints = [
            name
            for name, converter in rule._converters.items()
            if isinstance(converter, IntegerConverter)
        ]
        assert (expected["other team"] is not None) == bool(objects), (
            f"{method} {path}: 'other team' is for routes with {TEAM_OBJECTS}"
        )
        assert (expected["huge id"] is not None) == bool(ints), (
            f"{method} {path}: 'huge id' is for routes with a number in the path"
        )
        own_url = url_for_rule(rule, world["own"])
        for role in ROLES:
            reply = visitor.send(role, method, own_url)
            status = reply.status_code
            tried += 1
            if status != expected[role]:
                wrong.append(f"{method} {own_url} as {role}: {status}, not {expected[role]}")
            elif (
                role == "anonymous"
                and status == 302
                and expected["admin"] != 302
                and "/login" not in reply.headers["Location"]
            ):
                wrong.append(f"{method} {own_url} as anonymous: not sent to the login page")
            granted = not denied(role, expected[role])
            if objects and granted and role in ("staff", "lead"):
                other_url = url_for_rule(rule, world["other"])
                status = visitor.send(role, method, other_url).status_code
                tried += 1
                if status != expected["other team"]:
                    wrong.append(
                        f"{method} {other_url} (another team's) as {role}: {status}, "
                        f"not {expected['other team']}"
                    )
            for huge in HUGE_IDS if ints and granted else ():
                huge_url = url_for_rule(rule, {**world["own"], **{name: huge for name in ints}})
                status = visitor.send(role, method, huge_url).status_code
                tried += 1
                if status != expected["huge id"]:
                    wrong.append(
                        f"{method} {huge_url} as {role}: {status}, not {expected['huge id']}"
                    )
    assert not wrong, f"{len(wrong)} of {tried} requests:\n" + "\n".join(wrong)


def observe(visitor: Visitor, world: dict, app) -> None:
    """Print each route's statuses as rows of docs/access.md (ACCESS_MATRIX_OBSERVE=1): to
    check one by one against what should happen, never to paste unread."""
    for method, path, rule in routes(app):
        objects = [name for name in TEAM_OBJECTS if name in rule.arguments]
        ints = [
            name
            for name, converter in rule._converters.items()
            if isinstance(converter, IntegerConverter)
        ]
        cells = {
            role: visitor.send(role, method, url_for_rule(rule, world["own"])).status_code
            for role in ROLES
        }
        other = {
            visitor.send(role, method, url_for_rule(rule, world["other"])).status_code
            for role in ("staff", "lead")
            if objects and not denied(role, cells[role])
        }
        huge = {
            visitor.send(
                role, method, url_for_rule(rule, {**world["own"], **{name: value for name in ints}})
            ).status_code
            for role in ROLES
            if ints and not denied(role, cells[role])
            for value in HUGE_IDS
        }
        row = [str(cells[role]) for role in ROLES]
        row.append("/".join(map(str, sorted(other))) or "–")
        row.append("/".join(map(str, sorted(huge))) or "–")
        print(f"| `{method} {path}` | " + " | ".join(row) + " |")
    slowest = sorted(visitor.seconds.items(), key=lambda item: -item[1])[:8]
    print("slowest:", ", ".join(f"{m} {p} {s:.2f} s" for (m, p), s in slowest))
