"""Settings of the channels that an admin saves on /admin/channels, over the environment's.

The names an admin may save are ``settings.CHANNEL_SETTINGS`` (email over SMTP, invitations and
reminders, SMS, the webhook), nothing else. A saved value is kept as text in the ``site_setting``
table, exactly as the environment variable would hold it, and read with the same
``Setting.parse``: the same rules, the same values.

**Precedence.** A value saved on the page wins; a setting without a saved value has the
environment's (``FEEDBACK_<NAME>``, else its default). "Reset" deletes the saved value, so the
environment's applies again. ``effective(config)`` is the one way to read them: the app's config
with the saved values on top (``Effective``, a read-only mapping), used by everything that
sends (the outbox deliverer, the case registration, the follow-up and suggestion webhooks, the
admin pages).

**Many processes.** Production runs several workers on several machines against one database,
so nothing here is a per-process copy: every ``effective`` reads the table's rows (a handful,
one prepared statement) and the parsed values are cached under the rows themselves (their names
and texts), which is the ``cache.py`` contract's "immutable for its key": a change saved through
any process is seen by every process at its next read. The outbox deliverer reads them once per
batch, so a change applies to the next batch (within seconds).

**Secrets** (``settings.SECRET_SETTINGS``) are stored as they are: no encryption library is among
the pinned packages, and a key derived from ``SECRET_KEY`` would sit beside the data anyway for
every worker to read. Protect the database (and its backups) as you protect the environment. The
page never shows a secret back, and the audit log records only the names of the settings changed.
Knows nothing of Flask.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import audit
from .cache import Cache
from .db import Prepared, database, utcnow
from .models import SiteSetting, User
from .names import N_
from .settings import CHANNEL_SECTION_SETTINGS, CHANNEL_SETTINGS, SECRET_SETTINGS, SETTINGS_BY_NAME

log = logging.getLogger(__name__)

# The settings of each section of the page, in the page's order.
SECTION_SETTINGS = CHANNEL_SECTION_SETTINGS

# The longest text a setting takes on the page (an address may be long; nothing else is).
LONGEST = {"WEBHOOK_URL": 2000, "SMS_ENDPOINT": 2000}
LONGEST_DEFAULT = 500

# What each setting must be, for the person who typed something else (in their language where
# it is shown). The rule itself is the setting's ``parse``.
RULES: dict[str, str] = {
    "SMTP_HOST": N_("A host name or address, like smtp.example.cn; empty: no email."),
    "SMTP_PORT": N_("A port number from 1 to 65535 (25, 465 or 587)."),
    "SMTP_USER": N_("The login name, without line breaks or control characters."),
    "SMTP_PASSWORD": N_("The password, without line breaks or control characters."),
    "SMTP_STARTTLS": N_("On or off."),
    "SMTP_SSL": N_("On or off."),
    "MAIL_FROM": N_("A sender like feedback <feedback@example.cn>, on one line."),
    "SEND_INVITATIONS": N_("On or off."),
    "REMINDER_HOURS": N_("A number of hours greater than 0, like 72 or 0.5."),
    "REMINDERS": N_("A whole number from 0 to 10."),
    "SMS_PROVIDER": N_("Choose a provider, or none."),
    "SMS_ACCESS_KEY_ID": N_("The AccessKey ID, without line breaks or control characters."),
    "SMS_ACCESS_KEY_SECRET": N_("The AccessKey secret, without line breaks or control characters."),
    "SMS_SIGN_NAME": N_("The approved signature, without line breaks or control characters."),
    "SMS_TEMPLATE_CODE": N_("The template code, like SMS_123456789."),
    "SMS_TEMPLATE_PARAM": N_("The template variable's name, like content."),
    "SMS_TEMPLATE_VALUE": N_("Choose what the variable receives."),
    "SMS_ENDPOINT": N_("An address starting with https:// (or http://)."),
    "WEBHOOK_URL": N_("An address starting with https:// (or http://); empty: no webhook."),
    "WEBHOOK_SECRET": N_("The secret, without line breaks or control characters."),
    "WEBHOOK_EVENTS": N_("Choose among the events listed."),
}
NEEDED_FOR_SMS = N_("Needed to send SMS with a provider chosen.")
TLS_TWICE = N_("Choose implicit TLS or STARTTLS, not both (465: implicit TLS, 587: STARTTLS).")
SMS_NEEDS = ("SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME", "SMS_TEMPLATE_CODE")


# --- reading -------------------------------------------------------------------------------------

_ROWS = Prepared(
    lambda: SiteSetting.select(SiteSetting.name, SiteSetting.value).order_by(SiteSetting.name), 0
)
Rows = tuple[tuple[str, str], ...]


def rows() -> Rows:
    """The saved (name, text) pairs, by name: one prepared statement."""
    return tuple((name, value) for name, value in _ROWS.execute().fetchall())


def text_of(name: str, value: Any) -> str:
    """A setting's value written as its environment variable would hold it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, float):
        return repr(value).removesuffix(".0")
    return "" if value is None else str(value)


def check_text(name: str, text: str) -> Any:
    """The value of ``text`` for setting ``name``, or ValueError: the setting's own ``parse``,
    and no control characters, nor more than its length."""
    if name not in CHANNEL_SETTINGS:
        raise ValueError(f"{name} cannot be set on the channels page")
    if any(not ch.isprintable() for ch in text):
        raise ValueError("control characters")
    if len(text) > LONGEST.get(name, LONGEST_DEFAULT):
        raise ValueError("too long")
    return SETTINGS_BY_NAME[name].parse(text)


def _parse_rows(saved: Rows) -> dict[str, Any]:
    values = {}
    for name, text in saved:
        try:
            values[name] = check_text(name, text)
        except (ValueError, OverflowError) as exc:  # written by an older version, or by hand
            log.warning("site setting %s is ignored: %s", name, exc)
    return values


