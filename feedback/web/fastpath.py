"""The survey's fast path: every speed trick of a customer's survey request, and only here.

Boundary. What enters the fast path:

* a **page view without cookies** (``GET /s/<token>``, no ``Cookie`` header, no ``?lang=``) of a
  pending invitation: answered by ``serve_cached_page``, a before-request hook, from a cache of
  rendered pages (one per survey version, language and query string) with the invitation's
  token and CSRF token swapped into the bytes. Such a page depends on nothing else: without a
  cookie there is no session, no flashed message and no logged-in staff member.
* every **submission** (``POST /s/<token>``): the invitation and case are read as one plain row
  (``load``) and the answers checked straight from the posted form (``checked_submission``).

What falls back to the plain path (``web/survey.py``, WTForms and Peewee as usual): a page view
with a cookie or ``?lang=``, a link that is not pending (closed, answered, expired: the hook
returns None), an invalid submission (the WTForms form is built to show its errors), and the
thanks page. Both paths render the same form page (``render_form_page``); tests/
test_survey_page_cache.py checks that a cached page is byte for byte the plain one. Both check a
submission by ``survey_forms.check_answers``, with the same one-click relief (a page opened with
a pre-selected answer posts ``preselected``: only those questions are then required; tests/
test_survey_forms.py and tests/test_survey_one_tap.py compare the two paths).

Why each trick exists, and what it buys (figures from bench/README.md and docs/architecture.md;
bench_survey.py measures them against a bare Flask app):

* the page cache: a survey page is rendered once per version, language and query instead of
  per view: cookie-less page views went from 0.25-0.45 of the bare app's page rate (a full
  render) to 0.6-0.7, past the 0.50 goal;
* the question fragment cache (``_questions_html``): some fifty WTForms inputs are most of a
  full render; the plain path uses it too;
* ``load``: one plain row made into two models by ``peewee_adapter`` instead of Peewee's
  join-resolving cursor wrapper, which cost a fifth of a submission (profile_survey.py);
* ``checked_submission``: the same checks as ``SurveyFormBase.validate`` without building the
  form's fifty-odd WTForms fields, another fifth of a submission (submissions went from 0.30 to
  0.39 of the bare insert rate, with the old client);
* gzip for clients that take it, with the parts of the cached page between its tokens
  compressed once (``compression.SplitPage``): a view costs a CRC, not a compression;
* ``SessionInterface``: no cookie parsing and no signer for a request without a cookie;
* ``_not_rate_limited``: survey routes have no rate limit, so Flask-Limiter stops early;
* ``db.Prepared`` queries: SQL built once per kind of database, not per request (Peewee's SQL
  building was about 40% of a submission).

Every cache here is a ``feedback.cache.Cache`` keyed by something immutable (a version id, a
definition checksum): right with many processes, see that module.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, abort, current_app, g, has_request_context, render_template, request
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup

from ..cache import app_cache
from ..cases import TOKEN
from ..compression import SplitPage, accepts_gzip
from ..db import Prepared, utcnow
from ..definitions import SERVQUAL_PARTS, Question, SurveyDefinition
from ..extensions import limiter
from ..i18n import anonymous_locale
from ..input_checks import is_id
from ..models import Case, Invitation, Survey, SurveyVersion
from ..peewee_adapter import RowReader, attach
from ..surveys import definition_of
from .survey_forms import (
    check_answers,
    csrf_matches,
    form_class,
    prefill,
    preselected_ids,
    preselected_in,
    survey_csrf_token,
    version_well_formed,
)

PAGE_CACHE_SIZE = 256
FRAGMENT_CACHE_SIZE = 256
VERSION_CACHE_SIZE = 256

# --- the rows ---------------------------------------------------------------------------------

_INVITATION_FIELDS = Invitation._meta.sorted_fields
_CASE_FIELDS = Case._meta.sorted_fields
_INVITATION = RowReader(Invitation, _INVITATION_FIELDS)
_CASE = RowReader(Case, _CASE_FIELDS)
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
# A page view needs only these columns.
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


def load(token: str) -> tuple[Invitation, Case, int]:
    """The invitation, its case and its survey's current version id, in one query (404 if none)."""
    if not TOKEN.match(token):
        abort(404)
    row = _BY_TOKEN.execute(token).fetchone()
    if row is None:
        abort(404)
    split = len(_INVITATION_FIELDS)
    invitation = _INVITATION(row[:split])
    case = _CASE(row[split : split + len(_CASE_FIELDS)])
    attach(invitation, "case", case)
    # The case's customer locale comes before the browser's (an explicit switch before both).
    g.locale_hint = case.customer_locale
    return invitation, case, row[-1]


def survey_version(survey_id: int, current_id: int, shown_id: str | None) -> SurveyVersion:
    """The version the customer was shown (sent back with the form), else the current one.

    Versions never change once stored, so each is read once per process and application.
    """
    cache = app_cache("survey_versions", VERSION_CACHE_SIZE)
    for candidate in (shown_id, current_id):
        if candidate is None or not is_id(str(candidate)):
            continue
        version = cache.get(int(candidate))
        if version is None:
            version = SurveyVersion.get_or_none(SurveyVersion.id == int(candidate))
            if version is not None:
                version = cache.put(version.id, version)
        if version is not None and version.survey_id == survey_id:
            return version
    abort(404)


# --- the direct validation ----------------------------------------------------------------------


