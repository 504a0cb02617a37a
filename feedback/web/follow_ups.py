"""The follow-up queue and each follow-up's page: ``/manage/follow-ups``.

Team leads see the follow-ups of the teams they lead; managers and admins see all; staff none.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access, follow_ups
from ..db import utcnow
from ..definitions import SurveyDefinition
from ..i18n import current_locale
from ..models import FollowUp, Response, Survey, SurveyVersion, Team
from ..responses import stored_answers
from ..surveys import definition_of
from ..vocabulary import REPORT_ROLES
from .common import allowed_team_ids, reasons_in_words, roles_required, survey_titles
from .follow_up_forms import OUTCOME_LABELS, CloseForm, ContactForm, ReopenForm
from .paging import page_number

bp = Blueprint("follow_ups", __name__, url_prefix="/manage/follow-ups")
PAGE_SIZE = 50

STATE_LABELS = {
    "active": _l("Not closed"),
    "open": _l("Open"),
    "contacted": _l("Contacted"),
    "closed": _l("Closed"),
    "all": _l("All"),
}


@bp.app_template_global("outcome_label")
def outcome_label(outcome: str | None) -> str:
    return str(OUTCOME_LABELS.get(outcome, outcome or "–"))


def _queue_filters(teams: tuple[int, ...] | None) -> tuple[dict, dict[str, list[str]]]:
    """team, state and survey from the query string; errors name the bad ones."""
    errors: dict[str, list[str]] = {}
    chosen: dict[str, Any] = {"team_id": None, "state": "active", "survey_id": None}
    team_name = request.args.get("team") or None
    if team_name:
        team = Team.get_or_none(Team.name == team_name)
        if team is None or (teams is not None and team.id not in teams):
            errors["team"] = [_("Not a team you can see.")]
        else:
            chosen["team_id"] = team.id
    state = request.args.get("state") or "active"
    if state not in follow_ups.QUEUE_STATES:
        errors["state"] = [_("Choose a state from the list.")]
    else:
        chosen["state"] = state
    slug = request.args.get("survey") or None
    if slug:
        survey = Survey.get_or_none(Survey.slug == slug)
        if survey is None:
            errors["survey"] = [_("Unknown survey.")]
        else:
            chosen["survey_id"] = survey.id
    return chosen, errors


@bp.route("/")
@roles_required(*REPORT_ROLES)
def queue():
    teams = allowed_team_ids()
    chosen, errors = _queue_filters(teams)
    page = page_number()
    rows = (
        []
        if errors
        else follow_ups.queue(teams, **chosen, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    )
    counts = {"total": 0, "overdue": 0} if errors else follow_ups.queue_counts(teams, **chosen)
    choices = {
        "teams": [
            t.name
            for t in Team.select(Team.name)
            .where(Team.id.in_(list(teams) or [-1]) if teams is not None else True)
            .order_by(Team.name)
        ],
        "surveys": survey_titles(current_locale()),
        "states": STATE_LABELS,
    }
    now = utcnow()
    return render_template(
        "follow_ups/queue.html",
        rows=rows[:PAGE_SIZE],
        now=now,
        errors=errors,
        args=request.args,
        choices=choices,
        counts=counts,
        page=page,
        more=len(rows) > PAGE_SIZE,
        page_size=PAGE_SIZE,
        overdue={r.id for r in rows if follow_ups.is_overdue(r, now)},
        reasons=reasons_in_words(rows[:PAGE_SIZE]),
    ), 400 if errors else 200


def _visible(follow_up_id: int) -> FollowUp:
    """The follow-up, if this user may see it; 404 otherwise (a lead learns nothing of others)."""
    if not access.valid_id(follow_up_id):
        abort(404)
    found = follow_ups.queue(allowed_team_ids(), state="all", limit=1, follow_up_id=follow_up_id)
    if not found:
        abort(404)
    return found[0]


def readable_answers(
    definition: SurveyDefinition, answers: dict, locale: str
) -> list[tuple[str, str]]:
    """Each answered question's text and the answer as a person reads it, in survey order."""
    shown = []
    for question in definition.questions:
        value = answers.get(question.id)
        if value is None:
            continue
        labels = {c.value: c.label.get(locale) for c in question.choices}
        if question.type == "multi":
            text = ", ".join(labels.get(v, v) for v in value)
        elif question.type in ("choice", "yesno"):
            text = labels.get(value, value)
        elif question.type == "servqual":
            text = _(
                "expected %(e)d, experienced %(p)d (of %(min)d–%(max)d)",
                e=value["expectation"],
                p=value["perception"],
                min=question.min,
                max=question.max,
            )
        elif question.is_scale:
            text = _(
                "%(value)d (of %(min)d–%(max)d)", value=value, min=question.min, max=question.max
            )
        else:
            text = str(value)
        shown.append((question.text.get(locale), text))
    return shown


def _detail(follow_up: FollowUp, contact=None, close=None, reopen=None, status: int = 200):
    response = Response.get_by_id(follow_up.response_id)
    version = SurveyVersion.get_by_id(response.survey_version_id)
    definition = definition_of(version)
    locale = current_locale()
    entered_by = response.entered_by.display_name if response.entered_by_id else None
    return render_template(
        "follow_ups/detail.html",
        follow_up=follow_up,
        case=follow_up.case,
        response=response,
        entered_by=entered_by,
        survey_title=definition.title.get(locale),
        reasons=reasons_in_words([follow_up])[follow_up.id],
        answers=readable_answers(definition, stored_answers(definition, response.id), locale),
        events=follow_ups.events(follow_up.id),
        outcomes=OUTCOME_LABELS,
        states=STATE_LABELS,
        overdue=follow_ups.is_overdue(follow_up),
        contact=contact or ContactForm(formdata=None),
        close=close or CloseForm(formdata=None),
        reopen=reopen or ReopenForm(formdata=None),
    ), status


@bp.route("/<int:follow_up_id>")
@roles_required(*REPORT_ROLES)
def detail(follow_up_id: int):
    return _detail(_visible(follow_up_id))


def _act(follow_up_id: int, form_class, form_key: str, change):
    follow_up = _visible(follow_up_id)
    form = form_class()
    if not form.validate_on_submit():
        return _detail(follow_up, status=422, **{form_key: form})
    try:
        change(follow_up, form)
    except follow_ups.TransitionError:
        flash(_("Someone else changed this follow-up meanwhile; here is how it stands now."))
        return redirect(url_for(".detail", follow_up_id=follow_up_id))
    flash(_("Saved."))
    return redirect(url_for(".detail", follow_up_id=follow_up_id))


@bp.route("/<int:follow_up_id>/contact", methods=["POST"])
@roles_required(*REPORT_ROLES)
def contact(follow_up_id: int):
    return _act(
        follow_up_id,
        ContactForm,
        "contact",
        lambda f, form: follow_ups.record_contact(
            f.id, current_user, form.contact_note.data.strip()
        ),
    )


@bp.route("/<int:follow_up_id>/close", methods=["POST"])
@roles_required(*REPORT_ROLES)
def close(follow_up_id: int):
    return _act(
        follow_up_id,
        CloseForm,
        "close",
        lambda f, form: follow_ups.close(
            f.id, current_user, form.outcome.data, form.close_note.data.strip()
        ),
    )


@bp.route("/<int:follow_up_id>/reopen", methods=["POST"])
@roles_required(*REPORT_ROLES)
def reopen(follow_up_id: int):
    return _act(
        follow_up_id,
        ReopenForm,
        "reopen",
        lambda f, form: follow_ups.reopen(f.id, current_user, form.reopen_note.data.strip()),
    )
