"""Invitations sent by the site: the email or text message, its reminders, and customers who opt
out.

When the site sends (``SEND_INVITATIONS``, or the survey file's ``send_invitations``), the case's
registration writes, in its own transaction, one outbox row of kind ``invitation`` for the
invitation (due now) and one per reminder (due ``REMINDER_HOURS`` apart after it), on one
channel: email when the customer has an address; else a text message (SMS) when SMS is on
(``sms.enabled``) and the phone can receive texts (``sms.sms_number``); else none (the helpdesk
keeps the link). The rows hold only the invitation's id, which message they are and the
channel: the message is composed when it is sent, in the customer's language (the email from
``templates/mail/``, plain text and HTML; the text from the catalogue, with the short link
``/r/<code>``), so a reminder can be refused at that moment — answered, expired, withdrawn, opted
out, contact erased — and is then settled as not sent (``outbox.NotSent``), never failed or
retried.

Every email carries a one-click unsubscribe (RFC 8058: ``List-Unsubscribe`` with an https link
and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``). The link names the invitation and
an HMAC of the customer's address with the secret key, so nobody can opt out someone else; the
opt-out is stored as the SHA-256 of the lower-cased address (it outlives the erased contact, and
a new secret key keeps it), and the throttle refuses that customer every later invitation. A
text cannot carry such a link: an admin records a phone's opt-out (``opt_out_phone``), kept as
the SHA-256 of the number in E.164 form, which the throttle honours the same way.

Links in the email never store an answer: a one-click answer link only pre-selects it on the
survey page (``/s/<token>?csat=5``), because mail scanners open every link. Knows nothing of
Flask: settings come as a mapping.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import smtplib
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2

from . import mail, outbox, sms
from .cache import Cache
from .db import database, utcnow
from .definitions import SurveyDefinition
from .i18n import Language, language
from .models import Case, Invitation, OptOut, Outbox, Survey
from .names import N_
from .surveys import current_version, definition_of
from .vocabulary import REPORTED_STATES

KIND = "invitation"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"


# --- who opted out ------------------------------------------------------------------------------


def email_hash(email: str) -> str:
    """How an opted-out address is stored: the SHA-256 of it, lower-cased."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def unsubscribe_signature(secret: str, email: str) -> str:
    """The part of an unsubscribe link only we can make: an HMAC of the address (128 bits)."""
    key = secret.encode("utf-8")
    message = b"unsubscribe:" + email.strip().lower().encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def signature_matches(secret: str, email: str | None, signature: str) -> bool:
    if not email or not signature.isascii():
        return False
    return hmac.compare_digest(unsubscribe_signature(secret, email), signature)


def opted_out(email: str | None) -> bool:
    return bool(email) and OptOut.select().where(OptOut.email_hash == email_hash(email)).exists()


def opt_out(email: str, now: datetime | None = None) -> bool:
    """Record that this customer wants no more survey emails; False when already recorded."""
    return _record_opt_out(email_hash(email), now)


def phone_hash(phone: str | None) -> str | None:
    """How an opted-out phone is stored: the SHA-256 of its E.164 form (``+8613800138000``), so
    ``138 0013 8000`` and ``+86 13800138000`` are one number; None for no number."""
    number = sms.phone_number(phone) if phone else None
    return hashlib.sha256(number.encode("ascii")).hexdigest() if number else None


def phone_opted_out(phone: str | None) -> bool:
    digest = phone_hash(phone)
    return bool(digest) and OptOut.select().where(OptOut.email_hash == digest).exists()


def opt_out_phone(phone: str, now: datetime | None = None) -> bool:
    """Record that the customer of this number wants no more surveys (they asked by phone or
    answered a text: the provider does not tell us); False when already recorded."""
    digest = phone_hash(phone)
    if digest is None:
        raise ValueError("not a phone number")
    return _record_opt_out(digest, now)


def _record_opt_out(digest: str, now: datetime | None) -> bool:
    # Looked up first: what an INSERT that was ignored returns differs between the databases
    # (SQLite's driver repeats the last row id of the connection).
    if OptOut.select().where(OptOut.email_hash == digest).exists():
        return False
    OptOut.insert(email_hash=digest, created_at=now or utcnow()).on_conflict_ignore().execute()
    return True


