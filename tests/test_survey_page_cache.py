"""The survey page of an unanswered invitation comes from a cache for customers without cookies.

The cached page must be, byte for byte, what the full path renders for that invitation, hold
only that invitation's token and CSRF token, follow the survey version and the language, and set
no cookie. A request with any cookie (a staff member, a kept language switch) takes the full path.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from support import csrf_from, in_app, login, new_case, survey_path

from feedback.cache import app_cache
from feedback.db import database
from feedback.models import Response
from feedback.web.fastpath import CSRF_STAND_IN, PAGE_CACHE_SIZE, TOKEN_STAND_IN
from feedback.web.survey_forms import survey_csrf_token

SURVEYS = Path(__file__).resolve().parent.parent / "surveys"
GOOD = {"resolved": "yes", "csat": "4", "nps": "9", "ces": "6"}


def invitation(client, api_headers, n: int, **customer) -> tuple[str, str]:
    """A new pending invitation of customer ``n``: its path and its token."""
    reply = new_case(
        client, api_headers, case_id=f"CACHE-{n}", customer={"id": f"cache-{n}", **customer}
    )
    path = survey_path(reply)
    return path, path.rsplit("/", 1)[1]


def cached(app):
    return app_cache("survey_pages", PAGE_CACHE_SIZE, app=app)


def full_render(app, path: str, **headers):
    """The page through the full path: any cookie keeps a request off the cache."""
    return app.test_client().get(path, headers={"Cookie": "unrelated=1", **headers})


def anonymous(app, path: str, **headers):
    return app.test_client().get(path, headers=headers)


@pytest.mark.parametrize(
    "query,headers",
    [
        ("", {}),
        ("?csat=5", {}),
        ("?csat=5&nps=42&what_went_wrong=speed&what_went_wrong=attitude&x=%3Cb%3E%22", {}),
        ("", {"Accept-Language": "en"}),
    ],
)
def test_cached_page_is_the_full_render_with_its_own_tokens(
    app, client, api_headers, query, headers
):
    first_path, first_token = invitation(client, api_headers, 1)
    second_path, second_token = invitation(client, api_headers, 2)
    filled = anonymous(app, first_path + query, **headers)  # renders and keeps the page
    assert filled.status_code == 200 and len(cached(app)) == 1
    reply = anonymous(app, second_path + query, **headers)  # served from the cache
    assert len(cached(app)) == 1
    assert reply.status_code == 200
    assert "Set-Cookie" not in reply.headers and "Set-Cookie" not in filled.headers
    assert reply.headers["Referrer-Policy"] == "same-origin"
    assert "Content-Security-Policy" in reply.headers
    assert reply.content_type == "text/html; charset=utf-8"

    page = reply.get_data()
    full = full_render(app, second_path + query, **headers)
    assert full.status_code == 200 and len(cached(app)) == 1  # the full path left it alone
    assert page == full.get_data()
    assert sorted(reply.headers.items()) == sorted(full.headers.items())
    assert filled.get_data() == full_render(app, first_path + query, **headers).get_data()

    html = page.decode()
    csrf = survey_csrf_token(app.config["SECRET_KEY"], second_token)
    assert csrf_from(html) == csrf
    assert f'action="/s/{second_token}"' in html
    assert (
        first_token not in html
        and survey_csrf_token(app.config["SECRET_KEY"], first_token) not in html
    )
    assert TOKEN_STAND_IN not in html and CSRF_STAND_IN not in html
    assert html.count(second_token) == 1


def test_cached_page_follows_prefill_and_keeps_the_query_in_language_links(
    app, client, api_headers
):
    path, _token = invitation(client, api_headers, 1)
    other, _ = invitation(client, api_headers, 2)
    plain = anonymous(app, path).get_data(as_text=True)
    assert not re.findall(r"<input [^>]*checked[^>]*>", plain)
    prefilled = anonymous(app, other + "?csat=5").get_data(as_text=True)
    checked = re.findall(r"<input [^>]*checked[^>]*>", prefilled)
    assert len(checked) == 1 and 'name="csat"' in checked[0] and 'value="5"' in checked[0]
    assert 'href="?csat=5&amp;lang=en"' in prefilled
    assert 'href="?lang=en"' in anonymous(app, other).get_data(as_text=True)
    assert len(cached(app)) == 2


def test_cached_page_follows_the_language(app, client, api_headers):
    chinese, _ = invitation(client, api_headers, 1, locale="zh-CN")
    english, _ = invitation(client, api_headers, 2, locale="en")
    browser, _ = invitation(client, api_headers, 3)
    zh = anonymous(app, chinese, **{"Accept-Language": "en"}).get_data(as_text=True)
    en = anonymous(app, english, **{"Accept-Language": "zh-CN"}).get_data(as_text=True)
    by_browser = anonymous(app, browser, **{"Accept-Language": "en-GB,en;q=0.9"})
    assert "您的问题解决了吗" in zh and 'lang="zh-CN"' in zh
    assert "Was your problem resolved" in en and '<html lang="en">' in en
    assert "Was your problem resolved" in by_browser.get_data(as_text=True)
    assert "您的问题解决了吗" in anonymous(app, browser, **{"Accept-Language": "fr"}).get_data(
        as_text=True
    )  # the site default
    assert {key[1] for key in cached(app)} == {"zh_CN", "en"}
    # An explicit switch takes the full path (it is kept in the session).
    switched = anonymous(app, chinese + "?lang=en")
    assert "Was your problem resolved" in switched.get_data(as_text=True)


def test_cached_page_follows_the_survey_version(make_app, api_headers_for, tmp_path):
    folder = tmp_path / "surveys"
    shutil.copytree(SURVEYS, folder)
    app = make_app(SURVEYS_DIR=str(folder))
    client, api_headers = api_headers_for(app)
    path, _ = invitation(client, api_headers, 1, locale="en")
    before = anonymous(app, path).get_data(as_text=True)
    assert "How did we do?" in before
    version_before = re.search(r'name="version" type="hidden" value="(\d+)"', before).group(1)

    post_case = folder / "post-case.yaml"
    post_case.write_text(
        post_case.read_text(encoding="utf-8").replace("How did we do?", "How was our service?"),
        encoding="utf-8",
    )
    assert app.test_cli_runner().invoke(args=["surveys", "sync"]).exit_code == 0
    after = anonymous(app, path).get_data(as_text=True)
    assert "How was our service?" in after and "How did we do?" not in after
    version_after = re.search(r'name="version" type="hidden" value="(\d+)"', after).group(1)
    assert version_after != version_before
    assert after.encode() == full_render(app, path).get_data()
    reply = app.test_client().post(
        path, data={**GOOD, "csrf_token": csrf_from(after), "version": version_after}
    )
    assert reply.status_code == 302


def test_staff_see_their_own_navigation_and_customers_never_do(app, client, api_headers, users):
    first, _ = invitation(client, api_headers, 1)
    second, _ = invitation(client, api_headers, 2)
    before = anonymous(app, first).get_data(as_text=True)
    staff = app.test_client()
    login(staff, "staff")
    seen_by_staff = staff.get(second)
    assert seen_by_staff.status_code == 200
    staff_page = seen_by_staff.get_data(as_text=True)
    logout = "退出登录（staff）"  # the page is in Chinese: the log-out button names the user
    assert logout in staff_page
    after = anonymous(app, second).get_data(as_text=True)
    for page in (before, after):
        assert logout not in page and "staff" not in page and 'class="main-nav"' not in page
    assert len(cached(app)) == 1


def test_closed_links_are_not_cached(app, client, api_headers):
    path, token = invitation(client, api_headers, 1)
    page = anonymous(app, path).get_data(as_text=True)
    answered = app.test_client().post(path, data={**GOOD, "csrf_token": csrf_from(page)})
    assert answered.status_code == 302
    again = anonymous(app, path)
    assert again.status_code == 200 and 'name="csrf_token"' not in again.get_data(as_text=True)
    assert "Set-Cookie" not in again.headers
    assert anonymous(app, "/s/unknown-token-123456").status_code == 404
    assert anonymous(app, "/s/bad!").status_code == 404


@pytest.mark.parametrize(
    "customer,headers,expected",
    [
        ({"locale": "en"}, {"Accept-Language": "zh-CN"}, "en"),
        ({}, {"Accept-Language": "en-GB,en;q=0.9"}, "en"),
        ({}, {"Accept-Language": "fr"}, "zh_CN"),  # the site default
    ],
)
def test_a_submission_without_cookies_keeps_the_language_it_was_shown_in(
    app, client, api_headers, customer, headers, expected
):
    path, _ = invitation(client, api_headers, 1, **customer)
    page = anonymous(app, path, **headers).get_data(as_text=True)
    reply = app.test_client().post(
        path, data={**GOOD, "csrf_token": csrf_from(page)}, headers=headers
    )
    assert reply.status_code == 302 and "Set-Cookie" not in reply.headers
    with in_app(app):
        assert Response.get().locale == expected
    # A bad answer is named in that language too.
    other, _ = invitation(client, api_headers, 2, **customer)
    page = anonymous(app, other, **headers).get_data(as_text=True)
    bad = app.test_client().post(
        other, data={**GOOD, "csat": "9", "csrf_token": csrf_from(page)}, headers=headers
    )
    assert bad.status_code == 422
    message = "Choose a number from 1 to 5" if expected == "en" else "请选择 1 到 5 之间的数字"
    assert message in bad.get_data(as_text=True)


def test_the_survey_view_loads_the_same_invitation_and_case_as_peewee(app, client, api_headers):
    from feedback.models import Case, Invitation
    from feedback.web.fastpath import load

    _path, token = invitation(client, api_headers, 1, locale="en", email="a@example.com")
    with app.test_request_context(), database.connection_context():
        loaded, case, current_id = load(token)
        stored = Invitation.get(Invitation.token == token)
        assert loaded.__data__ == stored.__data__ and not loaded.is_dirty()
        assert case.__data__ == Case.get_by_id(stored.case_id).__data__ and not case.is_dirty()
        assert loaded.case is case and loaded.current_status() == "pending"
        assert current_id == case.survey.current_version_id
        assert isinstance(loaded.expires_at, type(stored.expires_at))
