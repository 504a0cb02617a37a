"""Data sets that several test modules share, as fixtures; conftest.py registers this module.

``scored``: 160 invitations (120 answered) over 8 weeks from START, three teams, three channels,
with ``expected`` to work its figures out in Python. ``two_teams``: two open follow-ups.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from support import DETRACTOR, UNRESOLVED, answer, in_app

from feedback import responses, stats
from feedback.cases import CaseInput, InvitationPolicy, register_case
from feedback.db import database
from feedback.models import FollowUp
from feedback.surveys import current_version, definition_of

START = date(2026, 9, 1)
TEAMS = ("账务组", "技术支持", "售后服务")
CHANNELS = ("phone", "chat", "email")


def make_answers(rng: random.Random) -> dict:
    csat = rng.choice([1, 2, 3, 4, 4, 5, 5, 5])
    answers = {
        "resolved": "yes" if csat >= 3 else "no",
        "csat": csat,
        "nps": min(10, max(0, csat * 2 + rng.choice([-1, 0, 1]))),
        "ces": rng.choice([None, 2, 4, 5, 6, 7]),
    }
    return {k: v for k, v in answers.items() if v is not None}


@pytest.fixture
def scored(app):
    """120 answered and 40 unanswered invitations over 8 weeks, 3 teams, 3 channels.

    Returns the list of what was stored, for the tests to work the figures out in Python.
    """
    rng = random.Random(11)
    policy = InvitationPolicy()
    stored = []
    with in_app(app), database.atomic():
        version = current_version("post-case")
        definition = definition_of(version)
        for i in range(160):
            day = START + timedelta(days=rng.randrange(56))
            sent = datetime(day.year, day.month, day.day, 2, 0)  # 10:00 in Shanghai
            case_in = CaseInput(
                case_ref=f"R-{i}",
                survey="post-case",
                resolved_at=sent,
                channel=CHANNELS[i % 3],
                team=TEAMS[i % 3 if i % 7 else 0],
                agent=f"agent-{i % 5}",
                category="billing",
                customer_ref=f"c-{i}",
            )
            registration = register_case(case_in, version.survey, policy, now=sent)
            if i >= 120:
                stored.append({"answered": False, "day": day, **vars_of(case_in)})
                continue
            answers = make_answers(rng)
            submit(registration, version, definition, answers, sent + timedelta(hours=1))
            stored.append({"answered": True, "day": day, **vars_of(case_in), **answers})
    return stored


def submit(registration, version, definition, answers: dict, now: datetime, **options) -> int:
    """A registered case's invitation answered in Chinese, through the domain function."""
    return responses.submit(
        registration.invitation,
        registration.case,
        version,
        definition,
        answers,
        locale="zh_CN",
        tz="Asia/Shanghai",
        now=now,
        **options,
    )


def vars_of(case_in: CaseInput) -> dict:
    return {"channel": case_in.channel, "team": case_in.team, "agent": case_in.agent}


def expected(rows: list[dict]) -> dict:
    """The figures worked out in Python from what was stored."""
    answered = [r for r in rows if r["answered"]]
    csat = [r["csat"] for r in answered]
    nps = [r["nps"] for r in answered]
    ces = [r["ces"] for r in answered if "ces" in r]
    return {
        "responses": len(answered),
        "csat": stats.csat(sum(c >= 4 for c in csat), len(csat)),
        "nps": stats.nps(
            sum(n >= 9 for n in nps), sum(7 <= n <= 8 for n in nps), sum(n <= 6 for n in nps)
        ),
        "ces": stats.ces(len(ces), sum(ces), sum(c * c for c in ces), sum(c >= 5 for c in ces)),
        "invited": len(rows),
        "answered": len(answered),
    }


@pytest.fixture
def two_teams(app, client, api_headers, users):
    """A detractor in Billing (the lead's team) and one in Support; returns their ids."""
    answer(client, api_headers, DETRACTOR, case_id="C-B1")
    answer(
        client,
        api_headers,
        UNRESOLVED,
        case_id="C-S1",
        team="Support",
        customer={"id": "other", "locale": "en"},
    )
    with in_app(app):
        ids = {f.case.case_ref: f.id for f in FollowUp.select()}
    return ids


