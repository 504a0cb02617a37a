"""init-db: create from nothing, upgrade from every earlier schema keeping every row, twice is a no-op."""

from __future__ import annotations

import pytest

from feedback.db import LATEST_SCHEMA, MIGRATIONS, database, migrate, open_database, schema_version
from feedback.models import ALL_MODELS

# Rows to write at a schema version: (table, columns, values). Written with plain SQL, as an
# older release of feedback would have written them.
SEED_ROWS = {
    1: [
        ("team", ("id", "name", "created_at"), (1, "账务组", "2026-01-02 03:04:05")),
        (
            "app_user",
            (
                "id",
                "username",
                "display_name",
                "password_hash",
                "role",
                "team_id",
                "active",
                "locale",
                "created_at",
            ),
            (1, "li", "李娜", "scrypt:x", "lead", 1, True, "zh_CN", "2026-01-02 03:04:05"),
        ),
        ("team_lead", ("team_id", "user_id"), (1, 1)),
        (
            "api_token",
            ("id", "name", "token_hash", "created_at"),
            (1, "helpdesk", "ab" * 32, "2026-01-02 03:04:05"),
        ),
    ],
    2: [
        (
            "survey",
            ("id", "slug", "current_version_id", "created_at"),
            (1, "post-case", 1, "2026-01-02 03:04:05"),
        ),
        (
            "survey_version",
            ("id", "survey_id", "version", "checksum", "definition", "created_at"),
            (1, 1, 1, "c" * 64, "{}", "2026-01-02 03:04:05"),
        ),
        (
            "service_case",
            (
                "id",
                "case_ref",
                "survey_id",
                "channel",
                "team_id",
                "resolved_at",
                "reopened",
                "created_at",
                "updated_at",
            ),
            (
                1,
                "C-1",
                1,
                "phone",
                1,
                "2026-01-02 03:04:05",
                False,
                "2026-01-02 03:04:05",
                "2026-01-02 03:04:05",
            ),
        ),
        (
            "invitation",
            (
                "id",
                "case_id",
                "token",
                "status",
                "created_at",
                "expires_at",
                "day",
                "week",
                "month",
            ),
            (
                1,
                1,
                "t" * 24,
                "answered",
                "2026-01-02 03:04:05",
                "2026-01-16 03:04:05",
                "2026-01-02",
                "2025-12-29",
                "2026-01-01",
            ),
        ),
        (
            "response",
            (
                "id",
                "invitation_id",
                "case_id",
                "survey_id",
                "survey_version_id",
                "source",
                "locale",
                "submitted_at",
                "day",
                "week",
                "month",
                "channel",
                "csat",
            ),
            (
                1,
                1,
                1,
                1,
                1,
                "link",
                "zh_CN",
                "2026-01-03 03:04:05",
                "2026-01-03",
                "2025-12-29",
                "2026-01-01",
                "phone",
                5,
            ),
        ),
        ("answer", ("id", "response_id", "question_id", "value_int"), (1, 1, "csat", 5)),
    ],
    3: [
        (
            "suggestion_category",
            ("id", "slug", "name_zh", "name_en", "position", "active"),
            (1, "service", "服务质量", "Service quality", 1, True),
        ),
        (
            "suggestion",
            (
                "id",
                "box",
                "category_id",
                "title",
                "body",
                "anonymous",
                "locale",
                "tracking_hash",
                "status",
                "public",
                "created_at",
                "reply_due_at",
                "updated_at",
                "day",
                "month",
            ),
            (
                1,
                "customer",
                1,
                "等候太久",
                "电话排队二十分钟。",
                True,
                "zh_CN",
                "h" * 64,
                "new",
                False,
                "2026-01-02 03:04:05",
                "2026-01-09 03:04:05",
                "2026-01-02 03:04:05",
                "2026-01-02",
                "2026-01-01",
            ),
        ),
        (
            "suggestion_event",
            ("id", "suggestion_id", "by_submitter", "to_status", "public_text", "created_at"),
            (1, 1, False, "review", "我们在看。", "2026-01-03 03:04:05"),
        ),
    ],
}

