"""Six months of realistic demo data: ``flask --app feedback demo``.

Everything goes through the functions production uses: cases through ``cases.register_case``
(so throttling and invitations behave as they do for a helpdesk), answers through
``responses.submit`` (with ``now`` set to when the customer would have answered).

The data is planned first, in memory, from ``random.Random(seed)`` alone, so the same seed
gives the same cases and answers; only the invitation tokens differ. It is shaped so that charts
show something: some agents do better than others, one team (售后服务) improves over the six
months, outages and complaints score lower, and unhappy customers write more.

Case ids carry the seed (``DEMO7-00001``): running again with the same seed adds nothing and says
so; another seed adds another set.
"""

from __future__ import annotations

import contextlib
import math
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.security import generate_password_hash

from . import accounts, follow_ups
from .cases import CaseInput, InvitationPolicy, register_case
from .db import database, utcnow
from .models import Case, FollowUp, Team, TeamLead, User
from .responses import NotOpen, submit
from .surveys import current_version, definition_of, sync
from .vocabulary import CHANNELS

DEMO_PASSWORD = "demo-pass"
DAYS = 182  # six months, ending today
BATCH = 250  # cases (or responses) per transaction

# username, role, display name, team (None: no team)
DEMO_USERS = (
    ("admin", "admin", "系统管理员", None),
    ("manager", "manager", "王经理", None),
    ("lead", "lead", "刘洋", "账务组"),
    ("staff", "staff", "李娜", "账务组"),
)

# Team name, English gloss, share of cases, base quality, improvement over the six months.
TEAMS = (
    ("账务组", "Billing", 0.22, 0.15, 0.0),
    ("技术支持", "Tech support", 0.30, -0.05, 0.0),
    ("售后服务", "After-sales", 0.20, -0.9, 1.4),  # improves: a new process rolled out
    ("在线客服", "Online", 0.28, 0.10, 0.0),
)

# Agents by team: (name, login, skill). The first of each team leads it, except in 账务组, which
# the demo user "lead" (刘洋) leads; 李娜 is the demo user "staff".
AGENTS = {
    "账务组": [
        ("刘洋", "lead", 0.3),
        ("李娜", "staff", 0.2),
        ("张敏", "zhang.min", 0.0),
        ("陈晓东", "chen.xiaodong", -0.1),
        ("赵丽", "zhao.li", 0.1),
    ],
    "技术支持": [
        ("王强", "wang.qiang", 0.2),
        ("孙浩", "sun.hao", 0.6),
        ("周杰", "zhou.jie", -0.9),
        ("吴磊", "wu.lei", 0.0),
        ("郑伟", "zheng.wei", 0.1),
        ("黄志明", "huang.zhiming", -0.2),
    ],
    "售后服务": [
        ("林建国", "lin.jianguo", 0.1),
        ("何静", "he.jing", 0.3),
        ("马超", "ma.chao", -0.3),
        ("罗军", "luo.jun", 0.0),
        ("高峰", "gao.feng", -0.1),
    ],
    "在线客服": [
        ("王芳", "wang.fang", 0.8),
        ("杨雪", "yang.xue", 0.1),
        ("徐婷", "xu.ting", -0.1),
        ("朱丹", "zhu.dan", 0.0),
        ("胡燕", "hu.yan", -0.7),
    ],
}

CHANNEL_WEIGHTS = {  # by team, in the order of CHANNELS: phone, chat, email, social, onsite
    "账务组": (0.45, 0.20, 0.25, 0.07, 0.03),
    "技术支持": (0.40, 0.25, 0.15, 0.05, 0.15),
    "售后服务": (0.35, 0.10, 0.08, 0.07, 0.40),
    "在线客服": (0.10, 0.62, 0.08, 0.20, 0.00),
}
CHANNEL_EFFECT = {"phone": 0.05, "chat": 0.1, "email": -0.15, "social": -0.3, "onsite": 0.2}
# A customer answers more often after a visit or a chat than after an email thread.
RESPONSE_RATE = {"phone": 0.30, "chat": 0.36, "email": 0.26, "social": 0.22, "onsite": 0.38}

CATEGORY_WEIGHTS = {  # by team
    "账务组": {"billing": 0.55, "account": 0.25, "complaint": 0.15, "product": 0.05},
    "技术支持": {
        "outage": 0.35,
        "product": 0.25,
        "account": 0.15,
        "installation": 0.20,
        "complaint": 0.05,
    },
    "售后服务": {"installation": 0.45, "product": 0.30, "complaint": 0.15, "outage": 0.10},
    "在线客服": {
        "product": 0.35,
        "account": 0.25,
        "billing": 0.25,
        "complaint": 0.10,
        "outage": 0.05,
    },
}
# What the demo's helpdesk calls them (a helpdesk sends its own category names).
CATEGORY_NAMES = {
    "billing": "账单",
    "account": "账户",
    "complaint": "投诉",
    "installation": "安装",
    "outage": "故障",
    "product": "产品",
}
CATEGORY_EFFECT = {
    "billing": -0.5,  # double charges and slow refunds: the demo's billing detractors
    "outage": -0.45,
    "installation": 0.05,
    "product": 0.15,
    "complaint": -0.8,
    "account": 0.1,
}

