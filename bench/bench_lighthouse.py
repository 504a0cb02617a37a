#!/usr/bin/env python3
"""Lighthouse's scores of the survey, the suggestion box and the dashboard, served as in production.

    .venv/bin/python bench/bench_lighthouse.py              # about two minutes
    .venv/bin/python bench/bench_lighthouse.py --runs 3     # the median of three runs a page

Makes a SQLite database in a temporary folder with ``flask init-db`` and ``flask demo`` (as
``python3 dev.py serve`` does), serves it with the gunicorn command of ``dev.py serve``
(``dev.gunicorn_command``: gthread workers, on 127.0.0.1 only), logs in as the demo manager, and
runs Lighthouse 12 (npm, package.json) in Debian's chromium, with its defaults (a phone,
simulated slow 4G and 4x CPU), on

  * survey       /s/<token>   an open invitation to the post-case survey, as a customer opens it
                              (no cookie)
  * suggestions  /suggest/    the public suggestion box
  * dashboard    /manage/     the manager's, with the session cookie (``--extra-headers``)

for the categories performance, accessibility, best-practices and seo. Every page is requested
a few times first (``--warm``), so each worker has its reports in its cache and its templates
compiled, then loaded once by Lighthouse, the "first view" (reported apart: the dashboard's
charts are drawn on their first request, and Lighthouse's simulation lends their server time
to the page itself), then ``--runs`` times more: the scores are the median run's, a manager's
next view. Prints the scores, the bytes transferred and every audit that cost points; writes
each report to bench/results/lighthouse/<page>-<run>.json and a summary to
bench/results/lighthouse-latest.json.
Targets (issue 15): accessibility 100, best practices >= 96, performance >= 95; the exit status
is 1 when a page misses one. See bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import lighthouse  # noqa: E402  (tests/lighthouse.py)
from node_tools import LIGHTHOUSE  # noqa: E402

from feedback.vocabulary import INVITATION_STATES  # noqa: E402

PENDING = INVITATION_STATES[0]
TARGETS = {"accessibility": 100, "best-practices": 96, "performance": 95}
DEMO_PASSWORD = "demo-pass"


def load_dev():
    """dev.py as a module: its gunicorn command is the one measured."""
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def flask(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "feedback", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def pending_token(database: Path, survey: str) -> str:
    """The newest invitation to ``survey`` still open (pending, not expired) in the demo data."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT invitation.token FROM invitation"
            " JOIN service_case ON service_case.id = invitation.case_id"
            " JOIN survey ON survey.id = service_case.survey_id"
            " WHERE survey.slug = ? AND invitation.status = ? AND invitation.expires_at > ?"
            " ORDER BY invitation.created_at DESC LIMIT 1",
            (survey, PENDING, now),
        ).fetchone()
    if row is None:
        raise SystemExit(f"the demo data has no open invitation to {survey}")
    return row[0]


def log_in(base: str, username: str) -> str:
    """Log in through the login form; the session cookie's value."""
    session = requests.Session()
    page = session.get(base + "login", timeout=60)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    reply = session.post(
        base + "login",
        data={"csrf_token": token.group(1), "username": username, "password": DEMO_PASSWORD},
        allow_redirects=False,
        timeout=60,
    )
    if reply.status_code != 302 or "session" not in session.cookies:
        raise SystemExit(f"logging in as {username} failed: {reply.status_code}")
    return session.cookies["session"]


