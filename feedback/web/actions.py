"""Improvement-action pages under /manage/actions: the list, the plan, milestones and states.

Managers and admins see and change every action. A team lead sees and changes the actions of
the teams they lead and those they own, and plans new ones for their teams; another team's
action is a 404, as for one that does not exist (docs/access.md). Staff get 403.
Every change is a POST with the CSRF token; a bad form comes back with its errors beside the
fields and what was typed kept.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access, actions, chart_data, charts, suggestions
from ..i18n import current_locale, language
from ..models import ActionMilestone, ImprovementAction, Survey, Team
from ..vocabulary import ACTION_STATES, REPORT_ROLES, SUGGESTION_CLOSED_STATES
from .action_forms import (
    STATE_LABELS,
    ActionForm,
    LinkForm,
    MilestoneForm,
    StateForm,
    owner_choices,
    team_choices,
)
from .common import allowed_team_ids, change_and_tell, reasons_in_words, roles_required
from .filters import today as local_today

bp = Blueprint("actions", __name__, url_prefix="/manage/actions")
MAX_ID = access.MAX_ID

ERRORS = {  # actions.ActionError codes, as people read them
    "due before start": _l("The due date cannot be before the start date."),
    "start after done": _l("The start date cannot be after the day the action was done."),
    "transition": _l("This action cannot move to that state from where it is."),
    "done_on missing": _l("Please enter the day the action was done."),
    "done before start": _l("The action cannot be done before its start date."),
    "done in the future": _l("The day the action was done cannot be in the future."),
    "window not over": _l(
        "The after window is not over yet: evaluate the action once it has ended."
    ),
}


@bp.context_processor
def _labels():
    return {"state_labels": STATE_LABELS}


def _today() -> date:
    return local_today(current_app.config["TIMEZONE"])


def _action_or_404(action_id: int) -> ImprovementAction:
    if action_id > MAX_ID:  # beyond an INTEGER column: no such row, and no database error
        abort(404)
    action = ImprovementAction.get_or_none(ImprovementAction.id == action_id)
    if action is None:
        abort(404)
    if not actions.may_change(current_user, action):
        abort(404)  # another team's action is answered as one that does not exist
    return action


def _int_arg(name: str, errors: dict) -> int | None:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 0 < value <= MAX_ID:
        errors[name] = [_("Please choose one from the list.")]
        return None
    return value


@bp.route("/")
@roles_required(*REPORT_ROLES)
def index():
    """The actions this person may see, soonest due first, with filters."""
    errors: dict[str, list[str]] = {}
    state = request.args.get("state") or None
    if state is not None and state not in ACTION_STATES:
        errors["state"] = [_("Please choose one from the list.")]
        state = None
    owner_id, team_id = _int_arg("owner", errors), _int_arg("team", errors)
    overdue = request.args.get("overdue") == "1"
    today = _today()
    listed = actions.list_actions(
        current_user, today, state=state, owner_id=owner_id, team_id=team_id, overdue=overdue
    )
    teams = [(value, label) for value, label in team_choices(allowed_team_ids()) if value]
    return render_template(
        "manage/actions.html",
        listed=listed,
        errors=errors,
        args=request.args,
        today=today,
        states=ACTION_STATES,
        owners=owner_choices(),
        teams=teams,
    ), 400 if errors else 200


def _prefill() -> dict:
    """The plan's fields as the dashboard's filters give them (?survey=&team=&channel=...)."""
    args, data = request.args, {}
    survey = Survey.get_or_none(
        Survey.slug == (args.get("survey") or current_app.config["DEFAULT_SURVEY"])
    )
    if survey is not None:
        data["survey"] = str(survey.id)
    team = Team.get_or_none(Team.name == args.get("team")) if args.get("team") else None
    if team is not None:
        data["team"] = str(team.id)
    for name in ("channel", "agent", "category", "metric"):
        if args.get(name):
            data[name] = args[name]
    today = _today()
    data.update(owner=str(current_user.id), start_date=today, due_date=today + timedelta(days=28))
    return data


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*REPORT_ROLES)
def new():
    """Plan an action; from the dashboard, its slice comes filled in."""
    form = ActionForm(
        data=None if request.method == "POST" else _prefill(), allowed_teams=allowed_team_ids()
    )
    if form.validate_on_submit():
        try:
            action = actions.create_action(form.fields(), current_user)
        except actions.ActionError as exc:
            getattr(form, exc.field).errors.append(str(ERRORS[str(exc)]))
        else:
            flash(_("The action is planned."))
            return redirect(url_for("actions.detail", action_id=action.id))
    status = 422 if request.method == "POST" else 200
    return render_template("manage/action_form.html", form=form, action=None), status


@bp.route("/<int:action_id>/edit", methods=["GET", "POST"])
@roles_required(*REPORT_ROLES)
def edit(action_id: int):
    action = _action_or_404(action_id)
    data = None
    if request.method == "GET":
        data = {
            "title": action.title,
            "description": action.description,
            "metric": action.metric,
            "survey": str(action.survey_id),
            "channel": action.channel or "",
            "team": str(action.team_id) if action.team_id else "",
            "agent": action.agent or "",
            "category": action.category or "",
            "owner": str(action.owner_id),
            "start_date": action.start_date,
            "due_date": action.due_date,
        }
    form = ActionForm(
        data=data,
        allowed_teams=allowed_team_ids(),
        keep_team=action.team_id,
        keep_all_teams=action.team_id is None,
    )
    if form.validate_on_submit():
        try:
            actions.update_action(action, form.fields(), current_user)
        except actions.ActionError as exc:
            getattr(form, exc.field).errors.append(str(ERRORS[str(exc)]))
        else:
            flash(_("The action is saved."))
            return redirect(url_for("actions.detail", action_id=action.id))
    status = 422 if request.method == "POST" else 200
    return render_template("manage/action_form.html", form=form, action=action), status


def _check(action: ImprovementAction, today: date) -> dict | None:
    """The before/after check: as stored once evaluated, else as the answers say today."""
    if action.state == "evaluated":
        return actions.stored_evaluation(action)
    config = current_app.config
    return actions.before_after(action, config["ACTION_WINDOW_WEEKS"], config["MIN_SAMPLE"], today)


def _detail(
    action: ImprovementAction, milestone_form=None, state_form=None, status=200, link_form=None
):
    today = _today()
    check = _check(action, today)
    next_states = actions.TRANSITIONS[action.state]
    linked_follow_ups = actions.linked_follow_ups(action)
    return render_template(
        "manage/action.html",
        action=action,
        today=today,
        check=check,
        chart=check is not None and check["started"] and check["metric"] in charts.METRICS,
        overdue=actions.is_overdue(action, today),
        milestones=actions.milestones(action),
        milestone_overdue=actions.milestone_overdue,
        history=actions.history(action),
        milestone_form=milestone_form or MilestoneForm(formdata=None),
        state_form=state_form
        or StateForm(formdata=None, next_states=next_states, data={"done_on": today}),
        next_states=next_states,
        link_form=link_form or LinkForm(formdata=None),
        linked_suggestions=actions.linked_suggestions(action),
        linked_follow_ups=linked_follow_ups,
        follow_up_reasons=reasons_in_words(linked_follow_ups),
    ), status


@bp.route("/<int:action_id>")
@roles_required(*REPORT_ROLES)
def detail(action_id: int):
    """The plan, its milestones, its history and, once done, the before/after check."""
    return _detail(_action_or_404(action_id))


@bp.route("/<int:action_id>/before-after.png")
@roles_required(*REPORT_ROLES)
def chart(action_id: int):
    """The before/after check as a chart (PNG, 800x450); 404 while there is none."""
    action = _action_or_404(action_id)
    figure = chart_data.before_after(
        _check(action, _today()), action.title, language(current_locale())
    )
    if figure is None:
        abort(404)
    return Response(charts.render(figure, "png", "small"), mimetype="image/png")


@bp.route("/<int:action_id>/milestones", methods=["POST"])
@roles_required(*REPORT_ROLES)
def add_milestone(action_id: int):
    action = _action_or_404(action_id)
    form = MilestoneForm()
    if not form.validate():
        return _detail(action, milestone_form=form, status=422)
    actions.add_milestone(action, form.title.data, form.due_date.data)
    flash(_("The milestone is added."))
    return redirect(url_for("actions.detail", action_id=action.id) + "#milestones")


@bp.route("/<int:action_id>/milestones/<int:milestone_id>/done", methods=["POST"])
@roles_required(*REPORT_ROLES)
def milestone_done(action_id: int, milestone_id: int):
    action = _action_or_404(action_id)
    milestone = (
        ActionMilestone.get_or_none(
            ActionMilestone.id == milestone_id, ActionMilestone.action == action
        )
        if milestone_id <= MAX_ID
        else None
    )
    if milestone is None:
        abort(404)
    actions.mark_milestone_done(milestone, current_user)
    flash(_("The milestone is done."))
    return redirect(url_for("actions.detail", action_id=action.id) + "#milestones")


@bp.route("/<int:action_id>/state", methods=["POST"])
@roles_required(*REPORT_ROLES)
def change_state(action_id: int):
    """Move the action along with a note; evaluating stores the before/after check."""
    action = _action_or_404(action_id)
    form = StateForm(next_states=actions.TRANSITIONS[action.state])
    if not form.validate():
        return _detail(action, state_form=form, status=422)
    config, today = current_app.config, _today()
    to_state = form.to_state.data
    evaluation = None
    if to_state == "evaluated":
        evaluation = actions.before_after(
            action, config["ACTION_WINDOW_WEEKS"], config["MIN_SAMPLE"], today
        )
    try:
        actions.change_state(
            action,
            to_state,
            form.note.data or "",
            current_user,
            today,
            done_on=form.done_on.data or today,
            evaluation=evaluation,
        )
    except actions.ActionError as exc:
        getattr(form, exc.field).errors.append(str(ERRORS[str(exc)]))
        return _detail(action, state_form=form, status=422)
    flash(_("The action is now: %(state)s.", state=STATE_LABELS[to_state]))
    if to_state == "done" and form.move_suggestions.data:
        _move_suggestions_along(action, form.note.data)
    return redirect(url_for("actions.detail", action_id=action.id))


def _move_suggestions_along(action: ImprovementAction, note: str | None) -> None:
    """The action is done: its linked suggestions still open become done, the note (or a
    standard sentence) their public reply; named submitters with an email are told."""
    moved = 0
    for suggestion in actions.linked_suggestions(action):
        if suggestion.status in SUGGESTION_CLOSED_STATES:
            continue
        with force_locale(suggestion.locale):  # the reply is read by the submitter
            reply = note or str(
                _(
                    "This was addressed by an improvement action that is now done: %(title)s.",
                    title=action.title,
                )
            )
        event = change_and_tell(
            suggestion,
            suggestions.Change(
                "done",
                reply,
                owner_id=suggestion.owner_id,
                team_id=suggestion.team_id,
                public=suggestion.public,
            ),
        )
        moved += event is not None
    flash(_("Linked suggestions marked done: %(n)d.", n=moved))


@bp.route("/<int:action_id>/links", methods=["POST"])
@roles_required(*REPORT_ROLES)
def add_link(action_id: int):
    """Link a suggestion or a follow-up, by its number, to the action."""
    action = _action_or_404(action_id)
    form = LinkForm()
    if not form.validate():
        return _detail(action, link_form=form, status=422)
    if not actions.link(action, form.kind.data, form.number.data, allowed_team_ids()):
        form.number.errors.append(_("There is none with this number."))
        return _detail(action, link_form=form, status=422)
    flash(_("Linked."))
    return redirect(url_for("actions.detail", action_id=action.id) + "#links")


@bp.route("/<int:action_id>/links/<kind>/<int:target_id>/remove", methods=["POST"])
@roles_required(*REPORT_ROLES)
def remove_link(action_id: int, kind: str, target_id: int):
    action = _action_or_404(action_id)
    if kind not in actions.LINK_KINDS:
        abort(404)
    actions.unlink(action, kind, target_id)
    flash(_("The link is removed."))
    return redirect(url_for("actions.detail", action_id=action.id) + "#links")
