"""feedback: customer-satisfaction surveys, a suggestion box and improvement tracking."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, g, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

from . import compression, errors, input_checks, ratelimits, settings
from .db import DatabaseURLError, database, open_database
from .extensions import babel, csrf, limiter, login_manager
from .i18n import LANGUAGES, compile_catalogues, current_locale, select_locale

__all__ = ["create_app"]


SECURITY_HEADERS = [
    (name.lower(), name, value)
    for name, value in (
        (
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'",
        ),
        ("X-Content-Type-Options", "nosniff"),
        # Survey links carry their token in the path: never send it on to another site.
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    )
]
HSTS_DEFAULT_SECONDS = 365 * 24 * 3600  # with SECURE_COOKIES and no HSTS_SECONDS
# Answers a cache may keep although they went to a logged-in user: the same for everybody.
CACHEABLE_ENDPOINTS = frozenset({"static", "favicon"})


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: settings from the environment, then ``config`` on top."""
    root = settings.PROJECT_ROOT
    app = Flask(
        __name__,
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
        instance_path=str(root / "instance"),
    )
    _configure(app, config)
    from .web import static_files
    from .web.fastpath import SessionInterface, serve_cached_page

    app.session_interface = SessionInterface()  # the survey's fast path: web/fastpath.py
    input_checks.init_app(app)  # before any route: its <int:> converter; the JSON provider
    _trust_proxies(app)
    _use_database(app)
    app.before_request(input_checks.check_request)  # NUL and the like: a 400 before any view
    app.before_request(serve_cached_page)  # after the connection, before the rate limiter
    _add_security_headers(app)
    compression.init_app(app)  # text answers gzipped: feedback/compression.py
    _init_languages(app)
    _init_extensions(app)
    _add_template_helpers(app)
    static_files.init_app(app)  # ?v= on static URLs, kept a year: web/static_files.py
    _register_blueprints(app)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    from . import cli

    cli.init_app(app)
    from .surveys import sync_at_start

    sync_at_start(app)
    if app.config["OUTBOX_THREAD"]:
        _deliver_in_background(app)
    return app


