"""SMS: phone numbers checked, one function that sends a text message through the provider in the
settings, and the outbox kind "sms" that delivers them with retries.

``send_sms(config, phone, text)`` hands ``text`` to the provider named by SMS_PROVIDER. Chinese
SMS providers send only templates their regulator-facing review approved, with a registered
signature (【签名】): ``text`` fills the template's one variable (SMS_TEMPLATE_PARAM, ``content``
by default), so the template SMS_TEMPLATE_CODE reads, say, "您的服务已完成，请评价：${content}"
and ``text`` is the survey link. Knows nothing of Flask: callers pass the app's config. With no
provider set, SMS is off and ``send_sms`` raises ``SmsDisabled``; callers decide whether that
matters.

The one adapter is Aliyun SMS (Dysmsapi ``SendSms``, API version 2017-05-25), plain signed HTTP
through urllib: RPC-style parameters, signed with HMAC-SHA1 over the percent-encoded canonical
query (``aliyun_signature``), POSTed as a form to SMS_ENDPOINT (tests point it at a local fake).
Aliyun answers JSON; anything but ``"Code": "OK"`` (a refusal such as
``isv.BUSINESS_LIMIT_CONTROL`` comes with HTTP 200) raises ``SmsError``, so the outbox records the
code and tries again later. The AccessKey secret is used only to sign at send time: it is never
written to the outbox, logged or put in an error message.

Phone numbers (``phone_number``): a mainland mobile (``13800138000``, optionally ``+86`` or
``0086`` before it), a mainland landline in national form (``010-12345678``: call-backs need
them, SMS cannot reach them), or an international number in E.164 (``+44 20 7946 0958``, ``00``
for ``+`` allowed), with single spaces or hyphens between digits. The case input refuses anything
else; ``sms_number`` tells which of those can receive a text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from . import outbox

# --- phone numbers ------------------------------------------------------------------------------

_MOBILE_CN = r"1[3-9](?:[ -]?[0-9]){9}"
_LANDLINE_CN = r"0[1-9](?:[ -]?[0-9]){8,10}"
_E164 = r"(?:\+|00)[1-9](?:[ -]?[0-9]){6,14}"
PHONE_PATTERN = f"{_E164}|{_MOBILE_CN}|{_LANDLINE_CN}"  # the same in Python and JSON Schema
_PHONE = re.compile(PHONE_PATTERN)
_SEPARATORS = re.compile(r"[ -]")
_MAINLAND_MOBILE = re.compile(r"\+861[3-9][0-9]{9}")
PHONE_RULE = (
    "is not a phone number: give a mainland mobile (13800138000, +86 or 0086 before it allowed), "
    "a landline with its area code (010-12345678) or an international number starting with + "
    "(+44 20 7946 0958)"
)
# The same rule for the OpenAPI document: blank counts as left out; a whole number is a mobile.
PHONE_SCHEMA = {
    "anyOf": [
        {
            "type": "string",
            "nullable": True,
            "maxLength": 50,
            "pattern": rf"^\s*(?:{PHONE_PATTERN})\s*$",
        },
        {"type": "string", "nullable": True, "pattern": r"^\s*$"},
        {"type": "integer", "minimum": 13000000000, "maximum": 19999999999},
    ],
    "description": "A mainland mobile (13800138000, +86 or 0086 before it allowed), a landline "
    "with its area code (010-12345678) or an international number starting with + or 00; single "
    "spaces or hyphens between digits allowed. Blank counts as left out.",
    "example": "+86 138 0013 8000",
}


def phone_number(text: str) -> str | None:
    """The number in E.164 form (``+8613800138000``), or None when ``text`` is not one."""
    text = text.strip()
    if not _PHONE.fullmatch(text):
        return None
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+"):
        return digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0"):  # a mainland landline: the trunk 0 goes
        return "+86" + digits[1:]
    return "+86" + digits  # a mainland mobile


def sms_number(text: str) -> str | None:
    """The E.164 number when it can receive a text (not a mainland landline), else None."""
    number = phone_number(text)
    if number is None or (number.startswith("+86") and not _MAINLAND_MOBILE.fullmatch(number)):
        return None
    return number


# --- the interface ------------------------------------------------------------------------------


class SmsDisabled(RuntimeError):
    """No SMS provider is configured."""


class SmsError(RuntimeError):
    """The provider refused the message or answered something we cannot read. ``for_good``:
    the number itself was refused (or cannot get texts), so sending again cannot help."""

    def __init__(self, message: str, for_good: bool = False):
        super().__init__(message)
        self.for_good = for_good


# (config, E.164 number, text, out_id): out_id, when given, comes back in the provider's
# delivery report (the invitation's short code), so a report can be matched to its invitation.
Provider = Callable[[Mapping[str, Any], str, str, str | None], None]


def enabled(config: Mapping[str, Any]) -> bool:
    return bool(config.get("SMS_PROVIDER"))


def send_sms(config: Mapping[str, Any], phone: str, text: str, out_id: str | None = None) -> None:
    """Send ``text`` to ``phone`` through the provider of SMS_PROVIDER; raise on any failure.
    ``out_id``: our reference for the message, which the provider's delivery report repeats."""
    name = config.get("SMS_PROVIDER") or ""
    if not name:
        raise SmsDisabled("no SMS provider is configured (FEEDBACK_SMS_PROVIDER)")
    provider = PROVIDERS.get(name)
    if provider is None:
        raise SmsError(f"unknown SMS provider {name!r}")
    number = sms_number(phone)
    if number is None:
        raise SmsError(
            "the number cannot receive a text message (not a mobile number)", for_good=True
        )
    provider(config, number, text, out_id)


