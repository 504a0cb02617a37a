#!/usr/bin/env python3
"""Where a survey page view and a survey submission spend their time, in-process.

    .venv/bin/python bench/profile_survey.py [--requests 300] [--top 25]

Runs feedback on a fresh SQLite database in a temporary folder, through Flask's test client (no
server, no network), and for each of GET /s/<token> and POST /s/<token>:

  * times the requests without a profiler (ms per request);
  * profiles them with cProfile and prints the share of time spent in each package (self time:
    peewee, jinja2, wtforms, ...) and the functions with the most cumulative time.

The page of each answered invitation is fetched before the POSTs are timed, as in
bench_survey.py. Nothing is written outside the temporary folder.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
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


def by_package(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Self time per package (site-packages), project file, or standard-library module."""
    totals: Counter = Counter()
    for (filename, _line, name), (_cc, _nc, self_time, _cum, _callers) in stats.stats.items():
        if "site-packages/" in filename:
            key = filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
        elif filename.startswith(str(ROOT)):
            key = "feedback: " + os.path.relpath(filename, ROOT)
        elif filename == "~":
            key = "built-in: " + name.strip("<>").replace("built-in method ", "")[:40]
        else:
            key = "stdlib: " + Path(filename).name
        totals[key] += self_time
    whole = sum(totals.values()) or 1
    return [(key, value / whole) for key, value in totals.most_common()]


def report(label: str, per_request_ms: float, profile: cProfile.Profile, top: int) -> None:
    print(f"\n=== {label}: {per_request_ms:.2f} ms per request (without the profiler)")
    stats = pstats.Stats(profile)
    print("self time by package:")
    for key, share in by_package(stats)[:15]:
        print(f"  {share * 100:5.1f}%  {key}")
    print("what the view calls, by cumulative time (with the profiler's overhead):")
    stats.sort_stats("cumulative").print_callees(r"web/survey.py:\d+\(answer\)")
    stats.print_callees(r"responses.py:\d+\(submit\)")
    print(f"the project's {top} most expensive functions, by cumulative time:")
    stats.sort_stats("cumulative").print_stats(re.escape(str(ROOT)) + "/(feedback|templates)/", top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--requests",
        type=int,
        default=300,
        help="requests timed and profiled, of each kind (default 300)",
    )
    parser.add_argument("--top", type=int, default=25, help="functions listed (default 25)")
    args = parser.parse_args()
    n = args.requests
    workdir = Path(tempfile.mkdtemp(prefix="feedback-profile-"))
    os.environ.update(
        {
            "FEEDBACK_DATABASE_URL": f"sqlite:///{workdir / 'feedback.sqlite3'}",
            "FEEDBACK_SECRET_KEY": secrets.token_urlsafe(32),
            "FEEDBACK_EXPORTS_DIR": str(workdir / "exports"),
        }
    )
    sys.path.insert(0, str(ROOT))
    try:
        from feedback import create_app
        from feedback.cases import CaseInput, InvitationPolicy, register_case
        from feedback.db import database, migrate, utcnow
        from feedback.surveys import current_version, sync

        app = create_app()
        with app.app_context(), database.connection_context():
            migrate(database)
            sync(app.config["SURVEYS_DIR"])
            survey = current_version(app.config["DEFAULT_SURVEY"]).survey
            tokens = []
            with database.atomic():
                for i in range(20 + 4 * n):
                    case = CaseInput(
                        case_ref=f"PROFILE-{i}",
                        survey=survey.slug,
                        resolved_at=utcnow() - timedelta(hours=1),
                        channel="phone",
                        agent="李娜",
                        team="账务组",
                        category="billing",
                        customer_ref=f"profile-{i}",
                        customer_locale="zh_CN",
                    )
                    tokens.append(register_case(case, survey, InvitationPolicy()).invitation.token)
        warm, pages, answered = tokens[:20], tokens[20 : 20 + 2 * n], tokens[20 + 2 * n :]

        def get(token):
            reply = app.test_client().get(f"/s/{token}")
            assert reply.status_code == 200, reply.status_code
            return reply

        for token in warm:
            get(token)
        started = time.perf_counter()
        for token in pages[:n]:
            get(token)
        page_ms = (time.perf_counter() - started) / n * 1000
        page_profile = cProfile.Profile()
        page_profile.runcall(lambda: [get(token) for token in pages[n:]])

        forms = []
        for token in answered:
            client = app.test_client()
            html = client.get(f"/s/{token}").get_data(as_text=True)  # keeps the session cookie
            forms.append(
                (
                    client,
                    token,
                    {
                        **ANSWERS,
                        "csrf_token": CSRF.search(html).group(1),
                        "version": VERSION.search(html).group(1),
                    },
                )
            )

        def post(form):
            client, token, data = form
            reply = client.post(f"/s/{token}", data=data)
            assert reply.status_code == 302, reply.status_code

        started = time.perf_counter()
        for form in forms[:n]:
            post(form)
        post_ms = (time.perf_counter() - started) / n * 1000
        post_profile = cProfile.Profile()
        post_profile.runcall(lambda: [post(form) for form in forms[n:]])
        app.extensions["feedback.db"].close_all()

        report("GET /s/<token> (survey page)", page_ms, page_profile, args.top)
        report("POST /s/<token> (survey submission)", post_ms, post_profile, args.top)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
