"""Email through a real local SMTP server."""

import smtplib

import pytest

from feedback import mail


def test_send_mail_delivers_utf8_text(smtp_server):
    mail.send_mail(smtp_server.config, "kehu@example.test", "您的建议有了答复", "谢谢您的建议。\nThanks.")
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
