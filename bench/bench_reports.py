#!/usr/bin/env python3
"""How fast the reports are over a million responses, against bare SQL on the same database.

    .venv/bin/python bench/bench_reports.py                   # 1,000,000 responses (see --help)
    .venv/bin/python bench/bench_reports.py --rows 100000     # quick

Takes a generated database (``gen_responses.py``: cached between runs, ``--fresh`` to make it
again), copies it into a temporary folder, adds a manager and an API token, and starts feedback
under gunicorn (2 sync workers, 127.0.0.1 only). Then, one request at a time:

  * GET /api/v1/metrics for the whole year and for its last month, overall and by week,
    against the best bare SQL (sqlite3, in this process, same file, same run) that computes the
    same counts; the API's figures are checked against figures made from the bare counts;
  * GET /manage/?from=..&to=.. (the dashboard's HTML) against the same bare query;
  * every chart /manage/charts/<name>.png, uncached (a new ``from`` before the data each time,
    so the cache key is new but the rows are the same) and cached;
  * /manage/export/responses.csv of the whole year on a freshly started server, with the
    resident memory of its workers sampled meanwhile (VmRSS, and VmHWM before and after).

Also prints the SQL Peewee generates for the metrics and SQLite's EXPLAIN QUERY PLAN for each,
and where the dashboard and the metrics view spend their time (each SQL statement timed,
in-process; cProfile of the metrics view). Every phase is bounded by a number of requests and
a time limit. Writes bench/results/reports-latest.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import json
import os
import platform
import pstats
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
import gen_responses  # noqa: E402

GOALS = {"api_ratio": 2.0, "dashboard_ratio": 5.0, "export_worker_mb": 200.0}
DEFAULT_GUNICORN_TIMEOUT = 30  # gunicorn's own default, as the README's command line runs it
PASSWORD = "bench-password-1"
CSRF = re.compile(r'name="csrf_token"[^>]*? value="([^"]+)"')


# --- a small HTTP client: one connection per request ----------------------------------------------


class Reply:
    __slots__ = ("status", "head", "body", "seconds")

    def __init__(self, status: int, head: str, body: bytes, seconds: float):
        self.status, self.head, self.body, self.seconds = status, head, body, seconds

    def cookie(self, name: str) -> str | None:
        for line in self.head.split("\r\n"):
            if line.lower().startswith("set-cookie:"):
                value = line.split(":", 1)[1].strip().split(";", 1)[0]
                if value.startswith(name + "="):
                    return value[len(name) + 1 :]
        return None


def request(
    port: int,
    method: str,
    path: str,
    headers: dict | None = None,
    body: bytes = b"",
    timeout: float = 600.0,
    sink=None,
    version: str = "1.1",
) -> Reply:
    """One request on a new connection; the body is kept, or passed chunk by chunk to ``sink``
    (then the reply's body holds only the first 64 KiB)."""
    lines = [
        f"{method} {path} HTTP/{version}",
        f"Host: 127.0.0.1:{port}",
        "Connection: close",
        "Accept-Language: zh-CN,zh;q=0.9",
        "User-Agent: feedback-bench",
    ]
    if body or method == "POST":
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        buffer, head, kept = b"", None, []
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            if head is None:
                buffer += chunk
                if b"\r\n\r\n" not in buffer:
                    continue
                head, _sep, chunk = buffer.partition(b"\r\n\r\n")
            if sink is None:
                kept.append(chunk)
            else:
                if sum(map(len, kept)) < 1 << 16:
                    kept.append(chunk)
                sink(chunk)
    seconds = time.perf_counter() - t0
    head_text = (head if head is not None else buffer).decode("latin-1")
    status = int(head_text.split(" ", 2)[1]) if head_text.startswith("HTTP/") else 0
    return Reply(status, head_text, b"".join(kept), seconds)


# --- gunicorn -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with sync workers on 127.0.0.1, in its own process group; stopped on exit."""

    def __init__(self, app: str, env: dict, log: Path, workers: int, timeout: int):
        self.port, self.log = free_port(), log
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--chdir",
            str(ROOT),
            "--error-logfile",
            str(log),
            "--timeout",
            str(timeout),
            "--graceful-timeout",
            "5",
            app,
        ]
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"gunicorn exited; see {self.log}:\n" + self.log.read_text()[-3000:]
                )
            try:
                if request(self.port, "GET", "/login", timeout=10).status == 200:
                    if len(self.workers()) >= 1:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer within {timeout} s; see {self.log}")

    def workers(self) -> list[int]:
        """The pids of the master's children (its workers)."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == self.process.pid:
                pids.append(int(entry))
        return sorted(pids)

    def timeouts_logged(self) -> int:
        try:
            return self.log.read_text(errors="replace").count("WORKER TIMEOUT")
        except OSError:
            return 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # the master stops its workers
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)  # its own process group, started here
                self.process.wait(5)


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB; {} when it is gone."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return values


# --- bare SQL: the same counts, written by hand ---------------------------------------------------

# Conditional counts as COUNT(*) FILTER (WHERE ...): SQLite evaluates them about a quarter
# faster than SUM(csat >= 4) or SUM(CASE ...) on a year of responses.
SCORES = (
    "COUNT(*), COUNT(csat), COUNT(*) FILTER (WHERE csat >= 4), COUNT(nps), "
    "COUNT(*) FILTER (WHERE nps >= 9), COUNT(*) FILTER (WHERE nps BETWEEN 7 AND 8), "
    "COUNT(*) FILTER (WHERE nps <= 6), COUNT(ces), SUM(ces), SUM(ces * ces), "
    "COUNT(*) FILTER (WHERE ces >= 5)"
)
SCORE_NAMES = (
    "responses",
    "csat_n",
    "csat_satisfied",
    "nps_n",
    "promoters",
    "passives",
    "detractors",
    "ces_n",
    "ces_sum",
    "ces_sum_sq",
    "ces_low_effort",
)
INVITATIONS = "COUNT(*), COUNT(*) FILTER (WHERE i.status = 'answered')"


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


# Whether the invitation table carries its case's survey and slice (a variant of the schema):
# then the best bare SQL reads them there instead of joining service_case. Set by main().
BARE = {"invitation_has_survey": False}


def bare_sql(survey_id: int, start: date, end: date, group_by: str | None) -> list[tuple]:
    """(sql, params) for the response counts and the invitation counts, overall or by week.

    By week, the week bounds let the (survey_id, week, day, scores) index both narrow and
    group; the overall figures are then the sums of the weeks (every row has one week)."""
    if BARE["invitation_has_survey"]:
        invitations = "FROM invitation i WHERE i.survey_id = ?"
    else:
        invitations = (
            "FROM invitation i JOIN service_case c ON c.id = i.case_id WHERE c.survey_id = ?"
        )
    invitations += " AND i.day BETWEEN ? AND ? AND i.status <> 'cancelled'"
    if group_by is None:
        return [
            (
                f"SELECT NULL, {SCORES} FROM response WHERE survey_id = ? AND day BETWEEN ? AND ?",
                (survey_id, start.isoformat(), end.isoformat()),
            ),
            (
                f"SELECT NULL, {INVITATIONS} {invitations}",
                (survey_id, start.isoformat(), end.isoformat()),
            ),
        ]
    assert group_by == "week"
    return [
        (
            f"SELECT week, {SCORES} FROM response WHERE survey_id = ? "
            "AND week BETWEEN ? AND ? AND day BETWEEN ? AND ? GROUP BY week",
            (
                survey_id,
                monday(start).isoformat(),
                monday(end).isoformat(),
                start.isoformat(),
                end.isoformat(),
            ),
        ),
        (
            f"SELECT i.week, {INVITATIONS} {invitations} GROUP BY i.week",
            (survey_id, start.isoformat(), end.isoformat()),
        ),
    ]


def run_bare(conn, statements: list[tuple]) -> dict:
    """Run the bare statements; the counts per key and overall (sums of the groups)."""
    (score_sql, score_params), (invite_sql, invite_params) = statements

    def key(value):  # PostgreSQL gives the week as a date, SQLite as its text
        return value.isoformat() if isinstance(value, date) else value

    scores = {
        key(row[0]): dict(zip(SCORE_NAMES, (int(v or 0) for v in row[1:]), strict=True))
        for row in conn.execute(score_sql, score_params)
    }
    invitations = {
        key(row[0]): {"invited": int(row[1] or 0), "answered": int(row[2] or 0)}
        for row in conn.execute(invite_sql, invite_params)
    }
    overall_scores = {name: sum(s[name] for s in scores.values()) for name in SCORE_NAMES}
    overall_invitations = {
        name: sum(i[name] for i in invitations.values()) for name in ("invited", "answered")
    }
    return {
        "scores": scores,
        "invitations": invitations,
        "overall_scores": overall_scores,
        "overall_invitations": overall_invitations,
    }


def expected_metrics(bare: dict, grouped: bool) -> dict:
    """What /api/v1/metrics must answer, made from the bare counts with the app's own formulas."""
    from feedback.reports import figures

    overall = figures(bare["overall_scores"], bare["overall_invitations"])
    groups = []
    if grouped:
        keys = sorted(
            set(bare["scores"]) | set(bare["invitations"]), key=lambda k: (k is None, str(k))
        )
        groups = [
            {"key": key, **figures(bare["scores"].get(key), bare["invitations"].get(key))}
            for key in keys
        ]
    return json.loads(json.dumps({"overall": overall, "groups": groups}))


