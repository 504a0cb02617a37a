"""Storing a customer's answers: one response per invitation, in one short transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import follow_ups, outbox
from .cache import Cache
from .db import Prepared, database, is_postgres, utcnow
from .definitions import SurveyDefinition
from .models import Answer, Case, Invitation, Response, SurveyVersion
from .periods import periods

METRIC_TYPES = ("csat", "nps", "ces")
EVENT_CREATED = "response.created"


class NotOpen(Exception):
    """The invitation was answered, cancelled or expired before this submission got in."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


def answer_rows(definition: SurveyDefinition, answers: dict[str, Any]) -> list[dict]:
    """The answer rows for a set of checked answers (multi: one row per chosen value)."""
    rows = []

    def row(question_id, value_int=None, value_text=None, expectation=None):
        # every row has every key: insert_many takes its columns from the first row
        rows.append(
            {
                "question_id": question_id,
                "value_int": value_int,
                "value_text": value_text,
                "expectation": expectation,
            }
        )

    for question in definition.questions:
        value = answers.get(question.id)
        if value is None:
            continue
        if question.type == "multi":
            for chosen in value:
                row(question.id, value_text=chosen)
        elif question.type == "servqual":
            row(question.id, value_int=value["perception"], expectation=value["expectation"])
        elif isinstance(value, int):
            row(question.id, value_int=value)
        else:
            row(question.id, value_text=value)
    return rows


def metric_columns(definition: SurveyDefinition, answers: dict[str, Any]) -> dict[str, int | None]:
    """The first csat, nps and ces answers, kept on the response for fast reports."""
    columns: dict[str, int | None] = {m: None for m in METRIC_TYPES}
    for question in definition.questions:
        if question.type in METRIC_TYPES and columns[question.type] is None:
            columns[question.type] = answers.get(question.id)
    return columns


def submit(
    invitation: Invitation | None,
    case: Case,
    version: SurveyVersion,
    definition: SurveyDefinition,
    answers: dict[str, Any],
    locale: str,
    tz: str,
    source: str = "link",
    entered_by=None,
    now: datetime | None = None,
    follow_up_policy: follow_ups.Policy | None = None,
) -> int:
    """Store a response and all its answers at once; return its id or raise NotOpen.

    Rows are built before the transaction opens; inside it, the invitation is claimed with a
    conditional UPDATE, so a second submit, a replay or a simultaneous request stores nothing.
    A call-back on another survey than the case's own has no invitation and claims none. With a
    ``follow_up_policy``, answers that meet the survey's follow-up rules open a follow-up (and
    its notifications) in the same transaction.
    """
    now = now or utcnow()
    reasons = definition.follow_up_reasons(answers) if follow_up_policy else []
    context = (
        follow_ups.prepare(case, version.survey_id, follow_up_policy, definition, answers)
        if reasons
        else None
    )
    announce = follow_up_policy is not None and follow_up_policy.sends(EVENT_CREATED)
    if announce:
        names = (
            (context.survey_slug, context.team_name)
            if context
            else follow_ups.names(case, version.survey_id)
        )
    period = periods(now, tz)
    response_row = dict(
        invitation=invitation.id if invitation else None,
        case=case.id,
        survey=version.survey_id,
        survey_version=version.id,
        source=source,
        entered_by=entered_by.id if entered_by else None,
        locale=locale,
        submitted_at=now,
        day=period.day,
        week=period.week,
        month=period.month,
        channel=case.channel,
        team=case.team_id,
        agent=case.agent,
        category=case.category,
        **metric_columns(definition, answers),
    )
    rows = answer_rows(definition, answers)
    with database.atomic():
        if invitation is not None:
            # a call-back may record the answers after the link itself expired
            claimed = (
                _CLAIM_FOR_CALLBACK.execute(now, invitation.id)
                if source == "callback"
                else _CLAIM.execute(now, invitation.id, now)
            )
            if not claimed.rowcount:
                fresh = Invitation.get_by_id(invitation.id)
                raise NotOpen(
                    "answered"
                    if fresh.status == "answered" and source == "callback"
                    else fresh.current_status(now)
                )
        response_id = _insert_response(response_row)
        if rows:
            _insert_answers(response_id, rows)
        follow_up_id = None
        if reasons:
            follow_up_id = follow_ups.open_follow_up(
                response_id,
                case,
                version.survey_id,
                reasons,
                now,
                period,
                follow_up_policy,
                context,
                response_row,
                user_id=response_row["entered_by"],
            )
        if announce:
            body = payload(
                response_id,
                case,
                *names,
                response_row,
                definition.visible_answers(answers),
                follow_up_id,
                follow_up_policy.base_url,
            )
            outbox.enqueue("webhook", EVENT_CREATED, follow_up_policy.webhook_url, body, now)
    return response_id