# Cases per hour of the local day (8:00 to 21:59), and per weekday (Monday first).
HOUR_WEIGHTS = {
    8: 3,
    9: 8,
    10: 10,
    11: 10,
    12: 5,
    13: 6,
    14: 9,
    15: 10,
    16: 9,
    17: 7,
    18: 4,
    19: 3,
    20: 3,
    21: 2,
}
WEEKDAY_WEIGHTS = (1.0, 1.0, 0.95, 0.95, 0.9, 0.5, 0.4)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
)
ENGLISH_NAMES = (
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Davies",
    "Evans",
    "Müller",
    "Martin",
    "Garcia",
    "Kim",
    "Nguyen",
    "Tanaka",
    "Singh",
    "Lopez",
    "Rossi",
)

# Comments by mood and language; the category's own complaint is added to the bad ones.
COMMENTS = {
    ("good", "zh_CN"): [
        "客服很耐心，问题很快就解决了。",
        "非常专业，一次就搞定，点赞！",
        "服务态度很好，谢谢！",
        "回复很及时，解释得也很清楚。",
        "比上次快多了，继续保持。",
        "工作人员很热情，给个好评。",
        "整个过程很顺利，没想到这么快。",
        "处理得很细致，还主动回访，很满意。",
    ],
    ("good", "en"): [
        "Quick and friendly, thank you!",
        "Sorted out in one call. Great service.",
        "The agent explained everything clearly.",
        "Much faster than last time, well done.",
        "Very professional and polite.",
    ],
    ("mixed", "zh_CN"): [
        "问题解决了，但是等待时间有点长。",
        "还可以，就是流程太繁琐了。",
        "希望能提供更多线上自助服务。",
        "电话一直占线，打了好几次才接通。",
        "客服态度不错，但第一次没说清楚，又跑了一趟。",
        "希望晚上也能有人工客服。",
    ],
    ("mixed", "en"): [
        "Fixed in the end, but it took a while.",
        "OK, though I had to explain it twice.",
        "Would be nice to do this online without calling.",
        "Long wait on the phone.",
    ],
    ("bad", "zh_CN"): [
        "等了很久才有人处理，体验很差。",
        "说好的回电一直没有等到。",
        "客服推来推去，没人负责。",
        "态度敷衍，感觉不专业。",
        "同样的问题已经反映了三次了，还是没解决。",
        "每次都要重新解释一遍情况，太浪费时间。",
    ],
    ("bad", "en"): [
        "Nobody called back as promised.",
        "I was passed from one person to another.",
        "Third time I report this and it is still not fixed.",
        "Rude and unhelpful.",
        "Took far too long for something simple.",
    ],
}
CATEGORY_COMPLAINTS = {
    "billing": ("多扣的费用到现在还没退回来。", "I was overcharged and still have no refund."),
    "outage": (
        "网络断了两天才修好，严重影响工作。",
        "The outage lasted two days; I could not work.",
    ),
    "installation": (
        "安装师傅迟到了三个小时，也没有提前通知。",
        "The installer came three hours late without a word.",
    ),
    "product": ("设备还是时好时坏，问题没有根本解决。", "The device still fails now and then."),
    "complaint": ("投诉之后没有任何实质性的处理。", "My complaint led to nothing at all."),
    "account": (
        "改个账户信息要跑好几趟，太麻烦了。",
        "Changing my account details took three visits.",
    ),
}
UNRESOLVED = {
    "zh_CN": [
        "退款还没有到账。",
        "故障还会时不时出现。",
        "承诺的上门时间还没有确定。",
        "账单上的错误还没有更正。",
        "密码还是重置不了。",
        "还在等技术人员回电。",
    ],
    "en": [
        "The refund has not arrived yet.",
        "The fault still comes back now and then.",
        "Still waiting for a visit date.",
        "The bill has not been corrected.",
        "Still waiting for the engineer to call back.",
    ],
}
SERVQUAL_COMMENTS = {
    "zh_CN": [
        "希望上门前能提前电话确认时间。",
        "师傅很专业，就是预约等得久了点。",
        "服务网点环境很好，资料也清楚。",
        "希望能有进度查询的渠道。",
    ],
    "en": [
        "Please call before coming round.",
        "Skilled engineer, but a long wait for a slot.",
        "Clear paperwork and a tidy service point.",
        "Let me track progress online.",
    ],
}


@dataclass
class CasePlan:
    """One case, and what its customer answers if they get (and take) the survey."""

    case_in: CaseInput
    sent_at: datetime  # when the helpdesk sends the case (and the invitation goes out)
    reopen: str | None = None  # None, "cancel" (reopened) or "again" (reopened, resolved again)
    reopened_at: datetime | None = None
    resolved_again_at: datetime | None = None
    answer_at: datetime | None = None  # None: the customer does not answer
    answers: dict[str, Any] = field(default_factory=dict)
    locale: str = "zh_CN"


