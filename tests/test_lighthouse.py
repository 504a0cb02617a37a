"""Lighthouse on the three pages people meet most: a customer's survey, the public suggestion box
and the manager's dashboard (issue 15, item 4): accessibility 100, best practices at least 96.

Lighthouse 12 (npm, package.json) runs in Debian's chromium with the CJK fonts (see
tests/lighthouse.py) against the app served over real HTTP (``live_server``), with its defaults:
a phone (412 x 823). The survey is a new invitation's page as the customer opens it (no cookie);
the dashboard carries the manager's session cookie (``--extra-headers``) and shows the ``scored``
data set, so its tiles, greyed figures, tables and charts are all drawn. A failure names every
audit that cost points.

Only the categories accessibility and best-practices are asserted. Performance is measured by
``bench/bench_lighthouse.py`` on the production server (gunicorn) and not here: its score is a
wall-clock measure, and tests assert none. SEO is not asserted either (a survey page is a
private link, not a page to find).

SQLite only: Lighthouse reads the HTML, CSS, scripts, pictures and headers the app sends, which
are the same on both databases (the other tests hold the figures equal on PostgreSQL), and each
run starts a browser (about ten seconds a page): running it twice would double the time for
nothing.
"""

from __future__ import annotations

import re

import lighthouse
import pytest
import requests
from chromium import executable
from data_sets import START
from node_tools import REQUIRED, lighthouse_command
from support import PASSWORD, new_case, survey_path

pytestmark = pytest.mark.browser

CATEGORIES = ("accessibility", "best-practices")
TARGETS = {"accessibility": 100, "best-practices": 96}


@pytest.fixture
def database_url(tmp_path):
    """SQLite only (see the module's docstring)."""
    return f"sqlite:///{tmp_path}/feedback.sqlite3"


def session_cookie(base: str, username: str) -> str:
    """Log in over HTTP through the login form, as a browser does; the session cookie."""
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    reply = session.post(
        f"{base}/login",
        data={"csrf_token": token, "username": username, "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    assert reply.status_code == 302, reply.text
    return session.cookies["session"]


def test_survey_suggestion_box_and_dashboard_score_full_marks(
    app, client, api_headers, users, scored, live_server, tmp_path
):
    command = lighthouse_command()
    if executable() is None:
        message = "chromium is not installed (Debian: apt-get install chromium)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    survey = survey_path(new_case(client, api_headers, case_id="LH-1"))
    cookie = {"Cookie": f"session={session_cookie(live_server.url, 'manager')}"}
    pages = {
        "survey": (survey, None),
        "suggestion box": ("/suggest/", None),
        "dashboard": (f"/manage/?from={START}&to=2026-10-31", cookie),
    }
    problems = []
    for name, (path, headers) in pages.items():
        # each page is what the browser will get, not a login form or an error
        assert requests.get(live_server.url + path, headers=headers or {}).status_code == 200
        report = lighthouse.run(
            command,
            live_server.url + path,
            tmp_path / f"{name.replace(' ', '-')}.json",
            categories=CATEGORIES,
            headers=headers,
        )
        reading = lighthouse.read(report)
        assert reading.url.startswith(live_server.url + path.split("?")[0]), reading.url
        assert set(reading.scores) == set(CATEGORIES), reading.scores
        if any(reading.scores[c] < target for c, target in TARGETS.items()):
            problems.append(f"{name}: " + lighthouse.explain(reading, CATEGORIES))
    assert not problems, "below the targets " + str(TARGETS) + ":\n" + "\n".join(problems)
