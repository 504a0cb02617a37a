"""The schema's models are declared once: ALL_MODELS lists each, in an order that can be created."""

from __future__ import annotations

import peewee as pw

from feedback import models


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_all_models_lists_every_model_once():
    assert len(set(models.ALL_MODELS)) == len(models.ALL_MODELS)
    assert set(models.ALL_MODELS) == set(_subclasses(models.BaseModel))


def test_each_model_comes_after_the_models_it_references():
    seen = set()
    for model in models.ALL_MODELS:
        for field in model._meta.refs:
            assert field.rel_model in seen | {model}, (model.__name__, field.name)
        seen.add(model)


def test_table_and_column_names_are_peewee_s_own_but_three():
    """Only the tables whose names differ from the class name say so (``user`` and ``case`` are
    SQL keywords); a foreign key's column is always its field's name with ``_id``."""
    named = {m.__name__: m._meta.table_name for m in models.ALL_MODELS}
    derived = {m.__name__: pw.make_snake_case(m.__name__) for m in models.ALL_MODELS}
    assert {k: v for k, v in named.items() if v != derived[k]} == {
        "User": "app_user",
        "Case": "service_case",
        "AuditEntry": "audit_log",
    }
    for model in models.ALL_MODELS:
        for field in model._meta.refs:
            assert field.column_name == f"{field.name}_id"