# --- planning (pure: no database) ----------------------------------------------------------------


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, int(round(value))))


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _moment(
    rng: random.Random,
    start_day,
    days: int,
    day_weights: list[float],
    tz: ZoneInfo,
    latest: datetime,
) -> datetime:
    """A plausible moment a case is resolved: busy weekdays, office hours, never after latest."""
    hours, hour_weights = list(HOUR_WEIGHTS), list(HOUR_WEIGHTS.values())
    for _attempt in range(20):
        day = start_day + timedelta(days=rng.choices(range(days), weights=day_weights)[0])
        local = datetime(
            day.year,
            day.month,
            day.day,
            rng.choices(hours, hour_weights)[0],
            rng.randrange(60),
            rng.randrange(60),
            tzinfo=tz,
        )
        moment = local.astimezone(UTC).replace(tzinfo=None)
        if moment <= latest:
            return moment
    return latest - timedelta(minutes=rng.randrange(5, 120))


def _answer_delay(rng: random.Random) -> timedelta:
    """How long after the invitation a customer answers: mostly within hours, some days later."""
    roll = rng.random()
    if roll < 0.5:
        return timedelta(minutes=rng.lognormvariate(3.5, 0.8))  # about half an hour
    if roll < 0.85:
        return timedelta(hours=rng.uniform(3, 48))
    return timedelta(days=rng.uniform(2, 12))


# The pattern the comment themes should find: billing's unhappy customers write about being
# charged (扣费) and refunds (退款); happy ones everywhere praise patience (耐心) and expertise (专业).
BILLING_COMPLAINTS = {
    "zh_CN": [
        "莫名其妙被重复扣费，申请退款一个星期了还没到账。",
        "套餐没用也在扣费，客服说会退款，到现在也没有退。",
        "扣费不透明，账单看不懂，退款流程太慢。",
        "多扣的钱说好三天退款，结果拖了半个月。",
    ],
    "en": [
        "I was charged twice and the refund still has not arrived.",
        "Charged for a plan I never used; the refund is taking weeks.",
    ],
}
PRAISE = {
    "zh_CN": ["客服非常耐心，讲解也很专业。", "专业又耐心，一次就解决了。"],
    "en": ["Patient and professional, sorted in one call."],
}


def _comment(rng: random.Random, mood: str, locale: str, category: str) -> str:
    if mood == "bad" and category == "billing" and rng.random() < 0.8:
        return rng.choice(BILLING_COMPLAINTS[locale])
    pool = list(COMMENTS[(mood, locale)])
    if mood == "bad":
        zh, en = CATEGORY_COMPLAINTS[category]
        pool += [en if locale == "en" else zh] * 3
    if mood == "good":
        pool += PRAISE[locale] * 2
    return rng.choice(pool)


def _post_case_answers(
    rng: random.Random, quality: float, locale: str, category: str
) -> dict[str, Any]:
    resolved = rng.random() < _sigmoid(1.6 * quality + 2.0)
    mood = quality + rng.gauss(0, 0.45) - (1.3 if not resolved else 0.0)
    csat = (
        1 if mood < -1.6 else 2 if mood < -0.95 else 3 if mood < -0.45 else 4 if mood < 0.35 else 5
    )
    answers: dict[str, Any] = {"resolved": "yes" if resolved else "no", "csat": csat}
    nps_centre = {1: 1.5, 2: 3.5, 3: 6.0, 4: 8.0, 5: 9.3}[csat]
    answers["nps"] = _clamp(rng.gauss(nps_centre, 1.2), 0, 10)
    if rng.random() < 0.85:
        ces_centre = {1: 2.0, 2: 2.8, 3: 4.0, 4: 5.4, 5: 6.3}[csat] - (0.8 if not resolved else 0)
        answers["ces"] = _clamp(rng.gauss(ces_centre, 0.9), 1, 7)
    ratings = {}
    # The key-drivers story: attitude follows satisfaction closely and is rated lowest (the
    # thing to fix first), competence loosely and well, speed hardly at all.
    for aspect, weight, centre, spread in (
        ("speed", 0.3, 2.4, 1.0),
        ("attitude", 1.0, -0.6, 0.7),
        ("competence", 0.6, 2.0, 0.9),
    ):
        if rng.random() < 0.8:
            rating = rng.gauss(weight * csat + centre, spread)
            ratings[aspect] = answers[aspect] = _clamp(rating, 1, 5)
    if not resolved and rng.random() < 0.65:
        answers["unresolved_detail"] = rng.choice(UNRESOLVED[locale])
    if csat <= 2 and rng.random() < 0.85:
        wrong = {aspect for aspect, score in ratings.items() if score <= 2}
        if not resolved:
            wrong.add("not_solved")
        if not wrong or rng.random() < 0.3:
            wrong.add(
                rng.choices(
                    ("speed", "attitude", "competence", "not_solved", "other"),
                    weights=(4, 2, 2, 3, 1),
                )[0]
            )
        order = ("speed", "attitude", "competence", "not_solved", "other")
        answers["what_went_wrong"] = [value for value in order if value in wrong]
    comment_rate = {1: 0.6, 2: 0.5, 3: 0.3, 4: 0.18, 5: 0.25}[csat]
    if rng.random() < comment_rate:
        mood_word = (
            "bad"
            if csat <= 2
            else "mixed"
            if csat == 3 or not resolved
            else ("good" if rng.random() < 0.85 else "mixed")
        )
        answers["comment"] = _comment(rng, mood_word, locale, category)
    return answers


