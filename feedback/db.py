"""The database: one Peewee handle chosen by URL, and the schema migrations.

The schema is written as SQL migrations, numbered from 1 and never edited once released, so that
``init-db`` can bring any older database up to date in place. ``models.py`` maps the result; a test
checks that the two agree.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import peewee
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from .cache import Cache

database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "cache_size": -16000,
}


MIN_SQLITE = (3, 30)


class DatabaseURLError(ValueError):
    """The database URL is not one we can use."""


def open_database(url: str) -> peewee.Database:
    """Return a pooled Peewee database for a sqlite:/// or postgresql:// URL (not yet connected)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/file.sqlite3 and sqlite:////absolute/file.sqlite3, as elsewhere.
        path = unquote(parsed.path)[1:]
        if not path:
            raise DatabaseURLError(f"{url}: no file named (use sqlite:///path/to/file.sqlite3)")
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            # the reports count with FILTER (3.30) and rank with window functions (3.25)
            raise DatabaseURLError(
                f"{url}: this Python's SQLite is {sqlite3.sqlite_version}; feedback needs "
                f"{'.'.join(map(str, MIN_SQLITE))} or newer (a newer Python brings one)"
            )
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Every write transaction begins IMMEDIATE: a DEFERRED read-then-write fails with
        # "database is locked" under concurrent requests even in WAL mode.
        return PooledSqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            lock_type="IMMEDIATE",
            max_connections=32,
            stale_timeout=600,
            check_same_thread=False,
        )
    if parsed.scheme in {"postgres", "postgresql"}:
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")) or "postgres",
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or None,
            port=parsed.port or None,
            max_connections=32,
            stale_timeout=600,
            **options,
        )
    raise DatabaseURLError(f"{url}: unknown kind of database (use sqlite:/// or postgresql://)")


def is_postgres(db: peewee.Database | None = None) -> bool:
    db = db if db is not None else database
    return isinstance(getattr(db, "obj", db), peewee.PostgresqlDatabase)  # unwrap the proxy


def utcnow() -> datetime:
    """Now in UTC without tzinfo: every timestamp is stored that way."""
    return datetime.now(UTC).replace(tzinfo=None)


# --- migrations -------------------------------------------------------------------------------
# Each migration is a list of statements. {pk} is the auto-increment primary key, {ts} a
# timestamp column type; the rest is SQL that SQLite and PostgreSQL both accept. A step that SQL
# cannot express (filling a new column from Python) is a function of the database instead,
# run in the same transaction.

Step = str | Callable[[peewee.Database], None]
BACKFILL_BATCH = 300  # rows per UPDATE: two parameters a row, under SQLite 3.30's 999


def _backfill_phone_e164(db: peewee.Database) -> None:
    """Fill ``service_case.customer_phone_e164`` from ``customer_phone`` (``sms.phone_number``)
    in batches of a range of ids, each one UPDATE; a number it cannot read stays NULL."""
    from .sms import phone_number  # imported here: sms imports the outbox, which imports us

    last_id = 0
    while True:
        rows = db.execute_sql(
            f"SELECT id, customer_phone FROM service_case WHERE id > {db.param}"
            f" AND customer_phone IS NOT NULL ORDER BY id LIMIT {db.param}",
            (last_id, BACKFILL_BATCH),
        ).fetchall()
        if not rows:
            return
        last_id = rows[-1][0]
        numbers = [(row_id, phone_number(phone)) for row_id, phone in rows]
        numbers = [(row_id, number) for row_id, number in numbers if number]
        if numbers:
            when = " ".join(f"WHEN {db.param} THEN {db.param}" for _ in numbers)
            db.execute_sql(
                f"UPDATE service_case SET customer_phone_e164 = CASE id {when}"
                " ELSE customer_phone_e164 END"
                f" WHERE id BETWEEN {db.param} AND {db.param} AND customer_phone IS NOT NULL",
                [value for pair in numbers for value in pair] + [numbers[0][0], numbers[-1][0]],
            )


