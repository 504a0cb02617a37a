"""The channels page (``/admin/channels/``): the settings of email, invitations and reminders,
SMS and the webhook, saved over the environment's (``site_settings``), a test message through
each (``channel_tests``), and the latest failed deliveries. Admins only; every change and every
test is audited (names of the settings, never a secret)."""

from __future__ import annotations

from babel.lists import format_list
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import channel_tests, site_settings
from ..i18n import current_locale, language
from ..vocabulary import CHANNEL_SECTIONS
from .channel_forms import HINTS, LABELS, SECTION_FORMS, TestForm
from .common import channel_config, roles_required

bp = Blueprint("admin_channels", __name__, url_prefix="/admin/channels")


def _page(bound: dict | None = None, test_forms: dict | None = None, status: int = 200):
    """The whole page; ``bound`` holds the section form posted with errors, ``test_forms`` a
    test form with its error."""
    fields = site_settings.fields(current_app.config)
    forms = {}
    for section in CHANNEL_SECTIONS:
        if bound and section in bound:
            forms[section] = bound[section]
            continue
        form = SECTION_FORMS[section](formdata=None, section=section)
        form.fill(fields)
        forms[section] = form
    tests = {s: TestForm(formdata=None, section=s) for s in CHANNEL_SECTIONS}
    tests.update(test_forms or {})
    page = render_template(
        "admin/channels.html",
        forms=forms,
        tests=tests,
        fields=fields,
        labels=LABELS,
        hints=HINTS,
        last_tests=channel_tests.last_tests(),
        problems=channel_tests.recent_problems(),
    )
    return page, status


def _section() -> str:
    section = request.form.get("section", "")
    if section not in CHANNEL_SECTIONS:
        abort(400)
    return section


@bp.route("/")
@roles_required("admin")
def index():
    return _page()


@bp.route("/", methods=["POST"])
@roles_required("admin")
def save():
    """Save one section: the values that differ from those in force, and the resets."""
    section = _section()
    form = SECTION_FORMS[section]()
    if not form.validate_on_submit():
        return _page({section: form}, status=422)
    fields = site_settings.fields(current_app.config)
    planned = form.changes(fields, current_app.config)
    if planned is None:
        return _page({section: form}, status=422)
    texts, reset = planned
    done = site_settings.save(texts, reset, current_user._get_current_object(), channel_config())
    if done:
        names = format_list(
            [str(LABELS[n]) for n in (*done.changed, *done.reset)], locale=current_locale()
        )
        flash(_("Saved: %(names)s. Every process of the site uses it now.", names=names))
    else:
        flash(_("Nothing was changed."))
    return redirect(url_for("admin_channels.index", _anchor=section))


@bp.route("/test", methods=["POST"])
@roles_required("admin")
def test():
    """Put a section's test message into the outbox; the page shows how it went."""
    section = _section()
    form = TestForm()
    if not (form.validate_on_submit() and form.check_to(section)):
        return _page(test_forms={section: form}, status=422)
    try:
        channel_tests.queue(
            section,
            form.to.data or "",
            channel_config(),
            language(current_locale()),
            current_user._get_current_object(),
        )
    except channel_tests.CannotTest as exc:
        form.to.errors.append(_(str(exc)))
        return _page(test_forms={section: form}, status=422)
    flash(_("The test is in the outbox; this page shows when it was sent, or why not."))
    return redirect(url_for("admin_channels.index", _anchor=f"test-{section}"))
