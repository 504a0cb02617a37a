"""The outbox: notifications written with the change that caused them, delivered later.

A row is written in the transaction that opens a follow-up, so a notification exists exactly when
its follow-up does; delivery happens outside any customer's request (``flask outbox deliver`` or
the background thread of ``start_thread``). A deliverer claims a row with a conditional UPDATE
(``claimed_until`` a lease in the future, ``attempts + 1``), so two deliverers at once, in two
processes or on two machines, never send the same row twice; on failure the row waits
``OUTBOX_RETRY_SECONDS * 2^(attempts-1)`` (at most a day) and after ``OUTBOX_MAX_ATTEMPTS`` it is
given up (``next_attempt_at`` empty, ``last_error`` kept). Every request to a receiver carries the
row's id in ``X-Feedback-Delivery``, so a receiver can recognise a repeat after a crash between
sending and recording. With ``WEBHOOK_SECRET`` set, each request also carries
``X-Feedback-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>``, computed when it is
sent (the secret is never written to the outbox), so a receiver can tell our requests from anyone
else's. Knows nothing of Flask: settings come as a mapping.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import mail, site_settings
from .db import database, utcnow
from .i18n import language
from .models import Outbox
from .names import N_

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a claimed row whose deliverer died is free again after this
LONGEST_WAIT = timedelta(days=1)
BATCH = 50


def backoff(attempts: int, base_seconds: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2 base, 4 base, ... at most a
    day."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), LONGEST_WAIT)


@dataclass(frozen=True)
class Outcome:
    delivered: int = 0
    failed: int = 0
    given_up: int = 0
    skipped: int = 0  # settled without sending (``NotSent``)


class NotSent(Exception):
    """Raised by a sender for a row that must not be sent after all (a reminder to a customer
    who has answered; an address the server refused for good): the row is settled with the
    message as its ``last_error``, never retried, and not counted as a failure."""


def _claim(row_id: int, now: datetime) -> bool:
    """Take a due row for this deliverer; False when another one has it or it is not due."""
    return bool(
        Outbox.update(claimed_until=now + LEASE, attempts=Outbox.attempts + 1)
        .where(
            Outbox.id == row_id,
            Outbox.delivered_at.is_null(),
            Outbox.next_attempt_at.is_null(False),
            Outbox.next_attempt_at <= now,
            Outbox.claimed_until.is_null() | (Outbox.claimed_until < now),
        )
        .execute()
    )


def signature(secret: str, body: bytes) -> str:
    """The ``X-Feedback-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def send_webhook(url: str, row_id: int, body: str, timeout: float, secret: str = "") -> None:
    """POST the JSON (signed when there is a secret); raise on a network error or an answer
    other than 2xx."""
    data = body.encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "feedback-outbox",
        "X-Feedback-Delivery": str(row_id),
    }
    if secret:
        headers["X-Feedback-Signature"] = signature(secret, data)
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 (our setting)
        if not 200 <= reply.status < 300:
            raise RuntimeError(f"HTTP {reply.status}")


def email_text(payload: dict) -> tuple[str, str]:
    """Subject and body of the email to a team's leads about a new follow-up: each line in
    Chinese, then English (the leads may read either), from the catalogue."""
    case, follow_up = payload["case"], payload["follow_up"]
    zh, en = language("zh_CN"), language("en")

    def both(message: str) -> str:
        return f"{zh.gettext(message)} / {en.gettext(message)}"

    title, needs, case_word = (
        both(N_("Follow-up")),
        both(N_("A customer needs a call-back.")),
        both(N_("Case")),
    )
    why, due = both(N_("Why")), both(N_("Due (UTC)"))
    subject = f"{title}: {case['case_id']}"
    body = (
        f"{needs}\n\n"
        f"{case_word}: {case['case_id']} ({case['channel']}, {case.get('team') or '-'})\n"
        f"{why}: {'; '.join(follow_up['reasons'])}\n"
        f"{due}: {follow_up['due_at']}\n\n{follow_up['url']}\n"
    )
    return subject, body


def enqueue(
    kind: str, event: str, target: str, payload: dict, now: datetime, due: datetime | None = None
) -> int:
    """Write a notification to deliver (from ``due``, else now) and return its id; call inside
    the transaction of the change it reports.

    An email's payload may carry its own ``subject`` and ``body`` (already in the reader's
    language, and an ``html`` alternative); otherwise it is a follow-up's description
    (``email_text``)."""
    return Outbox.insert(
        kind=kind,
        event=event,
        target=target,
        payload=json.dumps(payload, ensure_ascii=False),
        created_at=now,
        attempts=0,
        next_attempt_at=due or now,
    ).execute()


Sender = Callable[[Outbox, Mapping[str, Any]], None]
SENDERS: dict[str, Sender] = {}


