"""The admin's view of invitations sent by the site (``/admin/invitations``): the settings in
force, the latest invitations the site sends with their channel (email or text) and the state of
each message, the latest ones it could not send and why, a form to record a customer's opt-out
(an address or a phone number), and a preview of the invitation and reminder of each survey in
both languages. Admins only."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField, ValidationError
from wtforms.validators import DataRequired, Length

from .. import audit, invitations, mail, sms
from ..cases import EMAIL
from ..db import database, utcnow
from ..i18n import language
from ..surveys import current_version, definition_of, listing
from ..vocabulary import DELIVERY_STATES, LOCALES
from .common import channel_config, roles_required
from .forms_common import Form

bp = Blueprint("invitation_admin", __name__, url_prefix="/admin/invitations")

# The raw HTML email keeps its inline styles (mail clients need them) and nothing else.
EMAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


class OptOutForm(Form):
    """An opt-out a customer asked for by phone, by answering a text, or in person."""

    contact = StringField(
        _l("Email address or phone number"),
        validators=[DataRequired(), Length(max=254)],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )

    def validate_contact(self, field) -> None:
        value = field.data or ""
        if not (EMAIL.match(value) or sms.phone_number(value)):
            raise ValidationError(
                _(
                    "Give an email address, or a phone number such as 13800138000 or +44 20 7946 0958."
                )
            )


def _index_page(form: OptOutForm, status: int = 200):
    state = request.args.get("state")
    if state not in DELIVERY_STATES:
        state = None
    config = channel_config()
    sending = invitations.Sending.from_config(config)
    since = utcnow() - timedelta(days=int(config.get("INVITATION_DAYS") or 14))
    return render_template(
        "admin/invitations.html",
        rows=invitations.recent(state=state),
        state=state,
        states=DELIVERY_STATES,
        surveys=[s["survey"].slug for s in listing() if s["versions"]],
        sending=sending,
        mail_on=mail.enabled(config),
        not_sent=invitations.not_sent(sending, since),
        form=form,
    ), status


@bp.route("/")
@roles_required("admin")
def index():
    return _index_page(OptOutForm(formdata=None))


@bp.route("/opt-out", methods=["POST"])
@roles_required("admin")
def record_opt_out():
    """Record that a customer wants no more surveys: the SHA-256 of the address or number
    only, audited without it."""
    form = OptOutForm()
    if not form.validate_on_submit():
        return _index_page(form, 422)
    value = form.contact.data
    kind = "email" if EMAIL.match(value) else "phone"
    with database.atomic():
        if kind == "email":
            new = invitations.opt_out(value)
        else:
            new = invitations.opt_out_phone(value)
        audit.record("customer.opt_out", f"opt-out by {kind}", kind=kind, new=new)
    flash(
        _("The opt-out is recorded: that customer gets no more surveys.")
        if new
        else _("That customer had already opted out.")
    )
    return redirect(url_for("invitation_admin.index"))


def _definition(slug: str):
    version = current_version(slug)
    if version is None:
        abort(404)
    return definition_of(version)


PREVIEW_CODE = "AbCdE12345"  # a made-up short link code


def _reminder() -> int:
    return 1 if request.args.get("reminder") == "1" else 0


@bp.route("/preview/<slug>")
@roles_required("admin")
def preview(slug: str):
    """The invitation (or, with ?reminder=1, the reminder) of a survey in both languages."""
    definition = _definition(slug)
    reminder = _reminder()
    config = channel_config()
    emails = [
        (code, invitations.preview(definition, language(code), config, reminder))
        for code in LOCALES
    ]
    texts = {
        code: invitations.sms_text(config, language(code), PREVIEW_CODE, reminder)
        for code in LOCALES
    }
    return render_template(
        "admin/invitation_preview.html",
        slug=slug,
        definition=definition,
        emails=emails,
        texts=texts,
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
