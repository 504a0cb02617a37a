"""Team alerts in chat: WeCom, DingTalk, Feishu and Slack robots, against local fakes that check
each platform's format, signature and rate, through the outbox (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote_plus, urlparse
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import HttpFake, client_for, csrf_from, in_app, post_form, suggest
from support import answer as answer_case

from feedback import outbox, robots, suggestions
from feedback.db import utcnow
from feedback.models import AuditEntry, FollowUp, Outbox, Robot, Team

DETRACTOR = {"resolved": "no", "csat": "1", "nps": "2", "comment": "nobody [called](http://x) back"}
SECRETS = {"dingtalk": "SECdingtalk-secret", "feishu": "feishu-secret"}
REFUSALS = {  # what each platform answers a refused message with (HTTP 200)
    "wecom": {"errcode": 45009, "errmsg": "api freq out of limit"},
    "dingtalk": {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
    "feishu": {"code": 9499, "msg": "too many request"},
}


class Clock:
    """The ``now`` of deliver_due, moved on by the test; the fake counts its rate by it too."""

    def __init__(self):
        self.at = utcnow()

    def __call__(self):
        return self.at


class FakeRobots(HttpFake):
    """One HTTP server playing the four platforms at /wecom, /dingtalk, /feishu and /slack. It
    accepts only what the platform would: its message format, a valid signature made within the
    hour, and at most 20 messages a minute per robot (by ``clock``); anything else gets the
    platform's refusal, HTTP 200 with a non-zero errcode/code (Slack: an HTTP error).
    ``refuse_next`` refuses that many well-formed messages as a busy platform would."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.accepted: list[tuple[str, dict]] = []
        self.refused: list[tuple[str, str]] = []
        self.times: dict[str, list[datetime]] = {}
        self.refuse_next = 0
        self.lock = threading.Lock()
        super().__init__(self.answer)

    def answer(self, path: str, headers, raw: bytes) -> tuple[int, bytes]:
        url = urlparse(path)
        platform = url.path.strip("/")
        problem = self.check(platform, parse_qs(url.query), raw)
        with self.lock:
            if problem is None and self.refuse_next:
                self.refuse_next -= 1
                problem = "busy"
            minute_ago = self.clock() - timedelta(minutes=1)
            if problem is None and sum(t > minute_ago for t in self.times.get(platform, [])) >= 20:
                problem = "rate"
            if problem is None:
                self.times.setdefault(platform, []).append(self.clock())
                self.accepted.append((platform, json.loads(raw)))
            else:
                self.refused.append((platform, problem))
        if platform == "slack":
            return (200, b"ok") if problem is None else (400, b"invalid_payload")
        if problem is None:
            answer = {"code": 0, "msg": "success"} if platform == "feishu" else {"errcode": 0}
        else:
            answer = dict(REFUSALS[platform])
            answer["errmsg" if "errmsg" in answer else "msg"] += f" ({problem})"
        return 200, json.dumps(answer).encode()

    def check(self, platform: str, query: dict, raw: bytes) -> str | None:
        """What is wrong with a request by the platform's rules, or None."""
        body = json.loads(raw)
        now = time.time()
        if platform == "wecom":
            if body.get("msgtype") != "markdown" or not body["markdown"]["content"]:
                return "format"
            if len(body["markdown"]["content"].encode()) > 4096:
                return "too long"
        elif platform == "dingtalk":
            stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
            secret = SECRETS["dingtalk"]
            expected = base64.b64encode(
                hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
            ).decode()
            if not stamp.isdigit() or abs(int(stamp) / 1000 - now) > 3600 or sign != expected:
                return "sign"
            if body.get("msgtype") != "markdown" or not body["markdown"].get("title"):
                return "format"
            if not body["markdown"].get("text"):
                return "format"
        elif platform == "feishu":
            stamp, secret = body.get("timestamp", ""), SECRETS["feishu"]
            key = f"{stamp}\n{secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            if not stamp.isdigit() or abs(int(stamp) - now) > 3600 or body.get("sign") != expected:
                return "sign"
            card = body.get("card") or {}
            if body.get("msg_type") != "interactive" or not card.get("header"):
                return "format"
        elif platform == "slack":
            if not isinstance(body.get("text"), str) or not body["text"]:
                return "format"
        else:
            return "unknown"
        return None

    def text(self, platform: str, body: dict) -> str:
        if platform == "wecom":
            return body["markdown"]["content"]
        if platform == "dingtalk":
            return body["markdown"]["title"] + "\n" + body["markdown"]["text"]
        if platform == "feishu":
            return (
                body["card"]["header"]["title"]["content"]
                + "\n"
                + json.dumps(body["card"]["elements"], ensure_ascii=False)
            )
        return body["text"]


