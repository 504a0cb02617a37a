#!/usr/bin/env python3
"""How fast the comment themes of a year are, against the bare SQL that fetches what they need.

    .venv/bin/python bench/bench_themes.py                        # 100,000 responses, SQLite
    .venv/bin/python bench/bench_themes.py --responses 20000      # quick
    nice .venv/bin/python bench/bench_themes.py --responses 1000000 --databases sqlite postgres

Takes a generated database (``gen_responses.py``, one response per comment wanted, no answer
rows), copies it into a temporary folder and gives every response one comment, made of two or
three clauses drawn from a pool of Chinese and English ones (unhappy responses draw mostly
complaints, happy ones mostly praise), so that texts vary as real ones do. On PostgreSQL that
file is loaded with COPY into a template database (``bench_reports.postgres_database``), each
run working on a copy of it; both are dropped at the end (``--keep-template`` keeps the
template for the next run). Then, in this process, on the year's slice of the post-case survey,
on each database:

  * bare comments: one query fetching every comment of the year with its CSAT and NPS (the
    rows the themes need, and nothing done with them);
  * first: ``comment_terms.slice_themes`` on an empty cache: loading jieba, cutting every
    comment, storing the terms per response, counting and ranking (what the first dashboard
    view after an upgrade costs); finding the comments without terms, reading their texts and
    reading the stored terms back are timed apart;
  * bare terms: one query fetching the stored terms of the year with CSAT and NPS (what a warm
    view reads);
  * warm: the same call again (terms cached, nothing to cut): a page view's work; its check
    for comments without terms and its read of the stored terms are timed apart.

The bare queries and the warm call run interleaved over ``--rounds`` rounds (medians; the very
first bare fetch, on a cold cache, only counts the comments). Prints
the times and their ratios to the bare queries and writes bench/results/themes-latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
import bench_reports  # noqa: E402
import gen_responses  # noqa: E402

COMPLAINTS = (
    "莫名其妙被重复扣费",
    "申请退款一个星期了还没到账",
    "电话一直占线，打了好几次才接通",
    "等了很久才有人处理",
    "客服推来推去，没人负责",
    "账单金额有误，已经第二次了",
    "网络断了两天才修好",
    "I was charged twice and still have no refund",
    "nobody called back as promised",
    "the app keeps logging me out",
)
PRAISE = (
    "客服很耐心",
    "讲解非常专业",
    "问题很快就解决了",
    "服务态度很好，谢谢",
    "技术人员上门很准时",
    "the agent was patient and professional",
    "sorted out in one call",
)
NEUTRAL = (
    "整体还可以",
    "希望能提供更多线上自助服务",
    "流程有点繁琐",
    "等待时间有点长",
    "下次还会选择你们",
    "it was fine overall",
)


def comment_for(rng: random.Random, csat: int | None) -> str:
    """Two or three clauses, mostly complaints when unhappy and praise when happy."""
    mood = (
        (COMPLAINTS, COMPLAINTS, NEUTRAL)
        if csat is not None and csat <= 2
        else (PRAISE, PRAISE, NEUTRAL)
        if csat == 5
        else (NEUTRAL, COMPLAINTS, PRAISE)
    )
    return "，".join(rng.choice(rng.choice(mood)) for _ in range(rng.randint(2, 3))) + "。"


def add_comments(path: Path, seed: int) -> int:
    """One comment answer for every response; returns how many."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT id, csat FROM response ORDER BY id").fetchall()
    first = (conn.execute("SELECT MAX(id) FROM answer").fetchone()[0] or 0) + 1
    with conn:
        conn.executemany(
            "INSERT INTO answer (id, response_id, question_id, value_text) VALUES (?, ?, ?, ?)",
            (
                (first + i, response_id, "comment", comment_for(rng, csat))
                for i, (response_id, csat) in enumerate(rows)
            ),
        )
    conn.close()
    return len(rows)


BARE_COMMENTS = (
    "SELECT a.response_id, a.value_text, r.csat, r.nps FROM answer a "
    "JOIN response r ON r.id = a.response_id "
    "WHERE r.survey_id = ? AND r.day >= ? AND r.day <= ? "
    "AND a.question_id IN ('comment', 'unresolved_detail') AND a.value_text IS NOT NULL"
)
BARE_TERMS = (
    "SELECT t.response_id, t.terms, r.csat, r.nps FROM comment_terms t "
    "JOIN response r ON r.id = t.response_id "
    "WHERE r.survey_id = ? AND r.day >= ? AND r.day <= ?"
)


