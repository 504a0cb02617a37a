#!/usr/bin/env python3
"""How fast customers can open and answer surveys, against a bare Flask app in the same run.

    .venv/bin/python bench/bench_survey.py [--rounds 3] [--concurrency 4] ...  (see --help)

Starts two gunicorn servers (2 sync workers each, on 127.0.0.1 only): feedback on a fresh SQLite
database in a temporary folder, and ``bench/bare_app.py`` (a static template page, and one sqlite3
INSERT per POST). Then, with wrk (a load generator in C, in its own process: it costs the
servers little CPU, unlike a Python client, which could not keep the bare app busy), measures

  * bare page        GET  /page                     (static template)
  * survey page      GET  /s/<token>                (a different pending invitation each time)
  * bare insert      POST /insert                   (one INSERT, WAL)
  * survey submit    POST /s/<token>                (each invitation answered once)

Each submission sends the CSRF token and version its page shows (checked on a sample of pages
fetched before timing). The four phases run interleaved,
several rounds of each, so that other load on the machine weighs on both apps alike. Each phase
runs for ``--seconds``. Prints a table and
writes bench/results/latest.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
GOALS = {"submit_ratio": 0.30, "page_ratio": 0.50}

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
VERSION = re.compile(r'name="version" type="hidden" value="([^"]*)"')
ANSWERS = {
    "resolved": "yes",
    "csat": "5",
    "nps": "9",
    "ces": "6",
    "speed": "5",
    "attitude": "5",
    "competence": "4",
    "comment": "客服很耐心，问题很快就解决了。",
}


# --- a small HTTP client, for the untimed requests: one connection per request ---------------------


class Reply:
    __slots__ = ("status", "head", "body")

    def __init__(self, status: int, head: str, body: bytes):
        self.status, self.head, self.body = status, head, body

    def cookie(self, name: str) -> str | None:
        for line in self.head.split("\r\n"):
            if line.lower().startswith("set-cookie:"):
                value = line.split(":", 1)[1].strip().split(";", 1)[0]
                if value.startswith(name + "="):
                    return value[len(name) + 1 :]
        return None


def build(
    port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Connection: close",
        "Accept-Language: zh-CN,zh;q=0.9",
        "User-Agent: feedback-bench",
    ]
    if body or method == "POST":
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def send(port: int, raw: bytes, timeout: float = 30.0) -> Reply:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _sep, body = data.partition(b"\r\n\r\n")
    head_text = head.decode("latin-1")
    status = int(head_text.split(" ", 2)[1]) if head_text.startswith("HTTP/") else 0
    return Reply(status, head_text, body)


# --- load: wrk -----------------------------------------------------------------------------------

WRK_SCRIPT = HERE / "wrk_requests.lua"
WRK_ENV = dict(os.environ)  # main() adds BENCH_ACCEPT_ENCODING (--accept-encoding)
WRK_RESULT = re.compile(r"^WRK-JSON (\{.*\})$", re.MULTILINE)


def run_wrk(
    port: int,
    requests: list[tuple[str, str, str]],
    expect: int,
    seconds: float,
    concurrency: int,
    cycle: bool,
    workdir: Path,
) -> dict:
    """Load one endpoint for ``seconds`` with wrk: ``concurrency`` threads of one connection
    each, every thread sending its share of ``requests`` (method, path, form body) in turn
    (over again when ``cycle``). Replies with status ``expect`` count as done."""
    if cycle:  # every thread needs a share
        requests = requests * -(-concurrency // len(requests))
    listing = workdir / "wrk-requests.tsv"
    listing.write_text("".join(f"{m}\t{p}\t{b}\n" for m, p, b in requests))
    command = [
        "wrk",
        "--threads",
        str(concurrency),
        "--connections",
        str(concurrency),
        "--duration",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "--script",
        str(WRK_SCRIPT),
        f"http://127.0.0.1:{port}",
        "--",
        str(listing),
        str(concurrency),
        str(expect),
        "1" if cycle else "0",
    ]
    cpu0 = os.times()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=WRK_ENV)
    cpu1 = os.times()
    found = WRK_RESULT.search(done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(found.group(1))
    result["seconds"] = result["duration_us"] / 1e6
    # wrk's own CPU time, in cores: the load generator shares the machine with the servers
    result["cpu"] = (cpu1.children_user + cpu1.children_system) - (
        cpu0.children_user + cpu0.children_system
    )
    return result


def summarize(name: str, label: str, runs: list[dict]) -> dict:
    """One phase over all its rounds: totals, rate, latency percentiles (the worst round's)."""
    wall = sum(run["seconds"] for run in runs)
    ok = sum(run["ok"] for run in runs)
    other = sum(run["other"] for run in runs)
    errors: Counter = sum((Counter(run["errors"]) for run in runs), Counter())

    def ms(key):
        return round(max(run[key] for run in runs) / 1000, 2) if runs else None

    errors["status"] = 0  # wrk's count of 4xx/5xx replies, already among ``other``
    return {
        "name": name,
        "label": label,
        "requests": ok + other + sum(errors.values()),
        "ok": ok,
        "errors": other + sum(errors.values()),
        "wrong_status": other,
        "connection_errors": {k: v for k, v in errors.items() if v},
        "seconds": round(wall, 3),
        "rounds_out_of_requests": sum(bool(run["threads_out_of_requests"]) for run in runs),
        "requests_per_second": round(ok / wall, 1) if wall else None,
        "rounds_requests_per_second": [round(r["ok"] / r["seconds"], 1) for r in runs],
        "p50_ms": ms("p50_us"),
        "p99_ms": ms("p99_us"),
        "max_ms": ms("max_us"),
        "client_cpu_cores": round(sum(r["cpu"] for r in runs) / wall, 2) if wall else None,
        # the servers' CPU per request done: what a request costs, whatever else the machine does
        "server_cpu_ms": round(sum(r["server_cpu"] for r in runs) / ok * 1000, 3) if ok else None,
    }


# --- servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with 2 sync workers on 127.0.0.1, in its own process group; stopped on exit."""

    def __init__(self, name: str, app: str, chdir: Path, env: dict, workdir: Path, workers: int):
        self.name, self.port = name, free_port()
        self.log = workdir / f"{name}-gunicorn.log"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--chdir",
            str(chdir),
            "--error-logfile",
            str(self.log),
            "--backlog",
            "2048",
            "--graceful-timeout",
            "5",
            app,
        ]
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=chdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def cpu_seconds(self) -> float:
        """CPU time used so far by the master and its workers (user and system, from /proc)."""
        pids = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry.name))
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"{self.name}: gunicorn exited; see {self.log}:\n"
                    + self.log.read_text()[-2000:]
                )
            try:
                send(self.port, build(self.port, "GET", path), timeout=5)
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"{self.name}: gunicorn did not answer within {timeout} s; see {self.log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # the master stops its workers
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