def sender(kind: str) -> Callable[[Sender], Sender]:
    """Register how rows of ``kind`` are sent: ``fn(row, config)`` raises on any failure (the
    row is then retried), returns when the receiver has taken it. A module that adds a kind
    registers its sender at import; ``_send`` imports the modules of every kind."""

    def register(fn: Sender) -> Sender:
        if kind in SENDERS:
            raise ValueError(f"two senders for outbox rows of kind {kind!r}")
        SENDERS[kind] = fn
        return fn

    return register


@sender("webhook")
def _send_webhook(row: Outbox, config: Mapping[str, Any]) -> None:
    send_webhook(
        row.target,
        row.id,
        row.payload,
        float(config.get("WEBHOOK_TIMEOUT") or 10),
        config.get("WEBHOOK_SECRET") or "",
    )


@sender("email")
def _send_email(row: Outbox, config: Mapping[str, Any]) -> None:
    payload = json.loads(row.payload)
    subject, body = (
        (payload["subject"], payload["body"]) if "subject" in payload else email_text(payload)
    )
    mail.send_mail(
        config,
        [a.strip() for a in row.target.split(",") if a.strip()],
        subject,
        body,
        html=payload.get("html"),
    )


# Modules that register senders of their own kinds (imported when the first row is sent, so
# that this module needs none of them to load).
SENDER_MODULES: tuple[str, ...] = (
    "feedback.sms",
    "feedback.digests",
    "feedback.invitations",
    "feedback.robots",
)


def _send(row: Outbox, config: Mapping[str, Any]) -> None:
    for module in SENDER_MODULES:
        importlib.import_module(module)
    send = SENDERS.get(row.kind)
    if send is None:
        raise ValueError(f"unknown kind of notification {row.kind!r}")
    send(row, config)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    return f"{type(exc).__name__}: {exc}"[:1000]


def deliver_due(
    config: Mapping[str, Any],
    now: Callable[[], datetime] = utcnow,
    batch: int = BATCH,
    kinds: tuple[str, ...] = (),
) -> Outcome:
    """Deliver every row due now (at most ``batch``; only rows of ``kinds`` when given); each
    is claimed first, then recorded. The senders get ``config`` with the settings saved on the
    channels page on top (``site_settings.effective``), read once per call."""
    config = site_settings.effective(config)
    start = now()
    due = [
        row.id
        for row in Outbox.select(Outbox.id)
        .where(
            Outbox.kind.in_(kinds) if kinds else True,
            Outbox.delivered_at.is_null(),
            Outbox.next_attempt_at.is_null(False),
            Outbox.next_attempt_at <= start,
            Outbox.claimed_until.is_null() | (Outbox.claimed_until < start),
        )
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(batch)
    ]
    delivered = failed = given_up = skipped = 0
    base = int(config.get("OUTBOX_RETRY_SECONDS") or 30)
    most = int(config.get("OUTBOX_MAX_ATTEMPTS") or 10)
    for row_id in due:
        with database.atomic():
            claimed = _claim(row_id, now())
        if not claimed:
            continue
        row = Outbox.get_by_id(row_id)
        try:
            _send(row, config)
        except NotSent as exc:
            Outbox.update(
                claimed_until=None, next_attempt_at=None, last_error=str(exc)[:1000]
            ).where(Outbox.id == row_id).execute()
            skipped += 1
            continue
        except Exception as exc:  # every failure is recorded on the row and retried
            at = now()
            last = row.attempts >= most
            Outbox.update(
                claimed_until=None,
                last_error=_error_text(exc),
                next_attempt_at=None if last else at + backoff(row.attempts, base),
            ).where(Outbox.id == row_id).execute()
            given_up += last
            failed += not last
            log.warning(
                "outbox row %s (%s) failed, attempt %s: %s",
                row_id,
                row.kind,
                row.attempts,
                _error_text(exc),
            )
            continue
        Outbox.update(delivered_at=now(), claimed_until=None, last_error=None).where(
            Outbox.id == row_id
        ).execute()
        delivered += 1
    return Outcome(delivered, failed, given_up, skipped)


POLL_SECONDS = 5.0


def run_loop(
    config: Mapping[str, Any], stop: threading.Event, poll_seconds: float = POLL_SECONDS
) -> None:
    """Deliver until ``stop`` is set, looking for due rows every ``poll_seconds``; once a
    minute alert the teams' robots of overdue follow-ups, once a day apply the contact
    retention (``CONTACT_RETENTION_DAYS``) too."""
    from .privacy import DailyRetention
    from .robots import OverdueAlerts

    retention, overdue = DailyRetention(config), OverdueAlerts(config)
    while not stop.is_set():
        try:
            with database.connection_context():
                overdue.tick()
                deliver_due(config)
                retention.tick()
        except Exception:  # a database hiccup must not end the loop
            log.exception("outbox delivery failed; trying again")
        stop.wait(poll_seconds)


def start_thread(
    config: Mapping[str, Any], poll_seconds: float = POLL_SECONDS
) -> tuple[threading.Thread, threading.Event]:
    """A daemon thread delivering the outbox in this process; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_loop,
        args=(dict(config), stop, poll_seconds),
        name="feedback-outbox",
        daemon=True,
    )
    thread.start()
    return thread, stop
