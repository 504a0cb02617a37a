"""Invitations by text message (issue 13, item 1): a case with only a phone number comes in
through the API or a CSV file, the outbox texts it through the local Aliyun fake (which checks
every signature), the short link /r/<code> leads to the survey and stores nothing, reminders go
by text and stop once the customer answered or opted out, and the admin page says what went out
and what could not. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sms_fake import config_for, running
from support import (
    HAPPY,
    all_at_once,
    client_for,
    csrf_from,
    deliver,
    import_cases,
    in_app,
    invitation_of,
    new_case,
    survey_path,
)

from feedback import cases, invitations, outbox, privacy, reports
from feedback.db import utcnow
from feedback.i18n import language
from feedback.models import AuditEntry, Case, Invitation, OptOut, Outbox, Response
from feedback.periods import periods
from feedback.reports import Slice
from feedback.surveys import current_version

PHONE_ONLY = {
    "case_id": "M-1",
    "customer": {"id": "m-1", "phone": "+86 138 0013 8000", "locale": "zh-CN"},
}


@pytest.fixture
def aliyun():
    with running() as fake:
        yield fake


@pytest.fixture
def texting(make_app, aliyun, api_headers_for):
    """An app that sends invitations, with SMS through the fake and no SMTP server."""
    app = make_app(SEND_INVITATIONS=True, **config_for(aliyun))
    client, headers = api_headers_for(app)
    return app, client, headers, aliyun


def rows_of(app, invitation_id: int) -> list[Outbox]:
    with in_app(app):
        return list(
            Outbox.select()
            .where(Outbox.target == invitations.target_of(invitation_id))
            .order_by(Outbox.id)
        )


def short_path(invitation: Invitation) -> str:
    return f"/r/{invitation.short_code}"


def _answer(client, reply) -> None:
    path = survey_path(reply)
    page = client.get(path).get_data(as_text=True)
    assert client.post(path, data={**HAPPY, "csrf_token": csrf_from(page)}).status_code == 302


def test_a_phone_only_case_gets_its_survey_by_text_end_to_end(texting):
    app, client, headers, aliyun = texting
    reply = new_case(client, headers, **PHONE_ONLY)
    assert reply["invitation"]["delivery"] == "queued"
    assert reply["invitation"]["channel"] == "sms"
    assert [(e["email"], e["state"]) for e in reply["invitation"]["emails"]] == [
        ("invitation", "queued"),
        ("reminder", "queued"),
    ]
    invitation = invitation_of(app, "M-1")
    assert re.fullmatch(r"[A-Za-z0-9]{10}", invitation.short_code)
    first, reminder = rows_of(app, invitation.id)
    # the rows name the invitation and the channel, never the number: composed when sent
    assert (first.kind, first.event, json.loads(first.payload)) == (
        "invitation",
        "invitation.sms",
        {"invitation": invitation.id, "channel": "sms"},
    )
    assert reminder.event == "invitation.sms_reminder"
    assert reminder.next_attempt_at - reminder.created_at == timedelta(hours=72)
    assert "138" not in first.payload + first.target + reminder.payload

    assert deliver(app) == outbox.Outcome(delivered=1)  # the reminder is not due yet
    assert aliyun.refused == []  # signed as Aliyun checks it
    [sent] = aliyun.sent
    link = f"http://feedback.test/r/{invitation.short_code}"
    assert sent["PhoneNumbers"] == "13800138000"
    assert json.loads(sent["TemplateParam"]) == {"content": link}
    assert sent["OutId"] == invitation.short_code  # comes back in Aliyun's delivery report
    invitation = invitation_of(app, "M-1")
    assert invitation.delivery == "sent" and invitation.sent_at is not None

    # the short link leads to the survey and, opened by a scanner twice, stores nothing
    scanner = app.test_client(use_cookies=False)
    for _ in range(2):
        hop = scanner.get(short_path(invitation))
        assert hop.status_code == 303
        assert hop.headers["Location"] == survey_path(reply)
        assert hop.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in hop.headers
    page = scanner.get(hop.headers["Location"])
    assert page.status_code == 200 and "csat" in page.get_data(as_text=True)
    with in_app(app):
        assert Response.select().count() == 0
        assert Invitation.get().status == "pending"

    _answer(client, reply)
    assert deliver(app, 73) == outbox.Outcome(skipped=1)  # no reminder after the answer
    assert len(aliyun.sent) == 1
    assert rows_of(app, invitation.id)[1].last_error == "skipped: the customer has answered"
    again = client.post(
        "/api/v1/cases", json={**new_case_body(PHONE_ONLY)}, headers=headers
    ).get_json()
    assert [e["state"] for e in again["invitation"]["emails"]] == ["sent", "skipped"]


def new_case_body(changes: dict) -> dict:
    from support import CASE

    return {**CASE, **changes}


def test_the_reminder_goes_by_text_in_the_customers_language(make_app, aliyun, api_headers_for):
    app = make_app(
        SEND_INVITATIONS=True, REMINDER_HOURS=0.5, **config_for(aliyun, SMS_TEMPLATE_VALUE="text")
    )
    client, headers = api_headers_for(app)
    new_case(client, headers, case_id="M-2", customer={"phone": "13900139000", "locale": "en"})
    new_case(client, headers, case_id="M-3", customer={"phone": "13700137000"})  # zh_CN default
    assert deliver(app) == outbox.Outcome(delivered=2)
    assert deliver(app, 0.4) == outbox.Outcome()
    assert deliver(app, 0.6) == outbox.Outcome(delivered=2)
    assert deliver(app, 100) == outbox.Outcome()  # one reminder, then silence
    texts = {}
    for params in aliyun.sent:
        texts.setdefault(params["PhoneNumbers"], []).append(
            json.loads(params["TemplateParam"])["content"]
        )
    en, zh = invitation_of(app, "M-2"), invitation_of(app, "M-3")
    assert texts["13900139000"] == [
        f"How did we do? http://feedback.test/r/{en.short_code}",
        f"Reminder: how did we do? http://feedback.test/r/{en.short_code}",
    ]
    chinese = language("zh_CN")
    assert texts["13700137000"] == [
        chinese.gettext("How did we do? %(link)s", link=f"http://feedback.test/r/{zh.short_code}"),
        chinese.gettext(
            "Reminder: how did we do? %(link)s", link=f"http://feedback.test/r/{zh.short_code}"
        ),
    ]
    assert not texts["13700137000"][0].startswith("How did")  # translated
    assert en.reminded_at is not None and zh.reminded_at is not None


@pytest.mark.parametrize("value", ["link", "text", "code"])
def test_a_text_fits_one_segment(value):
    """A Chinese text is one segment up to 70 characters, signature and template words
    included; the variable is kept well under that, and mainland templates take at most 35
    characters in a variable (the short link with a short host, or the code alone)."""
    config = {"BASE_URL": "https://feedback.example.com", "SMS_TEMPLATE_VALUE": value}
    code = invitations.new_short_code()
    for locale in ("zh_CN", "en"):
        for reminder in (0, 1):
            text = invitations.sms_text(config, language(locale), code, reminder)
            assert code in text
            assert len(text) <= {"link": 41, "text": 52 if locale == "zh_CN" else 66}.get(
                value, 10
            ), text
    short_host = {"BASE_URL": "https://fb.example.cn", "SMS_TEMPLATE_VALUE": "link"}
    assert len(invitations.sms_text(short_host, language("zh_CN"), code)) <= 35


def test_short_codes_are_unguessable_and_unique():
    codes = {invitations.new_short_code() for _ in range(5000)}
    assert len(codes) == 5000
    assert all(invitations.SHORT_CODE.fullmatch(c) for c in codes)
    assert len(invitations.SHORT_CODE_ALPHABET) ** invitations.SHORT_CODE_LENGTH > 8 * 10**17
    assert set("".join(codes)) == set(invitations.SHORT_CODE_ALPHABET)  # every character used


def test_without_sms_a_phone_only_case_gets_nothing_and_the_admin_page_says_why(
    make_app, aliyun, api_headers_for, users
):
    app = make_app(SEND_INVITATIONS=True)  # no SMS provider
    client, headers = api_headers_for(app)
    reply = new_case(client, headers, **PHONE_ONLY)
    assert reply["invitation"]["delivery"] is None and reply["invitation"]["channel"] is None
    assert "emails" not in reply["invitation"]
    with in_app(app):
        assert Outbox.select().count() == 0
        assert Invitation.get().short_code is None
    page = client_for(app, "admin").get("/admin/invitations/").get_data(as_text=True)
    assert "off (FEEDBACK_SMS_PROVIDER is empty)" in page
    assert "Invitations the site could not send" in page
    assert re.search(r"M-1</td>.*?text messages are off", page, re.S)

    # SMS on: a landline cannot be texted (and says so); an email address wins over a phone
    app = make_app(SEND_INVITATIONS=True, **config_for(aliyun))
    client, headers = api_headers_for(app)
    landline = new_case(client, headers, case_id="L-1", customer={"phone": "010-12345678"})
    assert landline["invitation"]["delivery"] is None
    both = new_case(
        client,
        headers,
        case_id="B-1",
        customer={"email": "both@example.cn", "phone": "13900139000"},  # not M-1 again
    )
    assert both["invitation"]["channel"] == "email"
    page = client_for(app, "admin").get("/admin/invitations/").get_data(as_text=True)
    assert re.search(r"L-1</td>.*?cannot receive texts \(a landline\)", page, re.S)
    assert "M-1</td>" in page  # still open, and SMS was off when it came in
    assert "text messages were off when the case came in" in page
    assert deliver(app) == outbox.Outcome(failed=1)  # the email: no SMTP server here
    assert aliyun.sent == []

    app = make_app(SEND_INVITATIONS=False, **config_for(aliyun))  # the helpdesk sends
    client, headers = api_headers_for(app)
    assert (
        new_case(client, headers, case_id="M-9", customer={"phone": "13800138009"})["invitation"][
            "delivery"
        ]
        is None
    )
    page = client_for(app, "admin").get("/admin/invitations/").get_data(as_text=True)
    assert "Invitations the site could not send" not in page


def test_the_admin_page_shows_each_invitations_channel(texting, users):
    app, client, headers, _aliyun = texting
    new_case(client, headers, **PHONE_ONLY)
    new_case(client, headers, case_id="E-1", customer={"email": "e@example.cn"})
    admin = client_for(app, "admin")
    page = admin.get("/admin/invitations/").get_data(as_text=True)
    assert re.search(r"M-1</td>\s*<td class=\"channel-sms\">Text message</td>", page)
    assert re.search(r"E-1</td>\s*<td class=\"channel-email\">Email</td>", page)
    preview = admin.get("/admin/invitations/preview/post-case?reminder=1").get_data(True)
    assert "http://feedback.test/r/AbCdE12345" in preview  # the text's variable, as it is sent
    deliver(app)
    case_id = invitation_of(app, "M-1").case_id
    desk = client_for(app, "manager").get(f"/callback/case/{case_id}").get_data(True)
    assert "survey text message: sent" in desk


def test_unknown_short_links_are_the_404_page_and_wrong_ones_are_rate_limited(make_app, aliyun):
    app = make_app(
        SEND_INVITATIONS=True,
        RATELIMIT_ENABLED=True,
        TRACKING_RATE_LIMIT="3 per hour",
        **config_for(aliyun),
    )
    with app.test_client() as api:
        from feedback import accounts

        with in_app(app):
            token = accounts.create_token("helpdesk")
        new_case(api, {"Authorization": f"Bearer {token}"}, **PHONE_ONLY)
    right = short_path(invitation_of(app, "M-1"))
    visitor = app.test_client()
    for _ in range(4):  # right codes do not count
        assert visitor.get(right).status_code == 303
    for wrong in ("/r/AAAAAAAAAA", "/r/short", "/r/" + "A" * 300):
        missing = visitor.get(wrong, headers={"Accept-Language": "en"})
        assert missing.status_code == 404
        assert "There is nothing at this address." in missing.get_data(as_text=True)
    assert visitor.get("/r/BBBBBBBBBB").status_code == 429
    assert visitor.get(right).status_code == 429  # this address is blocked for a while
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.8"
    assert other.get(right).status_code == 303


def test_an_opt_out_recorded_by_an_admin_stops_texts_and_the_throttle_honours_it(texting, users):
    app, client, headers, aliyun = texting
    reply = new_case(client, headers, **PHONE_ONLY)
    deliver(app)
    admin = client_for(app, "admin")
    page = admin.get("/admin/invitations/")
    form = {"contact": "0086 138-0013-8000", "csrf_token": csrf_from(page.get_data(as_text=True))}
    done = admin.post("/admin/invitations/opt-out", data=form, follow_redirects=True)
    assert done.status_code == 200
    assert "The opt-out is recorded" in done.get_data(as_text=True)
    again = admin.post("/admin/invitations/opt-out", data=form, follow_redirects=True)
    assert "That customer had already opted out." in again.get_data(as_text=True)
    with in_app(app):
        [stored] = OptOut.select()
        assert stored.email_hash == invitations.phone_hash("+8613800138000")
        assert "138" not in stored.email_hash
        entry = AuditEntry.get(AuditEntry.action == "customer.opt_out")
        assert entry.actor == "admin" and "138" not in entry.target + entry.detail
    assert deliver(app, 73) == outbox.Outcome(skipped=1)  # the waiting reminder
    assert len(aliyun.sent) == 1
    invitation = invitation_of(app, "M-1")
    assert rows_of(app, invitation.id)[1].last_error == "skipped: the customer opted out"
    later = new_case(
        client,
        headers,
        case_id="M-5",
        customer={"id": "another-id", "phone": "13800138000", "email": "new@example.cn"},
    )
    assert later["suppressed"] is True
    assert later["reason"] == "the customer opted out of surveys by text message"
    assert reply["invitation"]["token"]  # the first one keeps its link

    # an address works the same way, whatever its letter case
    token = csrf_from(admin.get("/admin/invitations/").get_data(as_text=True))
    admin.post(
        "/admin/invitations/opt-out", data={"contact": " Wu@Example.CN ", "csrf_token": token}
    )
    blocked = new_case(client, headers, case_id="W-1", customer={"email": "wu@example.cn"})
    assert blocked["reason"] == "the customer opted out of survey emails"


@pytest.mark.parametrize(
    "contact, message",
    [
        ("", "This field is required."),
        ("call me maybe", "Give an email address, or a phone number"),
        ("12345", "Give an email address, or a phone number"),
        ("x" * 300, "Field cannot be longer than 254 characters."),
    ],
)
def test_a_wrong_opt_out_is_shown_again_with_its_error_beside_the_field(
    app, users, contact, message
):
    admin = client_for(app, "admin")
    token = csrf_from(admin.get("/admin/invitations/").get_data(as_text=True))
    reply = admin.post("/admin/invitations/opt-out", data={"contact": contact, "csrf_token": token})
    assert reply.status_code == 422
    page = reply.get_data(as_text=True)
    assert re.search(r'<p class="error" id="contact-error">[^<]*' + re.escape(message), page)
    assert 'aria-invalid="true"' in page
    with in_app(app):
        assert OptOut.select().count() == 0
    assert admin.post(
        "/admin/invitations/opt-out", data={"contact": "13800138000"}
    ).status_code in (
        400,
        422,
    )  # no CSRF token: nothing recorded
    with in_app(app):
        assert OptOut.select().count() == 0
    manager = client_for(app, "manager")
    assert manager.post(
        "/admin/invitations/opt-out", data={"contact": "13800138000"}
    ).status_code in (
        400,
        403,
    )


def test_a_number_refused_for_good_is_a_bounce_and_a_busy_provider_is_retried(
    make_app, api_headers_for
):
    illegal = (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"})
    busy = (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"})
    with running([illegal, busy, busy]) as aliyun:
        app = make_app(SEND_INVITATIONS=True, OUTBOX_MAX_ATTEMPTS=2, **config_for(aliyun))
        client, headers = api_headers_for(app)
        new_case(client, headers, case_id="X-1", customer={"phone": "13800138000"})
        assert deliver(app) == outbox.Outcome(skipped=1)
        bounced = invitation_of(app, "X-1")
        assert bounced.delivery == "bounced" and bounced.sent_at is None
        assert rows_of(app, bounced.id)[0].last_error.startswith("bounced: ")
        assert deliver(app, 73) == outbox.Outcome(skipped=1)
        assert rows_of(app, bounced.id)[1].last_error == (
            "skipped: the invitation text message itself was not sent"
        )

        new_case(client, headers, case_id="X-2", customer={"phone": "13900139000"})
        assert deliver(app) == outbox.Outcome(failed=1)
        assert invitation_of(app, "X-2").delivery == "queued"
        assert deliver(app, 1) == outbox.Outcome(given_up=1)
        assert invitation_of(app, "X-2").delivery == "failed"
        assert aliyun.sent == [] and aliyun.refused == []


def test_delivery_reports_of_texts_and_the_response_rate(texting):
    app, client, headers, _aliyun = texting
    new_case(client, headers, **PHONE_ONLY)
    new_case(client, headers, case_id="M-2", customer={"id": "m-2", "phone": "13900139000"})
    new_case(client, headers, case_id="H-1", customer={"id": "h-1"})  # the helpdesk sends it
    with in_app(app):
        survey_id = current_version("post-case").survey_id
        today = periods(utcnow(), app.config["TIMEZONE"]).day
        s = Slice(survey_id, today - timedelta(days=1), today + timedelta(days=1))
        assert reports.slice_counts(s)["invited"] == 1  # the two texts are still queued
    deliver(app)
    with in_app(app):
        assert reports.slice_counts(s)["invited"] == 3
    code = invitation_of(app, "M-2").short_code
    # Aliyun's report carries OutId, the short code: the report names the invitation by it
    for state in ("delivered", "failed"):
        report = client.post(
            f"/api/v1/invitations/{code}/delivery", json={"state": state}, headers=headers
        )
        assert report.status_code == 200 and report.get_json()["delivery"] == state
        assert invitation_of(app, "M-2").delivery == state
    with in_app(app):
        assert reports.slice_counts(s)["invited"] == 2  # a text that never arrived
    token = invitation_of(app, "M-1").token
    path = f"/api/v1/invitations/{token}/delivery"
    assert client.post(path, json={"state": "delivered"}, headers=headers).status_code == 200
    assert client.post(path, json={"state": "read"}, headers=headers).status_code == 400
    for unknown in ("ZZZZZZZZZZ", "short", "A" * 300):
        missing = client.post(
            f"/api/v1/invitations/{unknown}/delivery", json={"state": "failed"}, headers=headers
        )
        assert missing.status_code == 404
    helpdesk = invitation_of(app, "H-1").token
    assert (
        client.post(
            f"/api/v1/invitations/{helpdesk}/delivery", json={"state": "failed"}, headers=headers
        ).status_code
        == 409
    )


def test_imported_phone_only_cases_are_texted_too(texting, tmp_path):
    app, _client, _headers, aliyun = texting
    import_cases(
        app,
        tmp_path,
        "case_id,resolved_at,channel,customer_phone,customer_locale\n"
        "CSV-1,2026-11-20 10:00:00,phone,138 0013 8000,zh-CN\n"
        "CSV-2,2026-11-20 11:00:00,phone,010-12345678,zh-CN\n",
    )
    assert invitation_of(app, "CSV-1").channel == "sms"
    assert invitation_of(app, "CSV-2").delivery is None  # a landline
    assert deliver(app) == outbox.Outcome(delivered=1)
    assert [p["PhoneNumbers"] for p in aliyun.sent] == ["13800138000"]


def test_an_erased_customer_gets_no_reminder_by_text(texting):
    app, client, headers, aliyun = texting
    new_case(client, headers, **PHONE_ONLY)
    deliver(app)
    with in_app(app):
        assert privacy.erase("m-1") is not None
    assert deliver(app, 73) == outbox.Outcome(skipped=1)
    invitation = invitation_of(app, "M-1")
    assert rows_of(app, invitation.id)[1].last_error == (
        "skipped: the customer's phone number was removed"
    )
    assert len(aliyun.sent) == 1


HOSTILE_PHONES = [
    "138\x0000138000",
    "138\x070013\x1b8000",
    "\u202e13800138000",
    10**30,
    -13800138000,
    13800138000.5,
    True,
    ["13800138000"],
    {"number": "13800138000"},
    "1" * 10_000,
]


@pytest.mark.parametrize("phone", HOSTILE_PHONES, ids=range(len(HOSTILE_PHONES)))
def test_hostile_phone_input_gets_a_field_error_not_a_500(app, client, api_headers, phone):
    reply = client.post(
        "/api/v1/cases",
        json={**new_case_body({"case_id": "H-9"}), "customer": {"id": "h", "phone": phone}},
        headers=api_headers,
    )
    assert reply.status_code == 400, reply.get_data(as_text=True)
    assert list(reply.get_json()["errors"]) == ["customer.phone"], reply.get_json()
    with in_app(app):
        assert Case.select().count() == 0


@given(
    phone=st.one_of(
        st.text(max_size=40),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.from_regex(r"(\+|00)?[0-9 \-]{5,20}", fullmatch=True),
    )
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_phone_is_taken_or_named_never_a_500(app, client, api_headers, phone):
    reply = client.post(
        "/api/v1/cases",
        json={**new_case_body({"case_id": "F-1"}), "customer": {"id": "f", "phone": phone}},
        headers=api_headers,
    )
    assert reply.status_code in (200, 201, 400), (phone, reply.status_code)
    if reply.status_code == 400:
        assert list(reply.get_json()["errors"]) == ["customer.phone"], (phone, reply.get_json())


# --- the throttle knows a number however it is written -----------------------------------------

SPELLINGS = ["138 0013 8000", "+8613800138000", "008613800138000"]
THROTTLED = "customer already invited to a survey within the last 30 days"


def stored_numbers(app) -> list[tuple[str, str | None, str | None]]:
    with in_app(app):
        return list(
            Case.select(Case.case_ref, Case.customer_phone, Case.customer_phone_e164)
            .order_by(Case.id)
            .tuples()
        )


def test_one_number_in_three_spellings_gets_one_text_and_the_others_are_throttled(texting):
    app, client, headers, aliyun = texting
    replies = [
        new_case(client, headers, case_id=f"P-{n}", customer={"phone": phone})
        for n, phone in enumerate(SPELLINGS)
    ]
    assert replies[0]["suppressed"] is False and replies[0]["invitation"]["channel"] == "sms"
    for reply in replies[1:]:
        assert reply["suppressed"] is True and reply["invitation"] is None
        assert reply["reason"] == THROTTLED
    # kept as the helpdesk wrote it, and matched in one form
    assert stored_numbers(app) == [
        (f"P-{n}", phone, "+8613800138000") for n, phone in enumerate(SPELLINGS)
    ]
    assert deliver(app) == outbox.Outcome(delivered=1)
    assert [p["PhoneNumbers"] for p in aliyun.sent] == ["13800138000"]

    # a new id or email does not make the same number another customer
    same_phone = new_case(
        client,
        headers,
        case_id="P-7",
        customer={"id": "new-id", "email": "new@example.cn", "phone": "0086-138-0013-8000"},
    )
    assert same_phone["reason"] == THROTTLED
    other = new_case(client, headers, case_id="P-9", customer={"phone": "139 0013 8000"})
    assert other["suppressed"] is False
    landline = new_case(client, headers, case_id="P-10", customer={"phone": "010-12345678"})
    assert landline["suppressed"] is False  # the helpdesk calls it; a second time is throttled
    again = new_case(client, headers, case_id="P-11", customer={"phone": "+86 10 1234 5678"})
    assert again["reason"] == THROTTLED


def test_a_number_invited_before_the_window_is_invited_again(app, client, api_headers):
    def invited_at(moment) -> None:
        with in_app(app):
            Invitation.update(created_at=moment).execute()

    new_case(client, api_headers, case_id="P-1", customer={"phone": SPELLINGS[0]})
    window = timedelta(days=30)
    invited_at(utcnow() - window + timedelta(minutes=1))  # still inside the window
    inside = new_case(client, api_headers, case_id="P-2", customer={"phone": SPELLINGS[1]})
    assert inside["reason"] == THROTTLED
    invited_at(utcnow() - window - timedelta(minutes=1))  # the window has passed
    outside = new_case(client, api_headers, case_id="P-3", customer={"phone": SPELLINGS[2]})
    assert outside["suppressed"] is False and outside["invitation"]["status"] == "pending"


def test_simultaneous_cases_of_one_number_give_one_invitation(app, api_headers, monkeypatch):
    """As test_api's test of one customer by id and email, for a number in its three spellings
    without id or email; each check waits a moment before inviting, so that without the lock
    per number (PostgreSQL; SQLite serializes writers) every case would find none invited."""
    looked = cases._recently_invited

    def slowly(*args):
        found = looked(*args)
        time.sleep(0.2)
        return found

    monkeypatch.setattr(cases, "_recently_invited", slowly)

    def send(n):
        reply = app.test_client().post(
            "/api/v1/cases",
            json=new_case_body(
                {"case_id": f"RACE-{n}", "customer": {"phone": SPELLINGS[n % 3]}, "team": None}
            ),
            headers=api_headers,
        )
        return reply.status_code, reply.get_json()

    replies = all_at_once(6, send)
    assert sorted(code for code, _ in replies) == [201] * 6, replies
    assert sum(not body["suppressed"] for _, body in replies) == 1, replies
    assert {body.get("reason") for _, body in replies} == {None, THROTTLED}
    with in_app(app):
        assert Invitation.select().count() == 1


def test_erasure_and_retention_clear_the_number_the_throttle_matches(app, client, api_headers):
    new_case(client, api_headers, **PHONE_ONLY)  # id m-1 and a number
    new_case(client, api_headers, case_id="M-2", customer={"phone": "13900139000"})
    with in_app(app):
        assert privacy.erase("m-1") is not None
    assert stored_numbers(app) == [("M-1", None, None), ("M-2", "13900139000", "+8613900139000")]
    # erased, the customer is no longer known, so no longer throttled (as for id and email)
    assert (
        new_case(client, api_headers, case_id="M-3", customer={"phone": SPELLINGS[2]})["suppressed"]
        is False
    )
    with in_app(app):
        later = utcnow() + timedelta(days=400)
        assert privacy.apply_retention({"CONTACT_RETENTION_DAYS": 30}, now=later) == 2
    assert stored_numbers(app) == [("M-1", None, None), ("M-2", None, None), ("M-3", None, None)]
