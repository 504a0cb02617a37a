"""Invitations sent by the site (issue 13, items 1 and 2): the email through the outbox to a real
SMTP server (aiosmtpd), its language, links and one-click unsubscribe, one reminder and then
silence, scanners that open links, delivery states, the response rate and the admin preview."""

from __future__ import annotations

import importlib.util
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import (
    CASE,
    HAPPY,
    SmtpServer,
    client_for,
    csrf_from,
    deliver,
    import_cases,
    in_app,
    invitation_of,
    new_case,
    survey_path,
)

from feedback import invitations, outbox, reports
from feedback.db import utcnow
from feedback.definitions import DefinitionError, parse
from feedback.models import Invitation, OptOut, Outbox, Response
from feedback.periods import periods
from feedback.reports import Slice
from feedback.surveys import current_version

ROOT = Path(__file__).resolve().parent.parent
EN_CASE = {
    "case_id": "E-1",
    "customer": {"id": "e-1", "name": "Ann Lee", "email": "ann@example.com", "locale": "en"},
}


class RefusingSmtpServer(SmtpServer):
    """The test SMTP server, refusing for good (550) the addresses in ``refuse``."""

    def __init__(self):
        super().__init__()
        self.refuse: set[str] = set()
        self.raw: list[bytes] = []  # the messages as they came over the wire

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            self.raw.append(envelope.content)
        return answer

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp():
    with RefusingSmtpServer() as server:
        yield server


@pytest.fixture
def sending(make_app, smtp, api_headers_for):
    """An app that emails invitations through the local SMTP server, its client and API headers."""
    app = make_app(SEND_INVITATIONS=True, **smtp.config)
    client, headers = api_headers_for(app)
    return app, client, headers, smtp


def rows(app) -> list[Outbox]:
    with in_app(app):
        return list(Outbox.select().where(Outbox.kind == "invitation").order_by(Outbox.id))


def unsubscribe_path(message) -> str:
    header = message["List-Unsubscribe"]
    match = re.fullmatch(r"<http://feedback\.test(/unsubscribe/[^>]+)>", header)
    assert match, header
    return match.group(1)


def test_the_invitation_email_arrives_in_the_customers_language(sending):
    app, client, headers, smtp = sending
    reply = new_case(client, headers, **EN_CASE)
    assert reply["invitation"]["delivery"] == "queued"
    assert [e["email"] for e in reply["invitation"]["emails"]] == ["invitation", "reminder"]
    assert deliver(app) == outbox.Outcome(delivered=1)  # the reminder is not due yet
    [message] = smtp.messages
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "How did we do? (case E-1)"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # on the wire a plain <link> on one line, as mail clients read it (not an encoded word)
    raw = smtp.raw[0].decode("ascii").replace("\r\n", "\n")
    assert f"List-Unsubscribe: <http://feedback.test{unsubscribe_path(message)}>" in raw
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    url = reply["invitation"]["url"]
    assert "Dear Ann Lee," in text and url in text and unsubscribe_path(message) in text
    assert f'href="{url}"' in html and 'lang="en"' in html
    invitation = invitation_of(app, "E-1")
    assert invitation.delivery == "sent" and invitation.sent_at is not None
    again = client.post("/api/v1/cases", json={**_case(EN_CASE)}, headers=headers).get_json()
    assert again["invitation"]["emails"][0]["state"] == "sent"
    assert again["invitation"]["emails"][1]["state"] == "queued"

    new_case(
        client, headers, case_id="Z-1", customer={"email": "wang@example.cn", "locale": "zh-CN"}
    )
    deliver(app)
    chinese = smtp.messages[-1]
    assert chinese["Subject"] == "服务满意度调查（案件 Z-1）"
    assert "您的案件 Z-1 已经处理完毕。" in chinese.get_body(("plain",)).get_content()


def _case(changes: dict) -> dict:
    return {**CASE, **changes}