def _servqual_answers(rng: random.Random, quality: float, locale: str) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    # Customers expect most of reliability and responsiveness; we fall shortest there.
    for dimension, expect, shortfall in (
        ("reliability", 6.4, 0.9),
        ("responsiveness", 6.1, 1.1),
        ("assurance", 5.9, 0.4),
        ("empathy", 5.5, 0.5),
        ("tangibles", 5.0, 0.1),
    ):
        expectation = _clamp(rng.gauss(expect, 0.6), 1, 7)
        perception = _clamp(rng.gauss(expectation - shortfall + 1.1 * quality, 0.9), 1, 7)
        answers[dimension] = {"expectation": expectation, "perception": perception}
    if rng.random() < 0.3:
        answers["comment"] = rng.choice(SERVQUAL_COMMENTS[locale])
    return answers


def plan_cases(cases: int, seed: int, now: datetime, tz: str) -> list[CasePlan]:
    """The demo's cases and answers, in the order they are resolved (naive UTC ``now``)."""
    rng = random.Random(seed)
    zone = ZoneInfo(tz)
    today = now.replace(tzinfo=UTC).astimezone(zone).date()
    start_day = today - timedelta(days=DAYS - 1)
    # Busier on weekdays, and a little busier towards the end (the business grows).
    day_weights = [
        WEEKDAY_WEIGHTS[(start_day + timedelta(days=i)).weekday()] * (0.85 + 0.3 * i / DAYS)
        for i in range(DAYS)
    ]
    latest = now - timedelta(minutes=10)
    team_names = [t[0] for t in TEAMS]
    team_shares = [t[2] for t in TEAMS]
    team_info = {t[0]: t for t in TEAMS}
    regulars: list[dict] = []  # customers who come back (and so are sometimes throttled)
    customers_made = 0

    def new_customer() -> dict:
        nonlocal customers_made
        customers_made += 1
        number = customers_made
        english = rng.random() < 0.12
        if english:
            name = f"{rng.choice(('Mr', 'Ms'))} {rng.choice(ENGLISH_NAMES)}"
        else:
            name = rng.choice(SURNAMES) + rng.choice(("先生", "女士"))
        return {
            "id": f"demo{seed}-c{number:06d}",
            "name": name,
            "email": f"customer{seed}.{number}@example.com" if rng.random() < 0.6 else None,
            # not a number anyone has: the 000 area code is never dialled
            "phone": f"+86 000 {rng.randrange(10**4):04d} {number % 10**4:04d}",
            "locale": "en" if english else "zh_CN",
        }

    plans = []
    for _index in range(cases):
        resolved_at = _moment(rng, start_day, DAYS, day_weights, zone, latest)
        team = rng.choices(team_names, weights=team_shares)[0]
        agent_name, _login, skill = rng.choice(AGENTS[team])
        channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS[team])[0]
        category = _pick(rng, CATEGORY_WEIGHTS[team])
        if regulars and rng.random() < 0.15:
            customer = rng.choice(regulars)
        else:
            customer = new_customer()
            if rng.random() < 0.08:
                regulars.append(customer)
        survey = (
            "servqual" if rng.random() < (0.45 if channel == "onsite" else 0.08) else "post-case"
        )
        # How well it went: team (one improving over time), agent, channel, category, luck.
        progress = 1 - (latest - resolved_at).total_seconds() / (DAYS * 86400)
        _name, _english, _share, base, improvement = team_info[team]
        quality = (
            0.6
            + base
            + improvement * max(0.0, progress)
            + skill
            + CHANNEL_EFFECT[channel]
            + CATEGORY_EFFECT[category]
            + rng.gauss(0, 0.85)
        )
        sent_at = min(resolved_at + timedelta(minutes=rng.uniform(1, 30)), latest)
        plan = CasePlan(
            case_in=CaseInput(
                case_ref="",
                survey=survey,
                resolved_at=resolved_at,
                channel=channel,
                agent=agent_name,
                team=team,
                category=CATEGORY_NAMES[category],
                customer_ref=customer["id"],
                customer_name=customer["name"],
                customer_email=customer["email"],
                customer_phone=customer["phone"] if channel in ("phone", "onsite") else None,
                customer_locale=customer["locale"],
            ),
            sent_at=sent_at,
            locale=customer["locale"],
        )
        roll = rng.random()
        if roll < 0.03:  # reopened before the customer answered; half get resolved again
            plan.reopen = "again" if roll < 0.015 else "cancel"
            plan.reopened_at = min(sent_at + timedelta(hours=rng.uniform(0.2, 6)), latest)
            plan.resolved_again_at = plan.reopened_at + timedelta(hours=rng.uniform(4, 72))
            quality -= 0.4
        final_sent = plan.resolved_again_at if plan.reopen == "again" else sent_at
        answer_at = final_sent + _answer_delay(rng)
        rate = RESPONSE_RATE[channel] * (1.15 if quality < -1.2 else 1.0)  # the angry write back
        answers = (
            _servqual_answers(rng, quality, plan.locale)
            if survey == "servqual"
            else _post_case_answers(rng, quality, plan.locale, category)
        )
        if rng.random() < rate and plan.reopen != "cancel" and answer_at <= now:
            plan.answer_at = answer_at
            plan.answers = answers
        plans.append(plan)
    plans.sort(key=lambda p: p.case_in.resolved_at)
    width = max(5, len(str(cases)))
    for number, plan in enumerate(plans, start=1):
        plan.case_in = replace(plan.case_in, case_ref=f"{case_prefix(seed)}{number:0{width}d}")
        if plan.reopen == "again" and plan.resolved_again_at > latest:
            plan.reopen, plan.answer_at, plan.answers = "cancel", None, {}
    return plans


