"""The one place that reaches past Peewee's public API, for the survey's fast path.

Peewee makes a model instance from a row in its cursor wrappers, with two private touches: the
``__no_default__`` constructor keyword (no field defaults applied: every column comes from the
row) and ``_dirty.clear()`` (a loaded instance has nothing to save). The survey reads its
invitation and case as one plain row (see ``web/fastpath.py``: Peewee's join-resolving cursor
wrapper cost a fifth of a submission) and makes the same instances here, the same way.

tests/test_peewee_adapter.py pins that the instances made here equal Peewee's own, field by
field and clean, so a Peewee upgrade that changes either touch fails that test, not production.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import peewee


class RowReader:
    """Makes instances of ``model`` from rows holding ``fields``' raw values, in that order."""

    def __init__(self, model: type[peewee.Model], fields: Sequence[peewee.Field]):
        self.model = model
        self.fields = tuple(fields)
        self._converters = tuple((f.name, f.python_value) for f in fields)

    def __call__(self, values: Sequence[Any]) -> peewee.Model:
        """An instance as Peewee makes one: each value converted by its field, no default
        filled in, nothing marked as changed."""
        instance = self.model(
            __no_default__=True,
            **{
                name: convert(v)
                for (name, convert), v in zip(self._converters, values, strict=True)
            },
        )
        instance._dirty.clear()
        return instance


def attach(instance: peewee.Model, foreign_key: str, related: peewee.Model) -> None:
    """Give ``instance`` its related row for ``foreign_key`` as a join would, leaving it clean."""
    setattr(instance, foreign_key, related)
    instance._dirty.discard(foreign_key)
