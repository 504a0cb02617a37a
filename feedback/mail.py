"""Email: one function that sends a message (plain text, optionally with an HTML alternative,
attachments and extra headers) through the SMTP server in the settings.

Knows nothing of Flask: callers pass the app's config (or any mapping with the SMTP_* settings).
With no SMTP_HOST set, email is off and ``send_mail`` raises ``MailDisabled``; callers decide
whether that matters.

TLS: SMTP_SSL speaks TLS from the first byte (implicit TLS, port 465), SMTP_STARTTLS upgrades a
plain connection (port 587 or 25) and refuses to go on when the server does not offer it. Either
way the server's certificate and name are checked against the system's CAs (or SMTP_CA_FILE, for
a private CA) with ``ssl.create_default_context``: an untrusted certificate raises
``ssl.SSLCertVerificationError`` before anything is sent, so the outbox records it and retries.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

LONG_LINES = email.policy.default.clone(max_line_length=998)


class MailDisabled(RuntimeError):
    """No SMTP server is configured."""


def enabled(config: Mapping[str, Any]) -> bool:
    return bool(config.get("SMTP_HOST"))


Attachment = tuple[str, bytes, str]  # file name, content, MIME type ("application/pdf")


def build_message(
    config: Mapping[str, Any],
    to: str | Iterable[str],
    subject: str,
    body: str,
    html: str | None = None,
    attachments: Iterable[Attachment] | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """The message: ``body`` as plain text, ``html`` as its alternative, the attachments, and
    ``headers`` (like ``List-Unsubscribe``) added."""
    # Header lines may be 998 characters (RFC 5322): a List-Unsubscribe link longer than 78
    # would otherwise become an RFC 2047 encoded word, which mail clients do not read as a link.
    message = EmailMessage(policy=LONG_LINES) if headers else EmailMessage()
    message["From"] = config.get("MAIL_FROM") or formataddr(("feedback", "feedback@localhost"))
    message["To"] = to if isinstance(to, str) else ", ".join(to)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="feedback")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)  # UTF-8, so Chinese arrives intact
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content, mimetype in attachments or ():
        maintype, _slash, subtype = mimetype.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def tls_context(config: Mapping[str, Any]) -> ssl.SSLContext:
    """A client context that verifies the server's certificate and host name."""
    return ssl.create_default_context(cafile=config.get("SMTP_CA_FILE") or None)


def send_mail(
    config: Mapping[str, Any],
    to: str | Iterable[str],
    subject: str,
    body: str,
    timeout: float = 15.0,
    html: str | None = None,
    attachments: Iterable[Attachment] | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Send one message (plain text, optionally with an HTML alternative, attachments and extra
    headers); raise ``MailDisabled`` or the SMTP/socket error on failure."""
    if not enabled(config):
        raise MailDisabled("no SMTP server configured (FEEDBACK_SMTP_HOST)")
    message = build_message(
        config, to, subject, body, html=html, attachments=attachments, headers=headers
    )
    host, port = config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25)
    if config.get("SMTP_SSL"):
        connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls_context(config))
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    with connection as smtp:
        if config.get("SMTP_STARTTLS") and not config.get("SMTP_SSL"):
            smtp.starttls(context=tls_context(config))
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)
