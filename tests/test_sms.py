"""SMS: phone numbers, the Aliyun adapter against a local fake that checks the signature
(tests/sms_fake.py), and the outbox kind "sms" with its retries."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sms_fake import (
    KEY_ID,
    SECRET,
    SIGN_NAME,
    TEMPLATE,
    config_for,
    running,
    spec_encode,
    spec_signature,
)
from support import in_app

from feedback import outbox, sms
from feedback.db import database, utcnow
from feedback.models import Case, Outbox
from feedback.settings import SettingError, from_environment
from feedback.vocabulary import SMS_PROVIDERS

LINK = "https://feedback.test/s/AbCdEfGhIjKlMnOp"


@pytest.fixture
def aliyun():
    with running() as fake:
        yield fake


# --- the signature ------------------------------------------------------------------------------


def test_signature_matches_aliyuns_documented_example():
    """The SendSms example of Aliyun's SMS documentation (GET, key testId, secret testSecret)."""
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert sms.aliyun_signature(params, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert spec_signature(params, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    # The order they come in does not matter (sorted by name); Signature itself is never signed;
    # the method is part of what is signed.
    shuffled = dict(reversed(list(params.items())))
    assert sms.aliyun_signature(shuffled, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert sms.aliyun_signature({**params, "Signature": "x"}, "testSecret", "GET") == (
        "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    )
    assert sms.aliyun_signature(params, "testSecret", "POST") != "zJDF+Lrzhj/ThnlvIToysFRq6t4="


@given(st.text(max_size=30))
def test_percent_encoding_follows_the_rule(text):
    assert sms.percent_encode(text) == spec_encode(text)


def test_the_request_carries_what_aliyun_wants():
    now = datetime(2026, 12, 4, 9, 30, 5, tzinfo=UTC)
    config = config_for(None)
    params = sms.aliyun_request(config, "+8613800138000", LINK, nonce="n-1", now=now)
    assert params["PhoneNumbers"] == "13800138000"
    assert params["Timestamp"] == "2026-12-04T09:30:05Z"
    assert json.loads(params["TemplateParam"]) == {"content": LINK}
    assert params["SignName"] == SIGN_NAME and params["TemplateCode"] == TEMPLATE
    assert params["Signature"] == spec_signature(params, SECRET, "POST")
    assert SECRET not in json.dumps(params)
    international = sms.aliyun_request(config, "+442079460958", "x")
    again = sms.aliyun_request(config, "+442079460958", "x")
    assert international["PhoneNumbers"] == "442079460958"
    assert international["SignatureNonce"] != again["SignatureNonce"]  # fresh for each request
    assert "OutId" not in international
    named = sms.aliyun_request(config, "+8613800138000", LINK, out_id="AbCdE12345")
    assert named["OutId"] == "AbCdE12345"  # Aliyun's report repeats it: our reference
    assert named["Signature"] == spec_signature(named, SECRET, "POST")  # and it is signed


# --- sending ------------------------------------------------------------------------------------


def test_a_text_reaches_the_fake_signed(aliyun):
    sms.send_sms(config_for(aliyun), "+86 138 0013 8000", LINK)
    sms.send_sms(config_for(aliyun, SMS_TEMPLATE_PARAM="link"), "0044 20 7946 0958", "带空格 与*")
    assert aliyun.refused == []
    first, second = aliyun.sent
    assert first["PhoneNumbers"] == "13800138000" and first["SignName"] == SIGN_NAME
    assert json.loads(first["TemplateParam"]) == {"content": LINK}
    assert second["PhoneNumbers"] == "442079460958"
    assert json.loads(second["TemplateParam"]) == {"link": "带空格 与*"}


def test_a_wrong_secret_is_refused_by_the_fake_and_raises(aliyun):
    with pytest.raises(sms.SmsError, match="HTTP 400, SignatureDoesNotMatch") as raised:
        sms.send_sms(config_for(aliyun, SMS_ACCESS_KEY_SECRET="another"), "13800138000", LINK)
    assert aliyun.refused == ["the signature does not match"] and aliyun.sent == []
    assert "another" not in str(raised.value)


@pytest.mark.parametrize(
    "status, answer, words, for_good",
    [
        (
            200,
            {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"},
            "LIMIT_CONTROL",
            False,
        ),
        (
            200,
            {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"},
            "NUMBER_ILLEGAL",
            True,
        ),
        (200, {"Message": "no code at all"}, "no Code", False),
        (500, {"Code": "ServiceUnavailable"}, "HTTP 500, ServiceUnavailable", False),
    ],
)
def test_a_refusal_is_a_failure(status, answer, words, for_good):
    """A failure to try again, except a number refused for good (a bounce)."""
    with running([(status, answer)]) as fake:
        with pytest.raises(sms.SmsError, match=words) as raised:
            sms.send_sms(config_for(fake), "13800138000", LINK)
        assert raised.value.for_good is for_good
        assert fake.sent == []


def test_what_cannot_be_sent_fails_before_any_request(aliyun):
    with pytest.raises(sms.SmsDisabled):
        sms.send_sms({**config_for(aliyun), "SMS_PROVIDER": ""}, "13800138000", LINK)
    for landline in ("010-12345678", "+86 10 1234 5678", "not a number"):
        with pytest.raises(sms.SmsError, match="cannot receive a text"):
            sms.send_sms(config_for(aliyun), landline, LINK)
    assert aliyun.requests == 0


def test_every_provider_name_has_an_adapter():
    assert tuple(sms.PROVIDERS) == SMS_PROVIDERS


# --- phone numbers ------------------------------------------------------------------------------

VALID = {
    "13800138000": "+8613800138000",
    "+86 138 0013 8000": "+8613800138000",
    "0086-138-0013-8000": "+8613800138000",
    "+8619912345678": "+8619912345678",
    " 15300000001 ": "+8615300000001",
    "010-12345678": "+861012345678",
    "0755 1234 5678": "+8675512345678",
    "+86 10 1234 5678": "+861012345678",
    "+44 20 7946 0958": "+442079460958",
    "001 212 555 0100": "+12125550100",
    "+1-212-555-0100": "+12125550100",
}
INVALID = [
    "12800138000",  # 12 is no mobile prefix
    "1380013800",  # ten digits
    "138001380001",  # twelve
    "+0 123 4567",  # no country code starts with 0
    "+12345",  # too short for E.164
    "+1234567890123456",  # 16 digits: too long
    "138  0013 8000",  # two separators in a row
    "(010) 12345678",
    "+86 138 0013 800x",
    "１３８００１３８０００",  # full-width digits
    "٠١٣٨٠٠١٣٨٠٠٠",
    "13800138000 ext 12",
    "tel:13800138000",
]


def test_phone_numbers():
    assert {text: sms.phone_number(text) for text in VALID} == VALID
    assert [text for text in INVALID if sms.phone_number(text) is not None] == []
    assert sms.sms_number("+86 138 0013 8000") == "+8613800138000"
    assert sms.sms_number("+44 20 7946 0958") == "+442079460958"
    assert sms.sms_number("010-12345678") is None  # a landline
    assert sms.sms_number("nonsense") is None


SCHEMA_PATTERN = re.compile(sms.PHONE_SCHEMA["anyOf"][0]["pattern"])
BLANK = re.compile(sms.PHONE_SCHEMA["anyOf"][1]["pattern"])


@given(st.one_of(st.text(max_size=24), st.from_regex(sms.PHONE_PATTERN, fullmatch=True)))
def test_the_openapi_pattern_says_what_the_check_does(text):
    """Whatever a helpdesk sends: the document's pattern and the check agree, nothing raises,
    and every number the check takes is E.164."""
    number = sms.phone_number(text)
    the_api_takes_it = number is not None or not text.strip()
    assert the_api_takes_it == bool(SCHEMA_PATTERN.search(text) or BLANK.search(text))
    if number is not None:
        assert re.fullmatch(r"\+[1-9][0-9]{6,14}", number)


def test_the_api_names_a_bad_phone(app, client, api_headers):
    base = {"resolved_at": "2026-11-20T10:00:00+08:00", "channel": "phone"}
    bad = client.post(
        "/api/v1/cases",
        json={**base, "case_id": "P-1", "customer": {"phone": "12345"}},
        headers=api_headers,
    )
    assert bad.status_code == 400
    assert list(bad.get_json()["errors"]) == ["customer.phone"]
    assert "mainland mobile" in bad.get_json()["errors"]["customer.phone"][0]
    for n, phone in enumerate(["+86 138 0013 8000", 13800138000, "010-12345678", "  "]):
        good = client.post(
            "/api/v1/cases",
            json={**base, "case_id": f"P-{n + 2}", "customer": {"id": f"c{n}", "phone": phone}},
            headers=api_headers,
        )
        assert good.status_code == 201, good.get_json()
    with in_app(app):
        stored = [c.customer_phone for c in Case.select().order_by(Case.id)]
    assert stored == ["+86 138 0013 8000", "13800138000", "010-12345678", None]  # as given


# --- the outbox ---------------------------------------------------------------------------------


def moving_clock():
    """A ``now`` for deliver_due that the test moves on with ``clock.at``."""

    def clock():
        return clock.at

    clock.at = utcnow()
    return clock


def test_an_sms_row_is_retried_until_aliyun_takes_it(app, caplog):
    limit = (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发小时级流控Permits:5"})
    caplog.set_level(logging.DEBUG)
    with running([limit]) as fake, in_app(app):
        config = {**app.config, **config_for(fake)}
        clock = moving_clock()
        with database.atomic():
            sms.enqueue_sms("+86 138 0013 8000", LINK, "invitation.sms", clock())
        assert outbox.deliver_due(config, clock) == outbox.Outcome(failed=1)
        row = Outbox.get()
        assert row.kind == "sms" and row.target == "+86 138 0013 8000"
        assert "isv.BUSINESS_LIMIT_CONTROL" in row.last_error and row.delivered_at is None
        assert outbox.deliver_due(config, clock) == outbox.Outcome()  # not due yet
        clock.at += timedelta(seconds=config["OUTBOX_RETRY_SECONDS"] + 1)
        assert outbox.deliver_due(config, clock) == outbox.Outcome(delivered=1)
        row = Outbox.get()
        assert row.delivered_at is not None and row.attempts == 2 and row.last_error is None
        assert [json.loads(p["TemplateParam"]) for p in fake.sent] == [{"content": LINK}]
        assert fake.refused == []
        # The secret is nowhere but in the signing: not in the row, not in any log line.
        assert json.loads(row.payload) == {"text": LINK}
        for value in (row.target, row.payload, row.event, row.last_error or ""):
            assert SECRET not in value
        assert SECRET not in caplog.text and "LIMIT_CONTROL" in caplog.text


def test_a_row_without_a_provider_waits_and_says_why(app):
    with in_app(app):
        clock = moving_clock()
        with database.atomic():
            sms.enqueue_sms("13800138000", LINK, "invitation.sms", clock())
        assert outbox.deliver_due(app.config, clock) == outbox.Outcome(failed=1)
        assert "FEEDBACK_SMS_PROVIDER" in Outbox.get().last_error


# --- settings -----------------------------------------------------------------------------------


def test_sms_settings_name_the_problem():
    assert from_environment({})["SMS_PROVIDER"] == ""
    complete = {
        "FEEDBACK_SMS_PROVIDER": "Aliyun",
        "FEEDBACK_SMS_ACCESS_KEY_ID": KEY_ID,
        "FEEDBACK_SMS_ACCESS_KEY_SECRET": SECRET,
        "FEEDBACK_SMS_SIGN_NAME": SIGN_NAME,
        "FEEDBACK_SMS_TEMPLATE_CODE": TEMPLATE,
    }
    assert from_environment(complete)["SMS_PROVIDER"] == "aliyun"
    with pytest.raises(SettingError, match="FEEDBACK_SMS_PROVIDER: expected one of aliyun"):
        from_environment({**complete, "FEEDBACK_SMS_PROVIDER": "twilio"})
    with pytest.raises(
        SettingError,
        match="FEEDBACK_SMS_PROVIDER=aliyun needs FEEDBACK_SMS_ACCESS_KEY_SECRET, "
        "FEEDBACK_SMS_TEMPLATE_CODE$",
    ) as raised:
        from_environment(
            {**complete, "FEEDBACK_SMS_ACCESS_KEY_SECRET": "", "FEEDBACK_SMS_TEMPLATE_CODE": " "}
        )
    assert SECRET not in str(raised.value)
    with pytest.raises(SettingError, match="FEEDBACK_SMS_ENDPOINT: expected an http"):
        from_environment({**complete, "FEEDBACK_SMS_ENDPOINT": "ftp://x"})
