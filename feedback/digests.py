"""Digest emails: a weekly or monthly email of a survey and slice to the person who asked for it.

A manager, an admin or a team lead (for the teams they lead) subscribes on /manage/digests/ to a
survey and the dashboard's slice filters (channel, team, agent, category). ``queue_due`` (the
``digests send`` command, for cron) finds the subscriptions whose last complete period (the week
Monday to Sunday, or the month, in the site's time zone) has not been sent, claims each period
with a conditional ``UPDATE digest_subscription SET last_period = <its first day> WHERE
last_period IS NULL OR last_period < <its first day>`` and, in the same transaction, writes an
outbox row of kind ``digest``: of two machines running the command at once, one changes the row
and queues the email, the other changes nothing; a second run in the same period finds nothing.

The outbox row holds the subscription's id and the period only (a few dozen bytes). The email
and the meeting pack are made when the row is sent (``_send_digest``), not when it is queued:
the pack (a few hundred KB of PDF) must not sit in the outbox table, and there is no shared disk
between machines to keep it on; the period is over, so the figures and the pack are the same
whenever they are made. The cost is that a retried delivery builds the pack again (about a
second), which is cheaper than storing it. The email gives the dashboard's headline figures
(``dashboard.tiles`` as the pack's cover words them: ``meeting_pack.headlines``), the overdue
follow-ups (``follow_ups.queue``) and overdue improvement actions (``actions.list_actions``) the
subscriber may see, and the pack attached, or linked (the dashboard's download, which needs a
login) when it is larger than ``DIGEST_ATTACH_MAX_BYTES``. It speaks the subscriber's language.

A subscriber who can no longer receive it (deactivated, no email address, no longer a lead of the
subscription's team) is skipped and the period stays unsent. A subscription removed after its
row was queued is not sent (the row counts as delivered: there is no one left to send it to).
Knows nothing of Flask: settings come as a mapping.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
import peewee as pw

from . import access, actions, dashboard, exports, follow_ups, mail, meeting_pack, outbox, reports
from .db import database, utcnow
from .i18n import Language, language, normalize_locale
from .models import DigestSubscription, Outbox, Survey, Team, User
from .names import N_
from .periods import periods
from .reports import Slice
from .surveys import current_version, definition_of
from .vocabulary import CHANNELS, DIGEST_FREQUENCIES, REPORT_ROLES

log = logging.getLogger(__name__)

KIND = "digest"  # the outbox rows' kind
LISTED = 20  # overdue follow-ups and actions named in an email; the rest are counted
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

FREQUENCY_NAMES = {"weekly": N_("Weekly"), "monthly": N_("Monthly")}


# --- periods ------------------------------------------------------------------------------------


def last_period(frequency: str, today: date) -> tuple[date, date]:
    """The last complete period before ``today``: the week Monday to Sunday, or the month."""
    if frequency == "weekly":
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if frequency == "monthly":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    raise ValueError(f"frequency must be one of {', '.join(DIGEST_FREQUENCIES)}, not {frequency!r}")


# --- subscribing --------------------------------------------------------------------------------


class SubscriptionError(ValueError):
    """A subscription that may not be made; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Choice:
    """What a subscription asks for."""

    survey_id: int
    frequency: str
    channel: str | None = None
    team_id: int | None = None
    agent: str | None = None
    category: str | None = None


def subscribe(user: User, choice: Choice, now: datetime | None = None) -> DigestSubscription:
    """A new subscription of ``user``; SubscriptionError when the role, the team or a value is
    not allowed, or the same one exists already."""
    if user.role not in REPORT_ROLES:
        raise SubscriptionError(N_("Only managers, admins and team leads get digests."))
    if choice.frequency not in DIGEST_FREQUENCIES:
        raise SubscriptionError(N_("Please choose one from the list."), "frequency")
    if choice.channel is not None and choice.channel not in CHANNELS:
        raise SubscriptionError(N_("Please choose one from the list."), "channel")
    if Survey.get_or_none(Survey.id == choice.survey_id) is None:
        raise SubscriptionError(N_("Please choose one from the list."), "survey")
    if choice.team_id is not None and (
        Team.get_or_none(Team.id == choice.team_id) is None
        or not access.may_see(access.report_team_ids(user), choice.team_id)
    ):
        raise SubscriptionError(N_("Please choose one from the list."), "team")
    same = DigestSubscription.select().where(
        DigestSubscription.user == user.id,
        DigestSubscription.survey == choice.survey_id,
        DigestSubscription.frequency == choice.frequency,
        *(
            column.is_null() if value is None else column == value
            for column, value in (
                (DigestSubscription.channel, choice.channel),
                (DigestSubscription.team, choice.team_id),
                (DigestSubscription.agent, choice.agent),
                (DigestSubscription.category, choice.category),
            )
        ),
    )
    if same.exists():
        raise SubscriptionError(N_("You already get this digest."))
    return DigestSubscription.create(
        user=user.id,
        survey=choice.survey_id,
        frequency=choice.frequency,
        channel=choice.channel,
        team=choice.team_id,
        agent=choice.agent,
        category=choice.category,
        created_at=now or utcnow(),
    )


