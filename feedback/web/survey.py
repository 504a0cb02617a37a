"""The customer's survey: ``/s/<token>``, answered once, in the customer's language.

The plain path. Its speed tricks (the page cache, the plain-row loading, the direct validation)
are in ``fastpath``, whose docstring says where it begins and ends.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from .. import responses
from ..i18n import anonymous_locale, current_locale
from ..models import Response, SurveyVersion
from ..surveys import definition_of
from .common import follow_up_policy
from .fastpath import checked_submission, load, page_cacheable, render_form_page, survey_version
from .survey_forms import form_class, preselected_ids, survey_csrf_token

bp = Blueprint("survey", __name__, url_prefix="/s")


def _closed(status: str, definition=None):
    if status == "answered":
        return render_template("survey/answered.html", definition=definition), 200
    return render_template("survey/closed.html", status=status, definition=definition), 410


@bp.route("/<token>", methods=["GET", "POST"])
def answer(token: str):
    invitation, case, current_id = load(token)
    shown = request.form.get("version") if request.method == "POST" else None
    version = survey_version(case.survey_id, current_id, shown)
    definition = definition_of(version)
    status = invitation.current_status()
    if status != "pending":
        return _closed(status, definition)
    # Without cookies (a customer sending the form) the choice needs no Babel, session or user.
    locale = anonymous_locale(case.customer_locale) if page_cacheable() else current_locale()
    csrf = survey_csrf_token(current_app.config["SECRET_KEY"], token)
    if request.method == "GET":
        return render_form_page(definition, version, token, locale, csrf)
    answers = checked_submission(definition, request.form, csrf)
    if answers is None:  # the form is built only to show what is wrong, with what was typed kept
        preselected = preselected_ids(definition, request.form.get("preselected"))
        form = form_class(definition, locale)(expected_csrf=csrf, only_required=preselected)
        form.validate()
        form.version.data = str(version.id)  # the version these answers are checked against
        page = render_template(
            "survey/form.html",
            form=form,
            definition=definition,
            version=version,
            token=token,
            locale=locale,
            preselected=preselected,
        )
        return page, 422
    try:
        responses.submit(
            invitation,
            case,
            version,
            definition,
            answers,
            locale=locale,
            tz=current_app.config["TIMEZONE"],
            follow_up_policy=follow_up_policy(),
        )
    except responses.NotOpen as exc:
        return _closed(exc.status, definition)
    return redirect(url_for("survey.thanks", token=token))


@bp.route("/<token>/thanks")
def thanks(token: str):
    invitation, _case, _current = load(token)
    if invitation.status != "answered":
        return redirect(url_for("survey.answer", token=token))
    response = Response.get(Response.invitation == invitation)
    definition = definition_of(SurveyVersion.get_by_id(response.survey_version_id))
    return render_template("survey/thanks.html", definition=definition)
