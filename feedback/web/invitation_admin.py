"""The admin's view of invitations sent by the site (``/admin/invitations``): the settings in
force, the latest emailed invitations with the state of each email, and a preview of the
invitation and reminder emails of each survey in both languages. Admins only."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from .. import invitations, mail
from ..i18n import language
from ..surveys import current_version, definition_of, listing
from ..vocabulary import DELIVERY_STATES, LOCALES
from .common import channel_config, roles_required

bp = Blueprint("invitation_admin", __name__, url_prefix="/admin/invitations")

# The raw HTML email keeps its inline styles (mail clients need them) and nothing else.
EMAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


@bp.route("/")
@roles_required("admin")
def index():
    state = request.args.get("state")
    if state not in DELIVERY_STATES:
        state = None
    config = channel_config()
    return render_template(
        "admin/invitations.html",
        rows=invitations.recent(state=state),
        state=state,
        states=DELIVERY_STATES,
        surveys=[s["survey"].slug for s in listing() if s["versions"]],
        sending=invitations.Sending.from_config(config),
        mail_on=mail.enabled(config),
    )


def _definition(slug: str):
    version = current_version(slug)
    if version is None:
        abort(404)
    return definition_of(version)


def _reminder() -> int:
    return 1 if request.args.get("reminder") == "1" else 0


@bp.route("/preview/<slug>")
@roles_required("admin")
def preview(slug: str):
    """The invitation (or, with ?reminder=1, the reminder) of a survey in both languages."""
    definition = _definition(slug)
    reminder = _reminder()
    emails = [
        (code, invitations.preview(definition, language(code), channel_config(), reminder))
        for code in LOCALES
    ]
    return render_template(
        "admin/invitation_preview.html",
        slug=slug,
        definition=definition,
        emails=emails,
        reminder=reminder,
    )


@bp.route("/preview/<slug>/email.html")
@roles_required("admin")
def preview_html(slug: str):
    """The HTML part of the previewed email, as a mail client would show it (?lang=zh_CN|en)."""
    definition = _definition(slug)
    code = request.args.get("lang")
    email = invitations.preview(
        definition,
        language(code if code in LOCALES else LOCALES[0]),
        channel_config(),
        _reminder(),
    )
    response = current_app.response_class(email.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = EMAIL_PREVIEW_POLICY
    return response
