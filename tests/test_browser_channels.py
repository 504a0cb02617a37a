"""An admin sets up email on the channels page and sends a test, in a real browser: on a 320 px
phone, without JavaScript, finding every field by its label (in Chinese)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from browser import PHONE, new_context
from playwright.sync_api import Page, expect
from support import PASSWORD, in_app

from feedback import outbox
from feedback.models import SiteSetting

pytestmark = pytest.mark.browser

PAGE = "/admin/channels/"


@pytest.fixture
def narrow_without_js(browser):
    context = new_context(
        browser, **{**PHONE, "viewport": {"width": 320, "height": 640}}, java_script_enabled=False
    )
    yield context
    context.close()


def log_in(page: Page, live_server) -> None:
    page.goto(live_server.url + PAGE)
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: urlparse(url).path == PAGE)


def assert_no_horizontal_scroll(page: Page, width: int = 320) -> None:
    sizes = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
    assert max(sizes) <= width, f"page scrolls sideways: {sizes} at {width}px"


def test_admin_sets_up_email_and_sends_a_test_on_a_phone_without_javascript(
    app, users, live_server, narrow_without_js, smtp_server, tmp_path
):
    page = narrow_without_js.new_page()
    log_in(page, live_server)
    expect(page.locator("h1")).to_have_text("渠道：邮件、邀请、短信、Webhook")
    assert_no_horizontal_scroll(page)
    email = page.locator("section#email")
    email.get_by_label("SMTP 服务器", exact=True).fill("127.0.0.1")
    email.get_by_label("端口", exact=True).fill(str(smtp_server.controller.port))
    email.get_by_label("密码", exact=True).fill("browser-secret-1")
    email.get_by_role("button", name="保存：邮件（SMTP）").click()
    expect(page.get_by_text("已保存：SMTP 服务器、端口和密码。", exact=False)).to_be_visible()
    assert "browser-secret-1" not in page.content()
    assert_no_horizontal_scroll(page)
    with in_app(app):
        assert {r.name for r in SiteSetting.select()} == {"SMTP_HOST", "SMTP_PORT", "SMTP_PASSWORD"}

    email.get_by_label("电子邮件地址", exact=True).fill("me@example.cn")
    email.get_by_role("button", name="发送测试邮件").click()
    expect(page.locator("section#email .test-outcome")).to_contain_text("在发件箱中等待")
    with in_app(app):
        assert outbox.deliver_due(app.config) == outbox.Outcome(delivered=1)
    page.reload()
    expect(page.locator("section#email .test-outcome")).to_contain_text("已发送")
    assert [m["To"] for m in smtp_server.messages] == ["me@example.cn"]
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(tmp_path / "channels-320.png"), full_page=True)
