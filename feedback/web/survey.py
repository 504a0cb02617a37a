"""The customer's survey: ``/s/<token>``, answered once, in the customer's language."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import refresh

from .. import responses
from ..cases import TOKEN
from ..models import Case, Invitation, Response, Survey, SurveyVersion
from ..i18n import current_locale
from ..surveys import definition_of
from .survey_forms import form_class, prefill

bp = Blueprint("survey", __name__, url_prefix="/s")


def _load(token: str) -> tuple[Invitation, Case]:
    if not TOKEN.match(token):
        abort(404)
    invitation = (Invitation.select(Invitation, Case).join(Case)
                  .where(Invitation.token == token).first())
    if invitation is None:
        abort(404)
    # The case's customer locale comes before the browser's (an explicit switch before both).
    g.locale_hint = invitation.case.customer_locale
    refresh()
    return invitation, invitation.case


def _version_for(case: Case, version_id: str | None) -> SurveyVersion:
    """The version the customer was shown (from the form), else the survey's current one."""
    version = None
    if version_id and version_id.isdigit():
        version = SurveyVersion.get_or_none((SurveyVersion.id == int(version_id))
                                            & (SurveyVersion.survey == case.survey_id))
    if version is None:
        survey = Survey.get_by_id(case.survey_id)
        version = SurveyVersion.get_or_none(SurveyVersion.id == survey.current_version_id)
    if version is None:
        abort(404)
    return version


def _closed(status: str, definition=None):
    if status == "answered":
        return render_template("survey/answered.html", definition=definition), 200
    return render_template("survey/closed.html", status=status, definition=definition), 410


@bp.route("/<token>", methods=["GET", "POST"])
def answer(token: str):
    invitation, case = _load(token)
    version = _version_for(case, request.form.get("version") if request.method == "POST"
                           else None)
    definition = definition_of(version)
    status = invitation.current_status()
    if status != "pending":
        return _closed(status, definition)
    locale = current_locale()
    form_cls = form_class(definition, locale)
    if request.method == "POST":
        form = form_cls()
        if form.validate():
            try:
                responses.submit(invitation, case, version, definition, form.answers,
                                 locale=locale, tz=current_app.config["TIMEZONE"])
            except responses.NotOpen as exc:
                return _closed(exc.status, definition)
            return redirect(url_for("survey.thanks", token=token))
        return render_template("survey/form.html", form=form, definition=definition,
                               version=version, token=token, locale=locale), 422
    form = form_cls(formdata=None, data=prefill(definition, request.args))
    form.version.data = str(version.id)
    return render_template("survey/form.html", form=form, definition=definition,
                           version=version, token=token, locale=locale)


@bp.route("/<token>/thanks")
def thanks(token: str):
    invitation, case = _load(token)
    if invitation.status != "answered":
        return redirect(url_for("survey.answer", token=token))
    response = Response.get(Response.invitation == invitation)
    definition = definition_of(SurveyVersion.get_by_id(response.survey_version_id))
    return render_template("survey/thanks.html", definition=definition)
