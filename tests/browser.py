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
import re

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


def focused(page, selector: str) -> bool:
    """Whether the element with the keyboard focus matches ``selector``."""
    return page.evaluate(
        "s => !!document.activeElement && document.activeElement.matches(s)", selector
    )


def tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until the focus is on ``selector`` (at most ``limit`` times)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page, selector):
            return
    raise AssertionError(f"{selector} not reached with {limit} presses of Tab")


def download(page, link, folder) -> bytes:
    """Click a download link as a person would; the bytes of the file the browser saved (in
    ``folder``)."""
    # generous: a meeting pack is drawn on demand, and a busy CI machine may be slow about it
    with page.expect_download(timeout=120_000) as started:
        link.click()
    saved = started.value
    assert saved.failure() is None, saved.failure()
    target = folder / saved.suggested_filename
    saved.save_as(target)
    return target.read_bytes()


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


def answer_suggestion(page, title: str, status: str, reply: str, note: str) -> None:
    """On the suggestion list (in Chinese): open the suggestion, set its status (by its label),
    write the public reply and the internal note, save, and see it saved."""
    from playwright.sync_api import expect

    page.get_by_role("link", name=title).click()
    page.get_by_label("状态").select_option(label=status)
    page.get_by_label("公开答复（提交人可见）").fill(reply)
    page.get_by_label("内部备注（提交人看不到）").fill(note)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存。")).to_be_visible()


def add_question(page, kind: str, question_id: str, chinese: str, english: str | None = None):
    """In the survey editor (in Chinese): add a question of the type labelled ``kind`` at the
    end and give it its id and texts; its fieldset."""
    from playwright.sync_api import expect

    page.get_by_label("新问题的类型").select_option(label=kind)
    page.get_by_role("button", name="在末尾添加问题").click()
    added = page.locator("fieldset.editor-question").last
    expect(added.get_by_label("类型")).to_have_value(re.compile(".+"))
    added.get_by_label(re.compile("^编号")).fill(question_id)
    added.get_by_label("中文").first.fill(chinese)
    if english is not None:
        added.get_by_label("English").first.fill(english)
    return added
