"""The suggestion box: taking suggestions in, tracking codes, answering them, and their figures.

Knows nothing of Flask: callers pass the config mapping and the acting user. Anonymous means
anonymous: an anonymous suggestion is stored with no name, email or account, and this module is
never given an address, an agent string or a cookie, for anyone.

A submitter follows their suggestion with a tracking code: 12 characters from an alphabet
without look-alikes (no 0/O, 1/I/L), shown once in groups of four and stored only as its
SHA-256. 31^12 is about 8 x 10^17 codes, so guessing one of even a million stored codes takes
about 4 x 10^11 tries on average, and tries are rate-limited.
"""

from __future__ import annotations

import hashlib
import secrets
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import peewee as pw
from peewee import fn

from . import access, mail, outbox, robots, stats
from .db import database, utcnow
from .i18n import language
from .models import (
    Suggestion,
    SuggestionCategory,
    SuggestionEvent,
    Team,
    User,
)
from .periods import periods
from .vocabulary import (
    SUGGESTION_BOXES,
    SUGGESTION_CLOSED_STATES,
    SUGGESTION_OPEN_STATES,
    SUGGESTION_STATES,
)
from .workdays import WorkingTime

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
TITLE_MAX = 120
BODY_MAX = 4000
COMMENT_MAX = 2000
NAME_MAX = 100

DEFAULT_CATEGORIES = (
    ("service", "服务质量", "Service quality"),
    ("product", "产品质量", "Product quality"),
    ("billing", "账单与收费", "Billing"),
    ("process", "流程", "Process"),
    ("workplace", "工作环境", "Workplace"),
    ("other", "其他", "Other"),
)


def N_(text: str) -> str:
    """Marks a message for translation; the view shows it in the reader's language."""
    return text