MIGRATIONS: list[tuple[str, list[Step]]] = [
    (
        "accounts: teams, users, team leads, API tokens",
        [
            """CREATE TABLE team (
            id {pk},
            name VARCHAR(100) NOT NULL UNIQUE,
            created_at {ts} NOT NULL)""",
            """CREATE TABLE app_user (
            id {pk},
            username VARCHAR(64) NOT NULL UNIQUE,
            display_name VARCHAR(100) NOT NULL,
            password_hash VARCHAR(255) NOT NULL,
            role VARCHAR(16) NOT NULL,
            team_id INTEGER REFERENCES team (id),
            active BOOLEAN NOT NULL,
            locale VARCHAR(8),
            created_at {ts} NOT NULL)""",
            """CREATE TABLE team_lead (
            team_id INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
            PRIMARY KEY (team_id, user_id))""",
            """CREATE TABLE api_token (
            id {pk},
            name VARCHAR(100) NOT NULL,
            token_hash VARCHAR(64) NOT NULL UNIQUE,
            created_at {ts} NOT NULL,
            last_used_at {ts},
            revoked_at {ts})""",
        ],
    ),
    (
        "surveys, cases, invitations, responses and answers",
        [
            """CREATE TABLE survey (
            id {pk},
            slug VARCHAR(64) NOT NULL UNIQUE,
            source VARCHAR(255),
            current_version_id INTEGER,
            error TEXT,
            error_at {ts},
            created_at {ts} NOT NULL)""",
            """CREATE TABLE survey_version (
            id {pk},
            survey_id INTEGER NOT NULL REFERENCES survey (id),
            version INTEGER NOT NULL,
            checksum VARCHAR(64) NOT NULL,
            definition TEXT NOT NULL,
            created_at {ts} NOT NULL,
            UNIQUE (survey_id, version))""",
            """CREATE TABLE service_case (
            id {pk},
            case_ref VARCHAR(100) NOT NULL UNIQUE,
            survey_id INTEGER NOT NULL REFERENCES survey (id),
            channel VARCHAR(16) NOT NULL,
            agent VARCHAR(100),
            team_id INTEGER REFERENCES team (id),
            category VARCHAR(100),
            resolved_at {ts} NOT NULL,
            reopened BOOLEAN NOT NULL,
            customer_ref VARCHAR(200),
            customer_name VARCHAR(200),
            customer_email VARCHAR(254),
            customer_phone VARCHAR(50),
            customer_locale VARCHAR(8),
            suppressed_reason VARCHAR(200),
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL)""",
            "CREATE INDEX service_case_customer_ref ON service_case (customer_ref)",
            "CREATE INDEX service_case_customer_email ON service_case (customer_email)",
            "CREATE INDEX service_case_resolved_at ON service_case (resolved_at)",
            """CREATE TABLE invitation (
            id {pk},
            case_id INTEGER NOT NULL UNIQUE REFERENCES service_case (id),
            token VARCHAR(64) NOT NULL UNIQUE,
            status VARCHAR(16) NOT NULL,
            created_at {ts} NOT NULL,
            expires_at {ts} NOT NULL,
            answered_at {ts},
            day DATE NOT NULL,
            week DATE NOT NULL,
            month DATE NOT NULL)""",
            "CREATE INDEX invitation_day ON invitation (day, status)",
            """CREATE TABLE response (
            id {pk},
            invitation_id INTEGER UNIQUE REFERENCES invitation (id),
            case_id INTEGER NOT NULL REFERENCES service_case (id),
            survey_id INTEGER NOT NULL REFERENCES survey (id),
            survey_version_id INTEGER NOT NULL REFERENCES survey_version (id),
            source VARCHAR(16) NOT NULL,
            entered_by_id INTEGER REFERENCES app_user (id),
            locale VARCHAR(8) NOT NULL,
            submitted_at {ts} NOT NULL,
            day DATE NOT NULL,
            week DATE NOT NULL,
            month DATE NOT NULL,
            channel VARCHAR(16) NOT NULL,
            team_id INTEGER REFERENCES team (id),
            agent VARCHAR(100),
            category VARCHAR(100),
            csat SMALLINT,
            nps SMALLINT,
            ces SMALLINT)""",
            # Covering indexes for the reports: filter by survey and period, read the scores.
            # ... and by the slice columns too, so breakdowns by channel, team, agent or category
            # never read the table itself
            "CREATE INDEX response_survey_day ON response "
            "(survey_id, day, csat, nps, ces, channel, team_id, agent, category, source)",
            "CREATE INDEX response_survey_submitted ON response (survey_id, submitted_at)",
            "CREATE INDEX response_survey_week ON response (survey_id, week, day, csat, nps, ces)",
            "CREATE INDEX response_case ON response (case_id)",
            "CREATE INDEX response_survey_day_id ON response (survey_id, day, id)",  # exports
            """CREATE TABLE answer (
            id {pk},
            response_id INTEGER NOT NULL REFERENCES response (id) ON DELETE CASCADE,
            question_id VARCHAR(64) NOT NULL,
            value_int INTEGER,
            value_text TEXT,
            expectation INTEGER)""",
            "CREATE INDEX answer_response ON answer (response_id)",
            "CREATE INDEX answer_question ON answer (question_id)",
        ],
    ),
    (
        "suggestion box: categories, suggestions and their history",
        [
            """CREATE TABLE suggestion_category (
            id {pk},
            slug VARCHAR(40) NOT NULL UNIQUE,
            name_zh VARCHAR(100) NOT NULL,
            name_en VARCHAR(100) NOT NULL,
            position INTEGER NOT NULL,
            active BOOLEAN NOT NULL)""",
            # Nothing here identifies an anonymous submitter: name, email and user_id stay NULL, and
            # no address, agent or cookie is stored for anyone.
            """CREATE TABLE suggestion (
            id {pk},
            box VARCHAR(16) NOT NULL,
            category_id INTEGER NOT NULL REFERENCES suggestion_category (id),
            title VARCHAR(120) NOT NULL,
            body TEXT NOT NULL,
            anonymous BOOLEAN NOT NULL,
            name VARCHAR(100),
            email VARCHAR(254),
            user_id INTEGER REFERENCES app_user (id),
            locale VARCHAR(8) NOT NULL,
            tracking_hash VARCHAR(64) NOT NULL UNIQUE,
            status VARCHAR(16) NOT NULL,
            team_id INTEGER REFERENCES team (id),
            owner_id INTEGER REFERENCES app_user (id),
            merged_into_id INTEGER REFERENCES suggestion (id),
            public BOOLEAN NOT NULL,
            created_at {ts} NOT NULL,
            reply_due_at {ts} NOT NULL,
            first_reply_at {ts},
            first_reply_days REAL,
            done_at {ts},
            updated_at {ts} NOT NULL,
            day DATE NOT NULL,
            month DATE NOT NULL)""",
            "CREATE INDEX suggestion_status ON suggestion (status, day)",
            "CREATE INDEX suggestion_day ON suggestion (day, month, category_id, box)",
            "CREATE INDEX suggestion_team ON suggestion (team_id, day)",
            """CREATE TABLE suggestion_event (
            id {pk},
            suggestion_id INTEGER NOT NULL REFERENCES suggestion (id) ON DELETE CASCADE,
            author_id INTEGER REFERENCES app_user (id),
            by_submitter BOOLEAN NOT NULL,
            from_status VARCHAR(16),
            to_status VARCHAR(16),
            public_text TEXT,
            internal_note TEXT,
            created_at {ts} NOT NULL)""",
            "CREATE INDEX suggestion_event_suggestion ON suggestion_event (suggestion_id, id)",
        ],
    ),
    # Improvement actions. The problem is a metric and a slice in the dashboard's terms (survey,
    # channel, team, agent, category). Links to suggestions and follow-ups can go in a table
    # action_link (action_id, kind, target_id) once those exist.
    (
        "improvement actions: actions, their milestones and state changes",
        [
            """CREATE TABLE improvement_action (
            id {pk},
            title VARCHAR(200) NOT NULL,
            description TEXT NOT NULL,
            metric VARCHAR(16) NOT NULL,
            survey_id INTEGER NOT NULL REFERENCES survey (id),
            channel VARCHAR(16),
            team_id INTEGER REFERENCES team (id),
            agent VARCHAR(100),
            category VARCHAR(100),
            owner_id INTEGER NOT NULL REFERENCES app_user (id),
            start_date DATE NOT NULL,
            due_date DATE NOT NULL,
            state VARCHAR(16) NOT NULL,
            done_on DATE,
            done_at {ts},
            evaluated_at {ts},
            verdict VARCHAR(16),
            evaluation TEXT,
            created_by_id INTEGER NOT NULL REFERENCES app_user (id),
            created_at {ts} NOT NULL,
            updated_by_id INTEGER NOT NULL REFERENCES app_user (id),
            updated_at {ts} NOT NULL)""",
            "CREATE INDEX improvement_action_state_due ON improvement_action (state, due_date)",
            "CREATE INDEX improvement_action_team ON improvement_action (team_id)",
            "CREATE INDEX improvement_action_owner ON improvement_action (owner_id)",
            """CREATE TABLE action_milestone (
            id {pk},
            action_id INTEGER NOT NULL REFERENCES improvement_action (id) ON DELETE CASCADE,
            title VARCHAR(200) NOT NULL,
            due_date DATE NOT NULL,
            state VARCHAR(8) NOT NULL,
            done_at {ts},
            done_by_id INTEGER REFERENCES app_user (id),
            created_at {ts} NOT NULL)""",
            "CREATE INDEX action_milestone_action ON action_milestone (action_id, due_date)",
            """CREATE TABLE action_event (
            id {pk},
            action_id INTEGER NOT NULL REFERENCES improvement_action (id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES app_user (id),
            at {ts} NOT NULL,
            from_state VARCHAR(16),
            to_state VARCHAR(16) NOT NULL,
            note TEXT NOT NULL)""",
            "CREATE INDEX action_event_action ON action_event (action_id, at)",
        ],
    ),
    (
        "follow-ups of unhappy answers, their events, and the notification outbox",
        [
            """CREATE TABLE follow_up (
            id {pk},
            response_id INTEGER NOT NULL UNIQUE REFERENCES response (id),
            case_id INTEGER NOT NULL REFERENCES service_case (id),
            survey_id INTEGER NOT NULL REFERENCES survey (id),
            team_id INTEGER REFERENCES team (id),
            reasons VARCHAR(500) NOT NULL,
            state VARCHAR(16) NOT NULL,
            outcome VARCHAR(24),
            created_at {ts} NOT NULL,
            due_at {ts} NOT NULL,
            first_contact_at {ts},
            closed_at {ts},
            day DATE NOT NULL,
            week DATE NOT NULL,
            month DATE NOT NULL)""",
            "CREATE INDEX follow_up_queue ON follow_up (state, due_at)",
            "CREATE INDEX follow_up_team ON follow_up (team_id, state, due_at)",
            "CREATE INDEX follow_up_day ON follow_up (day, team_id)",
            """CREATE TABLE follow_up_event (
            id {pk},
            follow_up_id INTEGER NOT NULL REFERENCES follow_up (id) ON DELETE CASCADE,
            user_id INTEGER REFERENCES app_user (id),
            at {ts} NOT NULL,
            from_state VARCHAR(16),
            to_state VARCHAR(16) NOT NULL,
            outcome VARCHAR(24),
            note TEXT NOT NULL)""",
            "CREATE INDEX follow_up_event_follow_up ON follow_up_event (follow_up_id, at)",
            """CREATE TABLE outbox (
            id {pk},
            kind VARCHAR(16) NOT NULL,
            event VARCHAR(40) NOT NULL,
            target TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at {ts} NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at {ts},
            claimed_until {ts},
            last_error TEXT,
            delivered_at {ts})""",
            "CREATE INDEX outbox_due ON outbox (delivered_at, next_attempt_at)",
            # team leads may be told of new follow-ups by email
            "ALTER TABLE app_user ADD COLUMN email VARCHAR(254)",
        ],
    ),
    (
        "links from improvement actions to the suggestions and follow-ups that led to them",
        [
            """CREATE TABLE action_suggestion (
            action_id INTEGER NOT NULL REFERENCES improvement_action (id) ON DELETE CASCADE,
            suggestion_id INTEGER NOT NULL REFERENCES suggestion (id) ON DELETE CASCADE,
            PRIMARY KEY (action_id, suggestion_id))""",
            "CREATE INDEX action_suggestion_suggestion ON action_suggestion (suggestion_id)",
            """CREATE TABLE action_follow_up (
            action_id INTEGER NOT NULL REFERENCES improvement_action (id) ON DELETE CASCADE,
            follow_up_id INTEGER NOT NULL REFERENCES follow_up (id) ON DELETE CASCADE,
            PRIMARY KEY (action_id, follow_up_id))""",
            "CREATE INDEX action_follow_up_follow_up ON action_follow_up (follow_up_id)",
        ],
    ),
    (
        "a covering index that hands the dashboard each month's responses in slice order",
        [
            # reports.score_cells groups a long period's responses by month and slice columns in
            # this order, so SQLite reads them grouped instead of sorting them (about 2.5x faster
            # on a year); the day and the scores make it covering
            "CREATE INDEX response_survey_month_cells ON response "
            "(survey_id, month, channel, team_id, agent, category, source, day, csat, nps, ces)",
        ],
    ),
    (
        "an audit log; sessions that end; call-backs for all teams",
        [
            # who did what, when and from where: administrative and sensitive actions only
            """CREATE TABLE audit_log (
            id {pk},
            at {ts} NOT NULL,
            actor_user_id INTEGER REFERENCES app_user (id) ON DELETE SET NULL,
            actor VARCHAR(64) NOT NULL,
            action VARCHAR(40) NOT NULL,
            target VARCHAR(200) NOT NULL,
            detail TEXT NOT NULL,
            address VARCHAR(64))""",
            "CREATE INDEX audit_log_at ON audit_log (at)",
            "CREATE INDEX audit_log_action ON audit_log (action, at)",
            # raised by logout, a password change and deactivation: every older session and
            # remember-me cookie of the user stops working
            "ALTER TABLE app_user ADD COLUMN session_version INTEGER NOT NULL DEFAULT 1",
            # a call-back desk may record cases of every team, not only its own
            "ALTER TABLE app_user ADD COLUMN callbacks_all_teams BOOLEAN NOT NULL DEFAULT FALSE",
        ],
    ),
    (
        "digest subscriptions: a weekly or monthly email of a survey and slice",
        [
            # last_period: the first day of the last period sent; the send claims a period with
            # a conditional UPDATE of it, so a period is sent once whoever runs the command
            """CREATE TABLE digest_subscription (
            id {pk},
            user_id INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
            survey_id INTEGER NOT NULL REFERENCES survey (id) ON DELETE CASCADE,
            frequency VARCHAR(8) NOT NULL,
            channel VARCHAR(16),
            team_id INTEGER REFERENCES team (id) ON DELETE CASCADE,
            agent VARCHAR(100),
            category VARCHAR(100),
            last_period DATE,
            created_at {ts} NOT NULL)""",
            "CREATE INDEX digest_subscription_user ON digest_subscription (user_id)",
        ],
    ),
    (
        "invitations sent by the site: their delivery and reminders; customers who opted out",
        [
            # NULL: the helpdesk sends the link; else queued, sent, delivered, failed, bounced or
            # skipped
            "ALTER TABLE invitation ADD COLUMN delivery VARCHAR(16)",
            "ALTER TABLE invitation ADD COLUMN sent_at {ts}",  # the invitation email accepted
            "ALTER TABLE invitation ADD COLUMN reminded_at {ts}",  # the first reminder accepted
            # the SHA-256 of a lower-cased address: the opt-out outlives the erased contact
            """CREATE TABLE opt_out (
            email_hash VARCHAR(64) PRIMARY KEY,
            created_at {ts} NOT NULL)""",
        ],
    ),
    (
        "chat robots of teams (WeCom, DingTalk, Feishu, Slack) and overdue follow-up alerts",
        [
            # a group robot's webhook address and secret, per team; several per team allowed
            """CREATE TABLE robot (
            id {pk},
            team_id INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE,
            platform VARCHAR(16) NOT NULL,
            name VARCHAR(100) NOT NULL,
            url TEXT NOT NULL,
            secret TEXT,
            active BOOLEAN NOT NULL,
            created_at {ts} NOT NULL)""",
            "CREATE INDEX robot_team ON robot (team_id, active)",
            # the overdue alert goes out once per follow-up: set when it is written
            "ALTER TABLE follow_up ADD COLUMN overdue_alerted_at {ts}",
            # a robot's rows are spaced by their due times (its rate limit); an invitation's
            # emails are found by (kind, target 'invitation:<id>') on the same index
            "CREATE INDEX outbox_kind_target ON outbox (kind, target, next_attempt_at)",
        ],
    ),
    (
        "the terms of each response's comments, cached for the comment themes",
        [
            # filled outside the customer's request (at the first themes request that needs
            # them, in a batch); ``dictionary`` is the stamp of the user words and stop words
            # they were cut with: rows with another stamp are cut again
            """CREATE TABLE comment_terms (
            response_id INTEGER PRIMARY KEY REFERENCES response (id) ON DELETE CASCADE,
            dictionary VARCHAR(16) NOT NULL,
            terms TEXT NOT NULL)""",
        ],
    ),
    (
        "invitations by text message: their channel and short link",
        [
            # email or sms when the site sends the invitation; the ones sent before were emails
            "ALTER TABLE invitation ADD COLUMN channel VARCHAR(8)",
            "UPDATE invitation SET channel = 'email' WHERE delivery IS NOT NULL",
            # /r/<short_code> redirects to the survey: a text's link must be short
            "ALTER TABLE invitation ADD COLUMN short_code VARCHAR(16)",
            "CREATE UNIQUE INDEX invitation_short_code ON invitation (short_code)",
        ],
    ),
    (
        "customers' phone numbers in one form (E.164), so the throttle knows a number however written",
        [
            # +8613800138000 for 138 0013 8000, 0086-138-0013-8000 ...: the throttle and the
            # per-customer lock match on it as they do on the lower-cased email
            "ALTER TABLE service_case ADD COLUMN customer_phone_e164 VARCHAR(20)",
            "CREATE INDEX service_case_customer_phone_e164 ON service_case (customer_phone_e164)",
            _backfill_phone_e164,
        ],
    ),
    (
        "an agent code on users: the name or code the helpdesk sends as a case's agent",
        [
            # links a person's account to their cases (they see their own figures); unique
            # without regard to case when set (NULL for the many users without one)
            "ALTER TABLE app_user ADD COLUMN agent_code VARCHAR(100)",
            "CREATE UNIQUE INDEX app_user_agent_code ON app_user (LOWER(agent_code))",
        ],
    ),
    (
        "surveys edited in the browser: drafts, who made each version, a refused file's problems",
        [
            # one draft per survey and admin: the survey as a file would give it, as JSON, kept
            # between the editor's round trips even while it does not validate
            """CREATE TABLE survey_draft (
            id {pk},
            slug VARCHAR(64) NOT NULL,
            user_id INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
            base_version INTEGER,
            data TEXT NOT NULL,
            updated_at {ts} NOT NULL,
            UNIQUE (slug, user_id))""",
            # NULL: loaded from a file; else the admin who saved it in the browser
            "ALTER TABLE survey_version ADD COLUMN created_by_id INTEGER REFERENCES app_user (id)",
            # the problems of a refused file as JSON, to be shown in the reader's language
            "ALTER TABLE survey ADD COLUMN problems TEXT",
        ],
    ),
    (
        "site settings an admin sets on the channels page (email, invitations, SMS, webhook)",
        [
            # one row per setting saved on /admin/channels, which then wins over the
            # environment's value; names from settings.CHANNEL_SETTINGS only, values as the
            # environment would give them (secrets too: protect the database like the environment)
            """CREATE TABLE site_setting (
            name VARCHAR(40) PRIMARY KEY,
            value TEXT NOT NULL,
            changed_at {ts} NOT NULL,
            changed_by VARCHAR(64) NOT NULL)""",
        ],
    ),
]

