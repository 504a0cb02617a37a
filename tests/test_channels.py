"""The channels page (/admin/channels): settings saved over the environment's, seen at once by
another app on the same database (another process), secrets never shown or audited, test
messages through the outbox to local receivers (aiosmtpd, HTTP fakes), roles, hostile input;
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
import sms_fake
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import (
    DETRACTOR,
    HttpFake,
    client_for,
    csrf_from,
    in_app,
    new_case,
    survey_path,
)

from feedback import outbox, site_settings, sms
from feedback.db import utcnow
from feedback.models import AuditEntry, Invitation, Outbox, SiteSetting
from feedback.settings import CHANNEL_SETTINGS, SECRET_SETTINGS
from feedback.web.common import follow_up_policy

PAGE = "/admin/channels/"
SECRETS = {
    "SMTP_PASSWORD": "smtp-Pw-9f3e1c",
    "SMS_ACCESS_KEY_SECRET": "sms-Sk-77ab02",
    "WEBHOOK_SECRET": "hook-Sc-4d5e6f",
}


@pytest.fixture
def admin(app, users):
    return client_for(app, "admin")


def page_of(client) -> str:
    reply = client.get(PAGE)
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def post(client, url: str, data: dict):
    token = csrf_from(page_of(client))
    return client.post(url, data={"csrf_token": token, **data})


def save(client, section: str, **values):
    return post(client, PAGE, {"section": section, **values})


def stored(app) -> dict[str, str]:
    with in_app(app):
        return {row.name: row.value for row in SiteSetting.select()}


def effective(app):
    with in_app(app):
        return dict(site_settings.effective(app.config))


def deliver(app, hours: float = 0) -> outbox.Outcome:
    later = utcnow() + timedelta(hours=hours)
    with in_app(app):
        return outbox.deliver_due(app.config, now=lambda: later)


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="error" id="{re.escape(name)}-error">([^<]*)</p>', html)
    return match.group(1) if match else ""


# --- saving, checking, clearing, resetting ---------------------------------------------------


def test_a_saved_value_wins_and_a_reset_gives_the_environments_back(make_app, users):
    app = make_app(SMTP_HOST="env.example.cn", SMTP_PORT=25, REMINDER_HOURS=72.0)
    client = client_for(app, "admin")
    html = page_of(client)
    assert 'value="env.example.cn"' in html and "From the environment (FEEDBACK_SMTP_HOST)" in html

    reply = save(client, "email", SMTP_HOST="page.example.cn", SMTP_PORT="587")
    assert reply.status_code == 302 and reply.headers["Location"].endswith("#email")
    assert stored(app) == {"SMTP_HOST": "page.example.cn", "SMTP_PORT": "587"}
    now = effective(app)
    assert (now["SMTP_HOST"], now["SMTP_PORT"]) == ("page.example.cn", 587)
    html = page_of(client)
    assert "Saved on this page by admin" in html and "The environment's: env.example.cn" in html

    # a field left as it is keeps its source: the same value posted again saves nothing
    assert save(client, "email", SMTP_HOST="page.example.cn", SMTP_PORT="587").status_code == 302
    assert save(client, "invitations", REMINDER_HOURS="72", REMINDERS="1").status_code == 302
    assert stored(app) == {"SMTP_HOST": "page.example.cn", "SMTP_PORT": "587"}
    assert save(client, "invitations", REMINDER_HOURS="0.5").status_code == 302
    assert effective(app)["REMINDER_HOURS"] == 0.5 and stored(app)["REMINDER_HOURS"] == "0.5"

    reply = save(client, "email", SMTP_HOST="page.example.cn", reset_SMTP_HOST="y")
    assert reply.status_code == 302
    assert "SMTP_HOST" not in stored(app) and effective(app)["SMTP_HOST"] == "env.example.cn"
    with in_app(app):
        entries = [json.loads(e.detail) for e in AuditEntry.select().order_by(AuditEntry.id)]
        actions = [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions.count("channels.change") == 3
    assert entries[-1] == {
        "reset": ["SMTP_HOST"],
        "saved": [],
        "values": {"SMTP_HOST": ["page.example.cn", "env.example.cn"]},
    }


def test_wrong_values_get_an_error_beside_their_field_and_nothing_is_saved(admin, app):
    reply = save(
        admin,
        "email",
        SMTP_HOST="smtp.example.cn",
        SMTP_PORT="70000",
        SMTP_SSL="true",
        SMTP_STARTTLS="true",
    )
    assert reply.status_code == 422
    html = reply.get_data(as_text=True)
    assert field_error(html, "SMTP_PORT") == "A port number from 1 to 65535 (25, 465 or 587)."
    assert field_error(html, "SMTP_SSL").startswith("Choose implicit TLS or STARTTLS")
    assert 'aria-describedby="SMTP_PORT-hint SMTP_PORT-error"' in html
    assert stored(app) == {}

    reply = save(admin, "sms", SMS_PROVIDER="aliyun", SMS_ACCESS_KEY_ID="LTAI-1")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 422
    for name in ("SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME", "SMS_TEMPLATE_CODE"):
        assert field_error(html, name) == "Needed to send SMS with a provider chosen."
    assert field_error(html, "SMS_ACCESS_KEY_ID") == ""
    assert save(admin, "webhook", WEBHOOK_URL="ftp://x", events_shown="1").status_code == 422
    assert save(admin, "invitations", REMINDERS="11").status_code == 422
    assert stored(app) == {}


def test_the_errors_are_in_the_admins_language(admin, app):
    admin.get("/?lang=zh_CN")
    reply = save(admin, "invitations", REMINDER_HOURS="-1")
    assert reply.status_code == 422
    message = field_error(reply.get_data(as_text=True), "REMINDER_HOURS")
    assert message and re.search(r"[\u4e00-\u9fff]", message), message


def test_webhook_events_are_ticked_and_none_is_a_choice(admin, app):
    reply = save(
        admin,
        "webhook",
        WEBHOOK_URL="https://hooks.example.cn/in",
        WEBHOOK_EVENTS=["follow_up.created", "response.created"],
        events_shown="1",
    )
    assert reply.status_code == 302
    assert effective(app)["WEBHOOK_EVENTS"] == ("follow_up.created", "response.created")
    assert save(admin, "webhook", events_shown="1").status_code == 302  # none ticked
    assert effective(app)["WEBHOOK_EVENTS"] == ()
    assert stored(app)["WEBHOOK_EVENTS"] == ""


def test_a_saved_value_that_no_longer_parses_is_ignored(admin, app):
    with in_app(app):
        SiteSetting.create(name="SMTP_PORT", value="not a port", changed_by="hand")
        SiteSetting.create(name="BASE_URL", value="http://evil.test", changed_by="hand")
        config = site_settings.effective(app.config)
        assert config["SMTP_PORT"] == 25 and config["BASE_URL"] == "http://feedback.test"
    assert "not valid any more" in page_of(admin)


# --- secrets -----------------------------------------------------------------------------------


def test_secrets_are_write_only_and_never_audited_in_clear(admin, app):
    sms_fields = {
        "SMS_PROVIDER": "aliyun",
        "SMS_ACCESS_KEY_ID": "LTAI-1",
        "SMS_SIGN_NAME": "反馈",
        "SMS_TEMPLATE_CODE": "SMS_1",
        "SMS_TEMPLATE_PARAM": "content",
        "SMS_ENDPOINT": "https://dysmsapi.aliyuncs.com/",
    }
    assert save(admin, "email", SMTP_PASSWORD=SECRETS["SMTP_PASSWORD"]).status_code == 302
    assert (
        save(
            admin, "sms", SMS_ACCESS_KEY_SECRET=SECRETS["SMS_ACCESS_KEY_SECRET"], **sms_fields
        ).status_code
        == 302
    )
    # a wrong field beside a typed secret: the page comes back without the secret
    reply = save(admin, "webhook", WEBHOOK_URL="nope", WEBHOOK_SECRET=SECRETS["WEBHOOK_SECRET"])
    assert reply.status_code == 422
    assert SECRETS["WEBHOOK_SECRET"] not in reply.get_data(as_text=True)
    assert (
        save(
            admin,
            "webhook",
            WEBHOOK_URL="https://hooks.example.cn/in",
            WEBHOOK_SECRET=SECRETS["WEBHOOK_SECRET"],
        ).status_code
        == 302
    )
    config = effective(app)
    assert {name: config[name] for name in SECRETS} == SECRETS
    html = page_of(admin)
    assert not any(secret in html for secret in SECRETS.values())
    assert html.count("Now: set.") == 3

    # empty keeps it; "remove" saves it empty (over the environment); reset deletes it
    assert save(admin, "email", SMTP_PASSWORD="").status_code == 302
    assert effective(app)["SMTP_PASSWORD"] == SECRETS["SMTP_PASSWORD"]
    assert save(admin, "email", clear_SMTP_PASSWORD="y").status_code == 302
    assert stored(app)["SMTP_PASSWORD"] == "" and effective(app)["SMTP_PASSWORD"] == ""
    assert save(admin, "email", reset_SMTP_PASSWORD="y").status_code == 302
    assert "SMTP_PASSWORD" not in stored(app)

    with in_app(app):
        details = " ".join(e.detail for e in AuditEntry.select())
    assert not any(secret in details for secret in SECRETS.values())
    assert "SMTP_PASSWORD" in details and "WEBHOOK_SECRET" in details


def test_the_allow_list_is_all_that_is_stored(app):
    with in_app(app):
        with pytest.raises(ValueError):
            site_settings.save({"BASE_URL": "http://evil.test"}, (), "cli", app.config)
        with pytest.raises(ValueError):
            site_settings.check_text("SECRET_KEY", "x")
    assert set(SECRET_SETTINGS) <= set(CHANNEL_SETTINGS)
    assert stored(app) == {}


# --- many processes ----------------------------------------------------------------------------


def test_another_process_sees_a_change_at_once(make_app, users, api_headers_for):
    """Two apps on one database stand for two workers (or two machines): a change saved through
    one is in force in the other at its next request, the cached follow-up policy too."""
    first = make_app()
    second = make_app()
    admin = client_for(first, "admin")
    client, headers = api_headers_for(second)
    with second.test_request_context():
        with in_app(second):
            assert follow_up_policy().webhook_url == ""  # cached in the second app now

    with HttpFake(lambda path, headers, body: (204, b"")) as hook:
        reply = save(
            admin,
            "webhook",
            WEBHOOK_URL=hook.base + "/in",
            WEBHOOK_EVENTS=["follow_up.created", "response.created"],
            events_shown="1",
        )
        assert reply.status_code == 302
        assert effective(second)["WEBHOOK_URL"] == hook.base + "/in"
        path = survey_path(new_case(client, headers, case_id="P-1"))
        page = client.get(path).get_data(as_text=True)
        assert (
            client.post(path, data={**DETRACTOR, "csrf_token": csrf_from(page)}).status_code == 302
        )
        with in_app(second):
            events = sorted(r.event for r in Outbox.select().where(Outbox.kind == "webhook"))
        assert events == ["follow_up.created", "response.created"]

        assert (
            save(admin, "webhook", reset_WEBHOOK_URL="y", reset_WEBHOOK_EVENTS="y").status_code
            == 302
        )
        path = survey_path(new_case(client, headers, case_id="P-2", customer={"id": "p2"}))
        page = client.get(path).get_data(as_text=True)
        assert (
            client.post(path, data={**DETRACTOR, "csrf_token": csrf_from(page)}).status_code == 302
        )
        with in_app(second):
            assert Outbox.select().where(Outbox.kind == "webhook").count() == 2  # none more


def test_case_registration_follows_the_saved_invitation_settings(
    make_app, users, smtp_server, api_headers_for
):
    app = make_app()
    admin = client_for(app, "admin")
    client, headers = api_headers_for(app)
    new_case(client, headers, case_id="N-0", customer={"id": "n0", "email": "n0@example.cn"})
    with in_app(app):
        assert Outbox.select().where(Outbox.kind == "invitation").count() == 0
    smtp = smtp_server.config
    assert (
        save(admin, "email", SMTP_HOST=smtp["SMTP_HOST"], SMTP_PORT=str(smtp["SMTP_PORT"]))
    ).status_code == 302
    assert (
        save(admin, "invitations", SEND_INVITATIONS="true", REMINDERS="2", REMINDER_HOURS="24")
    ).status_code == 302
    reply = new_case(
        client, headers, case_id="N-1", customer={"id": "n1", "email": "n1@example.cn"}
    )
    assert reply["invitation"]["delivery"] == "queued"
    with in_app(app):
        due = [r.next_attempt_at for r in Outbox.select().where(Outbox.kind == "invitation")]
    assert len(due) == 3 and due[2] - due[0] == timedelta(hours=48)
    assert deliver(app) == outbox.Outcome(delivered=1)  # through the saved SMTP server
    [message] = smtp_server.messages
    assert message["To"] == "n1@example.cn"
    with in_app(app):
        assert Invitation.get(Invitation.delivery == "sent")


def test_sms_set_up_on_the_page_texts_a_phone_only_customer(make_app, users, api_headers_for):
    """Nothing in the environment: SMS and invitations saved on the page, then a case with only
    a mobile number is texted its short link through the signature-checking Aliyun fake."""
    app = make_app()
    admin = client_for(app, "admin")
    client, headers = api_headers_for(app)
    with sms_fake.running() as fake:
        keys = sms_fake.config_for(fake, SMS_TEMPLATE_VALUE="code")
        del keys["SMS_TIMEOUT"]  # environment only
        assert save(admin, "sms", **keys).status_code == 302
        assert save(admin, "invitations", SEND_INVITATIONS="true").status_code == 302
        reply = new_case(
            client, headers, case_id="T-1", customer={"id": "t1", "phone": "138 0013 8000"}
        )
        assert reply["invitation"]["delivery"] == "queued"
        assert deliver(app).delivered == 1
    [params] = fake.sent
    with in_app(app):
        invitation = Invitation.get()
        assert (invitation.channel, invitation.delivery) == ("sms", "sent")
    assert params["PhoneNumbers"] == "13800138000"
    assert json.loads(params["TemplateParam"]) == {"content": invitation.short_code}


# --- test messages -----------------------------------------------------------------------------


def test_a_test_email_and_a_test_invitation_reach_the_smtp_server(admin, app, smtp_server):
    reply = post(admin, f"{PAGE}test", {"section": "email", "to": "me@example.cn"})
    assert reply.status_code == 422  # no SMTP server yet
    assert "Email is off" in field_error(reply.get_data(as_text=True), "test-to-email")
    smtp = smtp_server.config
    save(admin, "email", SMTP_HOST=smtp["SMTP_HOST"], SMTP_PORT=str(smtp["SMTP_PORT"]))

    bad = post(admin, f"{PAGE}test", {"section": "email", "to": "me@x.cn, you@y.cn"})
    assert bad.status_code == 422
    reply = post(admin, f"{PAGE}test", {"section": "email", "to": "me@example.cn"})
    assert reply.status_code == 302
    assert "waiting in the outbox" in page_of(admin)  # nothing was sent by the request
    assert smtp_server.messages == []
    assert (
        post(admin, f"{PAGE}test", {"section": "invitations", "to": "me@example.cn"}).status_code
        == 302
    )
    assert deliver(app) == outbox.Outcome(delivered=2)
    test_email, invitation = smtp_server.messages
    assert (
        test_email["To"] == "me@example.cn"
        and test_email["Subject"] == "Test email from the feedback site"
    )
    assert invitation["Subject"].endswith("(case HD-1001)")
    assert invitation.get_body(("html",)) is not None  # the HTML alternative went too
    html = page_of(admin)
    assert html.count("<strong>sent</strong>") == 2

    smtp_server.fail_next = 1
    post(admin, f"{PAGE}test", {"section": "email", "to": "me@example.cn"})
    assert deliver(app) == outbox.Outcome(failed=1)
    html = page_of(admin)
    assert "failed, tried again later" in html and "451" in html
    assert "Latest failed deliveries" in html and "test.email" in html
    with in_app(app):
        tests = [e for e in AuditEntry.select() if e.action == "channels.test"]
    assert [t.target for t in tests] == ["email", "invitations", "email"]


def test_a_test_webhook_is_signed_with_the_saved_secret(admin, app):
    received = []

    def receive(path, headers, body):
        received.append((path, dict(headers), body))
        return (500, b"down") if len(received) == 1 else (204, b"")

    with HttpFake(receive) as hook:
        save(
            admin,
            "webhook",
            WEBHOOK_URL=hook.base + "/hook",
            WEBHOOK_SECRET=SECRETS["WEBHOOK_SECRET"],
            events_shown="1",
            WEBHOOK_EVENTS=["follow_up.created"],
        )
        assert post(admin, f"{PAGE}test", {"section": "webhook"}).status_code == 302
        assert deliver(app) == outbox.Outcome(failed=1)
        html = page_of(admin)
        assert "failed, tried again later" in html and "HTTP 500" in html
        assert deliver(app, hours=1) == outbox.Outcome(delivered=1)
    path, headers, body = received[-1]
    assert path == "/hook" and json.loads(body)["event"] == "test"
    assert headers["X-Feedback-Signature"] == outbox.signature(SECRETS["WEBHOOK_SECRET"], body)
    assert "<strong>sent</strong>" in page_of(admin)


def test_a_test_sms_reaches_the_provider_signed(admin, app):
    sent = []
    lock = threading.Lock()

    def provider(path, headers, body):
        params = dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))
        good = params.pop("Signature") == sms.aliyun_signature(
            params, SECRETS["SMS_ACCESS_KEY_SECRET"]
        )
        with lock:
            sent.append(params)
        answer = {"Code": "OK"} if good else {"Code": "SignatureDoesNotMatch"}
        return (200 if good else 400), json.dumps(answer).encode()

    with HttpFake(provider) as fake:
        reply = save(
            admin,
            "sms",
            SMS_PROVIDER="aliyun",
            SMS_ACCESS_KEY_ID="LTAI-test",
            SMS_ACCESS_KEY_SECRET=SECRETS["SMS_ACCESS_KEY_SECRET"],
            SMS_SIGN_NAME="反馈测试",
            SMS_TEMPLATE_CODE="SMS_900000001",
            SMS_TEMPLATE_PARAM="content",
            SMS_ENDPOINT=fake.base + "/",
        )
        assert reply.status_code == 302
        assert (
            post(admin, f"{PAGE}test", {"section": "sms", "to": "010-12345678"}).status_code == 422
        )
        assert (
            post(admin, f"{PAGE}test", {"section": "sms", "to": "138 0013 8000"}).status_code == 302
        )
        assert deliver(app) == outbox.Outcome(delivered=1)
    [params] = sent
    assert params["PhoneNumbers"] == "13800138000" and params["SignName"] == "反馈测试"
    assert json.loads(params["TemplateParam"]) == {"content": "http://feedback.test/"}
    assert "<strong>sent</strong>" in page_of(admin)


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "lead", "staff"])
def test_only_admins_reach_the_page(app, users, role):
    client = client_for(app, role)
    assert client.get(PAGE).status_code == 403
    token = csrf_from(client.get("/").get_data(as_text=True))
    for url, data in (
        (PAGE, {"section": "email", "SMTP_HOST": "x"}),
        (f"{PAGE}test", {"section": "webhook"}),
    ):
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403
    assert stored(app) == {}


def test_a_post_without_a_csrf_token_changes_nothing(admin, app):
    assert admin.post(PAGE, data={"section": "email", "SMTP_HOST": "x"}).status_code == 400
    assert stored(app) == {}


# --- hostile input -----------------------------------------------------------------------------

HOSTILE = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["\x00", "smtp\x00.cn", "a\r\nBcc: x@y", "9" * 5000, "1e309", "nan", "-0", "65536"]
    ),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from([n for n in CHANNEL_SETTINGS if n != "WEBHOOK_EVENTS"]), text=HOSTILE)
def test_hostile_values_get_a_field_error_never_a_500(admin, app, name, text):
    section = next(s for s, names in site_settings.SECTION_SETTINGS.items() if name in names)
    reply = save(admin, section, **{name: text})
    if "\x00" in text:  # the site refuses NUL anywhere in a request, naming the field (400)
        assert reply.status_code == 400 and name in reply.get_data(as_text=True)
        return
    assert reply.status_code in (302, 422), reply.status_code
    if reply.status_code == 422:
        html = reply.get_data(as_text=True)
        assert any(field_error(html, n) for n in site_settings.SECTION_SETTINGS[section])
    with in_app(app):
        for row in SiteSetting.select():
            site_settings.check_text(row.name, row.value)  # whatever was kept reads back
            assert "\x00" not in row.value
        SiteSetting.delete().execute()


def test_the_readme_says_which_settings_the_page_sets():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `FEEDBACK_([A-Z_]+)` \|(.*)$", readme, re.MULTILINE))
    marked = {name for name, row in rows.items() if "Also on `/admin/channels`" in row}
    assert marked == set(CHANNEL_SETTINGS)
    assert "## Channels" in readme


@pytest.mark.parametrize("name", CHANNEL_SETTINGS)
def test_a_value_written_as_text_reads_back_the_same(name):
    """What the page saves (``text_of``) is what the environment variable would hold."""
    from feedback.settings import SETTINGS_BY_NAME

    examples = {
        "SMTP_PORT": 465,
        "SMTP_SSL": True,
        "SMTP_STARTTLS": True,
        "SEND_INVITATIONS": True,
        "SMS_ENDPOINT": "https://dysmsapi.example.cn/",
        "REMINDER_HOURS": 0.25,
        "REMINDERS": 0,
        "SMS_PROVIDER": "aliyun",
        "SMS_TEMPLATE_VALUE": "code",
        "WEBHOOK_EVENTS": ("response.created", "suggestion.created"),
        "WEBHOOK_URL": "https://hooks.example.cn/in?key=1",
    }
    for value in (SETTINGS_BY_NAME[name].default, examples.get(name, "text 中文")):
        assert site_settings.check_text(name, site_settings.text_of(name, value)) == value


def test_the_effective_config_is_a_read_only_overlay():
    config = site_settings.Effective({"SMTP_HOST": "page"}, {"SMTP_HOST": "env", "BASE_URL": "b"})
    assert config["SMTP_HOST"] == "page" and config["BASE_URL"] == "b"
    assert dict(config) == {"SMTP_HOST": "page", "BASE_URL": "b"} and len(config) == 2
    assert config.get("NOPE", 1) == 1 and "BASE_URL" in config
    with pytest.raises(TypeError):
        config["SMTP_HOST"] = "x"  # type: ignore[index]