class SuggestionError(ValueError):
    """Bad input, with the name of the form field it belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# --- tracking codes ---------------------------------------------------------------------------


def new_code() -> str:
    """A fresh tracking code, in groups of four: 'K7QM-2XHD-9PWA'."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(text: str) -> str:
    """What a person typed, without spaces or dashes, in capitals."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())[:64]


def code_hash(text: str) -> str:
    return hashlib.sha256(normalise_code(text).encode()).hexdigest()


def find_by_code(text: str) -> Suggestion | None:
    """The suggestion a code belongs to. Every input, well-formed or not, costs one hash and
    one indexed lookup, so a wrong code and an unknown one take the same path."""
    return Suggestion.get_or_none(Suggestion.tracking_hash == code_hash(text))


# --- categories -------------------------------------------------------------------------------


def ensure_default_categories() -> None:
    """Give a new site the default categories (once: an admin may change them afterwards)."""
    with database.atomic():
        if SuggestionCategory.select().exists():
            return
        # Workers starting together on a new site all find the table empty: the first insert
        # wins, the others' rows are skipped instead of failing the worker's start.
        SuggestionCategory.insert_many(
            [
                {"slug": slug, "name_zh": zh, "name_en": en, "position": number, "active": True}
                for number, (slug, zh, en) in enumerate(DEFAULT_CATEGORIES, 1)
            ]
        ).on_conflict_ignore().execute()


def categories(active_only: bool = True) -> list[SuggestionCategory]:
    query = SuggestionCategory.select().order_by(SuggestionCategory.position, SuggestionCategory.id)
    if active_only:
        query = query.where(SuggestionCategory.active == True)  # noqa: E712
    return list(query)


# --- taking suggestions in --------------------------------------------------------------------


def to_the_hour(moment: datetime) -> datetime:
    """A time without its minutes, seconds and microseconds: what an anonymous sender's doing
    is stored with, so that it cannot be lined up with a proxy's access log (times to the
    second) to find who sent it."""
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class NewSuggestion:
    box: str
    category_id: int
    title: str
    body: str
    anonymous: bool
    locale: str
    name: str | None = None
    email: str | None = None
    user_id: int | None = None  # a named staff member's account
    team_id: int | None = None  # the team it concerns, when the submitter says


def submit(
    new: NewSuggestion, config: Mapping[str, Any], now: datetime | None = None
) -> tuple[Suggestion, str]:
    """Store a suggestion; return it and its tracking code (the only time the code exists).
    ``now`` (naive UTC) is for loading past data; it defaults to the present."""
    if new.box not in SUGGESTION_BOXES:
        raise SuggestionError("box", f"unknown box {new.box!r}")
    category = SuggestionCategory.get_or_none(
        (SuggestionCategory.id == new.category_id) & (SuggestionCategory.active == True)
    )  # noqa: E712
    if category is None:
        raise SuggestionError("category", N_("Choose a category."))
    title, body = (new.title or "").strip(), (new.body or "").strip()
    if not title:
        raise SuggestionError("title", N_("Give your suggestion a short title."))
    if not body:
        raise SuggestionError("body", N_("Write your suggestion."))
    if len(title) > TITLE_MAX or len(body) > BODY_MAX:
        raise SuggestionError("body" if len(body) > BODY_MAX else "title", N_("Too long."))
    now = now or utcnow()
    if new.anonymous:
        identity = {"name": None, "email": None, "user": None}
        now = to_the_hour(now)  # and so are the due time, the day and the month made from it
    else:
        identity = {
            "name": (new.name or "").strip() or None,
            "email": (new.email or "").strip() or None,
            "user": new.user_id,
        }
    due = WorkingTime.from_config(config).add(now, config["SUGGESTION_REPLY_DAYS"])
    local = periods(now, config["TIMEZONE"])
    robot_ids = robots.team_robot_ids(new.team_id)
    for _attempt in range(3):  # a clash of two random codes is all but impossible
        code = new_code()
        try:
            with database.atomic():
                suggestion = Suggestion.create(
                    box=new.box,
                    category=category,
                    title=title,
                    body=body,
                    anonymous=new.anonymous,
                    locale=new.locale,
                    tracking_hash=code_hash(code),
                    status="new",
                    team=new.team_id,
                    public=False,
                    created_at=now,
                    reply_due_at=due,
                    updated_at=now,
                    day=local.day,
                    month=local.month,
                    **identity,
                )
                _announce(suggestion, category, config, robot_ids, now)
            return suggestion, code
        except pw.IntegrityError:
            continue
    raise RuntimeError("could not make a unique tracking code")


EVENT_CREATED = "suggestion.created"


def payload(suggestion: Suggestion, category: SuggestionCategory, base_url: str) -> dict:
    """The JSON a webhook receives for each new suggestion (see the README). An anonymous one
    carries nothing about its sender: no name, address, account or language, and its time to
    the hour, as stored."""
    named = not suggestion.anonymous and (suggestion.name or suggestion.email)
    return {
        "event": EVENT_CREATED,
        "suggestion": {
            "id": suggestion.id,
            "box": suggestion.box,
            "category": category.slug,
            "title": suggestion.title,
            "body": suggestion.body,
            "anonymous": suggestion.anonymous,
            "team": suggestion.team.name if suggestion.team_id else None,
            "status": suggestion.status,
            "created_at": suggestion.created_at.isoformat() + "Z",
            "reply_due_at": suggestion.reply_due_at.isoformat() + "Z",
            "url": f"{base_url}/manage/suggestions/{suggestion.id}",
        },
        "submitter": ({"name": suggestion.name, "email": suggestion.email} if named else None),
    }


def _announce(
    suggestion: Suggestion,
    category: SuggestionCategory,
    config: Mapping[str, Any],
    robot_ids: tuple[int, ...],
    now: datetime,
) -> None:
    """The new suggestion's webhook and its team's chat alerts, in its transaction. An
    anonymous one's go out at the next full hour, with the others of its hour: sent at once,
    their time would line up with a proxy's access log as an exact stored time would."""
    due = to_the_hour(now) + timedelta(hours=1) if suggestion.anonymous else now
    base_url = (config.get("BASE_URL") or "").rstrip("/")
    webhook = config.get("WEBHOOK_URL") or ""
    if webhook and EVENT_CREATED in (config.get("WEBHOOK_EVENTS") or ()):
        body = payload(suggestion, category, base_url)
        outbox.enqueue("webhook", EVENT_CREATED, webhook, body, now, due=due)
    if robot_ids:
        lang = language(config.get("DEFAULT_LOCALE") or "zh_CN")
        message = robots.suggestion_message(
            suggestion.id,
            suggestion.box,
            category.name_en if lang.code == "en" else category.name_zh,
            suggestion.title,
            suggestion.body,
            suggestion.anonymous,
            base_url,
            lang,
        )
        robots.enqueue(robot_ids, robots.EVENT_SUGGESTION, message, now, due=due)