def customer_opted_out(email: str | None, phone: str | None) -> bool:
    """Whether the customer opted out by either of these: an address or a number."""
    return opted_out(email) or phone_opted_out(phone)


# --- queueing, with the invitation --------------------------------------------------------------


@dataclass(frozen=True)
class Sending:
    """Whether the site sends invitations, the reminders' rhythm, and whether it may text."""

    send_invitations: bool = False
    reminder_hours: float = 72.0
    reminders: int = 1
    sms: bool = False  # an SMS provider is configured

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Sending:
        return cls(
            bool(config.get("SEND_INVITATIONS")),
            float(config.get("REMINDER_HOURS") or 72),
            int(config.get("REMINDERS") if config.get("REMINDERS") is not None else 1),
            sms.enabled(config),
        )


def site_sends(definition: SurveyDefinition, sending: Sending) -> bool:
    """The survey file's ``send_invitations`` when it has one, else the site's setting."""
    if definition.send_invitations is not None:
        return definition.send_invitations
    return sending.send_invitations


def target_of(invitation_id: int) -> str:
    """The outbox target of an invitation's messages. Not the address or number (the message is
    composed when sent) and not a bare number, which a customer id could equal (erasure matches
    targets)."""
    return f"invitation:{invitation_id}"


def channel_for(case: Case, sending: Sending) -> str | None:
    """How the site can reach this customer: email when they have an address, else sms when SMS
    is on and the phone can receive texts, else None."""
    if case.customer_email:
        return "email"
    if sending.sms and case.customer_phone and sms.sms_number(case.customer_phone):
        return "sms"
    return None


# The outbox events of an invitation's messages, by channel: (the invitation, a reminder).
EVENTS = {
    "email": ("invitation.email", "invitation.reminder"),
    "sms": ("invitation.sms", "invitation.sms_reminder"),
}


def schedule(invitation: Invitation, case: Case, sending: Sending, now: datetime) -> bool:
    """Queue the invitation (email or text) and its reminders, when the site sends to this
    customer.

    Call inside the transaction that creates the invitation. True when queued."""
    channel = channel_for(case, sending)
    if channel is None:
        return False
    version = current_version(case.survey.slug)
    if version is None or not site_sends(definition_of(version), sending):
        return False
    changes = {"delivery": "queued", "channel": channel}
    if channel == "sms":
        changes["short_code"] = new_short_code()  # unique: a clash rolls the registration back
    Invitation.update(**changes).where(Invitation.id == invitation.id).execute()
    for name, value in changes.items():
        setattr(invitation, name, value)
    target = target_of(invitation.id)
    first, later = EVENTS[channel]
    marks = {"channel": channel} if channel != "email" else {}  # an email row as it always was
    outbox.enqueue(KIND, first, target, {"invitation": invitation.id, **marks}, now)
    for number in range(1, sending.reminders + 1):
        outbox.enqueue(
            KIND,
            later,
            target,
            {"invitation": invitation.id, "reminder": number, **marks},
            now,
            due=now + timedelta(hours=sending.reminder_hours * number),
        )
    return True


# --- the short link of a text -------------------------------------------------------------------

SHORT_CODE_ALPHABET = string.ascii_letters + string.digits  # base62: no character to escape
SHORT_CODE_LENGTH = 10  # 62^10 > 8 * 10^17; wrong guesses are rate-limited too
SHORT_CODE = re.compile(rf"[A-Za-z0-9]{{{SHORT_CODE_LENGTH}}}")


def new_short_code() -> str:
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def short_url(base_url: str, code: str) -> str:
    """The link a text carries: ``BASE_URL/r/<code>``, which redirects to the survey."""
    return f"{base_url.rstrip('/')}/r/{code}"