class Connection:
    """The bare queries' own connection (sqlite3 or psycopg2), beside the app's."""

    def __init__(self, url: str):
        if url.startswith("sqlite:///"):
            self.conn, self.marker = sqlite3.connect(url.removeprefix("sqlite:///")), "?"
        else:
            import psycopg2

            self.conn, self.marker = psycopg2.connect(url), "%s"
            self.conn.autocommit = True

    def fetch(self, sql: str, params: tuple) -> list:
        cursor = self.conn.cursor()
        cursor.execute(sql.replace("?", self.marker), params)
        rows = cursor.fetchall()
        cursor.close()
        return rows

    def close(self) -> None:
        self.conn.close()


def timed(function, *args):
    t0 = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - t0, result


class Spy:
    """Times functions of a module while a block runs (seconds and calls by name). With
    ``total``, prints progress every ``every`` calls of ``comment_texts`` (one per batch cut)."""

    def __init__(self, module, names: tuple[str, ...], total: int = 0, every: int = 50):
        self.module, self.names, self.total, self.every = module, names, total, every
        self.originals = {name: getattr(module, name) for name in names}
        self.seconds = dict.fromkeys(names, 0.0)
        self.calls = dict.fromkeys(names, 0)
        self.rows = 0
        self.t0 = time.perf_counter()

    def wrap(self, name: str):
        original = self.originals[name]

        def spied(*args, **kwargs):
            seconds, result = timed(lambda: original(*args, **kwargs))
            self.seconds[name] += seconds
            self.calls[name] += 1
            if name == "comment_texts" and self.total:
                self.rows += len(args[0])
                if self.calls[name] % self.every == 0:
                    print(
                        f"    cut {self.rows:,} of {self.total:,}: "
                        f"{time.perf_counter() - self.t0:.0f} s",
                        flush=True,
                    )
            return result

        return spied

    def __enter__(self):
        for name in self.names:
            setattr(self.module, name, self.wrap(name))
        return self

    def __exit__(self, *exc):
        for name, original in self.originals.items():
            setattr(self.module, name, original)