# --- following and answering ------------------------------------------------------------------


def followed(suggestion: Suggestion) -> Suggestion:
    """The suggestion whose status the submitter follows: itself, or the one it was merged into."""
    seen = {suggestion.id}
    while suggestion.status == "duplicate" and suggestion.merged_into_id:
        target = Suggestion.get_or_none(Suggestion.id == suggestion.merged_into_id)
        if target is None or target.id in seen:
            break
        seen.add(target.id)
        suggestion = target
    return suggestion


def public_history(suggestion: Suggestion) -> list[SuggestionEvent]:
    """What the submitter may see: status changes, public replies and their own comments,
    oldest first; never an internal note or who on the staff wrote what."""
    return list(
        SuggestionEvent.select(
            SuggestionEvent.id,
            SuggestionEvent.suggestion,
            SuggestionEvent.by_submitter,
            SuggestionEvent.from_status,
            SuggestionEvent.to_status,
            SuggestionEvent.public_text,
            SuggestionEvent.created_at,
        )
        .where(
            (SuggestionEvent.suggestion == suggestion)
            & (
                (SuggestionEvent.public_text.is_null(False))
                | (SuggestionEvent.to_status.is_null(False))
            )
        )
        .order_by(SuggestionEvent.id)
    )


def full_history(suggestion: Suggestion) -> list[SuggestionEvent]:
    """Everything, internal notes and authors included, for the staff."""
    return list(
        SuggestionEvent.select(SuggestionEvent, User)
        .join(User, pw.JOIN.LEFT_OUTER, on=(SuggestionEvent.author == User.id))
        .where(SuggestionEvent.suggestion == suggestion)
        .order_by(SuggestionEvent.id)
    )


def add_submitter_comment(suggestion: Suggestion, text: str) -> SuggestionEvent:
    """A further comment from the submitter (who may be anonymous: nothing about them is kept)."""
    text = (text or "").strip()
    if not text:
        raise SuggestionError("comment", N_("Write your comment."))
    if len(text) > COMMENT_MAX:
        raise SuggestionError("comment", N_("Too long."))
    now = utcnow()
    if suggestion.anonymous:  # to the hour, as the suggestion itself
        now = to_the_hour(now)
    with database.atomic():
        event = SuggestionEvent.create(
            suggestion=suggestion, by_submitter=True, public_text=text, created_at=now
        )
        # never back in time: the charts' cache key is the latest change
        Suggestion.update(updated_at=max(now, suggestion.updated_at or now)).where(
            Suggestion.id == suggestion.id
        ).execute()
    return event


@dataclass(frozen=True)
class Change:
    status: str
    public_text: str | None = None
    internal_note: str | None = None
    owner_id: int | None = None
    team_id: int | None = None
    public: bool = False
    merged_into_id: int | None = None


EVENT_REPLY = "suggestion.reply"


