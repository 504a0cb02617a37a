"""Email: one function that sends a plain-text message through the SMTP server in the settings.

Knows nothing of Flask: callers pass the app's config (or any mapping with the SMTP_* settings).
With no SMTP_HOST set, email is off and ``send_mail`` raises ``MailDisabled``; callers decide
whether that matters.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Iterable, Mapping


class MailDisabled(RuntimeError):
    """No SMTP server is configured."""


def enabled(config: Mapping[str, Any]) -> bool:
    return bool(config.get("SMTP_HOST"))


def build_message(config: Mapping[str, Any], to: str | Iterable[str], subject: str,
                  body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.get("MAIL_FROM") or formataddr(("feedback", "feedback@localhost"))
    message["To"] = to if isinstance(to, str) else ", ".join(to)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="feedback")
    message.set_content(body)  # UTF-8, so Chinese arrives intact
    return message


def send_mail(config: Mapping[str, Any], to: str | Iterable[str], subject: str, body: str,
              timeout: float = 15.0) -> None:
    """Send one message; raise ``MailDisabled`` or the SMTP/socket error on failure."""
    if not enabled(config):
        raise MailDisabled("no SMTP server configured (FEEDBACK_SMTP_HOST)")
    message = build_message(config, to, subject, body)
    with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25),
                      timeout=timeout) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)