LATEST_SCHEMA = len(MIGRATIONS)


def _dialect(db: peewee.Database) -> dict[str, str]:
    if is_postgres(db):
        return {"pk": "SERIAL PRIMARY KEY", "ts": "TIMESTAMP"}
    return {"pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "ts": "DATETIME"}


def schema_version(db: peewee.Database) -> int:
    """The number of the last migration applied to this database (0 when empty)."""
    if "schema_migration" not in db.get_tables():
        return 0
    row = db.execute_sql("SELECT MAX(version) FROM schema_migration").fetchone()
    return row[0] or 0


def migrate(db: peewee.Database, target: int = LATEST_SCHEMA, progress=None) -> list[int]:
    """Apply the migrations this database lacks, up to ``target``; return the numbers applied.

    Each migration runs in its own transaction, so a failure leaves the database at the last
    complete version.
    """
    dialect = _dialect(db)
    with db.atomic():
        db.execute_sql(
            "CREATE TABLE IF NOT EXISTS schema_migration ("
            f" version INTEGER PRIMARY KEY, description VARCHAR(200) NOT NULL,"
            f" applied_at {dialect['ts']} NOT NULL)"
        )
    applied = []
    for number in range(schema_version(db) + 1, target + 1):
        description, statements = MIGRATIONS[number - 1]
        with db.atomic():
            for statement in statements:
                if callable(statement):
                    statement(db)
                else:
                    db.execute_sql(statement.format(**dialect))
            db.execute_sql(
                "INSERT INTO schema_migration (version, description, applied_at) "
                "VALUES (%s, %s, %s)" % ((db.param,) * 3),
                (number, description, utcnow()),
            )
        applied.append(number)
        if progress:
            progress(number, description)
    return applied


class Prepared:
    """A Peewee query whose SQL is built once per kind of database; each call binds new values.

    Building SQL is a large share of Peewee's cost on a hot path (about 40% of a survey
    submission, measured with bench/profile_survey.py), so the few queries every survey request
    runs are built once. ``build`` receives one marker per parameter and returns the query.
    """

    def __init__(self, build, arity: int):
        self._build = build
        self._arity = arity
        self._compiled: Cache[type, tuple] = Cache(4)  # by kind of database

    def _compile(self) -> tuple:
        return self._compiled.get_or_make(type(database.obj), self._make)

    def _make(self) -> tuple:
        markers = [f"\x00prepared-{i}\x00" for i in range(self._arity)]
        sql, params = self._build(*markers).sql()
        slots = [markers.index(p) if isinstance(p, str) and p in markers else None for p in params]
        if sorted(s for s in slots if s is not None) != list(range(self._arity)):
            raise ValueError("every marker must appear once as a parameter")
        return sql, slots, params

    def execute(self, *args):
        """Run it; return the cursor."""
        sql, slots, constants = self._compile()
        params = [args[s] if s is not None else c for s, c in zip(slots, constants, strict=True)]
        return database.execute_sql(sql, params)
