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
            responses.submit(
                registration.invitation,
                registration.case,
                version,
                definition,
                answers,
                locale="zh_CN",
                tz="Asia/Shanghai",
                now=sent + timedelta(hours=1),
            )
            stored.append({"answered": True, "day": day, **vars_of(case_in), **answers})
    return stored


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