def notifies(suggestion: Suggestion, event: SuggestionEvent, config: Mapping[str, Any]) -> bool:
    """Whether a change emails the submitter: they gave an address, email is set up, and the
    status changed or there is a public reply."""
    return bool(
        suggestion.email and mail.enabled(config) and (event.to_status or event.public_text)
    )


def change(
    suggestion: Suggestion,
    actor: User,
    new: Change,
    config: Mapping[str, Any],
    now: datetime | None = None,
    email: tuple[str, str] | None = None,
    visible_team_ids: tuple[int, ...] | None = None,
) -> SuggestionEvent | None:
    """Apply a staff member's change: status, public reply, internal note, owner, team, whether
    it is shown on the "you said, we did" page. Returns the event recorded (None when nothing
    changed). A decline needs a public reply; a duplicate needs the suggestion it joins.

    ``email`` is the (subject, body) telling the submitter, in their language: when they gave
    an address, email is set up, and the status changed or a public reply was written, it goes
    into the outbox in the same transaction (delivered with retries, never in this request).

    ``visible_team_ids`` (a team lead's teams; None: every team) limits the suggestions a
    duplicate may join: another team's is refused as one that does not exist, so that its
    number reveals nothing (its merged_into as it stands may be kept)."""
    if new.status not in SUGGESTION_STATES:
        raise SuggestionError("status", N_("Choose a status."))
    public_text = (new.public_text or "").strip() or None
    note = (new.internal_note or "").strip() or None
    if public_text and len(public_text) > COMMENT_MAX:
        raise SuggestionError("public_text", N_("Too long."))
    if note and len(note) > COMMENT_MAX:
        raise SuggestionError("internal_note", N_("Too long."))
    status_changed = new.status != suggestion.status
    if new.status == "declined" and status_changed and not public_text:
        raise SuggestionError("public_text", N_("Say why, in a public reply, when you decline."))
    merged_into_id = None
    if new.status == "duplicate":
        if not new.merged_into_id:
            raise SuggestionError(
                "merged_into", N_("Give the number of the suggestion it repeats.")
            )
        target = (
            Suggestion.get_or_none(Suggestion.id == new.merged_into_id)
            if access.valid_id(new.merged_into_id)
            else None
        )
        if (
            target is not None
            and target.id != suggestion.merged_into_id
            and not access.may_see(visible_team_ids, target.team_id)
        ):
            target = None
        if target is None:
            raise SuggestionError("merged_into", N_("There is no suggestion with that number."))
        if followed(target).id == suggestion.id:
            raise SuggestionError("merged_into", N_("A suggestion cannot repeat itself."))
        merged_into_id = target.id
    owner_changed = new.owner_id != suggestion.owner_id
    fields_changed = (
        owner_changed
        or new.team_id != suggestion.team_id
        or new.public != suggestion.public
        or merged_into_id != suggestion.merged_into_id
    )
    if not (status_changed or public_text or note or fields_changed):
        return None
    now = now or utcnow()
    updates: dict = {
        "status": new.status,
        "owner": new.owner_id,
        "team": new.team_id,
        "public": new.public,
        "merged_into": merged_into_id,
        "updated_at": now,
    }
    if new.status == "done" and suggestion.status != "done":
        updates["done_at"] = now
    elif new.status != "done":
        updates["done_at"] = None
    if public_text and suggestion.first_reply_at is None:
        updates["first_reply_at"] = now
        updates["first_reply_days"] = WorkingTime.from_config(config).between(
            suggestion.created_at, now
        )
    with database.atomic():
        Suggestion.update(**updates).where(Suggestion.id == suggestion.id).execute()
        event = SuggestionEvent.create(
            suggestion=suggestion,
            author=actor,
            by_submitter=False,
            from_status=suggestion.status if status_changed else None,
            to_status=new.status if status_changed else None,
            public_text=public_text,
            internal_note=note,
            created_at=now,
        )
        if email and notifies(suggestion, event, config):
            outbox.enqueue(
                "email",
                EVENT_REPLY,
                suggestion.email,
                {"subject": email[0], "body": email[1], "suggestion": suggestion.id},
                now,
            )
    for key, value in updates.items():
        setattr(suggestion, key, value)
    return event


