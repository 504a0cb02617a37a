"""Resolved cases coming in from a helpdesk or a CSV file, and the invitations they get."""

from __future__ import annotations

import functools
import operator
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import peewee

from . import invitations, sms
from .db import database, is_postgres, utcnow
from .i18n import normalize_locale
from .models import Case, Invitation, Survey, Team
from .periods import periods
from .vocabulary import CHANNELS

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class InvalidInput(ValueError):
    """Input with bad fields; ``errors`` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class CaseInput:
    case_ref: str
    survey: str
    resolved_at: datetime  # naive UTC
    channel: str
    agent: str | None = None
    team: str | None = None
    category: str | None = None
    customer_ref: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    customer_phone: str | None = None
    customer_locale: str | None = None
    reopened: bool = False

    @property
    def customer_phone_e164(self) -> str | None:
        """The phone in one form (``+8613800138000``), however the helpdesk wrote it."""
        return sms.phone_number(self.customer_phone) if self.customer_phone else None


def parse_case(data: Any, default_survey: str, tz: str, now: datetime | None = None) -> CaseInput:
    """Check a case as the API or a CSV row gives it; raise InvalidInput naming every bad field."""
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        raise InvalidInput({"body": ["must be a JSON object"]})

    def text(
        key: str, value: Any, limit: int, required: bool = False, number: bool = False
    ) -> str | None:
        """A trimmed text; with ``number``, a whole number is taken as its digits (an id)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                errors.setdefault(key, []).append("is required")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int) if number else str):
            errors.setdefault(key, []).append(
                "must be a string or a whole number" if number else "must be a string"
            )
            return None
        value = str(value).strip()
        if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
            # PostgreSQL refuses NUL in text; a lone surrogate is not UTF-8 at all
            errors.setdefault(key, []).append("must not contain NUL or unpaired surrogates")
            return None
        if len(value) > limit:
            errors.setdefault(key, []).append(f"must be at most {limit} characters")
            return None
        return value

    case_ref = text("case_id", data.get("case_id"), 100, required=True, number=True)
    survey = text("survey", data.get("survey"), 64) or default_survey
    channel = text("channel", data.get("channel"), 16, required=True)
    if channel and channel not in CHANNELS:
        errors.setdefault("channel", []).append(f"must be one of {', '.join(CHANNELS)}")
    resolved_at = None
    raw_resolved = text("resolved_at", data.get("resolved_at"), 40, required=True)
    if raw_resolved:
        resolved_at = parse_timestamp(raw_resolved, tz)
        if resolved_at is None:
            errors.setdefault("resolved_at", []).append(
                "must be an ISO 8601 date and time, like 2026-11-20T14:30:00+08:00"
            )
        elif resolved_at > (now or utcnow()) + timedelta(days=1):
            errors.setdefault("resolved_at", []).append("lies in the future")
    reopened = data.get("reopened", False)
    if reopened is None:
        reopened = False
    if not isinstance(reopened, bool):
        errors.setdefault("reopened", []).append("must be true or false")
    customer = data.get("customer")
    if customer is None:
        customer = {}
    fields: dict[str, Any] = {}
    if not isinstance(customer, dict):
        errors.setdefault("customer", []).append("must be an object")
        customer = {}
    fields["customer_ref"] = text("customer.id", customer.get("id"), 200, number=True)
    fields["customer_name"] = text("customer.name", customer.get("name"), 200)
    email = text("customer.email", customer.get("email"), 254)
    if email and not EMAIL.match(email):
        errors.setdefault("customer.email", []).append("is not an email address")
    fields["customer_email"] = email.lower() if email else None
    phone = text("customer.phone", customer.get("phone"), 50, number=True)
    if phone and sms.phone_number(phone) is None:
        errors.setdefault("customer.phone", []).append(sms.PHONE_RULE)
    fields["customer_phone"] = phone
    fields["customer_locale"] = normalize_locale(
        text("customer.locale", customer.get("locale"), 35)
    )
    agent = text("agent", data.get("agent"), 100)
    team = text("team", data.get("team"), 100)
    category = text("category", data.get("category"), 100)
    if errors:
        raise InvalidInput(errors)
    return CaseInput(
        case_ref=case_ref,
        survey=survey,
        resolved_at=resolved_at,
        channel=channel,
        agent=agent,
        team=team,
        category=category,
        reopened=reopened,
        **fields,
    )


