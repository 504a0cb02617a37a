"""Team alerts in chat: WeCom, DingTalk and Feishu group robots, and Slack-compatible webhooks.

An admin gives a team one or more robots (``Robot``: platform, webhook address, secret). A new
follow-up of the team, a new suggestion concerning it, and a follow-up that passed its due time
each write one outbox row per active robot (kind ``robot``, target the robot's id) in the
transaction of the change; the deliverer sends it later. The row holds the message in neutral
form (a title, labelled lines, a quoted text, a link), written in the site's language
(``DEFAULT_LOCALE``); the sender turns it into the platform's own format at send time and signs
it with the robot's secret as it is then (the secret never enters the outbox):

- WeCom: ``{"msgtype": "markdown", "markdown": {"content": ...}}``; the key is in the address.
- DingTalk: ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; with a secret, the
  address gets ``timestamp`` (ms) and ``sign`` = URL-encoded base64(HMAC-SHA256(key=secret,
  msg="{timestamp}\\n{secret}")).
- Feishu: ``{"msg_type": "interactive", "card": ...}``; with a secret, the body gets
  ``timestamp`` (s) and ``sign`` = base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg="")).
- Slack (and compatible: Mattermost, Rocket.Chat): ``{"text": ...}`` in mrkdwn.

These platforms answer HTTP 200 with a non-zero ``errcode`` (WeCom, DingTalk) or ``code``
(Feishu) when they refuse a message: that is a failure, retried like any other, with their
``errmsg`` as the row's ``last_error``. Each allows about 20 messages a minute per robot: a
robot's rows are given due times at most ``PER_MINUTE`` to a minute when they are written
(``_slot``), and the sender holds back a row while the robot already had that many in the last
minute, so a burst is delayed, never dropped. People's text (a comment, a suggestion) can make
no link or emphasis: the characters that would are replaced (``_plain``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from peewee import JOIN

from . import outbox
from .db import Prepared, database, utcnow
from .definitions import SurveyDefinition
from .i18n import Language, language
from .models import Case, FollowUp, Outbox, Response, Robot, SurveyVersion, Team
from .names import N_
from .vocabulary import SCALE_TYPES

KIND = "robot"
EVENT_FOLLOW_UP = "follow_up.created"
EVENT_OVERDUE = "follow_up.overdue"
EVENT_SUGGESTION = "suggestion.created"
EVENT_TEST = "robot.test"
PER_MINUTE = 20  # the platforms' limit per robot
WINDOW = timedelta(minutes=1)
QUOTE_MAX = 500  # characters of a comment or a suggestion shown in chat
OVERDUE_LOOKBACK = timedelta(days=7)  # older overdue follow-ups are marked, not announced
PLATFORM_LABELS = {
    "wecom": N_("WeCom group robot"),
    "dingtalk": N_("DingTalk custom robot"),
    "feishu": N_("Feishu custom bot"),
    "slack": N_("Slack-compatible incoming webhook"),
}


class RobotRefused(RuntimeError):
    """The platform answered, but did not take the message (its errcode and errmsg)."""


class RateLimited(RuntimeError):
    """The robot already had its messages for this minute; the row waits."""


# --- the message ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """What a robot says, whatever the platform: a title, labelled lines, a quoted text of a
    person (already plain), and a link."""

    title: str
    lines: tuple[tuple[str, str], ...] = ()
    quote: str = ""
    link_text: str = ""
    url: str = ""
    extra: dict = field(default_factory=dict)  # ids for receivers and erasure, never shown

    def to_payload(self) -> dict:
        return {
            "title": self.title,
            "lines": [list(line) for line in self.lines],
            "quote": self.quote,
            "link_text": self.link_text,
            "url": self.url,
            **self.extra,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Message:
        return cls(
            payload["title"],
            tuple((label, value) for label, value in payload.get("lines", ())),
            payload.get("quote") or "",
            payload.get("link_text") or "",
            payload.get("url") or "",
        )


# Characters that would make a link, emphasis, a heading or a mention out of a person's text,
# and harmless look-alikes. A mention needs angle brackets on every platform (<@id>, <at>), so
# "@" stays: an address in a comment stays findable for erasure (privacy._outbox_carrying).
_NEUTRAL = str.maketrans(
    {
        "[": "(",
        "]": ")",
        "<": "\u2039",
        ">": "\u203a",
        "*": "\u2217",
        "_": " ",
        "`": "'",
        "#": "\u266f",
        "~": "-",
        "|": "/",
    }
)


def _plain(text: str | None, limit: int = QUOTE_MAX) -> str:
    """A person's text, made unable to format anything, on one line per line, shortened."""
    text = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in text or "")
    text = "\n".join(line.strip() for line in text.translate(_NEUTRAL).splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def markdown(message: Message, bold: str = "**") -> str:
    """The message as the markdown WeCom, DingTalk and Feishu cards read (``bold`` ``*`` for
    Slack's mrkdwn)."""
    parts = [f"{bold}{message.title}{bold}"] if message.title else []
    parts += [f"{bold}{label}{bold}: {value}" for label, value in message.lines]
    if message.quote:
        parts.append("\n".join(f"> {line}" for line in message.quote.splitlines()))
    if message.url:
        link = (
            f"<{message.url}|{message.link_text}>"
            if bold == "*"
            else f"[{message.link_text}]({message.url})"
        )
        parts.append(link)
    return "\n\n".join(parts)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def body_for(platform: str, message: Message) -> dict:
    """The JSON a platform's robot takes (before signing)."""
    if platform == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": markdown(message)}}
    if platform == "dingtalk":
        return {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": markdown(message)},
        }
    if platform == "feishu":
        body = markdown(Message("", message.lines, message.quote, message.link_text, message.url))
        return {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": message.title}},
                "elements": [{"tag": "markdown", "content": body}],
            },
        }
    if platform == "slack":
        escaped = Message(
            _slack_escape(message.title),
            tuple((_slack_escape(a), _slack_escape(b)) for a, b in message.lines),
            _slack_escape(message.quote),
            _slack_escape(message.link_text),
            message.url,
        )
        return {"text": markdown(escaped, bold="*"), "mrkdwn": True}
    raise ValueError(f"unknown robot platform {platform!r}")


