"""Customers' personal data: everything held about one (export), erasing it, and retention.

What identifies a customer here is the case's ``customer_ref`` (the helpdesk's customer id),
``customer_name``, ``customer_email`` and ``customer_phone`` (with ``customer_phone_e164``, the
same number in E.164 for the throttle); named suggestions carry a name and
an email; outbox rows may carry copies in their target or payload. Erasure and retention clear
those and leave every answer, response, invitation and follow-up in place, so every figure
(dashboard, API, meeting pack) stays exactly what it was: none of them reads a contact column.

Knows nothing of Flask: settings come as a mapping, the actor as a name.
"""

from __future__ import annotations

import json
import logging
import time as clock
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import SQL, NodeList, Value, fn

from . import audit, sms
from .db import database, utcnow
from .models import (
    Answer,
    Case,
    CommentTerms,
    FollowUp,
    FollowUpEvent,
    Invitation,
    Outbox,
    Response,
    Suggestion,
    SuggestionEvent,
    Survey,
    SurveyVersion,
)

log = logging.getLogger(__name__)

ERASED_TEXT = "[erased]"  # what replaces a contact detail found inside a free text
BATCH = 500
RETENTION_BATCH = 2000


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"


def phone_key(text: str) -> str | None:
    """The phone number a request names, in the one form cases keep it (E.164, as the throttle
    compares numbers: ``sms.phone_number``); None when the text is not a phone number."""
    return sms.phone_number(text or "")


def _key_conditions(key: str, phone: bool = False):
    """Cases of the customer with this id or (case-insensitive) email; with ``phone``, of the
    customer with this phone number, however it is written (``key`` is then never an id)."""
    key = (key or "").strip()
    if phone:
        return Case.customer_phone_e164 == phone_key(key)
    condition = Case.customer_ref == key
    if "@" in key:
        condition |= Case.customer_email == key.lower()  # stored lower-cased
    return condition


def _cases(key: str, phone: bool = False) -> list[Case]:
    if not key.strip() or (phone and phone_key(key) is None):
        return []
    return list(Case.select().where(_key_conditions(key, phone)).order_by(Case.id))


def _contact_values(cases: Iterable[Case]) -> set[str]:
    return {
        value
        for case in cases
        for value in (
            case.customer_ref,
            case.customer_name,
            case.customer_email,
            case.customer_phone,
            case.customer_phone_e164,  # the same number as a copy may hold it
        )
        if value
    }


def _emails(key: str, cases: Iterable[Case], phone: bool = False) -> set[str]:
    found = {case.customer_email.lower() for case in cases if case.customer_email}
    if "@" in key and not phone:
        found.add(key.strip().lower())
    return found


def _suggestions(emails: set[str]) -> list[Suggestion]:
    if not emails:
        return []
    return list(
        Suggestion.select()
        .where(fn.LOWER(Suggestion.email).in_(sorted(emails)))
        .order_by(Suggestion.id)
    )


def _leaves(value: Any) -> Iterable[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)


def _contains(column, text: str):
    """``column`` holds ``text`` (``%`` and ``_`` match themselves). A plain LIKE: PostgreSQL's
    ILIKE, or LOWER on every row, took ten times as long; the callers give each detail as
    stored and lower-cased instead."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return NodeList((column, SQL("LIKE"), Value(f"%{escaped}%"), SQL("ESCAPE '\\'")))


def _outbox_carrying(values: set[str], case_refs: set[str] = frozenset()) -> list[Outbox]:
    """Outbox rows whose target or payload holds one of ``values`` (a whole address, a whole
    JSON string, or inside a text longer than it), or that describe one of ``case_refs``.
    One pass over the outbox; for a few details, over the rows SQL's LIKE finds."""
    if not values and not case_refs:
        return []
    lowered = {v.lower() for v in values}
    # inside longer texts (an email's body) only for one customer's few details; retention's
    # thousands are matched whole
    inside = [v for v in values if len(v) >= 3] if len(values) <= 50 else []
    query = Outbox.select().order_by(Outbox.id)
    if len(values) + len(case_refs) <= 50:
        # one customer: only the rows that SQL finds holding one of the texts (as stored or
        # lower-cased, and each also as escaped in JSON) are parsed
        patterns = {json.dumps(v, ensure_ascii=False)[1:-1] for v in values} | set(values)
        patterns |= {json.dumps({"case_id": ref}, ensure_ascii=False)[1:-1] for ref in case_refs}
        patterns |= {p.lower() for p in patterns}
        condition = None
        for pattern in patterns:
            for column in (Outbox.target, Outbox.payload):
                match = _contains(column, pattern)
                condition = match if condition is None else condition | match
        query = query.where(condition)
    found = []
    for row in query.iterator():
        addresses = {a.strip().lower() for a in (row.target or "").split(",")}
        try:
            payload = json.loads(row.payload)
        except ValueError:
            payload = row.payload
        strings = set(_leaves(payload))
        case = payload.get("case") if isinstance(payload, dict) else None
        if (
            (isinstance(case, dict) and case.get("case_id") in case_refs)
            or addresses & lowered
            or strings & values
            or {s.lower() for s in strings} & lowered
            or any(v in s for s in strings for v in inside)
        ):
            found.append(row)
    return found