@pytest.fixture
def fake():
    with FakeRobots(Clock()) as server:
        yield server


@pytest.fixture
def robot_app(make_app):
    return make_app(DEFAULT_LOCALE="en", OUTBOX_RETRY_SECONDS=30)


def add_robots(app, fake, team_name="Billing", platforms=robots.PLATFORM_LABELS) -> dict:
    with in_app(app):
        team = Team.by_name(team_name)
        return {
            platform: Robot.create(
                team=team,
                platform=platform,
                name=f"{platform} group",
                url=f"{fake.base}/{platform}"
                + ("?access_token=abc" if platform == "dingtalk" else ""),
                secret=SECRETS.get(platform),
            ).id
            for platform in platforms
        }


def answer(client, headers, data, case_id="C-1001", team="Billing"):
    customer = {"id": f"cust-{case_id}", "locale": "en"}
    reply = answer_case(client, headers, data, case_id=case_id, team=team, customer=customer)
    assert reply.status_code == 302


def deliver_all(app, clock):
    clock.at = max(clock.at, utcnow())  # rows written since the clock was set are due
    with in_app(app):
        return outbox.deliver_due(app.config, clock)


# --- the signatures, against values computed elsewhere -----------------------------------------


def test_dingtalk_signature_matches_a_published_value():
    # the value the Rust crate "dingding" (docs.rs) asserts for this timestamp and secret
    assert quote_plus(robots.dingtalk_sign("secret", 1700000000000)) == (
        "OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D"
    )


def test_feishu_signature_is_keyed_with_timestamp_and_secret_over_nothing():
    key = b"1599360473\ntest-secret"
    assert (
        robots.feishu_sign("test-secret", 1599360473)
        == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    )
    assert robots.feishu_sign("test-secret", 1599360473) != robots.feishu_sign("other", 1599360473)


# --- a new follow-up, on every platform ---------------------------------------------------------


def test_a_new_follow_up_reaches_every_robot_of_its_team_in_its_format(
    robot_app, api_headers_for, fake
):
    app = robot_app
    ids = add_robots(app, fake)
    add_robots(app, fake, team_name="Support", platforms=("wecom",))  # another team's: silent
    client, headers = api_headers_for(app)
    answer(client, headers, DETRACTOR)
    answer(client, headers, {"resolved": "yes", "csat": "5", "nps": "10"}, case_id="C-2")
    with in_app(app):
        rows = list(Outbox.select().where(Outbox.kind == "robot").order_by(Outbox.id))
        follow_up = FollowUp.get()
    assert sorted(r.target for r in rows) == sorted(str(i) for i in ids.values())
    assert {r.event for r in rows} == {"follow_up.created"}
    assert deliver_all(app, fake.clock) == outbox.Outcome(delivered=4)
    assert fake.refused == []
    assert sorted(p for p, _b in fake.accepted) == ["dingtalk", "feishu", "slack", "wecom"]
    for platform, body in fake.accepted:
        text = fake.text(platform, body)
        assert "New follow-up: case C-1001" in text
        # the reasons in words: the question and the customer's answer, not "resolved == no"
        assert "Was your problem resolved? No" in text
        assert "== no" not in text and "<= 2" not in text
        assert "CSAT 1" in text and "NPS 2" in text
        # the customer's comment, unable to make a link of its own
        assert "nobody (called)(http://x) back" in text
        assert "[called](" not in text
        assert f"http://feedback.test/manage/follow-ups/{follow_up.id}" in text
    wecom = dict(fake.accepted)["wecom"]
    assert wecom["msgtype"] == "markdown" and "**Why**" in wecom["markdown"]["content"]
    assert "*Why*" in dict(fake.accepted)["slack"]["text"]
    local_due = follow_up.due_at.replace(tzinfo=UTC).astimezone(ZoneInfo(app.config["TIMEZONE"]))
    assert f"**Due**: {local_due:%Y-%m-%d %H:%M}" in wecom["markdown"]["content"]
    card = dict(fake.accepted)["feishu"]["card"]
    assert card["elements"][0]["content"].startswith("**Team**: Billing")
    link = f"<http://feedback.test/manage/follow-ups/{follow_up.id}|Open the follow-up>"
    assert link in dict(fake.accepted)["slack"]["text"]