@pytest.mark.parametrize("hours", [72, 0.5])
def test_one_reminder_when_the_clock_passes_the_delay_then_silence(
    make_app, smtp_server, api_headers_for, hours
):
    app = make_app(SEND_INVITATIONS=True, REMINDER_HOURS=hours, **smtp_server.config)
    client, headers = api_headers_for(app)
    new_case(client, headers, **EN_CASE)
    deliver(app)
    assert deliver(app, hours - 0.1) == outbox.Outcome()  # not yet
    assert deliver(app, hours + 0.1) == outbox.Outcome(delivered=1)
    reminder = smtp_server.messages[-1]
    assert reminder["Subject"] == "Reminder: How did we do? (case E-1)"
    assert "still help us" in reminder.get_body(("plain",)).get_content()
    assert reminder["List-Unsubscribe"] == smtp_server.messages[0]["List-Unsubscribe"]
    assert deliver(app, 10 * hours) == outbox.Outcome()  # one reminder, then silence
    assert len(smtp_server.messages) == 2
    assert invitation_of(app, "E-1").reminded_at is not None


def test_two_reminders_and_none(make_app, smtp_server, api_headers_for):
    app = make_app(SEND_INVITATIONS=True, REMINDERS=2, **smtp_server.config)
    client, headers = api_headers_for(app)
    new_case(client, headers, **EN_CASE)
    assert len(rows(app)) == 3
    assert [r.next_attempt_at - r.created_at for r in rows(app)] == [
        timedelta(0),
        timedelta(hours=72),
        timedelta(hours=144),
    ]
    app = make_app(SEND_INVITATIONS=True, REMINDERS=0, **smtp_server.config)
    client, headers = api_headers_for(app)
    new_case(client, headers, case_id="E-2", customer={"email": "b@example.com"})
    assert len(rows(app)) == 4  # the three above and this one's invitation alone


def _answer(client, reply):
    path = survey_path(reply)
    page = client.get(path).get_data(as_text=True)
    assert client.post(path, data={**HAPPY, "csrf_token": csrf_from(page)}).status_code == 302


def _withdraw(client, headers, reply):
    client.post("/api/v1/cases", json={**_case(EN_CASE), "reopened": True}, headers=headers)


def _expire(app, reply):
    with in_app(app):
        Invitation.update(expires_at=utcnow() - timedelta(seconds=1)).execute()


def _opt_out(app, reply):
    with in_app(app):
        invitations.opt_out("ANN@example.com")


@pytest.mark.parametrize(
    "stop, reason",
    [
        ("answer", "skipped: the customer has answered"),
        ("withdraw", "skipped: the invitation was withdrawn (case reopened)"),
        ("expire", "skipped: the link has expired"),
        ("opt_out", "skipped: the customer opted out"),
    ],
)
def test_no_reminder_after_an_answer_a_withdrawal_an_expiry_or_an_opt_out(sending, stop, reason):
    app, client, headers, smtp = sending
    reply = new_case(client, headers, **EN_CASE)
    deliver(app)
    {
        "answer": lambda: _answer(client, reply),
        "withdraw": lambda: _withdraw(client, headers, reply),
        "expire": lambda: _expire(app, reply),
        "opt_out": lambda: _opt_out(app, reply),
    }[stop]()
    assert deliver(app, 73) == outbox.Outcome(skipped=1)
    assert len(smtp.messages) == 1
    reminder = rows(app)[1]
    assert reminder.last_error == reason
    assert reminder.next_attempt_at is None and reminder.delivered_at is None  # not retried
    assert deliver(app, 1000) == outbox.Outcome()


def test_the_one_click_unsubscribe_works_without_cookies_and_the_throttle_honours_it(sending):
    app, client, headers, smtp = sending
    new_case(client, headers, **EN_CASE)
    deliver(app)
    path = unsubscribe_path(smtp.messages[0])
    mail_client = app.test_client(use_cookies=False)
    page = mail_client.get(path)  # a scanner, or the customer reading first
    assert page.status_code == 200 and "Send me no more survey emails" in page.get_data(True)
    with in_app(app):
        assert not OptOut.select().exists()
    reply = mail_client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert reply.status_code == 200
    assert "You will get no more survey emails" in reply.get_data(True)
    assert "Set-Cookie" not in reply.headers
    with in_app(app):
        assert OptOut.select().count() == 1
        assert OptOut.get().email_hash != "ann@example.com"  # a hash, not the address
    again = mail_client.post(path)  # twice, or the confirm page's button: the same
    assert again.status_code == 200
    # the throttle honours it from now on, whatever the case and the letter case
    later = new_case(
        client,
        headers,
        case_id="E-9",
        customer={"id": "other-id", "email": "Ann@Example.com", "locale": "en"},
    )
    assert later["suppressed"] is True
    assert later["reason"] == "the customer opted out of survey emails"
    assert deliver(app, 1000) == outbox.Outcome(skipped=1)  # the first case's reminder


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p[:-1] + ("0" if p[-1] != "0" else "1"),  # a signature we did not make
        lambda p: re.sub(r"/unsubscribe/[^/]+/", "/unsubscribe/AAAAAAAAAAAAAAAAAAAAAAAA/", p),
        lambda p: p + "0" * 40,
    ],
)
def test_an_unsubscribe_link_we_did_not_make_is_404(sending, change):
    app, client, headers, smtp = sending
    new_case(client, headers, **EN_CASE)
    deliver(app)
    path = change(unsubscribe_path(smtp.messages[0]))
    cookieless = app.test_client(use_cookies=False)
    assert cookieless.get(path).status_code == 404
    assert cookieless.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    with in_app(app):
        assert not OptOut.select().exists()