# Found by its description, not its number, so that migrations merged in beside it keep working.
ACTIONS_MIGRATION = next(
    number
    for number, (description, _s) in enumerate(MIGRATIONS, start=1)
    if description.startswith("improvement actions")
)
SEED_ROWS[ACTIONS_MIGRATION] = [
    (
        "improvement_action",
        (
            "id",
            "title",
            "description",
            "metric",
            "survey_id",
            "team_id",
            "owner_id",
            "start_date",
            "due_date",
            "state",
            "created_by_id",
            "created_at",
            "updated_by_id",
            "updated_at",
        ),
        (
            1,
            "回访话术培训",
            "",
            "csat",
            1,
            1,
            1,
            "2026-02-01",
            "2026-03-01",
            "planned",
            1,
            "2026-01-20 03:04:05",
            1,
            "2026-01-20 03:04:05",
        ),
    ),
    (
        "action_milestone",
        ("id", "action_id", "title", "due_date", "state", "created_at"),
        (1, 1, "培训完成", "2026-02-15", "open", "2026-01-20 03:04:05"),
    ),
    (
        "action_event",
        ("id", "action_id", "user_id", "at", "to_state", "note"),
        (1, 1, 1, "2026-01-20 03:04:05", "planned", ""),
    ),
]


def _number_of(description_start: str) -> int:
    """A migration's number found by its description, so merged branches may renumber."""
    return next(
        n
        for n, (description, _s) in enumerate(MIGRATIONS, start=1)
        if description.startswith(description_start)
    )


SEED_ROWS[_number_of("follow-ups of unhappy answers")] = [
    (
        "follow_up",
        (
            "id",
            "response_id",
            "case_id",
            "survey_id",
            "team_id",
            "reasons",
            "state",
            "created_at",
            "due_at",
            "day",
            "week",
            "month",
        ),
        (
            1,
            1,
            1,
            1,
            1,
            "csat <= 2",
            "open",
            "2026-01-03 03:04:05",
            "2026-01-06 03:04:05",
            "2026-01-03",
            "2025-12-29",
            "2026-01-01",
        ),
    ),
    (
        "follow_up_event",
        ("id", "follow_up_id", "user_id", "at", "to_state", "note"),
        (1, 1, 1, "2026-01-03 03:04:05", "open", ""),
    ),
    (
        "outbox",
        ("id", "kind", "event", "target", "payload", "created_at", "attempts", "next_attempt_at"),
        (
            1,
            "webhook",
            "follow_up.created",
            "http://hook.test/",
            "{}",
            "2026-01-03 03:04:05",
            0,
            "2026-01-03 03:04:05",
        ),
    ),
]

# an index only: the rows written before it (response, at 2) must come through
SEED_ROWS[_number_of("a covering index that hands the dashboard")] = []
SEED_ROWS[_number_of("an audit log; sessions that end")] = [
    (
        "audit_log",
        ("id", "at", "actor_user_id", "actor", "action", "target", "detail", "address"),
        (1, "2026-01-04 03:04:05", 1, "admin", "user.create", "user 2", "{}", "192.0.2.1"),
    ),
]

SEED_ROWS[_number_of("invitations sent by the site")] = [
    (
        "opt_out",
        ("email_hash", "created_at"),
        ("e" * 64, "2026-01-05 03:04:05"),
    ),
]
SEED_ROWS[_number_of("chat robots of teams")] = [
    (
        "robot",
        ("id", "team_id", "platform", "name", "url", "secret", "active", "created_at"),
        (1, 1, "dingtalk", "值班群", "http://robot.test/send", "SEC1", True, "2026-01-04 03:04:05"),
    ),
]
SEED_ROWS[_number_of("the terms of each response's comments")] = [
    ("comment_terms", ("response_id", "dictionary", "terms"), (1, "0123456789abcdef", " 退款 ")),
]
SEED_ROWS[_number_of("surveys edited in the browser")] = [
    (
        "survey_draft",
        ("id", "slug", "user_id", "base_version", "data", "updated_at"),
        (1, "post-case", 1, 1, '{"slug": "post-case"}', "2026-01-06 03:04:05"),
    ),
]


SEED_ROWS[_number_of("site settings an admin sets on the channels page")] = [
    (
        "site_setting",
        ("name", "value", "changed_at", "changed_by"),
        ("SMTP_HOST", "smtp.example.cn", "2026-01-07 03:04:05", "admin"),
    ),
]


