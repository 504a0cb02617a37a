"""Follow-ups: an unhappy answer reaches a person who calls the customer back.

A response that meets its survey's ``follow_up`` rules opens a follow-up in the same transaction
(``open_follow_up``, called by ``responses.submit``). It belongs to the case's team, is due after
FOLLOW_UP_DAYS working days, and moves open -> contacted -> closed (with an outcome); a closed
one can be reopened. Every change is an event row: who, when, from which state to which, the
outcome and a note. Each change is a conditional UPDATE, so two leads acting at once cannot both
move the same follow-up from the same state. Knows nothing of Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import JOIN, fn

from . import outbox, robots
from .db import database, utcnow
from .definitions import SurveyDefinition
from .i18n import language
from .models import Case, FollowUp, FollowUpEvent, Survey, Team, TeamLead, User
from .periods import Periods
from .reports import count_if
from .vocabulary import FOLLOW_UP_OUTCOMES, FOLLOW_UP_STATES
from .workdays import WorkingTime

NOTE_MAX = 2000
EVENT_CREATED = "follow_up.created"


@dataclass(frozen=True)
class Policy:
    """What opening a follow-up needs from the settings."""

    working_time: WorkingTime
    days: float
    base_url: str
    webhook_url: str = ""
    email_leads: bool = False
    locale: str = "zh_CN"  # the language of the teams' chat alerts
    webhook_events: frozenset[str] = frozenset({EVENT_CREATED})

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        return cls(
            WorkingTime.from_config(config),
            float(config.get("FOLLOW_UP_DAYS") or 2),
            (config.get("BASE_URL") or "").rstrip("/"),
            config.get("WEBHOOK_URL") or "",
            bool(config.get("FOLLOW_UP_EMAIL") and config.get("SMTP_HOST")),
            config.get("DEFAULT_LOCALE") or "zh_CN",
            frozenset(config.get("WEBHOOK_EVENTS", (EVENT_CREATED,))),
        )

    def sends(self, event: str) -> bool:
        """Whether the webhook receives this event."""
        return bool(self.webhook_url) and event in self.webhook_events


class TransitionError(ValueError):
    """The follow-up is not in a state that allows this change (someone else moved it)."""


def case_description(case: Case, team_name: str | None) -> dict:
    """A case as the webhooks describe it."""
    return {
        "case_id": case.case_ref,
        "channel": case.channel,
        "agent": case.agent,
        "team": team_name,
        "category": case.category,
    }


def payload(
    follow_up_id: int,
    case: Case,
    survey_slug: str,
    team_name: str | None,
    response_id: int,
    response_row: Mapping[str, Any],
    reasons: list[str],
    created_at: datetime,
    due_at: datetime,
    base_url: str,
) -> dict:
    """The JSON a webhook receives when a follow-up is opened (see the README)."""
    return {
        "event": EVENT_CREATED,
        "follow_up": {
            "id": follow_up_id,
            "state": "open",
            "reasons": reasons,
            "created_at": created_at.isoformat() + "Z",
            "due_at": due_at.isoformat() + "Z",
            "url": f"{base_url}/manage/follow-ups/{follow_up_id}",
        },
        "case": case_description(case, team_name),
        "response": {
            "id": response_id,
            "survey": survey_slug,
            "source": response_row.get("source"),
            "csat": response_row.get("csat"),
            "nps": response_row.get("nps"),
            "ces": response_row.get("ces"),
        },
    }


@dataclass(frozen=True)
class Context:
    """What opening a follow-up needs that can be read before the transaction opens."""

    survey_slug: str
    team_name: str | None
    lead_emails: tuple[str, ...] = ()
    robot_ids: tuple[int, ...] = ()  # the team's chat robots
    reasons_in_words: tuple[str, ...] = ()
    comment: str = ""


def names(case: Case, survey_id: int) -> tuple[str, str | None]:
    """The survey's slug and the case's team's name, as notifications give them."""
    slug = Survey.select(Survey.slug).where(Survey.id == survey_id).scalar()
    team_name = (
        Team.select(Team.name).where(Team.id == case.team_id).scalar() if case.team_id else None
    )
    return slug, team_name


