"""Every setting of feedback, declared once with its default and a line of help.

A setting NAME is read from the environment variable ``FEEDBACK_NAME`` and lands in
``app.config[NAME]``. The README lists them all; a test fails when one is missing there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import workdays
from .vocabulary import CHANNEL_SECTIONS, SMS_PROVIDERS, SMS_TEMPLATE_VALUES

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str


def _bool(text: str) -> bool:
    if text.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if text.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"expected a whole number of 0 or more, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"expected a whole number of 1 or more, got {text!r}")
    return value


def _port(text: str) -> int:
    """A TCP port: a whole number from 1 to 65535."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 65535:
        raise ValueError(f"expected a port number from 1 to 65535, got {text!r}")
    return value


def _reminder_count(text: str) -> int:
    """How many reminders: a whole number from 0 to 10 (each one is an outbox row per case)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 10:
        raise ValueError(f"expected a whole number from 0 to 10, got {text!r}")
    return value


def _positive_hours(text: str) -> float:
    """Hours greater than 0; fractions allowed (0.5: half an hour)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 100_000:  # also refuses nan and inf
        raise ValueError(f"expected a number of hours greater than 0, like 72 or 0.5, got {text!r}")
    return value


def _seconds_or_empty(text: str) -> int | None:
    """Empty (None: the default rule applies), or a whole number of 0 or more."""
    if not text.strip():
        return None
    value = int(text)
    if value < 0:
        raise ValueError(f"expected a whole number of 0 or more, got {text!r}")
    return value


def _web_address(text: str) -> str:
    """Empty, or an http(s) address."""
    from urllib.parse import urlparse

    parsed = urlparse(text.strip())
    if text.strip() and (parsed.scheme not in ("http", "https") or not parsed.netloc):
        raise ValueError(f"expected an http:// or https:// address, got {text!r}")
    return text.strip()


def _webhook_events(text: str) -> tuple[str, ...]:
    """Comma-separated names of webhook events."""
    from .vocabulary import WEBHOOK_EVENTS

    events = tuple(dict.fromkeys(e.strip() for e in text.split(",") if e.strip()))
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        raise ValueError(
            f"unknown webhook event {', '.join(unknown)} (known: {', '.join(WEBHOOK_EVENTS)})"
        )
    return events


def _readable_file(text: str) -> str:
    """Empty, or a file that exists."""
    if text.strip() and not Path(text.strip()).is_file():
        raise ValueError(f"no such file: {text.strip()!r}")


def _whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"expected a whole number of 0 or more, got {text!r}")
    return value


LIMIT_STORAGES = (
    "shm",
    "memory",
    "redis",
    "rediss",
    "redis+unix",
    "redis+sentinel",
    "redis+cluster",
)


def _limit_storage(text: str) -> str:
    """A Flask-Limiter storage that can also keep the limits' HMAC key (see ratelimits)."""
    scheme, sep, _ = text.strip().partition("://")
    if not sep or scheme not in LIMIT_STORAGES:
        raise ValueError(
            "expected shm:// (this machine's shared memory), memory:// (each "
            f"process alone) or redis://host:port/db, got {text!r}"
        )
    return text.strip()


def _sms_provider(text: str) -> str:
    """Empty (no SMS), or a provider feedback.sms has an adapter for."""
    name = text.strip().lower()
    if name and name not in SMS_PROVIDERS:
        raise ValueError(f"expected one of {', '.join(SMS_PROVIDERS)} or empty, got {text!r}")
    return name


def _sms_template_value(text: str) -> str:
    """What the SMS template's variable receives: link, text or code."""
    value = text.strip().lower()
    if value not in SMS_TEMPLATE_VALUES:
        raise ValueError(f"expected one of {', '.join(SMS_TEMPLATE_VALUES)}, got {text!r}")
    return value


