"""The JSON API under /api/v1, authenticated with ``Authorization: Bearer <token>``."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from flask_login import current_user

from .. import accounts, comment_terms, invitations, reports
from ..cases import (
    TOKEN,
    InvalidInput,
    InvitationPolicy,
    describe,
    parse_case,
    register_case,
)
from ..db import utcnow
from ..definitions import SLUG
from ..errors import AppError
from ..i18n import language
from ..models import ApiToken, Invitation
from ..surveys import current_version, definition_of
from ..vocabulary import REPORT_ROLES, REPORTED_STATES
from .common import channel_config, key_drivers
from .filters import FilterError, one_of, parse_filters
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _check_token() -> bool:
    token = accounts.token_from_header(request.headers.get("Authorization"))
    if token is None:
        return False
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.update(last_used_at=now).where(ApiToken.id == token.id).execute()
    g.api_token = token
    return True


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not _check_token():
            raise AppError(401, "a valid API token is required: Authorization: Bearer <token>")
        return view(*args, **kwargs)

    return wrapped


def token_or_report_login(view):
    """A valid API token, or a logged-in admin, manager or team lead (leads: their teams)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        g.allowed_team_ids = None
        if request.headers.get("Authorization"):
            if not _check_token():
                raise AppError(401, "a valid API token is required: Authorization: Bearer <token>")
        elif not current_user.is_authenticated:
            raise AppError(401, "log in as a manager, or send Authorization: Bearer <token>")
        elif current_user.role not in REPORT_ROLES:
            raise AppError(403, "only managers, admins and team leads see reports")
        elif current_user.role == "lead":
            g.allowed_team_ids = tuple(current_user.led_team_ids())
        return view(*args, **kwargs)

    return wrapped


@bp.route("/cases", methods=["POST"])
@token_required
def post_case():
    body = request.get_json(silent=True)
    if body is None:
        raise AppError(400, "the body must be a JSON object", {"body": ["must be a JSON object"]})
    config = current_app.config
    try:
        case_in = parse_case(body, config["DEFAULT_SURVEY"], config["TIMEZONE"])
    except InvalidInput as exc:
        raise AppError(400, "some fields are not valid", exc.errors) from None
    version = current_version(case_in.survey)
    if version is None:
        raise AppError(404, f"no survey '{case_in.survey}'", {"survey": ["unknown survey"]})
    registration = register_case(
        case_in, version.survey, InvitationPolicy.from_config(channel_config())
    )
    return jsonify(describe(registration, config["BASE_URL"])), (
        201 if registration.created else 200
    )


@bp.route("/invitations/<token>/delivery", methods=["POST"])
@token_required
def post_delivery(token: str):
    """A mail or SMS provider's delivery report of an invitation the site sends: delivered,
    bounced or failed. ``token`` is the invitation's token, or the short code of a text (the
    ``OutId`` an Aliyun report carries)."""
    body = request.get_json(silent=True)
    state = body.get("state") if isinstance(body, dict) else None
    if state not in REPORTED_STATES:
        raise AppError(
            400,
            "some fields are not valid",
            {"state": [f"must be one of {', '.join(REPORTED_STATES)}"]},
        )
    invitation = None
    if TOKEN.match(token):
        invitation = Invitation.get_or_none(Invitation.token == token)
    elif invitations.SHORT_CODE.fullmatch(token):
        invitation = Invitation.get_or_none(Invitation.short_code == token)
    if invitation is None:
        raise AppError(404, "no such invitation")
    if invitation.delivery is None:
        raise AppError(409, "the site does not send this invitation")
    invitations.record_report(invitation, state)
    return jsonify({"token": token, "delivery": state})


@bp.route("/surveys/<slug>")
@token_required
def get_survey(slug: str):
    # a slug that no survey file can have is not looked up (PostgreSQL refuses NUL in text)
    version = current_version(slug) if SLUG.match(slug) else None
    if version is None:
        raise AppError(404, f"no survey '{slug}'")
    definition = definition_of(version)
    questions = []
    for q in definition.questions:
        questions.append(
            {
                "id": q.id,
                "type": q.type,
                "required": q.required,
                "min": q.min,
                "max": q.max,
                "choices": [{"value": c.value, "label": c.label.to_dict()} for c in q.choices],
            }
        )
    return jsonify(
        {
            "slug": definition.slug,
            "version": version.version,
            "title": definition.title.to_dict(),
            "questions": questions,
        }
    )


@bp.route("/metrics")
@token_or_report_login
def get_metrics():
    config = current_app.config
    filters = _report_filters()
    figures = reports.metrics(filters.slice, filters.group_by)
    return jsonify(
        {
            "survey": filters.survey,
            "from": filters.start.isoformat(),
            "to": filters.end.isoformat(),
            "group_by": filters.group_by,
            "min_sample": config["MIN_SAMPLE"],
            **figures,
        }
    )


@bp.route("/themes")
@token_or_report_login
def get_themes():
    """The terms that set the unhappy's and the happy's comments apart, by z (comment_terms)."""
    config = current_app.config
    filters = _report_filters()
    definition = definition_of(current_version(filters.survey))
    found = comment_terms.slice_themes(filters.slice, definition, config)
    return jsonify({side: [t.to_dict() for t in terms] for side, terms in found.items()})


def _report_filters(extra_errors: dict | None = None):
    """The report filters of the query string, or a 400/404 naming every bad parameter."""
    config = current_app.config
    errors = dict(extra_errors or {})
    try:
        filters = parse_filters(
            request.args, config["DEFAULT_SURVEY"], config["TIMEZONE"], g.allowed_team_ids
        )
    except FilterError as exc:
        raise AppError(
            exc.status, "some parameters are not valid", {**exc.errors, **errors}
        ) from None
    if errors:
        raise AppError(400, "some parameters are not valid", errors)
    return filters


@bp.route("/drivers")
@token_or_report_login
def get_drivers():
    outcome = request.args.get("outcome") or "csat"
    errors = {}
    if outcome not in reports.DRIVER_OUTCOMES:
        errors["outcome"] = [one_of(reports.DRIVER_OUTCOMES, language("en"))]
    filters = _report_filters(errors)
    version = current_version(filters.survey)
    if version is None:
        raise AppError(404, f"no survey '{filters.survey}'", {"survey": ["unknown survey"]})
    report = key_drivers(filters.slice, definition_of(version), outcome)
    return jsonify(report.to_dict())


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config["BASE_URL"]))