def test_a_customers_export_and_erasure_find_the_robot_rows_of_their_case(
    robot_app, api_headers_for, fake
):
    app = robot_app
    add_robots(app, fake, platforms=("wecom",))
    client, headers = api_headers_for(app)
    wrote = {**DETRACTOR, "comment": "call me back: wang@example.cn"}
    customer = {"id": "cust-C-1001", "email": "wang@example.cn", "locale": "en"}
    assert answer_case(client, headers, wrote, customer=customer).status_code == 302
    answer(client, headers, DETRACTOR, case_id="C-2")
    exported = app.test_cli_runner().invoke(args=["customer", "export", "cust-C-1001"])
    rows = json.loads(exported.output)["outbox"]
    assert len(rows) == 1 and "C-1001" in json.dumps(rows)  # found by its case
    erased = app.test_cli_runner().invoke(args=["customer", "erase", "wang@example.cn"])
    assert erased.exit_code == 0, erased.output
    with in_app(app):
        left = [json.loads(r.payload)["case"]["case_id"] for r in Outbox.select()]
    assert left == ["C-2"]  # the row holding their address is gone


def test_messages_are_in_the_sites_default_language(make_app, api_headers_for, fake):
    app = make_app(DEFAULT_LOCALE="zh_CN")
    add_robots(app, fake, platforms=("wecom",))
    client, headers = api_headers_for(app)
    answer(client, headers, DETRACTOR)
    deliver_all(app, fake.clock)
    ((platform, body),) = fake.accepted
    text = fake.text(platform, body)
    assert "您的问题解决了吗？ 否" in text
    assert "New follow-up" not in text


# --- refusals, signatures, rate -----------------------------------------------------------------


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_an_errcode_with_http_200_is_a_failure_retried_with_its_errmsg(
    robot_app, api_headers_for, fake, platform
):
    app = robot_app
    add_robots(app, fake, platforms=(platform,))
    client, headers = api_headers_for(app)
    answer(client, headers, DETRACTOR)
    fake.refuse_next = 1
    assert deliver_all(app, fake.clock) == outbox.Outcome(failed=1)
    with in_app(app):
        row = Outbox.get(Outbox.kind == "robot")
    assert row.delivered_at is None and row.next_attempt_at is not None
    refusal = REFUSALS[platform]
    assert str(refusal.get("errcode", refusal.get("code"))) in row.last_error
    assert (refusal.get("errmsg") or refusal.get("msg")) in row.last_error
    fake.clock.at += timedelta(seconds=30)
    assert deliver_all(app, fake.clock) == outbox.Outcome(delivered=1)
    assert len(fake.accepted) == 1


def test_a_slack_refusal_keeps_its_reason(robot_app, api_headers_for, fake):
    app = robot_app
    add_robots(app, fake, platforms=("slack",))
    client, headers = api_headers_for(app)
    answer(client, headers, DETRACTOR)
    fake.refuse_next = 1
    assert deliver_all(app, fake.clock) == outbox.Outcome(failed=1)
    with in_app(app):
        assert Outbox.get().last_error == "RobotRefused: HTTP 400: invalid_payload"


