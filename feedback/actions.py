"""Improvement actions: plan a change for one metric of one slice, follow it through its
milestones and states, and check its effect with the answers before and after.

Plain functions over the models, no Flask: the views, the meeting pack and the tests use them.

States go planned -> in_progress -> done -> evaluated; a done action can go back to in_progress
(reopened). Every change of state is recorded with who, when and a note. The before/after check
compares the action's metric in its slice over ``weeks`` weeks before its start date with the
same number of weeks after the day it was done (see ``windows``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import peewee as pw
from peewee import fn

from . import dashboard, reports, stats
from .db import database, utcnow
from .models import (
    ActionEvent,
    ActionFollowUp,
    ActionMilestone,
    ActionSuggestion,
    Case,
    FollowUp,
    ImprovementAction,
    Suggestion,
    Team,
    User,
)
from .vocabulary import ACTION_OPEN_STATES, ALL_TEAM_ROLES

TRANSITIONS = {
    "planned": ("in_progress",),
    "in_progress": ("done",),
    "done": ("evaluated", "in_progress"),
    "evaluated": (),
}
EDIT_FIELDS = (
    "title",
    "description",
    "metric",
    "survey",
    "channel",
    "team",
    "agent",
    "category",
    "owner",
    "start_date",
    "due_date",
)


class ActionError(ValueError):
    """A change that the action's state or dates do not allow; ``field`` names the input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- who may see and change an action ---------------------------------------------------------


def visible_to(user: User) -> pw.Expression | None:
    """The condition on ImprovementAction for the actions ``user`` may see and change (None:
    no limit): managers and admins every one; a team lead those of the teams they lead and
    those they own; anyone else none."""
    if user.role in ALL_TEAM_ROLES:
        return None
    if user.role == "lead":
        teams = user.led_team_ids()
        owned = ImprovementAction.owner == user.id
        return (ImprovementAction.team.in_(teams) | owned) if teams else owned
    return ImprovementAction.id.in_([])


def may_change(user: User, action: ImprovementAction) -> bool:
    if user.role in ALL_TEAM_ROLES:
        return True
    if user.role == "lead":
        return action.owner_id == user.id or action.team_id in user.led_team_ids()
    return False


# --- writing ---------------------------------------------------------------------------------


def create_action(fields: dict, by: User, now=None) -> ImprovementAction:
    """A new planned action from ``fields`` (EDIT_FIELDS), with its first history entry."""
    now = now or utcnow()
    _check_dates(fields["start_date"], fields["due_date"])
    with database.atomic():
        action = ImprovementAction.create(
            **{k: fields.get(k) for k in EDIT_FIELDS},
            state="planned",
            created_by=by,
            created_at=now,
            updated_by=by,
            updated_at=now,
        )
        ActionEvent.create(
            action=action, user=by, at=now, from_state=None, to_state="planned", note=""
        )
    return action


def update_action(action: ImprovementAction, fields: dict, by: User, now=None) -> None:
    """Change the plan: title, problem, owner and dates."""
    _check_dates(fields["start_date"], fields["due_date"])
    if action.done_on is not None and fields["start_date"] > action.done_on:
        raise ActionError("start after done", "start_date")
    for name in EDIT_FIELDS:
        setattr(action, name, fields.get(name))
    action.updated_by, action.updated_at = by, now or utcnow()
    # the plan only: a change of state made meanwhile is kept
    action.save(
        only=[
            getattr(ImprovementAction, name) for name in (*EDIT_FIELDS, "updated_by", "updated_at")
        ]
    )


def _check_dates(start: date, due: date) -> None:
    if due < start:
        raise ActionError("due before start", "due_date")