def one_click_app(make_app, tmp_path, smtp_server, **settings):
    folder = tmp_path / "surveys"
    folder.mkdir()
    text = (ROOT / "surveys" / "post-case.yaml").read_text(encoding="utf-8")
    (folder / "post-case.yaml").write_text(text + "\none_click: true\n", encoding="utf-8")
    return make_app(SURVEYS_DIR=str(folder), **smtp_server.config, **settings)


def test_one_click_links_only_pre_select_and_a_scanner_stores_nothing(
    make_app, tmp_path, smtp_server, api_headers_for
):
    app = one_click_app(make_app, tmp_path, smtp_server, SEND_INVITATIONS=True)
    client, headers = api_headers_for(app)
    reply = new_case(client, headers, **EN_CASE)
    deliver(app)
    message = smtp_server.messages[0]
    html = message.get_body(("html",)).get_content()
    url = reply["invitation"]["url"]
    links = re.findall(r'href="(http://feedback\.test/s/[^"?]+\?[^"]+)"', html)
    assert links == [f"{url}?resolved=yes", f"{url}?resolved=no"]
    assert "Was your problem resolved?" in html
    text = message.get_body(("plain",)).get_content()
    assert f"Yes: {url}?resolved=yes" in text
    scanner = app.test_client(use_cookies=False)
    for link in links + [url, unsubscribe_path(message)]:  # a scanner opens every link, twice
        for _ in range(2):
            assert scanner.get(link.replace("http://feedback.test", "")).status_code == 200
    with in_app(app):
        assert Response.select().count() == 0
        assert Invitation.get().status == "pending"
        assert not OptOut.select().exists()
    page = scanner.get(links[1].replace("http://feedback.test", "")).get_data(True)
    chosen = [tag for tag in re.findall(r"<input[^>]*>", page) if "checked" in tag]
    assert chosen and all('value="no"' in tag for tag in chosen), "only that answer pre-selected"
    assert 'name="resolved"' in chosen[0]


def test_a_survey_without_one_click_sends_no_answer_links(sending):
    app, client, headers, smtp = sending
    reply = new_case(client, headers, **EN_CASE)
    deliver(app)
    assert f"{reply['invitation']['url']}?" not in smtp.messages[0].as_string()


def test_survey_files_say_whether_the_site_sends(make_app, tmp_path, smtp_server, api_headers_for):
    folder = tmp_path / "surveys"
    shutil.copytree(ROOT / "surveys", folder)
    post_case = folder / "post-case.yaml"
    post_case.write_text(
        post_case.read_text(encoding="utf-8") + "\nsend_invitations: false\n", encoding="utf-8"
    )
    callback = folder / "callback.yaml"
    callback.write_text(
        callback.read_text(encoding="utf-8") + "\nsend_invitations: true\n", encoding="utf-8"
    )
    app = make_app(SURVEYS_DIR=str(folder), SEND_INVITATIONS=True, **smtp_server.config)
    client, headers = api_headers_for(app)
    assert new_case(client, headers, **EN_CASE)["invitation"]["delivery"] is None
    app = make_app(SURVEYS_DIR=str(folder), SEND_INVITATIONS=False, **smtp_server.config)
    client, headers = api_headers_for(app)
    reply = new_case(
        client, headers, case_id="CB-1", survey="callback", customer={"email": "x@y.cn"}
    )
    assert reply["invitation"]["delivery"] == "queued"
    assert len(rows(app)) == 2