@pytest.mark.parametrize("platform", ["dingtalk", "feishu"])
def test_a_wrong_secret_is_refused_and_a_corrected_one_applies_to_waiting_rows(
    robot_app, api_headers_for, fake, platform
):
    app = robot_app
    ids = add_robots(app, fake, platforms=(platform,))
    with in_app(app):
        Robot.update(secret="not-the-secret").where(Robot.id == ids[platform]).execute()
    client, headers = api_headers_for(app)
    answer(client, headers, DETRACTOR)
    assert deliver_all(app, fake.clock) == outbox.Outcome(failed=1)
    assert fake.refused == [(platform, "sign")]
    with in_app(app):
        Robot.update(secret=SECRETS[platform]).where(Robot.id == ids[platform]).execute()
        assert "not-the-secret" not in Outbox.get().payload  # the secret never enters a row
    fake.clock.at += timedelta(seconds=30)
    assert deliver_all(app, fake.clock) == outbox.Outcome(delivered=1)


def test_a_burst_is_spread_at_20_a_minute_per_robot_and_nothing_is_dropped(robot_app, fake):
    app = robot_app
    ids = add_robots(app, fake, platforms=("dingtalk", "wecom"))
    start = fake.clock.at
    with in_app(app):
        for number in range(45):
            message = robots.Message(f"alert {number}", url="http://feedback.test/")
            robots.enqueue([ids["dingtalk"]], robots.EVENT_TEST, message, start)
        robots.enqueue([ids["wecom"]], robots.EVENT_TEST, robots.Message("other robot"), start)
        due = [
            r.next_attempt_at
            for r in Outbox.select()
            .where(Outbox.target == str(ids["dingtalk"]))
            .order_by(Outbox.id)
        ]
        wecom_due = Outbox.get(Outbox.target == str(ids["wecom"])).next_attempt_at
    assert (
        due
        == [start] * 20 + [start + timedelta(minutes=1)] * 20 + [start + timedelta(minutes=2)] * 5
    )
    assert wecom_due == start  # each robot has its own minute
    outcomes = []
    for _minute in range(4):
        for _batch in range(2):  # the deliverer takes 50 at a time
            outcomes.append(deliver_all(app, fake.clock))
        fake.clock.at += timedelta(minutes=1)
    assert sum(o.delivered for o in outcomes) == 46
    assert sum(o.failed + o.given_up for o in outcomes) == 0
    assert fake.refused == []
    titles = [fake.text(p, b).splitlines()[0] for p, b in fake.accepted if p == "dingtalk"]
    assert sorted(titles) == sorted(f"alert {n}" for n in range(45))  # each once


def test_the_sender_holds_back_a_row_beyond_the_robots_minute(robot_app, fake):
    """Rows written past the spacing (a retry falling due with a full minute) wait, unsent."""
    app = robot_app
    ids = add_robots(app, fake, platforms=("wecom",))
    with in_app(app):
        for number in range(21):
            outbox.enqueue(
                "robot",
                robots.EVENT_TEST,
                str(ids["wecom"]),
                robots.Message(f"m{number}").to_payload(),
                fake.clock.at,
            )
    outcome = deliver_all(app, fake.clock)
    assert outcome == outbox.Outcome(delivered=20, failed=1)
    with in_app(app):
        waiting = Outbox.get(Outbox.delivered_at.is_null())
    assert "RateLimited" in waiting.last_error and fake.refused == []
    fake.clock.at += timedelta(minutes=1)
    assert deliver_all(app, fake.clock) == outbox.Outcome(delivered=1)


# --- suggestions and overdue follow-ups ---------------------------------------------------------