def change_state(
    action: ImprovementAction,
    to_state: str,
    note: str,
    by: User,
    today: date,
    done_on: date | None = None,
    evaluation: dict | None = None,
    now=None,
) -> None:
    """Move an action along, recording who, when and why.

    Moving to done needs ``done_on`` (not before the start, not after today); moving to
    evaluated needs the finished before/after ``evaluation``, whose verdict and figures are
    stored with the action. Reopening (done -> in_progress) forgets the done day.
    """
    if to_state not in TRANSITIONS.get(action.state, ()):
        raise ActionError("transition", "to_state")
    now = now or utcnow()
    changes: dict = {"state": to_state, "updated_by": by, "updated_at": now}
    if to_state == "done":
        if done_on is None:
            raise ActionError("done_on missing", "done_on")
        if done_on < action.start_date:
            raise ActionError("done before start", "done_on")
        if done_on > today:
            raise ActionError("done in the future", "done_on")
        changes.update(done_on=done_on, done_at=now)
    elif to_state == "in_progress" and action.state == "done":
        changes.update(done_on=None, done_at=None)
    elif to_state == "evaluated":
        if evaluation is None or evaluation["provisional"] or not evaluation["started"]:
            raise ActionError("window not over", "to_state")
        changes.update(
            verdict=evaluation["verdict"],
            evaluated_at=now,
            evaluation=json.dumps(evaluation, ensure_ascii=False),
        )
    from_state = action.state
    with database.atomic():
        # only from the state this change was asked from: of two people moving the same
        # action at once, one wins and the other is told it cannot move from where it is
        moved = (
            ImprovementAction.update(**changes)
            .where(ImprovementAction.id == action.id, ImprovementAction.state == from_state)
            .execute()
        )
        if not moved:
            raise ActionError("transition", "to_state")
        ActionEvent.create(
            action=action,
            user=by,
            at=now,
            from_state=from_state,
            to_state=to_state,
            note=note or "",
        )
    for name, value in changes.items():
        setattr(action, name, value)


def add_milestone(
    action: ImprovementAction, title: str, due_date: date, now=None
) -> ActionMilestone:
    return ActionMilestone.create(
        action=action, title=title, due_date=due_date, state="open", created_at=now or utcnow()
    )


def mark_milestone_done(milestone: ActionMilestone, by: User, now=None) -> None:
    """Mark a milestone done (once: a second request changes nothing)."""
    (
        ActionMilestone.update(state="done", done_at=now or utcnow(), done_by=by)
        .where(ActionMilestone.id == milestone.id, ActionMilestone.state == "open")
        .execute()
    )


# --- reading ---------------------------------------------------------------------------------


def is_overdue(action: ImprovementAction, today: date) -> bool:
    """Its due date has passed and it is not done yet."""
    return action.state in ACTION_OPEN_STATES and action.due_date < today


def milestone_overdue(milestone: ActionMilestone, today: date) -> bool:
    return milestone.state == "open" and milestone.due_date < today


@dataclass(frozen=True)
class ListedAction:
    action: ImprovementAction
    overdue: bool
    milestones_overdue: int


def list_actions(
    user: User,
    today: date,
    state: str | None = None,
    owner_id: int | None = None,
    team_id: int | None = None,
    overdue: bool = False,
) -> list[ListedAction]:
    """The actions ``user`` may see, filtered, soonest due first (two queries)."""
    visible = visible_to(user)
    conditions = [visible] if visible is not None else []
    if state:
        conditions.append(ImprovementAction.state == state)
    if owner_id:
        conditions.append(ImprovementAction.owner == owner_id)
    if team_id:
        conditions.append(ImprovementAction.team == team_id)
    if overdue:
        conditions.append(
            ImprovementAction.state.in_(ACTION_OPEN_STATES) & (ImprovementAction.due_date < today)
        )
    Owner = User.alias()
    query = (
        ImprovementAction.select(ImprovementAction, Owner, Team)
        .join(Owner, on=(ImprovementAction.owner == Owner.id))
        .switch(ImprovementAction)
        .join(Team, pw.JOIN.LEFT_OUTER)
        .order_by(ImprovementAction.due_date, ImprovementAction.id)
    )
    actions = list(query.where(*conditions) if conditions else query)
    late = (
        dict(
            ActionMilestone.select(ActionMilestone.action, fn.COUNT(ActionMilestone.id))
            .where(
                ActionMilestone.action.in_([a.id for a in actions] or [-1]),
                ActionMilestone.state == "open",
                ActionMilestone.due_date < today,
            )
            .group_by(ActionMilestone.action)
            .tuples()
        )
        if actions
        else {}
    )
    return [ListedAction(a, is_overdue(a, today), late.get(a.id, 0)) for a in actions]


def milestones(action: ImprovementAction) -> list[ActionMilestone]:
    return list(action.milestones.order_by(ActionMilestone.due_date, ActionMilestone.id))


def history(action: ImprovementAction) -> list[ActionEvent]:
    return list(
        ActionEvent.select(ActionEvent, User)
        .join(User)
        .where(ActionEvent.action == action)
        .order_by(ActionEvent.at, ActionEvent.id)
    )


def stored_evaluation(action: ImprovementAction) -> dict | None:
    return json.loads(action.evaluation) if action.evaluation else None


# --- the before/after check ------------------------------------------------------------------


