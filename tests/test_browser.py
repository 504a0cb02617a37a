"""A customer answers the post-case survey in a real browser: on a phone, without JavaScript, and
with the keyboard only.

Debian's chromium through Playwright (see tests/browser.py), against the app served over HTTP on
loopback. Every answer is given by clicking or typing as a person would, never by setting values
from a script. Screenshots land in each test's tmp_path.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from browser import PHONE, focused, new_context, tab_to
from playwright.sync_api import Page, expect
from support import in_app, new_case, survey_path

from feedback.models import Answer, Response

pytestmark = pytest.mark.browser

WRONG = "哪些方面让您不满意？"
COND_HINT = "仅当您对“总体而言，您对这次服务满意吗？”的回答为 ≤ 2 时才需回答。"


@pytest.fixture
def phone_without_js(browser):
    context = new_context(browser, **PHONE, java_script_enabled=False)
    yield context
    context.close()


def survey_link(app, live_server, api_headers) -> str:
    """A new case through the API; its customer's survey link, on the live server."""
    reply = new_case(app.test_client(), api_headers)
    return live_server.url + survey_path(reply)


def pill(page: Page, question: str, value: str):
    """The number pill of a scale question that a customer taps."""
    return page.locator(f"#q-{question} label.point:has(input[value='{value}'])")


def option(page: Page, question: str, text: str):
    """The labelled option (radio or checkbox) of a choice question, by its visible text."""
    return page.locator(f"#q-{question} label.option").filter(
        has=page.get_by_text(text, exact=True)
    )


def radio(page: Page, question: str, value: str):
    return page.locator(f"input[name='{question}'][value='{value}']")


def assert_no_horizontal_scroll(page: Page, width: int = 360) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"page scrolls sideways: {scroll_width}px wide at {width}px"


