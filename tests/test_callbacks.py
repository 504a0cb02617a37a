"""Phone call-backs: staff find a case and record the customer's answers."""

from __future__ import annotations

import pytest
from support import csrf_from, in_app, login, new_case

from feedback.models import Case, FollowUp, Invitation, Response

CALLBACK_UNHAPPY = {
    "reached": "yes",
    "resolved": "no",
    "csat": "2",
    "nps": "5",
    "customer_words": "still waiting",
    "agent_note": "promised a refund",
}
CALLBACK_HAPPY = {"reached": "yes", "resolved": "yes", "csat": "5", "nps": "9"}
OWN_HAPPY = {"resolved": "yes", "csat": "5", "nps": "10"}


@pytest.fixture
def case_id(app, client, api_headers, users):
    new_case(
        client,
        api_headers,
        case_id="HD-77",
        customer={"id": "c-77", "locale": "zh-CN", "phone": "+86 10 1234 5678"},
    )
    with in_app(app):
        return Case.get(Case.case_ref == "HD-77").id


def staff_client(app, role="staff"):
    client = app.test_client()
    login(client, role)
    return client


def record(client, case_id, slug, data):
    url = f"/callback/case/{case_id}/{slug}"
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={**data, "csrf_token": csrf_from(page.get_data(as_text=True))})


@pytest.mark.parametrize(
    "role,status", [(None, 302), ("staff", 200), ("lead", 200), ("manager", 200), ("admin", 200)]
)
def test_every_route_needs_a_login(app, case_id, role, status):
    client = app.test_client()
    if role:
        login(client, role)
    for url in (
        "/callback/",
        f"/callback/case/{case_id}",
        f"/callback/case/{case_id}/callback",
        f"/callback/case/{case_id}/post-case",
    ):
        reply = client.get(url)
        assert reply.status_code == status, url
        if role is None:
            assert "/login" in reply.headers["Location"]
    token = csrf_from(client.get("/login").get_data(as_text=True)) if role is None else None
    if role is None:
        reply = client.post(
            f"/callback/case/{case_id}/callback", data={**CALLBACK_HAPPY, "csrf_token": token}
        )
        assert reply.status_code == 302 and "/login" in reply.headers["Location"]
        with in_app(app):
            assert Response.select().count() == 0


def test_find_a_case_by_its_reference(app, case_id):
    client = staff_client(app)
    found = client.get("/callback/?case=HD-77")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/case/{case_id}")
    page = client.get(f"/callback/case/{case_id}?lang=en").get_data(as_text=True)
    assert "+86 10 1234 5678" in page and "not yet answered" in page and "call-back survey" in page
    # each survey by its title, not its slug
    assert f'/case/{case_id}/post-case">How did we do?</a>' in page and ">post-case<" not in page
    missing = client.get("/callback/?case=NOPE&lang=en")
    text = missing.get_data(as_text=True)
    assert missing.status_code == 404 and 'id="case-error"' in text and 'value="NOPE"' in text
    assert client.get("/callback/case/99999").status_code == 404
    assert client.get(f"/callback/case/{case_id}/servqual").status_code == 404


def test_callback_survey_records_source_staff_and_opens_a_follow_up(app, case_id, users):
    client = staff_client(app)
    reply = record(client, case_id, "callback", CALLBACK_UNHAPPY)
    assert reply.status_code == 302
    # the message is in the language of the request that saved it (here Chinese, the default)
    assert "这些回答触发了一条跟进" in client.get(reply.headers["Location"]).get_data(as_text=True)
    assert record(client, case_id, "callback", CALLBACK_HAPPY).status_code == 302  # again: fine
    with in_app(app):
        first, second = Response.select().order_by(Response.id)
        assert first.source == "callback" and first.entered_by_id == users["staff"].id
        assert first.invitation_id is None and (first.csat, first.nps) == (2, 5)
        assert Invitation.get().status == "pending"  # the customer's own link still works
        (follow_up,) = FollowUp.select()
        assert follow_up.response_id == first.id
        assert follow_up.reasons == "csat <= 2; nps <= 6; resolved == no"
    manager = staff_client(app, "manager")
    page = manager.get(f"/manage/follow-ups/{follow_up.id}?lang=en").get_data(as_text=True)
    assert "recorded on a call-back by staff" in page and "promised a refund" in page


def test_own_survey_obeys_the_one_response_rule(app, client, api_headers, case_id):
    staff = staff_client(app)
    assert record(staff, case_id, "post-case", OWN_HAPPY).status_code == 302
    with in_app(app):
        response = Response.get()
        assert response.source == "callback" and response.invitation_id is not None
        invitation = Invitation.get()
        assert invitation.status == "answered"
        assert FollowUp.select().count() == 0
    # the customer's link now says "already answered" and stores nothing
    page = client.get(f"/s/{invitation.token}")
    assert page.status_code == 200 and 'name="csat"' not in page.get_data(as_text=True)
    # a second call-back on the case's own survey is refused, and sent to the call-back survey
    again = staff.get(f"/callback/case/{case_id}/post-case")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/case/{case_id}")
    with in_app(app):
        assert Response.select().count() == 1


def test_a_customer_answer_between_opening_and_saving_wins(app, client, api_headers, case_id):
    staff = staff_client(app)
    url = f"/callback/case/{case_id}/post-case"
    form_page = staff.get(url).get_data(as_text=True)
    with in_app(app):
        token = Invitation.get().token
    customer_page = client.get(f"/s/{token}").get_data(as_text=True)
    assert (
        client.post(
            f"/s/{token}", data={**OWN_HAPPY, "csrf_token": csrf_from(customer_page)}
        ).status_code
        == 302
    )
    late = staff.post(url, data={**OWN_HAPPY, "csrf_token": csrf_from(form_page)})
    assert late.status_code == 302
    assert "已经有人回答或已撤回" in staff.get(late.headers["Location"]).get_data(as_text=True)
    with in_app(app):
        assert [r.source for r in Response.select()] == ["link"]


def test_own_survey_can_be_recorded_after_the_link_expired(app, case_id):
    with in_app(app):
        Invitation.update(expires_at=Invitation.created_at).execute()
    reply = record(staff_client(app), case_id, "post-case", OWN_HAPPY)
    assert reply.status_code == 302, reply.get_data(as_text=True)
    with in_app(app):
        assert Response.get().source == "callback"


@pytest.mark.parametrize(
    "data,errors",
    [
        ({"reached": "yes", "csat": "9"}, ["resolved", "csat"]),
        ({}, ["reached"]),
        ({"reached": "maybe"}, ["reached"]),
    ],
)
def test_bad_answers_are_named_and_kept(app, case_id, data, errors):
    client = staff_client(app)
    reply = record(client, case_id, "callback", {**data, "agent_note": "keep this note"})
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422
    for question in errors:
        assert f'id="q-{question}-error"' in page
    assert "keep this note" in page
    with in_app(app):
        assert Response.select().count() == 0


def test_not_reached_needs_no_more_answers_and_opens_no_follow_up(app, case_id):
    assert (
        record(
            staff_client(app),
            case_id,
            "callback",
            {"reached": "no", "csat": "1", "agent_note": "voicemail"},
        ).status_code
        == 302
    )
    with in_app(app):
        response = Response.get()
        assert response.csat is None  # csat was not asked: reached == no
        assert FollowUp.select().count() == 0


def test_a_form_without_csrf_token_stores_nothing(app, case_id):
    client = staff_client(app)
    reply = client.post(f"/callback/case/{case_id}/callback", data=CALLBACK_HAPPY)
    assert reply.status_code == 400
    with in_app(app):
        assert Response.select().count() == 0