def measure(url: str, params, rounds: int) -> dict:
    """The four timings on one database (the app and the bare queries both on ``url``)."""
    from feedback import comment_terms, create_app, reports
    from feedback.db import database
    from feedback.models import CommentTerms, Survey
    from feedback.reports import Slice
    from feedback.surveys import current_version, definition_of

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "SURVEYS_DIR": str(ROOT / "surveys"),
            "TESTING": True,
            "OUTBOX_THREAD": False,
        }
    )
    resolved = params.resolved()
    start, end = resolved.first_day, resolved.last_day
    bare = Connection(url)
    times: dict[str, list[float]] = {"bare_comments": [], "bare_terms": [], "warm": []}
    with app.app_context(), database.connection_context():
        survey = Survey.get(Survey.slug == gen_responses.SURVEY)
        definition = definition_of(current_version(gen_responses.SURVEY))
        s = Slice(survey.id, start, end)
        arguments = (survey.id, start, end)
        seconds, rows = timed(bare.fetch, BARE_COMMENTS, arguments)  # (cold: not counted)
        fetched = len(rows)
        del rows
        print(f"  bare comments: {fetched:,} in {seconds:.2f} s; first computation ...", flush=True)
        names = ("comments_without_terms", "comment_texts", "cached_terms")
        with Spy(reports, names, total=fetched) as first_spy:
            first, first_themes = timed(comment_terms.slice_themes, s, definition, app.config)
        stored = CommentTerms.select().count()
        print(
            f"  first: {first:.1f} s (finding the uncut comments "
            f"{first_spy.seconds['comments_without_terms']:.1f} s)",
            flush=True,
        )
        warm_themes, warm_parts = None, {"check": [], "read": []}
        for number in range(rounds):
            for name, sql in (("bare_comments", BARE_COMMENTS), ("bare_terms", BARE_TERMS)):
                seconds, rows = timed(bare.fetch, sql, arguments)
                times[name].append(seconds)
                del rows
            with Spy(reports, ("comments_without_terms", "cached_terms")) as spy:
                seconds, warm_themes = timed(comment_terms.slice_themes, s, definition, app.config)
            times["warm"].append(seconds)
            warm_parts["check"].append(spy.seconds["comments_without_terms"])
            warm_parts["read"].append(spy.seconds["cached_terms"])
            print(
                f"  round {number + 1}: warm {seconds:.2f} s (check {warm_parts['check'][-1]:.2f}"
                f" s, read {warm_parts['read'][-1]:.2f} s); bare comments "
                f"{times['bare_comments'][-1]:.2f} s, bare terms {times['bare_terms'][-1]:.2f} s",
                flush=True,
            )
    bare.close()
    app.extensions["feedback.db"].close_all()
    assert warm_themes == first_themes, "the warm answer differs from the first"
    assert stored == fetched, (stored, fetched)  # every comment of the year, cut once
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "comments_in_the_year": fetched,
        "seconds": times,
        "seconds_median": medians,
        "first_seconds": first,
        "first_parts_seconds": first_spy.seconds,
        "first_parts_calls": first_spy.calls,
        "warm_parts_seconds": warm_parts,
        "warm_parts_median": {k: statistics.median(v) for k, v in warm_parts.items()},
        "first_per_comment_ms": 1000 * first / fetched,
        "ratios": {
            "first_to_bare_comments": first / medians["bare_comments"],
            "warm_to_bare_comments": medians["warm"] / medians["bare_comments"],
            "warm_to_bare_terms": medians["warm"] / medians["bare_terms"],
        },
        "top": {side: [t.to_dict() for t in terms[:5]] for side, terms in first_themes.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--responses",
        "--comments",
        type=int,
        default=100_000,
        help="responses of the year, each with one comment (default 100,000)",
    )
    parser.add_argument(
        "--databases",
        nargs="+",
        choices=("sqlite", "postgres"),
        default=["sqlite"],
        help="where to measure (default sqlite)",
    )
    parser.add_argument(
        "--postgres", default="postgresql://127.0.0.1:5432/postgres", help="the server"
    )
    parser.add_argument("--keep-template", action="store_true", help="keep PostgreSQL's template")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--out", type=Path, default=RESULTS / "themes-latest.json")
    args = parser.parse_args()
    params = gen_responses.Params(rows=args.responses, answers_share=0.0)
    source, meta = gen_responses.database(params, progress=lambda line: print(line, flush=True))
    folder = Path(tempfile.mkdtemp(prefix="feedback-bench-themes-"))
    report: dict = {
        "responses": args.responses,
        "rounds": args.rounds,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_at_start": os.getloadavg(),
        },
        "databases": {},
    }
    try:
        path = folder / "feedback.sqlite3"
        shutil.copy(source, path)
        t0 = time.perf_counter()
        comments = add_comments(path, args.seed)
        print(f"{comments:,} comments in {path} ({time.perf_counter() - t0:.0f} s)", flush=True)
        report["comments"] = comments
        for name in args.databases:
            print(f"{name}:", flush=True)
            if name == "sqlite":
                run = folder / "run.sqlite3"
                shutil.copy(path, run)  # the first computation writes into it
                report["databases"][name] = measure(f"sqlite:///{run}", params, args.rounds)
                run.unlink()
            else:
                report["databases"][name] = on_postgres(args, source, path, params, folder)
            report["databases"][name]["load_average_after"] = os.getloadavg()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    summary(report)


def on_postgres(args, source: Path, path: Path, params, folder: Path) -> dict:
    """The same comments in PostgreSQL (a template loaded with COPY, a copy of it per run)."""
    env = {
        **os.environ,
        "FEEDBACK_SECRET_KEY": secrets.token_urlsafe(32),
        "FEEDBACK_TIMEZONE": params.timezone,
        "FEEDBACK_SURVEYS_DIR": str(ROOT / "surveys"),
    }
    cache_name = f"{source.parent.name}_themes{args.seed}"
    url, info = bench_reports.postgres_database(args.postgres, path, cache_name, env, folder, False)
    try:
        result = measure(url, params, args.rounds)
    finally:
        bench_reports.pg_admin(
            args.postgres, f'DROP DATABASE IF EXISTS "{info["run_database"]}" WITH (FORCE)'
        )
        if not args.keep_template:
            bench_reports.pg_admin(
                args.postgres, f'DROP DATABASE IF EXISTS "{info["template"]}" WITH (FORCE)'
            )
    result["postgres"] = info
    return result


def summary(report: dict) -> None:
    print(f"\n{report['comments']:,} comments; medians of {report['rounds']} rounds")
    print("database   | bare comments | first (ratio)      | bare terms | warm (/comments, /terms)")
    for name, r in report["databases"].items():
        m, ratios = r["seconds_median"], r["ratios"]
        print(
            f"{name:10} | {m['bare_comments']:11.2f} s | {r['first_seconds']:7.1f} s "
            f"({ratios['first_to_bare_comments']:5.0f}x) | {m['bare_terms']:8.2f} s | "
            f"{m['warm']:6.2f} s ({ratios['warm_to_bare_comments']:.1f}x, "
            f"{ratios['warm_to_bare_terms']:.1f}x)"
        )


if __name__ == "__main__":
    main()
