"""Checks that keep every page sound (issue 15, item 4): every page of every role (a customer,
staff, lead, manager, admin), in Chinese and in English, with and without form errors, found by
crawling the links from each role's start pages (tests/page_crawl.py says how), is checked in
Debian's chromium for:

1. axe-core's default rules (npm ``axe-core``, injected into the page): no violation;
2. the Nu HTML Checker (npm ``vnu-jar``, on the machine's Java), run once over the HTML every
   page was served with: no error (warnings are printed, not failed);
3. no sideways scroll at 320 px (``assert_fits``);
4. use without JavaScript: each page shows its main content, and each POST form, sent in the
   error state without JavaScript, brings back a page with its main content, never a server
   error (the pages that error states bring back with JavaScript pass 1-3 too).

One test crawls once and runs each check as a subtest, on SQLite only: the markup does not
depend on the database, and PostgreSQL's runs of the same views are in the other tests. Each
failure message lists what was found, page by page, and the pages checked.
``PAGE_CHECK_ROLES="lead admin"`` crawls only those roles (while fixing a finding; the floors
then fail for the others).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter

import pytest
from node_tools import axe_source, vnu_command
from page_crawl import LOCALES, ROLES, crawl, seed
from support import LiveServer

from feedback import create_app
from feedback.db import database, migrate, open_database

pytestmark = pytest.mark.browser

# The fewest distinct pages each role must reach in each language: a crawl that stopped
# following links (a changed login, a broken start page) fails instead of checking nothing.
FLOORS = {"customer": 12, "staff": 10, "lead": 18, "manager": 18, "admin": 35}
# The Nu HTML Checker's messages not counted as errors, each a known false positive:
NU_FILTER = []


@pytest.fixture(scope="module")
def checked(browser, tmp_path_factory):
    """Every page of every role in both languages, checked: a list of page_crawl.Checked."""
    axe = axe_source()
    folder = tmp_path_factory.mktemp("pages")
    url = f"sqlite:///{folder}/feedback.sqlite3"
    db = open_database(url)
    database.initialize(db)
    with database.connection_context():
        migrate(db)
    db.close_all()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "BASE_URL": "http://feedback.test",
            "EXPORTS_DIR": str(folder / "exports"),
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE": "memory://",
        }
    )
    seeded = seed(app, "test-secret")
    found = []
    with LiveServer(app) as server:
        for role in crawled_roles():
            for lang in LOCALES:
                found += crawl(app, browser, server.url, role, lang, seeded, folder, axe)
    app.extensions["feedback.db"].close_all()
    for role in crawled_roles():
        for lang in LOCALES:
            pages = [p for p in found if p.role == role and p.lang == lang]
            sent = sum(p.form is not None for p in pages)
            print(f"{role}/{lang}: {len(pages) - sent} pages, {sent} forms in the error state")
    return found


def crawled_roles() -> list[str]:
    """Every role, or those PAGE_CHECK_ROLES names."""
    return os.environ.get("PAGE_CHECK_ROLES", " ".join(ROLES)).split()


def listing(pages) -> str:
    return "\n".join(f"  {p.status} {p.name}" for p in pages)


def every_role_reaches_its_pages(checked, role):
    for lang in LOCALES:
        pages = [
            p for p in checked if p.role == role and p.lang == lang and p.via in ("link", "start")
        ]
        distinct = {p.url for p in pages}
        assert len(distinct) >= FLOORS[role], (
            f"{role} in {lang}: only {len(distinct)} pages (at least {FLOORS[role]}):\n"
            + listing(pages)
        )
    errors = [p for p in checked if p.role == role and p.status >= 500]
    assert not errors, "server errors:\n" + listing(errors)


def axe_finds_no_violation(checked, role):
    pages = [p for p in checked if p.role == role]
    found = []
    for page in pages:
        for violation in page.axe:
            nodes = ", ".join(violation["nodes"][:3])
            found.append(
                f"  {violation['id']} ({violation['impact']}, {len(violation['nodes'])} nodes) "
                f"on {page.name}: {nodes}"
            )
    counts = Counter(v["id"] for p in pages for v in p.axe)
    assert not found, (
        f"axe-core: {dict(counts)} on {len(pages)} pages of {role}:\n"
        + "\n".join(found)
        + "\nchecked:\n"
        + listing(pages)
    )


def nu_html_checker_finds_no_error(checked):
    files = {str(p.html): p for p in checked if p.html is not None}
    command = [*vnu_command(), "--format", "json", "--exit-zero-always"]
    for pattern in NU_FILTER:
        command += ["--filterpattern", pattern]
    result = subprocess.run(command + sorted(files), capture_output=True, text=True)
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors, warnings = [], []
    for message in messages:
        page = files.get(message.get("url", "").removeprefix("file:"))
        where = page.name if page else message.get("url")
        line = f"  {message.get('message')} (line {message.get('lastLine')}) on {where}"
        failed = message["type"] in ("error", "non-document-error")  # or a file it cannot read
        (errors if failed else warnings).append(line)
    if warnings:
        print(f"Nu HTML Checker: {len(warnings)} warnings\n" + "\n".join(warnings))
    assert not errors, (
        f"Nu HTML Checker: {len(errors)} errors on {len(files)} pages:\n" + "\n".join(errors)
    )


def no_page_scrolls_sideways_at_320_px(checked):
    found = [f"  {p.name}: {p.fits}" for p in checked if p.fits]
    assert not found, "at 320 px:\n" + "\n".join(found) + "\nchecked:\n" + listing(checked)


def every_page_works_without_javascript(checked):
    found = [f"  {p.name}: {p.no_js}" for p in checked if p.no_js]
    sent = [p for p in checked if p.via.startswith("error state")]
    assert sent, "no form was sent in the error state"
    failed = [f"  {p.name}: {p.status}" for p in sent if p.status >= 500 or p.status == 0]
    assert not found + failed, (
        "without JavaScript:\n" + "\n".join(found + failed) + "\nchecked:\n" + listing(checked)
    )


def test_every_page_passes_the_checks(checked, subtests):
    """One test, its checks as subtests (each failing on its own), so that parallel workers
    (``-n auto``) do not each crawl the site for a test of their own."""
    for role in crawled_roles():
        with subtests.test(msg=f"{role} reaches its pages"):
            every_role_reaches_its_pages(checked, role)
        with subtests.test(msg=f"axe-core on {role}'s pages"):
            axe_finds_no_violation(checked, role)
    with subtests.test(msg="the Nu HTML Checker"):
        nu_html_checker_finds_no_error(checked)
    with subtests.test(msg="320 px"):
        no_page_scrolls_sideways_at_320_px(checked)
    with subtests.test(msg="without JavaScript"):
        every_page_works_without_javascript(checked)
