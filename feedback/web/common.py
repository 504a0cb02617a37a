"""What several blueprints need: the role check, sessions, the teams a user may see, the
follow-up policy, answering a suggestion, key drivers and serving a chart from the cache.

Blueprints import from here and never from one another (``tests/test_blueprints.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Response, abort, current_app, flash, g, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from .. import (
    access,
    accounts,
    chart_data,
    charts,
    drivers,
    exports,
    follow_ups,
    reports,
    robots,
    site_settings,
    suggestions,
)
from ..cache import app_cache
from ..errors import AppError
from ..i18n import current_locale, language
from ..models import Response as ResponseRow
from ..models import Suggestion, Survey, SurveyVersion, User
from ..responses import stored_answers_of
from ..surveys import definition_of
from .labels import SUGGESTION_STATUSES


def roles_required(*roles: str):
    """Only logged-in users with one of these roles get through; others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.roles = roles
        return wrapped

    return decorator


def start_session(user: User, remember: bool) -> None:
    """Log ``user`` in with a new session key (a new remember-me cookie value every time)."""
    login_user(user, remember=remember)
    # Flask-Login keeps User.get_id() here and signs it into the remember-me cookie when the
    # response goes out; the session key replaces it before that happens.
    session["_user_id"] = accounts.session_key(user)


def keep_own_session(user: User) -> None:
    """After the logged-in user ended their own sessions (a new password of their own): this
    browser stays logged in with a key of the new version, the others are out."""
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    start_session(user, remember=remembered)


def allowed_team_ids() -> tuple[int, ...] | None:
    """None for managers and admins; a team lead's own teams; none for anyone else."""
    return access.report_team_ids(current_user)


def channel_config() -> site_settings.Effective:
    """The app's config with the settings saved on /admin/channels on top, read once per
    request (``site_settings.effective``)."""
    if "channel_config" not in g:
        g.channel_config = site_settings.effective(current_app.config)
    return g.channel_config


def follow_up_policy() -> follow_ups.Policy:
    """The follow-up settings in force: kept under the rows saved on the channels page (read on
    every call, one small prepared statement), so a change made by any process applies at once."""
    saved = site_settings.rows()
    return app_cache("follow_up_policy", 4).get_or_make(
        saved,
        lambda: follow_ups.Policy.from_config(site_settings.effective(current_app.config, saved)),
    )


def reply_email(suggestion: Suggestion, status: str, public_text: str | None) -> tuple[str, str]:
    """The subject and body that tell a named submitter of a change, in their language."""
    link = url_for("suggest.track", _external=True)
    with force_locale(suggestion.locale):
        subject = _(
            "Your suggestion “%(title)s”: %(status)s",
            title=suggestion.title,
            status=SUGGESTION_STATUSES[status],
        )
        lines = [
            _("Hello %(name)s,", name=suggestion.name or ""),
            "",
            _(
                "Your suggestion “%(title)s” is now: %(status)s.",
                title=suggestion.title,
                status=SUGGESTION_STATUSES[status],
            ),
        ]
        if public_text:
            lines += ["", _("Our reply:"), public_text]
        lines += ["", _("Follow it with your tracking code at %(link)s", link=link)]
        return str(subject), "\n".join(str(line) for line in lines)


def change_and_tell(suggestion: Suggestion, change: suggestions.Change):
    """Apply a change as the current user; queue the email to a named submitter; say so."""
    email = reply_email(suggestion, change.status, (change.public_text or "").strip() or None)
    event = suggestions.change(
        suggestion,
        current_user,
        change,
        channel_config(),
        email=email,
        visible_team_ids=allowed_team_ids(),
    )
    if event is not None and suggestions.notifies(suggestion, event, channel_config()):
        flash(_("The submitter will get the reply by email."))
    return event


DRIVER_CACHE_SIZE = 64


def key_drivers(s: reports.Slice, definition, outcome: str) -> drivers.DriverReport:
    """The key drivers of a slice, for the dashboard and the API, kept in the app's cache
    under the slice, the survey version and the data stamp (a new answer makes a new key): a
    year at a million responses takes seconds, the stamp two index look-ups."""
    min_sample = current_app.config["MIN_SAMPLE"]
    key = (s, definition.checksum, outcome, min_sample, reports.data_stamp(s.survey_id))
    return app_cache("key-drivers", DRIVER_CACHE_SIZE).get_or_make(
        key, lambda: drivers.key_drivers(s, definition, outcome, min_sample)
    )


CHART_CACHE_SIZE = 128
CHART_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "csv": "text/csv",  # Flask adds "; charset=utf-8"
}


def chart_size() -> str:
    """The PNG size asked for with ``?size=`` (small, medium, large); a 400 naming it else."""
    size = request.args.get("size", "medium")
    if size not in charts.PNG_SIZES:
        raise AppError(400, f"size: one of {', '.join(charts.PNG_SIZES)}")
    return size


def chart_reply(
    key: tuple, fmt: str, size: str, build: Callable[[], chart_data.ChartData], filename: str
) -> Response:
    """A chart as PNG, SVG or PDF, or its table as CSV (``fmt``), made from ``build()`` once
    per ``key`` and kept in the app's chart cache: the key must hold everything the chart
    depends on (its data stamp, the filters, the language, whose it is)."""

    def render() -> bytes:
        data = build()
        if fmt == "csv":
            return exports.table_csv(data.header, data.rows)
        return charts.render(data.figure, fmt, size)

    body = app_cache("charts", CHART_CACHE_SIZE).get_or_make(key, render)
    disposition = "attachment" if request.args.get("download") else "inline"
    return Response(
        body,
        mimetype=CHART_TYPES[fmt],
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )


def survey_titles(locale: str) -> dict[str, str]:
    """The slug of each survey in use and its title (of the version in use) in ``locale``,
    in one query."""
    rows = (
        SurveyVersion.select(SurveyVersion, Survey.slug)
        .join(Survey, on=(Survey.current_version_id == SurveyVersion.id))
        .order_by(Survey.slug)
        .objects()
    )
    return {row.slug: definition_of(row).title.get(locale) or row.slug for row in rows}


def reasons_in_words(rows) -> dict[int, tuple[str, ...]]:
    """Why each follow-up was opened, as the questions and the customer's answers in the
    reader's language ("Was your problem resolved? No"), by follow-up id: what a person reads
    rather than the rules (``resolved == no; csat <= 2``). The rules as written only when the
    answers no longer say it."""
    rows = list(rows)
    versions = dict(
        ResponseRow.select(ResponseRow.id, ResponseRow.survey_version)
        .where(ResponseRow.id.in_([f.response_id for f in rows] or [-1]))
        .tuples()
    )
    definitions = {
        v.id: definition_of(v)
        for v in SurveyVersion.select().where(SurveyVersion.id.in_(set(versions.values()) or [-1]))
    }
    by_response = {rid: definitions[vid] for rid, vid in versions.items()}
    answers = stored_answers_of(by_response)
    lang = language(current_locale())
    return {
        f.id: (
            robots.reasons_in_words(by_response[f.response_id], answers[f.response_id], lang)
            if f.response_id in by_response
            else ()
        )
        or (f.reasons,)
        for f in rows
    }
