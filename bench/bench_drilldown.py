#!/usr/bin/env python3
"""How fast the list of the responses behind a figure is, against the bare SQL of its count.

    .venv/bin/python bench/bench_drilldown.py                 # 200,000 responses
    .venv/bin/python bench/bench_drilldown.py --rows 1000000  # a big site's year

Takes a generated database (``gen_responses.py``, with every response's answer rows), copies it
into a temporary folder, and for the year's slice of the post-case survey times what a page of
``/manage/responses`` runs (``drilldown.band_counts``: the counts of the measure's bands, which
give the list's length; ``drilldown.list_page``: one page of 25 with its answers) for a few
figures of the dashboard, best of ``--rounds``, interleaved with the baselines: plain sqlite3
counts of what the figure counts and nothing else, best of the same rounds:

  * slice: the year's responses that answered CSAT (the CSAT tile's n), for the lists of
    response columns (scores, slice columns, a week);
  * pairs: the answers to a driver joined to their responses of the year that answered CSAT
    (the SQL of a driver's n), for the lists of rating answers;
  * invitations: the year's answered invitations joined to their cases (the response rate's),
    for the response rate's list.

Also the CSV download of one team's unhappy answers (``drilldown.csv_rows``), in rows a second.
Prints the times and their ratios to their baseline, and writes
bench/results/drilldown-latest.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
import gen_responses  # noqa: E402

BARE_SQL = {
    "slice": "SELECT COUNT(*) FROM response WHERE survey_id = ? AND day >= ? AND day <= ? "
    "AND csat IS NOT NULL",
    "pairs": "SELECT COUNT(*) FROM answer a JOIN response r ON r.id = a.response_id "
    "WHERE a.question_id = 'attitude' AND a.value_int IS NOT NULL AND r.survey_id = ? "
    "AND r.day >= ? AND r.day <= ? AND r.csat IS NOT NULL",
    "invitations": "SELECT COUNT(*) FROM invitation i JOIN service_case c ON c.id = i.case_id "
    "WHERE c.survey_id = ? AND i.day >= ? AND i.day <= ? AND i.status = 'answered'",
}
# (name, baseline, criteria) of the figures timed; the team, agent and week come from the data
FIGURES = (
    ("answers (tile)", "slice", {}),
    ("CSAT n (tile)", "slice", {"measure": "csat"}),
    ("CSAT 1-2 of a team", "slice", {"measure": "csat", "band": "unhappy", "team": True}),
    ("CSAT of an agent (ranking)", "slice", {"measure": "csat", "agent": True}),
    ("NPS detractors of a week", "slice", {"measure": "nps", "band": "detractors", "week": 1}),
    ("a driver's pairs", "pairs", {"measure": "csat", "questions": ("attitude",)}),
    (
        "complete cases",
        "pairs",
        {"measure": "csat", "questions": ("speed", "attitude", "competence")},
    ),
    (
        "a driver's top two boxes",
        "pairs",
        {"measure": "question", "band": "top_two", "questions": ("speed",)},
    ),
    ("response rate's answered", "invitations", {"measure": "response_rate"}),
)


def bare(path: Path, sql: str, survey_id: int, start, end) -> float:
    conn = sqlite3.connect(path)
    t0 = time.perf_counter()
    conn.execute(sql, (survey_id, start.isoformat(), end.isoformat())).fetchone()
    seconds = time.perf_counter() - t0
    conn.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    params = gen_responses.Params(rows=args.rows)
    source, _meta = gen_responses.database(params, progress=lambda line: print(line, flush=True))
    folder = Path(tempfile.mkdtemp(prefix="feedback-bench-drilldown-"))
    try:
        path = folder / "feedback.sqlite3"
        shutil.copy(source, path)

        from dataclasses import replace
        from datetime import timedelta

        from feedback import create_app, drilldown
        from feedback.db import database
        from feedback.i18n import language
        from feedback.models import Response, Survey
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
        lang = language("zh_CN")
        with app.app_context(), database.connection_context():
            survey = Survey.get(Survey.slug == gen_responses.SURVEY)
            definition = definition_of(current_version(gen_responses.SURVEY))
            year = Slice(survey.id, start, end)
            some = Response.select().where(Response.survey == survey.id).order_by(Response.id)
            some = some.offset(args.rows // 2).get()
            best_bare = dict.fromkeys(BARE_SQL, float("inf"))
            timings = {name: float("inf") for name, _b, _c in FIGURES}
            counts = {}
            for _round in range(args.rounds):
                for baseline, sql in BARE_SQL.items():
                    seconds = bare(path, sql, survey.id, start, end)
                    best_bare[baseline] = min(best_bare[baseline], seconds)
                for name, _baseline, wanted in FIGURES:
                    s = year
                    if wanted.get("team"):
                        s = replace(s, team_id=some.team_id)
                    if wanted.get("agent"):
                        s = replace(s, agent=some.agent)
                    c = drilldown.Criteria(
                        measure=wanted.get("measure", "responses"),
                        band=wanted.get("band"),
                        questions=wanted.get("questions", ()),
                    )
                    if wanted.get("week"):
                        monday = some.day - timedelta(days=some.day.weekday())
                        c = replace(c, bucket=monday, per="week")
                    t0 = time.perf_counter()  # what the page runs (manage.responses)
                    bands = drilldown.band_counts(s, c, definition, app.config)
                    page = drilldown.list_page(
                        s, c, definition, app.config, lang, total=bands.get(c.chosen_band)
                    )
                    timings[name] = min(timings[name], time.perf_counter() - t0)
                    counts[name] = page.total
            unhappy = drilldown.Criteria(measure="csat", band="unhappy")
            team = replace(year, team_id=some.team_id)
            t0 = time.perf_counter()
            rows = drilldown.csv_rows(team, unhappy, definition, app.config, lang, "Asia/Shanghai")
            exported = sum(1 for _row in rows) - 1  # but the header
            csv_seconds = time.perf_counter() - t0
        result = {
            "rows": args.rows,
            "bare_seconds": {name: round(seconds, 4) for name, seconds in best_bare.items()},
            "figures": {
                name: {
                    "responses": counts[name],
                    "seconds": round(timings[name], 4),
                    "baseline": baseline,
                    "ratio": round(timings[name] / best_bare[baseline], 1),
                }
                for name, baseline, _c in FIGURES
            },
            "csv": {
                "rows": exported,
                "seconds": round(csv_seconds, 3),
                "rows_per_second": round(exported / csv_seconds) if csv_seconds else None,
            },
        }
        print(json.dumps(result, indent=2, ensure_ascii=False))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "drilldown-latest.json").write_text(
            json.dumps(result, indent=2, ensure_ascii=False) + "\n"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
