"""Backups and moving up: ``flask backup`` (SQLite online, pg_dump) with tested restores, and
``flask copy-db`` from SQLite to PostgreSQL with counts and checksums.

The commands run as an operator runs them: ``python -m flask --app feedback ...`` in a process
of their own, against real files and the real PostgreSQL server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest
from conftest import POSTGRES_URL, reset_postgres
from support import PASSWORD, csrf_from, in_app, login, new_case, survey_path

from feedback import accounts, backup, create_app, reports
from feedback.cases import CaseInput, InvitationPolicy, register_case
from feedback.db import database, migrate, open_database
from feedback.models import Response, Suggestion
from feedback.responses import submit
from feedback.surveys import current_version, definition_of

SURVEYS = Path(__file__).resolve().parent.parent / "surveys"
TZ = "Asia/Shanghai"


def flask(url: str, *args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": url,
        "FEEDBACK_SECRET_KEY": "test-secret",
        "FEEDBACK_SURVEYS_DIR": str(SURVEYS),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "feedback", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def build_app(url: str, tmp_path: Path, migrated: bool = True):
    if migrated:
        db = open_database(url)
        database.initialize(db)
        with database.connection_context():
            migrate(db)
        db.close_all()
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "BASE_URL": "http://feedback.test",
            "EXPORTS_DIR": str(tmp_path / "x"),
            "SURVEYS_DIR": str(SURVEYS),
            "RATELIMIT_ENABLED": False,
        }
    )


def use(app):
    """Point the models at this app's database: create_app sets one process-wide proxy, so of
    two apps in one test the one built last would otherwise answer for both."""
    database.initialize(app.extensions["feedback.db"])
    return app


def close(app) -> None:
    app.extensions["feedback.db"].close_all()


def scores(i: int) -> dict:
    """The answers of the i-th response: varied, never meeting a follow-up rule."""
    answers = {"resolved": "yes", "csat": 3 + i % 3, "nps": 7 + i % 4}
    if i % 5:
        answers["ces"] = 1 + i % 7
    return answers


def answer_one(i: int, version, definition, day: date) -> int:
    """Register case i and store its response, in one transaction; the response's id."""
    sent = datetime(day.year, day.month, day.day, 2, 0) + timedelta(seconds=i)
    with database.atomic():
        case_in = CaseInput(
            case_ref=f"B-{i}",
            survey="post-case",
            resolved_at=sent,
            channel=("phone", "chat", "email")[i % 3],
            team=None,
            agent=f"agent-{i % 4}",
            category="billing",
            customer_ref=f"c-{i}",
        )
        registration = register_case(case_in, version.survey, InvitationPolicy(), now=sent)
        return submit(
            registration.invitation,
            registration.case,
            version,
            definition,
            scores(i),
            locale="zh_CN",
            tz=TZ,
            now=sent + timedelta(minutes=5),
        )


def expected_overall(n: int) -> dict:
    """/api/v1/metrics' overall figures for responses 0..n-1 as answer_one stores them (every
    case invited and answered), worked out in Python with the app's own formula."""
    rows = [scores(i) for i in range(n)]
    ces = [r["ces"] for r in rows if "ces" in r]
    counts = {
        "responses": n,
        "csat_n": n,
        "csat_satisfied": sum(r["csat"] >= 4 for r in rows),
        "nps_n": n,
        "promoters": sum(r["nps"] >= 9 for r in rows),
        "passives": sum(7 <= r["nps"] <= 8 for r in rows),
        "detractors": sum(r["nps"] <= 6 for r in rows),
        "ces_n": len(ces),
        "ces_sum": sum(ces),
        "ces_sum_sq": sum(c * c for c in ces),
        "ces_low_effort": sum(c >= 5 for c in ces),
    }
    return json.loads(json.dumps(reports.figures(counts, {"invited": n, "answered": n})))