def unsubscribe(user: User, subscription_id: int) -> DigestSubscription | None:
    """Remove one of ``user``'s own subscriptions; None when they have none of that id."""
    if not access.valid_id(subscription_id):
        return None
    found = DigestSubscription.get_or_none(
        DigestSubscription.id == subscription_id, DigestSubscription.user == user.id
    )
    if found is not None:
        found.delete_instance()
    return found


def subscriptions_of(user: User) -> list[DigestSubscription]:
    """The user's subscriptions with their survey and team, oldest first (one query)."""
    return list(
        DigestSubscription.select(DigestSubscription, Survey, Team)
        .join(Survey)
        .switch(DigestSubscription)
        .join(Team, pw.JOIN.LEFT_OUTER)
        .where(DigestSubscription.user == user.id)
        .order_by(DigestSubscription.id)
    )


def subscription_slice(subscription: DigestSubscription, start: date, end: date) -> Slice:
    """The slice the digest reports: the subscription's filters (stored as an action stores
    them), the period, and no more than the subscriber may see now (a lead: the teams they lead
    today)."""
    return replace(
        actions.action_slice(subscription, start, end),
        allowed_team_ids=access.report_team_ids(subscription.user),
    )


def describe(subscription: DigestSubscription, lang: Language) -> str:
    """The subscription's filters in words, as the pack's cover gives them (its team joined)."""
    names = {subscription.team_id: subscription.team.name} if subscription.team_id else {}
    return meeting_pack.filter_text(
        actions.action_slice(subscription, date.min, date.min), lang, names
    )


def may_receive(subscription: DigestSubscription) -> bool:
    """The subscriber is active, has an address, may read reports and still sees the team."""
    user = subscription.user
    return (
        user.active
        and bool(user.email)
        and user.role in REPORT_ROLES
        and (
            subscription.team_id is None
            or access.may_see(access.report_team_ids(user), subscription.team_id)
        )
    )


# --- queueing the due ones ----------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    queued: int = 0
    skipped: int = 0  # due, but the subscriber cannot receive it now


def local_today(config: Mapping[str, Any]) -> date:
    return periods(utcnow(), config["TIMEZONE"]).day


def _due(today: date) -> pw.Expression:
    """Subscriptions whose last complete period before ``today`` is not sent yet."""
    condition = None
    for frequency in DIGEST_FREQUENCIES:
        start, _end = last_period(frequency, today)
        part = (DigestSubscription.frequency == frequency) & (
            DigestSubscription.last_period.is_null() | (DigestSubscription.last_period < start)
        )
        condition = part if condition is None else condition | part
    return condition


def queue_due(
    config: Mapping[str, Any], today: date | None = None, now: datetime | None = None
) -> Queued:
    """Queue in the outbox the digest of every subscription due on ``today`` (default: the
    site's today), each period once: see the module's docstring."""
    today = today or local_today(config)
    now = now or utcnow()
    due = list(
        DigestSubscription.select(DigestSubscription, User)
        .join(User)
        .where(_due(today))
        .order_by(DigestSubscription.id)
    )
    queued = skipped = 0
    for subscription in due:
        if not may_receive(subscription):
            skipped += 1
            continue
        start, end = last_period(subscription.frequency, today)
        with database.atomic():
            claimed = (
                DigestSubscription.update(last_period=start)
                .where(
                    DigestSubscription.id == subscription.id,
                    DigestSubscription.last_period.is_null()
                    | (DigestSubscription.last_period < start),
                )
                .execute()
            )
            if claimed:
                outbox.enqueue(
                    KIND,
                    f"digest.{subscription.frequency}",
                    subscription.user.email,
                    {
                        "subscription": subscription.id,
                        "start": start.isoformat(),
                        "end": end.isoformat(),
                    },
                    now,
                )
        queued += bool(claimed)
    return Queued(queued, skipped)


def waiting() -> int:
    """Digest rows of the outbox due now and not delivered (what a deliverer would send)."""
    now = utcnow()
    return (
        Outbox.select()
        .where(
            Outbox.kind == KIND,
            Outbox.delivered_at.is_null(),
            Outbox.next_attempt_at.is_null(False),
            Outbox.next_attempt_at <= now,
        )
        .count()
    )


# --- the email ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str
    attachment: mail.Attachment | None  # the meeting pack, when small enough
    pack_url: str  # the pack's download (needs a login)
    pack_bytes: int


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=lambda name: not (name or "").endswith("_text.html"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_ENVIRONMENT = _environment()


def _local(moment: datetime, tz: str, lang: Language) -> str:
    at = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))
    return f"{lang.date(at.date())} {at:%H:%M}"


def _query(s: Slice, survey_slug: str, team_name: str | None) -> dict:
    """The dashboard's query string for the slice (web/filters.py reads it back)."""
    params = {
        "survey": survey_slug,
        "from": s.start.isoformat(),
        "to": s.end.isoformat(),
        "channel": s.channel,
        "team": team_name,
        "agent": s.agent,
        "category": s.category,
    }
    return {k: v for k, v in params.items() if v is not None}