# --- Aliyun SMS (Dysmsapi) ----------------------------------------------------------------------

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
ALIYUN_VERSION = "2017-05-25"
ALIYUN_REGION = "cn-hangzhou"  # Dysmsapi's one region for the public endpoint


def percent_encode(value: str) -> str:
    """Aliyun's encoding (RFC 3986): only A-Z a-z 0-9 - _ . ~ stay; a space is %20, * is %2A."""
    return quote(value, safe="~")


def aliyun_signature(params: Mapping[str, str], secret: str, method: str = "POST") -> str:
    """Base64 of the HMAC-SHA1, keyed with the secret and "&", of
    ``METHOD&%2F&percent_encode(canonical query)``: the parameters but Signature, sorted by name,
    each name and value percent-encoded."""
    canonical = "&".join(
        f"{percent_encode(name)}={percent_encode(value)}"
        for name, value in sorted(params.items())
        if name != "Signature"
    )
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(
        (secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def aliyun_number(number: str) -> str:
    """Aliyun's PhoneNumbers: a mainland mobile's 11 digits, others their country code and
    number without the +."""
    return number[3:] if number.startswith("+86") else number.lstrip("+")


def aliyun_request(
    config: Mapping[str, Any],
    number: str,
    text: str,
    nonce: str | None = None,
    now: datetime | None = None,
    out_id: str | None = None,
) -> dict[str, str]:
    """The signed parameters of one SendSms request (``OutId`` when ``out_id`` is given: Aliyun
    repeats it in the delivery report, SmsReport's ``out_id``)."""
    params = {
        "AccessKeyId": config.get("SMS_ACCESS_KEY_ID") or "",
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": aliyun_number(number),
        "RegionId": ALIYUN_REGION,
        "SignName": config.get("SMS_SIGN_NAME") or "",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "SignatureVersion": "1.0",
        "TemplateCode": config.get("SMS_TEMPLATE_CODE") or "",
        "TemplateParam": json.dumps(
            {config.get("SMS_TEMPLATE_PARAM") or "content": text}, ensure_ascii=False
        ),
        "Timestamp": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": ALIYUN_VERSION,
    }
    if out_id:
        params["OutId"] = out_id
    params["Signature"] = aliyun_signature(params, config.get("SMS_ACCESS_KEY_SECRET") or "")
    return params


def _aliyun_answer(raw: bytes) -> dict:
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        answer = None
    return answer if isinstance(answer, dict) else {}


# Aliyun's codes that refuse the number itself: a bounce, not tried again.
ALIYUN_REFUSED_FOR_GOOD = frozenset({"isv.MOBILE_NUMBER_ILLEGAL"})


def send_aliyun(
    config: Mapping[str, Any], number: str, text: str, out_id: str | None = None
) -> None:
    """POST one SendSms; raise SmsError unless Aliyun answers ``"Code": "OK"``."""
    params = aliyun_request(config, number, text, out_id=out_id)
    body = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items())
    request = urllib.request.Request(
        config.get("SMS_ENDPOINT") or ALIYUN_ENDPOINT,
        data=body.encode("ascii"),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Accept": "application/json",
            "User-Agent": "feedback-outbox",
        },
    )
    timeout = float(config.get("SMS_TIMEOUT") or 10)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 (setting)
            status, answer = reply.status, _aliyun_answer(reply.read(65536))
    except urllib.error.HTTPError as exc:  # a refusal with 4xx/5xx still names its code
        status, answer = exc.code, _aliyun_answer(exc.read(65536))
    code = str(answer.get("Code") or "")
    if status == 200 and code == "OK":
        return
    message = str(answer.get("Message") or "")[:200]
    raise SmsError(
        f"Aliyun SMS refused it: HTTP {status}, {code or 'no Code'}: {message}".strip(),
        for_good=code in ALIYUN_REFUSED_FOR_GOOD,
    )


PROVIDERS: dict[str, Provider] = {"aliyun": send_aliyun}


# --- the outbox ---------------------------------------------------------------------------------

EVENT_SMS = "sms"


def enqueue_sms(phone: str, text: str, event: str, now: datetime) -> None:
    """Write one text message to deliver; call inside the transaction of the change it reports.
    ``phone`` as the case stores it (so erasing the customer finds the row), ``text`` only: the
    provider's keys are read when it is sent."""
    outbox.enqueue("sms", event, phone, {"text": text}, now)


@outbox.sender("sms")
def _send_sms_row(row, config: Mapping[str, Any]) -> None:
    send_sms(config, row.target, json.loads(row.payload)["text"])