def metrics(app, token: str, day: date, **query) -> dict:
    reply = (
        use(app)
        .test_client()
        .get(
            "/api/v1/metrics",
            query_string={
                "from": (day - timedelta(days=1)).isoformat(),
                "to": (day + timedelta(days=1)).isoformat(),
                **query,
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


DAY = date.today() - timedelta(days=3)


# --- SQLite: an online backup while the site writes ------------------------------------------------


def test_sqlite_backup_taken_while_writing_restores_to_a_consistent_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    app = build_app(url, tmp_path)
    with in_app(app):
        token = accounts.create_token("backup test")
        accounts.create_user("manager", PASSWORD, "manager")
        version = current_version("post-case")
        definition = definition_of(version)
        for i in range(200):  # enough pages that a small step size takes many steps
            answer_one(i, version, definition, DAY)

    committed: list[int] = []  # response ids in the order their transactions committed
    stop, failed = threading.Event(), []

    def writer():
        try:
            with in_app(app):
                i = 200
                while not stop.is_set():
                    committed.append(answer_one(i, version, definition, DAY))
                    i += 1
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            failed.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(committed) < 20:
            time.sleep(0.01)
        before = len(committed)
        done = flask(url, "backup", str(tmp_path), "--pages-per-step", "2")
        during = len(committed) - before
    finally:
        stop.set()
        thread.join(30)
    assert not failed, failed
    assert done.returncode == 0, done.stderr
    target = Path(done.stdout.strip().splitlines()[-1])
    assert target.parent == tmp_path and target.name.startswith("feedback-")
    assert "integrity_check: ok" in done.stderr and "100%" in done.stderr
    assert during > 0, "the site wrote nothing while the backup ran"
    steps = int(re.search(r"in (\d+) steps", done.stderr).group(1))
    assert steps > 10

    # A consistent snapshot: the responses committed before some moment, each with all its
    # answers, exactly as the site stored them.
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    ids = [row[0] for row in copy.execute("SELECT id FROM response ORDER BY id")]
    written = 200 + len(committed)
    assert 220 <= len(ids) < written
    assert ids == list(range(1, len(ids) + 1))
    source = sqlite3.connect(tmp_path / "site.sqlite3")
    answers_sql = (
        "SELECT response_id, question_id, value_int, value_text FROM answer "
        "WHERE response_id <= ? ORDER BY id"
    )
    assert (
        copy.execute(answers_sql, (len(ids),)).fetchall()
        == source.execute(answers_sql, (len(ids),)).fetchall()
    )
    assert copy.execute("SELECT COUNT(*) FROM invitation").fetchone() == (len(ids),)
    assert copy.execute("SELECT journal_mode FROM pragma_journal_mode").fetchone() == ("delete",)
    copy.close()
    source.close()

    # The site starts on the backup, and shows the figures the source had at that moment.
    restored = build_app(f"sqlite:///{target}", tmp_path, migrated=False)
    try:
        assert metrics(restored, token, DAY)["overall"] == expected_overall(len(ids))
        client = use(restored).test_client()
        login(client, "manager")
        page = client.get("/manage/", query_string={"from": DAY.isoformat(), "to": DAY.isoformat()})
        assert page.status_code == 200
    finally:
        close(restored)
    with app.app_context():  # and the source's figures now, worked out the same way
        assert metrics(app, token, DAY)["overall"] == expected_overall(written)
    close(app)


def test_sqlite_backup_refuses_an_existing_file_and_a_missing_folder(tmp_path):
    url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    close(build_app(url, tmp_path))
    taken = tmp_path / "taken.sqlite3"
    taken.write_text("keep me")
    done = flask(url, "backup", str(taken))
    assert done.returncode == 1 and "exists already" in done.stderr
    assert "Traceback" not in done.stderr and taken.read_text() == "keep me"
    done = flask(url, "backup", str(tmp_path / "nowhere" / "b.sqlite3"))
    assert done.returncode == 1 and "no such folder" in done.stderr
    assert "Traceback" not in done.stderr


# --- PostgreSQL: pg_dump, pg_restore ---------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}", query=""))


def admin_execute(*statements: str) -> None:
    parsed = urlparse(POSTGRES_URL)
    conn = psycopg2.connect(
        dbname=parsed.path.lstrip("/") or "postgres",
        user=parsed.username,
        password=parsed.password,
        host=parsed.hostname,
        port=parsed.port,
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    conn.close()


@pytest.fixture
def fresh_postgres(postgres_base_url):
    """The test process's PostgreSQL database with no tables at all."""
    reset_postgres(postgres_base_url, keep_schema=False)
    return postgres_base_url


@pytest.fixture
def spare_database(postgres_base_url):
    """A second, empty PostgreSQL database (to restore into), dropped afterwards."""
    name = urlparse(postgres_base_url).path.lstrip("/") + "_spare"
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    yield with_database(postgres_base_url, name)
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_pg_dump_restores_into_a_fresh_database_with_the_same_figures(
    fresh_postgres, spare_database, tmp_path
):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump and pg_restore are not on the PATH (apt install postgresql-client)")
    app = build_app(fresh_postgres, tmp_path)
    with in_app(app):
        token = accounts.create_token("backup test")
        version = current_version("post-case")
        definition = definition_of(version)
        for i in range(60):
            answer_one(i, version, definition, DAY)
    done = flask(fresh_postgres, "backup", str(tmp_path))
    assert done.returncode == 0, done.stderr
    dump = Path(done.stdout.strip().splitlines()[-1])
    assert dump.name.endswith(".dump") and dump.read_bytes()[:5] == b"PGDMP"  # custom format
    assert "pg_dump --format=custom" in done.stderr

    restore = subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={spare_database}", str(dump)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restore.returncode == 0, restore.stderr
    restored = build_app(spare_database, tmp_path, migrated=False)
    try:
        got = metrics(restored, token, DAY, group_by="channel")
        assert got == metrics(app, token, DAY, group_by="channel")
        assert got["overall"] == expected_overall(60)
        client = use(restored).test_client()  # and it takes new answers: its sequences came along
        reply = new_case(
            client,
            {"Authorization": f"Bearer {token}"},
            case_id="after-restore",
            customer={"id": "new-1", "locale": "zh-CN"},
        )
        path = survey_path(reply)
        form = client.get(path)
        posted = client.post(
            path,
            data={
                "csrf_token": csrf_from(form.get_data(as_text=True)),
                "resolved": "yes",
                "csat": "5",
                "nps": "10",
            },
        )
        assert posted.status_code == 302, posted.get_data(as_text=True)[:500]
        with in_app(restored):
            assert Response.select().count() == 61
    finally:
        close(restored)
        close(app)


@pytest.mark.postgres
def test_backup_on_postgresql_without_pg_dump_prints_the_command(fresh_postgres, tmp_path):
    close(build_app(fresh_postgres, tmp_path))
    empty = tmp_path / "bin"
    empty.mkdir()
    done = flask(fresh_postgres, "backup", str(tmp_path / "site.dump"), path=str(empty))
    assert done.returncode == 2
    assert "pg_dump is not on the PATH" in done.stderr
    command = done.stdout.strip()
    assert command.startswith("pg_dump --format=custom --no-owner --file=")
    assert (
        f"--dbname={urlunparse(urlparse(fresh_postgres)._replace(scheme='postgresql'))}" in command
    )
    assert not (tmp_path / "site.dump").exists()


def test_pg_dump_command_keeps_the_password_off_the_command_line():
    command, env = backup.pg_dump_command(
        "postgres://feed:s%40cret@db.example:6432/feedback", Path("/backups/f.dump")
    )
    assert command == [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        "--file=/backups/f.dump",
        "--dbname=postgresql://feed@db.example:6432/feedback",
    ]
    assert env == {"PGPASSWORD": "s@cret"}


# --- copy-db: SQLite to PostgreSQL ----------------------------------------------------------------


def test_checksums_do_not_depend_on_how_a_database_writes_values():
    import peewee as pw

    stamp, day = pw.DateTimeField(), pw.DateField()
    assert backup.normalize(stamp, "2026-01-02 03:04:05") == backup.normalize(
        stamp, datetime(2026, 1, 2, 3, 4, 5)
    )
    assert backup.normalize(day, "2026-01-02") == backup.normalize(day, date(2026, 1, 2))
    real = pw.FloatField()  # PostgreSQL's REAL keeps about 7 digits
    assert backup.normalize(real, 2.345678912) == backup.normalize(real, 2.3456790447235107)
    # near a rounding boundary of the 6 digits (1.2345650 is stored as 1.2345649...), and any
    # other working-day count: the same text whichever database kept it
    import struct

    for value in [1.234565, 0.1234565, 12.34565, *(i / 997 for i in range(1, 5000))]:
        single = struct.unpack("f", struct.pack("f", value))[0]
        assert backup.normalize(real, value) == backup.normalize(real, single), value
    flag = pw.BooleanField()  # SQLite keeps 1, PostgreSQL true
    assert backup.normalize(flag, 1) is backup.normalize(flag, True) is True
    assert backup.normalize(pw.IntegerField(), 1) == 1


@pytest.mark.postgres
def test_copy_db_moves_a_sqlite_site_to_postgresql(fresh_postgres, tmp_path):
    from feedback.demo import fill

    source_url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    source = build_app(source_url, tmp_path)
    with in_app(source):
        fill(cases=500, seed=3, config=source.config)
        token = accounts.create_token("copy test")
        # a suggestion marked a duplicate of a later one: a row that references a later row
        first, last = (
            Suggestion.select().order_by(Suggestion.id)[0],
            Suggestion.select().order_by(Suggestion.id.desc())[0],
        )
        Suggestion.update(status="duplicate", merged_into=last.id).where(
            Suggestion.id == first.id
        ).execute()
        days = [r.day for r in Response.select(Response.day).order_by(Response.day)]
        source_responses = Response.select().count()
    close(source)

    done = flask(source_url, "copy-db", "--to", fresh_postgres)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:-1]}
    assert set(lines) >= {
        "service_case",
        "invitation",
        "response",
        "answer",
        "suggestion",
        "follow_up",
        "app_user",
        "api_token",
        "survey_version",
    }
    for _table, (_name, source_rows, target_rows, source_sum, target_sum, verdict) in lines.items():
        assert (source_rows, source_sum) == (target_rows, target_sum) and verdict == "same"
    assert lines["response"][1] == f"{source_responses:,}"
    assert "counts and checksums equal" in done.stdout

    # The site on the copy shows the same figures...
    source, target = (
        build_app(source_url, tmp_path, migrated=False),
        build_app(fresh_postgres, tmp_path, migrated=False),
    )
    try:
        query = {"from": days[0].isoformat(), "to": days[-1].isoformat()}
        for group_by in ("team", "channel", "week"):
            a = (
                use(source)
                .test_client()
                .get(
                    "/api/v1/metrics",
                    query_string={**query, "group_by": group_by},
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
            b = (
                use(target)
                .test_client()
                .get(
                    "/api/v1/metrics",
                    query_string={**query, "group_by": group_by},
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
            assert a.status_code == b.status_code == 200
            assert a.get_json() == b.get_json() and a.get_json()["overall"]["responses"]
        pages = []
        for app in (source, target):
            client = use(app).test_client()
            login(client, "manager", "demo-pass")
            page = client.get("/manage/", query_string=query)
            assert page.status_code == 200
            pages.append(re.sub(r'value="[^"]*"', "", page.get_data(as_text=True)))
        assert pages[0] == pages[1]
        with in_app(target):
            assert Suggestion.get_by_id(first.id).merged_into_id == last.id

        # ... and takes a new case and a new answer: its sequences are past the copied ids
        client = use(target).test_client()
        reply = new_case(
            client,
            {"Authorization": f"Bearer {token}"},
            case_id="after-copy",
            customer={"id": "new-1", "locale": "zh-CN"},
        )
        path = survey_path(reply)
        form = client.get(path)
        posted = client.post(
            path,
            data={
                "csrf_token": csrf_from(form.get_data(as_text=True)),
                "resolved": "yes",
                "csat": "4",
                "nps": "9",
            },
        )
        assert posted.status_code == 302, posted.get_data(as_text=True)[:500]
        with in_app(target):
            assert Response.select().count() == source_responses + 1
    finally:
        close(source)
        close(target)

    # A database with rows is refused, naming a table; nothing is changed.
    again = flask(source_url, "copy-db", "--to", fresh_postgres)
    assert again.returncode == 1
    assert re.search(r"the target is not empty: table \w+ has rows", again.stderr)
    assert "Traceback" not in again.stderr


@pytest.mark.postgres
def test_copy_db_finds_a_target_that_differs(fresh_postgres, tmp_path):
    source_url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    source = build_app(source_url, tmp_path)
    with in_app(source):
        version = current_version("post-case")
        definition = definition_of(version)
        for i in range(5):
            answer_one(i, version, definition, DAY)
        target = backup.open_target(fresh_postgres)
        models = backup.check_copy(database.obj, target)
        migrate(target)
        result = backup.copy_tables(database.obj, target, models)
        assert backup.verify(result, target, models).same
        target.execute_sql("UPDATE response SET csat = 1 WHERE id = 3")
        result = backup.verify(result, target, models)
        assert [t.table for t in result.tables if not t.same] == ["response"]
        target.close_all()
    close(source)


@pytest.mark.postgres
def test_copy_db_names_a_value_postgresql_cannot_store(fresh_postgres, tmp_path):
    source_url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    source = build_app(source_url, tmp_path)
    with in_app(source):
        version = current_version("post-case")
        answer_one(0, version, definition_of(version), DAY)
        database.execute_sql("UPDATE service_case SET agent = 'a' || char(0) || 'b'")
    close(source)
    done = flask(source_url, "copy-db", "--to", fresh_postgres)
    assert done.returncode == 1
    assert (
        "table service_case, id 1, column agent: holds a NUL character, which PostgreSQL "
        "cannot store"
    ) in done.stderr
    assert "Traceback" not in done.stderr
    conn = psycopg2.connect(fresh_postgres.split("?")[0])
    with conn.cursor() as cur:  # one transaction: nothing was left behind
        cur.execute("SELECT COUNT(*) FROM service_case")
        assert cur.fetchone() == (0,)
    conn.close()


def test_copy_db_refuses_a_target_that_is_not_postgresql(tmp_path):
    url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    close(build_app(url, tmp_path))
    done = flask(url, "copy-db", "--to", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert done.returncode == 2 and "not a postgresql:// address" in done.stderr