# --- preparing the feedback database --------------------------------------------------------------


def prepare_feedback(env: dict, total: int) -> list[str]:
    """init-db, then ``total`` pending invitations through cases.register_case; their tokens."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "feedback", "init-db"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ.update({k: v for k, v in env.items() if k.startswith("FEEDBACK_")})
    sys.path.insert(0, str(ROOT))
    from feedback import create_app
    from feedback.cases import CaseInput, InvitationPolicy, register_case
    from feedback.db import database, utcnow
    from feedback.surveys import current_version

    app = create_app()
    tokens = []
    with app.app_context(), database.connection_context():
        survey = current_version(app.config["DEFAULT_SURVEY"]).survey
        resolved = utcnow() - timedelta(hours=1)
        for start in range(0, total, 500):
            with database.atomic():
                for i in range(start, min(total, start + 500)):
                    case = CaseInput(
                        case_ref=f"BENCH-{i:06d}",
                        survey=survey.slug,
                        resolved_at=resolved,
                        channel="phone",
                        agent="李娜",
                        team="账务组",
                        category="billing",
                        customer_ref=f"bench-customer-{i}",
                        customer_locale="zh_CN",
                    )
                    registration = register_case(
                        case, survey, InvitationPolicy.from_config(app.config)
                    )
                    tokens.append(registration.invitation.token)
    app.extensions["feedback.db"].close_all()
    return tokens


def submit_forms(
    port: int, tokens: list[str], secret_key: str, concurrency: int
) -> list[tuple[str, str, str]]:
    """(token, csrf token, version) for each token, as its page holds them.

    The page of one token in 50 is fetched, as the customer's browser would; each must set no
    cookie and show the CSRF token computed here (``survey_csrf_token``: an HMAC of the
    invitation token) and the same version. Fetching every page took longer than the run."""
    from feedback.web.survey_forms import survey_csrf_token

    def fetch(token):
        reply = send(port, build(port, "GET", f"/s/{token}"))
        page = reply.body.decode("utf-8", "replace")
        csrf, version = CSRF.search(page), VERSION.search(page)
        if reply.status != 200 or not (csrf and version) or reply.cookie("session"):
            raise SystemExit(f"GET /s/{token}: status {reply.status}, no form to answer")
        if csrf.group(1) != survey_csrf_token(secret_key, token):
            raise SystemExit(f"GET /s/{token}: not the CSRF token expected")
        return version.group(1)

    with ThreadPoolExecutor(concurrency) as pool:
        versions = set(pool.map(fetch, tokens[::50]))
    if len(versions) != 1:
        raise SystemExit(f"the pages show different survey versions: {versions}")
    version = versions.pop()
    return [(token, survey_csrf_token(secret_key, token), version) for token in tokens]


# --- the run --------------------------------------------------------------------------------------


def ratio(numerator: dict, denominator: dict) -> float | None:
    a, b = numerator["requests_per_second"], denominator["requests_per_second"]
    return round(a / b, 3) if a and b else None


def cpu_ratio(survey: dict, bare: dict) -> float | None:
    a, b = bare["server_cpu_ms"], survey["server_cpu_ms"]
    return round(a / b, 3) if a and b else None


def print_table(phases: list[dict], ratios: dict) -> None:
    header = (
        f"{'phase':<34}{'requests':>9}{'errors':>8}{'seconds':>9}{'req/s':>9}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'client cpu':>11}{'server cpu ms':>14}"
    )
    print(header)
    print("-" * len(header))
    for p in phases:
        cells = [
            f"{p['requests']:>9}",
            f"{p['errors']:>8}",
            f"{p['seconds']:>9.1f}",
            f"{p['requests_per_second'] or 0:>9.1f}",
            f"{p['p50_ms'] if p['p50_ms'] is not None else '-':>9}",
            f"{p['p99_ms'] if p['p99_ms'] is not None else '-':>9}",
            f"{p['client_cpu_cores']:>11}",
            f"{p['server_cpu_ms'] if p['server_cpu_ms'] is not None else '-':>14}",
        ]
        print(f"{p['label']:<34}" + "".join(cells))
    print()
    for key, label in (
        ("page_ratio", "survey pages / bare pages"),
        ("submit_ratio", "survey submissions / bare inserts"),
    ):
        value, goal = ratios[key], GOALS[key]
        verdict = "meets the goal" if value is not None and value >= goal else "MISSES the goal"
        print(
            f"{label:<36} {value if value is not None else '-':>6}   (goal >= {goal:.2f}: "
            f"{verdict})"
        )
    print(
        "by the servers' CPU per request (bare / survey; less moved by other load): "
        f"pages {ratios['page_cpu_ratio']}, submissions {ratios['submit_cpu_ratio']}"
    )


PHASES = (  # name, label, server
    ("bare_page", "bare page       GET /page", "bare"),
    ("survey_page", "survey page     GET /s/<token>", "feedback"),
    ("bare_insert", "bare insert     POST /insert", "bare"),
    ("survey_submit", "survey submit   POST /s/<token>", "feedback"),
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="client threads, each with one request in flight (default 4)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="the four phases run this many times, interleaved, so that a "
        "busy moment on the machine hits both apps alike (default 3)",
    )
    parser.add_argument(
        "--page-tokens",
        type=int,
        default=500,
        help="distinct pending invitations whose pages are viewed, in turn (default 500)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=4.0,
        help="seconds each phase runs per round (default 4)",
    )
    parser.add_argument(
        "--submissions",
        type=int,
        default=4000,
        help="invitations ready to be answered per round (default 4000: more than a submit "
        "phase answers; a phase that runs out is flagged, and the run fails)",
    )
    parser.add_argument(
        "--feedback-app",
        default="feedback:create_app()",
        metavar="SPEC",
        help="what gunicorn serves as feedback (default feedback:create_app()); "
        "to measure a variant, e.g. a module on PYTHONPATH",
    )
    parser.add_argument(
        "--accept-encoding",
        default="",
        metavar="CODING",
        help="page views (bare and survey) send Accept-Encoding: CODING, e.g. gzip, to measure "
        "the compressed survey page (default: none, uncompressed pages)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.accept_encoding:
        WRK_ENV["BENCH_ACCEPT_ENCODING"] = args.accept_encoding
    if shutil.which("wrk") is None:
        parser.error("needs wrk, the HTTP load generator (Debian: apt-get install wrk)")
    if (
        min(
            args.concurrency,
            args.workers,
            args.rounds,
            args.page_tokens,
            args.submissions,
        )
        < 1
        or args.seconds <= 0
    ):
        parser.error("every number must be positive")

    workdir = Path(tempfile.mkdtemp(prefix="feedback-bench-"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    warmup = 10 * args.workers
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": f"sqlite:///{workdir / 'feedback.sqlite3'}",
        "FEEDBACK_SECRET_KEY": secrets.token_urlsafe(32),
        "FEEDBACK_BASE_URL": "http://127.0.0.1",
        "FEEDBACK_EXPORTS_DIR": str(workdir / "exports"),
        "BARE_DATABASE": str(workdir / "bare.sqlite3"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    total = args.page_tokens + warmup + args.submissions * args.rounds
    print(f"preparing {total} invitations in {workdir} ...", flush=True)
    t0 = time.perf_counter()
    tokens = prepare_feedback(env, total)
    prepare_seconds = time.perf_counter() - t0
    page_tokens = tokens[: args.page_tokens]
    answer_tokens = tokens[args.page_tokens :]  # the first `warmup` only warm up
    sys.path.insert(0, str(HERE))
    import bare_app

    bare_app.setup(env["BARE_DATABASE"])

    servers: list[Gunicorn] = []
    runs: dict[str, list[dict]] = {name: [] for name, _label, _server in PHASES}
    try:
        feedback = Gunicorn("feedback", args.feedback_app, ROOT, env, workdir, args.workers)
        servers.append(feedback)
        bare = Gunicorn("bare", "bare_app:app", HERE, env, workdir, args.workers)
        servers.append(bare)
        feedback.wait_ready(f"/s/{page_tokens[0]}")
        bare.wait_ready("/page")
        fp, bp = feedback.port, bare.port
        by_server = {"feedback": feedback, "bare": bare}
        body = urlencode(ANSWERS).encode()
        forms = submit_forms(fp, answer_tokens, env["FEEDBACK_SECRET_KEY"], args.concurrency)

        def post(form) -> tuple[str, str, str]:
            token, csrf, version = form
            return (
                "POST",
                f"/s/{token}",
                urlencode({**ANSWERS, "csrf_token": csrf, "version": version}),
            )

        posts = [post(f) for f in forms]
        page_requests = [("GET", f"/s/{t}", "") for t in page_tokens]
        for i in range(warmup):  # every worker has imported, compiled and connected
            send(bp, build(bp, "GET", "/page"))
            send(bp, build(bp, "POST", "/insert", body))
            send(fp, build(fp, "GET", page_requests[i % len(page_requests)][1]))
            method, path, data = posts[i]
            send(fp, build(fp, method, path, data.encode()))
        load = {
            "bare_page": (bp, [("GET", "/page", "")], 200, True),
            "survey_page": (fp, page_requests, 200, True),
            "bare_insert": (bp, [("POST", "/insert", body.decode())], 204, True),
        }
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number} of {args.rounds} ...", flush=True)
            first = warmup + (round_number - 1) * args.submissions
            load["survey_submit"] = (fp, posts[first : first + args.submissions], 302, False)
            for name, _label, server in PHASES:
                port, requests, expect, cycle = load[name]
                cpu0 = by_server[server].cpu_seconds()
                run = run_wrk(
                    port, requests, expect, args.seconds, args.concurrency, cycle, workdir
                )
                run["server_cpu"] = by_server[server].cpu_seconds() - cpu0
                runs[name].append(run)
    finally:
        for server in servers:
            server.stop()

    phases = [summarize(name, label, runs[name]) for name, label, _server in PHASES]
    by_name = {p["name"]: p for p in phases}
    ratios = {
        "page_ratio": ratio(by_name["survey_page"], by_name["bare_page"]),
        "submit_ratio": ratio(by_name["survey_submit"], by_name["bare_insert"]),
        "page_cpu_ratio": cpu_ratio(by_name["survey_page"], by_name["bare_page"]),
        "submit_cpu_ratio": cpu_ratio(by_name["survey_submit"], by_name["bare_insert"]),
    }
    ratios["rounds"] = [
        {
            "page_ratio": round(sp["ok"] / sp["seconds"] / (bpg["ok"] / bpg["seconds"]), 3),
            "submit_ratio": round(ss["ok"] / ss["seconds"] / (bi["ok"] / bi["seconds"]), 3),
        }
        for bpg, sp, bi, ss in zip(
            runs["bare_page"],
            runs["survey_page"],
            runs["bare_insert"],
            runs["survey_submit"],
            strict=True,
        )
        if bpg["ok"] and bi["ok"]
    ]
    # What was counted as done must have been stored, once.
    stored = _count(workdir / "feedback.sqlite3", "SELECT COUNT(*) FROM response")
    inserted = _count(workdir / "bare.sqlite3", "SELECT COUNT(*) FROM submission")
    checks = {
        "responses_stored": stored,
        "responses_expected": by_name["survey_submit"]["ok"] + warmup,
        "bare_rows_stored": inserted,
        "bare_rows_expected": by_name["bare_insert"]["ok"] + warmup,
    }

    print()
    print_table(phases, ratios)
    print(
        "per round: "
        + "; ".join(
            f"pages {r['page_ratio']}, submissions {r['submit_ratio']}" for r in ratios["rounds"]
        )
    )
    print(
        f"stored responses: {stored} (counted {checks['responses_expected']}); bare rows: "
        f"{inserted} (counted {checks['bare_rows_expected']}; up to {args.concurrency} a "
        "phase may be stored uncounted, in flight when wrk stopped)"
    )
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "settings": {
            "feedback_app": args.feedback_app,
            "concurrency": args.concurrency,
            "workers": args.workers,
            "worker_class": "sync",
            "rounds": args.rounds,
            "page_tokens": args.page_tokens,
            "seconds_per_phase_and_round": args.seconds,
            "submissions_ready_per_round": args.submissions,
            "load_generator": "wrk, one connection per thread",
            "warmup_requests_per_endpoint": warmup,
            "submit_form_fetched_before_timing": True,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg()),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
        },
        "prepare_seconds": round(prepare_seconds, 1),
        "phases": phases,
        "ratios": ratios,
        "goals": GOALS,
        "checks": checks,
    }
    out = RESULTS / "latest.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out.relative_to(ROOT)}")
    if args.keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    # wrk stops with up to one request in flight per connection: done, but not counted
    slack = args.concurrency * args.rounds
    problems = (
        not 0 <= stored - checks["responses_expected"] <= slack
        or not 0 <= inserted - checks["bare_rows_expected"] <= slack
        or by_name["survey_submit"]["rounds_out_of_requests"]
    )
    if by_name["survey_submit"]["rounds_out_of_requests"]:
        print("a submit phase ran out of invitations: run again with a larger --submissions")
    return 1 if problems else 0


def _count(path: Path, sql: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
