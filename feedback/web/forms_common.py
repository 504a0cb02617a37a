"""What the form modules share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..periods import LAST_DAY


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """A select's or radio group's options from (value, label) pairs, as WTForms wants them
    (tuples are deprecated). Labels are kept as given, so a lazy one is translated when the
    option is rendered. Read an option back as ``.value`` / ``.label``: a SelectChoice unpacks
    into four items, not two."""
    return [SelectChoice(value, label) for value, label in pairs]


def date_range(
    start_text: str | None, end_text: str | None, errors: dict[str, str]
) -> tuple[date | None, date | None]:
    """A filter's from/to dates (YYYY-MM-DD, each optional). A bad one is None and its message
    goes into ``errors`` under ``start`` or ``end``, to be shown beside that field."""

    def read(text: str | None, name: str) -> date | None:
        if not text:
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            errors[name] = _("A date like 2026-11-25.")
            return None
        if day > LAST_DAY:  # the period arithmetic of reports overflows beyond it
            errors[name] = _("No later than %(day)s.", day=LAST_DAY.isoformat())
            return None
        return day

    start, end = read(start_text, "start"), read(end_text, "end")
    if start and end and end < start:
        errors["end"] = _("The end comes before the start.")
        end = None
    return start, end
