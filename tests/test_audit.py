"""The audit log's core: who, what, when and from where, in the caller's transaction."""

from __future__ import annotations

import json

import pytest

from feedback import accounts, audit
from feedback.db import database
from feedback.models import AuditEntry


def test_a_command_is_recorded_as_cli_with_its_details(app, db):
    entry = audit.record("customer.erase", "customer C-1", reason="request\x00 of 2026-12-01")
    stored = AuditEntry.get_by_id(entry.id)
    assert (stored.actor, stored.actor_user, stored.address) == ("cli", None, None)
    assert stored.action == "customer.erase" and stored.target == "customer C-1"
    assert json.loads(stored.detail) == {"reason": "request\x00 of 2026-12-01"}  # escaped in JSON


def test_a_request_records_the_logged_in_user_and_the_address(app, users):
    with (
        app.test_request_context("/", environ_base={"REMOTE_ADDR": "198.51.100.7"}),
        database.connection_context(),
    ):
        entry = audit.record("user.create", "user x", actor=users["admin"])
        stored = AuditEntry.get_by_id(entry.id)
    assert (stored.actor, stored.actor_user.id, stored.address) == (
        "admin",
        users["admin"].id,
        "198.51.100.7",
    )


def test_an_entry_rolls_back_with_the_change_it_records(app, db):
    with pytest.raises(RuntimeError):
        with database.atomic():
            audit.record("token.create", "token t")
            raise RuntimeError("the change failed")
    assert not AuditEntry.select().where(AuditEntry.action == "token.create").exists()


def test_an_unknown_action_is_refused(app, db):
    with pytest.raises(ValueError):
        audit.record("user.frobnicate")


def test_deleting_a_user_keeps_the_entry_and_its_name(app, db):
    user = accounts.create_user("temp", "long-enough", "staff")
    audit.record("user.create", "user temp", actor=user)
    user.delete_instance()
    stored = AuditEntry.get(AuditEntry.action == "user.create")
    assert stored.actor == "temp" and stored.actor_user_id is None
