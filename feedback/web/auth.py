"""Logging in and out (the role check every staff route uses is ``common.roles_required``)."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .. import accounts
from ..extensions import limiter, login_manager
from .common import start_session
from .forms_common import Form

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")


@login_manager.user_loader
def load_user(key: str):
    """The user a session key (from the session or the remember-me cookie) still stands for.

    A refused key (logged out, new password, deactivated, older than REMEMBER_DAYS) is removed
    from the session and its remember-me cookie deleted, so the browser stops sending them.
    """
    user = accounts.user_for_session(key, current_app.config["REMEMBER_DAYS"] * 86400)
    if user is None:
        session.pop("_user_id", None)
        if current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
            session["_remember"] = "clear"  # Flask-Login deletes the cookie on the way out
    return user


class LoginForm(Form):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Stay logged in on this device"))


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user) -> str:
    if user.role in ("manager", "lead"):
        return url_for("manage.index")
    return url_for("admin.index") if user.role == "admin" else url_for("auth.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data.strip(), form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong username or password."))
        else:
            start_session(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Logging out ends every session of the user, on every device (their session version
    rises), so that a copied session or remember-me cookie opens nothing afterwards."""
    accounts.end_sessions(current_user._get_current_object())
    logout_user()
    flash(_("You are logged out."))
    return redirect(url_for("auth.login"))


@bp.route("/")
def home():
    """The start page: what a logged-in person can do here."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("home.html")
