"""A manager sets the dashboard's period on a phone (375 px), in a real browser, without
JavaScript: a preset chosen shows its dates in the boxes, dates typed over a preset left selected
win, and the agent is chosen from a list.

Debian's chromium through Playwright (tests/browser.py), the app served over HTTP on loopback,
with the ``scored`` data set (Sept-Oct 2026, agents agent-0 to agent-4).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from browser import PHONE, assert_fits, new_context
from data_sets import START
from playwright.sync_api import expect
from support import PASSWORD

pytestmark = pytest.mark.browser
# without JavaScript the charts' loading="lazy" is ignored: the page's "load" waits for every
# chart to be drawn, which says nothing about the form, so the steps wait for the document only
LOADED = "domcontentloaded"


@pytest.fixture
def no_script_phone(browser):
    """A 375 px phone context in Chinese with JavaScript switched off."""
    options = {**PHONE, "viewport": {"width": 375, "height": 740}}
    context = new_context(browser, **options, java_script_enabled=False)
    yield context
    context.close()


def test_choosing_a_preset_shows_its_dates_and_typed_dates_win(
    app, users, scored, live_server, no_script_phone, tmp_path
):
    page = no_script_phone.new_page()
    page.goto(f"{live_server.url}/manage/?from={START}&to=2026-10-31")
    expect(page).to_have_url(re.compile(r"/login\?"))
    page.get_by_label("用户名").fill("manager")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/manage/", wait_until=LOADED)
    period = page.get_by_label("期间")
    start_box = page.locator("#f-from")
    end_box = page.locator("#f-to")
    expect(start_box).to_have_value(START.isoformat())

    # a preset chosen while the boxes show September-October: the boxes follow the preset
    period.select_option(value="90d")
    page.get_by_role("button", name="应用").click()
    page.wait_for_url(lambda url: "period=90d" in url, wait_until=LOADED)
    end = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()
    expect(start_box).to_have_value((end - timedelta(days=89)).isoformat())
    expect(end_box).to_have_value(end.isoformat())
    expect(period).to_have_value("90d")
    page.screenshot(path=tmp_path / "dashboard-period-90d-375.png")

    # dates typed while the preset is still selected: the typed dates win, "custom" shows
    start_box.fill("2026-09-15")
    end_box.fill("2026-10-31")
    page.get_by_label("客服", exact=True).select_option("agent-2")
    page.get_by_role("button", name="应用").click()
    page.wait_for_url(lambda url: "from=2026-09-15" in url, wait_until=LOADED)
    expect(start_box).to_have_value("2026-09-15")
    expect(end_box).to_have_value("2026-10-31")
    expect(period).to_have_value("")
    expect(page.get_by_label("客服", exact=True)).to_have_value("agent-2")
    expect(page.locator("main")).to_contain_text("2026-09-15 至 2026-10-31")
    assert_fits(page)
    page.screenshot(path=tmp_path / "dashboard-period-typed-375.png")
