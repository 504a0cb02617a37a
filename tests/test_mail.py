"""Email through a real local SMTP server."""

import smtplib

import pytest
from support import in_app

from feedback import mail


def test_send_mail_delivers_utf8_text(smtp_server):
    mail.send_mail(
        smtp_server.config, "kehu@example.test", "您的建议有了答复", "谢谢您的建议。\nThanks."
    )
    [message] = smtp_server.messages
    assert message["To"] == "kehu@example.test"
    assert message["Subject"] == "您的建议有了答复"
    assert message["From"] == "feedback <feedback@example.test>"
    assert message.get_content().replace("\r\n", "\n").strip() == "谢谢您的建议。\nThanks."


def test_a_failing_server_raises(smtp_server):
    smtp_server.fail_next = 1
    with pytest.raises(smtplib.SMTPDataError):
        mail.send_mail(smtp_server.config, "a@example.test", "s", "b")
    assert smtp_server.messages == []
    mail.send_mail(smtp_server.config, "a@example.test", "s", "b")
    assert len(smtp_server.messages) == 1


def test_without_a_host_mail_is_off():
    assert not mail.enabled({"SMTP_HOST": ""})
    with pytest.raises(mail.MailDisabled):
        mail.send_mail({"SMTP_HOST": ""}, "a@example.test", "s", "b")


# Over real TLS: a self-signed certificate made for the test; the client trusts it only when
# SMTP_CA_FILE names it.


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    from support import self_signed_certificate

    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(params=["starttls", "implicit"])
def tls_server(request, certificate):
    from support import SmtpServer

    with SmtpServer(tls=request.param, certificate=certificate) as server:
        yield server


def test_a_certificate_the_client_does_not_trust_is_refused(tls_server):
    import ssl

    with pytest.raises(ssl.SSLCertVerificationError):
        mail.send_mail(tls_server.config, "a@example.test", "s", "b")
    assert tls_server.messages == []


def test_a_trusted_certificate_delivers(tls_server, certificate):
    config = {**tls_server.config, "SMTP_CA_FILE": certificate[0]}
    mail.send_mail(config, "kehu@example.test", "您好", "谢谢。")
    [message] = tls_server.messages
    assert message["Subject"] == "您好"


def test_a_certificate_for_another_name_is_refused(tls_server, certificate):
    import ssl

    config = {**tls_server.config, "SMTP_CA_FILE": certificate[0], "SMTP_HOST": "localhost"}
    with pytest.raises(ssl.SSLCertVerificationError, match="localhost"):
        mail.send_mail(config, "a@example.test", "s", "b")
    assert tls_server.messages == []


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it(smtp_server):
    # a plain server (or a man in the middle stripping STARTTLS): refuse, never send in clear
    with pytest.raises(smtplib.SMTPNotSupportedError):
        mail.send_mail({**smtp_server.config, "SMTP_STARTTLS": True}, "a@example.test", "s", "b")
    assert smtp_server.messages == []


def test_the_outbox_records_an_untrusted_certificate_and_retries(app, tls_server, certificate):
    from datetime import timedelta

    from feedback import outbox
    from feedback.db import database, utcnow
    from feedback.models import Outbox

    start = utcnow()
    config = {**app.config, **tls_server.config}
    with in_app(app):
        with database.atomic():
            outbox.enqueue(
                "email",
                "suggestion.reply",
                "kehu@example.test",
                {"subject": "答复", "body": "谢谢"},
                start,
            )
        assert outbox.deliver_due(config, lambda: start) == outbox.Outcome(failed=1)
        row = Outbox.get()
        assert "SSLCertVerificationError" in row.last_error and row.delivered_at is None
        assert row.next_attempt_at == start + timedelta(seconds=30)
        later = start + timedelta(seconds=30)
        trusted = {**config, "SMTP_CA_FILE": certificate[0]}
        assert outbox.deliver_due(trusted, lambda: later) == outbox.Outcome(delivered=1)
    [message] = tls_server.messages
    assert message["Subject"] == "答复"


@pytest.mark.parametrize("value", ["/no/such/ca.pem"])
def test_a_missing_ca_file_is_refused_at_start(value):
    from feedback import settings

    with pytest.raises(settings.SettingError, match="FEEDBACK_SMTP_CA_FILE"):
        settings.from_environment({"FEEDBACK_SMTP_CA_FILE": value})


def test_starttls_and_implicit_tls_together_are_refused_at_start():
    from feedback import settings

    with pytest.raises(settings.SettingError, match="FEEDBACK_SMTP_SSL"):
        settings.from_environment({"FEEDBACK_SMTP_SSL": "true", "FEEDBACK_SMTP_STARTTLS": "true"})