def rendering_fonts(page: Page, selector: str) -> list[str]:
    """The fonts chromium actually drew a node's text with (to catch CJK tofu boxes)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        return [font["familyName"] for font in fonts]
    finally:
        cdp.detach()


def stored(app) -> tuple[Response, dict]:
    """The one stored response and its answers by question (multi answers as sorted lists)."""
    with in_app(app):
        response = Response.get()
        answers: dict = defaultdict(list)
        for row in Answer.select().where(Answer.response == response).order_by(Answer.id):
            answers[row.question_id].append(
                row.value_int if row.value_int is not None else row.value_text
            )
    return response, {q: sorted(v) if len(v) > 1 else v[0] for q, v in answers.items()}


def test_customer_answers_on_a_phone(app, live_server, api_headers, phone, tmp_path):
    page = phone.new_page()
    page.goto(survey_link(app, live_server, api_headers))

    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("服务满意度调查")
    expect(page.locator("#q-resolved legend")).to_contain_text("您的问题解决了吗？")
    expect(page.get_by_role("button", name="提交回答")).to_be_visible()
    fonts = rendering_fonts(page, "h1")
    assert any("CJK" in family for family in fonts), f"Chinese drawn with {fonts}: tofu boxes"
    assert_no_horizontal_scroll(page)

    # Follow-up questions wait for the answer they depend on; their no-JavaScript hints go.
    unresolved = page.locator("#q-unresolved_detail")
    wrong = page.locator("#q-what_went_wrong")
    expect(unresolved).to_be_hidden()
    expect(wrong).to_be_hidden()
    expect(page.locator(".cond-hint")).to_have_count(2)
    for hint in page.locator(".cond-hint").all():
        expect(hint).to_be_hidden()

    option(page, "resolved", "否").click()
    expect(radio(page, "resolved", "no")).to_be_checked()
    expect(unresolved).to_be_visible()
    expect(page.get_by_label("还有哪些问题没有解决？")).to_be_editable()
    option(page, "resolved", "是").click()
    expect(radio(page, "resolved", "yes")).to_be_checked()
    expect(unresolved).to_be_hidden()

    # "What went wrong" only for CSAT 1 or 2.
    for value, shown in (("3", False), ("1", True), ("5", False), ("2", True)):
        pill(page, "csat", value).click()
        expect(radio(page, "csat", value)).to_be_checked()
        if shown:
            expect(wrong).to_be_visible()
            expect(wrong.locator("legend")).to_contain_text(WRONG)
        else:
            expect(wrong).to_be_hidden()
            expect(page.get_by_text(WRONG)).to_be_hidden()
        if value == "1":
            option(page, "what_went_wrong", "响应太慢").click()
    expect(wrong.get_by_label("响应太慢")).to_be_checked()  # kept while it was hidden
    option(page, "what_went_wrong", "问题没有解决").click()

    for question, value in (
        ("nps", "9"),
        ("ces", "6"),
        ("speed", "2"),
        ("attitude", "4"),
        ("competence", "3"),
    ):
        pill(page, question, value).click()
        expect(radio(page, question, value)).to_be_checked()
    page.get_by_label("还有什么想告诉我们的吗？").fill("等了很久，但客服很耐心。")

    assert_no_horizontal_scroll(page)
    page.screenshot(path=tmp_path / "survey-filled.png", full_page=True)

    page.get_by_role("button", name="提交回答").click()
    page.wait_for_url(re.compile(r"/thanks$"))
    expect(page.locator("h1")).to_have_text("谢谢")
    expect(page.locator(".thanks")).to_contain_text("感谢您的反馈")
    assert_no_horizontal_scroll(page)
    page.screenshot(path=tmp_path / "thanks.png", full_page=True)

    response, answers = stored(app)
    assert (response.csat, response.nps, response.ces) == (2, 9, 6)
    assert response.locale == "zh_CN"
    assert answers == {
        "resolved": "yes",
        "csat": 2,
        "what_went_wrong": ["not_solved", "speed"],
        "nps": 9,
        "ces": 6,
        "speed": 2,
        "attitude": 4,
        "competence": 3,
        "comment": "等了很久，但客服很耐心。",
    }


def test_survey_works_without_javascript(app, live_server, api_headers, phone_without_js, tmp_path):
    page = phone_without_js.new_page()
    page.goto(survey_link(app, live_server, api_headers))

    # Every question shows; the conditional ones say when they need an answer.
    wrong = page.locator("#q-what_went_wrong")
    expect(wrong).to_be_visible()
    expect(wrong.locator(".cond-hint")).to_have_text(COND_HINT)
    expect(page.locator("#q-unresolved_detail .cond-hint")).to_contain_text("“否”")

    option(page, "resolved", "是").click()
    pill(page, "csat", "4").click()
    option(page, "what_went_wrong", "服务态度不好").click()  # its condition fails: ignored
    comment = page.get_by_label("还有什么想告诉我们的吗？")
    comment.fill("请保留我写的这段话")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="提交回答").click()  # NPS (required) left out
    assert posted.value.status == 422

    expect(page.locator("#error-summary")).to_contain_text("请检查您的回答")
    # the summary takes the focus even without JavaScript (autofocus), and names the question
    expect(page.locator("#error-summary")).to_be_focused()  # autofocus: applied after parsing
    expect(page.locator("#error-summary li")).to_have_text(
        "您有多大可能向朋友或同事推荐我们？ 请回答此问题。"
    )
    nps = page.locator("#q-nps")
    expect(nps).to_have_class(re.compile(r"\bhas-error\b"))
    expect(nps.locator(".error")).to_have_text("请回答此问题。")
    expect(nps).to_have_attribute("aria-describedby", re.compile(r"\bq-nps-error\b"))
    expect(page.locator(".question .error")).to_have_count(1)
    expect(comment).to_have_value("请保留我写的这段话")
    expect(radio(page, "resolved", "yes")).to_be_checked()
    expect(radio(page, "csat", "4")).to_be_checked()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=tmp_path / "missing-answer.png", full_page=True)

    page.locator("#error-summary a[href='#nps-0']").click()
    assert focused(page, "#nps-0")  # the link leads to where the answer goes
    pill(page, "nps", "7").click()
    page.get_by_role("button", name="提交回答").click()
    page.wait_for_url(re.compile(r"/thanks$"))
    expect(page.locator(".thanks")).to_contain_text("感谢您的反馈")

    response, answers = stored(app)
    assert (response.csat, response.nps, response.ces) == (4, 7, None)
    assert answers == {"resolved": "yes", "csat": 4, "nps": 7, "comment": "请保留我写的这段话"}


def test_survey_can_be_answered_with_the_keyboard_only(
    app, live_server, api_headers, desktop, tmp_path
):
    page = desktop.new_page()
    page.goto(survey_link(app, live_server, api_headers))
    keys = page.keyboard

    tab_to(page, "input[name=resolved]")
    assert focused(page, "input[value=yes]")
    keys.press("Space")
    expect(radio(page, "resolved", "yes")).to_be_checked()
    keys.press("ArrowDown")
    expect(radio(page, "resolved", "no")).to_be_checked()
    expect(page.locator("#q-unresolved_detail")).to_be_visible()
    keys.press("ArrowUp")
    expect(radio(page, "resolved", "yes")).to_be_checked()
    expect(page.locator("#q-unresolved_detail")).to_be_hidden()

    keys.press("Tab")  # straight past the hidden follow-up
    assert focused(page, "input[name=csat][value='1']")
    outline = page.evaluate(
        "getComputedStyle(document.activeElement.nextElementSibling).outlineStyle"
    )
    assert outline == "solid", "the focused pill shows no focus ring"
    expect(page.locator("#q-csat-keys")).to_be_visible()  # the arrow keys choose
    expect(page.locator("input[name=csat]:checked")).to_have_count(0)  # focus chose nothing
    keys.press("Space")  # not a silent 1 (a false detractor, with a follow-up)
    expect(page.locator("input[name=csat]:checked")).to_have_count(0)
    expect(page.locator("#q-what_went_wrong")).to_be_hidden()
    for _ in range(4):
        keys.press("ArrowRight")
    expect(radio(page, "csat", "5")).to_be_checked()
    expect(page.locator("#q-what_went_wrong")).to_be_hidden()

    keys.press("Tab")
    assert focused(page, "input[name=nps][value='0']")
    keys.press("Space")
    expect(page.locator("input[name=nps]:checked")).to_have_count(0)
    for _ in range(8):
        keys.press("ArrowRight")
    expect(radio(page, "nps", "8")).to_be_checked()

    tab_to(page, "textarea#comment")
    keys.type("全程用键盘填写")
    page.screenshot(path=tmp_path / "keyboard.png", full_page=True)
    tab_to(page, "button[type=submit]", limit=3)
    keys.press("Enter")
    page.wait_for_url(re.compile(r"/thanks$"))
    expect(page.locator(".thanks")).to_contain_text("感谢您的反馈")

    response, answers = stored(app)
    assert (response.csat, response.nps) == (5, 8)
    assert answers == {"resolved": "yes", "csat": 5, "nps": 8, "comment": "全程用键盘填写"}


def test_keyboard_user_can_still_choose_the_lowest_score(app, live_server, api_headers, desktop):
    """Space is kept from choosing a scale's first number only while nothing is chosen: the
    arrow keys reach 1, and Space keeps it."""
    page = desktop.new_page()
    page.goto(survey_link(app, live_server, api_headers))
    tab_to(page, "input[name=csat]")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    expect(radio(page, "csat", "1")).to_be_checked()
    page.keyboard.press("Space")
    expect(radio(page, "csat", "1")).to_be_checked()
    expect(page.locator("#q-what_went_wrong")).to_be_visible()


def test_one_click_rating_is_sent_with_one_tap(app, live_server, api_headers, phone, tmp_path):
    page = phone.new_page()
    page.goto(survey_link(app, live_server, api_headers) + "?csat=5")
    expect(radio(page, "csat", "5")).to_be_checked()
    expect(page.locator("#one-tap")).to_contain_text("其他问题均为选答")
    assert_no_horizontal_scroll(page)
    page.screenshot(path=tmp_path / "one-tap.png", full_page=True)
    page.locator("#one-tap").get_by_role("button", name="提交我的评分").tap()
    page.wait_for_url(re.compile(r"/thanks$"))
    expect(page.locator(".thanks")).to_contain_text("感谢您的反馈")
    response, answers = stored(app)
    assert (response.csat, response.nps, response.ces) == (5, None, None)
    assert answers == {"csat": 5}