# --- export ---------------------------------------------------------------------------------


def export(key: str, actor: str | None = None, phone: bool = False) -> dict | None:
    """Everything held about the customer with this id or email (with ``phone``: this phone
    number), as JSON-ready data; None when nothing matches. Audited (``customer.export``)
    without the key itself."""
    cases = _cases(key, phone)
    emails = _emails(key, cases, phone)
    suggestions = _suggestions(emails)
    if not cases and not suggestions:
        return None
    case_ids = [c.id for c in cases]
    slugs = dict(Survey.select(Survey.id, Survey.slug).tuples())
    versions = dict(SurveyVersion.select(SurveyVersion.id, SurveyVersion.version).tuples())
    invitations = {i.case_id: i for i in Invitation.select().where(Invitation.case.in_(case_ids))}
    responses: dict[int, list[Response]] = {}
    for r in Response.select().where(Response.case.in_(case_ids)).order_by(Response.id):
        responses.setdefault(r.case_id, []).append(r)
    answers: dict[int, list[Answer]] = {}
    for a in (
        Answer.select()
        .where(Answer.response.in_([r.id for rows in responses.values() for r in rows]))
        .order_by(Answer.id)
    ):
        answers.setdefault(a.response_id, []).append(a)
    follow_ups: dict[int, list[FollowUp]] = {}
    for f in FollowUp.select().where(FollowUp.case.in_(case_ids)).order_by(FollowUp.id):
        follow_ups.setdefault(f.case_id, []).append(f)
    events: dict[int, list[FollowUpEvent]] = {}
    for e in (
        FollowUpEvent.select()
        .where(FollowUpEvent.follow_up.in_([f.id for rows in follow_ups.values() for f in rows]))
        .order_by(FollowUpEvent.id)
    ):
        events.setdefault(e.follow_up_id, []).append(e)

    def invitation(case: Case) -> dict | None:
        i = invitations.get(case.id)
        return (
            None
            if i is None
            else {
                "status": i.current_status(),
                "sent_at": _when(i.created_at),
                "expires_at": _when(i.expires_at),
                "answered_at": _when(i.answered_at),
            }
        )

    def response(r: Response) -> dict:
        return {
            "id": r.id,
            "survey": slugs.get(r.survey_id),
            "survey_version": versions.get(r.survey_version_id),
            "source": r.source,
            "locale": r.locale,
            "submitted_at": _when(r.submitted_at),
            "answers": [
                {
                    "question": a.question_id,
                    "value": a.value_int if a.value_int is not None else a.value_text,
                    **({"expectation": a.expectation} if a.expectation is not None else {}),
                }
                for a in answers.get(r.id, [])
            ],
        }

    def follow_up(f: FollowUp) -> dict:
        return {
            "id": f.id,
            "state": f.state,
            "outcome": f.outcome,
            "reasons": f.reasons,
            "opened_at": _when(f.created_at),
            "due_at": _when(f.due_at),
            "first_contact_at": _when(f.first_contact_at),
            "closed_at": _when(f.closed_at),
            "events": [
                {
                    "at": _when(e.at),
                    "from": e.from_state,
                    "to": e.to_state,
                    "outcome": e.outcome,
                    "note": e.note,
                }
                for e in events.get(f.id, [])
            ],
        }

    outbox_rows = _outbox_carrying(_contact_values(cases) | emails, {c.case_ref for c in cases})
    data = {
        "customer": phone_key(key) if phone else key.strip(),
        "exported_at": _when(utcnow()),
        "cases": [
            {
                "case_id": c.case_ref,
                "survey": slugs.get(c.survey_id),
                "channel": c.channel,
                "agent": c.agent,
                "category": c.category,
                "resolved_at": _when(c.resolved_at),
                "reopened": c.reopened,
                "customer": {
                    "id": c.customer_ref,
                    "name": c.customer_name,
                    "email": c.customer_email,
                    "phone": c.customer_phone,
                    "locale": c.customer_locale,
                },
                "suppressed_reason": c.suppressed_reason,
                "invitation": invitation(c),
                "responses": [response(r) for r in responses.get(c.id, [])],
                "follow_ups": [follow_up(f) for f in follow_ups.get(c.id, [])],
            }
            for c in cases
        ],
        "suggestions": [
            {
                "id": s.id,
                "box": s.box,
                "title": s.title,
                "body": s.body,
                "status": s.status,
                "name": s.name,
                "email": s.email,
                "locale": s.locale,
                "received_at": _when(s.created_at),
                "public_replies": [
                    {
                        "at": _when(e.created_at),
                        "text": e.public_text,
                        "by_submitter": e.by_submitter,
                    }
                    for e in SuggestionEvent.select()
                    .where(
                        SuggestionEvent.suggestion == s, SuggestionEvent.public_text.is_null(False)
                    )
                    .order_by(SuggestionEvent.id)
                ],
            }
            for s in suggestions
        ],
        "outbox": [
            {
                "id": o.id,
                "kind": o.kind,
                "event": o.event,
                "target": o.target,
                "payload": _json_or_text(o.payload),
                "created_at": _when(o.created_at),
                "delivered_at": _when(o.delivered_at),
            }
            for o in outbox_rows
        ],
    }
    audit.record(
        "customer.export",
        "customer",
        actor=actor,
        cases=len(cases),
        suggestions=len(suggestions),
        outbox=len(outbox_rows),
    )
    return data


