"""Long lists in pages: the page number from ``?page=``, and the pager under a list."""

from __future__ import annotations

from flask import request

MAX_PAGE = 1_000_000  # far beyond any real list; keeps OFFSET inside every database's integers


def page_number() -> int:
    """The page asked for with ``?page=``: 1 when it is missing, not a number or below 1."""
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), MAX_PAGE)