def build_digest(
    subscription: DigestSubscription,
    start: date,
    end: date,
    config: Mapping[str, Any],
    now: datetime | None = None,
) -> Digest:
    """The email of one subscription for one period, in the subscriber's language, with the
    meeting pack attached or linked. Raises ValueError when its survey has no loaded version."""
    now = now or utcnow()
    tz, min_sample = config["TIMEZONE"], config["MIN_SAMPLE"]
    user, survey = subscription.user, subscription.survey
    lang = language(normalize_locale(user.locale) or config["DEFAULT_LOCALE"])
    version = current_version(survey.slug)
    if version is None:
        raise ValueError(f"survey {survey.slug!r} has no loaded version")
    definition = definition_of(version)
    s = subscription_slice(subscription, start, end)
    team_ids = access.report_team_ids(user)
    names = reports.team_names({s.team_id, *(s.allowed_team_ids or ())})
    headlines = meeting_pack.headlines(dashboard.tiles(s, min_sample), lang)
    previous = s.previous()

    late_follow_ups = [
        f
        for f in follow_ups.queue(team_ids, s.team_id, "active", s.survey_id, limit=LISTED)
        if follow_ups.is_overdue(f, now)
    ]
    late_count = follow_ups.queue_counts(team_ids, s.team_id, "active", s.survey_id, now)["overdue"]
    today = periods(now, tz).day
    late_actions = [
        listed
        for listed in actions.list_actions(user, today, team_id=s.team_id, overdue=True)
        if listed.action.survey_id == s.survey_id
    ]

    made = now.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))
    pdf = meeting_pack.build_pack(s, survey.slug, definition, lang, min_sample, tz, made=made)
    base = (config.get("BASE_URL") or "").rstrip("/")
    query = urlencode(_query(s, survey.slug, names.get(s.team_id)))
    pack_url = f"{base}/manage/meeting-pack.pdf?{query}"
    limit = int(config.get("DIGEST_ATTACH_MAX_BYTES") or 0)
    attachment = None
    if len(pdf) <= limit:
        name = exports.export_name("meeting-pack", s, survey.slug, "pdf", now=made)
        attachment = (name, pdf, "application/pdf")

    frequency = lang.gettext(FREQUENCY_NAMES[subscription.frequency])
    period = lang.interval(s.start, s.end)
    subject = lang.gettext(
        "%(frequency)s digest: %(survey)s, %(period)s",
        frequency=frequency,
        survey=survey.slug,
        period=period,
    )
    context = {
        "_": lang.gettext,
        "subject": subject,
        "name": user.display_name or user.username,
        "survey": survey.slug,
        "period": period,
        "previous": lang.interval(previous.start, previous.end),
        "filters": meeting_pack.filter_text(s, lang, names),
        "headlines": headlines,
        "follow_ups": [
            {
                "number": f.id,
                "case": f.case.case_ref,
                "team": f.team.name if f.team_id else "–",
                "due": _local(f.due_at, tz, lang),
                "url": f"{base}/manage/follow-ups/{f.id}",
            }
            for f in late_follow_ups
        ],
        "follow_ups_more": lang.ngettext(
            "%(num)s overdue follow-up in all", "%(num)s overdue follow-ups in all", late_count
        ),
        "actions": [
            {
                "title": listed.action.title,
                "owner": listed.action.owner.display_name,
                "team": listed.action.team.name if listed.action.team_id else "–",
                "due": lang.date(listed.action.due_date),
                "url": f"{base}/manage/actions/{listed.action.id}",
            }
            for listed in late_actions[:LISTED]
        ],
        "actions_more": lang.ngettext(
            "%(num)s overdue improvement action in all",
            "%(num)s overdue improvement actions in all",
            len(late_actions),
        ),
        "attached": attachment is not None,
        "pack_url": pack_url,
        "pack_size": lang.number(round(len(pdf) / 1024)),
        "dashboard_url": f"{base}/manage/?{query}",
        "digests_url": f"{base}/manage/digests/",
    }
    return Digest(
        subject=subject,
        text=_ENVIRONMENT.get_template("mail/digest_text.html").render(context),
        html=_ENVIRONMENT.get_template("mail/digest.html").render(context),
        attachment=attachment,
        pack_url=pack_url,
        pack_bytes=len(pdf),
    )


@outbox.sender(KIND)
def _send_digest(row, config: Mapping[str, Any]) -> None:
    """Make the digest of the row's subscription and period, and mail it to the row's target."""
    payload = json.loads(row.payload)
    subscription = (
        DigestSubscription.select(DigestSubscription, User, Survey)
        .join(User)
        .switch(DigestSubscription)
        .join(Survey)
        .where(DigestSubscription.id == payload["subscription"])
        .first()
    )
    if subscription is None:
        log.info("digest of subscription %s: removed since it was queued", payload["subscription"])
        return
    digest = build_digest(
        subscription,
        date.fromisoformat(payload["start"]),
        date.fromisoformat(payload["end"]),
        config,
    )
    mail.send_mail(
        config,
        row.target,
        digest.subject,
        digest.text,
        html=digest.html,
        attachments=[digest.attachment] if digest.attachment else None,
    )