def _insert(db, table, columns, values):
    marks = ", ".join([db.param] * len(columns))
    db.execute_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)


def _snapshot(db) -> dict:
    return {
        table: db.execute_sql(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        for rows in SEED_ROWS.values()
        for table, _c, _v in rows
    }


def test_every_migration_has_seed_rows():
    assert sorted(SEED_ROWS) == list(range(1, LATEST_SCHEMA + 1))


@pytest.mark.parametrize("start", range(1, LATEST_SCHEMA + 1))
def test_upgrade_from_each_schema_keeps_every_row(empty_database_url, start):
    db = open_database(empty_database_url)
    database.initialize(db)
    with database.connection_context():
        assert migrate(db, target=start) == list(range(1, start + 1))
        with db.atomic():
            for version in range(1, start + 1):
                for table, columns, values in SEED_ROWS[version]:
                    _insert(db, table, columns, values)
        before = _snapshot_existing(db, start)
        assert migrate(db) == list(range(start + 1, LATEST_SCHEMA + 1))
        assert schema_version(db) == LATEST_SCHEMA
        assert _snapshot_existing(db, start) == before
        assert migrate(db) == []  # twice changes nothing
    db.close_all()


def _snapshot_existing(db, version):
    # the seeded columns only: a later migration may add a column to an existing table
    return {
        table: db.execute_sql(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1").fetchall()
        for v in range(1, version + 1)
        for table, columns, _v in SEED_ROWS[v]
    }


def test_models_match_the_migrated_schema(empty_database_url):
    db = open_database(empty_database_url)
    database.initialize(db)
    with database.connection_context():
        migrate(db)
        tables = set(db.get_tables())
        for model in ALL_MODELS:
            table = model._meta.table_name
            assert table in tables, f"no table {table} for {model.__name__}"
            columns = {c.name for c in db.get_columns(table)}
            fields = {f.column_name for f in model._meta.sorted_fields}
            assert fields <= columns, f"{table} lacks {fields - columns}"
            assert columns <= fields, f"{model.__name__} does not map {columns - fields}"
    db.close_all()


def test_migrations_are_described():
    assert all(description and statements for description, statements in MIGRATIONS)


def test_init_db_command_twice(make_app):
    app = make_app(migrated=False)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert f"upgraded from version 0 to {LATEST_SCHEMA}" in first.output
    assert "post-case: new, version 1" in first.output
    second = runner.invoke(args=["init-db"])
    assert "is up to date" in second.output and "post-case: unchanged, version 1" in second.output


SEED_ROWS[_number_of("links from improvement actions")] = [
    ("action_suggestion", ("action_id", "suggestion_id"), (1, 1)),
    ("action_follow_up", ("action_id", "follow_up_id"), (1, 1)),
]


def test_the_month_cells_index_covers_the_dashboards_cells(empty_database_url):
    """The index reports.score_cells reads a long period on, in the order it groups by."""
    db = open_database(empty_database_url)
    database.initialize(db)
    with database.connection_context():
        migrate(db)
        index = {i.name: i for i in db.get_indexes("response")}["response_survey_month_cells"]
        assert index.columns == [
            "survey_id",
            "month",
            "channel",
            "team_id",
            "agent",
            "category",
            "source",
            "day",
            "csat",
            "nps",
            "ces",
        ]
    db.close_all()


SEED_ROWS[_number_of("digest subscriptions")] = [
    (
        "digest_subscription",
        (
            "id",
            "user_id",
            "survey_id",
            "frequency",
            "channel",
            "team_id",
            "agent",
            "category",
            "last_period",
            "created_at",
        ),
        (1, 1, 1, "weekly", "phone", 1, "李娜", "账单", "2026-01-05", "2026-01-06 03:04:05"),
    ),
]


# a staff member linked to their cases (the columns of the first user, and the agent code)
SEED_ROWS[_number_of("an agent code on users")] = [
    (
        "app_user",
        (*SEED_ROWS[1][1][1], "agent_code"),
        (2, "na", "李娜", "scrypt:x", "staff", 1, True, "zh_CN", "2026-01-07 03:04:05", "李娜"),
    ),
]


def test_an_agent_code_belongs_to_one_user_whatever_its_case(empty_database_url):
    """The unique index compares agent codes without regard to case; users without one are
    many."""
    db = open_database(empty_database_url)
    database.initialize(db)
    with database.connection_context():
        migrate(db)
        columns = ("id", "username", "display_name", "password_hash", "role", "active")
        for number, code in ((1, "A017"), (2, None), (3, None)):
            _insert(
                db,
                "app_user",
                (*columns, "created_at", "agent_code"),
                (number, f"u{number}", "x", "x", "staff", True, "2026-01-07 03:04:05", code),
            )
        with pytest.raises(Exception) as refused, db.atomic():
            _insert(
                db,
                "app_user",
                (*columns, "created_at", "agent_code"),
                (4, "u4", "x", "x", "staff", True, "2026-01-07 03:04:05", "a017"),
            )
        assert "unique" in str(refused.value).lower()
    db.close_all()


def _another(table: str, version: int, changes: dict, extra: dict | None = None):
    """A seed row of an earlier version again, with other values (and more columns)."""
    _t, columns, values = next(r for r in SEED_ROWS[version] if r[0] == table)
    row = {**dict(zip(columns, values, strict=True)), **changes, **(extra or {})}
    return (table, tuple(row), tuple(row.values()))


SEED_ROWS[_number_of("invitations by text message")] = [
    _another("service_case", 2, {"id": 2, "case_ref": "C-2"}),
    _another(
        "invitation",
        2,
        {"id": 2, "case_id": 2, "token": "u" * 24, "status": "pending"},
        {"delivery": "queued", "channel": "sms", "short_code": "AbCdEfGhIj"},
    ),
]


def test_invitations_emailed_before_texts_existed_are_emails(empty_database_url):
    db = open_database(empty_database_url)
    database.initialize(db)
    with database.connection_context():
        before = _number_of("invitations by text message") - 1
        migrate(db, target=before)
        with db.atomic():
            for version in range(1, 3):
                for table, columns, values in SEED_ROWS[version]:
                    _insert(db, table, columns, values)
            db.execute_sql("UPDATE invitation SET delivery = 'sent'")
        migrate(db)
        assert db.execute_sql("SELECT channel, short_code FROM invitation").fetchall() == [
            ("email", None)
        ]
    db.close_all()


SEED_ROWS[_number_of("customers' phone numbers in one form")] = [
    _another("service_case", 2, {"id": 3, "case_ref": "C-3"}, {"customer_phone_e164": None}),
]

# as older releases stored them (before the phone was checked, anything up to 50 characters)
OLD_PHONES = {
    "P-1": ("138 0013 8000", "+8613800138000"),
    "P-2": ("+8613800138000", "+8613800138000"),
    "P-3": ("008613800138000", "+8613800138000"),
    "P-4": (None, None),
    "P-5": ("ext. 1234, ask for Li", None),
    "P-6": ("010-12345678", "+861012345678"),
    "P-7": (" +44 20 7946 0958 ", "+442079460958"),
}


def test_the_phone_migration_fills_one_form_in_batches(empty_database_url, monkeypatch):
    import feedback.db

    monkeypatch.setattr(feedback.db, "BACKFILL_BATCH", 2)  # several batches, one partly unread
    db = open_database(empty_database_url)
    database.initialize(db)
    with database.connection_context():
        migrate(db, target=_number_of("customers' phone numbers in one form") - 1)
        with db.atomic():
            for version in range(1, 3):
                for table, columns, values in SEED_ROWS[version]:
                    _insert(db, table, columns, values)
            _t, columns, values = _another("service_case", 2, {})
            for n, (ref, (phone, _e164)) in enumerate(OLD_PHONES.items(), start=10):
                row = {**dict(zip(columns, values, strict=True)), "id": n, "case_ref": ref}
                _insert(db, "service_case", (*row, "customer_phone"), (*row.values(), phone))
        migrate(db)
        stored = db.execute_sql(
            "SELECT case_ref, customer_phone, customer_phone_e164 FROM service_case"
            " WHERE id >= 10 ORDER BY id"
        ).fetchall()
        assert stored == [(ref, phone, e164) for ref, (phone, e164) in OLD_PHONES.items()]
        indexes = {i.name: i.columns for i in db.get_indexes("service_case")}
        assert indexes["service_case_customer_phone_e164"] == ["customer_phone_e164"]
    db.close_all()
