"""Phone call-backs (电话回访): staff find a case and record the customer's answers.

The answers go through the same form, checks and ``responses.submit`` as a customer's own, with
source "callback" and the staff member as ``entered_by``. On the case's own survey the case's one
invitation is claimed, so the one-response rule holds whoever answers; the ``callback`` survey
needs no invitation and may be recorded more than once.

Staff see and record the cases of their own team, leads those of the teams they lead and their
own, managers, admins and a call-back desk granted all teams (``app_user.callbacks_all_teams``)
every case (``access.callback_team_ids``). Another team's case is answered as one that does not
exist. Each view of a case's contact details is written to the audit log.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .. import access, audit, responses
from ..i18n import current_locale
from ..models import Case, FollowUp, Invitation, Survey
from ..surveys import current_version, definition_of
from ..vocabulary import ROLES
from .common import follow_up_policy, roles_required
from .survey_forms import form_class

bp = Blueprint("callbacks", __name__, url_prefix="/callback")
CALLBACK_SURVEY = "callback"


@bp.route("/")
@roles_required(*ROLES)
def find():
    """A form to find a case by its reference; a found case opens its page."""
    ref = (request.args.get("case") or "").strip()
    error = None
    if ref:
        case = Case.get_or_none(Case.case_ref == ref)
        if case is not None and _may_call(case):
            return redirect(url_for(".case", case_id=case.id))
        error = _("No case has this reference.")
    return render_template("callbacks/find.html", ref=ref, error=error), 404 if error else 200


def _choices(case: Case) -> list[dict]:
    """The surveys a call-back on this case can record, each with whether it is still open."""
    own = Survey.get_by_id(case.survey_id)
    invitation = Invitation.get_or_none(Invitation.case == case.id)
    choices = []
    if own.slug != CALLBACK_SURVEY and own.current_version_id is not None:
        status = invitation.status if invitation else None
        choices.append(
            {
                "slug": own.slug,
                "own": True,
                "open": status == "pending",
                "status": status,
                "delivery": invitation.delivery if invitation else None,  # the site's message
                "channel": invitation.channel if invitation else None,  # email or sms
            }
        )
    callback = Survey.get_or_none(Survey.slug == CALLBACK_SURVEY)
    if callback is not None and callback.current_version_id is not None:
        choices.append({"slug": CALLBACK_SURVEY, "own": False, "open": True, "status": None})
    return choices


def _may_call(case: Case) -> bool:
    return access.may_see(access.callback_team_ids(current_user), case.team_id)


def _case_or_404(case_id: int) -> Case:
    """The case, if this user may call its customer back; 404 otherwise, as for no case."""
    found = Case.get_or_none(Case.id == case_id) if access.valid_id(case_id) else None
    if found is None or not _may_call(found):
        abort(404)
    return found


@bp.route("/case/<int:case_id>")
@roles_required(*ROLES)
def case(case_id: int):
    """The case with the customer's name and phone: each view is audited."""
    found = _case_or_404(case_id)
    audit.record("callback.view", f"case {found.case_ref}", case_id=found.id)
    return render_template("callbacks/case.html", case=found, choices=_choices(found))


@bp.route("/case/<int:case_id>/<slug>", methods=["GET", "POST"])
@roles_required(*ROLES)
def record(case_id: int, slug: str):
    """The survey's form for the staff member to fill in while on the phone."""
    found = _case_or_404(case_id)
    choice = next((c for c in _choices(found) if c["slug"] == slug), None)
    if choice is None:
        abort(404)
    if not choice["open"]:
        flash(
            _(
                "This case's survey has already been answered or withdrawn; record the "
                "call-back on the call-back survey."
            )
        )
        return redirect(url_for(".case", case_id=case_id))
    version = current_version(slug)
    definition = definition_of(version)
    locale = current_locale()
    form_cls = form_class(definition, locale)
    if request.method == "POST":
        # the global CSRF guard has already checked the posted token against the session
        # (a signed token differs each second, so it cannot be compared with a new one)
        form = form_cls(expected_csrf=request.form.get("csrf_token"))
    else:
        form = form_cls(formdata=None, data={"csrf_token": generate_csrf(), "version": version.id})
    if request.method == "POST":
        if form.validate():
            invitation = (
                Invitation.get_or_none(Invitation.case == found.id) if choice["own"] else None
            )
            try:
                response_id = responses.submit(
                    invitation,
                    found,
                    version,
                    definition,
                    form.answers,
                    locale=locale,
                    tz=current_app.config["TIMEZONE"],
                    source="callback",
                    entered_by=current_user,
                    follow_up_policy=follow_up_policy(),
                )
            except responses.NotOpen:
                flash(
                    _(
                        "This case's survey has already been answered or withdrawn; record "
                        "the call-back on the call-back survey."
                    )
                )
                return redirect(url_for(".case", case_id=case_id))
            opened = FollowUp.get_or_none(FollowUp.response == response_id)
            flash(
                _("The call-back has been recorded.")
                if opened is None
                else _("The call-back has been recorded; the answers opened a follow-up.")
            )
            return redirect(url_for(".case", case_id=case_id))
        status = 422
    else:
        status = 200
    return render_template(
        "callbacks/form.html",
        case=found,
        form=form,
        definition=definition,
        version=version,
        locale=locale,
        slug=slug,
    ), status