def _checked(parse: Callable[[str], Any]) -> Callable[[str], str]:
    """Keep the text, but refuse it at start-up when ``parse`` cannot read it."""

    def check(text: str) -> str:
        parse(text)
        return text

    return check


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        f"sqlite:///{PROJECT_ROOT / 'instance' / 'feedback.sqlite3'}",
        "Where the data lives: sqlite:////absolute/file.sqlite3, sqlite:///relative/file.sqlite3 "
        "or postgresql://user@host:port/db. Default: instance/feedback.sqlite3 in the project.",
    ),
    Setting(
        "SECRET_KEY",
        None,
        "Signs sessions and CSRF tokens. Unset: a random key is made once and kept in "
        "instance/secret_key.",
    ),
    Setting(
        "BASE_URL",
        "http://127.0.0.1:5000",
        "The public address of the site, used to build survey links sent to customers.",
    ),
    Setting(
        "TIMEZONE",
        "Asia/Shanghai",
        "The site's time zone: days, weeks and months of reports are counted in it.",
    ),
    Setting(
        "DEFAULT_LOCALE",
        "zh_CN",
        "Language when neither the case nor the browser names one we speak (zh_CN or en).",
    ),
    Setting(
        "DEFAULT_SURVEY", "post-case", "The survey a case gets when the helpdesk does not name one."
    ),
    Setting("INVITATION_DAYS", 14, "How many days a survey link stays valid.", _positive_int),
    Setting(
        "THROTTLE_DAYS",
        30,
        "A customer (by id, email or phone number) surveyed within this many days is not invited "
        "again.",
        _positive_int,
    ),
    Setting(
        "MIN_SAMPLE",
        30,
        "A figure resting on fewer answers is greyed, labelled 'too few answers' and left "
        "out of rankings.",
        _positive_int,
    ),
    Setting(
        "SURVEYS_DIR",
        str(PROJECT_ROOT / "surveys"),
        "The folder of survey definition files (*.yaml).",
    ),
    Setting(
        "EXPORTS_DIR",
        str(PROJECT_ROOT / "exports"),
        "The folder where generated exports are written.",
    ),
    Setting(
        "SECURE_COOKIES",
        False,
        "Send session cookies over HTTPS only. Turn on whenever the site is served over HTTPS.",
        _bool,
    ),
    Setting(
        "LOGIN_RATE_LIMIT",
        "10 per minute",
        "How often one address may try to log in (Flask-Limiter syntax).",
        str,
    ),
    Setting(
        "SMTP_HOST",
        "",
        "The SMTP server that sends email (replies to suggestions, notices to team leads). "
        "Empty: no email is sent.",
    ),
    Setting("SMTP_PORT", 25, "The SMTP server's port.", _port),
    Setting("SMTP_USER", "", "The SMTP login, when the server wants one."),
    Setting("SMTP_PASSWORD", "", "The SMTP password, when the server wants one."),
    Setting(
        "SMTP_STARTTLS",
        False,
        "Switch the SMTP connection to TLS (STARTTLS) before login; the certificate is "
        "verified and a server without STARTTLS is refused.",
        _bool,
    ),
    Setting("MAIL_FROM", "feedback <feedback@localhost>", "The sender address of every email."),
    Setting(
        "WORKING_DAYS",
        "mon-fri",
        "The working weekdays, for due times counted in working days (mon,tue,... or mon-fri).",
        _checked(workdays.parse_days),
    ),
    Setting(
        "WORKING_HOURS",
        "09:00-18:00",
        "The working hours of a working day, local time.",
        _checked(workdays.parse_hours),
    ),
    Setting(
        "SUGGESTION_REPLY_DAYS",
        5,
        "The suggestion box's response-time goal: working days to the first public reply. "
        "Later ones are marked overdue.",
        _positive_int,
    ),
    Setting(
        "SUGGESTION_RATE_LIMIT",
        "5 per minute;30 per day",
        "How often one address may post to a suggestion box (counted in memory only, on an "
        "HMAC of the address).",
        str,
    ),
    Setting(
        "TRACKING_RATE_LIMIT",
        "20 per hour",
        "How many wrong tracking codes, and wrong short links of texts (/r/<code>, counted "
        "apart), one address may try (counted in memory only, on an HMAC of the address).",
        str,
    ),
    Setting(
        "HOLIDAYS",
        "",
        "Dates that are not working days, comma-separated (2027-02-17,2027-02-18). They "
        "override HOLIDAY_COUNTRY's official calendar.",
        _checked(workdays.parse_holidays),
    ),
    Setting(
        "HOLIDAY_COUNTRY",
        "",
        "The country whose official calendar due times follow (CN: China's public holidays and "
        "make-up working days, from the holidays package). Empty: no official calendar.",
        _checked(workdays.parse_country),
    ),
    Setting(
        "EXTRA_WORKING_DAYS",
        "",
        "Dates that are working days whatever WORKING_DAYS and HOLIDAY_COUNTRY say, "
        "comma-separated (2027-02-07).",
        _checked(workdays.parse_extra_working_days),
    ),
    Setting(
        "ACTION_WINDOW_WEEKS",
        8,
        "Weeks of answers before an improvement action's start and after it was done that "
        "its before/after check compares.",
        _positive_int,
    ),
    Setting(
        "FOLLOW_UP_DAYS",
        2,
        "Working days a team has to contact a customer whose answer opened a follow-up.",
        _positive_int,
    ),
    Setting(
        "WEBHOOK_URL",
        "",
        "An http(s) address that receives a JSON description of each new follow-up, and of "
        "the other events WEBHOOK_EVENTS names (through the outbox, with retries). Empty: no "
        "webhook.",
        _web_address,
    ),
    Setting(
        "WEBHOOK_EVENTS",
        ("follow_up.created",),
        "The events WEBHOOK_URL receives, comma-separated: follow_up.created, "
        "response.created, suggestion.created.",
        _webhook_events,
    ),
    Setting("WEBHOOK_TIMEOUT", 10, "Seconds a webhook receiver may take to answer.", _positive_int),
    Setting(
        "OUTBOX_MAX_ATTEMPTS",
        10,
        "Delivery attempts of one notification before the outbox gives up on it.",
        _positive_int,
    ),
    Setting(
        "OUTBOX_RETRY_SECONDS",
        30,
        "The wait after a first failed delivery; it doubles after each further failure "
        "(at most a day).",
        _positive_int,
    ),
    Setting(
        "FOLLOW_UP_EMAIL",
        False,
        "Email the team's leads (those with an address) about each new follow-up, through "
        "the outbox. Needs SMTP_HOST.",
        _bool,
    ),
    Setting(
        "OUTBOX_THREAD",
        False,
        "Deliver the outbox from a background thread of each web process, started by its "
        "first request (python3 dev.py serve turns it on). Off: run flask --app feedback "
        "outbox deliver --loop.",
        _bool,
    ),
    Setting(
        "REMEMBER_DAYS",
        14,
        "How many days a login lasts at most: the remember-me cookie's lifetime, and the age "
        "after which any session key is refused.",
        _positive_int,
    ),
    Setting(
        "HSTS_SECONDS",
        None,
        "The max-age of the Strict-Transport-Security header. Empty: a year when "
        "SECURE_COOKIES is on, none otherwise; 0: never sent; a number: sent with it.",
        _seconds_or_empty,
    ),
    Setting(
        "WEBHOOK_SECRET",
        "",
        "The secret shared with the webhook receiver: each request carries "
        "X-Feedback-Signature: sha256=<hex HMAC-SHA256 of the body>. Empty: not signed.",
    ),
    Setting(
        "SMTP_SSL",
        False,
        "Speak TLS to the SMTP server from the first byte (implicit TLS, usually port 465, as "
        "Tencent and Aliyun company mail want). The certificate is verified. Not together "
        "with SMTP_STARTTLS.",
        _bool,
    ),
    Setting(
        "SMTP_CA_FILE",
        "",
        "A PEM file of the CA certificates that the SMTP server's certificate must chain to "
        "(a private CA). Empty: the system's CAs.",
        _readable_file,
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        "How many reverse proxies stand in front of the site. With 1 or more the client's "
        "address, scheme and host are taken from their X-Forwarded-For, -Proto and -Host "
        "headers (that many entries from the end); with 0 those headers are ignored.",
        _whole_number,
    ),
    Setting(
        "RATELIMIT_STORAGE",
        "shm://",
        "Where rate limits are counted: shm:// (default) a file in this machine's shared "
        "memory /dev/shm, shared by all its worker processes; redis://host:6379/0 to share "
        "them between machines; memory:// each process alone. Keys are an HMAC of the "
        "address with a random daily key kept only there.",
        _limit_storage,
    ),
    Setting(
        "DIGEST_ATTACH_MAX_BYTES",
        5_000_000,
        "The largest meeting pack (bytes) a digest email carries as an attachment; a larger "
        "one is linked instead (a download that needs a login).",
        _non_negative_int,
    ),
    Setting(
        "THEME_WORDS",
        "",
        "Words the comment themes keep whole when cutting Chinese comments into words (product "
        "names, plan names), comma-separated; the suggestion categories and the channels' names "
        "are kept whole anyway.",
    ),
    Setting(
        "CONTACT_RETENTION_DAYS",
        0,
        "Days after a case is resolved that its customer's name, email and phone are kept; "
        "then they are removed (answers stay countable). 0: kept.",
        _non_negative_int,
    ),
    Setting(
        "SMS_PROVIDER",
        "",
        "Who sends text messages: aliyun (Aliyun SMS, Dysmsapi). Empty: no SMS is sent.",
        _sms_provider,
    ),
    Setting("SMS_ACCESS_KEY_ID", "", "The SMS provider's AccessKey ID."),
    Setting(
        "SMS_ACCESS_KEY_SECRET",
        "",
        "The SMS provider's AccessKey secret: signs each request; never stored or logged.",
    ),
    Setting("SMS_SIGN_NAME", "", "The approved SMS signature (sign name) every message carries."),
    Setting(
        "SMS_TEMPLATE_CODE",
        "",
        "The approved template (SMS_123456789) whose one variable receives the message.",
    ),
    Setting(
        "SMS_TEMPLATE_PARAM",
        "content",
        "The name of the template's variable that receives the message (a survey link).",
    ),
    Setting(
        "SMS_TEMPLATE_VALUE",
        "link",
        "What an invitation text puts in that variable: link (the short link BASE_URL/r/<code>), "
        "text (a short sentence with the link, in the customer's language) or code (the short "
        "link's code alone, for a template that holds https://<your host>/r/${code}).",
        _sms_template_value,
    ),
    Setting(
        "SMS_ENDPOINT",
        "https://dysmsapi.aliyuncs.com/",
        "The SMS provider's API address.",
        _web_address,
    ),
    Setting("SMS_TIMEOUT", 10, "Seconds the SMS provider may take to answer.", _positive_int),
    Setting(
        "SEND_INVITATIONS",
        False,
        "Email each new case's customer (with an address) the survey invitation, in the "
        "customer's language, through the outbox; text it to one with only a mobile number "
        "when SMS_PROVIDER is set. A survey file may say otherwise (send_invitations: true or "
        "false). Needs SMTP_HOST. Off: the helpdesk sends the link.",
        _bool,
    ),
    Setting(
        "REMINDER_HOURS",
        72.0,
        "Hours after an invitation (email or text) that a reminder is due (fractions allowed). None is "
        "sent once the customer answered or opted out, or the link expired or was withdrawn.",
        _positive_hours,
    ),
    Setting(
        "REMINDERS",
        1,
        "How many reminders an invitation the site sends gets (by the same channel), each "
        "REMINDER_HOURS after the one before; 0: none; at most 10.",
        _reminder_count,
    ),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}

