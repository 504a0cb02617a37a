"""The suggestion box: giving, tracking codes, answering, email, overdue, export, anonymity."""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import timedelta

import pytest
from support import code_of, csrf_from, give, in_app, login, post_form

from feedback import suggestions
from feedback.db import database, utcnow
from feedback.i18n import language
from feedback.models import Suggestion, SuggestionEvent, Team


def stored(app, **where):
    with in_app(app):
        query = Suggestion.select().order_by(Suggestion.id)
        for key, value in where.items():
            query = query.where(getattr(Suggestion, key) == value)
        return list(query)


# --- giving -----------------------------------------------------------------------------------


def test_a_customer_gives_an_anonymous_suggestion_and_gets_a_code(app, client):
    page = client.get("/suggest/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<label for="title">' in html and 'name="website"' in html
    reply = give(client)
    assert reply.status_code == 200
    assert reply.headers["Cache-Control"] == "no-store"
    code = code_of(reply)
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code)
    [row] = stored(app)
    assert (row.box, row.anonymous, row.status, row.name, row.email, row.user_id) == (
        "customer",
        True,
        "new",
        None,
        None,
        None,
    )
    assert row.tracking_hash == suggestions.code_hash(code) and code not in row.tracking_hash
    assert f"/suggest/track/{code}" in reply.get_data(as_text=True)


def test_option_labels_are_in_each_request_s_language(app, client, manager):
    """Options declared once, on the form class, are translated when a page shows them."""
    for lang, anonymous, newest in (
        ("zh_CN", "匿名", "最新在前"),
        ("en", "Anonymous", "Newest first"),
        ("zh_CN", "匿名", "最新在前"),
    ):
        form = client.get(f"/suggest/?lang={lang}").get_data(as_text=True)
        assert f"> {anonymous}</label>" in form
        triage = manager.get(f"/manage/suggestions/?lang={lang}").get_data(as_text=True)
        assert f'<option selected value="newest">{newest}</option>' in triage


def test_named_suggestion_keeps_name_and_email(app, client):
    reply = give(client, identity="named", name="王芳", email="wang@example.cn")
    assert reply.status_code == 200
    [row] = stored(app)
    assert (row.anonymous, row.name, row.email) == (False, "王芳", "wang@example.cn")


def test_anonymous_wins_over_a_typed_name(app, client):
    reply = give(client, name="王芳", email="wang@example.cn")
    assert reply.status_code == 200
    assert "were not kept" in reply.get_data(as_text=True) or "没有保存" in reply.get_data(
        as_text=True
    )
    [row] = stored(app)
    assert (row.name, row.email) == (None, None)


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"title": ""}, "title", "short title"),
        ({"body": ""}, "body", "Write your suggestion"),
        ({"title": "x" * 121}, "title", "120"),
        ({"body": "x" * 4001}, "body", "4000"),
        ({"category": "0"}, "category", "Choose a category"),
        ({"category": "999"}, "category", "Not a valid choice"),
        ({"identity": ""}, "identity", "anonymous"),
        ({"identity": "named", "name": ""}, "name", "Give your name"),
        ({"identity": "named", "name": "王", "email": "not-an-email"}, "email", "not an email"),
        ({"website": "http://spam.example"}, "website", "Leave this field empty"),
    ],
)
def test_bad_input_is_shown_beside_the_field_and_nothing_is_stored(
    app, client, fields, field, words
):
    client.get("/suggest/?lang=en")  # the messages in English
    reply = give(client, **fields)
    assert reply.status_code == 422
    html = reply.get_data(as_text=True)
    error = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert error and words.lower() in error.group(1).lower(), html[-3000:]
    assert stored(app) == []
    if fields.get("title"):
        assert fields["title"][:50] in html  # what was typed is kept


