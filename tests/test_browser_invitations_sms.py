"""An invitation by text in a real browser: the customer taps the short link of the text on a
phone and answers; the admin reads the invitations page and records an opt-out on a phone 320
and 375 pixels wide, without JavaScript.

Debian's chromium through Playwright (see tests/browser.py), against the app served over HTTP on
loopback, with the local Aliyun fake (tests/sms_fake.py) taking the texts.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from browser import PHONE, new_context
from playwright.sync_api import expect
from sms_fake import config_for, running
from support import PASSWORD, LiveServer, in_app, new_case

from feedback import outbox
from feedback.db import utcnow
from feedback.models import OptOut, Response

pytestmark = pytest.mark.browser


def test_the_short_link_of_a_text_leads_to_the_survey_and_an_admin_records_an_opt_out(
    make_app, api_headers_for, users, browser, tmp_path
):
    with running() as aliyun:
        app = make_app(SEND_INVITATIONS=True, **config_for(aliyun))
        client, headers = api_headers_for(app)
        new_case(
            client,
            headers,
            case_id="SMS-1",
            customer={"id": "s-1", "phone": "13800138000", "locale": "zh-CN"},
        )
        with in_app(app):
            assert outbox.deliver_due(app.config) == outbox.Outcome(delivered=1)
        link = json.loads(aliyun.sent[0]["TemplateParam"])["content"]
        assert re.fullmatch(r"http://feedback\.test/r/[A-Za-z0-9]{10}", link)

        with LiveServer(app) as server:
            # the customer taps the link in the text: the short link, then the survey
            customer = new_context(browser, **PHONE)
            page = customer.new_page()
            page.goto(server.url + urlparse(link).path)
            assert re.fullmatch(rf"{server.url}/s/[A-Za-z0-9_-]+", page.url)
            page.locator('input[name="resolved"][value="yes"]').check()
            page.locator('input[name="csat"][value="5"]').check()
            page.locator('input[name="nps"][value="9"]').check()
            page.get_by_role("button", name="提交").click()
            page.wait_for_url(re.compile(r"/thanks$"))
            customer.close()
            with in_app(app):
                assert Response.select().count() == 1
                later = utcnow() + timedelta(hours=73)
                assert outbox.deliver_due(app.config, now=lambda: later) == outbox.Outcome(
                    skipped=1
                )
            assert len(aliyun.sent) == 1  # no reminder after the answer

            for width in (320, 375):
                admin = new_context(
                    browser,
                    **{**PHONE, "viewport": {"width": width, "height": 740}},
                    java_script_enabled=False,
                )
                page = admin.new_page()
                page.goto(server.url + "/admin/invitations/")
                page.get_by_label("用户名").fill("admin")
                page.get_by_label("密码").fill(PASSWORD)
                page.get_by_role("button", name="登录").click()
                page.wait_for_url(lambda url: urlparse(url).path == "/admin/invitations/")
                row = page.locator("tr").filter(has_text="SMS-1")
                expect(row).to_contain_text("短信")
                expect(row).to_contain_text("已发送")
                width_used = page.evaluate("document.documentElement.scrollWidth")
                assert width_used <= width, f"{width_used}px wide at {width}px"
                page.get_by_label("电子邮箱或电话号码").fill(f"+86 138 0013 800{width % 10}")
                page.get_by_role("button", name="登记退订").click()
                expect(page.locator("p.flash")).to_contain_text("退订已登记")
                page.screenshot(path=tmp_path / f"invitations-{width}.png", full_page=True)
                admin.close()
    with in_app(app):
        assert OptOut.select().count() == 2
