"""Closing the loop in a real browser: a detractor's answer reaches the team lead's queue, the
lead records a call-back contact, closes it as recovered, and the dashboard's recovery rate moves.

Debian's chromium through Playwright (see tests/browser.py), against the app served over HTTP on
loopback. The customer answers on a phone-sized page; the lead works on a phone too, in Chinese.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from browser import PHONE, new_context
from playwright.sync_api import Page, expect
from support import PASSWORD, new_case, survey_path

pytestmark = pytest.mark.browser


@pytest.fixture
def phone_page(browser):
    context = new_context(browser, **PHONE)
    yield context
    context.close()


def recovery_cell(page: Page):
    """The recovery rate of team Billing in the dashboard's follow-up table."""
    row = page.locator("#follow-up-figures tbody tr").filter(
        has=page.get_by_role("rowheader", name="Billing", exact=True)
    )
    return row.locator("td.recovery")


def test_lead_calls_back_a_detractor_and_the_recovery_rate_changes(
    app, client, api_headers, users, live_server, browser, tmp_path
):
    reply = new_case(
        client,
        api_headers,
        case_id="HD-900",
        customer={"id": "c-900", "locale": "zh-CN", "phone": "13800000000"},
    )

    # The customer answers on their phone: not resolved, very dissatisfied, a detractor.
    customer = new_context(browser, **PHONE)
    page = customer.new_page()
    page.goto(live_server.url + survey_path(reply))
    page.locator('input[name="resolved"][value="no"]').check()
    page.locator('input[name="csat"][value="1"]').check()
    page.locator('input[name="nps"][value="2"]').check()
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r"/thanks$"))
    customer.close()

    # The team lead logs in and finds it at the top of the follow-up queue.
    lead = new_context(browser, **PHONE)
    page = lead.new_page()
    page.goto(live_server.url + "/manage/follow-ups/")
    page.get_by_label("用户名").fill("lead")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/manage/follow-ups/")
    expect(page.locator("h1")).to_have_text("跟进")
    queue_rows = page.locator("table.queue tbody tr")
    expect(queue_rows).to_have_count(1)
    expect(queue_rows.first).to_contain_text("HD-900")
    expect(queue_rows.first).to_contain_text("待处理")
    page.screenshot(path=tmp_path / "queue-phone.png", full_page=True)

    # Before anything is closed, the dashboard has no recovery rate for Billing.
    dashboard = lead.new_page()
    dashboard.goto(live_server.url + "/manage/")
    expect(recovery_cell(dashboard)).to_have_text("–")

    # The follow-up's page: the case, the answers with readable labels, then a contact.
    page.get_by_role("link", name="HD-900").click()
    expect(page.locator("h1")).to_have_text("案件 HD-900 的跟进")
    expect(page.locator("dl.answers")).to_contain_text("您的问题解决了吗？")
    expect(page.locator("dl.answers")).to_contain_text("否")
    expect(page.get_by_role("link", name="13800000000")).to_be_visible()
    page.get_by_role("button", name="记录联系").click()  # empty: the note is asked for
    expect(page.locator("#contact_note-error")).to_have_text("请写下具体情况。")
    # the problem also opens the page, focused (the form is further down on a phone)
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary a")).to_have_attribute("href", "#contact_note")
    page.get_by_label("沟通内容（或尝试联系的情况）").fill("回访客户，已补发退款，客户表示满意")
    page.get_by_role("button", name="记录联系").click()
    expect(page.locator("#follow-up-state")).to_have_text("已联系")
    expect(page.locator("ol.history")).to_contain_text("回访客户，已补发退款")

    # Close it as recovered.
    # each outcome a 22 px radio with its label beside it, on a 44 px tall line
    radio = page.get_by_label("已挽回：客户现在满意了")
    label = page.locator("label", has_text="已挽回：客户现在满意了")
    box, text = radio.bounding_box(), label.bounding_box()
    assert box["width"] >= 22 and box["height"] >= 22, box
    assert text["x"] > box["x"] + box["width"], (box, text)  # beside, not below
    assert abs((text["y"] + text["height"] / 2) - (box["y"] + box["height"] / 2)) < 6, (box, text)
    line = radio.locator("xpath=..").bounding_box()
    assert line["height"] >= 44, line
    page.get_by_label("已挽回：客户现在满意了").check()
    page.get_by_label("备注").fill("客户确认问题已解决")
    page.get_by_role("button", name="关闭跟进").click()
    expect(page.locator("#follow-up-state")).to_have_text("已关闭（已挽回：客户现在满意了）")
    page.screenshot(path=tmp_path / "closed-phone.png", full_page=True)

    # The dashboard's recovery rate for Billing is now 100% of 1 closed.
    dashboard.reload()
    expect(recovery_cell(dashboard)).to_contain_text("100%")
    expect(recovery_cell(dashboard)).to_contain_text("已关闭 1 条中挽回 1 条")
    lead.close()
