"""One-click links: a score chosen in the invitation email is sent with one tap.

A customer who arrives with a pre-selected answer (``/s/<token>?csat=5``, the links of
``invitations.one_click_links``) must answer only that question: the page says the others are
optional and offers a send button at the top. Fetching the page (a mail scanner) stores nothing.
The cached page (no cookie) and the plain path (a cookie) behave the same.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import csrf_from, in_app, new_case, survey_path

from feedback.definitions import load_directory
from feedback.models import Answer, FollowUp, Response
from feedback.web.survey_forms import preselected_ids

HEADERS = {"anonymous": {}, "plain": {"Cookie": "unrelated=1"}}


def counts(app):
    with in_app(app):
        return Response.select().count(), Answer.select().count()


def one_click_page(app, client, api_headers, path_kind: str, query: str = "?csat=5", **case):
    path = survey_path(new_case(client, api_headers, **case))
    page = app.test_client().get(path + query, headers=HEADERS[path_kind])
    assert page.status_code == 200
    return path, page.get_data(as_text=True)


def hidden_preselected(html: str) -> str | None:
    match = re.search(r'<input name="preselected" type="hidden" value="([^"]*)">', html)
    return match.group(1) if match else None


@pytest.mark.parametrize("path_kind", sorted(HEADERS))
def test_one_tap_sends_the_score_alone_and_fetching_stores_nothing(
    app, client, api_headers, path_kind
):
    path, html = one_click_page(app, client, api_headers, path_kind)
    for _ in range(3):  # a link scanner fetching the page, again and again
        app.test_client().get(path + "?csat=5", headers=HEADERS[path_kind])
    assert counts(app) == (0, 0)
    assert hidden_preselected(html) == "csat"
    assert 'id="one-tap"' in html and "其他问题均为选答" in html
    # only the pre-selected question is marked and exposed as required
    assert re.findall(r'<input[^>]*name="csat"[^>]*>', html)[0].count("required") == 1
    assert not re.search(r'<input[^>]*name="resolved"[^>]*required', html)
    checked = re.findall(r"<input [^>]*checked[^>]*>", html)
    form = {"csrf_token": csrf_from(html), "preselected": "csat", "csat": "5"}
    form.update({"version": re.search(r'name="version" type="hidden" value="(\d+)"', html)[1]})
    assert len(checked) == 1 and 'value="5"' in checked[0]
    reply = app.test_client().post(path, data=form, headers=HEADERS[path_kind])
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/thanks")
    with in_app(app):
        response = Response.get()
        assert (response.csat, response.nps, response.ces) == (5, None, None)
        assert [a.question_id for a in response.answers] == ["csat"]


@pytest.mark.parametrize("path_kind", sorted(HEADERS))
def test_a_low_one_click_score_is_stored_and_followed_up_like_any_other(
    app, client, api_headers, path_kind
):
    path, html = one_click_page(app, client, api_headers, path_kind, "?csat=1")
    form = {"csrf_token": csrf_from(html), "preselected": "csat", "csat": "1"}
    reply = app.test_client().post(path, data=form, headers=HEADERS[path_kind])
    assert reply.status_code == 302
    with in_app(app):
        assert Response.get().csat == 1
        assert FollowUp.select().count() == 1  # csat <= 2 in the default follow-up rule


@pytest.mark.parametrize("path_kind", sorted(HEADERS))
def test_the_one_click_question_itself_must_still_be_answered(app, client, api_headers, path_kind):
    path, html = one_click_page(app, client, api_headers, path_kind)
    form = {"csrf_token": csrf_from(html), "preselected": "csat", "comment": "keep me"}
    reply = app.test_client().post(path, data=form, headers=HEADERS[path_kind])
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert 'id="q-csat-error"' in page and 'id="q-resolved-error"' not in page
    assert hidden_preselected(page) == "csat" and 'id="one-tap"' in page  # still one tap
    assert "keep me" in page
    assert counts(app) == (0, 0)


@pytest.mark.parametrize(
    "sent",
    ["", "unresolved_detail", "what_went_wrong", "nope", "csat,", ",,,", "x" * 5000, "csat\0"],
)
def test_a_forged_preselection_does_not_make_the_survey_optional(app, client, api_headers, sent):
    """Only unconditional questions of the survey count, and they must then be answered:
    anything else leaves the usual rules."""
    path = survey_path(new_case(client, api_headers))
    html = client.get(path).get_data(as_text=True)
    assert hidden_preselected(html) is None and 'id="one-tap"' not in html
    reply = client.post(
        path, data={"csrf_token": csrf_from(html), "preselected": sent, "comment": "x"}
    )
    assert counts(app) == (0, 0)
    if "\0" in sent:  # refused as a whole, as any NUL in a form is
        assert reply.status_code == 400
        return
    assert reply.status_code == 422
    page = reply.get_data(as_text=True)
    if sent.startswith("csat"):
        assert 'id="q-csat-error"' in page and 'id="q-resolved-error"' not in page
    else:
        assert 'id="q-resolved-error"' in page and 'id="q-csat-error"' in page
    assert counts(app) == (0, 0)


def test_a_link_without_a_valid_answer_is_the_usual_page(app, client, api_headers):
    for query in ("?csat=9", "?what_went_wrong=speed", "?nobody=1"):
        _path, html = one_click_page(app, client, api_headers, "anonymous", query)
        assert hidden_preselected(html) is None and 'id="one-tap"' not in html
        assert "标有 * 的问题为必答题" in html


def test_one_click_page_in_english(app, client, api_headers):
    _path, html = one_click_page(
        app, client, api_headers, "anonymous", customer={"id": "en-1", "locale": "en"}
    )
    assert "every other question is optional" in html and "Send my rating" in html


SURVEYS, _problems = load_directory(Path(__file__).resolve().parents[1] / "surveys")


@settings(max_examples=300, deadline=None)
@given(
    sent=st.one_of(
        st.none(),
        st.text(max_size=200),
        st.lists(
            st.sampled_from(
                ["csat", "nps", "resolved", "what_went_wrong", "unresolved_detail", "", "ces", "x"]
            )
        ).map(",".join),
    )
)
def test_any_preselection_sent_names_only_unconditional_questions(sent):
    definition = SURVEYS["post-case"]
    chosen = preselected_ids(definition, sent)
    unconditional = {q.id for q in definition.questions if q.show_if is None}
    assert chosen <= unconditional
    if sent:  # (at most 200 characters here, under the 1000 kept)
        assert chosen == unconditional & set(sent.split(","))
    else:
        assert chosen == frozenset()
