"""The audit log's admin page (``/admin/audit``): entries newest first, filtered by action,
actor, target text and dates in the URL, paged, and the same list as CSV. Admins only."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField

from .. import audit, exports
from ..errors import AppError
from ..i18n import current_locale, language
from .common import roles_required
from .forms_common import Form, choices, date_range
from .paging import page_number

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")
PAGE_SIZE = 50

# What each action is called on the page (the CSV keeps the names themselves).
ACTION_LABELS = {
    "user.create": _l("User created"),
    "user.change": _l("User changed"),
    "user.password": _l("Password changed"),
    "user.deactivate": _l("User deactivated"),
    "user.activate": _l("User activated"),
    "user.login_failed": _l("Failed login"),
    "team.create": _l("Team created"),
    "team.change": _l("Team changed"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "survey.change": _l("Survey file loaded or refused"),
    "category.save": _l("Suggestion category saved"),
    "export.raw": _l("Raw data downloaded"),
    "callback.view": _l("Contact details viewed"),
    "customer.export": _l("Customer data exported"),
    "customer.erase": _l("Customer erased"),
    "customer.opt_out": _l("Customer's opt-out recorded"),
    "retention.purge": _l("Old contact details removed"),
    "digest.subscribe": _l("Digest subscribed"),
    "digest.unsubscribe": _l("Digest stopped"),
    "robot.create": _l("Chat robot added"),
    "robot.change": _l("Chat robot changed"),
    "robot.delete": _l("Chat robot removed"),
    "robot.test": _l("Chat robot test message"),
    "channels.change": _l("Channel settings changed"),
    "channels.test": _l("Channel test message"),
}


class AuditFilterForm(Form):
    """The filter bar (GET: no CSRF, the state lives in the URL)."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), default="")
    actor = StringField(_l("Who"), render_kw={"list": "audit-actors"})
    target = StringField(_l("Target contains"))
    # ?from= and ?to= in the URL, as the dashboard's
    start = StringField(_l("From"), name="from", render_kw={"type": "date"})
    end = StringField(_l("To"), name="to", render_kw={"type": "date"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = choices(
            [("", _l("Any action"))] + [(a, ACTION_LABELS.get(a, a)) for a in audit.ACTIONS]
        )


def _filter_from_args() -> tuple[AuditFilterForm, audit.Filter, dict]:
    form = AuditFilterForm(request.args)
    errors: dict[str, str] = {}
    if form.action.data and form.action.data not in audit.ACTIONS:
        errors["action"] = _("Not one of the choices.")
        form.action.data = ""
    for field in (form.actor, form.target):
        if field.data and (len(field.data) > 200 or "\x00" in field.data):
            errors[field.name] = _("At most 200 characters, without control characters.")
            field.data = ""
    start, end = date_range(form.start.data, form.end.data, errors)
    for name, message in errors.items():
        getattr(form, name).errors = [message]
    errors = {getattr(form, name).name: message for name, message in errors.items()}
    return (
        form,
        audit.Filter(
            action=form.action.data or None,
            actor=(form.actor.data or "").strip() or None,
            target=(form.target.data or "").strip() or None,
            start=start,
            end=end,
        ),
        errors,
    )


@bp.route("/")
@roles_required("admin")
def index():
    form, chosen, errors = _filter_from_args()
    page = page_number()
    rows = audit.entries(
        chosen, current_app.config["TIMEZONE"], limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "admin/audit.html",
        form=form,
        rows=rows[:PAGE_SIZE],
        page=page,
        more=len(rows) > PAGE_SIZE,
        args=request.args,
        actors=audit.actors(),
        labels=ACTION_LABELS,
    ), 400 if errors else 200


@bp.route("/audit.csv")
@roles_required("admin")
def export_csv():
    """The filtered list as CSV (formula-safe), newest first."""
    _form, chosen, errors = _filter_from_args()
    if errors:
        raise AppError(400, "; ".join(f"{field}: {text}" for field, text in errors.items()))
    rows = (
        [exports.safe_cell(v) for v in row]
        for row in audit.csv_rows(
            chosen,
            current_app.config["TIMEZONE"],
            language(current_locale()),
            lambda action: str(ACTION_LABELS.get(action, action)),
        )
    )
    name = f"audit-log-{date.today().isoformat()}.csv"
    return Response(
        exports.csv_stream(rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