def test_the_staff_box_needs_a_login_and_may_be_anonymous(app, client, users):
    assert client.get("/suggest/staff").status_code == 302
    login(client, "staff")
    page = client.get("/suggest/staff")
    assert 'name="team"' in page.get_data(as_text=True)
    billing = users["staff"].team_id
    assert give(client, "/suggest/staff", team=str(billing)).status_code == 200
    assert give(client, "/suggest/staff", identity="named", name="Staff").status_code == 200
    anonymous, named = stored(app)
    assert (anonymous.box, anonymous.user_id, anonymous.team_id) == ("staff", None, billing)
    assert (named.user_id, named.name) == (users["staff"].id, "Staff")


# --- anonymity --------------------------------------------------------------------------------


def test_nothing_identifying_is_stored_or_logged_for_an_anonymous_suggestion(app, users, caplog):
    """Distinctive values in every header and identity field; then search every table and the
    log for each of them."""
    marks = {
        "ip": "203.0.113.77",
        "forwarded": "198.51.100.99",
        "agent": "MarkAgent/7.7.7-zz91",
        "referer": "https://referer.example/mark-ref-5512",
        "cookie": "markcookie8841",
        "name": "Markname Zz",
        "email": "mark.email.4471@example.test",
    }
    from feedback import accounts

    with in_app(app):
        staff = accounts.create_user(
            "markuser3319", "password123", "staff", display_name="Markdisplay Qq"
        )
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": marks["ip"]})
    login(client, "markuser3319")  # the staff box, logged in: the account must not be linked
    client.set_cookie("tracker", marks["cookie"])
    headers = {
        "User-Agent": marks["agent"],
        "X-Forwarded-For": marks["forwarded"],
        "Referer": marks["referer"],
        "X-Real-IP": marks["forwarded"],
    }
    page = client.get("/suggest/staff", headers=headers)
    caplog.set_level(logging.DEBUG)
    reply = client.post(
        "/suggest/staff",
        headers=headers,
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "category": "1",
            "title": "匿名建议",
            "body": "请改进排班。",
            "identity": "anonymous",
            "name": marks["name"],
            "email": marks["email"],
        },
    )
    assert reply.status_code == 200
    code = code_of(reply)
    # follow it and comment, still anonymous
    client.post(
        f"/suggest/track/{code}/comment",
        headers=headers,
        data={
            "csrf_token": csrf_from(client.get(f"/suggest/track/{code}").get_data(as_text=True)),
            "comment": "补充一点",
        },
    )
    session_cookie = client.get_cookie("session").value
    needles = [
        marks[k] for k in ("ip", "forwarded", "agent", "referer", "cookie", "name", "email")
    ] + ["mark-ref-5512", session_cookie[:40], code, code.replace("-", "")]
    with in_app(app):
        [row] = Suggestion.select()
        assert (row.user_id, row.name, row.email) == (None, None, None)
        dump = []
        for table in database.get_tables():
            for record in database.execute_sql(f"SELECT * FROM {table}").fetchall():
                dump.append(f"{table}: {record!r}")
        events = list(SuggestionEvent.select())
        assert [e.author_id for e in events] == [None]
    text = "\n".join(dump)
    for needle in needles:
        assert needle not in text, f"{needle!r} was stored"
    # the account's name appears in its own row only, never beside the suggestion
    assert [line for line in dump if "Markdisplay" in line or "markuser3319" in line] == [
        line for line in dump if line.startswith("app_user:") and "markuser3319" in line
    ]
    log = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    for needle in needles + [staff.username, "Markdisplay"]:
        assert needle not in log, f"{needle!r} was logged"


# --- tracking ---------------------------------------------------------------------------------