def case_prefix(seed: int) -> str:
    return f"DEMO{seed}-"


# --- storing --------------------------------------------------------------------------------------


def _plain_progress(items: Iterable, label: str):
    return contextlib.nullcontext(items)


def _in_transactions(items: Iterable, size: int = BATCH):
    """Yield the items, ``size`` at a time inside one transaction (register and submit nest)."""
    iterator = iter(items)
    while True:
        chunk = list(islice(iterator, size))
        if not chunk:
            return
        with database.atomic():
            yield from chunk


def _ensure_people() -> tuple[list[str], list[str]]:
    """The demo users, teams, agents (as staff users) and team leads; returns (created, kept)."""
    created, kept = [], []
    password_hash = None
    teams = {name: Team.by_name(name) for name, *_rest in TEAMS}
    users: dict[str, User] = {}
    wanted = [(login, role, name, team) for login, role, name, team in DEMO_USERS]
    known = {login for login, *_rest in DEMO_USERS}
    # every agent's account is linked to their cases by their name (My figures)
    agent_codes = {login: name for agents in AGENTS.values() for name, login, _skill in agents}
    for team, agents in AGENTS.items():
        for index, (name, login, _skill) in enumerate(agents):
            if login not in known:
                wanted.append((login, "lead" if index == 0 else "staff", name, team))
    with database.atomic():
        for login, role, name, team in wanted:
            user = User.get_or_none(User.username == login)
            if user is None:
                # One hash for all: each would take tens of milliseconds, for the same password.
                password_hash = password_hash or generate_password_hash(DEMO_PASSWORD)
                user = User.create(
                    username=login,
                    display_name=name,
                    password_hash=password_hash,
                    role=role,
                    team=teams[team] if team else None,
                    active=True,
                    agent_code=agent_codes.get(login),
                )
                created.append(login)
            elif login in known:
                kept.append(login)
            code = agent_codes.get(login)
            if user.agent_code is None and code and accounts.agent_code_holder(code) is None:
                user.agent_code = code  # a demo made before agent codes existed
                user.save()
            users[login] = user
        for team, agents in AGENTS.items():
            leader = users[agents[0][1]]
            accounts.set_team_leads(teams[team], [leader])
    return created, kept


SUGGESTION_TEXTS = {  # slug of the default category: (title, text), in Chinese and English
    "service": [
        ("周末电话排队太久", "周六打客服电话等了二十多分钟才接通。"),
        ("希望客服能回电", "问题复杂时，希望客服记下来稍后回电，而不是让我一直等。"),
        ("Chat agent was very helpful", "Please thank the agent; the chat solved it fast."),
    ],
    "product": [
        ("宽带晚上经常断线", "每天晚上九点后网速很慢，偶尔断线。"),
        ("App 登录太麻烦", "每次都要重新输入验证码，能不能记住设备？"),
    ],
    "billing": [
        ("账单看不懂", "账单里的各种费用名目太多，希望有简单说明。"),
        ("Refund took too long", "My refund for a double charge took three weeks."),
    ],
    "process": [
        ("报修要重复说明", "每换一个人都要把问题重新讲一遍。"),
        ("上门时间窗口太长", "预约上门只给半天的时间窗口，希望能精确到两小时。"),
    ],
    "workplace": [
        ("排班表提前发布", "希望下月排班能提前两周公布，方便安排家事。"),
        ("知识库搜索不好用", "知识库搜不到最新的资费政策，接电话时很被动。"),
        ("Headsets need replacing", "Several headsets in the phone room crackle."),
    ],
    "other": [("营业厅停车难", "营业厅门口车位太少，能否和旁边商场合作？")],
}
SUGGESTION_REPLIES = {
    "review": "感谢您的建议，我们正在研究。",
    "planned": "我们已将此列入下季度的改进计划。",
    "progress": "改进正在进行中，完成后会在这里告诉您。",
    "done": "已经改进完成：感谢您的建议！",
    "declined": "经评估暂时无法采纳，原因是成本过高；我们会继续关注。",
}