def start_server(dev, env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    listener = dev.open_listener("127.0.0.1", 0)
    base = dev.url_of(listener)
    listener.listen(128)
    command = dev.gunicorn_command(listener.fileno())
    command[0] = str(Path(sys.executable).parent / "gunicorn")  # this venv's
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            pass_fds=(listener.fileno(),),
            start_new_session=True,
        )
    listener.close()
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "login", timeout=5).status_code == 200:
                return process, base
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"gunicorn did not start: {log.read_text()[-2000:]}")
        time.sleep(0.3)


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def median_reading(readings: list[lighthouse.Reading]) -> lighthouse.Reading:
    """The run with the median performance score (the other categories hardly move)."""
    ordered = sorted(readings, key=lambda r: r.scores.get("performance", 0))
    return ordered[(len(ordered) - 1) // 2]


def kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=5000, help="demo cases (default 5000)")
    parser.add_argument(
        "--survey",
        default="post-case",
        help="the survey whose page is measured (default post-case: the one most customers "
        "get, with a conditional question)",
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="Lighthouse runs a page after the first (default 1)"
    )
    parser.add_argument(
        "--warm", type=int, default=6, help="requests of each page before measuring (default 6)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="default bench/results/")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit(f"{LIGHTHOUSE} missing: run python3 dev.py test (npm ci) first")
    command = ["node", str(LIGHTHOUSE)]
    dev = load_dev()
    reports = args.out / "lighthouse"
    reports.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="bench-lighthouse-") as folder:
        database = Path(folder) / "demo.db"
        env = {
            **os.environ,
            "FEEDBACK_DATABASE_URL": f"sqlite:///{database}",
            "FEEDBACK_SECRET_KEY": secrets.token_urlsafe(32),
        }
        env.pop("FEEDBACK_OUTBOX_THREAD", None)
        print(f"demo data: {args.cases} cases ...", flush=True)
        flask(env, "init-db")
        flask(env, "demo", "--cases", str(args.cases))
        token = pending_token(database, args.survey)
        process, base = start_server(dev, env, Path(folder) / "gunicorn.log")
        try:
            cookie = {"Cookie": f"session={log_in(base, 'manager')}"}
            pages = [
                ("survey", f"s/{token}", None),
                ("suggestions", "suggest/", None),
                ("dashboard", "manage/", cookie),
            ]
            results = {}
            for name, path, headers in pages:
                for _ in range(args.warm):
                    reply = requests.get(base + path, headers=headers or {}, timeout=120)
                    if reply.status_code != 200 or reply.url != base + path:
                        raise SystemExit(f"{path}: {reply.status_code} at {reply.url}")
                # run 0, the first view: what the HTML alone did not warm (the dashboard's
                # charts, drawn on their first request) is made during this run
                readings = []
                for run in range(args.runs + 1):
                    report = reports / (f"{name}-first.json" if run == 0 else f"{name}-{run}.json")
                    print(f"lighthouse {name} ({run}/{args.runs}) ...", flush=True)
                    readings.append(
                        lighthouse.read(
                            lighthouse.run(command, base + path, report, headers=headers)
                        )
                    )
                results[name] = (path, readings[0], readings[1:])
        finally:
            stop_server(process)

    missed = []
    print()
    print(
        f"{'page':<12} {'perf':>5} {'a11y':>5} {'b-p':>5} {'seo':>5} {'transferred':>12}  "
        f"FCP / LCP / TBT / CLS   worst run; first view"
    )
    summary = {}
    for name, (path, first, readings) in results.items():
        reading = median_reading(readings)
        worst = min(readings, key=lambda r: r.scores.get("performance", 0))
        s = reading.scores
        m = reading.metrics
        print(
            f"{name:<12} {s.get('performance', 0):>5} {s.get('accessibility', 0):>5} "
            f"{s.get('best-practices', 0):>5} {s.get('seo', 0):>5} {kib(reading.transferred):>12}  "
            f"{m.get('FCP')} / {m.get('LCP')} / {m.get('TBT')} / {m.get('CLS')}   "
            f"perf {worst.scores.get('performance', 0)} (CLS {worst.metrics.get('CLS')}); "
            f"perf {first.scores.get('performance', 0)} (FCP {first.metrics.get('FCP')}, "
            f"CLS {first.metrics.get('CLS')})"
        )
        for category, target in TARGETS.items():
            if s.get(category, 0) < target:
                missed.append(f"{name}: {category} {s.get(category)} < {target}")
        summary[name] = {
            "path": re.sub(r"^s/.*", "s/<token>", path),
            "scores": reading.scores,
            "all_runs": [r.scores for r in readings],
            "first_view": {"scores": first.scores, "metrics": first.metrics},
            "metrics": reading.metrics,
            "transferred_bytes": reading.transferred,
            "requests": reading.requests,
            "failing_audits": reading.failing,
        }
    print()
    for name, item in summary.items():
        print(f"{name}: {len(item['requests'])} requests, {kib(item['transferred_bytes'])}")
        for url, size in item["requests"]:
            short = url.split("/", 3)[-1][:70]
            print(f"    {kib(size):>10}  /{short}")
        for category, audits in item["failing_audits"].items():
            for audit in audits:
                print(f"  {category}: {audit}")
    print()
    print("targets met" if not missed else "targets missed:\n  " + "\n  ".join(missed))
    out = args.out / "lighthouse-latest.json"
    out.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "load_average": os.getloadavg(),
                },
                "settings": vars(args) | {"out": str(args.out)},
                "targets": TARGETS,
                "pages": summary,
                "missed": missed,
            },
            indent=2,
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    print(f"written: {out} and {reports}/")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
