"""Data-protection requests and retention: ``customer export``/``erase``, ``retention apply``
and the deliverer's daily run. The answers stay, so every figure is the same before and after.
Both databases."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from support import csrf_from, in_app, login, new_case, survey_path

from feedback import outbox, privacy, suggestions
from feedback.db import utcnow
from feedback.models import (
    Answer,
    AuditEntry,
    Case,
    FollowUp,
    FollowUpEvent,
    Invitation,
    Outbox,
    Suggestion,
)

WANG = {
    "id": "cust-1",
    "name": "王芳",
    "email": "Wang.Fang@example.cn",
    "phone": "13800001111",
    "locale": "zh-CN",
}
LI = {"id": "cust-2", "name": "李娜", "email": "li@example.cn", "phone": "13900002222"}
DETRACTOR = {
    "resolved": "no",
    "csat": "1",
    "nps": "2",
    "comment": "Call me on 13800001111, not at work",
}
HAPPY = {"resolved": "yes", "csat": "5", "nps": "10", "comment": "fine"}


def days_ago(days: int) -> str:
    return (utcnow() - timedelta(days=days)).isoformat(timespec="seconds") + "Z"


def answer(client, headers, data, **case):
    path = survey_path(new_case(client, headers, **case))
    page = client.get(path).get_data(as_text=True)
    assert client.post(path, data={**data, "csrf_token": csrf_from(page)}).status_code == 302


@pytest.fixture
def site(make_app, api_headers_for, users):
    """Wang: an old case (happy) and a recent one (a detractor: a follow-up, a webhook row),
    a named suggestion and a reply email in the outbox. Li: one old happy case."""
    app = make_app(WEBHOOK_URL="http://hook.test/in", THROTTLE_DAYS=1)
    client, headers = api_headers_for(app)
    answer(client, headers, HAPPY, case_id="W-OLD", resolved_at=days_ago(60), customer=WANG)
    with in_app(app):  # sent then, so not throttled now
        Invitation.update(created_at=utcnow() - timedelta(days=60)).execute()
    answer(client, headers, DETRACTOR, case_id="W-NEW", resolved_at=days_ago(3), customer=WANG)
    answer(
        client,
        headers,
        HAPPY,
        case_id="L-OLD",
        resolved_at=days_ago(61),
        customer=LI,
        channel="chat",
    )
    with in_app(app):
        category = suggestions.categories()[0]
        named, _code = suggestions.submit(
            suggestions.NewSuggestion(
                box="customer",
                category_id=category.id,
                title="排队太久",
                body="等了二十分钟",
                anonymous=False,
                locale="zh_CN",
                name="王芳",
                email="wang.fang@example.cn",
            ),
            app.config,
        )
        outbox.enqueue(
            "email",
            suggestions.EVENT_REPLY,
            "wang.fang@example.cn",
            {"subject": "回复", "body": "王芳，您好", "suggestion": named.id},
            utcnow(),
        )
    return app, client, headers


def figures(app, client, headers, manager):
    """What the API and the dashboard say, for the last 90 days."""
    start, end = (utcnow() - timedelta(days=90)).date(), (utcnow() + timedelta(days=1)).date()
    query = f"survey=post-case&from={start}&to={end}"
    metrics = [
        client.get(f"/api/v1/metrics?{query}&group_by={g}", headers=headers).get_json()
        for g in ("channel", "team", "week")
    ]
    page = manager.get(f"/manage/?{query}").get_data(as_text=True)
    page = re.sub(r'name="csrf_token"[^>]*>', "", page)
    # every figure, table and chart link; not the comments' texts (an erased phone number
    # typed into one is rewritten, tested apart)
    page = re.sub(r'<ul class="comments">.*?</ul>', "", page, flags=re.S)
    return metrics, page


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_export_prints_everything_held_about_the_customer(site):
    app, _client, _headers = site
    for key in ("cust-1", "WANG.FANG@example.cn"):
        result = run(app, "customer", "export", key)
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert [c["case_id"] for c in data["cases"]] == ["W-OLD", "W-NEW"]
        old, new = data["cases"]
        assert old["customer"] == {
            "id": "cust-1",
            "name": "王芳",
            "email": "wang.fang@example.cn",
            "phone": "13800001111",
            "locale": "zh_CN",
        }
        assert old["invitation"]["status"] == "answered"
        answers = {a["question"]: a["value"] for a in new["responses"][0]["answers"]}
        assert answers["csat"] == 1 and answers["comment"] == DETRACTOR["comment"]
        (follow_up,) = new["follow_ups"]
        assert follow_up["state"] == "open" and follow_up["events"][0]["to"] == "open"
        assert {(o["kind"], o["target"]) for o in data["outbox"]} == {
            ("webhook", "http://hook.test/in"),
            ("email", "wang.fang@example.cn"),
        }
        assert [s["title"] for s in data["suggestions"]] == ["排队太久"]
        assert "li@example.cn" not in result.output and "L-OLD" not in result.output
    entries = list(AuditEntry.select().where(AuditEntry.action == "customer.export"))
    assert len(entries) == 2 and entries[0].actor == "cli"
    assert all(
        "cust-1" not in e.target + e.detail and "wang" not in e.detail.lower() for e in entries
    )


@pytest.mark.parametrize("command", ["export", "erase"])
def test_nothing_matching_is_said_plainly(site, command):
    app, _client, _headers = site
    result = run(app, "customer", command, "nobody@example.cn")
    assert result.exit_code == 1
    assert "no customer with the id or email 'nobody@example.cn'" in result.output
    assert "Traceback" not in result.output


def test_erase_removes_contact_details_and_keeps_every_figure(site):
    app, client, headers = site
    manager = app.test_client()
    login(manager, "manager")
    before = figures(app, client, headers, manager)
    result = run(app, "customer", "erase", "cust-1", "--reason", "DSR-17")
    assert result.exit_code == 0, result.output
    assert "2 cases, 1 named suggestion, 1 outbox row" in result.output
    assert figures(app, client, headers, manager) == before
    with in_app(app):
        cases = {c.case_ref: c for c in Case.select()}
        for ref in ("W-OLD", "W-NEW"):
            c = cases[ref]
            assert (c.customer_ref, c.customer_name, c.customer_email, c.customer_phone) == (
                None,
                None,
                None,
                None,
            )
        assert cases["L-OLD"].customer_phone == LI["phone"]  # someone else's: untouched
        named = Suggestion.get()
        assert (named.name, named.email, named.title) == (None, None, "排队太久")
        assert [o.kind for o in Outbox.select()] == ["webhook"]  # carries no contact detail
        comment = Answer.get(Answer.question_id == "comment", Answer.value_text.contains("Call"))
        assert comment.value_text == "Call me on [erased], not at work"
        assert FollowUp.select().count() == 1 and FollowUpEvent.select().count() == 1
        everything = json.dumps(
            [list(m.select().tuples()) for m in (Case, Suggestion, Outbox, Answer, FollowUpEvent)],
            default=str,
            ensure_ascii=False,
        )
        for value in ("cust-1", "王芳", "wang.fang", "13800001111"):
            assert value not in everything
        (entry,) = AuditEntry.select().where(AuditEntry.action == "customer.erase")
        assert entry.actor == "cli" and json.loads(entry.detail)["reason"] == "DSR-17"
        assert "cust-1" not in entry.target + entry.detail
    again = run(app, "customer", "export", "cust-1")
    assert again.exit_code == 1 and "no customer" in again.output


def test_retention_apply_removes_old_contact_details_only(site):
    app, client, headers = site
    manager = app.test_client()
    login(manager, "manager")
    before = figures(app, client, headers, manager)
    assert "are kept" in run(app, "retention", "apply").output  # 0: nothing happens
    app.config["CONTACT_RETENTION_DAYS"] = 30
    result = run(app, "retention", "apply")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 cases resolved more than 30 days ago")
    assert figures(app, client, headers, manager) == before
    with in_app(app):
        cases = {c.case_ref: c for c in Case.select()}
        for ref in ("W-OLD", "L-OLD"):
            assert (
                cases[ref].customer_name,
                cases[ref].customer_email,
                cases[ref].customer_phone,
            ) == (None, None, None)
            assert cases[ref].customer_ref is not None  # the helpdesk's id stays (see README)
        assert cases["W-NEW"].customer_phone == WANG["phone"]  # resolved 3 days ago
        (entry,) = AuditEntry.select().where(AuditEntry.action == "retention.purge")
        assert json.loads(entry.detail)["cases"] == 2 and entry.actor == "cli"
    assert run(app, "retention", "apply").output.startswith("0 cases")


def test_an_open_follow_up_keeps_its_phone_until_it_is_closed(site):
    app, _client, _headers = site
    with in_app(app):
        config = {**app.config, "CONTACT_RETENTION_DAYS": 1}
        later = utcnow() + timedelta(days=10)
        assert privacy.apply_retention(config, now=later) == 2  # W-NEW waits for its call
        assert Case.get(Case.case_ref == "W-NEW").customer_phone == WANG["phone"]
        FollowUp.update(state="closed", closed_at=later).execute()
        assert privacy.apply_retention(config, now=later) == 1
        assert Case.get(Case.case_ref == "W-NEW").customer_phone is None


def test_the_deliverer_applies_retention_once_a_day(site):
    app, _client, _headers = site
    now = [1000.0]
    with in_app(app):
        daily = privacy.DailyRetention(
            {**app.config, "CONTACT_RETENTION_DAYS": 30}, monotonic=lambda: now[0]
        )
        assert daily.tick() == 2
        Case.update(customer_phone="1").where(Case.case_ref == "L-OLD").execute()
        now[0] += 3600
        assert daily.tick() is None  # not again the same day
        now[0] += 24 * 3600
        assert daily.tick() == 1
        assert (
            AuditEntry.select()
            .where(AuditEntry.action == "retention.purge", AuditEntry.actor == "system")
            .count()
            == 2
        )


def test_the_deliverer_thread_applies_retention(site):
    app, _client, _headers = site
    thread, stop = outbox.start_thread(
        {**app.config, "CONTACT_RETENTION_DAYS": 30}, poll_seconds=0.05
    )
    try:
        with in_app(app):
            deadline = time.monotonic() + 20
            while Case.get(Case.case_ref == "L-OLD").customer_phone is not None:
                assert time.monotonic() < deadline, "the thread never applied retention"
                time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_erase_finds_the_details_inside_any_outbox_row(site):
    """A suggestion's address as its sender typed it, a phone inside an email's text, a name
    with a quote (escaped in the JSON): each row is found and removed; someone else's stays."""
    app, _client, _headers = site
    with in_app(app):
        Case.update(customer_name='王"芳').where(Case.customer_ref == "cust-1").execute()
        Suggestion.update(email="Wang.Fang@Example.CN").execute()
        now = utcnow()
        outbox.enqueue("email", "other", "Wang.Fang@Example.CN", {"body": "hi"}, now)
        outbox.enqueue(
            "email", "other", "desk@example.cn", {"body": "请回电 13800001111 谢谢"}, now
        )
        outbox.enqueue("webhook", "other", "http://hook.test/in", {"who": '王"芳'}, now)
        outbox.enqueue("email", "other", "li@example.cn", {"body": "13900002222 王%芳"}, now)
        before = Outbox.select().count()
        done = privacy.erase("cust-1")
        assert done.outbox == 4  # the suggestion's reply, and the three above
        assert Outbox.select().count() == before - 4
        assert [o.target for o in Outbox.select().where(Outbox.event == "other")] == [
            "li@example.cn"
        ]


