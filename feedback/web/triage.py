"""Answering suggestions: the triage list, one suggestion's page with its history and the change
form, and the CSV export. Managers and admins see every suggestion; a team lead sees those of the
teams they lead; staff nothing.
"""

from __future__ import annotations

from datetime import date

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
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, actions, audit, exports, suggestions
from ..errors import AppError
from ..i18n import current_locale, language
from ..models import Suggestion, SuggestionCategory, Team, User
from ..vocabulary import REPORT_ROLES
from .common import allowed_team_ids, change_and_tell, roles_required
from .forms_common import date_range
from .paging import page_number
from .suggest_forms import ChangeForm, TriageFilterForm

bp = Blueprint("triage", __name__, url_prefix="/manage/suggestions")
PAGE_SIZE = 50


def _triage_from_args() -> tuple[TriageFilterForm, suggestions.Triage, dict]:
    form = TriageFilterForm(request.args)
    errors: dict[str, str] = {}
    for field in (form.box, form.status, form.category, form.order):
        if field.data and field.data not in {str(c.value) for c in field.choices}:
            errors[field.name] = _("Not one of the choices.")
            field.data = ""
    start, end = date_range(form.start.data, form.end.data, errors)
    for name, message in errors.items():
        getattr(form, name).errors = [message]
    triage = suggestions.Triage(
        box=form.box.data or None,
        status=form.status.data or None,
        category_id=int(form.category.data) if form.category.data else None,
        start=start,
        end=end,
        oldest_first=form.order.data == "oldest",
        allowed_team_ids=allowed_team_ids(),
    )
    return form, triage, errors


@bp.route("/")
@roles_required(*REPORT_ROLES)
def index():
    form, triage, errors = _triage_from_args()
    page = page_number()
    rows = suggestions.triage_list(triage, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    counts = suggestions.status_counts(triage)
    return render_template(
        "manage/suggestions.html",
        form=form,
        rows=rows[:PAGE_SIZE],
        counts=counts,
        page=page,
        more=len(rows) > PAGE_SIZE,
        args=request.args,
        overdue=suggestions.is_overdue,
        team_names={t.id: t.name for t in Team.select()},
    ), 400 if errors else 200


def _visible(suggestion_id: int) -> Suggestion:
    """The suggestion, if this user may see it; 404 otherwise, as for no suggestion (a lead
    learns nothing of other teams' suggestions, not even that the number exists)."""
    suggestion = (
        Suggestion.get_or_none(Suggestion.id == suggestion_id)
        if access.valid_id(suggestion_id)
        else None
    )
    if suggestion is None or not access.may_see(allowed_team_ids(), suggestion.team_id):
        abort(404)
    return suggestion


@bp.route("/<int:suggestion_id>", methods=["GET", "POST"])
@roles_required(*REPORT_ROLES)
def detail(suggestion_id: int):
    suggestion = _visible(suggestion_id)
    form = ChangeForm(
        data=None
        if request.method == "POST"
        else {
            "status": suggestion.status,
            "owner": str(suggestion.owner_id or ""),
            "team": str(suggestion.team_id or ""),
            "public": suggestion.public,
            "merged_into": suggestion.merged_into_id,
        }
    )
    if current_user.role == "lead":  # a lead keeps the suggestion within their teams
        led = set(allowed_team_ids() or ())
        form.team.choices = [c for c in form.team.choices if c.value and int(c.value) in led]
    if form.validate_on_submit():
        change = suggestions.Change(
            status=form.status.data,
            public_text=form.public_text.data,
            internal_note=form.internal_note.data,
            owner_id=int(form.owner.data) if form.owner.data else None,
            team_id=int(form.team.data) if form.team.data else None,
            public=form.public.data,
            merged_into_id=form.merged_into.data,
        )
        try:
            event = change_and_tell(suggestion, change)
        except suggestions.SuggestionError as exc:
            getattr(form, exc.field, form.public_text).errors.append(_(exc.message))
        else:
            flash(_("Saved.") if event is not None else _("Nothing was changed."))
            return redirect(url_for("triage.detail", suggestion_id=suggestion.id), 303)
    following = suggestions.followed(suggestion)  # shown only when this user may see it
    return render_template(
        "manage/suggestion.html",
        suggestion=suggestion,
        form=form,
        history=suggestions.full_history(suggestion),
        category=SuggestionCategory.get_by_id(suggestion.category_id),
        following=following
        if access.may_see(allowed_team_ids(), following.team_id)
        else suggestion,
        submitter=User.get_or_none(User.id == suggestion.user_id) if suggestion.user_id else None,
        team=Team.get_or_none(Team.id == suggestion.team_id) if suggestion.team_id else None,
        overdue=suggestions.is_overdue(suggestion),
        linked_actions=actions.actions_for_suggestion(suggestion.id),
    ), 422 if form.errors else 200


@bp.route("/export.csv")
@roles_required(*REPORT_ROLES)
def export_csv():
    """The suggestions of the list's filters as CSV; nothing identifying for anonymous ones."""
    _form, triage, errors = _triage_from_args()
    if errors:
        raise AppError(400, "; ".join(f"{field}: {text}" for field, text in errors.items()))
    audit.record("export.raw", "suggestions.csv", filters=request.args.to_dict())
    rows = exports.suggestion_rows(
        triage, current_app.config["TIMEZONE"], language(current_locale())
    )
    name = f"suggestions-{date.today().isoformat()}.csv"
    return Response(
        exports.csv_stream(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