def is_overdue(suggestion: Suggestion, now: datetime | None = None) -> bool:
    """No public reply yet, and the response-time goal has passed."""
    return (
        suggestion.first_reply_at is None
        and suggestion.status not in SUGGESTION_CLOSED_STATES
        and suggestion.reply_due_at < (now or utcnow())
    )


# --- the triage list --------------------------------------------------------------------------


@dataclass(frozen=True)
class Triage:
    """Which suggestions a triage list shows."""

    box: str | None = None
    status: str | None = None  # a status, "open" for the four open ones, or "overdue"
    category_id: int | None = None
    start: date | None = None  # local dates, inclusive
    end: date | None = None
    oldest_first: bool = False
    team_id: int | None = None
    allowed_team_ids: tuple[int, ...] | None = None  # a team lead: their teams' items only


def _base_conditions(t: Triage) -> list:
    conditions = []
    if t.box:
        conditions.append(Suggestion.box == t.box)
    if t.category_id:
        conditions.append(Suggestion.category == t.category_id)
    if t.start:
        conditions.append(Suggestion.day >= t.start)
    if t.end:
        conditions.append(Suggestion.day <= t.end)
    if t.team_id:
        conditions.append(Suggestion.team == t.team_id)
    if t.allowed_team_ids is not None:
        conditions.append(Suggestion.team.in_(list(t.allowed_team_ids) or [-1]))
    return conditions


def _overdue(now: datetime | None = None):
    return (
        (Suggestion.first_reply_at.is_null())
        & (Suggestion.status.in_(SUGGESTION_OPEN_STATES))
        & (Suggestion.reply_due_at < (now or utcnow()))
    )


def _status_conditions(t: Triage, now: datetime | None = None) -> list:
    if t.status == "open":
        return [Suggestion.status.in_(SUGGESTION_OPEN_STATES)]
    if t.status == "overdue":
        return [_overdue(now)]
    return [Suggestion.status == t.status] if t.status else []


def _where(conditions: list):
    return pw.reduce(lambda a, b: a & b, conditions) if conditions else pw.SQL("1 = 1")


def triage_list(
    t: Triage, limit: int = 50, offset: int = 0, now: datetime | None = None
) -> list[Suggestion]:
    conditions = _base_conditions(t) + _status_conditions(t, now)
    order = Suggestion.created_at.asc() if t.oldest_first else Suggestion.created_at.desc()
    return list(
        Suggestion.select(Suggestion, SuggestionCategory)
        .join(SuggestionCategory)
        .where(_where(conditions))
        .order_by(order, Suggestion.id.asc() if t.oldest_first else Suggestion.id.desc())
        .limit(limit)
        .offset(offset)
    )


def status_counts(t: Triage, now: datetime | None = None) -> dict[str, int]:
    """Suggestions per status under the list's other filters, plus "open" and "overdue"."""
    where = _where(_base_conditions(t))
    overdue = _overdue(now)
    counts = {state: 0 for state in SUGGESTION_STATES}
    overdue_count = 0
    for row in (
        Suggestion.select(
            Suggestion.status,
            fn.COUNT(Suggestion.id).alias("n"),
            fn.SUM(pw.Case(None, [(overdue, 1)], 0)).alias("late"),
        )
        .where(where)
        .group_by(Suggestion.status)
        .dicts()
    ):
        counts[row["status"]] = row["n"]
        overdue_count += int(row["late"] or 0)
    counts["open"] = sum(counts[s] for s in SUGGESTION_OPEN_STATES)
    counts["overdue"] = overdue_count
    counts["all"] = sum(counts[s] for s in SUGGESTION_STATES)
    return counts


# --- figures ----------------------------------------------------------------------------------