def sms_text(config: Mapping[str, Any], lang: Language, code: str, reminder: int = 0) -> str:
    """What the SMS template's variable receives (SMS_TEMPLATE_VALUE): the short link (link), a
    sentence with it in ``lang`` (text), or the code alone (code: the template holds
    ``https://<host>/r/${code}``). Short, so the whole text stays one segment (70 characters
    in Chinese) with the template's words and the signature."""
    value = config.get("SMS_TEMPLATE_VALUE") or "link"
    if value == "code":
        return code
    link = short_url(config["BASE_URL"], code)
    if value == "link":
        return link
    if reminder:
        return lang.gettext(N_("Reminder: how did we do? %(link)s"), link=link)
    return lang.gettext(N_("How did we do? %(link)s"), link=link)


# --- composing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


_ENVIRONMENTS: Cache[str, jinja2.Environment] = Cache(4)


def _environment(lang: Language) -> jinja2.Environment:
    """The mail templates' Jinja environment for one language (HTML escaped, text not)."""

    def make() -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=jinja2.select_autoescape(["html"]),
            extensions=["jinja2.ext.i18n"],
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        env.install_gettext_callables(lang.gettext, lang.ngettext, newstyle=True)
        return env

    return _ENVIRONMENTS.get_or_make(lang.code, make)


def survey_url(base_url: str, token: str, **answers: Any) -> str:
    """The survey link; ``answers`` only pre-select (``?csat=5``), nothing is stored by a GET."""
    url = f"{base_url.rstrip('/')}/s/{token}"
    return f"{url}?{urlencode(answers)}" if answers else url


def unsubscribe_url(base_url: str, secret: str, token: str, email: str) -> str:
    return f"{base_url.rstrip('/')}/unsubscribe/{token}/{unsubscribe_signature(secret, email)}"


def one_click_links(definition: SurveyDefinition, locale: str, base_url: str, token: str):
    """(label, link) for each answer of the first question, when the survey offers them."""
    if not definition.one_click:
        return []
    question = definition.questions[0]
    if question.choices:
        return [
            (c.label.get(locale), survey_url(base_url, token, **{question.id: c.value}))
            for c in question.choices
        ]
    labels = {}
    if question.min_label and question.max_label:
        labels = {
            question.min: question.min_label.get(locale),
            question.max: question.max_label.get(locale),
        }
    return [
        (
            f"{value} {labels[value]}" if value in labels else str(value),
            survey_url(base_url, token, **{question.id: value}),
        )
        for value in range(question.min, question.max + 1)
    ]


def compose(
    definition: SurveyDefinition,
    lang: Language,
    *,
    token: str,
    case_ref: str,
    customer_name: str | None,
    email: str,
    expires_at: datetime,
    config: Mapping[str, Any],
    reminder: int = 0,
) -> Email:
    """The invitation (``reminder`` 0) or a reminder email, in ``lang``, plain text and HTML."""
    base_url, secret = config["BASE_URL"], config["SECRET_KEY"]
    tz = ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai")
    locale = lang.code
    unsubscribe = unsubscribe_url(base_url, secret, token, email)
    context = {
        "title": definition.title.get(locale),
        "intro": definition.intro.get(locale),
        "customer_name": customer_name or "",
        "case_ref": case_ref,
        "url": survey_url(base_url, token),
        "expires": lang.date(expires_at.replace(tzinfo=UTC).astimezone(tz).date(), "long"),
        "question": definition.questions[0].text.get(locale) if definition.one_click else "",
        "answers": one_click_links(definition, locale, base_url, token),
        "unsubscribe_url": unsubscribe,
        "reminder": reminder,
        "lang": locale.replace("_", "-"),
    }
    env = _environment(lang)
    subject = (
        lang.gettext(
            N_("Reminder: %(title)s (case %(case)s)"), title=context["title"], case=case_ref
        )
        if reminder
        else lang.gettext(N_("%(title)s (case %(case)s)"), title=context["title"], case=case_ref)
    )
    return Email(
        subject=subject,
        text=env.get_template("invitation.txt").render(context),
        html=env.get_template("invitation.html").render(context),
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )


def preview(
    definition: SurveyDefinition, lang: Language, config: Mapping[str, Any], reminder: int = 0
) -> Email:
    """An email as a customer would get it, for a made-up case (the admin's preview)."""
    return compose(
        definition,
        lang,
        token="PREVIEW-token-0000000000",
        case_ref="HD-1001",
        customer_name=lang.gettext(N_("Ms Example")),
        email="customer@example.com",
        expires_at=utcnow() + timedelta(days=int(config.get("INVITATION_DAYS") or 14)),
        config=config,
        reminder=reminder,
    )


# --- sending ------------------------------------------------------------------------------------


def why_not(
    invitation: Invitation, case: Case, reminder: int, now: datetime, channel: str = "email"
) -> str | None:
    """Why this message (email or text) must not go out now, or None."""
    status = invitation.current_status(now)
    if status == "answered":
        return "skipped: the customer has answered"
    if status == "expired":
        return "skipped: the link has expired"
    if status == "cancelled":
        return "skipped: the invitation was withdrawn (case reopened)"
    if channel == "sms":
        if not case.customer_phone or not invitation.short_code:
            return "skipped: the customer's phone number was removed"
    elif not case.customer_email:
        return "skipped: the customer's address was removed"
    if customer_opted_out(case.customer_email, case.customer_phone):
        return "skipped: the customer opted out"
    if reminder and invitation.sent_at is None:
        if channel == "sms":
            return "skipped: the invitation text message itself was not sent"
        return "skipped: the invitation email itself was not sent"
    return None


def _refused_for_good(exc: Exception) -> bool:
    """The server refused the address or the message for good (5xx), or the SMS provider the
    number: a bounce, not retried. A refused sender (our own setting) is retried like any
    other failure."""
    if isinstance(exc, sms.SmsError):
        return exc.for_good
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


@outbox.sender(KIND)
def send(row: Outbox, config: Mapping[str, Any]) -> None:
    """Send one invitation or reminder, by email or text, or settle the row as not sent (and
    why)."""
    payload = json.loads(row.payload)
    reminder = int(payload.get("reminder") or 0)
    channel = payload.get("channel") or "email"
    invitation = Invitation.get_or_none(Invitation.id == payload["invitation"])
    if invitation is None:
        raise outbox.NotSent("skipped: the invitation no longer exists")
    case = Case.get_by_id(invitation.case_id)
    reason = why_not(invitation, case, reminder, utcnow(), channel)
    if reason:
        if not reminder:
            _set_delivery(invitation.id, "skipped")
        raise outbox.NotSent(reason)
    lang = language(case.customer_locale or config.get("DEFAULT_LOCALE") or "zh_CN")
    try:
        if channel == "sms":
            text = sms_text(config, lang, invitation.short_code, reminder)
            sms.send_sms(config, case.customer_phone, text, out_id=invitation.short_code)
        else:
            _send_email(invitation, case, lang, reminder, config)
    except Exception as exc:
        if _refused_for_good(exc):
            if not reminder:
                _set_delivery(invitation.id, "bounced")
            raise outbox.NotSent(f"bounced: {exc}"[:1000]) from None
        if not reminder and row.attempts >= int(config.get("OUTBOX_MAX_ATTEMPTS") or 10):
            _set_delivery(invitation.id, "failed")  # the outbox gives this row up
        raise
    now = utcnow()
    with database.atomic():
        if reminder:
            Invitation.update(reminded_at=now).where(
                Invitation.id == invitation.id, Invitation.reminded_at.is_null()
            ).execute()
        else:
            Invitation.update(sent_at=now, delivery="sent").where(
                Invitation.id == invitation.id
            ).execute()


def _send_email(
    invitation: Invitation, case: Case, lang: Language, reminder: int, config: Mapping[str, Any]
) -> None:
    definition = definition_of(current_version(case.survey.slug))
    email = compose(
        definition,
        lang,
        token=invitation.token,
        case_ref=case.case_ref,
        customer_name=case.customer_name,
        email=case.customer_email,
        expires_at=invitation.expires_at,
        config=config,
        reminder=reminder,
    )
    mail.send_mail(
        config,
        case.customer_email,
        email.subject,
        email.text,
        html=email.html,
        headers=email.headers,
    )


