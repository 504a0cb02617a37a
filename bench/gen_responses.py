#!/usr/bin/env python3
"""A large, realistic feedback database for benchmarks: N responses over 12 months, fast.

    .venv/bin/python bench/gen_responses.py --rows 1000000          # prints the file's path
    .venv/bin/python bench/gen_responses.py --rows 100000 --fresh   # make it again

Makes a fresh SQLite file with ``flask --app feedback init-db`` (the migrated schema and the
survey versions from ``surveys/``), then writes straight SQL into it, in one transaction per
batch with ``executemany``:

  * 10 teams, 100 agents (each in one team), 5 channels, 8 categories;
  * ``rows / response-rate`` service cases, each with its invitation (a random 2 % of the
    unanswered ones cancelled, the rest left "pending", i.e. expired by now), spread over the
    months with fewer on weekends, a seasonal swing and office hours;
  * ``rows`` responses to the post-case survey (exactly), answered 5 minutes to 3 days after
    the invitation, with their stored day/week/month, channel/team/agent/category and
    CSAT/NPS/CES columns. Scores come from a latent satisfaction that depends on the agent, the
    team (one improves over the year), the category and the channel, shaped to a typical
    distribution (about 79 % CSAT 4-5, NPS about +30, CES answered by 85 %);
  * with ``--answers-share`` above 0 (default 1: every response), their answer rows as
    ``responses.submit`` would store them (yes/no, the three scores, three ratings, a comment
    from about a quarter, reasons when unhappy): about 7 rows per response. The metrics never
    read answers; the dashboard's comments and SERVQUAL queries and the CSV export do.

Times are local in ``--timezone`` (days, weeks and months as the app counts them) and stored
in UTC with one offset per day (exact for zones without daylight saving, like Asia/Shanghai).

The file is cached in a temporary folder under a name made from every parameter, the schema
and the survey files, so a second run with the same parameters costs nothing; ``--fresh`` makes
it again. Programs use ``database(...)``, which returns the cached path (generating if needed).
Nothing is written outside that folder; callers should copy the file before writing to it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import NormalDist
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GENERATOR_VERSION = 3  # bump when the data it makes changes
SURVEY = "post-case"

CHANNELS = (
    ("phone", 0.35, 0.10),
    ("chat", 0.30, 0.05),
    ("email", 0.18, -0.10),
    ("social", 0.10, -0.20),
    ("onsite", 0.07, 0.20),
)  # name, share, effect
TEAMS = (  # name, share of cases, effect, change over the year
    ("账务组", 0.14, 0.15, 0.0),
    ("技术支持", 0.16, -0.05, 0.0),
    ("售后服务", 0.12, -0.60, 0.9),
    ("在线客服", 0.15, 0.10, 0.0),
    ("大客户部", 0.06, 0.30, 0.0),
    ("物流组", 0.10, -0.15, 0.0),
    ("会员服务", 0.09, 0.05, 0.0),
    ("投诉处理", 0.07, -0.30, 0.0),
    ("夜班组", 0.06, -0.10, -0.3),
    ("新人组", 0.05, -0.25, 0.4),
)
CATEGORIES = (
    ("billing", 0.20, 0.05),
    ("technical", 0.20, -0.05),
    ("delivery", 0.15, -0.10),
    ("account", 0.12, 0.15),
    ("refund", 0.10, -0.15),
    ("complaint", 0.08, -0.60),
    ("outage", 0.05, -0.50),
    ("other", 0.10, 0.0),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
)
NO_TEAM, NO_AGENT, NO_CATEGORY = 0.02, 0.01, 0.01  # cases without one
# Distributions of the answers (shares of each value, lowest first).
CSAT_SHARES = (0.04, 0.05, 0.09, 0.27, 0.55)
NPS_SHARES = (0.03, 0.01, 0.01, 0.02, 0.02, 0.05, 0.06, 0.10, 0.15, 0.25, 0.30)
CES_SHARES = (0.03, 0.04, 0.06, 0.12, 0.20, 0.25, 0.30)
RATING_SHARES = (0.04, 0.06, 0.15, 0.35, 0.40)
CES_ANSWERED, RATING_ANSWERED = 0.85, 0.92
COMMENTS = (
    "客服很耐心，问题很快就解决了。",
    "回复太慢了，等了两天才有人联系我。",
    "服务态度很好，谢谢！",
    "问题还没有彻底解决，希望尽快跟进。",
    "电话一直占线，打了好几次才接通。",
    "专业、高效，点赞 👍",
    "退款流程太复杂，需要简化。",
    "The agent was friendly and solved it in minutes.",
    'Took three emails to get a straight answer, "we\'ll look into it" every time.',
    "Great service, thank you!",
    "物流信息一直不更新, 客服也说不清楚。",
    "非常满意，下次还会选择你们。",
    "=不满意，希望改进",
    "-- no comment --",
    "账单金额有误，已经第二次了。",
    "整体不错，就是等待时间有点长。",
    "Had to repeat my account number to three different people.",
    "技术人员上门很准时，服务专业。",
)
DETAILS = (
    "还在等退款到账。",
    "系统仍然报错，无法登录。",
    "快递还没有收到。",
    "发票还没有开。",
    "The fault came back the next day.",
)
WRONG = ("speed", "attitude", "competence", "not_solved", "other")


@dataclass(frozen=True)
class Params:
    rows: int = 1_000_000
    months: int = 12
    start: str = ""  # first day (a month's first); default: 12 months before this month
    response_rate: float = 0.5
    answers_share: float = 1.0
    timezone: str = "Asia/Shanghai"
    seed: int = 20261125

    def resolved(self) -> Params:
        if self.start:
            return self
        today = date.today()
        month = today.year * 12 + today.month - 1 - self.months
        return Params(**{**asdict(self), "start": date(month // 12, month % 12 + 1, 1).isoformat()})

    @property
    def first_day(self) -> date:
        return date.fromisoformat(self.resolved().start)

    @property
    def last_day(self) -> date:
        first = self.first_day
        month = first.year * 12 + first.month - 1 + self.months
        return date(month // 12, month % 12 + 1, 1) - timedelta(days=1)


def cache_key(params: Params) -> str:
    """Every parameter, the generator, the schema and the survey files: what the file depends on."""
    sys.path.insert(0, str(ROOT))
    from feedback.db import MIGRATIONS

    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [GENERATOR_VERSION, asdict(params.resolved()), MIGRATIONS],
            sort_keys=True,
            ensure_ascii=False,
        ).encode()
    )
    for path in sorted((ROOT / "surveys").glob("*.yaml")):
        digest.update(path.name.encode() + path.read_bytes())
    return f"rows{params.rows}-{digest.hexdigest()[:12]}"


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "feedback-bench-reports"


def database(
    params: Params, cache_dir: Path | None = None, fresh: bool = False, progress=print
) -> tuple[Path, dict]:
    """The cached database for these parameters (made when missing or ``fresh``), and what it
    holds (counts, parameters, how long it took to make)."""
    params = params.resolved()
    folder = (cache_dir or default_cache_dir()) / cache_key(params)
    path, meta_path = folder / "feedback.sqlite3", folder / "meta.json"
    if not fresh and path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        meta["cached"] = True
        return path, meta
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    building = folder / "building.sqlite3"
    t0 = time.perf_counter()
    counts = generate(building, params, progress)
    meta = {
        "params": asdict(params),
        "counts": counts,
        "generator_version": GENERATOR_VERSION,
        "generate_seconds": round(time.perf_counter() - t0, 1),
        "file_bytes": building.stat().st_size,
        "made": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    building.rename(path)  # only a finished file gets the name
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    meta["cached"] = False
    return path, meta


def init_db(path: Path, tz: str) -> None:
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": f"sqlite:///{path}",
        "FEEDBACK_SECRET_KEY": secrets.token_urlsafe(32),
        "FEEDBACK_TIMEZONE": tz,
        "FEEDBACK_SURVEYS_DIR": str(ROOT / "surveys"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "feedback", "init-db"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:  # (the app warns that the database is not migrated yet: expected)
        raise SystemExit(f"init-db failed:\n{done.stdout}{done.stderr}")


def _thresholds(shares, mean=0.0, sd=1.0) -> list[float]:
    """Cut points on a normal latent scale giving these shares of values."""
    dist, cumulative, cuts = NormalDist(mean, sd), 0.0, []
    for share in shares[:-1]:
        cumulative += share
        cuts.append(dist.inv_cdf(min(cumulative, 0.999999)))
    return cuts


def _scale(z: float, cuts: list[float], lowest: int) -> int:
    value = lowest
    for cut in cuts:
        if z > cut:
            value += 1
        else:
            break
    return value


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split total into whole parts proportional to weights (largest remainders)."""
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    parts = [int(x) for x in exact]
    for i in sorted(range(len(weights)), key=lambda i: parts[i] - exact[i])[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _weighted(rng: random.Random, items, shares, k: int) -> list:
    return rng.choices(items, weights=shares, k=k)


def generate(path: Path, params: Params, progress=print) -> dict:
    """Make the database at ``path`` (which must not exist); return the rows written per table."""
    rng = random.Random(params.seed)
    progress(f"init-db {path} ...")
    init_db(path, params.timezone)
    conn = sqlite3.connect(path, isolation_level=None)
    # A bulk load: no journal, no fsync, a large cache; back to WAL at the end.
    conn.execute("PRAGMA journal_mode=OFF")
    for pragma in (
        "synchronous=OFF",
        "cache_size=-1000000",
        "temp_store=MEMORY",
        "foreign_keys=OFF",
    ):
        conn.execute(f"PRAGMA {pragma}")
    survey_id, version_id = conn.execute(
        "SELECT id, current_version_id FROM survey WHERE slug = ?", (SURVEY,)
    ).fetchone()
    zone = ZoneInfo(params.timezone)
    stamp = "2000-01-01 00:00:00"  # created_at of teams and cases' updated_at: irrelevant

    # Teams and agents.
    conn.execute("BEGIN")
    team_ids = []
    for name, *_rest in TEAMS:
        team_ids.append(
            conn.execute(
                "INSERT INTO team (name, created_at) VALUES (?, ?)", (name, stamp)
            ).lastrowid
        )
    conn.execute("COMMIT")
    names = [s + g for s in SURNAMES for g in GIVEN]
    agent_names = rng.sample(names, 100)
    team_sizes = _allocate(100, [t[1] for t in TEAMS])
    agents = []  # (name, team index, skill)
    for team_index, size in enumerate(team_sizes):
        for _ in range(size):
            agents.append((agent_names[len(agents)], team_index, rng.gauss(0, 0.35)))
    agent_weights = [TEAMS[a[1]][1] / team_sizes[a[1]] * rng.uniform(0.4, 1.6) for a in agents]

    # Cases per day: weekdays busier, a seasonal swing, slow growth.
    first, last = params.first_day, params.last_day
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    weekday = (1.0, 1.05, 1.0, 0.95, 0.9, 0.55, 0.45)

    def day_weight(i, d):
        return (
            weekday[d.weekday()]
            * (1 + 0.15 * math.sin(2 * math.pi * (d.month - 3) / 12))
            * (1 + 0.2 * i / len(days))
        )

    invitations_total = max(params.rows, round(params.rows / params.response_rate))
    per_day = _allocate(invitations_total, [day_weight(i, d) for i, d in enumerate(days)])
    hour_weights = [
        0.2,
        0.1,
        0.1,
        0.1,
        0.1,
        0.2,
        0.5,
        1,
        2.5,
        4,
        4.5,
        4.5,
        3.5,
        4,
        4.5,
        4.5,
        4,
        3.5,
        2.5,
        2,
        1.8,
        1.5,
        1,
        0.5,
    ]

    # Latent satisfaction: effects plus noise, cut into the target shares.
    spread = math.sqrt(1 + 0.35**2 + 0.3**2)
    csat_cuts = _thresholds(CSAT_SHARES, 0, spread)
    nps_cuts = _thresholds(NPS_SHARES, 0, math.sqrt(0.64 * spread**2 + 0.36))
    ces_cuts = _thresholds(CES_SHARES, 0, math.sqrt(0.49 * spread**2 + 0.49))
    rating_cuts = _thresholds(RATING_SHARES, 0, math.sqrt(0.36 * spread**2 + 0.64))
    unresolved_cut = NormalDist(0, spread).inv_cdf(0.12)
    channel_names = [c[0] for c in CHANNELS]
    channel_shares = [c[1] for c in CHANNELS]
    channel_effect = {c[0]: c[2] for c in CHANNELS}
    category_names = [c[0] for c in CATEGORIES]
    category_shares = [c[1] for c in CATEGORIES]
    category_effect = {c[0]: c[2] for c in CATEGORIES}
    agent_index = list(range(len(agents)))

    case_sql = (
        "INSERT INTO service_case (id, case_ref, survey_id, channel, agent, team_id, "
        "category, resolved_at, reopened, customer_ref, customer_name, customer_email, "
        "customer_phone, customer_locale, suppressed_reason, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, NULL, ?, NULL, ?, ?)"
    )
    invitation_sql = (
        "INSERT INTO invitation (id, case_id, token, status, created_at, "
        "expires_at, answered_at, day, week, month) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    response_sql = (
        "INSERT INTO response (id, invitation_id, case_id, survey_id, "
        "survey_version_id, source, entered_by_id, locale, submitted_at, day, week, "
        "month, channel, team_id, agent, category, csat, nps, ces) "
        "VALUES (?, ?, ?, ?, ?, 'link', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    answer_sql = (
        "INSERT INTO answer (id, response_id, question_id, value_int, value_text, "
        "expectation) VALUES (?, ?, ?, ?, ?, NULL)"
    )

    cases, invitations, responses, answers = [], [], [], []
    counts = {"service_case": 0, "invitation": 0, "response": 0, "answer": 0, "team": len(TEAMS)}

    def flush():
        conn.execute("BEGIN")
        conn.executemany(case_sql, cases)
        conn.executemany(invitation_sql, invitations)
        conn.executemany(response_sql, responses)
        conn.executemany(answer_sql, answers)
        conn.execute("COMMIT")
        for table, rows in (
            ("service_case", cases),
            ("invitation", invitations),
            ("response", responses),
            ("answer", answers),
        ):
            counts[table] += len(rows)
            rows.clear()

    case_id = response_id = answer_id = 0
    remaining_invitations, remaining_answers = invitations_total, params.rows
    gauss, random_ = rng.gauss, rng.random
    t0, next_report = time.perf_counter(), 0.0
    for day_number, (day, n) in enumerate(zip(days, per_day, strict=True)):
        if not n:
            continue
        midnight_utc = (
            datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
        )
        progress_of_year = day_number / len(days)
        hours = _weighted(rng, range(24), hour_weights, n)
        seconds = sorted(h * 3600 + rng.randrange(3600) for h in hours)
        chosen_agents = _weighted(rng, agent_index, agent_weights, n)
        chosen_channels = _weighted(rng, channel_names, channel_shares, n)
        chosen_categories = _weighted(rng, category_names, category_shares, n)
        for k in range(n):
            case_id += 1
            resolved = midnight_utc + timedelta(seconds=seconds[k])
            sent = resolved + timedelta(seconds=60 + rng.randrange(600))
            local_sent = sent - midnight_utc  # offset from local midnight of `day`
            sent_day = day + timedelta(days=local_sent.days)
            agent_name, team_index, skill = agents[chosen_agents[k]]
            channel, category = chosen_channels[k], chosen_categories[k]
            team_id = team_ids[team_index] if random_() >= NO_TEAM else None
            agent = agent_name if random_() >= NO_AGENT else None
            if random_() < NO_CATEGORY:
                category = None
            locale = "en" if random_() < 0.15 else "zh_CN"
            customer = rng.randrange(10**9)
            cases.append(
                (
                    case_id,
                    f"BR-{case_id:09d}",
                    survey_id,
                    channel,
                    agent,
                    team_id,
                    category,
                    str(resolved),
                    f"cust-{customer}",
                    f"客户{customer % 10000}" if random_() < 0.5 else None,
                    f"c{customer}@example.cn" if random_() < 0.6 else None,
                    locale,
                    str(sent),
                    stamp,
                )
            )
            # Exactly params.rows of the invitations are answered (selection sampling).
            answered = random_() * remaining_invitations < remaining_answers
            remaining_invitations -= 1
            sent_week = sent_day - timedelta(days=sent_day.weekday())
            invitation = [
                case_id,
                case_id,
                secrets.token_urlsafe(18),
                "pending",
                str(sent),
                str(sent + timedelta(days=14)),
                None,
                sent_day.isoformat(),
                sent_week.isoformat(),
                sent_day.replace(day=1).isoformat(),
            ]
            if not answered:
                if random_() < 0.02:
                    invitation[3] = "cancelled"
                invitations.append(invitation)
                continue
            remaining_answers -= 1
            response_id += 1
            delay = min(3 * 86400, 300 + int(rng.expovariate(1 / 14400)))
            submitted = sent + timedelta(seconds=delay)
            local_day = day + timedelta(days=(submitted - midnight_utc).days)
            invitation[3], invitation[6] = "answered", str(submitted)
            invitations.append(invitation)
            effect = (
                skill
                + TEAMS[team_index][2]
                + TEAMS[team_index][3] * progress_of_year
                + channel_effect[channel]
                + (category_effect[category] if category else 0)
            )
            z = effect + gauss(0, 1)
            csat = _scale(z, csat_cuts, 1)
            nps = _scale(0.8 * z + gauss(0, 0.6), nps_cuts, 0)
            ces = _scale(0.7 * z + gauss(0, 0.7), ces_cuts, 1) if random_() < CES_ANSWERED else None
            responses.append(
                (
                    response_id,
                    case_id,
                    case_id,
                    survey_id,
                    version_id,
                    locale,
                    str(submitted),
                    local_day.isoformat(),
                    (local_day - timedelta(days=local_day.weekday())).isoformat(),
                    local_day.replace(day=1).isoformat(),
                    channel,
                    team_id,
                    agent,
                    category,
                    csat,
                    nps,
                    ces,
                )
            )
            if random_() >= params.answers_share:
                continue
            resolved_answer = "no" if z < unresolved_cut else "yes"
            rows = [("resolved", None, resolved_answer)]
            if resolved_answer == "no" and random_() < 0.4:
                rows.append(("unresolved_detail", None, rng.choice(DETAILS)))
            rows.append(("csat", csat, None))
            if csat <= 2:
                rows.extend(
                    ("what_went_wrong", None, w)
                    for w in WRONG
                    if random_() < (0.5 if w != "other" else 0.15)
                )
            rows.append(("nps", nps, None))
            if ces is not None:
                rows.append(("ces", ces, None))
            for question in ("speed", "attitude", "competence"):
                if random_() < RATING_ANSWERED:
                    rows.append((question, _scale(0.6 * z + gauss(0, 0.8), rating_cuts, 1), None))
            if random_() < (0.45 if csat <= 2 else 0.2):
                rows.append(("comment", None, rng.choice(COMMENTS)))
            for question, value_int, value_text in rows:
                answer_id += 1
                answers.append((answer_id, response_id, question, value_int, value_text))
        if len(cases) >= 20000:
            flush()
            elapsed = time.perf_counter() - t0
            if elapsed >= next_report:
                progress(
                    f"  {day.isoformat()}: {counts['response']:,} responses, "
                    f"{counts['answer']:,} answers, {elapsed:.0f} s"
                )
                next_report = elapsed + 10
    flush()
    conn.execute("PRAGMA journal_mode=WAL")  # as the app keeps it
    conn.close()
    progress(f"  done: {counts} in {time.perf_counter() - t0:.0f} s")
    return counts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The data options, shared with bench_reports.py."""
    defaults = Params()
    parser.add_argument(
        "--rows", type=int, default=defaults.rows, help=f"responses (default {defaults.rows:,})"
    )
    parser.add_argument(
        "--months",
        type=int,
        default=defaults.months,
        help=f"months they spread over (default {defaults.months})",
    )
    parser.add_argument(
        "--start",
        default="",
        help="first day, YYYY-MM-01 (default: the first of the month "
        "--months before this one, so the data ends last month)",
    )
    parser.add_argument(
        "--response-rate",
        type=float,
        default=defaults.response_rate,
        help="responses per invitation; the cases and invitations made are "
        f"rows / rate (default {defaults.response_rate})",
    )
    parser.add_argument(
        "--answers-share",
        type=float,
        default=defaults.answers_share,
        help="share of responses that get their answer rows, 0 to 1 "
        f"(default {defaults.answers_share}: all, about 7 rows each)",
    )
    parser.add_argument(
        "--timezone",
        default=defaults.timezone,
        help=f"the site's time zone (default {defaults.timezone})",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help=f"where generated files are kept (default {default_cache_dir()})",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="generate again even when a cached file exists"
    )


def params_from(args) -> Params:
    if (
        args.rows < 1
        or args.months < 1
        or not 0 < args.response_rate <= 1
        or not 0 <= args.answers_share <= 1
    ):
        raise SystemExit(
            "--rows and --months must be positive, --response-rate in (0, 1], "
            "--answers-share in [0, 1]"
        )
    return Params(
        rows=args.rows,
        months=args.months,
        start=args.start,
        response_rate=args.response_rate,
        answers_share=args.answers_share,
        timezone=args.timezone,
        seed=args.seed,
    ).resolved()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    args = parser.parse_args()
    path, meta = database(params_from(args), args.cache_dir, args.fresh)
    print(json.dumps(meta, indent=2, ensure_ascii=False), file=sys.stderr)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
