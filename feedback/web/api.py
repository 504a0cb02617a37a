"""The JSON API under /api/v1, authenticated with ``Authorization: Bearer <token>``."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request

from .. import accounts
from ..cases import InvalidInput, InvitationPolicy, describe, parse_case, register_case
from ..db import utcnow
from ..definitions import SLUG
from ..errors import AppError
from ..models import ApiToken
from ..surveys import current_version, definition_of
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        token = accounts.token_from_header(request.headers.get("Authorization"))
        if token is None:
            raise AppError(401, "a valid API token is required: Authorization: Bearer <token>")
        now = utcnow()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.update(last_used_at=now).where(ApiToken.id == token.id).execute()
        g.api_token = token
        return view(*args, **kwargs)
    return wrapped


@bp.route("/cases", methods=["POST"])
@token_required
def post_case():
    body = request.get_json(silent=True)
    if body is None:
        raise AppError(400, "the body must be a JSON object",
                       {"body": ["must be a JSON object"]})
    config = current_app.config
    try:
        case_in = parse_case(body, config["DEFAULT_SURVEY"], config["TIMEZONE"])
    except InvalidInput as exc:
        raise AppError(400, "some fields are not valid", exc.errors) from None
    version = current_version(case_in.survey)
    if version is None:
        raise AppError(404, f"no survey '{case_in.survey}'", {"survey": ["unknown survey"]})
    registration = register_case(case_in, version.survey, InvitationPolicy.from_config(config))
    return jsonify(describe(registration, config["BASE_URL"])), (
        201 if registration.created else 200)


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
        questions.append({
            "id": q.id, "type": q.type, "required": q.required,
            "min": q.min, "max": q.max,
            "choices": [{"value": c.value, "label": c.label.to_dict()} for c in q.choices],
        })
    return jsonify({"slug": definition.slug, "version": version.version,
                    "title": definition.title.to_dict(), "questions": questions})


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config["BASE_URL"]))
