"""Admin pages: surveys and their versions (users, teams and API tokens follow)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template


from ..i18n import current_locale
from ..models import Survey, SurveyVersion
from ..surveys import definition_of, listing
from .auth import roles_required
from .survey_forms import form_class

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@roles_required("admin")
def index():
    return render_template("admin/index.html")


@bp.route("/surveys")
@roles_required("admin")
def surveys():
    return render_template("admin/surveys.html", surveys=listing())


@bp.route("/surveys/<slug>/v<int:number>")
@roles_required("admin")
def preview(slug: str, number: int):
    """A version as a customer would see it; the form posts nowhere."""
    version = (SurveyVersion.select().join(Survey)
               .where(Survey.slug == slug, SurveyVersion.version == number).first())
    if version is None:
        abort(404)
    definition = definition_of(version)
    form = form_class(definition, current_locale())(formdata=None)
    return render_template("survey/form.html", form=form, definition=definition,
                           version=version, token=None, locale=current_locale(), preview=True)