# --- signing and sending ----------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign``: base64 of HMAC-SHA256 keyed with the secret over
    "{timestamp}\\n{secret}" (before URL-encoding)."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's ``sign``: base64 of HMAC-SHA256 keyed with "{timestamp}\\n{secret}" over
    nothing."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def signed_request(robot: Robot, message: Message, at: float) -> tuple[str, bytes]:
    """The address and body bytes to POST, signed for ``at`` (seconds since the epoch)."""
    body = body_for(robot.platform, message)
    url = robot.url
    if robot.secret and robot.platform == "dingtalk":
        stamp = int(at * 1000)
        query = urllib.parse.urlencode(
            {"timestamp": stamp, "sign": dingtalk_sign(robot.secret, stamp)}
        )
        url = f"{url}{'&' if '?' in url else '?'}{query}"
    elif robot.secret and robot.platform == "feishu":
        stamp = int(at)
        body = {"timestamp": str(stamp), "sign": feishu_sign(robot.secret, stamp), **body}
    return url, json.dumps(body, ensure_ascii=False).encode("utf-8")


def refusal(platform: str, reply: bytes) -> str | None:
    """The platform's reason for refusing a message answered with HTTP 200, or None when it
    took it."""
    if platform == "slack":
        return None  # Slack refuses with an HTTP error; its 200 says "ok"
    try:
        answer = json.loads(reply.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return f"not JSON: {reply[:200]!r}"
    if not isinstance(answer, dict):
        return f"unexpected answer: {reply[:200]!r}"
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code in (0, "0", None):
        return None
    text = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
    return f"{code}: {text}"[:1000]


def post(robot: Robot, message: Message, row_id: int, timeout: float) -> None:
    """Send one message; raise on a network error, an HTTP error or a platform's refusal."""
    url, data = signed_request(robot, message, time.time())
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "feedback-outbox",
            "X-Feedback-Delivery": str(row_id),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 (admin's)
            answer = reply.read(65536)
    except urllib.error.HTTPError as exc:  # Slack says why in the body: keep it
        reason = exc.read(300).decode("utf-8", "replace").strip()
        raise RobotRefused(f"HTTP {exc.code}: {reason}" if reason else f"HTTP {exc.code}") from None
    refused = refusal(robot.platform, answer)
    if refused:
        raise RobotRefused(refused)


def _sent_last_minute(robot_id: int, now: datetime) -> int:
    return (
        Outbox.select()
        .where(
            Outbox.kind == KIND,
            Outbox.target == str(robot_id),
            Outbox.delivered_at > now - WINDOW,
        )
        .count()
    )


@outbox.sender(KIND)
def _send(row: Outbox, config: Mapping[str, Any]) -> None:
    robot = Robot.get_or_none(Robot.id == int(row.target))
    if robot is None or not robot.active:
        raise RuntimeError("the robot was removed or switched off")
    # the deliverer's time of the claim (its lease ends LEASE after it), not this clock's
    claimed_at = row.claimed_until - outbox.LEASE if row.claimed_until else utcnow()
    if _sent_last_minute(robot.id, claimed_at) >= PER_MINUTE:
        raise RateLimited(f"{PER_MINUTE} messages in the last minute; waiting")
    post(
        robot,
        Message.from_payload(json.loads(row.payload)),
        row.id,
        float(config.get("WEBHOOK_TIMEOUT") or 10),
    )


# --- writing the rows -------------------------------------------------------------------------


def team_robot_ids(team_id: int | None) -> tuple[int, ...]:
    """The active robots of a team (read before the transaction that writes their rows)."""
    if team_id is None:
        return ()
    return tuple(
        robot_id
        for (robot_id,) in Robot.select(Robot.id)
        .where(Robot.team == team_id, Robot.active == True)  # noqa: E712
        .order_by(Robot.id)
        .tuples()
    )


# The due time of a robot's PER_MINUTE-th latest row due after a moment (None: fewer rows).
# Built once (db.Prepared): it runs for every robot of every alert, in the customer's
# transaction, on the index outbox_kind_target.
_NTH_LATEST = Prepared(
    lambda target, after: (
        Outbox.select(Outbox.next_attempt_at)
        .where(Outbox.kind == KIND, Outbox.target == target, Outbox.next_attempt_at > after)
        .order_by(Outbox.next_attempt_at.desc())
        .limit(1)
        .offset(PER_MINUTE - 1)
    ),
    arity=2,
)


def _slot(robot_id: int, due: datetime) -> datetime:
    """The earliest time at or after ``due`` that keeps the robot within ``PER_MINUTE``
    messages a minute, given the rows already waiting for it."""
    found = _NTH_LATEST.execute(str(robot_id), due - WINDOW).fetchone()
    earlier = Outbox.next_attempt_at.python_value(found[0]) if found else None
    return max(due, earlier + WINDOW) if earlier else due


def enqueue(
    robot_ids: Iterable[int],
    event: str,
    message: Message,
    now: datetime,
    due: datetime | None = None,
) -> None:
    """One row per robot, each at its own place in its robot's minute; inside the change's
    transaction."""
    payload = message.to_payload()
    for robot_id in robot_ids:
        slot = _slot(robot_id, due or now)
        outbox.enqueue(KIND, event, str(robot_id), payload, now, due=slot)


def _scores(response: Mapping[str, Any]) -> str:
    shown = [
        f"{name.upper()} {response[name]}"
        for name in ("csat", "nps", "ces")
        if response.get(name) is not None
    ]
    return " \u00b7 ".join(shown) or "-"


def reasons_in_words(
    definition: SurveyDefinition, answers: Mapping[str, Any], lang: Language
) -> tuple[str, ...]:
    """The follow-up rules these answers met, each as its question and the customer's answer
    in words: "Was your problem resolved? No" rather than "resolved == no"."""
    kept = definition.visible_answers(dict(answers))
    words = []
    for rule in definition.follow_up:
        answer = kept.get(rule.question)
        question = definition.question(rule.question)
        if question is None or not rule.holds(answer):
            continue
        words.append(
            f"{_plain(question.text.get(lang.code), 200)} {_answer_words(question, answer, lang)}"
        )
    return tuple(words)


def _answer_words(question, answer: Any, lang: Language) -> str:
    labels = {choice.value: choice.label.get(lang.code) for choice in question.choices}
    if isinstance(answer, list):
        return ", ".join(labels.get(a, str(a)) for a in answer)
    if isinstance(answer, dict):  # servqual
        answer = answer.get("perception")
    if question.type in SCALE_TYPES or question.type == "servqual":
        return lang.gettext(
            "%(value)s (scale %(low)s to %(high)s)",
            value=answer,
            low=question.min,
            high=question.max,
        )
    if isinstance(answer, str) and answer in labels:
        return labels[answer]
    return _plain(str(answer), 200)


def comment(definition: SurveyDefinition, answers: Mapping[str, Any]) -> str:
    """The customer's own words: their text answers, in question order."""
    kept = definition.visible_answers(dict(answers))
    texts = [
        kept[q.id]
        for q in definition.questions
        if q.type in ("text", "textarea") and kept.get(q.id)
    ]
    return _plain("\n".join(texts))


def _local(utc_text: str, tz: ZoneInfo) -> str:
    """A webhook's UTC time ("2026-11-25T02:00:00Z") as the site's wall-clock time."""
    moment = datetime.fromisoformat(utc_text.rstrip("Z")).replace(tzinfo=UTC)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def follow_up_message(
    body: Mapping[str, Any],
    reasons: Iterable[str],
    comment_text: str,
    lang: Language,
    overdue: bool = False,
    tz: ZoneInfo = UTC,
) -> Message:
    """A new (or overdue) follow-up's message, from its webhook description; the due time in
    the site's time zone ``tz``."""
    case, follow_up = body["case"], body["follow_up"]
    title = (
        lang.gettext("Follow-up overdue: case %(case)s", case=case["case_id"])
        if overdue
        else lang.gettext("New follow-up: case %(case)s", case=case["case_id"])
    )
    lines = [
        (lang.gettext("Team"), _plain(case.get("team") or "-", 100)),
        (lang.gettext("Why"), "; ".join(reasons) or "-"),
    ]
    if "response" in body:
        lines.append((lang.gettext("Scores"), _scores(body["response"])))
    lines.append((lang.gettext("Due"), _local(follow_up["due_at"], tz)))
    return Message(
        title,
        tuple(lines),
        comment_text,
        lang.gettext("Open the follow-up"),
        follow_up["url"],
        # the case, as the webhook names it, so that erasing its customer finds this row
        {"follow_up": follow_up["id"], "case": {"case_id": case["case_id"]}},
    )


# --- new suggestions --------------------------------------------------------------------------


def suggestion_message(
    suggestion_id: int,
    box: str,
    category: str,
    title: str,
    text: str,
    anonymous: bool,
    base_url: str,
    lang: Language,
) -> Message:
    """A new suggestion's message. Nothing about who sent it but whether they gave a name."""
    box_label = lang.gettext("Customer box") if box == "customer" else lang.gettext("Staff box")
    sender = lang.gettext("anonymous") if anonymous else lang.gettext("gave a name")
    return Message(
        lang.gettext("New suggestion #%(number)s", number=suggestion_id),
        (
            (lang.gettext("Box"), box_label),
            (lang.gettext("Category"), _plain(category, 100)),
            (lang.gettext("Title"), _plain(title, 200)),
            (lang.gettext("Sender"), sender),
        ),
        _plain(text),
        lang.gettext("Open the suggestion"),
        f"{base_url}/manage/suggestions/{suggestion_id}",
        {"suggestion": suggestion_id},
    )


# --- overdue follow-ups -----------------------------------------------------------------------


def alert_overdue(config: Mapping[str, Any], now: datetime | None = None, batch: int = 200) -> int:
    """Tell the teams' robots of every follow-up that passed its due time, once each (the
    follow-up's ``overdue_alerted_at`` is set in the same transaction); return how many
    alerts went into the outbox. One that became overdue more than a week ago is only marked."""
    now = now or utcnow()
    lang = language(config.get("DEFAULT_LOCALE") or "zh_CN")
    base_url = (config.get("BASE_URL") or "").rstrip("/")
    tz = ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai")
    written = 0
    while True:
        due = list(
            FollowUp.select(FollowUp, Case.case_ref, Team.id, Team.name, Response, SurveyVersion)
            .join(Case, on=(FollowUp.case == Case.id))
            .switch(FollowUp)
            .join(Team, on=(FollowUp.team == Team.id), join_type=JOIN.LEFT_OUTER)
            .switch(FollowUp)
            .join(Response, on=(FollowUp.response == Response.id))
            .join(SurveyVersion, on=(Response.survey_version == SurveyVersion.id))
            .where(
                FollowUp.state != "closed",
                FollowUp.due_at < now,
                FollowUp.overdue_alerted_at.is_null(),
            )
            .order_by(FollowUp.due_at, FollowUp.id)
            .limit(batch)
        )
        if not due:
            return written
        robots: dict[int, list[int]] = {}
        for robot in (
            Robot.select(Robot.id, Robot.team)
            .where(
                Robot.team.in_({f.team_id for f in due if f.team_id}),
                Robot.active == True,  # noqa: E712
            )
            .order_by(Robot.id)
        ):
            robots.setdefault(robot.team_id, []).append(robot.id)
        for follow_up in due:
            targets = (
                robots.get(follow_up.team_id, [])
                if follow_up.due_at >= now - OVERDUE_LOOKBACK
                else []
            )
            message = _overdue_message(follow_up, base_url, lang, tz) if targets else None
            with database.atomic():
                marked = (
                    FollowUp.update(overdue_alerted_at=now)
                    .where(FollowUp.id == follow_up.id, FollowUp.overdue_alerted_at.is_null())
                    .execute()
                )
                if marked and message:
                    enqueue(targets, EVENT_OVERDUE, message, now)
                    written += len(targets)
        if len(due) < batch:
            return written


def _overdue_message(follow_up: FollowUp, base_url: str, lang: Language, tz: ZoneInfo) -> Message:
    from .responses import stored_answers
    from .surveys import definition_of

    definition = definition_of(follow_up.response.survey_version)
    answers = stored_answers(definition, follow_up.response_id)
    team = follow_up.team.name if follow_up.team_id else None
    body = {
        "case": {"case_id": follow_up.case.case_ref, "team": team},
        "follow_up": {
            "id": follow_up.id,
            "due_at": follow_up.due_at.isoformat() + "Z",
            "url": f"{base_url}/manage/follow-ups/{follow_up.id}",
        },
        "response": {m: getattr(follow_up.response, m) for m in ("csat", "nps", "ces")},
    }
    reasons = reasons_in_words(definition, answers, lang) or (follow_up.reasons,)
    return follow_up_message(body, reasons, comment(definition, answers), lang, overdue=True, tz=tz)


class OverdueAlerts:
    """Runs ``alert_overdue`` from the deliverer's loop at most once a minute."""

    def __init__(self, config: Mapping[str, Any], every: timedelta = WINDOW):
        self.config = config
        self.every = every
        self.next_run: datetime | None = None

    def tick(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        if self.next_run is not None and now < self.next_run:
            return 0
        self.next_run = now + self.every
        return alert_overdue(self.config, now)


# --- the admin's test message -----------------------------------------------------------------


def send_test(robot: Robot, config: Mapping[str, Any], now: datetime | None = None) -> None:
    """Put a test message for one robot into the outbox (an admin's button)."""
    now = now or utcnow()
    lang = language(config.get("DEFAULT_LOCALE") or "zh_CN")
    message = Message(
        lang.gettext("Test message from the feedback site"),
        ((lang.gettext("Robot"), _plain(robot.name, 100)),),
        lang.gettext("If you can read this, the team's alerts will arrive here."),
        lang.gettext("Open the site"),
        (config.get("BASE_URL") or "").rstrip("/") + "/",
    )
    with database.atomic():
        enqueue([robot.id], EVENT_TEST, message, now)
