"""The suggestion box in a real browser: a customer on a phone, in Chinese, sends an anonymous
suggestion; a manager answers it; the customer reads the answer with the tracking code.

Debian's chromium through Playwright (see tests/browser.py), against the app over HTTP."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from browser import answer_suggestion, new_context
from playwright.sync_api import expect
from support import PASSWORD

pytestmark = pytest.mark.browser


def test_anonymous_suggestion_answered_and_followed_on_a_phone(
    app, users, live_server, phone, browser, tmp_path
):
    customer = phone.new_page()
    customer.goto(live_server.url + "/suggest/")
    expect(customer.locator("html")).to_have_attribute("lang", "zh-CN")
    customer.get_by_label("关于哪方面？").select_option(label="服务质量")
    customer.get_by_label("标题").fill("周末电话排队太久")
    customer.get_by_label("您的建议").fill("周六打客服电话等了二十五分钟。")
    customer.get_by_label("署名").check()
    expect(customer.get_by_label("您的姓名")).to_be_visible()
    customer.get_by_label("匿名", exact=True).check()
    expect(customer.get_by_label("您的姓名")).to_be_hidden()  # JavaScript hides what is not needed
    width = customer.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"the form is {width}px wide on a 360px phone"
    customer.get_by_role("button", name="提交").click()
    expect(customer.locator("h1")).to_have_text("谢谢")
    code = customer.locator("#tracking-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    customer.screenshot(path=str(tmp_path / "thanks.png"), full_page=True)

    desk = new_context(browser, viewport={"width": 1280, "height": 900}, locale="zh-CN")
    manager = desk.new_page()
    manager.goto(live_server.url + "/manage/suggestions/")
    manager.get_by_label("用户名").fill("manager")
    manager.get_by_label("密码").fill(PASSWORD)
    manager.get_by_role("button", name="登录").click()
    manager.wait_for_url(lambda url: urlparse(url).path == "/manage/suggestions/")
    answer_suggestion(
        manager,
        "周末电话排队太久",
        "已计划",
        "下个月起周末增加两名客服。",
        "人事已批准 internal-42",
    )
    expect(manager.get_by_text("匿名", exact=True).first).to_be_visible()
    desk.close()

    customer.goto(live_server.url + "/suggest/track")
    customer.get_by_label("查询码").fill(code.lower())
    customer.get_by_role("button", name="查看状态").click()
    expect(customer.locator("#current-status")).to_have_text("已计划")
    expect(customer.get_by_text("下个月起周末增加两名客服。")).to_be_visible()
    assert "internal-42" not in customer.content()
    customer.screenshot(path=str(tmp_path / "status.png"), full_page=True)
    # a further comment, still anonymous
    customer.get_by_label("补充说明").fill("工作日也偶尔很慢。")
    customer.get_by_role("button", name="提交补充").click()
    expect(customer.get_by_text("工作日也偶尔很慢。")).to_be_visible()
