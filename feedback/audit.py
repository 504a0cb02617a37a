"""The audit log: administrative and sensitive actions, kept in the ``audit_log`` table.

Every entry says who (the user then, or ``cli`` for a command), what (an action name from
ACTIONS and its target), when (UTC) and from where (the client address of the request, as
``FEEDBACK_TRUSTED_PROXIES`` lets the site see it; empty for a command). Anonymous actions of
the public (survey answers, suggestions) are never audited: the anonymity of the box holds.
"""

from __future__ import annotations

import json
from typing import Any

from flask import has_request_context, request

from .db import database, utcnow
from .models import AuditEntry, User

# The action names, and what each records. A new one is added here first.
ACTIONS = (
    "user.create", "user.change", "user.password", "user.deactivate", "user.login_failed",
    "team.create", "team.change",
    "token.create", "token.revoke",
    "survey.change",
    "category.save",
    "export.raw", "callback.view",
    "customer.export", "customer.erase", "retention.purge",
)


def _clean(text: str, limit: int) -> str:
    """Without NUL (PostgreSQL refuses it in text) and cut to the column's length."""
    return str(text).replace("\x00", "\ufffd")[:limit]


def record(action: str, target: str = "", actor: User | str | None = None,
           **detail: Any) -> AuditEntry:
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
            at=utcnow(), actor_user=user, actor=_clean(name, 64), action=action,
            target=_clean(target, 200), address=_clean(address, 64) if address else None,
            detail=_clean(json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True),
                          100_000))