def test_the_status_page_shows_replies_but_never_internal_notes(app, client, users, manager):
    code = code_of(give(client))
    [row] = stored(app)
    reply = post_form(
        manager,
        f"/manage/suggestions/{row.id}",
        {
            "status": "planned",
            "public_text": "下个月增加人手。",
            "internal_note": "预算待批 secret-7",
        },
    )
    assert reply.status_code == 303
    for url in (f"/suggest/track/{code}", f"/suggest/track/{code.lower().replace('-', ' ')}"):
        page = client.get(url)
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        html = page.get_data(as_text=True)
        assert "下个月增加人手。" in html and "secret-7" not in html
        assert "manager" not in html  # who answered stays inside
    # the form route gives the same page
    track = post_form(client, "/suggest/track", {"code": code})
    assert track.status_code == 200 and "下个月增加人手。" in track.get_data(as_text=True)


def test_a_submitter_can_comment_with_the_code(app, client):
    code = code_of(give(client))
    page = client.get(f"/suggest/track/{code}")
    token = csrf_from(page.get_data(as_text=True))
    empty = client.post(
        f"/suggest/track/{code}/comment", data={"csrf_token": token, "comment": "  "}
    )
    assert empty.status_code == 422 and 'id="comment-error"' in empty.get_data(as_text=True)
    done = client.post(
        f"/suggest/track/{code}/comment", data={"csrf_token": token, "comment": "周末也一样。"}
    )
    assert done.status_code == 303
    assert "周末也一样。" in client.get(f"/suggest/track/{code}").get_data(as_text=True)
    with in_app(app):
        [event] = SuggestionEvent.select()
        assert (event.by_submitter, event.author_id, event.public_text) == (
            True,
            None,
            "周末也一样。",
        )


def _without(html: str, code: str) -> str:
    """The page without the code it was asked for, and without its CSRF token: the token is
    signed with the current second, so two requests a second apart differ there alone."""
    html = re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1TOKEN", html)
    return html.replace(code, "CODE").replace(code.replace("-", ""), "CODE")


def test_wrong_and_malformed_codes_get_the_same_answer_and_the_same_queries(app, client):
    from support import counted_queries

    real = code_of(give(client))
    wrong = "2345-6789-ABCD" if real != "2345-6789-ABCD" else "3456-789A-BCDE"
    malformed = "!!"
    answers, statements = [], []
    for code in (wrong, malformed, "x" * 300):
        with app.app_context():
            database.connect(reuse_if_open=True)
            with counted_queries() as executed:
                page = client.get(f"/suggest/track/{code}")
            statements.append([re.sub(r"\s+", " ", sql) for sql in executed])
        assert page.status_code == 404
        answers.append(_without(page.get_data(as_text=True), code))
    assert answers[0] == answers[1]
    assert statements[0] == statements[1] == statements[2] and len(statements[0]) == 1
    assert "No suggestion has this code" in answers[0] or "没有" in answers[0]


def test_repeated_wrong_codes_are_rate_limited_but_right_ones_do_not_count(make_app):
    app = make_app(RATELIMIT_ENABLED=True, TRACKING_RATE_LIMIT="3 per hour")
    client = app.test_client()
    code = code_of(give(client))
    for _ in range(5):
        assert client.get(f"/suggest/track/{code}").status_code == 200
    for _ in range(3):
        assert client.get("/suggest/track/2222-3333-4444").status_code == 404
    assert client.get("/suggest/track/2222-3333-4445").status_code == 429
    assert client.get(f"/suggest/track/{code}").status_code == 429  # the address is blocked
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.8"
    assert other.get(f"/suggest/track/{code}").status_code == 200


def test_posting_is_rate_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, SUGGESTION_RATE_LIMIT="2 per minute")
    client = app.test_client()
    assert give(client).status_code == 200
    assert give(client).status_code == 200
    assert give(client).status_code == 429


