"""The customer's survey: ``/s/<token>``, answered once, in the customer's language."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from markupsafe import Markup

from .. import responses
from ..cases import TOKEN
from ..db import Prepared, utcnow
from ..extensions import limiter
from ..i18n import anonymous_locale, current_locale
from ..input_checks import is_id
from ..models import Case, Invitation, Response, Survey, SurveyVersion
from ..surveys import definition_of
from .common import follow_up_policy
from .survey_forms import checked_submission, form_class, prefill, survey_csrf_token

bp = Blueprint("survey", __name__, url_prefix="/s")


@limiter.request_filter
def _not_rate_limited() -> bool:
    """Survey pages have no rate limit: spare them Flask-Limiter's work on every request.

    (A limit added to this blueprint would need this filter narrowed, or it would not apply.)
    """
    return request.blueprint == "survey"


_INVITATION_FIELDS = Invitation._meta.sorted_fields
_CASE_FIELDS = Case._meta.sorted_fields
_BY_TOKEN = Prepared(
    lambda token: (
        Invitation.select(*_INVITATION_FIELDS, *_CASE_FIELDS, Survey.current_version_id)
        .join(Case)
        .join(Survey, on=(Case.survey == Survey.id))
        .where(Invitation.token == token)
        .limit(1)
    ),
    arity=1,
)


def _instance(model, fields, values):
    """A model instance from its columns' raw values, as Peewee's cursor wrappers make one."""
    instance = model(
        __no_default__=True,
        **{f.name: f.python_value(v) for f, v in zip(fields, values, strict=True)},
    )
    instance._dirty.clear()
    return instance


def _load(token: str) -> tuple[Invitation, Case, int]:
    """The invitation, its case and its survey's current version id, in one query.

    Read as a plain row and made into the two models here: Peewee's join-resolving cursor
    wrapper cost a fifth of a submission (measured in-process).
    """
    if not TOKEN.match(token):
        abort(404)
    row = _BY_TOKEN.execute(token).fetchone()
    if row is None:
        abort(404)
    split = len(_INVITATION_FIELDS)
    invitation = _instance(Invitation, _INVITATION_FIELDS, row[:split])
    case = _instance(Case, _CASE_FIELDS, row[split : split + len(_CASE_FIELDS)])
    invitation.case = case
    invitation._dirty.clear()
    # The case's customer locale comes before the browser's (an explicit switch before both).
    g.locale_hint = case.customer_locale
    return invitation, case, row[-1]


def _version(survey_id: int, current_id: int, shown_id: str | None) -> SurveyVersion:
    """The version the customer was shown (sent back with the form), else the current one.

    Versions never change once stored, so each is read once per process and application.
    """
    cache = current_app.extensions.setdefault("feedback.versions", {})
    for candidate in (shown_id, current_id):
        if candidate is None or not is_id(str(candidate)):
            continue
        version = cache.get(int(candidate))
        if version is None:
            version = SurveyVersion.get_or_none(SurveyVersion.id == int(candidate))
            if version is not None:
                cache[version.id] = version
        if version is not None and version.survey_id == survey_id:
            return version
    abort(404)


def _closed(status: str, definition=None):
    if status == "answered":
        return render_template("survey/answered.html", definition=definition), 200
    return render_template("survey/closed.html", status=status, definition=definition), 410


@bp.route("/<token>", methods=["GET", "POST"])
def answer(token: str):
    invitation, case, current_id = _load(token)
    version = _version(
        case.survey_id,
        current_id,
        request.form.get("version") if request.method == "POST" else None,
    )
    definition = definition_of(version)
    status = invitation.current_status()
    if status != "pending":
        return _closed(status, definition)
    # Without cookies (a customer sending the form) the choice needs no Babel, session or user.
    locale = anonymous_locale(case.customer_locale) if page_cacheable() else current_locale()
    csrf = survey_csrf_token(current_app.config["SECRET_KEY"], token)
    if request.method == "POST":
        answers = checked_submission(definition, request.form, csrf)
        if answers is not None:
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
        # the form is built only to show what is wrong, with what was typed kept
        form = form_class(definition, locale)(expected_csrf=csrf)
        form.validate()
        form.version.data = str(version.id)  # the version these answers are checked against
        return render_template(
            "survey/form.html",
            form=form,
            definition=definition,
            version=version,
            token=token,
            locale=locale,
        ), 422
    return render_form_page(definition, version, token, locale, csrf)


PAGE_CACHE_SIZE = 256

# A page view needs only these columns, read as a plain row: far cheaper than models.
_PAGE_ROW = Prepared(
    lambda token: (
        Invitation.select(
            Invitation.status,
            Invitation.expires_at,
            Case.customer_locale,
            Case.survey,
            Survey.current_version_id,
        )
        .join(Case)
        .join(Survey, on=(Case.survey == Survey.id))
        .where(Invitation.token == token)
        .limit(1)
    ),
    arity=1,
)

# Stand-ins for the invitation token and the CSRF token in a cached page: random for each
# process, made only of characters that neither HTML-escaping nor URL-quoting changes, as are
# the real ones (TOKEN's alphabet; the CSRF token is hexadecimal).
TOKEN_STAND_IN = "tok" + secrets.token_hex(16)
CSRF_STAND_IN = "csrf" + secrets.token_hex(16)


def page_cacheable() -> bool:
    """Whether this page view may come from the page cache: no cookies, no ``?lang=``.

    Without a cookie there is no session (no language switch kept, no flashed message) and no
    logged-in staff member (whose navigation the header shows), so the page of an unanswered
    invitation depends only on its survey version, the language and the query string (prefilled
    answers, the language links) besides the two tokens. ``?lang=`` stores the choice in the
    session, so it takes the full path.
    """
    return "HTTP_COOKIE" not in request.environ and "lang" not in request.args


def serve_cached_page():
    """A before-request hook: a customer's survey page from the page cache, when it can be.

    The app registers it before Flask-Limiter's hook (survey pages have no rate limit), so a
    cached page view skips that work too. Anything else (other pages, a POST, a request with a
    cookie, an invitation not pending, an unknown link) goes on to the view as usual.
    """
    if request.endpoint == "survey.answer" and request.method == "GET" and page_cacheable():
        return _cached_page(request.view_args["token"])
    return None


def _cached_page(token: str):
    """The page of an unanswered invitation, rendered once per version, language and query.

    Returns None (the full path answers) for an invitation that is not pending.
    """
    if not TOKEN.match(token):
        abort(404)
    row = _PAGE_ROW.execute(token).fetchone()
    if row is None:
        abort(404)
    status, expires_at, customer_locale, survey_id, current_id = row
    if status != "pending" or Invitation.expires_at.python_value(expires_at) <= utcnow():
        return None
    g.locale_hint = customer_locale
    locale = anonymous_locale(customer_locale)
    version = _version(survey_id, current_id, None)
    key = (version.id, locale, request.script_root, tuple(request.args.items(multi=True)))
    cache = current_app.extensions.setdefault("feedback.survey_pages", {})
    page = cache.get(key)
    if page is None:
        definition = definition_of(version)
        page = render_form_page(definition, version, TOKEN_STAND_IN, locale, CSRF_STAND_IN).encode()
        if len(cache) >= PAGE_CACHE_SIZE:
            cache.clear()
        cache[key] = page
    csrf = survey_csrf_token(current_app.config["SECRET_KEY"], token)
    body = page.replace(TOKEN_STAND_IN.encode(), token.encode()).replace(
        CSRF_STAND_IN.encode(), csrf.encode()
    )
    return current_app.response_class(body, mimetype="text/html")


def render_form_page(definition, version: SurveyVersion, token: str, locale: str, csrf: str) -> str:
    """The unanswered form of one invitation, as the full path renders it."""
    answers = prefill(definition, request.args)
    return render_template(
        "survey/form.html",
        form=None,
        definition=definition,
        version=version,
        token=token,
        locale=locale,
        survey_csrf=csrf,
        questions_html=_questions_html(form_class(definition, locale), definition, locale, answers),
    )


FRAGMENT_CACHE_SIZE = 256


def _questions_html(form_cls, definition, locale: str, answers: dict) -> Markup:
    """The questions of an unanswered form, rendered once per version, language and prefill.

    Rendering some fifty inputs through WTForms is most of a page view's time; the fragment
    holds no token, session or personal data, so it is shared by every invitation.
    """
    key = (
        definition.checksum,
        locale,
        tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in answers.items())),
    )
    cache = current_app.extensions.setdefault("feedback.question_fragments", {})
    html = cache.get(key)
    if html is None:
        if len(cache) >= FRAGMENT_CACHE_SIZE:
            cache.clear()
        form = form_cls(formdata=None, data=answers)
        html = Markup(
            render_template(
                "survey/_questions.html", form=form, definition=definition, locale=locale
            )
        )
        cache[key] = html
    return html


@bp.route("/<token>/thanks")
def thanks(token: str):
    invitation, _case, _current = _load(token)
    if invitation.status != "answered":
        return redirect(url_for("survey.answer", token=token))
    response = Response.get(Response.invitation == invitation)
    definition = definition_of(SurveyVersion.get_by_id(response.survey_version_id))
    return render_template("survey/thanks.html", definition=definition)
