#!/usr/bin/env python3
"""How fast the comment themes are on 100,000 comments, against the bare SQL that fetches them.

    .venv/bin/python bench/bench_themes.py                  # 100,000 comments
    .venv/bin/python bench/bench_themes.py --comments 20000 # quick

Takes a generated database (``gen_responses.py``, one response per comment wanted, no answer
rows), copies it into a temporary folder and gives every response one comment, made of two or
three clauses drawn from a pool of Chinese and English ones (unhappy responses draw mostly
complaints, happy ones mostly praise), so that texts vary as real ones do. Then, in this
process, on the year's slice of the post-case survey:

  * bare: one sqlite3 query fetching every comment of the year with its CSAT and NPS (the rows
    the themes need, and nothing done with them), best of three;
  * first: ``comment_terms.slice_themes`` on an empty cache: loading jieba, cutting every
    comment, storing the terms, counting and ranking (what the first dashboard view after an
    upgrade costs);
  * warm: the same call again (terms cached, nothing to cut): best of three.

Prints the times and their ratios to the bare query and writes bench/results/themes-latest.json.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
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


BARE_SQL = (
    "SELECT a.response_id, a.value_text, r.csat, r.nps FROM answer a "
    "JOIN response r ON r.id = a.response_id "
    "WHERE r.survey_id = ? AND r.day >= ? AND r.day <= ? "
    "AND a.question_id IN ('comment', 'unresolved_detail') AND a.value_text IS NOT NULL"
)


def bare(path: Path, survey_id: int, start: date, end: date) -> tuple[float, int]:
    """Best of three: seconds to fetch every comment of the slice, and how many."""
    best, count = float("inf"), 0
    for _ in range(3):
        conn = sqlite3.connect(path)
        t0 = time.perf_counter()
        count = len(conn.execute(BARE_SQL, (survey_id, start, end)).fetchall())
        best = min(best, time.perf_counter() - t0)
        conn.close()
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    params = gen_responses.Params(rows=args.comments, answers_share=0.0)
    source, _meta = gen_responses.database(params, progress=lambda line: print(line, flush=True))
    folder = Path(tempfile.mkdtemp(prefix="feedback-bench-themes-"))
    try:
        path = folder / "feedback.sqlite3"
        shutil.copy(source, path)
        comments = add_comments(path, args.seed)
        print(f"{comments:,} comments in {path}", flush=True)

        from feedback import comment_terms, create_app
        from feedback.db import database
        from feedback.models import CommentTerms, Survey
        from feedback.reports import Slice
        from feedback.surveys import current_version, definition_of

        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{path}",
                "SECRET_KEY": "bench",
                "SURVEYS_DIR": str(ROOT / "surveys"),
                "TESTING": True,
            }
        )
        resolved = params.resolved()
        start, end = resolved.first_day, resolved.last_day
        with app.app_context(), database.connection_context():
            survey = Survey.get(Survey.slug == gen_responses.SURVEY)
            definition = definition_of(current_version(gen_responses.SURVEY))
            s = Slice(survey.id, start, end)
            bare_seconds, fetched = bare(path, survey.id, start, end)
            t0 = time.perf_counter()
            first_themes = comment_terms.slice_themes(s, definition, app.config)
            first = time.perf_counter() - t0
            stored = CommentTerms.select().count()
            warm = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                warm_themes = comment_terms.slice_themes(s, definition, app.config)
                warm = min(warm, time.perf_counter() - t0)
        assert warm_themes == first_themes and stored == fetched, (stored, fetched)
        result = {
            "comments": comments,
            "comments_in_the_year": fetched,
            "bare_seconds": round(bare_seconds, 4),
            "first_seconds": round(first, 3),
            "warm_seconds": round(warm, 4),
            "first_ratio": round(first / bare_seconds, 1),
            "warm_ratio": round(warm / bare_seconds, 1),
            "first_per_comment_ms": round(1000 * first / comments, 3),
            "top": {side: [t.to_dict() for t in terms[:5]] for side, terms in first_themes.items()},
        }
        print(json.dumps(result, indent=2, ensure_ascii=False))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "themes-latest.json").write_text(
            json.dumps(result, indent=2, ensure_ascii=False) + "\n"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