_PARSED: Cache[Rows, dict[str, Any]] = Cache(16)  # keyed by the rows themselves (content)


def saved_values(saved: Rows | None = None) -> Mapping[str, Any]:
    """The parsed values of the saved rows (read now unless given). Do not change the result:
    it is shared by every reader of the same rows."""
    saved = rows() if saved is None else saved
    return _PARSED.get_or_make(saved, lambda: _parse_rows(saved))


class Effective(Mapping):
    """A config with the values saved on the channels page on top; read-only."""

    __slots__ = ("saved", "base")

    def __init__(self, saved: Mapping[str, Any], base: Mapping[str, Any]):
        self.saved, self.base = saved, base

    def __getitem__(self, key: str) -> Any:
        if key in self.saved:
            return self.saved[key]
        return self.base[key]

    def __contains__(self, key: object) -> bool:
        return key in self.saved or key in self.base

    def __iter__(self) -> Iterator[str]:
        yield from self.base
        yield from (k for k in self.saved if k not in self.base)

    def __len__(self) -> int:
        return len(self.base) + sum(k not in self.base for k in self.saved)


def effective(config: Mapping[str, Any], saved: Rows | None = None) -> Effective:
    """The config the channels use now: ``config`` (the environment's) with the values saved on
    the page on top. Reads the table unless ``saved`` rows are given."""
    base = config.base if isinstance(config, Effective) else config
    return Effective(saved_values(saved), base)


# --- what the page shows -------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One setting as the page shows it."""

    name: str
    value: Any  # in force now (never shown for a secret)
    text: str  # the value as text ("" for a secret)
    saved: bool  # a value saved on the page is in force
    environment_text: str  # what the environment gives (a secret: "" too)
    environment_set: bool  # the environment gives a value that is not empty
    changed_at: datetime | None = None
    changed_by: str | None = None
    ignored: bool = False  # a saved text that does not parse: the environment's value applies

    @property
    def secret(self) -> bool:
        return self.name in SECRET_SETTINGS

    @property
    def is_set(self) -> bool:
        return bool(self.value)


def fields(config: Mapping[str, Any]) -> dict[str, Field]:
    """Every channel setting: its value in force, where it comes from, the environment's."""
    base = config.base if isinstance(config, Effective) else config
    stored = {row.name: row for row in SiteSetting.select()}
    saved = saved_values(tuple(sorted((n, r.value) for n, r in stored.items())))
    found = {}
    for name in CHANNEL_SETTINGS:
        row = stored.get(name)
        value = saved[name] if name in saved else base.get(name)
        secret = name in SECRET_SETTINGS
        found[name] = Field(
            name=name,
            value=value,
            text="" if secret else text_of(name, value),
            saved=name in saved,
            environment_text="" if secret else text_of(name, base.get(name)),
            environment_set=bool(base.get(name)),
            changed_at=row.changed_at if row else None,
            changed_by=row.changed_by if row else None,
            ignored=row is not None and name not in saved,
        )
    return found


# --- saving --------------------------------------------------------------------------------------


def problems(values: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """What the combination of ``values`` (those in force after a change) breaks, by the setting
    to show it beside (only those among ``names``): the checks ``settings.from_environment``
    makes at start-up. Messages are catalogue ids."""
    found = {}
    if values.get("SMTP_SSL") and values.get("SMTP_STARTTLS"):
        found["SMTP_SSL"] = TLS_TWICE
    if values.get("SMS_PROVIDER"):
        for name in (*SMS_NEEDS, "SMS_ENDPOINT"):
            if not str(values.get(name) or "").strip():
                found[name] = NEEDED_FOR_SMS
    return {name: message for name, message in found.items() if name in names}


@dataclass(frozen=True)
class Saved:
    """What a save changed: the names given a value, those cleared, those reset."""

    changed: tuple[str, ...] = ()
    reset: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changed or self.reset)


def save(
    texts: Mapping[str, str], reset: tuple[str, ...], actor: User | str, before: Mapping[str, Any]
) -> Saved:
    """Store ``texts`` (already checked; name -> text) and delete the saved values of ``reset``,
    in one transaction with its audit entry (names; old and new values of the settings that are
    not secret). ``before`` is the config in force before (for the audit)."""
    for name in (*texts, *reset):
        if name not in CHANNEL_SETTINGS:
            raise ValueError(f"{name} cannot be set on the channels page")
    name_of = actor.username if isinstance(actor, User) else str(actor)
    now = utcnow()
    with database.atomic():
        for name, text in texts.items():
            SiteSetting.insert(
                name=name, value=text, changed_at=now, changed_by=name_of[:64]
            ).on_conflict(
                conflict_target=[SiteSetting.name],
                update={
                    SiteSetting.value: text,
                    SiteSetting.changed_at: now,
                    SiteSetting.changed_by: name_of[:64],
                },
            ).execute()
        gone: tuple[str, ...] = ()
        if reset:
            query = SiteSetting.select(SiteSetting.name).where(SiteSetting.name.in_(list(reset)))
            gone = tuple(sorted(name for (name,) in query.tuples()))
            SiteSetting.delete().where(SiteSetting.name.in_(list(gone))).execute()
        done = Saved(tuple(texts), gone)
        if done:
            after = effective(before)
            values = {
                name: [text_of(name, before.get(name)), text_of(name, after.get(name))]
                for name in (*done.changed, *done.reset)
                if name not in SECRET_SETTINGS
            }
            audit.record(
                "channels.change",
                "channels",
                actor if isinstance(actor, User) else name_of,
                saved=list(done.changed),
                reset=list(done.reset),
                values=values,
            )
    return done
