"""An admin edits a survey in a real browser, in Chinese, without JavaScript doing the work: a
question's text changed, a question added, a mistake shown beside its field, the phone-sized
preview, saved; the next customer's survey page asks the new question. The editor and the survey
list fit a 320 px screen without scrolling sideways.

Debian's chromium through Playwright (see tests/browser.py), against the app over HTTP.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from browser import add_question, new_context
from playwright.sync_api import expect
from support import PASSWORD, in_app, new_case, survey_path

from feedback.models import Survey
from feedback.surveys import current_version

pytestmark = pytest.mark.browser


def test_an_admin_edits_a_question_and_the_next_customer_gets_it(
    app, client, api_headers, users, live_server, browser, tmp_path
):
    context = new_context(
        browser, viewport={"width": 1280, "height": 900}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    page.goto(live_server.url + "/admin/surveys")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/admin/surveys")
    page.get_by_role("link", name="在浏览器中编辑“服务满意度调查”").click()
    expect(page.locator("h1")).to_contain_text("编辑问卷“服务满意度调查”")

    question = page.locator("#q2")  # csat, the third question
    question.get_by_label("English").first.fill("All things considered, were you satisfied?")
    question.get_by_label("中文").first.fill("总的来说，您满意吗？")
    added = add_question(page, "是或否", "call_back", "需要我们回电吗？")
    expect(added.get_by_label("类型")).to_have_value("yesno")
    # a mistake: the English text left out; the check names it beside the field, in Chinese
    page.get_by_role("button", name="检查").first.click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("问题 11")
    expect(summary).to_be_focused()  # it takes focus (autofocus, applied after parsing)
    expect(page.locator("#q10-text-error")).to_have_text("“text”缺少 en 文本")
    summary.get_by_role("link", name="问题 11").click()
    expect(page.locator("#q10-text-zh_CN")).to_have_value("需要我们回电吗？")  # kept
    page.locator("#q10-text-en").fill("Shall we call you back?")
    page.get_by_role("button", name="预览").first.click()
    frame = page.frame_locator("iframe.phone-frame")
    expect(frame.get_by_text("需要我们回电吗？")).to_be_visible()
    expect(frame.locator("#q-csat legend")).to_contain_text("总的来说，您满意吗？")
    box = page.locator("iframe.phone-frame").bounding_box()
    assert 370 <= box["width"] - 16 <= 376, box  # a 375 px phone inside its 8 px border
    page.screenshot(path=str(tmp_path / "survey-editor.png"), full_page=True)

    page.get_by_role("button", name="保存为第 2 版").first.click()
    expect(page.get_by_text("post-case 的第 2 版已保存")).to_be_visible()
    with in_app(app):
        assert current_version("post-case").version == 2
        assert Survey.get(Survey.slug == "post-case").source is None

    # the next customer, on a phone, is asked the new question
    reply = new_case(client, api_headers, case_id="B-1", customer={"id": "b1", "locale": "zh-CN"})
    customer = new_context(browser, viewport={"width": 360, "height": 740}, locale="zh-CN")
    survey = customer.new_page()
    survey.goto(live_server.url + survey_path(reply))
    expect(survey.get_by_text("需要我们回电吗？")).to_be_visible()
    expect(survey.locator("#q-csat legend")).to_contain_text("总的来说，您满意吗？")
    customer.close()
    context.close()


@pytest.mark.parametrize("path", ["/admin/surveys", "/admin/surveys/post-case/edit"])
def test_the_survey_pages_fit_a_320_px_screen(app, users, live_server, browser, path, tmp_path):
    context = new_context(browser, viewport={"width": 320, "height": 640}, locale="en")
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + path)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    page.screenshot(path=str(tmp_path / "narrow.png"), full_page=True)
    assert width <= 320, f"{path} is {width}px wide on a 320px screen"
    context.close()
