"""Customers opting out of survey emails: ``/unsubscribe/<token>/<signature>``.

GET shows a page with one button (mail scanners open links, so a GET changes nothing); POST opts
the customer out. The POST needs no session or CSRF cookie: RFC 8058's one-click unsubscribe is a
POST from the mail client (body ``List-Unsubscribe=One-Click``), and the link's signature, an HMAC
of the customer's address with the secret key, is what a forger cannot make.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template, request

from .. import invitations
from ..cases import TOKEN
from ..models import Case, Invitation

bp = Blueprint("unsubscribe", __name__, url_prefix="/unsubscribe")


def _customer_email(token: str, signature: str) -> str:
    """The address this link was made for; 404 for a link we did not make."""
    if not TOKEN.match(token) or len(signature) > 64:
        abort(404)
    row = (
        Case.select(Case.customer_email, Case.customer_locale)
        .join(Invitation)
        .where(Invitation.token == token)
        .tuples()
        .first()
    )
    if row is None:
        abort(404)
    email, g.locale_hint = row
    if not invitations.signature_matches(current_app.config["SECRET_KEY"], email, signature):
        abort(404)
    return email


@bp.route("/<token>/<signature>", methods=["GET", "POST"])
def opt_out(token: str, signature: str):
    email = _customer_email(token, signature)
    if request.method == "GET":
        done = invitations.opted_out(email)
        return render_template("unsubscribe/page.html", done=done, action=request.path)
    invitations.opt_out(email)
    return render_template("unsubscribe/page.html", done=True, action=request.path)