def test_without_the_setting_or_an_address_nothing_is_queued(app, client, api_headers):
    reply = new_case(client, api_headers, **EN_CASE)
    assert reply["invitation"]["delivery"] is None and "emails" not in reply["invitation"]
    assert rows(app) == []


def test_a_case_without_an_email_gets_no_email(sending):
    app, client, headers, _smtp = sending
    reply = new_case(client, headers, case_id="P-1", customer={"phone": "13900000000"})
    assert reply["invitation"]["delivery"] is None
    assert rows(app) == []


@pytest.mark.parametrize(
    "data, problem",
    [
        ({"send_invitations": "yes"}, "'send_invitations' must be true or false"),
        ({"one_click": 1}, "'one_click' must be true or false"),
        ({"one_click": True, "first": "textarea"}, "'one_click' needs a first question of type"),
    ],
)
def test_survey_files_with_wrong_sending_keys_are_refused(data, problem):
    first = data.pop("first", "csat")
    survey = {
        "slug": "s",
        "title": {"zh-CN": "标题", "en": "Title"},
        "intro": {"zh-CN": "说明", "en": "Intro"},
        "thanks": {"zh-CN": "谢谢", "en": "Thanks"},
        "questions": [{"id": "q", "type": first, "text": {"zh-CN": "问题", "en": "Question"}}],
        **data,
    }
    with pytest.raises(DefinitionError) as refused:
        parse(survey)
    assert problem in str(refused.value)


def test_a_refused_address_is_a_bounce_not_retried(sending):
    app, client, headers, smtp = sending
    smtp.refuse = {"nobody@example.com"}
    new_case(client, headers, case_id="B-1", customer={"email": "nobody@example.com"})
    assert deliver(app) == outbox.Outcome(skipped=1)
    invitation = invitation_of(app, "B-1")
    assert invitation.delivery == "bounced" and invitation.sent_at is None
    assert rows(app)[0].last_error.startswith("bounced: ")
    assert deliver(app, 73) == outbox.Outcome(skipped=1)  # no reminder after a bounce
    assert rows(app)[1].last_error == "skipped: the invitation email itself was not sent"


def test_a_temporary_failure_is_retried_and_a_last_one_marks_the_invitation_failed(
    make_app, smtp_server, api_headers_for
):
    app = make_app(SEND_INVITATIONS=True, OUTBOX_MAX_ATTEMPTS=2, REMINDERS=0, **smtp_server.config)
    client, headers = api_headers_for(app)
    new_case(client, headers, **EN_CASE)
    smtp_server.fail_next = 2
    assert deliver(app) == outbox.Outcome(failed=1)
    assert invitation_of(app, "E-1").delivery == "queued"
    assert deliver(app, 1) == outbox.Outcome(given_up=1)
    assert invitation_of(app, "E-1").delivery == "failed"


def test_the_response_rate_counts_only_emails_that_went_out(sending):
    app, client, headers, _smtp = sending
    new_case(client, headers, **EN_CASE)
    new_case(client, headers, case_id="E-2", customer={"email": "c@example.com", "locale": "en"})
    new_case(client, headers, case_id="H-1", customer={"id": "no-email"})  # the helpdesk sends
    with in_app(app):
        survey_id = current_version("post-case").survey_id
        today = periods(utcnow(), app.config["TIMEZONE"]).day
        s = Slice(survey_id, today - timedelta(days=1), today + timedelta(days=1))
        assert reports.slice_counts(s)["invited"] == 1  # the two emails are still queued
    deliver(app)
    with in_app(app):
        assert reports.slice_counts(s)["invited"] == 3
        Invitation.update(delivery="bounced", sent_at=None).where(
            Invitation.id == invitation_of(app, "E-2").id
        ).execute()
        assert reports.slice_counts(s)["invited"] == 2


def test_the_dashboard_shows_the_rate_without_reminders(sending, users):
    app, client, headers, _smtp = sending
    first = new_case(client, headers, **EN_CASE)
    new_case(client, headers, case_id="E-2", customer={"email": "c@example.com", "locale": "en"})
    deliver(app)
    deliver(app, 73)
    _answer(client, first)  # after its reminder
    with in_app(app):
        survey_id = current_version("post-case").survey_id
        today = periods(utcnow(), app.config["TIMEZONE"]).day
        counts = reports.slice_counts(Slice(survey_id, today, today))
    assert (counts["invited"], counts["answered"], counts["after_reminder"]) == (2, 1, 1)
    page = client_for(app, "manager").get("/manage/").get_data(True)
    assert "Without reminders: 0.0% (1 answers came after a reminder)" in page


