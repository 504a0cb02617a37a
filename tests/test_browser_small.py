"""Issue 15's small things, measured in a real browser: the language switch is a 44x44 px
target, admin pages fit a 320 px screen, and the suggestion list starts on a phone's first
screen.

Debian's chromium through Playwright (see tests/browser.py), against the app over HTTP.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from browser import assert_fits, new_context
from support import PASSWORD, suggest

pytestmark = pytest.mark.browser


def logged_in(browser, live_server, username: str, **options):
    context = new_context(browser, locale="en", **options)
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: urlparse(url).path != "/login")
    return context, page


@pytest.mark.parametrize("path", ["/suggest/", "/login"])
def test_the_language_switch_is_a_44_px_target(live_server, phone, path):
    page = phone.new_page()
    page.goto(live_server.url + path)
    switch = page.locator("nav.langs a")
    assert switch.count() >= 1
    for index in range(switch.count()):
        box = switch.nth(index).bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box
    assert_fits(page, path)


@pytest.mark.parametrize("path", ["/admin/suggestion-box", "/admin/surveys"])
def test_admin_pages_fit_a_320_px_screen(app, users, live_server, browser, path, tmp_path):
    context, page = logged_in(browser, live_server, "admin", viewport={"width": 320, "height": 640})
    page.goto(live_server.url + path)
    page.screenshot(path=str(tmp_path / "narrow.png"), full_page=True)
    assert_fits(page, path)
    context.close()


def test_the_suggestion_list_starts_on_a_phones_first_screen(app, users, live_server, browser):
    for n in range(3):
        suggest(app, anonymous=True, title=f"排队太久 {n}")
    context, page = logged_in(
        browser, live_server, "manager", viewport={"width": 375, "height": 667}
    )
    page.goto(live_server.url + "/manage/suggestions/")
    first_row = page.locator("table tbody tr").first
    box = first_row.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 667, box
    assert_fits(page, "the suggestion list")
    # The filters are one tap away, and work without JavaScript.
    page.locator("details.filter-box summary").click()
    assert page.locator("form.filters select#status").is_visible()
    context.close()


def test_dashboard_charts_come_at_their_slots_size(app, users, scored, live_server, browser):
    """Each chart's picture is about as wide as its slot (not 1280 px into 510), and a
    dashboard page weighs far less than with the 1280x720 pictures it had."""
    context, page = logged_in(
        browser, live_server, "manager", viewport={"width": 1280, "height": 900}
    )
    loaded: dict[str, int] = {}
    page.on(
        "response",
        lambda r: (
            loaded.__setitem__(r.url, len(r.body()))
            if "/manage/charts/" in r.url and r.status == 200
            else None
        ),
    )
    page.goto(live_server.url + "/manage/?from=2026-09-01&to=2026-10-31")
    images = page.locator("figure.chart img")
    assert images.count() >= 8
    medium_total = 0
    for i in range(images.count()):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        handle = image.element_handle()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=handle)
        natural, shown = page.evaluate("img => [img.naturalWidth, img.clientWidth]", handle)
        assert shown <= natural <= shown * 1.25, (image.get_attribute("alt"), natural, shown)
        src = image.get_attribute("src")
        assert "size=slot" in src
        medium_total += len(
            page.request.get(live_server.url + src.replace("slot", "medium")).body()
        )
    page.wait_for_timeout(200)
    total = sum(size for url, size in loaded.items() if "size=medium" not in url)
    print(f"dashboard charts: {total} bytes at their slots' size, {medium_total} at 1280x720")
    assert 0 < total < medium_total / 2
    context.close()