# --- every kind of figure, for the lists behind them (test_drilldown.py) ----------------------

DRILL_TEAMS = ("Billing", "技术支持", "售后服务")
UNHAPPY_COMMENTS = ("重复扣费，要求退款", "扣费不对，退款太慢", "退款一直没到账", "乱扣费")
HAPPY_COMMENTS = ("客服很耐心，很专业", "耐心解答", "非常专业，谢谢")
OTHER_COMMENTS = ("还行吧", "一般般，退款还可以")


def _clamp(value: int, low: int, high: int) -> int:
    return min(high, max(low, value))


def _comment(rng: random.Random, csat: int) -> str | None:
    if rng.random() < 0.3:
        return None
    pool = UNHAPPY_COMMENTS if csat <= 2 else HAPPY_COMMENTS if csat == 5 else OTHER_COMMENTS
    return rng.choice(pool)


@pytest.fixture
def drillable(app, users):
    """Every kind of figure the dashboard shows, over 8 weeks from START: 150 post-case
    invitations (125 answered, some as call-backs) in the lead's Billing and two more teams,
    some cases without a team, agent or category; the ratings (speed, attitude, competence)
    and comments of the survey; its follow-up rules, some follow-ups contacted, closed and
    recovered; and 40 answered SERVQUAL invitations. Returns what was stored by survey."""
    from feedback import follow_ups
    from feedback.models import User

    rng = random.Random(14)
    policy = InvitationPolicy()
    follow_up_policy = follow_ups.Policy.from_config(app.config)
    stored: dict[str, list[dict]] = {"post-case": [], "servqual": []}
    with in_app(app), database.atomic():
        desk = User.get(User.username == "staff")
        for slug, count, answered in (("post-case", 150, 125), ("servqual", 48, 40)):
            version = current_version(slug)
            definition = definition_of(version)
            for i in range(count):
                day = START + timedelta(days=rng.randrange(56))
                sent = datetime(day.year, day.month, day.day, 1 + i % 9, 0)
                case_in = CaseInput(
                    case_ref=f"{slug[0].upper()}-{i}",
                    survey=slug,
                    resolved_at=sent,
                    channel=CHANNELS[i % 3],
                    team=None if i % 13 == 0 else DRILL_TEAMS[i % 3],
                    agent=None if i % 11 == 0 else f"agent-{i % 5}",
                    category=None if i % 7 == 0 else ("billing" if i % 2 else "账单与收费"),
                    customer_ref=f"{slug}-c-{i}",
                )
                registration = register_case(case_in, version.survey, policy, now=sent)
                if i >= answered:
                    stored[slug].append({"answered": False, "day": day, **vars_of(case_in)})
                    continue
                if slug == "post-case":
                    answers = make_answers(rng)
                    csat = answers["csat"]
                    for question in ("speed", "attitude", "competence"):
                        if rng.random() < 0.9:
                            answers[question] = _clamp(csat + rng.choice([-1, 0, 0, 1]), 1, 5)
                    comment = _comment(rng, csat)
                    if comment:
                        answers["comment"] = comment
                else:
                    answers = {
                        q.id: {"expectation": rng.randint(4, 7), "perception": rng.randint(1, 7)}
                        for q in definition.questions
                        if q.type == "servqual"
                    }
                callback = i % 10 == 3
                submit(
                    registration,
                    version,
                    definition,
                    answers,
                    sent + timedelta(hours=1),
                    source="callback" if callback else "link",
                    entered_by=desk if callback else None,
                    follow_up_policy=follow_up_policy,
                )
                stored[slug].append(
                    {
                        "answered": True,
                        "day": day,
                        "source": "callback" if callback else "link",
                        **vars_of(case_in),
                        "category": case_in.category,
                        **answers,
                    }
                )
        for k, follow_up in enumerate(FollowUp.select().order_by(FollowUp.id)):
            if k % 3 == 0:
                follow_ups.record_contact(
                    follow_up.id, desk, "called", now=follow_up.created_at + timedelta(hours=3)
                )
            elif k % 3 == 1:
                follow_ups.close(
                    follow_up.id,
                    desk,
                    "recovered" if k % 2 else "unreachable",
                    "done",
                    now=follow_up.created_at + timedelta(days=4),
                )
    return stored