def _json_or_text(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


# --- erasure --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    cases: int
    suggestions: int
    outbox: int
    texts: int  # answers and follow-up notes in which a contact detail was replaced


def _scrub(text: str | None, values: set[str]) -> str | None:
    """A free text with every contact detail of ``values`` (3 characters or more, or the
    whole text) replaced by ERASED_TEXT."""
    if not text:
        return text
    for value in sorted(values, key=len, reverse=True):
        if value == text or (len(value) >= 3 and value in text):
            text = text.replace(value, ERASED_TEXT)
    return text


def erase(
    key: str, actor: str | None = None, reason: str | None = None, phone: bool = False
) -> Erasure | None:
    """Remove the name, email, phone and customer id of the customer with this id or email
    (with ``phone``: with this phone number)
    from their cases, the name and email from their named suggestions, the outbox rows that
    carry any of them, and those details where they were typed into their text answers or the
    follow-up notes of their cases. Their answers stay, anonymous, so every figure is unchanged.
    None when nothing matches. Audited (``customer.erase``) with counts, never the key."""
    with database.atomic():
        cases = _cases(key, phone)
        emails = _emails(key, cases, phone)
        suggestions = _suggestions(emails)
        if not cases and not suggestions:
            return None
        values = _contact_values(cases) | emails
        values |= {v for s in suggestions for v in (s.name, s.email) if v}  # as typed
        case_ids = [c.id for c in cases]
        texts = 0
        if case_ids:
            Case.update(
                customer_ref=None,
                customer_name=None,
                customer_email=None,
                customer_phone=None,
                customer_phone_e164=None,
                updated_at=utcnow(),
            ).where(Case.id.in_(case_ids)).execute()
            response_ids = Response.select(Response.id).where(Response.case.in_(case_ids))
            for answer in Answer.select().where(
                Answer.response.in_(response_ids), Answer.value_text.is_null(False)
            ):
                scrubbed = _scrub(answer.value_text, values)
                if scrubbed != answer.value_text:
                    Answer.update(value_text=scrubbed).where(Answer.id == answer.id).execute()
                    # its terms go too; the comment themes cut the scrubbed text again
                    CommentTerms.delete().where(
                        CommentTerms.response == answer.response_id
                    ).execute()
                    texts += 1
            follow_up_ids = FollowUp.select(FollowUp.id).where(FollowUp.case.in_(case_ids))
            for event in FollowUpEvent.select().where(FollowUpEvent.follow_up.in_(follow_up_ids)):
                scrubbed = _scrub(event.note, values)
                if scrubbed != event.note:
                    FollowUpEvent.update(note=scrubbed).where(
                        FollowUpEvent.id == event.id
                    ).execute()
                    texts += 1
        if suggestions:
            Suggestion.update(name=None, email=None).where(
                Suggestion.id.in_([s.id for s in suggestions])
            ).execute()
        carrying = [row.id for row in _outbox_carrying(values)]
        if carrying:
            Outbox.delete().where(Outbox.id.in_(carrying)).execute()
        done = Erasure(len(cases), len(suggestions), len(carrying), texts)
        audit.record(
            "customer.erase",
            "customer",
            actor=actor,
            cases=done.cases,
            suggestions=done.suggestions,
            outbox=done.outbox,
            texts=done.texts,
            reason=reason or "",
        )
    return done


# --- retention ------------------------------------------------------------------------------


def retention_cutoff(config: Mapping[str, Any], now: datetime | None = None) -> datetime | None:
    """Cases resolved before this lose their contact details; None: keep them (the setting 0)."""
    days = int(config.get("CONTACT_RETENTION_DAYS") or 0)
    return None if days <= 0 else (now or utcnow()) - timedelta(days=days)


def apply_retention(
    config: Mapping[str, Any],
    now: datetime | None = None,
    actor: str | None = None,
    always_audit: bool = False,
) -> int:
    """Remove the name, email and phone of every case resolved before the cutoff (and the
    outbox rows that carry them), except while the case's follow-up is still open: the team
    needs the phone to call back. Returns how many cases; audited as ``retention.purge``
    when any were (or always, with ``always_audit``)."""
    cutoff = retention_cutoff(config, now)
    if cutoff is None:
        return 0
    open_follow_up = FollowUp.select(FollowUp.id).where(
        FollowUp.case == Case.id, FollowUp.state != "closed"
    )
    conditions = (
        Case.resolved_at < cutoff,
        Case.customer_name.is_null(False)
        | Case.customer_email.is_null(False)
        | Case.customer_phone.is_null(False),
        ~fn.EXISTS(open_follow_up),
    )
    due = (
        Case.select(
            Case.id,
            Case.customer_name,
            Case.customer_email,
            Case.customer_phone,
            Case.customer_phone_e164,
        )
        .where(*conditions)
        .order_by(Case.id)
    )
    purged, values, last_id = 0, set(), 0
    while True:
        batch = list(due.where(Case.id > last_id).limit(RETENTION_BATCH).tuples())
        if not batch:
            break
        first, last_id = batch[0][0], batch[-1][0]
        with database.atomic():  # a range of ids, not a list of them: one short statement
            purged += (
                Case.update(
                    customer_name=None,
                    customer_email=None,
                    customer_phone=None,
                    customer_phone_e164=None,
                )
                .where(Case.id.between(first, last_id), *conditions)
                .execute()
            )
        values |= {v for row in batch for v in row[1:] if v}
    removed = 0
    if values:
        with database.atomic():
            carrying = [row.id for row in _outbox_carrying(values)]
            if carrying:
                removed = Outbox.delete().where(Outbox.id.in_(carrying)).execute()
    if purged or always_audit:
        with database.atomic():
            audit.record(
                "retention.purge",
                "cases",
                actor=actor,
                cases=purged,
                outbox=removed,
                days=int(config["CONTACT_RETENTION_DAYS"]),
                resolved_before=_when(cutoff),
            )
    return purged


DAY_SECONDS = 24 * 3600
RETRY_SECONDS = 3600


class DailyRetention:
    """Applies retention at most once a day from the outbox deliverer's loop (the first time
    with its first round); a failure is logged and tried again an hour later."""

    def __init__(self, config: Mapping[str, Any], monotonic: Callable[[], float] = clock.monotonic):
        self.config = config
        self.monotonic = monotonic
        self.next_run: float | None = None

    def tick(self) -> int | None:
        """Run when due (call inside a connection); the number of cases, or None if not run."""
        if not int(self.config.get("CONTACT_RETENTION_DAYS") or 0):
            return None
        now = self.monotonic()
        if self.next_run is not None and now < self.next_run:
            return None
        try:
            purged = apply_retention(self.config, actor="system")
        except Exception:  # a database hiccup: the next round of the day tries again
            log.exception("contact retention failed; trying again in an hour")
            self.next_run = now + RETRY_SECONDS
            return None
        self.next_run = now + DAY_SECONDS
        if purged:
            log.info("contact retention: %s case(s) lost their contact details", purged)
        return purged
