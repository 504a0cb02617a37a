"""The test messages of the channels page: one per section, through the outbox like real ones.

An admin's "send a test" writes one outbox row (so no request waits on a mail server, an SMS
provider or a webhook receiver) and an audit entry ``channels.test`` naming the section, the
recipient and the row. The page then reads the row's state: queued, sent, failing (retried) or
given up, with the error. The deliverer sends it with the settings in force at that moment
(``site_settings.effective``), so a test shows what the saved settings do.

- email: a short plain-text email to the address typed;
- invitations: the invitation email of the default survey as a customer would get it (plain
  text and HTML, the admin's language, a made-up case), to the address typed;
- sms: the site's address as the text of the SMS template, to the number typed;
- webhook: ``{"event": "test", ...}`` POSTed (and signed) to WEBHOOK_URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import audit, invitations, mail, outbox, sms
from .db import database, utcnow
from .i18n import Language
from .models import AuditEntry, Outbox, User
from .names import N_
from .surveys import current_version, definition_of
from .vocabulary import CHANNEL_SECTIONS

ACTION = "channels.test"
EVENTS = {
    "email": "test.email",
    "invitations": "test.invitation",
    "sms": "test.sms",
    "webhook": "test.webhook",
}
KINDS = {"email": "email", "invitations": "email", "sms": "sms", "webhook": "webhook"}
assert tuple(EVENTS) == tuple(KINDS) == CHANNEL_SECTIONS
WEBHOOK_EVENT = "test"

MAIL_OFF = N_("Email is off: save an SMTP server first.")
SMS_OFF = N_("SMS is off: choose a provider and save its keys first.")
WEBHOOK_OFF = N_("The webhook is off: save its address first.")
NO_SURVEY = N_("There is no survey to take the invitation from.")


class CannotTest(ValueError):
    """The section's channel is off; the message (a catalogue id) says what to set first."""


def _email(config: Mapping[str, Any], lang: Language, by: str) -> dict:
    return {
        "subject": lang.gettext(N_("Test email from the feedback site")),
        "body": lang.gettext(
            N_(
                "This is a test of the email settings, sent by %(user)s from the channels page "
                "through %(host)s. If you can read it, the site's email arrives."
            ),
            user=by,
            host=f"{config.get('SMTP_HOST')}:{config.get('SMTP_PORT')}",
        )
        + "\n",
    }


def _invitation(config: Mapping[str, Any], lang: Language) -> dict:
    version = current_version(config.get("DEFAULT_SURVEY") or "")
    if version is None:
        raise CannotTest(NO_SURVEY)
    email = invitations.preview(definition_of(version), lang, config)
    return {"subject": email.subject, "body": email.text, "html": email.html}


def queue(
    section: str,
    to: str,
    config: Mapping[str, Any],
    lang: Language,
    actor: User | str,
    now: datetime | None = None,
) -> int:
    """Write the section's test message for ``to`` (an address or a number, already checked;
    ignored for the webhook) and its audit entry; return the outbox row's id. Raises
    ``CannotTest`` when the channel is off."""
    now = now or utcnow()
    by = actor.username if isinstance(actor, User) else str(actor)
    event = EVENTS[section]
    if section in ("email", "invitations"):
        if not mail.enabled(config):
            raise CannotTest(MAIL_OFF)
        payload = _email(config, lang, by) if section == "email" else _invitation(config, lang)
    elif section == "sms":
        if not sms.enabled(config):
            raise CannotTest(SMS_OFF)
        payload = {"text": (config.get("BASE_URL") or "").rstrip("/") + "/"}
    else:
        to = config.get("WEBHOOK_URL") or ""
        if not to:
            raise CannotTest(WEBHOOK_OFF)
        payload = {
            "event": WEBHOOK_EVENT,
            "sent_at": now.isoformat() + "Z",
            "message": "A test from the channels page of the feedback site.",
        }
    with database.atomic():
        row_id = outbox.enqueue(KINDS[section], event, to, payload, now)
        audit.record(ACTION, section, actor, to=to, outbox=row_id)
    return row_id


@dataclass(frozen=True)
class Outcome:
    """The last test of a section as the outbox has it."""

    section: str
    to: str
    by: str
    at: datetime
    state: str  # queued, sent, retrying, failed, gone
    attempts: int = 0
    error: str | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None


def state_of(row: Outbox | None) -> str:
    """queued (not tried yet), retrying (failed, tried again later), sent, failed (given up or
    refused for good), or gone (the row is no longer there)."""
    if row is None:
        return "gone"
    if row.delivered_at is not None:
        return "sent"
    if row.next_attempt_at is None:
        return "failed"
    return "retrying" if row.attempts and row.last_error else "queued"


def last_tests() -> dict[str, Outcome | None]:
    """Each section's last test and how it went: an indexed look-up of the audit log each (by
    action and time), and the row it names."""
    found: dict[str, Outcome | None] = {}
    for section in CHANNEL_SECTIONS:
        entry = (
            AuditEntry.select()
            .where(AuditEntry.action == ACTION, AuditEntry.target == section)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .first()
        )
        if entry is None:
            found[section] = None
            continue
        detail = json.loads(entry.detail)
        row = Outbox.get_or_none(Outbox.id == int(detail.get("outbox") or 0))
        found[section] = Outcome(
            section=section,
            to=str(detail.get("to") or ""),
            by=entry.actor,
            at=entry.at,
            state=state_of(row),
            attempts=row.attempts if row else 0,
            error=row.last_error if row else None,
            next_attempt_at=row.next_attempt_at if row else None,
            sent_at=row.delivered_at if row else None,
        )
    return found


PROBLEM_KINDS = ("email", "invitation", "sms", "webhook")
PROBLEMS_SHOWN = 10


def recent_problems(limit: int = PROBLEMS_SHOWN) -> list[Outbox]:
    """The latest rows of these channels that failed (retried or given up), newest first;
    those settled as no longer due (``skipped: ...``) are not problems."""
    return list(
        Outbox.select()
        .where(
            Outbox.delivered_at.is_null(),
            Outbox.last_error.is_null(False),
            Outbox.kind.in_(PROBLEM_KINDS),
            ~Outbox.last_error.startswith("skipped"),
        )
        .order_by(Outbox.id.desc())
        .limit(limit)
    )