def test_a_new_suggestion_reaches_its_teams_robots_anonymous_ones_on_the_hour(robot_app, fake):
    app = robot_app
    add_robots(app, fake, platforms=("feishu",))
    with in_app(app):
        suggestions.ensure_default_categories()
    named = suggest(app, anonymous=False, title="Queue *too* long", body="Twenty minutes on hold.")
    anonymous = suggest(
        app, anonymous=True, title="Queue *too* long", body="Twenty minutes on hold."
    )
    suggest(
        app, anonymous=False, team=None, title="Queue *too* long", body="Twenty minutes on hold."
    )  # no team: no robot is told
    with in_app(app):
        rows = {
            json.loads(r.payload)["suggestion"]: r
            for r in Outbox.select().where(Outbox.kind == "robot")
        }
    assert set(rows) == {named.id, anonymous.id}
    hour = suggestions.to_the_hour(utcnow()) + timedelta(hours=1)
    assert rows[anonymous.id].next_attempt_at == hour
    assert rows[named.id].next_attempt_at <= utcnow()
    for row in rows.values():
        assert "Wang" not in row.payload and "example.cn" not in row.payload
    assert deliver_all(app, fake.clock) == outbox.Outcome(delivered=1)
    fake.clock.at = hour
    assert deliver_all(app, fake.clock) == outbox.Outcome(delivered=1)
    texts = [fake.text(p, b) for p, b in fake.accepted]
    assert f"New suggestion #{named.id}" in texts[0] and "gave a name" in texts[0]
    assert f"New suggestion #{anonymous.id}" in texts[1] and "anonymous" in texts[1]
    assert "Queue ∗too∗ long" in texts[1] and "Twenty minutes on hold." in texts[1]
    assert f"http://feedback.test/manage/suggestions/{anonymous.id}" in texts[1]


def test_an_overdue_follow_up_is_announced_once(robot_app, api_headers_for, fake):
    app = robot_app
    add_robots(app, fake, platforms=("slack", "wecom"))
    client, headers = api_headers_for(app)
    answer(client, headers, DETRACTOR)
    answer(client, headers, DETRACTOR, case_id="C-2")
    answer(client, headers, DETRACTOR, case_id="C-3", team="Support")  # no robots: only marked
    with in_app(app):
        first, second, third = FollowUp.select().order_by(FollowUp.id)
        assert robots.alert_overdue(app.config, first.due_at - timedelta(seconds=1)) == 0
        FollowUp.update(due_at=utcnow() - timedelta(hours=1)).where(
            FollowUp.id.in_([first.id, third.id])
        ).execute()
        FollowUp.update(state="closed").where(FollowUp.id == second.id).execute()
        FollowUp.update(due_at=utcnow() - timedelta(hours=2)).where(
            FollowUp.id == second.id
        ).execute()
    result = app.test_cli_runner().invoke(args=["outbox", "overdue"])
    assert result.exit_code == 0 and result.output.startswith("2 overdue alerts"), result.output
    with in_app(app):
        assert robots.alert_overdue(app.config) == 0  # once per follow-up
        marked = {f.id: f.overdue_alerted_at for f in FollowUp.select()}
        rows = list(Outbox.select().where(Outbox.event == "follow_up.overdue"))
    assert marked[first.id] and marked[third.id] and marked[second.id] is None
    assert len(rows) == 2
    fake.clock.at = utcnow()
    deliver_all(app, fake.clock)
    overdue = [fake.text(p, b) for p, b in fake.accepted if "overdue" in fake.text(p, b)]
    assert len(overdue) == 2
    assert all("Follow-up overdue: case C-1001" in t for t in overdue)
    assert all("Was your problem resolved? No" in t for t in overdue)


def test_the_deliverers_loop_announces_overdue_follow_ups(robot_app, api_headers_for, fake):
    app = robot_app
    add_robots(app, fake, platforms=("wecom",))
    client, headers = api_headers_for(app)
    answer(client, headers, DETRACTOR)
    with in_app(app):
        FollowUp.update(due_at=utcnow() - timedelta(minutes=5)).execute()
    stop = threading.Event()
    thread = threading.Thread(target=outbox.run_loop, args=(dict(app.config), stop, 0.05))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(fake.accepted) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)
    titles = sorted(fake.text(p, b).splitlines()[0] for p, b in fake.accepted)
    assert titles == ["**Follow-up overdue: case C-1001**", "**New follow-up: case C-1001**"]


# --- the admin pages ----------------------------------------------------------------------------