PHONE_ONLY = {"phone": "+86 139-0000-3333"}  # no id, no email: found only by the number


def test_a_phone_only_customer_is_found_by_the_number_however_written(site):
    """``--phone`` compares numbers in E.164 as the throttle does: the helpdesk's
    ``+86 139-0000-3333`` is the request's ``0086 13900003333`` and ``139 0000 3333``."""
    app, client, headers = site
    answer(client, headers, DETRACTOR, case_id="P-1", resolved_at=days_ago(5), customer=PHONE_ONLY)
    result = run(app, "customer", "export", "--phone", "0086 13900003333")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["customer"] == "+8613900003333"
    assert [c["case_id"] for c in data["cases"]] == ["P-1"]
    assert data["cases"][0]["customer"]["phone"] == PHONE_ONLY["phone"]
    result = run(app, "customer", "erase", "--phone", "139 0000 3333", "--reason", "DSR-18")
    assert result.exit_code == 0, result.output
    assert "1 case, 0 named suggestions" in result.output
    with in_app(app):
        erased = Case.get(Case.case_ref == "P-1")
        assert (erased.customer_phone, erased.customer_phone_e164) == (None, None)
        assert Case.get(Case.case_ref == "W-NEW").customer_phone == WANG["phone"]  # untouched
        (entry,) = AuditEntry.select().where(AuditEntry.action == "customer.erase")
        assert "3333" not in entry.target + entry.detail
    again = run(app, "customer", "export", "--phone", "13900003333")
    assert again.exit_code == 1
    assert "no customer with the phone number +8613900003333" in again.output