def windows(start: date, done_on: date, weeks: int) -> tuple[tuple[date, date], tuple[date, date]]:
    """The before window (the ``weeks`` weeks ending the day before the start) and the after
    window (the same number of days beginning the day after the action was done); inclusive."""
    days = 7 * weeks
    return (
        (start - timedelta(days=days), start - timedelta(days=1)),
        (done_on + timedelta(days=1), done_on + timedelta(days=days)),
    )


def action_slice(action: ImprovementAction, start: date, end: date) -> reports.Slice:
    return reports.Slice(
        survey_id=action.survey_id,
        start=start,
        end=end,
        channel=action.channel,
        team_id=action.team_id,
        agent=action.agent,
        category=action.category,
    )


def window_figure(metric: str, counts: dict) -> dict | None:
    """The metric of one window as {value, low, high, n} (percent for shares), or None."""
    if metric == "response_rate":
        if not counts["invited"]:
            return None
        low, high = stats.wilson_interval(counts["answered"], counts["invited"])
        return {
            "value": 100 * counts["answered"] / counts["invited"],
            "low": 100 * low,
            "high": 100 * high,
            "n": counts["invited"],
        }
    figure = reports.figures(counts)[metric]
    return {k: figure[k] for k in ("value", "low", "high", "n")} if figure else None


def sample_size(metric: str, counts: dict) -> int:
    return counts[
        {"csat": "csat_n", "nps": "nps_n", "ces": "ces_n", "response_rate": "invited"}[metric]
    ]


def compare(
    metric: str, before: dict, after: dict, min_sample: int
) -> tuple[stats.Difference | None, str]:
    """after - before for the metric from two rows of counts, and the verdict (pure)."""
    difference = dashboard._change(metric, after, before)  # the dashboard's own comparisons
    return difference, stats.improvement_verdict(
        difference, sample_size(metric, before), sample_size(metric, after), min_sample
    )


def before_after(
    action: ImprovementAction, weeks: int, min_sample: int, today: date
) -> dict | None:
    """The before/after check of a done (or evaluated) action as plain data; None before done.

    Until the after window is over the reading covers the days so far and is ``provisional``;
    on the day after done nothing of it has passed and ``started`` is false (no reading).
    Four queries.
    """
    if action.done_on is None:
        return None
    metric = action.metric
    (b_start, b_end), (a_start, a_end) = windows(action.start_date, action.done_on, weeks)
    days = 7 * weeks
    elapsed = max(0, min(days, (today - a_start).days))  # whole days of it that have passed
    started = elapsed > 0
    before = reports.slice_counts(action_slice(action, b_start, b_end))
    result = {
        "metric": metric,
        "weeks": weeks,
        "window_days": days,
        "min_sample": min_sample,
        "before": {
            "start": b_start.isoformat(),
            "end": b_end.isoformat(),
            "figure": window_figure(metric, before),
            "n": sample_size(metric, before),
        },
        "after": {
            "start": a_start.isoformat(),
            "end": a_end.isoformat(),
            "measured_to": None,
            "figure": None,
            "n": 0,
        },
        "elapsed_days": elapsed,
        "started": started,
        "provisional": elapsed < days,
        "difference": None,
        "verdict": None,
    }
    if not started:
        return result
    measured_to = a_start + timedelta(days=elapsed - 1)
    after = reports.slice_counts(action_slice(action, a_start, measured_to))
    difference, verdict = compare(metric, before, after, min_sample)
    result["after"].update(
        measured_to=measured_to.isoformat(),
        figure=window_figure(metric, after),
        n=sample_size(metric, after),
    )
    result["difference"] = (
        {"value": difference.value, "low": difference.low, "high": difference.high}
        if difference
        else None
    )
    result["verdict"] = verdict
    return result


# --- for the meeting pack --------------------------------------------------------------------

PACK_KINDS = ("overdue", "due", "done", "evaluated")


@dataclass(frozen=True)
class PackAction:
    """One action in a meeting pack's period, and why it is there (one of PACK_KINDS)."""

    kind: str
    action: ImprovementAction
    owner: str
    team: str | None


