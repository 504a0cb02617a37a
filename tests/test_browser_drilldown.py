"""A manager follows a figure of the dashboard to the responses behind it, on a phone, in a real
browser (Debian's chromium through Playwright, see tests/browser.py), with and without
JavaScript: the list and a chart's table fit 375 and 320 px without sideways scrolling.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from browser import PHONE, log_in, new_context
from data_sets import START
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DASHBOARD = f"/manage/?from={START}&to=2026-10-31"


def fits(page: Page) -> None:
    """Nothing on the page reaches past the right edge, and the page never scrolls sideways
    (once the page, its stylesheet included, has loaded)."""
    page.wait_for_load_state("load", timeout=60_000)
    width = page.viewport_size["width"]
    overflowing = page.evaluate(
        """w => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w + 0.5)
        .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
             + ' ' + (e.textContent || '').trim().slice(0, 40))""",
        width,
    )
    assert not overflowing, f"reach past the right edge: {overflowing[:10]}"
    sizes = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
    assert max(sizes) <= width, f"the page scrolls sideways: {sizes} px wide at {width} px"


@pytest.mark.parametrize("width, javascript", [(375, True), (320, False)])
def test_from_a_tile_to_its_responses_on_a_phone(
    app, users, drillable, live_server, browser, tmp_path, width, javascript
):
    context = new_context(
        browser,
        **{**PHONE, "viewport": {"width": width, "height": 740}},
        java_script_enabled=javascript,
    )
    try:
        page = context.new_page()
        # without JavaScript chromium loads every chart at once (no lazy loading): the page's
        # text is enough here
        log_in(page, live_server, DASHBOARD, wait_until="domcontentloaded")
        tile = page.locator(".tiles .tile").filter(
            has=page.get_by_role("heading", name=re.compile(r"^CSAT"))
        )
        link = tile.locator("a.to-responses")
        n = int(re.search(r"(\d+) 条回答", link.get_attribute("title")).group(1))
        link.click()
        page.wait_for_url(
            lambda url: urlparse(url).path == "/manage/responses", wait_until="domcontentloaded"
        )
        assert parse_qs(urlparse(page.url).query)["measure"] == ["csat"]
        expect(page.locator("h1")).to_contain_text(f"{n} 条回答")
        expect(page.locator("#responses tbody tr")).to_have_count(25)
        # one card per response: the case and the comment with their names before them
        first = page.locator("#responses tbody tr").first
        assert first.bounding_box()["width"] <= width
        fits(page)
        page.screenshot(path=tmp_path / f"responses-{width}.png", full_page=True)

        # narrowed to the unsatisfied, then the next page
        page.get_by_role("link", name=re.compile(r"^未满意（CSAT 1–3）：\d+$")).click()
        page.wait_for_url(lambda url: "band=not_satisfied" in url, wait_until="domcontentloaded")
        fits(page)

        # a chart's table, each number a link to its answers
        page.goto(live_server.url + DASHBOARD, wait_until="domcontentloaded")
        page.locator("a.chart-table").first.click()
        page.wait_for_url(
            lambda url: urlparse(url).path.endswith(".html"), wait_until="domcontentloaded"
        )
        expect(page.locator("#chart-table a.to-responses").first).to_be_visible()
        fits(page)
        page.screenshot(path=tmp_path / f"chart-{width}.png", full_page=True)
    finally:
        context.close()