def parse_timestamp(value: str, tz: str) -> datetime | None:
    """ISO 8601 to naive UTC; a time without an offset is read in the site's time zone."""
    try:
        if value[-1:] in ("Z", "z"):  # RFC 3339 allows either
            value = value[:-1] + "+00:00"
        moment = datetime.fromisoformat(value.replace(" ", "T", 1))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(tz))
        return moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved across UTC
        return None


@dataclass(frozen=True)
class Registration:
    case: Case
    invitation: Invitation | None
    created: bool

    @property
    def suppressed(self) -> bool:
        return self.invitation is None


def new_token() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, 144 bits


@dataclass(frozen=True)
class InvitationPolicy:
    """How invitations are given: their lifetime, the throttle window, the site's time zone."""

    invitation_days: int = 14
    throttle_days: int = 30
    timezone: str = "Asia/Shanghai"
    sending: invitations.Sending = invitations.Sending()  # whether the site emails or texts it

    @classmethod
    def from_config(cls, config) -> InvitationPolicy:
        return cls(
            config["INVITATION_DAYS"],
            config["THROTTLE_DAYS"],
            config["TIMEZONE"],
            invitations.Sending.from_config(config),
        )


def register_case(
    case_in: CaseInput, survey: Survey, policy: InvitationPolicy, now: datetime | None = None
) -> Registration:
    """Store a resolved case and give it one invitation, once, whatever is sent again.

    The same case again returns its invitation. ``reopened`` cancels a pending invitation; a
    reopened case resolved again gets that same invitation back with a fresh expiry. A customer
    invited within the throttle window gets no invitation (the case records why).
    """
    now = now or utcnow()
    for attempt in range(3):
        try:
            with database.atomic():
                return _register(case_in, survey, policy, now)
        except peewee.IntegrityError:
            # the same case_id (or a token) stored at the same moment by another request
            if attempt == 2:
                raise


def _register(
    case_in: CaseInput, survey: Survey, policy: InvitationPolicy, now: datetime
) -> Registration:
    case = Case.get_or_none(Case.case_ref == case_in.case_ref)
    if case is not None:
        invitation = Invitation.get_or_none(Invitation.case == case)
        if case_in.reopened:
            if invitation and invitation.status == "pending":
                invitation.status = "cancelled"
                invitation.save()
            case.reopened, case.updated_at = True, now
            case.save()
        elif case.reopened:
            case.reopened, case.resolved_at, case.updated_at = False, case_in.resolved_at, now
            if invitation and invitation.status == "cancelled":
                invitation.status = "pending"
                invitation.expires_at = now + timedelta(days=policy.invitation_days)
                invitation.save()
            elif invitation is None and case.suppressed_reason == REOPENED_FIRST:
                # reopened before it was ever resolved: now it is, so it is invited as new
                case.suppressed_reason = _throttle_reason(case_in, policy, now)
                if case.suppressed_reason is None:
                    invitation = _invite(case, policy, now)
            case.save()
        return Registration(case, invitation, created=False)

    reason = REOPENED_FIRST if case_in.reopened else _throttle_reason(case_in, policy, now)
    team = Team.by_name(case_in.team) if case_in.team else None
    case = Case.create(
        case_ref=case_in.case_ref,
        survey=survey,
        channel=case_in.channel,
        agent=case_in.agent,
        team=team,
        category=case_in.category,
        resolved_at=case_in.resolved_at,
        reopened=case_in.reopened,
        customer_ref=case_in.customer_ref,
        customer_name=case_in.customer_name,
        customer_email=case_in.customer_email,
        customer_phone=case_in.customer_phone,
        customer_phone_e164=case_in.customer_phone_e164,
        customer_locale=case_in.customer_locale,
        suppressed_reason=reason,
        created_at=now,
        updated_at=now,
    )
    invitation = _invite(case, policy, now) if reason is None else None
    return Registration(case, invitation, created=True)


