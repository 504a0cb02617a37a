"""Fixtures: a fresh application on a fresh database for every test, on SQLite and PostgreSQL.

Every test that takes ``app`` (or anything built on it) runs twice: on a temporary SQLite file and
on the PostgreSQL server named by FEEDBACK_TEST_POSTGRES_URL (default
postgresql://127.0.0.1:5432/test). Without a server the PostgreSQL runs skip with the reason;
with FEEDBACK_REQUIRE_POSTGRES=1 (as .ci/run sets) they fail instead.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest
from support import PASSWORD, LiveServer, SmtpServer, in_app, login

from feedback import accounts, create_app
from feedback.db import LATEST_SCHEMA, database, migrate, open_database
from feedback.models import Team

# Fixtures from these modules serve every test module: one chromium a session (browser, phone),
# and the data sets several modules share (scored, two_teams).
pytest_plugins = ["browser", "data_sets"]

# Hashing strength is not what these tests measure: a cheap method keeps thousands of logins fast.
accounts.PASSWORD_METHOD = "pbkdf2:sha256:1000"

POSTGRES_URL = os.environ.get("FEEDBACK_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("FEEDBACK_REQUIRE_POSTGRES") == "1"


def _postgres_admin_connection():
    parsed = urlparse(POSTGRES_URL)
    return psycopg2.connect(
        dbname=parsed.path.lstrip("/") or "postgres",
        user=parsed.username,
        password=parsed.password,
        host=parsed.hostname,
        port=parsed.port,
        connect_timeout=3,
    )


@pytest.fixture(scope="session")
def postgres_base_url():
    """A database of this test worker's own on the PostgreSQL server, or a skip."""
    try:
        conn = _postgres_admin_connection()
    except psycopg2.OperationalError as exc:
        reason = (
            f"PostgreSQL not reachable at {POSTGRES_URL} ({str(exc).strip()[:120]}); "
            "set FEEDBACK_TEST_POSTGRES_URL to run these tests"
        )
        if REQUIRE_POSTGRES:
            pytest.fail(reason)
        pytest.skip(reason)
    # One database per test process, so that parallel workers and parallel runs never meet.
    name = f"feedback_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    parsed = urlparse(POSTGRES_URL)
    # Durability is not under test: not waiting for each commit to reach the disk saves time.
    yield urlunparse(
        parsed._replace(path=f"/{name}", query="options=-c%20synchronous_commit%3Doff")
    )
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def reset_postgres(url: str, keep_schema: bool) -> None:
    """Empty a PostgreSQL test database.

    With ``keep_schema`` a database already at the latest schema keeps its tables and loses its
    rows (much faster than DDL); otherwise the whole schema is dropped.
    """
    parsed = urlparse(url)
    conn = psycopg2.connect(
        dbname=parsed.path.lstrip("/"),
        user=parsed.username,
        password=parsed.password,
        host=parsed.hostname,
        port=parsed.port,
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cur.fetchall()]
        version = 0
        if keep_schema and "schema_migration" in tables:
            cur.execute("SELECT MAX(version) FROM schema_migration")
            version = cur.fetchone()[0] or 0
        if version == LATEST_SCHEMA:
            # DELETE beats TRUNCATE on tables this small; replica mode skips the FK triggers.
            cur.execute("SET session_replication_role = replica")
            for table in tables:
                if table != "schema_migration":
                    cur.execute(f'DELETE FROM "{table}"')
            cur.execute("SET session_replication_role = DEFAULT")
            cur.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            for (sequence,) in cur.fetchall():
                cur.execute("SELECT setval(%s, 1, false)", (sequence,))
        else:
            cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A database without rows: a new SQLite file, or an emptied PostgreSQL database.

    Its schema may already be the latest one; ``empty_database_url`` has no tables at all.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/feedback.sqlite3"
    url = request.getfixturevalue("postgres_base_url")
    reset_postgres(url, keep_schema=True)
    return url


@pytest.fixture
def empty_database_url(database_url):
    """A database with no tables at all, for tests of the migrations themselves."""
    if database_url.startswith("postgresql"):
        reset_postgres(database_url, keep_schema=False)
    return database_url


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build apps on the test's database (migrated first); all are closed at the end."""
    apps = []

    def factory(migrated: bool = True, **overrides):
        if not migrated and database_url.startswith("postgresql"):
            reset_postgres(database_url, keep_schema=False)
        if migrated and not apps:
            db = open_database(database_url)
            database.initialize(db)
            with database.connection_context():
                migrate(db)
            db.close_all()
        config = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "BASE_URL": "http://feedback.test",
            "EXPORTS_DIR": str(tmp_path / "exports"),
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE": "memory://",
        }  # one process
        config.update(overrides)
        app = create_app(config)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["feedback.db"].close_all()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    """An open connection for tests that call the layers below the views directly."""
    with app.app_context():
        database.connect(reuse_if_open=True)
        yield database
        database.close()


@pytest.fixture
def api_token(app):
    with in_app(app):
        return accounts.create_token("test helpdesk")


@pytest.fixture
def api_headers(api_token):
    return {"Authorization": f"Bearer {api_token}"}


@pytest.fixture
def users(app):
    """One user of each role (password: PASSWORD); the lead leads team Billing."""
    with in_app(app):
        billing = Team.by_name("Billing")
        made = {
            role: accounts.create_user(role, PASSWORD, role, team=billing)
            for role in ("admin", "manager", "lead", "staff")
        }
        accounts.set_team_leads(billing, [made["lead"]])
    return made


@pytest.fixture
def manager(app, users):
    """A test client logged in as the manager."""
    client = app.test_client()
    login(client, "manager")
    return client


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def smtp_server():
    """A local SMTP server that records messages (``.messages``); ``.config`` points an app at it."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def api_headers_for():
    """For an app built with make_app(...): a test client and API headers with a new token."""

    def make(app):
        with in_app(app):
            token = accounts.create_token("test helpdesk")
        return app.test_client(), {"Authorization": f"Bearer {token}"}

    return make