def timed(function, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - t0, result


# --- in-process: plans, per-statement times, a profile ------------------------------------------


class TimedCursor:
    """A cursor that adds the time of every fetch to its statement's entry: a GROUP BY that
    follows an index computes each group as it is fetched, not in execute()."""

    def __init__(self, cursor, entry: list):
        self._cursor, self._entry = cursor, entry

    def _timed(self, method, *args):
        t0 = time.perf_counter()
        try:
            return method(*args)
        finally:
            self._entry[2] += time.perf_counter() - t0

    def fetchone(self):
        return self._timed(self._cursor.fetchone)

    def fetchmany(self, *args):
        return self._timed(self._cursor.fetchmany, *args)

    def fetchall(self):
        return self._timed(self._cursor.fetchall)

    def __iter__(self):
        return iter(self.fetchone, None)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


class StatementLog:
    """Times every statement the app's Peewee database runs: execute and every fetch."""

    def __init__(self, db):
        self.db, self.entries, self._original = db, [], db.execute_sql

        def execute_sql(sql, params=None, *args, **kwargs):
            entry = [sql, list(params or ()), 0.0]
            self.entries.append(entry)
            cursor = TimedCursor(None, entry)
            cursor._cursor = cursor._timed(self._original, sql, params, *args, **kwargs)
            return cursor

        db.execute_sql = execute_sql

    def close(self):
        self.db.__dict__.pop("execute_sql", None)  # the class's method again


def load_app(spec: str):
    """The app a gunicorn spec such as ``feedback:create_app()`` names, built here."""
    module_name, _sep, expression = spec.partition(":")
    module = importlib.import_module(module_name)
    return eval(expression or "app", vars(module))  # noqa: S307 - our own command line


def sql_params(params) -> list:
    return [p.isoformat() if isinstance(p, date) else p for p in params]


def explain(conn, sql: str, params) -> list[str]:
    if isinstance(conn, PgBare):
        return [row[0] for row in conn.execute("EXPLAIN " + sql, sql_params(params))]
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, sql_params(params))]


# --- PostgreSQL: the same data, loaded once with copy-db, a database per run ---------------------


class PgBare:
    """A psycopg2 connection that runs the bare SQL as sqlite3's does: ``?`` placeholders,
    ``execute`` returning something to iterate or ``fetchone``."""

    def __init__(self, url: str):
        import psycopg2

        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True

    def execute(self, sql: str, params=()):
        cursor = self.conn.cursor()
        cursor.execute(sql.replace("?", "%s"), tuple(params))
        return cursor

    def close(self):
        self.conn.close()


def pg_url(server: str, name: str) -> str:
    from urllib.parse import urlparse, urlunparse

    return urlunparse(urlparse(server)._replace(path=f"/{name}"))


def pg_admin(server: str, *statements: str) -> list:
    bare = PgBare(server)
    try:
        out = []
        for statement in statements:
            cursor = bare.execute(statement)
            out.append(cursor.fetchall() if cursor.description else None)
        return out
    finally:
        bare.close()