def _demo_suggestions(
    rng: random.Random, count: int, now: datetime, config: Mapping[str, Any]
) -> int:
    """Suggestions in both boxes over the demo period, most of them answered, some done and
    shown on the "You said, we did" page; anonymous more often than not."""
    from . import suggestions
    from .models import SuggestionCategory

    suggestions.ensure_default_categories()
    categories = {c.slug: c.id for c in SuggestionCategory.select()}
    teams = [t.id for t in Team.select(Team.id)]
    manager = User.get_or_none(User.username == "manager")
    settings = {"SUGGESTION_REPLY_DAYS": 5, "TIMEZONE": "Asia/Shanghai", **dict(config)}
    made = 0
    for _ in range(count):
        slug = rng.choice([k for k in SUGGESTION_TEXTS if k in categories])
        title, body = rng.choice(SUGGESTION_TEXTS[slug])
        box = "staff" if slug == "workplace" or rng.random() < 0.2 else "customer"
        anonymous = rng.random() < 0.65
        came = now - timedelta(days=rng.uniform(1, DAYS), hours=rng.uniform(0, 10))
        suggestion, _code = suggestions.submit(
            suggestions.NewSuggestion(
                box=box,
                category_id=categories[slug],
                title=title,
                body=body,
                anonymous=anonymous,
                locale="zh_CN" if re.search(r"[\u4e00-\u9fff]", title) else "en",
                name=None if anonymous else rng.choice(SURNAMES) + "先生",
                team_id=rng.choice(teams) if teams and box == "staff" else None,
            ),
            settings,
            now=came,
        )
        made += 1
        if manager is None or rng.random() < 0.12:
            continue  # not answered (yet)
        when = came + timedelta(days=rng.expovariate(1 / 3.0))
        path = rng.choice(
            [
                ["review"],
                ["review", "planned"],
                ["planned", "progress", "done"],
                ["review", "done"],
                ["declined"],
            ]
        )
        for status in path:
            if when >= now:
                break
            suggestions.change(
                suggestion,
                manager,
                suggestions.Change(
                    status,
                    SUGGESTION_REPLIES[status],
                    public=status == "done" and rng.random() < 0.7,
                    team_id=suggestion.team_id,
                ),
                settings,
                now=when,
            )
            when += timedelta(days=rng.expovariate(1 / 10.0))
    return made


CONTACT_NOTES = (
    "已致电客户，了解了具体情况并说明了处理进展。",
    "客户未接电话，已发短信请其回电。",
    "与客户沟通后，已安排专人跟进处理。",
)
CLOSING_NOTES = {
    "recovered": "问题已解决，客户表示满意。",
    "not_recovered": "客户仍不满意，已记录意见。",
    "unreachable": "多次联系未果。",
    "declined": "客户表示不需要再联系。",
}
OUTCOME_WEIGHTS = {"recovered": 60, "not_recovered": 20, "unreachable": 15, "declined": 5}


def work_follow_ups(prefix: str, seed: int, now: datetime) -> tuple[int, int]:
    """The team leads work the demo's follow-ups as a real team would: most are contacted within
    a day or so (some late), and closed with an outcome a day or two after. As in a real queue,
    many of the last four days' follow-ups are still open or only contacted, and some of the last
    three weeks' slipped through (overdue). Returns (opened, closed)."""
    rng = random.Random(seed * 7919 + 6)
    leads = {row.team_id: row.user for row in TeamLead.select(TeamLead, User).join(User)}
    found = list(
        FollowUp.select(FollowUp.id, FollowUp.team, FollowUp.created_at)
        .join(Case, on=(FollowUp.case == Case.id))
        .where(Case.case_ref.startswith(prefix))
        .order_by(FollowUp.id)
    )
    closed = 0
    with contextlib.closing(_in_transactions(found)) as batch:
        for follow_up in batch:
            lead = leads.get(follow_up.team_id)
            if lead is None:
                continue
            age = now - follow_up.created_at
            # (share never contacted, share contacted but not closed) by age
            left, open_ = (
                (0.4, 0.7)
                if age < timedelta(days=4)
                else (0.12, 0.25)
                if age < timedelta(days=21)
                else (0.0, 0.0)
            )
            backlog = rng.random()
            if backlog < left:
                continue  # not reached yet, or slipped through: overdue
            contact_at = follow_up.created_at + timedelta(hours=rng.lognormvariate(2.5, 0.9))
            if contact_at > now:
                continue
            follow_ups.record_contact(follow_up.id, lead, rng.choice(CONTACT_NOTES), now=contact_at)
            close_at = contact_at + timedelta(hours=rng.uniform(1, 60))
            if close_at > now or backlog < open_:
                continue  # still being worked on
            outcome = rng.choices(list(OUTCOME_WEIGHTS), list(OUTCOME_WEIGHTS.values()))[0]
            follow_ups.close(follow_up.id, lead, outcome, CLOSING_NOTES[outcome], now=close_at)
            closed += 1
    return len(found), closed


