"""The JSON API: cases in (with their one invitation, the throttle and reopening), surveys out."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from support import CASE, all_at_once, in_app, new_case, survey_path

from feedback import accounts
from feedback.cases import TOKEN
from feedback.db import utcnow
from feedback.models import ApiToken, Case, Invitation, Team


def post(client, headers, body=None, **changes):
    """POST a case (CASE with ``changes``, or ``body`` as given) and return the raw reply."""
    return client.post(
        "/api/v1/cases", json={**CASE, **changes} if body is None else body, headers=headers
    )


def counts(app) -> dict:
    with in_app(app):
        return {
            "cases": Case.select().count(),
            "invitations": Invitation.select().count(),
            "teams": Team.select().count(),
        }


NOTHING = {"cases": 0, "invitations": 0, "teams": 0}


def stored_case(app, case_ref: str) -> Case:
    with in_app(app):
        return Case.get(Case.case_ref == case_ref)


def stored_invitation(app, case_ref: str) -> Invitation | None:
    with in_app(app):
        return Invitation.select().join(Case).where(Case.case_ref == case_ref).first()


def set_invitation(app, case_ref: str, **fields) -> None:
    with in_app(app):
        case = Case.get(Case.case_ref == case_ref)
        Invitation.update(**fields).where(Invitation.case == case).execute()


def parse_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == timedelta(0), text
    return moment.astimezone(UTC).replace(tzinfo=None)


# --- a new case and its invitation --------------------------------------------------------------


def test_new_case_gets_one_invitation(app, client, api_headers):
    before = utcnow()
    reply = post(client, api_headers)
    assert reply.status_code == 201, reply.get_json()
    assert reply.mimetype == "application/json"
    body = reply.get_json()
    assert set(body) == {"case_id", "invitation", "suppressed"}
    assert body["case_id"] == "C-1001" and body["suppressed"] is False
    invitation = body["invitation"]
    assert set(invitation) == {"token", "url", "expires_at", "status", "delivery", "channel"}
    assert invitation["delivery"] is None  # the site does not send it (the default)
    assert invitation["channel"] is None
    assert TOKEN.match(invitation["token"])
    assert invitation["url"] == f"http://feedback.test/s/{invitation['token']}"
    assert invitation["status"] == "pending"
    expires = parse_utc(invitation["expires_at"])
    assert before + timedelta(days=14) <= expires <= utcnow() + timedelta(days=14)
    assert counts(app) == {"cases": 1, "invitations": 1, "teams": 1}

    case = stored_case(app, "C-1001")
    assert case.channel == "phone" and case.agent == "李娜" and case.category == "billing"
    assert case.resolved_at == datetime(2026, 11, 20, 2, 0)  # 10:00 +08:00 in UTC
    assert case.customer_ref == "cust-1" and case.customer_email == "wang@example.cn"
    assert case.customer_locale == "zh_CN" and case.reopened is False
    assert case.suppressed_reason is None
    with in_app(app):
        assert Team.get_by_id(case.team_id).name == "Billing"
        assert Invitation.get().token == invitation["token"]
    assert client.get(survey_path(body)).status_code == 200


def test_every_field_is_stored_as_given(app, client, api_headers):
    body = {
        "case_id": "  HD-7  ",
        "survey": "servqual",
        "resolved_at": "2026-11-20T14:30:00Z",
        "channel": "onsite",
        "agent": "王伟",
        "team": "账务组",
        "category": "退款",
        "reopened": False,
        "customer": {
            "id": "c-77",
            "name": "张三",
            "email": " Zhang.San@Example.COM ",
            "phone": "+86 138 0000 0000",
            "locale": "en-GB",
        },
    }
    reply = post(client, api_headers, body)
    assert reply.status_code == 201, reply.get_json()
    assert reply.get_json()["case_id"] == "HD-7"  # surrounding blanks are trimmed
    case = stored_case(app, "HD-7")
    with in_app(app):
        assert case.survey.slug == "servqual"
        assert case.team.name == "账务组"
    assert (case.channel, case.agent, case.category) == ("onsite", "王伟", "退款")
    assert case.resolved_at == datetime(2026, 11, 20, 14, 30)
    assert (case.customer_ref, case.customer_name, case.customer_phone) == (
        "c-77",
        "张三",
        "+86 138 0000 0000",
    )
    assert case.customer_email == "zhang.san@example.com"
    assert case.customer_locale == "en"


def test_only_the_required_fields(app, client, api_headers):
    reply = post(
        client,
        api_headers,
        {"case_id": "min", "resolved_at": "2026-11-20T10:00:00", "channel": "chat"},
    )
    assert reply.status_code == 201, reply.get_json()
    case = stored_case(app, "min")
    assert case.team_id is None and case.customer_ref is None and case.customer_email is None
    assert counts(app) == {"cases": 1, "invitations": 1, "teams": 0}


def test_ids_may_be_numbers_and_null_means_left_out(app, client, api_headers):
    body = {
        "case_id": 120034,
        "resolved_at": "2026-11-20T10:00:00+08:00",
        "channel": "email",
        "survey": None,
        "agent": None,
        "team": None,
        "category": None,
        "reopened": None,
        "customer": {"id": 77, "phone": 13800000000, "name": None, "email": None, "locale": None},
    }
    reply = post(client, api_headers, body)
    assert reply.status_code == 201, reply.get_json()
    assert reply.get_json()["case_id"] == "120034"
    case = stored_case(app, "120034")
    assert (case.customer_ref, case.customer_phone) == ("77", "13800000000")
    assert case.agent is None and case.team_id is None and case.reopened is False
    assert post(client, api_headers, {**body, "customer": None}).status_code == 200


def test_survey_defaults_to_the_setting(make_app):
    app = make_app(DEFAULT_SURVEY="callback")
    with in_app(app):
        headers = {"Authorization": f"Bearer {accounts.create_token('hd')}"}
    client = app.test_client()
    assert post(client, headers).status_code == 201
    assert (
        post(
            client, headers, case_id="C-2", survey="post-case", customer={"id": "other"}
        ).status_code
        == 201
    )
    with in_app(app):
        assert Case.get(Case.case_ref == "C-1001").survey.slug == "callback"
        assert Case.get(Case.case_ref == "C-2").survey.slug == "post-case"


def test_team_is_created_once_and_reused(app, client, api_headers):
    new_case(client, api_headers, case_id="A", team="账务组", customer={"id": "a"})
    new_case(client, api_headers, case_id="B", team="账务组", customer={"id": "b"})
    with in_app(app):
        assert [t.name for t in Team.select()] == ["账务组"]


def test_token_use_is_recorded(app, client, api_headers, api_token):
    new_case(client, api_headers)
    with in_app(app):
        assert ApiToken.get().last_used_at is not None


# --- the same case again --------------------------------------------------------------------------


def test_same_case_again_gives_the_same_invitation(app, client, api_headers):
    first = post(client, api_headers)
    assert first.status_code == 201
    again = post(client, api_headers)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    # different details for the same case_id change nothing either
    changed = post(
        client,
        api_headers,
        channel="email",
        agent="someone else",
        resolved_at="2026-11-21T09:00:00+08:00",
    )
    assert changed.status_code == 200
    assert changed.get_json()["invitation"]["token"] == first.get_json()["invitation"]["token"]
    assert counts(app) == {"cases": 1, "invitations": 1, "teams": 1}
    assert stored_case(app, "C-1001").channel == "phone"


def test_suppressed_case_again_stays_suppressed(app, client, api_headers):
    new_case(client, api_headers, case_id="C-1")
    first = post(client, api_headers, case_id="C-2")
    assert first.status_code == 201 and first.get_json()["suppressed"] is True
    again = post(client, api_headers, case_id="C-2")
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert counts(app)["invitations"] == 1


def test_expired_invitation_is_reported_as_expired(app, client, api_headers):
    new_case(client, api_headers)
    set_invitation(app, "C-1001", expires_at=utcnow() - timedelta(minutes=1))
    again = post(client, api_headers)
    assert again.status_code == 200
    assert again.get_json()["invitation"]["status"] == "expired"


def test_simultaneous_posts_of_a_new_case_store_one_case(app, api_headers):
    replies = []
    errors = []
    barrier = threading.Barrier(8)

    def send():
        client = app.test_client()
        try:
            barrier.wait()
            reply = post(client, api_headers, case_id="RACE-1")
            replies.append((reply.status_code, reply.get_json()))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(replies) == 8
    codes = sorted(code for code, _ in replies)
    assert codes == [200] * 7 + [201], replies
    tokens = {body["invitation"]["token"] for _, body in replies}
    assert len(tokens) == 1, tokens
    assert counts(app) == {"cases": 1, "invitations": 1, "teams": 1}


# --- the throttle -------------------------------------------------------------------------------


def test_customer_invited_recently_by_id_is_suppressed(app, client, api_headers):
    new_case(client, api_headers, case_id="C-1", customer={"id": "cust-1", "email": "a@x.cn"})
    reply = post(
        client, api_headers, case_id="C-2", customer={"id": "cust-1", "email": "other@x.cn"}
    )
    assert reply.status_code == 201
    body = reply.get_json()
    assert body["suppressed"] is True and body["invitation"] is None
    assert "30 days" in body["reason"]
    assert stored_case(app, "C-2").suppressed_reason == body["reason"]
    assert counts(app)["cases"] == 2 and counts(app)["invitations"] == 1


@pytest.mark.parametrize(
    "first,second",
    [
        ("Wang@Example.CN", "wang@example.cn"),
        ("wang@example.cn", "WANG@EXAMPLE.CN"),
    ],
)
def test_customer_invited_recently_by_email_is_suppressed(app, client, api_headers, first, second):
    new_case(client, api_headers, case_id="C-1", customer={"id": "id-1", "email": first})
    body = post(
        client, api_headers, case_id="C-2", customer={"id": "id-2", "email": second}
    ).get_json()
    assert body["suppressed"] is True and body["invitation"] is None
    # an email alone (no id) is matched too
    alone = post(client, api_headers, case_id="C-3", customer={"email": second}).get_json()
    assert alone["suppressed"] is True
    assert counts(app)["invitations"] == 1


def test_other_customers_and_anonymous_cases_are_not_throttled(app, client, api_headers):
    assert not new_case(client, api_headers, case_id="C-1", customer={"id": "a"})["suppressed"]
    assert not new_case(client, api_headers, case_id="C-2", customer={"id": "b"})["suppressed"]
    assert not new_case(client, api_headers, case_id="C-3", customer={"email": "c@x.cn"})[
        "suppressed"
    ]
    # no customer id or email: nothing to match on
    assert not new_case(client, api_headers, case_id="C-4", customer=None)["suppressed"]
    assert not new_case(client, api_headers, case_id="C-5", customer={"name": "x"})["suppressed"]
    assert counts(app)["invitations"] == 5


@pytest.mark.parametrize("days", [30, 7])
def test_throttle_window_boundary(make_app, days):
    app = make_app() if days == 30 else make_app(THROTTLE_DAYS=days)
    with in_app(app):
        headers = {"Authorization": f"Bearer {accounts.create_token('hd')}"}
    client = app.test_client()
    new_case(client, headers, case_id="C-1")
    # invited a minute short of the window: still inside it
    set_invitation(app, "C-1", created_at=utcnow() - timedelta(days=days) + timedelta(minutes=1))
    inside = new_case(client, headers, case_id="C-2")
    assert inside["suppressed"] is True and f"{days} days" in inside["reason"]
    # invited a minute before the window began: a new invitation
    set_invitation(app, "C-1", created_at=utcnow() - timedelta(days=days) - timedelta(minutes=1))
    outside = new_case(client, headers, case_id="C-3")
    assert outside["suppressed"] is False and outside["invitation"]["status"] == "pending"


def test_withdrawn_invitation_does_not_throttle(app, client, api_headers):
    new_case(client, api_headers, case_id="C-1")
    new_case(client, api_headers, case_id="C-1", reopened=True)
    assert new_case(client, api_headers, case_id="C-2")["suppressed"] is False


# --- reopened cases ------------------------------------------------------------------------------


def test_reopen_withdraws_the_invitation_and_the_link_gives_410(app, client, api_headers):
    first = new_case(client, api_headers)
    path = survey_path(first)
    reply = post(client, api_headers, reopened=True)
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["invitation"]["token"] == first["invitation"]["token"]
    assert body["invitation"]["status"] == "cancelled"
    assert client.get(path).status_code == 410
    assert stored_invitation(app, "C-1001").status == "cancelled"
    assert stored_case(app, "C-1001").reopened is True
    # reopened again: still withdrawn, nothing new
    assert (
        post(client, api_headers, reopened=True).get_json()["invitation"]["status"] == "cancelled"
    )
    assert counts(app)["invitations"] == 1


def test_resolving_again_restores_the_same_invitation_with_a_fresh_expiry(app, client, api_headers):
    first = new_case(client, api_headers)
    new_case(client, api_headers, reopened=True)
    # the invitation was sent long ago and would have run out by now
    set_invitation(
        app,
        "C-1001",
        created_at=utcnow() - timedelta(days=20),
        expires_at=utcnow() - timedelta(days=6),
    )
    before = utcnow()
    reply = post(client, api_headers, resolved_at="2026-11-22T09:00:00+08:00")
    assert reply.status_code == 200
    invitation = reply.get_json()["invitation"]
    assert invitation["token"] == first["invitation"]["token"]
    assert invitation["status"] == "pending"
    assert parse_utc(invitation["expires_at"]) >= before + timedelta(days=14)
    case = stored_case(app, "C-1001")
    assert case.reopened is False and case.resolved_at == datetime(2026, 11, 22, 1, 0)
    assert client.get(survey_path(first)).status_code == 200
    assert counts(app)["invitations"] == 1


def test_reopen_leaves_an_answered_invitation_alone(app, client, api_headers):
    new_case(client, api_headers)
    set_invitation(app, "C-1001", status="answered", answered_at=utcnow())
    body = post(client, api_headers, reopened=True).get_json()
    assert body["invitation"]["status"] == "answered"
    body = post(client, api_headers).get_json()
    assert body["invitation"]["status"] == "answered"


def test_case_first_seen_reopened_gets_no_invitation(app, client, api_headers):
    reply = post(client, api_headers, reopened=True)
    assert reply.status_code == 201
    body = reply.get_json()
    assert body["suppressed"] is True and body["invitation"] is None
    assert "reopened" in body["reason"]
    assert counts(app)["invitations"] == 0


def test_case_first_seen_reopened_is_invited_once_resolved(app, client, api_headers):
    post(client, api_headers, reopened=True)
    reply = post(client, api_headers)
    body = reply.get_json()
    assert reply.status_code == 200 and body["suppressed"] is False
    assert body["invitation"]["status"] == "pending"
    assert (
        post(client, api_headers).get_json()["invitation"]["token"] == body["invitation"]["token"]
    )
    assert counts(app)["invitations"] == 1


# --- time stamps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given,stored",
    [
        ("2026-11-20T10:00:00", datetime(2026, 11, 20, 2, 0)),  # no offset: Asia/Shanghai
        ("2026-11-20 10:00:00", datetime(2026, 11, 20, 2, 0)),
        ("2026-11-20T10:00", datetime(2026, 11, 20, 2, 0)),
        ("2026-11-20T10:00:00+08:00", datetime(2026, 11, 20, 2, 0)),
        ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, 0)),
        ("2026-11-20t10:00:00z", datetime(2026, 11, 20, 10, 0)),  # RFC 3339 allows lower case
        ("2026-11-20T10:00:00+00:00", datetime(2026, 11, 20, 10, 0)),
        ("2026-11-20T10:00:00-05:00", datetime(2026, 11, 20, 15, 0)),
        ("2026-11-20T01:30:00.250", datetime(2026, 11, 19, 17, 30, 0, 250000)),
    ],
)
def test_resolved_at_is_stored_in_utc(app, client, api_headers, given, stored):
    new_case(client, api_headers, resolved_at=given)
    assert stored_case(app, "C-1001").resolved_at == stored


def test_time_without_offset_follows_the_timezone_setting(make_app):
    app = make_app(TIMEZONE="Europe/Berlin")
    with in_app(app):
        headers = {"Authorization": f"Bearer {accounts.create_token('hd')}"}
    new_case(app.test_client(), headers, resolved_at="2026-07-01T10:00:00")
    assert stored_case(app, "C-1001").resolved_at == datetime(2026, 7, 1, 8, 0)  # CEST


# --- bad input ------------------------------------------------------------------------------------


def test_every_bad_field_is_named_at_once(app, client, api_headers):
    body = {
        "resolved_at": "yesterday afternoon",
        "channel": "fax",
        "customer": {"email": "not-an-email", "id": "c-1"},
        "team": "Billing",
    }
    reply = post(client, api_headers, body)
    assert reply.status_code == 400
    data = reply.get_json()
    assert isinstance(data["error"], str) and data["error"]
    assert set(data["errors"]) == {"case_id", "channel", "resolved_at", "customer.email"}
    assert all(
        isinstance(m, list) and m and all(isinstance(x, str) for x in m)
        for m in data["errors"].values()
    )
    assert "required" in data["errors"]["case_id"][0]
    assert "phone" in data["errors"]["channel"][0]
    assert "ISO 8601" in data["errors"]["resolved_at"][0]
    assert counts(app) == NOTHING


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"case_id": ""}, "case_id"),
        ({"case_id": "   "}, "case_id"),
        ({"case_id": None}, "case_id"),
        ({"case_id": "x" * 101}, "case_id"),
        ({"case_id": ["C-1"]}, "case_id"),
        ({"case_id": True}, "case_id"),
        ({"case_id": "C\x00-1"}, "case_id"),
        ({"case_id": "C-\ud800"}, "case_id"),
        ({"customer": {"name": "张\x00三"}}, "customer.name"),
        ({"channel": None}, "channel"),
        ({"channel": "fax"}, "channel"),
        ({"channel": 3}, "channel"),
        ({"resolved_at": None}, "resolved_at"),
        ({"resolved_at": "2026-13-01T10:00:00"}, "resolved_at"),
        ({"resolved_at": "20. November 2026"}, "resolved_at"),
        ({"resolved_at": 1763600000}, "resolved_at"),
        ({"resolved_at": "0001-01-01T00:00:00"}, "resolved_at"),
        ({"resolved_at": "0001-01-01T00:00:00+08:00"}, "resolved_at"),
        ({"resolved_at": "9999-12-31T23:59:59-08:00"}, "resolved_at"),
        ({"resolved_at": "2999-01-01T00:00:00+08:00"}, "resolved_at"),  # in the future
        ({"survey": ["post-case"]}, "survey"),
        ({"agent": "a" * 101}, "agent"),
        ({"agent": {"name": "x"}}, "agent"),
        ({"team": "t" * 101}, "team"),
        ({"category": 1.5}, "category"),
        ({"reopened": "yes"}, "reopened"),
        ({"reopened": 1}, "reopened"),
        ({"agent": 7}, "agent"),  # only ids may be numbers
        ({"customer": {"locale": 5}}, "customer.locale"),
        ({"customer": "cust-1"}, "customer"),
        ({"customer": ["cust-1"]}, "customer"),
        ({"customer": []}, "customer"),
        ({"customer": False}, "customer"),
        ({"customer": ""}, "customer"),
        ({"customer": {"id": 1.5}}, "customer.id"),
        ({"customer": {"id": "i" * 201}}, "customer.id"),
        ({"customer": {"name": 5.5}}, "customer.name"),
        ({"customer": {"email": "a@b"}}, "customer.email"),
        ({"customer": {"email": "two words@x.cn"}}, "customer.email"),
        ({"customer": {"phone": "1" * 51}}, "customer.phone"),
    ],
)
def test_one_bad_field_is_named_and_nothing_is_stored(app, client, api_headers, changes, field):
    reply = post(client, api_headers, **changes)
    assert reply.status_code == 400, reply.get_json()
    assert list(reply.get_json()["errors"]) == [field]
    assert counts(app) == NOTHING


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "case_id=C-1&channel=phone", "content_type": "application/x-www-form-urlencoded"},
        {"data": "not json at all", "content_type": "text/plain"},
        {"data": '{"case_id": ', "content_type": "application/json"},
        {"data": "", "content_type": "application/json"},
        {"data": "null", "content_type": "application/json"},
        {"data": "[1, 2]", "content_type": "application/json"},
        {"data": '"C-1"', "content_type": "application/json"},
        {"data": b"\xff\xfe{}", "content_type": "application/json"},
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(app, client, api_headers, kwargs):
    reply = client.post("/api/v1/cases", headers=api_headers, **kwargs)
    assert reply.status_code == 400
    assert reply.get_json()["errors"] == {"body": ["must be a JSON object"]}
    assert counts(app) == NOTHING


def test_unknown_survey_is_404_and_stores_nothing(app, client, api_headers):
    reply = post(client, api_headers, survey="no-such-survey")
    assert reply.status_code == 404
    assert reply.get_json()["errors"] == {"survey": ["unknown survey"]}
    assert counts(app) == NOTHING


def test_bad_fields_come_before_an_unknown_survey(app, client, api_headers):
    reply = post(client, api_headers, survey="no-such-survey", channel="fax")
    assert reply.status_code == 400 and list(reply.get_json()["errors"]) == ["channel"]


# --- tokens ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-token",
        "Basic dXNlcjpwYXNz",
        "bearer {token}x",
        "Token {token}",
    ],
)
def test_missing_or_wrong_token_is_401(app, client, api_token, header):
    headers = {} if header is None else {"Authorization": header.format(token=api_token)}
    for reply in (post(client, headers), client.get("/api/v1/surveys/post-case", headers=headers)):
        assert reply.status_code == 401
        assert "token" in reply.get_json()["error"]
    assert counts(app) == NOTHING


def test_bad_token_is_refused_before_the_body_is_read(app, client):
    reply = client.post(
        "/api/v1/cases",
        data="not json",
        content_type="text/plain",
        headers={"Authorization": "Bearer nope"},
    )
    assert reply.status_code == 401


def test_revoked_token_is_401(app, client, api_token, api_headers):
    assert post(client, api_headers).status_code == 201
    with in_app(app):
        assert accounts.revoke_token(ApiToken.get().id)
    reply = post(client, api_headers, case_id="C-2", customer={"id": "other"})
    assert reply.status_code == 401
    assert client.get("/api/v1/surveys/post-case", headers=api_headers).status_code == 401
    assert counts(app)["cases"] == 1


def test_token_with_surrounding_blanks_still_works(client, api_token):
    reply = post(client, {"Authorization": f"Bearer  {api_token} "})
    assert reply.status_code == 201


# --- surveys --------------------------------------------------------------------------------------


def test_survey_definition_is_served(client, api_headers):
    reply = client.get("/api/v1/surveys/post-case", headers=api_headers)
    assert reply.status_code == 200
    body = reply.get_json()
    assert set(body) == {"slug", "version", "title", "questions"}
    assert body["slug"] == "post-case" and body["version"] == 1
    assert body["title"] == {"zh-CN": "服务满意度调查", "en": "How did we do?"}
    questions = {q["id"]: q for q in body["questions"]}
    assert [q["id"] for q in body["questions"]] == [
        "resolved",
        "unresolved_detail",
        "csat",
        "what_went_wrong",
        "nps",
        "ces",
        "speed",
        "attitude",
        "competence",
        "comment",
    ]
    for q in body["questions"]:
        assert set(q) == {"id", "type", "required", "min", "max", "choices"}
    assert questions["csat"] == {
        "id": "csat",
        "type": "csat",
        "required": True,
        "min": 1,
        "max": 5,
        "choices": [],
    }
    assert (questions["nps"]["min"], questions["nps"]["max"]) == (0, 10)
    assert (questions["ces"]["min"], questions["ces"]["max"]) == (1, 7)
    assert questions["ces"]["required"] is False
    assert questions["resolved"]["choices"] == [
        {"value": "yes", "label": {"zh-CN": "是", "en": "Yes"}},
        {"value": "no", "label": {"zh-CN": "否", "en": "No"}},
    ]
    assert [c["value"] for c in questions["what_went_wrong"]["choices"]] == [
        "speed",
        "attitude",
        "competence",
        "not_solved",
        "other",
    ]
    assert questions["what_went_wrong"]["choices"][0]["label"] == {
        "zh-CN": "响应太慢",
        "en": "It took too long",
    }
    assert questions["comment"] == {
        "id": "comment",
        "type": "textarea",
        "required": False,
        "min": None,
        "max": None,
        "choices": [],
    }


def test_servqual_survey_is_served(client, api_headers):
    body = client.get("/api/v1/surveys/servqual", headers=api_headers).get_json()
    assert body["slug"] == "servqual"
    assert all(
        q["min"] == 1 and q["max"] == 7 for q in body["questions"] if q["type"] == "servqual"
    )


@pytest.mark.parametrize("slug", ["no-such-survey", "POST-CASE", "post-case.yaml", "x" * 300])
def test_unknown_survey_definition_is_404(client, api_headers, slug):
    reply = client.get(f"/api/v1/surveys/{slug}", headers=api_headers)
    assert reply.status_code == 404
    assert reply.get_json()["error"]


@pytest.mark.parametrize("slug", ["%00", "a%00b"])
def test_a_nul_in_the_path_is_a_400_naming_it(client, api_headers, slug):
    """As NUL anywhere in a request (feedback/input_checks.py): refused before the view."""
    reply = client.get(f"/api/v1/surveys/{slug}", headers=api_headers)
    assert reply.status_code == 400
    assert list(reply.get_json()["errors"]) == ["path"]


def test_openapi_document_is_public_and_describes_every_route(app, client):
    reply = client.get("/api/v1/openapi.json")
    assert reply.status_code == 200
    document = reply.get_json()
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": "http://feedback.test"}]
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
    }
    assert set(document["paths"]) == routes
    case = document["components"]["schemas"]["Case"]
    assert set(case["required"]) == {"case_id", "resolved_at", "channel"}
    assert case["properties"]["channel"]["enum"] == ["phone", "chat", "email", "social", "onsite"]


def test_simultaneous_cases_of_one_customer_give_one_invitation(app, api_headers):
    def send(n):
        reply = post(app.test_client(), api_headers, case_id=f"BULK-{n}", team=None)
        return reply.status_code, reply.get_json()

    replies = all_at_once(8, send)
    assert sorted(code for code, _ in replies) == [201] * 8, replies
    assert sum(not body["suppressed"] for _, body in replies) == 1, replies
    assert counts(app) == {"cases": 8, "invitations": 1, "teams": 0}


def test_openapi_documents_every_report_parameter_with_a_description(app, client, api_headers):
    """Each query parameter /metrics reads is in the document with words on what it does; the
    ``period`` preset (read by the API, once left out of the document) among them, and it works
    as described: 7d is the last 7 days, winning over from and to."""
    document = client.get("/api/v1/openapi.json").get_json()
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/metrics"]["get"]["parameters"]}
    read = {"survey", "from", "to", "period", "group_by", "channel", "team", "agent"}
    assert read | {"category", "source"} == set(parameters)
    period = parameters["period"]["description"]
    for key in ("7d", "28d", "90d", "365d"):
        assert key in period
    assert "wins over from and to" in period
    reply = client.get(
        "/api/v1/metrics?period=7d&from=2020-01-01&to=2020-01-31", headers=api_headers
    )
    body = reply.get_json()
    assert reply.status_code == 200, body
    start, end = (datetime.fromisoformat(body[k]).date() for k in ("from", "to"))
    assert (end - start).days == 6 and end.year > 2020