def test_the_admin_previews_both_languages_and_sees_each_email(sending, users):
    app, client, headers, smtp = sending
    new_case(client, headers, **EN_CASE)
    smtp.refuse = {"nobody@example.com"}
    new_case(client, headers, case_id="B-1", customer={"email": "nobody@example.com"})
    deliver(app)
    admin = client_for(app, "admin")
    page = admin.get("/admin/invitations/preview/post-case").get_data(True)
    assert "服务满意度调查（案件 HD-1001）" in page and "How did we do? (case HD-1001)" in page
    assert "List-Unsubscribe=One-Click" in page
    reminder = admin.get("/admin/invitations/preview/post-case?reminder=1").get_data(True)
    assert "Reminder: How did we do? (case HD-1001)" in reminder
    html = admin.get("/admin/invitations/preview/post-case/email.html?lang=zh_CN")
    assert html.status_code == 200 and 'lang="zh-CN"' in html.get_data(True)
    assert "style-src 'unsafe-inline'" in html.headers["Content-Security-Policy"]
    listing = admin.get("/admin/invitations/").get_data(True)
    assert "E-1" in listing and "B-1" in listing and "bounced" in listing
    bounced = admin.get("/admin/invitations/?state=bounced").get_data(True)
    assert "B-1" in bounced and "E-1" not in bounced
    assert client_for(app, "manager").get("/admin/invitations/").status_code == 403
    assert admin.get("/admin/invitations/preview/nope").status_code == 404


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_invitations", ROOT / "bench" / "bench_invitations.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_delivery_run_with_a_receiver_that_fails_a_tenth_of_the_time(make_app):
    bench = _bench()
    with bench.FlakyReceiver(fail_rate=0.1, seed=7) as receiver:
        app = make_app(SEND_INVITATIONS=True, REMINDERS=0, **receiver.config)
        figures = bench.delivery_run(app, receiver, 500)
    assert figures["invitations"] == 500
    assert figures["sent"] + figures["given_up"] == 500
    assert figures["given_up"] == 0  # ten attempts each
    assert 20 < figures["retried"] < 100  # about a tenth of the attempts failed
    assert figures["received"] == figures["sent"]  # every sent email arrived once
    assert figures["duplicates"] == 0 and figures["unrecognised"] == 0
    with in_app(app):
        assert Invitation.select().where(Invitation.delivery == "sent").count() == 500


def test_a_mail_providers_delivery_report_is_recorded(sending):
    app, client, headers, _smtp = sending
    reply = new_case(client, headers, **EN_CASE)
    token = reply["invitation"]["token"]
    deliver(app)
    report = client.post(
        f"/api/v1/invitations/{token}/delivery", json={"state": "delivered"}, headers=headers
    )
    assert report.status_code == 200 and report.get_json()["delivery"] == "delivered"
    assert invitation_of(app, "E-1").delivery == "delivered"
    again = client.post("/api/v1/cases", json=_case(EN_CASE), headers=headers).get_json()
    assert again["invitation"]["delivery"] == "delivered"
    for body, status in (({"state": "opened"}, 400), ({}, 400), ([], 400)):
        path = f"/api/v1/invitations/{token}/delivery"
        assert client.post(path, json=body, headers=headers).status_code == status
    unknown = "/api/v1/invitations/AAAAAAAAAAAAAAAAAAAAAAAA/delivery"
    assert client.post(unknown, json={"state": "bounced"}, headers=headers).status_code == 404
    assert (
        client.post(f"/api/v1/invitations/{token}/delivery", json={"state": "bounced"}).status_code
        == 401
    )
    helpdesk = new_case(client, headers, case_id="H-1", customer={"id": "h"})["invitation"]
    path = f"/api/v1/invitations/{helpdesk['token']}/delivery"
    assert client.post(path, json={"state": "bounced"}, headers=headers).status_code == 409