def checked_submission(
    definition: SurveyDefinition, formdata, expected_csrf: str
) -> dict[str, Any] | None:
    """The answers of a posted survey form when it is valid, else None.

    The same checks as ``SurveyFormBase.validate`` (tests/test_survey_forms.py compares the
    two), each question's raw input read as its WTForms field reads it: a radio, text or hidden
    field takes the first value sent for its name, or None; a checkbox list every value sent.
    """
    if not (
        csrf_matches(formdata.get("csrf_token"), expected_csrf)
        and version_well_formed(formdata.get("version"))
    ):
        return None

    def raw_answer(question: Question) -> Any:
        if question.type == "servqual":
            return {part: formdata.get(f"{question.id}-{part}") for part in SERVQUAL_PARTS}
        if question.type == "multi":
            return formdata.getlist(question.id)
        return formdata.get(question.id)

    only = preselected_ids(definition, formdata.get("preselected"))
    answers, errors = check_answers(definition, raw_answer, only_required=only)
    return None if errors else answers


# --- the pages ----------------------------------------------------------------------------------

# Stand-ins for the invitation token and the CSRF token in a cached page: random for each
# process, made only of characters that neither HTML-escaping nor URL-quoting changes, as are
# the real ones (TOKEN's alphabet; the CSRF token is hexadecimal).
TOKEN_STAND_IN = "tok" + secrets.token_hex(16)
CSRF_STAND_IN = "csrf" + secrets.token_hex(16)
_STAND_INS = (TOKEN_STAND_IN.encode(), CSRF_STAND_IN.encode())


def page_cacheable() -> bool:
    """Whether this request is a customer's without cookies and without ``?lang=`` (which the
    session keeps, so it takes the plain path)."""
    return "HTTP_COOKIE" not in request.environ and "lang" not in request.args


def serve_cached_page():
    """A before-request hook: a customer's survey page from the page cache, when it can be.

    The app registers it before Flask-Limiter's hook (survey pages have no rate limit), so a
    cached page view skips that work too. Anything else goes on to the view as usual.
    """
    if request.endpoint == "survey.answer" and request.method == "GET" and page_cacheable():
        return _cached_page(request.view_args["token"])
    return None


def _cached_page(token: str):
    """The page of a pending invitation, rendered once per version, language and query; None
    (the plain path answers) for an invitation that is not pending."""
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
    version = survey_version(survey_id, current_id, None)
    key = (version.id, locale, request.script_root, tuple(request.args.items(multi=True)))
    cached = app_cache("survey_pages", PAGE_CACHE_SIZE).get_or_make(
        key,
        lambda: SplitPage(
            render_form_page(
                definition_of(version), version, TOKEN_STAND_IN, locale, CSRF_STAND_IN
            ).encode(),
            _STAND_INS,
        ),
    )
    csrf = survey_csrf_token(current_app.config["SECRET_KEY"], token).encode()
    token_bytes = token.encode()
    body = cached.page.replace(_STAND_INS[0], token_bytes).replace(_STAND_INS[1], csrf)
    reply = current_app.response_class(body, mimetype="text/html")
    reply.vary.add("Accept-Encoding")
    if accepts_gzip():  # the parts between the tokens were compressed once, with the page
        real = {_STAND_INS[0]: token_bytes, _STAND_INS[1]: csrf}
        reply.set_data(cached.gzipped(real, body))
        reply.headers["Content-Encoding"] = "gzip"
    return reply


def render_form_page(definition, version: SurveyVersion, token: str, locale: str, csrf: str) -> str:
    """The unanswered form of one invitation, as the plain path renders it."""
    answers = prefill(definition, request.args)
    preselected = preselected_in(definition, answers)
    return render_template(
        "survey/form.html",
        form=None,
        definition=definition,
        version=version,
        token=token,
        locale=locale,
        survey_csrf=csrf,
        preselected=preselected,
        questions_html=_questions_html(definition, locale, answers, preselected),
    )


def _questions_html(definition, locale: str, answers: dict, preselected: frozenset) -> Markup:
    """The questions of an unanswered form, rendered once per version, language and prefill.

    The fragment holds no token, session or personal data, so every invitation shares it.
    """
    key = (
        definition.checksum,
        locale,
        tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in answers.items())),
    )

    def render() -> Markup:
        form = form_class(definition, locale)(formdata=None, data=answers)
        return Markup(
            render_template(
                "survey/_questions.html",
                form=form,
                definition=definition,
                locale=locale,
                preselected=preselected,
            )
        )

    return app_cache("question_fragments", FRAGMENT_CACHE_SIZE).get_or_make(key, render)


# --- the rate limiter -------------------------------------------------------------------------


@limiter.request_filter
def _not_rate_limited() -> bool:
    """Survey pages have no rate limit: Flask-Limiter stops at this filter. (A limit added to
    the survey blueprint would need this filter narrowed, or it would not apply.)"""
    return request.blueprint == "survey"


# --- the session --------------------------------------------------------------------------------


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building the signer for a request that has no
    session cookie (a customer's survey page): the same empty session, sooner."""

    def open_session(self, app: Flask, request):
        # No Cookie header at all (a customer): not even the cookies are parsed.
        if app.secret_key and (
            "HTTP_COOKIE" not in request.environ
            or not request.cookies.get(self.get_cookie_name(app))
        ):
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when the settings say so, and whenever the request came over HTTPS."""
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)
