"""Hostile and odd input, one reproduction each (issue 11, items 1 and 3–6): control characters
in exports, NUL anywhere in a request, non-ASCII CSRF tokens, huge numbers and far dates, deeply
nested JSON. Each answers a clear 4xx (or is written safely), never a 500, and stores nothing.

Every test runs on a SQLite file and on PostgreSQL (the ``app`` fixture).
"""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from support import csrf_from, in_app, login, new_case, post_form, survey_path

from feedback.db import database
from feedback.models import Suggestion

GOOD = {"resolved": "yes", "csat": "1", "nps": "2", "ces": "6", "comment": "fine"}
EN_CUSTOMER = {"id": "en-1", "locale": "en"}  # the survey page is in the customer's language
CODE = re.compile(r'id="tracking-code">([A-Z0-9-]+)<')


def english(client):
    """A client whose browser asks for English, so messages can be matched."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def table_counts(app) -> dict[str, int]:
    """The number of rows of every table: what a refused request must leave unchanged."""
    with in_app(app):
        return {
            table: database.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            for table in database.get_tables()
        }


def open_survey(client, api_headers, **case):
    path = survey_path(new_case(client, api_headers, **case))
    return path, client.get(path).get_data(as_text=True)


def answered(client, api_headers, comment: str, case_id: str = "C-1001") -> None:
    path, html = open_survey(client, api_headers, case_id=case_id)
    reply = client.post(path, data={**GOOD, "comment": comment, "csrf_token": csrf_from(html)})
    assert reply.status_code == 302, reply.get_data(as_text=True)[:500]


def tracking_code(client) -> str:
    reply = post_form(
        client,
        "/suggest/",
        {"category": "1", "title": "排队太久", "body": "等了很久", "identity": "anonymous"},
    )
    return CODE.search(reply.get_data(as_text=True)).group(1)


# --- 1. control characters in XLSX exports -----------------------------------------------------


def test_xlsx_export_writes_texts_with_control_characters(app, users, api_headers):
    client = app.test_client()
    answered(client, api_headers, "bad\x0bline\x07bell\x1b end")
    manager = app.test_client()
    login(manager, "manager")
    reply = manager.get("/manage/export/responses.xlsx?from=2026-01-01&to=2026-12-31&lang=en")
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    sheet = load_workbook(io.BytesIO(reply.get_data())).active
    rows = list(sheet.values)
    comment = rows[0].index("Anything else you would like to tell us?")  # the question's words
    assert rows[1][comment] == "bad\ufffdline\ufffdbell\ufffd end"
    csv = manager.get("/manage/export/responses.csv?from=2026-01-01&to=2026-12-31")
    assert "bad\x0bline\x07bell\x1b end" in csv.get_data(as_text=True)  # CSV keeps them as sent


def test_the_cleaning_keeps_tabs_newlines_and_every_other_text():
    from feedback.exports import xlsx_text

    assert xlsx_text("a\tb\nc\rd 中文 \u2028") == "a\tb\nc\rd 中文 \u2028"
    assert xlsx_text("\x00\x01\x08\x0b\x0c\x0e\x1f") == "\ufffd" * 7
    assert xlsx_text(5) == 5 and xlsx_text(None) is None


# --- 2. NUL anywhere in a request --------------------------------------------------------------


def _nul_requests(token_path: str, code: str) -> list[tuple[str | None, str, str, dict, str]]:
    """(who, method, url, form, field named in the reply): every one carries a NUL."""
    survey_form = {**GOOD, "comment": "a\x00b"}
    return [
        (None, "POST", token_path, survey_form, "comment"),
        (None, "POST", "/login", {"username": "adm\x00in", "password": "x"}, "username"),
        (
            None,
            "POST",
            "/suggest/",
            {"category": "1", "title": "t\x00", "body": "b", "identity": "anonymous"},
            "title",
        ),
        (None, "POST", "/suggest/track", {"code": "\x00"}, "code"),
        (None, "GET", "/suggest/track/AB%00CD", {}, "path"),
        (None, "POST", f"/suggest/track/{code}/comment", {"comment": "c\x00"}, "comment"),
        (None, "GET", f"{token_path}?comment=%00", {}, "comment"),
        (None, "POST", "/login", {"user\x00name": "admin", "password": "x"}, "user\x00name"),
        ("manager", "GET", "/manage/?survey=post%00case", {}, "survey"),
        ("manager", "GET", "/manage/?team=Bill%00ing", {}, "team"),
        ("manager", "GET", "/manage/?agent=%00", {}, "agent"),
        ("manager", "GET", "/manage/?category=%00", {}, "category"),
        ("manager", "GET", "/manage/export/responses.csv?agent=%00", {}, "agent"),
        ("manager", "GET", "/manage/charts/csat-trend.csv?team=%00", {}, "team"),
        ("manager", "GET", "/manage/follow-ups/?team=%00", {}, "team"),
        ("manager", "GET", "/manage/follow-ups/?survey=%00", {}, "survey"),
        ("manager", "GET", "/manage/suggestions/?box=%00", {}, "box"),
        ("manager", "GET", "/api/v1/metrics?agent=%00", {}, "agent"),
        ("staff", "GET", "/callback/?case=C-%00", {}, "case"),
        (
            "admin",
            "POST",
            "/admin/users/new",
            {"username": "n\x00", "role": "staff", "display_name": "N", "password": "pw123456789"},
            "username",
        ),
        ("admin", "POST", "/admin/teams/new", {"name": "T\x00"}, "name"),
    ]


def test_nul_anywhere_is_refused_with_the_field_named_and_nothing_stored(app, users, api_headers):
    client = app.test_client()
    token_path, _html = open_survey(client, api_headers)
    code = tracking_code(client)
    clients = {None: app.test_client()}
    for role in ("manager", "staff", "admin"):
        clients[role] = app.test_client()
        login(clients[role], role)
    before = table_counts(app)
    for who, method, url, form, field in _nul_requests(token_path, code):
        c = clients[who]
        if method == "POST":
            page = (
                c.get(url.split("?")[0])
                if "/comment" not in url
                else c.get(f"/suggest/track/{code}")
            )
            token = csrf_from(page.get_data(as_text=True)) if page.status_code == 200 else ""
            reply = c.post(url, data={**form, "csrf_token": token})
        else:
            reply = c.get(url)
        text = reply.get_data(as_text=True)
        assert reply.status_code == 400, (url, form, reply.status_code, text[:300])
        if url.startswith("/api/"):
            assert field in reply.get_json()["errors"], text
        else:
            assert field.replace("\x00", "\ufffd") in text or field in text, (url, text[-2000:])
    assert table_counts(app) == before


def test_nul_in_json_strings_and_keys_is_refused(app, api_headers):
    client = app.test_client()
    for body, field in (
        (
            {"case_id": "C-\x00", "resolved_at": "2026-11-20T10:00:00+08:00", "channel": "phone"},
            "case_id",
        ),
        (
            {
                "case_id": "C-1",
                "resolved_at": "2026-11-20T10:00:00+08:00",
                "channel": "phone",
                "customer": {"na\x00me": "x"},
            },
            "customer.na\ufffdme",
        ),
        (
            {
                "case_id": "C-1",
                "resolved_at": "2026-11-20T10:00:00+08:00",
                "channel": "phone",
                "customer": {"name": "\ud800"},
            },
            "customer.name",
        ),
    ):
        reply = client.post("/api/v1/cases", json=body, headers=api_headers)
        assert reply.status_code == 400, reply.get_data(as_text=True)
        assert field in reply.get_json()["errors"], reply.get_json()
    assert table_counts(app)["service_case"] == 0


# --- 3. non-ASCII CSRF tokens ------------------------------------------------------------------


def test_a_non_ascii_survey_csrf_token_shows_the_form_again_with_the_answers(app, api_headers):
    client = app.test_client()
    path, _html = open_survey(client, api_headers, customer=EN_CUSTOMER)
    reply = client.post(path, data={**GOOD, "comment": "keep me", "csrf_token": "é"})
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422, page[:500]
    assert "keep me" in page and "The form was out of date. Your answers are kept" in page
    assert table_counts(app)["response"] == 0


@pytest.mark.parametrize(
    "url,form",
    [
        ("/login", {"username": "admin", "password": "x"}),
        ("/suggest/", {"category": "1", "title": "t", "body": "b", "identity": "anonymous"}),
        ("/suggest/track", {"code": "AAAA-BBBB-CCCC"}),
    ],
)
def test_non_ascii_csrf_tokens_on_other_forms_are_a_csrf_error(app, users, url, form):
    client = english(app.test_client())
    client.get(url)  # a session with a CSRF secret, as a browser has
    for token in ("é", "中文.签名", "\ufffd", "a" * 5000 + ".é"):
        reply = client.post(url, data={**form, "csrf_token": token})
        assert reply.status_code == 400, (token[:10], reply.status_code)
        assert "out of date" in reply.get_data(as_text=True)


# --- 4. huge numbers and far dates -------------------------------------------------------------

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "who,url",
    [
        ("manager", f"/manage/follow-ups/{HUGE}"),
        ("staff", f"/callback/case/{HUGE}"),
        ("staff", f"/callback/case/{HUGE}/post-case"),
        ("manager", f"/manage/suggestions/{HUGE}"),
        ("admin", f"/admin/users/{HUGE}"),
        ("admin", f"/admin/teams/{HUGE}"),
        ("admin", f"/admin/tokens/{HUGE}/revoke"),
        ("admin", f"/admin/suggestion-box/categories/{HUGE}"),
        ("admin", f"/admin/surveys/post-case/v{HUGE}"),
        ("manager", f"/manage/actions/{HUGE}"),
        ("manager", "/manage/follow-ups/9223372036854775808"),
    ],
)
def test_huge_ids_in_paths_are_not_found(app, users, who, url):
    client = app.test_client()
    login(client, who)
    assert client.get(url).status_code == 404


def test_every_int_route_uses_the_bounded_converter(app):
    from feedback.input_checks import BoundedIntConverter

    assert app.url_map.converters["int"] is BoundedIntConverter
    for rule in app.url_map.iter_rules():
        for converter in rule._converters.values():
            if "Integer" in type(converter).__name__ or "Int" in type(converter).__name__:
                assert isinstance(converter, BoundedIntConverter), rule.rule
    assert BoundedIntConverter.MAX == 2**31 - 1  # a PostgreSQL SERIAL id


def test_a_huge_survey_version_is_a_form_error_with_the_answers_kept(app, api_headers):
    client = app.test_client()
    path, html = open_survey(client, api_headers, customer=EN_CUSTOMER)
    for version in ("9999999999999999999999", "-1", "1e9", "٣"):
        reply = client.post(
            path,
            data={**GOOD, "comment": "keep me", "version": version, "csrf_token": csrf_from(html)},
        )
        page = reply.get_data(as_text=True)
        assert reply.status_code == 422, (version, page[:300])
        assert "keep me" in page and "The form was out of date. Your answers are kept" in page
        assert re.search(r'name="version" type="hidden" value="\d+"', page)
    assert table_counts(app)["response"] == 0


@pytest.mark.parametrize(
    "url,field",
    [
        ("/manage/?to=9999-12-31", "to"),
        ("/manage/?from=9999-12-30&to=9999-12-31", "from"),
        ("/manage/export/responses.csv?to=9999-12-31", "to"),
        ("/manage/charts/csat-trend.png?to=9999-12-31", "to"),
        ("/manage/meeting-pack.pdf?to=9999-12-31", "to"),
        ("/manage/suggestions/?end=9999-12-31", "end"),
        ("/api/v1/metrics?to=9999-12-31", "to"),
    ],
)
def test_far_dates_are_refused_with_the_field_named(app, users, url, field):
    client = app.test_client()
    login(client, "manager")
    reply = client.get(url)
    assert reply.status_code == 400, (url, reply.status_code)
    if url.startswith("/api/"):
        assert field in reply.get_json()["errors"]
    else:
        assert field in reply.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/manage/follow-ups/?page=" + HUGE,
        "/manage/suggestions/?page=" + HUGE,
        "/manage/suggestions/?category=" + HUGE,
        "/manage/actions/?team=" + HUGE,
    ],
)
def test_huge_numbers_in_query_strings_are_never_a_server_error(app, users, url):
    client = app.test_client()
    login(client, "manager")
    assert client.get(url).status_code in (200, 400)


# --- 5. deeply nested JSON ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        '{"case_id": ' + "[" * 200 + "]" * 200 + "}",
    ],
)
def test_deeply_nested_json_is_a_400_naming_the_body(app, api_headers, body):
    client = app.test_client()
    reply = client.post(
        "/api/v1/cases", data=body, headers=api_headers, content_type="application/json"
    )
    assert reply.status_code == 400
    assert "body" in reply.get_json()["errors"]
    assert table_counts(app)["service_case"] == 0


# --- found by the fuzzing (tests/test_fuzz.py) -------------------------------------------------


def test_a_lone_period_whose_interval_leaves_out_its_value_is_drawn():
    """One detractor: NPS −100 with the adjusted interval −98.5 … 48.5, which does not hold the
    value. The meeting pack of such a month answered 500 (matplotlib refuses a negative
    whisker); the whisker now stops at the value."""
    from datetime import date

    from feedback import charts, stats
    from feedback.i18n import language

    nps = stats.nps(0, 0, 1)
    point = charts.PeriodPoint(date(2026, 11, 1), nps.value, nps.low, nps.high, nps.n)
    figure = charts.trend_chart([point], "nps", language("en"))
    assert charts.render(figure, "png", "small").startswith(b"\x89PNG")


def test_a_huge_duplicate_number_is_a_message_beside_the_field(app, users):
    client = english(app.test_client())
    tracking_code(client)
    login(client, "manager")
    with in_app(app):
        suggestion_id = Suggestion.select().first().id
    before = table_counts(app)
    for number in (HUGE, "9223372036854775808", "2147483648"):
        reply = post_form(
            client,
            f"/manage/suggestions/{suggestion_id}",
            {"status": "duplicate", "merged_into": number},
        )
        assert reply.status_code == 422, (number, reply.status_code)
        assert "no suggestion" in reply.get_data(as_text=True).lower()
    assert table_counts(app) == before


def test_forbidden_field_names_the_first_bad_field_anywhere():
    from werkzeug.datastructures import MultiDict

    from feedback.input_checks import forbidden_field, json_depth_exceeds

    none = MultiDict()
    assert forbidden_field("/a", MultiDict([("a", "1"), ("b", "2")]), none, none) is None
    assert forbidden_field("/a", MultiDict([("a", "1"), ("b\x00", "2")]), none, none) == "b\ufffd"
    assert forbidden_field("/a", none, MultiDict([("x", "y\ud800")]), none) == "x"
    assert forbidden_field("/a\x00", none, none, none) == "path"
    assert forbidden_field("/a", none, none, none, {"a": [{"b": "\x00"}]}) == "a.0.b"
    assert forbidden_field("/a", none, none, none, {"a": [1, None, "ok"]}) is None
    assert not json_depth_exceeds([[[]]], 3) and json_depth_exceeds([[[[]]]], 3)
