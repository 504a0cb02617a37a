"""The webhook's events besides follow_up.created: response.created and suggestion.created, with
the same signed, retried delivery through the outbox (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta

import pytest
from support import HttpFake, in_app, suggest
from support import answer as answer_case

from feedback import outbox, suggestions
from feedback.db import utcnow
from feedback.models import FollowUp, Outbox, Response
from feedback.settings import SETTINGS_BY_NAME

SECRET = "s3cret-for-the-receiver"
ALL_EVENTS = ("follow_up.created", "response.created", "suggestion.created")
UNHAPPY = {"resolved": "no", "csat": "1", "nps": "2", "comment": "nobody called back"}
HAPPY = {"resolved": "yes", "csat": "5", "nps": "10"}


class Receiver(HttpFake):
    """A webhook receiver on loopback that checks X-Feedback-Signature (401 when wrong) and
    fails the first ``fail_first`` requests with 500."""

    def __init__(self, fail_first: int = 0):
        self.fail_first = fail_first
        self.accepted: list[dict] = []
        self.refused = 0
        self.lock = threading.Lock()
        super().__init__(self.answer)
        self.url = f"{self.base}/hook"

    def answer(self, path: str, headers, raw: bytes) -> tuple[int, bytes]:
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(headers.get("X-Feedback-Signature", ""), expected)
        with self.lock:
            status = 204 if signed and not self.fail_first else 401 if not signed else 500
            if signed and self.fail_first:
                self.fail_first -= 1
            if status == 204:
                self.accepted.append(json.loads(raw))
            else:
                self.refused += 1
        return status, b""


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


def answer(client, headers, data, case_id="C-1001"):
    customer = {"id": f"cust-{case_id}", "locale": "en"}
    assert answer_case(client, headers, data, case_id=case_id, customer=customer).status_code == 302


def deliver(app, at=None):
    with in_app(app):
        return outbox.deliver_due(app.config, lambda: at or utcnow())


def test_the_setting_takes_known_events_only():
    parse = SETTINGS_BY_NAME["WEBHOOK_EVENTS"].parse
    assert parse("response.created, follow_up.created,response.created") == (
        "response.created",
        "follow_up.created",
    )
    assert parse("") == ()
    with pytest.raises(ValueError, match="unknown webhook event response.deleted"):
        parse("response.deleted")


def test_by_default_the_webhook_hears_of_follow_ups_only(make_app, api_headers_for, receiver):
    app = make_app(WEBHOOK_URL=receiver.url, WEBHOOK_SECRET=SECRET)
    client, headers = api_headers_for(app)
    answer(client, headers, UNHAPPY)
    answer(client, headers, HAPPY, case_id="C-2")
    with in_app(app):
        assert [r.event for r in Outbox.select()] == ["follow_up.created"]


def test_no_events_named_no_webhook(make_app, api_headers_for, receiver):
    app = make_app(WEBHOOK_URL=receiver.url, WEBHOOK_EVENTS=())
    client, headers = api_headers_for(app)
    answer(client, headers, UNHAPPY)
    with in_app(app):
        assert FollowUp.select().count() == 1 and Outbox.select().count() == 0


def test_every_response_is_announced_signed_and_retried(make_app, api_headers_for):
    with Receiver(fail_first=1) as receiver:
        app = make_app(
            WEBHOOK_URL=receiver.url,
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_EVENTS=ALL_EVENTS,
            OUTBOX_RETRY_SECONDS=30,
        )
        client, headers = api_headers_for(app)
        answer(client, headers, UNHAPPY)
        answer(client, headers, HAPPY, case_id="C-2")
        with in_app(app):
            events = [r.event for r in Outbox.select().order_by(Outbox.id)]
            follow_up = FollowUp.get()
            happy = Response.select().order_by(Response.id.desc()).get()
        # the follow-up's row is written before its response's, in the same transaction
        assert events == ["follow_up.created", "response.created", "response.created"]
        first = deliver(app)
        assert first == outbox.Outcome(delivered=2, failed=1)
        assert deliver(app, utcnow() + timedelta(seconds=31)) == outbox.Outcome(delivered=1)
    assert receiver.refused == 1  # the 500, retried; every request was correctly signed
    bodies = {(b["event"], (b.get("case") or {}).get("case_id")): b for b in receiver.accepted}
    assert len(receiver.accepted) == 3
    unhappy = bodies["response.created", "C-1001"]
    assert unhappy["response"]["survey"] == "post-case"
    assert unhappy["response"]["csat"] == 1 and unhappy["response"]["nps"] == 2
    assert unhappy["response"]["answers"]["resolved"] == "no"
    assert unhappy["response"]["answers"]["comment"] == "nobody called back"
    assert unhappy["response"]["submitted_at"].endswith("Z")
    assert unhappy["case"]["team"] == "Billing"
    assert unhappy["follow_up"] == {
        "id": follow_up.id,
        "url": f"http://feedback.test/manage/follow-ups/{follow_up.id}",
    }
    calm = bodies["response.created", "C-2"]
    assert calm["follow_up"] is None and calm["response"]["id"] == happy.id
    assert bodies["follow_up.created", "C-1001"]["follow_up"]["id"] == follow_up.id


def test_a_suggestion_is_announced_and_an_anonymous_one_carries_nothing_of_its_sender(
    make_app, receiver
):
    app = make_app(WEBHOOK_URL=receiver.url, WEBHOOK_SECRET=SECRET, WEBHOOK_EVENTS=ALL_EVENTS)
    named = suggest(app, anonymous=False, locale="zh_CN")
    anonymous = suggest(app, anonymous=True, locale="zh_CN")
    with in_app(app):
        rows = {json.loads(r.payload)["suggestion"]["id"]: r for r in Outbox.select()}
    next_hour = suggestions.to_the_hour(utcnow()) + timedelta(hours=1)
    # sent with the others of its hour, so its arrival cannot be lined up with an access log
    assert rows[anonymous.id].next_attempt_at == next_hour
    assert rows[named.id].next_attempt_at <= utcnow()
    assert deliver(app) == outbox.Outcome(delivered=1)
    assert deliver(app, next_hour) == outbox.Outcome(delivered=1)
    named_body, anonymous_body = receiver.accepted
    assert named_body["submitter"] == {"name": "Wang Fang", "email": "wang@example.cn"}
    assert named_body["suggestion"]["id"] == named.id
    body = anonymous_body["suggestion"]
    assert anonymous_body["event"] == "suggestion.created" and anonymous_body["submitter"] is None
    assert body["anonymous"] is True and body["title"] == "Longer opening hours"
    assert body["team"] == "Billing" and body["category"] == "service"
    assert body["url"] == f"http://feedback.test/manage/suggestions/{anonymous.id}"
    assert body["created_at"].endswith(":00:00Z")  # to the hour, as stored
    assert set(body) == {
        "id",
        "box",
        "category",
        "title",
        "body",
        "anonymous",
        "team",
        "status",
        "created_at",
        "reply_due_at",
        "url",
    }
    raw = json.dumps(anonymous_body, ensure_ascii=False)
    assert "Wang" not in raw and "example.cn" not in raw and "zh_CN" not in raw


def test_the_openapi_document_describes_the_three_events(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    hooks = document["x-webhooks"]
    assert set(hooks) == {*ALL_EVENTS, "test"}  # and the channels page's test
    for event, hook in hooks.items():
        schema = hook["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert schema["properties"]["event"]["enum"] == [event]
