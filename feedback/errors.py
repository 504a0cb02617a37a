"""One exception type for errors meant for people, and one place that answers them."""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class AppError(Exception):
    """An error with an HTTP status and a message a person can read.

    ``errors`` maps field names to messages, for API replies that name each bad field.
    """

    def __init__(self, status: int, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _reply(status: int, message: str, errors=None):
    if wants_json():
        body = {"error": message}
        if errors:
            body["errors"] = errors
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(AppError)
    def app_error(exc: AppError):
        return _reply(exc.status, exc.message, exc.errors)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _reply(
            400, _("The form was out of date. Please go back, reload the page and send it again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {
            400: _("The request could not be understood."),
            403: _("You are not allowed to see this page."),
            404: _("There is nothing at this address."),
            405: _("This address does not take that kind of request."),
            410: _("This link is no longer valid."),
            413: _("What you sent is too large."),
            429: _("Too many requests. Please wait a minute and try again."),
        }
        status = exc.code or 500
        response = make_response(_reply(status, messages.get(status, exc.description or "")))
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):  # what the client needs
            if header in exc.get_response().headers:
                response.headers[header] = exc.get_response().headers[header]
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _reply(500, _("Something went wrong on our side. Please try again later."))
