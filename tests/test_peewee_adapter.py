"""Pins feedback.peewee_adapter, the one module using Peewee's private parts.

A Peewee upgrade that changes how its cursor wrappers make instances (``__no_default__``,
``_dirty``) must fail here rather than change the survey's loaded models silently.
"""

from __future__ import annotations

from support import new_case, survey_path

from feedback.db import database
from feedback.models import Case, Invitation
from feedback.peewee_adapter import RowReader, attach


def _raw(query):
    return database.execute_sql(*query.sql()).fetchone()


def test_instances_are_peewee_s_own_field_by_field_and_clean(app, client, api_headers):
    token = survey_path(
        new_case(client, api_headers, case_id="ADAPT-1", customer={"id": "c1", "locale": "en"})
    ).rsplit("/", 1)[1]
    with app.app_context(), database.connection_context():
        stored = Invitation.get(Invitation.token == token)
        stored_case = Case.get_by_id(stored.case_id)
        fields = Invitation._meta.sorted_fields
        invitation = RowReader(Invitation, fields)(
            _raw(Invitation.select(*fields).where(Invitation.token == token))
        )
        case_fields = Case._meta.sorted_fields
        case = RowReader(Case, case_fields)(
            _raw(Case.select(*case_fields).where(Case.id == stored.case_id))
        )
        assert invitation.__data__ == stored.__data__ and case.__data__ == stored_case.__data__
        for name in stored.__data__:  # converted by each field, e.g. datetimes, not text
            assert type(getattr(invitation, name)) is type(getattr(stored, name)), name
        assert not invitation.is_dirty() and invitation.dirty_fields == []
        assert not case.is_dirty()

        attach(invitation, "case", case)
        assert invitation.case is case and invitation.case_id == case.id
        assert not invitation.is_dirty()

        # Clean means an update writes only what changes afterwards, as for Peewee's own.
        invitation.status = "expired"
        assert invitation.dirty_fields == [Invitation.status]


def test_no_default_is_filled_in_for_a_column_the_row_lacks():
    assert "reopened" in Case().__data__  # a field with a default: Peewee fills it in
    case = RowReader(Case, [Case.id, Case.case_ref])([7, "REF-7"])
    assert case.__data__ == {"id": 7, "case_ref": "REF-7"} and not case.is_dirty()
