#!/usr/bin/env python3
"""The soak test: customers answer surveys for a while under gunicorn while its processes die.

    .venv/bin/python bench/soak.py                                    # SQLite, 32 clients, 60 s
    .venv/bin/python bench/soak.py --database-url postgresql://127.0.0.1:5432/soak
    .venv/bin/python bench/soak.py --clients 8 --seconds 6 --kill-every 1.5   # the CI size

gunicorn as the README runs it (4 threaded workers) on a free loopback port. Each client plays a
helpdesk and a customer in a loop: POST /api/v1/cases (a new case), GET /s/<token>, POST the
answers; after a connection error or a 5xx it tries again, as a helpdesk and a customer would.
Meanwhile a worker is SIGKILLed every ``--kill-every`` seconds and once, in the middle, the whole
server (master and workers) is SIGKILLed and started again. Afterwards the database is read and
compared with what the clients were told:

  acknowledged  answers the server confirmed (302 to the thanks page, or the "already answered"
                page after a try whose reply was lost)
  stored        responses in the database
  lost          acknowledged but not stored
  half-stored   a response without all the answers sent, a follow-up missing (or its webhook
                row), a case without its invitation
  duplicated    more than one response for an invitation, or a case stored twice
  5xx           replies with a status of 500 or more (a killed request is a connection error)

Exit status 1 when anything is lost, half-stored or duplicated. See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlparse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent

CSRF = re.compile(r'name="csrf_token"[^>]*? value="([^"]+)"')
VERSION = re.compile(r'name="version"[^>]*? value="([^"]*)"')
RETRY_PAUSE = 0.2
GIVE_UP_AFTER = 120.0  # seconds one step keeps trying (a restart on a busy machine is slow)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with threaded workers, as the README's command runs it; killable."""

    def __init__(self, env: dict, port: int, workers: int, log_path: Path):
        self.env, self.port, self.workers, self.log_path = env, port, workers, log_path
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return [
            str(BIN / "gunicorn"),
            "--worker-class",
            "gthread",
            "--workers",
            str(self.workers),
            "--threads",
            "8",
            "--timeout",
            "300",
            "--bind",
            f"127.0.0.1:{self.port}",
            "feedback:create_app()",
        ]

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                if request("GET", self.port, "/login", timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer in {timeout} s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            return [int(p) for p in children.read_text().split()]
        except (OSError, ValueError):
            return []

    def kill_worker(self) -> bool:
        pids = self.worker_pids()
        if not pids:
            return False
        try:
            os.kill(random.choice(pids), signal.SIGKILL)
        except ProcessLookupError:
            return False
        return True

    def kill_all(self) -> None:
        """SIGKILL the master and every worker at once (a crash, an OOM kill, a power cut)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def request(
    method: str,
    port: int,
    path: str,
    body: bytes | None = None,
    headers: dict | None = None,
    timeout: float = 30,
) -> tuple[int, bytes, dict]:
    """One request on a new connection; raises OSError (or http.client's errors) on failure."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        reply = connection.getresponse()
        return reply.status, reply.read(), dict(reply.getheaders())
    finally:
        connection.close()


@dataclass
class Tally:
    """What the clients saw; shared by all client threads (under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    cases_acknowledged: set = field(default_factory=set)
    answers_acknowledged: set = field(default_factory=set)  # invitation tokens
    already_answered: int = 0  # acknowledged by "already answered" after a lost reply
    sent: dict = field(default_factory=dict)  # token -> (answers sent, follow-up expected)
    gave_up: Counter = field(default_factory=Counter)


ANSWER_CHOICES = {
    "resolved": ("yes", "yes", "yes", "no"),
    "csat": "12345",
    "nps": "0123456789",
    "ces": "1234567",
}


def answers_for(rng: random.Random) -> dict:
    answers = {k: rng.choice(v) for k, v in ANSWER_CHOICES.items()}
    if rng.random() < 0.3:
        answers["comment"] = rng.choice(["很好", "太慢了", "Thanks, all fine.", "再也不用了"])
    return answers


def follow_up_expected(answers: dict) -> bool:  # the post-case survey's rules
    return answers["resolved"] == "no" or int(answers["csat"]) <= 2 or int(answers["nps"]) <= 6


class Client(threading.Thread):
    def __init__(self, number: int, port: int, token: str, tally: Tally, stop_at: float):
        super().__init__(name=f"client-{number}", daemon=True)
        self.number, self.port, self.tally, self.stop_at = number, port, tally, stop_at
        self.api_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.rng = random.Random(number)

    def step(
        self,
        name: str,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
        done=lambda status: status < 500,
    ):
        """Try until ``done(status)`` or GIVE_UP_AFTER; returns (status, body, tries) or None."""
        started = time.monotonic()
        tries = 0
        while time.monotonic() - started < GIVE_UP_AFTER:
            tries += 1
            try:
                status, content, _headers = request(method, self.port, path, body, headers)
            except (OSError, http.client.HTTPException) as exc:
                with self.tally.lock:
                    self.tally.errors[f"{name}: {type(exc).__name__}"] += 1
                time.sleep(RETRY_PAUSE)
                continue
            with self.tally.lock:
                self.tally.statuses[f"{name} {status}"] += 1
            if done(status):
                return status, content, tries
            time.sleep(RETRY_PAUSE)
        with self.tally.lock:
            self.tally.gave_up[name] += 1
        return None

    def run(self) -> None:
        serial = 0
        while time.monotonic() < self.stop_at:
            serial += 1
            case_id = f"soak-{self.number}-{serial}"
            case = {
                "case_id": case_id,
                "channel": self.rng.choice(["phone", "chat", "email"]),
                "resolved_at": datetime.now(UTC).isoformat(),
                "team": self.rng.choice(["Billing", "Support"]),
                "customer": {"id": f"cust-{case_id}", "locale": "zh-CN"},
            }
            made = self.step(
                "case",
                "POST",
                "/api/v1/cases",
                json.dumps(case).encode(),
                self.api_headers,
                done=lambda s: s in (200, 201) or 400 <= s < 500,
            )
            if made is None or made[0] not in (200, 201):
                continue
            with self.tally.lock:
                self.tally.cases_acknowledged.add(case_id)
            reply = json.loads(made[1])
            if not reply.get("invitation"):
                continue
            path = urlparse(reply["invitation"]["url"]).path
            token = path.rstrip("/").rsplit("/", 1)[-1]
            page = self.step("page", "GET", path)
            if page is None or page[0] != 200:
                continue
            html = page[1].decode("utf-8")
            csrf, version = CSRF.search(html), VERSION.search(html)
            answers = answers_for(self.rng)
            with self.tally.lock:
                self.tally.sent[token] = (answers, follow_up_expected(answers))
            form = urlencode(
                {
                    **answers,
                    "csrf_token": csrf.group(1),
                    "version": version.group(1) if version else "",
                }
            ).encode()
            posted = self.step(
                "submit",
                "POST",
                path,
                form,
                {"Content-Type": "application/x-www-form-urlencoded"},
                done=lambda s: s < 500,
            )
            if posted is None:
                continue
            status, _content, tries = posted
            with self.tally.lock:
                if status == 302:
                    self.tally.answers_acknowledged.add(token)
                elif status == 200 and tries > 1:  # "already answered": an earlier try stored
                    # it and its reply was lost
                    self.tally.answers_acknowledged.add(token)
                    self.tally.already_answered += 1


class Killer(threading.Thread):
    """A worker SIGKILLed every ``every`` seconds; the whole server once, at ``server_at``."""

    def __init__(self, server: Server, every: float, server_at: float | None, stop_at: float):
        super().__init__(name="killer", daemon=True)
        self.server, self.every, self.server_at, self.stop_at = server, every, server_at, stop_at
        self.worker_kills = self.server_kills = 0
        self.restart_seconds: float | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            next_kill = time.monotonic() + self.every
            while time.monotonic() < self.stop_at:
                if (
                    self.server_at is not None
                    and not self.server_kills
                    and time.monotonic() >= self.server_at
                ):
                    self.server.kill_all()
                    self.server_kills += 1
                    started = time.monotonic()
                    self.server.start()
                    self.server.wait_ready()
                    self.restart_seconds = time.monotonic() - started
                    next_kill = time.monotonic() + self.every
                if self.every and time.monotonic() >= next_kill:
                    self.worker_kills += self.server.kill_worker()
                    next_kill += self.every
                time.sleep(0.05)
        except BaseException as exc:  # reported, not swallowed
            self.error = exc


def prepare(database_url: str, folder: Path) -> tuple[dict, str]:
    """The server's environment and an API token, on a database that holds no cases yet."""
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": database_url,
        "FEEDBACK_SECRET_KEY": secrets.token_hex(16),
        "FEEDBACK_BASE_URL": "http://soak.test",
        "FEEDBACK_EXPORTS_DIR": str(folder / "exports"),
        # every follow-up writes a webhook row in its transaction; nothing delivers it
        "FEEDBACK_WEBHOOK_URL": "http://127.0.0.1:9/never",
        "FEEDBACK_OUTBOX_THREAD": "false",
    }
    flask = [str(BIN / "python"), "-m", "flask", "--app", "feedback"]
    subprocess.run([*flask, "init-db"], cwd=ROOT, env=env, check=True, capture_output=True)
    held = count_rows(database_url, "SELECT COUNT(*) FROM service_case")
    if held:
        raise SystemExit(f"soak: {database_url} already holds {held} cases; give an empty database")
    made = subprocess.run(
        [*flask, "create-token", "soak"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return env, made.stdout.strip().splitlines()[-1].strip()


def count_rows(database_url: str, sql: str) -> int:
    return query(database_url, sql)[0][0]


def query(database_url: str, sql: str) -> list[tuple]:
    sys.path.insert(0, str(ROOT))
    from feedback.db import open_database

    db = open_database(database_url)
    try:
        return list(db.execute_sql(sql).fetchall())
    finally:
        db.close_all() if hasattr(db, "close_all") else db.close()


def check(database_url: str, tally: Tally) -> dict:
    """Compare the database with what the clients were told."""
    responses = query(
        database_url,
        """
        SELECT i.token, r.id, (SELECT COUNT(*) FROM answer a WHERE a.response_id = r.id),
               (SELECT COUNT(*) FROM follow_up f WHERE f.response_id = r.id)
        FROM response r JOIN invitation i ON i.id = r.invitation_id""",
    )
    per_token = Counter(token for token, *_rest in responses)
    follow_ups = query(database_url, "SELECT id FROM follow_up")
    webhook_rows = Counter()
    for (payload,) in query(database_url, "SELECT payload FROM outbox WHERE kind = 'webhook'"):
        webhook_rows[json.loads(payload)["follow_up"]["id"]] += 1
    cases = query(
        database_url,
        "SELECT case_ref, (SELECT COUNT(*) FROM invitation i "
        "WHERE i.case_id = c.id) FROM service_case c",
    )
    case_count = Counter(ref for ref, _n in cases)

    half = Counter()
    for token, _response_id, answers, has_follow_up in responses:
        sent = tally.sent.get(token)
        if sent is None:
            half["response nobody sent"] += 1
            continue
        if answers != len(sent[0]):
            half["answers missing"] += 1
        if sent[1] and not has_follow_up:
            half["follow-up missing"] += 1
        if not sent[1] and has_follow_up:
            half["follow-up not due"] += 1
    for (follow_up_id,) in follow_ups:
        if webhook_rows[follow_up_id] != 1:
            half["webhook row missing or repeated"] += 1
    for _ref, invitations in cases:
        if invitations != 1:
            half["case without its invitation"] += 1

    stored = set(per_token)
    statuses = tally.statuses
    return {
        "acknowledged": len(tally.answers_acknowledged),
        "acknowledged_as_already_answered": tally.already_answered,
        "stored": len(responses),
        "stored_without_acknowledgement": len(stored - tally.answers_acknowledged),
        "lost": len(tally.answers_acknowledged - stored),
        "half_stored": sum(half.values()),
        "half_stored_kinds": dict(half),
        "duplicated": sum(n - 1 for n in per_token.values() if n > 1)
        + sum(n - 1 for n in case_count.values() if n > 1),
        "5xx": sum(n for key, n in statuses.items() if int(key.rsplit(" ", 1)[1]) >= 500),
        "cases_acknowledged": len(tally.cases_acknowledged),
        "cases_stored": len(cases),
        "cases_lost": len(tally.cases_acknowledged - set(case_count)),
        "follow_ups": len(follow_ups),
        "statuses": dict(sorted(statuses.items())),
        "connection_errors": dict(sorted(tally.errors.items())),
        "gave_up": dict(tally.gave_up),
    }


EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Timeout)\b.*)$")


def server_errors(log_path: Path) -> dict:
    """The exceptions in gunicorn's log (a traceback's last line), counted; worker kills and
    timeouts are expected and left out."""
    found: Counter = Counter()
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return {}
    for line in text.splitlines():
        match = EXCEPTION_LINE.match(line.strip())
        if match:
            found[match.group(1)[:200]] += 1
    return dict(found.most_common(10))


def run(
    database_url: str | None,
    clients: int,
    seconds: float,
    kill_every: float,
    server_kill_at: float | None,
    workers: int = 4,
    folder: Path | None = None,
) -> dict:
    """One soak; returns the figures (see the module's docstring)."""
    with tempfile.TemporaryDirectory(prefix="feedback-soak-") as temporary:
        folder = folder or Path(temporary)
        database_url = database_url or f"sqlite:///{folder}/soak.sqlite3"
        env, token = prepare(database_url, folder)
        server = Server(env, free_port(), workers, folder / "gunicorn.log")
        server.start()
        try:
            server.wait_ready()
            tally = Tally()
            started = time.monotonic()
            stop_at = started + seconds
            killer = Killer(
                server,
                kill_every,
                None if server_kill_at is None else started + server_kill_at,
                stop_at,
            )
            threads = [Client(n, server.port, token, tally, stop_at) for n in range(clients)]
            killer.start()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            killer.join(120)
            took = time.monotonic() - started
            if killer.error:
                raise RuntimeError(f"killing and restarting the server failed: {killer.error}")
        finally:
            server.stop()
        figures = check(database_url, tally)
        figures["server_errors"] = server_errors(server.log_path)
        figures.update(
            {
                "database": urlparse(database_url).scheme,
                "clients": clients,
                "seconds": seconds,
                "wall_seconds": round(took, 1),
                "workers": workers,
                "worker_kills": killer.worker_kills,
                "server_kills": killer.server_kills,
                "restart_seconds": None
                if killer.restart_seconds is None
                else round(killer.restart_seconds, 1),
                "acknowledged_per_second": round(figures["acknowledged"] / seconds, 1),
            }
        )
        return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        help="an empty database (default: a new SQLite file "
        "in a temporary folder); init-db is run on it",
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--kill-every",
        type=float,
        default=3,
        help="SIGKILL one worker every this many seconds (0: never)",
    )
    parser.add_argument(
        "--server-kill-at",
        type=float,
        default=None,
        help="SIGKILL the whole server once, this many seconds in, and restart it "
        "(default: half-way; a negative number: never)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    at = args.seconds / 2 if args.server_kill_at is None else args.server_kill_at
    figures = run(
        args.database_url,
        args.clients,
        args.seconds,
        args.kill_every,
        None if at < 0 else at,
        args.workers,
    )
    for key in (
        "database",
        "clients",
        "seconds",
        "workers",
        "worker_kills",
        "server_kills",
        "restart_seconds",
        "acknowledged",
        "acknowledged_as_already_answered",
        "stored",
        "stored_without_acknowledgement",
        "lost",
        "half_stored",
        "duplicated",
        "5xx",
        "cases_acknowledged",
        "cases_stored",
        "cases_lost",
        "follow_ups",
        "acknowledged_per_second",
    ):
        print(f"{key:34} {figures[key]}")
    print(f"{'connection errors':34} {sum(figures['connection_errors'].values())}")
    for line, times in figures["server_errors"].items():
        print(f"{'server log':34} {times} x {line}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    bad = (
        figures["lost"] or figures["half_stored"] or figures["duplicated"] or figures["cases_lost"]
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