REOPENED_FIRST = "the case was reopened before a survey was sent"
OPTED_OUT = "the customer opted out of survey emails"
OPTED_OUT_BY_PHONE = "the customer opted out of surveys by text message"


def _throttle_reason(case_in: CaseInput, policy: InvitationPolicy, now: datetime) -> str | None:
    """Why this customer gets no invitation now, or None."""
    _lock_customer(case_in)
    if invitations.opted_out(case_in.customer_email):
        return OPTED_OUT
    if invitations.phone_opted_out(case_in.customer_phone):
        return OPTED_OUT_BY_PHONE
    if _recently_invited(case_in, now - timedelta(days=policy.throttle_days)):
        return f"customer already invited to a survey within the last {policy.throttle_days} days"
    return None


def _invite(case: Case, policy: InvitationPolicy, now: datetime) -> Invitation:
    sent = periods(now, policy.timezone)
    invitation = Invitation.create(
        case=case,
        token=new_token(),
        status="pending",
        created_at=now,
        expires_at=now + timedelta(days=policy.invitation_days),
        day=sent.day,
        week=sent.week,
        month=sent.month,
    )
    invitations.schedule(invitation, case, policy.sending, now)  # when the site sends it
    return invitation


def _lock_customer(case_in: CaseInput) -> None:
    """Check and invite one customer at a time, until the transaction ends.

    SQLite's BEGIN IMMEDIATE already serializes writers; on PostgreSQL two cases of the same
    customer (by id, email or phone) arriving together would otherwise both find no recent
    invitation.
    """
    if not is_postgres():
        return
    keys = sorted(f"customer {kind}: {value}" for kind, value in _identities(case_in))
    for key in keys:  # always in the same order, so that two requests cannot deadlock
        database.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))


def _identities(case_in: CaseInput) -> list[tuple[str, str]]:
    """What finds the same customer again: the helpdesk's id, the lower-cased email, the phone
    in E.164 (``138 0013 8000`` and ``0086 138-0013-8000`` are one customer)."""
    return [
        (kind, value)
        for kind, value in (
            ("id", case_in.customer_ref),
            ("email", case_in.customer_email),
            ("phone", case_in.customer_phone_e164),
        )
        if value
    ]


_COLUMNS = {
    "id": Case.customer_ref,
    "email": Case.customer_email,
    "phone": Case.customer_phone_e164,
}


def _recently_invited(case_in: CaseInput, since: datetime) -> bool:
    who = [_COLUMNS[kind] == value for kind, value in _identities(case_in)]
    if not who:
        return False
    match = functools.reduce(operator.or_, who)
    return (
        Invitation.select(Invitation.id)
        .join(Case)
        .where(match, Invitation.created_at >= since, Invitation.status != "cancelled")
        .exists()
    )


def invitation_url(base_url: str, token: str) -> str:
    return invitations.survey_url(base_url, token)


def describe(registration: Registration, base_url: str, now: datetime | None = None) -> dict:
    """The API's reply for a registered case."""
    invitation = registration.invitation
    body: dict[str, Any] = {
        "case_id": registration.case.case_ref,
        "invitation": None,
        "suppressed": invitation is None,
    }
    if invitation is not None:
        body["invitation"] = {
            "token": invitation.token,
            "url": invitation_url(base_url, invitation.token),
            "expires_at": invitation.expires_at.replace(tzinfo=UTC).isoformat(),
            "status": invitation.current_status(now),
            # null when the helpdesk sends the link; else how far the site's message got
            "delivery": invitation.delivery,
            "channel": invitation.channel,  # email or sms when the site sends it
        }
        if invitation.delivery is not None:
            body["invitation"]["emails"] = [
                {
                    "email": e["email"],
                    "state": e["state"],
                    "sent_at": _iso(e["sent_at"]),
                    "due_at": _iso(e["due_at"]),
                }
                for e in invitations.emails_of(invitation)
            ]
    else:
        body["reason"] = registration.case.suppressed_reason or "no invitation"
    return body


def _iso(moment: datetime | None) -> str | None:
    return moment.replace(tzinfo=UTC).isoformat() if moment else None