def test_codes_are_unguessable():
    codes = {suggestions.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert len(suggestions.CODE_ALPHABET) ** suggestions.CODE_LENGTH > 10**17
    assert not set("01ILO") & set(suggestions.CODE_ALPHABET)
    assert suggestions.normalise_code(" k7qm-2xhd 9pwa ") == "K7QM2XHD9PWA"


# --- answering --------------------------------------------------------------------------------


def test_triage_roles(app, client, users):
    give(client)
    [row] = stored(app)
    anonymous = app.test_client()
    assert anonymous.get("/manage/suggestions/").status_code == 302
    staff = app.test_client()
    login(staff, "staff")
    for url in (
        "/manage/suggestions/",
        f"/manage/suggestions/{row.id}",
        "/manage/suggestions/export.csv",
    ):
        assert staff.get(url).status_code == 403
    lead = app.test_client()
    login(lead, "lead")
    # not their team's: answered as a suggestion that does not exist (docs/access.md)
    assert lead.get(f"/manage/suggestions/{row.id}").status_code == 404
    assert row.title not in lead.get("/manage/suggestions/").get_data(as_text=True)
    with in_app(app):
        Suggestion.update(team=users["lead"].team_id).execute()
    assert lead.get(f"/manage/suggestions/{row.id}").status_code == 200
    assert row.title in lead.get("/manage/suggestions/").get_data(as_text=True)
    for role in ("manager", "admin"):
        other = app.test_client()
        login(other, role)
        assert other.get(f"/manage/suggestions/{row.id}").status_code == 200
    manager = app.test_client()
    login(manager, "manager")
    assert manager.get("/manage/suggestions/999").status_code == 404


def test_declining_needs_a_public_reply(app, client, users, manager):
    give(client)
    [row] = stored(app)
    reply = post_form(
        manager,
        f"/manage/suggestions/{row.id}?lang=en",
        {"status": "declined", "internal_note": "no"},
    )
    assert reply.status_code == 422
    assert re.search(r'id="public_text-error">[^<]*public reply', reply.get_data(as_text=True))
    assert stored(app)[0].status == "new"
    reply = post_form(
        manager,
        f"/manage/suggestions/{row.id}",
        {"status": "declined", "public_text": "这超出我们的范围。"},
    )
    assert reply.status_code == 303
    assert stored(app)[0].status == "declined"


def test_duplicates_follow_the_suggestion_they_repeat(app, client, users, manager):
    first_code = code_of(give(client, title="第一条"))
    second_code = code_of(give(client, title="第二条"))
    first, second = stored(app)
    for bad, words in [
        ({}, "number"),
        ({"merged_into": str(second.id)}, "itself"),
        ({"merged_into": "9999"}, "no suggestion"),
    ]:
        reply = post_form(
            manager, f"/manage/suggestions/{second.id}?lang=en", {"status": "duplicate", **bad}
        )
        assert reply.status_code == 422, bad
        assert words in reply.get_data(as_text=True)
    assert (
        post_form(
            manager,
            f"/manage/suggestions/{second.id}",
            {
                "status": "duplicate",
                "merged_into": str(first.id),
                "public_text": "已有同样的建议。",
            },
        ).status_code
        == 303
    )
    post_form(
        manager,
        f"/manage/suggestions/{first.id}",
        {"status": "progress", "public_text": "正在改进排班。"},
    )
    html = client.get(f"/suggest/track/{second_code}?lang=zh_CN").get_data(as_text=True)
    assert "正在改进排班。" in html and "第一条" in html
    assert re.search(r'id="current-status">[^<]*<', html).group(0).endswith("进行中<")
    # a loop is refused: the first cannot now repeat the second
    reply = post_form(
        manager,
        f"/manage/suggestions/{first.id}",
        {"status": "duplicate", "merged_into": str(second.id)},
    )
    assert reply.status_code == 422
    assert first_code != second_code


def test_a_named_submitter_gets_the_reply_by_email_through_the_outbox(make_app, smtp_server):
    from feedback import accounts, outbox
    from feedback.models import Outbox

    app = make_app(**smtp_server.config, OUTBOX_RETRY_SECONDS=1)
    client = app.test_client()
    with in_app(app):
        accounts.create_user("manager", "password123", "manager")
    give(client, identity="named", name="王芳", email="wang@example.cn")
    give(client, title="匿名的")  # anonymous: never emailed
    named, anonymous = stored(app)
    manager = app.test_client()
    login(manager, "manager")
    smtp_server.fail_next = 1  # the first delivery fails; the change is kept all the same
    reply = post_form(
        manager,
        f"/manage/suggestions/{named.id}",
        {"status": "planned", "public_text": "下月上线。", "internal_note": "内部"},
        follow_redirects=True,
    )
    assert "by email" in reply.get_data(as_text=True) or "邮件" in reply.get_data(as_text=True)
    post_form(
        manager,
        f"/manage/suggestions/{anonymous.id}",
        {"status": "planned", "public_text": "好的。"},
    )
    assert smtp_server.messages == []  # nothing is sent inside the manager's request
    with in_app(app):
        [row] = Outbox.select()
        assert (row.kind, row.target, row.event) == ("email", "wang@example.cn", "suggestion.reply")
        assert outbox.deliver_due(app.config).failed == 1
        later = lambda: utcnow() + timedelta(minutes=5)  # noqa: E731  (after the backoff)
        assert outbox.deliver_due(app.config, now=later).delivered == 1
        assert outbox.deliver_due(app.config, now=later).delivered == 0  # exactly once
    assert stored(app, id=named.id)[0].status == "planned"
    [message] = smtp_server.messages
    assert message["To"] == "wang@example.cn"
    body = message.get_content()
    assert "下月上线。" in body and "内部" not in body and "/suggest/track" in body
    assert "已计划" in message["Subject"]


def test_without_smtp_nothing_is_queued(app, client, manager):
    from feedback.models import Outbox

    give(client, identity="named", name="王芳", email="wang@example.cn")
    [row] = stored(app)
    post_form(manager, f"/manage/suggestions/{row.id}", {"status": "planned", "public_text": "好"})
    with in_app(app):
        assert Outbox.select().count() == 0


def test_overdue_suggestions_are_marked(app, client, manager):
    give(client, title="旧的")
    give(client, title="新的")
    old, new = stored(app)
    with in_app(app):
        past = utcnow() - timedelta(days=20)
        Suggestion.update(created_at=past, reply_due_at=past + timedelta(days=7)).where(
            Suggestion.id == old.id
        ).execute()
    html = manager.get("/manage/suggestions/").get_data(as_text=True)
    assert html.count('class="is-overdue"') == 1
    overdue = manager.get("/manage/suggestions/?status=overdue").get_data(as_text=True)
    assert "旧的" in overdue and "新的" not in overdue
    # a public reply ends it
    post_form(
        manager, f"/manage/suggestions/{old.id}", {"status": "review", "public_text": "在看了"}
    )
    assert 'class="is-overdue"' not in manager.get("/manage/suggestions/").get_data(as_text=True)
    [old] = stored(app, id=old.id)
    assert old.first_reply_at is not None and old.first_reply_days > 0


def test_triage_filters_counts_and_order(app, client, manager):
    for title, category in (("甲", "1"), ("乙", "2"), ("丙", "2")):
        give(client, title=title, category=category)
    html = manager.get("/manage/suggestions/?category=2&order=oldest").get_data(as_text=True)
    assert "甲" not in html and html.index("乙") < html.index("丙")
    html = manager.get("/manage/suggestions/?category=2").get_data(as_text=True)
    assert html.index("丙") < html.index("乙")
    counts = suggestions.status_counts
    with in_app(app):
        assert counts(suggestions.Triage())["new"] == 3
        assert counts(suggestions.Triage(category_id=2))["open"] == 2
    bad = manager.get("/manage/suggestions/?start=yesterday&status=nonsense")
    assert bad.status_code == 400
    assert 'id="start-error"' in bad.get_data(as_text=True)


def test_a_long_suggestion_list_comes_in_pages(app, manager):
    with in_app(app):
        made = [_new(app, title=f"第{i:02d}条").id for i in range(55)]
    seen = []
    for number in (1, 2):
        html = manager.get(f"/manage/suggestions/?order=oldest&page={number}&lang=en").get_data(
            as_text=True
        )
        seen += [int(i) for i in re.findall(r'href="/manage/suggestions/(\d+)"', html)]
        assert ("Next page" in html) == (number == 1)
        assert ("Previous page" in html) == (number == 2)
    assert seen == made  # oldest first, each once
    beyond = manager.get("/manage/suggestions/?page=7&lang=en").get_data(as_text=True)
    assert "past the end of the list" in beyond and "No suggestions match" not in beyond


def test_you_said_we_did_lists_public_done_suggestions(app, client, manager):
    give(client, title="增加周末值班")
    give(client, title="私下处理的")
    shown, hidden = stored(app)
    post_form(
        manager,
        f"/manage/suggestions/{shown.id}",
        {"status": "done", "public_text": "周末已有值班。", "public": "y"},
    )
    post_form(
        manager, f"/manage/suggestions/{hidden.id}", {"status": "done", "public_text": "已处理。"}
    )
    html = client.get("/suggest/done").get_data(as_text=True)
    assert "增加周末值班" in html and "周末已有值班。" in html and "私下处理的" not in html


def test_csv_export_is_safe_and_anonymous(app, client, manager):
    give(client, title='=HYPERLINK("http://evil")', body="+1 -2 @x")
    give(client, identity="named", name="王芳", email="wang@example.cn", title="普通")
    reply = manager.get("/manage/suggestions/export.csv?lang=en")
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    text = reply.get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["Title"].startswith("'=") and rows[0]["Suggestion"].startswith("'+")
    assert (rows[0]["Name"], rows[0]["Email address"], rows[0]["Anonymous"]) == ("", "", "yes")
    assert (rows[1]["Name"], rows[1]["Email address"]) == ("王芳", "wang@example.cn")
    assert (rows[1]["Box"], rows[1]["Status"], rows[1]["Anonymous"]) == (
        "Customer box",
        "New",
        "no",
    )
    zh_box = language("zh_CN").gettext("Customer box")
    chinese = (
        manager.get("/manage/suggestions/export.csv?lang=zh_CN").get_data().decode("utf-8-sig")
    )
    rows = list(csv.DictReader(io.StringIO(chinese)))
    assert list(rows[0])[:6] == ["编号", "建议箱", "类别", "标题", "建议", "状态"]
    assert (rows[1]["名称"], rows[1]["匿名"]) == ("王芳", "否")
    assert (rows[1]["建议箱"], rows[1]["状态"]) == (zh_box, "新建")
    assert manager.get("/manage/suggestions/export.csv?status=open").status_code == 200
    bad = manager.get("/manage/suggestions/export.csv?end=bad&lang=en")
    assert bad.status_code == 400 and "end: A date like 2026-11-25." in bad.get_data(as_text=True)


def test_working_day_goal_sets_the_due_time(make_app):
    app = make_app(SUGGESTION_REPLY_DAYS=2)
    client = app.test_client()
    give(client)
    [row] = stored(app)
    from feedback.workdays import WorkingTime

    assert row.reply_due_at == WorkingTime.from_config(app.config).add(row.created_at, 2)


# --- admin: categories and posters ------------------------------------------------------------


def test_admin_edits_categories_and_the_form_follows(app, client, users):
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/admin/suggestion-box")
    assert page.status_code == 200 and "服务质量" in page.get_data(as_text=True)
    bad = post_form(admin, "/admin/suggestion-box/categories/new", {"name_zh": "", "name_en": "x"})
    assert bad.status_code == 422 and 'id="name_zh-error"' in bad.get_data(as_text=True)
    assert (
        post_form(
            admin,
            "/admin/suggestion-box/categories/new",
            {"name_zh": "停车", "name_en": "Parking", "position": "3", "active": "y"},
        ).status_code
        == 302
    )
    assert "停车" in client.get("/suggest/").get_data(as_text=True)
    with in_app(app):
        from feedback.models import SuggestionCategory

        parking = SuggestionCategory.get(SuggestionCategory.name_en == "Parking")
    assert (
        post_form(
            admin,
            f"/admin/suggestion-box/categories/{parking.id}",
            {"name_zh": "停车", "name_en": "Parking", "position": "3"},
        ).status_code
        == 302
    )
    assert "停车" not in client.get("/suggest/").get_data(as_text=True)
    # a hidden category cannot be chosen, even by a hand-made request
    reply = give(client, category=str(parking.id))
    assert reply.status_code == 422
    for role in ("manager", "lead", "staff"):
        other = app.test_client()
        login(other, role)
        for url in (
            "/admin/suggestion-box",
            "/admin/suggestion-box/categories/new",
            "/admin/suggestion-box/poster-customer.png",
        ):
            assert other.get(url).status_code == 403


def test_posters_hold_a_qr_code_of_the_box_address(app, users):
    import zxingcpp
    from PIL import Image

    admin = app.test_client()
    login(admin, "admin")
    png = admin.get("/admin/suggestion-box/poster-customer.png")
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png.data))
    assert image.size == (2480, 3508)  # A4 at 300 dpi
    assert [r.text for r in zxingcpp.read_barcodes(image)] == ["http://feedback.test/suggest/"]
    pdf = admin.get("/admin/suggestion-box/poster-staff.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    assert admin.get("/admin/suggestion-box/poster-other.png").status_code == 404


# --- figures ----------------------------------------------------------------------------------


def _new(app, title="建议", category_id=1, team_id=None):
    suggestion, _code = suggestions.submit(
        suggestions.NewSuggestion(
            box="customer",
            category_id=category_id,
            title=title,
            body="正文",
            anonymous=True,
            locale="zh_CN",
            team_id=team_id,
        ),
        app.config,
    )
    return suggestion


def test_figures_against_a_hand_worked_case(app, db, users):
    """Five suggestions: one a duplicate (left out); of the four, two answered (one in time,
    one late), one of them done; one unanswered and past its goal; one unanswered, not due."""
    from feedback import stats

    manager = users["manager"]
    made = [_new(app, f"s{i}", category_id=1 + i % 2) for i in range(5)]
    now = utcnow()
    due_past = now - timedelta(days=1)
    late, in_time, overdue, waiting, duplicate = made
    Suggestion.update(reply_due_at=due_past).where(
        Suggestion.id.in_([late.id, overdue.id])
    ).execute()
    for suggestion, status in ((late, "review"), (in_time, "done")):
        suggestion = Suggestion.get_by_id(suggestion.id)
        suggestions.change(suggestion, manager, suggestions.Change(status, "回复"), app.config)
    suggestions.change(
        Suggestion.get_by_id(duplicate.id),
        manager,
        suggestions.Change("duplicate", merged_into_id=waiting.id),
        app.config,
    )
    figures = suggestions.figures(suggestions.Triage())
    assert figures["received"] == 4
    assert figures["answered"]["n"] == 4 and figures["answered"]["value"] == 50.0
    low, high = stats.wilson_interval(2, 4)
    assert figures["answered"]["low"] == pytest.approx(100 * low)
    assert figures["answered"]["high"] == pytest.approx(100 * high)
    assert figures["done"]["value"] == 25.0
    # judged: the two answered and the overdue one; in time: one
    assert figures["within_goal"]["n"] == 3
    assert figures["within_goal"]["value"] == pytest.approx(100 / 3)
    assert figures["replied"] == 2 and figures["reply_days_median"] is not None
    by_month = suggestions.by_category_and_month(suggestions.Triage())
    assert sorted((r["category_id"], r["n"]) for r in by_month) == [(1, 3), (2, 2)]
    team = Team.by_name("Billing")
    assert suggestions.figures(suggestions.Triage(allowed_team_ids=(team.id,)))["received"] == 0


def test_the_dashboard_shows_the_suggestion_box_and_its_charts(app, client, manager):
    import csv as csv_module

    for category in ("1", "1", "2"):
        give(client, category=category)
    html = manager.get("/manage/?period=30d&lang=en").get_data(as_text=True)
    assert re.search(r'id="suggestions-received">3<', html)
    for name in ("suggestions-by-category", "suggestion-handling"):
        assert f"/manage/charts/{name}.png" in html
        png = manager.get(f"/manage/charts/{name}.png?period=30d")
        assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    table = manager.get("/manage/charts/suggestions-by-category.csv?period=30d&lang=en")
    rows = list(csv_module.reader(io.StringIO(table.get_data().decode("utf-8-sig"))))
    assert sorted((r[1], r[2]) for r in rows[1:]) == [
        ("Product quality", "1"),
        ("Service quality", "2"),
    ]
    give(client, category="2")  # the cached chart follows the data
    table = manager.get("/manage/charts/suggestions-by-category.csv?period=30d&lang=en")
    rows = list(csv_module.reader(io.StringIO(table.get_data().decode("utf-8-sig"))))
    assert ("Product quality", "2") in [(r[1], r[2]) for r in rows[1:]]


def test_the_meeting_pack_has_the_suggestion_pages_when_there_are_suggestions(app, client):
    from datetime import date

    from support import page_count

    from feedback import meeting_pack
    from feedback.i18n import language
    from feedback.models import Survey
    from feedback.reports import Slice
    from feedback.surveys import current_version, definition_of

    def pack():
        with in_app(app):
            survey = Survey.get(Survey.slug == "post-case")
            s = Slice(
                survey.id, date.today() - timedelta(days=30), date.today() + timedelta(days=1)
            )
            definition = definition_of(current_version("post-case"))
            names = meeting_pack.pack_charts(s, definition)
            return names, meeting_pack.build_pack(
                s, "post-case", definition, language("zh_CN"), 30, "Asia/Shanghai"
            )

    names, pdf = pack()
    assert not set(names) & {"suggestions-by-category", "suggestion-handling"}
    give(client)
    with_suggestions, pdf_with = pack()
    assert with_suggestions == names + ["suggestions-by-category", "suggestion-handling"]
    assert page_count(pdf_with) == page_count(pdf) + 2


def test_demo_data_fills_the_suggestion_box(app, db):
    from feedback import demo

    summary = demo.fill(cases=600, seed=3, config=app.config)
    received = Suggestion.select().count()
    assert received == 10 and "10 suggestions" in summary
    statuses = {s.status for s in Suggestion.select()}
    assert len(statuses) >= 3
    assert SuggestionEvent.select().where(SuggestionEvent.public_text.is_null(False)).count() > 0
    assert all(s.created_at < utcnow() for s in Suggestion.select())


def test_workers_starting_together_on_a_new_site_all_get_the_default_categories(app):
    """Four gunicorn workers booting at once each ran this on an empty table; on PostgreSQL all
    but one died of a unique violation ("Worker failed to boot")."""
    import threading

    from feedback.models import SuggestionCategory
    from feedback.suggestions import DEFAULT_CATEGORIES, ensure_default_categories

    with in_app(app):
        SuggestionCategory.delete().execute()
    barrier, errors = threading.Barrier(4), []

    def boot():
        try:
            with in_app(app):
                barrier.wait()
                ensure_default_categories()
        except Exception as exc:  # noqa: BLE001  (the test reports every failure)
            errors.append(repr(exc))

    threads = [threading.Thread(target=boot) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with in_app(app):
        assert sorted(c.slug for c in SuggestionCategory.select()) == sorted(
            slug for slug, _zh, _en in DEFAULT_CATEGORIES
        )
