"""The suggestion box for customers and staff: give a suggestion, follow it with a tracking code,
and see what became of the others ("You said, we did").

Anonymous means anonymous: these views hand ``suggestions`` nothing about the person but what
they typed into the form, and for an anonymous suggestion not even their account. They log
nothing. The rate limits are counted in memory only (shared memory or a Redis; see
``feedback.ratelimits``), keyed on an HMAC of the address, never the address.
"""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import suggestions
from ..extensions import limiter
from ..i18n import current_locale
from ..models import Suggestion, SuggestionCategory, SuggestionEvent
from .common import channel_config
from .suggest_forms import CodeForm, CommentForm, SuggestionForm

bp = Blueprint("suggest", __name__, url_prefix="/suggest")


def _post_limit() -> str:
    return current_app.config["SUGGESTION_RATE_LIMIT"]


def _tracking_limit() -> str:
    return current_app.config["TRACKING_RATE_LIMIT"]


def _wrong_code(response) -> bool:
    return response.status_code == 404


def _private(response):
    """Pages holding a tracking code or a submitter's words: never kept by a cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _give(box: str):
    staff = box == "staff"
    form = SuggestionForm(staff=staff)
    if form.validate_on_submit():
        anonymous = form.identity.data == "anonymous"
        new = suggestions.NewSuggestion(
            box=box,
            category_id=form.category.data,
            title=form.title.data,
            body=form.body.data,
            anonymous=anonymous,
            locale=current_locale(),
            name=None if anonymous else form.name.data,
            email=None if anonymous else (form.email.data or None),
            user_id=current_user.id if staff and not anonymous else None,
            team_id=int(form.team.data) if staff and form.team.data else None,
        )
        try:
            suggestion, code = suggestions.submit(new, channel_config())
        except suggestions.SuggestionError as exc:
            getattr(form, exc.field, form.body).errors.append(_(exc.message))
        else:
            return _private(
                make_response(
                    render_template(
                        "suggest/thanks.html",
                        suggestion=suggestion,
                        code=code,
                        dropped_identity=anonymous and bool(form.name.data or form.email.data),
                        link=url_for("suggest.status", code=code, _external=True),
                    )
                )
            )
    elif request.method == "GET" and staff and not form.name.data:
        form.name.data = current_user.display_name
    status = 422 if form.errors else 200
    return render_template("suggest/form.html", form=form, box=box), status


@bp.route("/", methods=["GET", "POST"])
@limiter.limit(_post_limit, methods=["POST"])
def customer_box():
    return _give("customer")


@bp.route("/staff", methods=["GET", "POST"])
@limiter.limit(_post_limit, methods=["POST"])
@login_required
def staff_box():
    return _give("staff")


def _status_page(suggestion: Suggestion | None, code: str, comment_form=None):
    if suggestion is None:
        form = CodeForm(formdata=None, data={"code": code})
        form.code.errors = [_("No suggestion has this code. Check it and try again.")]
        return _private(make_response(render_template("suggest/track.html", form=form), 404))
    following = suggestions.followed(suggestion)
    history = suggestions.public_history(suggestion)
    merged_history = suggestions.public_history(following) if following.id != suggestion.id else []
    return _private(
        make_response(
            render_template(
                "suggest/status.html",
                suggestion=suggestion,
                following=following,
                history=history,
                merged_history=merged_history,
                code=code,
                comment_form=comment_form or CommentForm(formdata=None),
                category=SuggestionCategory.get_by_id(suggestion.category_id),
            ),
            422 if comment_form is not None and comment_form.errors else 200,
        )
    )


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_tracking_limit, methods=["POST"], deduct_when=_wrong_code)
def track():
    form = CodeForm()
    if form.validate_on_submit():
        return _status_page(suggestions.find_by_code(form.code.data), form.code.data)
    return _private(
        make_response(render_template("suggest/track.html", form=form), 422 if form.errors else 200)
    )


@bp.route("/track/<code>")
@limiter.limit(_tracking_limit, deduct_when=_wrong_code)
def status(code: str):
    return _status_page(suggestions.find_by_code(code), code)


@bp.route("/track/<code>/comment", methods=["POST"])
@limiter.limit(_tracking_limit, deduct_when=_wrong_code)
def comment(code: str):
    suggestion = suggestions.find_by_code(code)
    form = CommentForm()
    if suggestion is not None and form.validate_on_submit():
        try:
            suggestions.add_submitter_comment(suggestion, form.comment.data)
        except suggestions.SuggestionError as exc:
            form.comment.errors.append(_(exc.message))
        else:
            return redirect(url_for("suggest.status", code=code, _anchor="history"), 303)
    return _status_page(suggestion, code, comment_form=form)


@bp.route("/done")
def you_said_we_did():
    """Done suggestions a manager chose to show, newest first, with the last public reply."""
    done = list(
        Suggestion.select(Suggestion, SuggestionCategory)
        .join(SuggestionCategory)
        .where((Suggestion.status == "done") & (Suggestion.public == True))  # noqa: E712
        .order_by(Suggestion.done_at.desc())
        .limit(100)
    )
    replies: dict[int, str] = {}
    if done:
        for event in (
            SuggestionEvent.select(SuggestionEvent.suggestion, SuggestionEvent.public_text)
            .where(
                SuggestionEvent.suggestion.in_([s.id for s in done])
                & SuggestionEvent.public_text.is_null(False)
                & (SuggestionEvent.by_submitter == False)
            )  # noqa: E712
            .order_by(SuggestionEvent.id)
        ):
            replies[event.suggestion_id] = event.public_text  # the last one wins
    return render_template("suggest/done.html", done=done, replies=replies)