class _CopyText:
    """A file-like object that reads as PostgreSQL's COPY text format, made row by row."""

    def __init__(self, rows):
        self.rows, self.buffer = rows, b""

    @staticmethod
    def value(v) -> str:
        if v is None:
            return "\\N"
        if isinstance(v, str):
            return (
                v.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return str(v)

    def read(self, size=-1):
        while size < 0 or len(self.buffer) < size:
            chunk = [("\t".join(map(self.value, row)) + "\n") for row in self.rows.fetchmany(5000)]
            if not chunk:
                break
            self.buffer += "".join(chunk).encode()
        out, self.buffer = (
            (self.buffer, b"") if size < 0 else (self.buffer[:size], self.buffer[size:])
        )
        return out

    readline = read


def bulk_load(source: Path, url: str) -> dict:
    """Every table of the SQLite file into the (empty) PostgreSQL database with COPY, in the
    models' dependency order; then the sequences and ANALYZE. Much faster than copy-db (no
    Peewee on the rows, no checksums): for a benchmark's generated data, whose counts are
    checked after."""
    import psycopg2

    sys.path.insert(0, str(ROOT))
    from feedback import backup
    from feedback.db import database, migrate, open_database

    db = open_database(url)
    database.initialize(db)
    with database.connection_context():
        migrate(db)
    db.close_all()
    src = sqlite3.connect(source)
    pg = psycopg2.connect(url)
    counts = {}
    with pg, pg.cursor() as cur:
        # no foreign-key trigger a row (the generator's data is whole; the counts are checked):
        # about ten times faster; needs a superuser, as a test server has
        cur.execute("SET LOCAL session_replication_role = replica")
        for model in backup.all_models():
            table = model._meta.table_name
            columns = [f.column_name for f in model._meta.sorted_fields]
            names = ", ".join(f'"{c}"' for c in columns)
            t0 = time.perf_counter()
            # indexes made after the rows are in: one sort each instead of a tree insert a row
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND "
                "indexname NOT IN (SELECT conname FROM pg_constraint)",
                (table,),
            )
            indexes = cur.fetchall()
            for name, _definition in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            rows = src.execute(f'SELECT {names} FROM "{table}"')
            cur.copy_expert(f'COPY "{table}" ({names}) FROM STDIN', _CopyText(rows))
            for _name, definition in indexes:
                cur.execute(definition)
            cur.execute(f'SELECT COUNT(*) FROM "{table}"')
            counts[table] = {
                "rows": cur.fetchone()[0],
                "source_rows": src.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0],
                "seconds": round(time.perf_counter() - t0, 1),
            }
            print(f"  {table}: {counts[table]}", flush=True)
            if "id" in columns:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f'COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM "{table}"'
                )
    pg.autocommit = True
    with pg.cursor() as cur:
        t0 = time.perf_counter()
        cur.execute("ANALYZE")
        counts["ANALYZE seconds"] = round(time.perf_counter() - t0, 1)
    pg.close()
    src.close()
    differ = [t for t, c in counts.items() if isinstance(c, dict) and c["rows"] != c["source_rows"]]
    if differ:
        raise SystemExit(f"bulk load: counts differ in {differ}")
    return counts


def postgres_database(
    server: str,
    source: Path,
    cache_name: str,
    env: dict,
    workdir: Path,
    fresh: bool,
    loader: str = "copy",
) -> tuple[str, dict]:
    """A database of this run's own on the PostgreSQL server, made from a template that holds
    the generated data: loaded once (COPY, or ``flask copy-db``) and kept under a name made of
    the SQLite file's cache key, then copied by the server for each run (CREATE DATABASE ...
    TEMPLATE). Returns the run database's URL and how the data got there."""
    template = "feedback_bench_" + re.sub(r"[^a-z0-9]", "_", cache_name.lower())
    info = {"template": template, "loader": "cached", "load_seconds": None}
    exists = pg_admin(server, f"SELECT 1 FROM pg_database WHERE datname = '{template}'")[0]
    if exists and fresh:
        pg_admin(server, f'DROP DATABASE "{template}" WITH (FORCE)')
        exists = []
    if not exists:
        loading = template[:50] + "_loading"
        pg_admin(
            server,
            f'DROP DATABASE IF EXISTS "{loading}" WITH (FORCE)',
            f'CREATE DATABASE "{loading}"',
        )
        t0 = time.perf_counter()
        if loader == "copy":
            print(f"loading the data into PostgreSQL with COPY ({loading}) ...", flush=True)
            info["bulk_load"] = bulk_load(source, pg_url(server, loading))
        else:
            copy = workdir / "to-load.sqlite3"
            shutil.copyfile(source, copy)
            print(f"loading the data into PostgreSQL with copy-db ({loading}) ...", flush=True)
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "flask",
                    "--app",
                    "feedback",
                    "copy-db",
                    "--to",
                    pg_url(server, loading),
                ],
                cwd=ROOT,
                text=True,
                capture_output=True,
                env={**env, "FEEDBACK_DATABASE_URL": f"sqlite:///{copy}"},
            )
            copy.unlink()
            print(done.stdout, flush=True)
            if done.returncode:
                raise SystemExit(f"copy-db failed:\n{done.stderr[-3000:]}")
            info["copy_db_output"] = done.stdout
        info["loader"] = loader
        info["load_seconds"] = round(time.perf_counter() - t0, 1)
        print(f"loaded in {info['load_seconds']} s", flush=True)
        pg_admin(server, f'ALTER DATABASE "{loading}" RENAME TO "{template}"')
    run = f"feedback_bench_run_{os.getpid()}"
    t0 = time.perf_counter()
    pg_admin(
        server,
        f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)',
        f'CREATE DATABASE "{run}" TEMPLATE "{template}"',
    )
    info["template_copy_seconds"] = round(time.perf_counter() - t0, 1)
    info["run_database"] = run
    return pg_url(server, run), info


def short_sql(sql: str) -> str:
    """The statement with its long column list cut: SELECT <what> FROM ... WHERE ... GROUP BY."""
    match = re.match(r"SELECT (.*?) FROM (.*)", sql, re.S)
    if not match:
        return sql[:200]
    what = match.group(1)
    if len(what) > 70:
        what = what[:40] + " ... " + what[-25:]
    return f"SELECT {what} FROM {match.group(2)}"


