"""A staff member reads My figures on a phone, in a real browser, without JavaScript.

Debian's chromium through Playwright (tests/browser.py), the app served over HTTP on loopback,
with the ``scored`` data set (Sept-Oct 2026, three teams, agents agent-0 to agent-4); the staff
member is agent-1 of 账务组. At 375 and 320 px the page never scrolls sideways (wide tables
scroll inside their own box), every chart loads, and the period form works with scripts off.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from browser import PHONE, assert_fits, new_context
from data_sets import START
from playwright.sync_api import expect
from support import PASSWORD, in_app

from feedback import accounts
from feedback.models import Team

pytestmark = pytest.mark.browser

PERIOD = f"from={START}&to=2026-10-31"


@pytest.fixture
def no_script_phone(browser):
    """A phone-sized context in Chinese with JavaScript switched off."""
    context = new_context(browser, **PHONE, java_script_enabled=False)
    yield context
    context.close()


def test_my_figures_on_a_phone_without_javascript(
    app, scored, live_server, browser, no_script_phone, tmp_path
):
    with in_app(app):
        accounts.create_user(
            "staff", PASSWORD, "staff", team=Team.by_name("账务组"), agent_code="agent-1"
        )
    page = no_script_phone.new_page()
    page.goto(f"{live_server.url}/me/?{PERIOD}")
    expect(page).to_have_url(re.compile(r"/login\?"))
    page.get_by_label("用户名").fill("staff")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/me/")
    expect(page.locator("h1")).to_have_text("我的数据")
    expect(page.locator("section.tiles .tile")).to_have_count(4)
    expect(page.get_by_role("link", name="我的数据")).to_be_visible()

    # the period form is a plain GET: a preset chosen and applied, no script needed
    page.get_by_label("期间").select_option(value="365d")
    page.get_by_role("button", name="应用").click()
    page.wait_for_url(lambda url: "period=365d" in url)
    assert parse_qs(urlparse(page.url).query)["period"] == ["365d"]
    page.goto(f"{live_server.url}/me/?{PERIOD}")

    # the charts load, each with the table of its numbers beside it
    images = page.locator("figure.chart img")
    assert images.count() == 3
    for i in range(images.count()):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0, image.get_attribute("src")
    assert page.locator(".chart-with-table table").count() == 3
    expect(page.locator(".chart-with-table table").last).to_contain_text("另一位客服")
    for width in (375, 320):
        page.set_viewport_size({"width": width, "height": 740})
        assert_fits(page)
        page.screenshot(path=tmp_path / f"my-figures-{width}.png", full_page=True)
