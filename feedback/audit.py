"""The audit log: administrative and sensitive actions, kept in the ``audit_log`` table.

Every entry says who (the user then, or ``cli`` for a command), what (an action name from
ACTIONS and its target), when (UTC) and from where (the client address of the request, as
``FEEDBACK_TRUSTED_PROXIES`` lets the site see it; empty for a command). Anonymous actions of
the public (survey answers, suggestions) are never audited: the anonymity of the box holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import has_request_context, request

from .db import database, utcnow
from .i18n import Language
from .models import AuditEntry, User
from .names import N_

# The action names, and what each records. A new one is added here first.
ACTIONS = (
    "user.create",
    "user.change",
    "user.password",
    "user.deactivate",
    "user.login_failed",
    "user.activate",
    "team.create",
    "team.change",
    "token.create",
    "token.revoke",
    "survey.change",
    "category.save",
    "export.raw",
    "callback.view",
    "customer.export",
    "customer.erase",
    "customer.opt_out",
    "retention.purge",
    "digest.subscribe",
    "digest.unsubscribe",
    "robot.create",
    "robot.change",
    "robot.delete",
    "robot.test",
    "channels.change",
    "channels.test",
)


def _clean(text: str, limit: int) -> str:
    """Without NUL (PostgreSQL refuses it in text) and cut to the column's length."""
    return str(text).replace("\x00", "\ufffd")[:limit]


def record(
    action: str, target: str = "", actor: User | str | None = None, **detail: Any
) -> AuditEntry:
    """Write one entry in the current transaction (the caller's, so it lands with the change).

    ``actor`` defaults to the logged-in user of the request, else ``cli``.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    user = None
    address = None
    if has_request_context():
        address = request.remote_addr
        if actor is None:
            from flask_login import current_user

            if current_user and current_user.is_authenticated:
                actor = current_user._get_current_object()
    if isinstance(actor, User):
        user, name = actor, actor.username
    else:
        name = actor or "cli"
    with database.atomic():
        return AuditEntry.create(
            at=utcnow(),
            actor_user=user,
            actor=_clean(name, 64),
            action=action,
            target=_clean(target, 200),
            address=_clean(address, 64) if address else None,
            detail=_clean(
                json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True), 100_000
            ),
        )


# --- reading the log: the admin page and its CSV -----------------------------------------------


@dataclass(frozen=True)
class Filter:
    """Which entries the admin page lists: all given conditions hold (dates are local days)."""

    action: str | None = None
    actor: str | None = None  # the actor's name as recorded, exactly (case-insensitive)
    target: str | None = None  # text the target contains (case-insensitive)
    start: date | None = None
    end: date | None = None  # inclusive


def _utc_start(day: date, tz: str) -> datetime:
    """The naive-UTC moment a local day begins."""
    local = datetime.combine(day, time(), tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).replace(tzinfo=None)


def _conditions(f: Filter, tz: str) -> list:
    from peewee import SQL, NodeList, Value, fn

    found = []
    if f.action:
        found.append(AuditEntry.action == f.action)
    if f.actor:
        found.append(fn.LOWER(AuditEntry.actor) == f.actor.lower())
    if f.target:
        # LIKE's own wildcards in the text are matched as themselves (the same on both databases)
        text = f.target.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        found.append(
            NodeList(
                (fn.LOWER(AuditEntry.target), SQL("LIKE"), Value(f"%{text}%"), SQL("ESCAPE '\\'"))
            )
        )
    if f.start:
        found.append(AuditEntry.at >= _utc_start(f.start, tz))
    if f.end:
        found.append(AuditEntry.at < _utc_start(f.end + timedelta(days=1), tz))
    return found


def entries(f: Filter, tz: str, limit: int, offset: int = 0) -> list[AuditEntry]:
    """One page of matching entries, newest first."""
    query = AuditEntry.select().order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    for condition in _conditions(f, tz):
        query = query.where(condition)
    return list(query.limit(limit).offset(offset))


def actors() -> list[str]:
    """Every actor name in the log, for the filter's choices."""
    return [
        name
        for (name,) in AuditEntry.select(AuditEntry.actor)
        .distinct()
        .order_by(AuditEntry.actor)
        .tuples()
    ]


# (key, head): the heads are gettext messages, written in the reader's language, as the page's
CSV_COLUMNS = (
    ("id", N_("Number")),
    ("at", N_("When")),
    ("actor", N_("Who")),
    ("action", N_("Action")),
    ("action_code", N_("Action code")),
    ("target", N_("Target")),
    ("address", N_("Address")),
    ("detail", N_("Details")),
)


def csv_rows(
    f: Filter, tz: str, lang: Language, action_name: Callable[[str], str] = str
) -> Iterator[list]:
    """The matching entries, newest first, as rows after a header in ``lang`` (times local, to
    the second; each action in words by ``action_name``, then its code, as the page shows them);
    the caller makes the cells formula-safe."""
    zone = ZoneInfo(tz)
    yield [lang.gettext(head) for _key, head in CSV_COLUMNS]
    query = AuditEntry.select().order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    for condition in _conditions(f, tz):
        query = query.where(condition)
    for entry in query.iterator():
        local = entry.at.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
        yield [
            entry.id,
            local.isoformat(sep=" ", timespec="seconds"),
            entry.actor,
            action_name(entry.action),
            entry.action,
            entry.target,
            entry.address or "",
            entry.detail,
        ]


def user_created(user: User) -> AuditEntry:
    """The entry of a new user (the admin pages' form or ``create-user``): what they got."""
    return record(
        "user.create",
        f"user {user.username}",
        role=user.role,
        team=user.team_id,
        email=user.email,
        agent_code=user.agent_code,
    )