# The settings an admin may also set on /admin/channels (feedback.site_settings), by section of
# that page and in its order: a value saved there wins over the environment's. Only these names
# are ever stored in the site_setting table.
CHANNEL_SECTION_SETTINGS: dict[str, tuple[str, ...]] = dict(
    zip(
        CHANNEL_SECTIONS,
        (
            (
                "SMTP_HOST",
                "SMTP_PORT",
                "SMTP_STARTTLS",
                "SMTP_SSL",
                "SMTP_USER",
                "SMTP_PASSWORD",
                "MAIL_FROM",
            ),
            ("SEND_INVITATIONS", "REMINDER_HOURS", "REMINDERS"),
            (
                "SMS_PROVIDER",
                "SMS_ACCESS_KEY_ID",
                "SMS_ACCESS_KEY_SECRET",
                "SMS_SIGN_NAME",
                "SMS_TEMPLATE_CODE",
                "SMS_TEMPLATE_PARAM",
                "SMS_TEMPLATE_VALUE",
                "SMS_ENDPOINT",
            ),
            ("WEBHOOK_URL", "WEBHOOK_SECRET", "WEBHOOK_EVENTS"),
        ),
        strict=True,
    )
)
CHANNEL_SETTINGS: tuple[str, ...] = tuple(
    name for names in CHANNEL_SECTION_SETTINGS.values() for name in names
)
# Of those, the ones the page never shows back (only whether they are set).
SECRET_SETTINGS: tuple[str, ...] = ("SMTP_PASSWORD", "SMS_ACCESS_KEY_SECRET", "WEBHOOK_SECRET")