# The improvement actions of the demo: (key, title, description, metric, team, channel,
# category, owner login or None for the team's lead, start and due days from today, milestones
# as (title, due days from today, done)). Their states are set in _demo_actions.
DEMO_ACTIONS = (
    (
        "process",
        "售后服务组：上门安装后的回访流程",
        "安装类问题满意度一直偏低。新流程：安装完成后 "
        "24 小时内电话回访，问题当场登记并约定处理时间。",
        "csat",
        "售后服务",
        None,
        None,
        None,
        -120,
        -70,
        (
            ("整理回访话术和问题登记表", -110, True),
            ("全组培训新流程", -95, True),
            ("新流程全面上线", -62, True),
        ),
    ),
    (
        "billing",
        "账务组：账单问题一次解决",
        "账单类问题常常要客户再打一次电话。梳理十类最常见的账单问题，给出标准解释和处理权限。",
        "csat",
        "账务组",
        None,
        "账单",
        "lead",
        -20,
        25,
        (
            ("梳理最常见的十类账单问题", -12, True),
            ("更新知识库文章", -3, False),
            ("一线获得小额退费权限", 15, False),
        ),
    ),
    (
        "phone",
        "电话渠道：排队时告知预计等待时间",
        "周末电话排队长，客户意见多。排队时播报预计等待时间，并提供稍后回电的选项。",
        "ces",
        None,
        "phone",
        None,
        "manager",
        -45,
        -5,
        (("与电话系统供应商确认方案", -35, True), ("试点一个班组", -10, False)),
    ),
    (
        "weekend",
        "在线客服：周末排班调整",
        "周末在线咨询量上升，响应变慢。按小时咨询量重新排班。",
        "nps",
        "在线客服",
        None,
        None,
        None,
        7,
        60,
        (),
    ),
)


def _demo_actions(now: datetime, config: Mapping[str, Any]) -> int:
    """A few improvement actions as a team would have them for its next meeting: one done and
    evaluated (on the team whose answers improve), one in progress with an overdue milestone and
    linked suggestions and follow-ups, one overdue, one planned. Made once per database."""
    from . import actions
    from .models import ImprovementAction, Suggestion, Survey

    if ImprovementAction.select().exists():
        return 0
    tz = ZoneInfo(config.get("TIMEZONE", "Asia/Shanghai"))
    today = now.replace(tzinfo=UTC).astimezone(tz).date()
    users = {u.username: u for u in User.select()}
    leads = {
        row.team.name: row.user
        for row in TeamLead.select(TeamLead, User, Team).join(User).switch(TeamLead).join(Team)
    }
    teams = {t.name: t for t in Team.select()}
    survey = Survey.get(Survey.slug == "post-case")
    manager = users.get("manager")
    if manager is None or any(
        team and team not in teams for _k, _t, _d, _m, team, *_r in DEMO_ACTIONS
    ):
        return 0

    def at(days: int) -> datetime:  # the day's 10:00 local, as naive UTC
        local = datetime.combine(today + timedelta(days=days), datetime.min.time(), tz)
        return (local + timedelta(hours=10)).astimezone(UTC).replace(tzinfo=None)

    made = {}
    for (
        key,
        title,
        description,
        metric,
        team,
        channel,
        category,
        owner,
        start,
        due,
        milestones,
    ) in DEMO_ACTIONS:
        action = actions.create_action(
            {
                "title": title,
                "description": description,
                "metric": metric,
                "survey": survey.id,
                "channel": channel,
                "team": teams[team].id if team else None,
                "agent": None,
                "category": category,
                "owner": (users[owner] if owner else leads[team]).id,
                "start_date": today + timedelta(days=start),
                "due_date": today + timedelta(days=due),
            },
            manager,
            now=min(at(start - 7), now),
        )
        for name, when, done in milestones:
            milestone = actions.add_milestone(
                action, name, today + timedelta(days=when), now=min(at(start - 7), now)
            )
            if done:
                actions.mark_milestone_done(milestone, action.owner, now=at(when))
        if start <= 0:
            actions.change_state(
                action, "in_progress", "开始执行。", action.owner, today, now=at(start)
            )
        made[key] = action

    done = made["process"]
    done_on = today + timedelta(days=-62)
    actions.change_state(
        done, "done", "新流程已全面上线。", done.owner, today, done_on=done_on, now=at(-62)
    )
    evaluation = actions.before_after(
        done, config.get("ACTION_WINDOW_WEEKS", 8), config.get("MIN_SAMPLE", 30), today
    )
    if evaluation and evaluation["started"] and not evaluation["provisional"]:
        actions.change_state(
            done,
            "evaluated",
            "八周后复盘：见前后对比。",
            manager,
            today,
            evaluation=evaluation,
            now=at(-2),
        )

    billing = made["billing"]
    for suggestion in (
        Suggestion.select(Suggestion.id)
        .where(Suggestion.status.in_(("planned", "progress")))
        .order_by(Suggestion.id)
        .limit(2)
    ):
        actions.link(billing, "suggestion", suggestion.id)
    for follow_up in (
        FollowUp.select(FollowUp.id)
        .where(FollowUp.team == teams["账务组"].id, FollowUp.outcome == "not_recovered")
        .order_by(FollowUp.id.desc())
        .limit(2)
    ):
        actions.link(billing, "follow_up", follow_up.id)
    return len(made)