def _set_delivery(invitation_id: int, state: str) -> None:
    Invitation.update(delivery=state).where(Invitation.id == invitation_id).execute()


def record_report(invitation: Invitation, state: str, now: datetime | None = None) -> None:
    """A delivery report from the mail or SMS provider: ``delivered``, ``bounced`` or
    ``failed`` (vocabulary.REPORTED_STATES)."""
    if state not in REPORTED_STATES:
        raise ValueError(f"a delivery report is one of {', '.join(REPORTED_STATES)}, not {state!r}")
    changes: dict[str, Any] = {"delivery": state}
    if invitation.sent_at is None:
        changes["sent_at"] = now or utcnow()  # it was sent, whatever we recorded
    Invitation.update(**changes).where(Invitation.id == invitation.id).execute()


# --- what staff see -----------------------------------------------------------------------------


def emails_of(invitation: Invitation) -> list[dict]:
    """Each message (email or text) of an invitation sent by the site, in order: which, due,
    state, note."""
    rows = (
        Outbox.select()
        .where(Outbox.kind == KIND, Outbox.target == target_of(invitation.id))
        .order_by(Outbox.id)
    )
    return [_email_state(row) for row in rows]


def recent(limit: int = 50, state: str | None = None) -> list[tuple[Invitation, Case, list]]:
    """The latest invitations the site sends (newest first), each with its case and messages:
    two queries, whatever the number."""
    query = (
        Invitation.select(Invitation, Case)
        .join(Case)
        .where(Invitation.delivery.is_null(False))
        .order_by(Invitation.id.desc())
        .limit(limit)
    )
    if state:
        query = query.where(Invitation.delivery == state)
    found = list(query)
    emails: dict[str, list] = {target_of(i.id): [] for i in found}
    if found:
        rows = (
            Outbox.select()
            .where(Outbox.kind == KIND, Outbox.target.in_(list(emails)))
            .order_by(Outbox.id)
        )
        for row in rows:
            emails[row.target].append(_email_state(row))
    return [(i, i.case, emails[target_of(i.id)]) for i in found]


def _email_state(row: Outbox) -> dict:
    payload = json.loads(row.payload)
    if row.delivered_at is not None:
        state = "sent"
    elif row.next_attempt_at is None:
        note = row.last_error or ""
        state = (
            "bounced"
            if note.startswith("bounced")
            else "skipped"
            if note.startswith("skipped")
            else "failed"
        )
    else:
        state = "queued"
    return {
        "email": "reminder" if payload.get("reminder") else "invitation",
        "channel": payload.get("channel") or "email",
        "reminder": int(payload.get("reminder") or 0),
        "state": state,
        "due_at": row.next_attempt_at,
        "sent_at": row.delivered_at,
        "attempts": row.attempts,
        "note": row.last_error,
    }


def not_sent(sending: Sending, since: datetime, limit: int = 20) -> list[tuple[Case, str]]:
    """The latest invitations given since ``since`` that the site would have sent but could not
    (no address, and a phone it cannot text), each with why (a catalogue message), newest
    first: the admin page says so, since nothing else would (the helpdesk has their links)."""
    surveys = [
        survey.id
        for survey in Survey.select(Survey.id, Survey.slug)
        if (version := current_version(survey.slug)) is not None
        and site_sends(definition_of(version), sending)
    ]
    if not surveys:
        return []
    query = (
        Case.select()
        .join(Invitation, on=Invitation.case == Case.id)
        .where(
            Case.survey.in_(surveys),
            Invitation.created_at >= since,
            Invitation.delivery.is_null(),
            Case.customer_email.is_null(),
            Case.customer_phone.is_null(False),
        )
        .order_by(Invitation.id.desc())
        .limit(limit)
    )
    return [(case, _why_not_sent(case, sending)) for case in query]


def _why_not_sent(case: Case, sending: Sending) -> str:
    if not sending.sms:
        return N_("no email address, and text messages are off (FEEDBACK_SMS_PROVIDER)")
    if sms.sms_number(case.customer_phone) is None:
        return N_("no email address, and the phone number cannot receive texts (a landline)")
    return N_("no email address, and text messages were off when the case came in")
