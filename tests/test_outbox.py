"""Notifications of new follow-ups: written to the outbox with the follow-up, delivered later,
exactly once, to receivers that fail, hang or answer slowly."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import timedelta

import pytest
from support import HttpFake, csrf_from, in_app, new_case, survey_path

from feedback import outbox
from feedback.db import utcnow
from feedback.models import FollowUp, Outbox, Response

DETRACTOR = {"resolved": "no", "csat": "1", "nps": "2", "comment": "nobody called back"}
HAPPY = {"resolved": "yes", "csat": "5", "nps": "10"}


class Receiver(HttpFake):
    """A real HTTP server on loopback that fails the first ``fail_first`` requests with 500
    and keeps the bodies it accepts; ``delay`` makes every answer slow."""

    def __init__(self, fail_first: int = 0, delay: float = 0.0):
        self.fail_first = fail_first
        self.delay = delay
        self.accepted: list[tuple[str, dict]] = []  # (X-Feedback-Delivery, body)
        self.requests = 0
        self.lock = threading.Lock()
        super().__init__(self._answer)
        self.url = f"{self.base}/hook"

    def _answer(self, _path, headers, body: bytes) -> tuple[int, bytes]:
        time.sleep(self.delay)
        with self.lock:
            self.requests += 1
            fail = self.fail_first > 0
            if fail:
                self.fail_first -= 1
            else:
                self.accepted.append((headers["X-Feedback-Delivery"], json.loads(body)))
        return (500 if fail else 204), b""


class Clock:
    """A ``now`` for deliver_due that the test moves on."""

    def __init__(self):
        self.at = utcnow()

    def __call__(self):
        return self.at


def answer(client, api_headers, data, case_id="C-1001"):
    reply = new_case(
        client, api_headers, case_id=case_id, customer={"id": f"cust-{case_id}", "locale": "en"}
    )
    path = survey_path(reply)
    page = client.get(path).get_data(as_text=True)
    started = time.monotonic()
    posted = client.post(path, data={**data, "csrf_token": csrf_from(page)})
    assert posted.status_code == 302, posted.get_data(as_text=True)
    return time.monotonic() - started


def test_outbox_delivers_exactly_once_after_failures(make_app, api_headers_for):
    with Receiver(fail_first=3) as receiver:
        app = make_app(WEBHOOK_URL=receiver.url, OUTBOX_RETRY_SECONDS=30)
        client, headers = api_headers_for(app)
        answer(client, headers, DETRACTOR)
        answer(client, headers, HAPPY, case_id="C-1002")  # no follow-up, no notification
        clock = Clock()
        with in_app(app):
            row = Outbox.get()
            assert Outbox.select().count() == 1 and row.kind == "webhook"
            assert row.target == receiver.url and row.attempts == 0
            results = [outbox.deliver_due(app.config, clock)]
            assert results[-1] == outbox.Outcome(failed=1)
            assert outbox.deliver_due(app.config, clock) == outbox.Outcome()  # not due yet
            for wait in (30, 60, 120):  # 30 s, doubling
                clock.at += timedelta(seconds=wait - 1)
                assert outbox.deliver_due(app.config, clock) == outbox.Outcome()
                clock.at += timedelta(seconds=1)
                results.append(outbox.deliver_due(app.config, clock))
            assert results == [outbox.Outcome(failed=1)] * 3 + [outbox.Outcome(delivered=1)]
            clock.at += timedelta(days=2)
            assert outbox.deliver_due(app.config, clock) == outbox.Outcome()
            row = Outbox.get()
            assert row.attempts == 4 and row.delivered_at is not None
            assert row.last_error is None and row.claimed_until is None
            follow_up = FollowUp.get()
    assert receiver.requests == 4 and len(receiver.accepted) == 1
    delivery, body = receiver.accepted[0]
    assert delivery == str(row.id)
    assert body["event"] == "follow_up.created"
    assert body["follow_up"]["id"] == follow_up.id
    assert body["follow_up"]["reasons"] == ["csat <= 2", "nps <= 6", "resolved == no"]
    assert body["follow_up"]["url"] == f"http://feedback.test/manage/follow-ups/{follow_up.id}"
    assert body["case"] == {
        "case_id": "C-1001",
        "channel": "phone",
        "agent": "李娜",
        "team": "Billing",
        "category": "billing",
    }
    assert body["response"]["csat"] == 1 and body["response"]["source"] == "link"


def test_a_failure_is_recorded_and_given_up_after_the_last_attempt(make_app, api_headers_for):
    with Receiver(fail_first=100) as receiver:
        app = make_app(WEBHOOK_URL=receiver.url, OUTBOX_MAX_ATTEMPTS=2)
        client, headers = api_headers_for(app)
        answer(client, headers, DETRACTOR)
        clock = Clock()
        with in_app(app):
            assert outbox.deliver_due(app.config, clock) == outbox.Outcome(failed=1)
            row = Outbox.get()
            assert row.last_error == "HTTP 500"
            assert row.next_attempt_at == clock.at + timedelta(seconds=30)
            clock.at += timedelta(hours=1)
            assert outbox.deliver_due(app.config, clock) == outbox.Outcome(given_up=1)
            clock.at += timedelta(days=3)
            assert outbox.deliver_due(app.config, clock) == outbox.Outcome()
            row = Outbox.get()
            assert row.attempts == 2 and row.next_attempt_at is None and row.delivered_at is None
    assert receiver.requests == 2 and receiver.accepted == []


def test_two_deliverers_at_once_send_each_row_once(make_app, api_headers_for):
    with Receiver(delay=0.2) as receiver:
        app = make_app(WEBHOOK_URL=receiver.url)
        client, headers = api_headers_for(app)
        for number in range(4):
            answer(client, headers, DETRACTOR, case_id=f"C-{number}")
        outcomes = []

        def deliver():
            with in_app(app):
                outcomes.append(outbox.deliver_due(app.config))

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert sum(o.delivered for o in outcomes) == 4
    assert all(o.delivered for o in outcomes), "both deliverers should have taken some rows"
    deliveries = sorted(d for d, _body in receiver.accepted)
    assert len(deliveries) == 4 and len(set(deliveries)) == 4


def test_a_receiver_that_never_answers_does_not_slow_a_submission(make_app, api_headers_for):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        app = make_app(WEBHOOK_URL=url, WEBHOOK_TIMEOUT=1, OUTBOX_THREAD=True)
        client, headers = api_headers_for(app)
        took = answer(client, headers, DETRACTOR)
        assert took < 1.0
        with in_app(app):
            assert Response.select().count() == 1 and FollowUp.select().count() == 1
            deadline = time.monotonic() + 15
            while Outbox.get().attempts == 0 and time.monotonic() < deadline:
                time.sleep(0.1)  # the app's own delivery thread tries, and times out
            while Outbox.get().last_error is None and time.monotonic() < deadline:
                time.sleep(0.1)
            row = Outbox.get()
            assert row.delivered_at is None and "timed out" in row.last_error
    finally:
        thread, stop = app.extensions["feedback.outbox_thread"]
        stop.set()
        thread.join(10)
        silent.close()


def test_no_webhook_setting_writes_no_notification(app, client, api_headers):
    answer(client, api_headers, DETRACTOR)
    with in_app(app):
        assert FollowUp.select().count() == 1 and Outbox.select().count() == 0


def test_cli_delivers_due_rows(make_app, api_headers_for):
    with Receiver() as receiver:
        app = make_app(WEBHOOK_URL=receiver.url)
        client, headers = api_headers_for(app)
        answer(client, headers, DETRACTOR)
        result = app.test_cli_runner().invoke(args=["outbox", "deliver"])
        assert result.exit_code == 0, result.output
        assert "delivered 1, failed 0" in result.output
        again = app.test_cli_runner().invoke(args=["outbox", "deliver"])
        assert "delivered 0, failed 0" in again.output
    assert len(receiver.accepted) == 1


@pytest.mark.parametrize("attempts,seconds", [(1, 30), (2, 60), (3, 120), (20, 86400)])
def test_backoff_doubles_up_to_a_day(attempts, seconds):
    assert outbox.backoff(attempts, 30) == timedelta(seconds=seconds)


def test_email_to_the_team_leads_is_sent_once_after_failures(
    make_app, api_headers_for, smtp_server
):
    from feedback import accounts
    from feedback.models import Team, User

    app = make_app(FOLLOW_UP_EMAIL=True, **smtp_server.config)
    client, headers = api_headers_for(app)
    with in_app(app):
        billing = Team.by_name("Billing")
        lead = accounts.create_user(
            "lead", "password123", "lead", team=billing, email="lead@example.cn"
        )
        other = accounts.create_user("lead2", "password123", "lead", team=billing)  # no address
        accounts.set_team_leads(billing, [lead, other])
        accounts.create_user("elsewhere", "password123", "lead", email="x@example.cn")
    smtp_server.fail_next = 2
    answer(client, headers, DETRACTOR)
    answer(client, headers, DETRACTOR, case_id="C-1002")
    clock = Clock()
    with in_app(app):
        assert [(r.kind, r.target) for r in Outbox.select().order_by(Outbox.id)] == [
            ("email", "lead@example.cn")
        ] * 2
        assert outbox.deliver_due(app.config, clock) == outbox.Outcome(failed=2)
        assert "451" in Outbox.get().last_error
        clock.at += timedelta(seconds=30)
        assert outbox.deliver_due(app.config, clock) == outbox.Outcome(delivered=2)
        clock.at += timedelta(days=1)
        assert outbox.deliver_due(app.config, clock) == outbox.Outcome()
        assert [r.attempts for r in Outbox.select()] == [2, 2]
        assert User.get(User.username == "lead").email == "lead@example.cn"
    assert len(smtp_server.messages) == 2
    subjects = sorted(m["Subject"] for m in smtp_server.messages)
    assert subjects == ["跟进 / Follow-up: C-1001", "跟进 / Follow-up: C-1002"]
    message = smtp_server.messages[0]
    assert message["To"] == "lead@example.cn"
    body = message.get_content()
    assert "csat <= 2; nps <= 6; resolved == no" in body and "/manage/follow-ups/" in body


def test_email_is_off_without_an_smtp_server(make_app, api_headers_for):
    from feedback import accounts
    from feedback.models import Team

    app = make_app(FOLLOW_UP_EMAIL=True, SMTP_HOST="")
    client, headers = api_headers_for(app)
    with in_app(app):
        billing = Team.by_name("Billing")
        accounts.set_team_leads(
            billing,
            [
                accounts.create_user(
                    "lead", "password123", "lead", team=billing, email="lead@example.cn"
                )
            ],
        )
    answer(client, headers, DETRACTOR)
    with in_app(app):
        assert FollowUp.select().count() == 1 and Outbox.select().count() == 0


@pytest.mark.parametrize("value", ["ftp://example.cn/hook", "example.cn/hook", "http://"])
def test_a_webhook_address_that_is_not_http_is_refused_at_start(value):
    from feedback import settings

    with pytest.raises(settings.SettingError, match="FEEDBACK_WEBHOOK_URL"):
        settings.from_environment({"FEEDBACK_WEBHOOK_URL": value})
    assert (
        settings.from_environment({"FEEDBACK_WEBHOOK_URL": " https://hook.example/x "})[
            "WEBHOOK_URL"
        ]
        == "https://hook.example/x"
    )


class SigningReceiver(HttpFake):
    """A real HTTP receiver that checks ``X-Feedback-Signature`` as the README tells receivers
    to: 401 when it is missing or wrong, 204 when it matches the exact body bytes."""

    def __init__(self, secret: str):
        self.secret = secret
        self.seen: list[tuple[str | None, bytes, bool]] = []  # (header, body, verified)
        super().__init__(self._answer)
        self.url = f"{self.base}/hook"

    def _answer(self, _path, headers, body: bytes) -> tuple[int, bytes]:
        import hashlib
        import hmac

        header = headers.get("X-Feedback-Signature")
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        verified = header is not None and hmac.compare_digest(header, expected)
        self.seen.append((header, body, verified))
        return (204 if verified else 401), b""


def test_webhooks_are_signed_with_the_receivers_secret(make_app, api_headers_for):
    secret = "s3cret-长"
    with SigningReceiver(secret) as receiver:
        app = make_app(WEBHOOK_URL=receiver.url, WEBHOOK_SECRET=secret)
        client, headers = api_headers_for(app)
        answer(client, headers, DETRACTOR)
        with in_app(app):
            assert outbox.deliver_due(app.config, Clock()) == outbox.Outcome(delivered=1)
            stored = Outbox.get().payload.encode("utf-8")
    [(header, body, verified)] = receiver.seen
    assert verified and header.startswith("sha256=") and len(header) == 7 + 64
    assert body == stored and json.loads(body)["event"] == "follow_up.created"


def test_a_receiver_with_another_secret_refuses_and_the_outbox_retries(make_app, api_headers_for):
    with SigningReceiver("the receiver's secret") as receiver:
        app = make_app(WEBHOOK_URL=receiver.url, WEBHOOK_SECRET="an old secret")
        client, headers = api_headers_for(app)
        answer(client, headers, DETRACTOR)
        clock = Clock()
        with in_app(app):
            assert outbox.deliver_due(app.config, clock) == outbox.Outcome(failed=1)
            assert Outbox.get().last_error == "HTTP 401"
            clock.at += timedelta(seconds=30)
            fixed = {**app.config, "WEBHOOK_SECRET": "the receiver's secret"}
            assert outbox.deliver_due(fixed, clock) == outbox.Outcome(delivered=1)
    assert [verified for _h, _b, verified in receiver.seen] == [False, True]


def test_without_a_secret_no_signature_is_sent(make_app, api_headers_for):
    with SigningReceiver("unused") as receiver:
        app = make_app(WEBHOOK_URL=receiver.url, WEBHOOK_SECRET="")
        client, headers = api_headers_for(app)
        answer(client, headers, DETRACTOR)
        with in_app(app):
            outbox.deliver_due(app.config, Clock())
    [(header, _body, _verified)] = receiver.seen
    assert header is None


def test_signature_is_hmac_sha256_of_the_exact_bytes():
    import hashlib
    import hmac

    body = '{"a": "中文"}'.encode()
    assert (
        outbox.signature("k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    )
