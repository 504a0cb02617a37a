"""Static files (CSS, scripts, the icon) kept by browsers for a year, and never stale.

Every ``url_for("static", filename=...)`` gets ``?v=`` and the first 12 hex digits of the
file's SHA-256, so a page always names the bytes it was made with. A request whose ``v`` is the
file's current digest is answered with ``Cache-Control: public, max-age=31536000, immutable``:
a phone opening its second survey, or a manager the dashboard again, asks for nothing. Any
other request of a static file (no ``v``, an old one) keeps Flask's default, ``no-cache`` with
an ETag, so it is checked each time.

The digest is kept in a ``Cache`` (``feedback/cache.py``) keyed by the file's name, size and
modification time, read from the disk on every use: a changed file gets a new digest at once,
in every worker.
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, request

from ..cache import cached

YEAR = 365 * 24 * 3600
DIGITS = 12


@cached(maxsize=256)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    """The first DIGITS hex digits of the SHA-256 of the file (its size and time: the key)."""
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:DIGITS]


def version(app: Flask, filename: str) -> str | None:
    """The digest of the static file ``filename`` as it is now; None when there is no such file
    (or the name leaves the static folder)."""
    folder = os.path.realpath(app.static_folder)
    path = os.path.realpath(os.path.join(folder, filename))
    if not path.startswith(folder + os.sep):
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _digest(path, stat.st_size, stat.st_mtime_ns)


def init_app(app: Flask) -> None:
    """Version every static URL and let browsers keep a versioned file for a year."""

    @app.url_defaults
    def _add_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            digest = version(app, values["filename"])
            if digest:
                values["v"] = digest

    default_max_age = app.get_send_file_max_age

    def max_age(filename: str | None) -> int | None:
        wanted = request.args.get("v")
        if filename and wanted and wanted == version(app, filename):
            return YEAR
        return default_max_age(filename)

    app.get_send_file_max_age = max_age  # send_static_file asks the app

    @app.after_request
    def _immutable(response):
        if request.endpoint == "static" and response.cache_control.max_age == YEAR:
            response.cache_control.immutable = True
        return response