def fill(
    cases: int = 5000,
    seed: int = 7,
    config: Mapping[str, Any] | None = None,
    progress: Callable[[Iterable, str], Any] | None = None,
) -> str:
    """Fill the database with demo data; return a one-paragraph summary of what was done.

    ``progress(items, label)`` gives a context manager around an iterable (click.progressbar).
    Needs an open connection and the surveys synced (the ``demo`` command does both).
    """
    config = config or {}
    progress = progress or _plain_progress
    tz = config.get("TIMEZONE", "Asia/Shanghai")
    policy = InvitationPolicy.from_config(config)
    throttle_days = policy.throttle_days
    versions = {slug: current_version(slug) for slug in ("post-case", "servqual")}
    if any(v is None for v in versions.values()) and config.get("SURVEYS_DIR"):
        sync(config["SURVEYS_DIR"])
        versions = {slug: current_version(slug) for slug in versions}
    missing = [slug for slug, version in versions.items() if version is None]
    if missing:
        raise RuntimeError(
            f"survey(s) {', '.join(missing)} not loaded: run 'flask --app feedback init-db' first"
        )

    created, kept = _ensure_people()
    demo_logins = [login for login, *_rest in DEMO_USERS]
    made = [login for login in demo_logins if login in created]
    agents_made = len(created) - len(made)
    if created:
        people = (
            f"Users created: {', '.join(made) or 'none of the demo logins'}"
            + (f" and {agents_made} agent(s)" if agents_made else "")
            + "."
        )
        if kept:
            people += f" Kept as they were (passwords unchanged): {', '.join(kept)}."
    else:
        people = "The demo users were there already."
    logins = (
        f"Log in as admin, manager, lead or staff with password '{DEMO_PASSWORD}' "
        "(agents too, e.g. wang.fang)."
    )

    prefix = case_prefix(seed)
    if Case.select().where(Case.case_ref.startswith(prefix)).exists():
        existing = Case.select().where(Case.case_ref.startswith(prefix)).count()
        return (
            f"Demo data for seed {seed} is there already ({existing} cases named "
            f"{prefix}…); no cases added (give another --seed to add more). {people} "
            f"{logins}"
        )

    now = utcnow()
    plans = plan_cases(cases, seed, now, tz)
    definitions = {slug: definition_of(v) for slug, v in versions.items()}
    to_answer = []
    invited = suppressed = 0
    with progress(plans, "Registering cases") as bar:
        with contextlib.closing(_in_transactions(bar)) as batch:
            for plan in batch:
                version = versions[plan.case_in.survey]
                registration = register_case(plan.case_in, version.survey, policy, now=plan.sent_at)
                if plan.reopen:
                    reopened = replace(plan.case_in, reopened=True)
                    registration = register_case(
                        reopened, version.survey, policy, now=plan.reopened_at
                    )
                    if plan.reopen == "again":
                        again = replace(plan.case_in, resolved_at=plan.resolved_again_at)
                        registration = register_case(
                            again, version.survey, policy, now=plan.resolved_again_at
                        )
                if registration.invitation is None:
                    suppressed += 1
                    continue
                invited += 1
                if plan.answer_at is not None:
                    to_answer.append((plan, registration))

    to_answer.sort(key=lambda item: item[0].answer_at)
    # follow-ups as the rules open them, but no notifications for months-old demo answers
    follow_up_policy = replace(
        follow_ups.Policy.from_config({**config, "TIMEZONE": tz}), webhook_url="", email_leads=False
    )
    stored = {slug: 0 for slug in versions}
    with progress(to_answer, "Storing responses") as bar:
        with contextlib.closing(_in_transactions(bar)) as batch:
            for plan, registration in batch:
                slug = plan.case_in.survey
                definition = definitions[slug]
                answers = definition.visible_answers(plan.answers)
                try:
                    submit(
                        registration.invitation,
                        registration.case,
                        versions[slug],
                        definition,
                        answers,
                        locale=plan.locale,
                        tz=tz,
                        now=plan.answer_at,
                        follow_up_policy=follow_up_policy,
                    )
                except NotOpen:  # expired before the customer got to it
                    continue
                stored[slug] += 1

    with database.atomic():
        suggestion_count = _demo_suggestions(random.Random(seed), max(1, cases // 60), now, config)
    opened, closed = work_follow_ups(prefix, seed, now)
    with database.atomic():
        action_count = _demo_actions(now, config)

    first = min(p.case_in.resolved_at for p in plans) if plans else now
    zone = ZoneInfo(tz)
    first, last = (moment.replace(tzinfo=UTC).astimezone(zone) for moment in (first, now))
    total = sum(stored.values())
    agents = sum(len(a) for a in AGENTS.values())
    return (
        f"Demo data for seed {seed}: {len(plans)} cases resolved between "
        f"{first:%Y-%m-%d} and {last:%Y-%m-%d} over {len(TEAMS)} teams and {agents} agents; "
        f"{invited} invitations sent ({suppressed} cases not invited: the customer was "
        f"surveyed within {throttle_days} days); {total} responses "
        f"({stored['post-case']} post-case, {stored['servqual']} servqual); {opened} "
        f"follow-ups opened, {closed} of them closed by the team leads; "
        f"{suggestion_count} suggestions; {action_count} improvement actions. {people} "
        f"{logins}"
    )