def prepare(
    case: Case,
    survey_id: int,
    policy: Policy,
    definition: SurveyDefinition | None = None,
    answers: Mapping[str, Any] | None = None,
) -> Context:
    """Names and addresses for the notification, read before the write transaction; with the
    survey's ``definition`` and the ``answers``, what the team's chat robots are told."""
    slug, team_name = names(case, survey_id)
    emails: tuple[str, ...] = ()
    if policy.email_leads and case.team_id:
        emails = tuple(
            email
            for (email,) in (
                User.select(User.email)
                .join(TeamLead, on=(TeamLead.user == User.id))
                .where(
                    TeamLead.team == case.team_id,
                    User.active == True,  # noqa: E712
                    User.email.is_null(False),
                )
                .order_by(User.id)
                .tuples()
            )
            if email
        )
    robot_ids = robots.team_robot_ids(case.team_id)
    if not (robot_ids and definition is not None):
        return Context(slug, team_name, emails)
    lang = language(policy.locale)
    return Context(
        slug,
        team_name,
        emails,
        robot_ids,
        robots.reasons_in_words(definition, answers or {}, lang),
        robots.comment(definition, answers or {}),
    )


def open_follow_up(
    response_id: int,
    case: Case,
    survey_id: int,
    reasons: list[str],
    now: datetime,
    period: Periods,
    policy: Policy,
    context: Context,
    response_row: Mapping[str, Any],
    user_id: int | None = None,
) -> int:
    """Insert the follow-up, its first event and its notifications; return its id.

    Call inside the transaction that stores the response: all or nothing.
    """
    due_at = policy.working_time.add(now, policy.days)
    follow_up_id = FollowUp.insert(
        response=response_id,
        case=case.id,
        survey=survey_id,
        team=case.team_id,
        reasons="; ".join(reasons)[:500],
        state="open",
        created_at=now,
        due_at=due_at,
        day=period.day,
        week=period.week,
        month=period.month,
    ).execute()
    FollowUpEvent.insert(
        follow_up=follow_up_id,
        user=user_id,
        at=now,
        from_state=None,
        to_state="open",
        note="; ".join(reasons),
    ).execute()
    body = payload(
        follow_up_id,
        case,
        context.survey_slug,
        context.team_name,
        response_id,
        response_row,
        reasons,
        now,
        due_at,
        policy.base_url,
    )
    rows = []
    if policy.sends(EVENT_CREATED):
        rows.append(("webhook", policy.webhook_url))
    if context.lead_emails:
        rows.append(("email", ", ".join(context.lead_emails)))
    for kind, target in rows:
        outbox.enqueue(kind, EVENT_CREATED, target, body, now)
    if context.robot_ids:
        message = robots.follow_up_message(
            body,
            context.reasons_in_words or reasons,
            context.comment,
            language(policy.locale),
            tz=policy.working_time.tz,
        )
        robots.enqueue(context.robot_ids, robots.EVENT_FOLLOW_UP, message, now)
    return follow_up_id


# --- changes by people ------------------------------------------------------------------------


def _change(
    follow_up_id: int,
    user: User,
    allowed_from: tuple[str, ...],
    to_state: str,
    note: str,
    event_outcome: str | None,
    now: datetime | None,
    **columns,
) -> None:
    now = now or utcnow()
    with database.atomic():
        current = (
            FollowUp.select(FollowUp.state, FollowUp.first_contact_at)
            .where(FollowUp.id == follow_up_id)
            .first()
        )
        if current is None or current.state not in allowed_from:
            raise TransitionError(current.state if current else "missing")
        values = {"state": to_state, **columns}
        if to_state in ("contacted", "closed") and current.first_contact_at is None:
            values["first_contact_at"] = now
        changed = (
            FollowUp.update(**values)
            .where(FollowUp.id == follow_up_id, FollowUp.state == current.state)
            .execute()
        )
        if not changed:
            raise TransitionError("changed meanwhile")
        FollowUpEvent.insert(
            follow_up=follow_up_id,
            user=user.id,
            at=now,
            from_state=current.state,
            to_state=to_state,
            outcome=event_outcome,
            note=note,
        ).execute()