def test_an_admin_adds_tests_changes_and_removes_a_robot(robot_app, users, fake):
    app = robot_app
    admin = client_for(app, "admin")
    reply = post_form(
        admin,
        "/admin/robots/new",
        {"team": "", "platform": "dingtalk", "name": "", "url": "ftp://x", "active": "y"},
    )
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert "Choose a team." in page and "Please enter a name." in page
    assert "An address starting with https://" in page
    with in_app(app):
        billing = Team.by_name("Billing").id
    reply = post_form(
        admin,
        "/admin/robots/new",
        {
            "team": str(billing),
            "platform": "dingtalk",
            "name": "Billing on duty",
            "url": f"{fake.base}/dingtalk?access_token=abc",
            "secret": SECRETS["dingtalk"],
            "active": "y",
        },
    )
    assert reply.status_code == 302
    with in_app(app):
        robot = Robot.get()
        assert robot.secret == SECRETS["dingtalk"] and robot.team_id == billing
        entry = AuditEntry.get(AuditEntry.action == "robot.create")
        assert SECRETS["dingtalk"] not in entry.detail
    listing = admin.get("/admin/robots/")
    page = listing.get_data(as_text=True)
    assert "Billing on duty" in page and "Nothing sent yet." in page
    reply = admin.post(f"/admin/robots/{robot.id}/test", data={"csrf_token": csrf_from(page)})
    assert reply.status_code == 302
    assert deliver_all(app, fake.clock) == outbox.Outcome(delivered=1)
    assert "Test message from the feedback site" in fake.text(*fake.accepted[0])
    page = admin.get("/admin/robots/").get_data(as_text=True)
    assert "robot.test" in page and "sent " in page
    # a change without a new secret keeps the old one; the page never shows it
    edit = admin.get(f"/admin/robots/{robot.id}").get_data(as_text=True)
    assert SECRETS["dingtalk"] not in edit
    reply = post_form(
        admin,
        f"/admin/robots/{robot.id}",
        {
            "team": str(billing),
            "platform": "dingtalk",
            "name": "Billing alerts",
            "url": f"{fake.base}/dingtalk?access_token=abc",
            "secret": "",
        },
    )
    assert reply.status_code == 302
    with in_app(app):
        robot = Robot.get()
        assert robot.name == "Billing alerts" and robot.secret == SECRETS["dingtalk"]
        assert not robot.active
        # switched off: its waiting rows are held back, not sent
        robots.send_test(robot, app.config)
    assert deliver_all(app, fake.clock) == outbox.Outcome(failed=1)
    # removing needs the tick; then the robot and its waiting rows are gone
    page = admin.get(f"/admin/robots/{robot.id}").get_data(as_text=True)
    reply = admin.post(f"/admin/robots/{robot.id}/delete", data={"csrf_token": csrf_from(page)})
    assert reply.status_code == 422 and "Tick the box to confirm." in reply.get_data(as_text=True)
    reply = admin.post(
        f"/admin/robots/{robot.id}/delete", data={"csrf_token": csrf_from(page), "confirm": "y"}
    )
    assert reply.status_code == 302
    with in_app(app):
        assert Robot.select().count() == 0
        assert Outbox.select().where(Outbox.delivered_at.is_null()).count() == 0
        assert Outbox.select().count() == 1  # what was sent stays on record
        actions = [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions[-4:] == ["robot.create", "robot.test", "robot.change", "robot.delete"]


def test_only_admins_see_the_robot_pages(robot_app, users):
    for role in ("manager", "lead", "staff"):
        assert client_for(robot_app, role).get("/admin/robots/").status_code == 403


# --- hostile text -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=800))
def test_peoples_text_can_make_no_link_or_emphasis_on_any_platform(text):
    quoted = robots._plain(text)
    assert len(quoted) <= robots.QUOTE_MAX
    for mark in ("[", "]", "<", ">", "*", "`", "_", "|"):
        assert mark not in quoted
    message = robots.Message(
        "title", (("Why", quoted),), quoted, "Open", "http://feedback.test/manage/follow-ups/1"
    )
    for platform in robots.PLATFORM_LABELS:
        body = robots.body_for(platform, message)
        assert json.loads(json.dumps(body, ensure_ascii=False)) == body
        rendered = json.dumps(body, ensure_ascii=False)
        # the only link is ours
        assert rendered.count("http://feedback.test/manage/follow-ups/1") == 1
