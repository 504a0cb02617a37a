"""Response headers walked over the whole URL map: no page for a logged-in user and no download
is kept by a cache (Cache-Control: no-store), and HSTS is sent when the site runs on HTTPS.

Static files and the customers' survey page stay cacheable.
"""

from __future__ import annotations

import itertools
import re

import pytest
from support import csrf_from, in_app, login, new_case, post_form, survey_path
from werkzeug.routing import IntegerConverter

from feedback.chart_data import CHARTS
from feedback.models import Invitation

DETRACTOR = {"resolved": "yes", "csat": "4", "nps": "3", "comment": "meh"}
CODE = re.compile(r'id="tracking-code">([A-Z0-9-]+)<')
ROLES = ("admin", "manager", "lead", "staff")
CACHEABLE = {"static", "favicon"}  # may be kept by a cache even for a logged-in user
# Downloads that must answer 200 in the walk (so that their header is really looked at).
DOWNLOADS = {
    "manage.export_responses",
    "manage.chart",
    "manage.meeting_pack_pdf",
    "triage.export_csv",
    "admin.poster",
}


@pytest.fixture
def data(app, client, api_headers, users):
    """One of everything a route can name (each the first of its table, id 1)."""
    reply = new_case(client, api_headers, case_id="C-H1")
    path = survey_path(reply)
    page = client.get(path).get_data(as_text=True)
    assert client.post(path, data={**DETRACTOR, "csrf_token": csrf_from(page)}).status_code == 302
    second = new_case(client, api_headers, case_id="C-H2", customer={"id": "cust-2"})
    given = post_form(
        client,
        "/suggest/",
        {
            "category": "1",
            "title": "排队太久",
            "body": "电话等了二十分钟才接通。",
            "identity": "anonymous",
        },
    )
    manager = app.test_client()
    login(manager, "manager")
    with in_app(app):
        from feedback.models import Survey, Team

        survey = Survey.get(Survey.slug == "post-case").id
        team = Team.get(Team.name == "Billing").id
    fields = {
        "title": "回访话术培训",
        "metric": "csat",
        "survey": str(survey),
        "channel": "phone",
        "team": str(team),
        "agent": "",
        "category": "",
        "description": "Train.",
        "owner": str(users["manager"].id),
        "start_date": "2026-09-01",
        "due_date": "2026-10-15",
    }
    assert post_form(manager, "/manage/actions/new", fields).status_code == 302
    with in_app(app):
        token = Invitation.get(Invitation.id == 2).token
    assert survey_path(second).endswith(token)
    return {"token": token, "code": CODE.search(given.get_data(as_text=True)).group(1)}


def candidates(rule, data) -> list[str]:
    """URLs for a rule: every argument filled with values that name something (or a few)."""
    values = {}
    for arg in rule.arguments:
        if isinstance(rule._converters[arg], IntegerConverter):
            values[arg] = ["1"]
        elif arg == "fmt":
            values[arg] = ["csv", "xlsx", "png", "svg", "pdf"]
        elif arg == "name":
            values[arg] = list(CHARTS)
        elif arg == "box":
            values[arg] = ["customer", "staff"]
        elif arg == "filename":
            values[arg] = ["site.css"]
        else:
            values[arg] = [
                {
                    "slug": "post-case",
                    "kind": "suggestion",
                    "token": data["token"],
                    "code": data["code"],
                }.get(arg, "x")
            ]
    urls = []
    for combination in itertools.product(*(values[arg] for arg in rule.arguments)):
        chosen = dict(zip(rule.arguments, combination, strict=True))
        if rule.endpoint == "manage.chart" and chosen["fmt"] == "xlsx":
            continue
        if (
            rule.endpoint == "manage.chart"
            and chosen["name"] != next(iter(CHARTS))
            and chosen["fmt"] in ("svg", "pdf")
        ):
            continue  # every chart as PNG and CSV, one of them in every format
        urls.append(rule.build(chosen, append_unknown=False)[1])
    if rule.endpoint == "manage.chart":
        urls.append(urls[0] + "?download=1")
    return urls


