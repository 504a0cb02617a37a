#!/usr/bin/env python3
"""How long the key drivers of a year take on PostgreSQL, against the bare SQL sums they need.

    .venv/bin/python bench/bench_drivers.py                      # 1,000,000 responses
    .venv/bin/python bench/bench_drivers.py --rows 100000        # quicker

Takes a generated database (``gen_responses.py``, cached; every response has its three
ratings with about 80% answering each), loads it into a PostgreSQL database of its own (COPY,
kept as a template under a name of this benchmark's, as ``bench_reports.py --postgres`` does),
and then, in this process, over ``--rounds`` interleaved rounds:

  * ``drivers.key_drivers`` for CSAT over the whole year: the sums by driver, the complete
    cases' patterns and the relative weights with their 500 bootstrap resamples;
  * the bare SQL sums it needs: one hand-written ``GROUP BY question_id`` of the answer rows
    joined to their responses with n, Σx, Σy, Σx², Σy², Σxy (psycopg2, same database), whose
    result is checked against ``reports.driver_sums``;
  * the parts: the bare pattern query (the responses joined to one answer row per driver,
    grouped by the answers), and the bootstrap alone on its patterns.

Prints the medians and the ratio drivers / bare sums; writes bench/results/drivers-latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import bench_reports  # noqa: E402
import gen_responses  # noqa: E402

BARE_SUMS = """
SELECT a.question_id, COUNT(*), COUNT(*) FILTER (WHERE a.value_int >= 4),
       COUNT(r.csat),
       SUM(a.value_int) FILTER (WHERE r.csat IS NOT NULL), SUM(r.csat),
       SUM(a.value_int * a.value_int) FILTER (WHERE r.csat IS NOT NULL), SUM(r.csat * r.csat),
       SUM(a.value_int * r.csat)
FROM answer a JOIN response r ON r.id = a.response_id
WHERE r.survey_id = %s AND r.day >= %s AND r.day <= %s
  AND a.question_id IN ('speed', 'attitude', 'competence') AND a.value_int IS NOT NULL
GROUP BY a.question_id
"""
BARE_PATTERNS = """
SELECT a0.value_int, a1.value_int, a2.value_int, r.csat, COUNT(*) FROM response r
JOIN answer a0 ON a0.response_id = r.id AND a0.question_id = 'attitude' AND a0.value_int IS NOT NULL
JOIN answer a1 ON a1.response_id = r.id AND a1.question_id = 'competence'
  AND a1.value_int IS NOT NULL
JOIN answer a2 ON a2.response_id = r.id AND a2.question_id = 'speed' AND a2.value_int IS NOT NULL
WHERE r.survey_id = %s AND r.day >= %s AND r.day <= %s AND r.csat IS NOT NULL
GROUP BY 1, 2, 3, 4
"""


def timed(function, *args):
    t0 = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - t0, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--postgres", default="postgresql://127.0.0.1:5432/postgres", help="the server"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "drivers-latest.json")
    args = parser.parse_args()
    params = gen_responses.Params(rows=args.rows)
    source, meta = gen_responses.database(params, progress=lambda m: print(m, flush=True))
    print(f"data: {meta['counts']} ({'cached' if meta['cached'] else 'made'}) {source}")
    env = {
        **os.environ,
        "FEEDBACK_SECRET_KEY": secrets.token_urlsafe(32),
        "FEEDBACK_TIMEZONE": params.timezone,
        "FEEDBACK_SURVEYS_DIR": str(ROOT / "surveys"),
    }
    workdir = Path(tempfile.mkdtemp(prefix="feedback-bench-drivers-"))
    url, info = bench_reports.postgres_database(
        args.postgres, source, source.parent.name + "_drivers", env, workdir, False
    )
    try:
        report = run(url, params, args.rounds)
    finally:
        bench_reports.pg_admin(
            args.postgres, f'DROP DATABASE IF EXISTS "{info["run_database"]}" WITH (FORCE)'
        )
    report.update(rows=args.rows, postgres=info, data=meta["counts"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "postgres"}, indent=2, default=str))
    return 0


def run(url: str, params, rounds: int) -> dict:
    from feedback import create_app, drivers, reports, stats
    from feedback.db import database
    from feedback.surveys import current_version, definition_of

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "OUTBOX_THREAD": False})
    bare = bench_reports.PgBare(url)
    start, end = params.first_day, params.last_day
    with app.app_context(), database.connection_context():
        version = current_version("post-case")
        definition = definition_of(version)
        s = reports.Slice(version.survey_id, start, end)
        arguments = (version.survey_id, start, end)
        # the app's sums equal the bare ones
        ours = reports.driver_sums(s, "csat", drivers.driver_questions(definition))
        cursor = bare.conn.cursor()
        cursor.execute(BARE_SUMS, arguments)
        for row in cursor.fetchall():
            assert tuple(ours[row[0]].values()) == tuple(int(v) for v in row[1:]), row
        times: dict[str, list[float]] = {"drivers": [], "bare_sums": [], "bare_patterns": []}
        times["bootstrap"] = []
        report = None
        for _ in range(rounds):
            seconds, report = timed(drivers.key_drivers, s, definition, "csat", 30)
            times["drivers"].append(seconds)
            for name, sql in (("bare_sums", BARE_SUMS), ("bare_patterns", BARE_PATTERNS)):
                cursor = bare.conn.cursor()
                seconds, _ = timed(lambda c=cursor, q=sql: (c.execute(q, arguments), c.fetchall()))
                times[name].append(seconds)
            patterns = reports.driver_patterns(s, "csat", ["attitude", "competence", "speed"])
            seconds, _ = timed(
                stats.relative_weights_bootstrap,
                [p[-1] for p in patterns],
                [p[:-1] for p in patterns],
            )
            times["bootstrap"].append(seconds)
    bare.close()
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "period": [start.isoformat(), end.isoformat()],
        "seconds_median": medians,
        "seconds": times,
        "ratio_drivers_to_bare_sums": medians["drivers"] / medians["bare_sums"],
        "ratio_drivers_to_bare_sums_and_patterns": medians["drivers"]
        / (medians["bare_sums"] + medians["bare_patterns"]),
        "patterns": len(patterns),
        "complete_cases": report.complete_cases,
        "drivers": report.to_dict(),
    }


if __name__ == "__main__":
    sys.exit(main())
