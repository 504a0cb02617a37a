"""A manager uses the dashboard in a real browser: logs in, filters, sees the charts, downloads.

Debian's chromium through Playwright (see tests/browser.py), against the app served over HTTP on
loopback, with the ``scored`` data set (160 cases, 120 answers, Sept-Oct 2026, three teams).
Everything is done as a person would: typing into the login form, choosing from the team list,
pressing the button, clicking the download links. Screenshots land in each test's tmp_path.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from browser import assert_fits, download
from data_sets import START
from playwright.sync_api import BrowserContext, Page, expect
from support import PASSWORD

pytestmark = pytest.mark.browser

PERIOD = f"from={START}&to=2026-10-31"
DASHBOARD = f"/manage/?{PERIOD}"
TEAM = "技术支持"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MEETING_PACK = 'a[href*="meeting-pack.pdf"]'


def open_dashboard(context: BrowserContext, live_server, path: str = DASHBOARD) -> Page:
    """Open the dashboard: sent to the login form, log in as the manager, and land back on it."""
    page = context.new_page()
    page.goto(live_server.url + path)
    expect(page).to_have_url(re.compile(r"/login\?"))
    page.get_by_label("用户名").fill("manager")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/manage/")
    assert parse_qs(urlparse(page.url).query) == parse_qs(urlparse(path).query)  # kept
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("仪表板")
    return page


def answers_tile(page: Page):
    """The value on the "回答数" (answers) tile."""
    tile = page.locator(".tiles .tile").filter(
        has=page.get_by_role("heading", name="回答数", exact=True)
    )
    return tile.locator(".value")


def load_every_chart(page: Page) -> int:
    """Scroll each chart (loading="lazy") into view and wait until it has loaded; assert that
    it decoded to a picture. Returns the number of charts."""
    images = page.locator("figure.chart img")
    count = images.count()
    assert count >= 8, f"only {count} charts on the dashboard"
    for i in range(count):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        handle = image.element_handle()
        page.wait_for_function("img => img.complete", arg=handle)
        width = page.evaluate("img => img.naturalWidth", handle)
        assert width > 0, (
            f"chart {image.get_attribute('alt')!r} did not load: {image.get_attribute('src')}"
        )
    return count


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, f"not a PNG: {data[:16]!r}"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_manager_filters_the_dashboard_and_downloads_a_chart(
    app, users, scored, live_server, desktop, tmp_path
):
    page = open_dashboard(desktop, live_server)
    total = sum(1 for r in scored if r["answered"])
    team_answers = sum(1 for r in scored if r["answered"] and r["team"] == TEAM)
    assert 0 < team_answers < total
    expect(answers_tile(page)).to_have_text(str(total))

    # Choose the team in the filter form and press Apply.
    team = page.get_by_label("团队", exact=True)
    expect(team).to_have_value("")
    team.select_option(label=TEAM)
    page.get_by_role("button", name="应用").click()
    page.wait_for_url(lambda url: "team=" in url)

    # The filters are in the address, so the view can be bookmarked or sent on.
    query = parse_qs(urlparse(page.url).query)
    assert query["team"] == [TEAM]
    assert query["from"] == [str(START)] and query["to"] == ["2026-10-31"]
    expect(page.get_by_label("团队", exact=True)).to_have_value(TEAM)
    expect(answers_tile(page)).to_have_text(str(team_answers))
    expect(page.locator("section.tiles .tile")).to_have_count(5)  # the headline figures

    # Every chart follows the filter and actually loads.
    images = page.locator("figure.chart img")
    for src in images.evaluate_all("imgs => imgs.map(i => i.getAttribute('src'))"):
        assert parse_qs(urlparse(src).query).get("team") == [TEAM], src
    load_every_chart(page)
    page.screenshot(path=tmp_path / "dashboard-desktop.png", full_page=True)

    # The bookmarked address opens the same view.
    again = desktop.new_page()
    again.goto(page.url)
    expect(again.get_by_label("团队", exact=True)).to_have_value(TEAM)
    expect(answers_tile(again)).to_have_text(str(team_answers))
    again.close()

    # A chart as a 1920x1080 PNG, for slides.
    first = page.locator("figure.chart").first
    large = first.get_by_role("link", name="PNG 1920×1080", exact=True)
    expect(large).to_have_attribute("href", re.compile(r"size=large"))
    data = download(page, large, tmp_path)
    assert png_size(data) == (1920, 1080)


def test_manager_downloads_the_meeting_pack(app, users, scored, live_server, desktop, tmp_path):
    page = open_dashboard(desktop, live_server, f"{DASHBOARD}&team={TEAM}")
    link = page.locator(MEETING_PACK)
    if link.count() == 0:
        pytest.skip(
            'no meeting-pack link (a[href*="meeting-pack.pdf"]) on the dashboard yet: '
            "/manage/meeting-pack.pdf is still being added"
        )
    expect(link.first).to_be_visible()
    href = urlparse(link.first.get_attribute("href"))
    assert href.path.endswith("/manage/meeting-pack.pdf")
    assert parse_qs(href.query).get("team") == [TEAM], "the pack is not of the view shown"
    data = download(page, link.first, tmp_path)
    assert data[:5] == b"%PDF-", data[:16]
    assert data.rstrip().endswith(b"%%EOF")


def test_dashboard_fits_a_phone(app, users, scored, live_server, phone, tmp_path):
    page = open_dashboard(phone, live_server)
    load_every_chart(page)
    page.evaluate("window.scrollTo(0, 0)")

    # The page itself never scrolls sideways; wide tables scroll inside their .table-wrap.
    assert_fits(page)
    width = page.viewport_size["width"]
    tables = page.locator("main table")
    assert tables.count() >= 3
    for i in range(tables.count()):
        wrap = tables.nth(i).locator("xpath=..")
        expect(wrap).to_have_class(re.compile(r"\btable-wrap\b"))
        box = wrap.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box
    page.screenshot(path=tmp_path / "dashboard-phone.png", full_page=True)