def by_category_and_month(t: Triage) -> list[dict]:
    """Suggestions per month and category: one GROUP BY (duplicates count: people sent them)."""
    return list(
        Suggestion.select(
            Suggestion.month,
            Suggestion.category.alias("category_id"),
            fn.COUNT(Suggestion.id).alias("n"),
        )
        .where(_where(_base_conditions(t)))
        .group_by(Suggestion.month, Suggestion.category)
        .order_by(Suggestion.month, Suggestion.category)
        .dicts()
    )


def figures(t: Triage, now: datetime | None = None) -> dict:
    """The suggestion box's figures for a period and box.

    Counted over the suggestions that came in during the period, duplicates left out (they
    follow another one):
      - received: how many;
      - answered: share with a public reply, Wilson 95% interval;
      - done: share marked done;
      - reply time: median working days to the first public reply (answered ones);
      - within goal: share answered by the response-time goal, among those answered or
        already past it (one still inside its time cannot fail yet).
    """
    now = now or utcnow()
    where = _where(_base_conditions(t) + [Suggestion.status != "duplicate"])
    answered = Suggestion.first_reply_at.is_null(False)
    judged = answered | (Suggestion.reply_due_at < now)
    in_time = answered & (Suggestion.first_reply_at <= Suggestion.reply_due_at)

    def count_if(condition):
        return fn.SUM(pw.Case(None, [(condition, 1)], 0))

    row = (
        Suggestion.select(
            fn.COUNT(Suggestion.id).alias("received"),
            count_if(answered).alias("answered"),
            count_if(Suggestion.status == "done").alias("done"),
            count_if(judged).alias("judged"),
            count_if(in_time).alias("in_time"),
        )
        .where(where)
        .dicts()
        .get()
    )
    received = row["received"] or 0
    days = [
        r[0]
        for r in Suggestion.select(Suggestion.first_reply_days).where(where & answered).tuples()
    ]

    def share(x, n):
        x, n = int(x or 0), int(n or 0)
        return stats.proportion(x, n).to_dict() if n else None

    return {
        "received": received,
        "answered": share(row["answered"], received),
        "done": share(row["done"], received),
        "within_goal": share(row["in_time"], row["judged"]),
        "reply_days_median": statistics.median(days) if days else None,
        "replied": len(days),
    }


def data_stamp() -> tuple:
    """Changes whenever a suggestion comes in or changes: a cache key for its charts."""
    row = Suggestion.select(fn.COUNT(Suggestion.id), fn.MAX(Suggestion.updated_at)).tuples().get()
    return ("suggestions", *row)


def export_query(t: Triage):
    """Rows for the CSV export (dicts), oldest first, read in batches by the cursor."""
    owner = User.alias()
    return (
        Suggestion.select(
            Suggestion.id,
            Suggestion.box,
            SuggestionCategory.slug.alias("category"),
            Suggestion.title,
            Suggestion.body,
            Suggestion.status,
            Suggestion.anonymous,
            Suggestion.name,
            Suggestion.email,
            Team.name.alias("team"),
            owner.display_name.alias("owner"),
            Suggestion.created_at,
            Suggestion.reply_due_at,
            Suggestion.first_reply_at,
            Suggestion.first_reply_days,
            Suggestion.done_at,
            Suggestion.merged_into.alias("merged_into_id"),
            Suggestion.public,
        )
        .join(SuggestionCategory, on=(Suggestion.category == SuggestionCategory.id))
        .switch(Suggestion)
        .join(Team, pw.JOIN.LEFT_OUTER, on=(Suggestion.team == Team.id))
        .switch(Suggestion)
        .join(owner, pw.JOIN.LEFT_OUTER, on=(Suggestion.owner == owner.id))
        .where(_where(_base_conditions(t) + _status_conditions(t)))
        .order_by(Suggestion.created_at, Suggestion.id)
        .dicts()
        .iterator()
    )