def in_process(db_path: Path, survey_id: int, ranges: dict, token: str, args) -> dict:
    """Plans of the metrics queries, the dashboard and metrics views' time split into SQL and
    the rest, and a cProfile of the metrics view; all in this process (test client)."""
    from feedback import reports
    from feedback.db import database

    app = load_app(args.feedback_app)  # the same app gunicorn serves, variant or not
    db = app.extensions["feedback.db"]
    out: dict = {"metrics_queries": [], "views": {}}
    conn = PgBare(args.database_url) if args.postgres else sqlite3.connect(db_path)
    start, end = ranges["year"]
    log = StatementLog(db)
    try:
        with app.app_context(), database.connection_context():
            for group_by in (None, "week"):
                log.entries.clear()
                reports.metrics(reports.Slice(survey_id, start, end), group_by)
                for sql, params, _seconds in log.entries:
                    out["metrics_queries"].append(
                        {
                            "group_by": group_by,
                            "sql": sql,
                            "params": [str(p) for p in params],
                            "plan": explain(conn, sql, params),
                        }
                    )
            for name, (sql, params) in (
                ("bare responses, year", bare_sql(survey_id, start, end, None)[0]),
                ("bare invitations, year", bare_sql(survey_id, start, end, None)[1]),
                ("bare responses by week, year", bare_sql(survey_id, start, end, "week")[0]),
                ("bare invitations by week, year", bare_sql(survey_id, start, end, "week")[1]),
            ):
                out.setdefault("bare_queries", []).append(
                    {"name": name, "sql": sql, "plan": explain(conn, sql, params)}
                )

        client = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        query = {"from": start.isoformat(), "to": end.isoformat()}
        metrics_path = "/api/v1/metrics?" + urlencode({**query, "group_by": "week"})
        views = [("metrics, year, by week", metrics_path, auth)]
        if args.profile_dashboard:
            login = client.get("/login")
            csrf = CSRF.search(login.get_data(as_text=True)).group(1)
            client.post(
                "/login",
                data={"username": "bench-manager", "password": PASSWORD, "csrf_token": csrf},
            )
            views.append(("dashboard, year", f"/manage/?{urlencode(query)}", {}))
            month_start, month_end = ranges["month"]
            views.append(
                (
                    "dashboard, month",
                    "/manage/?"
                    + urlencode({"from": month_start.isoformat(), "to": month_end.isoformat()}),
                    {},
                )
            )
        for label, path, headers in views:
            if label.startswith("metrics"):
                client.get(path, headers=headers)  # warm: imports, compiled queries
            log.entries.clear()
            seconds, reply = timed(client.get, path, headers=headers)
            statements = [
                {"seconds": round(s, 4), "sql": short_sql(sql), "plan": explain(conn, sql, params)}
                for sql, params, s in log.entries
            ]
            sql_seconds = sum(s["seconds"] for s in statements)
            out["views"][label] = {
                "status": reply.status_code,
                "seconds": round(seconds, 3),
                "sql_seconds": round(sql_seconds, 3),
                "other_seconds": round(seconds - sql_seconds, 3),
                "statements": statements,
            }
        log.close()
        # cProfile of the metrics view (year, by week)
        label, path, headers = views[0]
        profiler = cProfile.Profile()
        profiler.enable()
        client.get(path, headers=headers)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
        out["metrics_profile"] = text.getvalue()
    finally:
        log.close()
        conn.close()
        db.close_all()
    return out


# --- the phases -----------------------------------------------------------------------------------


def median_ms(values: list[float]) -> float | None:
    return round(statistics.median(values) * 1000, 1) if values else None


def compare(name: str, api: list[float], bare: list[float], goal: float | None) -> dict:
    api_ms, bare_ms = median_ms(api), median_ms(bare)
    ratio = round(api_ms / bare_ms, 2) if api_ms and bare_ms else None
    return {
        "name": name,
        "samples": len(api),
        "bare_samples": len(bare),
        "median_ms": api_ms,
        "bare_median_ms": bare_ms,
        "min_ms": round(min(api) * 1000, 1) if api else None,
        "max_ms": round(max(api) * 1000, 1) if api else None,
        "ratio": ratio,
        "goal": goal,
        "meets_goal": ratio is not None and goal is not None and ratio <= goal,
    }


