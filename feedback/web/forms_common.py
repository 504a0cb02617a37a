"""What the form modules share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms.fields.choices import SelectChoice


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """A select's or radio group's options from (value, label) pairs, as WTForms wants them
    (tuples are deprecated). Labels are kept as given, so a lazy one is translated when the
    option is rendered. Read an option back as ``.value`` / ``.label``: a SelectChoice unpacks
    into four items, not two."""
    return [SelectChoice(value, label) for value, label in pairs]