def _configure(app: Flask, config: Mapping[str, Any] | None) -> None:
    """Settings from the environment, ``config`` on top, then what Flask and its extensions
    need from them."""
    try:
        app.config.update(settings.from_environment())
    except settings.SettingError as exc:  # a person's mistake: say which, without a traceback
        raise SystemExit(f"feedback: bad setting {exc}") from None
    if config:
        app.config.update(config)
    app.config.setdefault("TESTING", False)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    app.config.update(
        WTF_I18N_ENABLED=False,  # our forms carry their own translated messages
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session: a survey left open for hours still sends
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["SECURE_COOKIES"],
        REMEMBER_COOKIE_SECURE=app.config["SECURE_COOKIES"],
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=timedelta(days=app.config["REMEMBER_DAYS"]),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        BABEL_DEFAULT_LOCALE=app.config["DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE=app.config["TIMEZONE"],
        RATELIMIT_ENABLED=app.config.get("RATELIMIT_ENABLED", True),
    )


def _trust_proxies(app: Flask) -> None:
    """Read the client's address and scheme from X-Forwarded-* only when proxies are declared:
    else anyone could forge them."""
    if proxies := app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def _use_database(app: Flask) -> None:
    """Open the pool; each request takes a connection before its first hook and gives it back
    at the end."""
    try:
        db = open_database(app.config["DATABASE_URL"])
    except (DatabaseURLError, OSError) as exc:  # OSError: the SQLite file's folder
        message = f"bad setting FEEDBACK_DATABASE_URL: {exc}"
        import click

        if click.get_current_context(silent=True) is None:  # a site: refuse to start
            raise SystemExit(f"feedback: {message}") from None
        # A command: one that reads only files (surveys check) runs; the others say this.
        from .cli import UnusableDatabase

        db = UnusableDatabase(message)
    database.initialize(db)
    app.extensions["feedback.db"] = db
    app.before_request(_connect)
    app.teardown_request(_release)


def _connect() -> None:
    database.connect(reuse_if_open=True)


def _release(_exc) -> None:
    if not database.is_closed():
        database.close()  # back to the pool: the connection stays open


def _add_security_headers(app: Flask) -> None:
    """The site's security headers on every answer (a view may set its own), and no-store on
    every private one."""
    site_headers = SECURITY_HEADERS + [
        ("strict-transport-security", "Strict-Transport-Security", f"max-age={seconds}")
        for seconds in [hsts_seconds(app.config)]
        if seconds
    ]
    remember_cookie = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        present = {key.lower() for key in headers.keys()}  # one pass, not one per header
        for lowered, name, value in site_headers:
            if lowered not in present:
                headers.add(name, value)
        if _private(response, remember_cookie):
            headers["Cache-Control"] = "no-store"
        return response


def _init_languages(app: Flask) -> None:
    """The catalogues compiled from their .po files, and Flask-Babel choosing each request's
    language."""
    compile_catalogues()
    babel.init_app(app, locale_selector=select_locale)


def _init_extensions(app: Flask) -> None:
    """CSRF, rate limits, logins and the error pages."""
    csrf.init_app(app)
    ratelimits.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    errors.init_app(app)


def _add_template_helpers(app: Flask) -> None:
    """What every template may use: the languages, filters, and the names of things."""
    from .web.labels import GLOBALS as LABELS
    from .web.survey_forms import condition_hint

    app.context_processor(_language_globals)
    app.add_template_filter(merge_query)
    app.add_template_filter(localtime)
    app.jinja_env.globals["condition_hint"] = condition_hint
    app.jinja_env.globals.update(LABELS)


def _language_globals() -> dict:
    return {"languages": LANGUAGES, "current_locale": current_locale()}


def merge_query(args: dict, **changes) -> str:
    """The query string of ``args`` with ``changes`` made (a template filter); a list value is
    a parameter given several times (``request.args.to_dict(flat=False)``)."""
    return urlencode({**args, **changes}, doseq=True)


def localtime(value, date_only: bool = False) -> str:
    """A stored (naive UTC) time in the site's time zone: 2026-11-25 14:03."""
    if value is None:
        return ""
    from flask_babel import format_datetime, to_user_timezone

    if date_only:
        return to_user_timezone(value).date().isoformat()
    return format_datetime(value, "yyyy-MM-dd HH:mm")


def _favicon():
    """Browsers ask for /favicon.ico whatever the page says: on to the site's SVG icon."""
    from flask import redirect, url_for

    return redirect(url_for("static", filename="favicon.svg"), 301)


def _register_blueprints(app: Flask) -> None:
    """Every page and the API (imported here: importing the package loads no view)."""
    from .web import (
        actions,
        admin,
        api,
        audit_log,
        auth,
        callbacks,
        channel_admin,
        digests,
        follow_ups,
        invitation_admin,
        manage,
        own,
        robots,
        short_links,
        suggest,
        survey,
        survey_editor,
        triage,
        unsubscribe,
    )

    for module in (
        auth,
        suggest,
        triage,
        manage,
        survey,
        api,
        admin,
        actions,
        follow_ups,
        callbacks,
        audit_log,
        digests,
        invitation_admin,
        unsubscribe,
        short_links,
        robots,
        own,
        survey_editor,
        channel_admin,
    ):
        app.register_blueprint(module.bp)
    csrf.exempt(api.bp)  # token-authenticated JSON, no cookies
    # The survey form checks its own CSRF token (an HMAC of the invitation token, so customers
    # need no session), and a bad one shows the form again with the answers kept.
    csrf.exempt(survey.bp)
    # RFC 8058 one-click unsubscribe is a POST from the mail client, without any cookie; the
    # link's HMAC of the address is the proof
    csrf.exempt(unsubscribe.bp)


def hsts_seconds(config: Mapping[str, Any]) -> int:
    """The Strict-Transport-Security max-age to send (0: none): HSTS_SECONDS when set, else a
    year on a site with HTTPS-only cookies."""
    if config.get("HSTS_SECONDS") is not None:
        return config["HSTS_SECONDS"]
    return HSTS_DEFAULT_SECONDS if config.get("SECURE_COOKIES") else 0


def _private(response, remember_cookie: str) -> bool:
    """Whether no cache may keep this answer: anything for a logged-in user (dashboards,
    customers' phones, admin pages), every download, every API answer; static files excepted.

    "Logged in" is decided without a query: the user Flask-Login loaded for this request, or,
    when nothing asked for it, a session or remember-me cookie that claims one.
    """
    if request.endpoint in CACHEABLE_ENDPOINTS:
        return False
    if "Content-Disposition" in response.headers or "Authorization" in request.headers:
        return True
    if not request.cookies:  # no session, no login: a customer's or a stranger's page
        return False
    user = g.get("_login_user")
    if user is not None:
        return user.is_authenticated
    return "_user_id" in session or remember_cookie in request.cookies


def _deliver_in_background(app: Flask) -> None:
    """Start the outbox thread with the first request, so CLI commands (init-db) never run it."""
    import threading

    from .outbox import start_thread

    lock = threading.Lock()

    @app.before_request
    def _start_outbox_thread():
        if "feedback.outbox_thread" not in app.extensions:
            with lock:
                if "feedback.outbox_thread" not in app.extensions:
                    app.extensions["feedback.outbox_thread"] = start_thread(app.config)


def _instance_secret(instance: Path) -> str:
    """A random key made once and kept, so sessions survive restarts and all workers agree."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: of workers starting together, one key wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