def record_contact(follow_up_id: int, user: User, note: str, now: datetime | None = None) -> None:
    """A contact with the customer (or an attempt): open or contacted -> contacted."""
    _change(follow_up_id, user, ("open", "contacted"), "contacted", note, None, now)


def close(
    follow_up_id: int, user: User, outcome: str, note: str, now: datetime | None = None
) -> None:
    """Close with an outcome; closing also counts as the first contact when none was recorded."""
    if outcome not in FOLLOW_UP_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    _change(
        follow_up_id,
        user,
        ("open", "contacted"),
        "closed",
        note,
        outcome,
        now,
        outcome=outcome,
        closed_at=now or utcnow(),
    )


def reopen(follow_up_id: int, user: User, note: str, now: datetime | None = None) -> None:
    """A closed follow-up back to open; its outcome is cleared (the events keep it)."""
    _change(follow_up_id, user, ("closed",), "open", note, None, now, outcome=None, closed_at=None)


# --- reading ----------------------------------------------------------------------------------

QUEUE_STATES = ("active", *FOLLOW_UP_STATES, "all")  # the queue's tabs; active: not closed


def _queue_conditions(
    allowed_team_ids: tuple[int, ...] | None,
    team_id: int | None,
    state: str,
    survey_id: int | None,
    follow_up_id: int | None,
) -> list:
    conditions = [] if follow_up_id is None else [FollowUp.id == follow_up_id]
    if allowed_team_ids is not None:
        conditions.append(FollowUp.team.in_(list(allowed_team_ids) or [-1]))
    if team_id is not None:
        conditions.append(FollowUp.team == team_id)
    if state == "active":
        conditions.append(FollowUp.state != "closed")
    elif state != "all":
        conditions.append(FollowUp.state == state)
    if survey_id is not None:
        conditions.append(FollowUp.survey == survey_id)
    return conditions or [True]


def queue(
    allowed_team_ids: tuple[int, ...] | None,
    team_id: int | None = None,
    state: str = "active",
    survey_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
    follow_up_id: int | None = None,
) -> list[FollowUp]:
    """Follow-ups by due time (earliest first), with their case, team and survey (one query)."""
    query = (
        FollowUp.select(FollowUp, Case, Team, Survey)
        .join(Case, on=(FollowUp.case == Case.id))
        .switch(FollowUp)
        .join(Team, JOIN.LEFT_OUTER, on=(FollowUp.team == Team.id))
        .switch(FollowUp)
        .join(Survey, on=(FollowUp.survey == Survey.id))
        .where(*_queue_conditions(allowed_team_ids, team_id, state, survey_id, follow_up_id))
    )
    return list(query.order_by(FollowUp.due_at, FollowUp.id).limit(limit).offset(offset))


def queue_counts(
    allowed_team_ids: tuple[int, ...] | None,
    team_id: int | None = None,
    state: str = "active",
    survey_id: int | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """How many follow-ups the queue's filters match, and how many of them are overdue."""
    overdue = (FollowUp.state != "closed") & (FollowUp.due_at < (now or utcnow()))
    total, late = (
        FollowUp.select(fn.COUNT(FollowUp.id), count_if(overdue))
        .where(*_queue_conditions(allowed_team_ids, team_id, state, survey_id, None))
        .scalar(as_tuple=True)
    )
    return {"total": total, "overdue": late}


def is_overdue(follow_up: FollowUp, now: datetime | None = None) -> bool:
    return follow_up.state != "closed" and follow_up.due_at < (now or utcnow())


def events(follow_up_id: int) -> list[FollowUpEvent]:
    """The follow-up's history, oldest first, with who made each change (one query)."""
    return list(
        FollowUpEvent.select(FollowUpEvent, User)
        .join(User, JOIN.LEFT_OUTER, on=(FollowUpEvent.user == User.id))
        .where(FollowUpEvent.follow_up == follow_up_id)
        .order_by(FollowUpEvent.at, FollowUpEvent.id)
    )