def test_a_numeric_id_and_a_phone_number_do_not_collide(site):
    """Another customer's helpdesk id is Li's phone number: the id finds that customer only,
    ``--phone`` finds Li only."""
    app, client, headers = site
    answer(
        client,
        headers,
        HAPPY,
        case_id="Z-1",
        resolved_at=days_ago(4),
        customer={"id": LI["phone"], "name": "赵磊"},
    )
    by_id = json.loads(run(app, "customer", "export", LI["phone"]).output)
    assert [c["case_id"] for c in by_id["cases"]] == ["Z-1"]
    by_phone = json.loads(run(app, "customer", "export", "--phone", LI["phone"]).output)
    assert [c["case_id"] for c in by_phone["cases"]] == ["L-OLD"]
    assert run(app, "customer", "erase", "--phone", LI["phone"]).exit_code == 0
    with in_app(app):
        assert Case.get(Case.case_ref == "Z-1").customer_name == "赵磊"
        assert Case.get(Case.case_ref == "L-OLD").customer_name is None


@pytest.mark.parametrize("command", ["export", "erase"])
@pytest.mark.parametrize(
    "args,says",
    [
        (["--phone", "call me"], "'call me' is not a phone number"),
        ([], "give either an id or email, or --phone NUMBER"),
        (["cust-1", "--phone", "13800001111"], "give either an id or email, or --phone NUMBER"),
    ],
)
def test_a_bad_phone_or_key_is_refused_before_anything_happens(site, command, args, says):
    app, _client, _headers = site
    result = run(app, "customer", command, *args)
    assert result.exit_code == 2, result.output
    assert says in result.output and "Traceback" not in result.output
    with in_app(app):
        assert Case.get(Case.case_ref == "W-OLD").customer_phone == WANG["phone"]
