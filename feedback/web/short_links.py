"""The short links of invitation texts: ``/r/<code>`` redirects to the survey ``/s/<token>``.

A text must be short (70 Chinese characters in one segment, and mainland SMS templates take at
most 35 in a variable), so it carries ``BASE_URL/r/<code>`` with the invitation's 10 random
base62 characters instead of the 24 of its token. The redirect stores and changes nothing:
scanners and link previews open links too, and only the survey form's POST records an answer.
Wrong codes are rate-limited per address like wrong suggestion tracking codes
(``TRACKING_RATE_LIMIT``, counted apart); an unknown code is the site's usual 404 page.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, url_for

from ..extensions import limiter
from ..invitations import SHORT_CODE
from ..models import Invitation

bp = Blueprint("short_link", __name__, url_prefix="/r")


def _wrong_code_limit() -> str:
    return current_app.config["TRACKING_RATE_LIMIT"]


def _wrong_code(response) -> bool:
    return response.status_code == 404


@bp.route("/<code>")
@limiter.limit(_wrong_code_limit, deduct_when=_wrong_code)
def follow(code: str):
    token = None
    if SHORT_CODE.fullmatch(code):
        token = Invitation.select(Invitation.token).where(Invitation.short_code == code).scalar()
    if token is None:
        abort(404)
    response = redirect(url_for("survey.answer", token=token), 303)
    # the answer names the token: no cache may keep it or hand it to someone else
    response.headers["Cache-Control"] = "no-store"
    return response
