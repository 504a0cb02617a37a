"""The audit trail: each administrative and sensitive action writes its entry (who, what, from
where), and the admin page lists, filters, pages and downloads them. Both databases."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import pytest
from support import PASSWORD, in_app, login, new_case, post_form

from feedback import audit
from feedback.models import ApiToken, AuditEntry, Team

ADDRESS = "203.0.113.9"


def entries(app, action=None) -> list[AuditEntry]:
    with in_app(app):
        query = AuditEntry.select().order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(query)


@pytest.fixture
def admin(app, users):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    assert login(client, "admin").status_code == 302
    return client


def edit(**changes) -> dict:
    data = {
        "display_name": "staff",
        "role": "staff",
        "team": "",
        "locale": "",
        "active": "y",
        "new_password": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def only(app, action) -> AuditEntry:
    found = entries(app, action)
    assert len(found) == 1, [(e.action, e.target, e.detail) for e in entries(app)]
    return found[0]


def assert_by_admin(entry, users):
    assert (entry.actor, entry.actor_user_id, entry.address) == (
        "admin",
        users["admin"].id,
        ADDRESS,
    )


def test_creating_a_user_is_audited(app, admin, users):
    reply = post_form(
        admin,
        "/admin/users/new",
        {"username": "wang.fang", "password": PASSWORD, "role": "lead", "team": "", "locale": ""},
    )
    assert reply.status_code == 302
    entry = only(app, "user.create")
    assert_by_admin(entry, users)
    assert entry.target == "user wang.fang"
    assert json.loads(entry.detail)["role"] == "lead"


def test_role_team_password_and_activation_changes_are_audited(app, admin, users):
    staff = users["staff"].id
    billing = str(users["staff"].team_id)
    assert (
        post_form(admin, f"/admin/users/{staff}", edit(role="lead", team=billing)).status_code
        == 302
    )
    change = only(app, "user.change")
    assert_by_admin(change, users)
    assert change.target == "user staff"
    assert json.loads(change.detail)["changes"] == {"role": ["staff", "lead"]}
    assert not entries(app, "user.password") and not entries(app, "user.deactivate")

    assert (
        post_form(
            admin,
            f"/admin/users/{staff}",
            edit(role="lead", team=billing, new_password="brand new pass"),
        ).status_code
        == 302
    )
    password = only(app, "user.password")
    assert_by_admin(password, users)
    assert "brand new pass" not in password.detail  # the password itself is never written
    assert len(entries(app, "user.change")) == 1  # nothing else changed

    assert (
        post_form(
            admin, f"/admin/users/{staff}", edit(role="lead", team="", active=None)
        ).status_code
        == 302
    )
    changed = entries(app, "user.change")
    assert len(changed) == 2 and json.loads(changed[-1].detail)["changes"] == {
        "team": ["Billing", None]
    }
    assert only(app, "user.deactivate").target == "user staff"
    assert post_form(admin, f"/admin/users/{staff}", edit(role="lead")).status_code == 302
    assert only(app, "user.activate").target == "user staff"


def test_the_call_back_grant_is_audited_when_it_changes(app, admin, users):
    """Whoever sets ``callbacks_all_teams`` (the user form's checkbox), the change is in the
    entry: the audit compares every column of the user before and after."""
    from feedback.web import admin as admin_views

    before = admin_views._user_state(users["staff"])
    after = {**before, "callbacks_all_teams": True}
    assert admin_views._changes(before, after) == {"callbacks_all_teams": [False, True]}


def test_teams_and_leads_are_audited(app, admin, users):
    assert (
        post_form(
            admin, "/admin/teams/new", {"name": "Returns", "leads": str(users["lead"].id)}
        ).status_code
        == 302
    )
    created = only(app, "team.create")
    assert_by_admin(created, users)
    assert created.target == "team Returns" and json.loads(created.detail)["leads"] == ["lead"]
    with in_app(app):
        team_id = Team.get(Team.name == "Returns").id
    assert post_form(admin, f"/admin/teams/{team_id}", {"name": "Returns desk"}).status_code == 302
    changed = only(app, "team.change")
    assert changed.target == "team Returns desk"
    detail = json.loads(changed.detail)
    assert detail["name"] == ["Returns", "Returns desk"] and detail["leads"] == [["lead"], []]


def test_api_tokens_are_audited_without_the_token(app, admin, users):
    reply = post_form(admin, "/admin/tokens/new", {"name": "helpdesk"})
    assert reply.status_code == 200  # the token is shown in this answer, once
    shown = re.search(r'id="new-token">([^<]+)<', reply.get_data(as_text=True))
    created = only(app, "token.create")
    assert_by_admin(created, users)
    assert created.target == "API token helpdesk"
    with in_app(app):
        token = ApiToken.get(ApiToken.name == "helpdesk")
    assert token.token_hash not in created.detail
    assert shown and shown.group(1).strip() not in created.detail
    assert post_form(admin, f"/admin/tokens/{token.id}/revoke", {}).status_code == 302
    assert only(app, "token.revoke").target == "API token helpdesk"


def test_suggestion_categories_are_audited(app, admin, users):
    reply = post_form(
        admin,
        "/admin/suggestion-box/categories/new",
        {"name_zh": "停车", "name_en": "Parking", "position": "9", "active": "y"},
    )
    assert reply.status_code == 302
    entry = only(app, "category.save")
    assert_by_admin(entry, users)
    assert "Parking" in entry.target


def test_cli_users_and_tokens_are_audited_as_cli(app, users):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "zhao", "--role", "staff", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-token", "crm"])
    assert result.exit_code == 0, result.output
    user, token = only(app, "user.create"), only(app, "token.create")
    assert (user.actor, user.address, user.target) == ("cli", None, "user zhao")
    assert (token.actor, token.target) == ("cli", "API token crm")


def test_a_changed_or_refused_survey_file_is_audited_once(make_app, tmp_path):
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    from feedback.settings import PROJECT_ROOT

    source = (PROJECT_ROOT / "surveys" / "post-case.yaml").read_text(encoding="utf-8")
    (surveys / "post-case.yaml").write_text(source, encoding="utf-8")
    app = make_app(SURVEYS_DIR=str(surveys))
    first = only(app, "survey.change")
    assert (first.actor, first.target) == ("system", "survey post-case")
    assert json.loads(first.detail) == {"status": "new", "version": 1, "file": "post-case.yaml"}
    make_app(SURVEYS_DIR=str(surveys))  # another worker starting: nothing changed
    assert len(entries(app, "survey.change")) == 1
    (surveys / "post-case.yaml").write_text(
        source.replace("questions:", "questions: [", 1), encoding="utf-8"
    )
    result = app.test_cli_runner().invoke(args=["surveys", "sync"])
    assert result.exit_code == 1
    refused = entries(app, "survey.change")[-1]
    assert refused.actor == "cli" and json.loads(refused.detail)["status"] == "error"
    app.test_cli_runner().invoke(args=["surveys", "sync"])  # the same error again
    assert len(entries(app, "survey.change")) == 2


def test_raw_data_downloads_are_audited_with_their_filters(app, admin, users, api_headers):
    new_case(app.test_client(), api_headers)
    query = "?survey=post-case&from=2026-11-01&to=2026-11-30&channel=phone"
    for fmt in ("csv", "xlsx"):
        reply = admin.get(f"/manage/export/responses.{fmt}{query}")
        assert reply.status_code == 200
        reply.close()
    assert admin.get("/manage/suggestions/export.csv?status=open").status_code == 200
    found = entries(app, "export.raw")
    assert [e.target for e in found] == ["responses.csv", "responses.xlsx", "suggestions.csv"]
    for entry in found:
        assert_by_admin(entry, users)
    assert json.loads(found[0].detail)["filters"] == {
        "survey": "post-case",
        "from": "2026-11-01",
        "to": "2026-11-30",
        "channel": "phone",
    }
    assert json.loads(found[2].detail)["filters"] == {"status": "open"}
    # a bad filter downloads nothing and audits nothing
    assert admin.get("/manage/export/responses.csv?from=nonsense").status_code == 400
    assert len(entries(app, "export.raw")) == 3


# --- the page -----------------------------------------------------------------------------------


@pytest.fixture
def logged(app, users):
    """A few entries at known times (UTC), by different actors (and only those)."""
    with in_app(app):
        AuditEntry.delete().execute()  # the surveys loaded at start-up
        rows = [
            ("2026-11-01 02:00:00", "admin", "user.create", "user wang"),
            ("2026-11-10 03:00:00", "cli", "token.create", "API token crm"),
            ("2026-11-20 04:00:00", "admin", "export.raw", "responses.csv"),
            ("2026-11-20 17:00:00", "zhou", "customer.erase", "customer 100%_done"),
        ]
        for at, actor, action, target in rows:
            AuditEntry.create(
                at=datetime.fromisoformat(at),
                actor=actor,
                action=action,
                target=target,
                detail=json.dumps({"n": 1}),
                address=ADDRESS,
            )


def targets(reply) -> list[str]:
    import re

    body = reply.get_data(as_text=True)
    return re.findall(
        r"<tr>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*<td>.*?</td>\s*<td>([^<]*)</td>", body, re.S
    )


def test_the_page_lists_newest_first_and_filters_in_the_url(app, admin, logged):
    admin.get("/?lang=en")
    everything = targets(admin.get("/admin/audit/"))
    assert everything[:4] == ["customer 100%_done", "responses.csv", "API token crm", "user wang"]
    assert targets(admin.get("/admin/audit/?action=token.create")) == ["API token crm"]
    assert targets(admin.get("/admin/audit/?actor=ADMIN")) == ["responses.csv", "user wang"]
    assert targets(admin.get("/admin/audit/?target=TOKEN")) == ["API token crm"]
    assert targets(admin.get("/admin/audit/?target=100%25_")) == ["customer 100%_done"]
    assert targets(admin.get("/admin/audit/?target=0%25d")) == []  # % is not a wildcard
    # dates are local days (Asia/Shanghai): 2026-11-20 17:00 UTC is the 21st there
    assert targets(admin.get("/admin/audit/?from=2026-11-10&to=2026-11-20")) == [
        "responses.csv",
        "API token crm",
    ]
    assert targets(admin.get("/admin/audit/?from=2026-11-21")) == ["customer 100%_done"]


def test_bad_filters_are_named_beside_their_field(app, admin, logged):
    admin.get("/?lang=en")
    reply = admin.get("/admin/audit/?from=yesterday&action=user.frobnicate")
    assert reply.status_code == 400
    page = reply.get_data(as_text=True)
    assert 'id="from-error">A date like 2026-11-25.' in page
    assert 'id="action-error">Not one of the choices.' in page
    assert admin.get("/admin/audit/audit.csv?to=2026-13-01").status_code == 400
    assert admin.get("/admin/audit/?target=%00").status_code == 400


def test_the_page_is_paged(app, admin, users):
    admin.get("/?lang=en")
    with in_app(app):
        for number in range(55):
            audit.record("export.raw", f"file {number}", actor="cli")
    first = admin.get("/admin/audit/?action=export.raw")
    assert len(targets(first)) == 50 and 'rel="next"' in first.get_data(as_text=True)
    second = targets(admin.get("/admin/audit/?action=export.raw&page=2"))
    assert second == [f"file {n}" for n in range(4, -1, -1)]
    assert "past the end" in admin.get("/admin/audit/?page=9").get_data(as_text=True)


def test_the_csv_is_the_filtered_list_and_formula_safe(app, admin, logged):
    with in_app(app):
        audit.record("category.save", '=HYPERLINK("http://x")', actor="cli")
    reply = admin.get("/admin/audit/audit.csv?actor=admin&lang=en")
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    assert reply.content_type == "text/csv; charset=utf-8"  # once, not twice
    rows = list(csv.reader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))
    # heads and actions in words, in the admin's language, each action's code beside it
    assert rows[0] == [
        "Number", "When", "Who", "Action", "Action code", "Target", "Address", "Details"
    ]  # fmt: skip
    assert [r[5] for r in rows[1:]] == ["responses.csv", "user wang"]
    assert [r[4] for r in rows[1:]] == ["export.raw", "user.create"]
    assert rows[1][3] == "Raw data downloaded"
    assert rows[1][1] == "2026-11-20 12:00:00" and rows[1][6] == ADDRESS
    chinese = admin.get("/admin/audit/audit.csv?actor=admin&lang=zh-CN").get_data(as_text=True)
    head = chinese.lstrip("\ufeff").splitlines()[0]
    assert head == "编号,时间,操作人,行动,操作代码,对象,地址,详情"
    assert not re.search(r"[A-Za-z]", head)
    everything = admin.get("/admin/audit/audit.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in everything


def test_the_page_speaks_chinese_and_fits_a_phone(app, admin, logged):
    admin.get("/?lang=zh_CN")
    page = admin.get("/admin/audit/").get_data(as_text=True)
    assert "审计日志" in page and 'class="table-wrap"' in page
    assert 'name="viewport"' in page
    assert "/admin/audit/" in admin.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["manager", "lead", "staff"])
def test_only_admins_see_the_log(app, users, role):
    client = app.test_client()
    login(client, role)
    assert client.get("/admin/audit/").status_code == 403
    assert client.get("/admin/audit/audit.csv").status_code == 403
    assert app.test_client().get("/admin/audit/").status_code == 302  # to the login page