class SettingError(ValueError):
    """A setting's environment value cannot be read."""


def from_environment(environ: os._Environ | dict = os.environ) -> dict[str, Any]:
    """Return every setting: its FEEDBACK_<NAME> value from the environment, else its default."""
    config = {}
    for setting in SETTINGS:
        raw = environ.get(f"FEEDBACK_{setting.name}")
        if raw is None:
            config[setting.name] = setting.default
            continue
        try:
            config[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise SettingError(f"FEEDBACK_{setting.name}: {exc}") from None
    try:
        workdays.check_overrides(config["HOLIDAYS"], config["EXTRA_WORKING_DAYS"], "FEEDBACK_")
    except ValueError as exc:
        raise SettingError(str(exc)) from None
    if config["SMS_PROVIDER"]:
        missing = [
            f"FEEDBACK_{name}"
            for name in ("SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME")
            + ("SMS_TEMPLATE_CODE", "SMS_ENDPOINT")
            if not str(config[name]).strip()
        ]
        if missing:
            raise SettingError(
                f"FEEDBACK_SMS_PROVIDER={config['SMS_PROVIDER']} needs {', '.join(missing)}"
            )
    if config["SMTP_SSL"] and config["SMTP_STARTTLS"]:
        raise SettingError(
            "FEEDBACK_SMTP_SSL: implicit TLS and FEEDBACK_SMTP_STARTTLS exclude "
            "each other; set only one (465: SMTP_SSL, 587: SMTP_STARTTLS)"
        )
    return config