def payload(
    response_id: int,
    case: Case,
    survey_slug: str,
    team_name: str | None,
    response_row: dict,
    answers: dict[str, Any],
    follow_up_id: int | None,
    base_url: str,
) -> dict:
    """The JSON a webhook receives for each new response (see the README)."""
    return {
        "event": EVENT_CREATED,
        "response": {
            "id": response_id,
            "survey": survey_slug,
            "source": response_row["source"],
            "locale": response_row["locale"],
            "submitted_at": response_row["submitted_at"].isoformat() + "Z",
            "csat": response_row["csat"],
            "nps": response_row["nps"],
            "ces": response_row["ces"],
            "answers": answers,
        },
        "case": follow_ups.case_description(case, team_name),
        "follow_up": (
            {"id": follow_up_id, "url": f"{base_url}/manage/follow-ups/{follow_up_id}"}
            if follow_up_id
            else None
        ),
    }


# The three statements of a submission, built once (see db.Prepared for why).
_CLAIM = Prepared(
    lambda now, invitation_id, now_again: Invitation.update(
        status="answered", answered_at=now
    ).where(
        Invitation.id == invitation_id,
        Invitation.status == "pending",
        Invitation.expires_at > now_again,
    ),
    arity=3,
)
_CLAIM_FOR_CALLBACK = Prepared(
    lambda now, invitation_id: Invitation.update(status="answered", answered_at=now).where(
        Invitation.id == invitation_id, Invitation.status == "pending"
    ),
    arity=2,
)
_RESPONSE_COLUMNS = (
    "invitation",
    "case",
    "survey",
    "survey_version",
    "source",
    "entered_by",
    "locale",
    "submitted_at",
    "day",
    "week",
    "month",
    "channel",
    "team",
    "agent",
    "category",
    "csat",
    "nps",
    "ces",
)
_ANSWER_COLUMNS = ("response", "question_id", "value_int", "value_text", "expectation")


_INSERTS: Cache[tuple, str] = Cache(8)  # by model, columns, RETURNING and parameter mark


def _insert_sql(model, columns: tuple[str, ...], returning: bool) -> str:
    def make() -> str:
        names = ", ".join(model._meta.fields[c].column_name for c in columns)
        marks = ", ".join([database.param] * len(columns))
        sql = f"INSERT INTO {model._meta.table_name} ({names}) VALUES ({marks})"
        return sql + " RETURNING id" if returning else sql

    return _INSERTS.get_or_make((model, columns, returning, database.param), make)


def _insert_response(row: dict) -> int:
    postgres = is_postgres()
    cursor = database.execute_sql(
        _insert_sql(Response, _RESPONSE_COLUMNS, postgres), [row[c] for c in _RESPONSE_COLUMNS]
    )
    return cursor.fetchone()[0] if postgres else cursor.lastrowid


def _insert_answers(response_id: int, rows: list[dict]) -> None:
    values = [
        (response_id, r["question_id"], r["value_int"], r["value_text"], r["expectation"])
        for r in rows
    ]
    database.cursor().executemany(_insert_sql(Answer, _ANSWER_COLUMNS, False), values)


def stored_answers(definition: SurveyDefinition, response_id: int) -> dict[str, Any]:
    """A response's answers by question id, in the shapes ``Question.coerce`` gives."""
    rows = Answer.select().where(Answer.response == response_id).order_by(Answer.id)
    return answers_from_rows(definition, rows)


def stored_answers_of(
    definitions: dict[int, SurveyDefinition],
) -> dict[int, dict[str, Any]]:
    """The answers of several responses at once (``definitions``: each response id's survey
    definition), by response id: one query, as ``stored_answers`` gives them one by one."""
    rows: dict[int, list[Answer]] = {}
    for row in (
        Answer.select().where(Answer.response.in_(list(definitions) or [-1])).order_by(Answer.id)
    ):
        rows.setdefault(row.response_id, []).append(row)
    return {rid: answers_from_rows(d, rows.get(rid, [])) for rid, d in definitions.items()}


def answers_from_rows(definition: SurveyDefinition, rows) -> dict[str, Any]:
    """Answer rows (in id order) by question id, in the shapes ``Question.coerce`` gives."""
    answers: dict[str, Any] = {}
    for row in rows:
        question = definition.question(row.question_id)
        kind = question.type if question else None
        if kind == "multi":
            answers.setdefault(row.question_id, []).append(row.value_text)
        elif kind == "servqual":
            answers[row.question_id] = {"expectation": row.expectation, "perception": row.value_int}
        else:
            answers[row.question_id] = (
                row.value_int if row.value_int is not None else row.value_text
            )
    return answers
