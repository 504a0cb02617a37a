"""Browser tests' fixtures: Debian's chromium driven by Playwright, able to show Chinese.

Chromium is started by ``chromium.launch`` (its flags, and the fontconfig file that gives it the
CJK fonts of ``mpl_font``: see chromium.py). Without chromium the browser tests skip, or fail
when FEEDBACK_REQUIRE_BROWSER=1 (as ``.ci/run`` sets).

conftest.py registers these fixtures for every test module, so one chromium serves the session:
``browser`` (one per test session), and per test a fresh ``phone`` (360 px) or ``desktop``
(1280 px) context.
"""

from __future__ import annotations

import os

import chromium
import pytest

MISSING = (
    "chromium not installed: run .ci/install-system-packages (Debian) or install "
    "chromium to run the browser tests"
)
REQUIRE_BROWSER = os.environ.get("FEEDBACK_REQUIRE_BROWSER") == "1"

# A mid-range Android phone, as most customers open the survey link from a text message.
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session", name="browser")
def browser_fixture():
    """Debian's chromium, started once for the session; a skip (or failure) when missing."""
    executable = chromium.executable()
    if executable is None:
        if REQUIRE_BROWSER:
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = chromium.launch(playwright.chromium, executable)
    except BaseException:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


def new_context(browser, **options):
    """A fresh context (no cookies, no storage) with the tests' default timeout."""
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture(name="phone")
def phone_fixture(browser):
    """A fresh phone-sized context, in Chinese, with touch."""
    context = new_context(browser, **PHONE)
    yield context
    context.close()


@pytest.fixture
def desktop(browser):
    """A fresh desktop-sized context (1280x900), in Chinese."""
    context = new_context(browser, **DESKTOP)
    yield context
    context.close()


def assert_fits(page, what: str = "the page") -> None:
    """The page at its viewport's width: it never scrolls sideways and nothing in ``main``
    reaches past the right edge, but inside a table's own scrolling box (``.table-wrap``)."""
    width = page.viewport_size["width"]
    sizes = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
    assert max(sizes) <= width, f"{what} scrolls sideways: {sizes} px wide at {width} px"
    overflowing = page.evaluate(
        """w => [...document.querySelectorAll('main *')]
        .filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > w + 0.5)
        .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""",
        width,
    )
    assert not overflowing, f"{what}: reach past the right edge at {width} px: {overflowing[:10]}"


def log_in(
    page, live_server, path: str, username: str = "manager", wait_until: str = "load"
) -> None:
    """Open ``path``, log in on the login form it sends to (as the Chinese page asks) and wait
    until the browser is back on ``path`` (``wait_until``: "domcontentloaded" not to wait for
    its pictures; without JavaScript a browser loads the lazy ones at once)."""
    from urllib.parse import urlparse

    from support import PASSWORD

    page.goto(live_server.url + path)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: urlparse(url).path == urlparse(path).path, wait_until=wait_until)