@given(email=st.emails(), other=st.text(max_size=80))
@settings(max_examples=200, deadline=None)
def test_only_the_addresss_own_signature_opens_its_unsubscribe_link(email, other):
    own = invitations.unsubscribe_signature("secret", email)
    assert invitations.signature_matches("secret", email.upper(), own)  # addresses: any case
    assert not invitations.signature_matches("another secret", email, own)
    assert invitations.signature_matches("secret", email, other) == (other == own)
    assert not invitations.signature_matches("secret", None, own)


def test_cases_imported_from_a_file_are_emailed_too(sending, tmp_path):
    app, _client, _headers, smtp = sending
    import_cases(
        app,
        tmp_path,
        "case_id,resolved_at,channel,customer_email,customer_locale\n"
        "CSV-1,2026-11-20 10:00:00,phone,li@example.cn,zh-CN\n"
        "CSV-2,2026-11-20 11:00:00,email,,en\n",
    )
    assert invitation_of(app, "CSV-1").delivery == "queued"
    assert invitation_of(app, "CSV-2").delivery is None  # no address
    assert deliver(app) == outbox.Outcome(delivered=1)
    assert smtp.messages[0]["To"] == "li@example.cn"


def test_the_web_processes_outbox_thread_sends_them(sending):
    app, client, headers, smtp = sending
    new_case(client, headers, **EN_CASE)
    thread, stop = outbox.start_thread(app.config, poll_seconds=0.05)
    try:
        for _ in range(200):
            if smtp.messages:
                break
            thread.join(0.05)
    finally:
        stop.set()
        thread.join(5)
    assert [m["To"] for m in smtp.messages] == ["ann@example.com"]
    assert invitation_of(app, "E-1").delivery == "sent"


def test_the_call_back_desk_sees_whether_the_survey_email_went_out(sending, users):
    app, client, headers, smtp = sending
    new_case(client, headers, **EN_CASE)
    smtp.refuse = {"ann@example.com"}
    deliver(app)
    case_id = invitation_of(app, "E-1").case_id
    page = client_for(app, "manager").get(f"/callback/case/{case_id}").get_data(True)
    assert "survey email: bounced" in page


def test_outbox_deliver_says_how_many_were_no_longer_due(sending):
    app, client, headers, _smtp = sending
    reply = new_case(client, headers, **EN_CASE)
    deliver(app)
    _answer(client, reply)
    with in_app(app):  # the reminder falls due now
        Outbox.update(next_attempt_at=utcnow()).where(Outbox.delivered_at.is_null()).execute()
    result = app.test_cli_runner(env={"LANGUAGE": "en"}).invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0, result.output
    assert "given up 0, not sent as no longer due 1" in result.output


def test_erasing_a_customer_keeps_the_opt_out_and_other_invitations_emails(sending):
    from feedback import privacy

    app, client, headers, _smtp = sending
    new_case(client, headers, **EN_CASE)
    # a customer whose id is the first invitation's number: erasing them must not touch its rows
    first = invitation_of(app, "E-1").id
    new_case(client, headers, case_id="N-1", customer={"id": str(first), "email": "n@x.cn"})
    with in_app(app):
        invitations.opt_out("ann@example.com")
        before = Outbox.select().where(Outbox.target == f"invitation:{first}").count()
        assert privacy.erase(str(first)) is not None
        assert privacy.erase("ann@example.com") is not None
        assert Outbox.select().where(Outbox.target == f"invitation:{first}").count() == before == 2
        assert OptOut.select().count() == 1
    again = new_case(
        client, headers, case_id="E-5", customer={"id": "new-id", "email": "ann@example.com"}
    )
    assert (
        again["suppressed"] is True and again["reason"] == "the customer opted out of survey emails"
    )


def test_an_invitation_answered_before_its_email_went_out_is_not_emailed(sending):
    app, client, headers, smtp = sending
    reply = new_case(client, headers, **EN_CASE)
    _answer(client, reply)  # the helpdesk gave the link at once
    assert deliver(app) == outbox.Outcome(skipped=1)
    assert smtp.messages == []
    assert invitation_of(app, "E-1").delivery == "skipped"
    again = client.post("/api/v1/cases", json=_case(EN_CASE), headers=headers).get_json()
    assert again["invitation"]["delivery"] == "skipped"
    assert again["invitation"]["emails"][0]["state"] == "skipped"