def walk(app, client, data, methods=("GET",)):
    """(endpoint, url, method, reply) for every route of the app, never a 5xx."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in methods:
            if method not in rule.methods:
                continue
            for url in candidates(rule, data):
                reply = client.open(url, method=method)
                assert reply.status_code < 500, (url, reply.status_code)
                yield rule.endpoint, url, method, reply


@pytest.mark.parametrize("role", ROLES)
def test_nothing_a_logged_in_user_gets_is_stored_by_a_cache(app, data, role):
    client = app.test_client()
    login(client, role)
    seen, downloads = 0, set()
    for endpoint, url, method, reply in walk(app, client, data, methods=("GET", "POST")):
        if endpoint == "auth.logout" and reply.status_code == 302:
            login(client, role)  # (without its CSRF token the logout is refused: 400)
            continue
        cache_control = reply.headers.get("Cache-Control", "")
        if endpoint in CACHEABLE:
            assert "no-store" not in cache_control, url
            continue
        assert cache_control == "no-store", (method, url, reply.status_code, cache_control)
        seen += reply.status_code == 200
        if reply.status_code == 200 and "Content-Disposition" in reply.headers:
            downloads.add(endpoint)
    assert seen >= 5, seen
    if role in ("admin", "manager"):
        assert downloads >= DOWNLOADS - ({"admin.poster"} if role == "manager" else set())


def test_static_files_and_the_survey_page_stay_cacheable_for_strangers(app, data):
    stranger = app.test_client()
    for endpoint, url, _method, reply in walk(app, stranger, data):
        if endpoint in ("static", "survey.answer"):
            assert reply.status_code == 200, url
            assert "no-store" not in reply.headers.get("Cache-Control", ""), url


def test_api_answers_are_not_stored(app, data, api_headers):
    client = app.test_client()
    for path in ("/api/v1/surveys/post-case", "/api/v1/metrics?survey=post-case"):
        reply = client.get(path, headers=api_headers)
        assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store", path
    reply = client.post("/api/v1/cases", json={"case_id": "x"}, headers=api_headers)
    assert reply.status_code in (400, 422) and reply.headers["Cache-Control"] == "no-store"


HSTS = "Strict-Transport-Security"


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({}, None),
        ({"SECURE_COOKIES": True}, "max-age=31536000"),
        ({"SECURE_COOKIES": True, "HSTS_SECONDS": 0}, None),
        ({"HSTS_SECONDS": 600}, "max-age=600"),
    ],
    ids=["plain", "secure-cookies", "secure-cookies-but-off", "by-setting"],
)
def test_hsts_on_every_response_when_the_site_is_https(make_app, overrides, expected):
    app = make_app(**overrides)
    client = app.test_client()
    replies = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            url = rule.build(
                {
                    arg: (
                        "1"
                        if isinstance(rule._converters[arg], IntegerConverter)
                        else "site.css"
                        if arg == "filename"
                        else "post-case"
                    )
                    for arg in rule.arguments
                },
                append_unknown=False,
            )[1]
            replies.append((url, client.get(url)))
    assert len(replies) > 30
    for url, reply in replies:
        assert reply.headers.get(HSTS) == expected, url
    assert any(url.startswith("/static/") and reply.status_code == 200 for url, reply in replies)


# --- static files: versioned URLs, kept a year -------------------------------------------------

STATIC_URL = re.compile(r'(/static/([a-z.]+)\?v=([0-9a-f]{12}))"')


@pytest.mark.parametrize("path", ["/suggest/", "/login"])
def test_static_urls_name_their_bytes_and_are_kept_a_year(app, client, path):
    from hashlib import sha256
    from pathlib import Path

    page = client.get(path).get_data(as_text=True)
    found = STATIC_URL.findall(page)
    assert {name for _url, name, _v in found} >= {"site.css", "favicon.svg"}, page[:800]
    for url, name, digest in found:
        data = (Path(app.static_folder) / name).read_bytes()
        assert digest == sha256(data).hexdigest()[:12], url
        reply = client.get(url)
        assert reply.status_code == 200 and reply.get_data() == data
        assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
    for other in ("/static/site.css", "/static/site.css?v=000000000000"):  # checked every time
        reply = client.get(other)
        assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-cache", other
        assert reply.headers["ETag"]


def test_a_changed_static_file_gets_a_new_url(app, tmp_path):
    from flask import url_for

    app.static_folder = str(tmp_path)
    (tmp_path / "x.css").write_text("a {}")
    with app.test_request_context():
        first = url_for("static", filename="x.css")
        (tmp_path / "x.css").write_text("b { color: red }")
        second = url_for("static", filename="x.css")
        missing = url_for("static", filename="nothing.css")
    assert first.startswith("/static/x.css?v=") and second.startswith("/static/x.css?v=")
    assert first != second
    assert missing == "/static/nothing.css"
    reply = app.test_client().get(second)
    assert reply.get_data() == b"b { color: red }"
    assert "immutable" in reply.headers["Cache-Control"]
    assert "immutable" not in app.test_client().get(first).headers["Cache-Control"]
