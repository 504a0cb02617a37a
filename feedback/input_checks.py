"""What every request is checked for before any view runs: the input rules of the whole site.

- No text may hold NUL (PostgreSQL refuses it in text, so it would be a 500 there and stored on
  SQLite) or, in JSON, a lone surrogate (not UTF-8 at all): the path, query-string names and
  values, form field names and values, uploaded file names, JSON keys and strings. The reply is
  a 400 naming the field (a JSON error under /api/, the error page elsewhere), before any view,
  so nothing is stored.
- JSON bodies are parsed by a provider that refuses nesting deeper than ``MAX_JSON_DEPTH``
  (100,000 brackets were a RecursionError): a 400 naming the body.
- Every ``<int:...>`` in a route is bounded to a signed 64-bit integer, so a huge id in a path
  is a 404 and never reaches the database (SQLite cannot bind a larger Python int).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

from .errors import AppError

MAX_JSON_DEPTH = 32
_NOTHING: ImmutableMultiDict = ImmutableMultiDict()
FORBIDDEN = re.compile("[\x00\ud800-\udfff]")  # NUL; lone surrogates (only JSON can carry them)


class JSONTooDeep(ValueError):
    pass


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether lists and objects nest deeper than ``limit`` (without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > limit:
                return True
            stack.extend(
                (child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)
            )
    return False


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing a document nested deeper than MAX_JSON_DEPTH as invalid JSON."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise JSONTooDeep() from None
        if json_depth_exceeds(value):
            raise JSONTooDeep()
        return value


MAX_ID = 2**31 - 1  # an INTEGER (SERIAL) id column on PostgreSQL: no row has a larger id


def is_id(text: str | None) -> bool:
    """Whether a text is a row id as forms carry them: ASCII digits up to MAX_ID."""
    return bool(text) and text.isascii() and text.isdigit() and int(text) <= MAX_ID


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` up to MAX_ID: a larger number matches no row, so it matches no route (404)."""

    MAX = MAX_ID

    def __init__(self, map, *args, **kwargs) -> None:
        super().__init__(map, *args, **kwargs)
        self.max = self.MAX if self.max is None else min(self.max, self.MAX)


def _shown(name: str) -> str:
    return FORBIDDEN.sub("\ufffd", name)


def _json_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(the field's dotted path, text) for every key and string of a JSON document."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where or "body", item
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{where}.{key}" if where else str(key)
                yield child_path, key
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend(
                (child, f"{where}.{i}" if where else str(i)) for i, child in enumerate(item)
            )


def forbidden_field(path: str, args, form, files, body: Any = None) -> str | None:
    """The first field (as a person can read its name) holding NUL or a lone surrogate, else
    None. Pure: the request's parts are passed in. (All names and values are searched at once;
    the field is looked for only when something was found.)"""
    if FORBIDDEN.search(path):
        return "path"
    for multi in (args, form):
        pairs = list(multi.items(multi=True))
        if pairs and FORBIDDEN.search("".join(k + v for k, v in pairs)):
            return next(_shown(k) for k, v in pairs if FORBIDDEN.search(k + v))
    for key, stored in files.items(multi=True):
        if FORBIDDEN.search(key + (stored.filename or "")):
            return _shown(key)
    if body is not None:
        for field, text in _json_strings(body):
            if FORBIDDEN.search(text):
                return _shown(field)
    return None


def _too_deep(data: bytes) -> bool:
    """Whether a body that failed to parse failed for its depth (parsed again only then; the
    views name other problems themselves)."""
    try:
        current_app.json.loads(data)
    except JSONTooDeep:
        return True
    except ValueError:
        return False
    return False


def check_request():
    """A before-request hook: refuse what no view can store or parse (see the module's text)."""
    req = request._get_current_object()  # one proxy lookup, not one per attribute
    body = None
    if req.method in ("GET", "HEAD"):
        form = files = _NOTHING
    else:
        form, files = req.form, req.files
        if req.is_json:
            body = req.get_json(silent=True)
            if body is None and _too_deep(req.get_data(cache=True)):
                raise AppError(
                    400,
                    _("The body is not valid JSON."),
                    {
                        "body": [
                            _("must be a JSON object nested at most %(n)d deep", n=MAX_JSON_DEPTH)
                        ]
                    },
                )
    field = forbidden_field(req.path, req.args, form, files, body)
    if field is not None:
        raise AppError(
            400,
            _(
                "“%(field)s” holds a character that is not allowed here (NUL or a lone surrogate).",
                field=field,
            ),
            {field: [_("must not contain NUL or unpaired surrogates")]},
        )


def init_app(app: Flask) -> None:
    """The converter, before any blueprint adds a route, and the JSON provider. (The app adds
    ``check_request`` as a before-request hook itself, after the database connection.)"""
    app.url_map.converters["int"] = BoundedIntConverter
    app.json = JSONProvider(app)