def in_period(s: reports.Slice, tz: str) -> list[PackAction]:
    """The actions of the slice's survey (and team, or a lead's teams) that a meeting on the
    period should hear about, by their state now (one query):

    - ``evaluated``: evaluated on a day of the period, with its verdict;
    - ``done``: done on a day of the period, not evaluated yet;
    - ``due``: not done, due on a day of the period;
    - ``overdue``: not done, due before the period began.

    Ordered by kind as listed in PACK_KINDS, then by due date.
    """
    zone = ZoneInfo(tz)
    # the period's first and last moments, in UTC as timestamps are stored
    first, after_last = (
        datetime.combine(day, time(), zone).astimezone(UTC).replace(tzinfo=None)
        for day in (s.start, s.end + timedelta(days=1))
    )
    evaluated = (ImprovementAction.evaluated_at >= first) & (
        ImprovementAction.evaluated_at < after_last
    )
    conditions = [
        ImprovementAction.survey == s.survey_id,
        (ImprovementAction.due_date <= s.end)
        | ImprovementAction.done_on.between(s.start, s.end)
        | evaluated,
    ]
    if s.team_id is not None:
        conditions.append(ImprovementAction.team == s.team_id)
    elif s.allowed_team_ids is not None:
        conditions.append(ImprovementAction.team.in_(list(s.allowed_team_ids) or [-1]))
    Owner = User.alias()
    query = (
        ImprovementAction.select(
            ImprovementAction, Owner.display_name.alias("owner_name"), Team.name.alias("team_name")
        )
        .join(Owner, on=(ImprovementAction.owner == Owner.id))
        .switch(ImprovementAction)
        .join(Team, pw.JOIN.LEFT_OUTER)
        .where(*conditions)
        .order_by(ImprovementAction.due_date, ImprovementAction.id)
        .objects()
    )
    found = []
    for action in query:
        if action.state == "evaluated":
            kind = "evaluated" if first <= action.evaluated_at < after_last else None
        elif action.state == "done":
            kind = "done" if s.start <= action.done_on <= s.end else None
        elif action.due_date < s.start:
            kind = "overdue"
        else:
            kind = "due" if action.due_date <= s.end else None
        if kind:
            found.append(PackAction(kind, action, action.owner_name, action.team_name))
    found.sort(key=lambda item: PACK_KINDS.index(item.kind))  # stable: due dates stay in order
    return found


# --- what led to an action: suggestions and follow-ups ----------------------------------------

LINK_KINDS = ("suggestion", "follow_up")


def link(
    action: ImprovementAction,
    kind: str,
    target_id: int,
    allowed_team_ids: tuple[int, ...] | None = None,
) -> bool:
    """Link a suggestion or a follow-up to the action; False when there is no such one (or,
    for a team lead, none of their teams'). Linking twice changes nothing."""
    model, column = (
        (Suggestion, ActionSuggestion.suggestion)
        if kind == "suggestion"
        else (FollowUp, ActionFollowUp.follow_up)
    )
    target = model.get_or_none(model.id == target_id) if 0 < target_id <= 2**31 - 1 else None
    if target is None or (allowed_team_ids is not None and target.team_id not in allowed_team_ids):
        return False
    table = ActionSuggestion if kind == "suggestion" else ActionFollowUp
    (table.insert(action=action.id, **{column.name: target_id}).on_conflict_ignore().execute())
    return True


def unlink(action: ImprovementAction, kind: str, target_id: int) -> None:
    if kind == "suggestion":
        ActionSuggestion.delete().where(
            ActionSuggestion.action == action.id, ActionSuggestion.suggestion == target_id
        ).execute()
    else:
        ActionFollowUp.delete().where(
            ActionFollowUp.action == action.id, ActionFollowUp.follow_up == target_id
        ).execute()


def linked_suggestions(action: ImprovementAction) -> list[Suggestion]:
    return list(
        Suggestion.select()
        .join(ActionSuggestion, on=(ActionSuggestion.suggestion == Suggestion.id))
        .where(ActionSuggestion.action == action.id)
        .order_by(Suggestion.id)
    )


def linked_follow_ups(action: ImprovementAction) -> list[FollowUp]:
    return list(
        FollowUp.select(FollowUp, Case)
        .join(Case, on=(FollowUp.case == Case.id))
        .switch(FollowUp)
        .join(ActionFollowUp, on=(ActionFollowUp.follow_up == FollowUp.id))
        .where(ActionFollowUp.action == action.id)
        .order_by(FollowUp.id)
    )


def actions_for_suggestion(suggestion_id: int) -> list[ImprovementAction]:
    return list(
        ImprovementAction.select()
        .join(ActionSuggestion, on=(ActionSuggestion.action == ImprovementAction.id))
        .where(ActionSuggestion.suggestion == suggestion_id)
        .order_by(ImprovementAction.id)
    )
