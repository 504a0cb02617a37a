"""A customer answers a post-case survey through the personal link."""

from __future__ import annotations

import re
import threading

import pytest
from support import csrf_from, in_app, new_case, survey_path

from feedback.models import Answer, Invitation, Response

GOOD = {"resolved": "yes", "csat": "4", "nps": "9", "ces": "6", "comment": "很好 fine"}


def open_survey(client, api_headers, **case):
    reply = new_case(client, api_headers, **case)
    path = survey_path(reply)
    page = client.get(path)
    assert page.status_code == 200
    return path, page.get_data(as_text=True)


def submit(client, path, html, data):
    return client.post(path, data={**data, "csrf_token": csrf_from(html)})


def counts(app):
    with in_app(app):
        return Response.select().count(), Answer.select().count()


def test_answer_is_stored_once_with_every_answer(app, client, api_headers):
    path, html = open_survey(client, api_headers)
    reply = submit(client, path, html, GOOD)
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/thanks")
    thanks = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "感谢您的反馈" in thanks
    with in_app(app):
        response = Response.get()
        assert (response.csat, response.nps, response.ces) == (4, 9, 6)
        assert response.channel == "phone" and response.agent == "李娜"
        stored = {a.question_id: (a.value_int, a.value_text) for a in response.answers}
        assert stored == {
            "resolved": (None, "yes"),
            "csat": (4, None),
            "nps": (9, None),
            "ces": (6, None),
            "comment": (None, "很好 fine"),
        }
        assert Invitation.get().status == "answered"
    again = submit(client, path, html, {**GOOD, "csat": "1"})
    assert (
        again.status_code == 200
        and "already been answered" in again.get_data(as_text=True)
        or "已" in again.get_data(as_text=True)
    )
    assert counts(app) == (1, 5)
    assert client.get(path).status_code == 200  # the page says "already answered"


def test_missing_and_bad_answers_are_named_and_kept(app, client, api_headers):
    path, html = open_survey(client, api_headers)
    reply = submit(client, path, html, {"csat": "9", "comment": "keep me"})
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert 'id="q-csat-error"' in page and 'id="q-resolved-error"' in page
    assert 'id="q-nps-error"' in page and 'id="q-ces-error"' not in page  # ces is optional
    assert "keep me" in page  # what was typed is not lost
    assert counts(app) == (0, 0)


def test_show_if_question_is_ignored_when_its_condition_fails(app, client, api_headers):
    path, html = open_survey(client, api_headers)
    submit(
        client,
        path,
        html,
        {**GOOD, "csat": "5", "what_went_wrong": ["speed"], "unresolved_detail": "ignored"},
    )
    with in_app(app):
        assert (
            not Answer.select()
            .where(Answer.question_id.in_(["what_went_wrong", "unresolved_detail"]))
            .exists()
        )


def test_show_if_question_is_stored_when_its_condition_holds(app, client, api_headers):
    path, html = open_survey(client, api_headers)
    submit(
        client,
        path,
        html,
        {
            **GOOD,
            "resolved": "no",
            "csat": "2",
            "what_went_wrong": ["speed", "attitude"],
            "unresolved_detail": "refund missing",
        },
    )
    with in_app(app):
        chosen = sorted(
            a.value_text for a in Answer.select().where(Answer.question_id == "what_went_wrong")
        )
        assert chosen == ["attitude", "speed"]


def test_one_click_answer_from_email_is_preselected(client, api_headers):
    reply = new_case(client, api_headers)
    html = client.get(survey_path(reply) + "?csat=5&nps=42").get_data(as_text=True)
    checked = re.findall(r"<input [^>]*checked[^>]*>", html)
    assert len(checked) == 1, checked  # nps=42 is out of range and ignored
    assert 'name="csat"' in checked[0] and 'value="5"' in checked[0]


@pytest.mark.parametrize(
    "locale,accept,expected",
    [
        ("zh-CN", "en", "您的问题解决了吗"),
        ("en", "zh-CN", "Was your problem resolved"),
        (None, "en-GB,en;q=0.9", "Was your problem resolved"),
        (None, "fr", "您的问题解决了吗"),  # the site default
    ],
)
def test_language_follows_case_then_browser_then_default(
    client, api_headers, locale, accept, expected
):
    customer = {"id": "c-lang", "locale": locale} if locale else {"id": "c-lang"}
    reply = new_case(client, api_headers, customer=customer)
    html = client.get(survey_path(reply), headers={"Accept-Language": accept})
    assert expected in html.get_data(as_text=True)


def test_language_switch_overrides(client, api_headers):
    reply = new_case(client, api_headers)
    html = client.get(survey_path(reply) + "?lang=en").get_data(as_text=True)
    assert "Was your problem resolved" in html


@pytest.mark.parametrize(
    "path,status", [("/s/unknown-token-123456", 404), ("/s/bad!", 404), ("/s/x", 404)]
)
def test_unknown_or_malformed_link(client, path, status):
    assert client.get(path).status_code == status


def test_expired_and_cancelled_links_get_410(app, client, api_headers):
    reply = new_case(client, api_headers)
    path = survey_path(reply)
    with in_app(app):
        Invitation.update(expires_at=Invitation.created_at).execute()
    page = client.get(path, headers={"Accept-Language": "en"})  # the case says zh-CN
    assert page.status_code == 410 and "此问卷链接已过期" in page.get_data(as_text=True)
    second = new_case(client, api_headers, case_id="C-2", customer={"id": "other"})
    new_case(client, api_headers, case_id="C-2", customer={"id": "other"}, reopened=True)
    cancelled = client.get(survey_path(second))
    assert cancelled.status_code == 410


def test_simultaneous_submissions_store_one_response(app, make_app, api_headers):
    client = app.test_client()
    path, html = open_survey(client, api_headers)
    token = csrf_from(html)
    results = []
    barrier = threading.Barrier(6)

    def post():
        c = app.test_client()  # no cookies needed: the form's token is all it takes
        barrier.wait()
        results.append(c.post(path, data={**GOOD, "csrf_token": token}).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count(302) == 1, results
    assert all(code in (200, 302) for code in results), results
    assert counts(app)[0] == 1


@pytest.mark.parametrize("token", [None, "forged", "0" * 64])
def test_csrf_is_required_and_answers_are_kept(app, client, api_headers, token):
    path, _html = open_survey(client, api_headers)
    data = {**GOOD, "comment": "留着我"} | ({"csrf_token": token} if token else {})
    reply = client.post(path, data=data)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422 and "留着我" in page
    assert counts(app) == (0, 0)
    again = client.post(path, data={**data, "csrf_token": csrf_from(page)})
    assert again.status_code == 302 and counts(app)[0] == 1


def test_survey_pages_set_no_cookie(client, api_headers):
    reply = new_case(client, api_headers)
    page = client.get(survey_path(reply))
    assert "Set-Cookie" not in page.headers
    assert page.headers["Referrer-Policy"] == "same-origin"