def login(port: int) -> str:
    page = request(port, "GET", "/login")
    cookie = page.cookie("session")
    csrf = CSRF.search(page.body.decode("utf-8", "replace"))
    if page.status != 200 or not csrf:
        raise SystemExit(f"GET /login: {page.status}, no form")
    body = urlencode(
        {"username": "bench-manager", "password": PASSWORD, "csrf_token": csrf.group(1)}
    ).encode()
    reply = request(port, "POST", "/login", {"Cookie": f"session={cookie}"}, body)
    session = reply.cookie("session")
    if reply.status != 302 or not session:
        raise SystemExit(f"POST /login: {reply.status}; not logged in")
    return session


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    data = parser.add_argument_group("data (see gen_responses.py)")
    gen_responses.add_arguments(data)
    runs = parser.add_argument_group("runs")
    runs.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    runs.add_argument(
        "--timeout",
        type=int,
        default=120,
        help="gunicorn's --timeout for the report phases (default 120; the "
        f"README's command line has gunicorn's default, "
        f"{DEFAULT_GUNICORN_TIMEOUT}: slower requests are flagged)",
    )
    runs.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="API and dashboard phases run this many times, interleaved with "
        "their bare SQL (default 3)",
    )
    runs.add_argument(
        "--api-requests",
        type=int,
        default=2,
        help="requests (and bare runs) per API case and round (default 2)",
    )
    runs.add_argument(
        "--dashboard-requests",
        type=int,
        default=1,
        help="dashboard requests (and bare runs) per period and round (default 1)",
    )
    runs.add_argument(
        "--chart-requests",
        type=int,
        default=2,
        help="uncached requests per chart, and cached ones after one untimed "
        "request per worker (default 2 each)",
    )
    runs.add_argument(
        "--pack-requests",
        type=int,
        default=3,
        help="meeting packs of the last month, each on a new cache key (default 3)",
    )
    runs.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        help="seconds a phase (one API case, one dashboard period, one chart) "
        "may take before its remaining requests are skipped (default 60)",
    )
    runs.add_argument(
        "--export-time-limit",
        type=float,
        default=180.0,
        help="seconds the CSV export may take before the client gives up (default 180)",
    )
    runs.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=("profile", "api", "dashboard", "charts", "pack", "export"),
        help="leave out a phase (repeatable)",
    )
    runs.add_argument(
        "--no-profile-dashboard",
        dest="profile_dashboard",
        action="store_false",
        help="do not time the dashboard's statements in-process (it costs one dashboard view)",
    )
    variant = parser.add_argument_group("variants")
    variant.add_argument(
        "--feedback-app",
        default="feedback:create_app()",
        metavar="SPEC",
        help="what gunicorn serves (default feedback:create_app()); e.g. a "
        "module on PYTHONPATH that builds the app with a change tried out",
    )
    variant.add_argument(
        "--db-sql",
        action="append",
        default=[],
        metavar="SQL",
        help="a statement run on the copied database before the run, e.g. "
        "to try an index (repeatable)",
    )
    variant.add_argument(
        "--analyze", action="store_true", help="run ANALYZE on the copied database before the run"
    )
    variant.add_argument(
        "--postgres",
        metavar="postgresql://HOST:PORT/DB",
        help="run on PostgreSQL: the generated data is loaded (once, with "
        "copy-db, kept as a template database) on this server, each run "
        "gets a copy of its own; the bare SQL runs through psycopg2",
    )
    variant.add_argument(
        "--pg-loader",
        choices=("copy", "copy-db"),
        default="copy",
        help="how the data gets into PostgreSQL the first time: COPY (fast, "
        "counts checked; default) or flask copy-db (counts and checksums; "
        "slower)",
    )
    variant.add_argument("--keep", action="store_true", help="keep the temporary folder")
    variant.add_argument(
        "--out",
        type=Path,
        default=RESULTS / "reports-latest.json",
        help="where the JSON goes (default bench/results/reports-latest.json)",
    )
    args = parser.parse_args()
    if (
        min(
            args.workers,
            args.rounds,
            args.api_requests,
            args.dashboard_requests,
            args.chart_requests,
            args.pack_requests,
        )
        < 1
        or args.time_limit <= 0
    ):
        parser.error("every number must be positive")
    params = gen_responses.params_from(args)
    started = time.perf_counter()

    # 1. The data: cached, copied, with whatever variant the options ask for.
    source, meta = gen_responses.database(
        params, args.cache_dir, args.fresh, progress=lambda m: print(m, flush=True)
    )
    print(
        f"data: {meta['counts']} ({'cached' if meta['cached'] else 'made'} in "
        f"{meta['generate_seconds']} s) {source}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="feedback-bench-reports-"))
    db_path = workdir / "feedback.sqlite3"
    t0 = time.perf_counter()
    shutil.copyfile(source, db_path)
    copy_seconds = time.perf_counter() - t0
    base_env = {
        **os.environ,
        "FEEDBACK_SECRET_KEY": secrets.token_urlsafe(32),
        "FEEDBACK_TIMEZONE": params.timezone,
        "FEEDBACK_SURVEYS_DIR": str(ROOT / "surveys"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    postgres_info = None
    args.database_url = f"sqlite:///{db_path}"
    if args.postgres:
        db_path.unlink()  # the SQLite copy is not what runs
        args.database_url, postgres_info = postgres_database(
            args.postgres, source, source.parent.name, base_env, workdir, args.fresh, args.pg_loader
        )
        setup_conn = PgBare(args.database_url)
    else:
        setup_conn = sqlite3.connect(db_path, isolation_level=None)
    variant_seconds = {}
    for statement in args.db_sql:
        variant_seconds[statement], _ = timed(setup_conn.execute, statement)
        print(f"variant: {statement} ({variant_seconds[statement]:.1f} s)", flush=True)
    if args.analyze:
        variant_seconds["ANALYZE"], _ = timed(setup_conn.execute, "ANALYZE")
        print(f"variant: ANALYZE ({variant_seconds['ANALYZE']:.1f} s)", flush=True)
    if args.postgres:
        BARE["invitation_has_survey"] = bool(
            setup_conn.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_name = 'invitation' "
                "AND column_name = 'survey_id'"
            ).fetchone()
        )
    else:
        BARE["invitation_has_survey"] = any(
            row[1] == "survey_id" for row in setup_conn.execute("PRAGMA table_info(invitation)")
        )
    setup_conn.close()
    if args.postgres:
        print(f"database: PostgreSQL {args.database_url}", flush=True)

    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": args.database_url,
        "FEEDBACK_SECRET_KEY": secrets.token_urlsafe(32),
        "FEEDBACK_TIMEZONE": params.timezone,
        "FEEDBACK_SURVEYS_DIR": str(ROOT / "surveys"),
        "FEEDBACK_EXPORTS_DIR": str(workdir / "exports"),
        "FEEDBACK_BASE_URL": "http://127.0.0.1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    os.environ.update({k: v for k, v in env.items() if k.startswith("FEEDBACK_")})
    sys.path.insert(0, str(ROOT))
    from feedback import accounts, chart_data, create_app
    from feedback.db import database

    app = create_app()
    with app.app_context(), database.connection_context():
        accounts.create_user("bench-manager", PASSWORD, "manager", display_name="Bench")
        token = accounts.create_token("bench")
        survey_id = database.execute_sql(
            f"SELECT id FROM survey WHERE slug = {database.obj.param}", (gen_responses.SURVEY,)
        ).fetchone()[0]
    app.extensions["feedback.db"].close_all()
    first, last = params.first_day, params.last_day
    ranges = {"year": (first, last), "month": (last.replace(day=1), last)}
    chart_names = list(chart_data.CHARTS)

    report: dict = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "data": {
            **meta,
            "source": str(source),
            "copy_seconds": round(copy_seconds, 1),
            "database": "postgresql" if args.postgres else "sqlite",
            "postgres": postgres_info,
        },
        "settings": {
            "workers": args.workers,
            "worker_class": "sync",
            "timeout": args.timeout,
            "rounds": args.rounds,
            "api_requests": args.api_requests,
            "dashboard_requests": args.dashboard_requests,
            "chart_requests": args.chart_requests,
            "pack_requests": args.pack_requests,
            "time_limit": args.time_limit,
            "feedback_app": args.feedback_app,
            "db_sql": args.db_sql,
            "analyze": args.analyze,
            "variant_seconds": variant_seconds,
            "bare_invitations_read_survey_from": "invitation"
            if BARE["invitation_has_survey"]
            else "service_case (join)",
        },
        "ranges": {k: [a.isoformat(), b.isoformat()] for k, (a, b) in ranges.items()},
        "goals": GOALS,
        "checks": {},
        "problems": [],
    }
    problems = report["problems"]

    # 2. In-process: the plans and where the time goes.
    if "profile" not in args.skip:
        print("in-process: query plans, statement times, profile ...", flush=True)
        report["in_process"] = in_process(db_path, survey_id, ranges, token, args)
        print_plans(report["in_process"])

    if args.postgres:
        bare = PgBare(args.database_url)
    else:
        bare = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        for pragma in ("cache_size=-16000", "busy_timeout=10000"):  # as the app's connections
            bare.execute(f"PRAGMA {pragma}")
    server = None
    try:
        server = Gunicorn(
            args.feedback_app, env, workdir / "gunicorn.log", args.workers, args.timeout
        )
        server.wait_ready()
        port = server.port
        session = login(port)
        auth = {"Authorization": f"Bearer {token}"}
        cookie = {"Cookie": f"session={session}"}
        for _ in range(2 * args.workers):  # every worker imported, connected, warmed
            request(
                port,
                "GET",
                "/api/v1/metrics?"
                + urlencode(
                    {"from": ranges["month"][0].isoformat(), "to": ranges["month"][1].isoformat()}
                ),
                auth,
            )

        # 3. /api/v1/metrics against bare SQL.
        if "api" not in args.skip:
            report["api"] = api_phase(
                port, auth, bare, survey_id, ranges, args, problems, report["checks"]
            )
        # 4. The dashboard against the same bare query.
        if "dashboard" not in args.skip:
            report["dashboard"] = dashboard_phase(
                port, cookie, bare, survey_id, ranges, args, problems
            )
        # 5. Charts, uncached and cached.
        if "charts" not in args.skip:
            report["charts"] = chart_phase(port, cookie, ranges, chart_names, args, problems)
        # 6. The meeting pack of the last month, as the dashboard's link downloads it.
        if "pack" not in args.skip:
            report["pack"] = pack_phase(port, cookie, ranges, args, problems)
        report["worker_timeouts_logged"] = server.timeouts_logged()
        server.stop()
        server = None

        # 7. The CSV export on a fresh server, with its workers' memory.
        if "export" not in args.skip:
            timeout = max(args.timeout, int(args.export_time_limit) + 60)
            server = Gunicorn(
                args.feedback_app, env, workdir / "gunicorn-export.log", args.workers, timeout
            )
            server.wait_ready()
            expected = bare.execute(
                "SELECT COUNT(*) FROM response WHERE survey_id = ? AND day BETWEEN ? AND ?",
                (survey_id, first.isoformat(), last.isoformat()),
            ).fetchone()[0]
            report["export"] = export_phase(server, cookie, ranges, expected, args, problems)
            report["export"]["gunicorn_timeout"] = timeout
            server.stop()
            server = None
    finally:
        if server is not None:
            server.stop()
        bare.close()
        if args.postgres and not args.keep:
            pg_admin(
                args.postgres,
                f'DROP DATABASE IF EXISTS "{postgres_info["run_database"]}" WITH (FORCE)',
            )

    report["seconds"] = round(time.perf_counter() - started, 1)
    report["code"] = code_version()
    report["machine"] = {
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgres": pg_admin(args.postgres, "SHOW server_version")[0][0][0]
        if args.postgres
        else None,
        "platform": platform.platform(),
    }
    print_summary(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"written to {args.out}")
    if args.keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if problems else 0


def api_phase(port, auth, bare, survey_id, ranges, args, problems, checks) -> list[dict]:
    cases = [
        (f"{period}, {'by week' if group_by else 'overall'}", period, group_by)
        for period in ("year", "month")
        for group_by in (None, "week")
    ]
    api_times = {name: [] for name, _p, _g in cases}
    bare_times = {name: [] for name, _p, _g in cases}
    spent = {name: 0.0 for name, _p, _g in cases}
    statuses: dict = {name: {} for name, _p, _g in cases}
    for round_number in range(1, args.rounds + 1):
        print(f"api round {round_number} of {args.rounds} ...", flush=True)
        for name, period, group_by in cases:
            start, end = ranges[period]
            statements = bare_sql(survey_id, start, end, group_by)
            query = {"from": start.isoformat(), "to": end.isoformat()}
            if group_by:
                query["group_by"] = group_by
            path = "/api/v1/metrics?" + urlencode(query)
            for _ in range(args.api_requests):
                if spent[name] > args.time_limit:
                    break
                seconds, counts = timed(run_bare, bare, statements)
                bare_times[name].append(seconds)
                reply = request(port, "GET", path, auth)
                spent[name] += seconds + reply.seconds
                statuses[name][reply.status] = statuses[name].get(reply.status, 0) + 1
                if reply.status != 200:
                    problems.append(f"api {name}: status {reply.status}")
                    continue
                api_times[name].append(reply.seconds)
                if name not in checks:
                    got = json.loads(reply.body)
                    want = expected_metrics(counts, bool(group_by))
                    same = {
                        "overall": got["overall"] == want["overall"],
                        "groups": got["groups"] == want["groups"],
                        "responses": want["overall"]["responses"],
                        "groups_count": len(want["groups"]),
                    }
                    checks[f"api {name}"] = same
                    if not (same["overall"] and same["groups"]):
                        problems.append(f"api {name}: figures differ from the bare SQL's")
    results = []
    for name, _period, _group_by in cases:
        result = compare(f"api {name}", api_times[name], bare_times[name], GOALS["api_ratio"])
        result["statuses"] = statuses[name]
        results.append(result)
    return results


def dashboard_phase(port, cookie, bare, survey_id, ranges, args, problems) -> list[dict]:
    results = []
    page_times = {p: [] for p in ranges}
    bare_times = {p: [] for p in ranges}
    spent = dict.fromkeys(ranges, 0.0)
    sizes = {}
    for round_number in range(1, args.rounds + 1):
        print(f"dashboard round {round_number} of {args.rounds} ...", flush=True)
        for period, (start, end) in ranges.items():
            path = "/manage/?" + urlencode({"from": start.isoformat(), "to": end.isoformat()})
            statements = bare_sql(survey_id, start, end, None)
            for _ in range(args.dashboard_requests):
                if spent[period] > args.time_limit:
                    break
                seconds, _counts = timed(run_bare, bare, statements)
                bare_times[period].append(seconds)
                reply = request(port, "GET", path, cookie)
                spent[period] += seconds + reply.seconds
                if reply.status != 200:
                    problems.append(f"dashboard {period}: status {reply.status}")
                    continue
                page_times[period].append(reply.seconds)
                sizes[period] = len(reply.body)
    for period in ranges:
        result = compare(
            f"dashboard {period}", page_times[period], bare_times[period], GOALS["dashboard_ratio"]
        )
        result["html_bytes"] = sizes.get(period)
        result["over_default_gunicorn_timeout"] = sum(
            t > DEFAULT_GUNICORN_TIMEOUT for t in page_times[period]
        )
        results.append(result)
    return results


def chart_phase(port, cookie, ranges, chart_names, args, problems) -> list[dict]:
    """Uncached: each request asks from a different day before the data starts (a new cache key
    in every worker, the same rows). Cached: the same URL again, after one untimed request per
    worker (each worker keeps its own cache; which worker takes a request is up to the kernel,
    so a timed one may still find a cold worker now and then: hence medians)."""
    start, end = ranges["year"]
    results = []
    shift = 0
    for name in chart_names:
        print(f"chart {name} ...", flush=True)
        uncached, cached, statuses, spent, size = [], [], {}, 0.0, None
        path = None
        for _ in range(args.chart_requests):
            if spent > args.time_limit:
                break
            shift += 1
            path = f"/manage/charts/{name}.png?" + urlencode(
                {"from": (start - timedelta(days=shift)).isoformat(), "to": end.isoformat()}
            )
            reply = request(port, "GET", path, cookie)
            spent += reply.seconds
            statuses[reply.status] = statuses.get(reply.status, 0) + 1
            if reply.status == 200 and reply.body.startswith(b"\x89PNG"):
                uncached.append(reply.seconds)
                size = len(reply.body)
            else:
                problems.append(f"chart {name}: status {reply.status}")
        for number in range(args.workers + max(3, args.chart_requests)):
            if path is None or spent > args.time_limit + 30:
                break
            reply = request(port, "GET", path, cookie)
            spent += reply.seconds
            if reply.status == 200 and number >= args.workers:  # the first ones: untimed
                cached.append(reply.seconds)
        results.append(
            {
                "name": name,
                "uncached_median_ms": median_ms(uncached),
                "uncached_samples": len(uncached),
                "uncached_max_ms": round(max(uncached) * 1000, 1) if uncached else None,
                "cached_median_ms": median_ms(cached),
                "cached_samples": len(cached),
                "png_bytes": size,
                "statuses": statuses,
            }
        )
    return results


def pack_phase(port, cookie, ranges, args, problems) -> dict:
    """The meeting pack PDF of the last month, as the dashboard's link downloads it. Nothing of
    a pack is cached (only fonts and glyphs, which the chart phase has loaded), so every request
    computes its figures and draws its charts."""
    start, end = ranges["month"]
    path = "/manage/meeting-pack.pdf?" + urlencode(
        {"from": start.isoformat(), "to": end.isoformat()}
    )
    times, sizes, pages, spent = [], [], [], 0.0
    print("meeting pack ...", flush=True)
    for _ in range(args.pack_requests):
        if spent > args.time_limit:
            break
        reply = request(port, "GET", path, cookie)
        spent += reply.seconds
        if reply.status != 200 or not reply.body.startswith(b"%PDF"):
            problems.append(f"meeting pack: status {reply.status}")
            continue
        times.append(reply.seconds)
        sizes.append(len(reply.body))
        pages.append(len(re.findall(rb"/Type\s*/Page[^s]", reply.body)))
    return {
        "period": [start.isoformat(), end.isoformat()],
        "samples": len(times),
        "median_ms": median_ms(times),
        "max_ms": round(max(times) * 1000, 1) if times else None,
        "pdf_bytes": max(sizes) if sizes else None,
        "pages": max(pages) if pages else None,
    }


def export_phase(server: Gunicorn, cookie, ranges, expected_rows, args, problems) -> dict:
    port = server.port
    start, end = ranges["year"]
    # Warm every worker with a one-day export: imports and connections are then in the baseline.
    warm = "/manage/export/responses.csv?" + urlencode(
        {"from": end.isoformat(), "to": end.isoformat()}
    )
    for _ in range(2 * len(server.workers())):
        request(port, "GET", warm, cookie)
    workers = server.workers()
    before = {pid: memory_kb(pid) for pid in workers}
    samples: dict[int, int] = dict.fromkeys(workers, 0)
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for pid in workers:
                rss = memory_kb(pid).get("VmRSS", 0)
                samples[pid] = max(samples[pid], rss)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    received = {"bytes": 0, "newlines": 0, "last": b"", "first": b""}
    deadline = time.monotonic() + args.export_time_limit

    def sink(chunk: bytes):
        if not received["first"]:
            received["first"] = chunk[:400]
        received["bytes"] += len(chunk)
        received["newlines"] += chunk.count(b"\n")
        received["last"] = chunk[-1:]
        if time.monotonic() > deadline:
            raise TimeoutError("export time limit")

    path = "/manage/export/responses.csv?" + urlencode(
        {"from": start.isoformat(), "to": end.isoformat()}
    )
    print(f"export of {expected_rows:,} rows ...", flush=True)
    t0 = time.perf_counter()
    status, error = 0, None
    try:
        # HTTP/1.0: the stream comes unchunked and ends when the connection closes
        reply = request(
            port, "GET", path, cookie, sink=sink, version="1.0", timeout=args.export_time_limit + 60
        )
        status = reply.status
    except (OSError, TimeoutError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - t0
    stop.set()
    sampler.join()
    after = {pid: memory_kb(pid) for pid in workers}
    rows = received["newlines"] - 1  # the header; the generated texts hold no newline
    complete = (
        status == 200 and error is None and rows == expected_rows and received["last"] == b"\n"
    )
    if not complete:
        problems.append(
            f"export: status {status}, {rows} of {expected_rows} rows"
            + (f", {error}" if error else "")
        )
    peak_mb = max((after[p].get("VmHWM", 0) for p in workers), default=0) / 1024
    result = {
        "status": status,
        "error": error,
        "seconds": round(seconds, 1),
        "rows": rows,
        "expected_rows": expected_rows,
        "complete": complete,
        "bytes": received["bytes"],
        "rows_per_second": round(rows / seconds) if seconds else None,
        "mb_per_second": round(received["bytes"] / seconds / 1e6, 1) if seconds else None,
        "workers": {
            str(pid): {
                "before_rss_mb": round(before[pid].get("VmRSS", 0) / 1024, 1),
                "before_hwm_mb": round(before[pid].get("VmHWM", 0) / 1024, 1),
                "sampled_max_rss_mb": round(samples[pid] / 1024, 1),
                "after_rss_mb": round(after[pid].get("VmRSS", 0) / 1024, 1),
                "after_hwm_mb": round(after[pid].get("VmHWM", 0) / 1024, 1),
            }
            for pid in workers
        },
        "peak_worker_mb": round(peak_mb, 1),
        "goal_mb": GOALS["export_worker_mb"],
        "meets_goal": peak_mb <= GOALS["export_worker_mb"] and complete,
        "over_default_gunicorn_timeout": seconds > DEFAULT_GUNICORN_TIMEOUT,
        "head": received["first"].decode("utf-8", "replace")[:300],
    }
    return result


# --- printing -------------------------------------------------------------------------------------


def code_version() -> dict:
    """The commit measured and the files of the app changed since (others may edit meanwhile)."""

    def git(*command):
        try:
            return subprocess.run(
                ["git", *command], cwd=ROOT, capture_output=True, text=True, timeout=20
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "changed": git("status", "--short", "--", "feedback", "templates").splitlines(),
    }


def print_plans(info: dict) -> None:
    print("\nSQL that reports.metrics runs (whole year), with SQLite's plan:")
    for q in info["metrics_queries"]:
        print(f"  [group_by={q['group_by']}] {short_sql(q['sql'])}")
        for step in q["plan"]:
            print(f"      {step}")
    print("bare SQL:")
    for q in info.get("bare_queries", []):
        print(f"  [{q['name']}] {short_sql(q['sql'])}")
        for step in q["plan"]:
            print(f"      {step}")
    for label, view in info["views"].items():
        print(
            f"\nin-process {label}: {view['seconds'] * 1000:.0f} ms, of which SQL "
            f"{view['sql_seconds'] * 1000:.0f} ms in {len(view['statements'])} statements "
            f"(the rest, {view['other_seconds'] * 1000:.0f} ms: Python, templates)"
        )
        for s in sorted(view["statements"], key=lambda s: -s["seconds"])[:20]:
            if s["seconds"] >= 0.001:
                print(f"  {s['seconds'] * 1000:8.1f} ms  {s['sql'][:150]}")
                print(f"               {'; '.join(s['plan'])}")
    print("\ncProfile of the metrics view (year, by week), by own time:")
    lines = [line for line in info["metrics_profile"].splitlines() if line.strip()]
    print("\n".join("  " + line for line in lines[:22]))
    print(flush=True)


def print_summary(report: dict) -> None:
    print()
    if "api" in report or "dashboard" in report:
        header = f"{'case':<28}{'n':>4}{'median ms':>11}{'bare ms':>10}{'ratio':>8}{'goal':>7}"
        print(header)
        print("-" * len(header))
        for r in report.get("api", []) + report.get("dashboard", []):
            verdict = "ok" if r["meets_goal"] else "MISSED"
            print(
                f"{r['name']:<28}{r['samples']:>4}{r['median_ms'] or 0:>11.1f}"
                f"{r['bare_median_ms'] or 0:>10.1f}{r['ratio'] or 0:>8.2f}"
                f"{'<=' + str(r['goal']):>7}  {verdict}"
            )
    if "charts" in report:
        print(f"\n{'chart (png, whole year)':<28}{'uncached ms':>12}{'cached ms':>11}")
        for c in report["charts"]:
            print(
                f"{c['name']:<28}{c['uncached_median_ms'] or 0:>12.1f}"
                f"{c['cached_median_ms'] or 0:>11.1f}"
            )
    if "pack" in report:
        p = report["pack"]
        print(
            f"\nmeeting pack {p['period'][0]} to {p['period'][1]}: median {p['median_ms']} ms "
            f"(max {p['max_ms']} ms, {p['samples']} requests), {p['pages']} pages, "
            f"{(p['pdf_bytes'] or 0) / 1e6:.2f} MB"
        )
    if "export" in report:
        e = report["export"]
        print(
            f"\nexport responses.csv (whole year): {e['rows']:,} of {e['expected_rows']:,} "
            f"rows, {e['bytes'] / 1e6:.1f} MB in {e['seconds']} s "
            f"({e['rows_per_second']} rows/s); peak worker RSS {e['peak_worker_mb']} MB "
            f"(goal <= {e['goal_mb']:.0f}: {'ok' if e['meets_goal'] else 'MISSED'})"
        )
        for pid, w in e["workers"].items():
            print(
                f"  worker {pid}: RSS {w['before_rss_mb']} -> max {w['sampled_max_rss_mb']}"
                f" -> {w['after_rss_mb']} MB; VmHWM {w['before_hwm_mb']} -> "
                f"{w['after_hwm_mb']} MB"
            )
        if e["over_default_gunicorn_timeout"]:
            print(
                f"  longer than gunicorn's default --timeout {DEFAULT_GUNICORN_TIMEOUT} s: "
                "with the README's command line the worker would be killed mid-export"
            )
    slow = [r["name"] for r in report.get("dashboard", []) if r["over_default_gunicorn_timeout"]]
    if slow:
        print(f"\nover gunicorn's default --timeout {DEFAULT_GUNICORN_TIMEOUT} s: {slow}")
    if report.get("worker_timeouts_logged"):
        print(f"gunicorn logged {report['worker_timeouts_logged']} WORKER TIMEOUT(s)")
    print(f"\nchecks: {json.dumps(report['checks'], ensure_ascii=False)}")
    code = report.get("code", {})
    print(
        f"code: {code.get('commit')}"
        + (f", changed: {code['changed']}" if code.get("changed") else "")
    )
    for problem in report["problems"]:
        print(f"PROBLEM: {problem}")
    print(f"total {report['seconds']} s")


if __name__ == "__main__":
    sys.exit(main())
