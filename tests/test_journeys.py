"""Every person's journey, from a fresh start, in a real browser: what they do and see, and what
got stored.

One test per person, each on a new database (the ``app`` fixture) served over HTTP on loopback,
in new browser contexts (no cookies, nobody logged in): Debian's chromium through Playwright (see
tests/browser.py). People click what they see, found by its visible name or role, type, and
(the keyboard-only customer) press keys. Each journey saves screenshots of its key steps into
the folder named by FEEDBACK_JOURNEY_SCREENSHOTS, else into the test's tmp_path;
``tools/journey_screenshots.py`` points it at docs/journeys/ for docs/journeys.md.

1. a customer on a 375 px phone, in Chinese, sends with an answer missing, fixes it;
2. a customer with only a keyboard;
3. a customer who taps a rating in the invitation email and sends it with one tap;
4. an anonymous suggestion, answered by a manager, tracked by its code;
5. a team lead working a follow-up to "recovered";
6. a manager, in English: the dashboard filtered, a chart and the meeting pack downloaded, a
   suggestion answered, an improvement action's verdict read;
7. an admin editing a survey in the browser; the next customer gets the new version.

The data is fixed (case ids, names, dates of the ``scored`` data set), so the screenshots only
change when the pages do.
"""

from __future__ import annotations

import io
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from browser import (
    PHONE,
    add_question,
    answer_suggestion,
    assert_fits,
    download,
    focused,
    log_in,
    new_context,
    tab_to,
)
from playwright.sync_api import Page, expect
from support import (
    DETRACTOR,
    PASSWORD,
    LiveServer,
    answer,
    deliver,
    in_app,
    make_action,
    new_case,
    page_count,
    suggest,
    survey_path,
)

from feedback.models import (
    Answer,
    AuditEntry,
    FollowUp,
    FollowUpEvent,
    ImprovementAction,
    Invitation,
    Response,
    Suggestion,
    SuggestionEvent,
    User,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS_ENV = "FEEDBACK_JOURNEY_SCREENSHOTS"
# a customer's phone: 375 px wide, in Chinese, drawn at 1x so the screenshots stay small
CUSTOMER = {**PHONE, "viewport": {"width": 375, "height": 740}, "device_scale_factor": 1}
# an office screen, kept to 1024 px for the screenshots
OFFICE = {"viewport": {"width": 1024, "height": 768}, "locale": "zh-CN"}
RESOLVED = "您的问题解决了吗？"
CSAT = "总体而言，您对这次服务满意吗？"
NPS = "您有多大可能向朋友或同事推荐我们？"
CES = "我的问题处理起来很省事。"
COMMENT = "还有什么想告诉我们的吗？"
SEND = "提交回答"
THANKS = "感谢您的反馈"
# the time-stable cases of the journeys (support.CASE: resolved 2026-11-20, agent 李娜, Billing)
CUSTOMER_CASE = {"customer": {"id": "cust-8801", "name": "王芳", "locale": "zh-CN"}}


# The journeys happen at a fixed moment (a Friday, 14:00 in Shanghai), so that the dates they
# show (a follow-up's due time, a suggestion's reply goal, a link's expiry) stay the same.
NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
TRACKING_CODE = "K7QM-2XHD-9PWA"  # the anonymous suggestion's code, as the screenshots show it


class FrozenDatetime(datetime):
    """``datetime`` whose ``now`` is NOW (what it makes are plain datetimes, as stored)."""

    @classmethod
    def now(cls, tz=None):
        return NOW.astimezone(tz) if tz else NOW.replace(tzinfo=None)

    @classmethod
    def combine(cls, *args, **kwargs):
        return datetime.combine(*args, **kwargs)


@pytest.fixture(autouse=True)
def fixed_moment(monkeypatch):
    """The site's clocks (``db.utcnow``, the local day of ``workdays`` and the dashboard's
    filters) at NOW, and the next suggestion's tracking code TRACKING_CODE."""
    from feedback import db, suggestions, workdays
    from feedback.web import filters

    for module in (db, workdays, filters):
        monkeypatch.setattr(module, "datetime", FrozenDatetime)
    monkeypatch.setattr(suggestions, "new_code", lambda: TRACKING_CODE)


# --- screenshots ------------------------------------------------------------------------------


class Album:
    """The screenshots of one journey: ``<journey>-<n>-<step>.png`` in the folder, each the
    viewport only, quantized to 128 colours (small files)."""

    def __init__(self, folder: Path, journey: str):
        self.folder, self.journey = folder, journey
        self.files: list[Path] = []

    def shot(self, page: Page, step: str, full_page: bool = False) -> Path:
        from PIL import Image

        page.wait_for_load_state("load")
        png = page.screenshot(full_page=full_page, animations="disabled", caret="hide")
        path = self.folder / f"{self.journey}-{len(self.files) + 1}-{step}.png"
        image = Image.open(io.BytesIO(png)).convert("RGB")
        image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            path, optimize=True
        )
        self.files.append(path)
        return path

    def done(self) -> None:
        """The journey's end: three to six screenshots, each a PNG."""
        assert 3 <= len(self.files) <= 6, (self.journey, self.files)
        for path in self.files:
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path


@pytest.fixture
def album(request, tmp_path):
    """Album(journey): the screenshots of a journey, in FEEDBACK_JOURNEY_SCREENSHOTS or tmp_path."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def make(journey: str) -> Album:
        return Album(folder, journey)

    return make


# --- what people use ----------------------------------------------------------------------------


def question(page: Page, text: str):
    """A question of the survey: the group its legend names."""
    return page.get_by_role("group", name=re.compile("^" + re.escape(text)))


def tap(page: Page, text: str, choice: str) -> None:
    """Tap the choice (a number pill, 是/否) shown in the question."""
    question(page, text).get_by_role("radio", name=choice, exact=True).tap()


def chosen(page: Page, text: str):
    return question(page, text).locator("input:checked")


def stored_answers(app) -> list[dict]:
    """Each stored response as {question: value} (multi answers as sorted lists)."""
    with in_app(app):
        result = []
        for response in Response.select().order_by(Response.id):
            answers: dict = {}
            for row in Answer.select().where(Answer.response == response).order_by(Answer.id):
                value = row.value_int if row.value_int is not None else row.value_text
                answers.setdefault(row.question_id, []).append(value)
            result.append({q: sorted(v) if len(v) > 1 else v[0] for q, v in answers.items()})
        return result


# --- 1. a customer on a phone, one answer missing --------------------------------------------


def test_customer_on_a_phone_fixes_a_missing_answer(app, live_server, api_headers, browser, album):
    shots = album("1-phone")
    reply = new_case(app.test_client(), api_headers, case_id="HD-2026-1201", **CUSTOMER_CASE)
    context = new_context(browser, **CUSTOMER)
    page = context.new_page()
    page.goto(live_server.url + survey_path(reply))  # the personal link from the invitation
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("服务满意度调查")
    assert_fits(page)
    shots.shot(page, "survey")

    tap(page, RESOLVED, "是")
    tap(page, CSAT, "4")
    tap(page, CES, "6")
    page.get_by_label(COMMENT).fill("客服很耐心，就是电话排队有点久。")
    page.get_by_role("button", name=SEND).tap()  # "how likely to recommend" left out

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("请检查您的回答")
    expect(summary.get_by_role("listitem")).to_have_text(f"{NPS} 请回答此问题。")
    expect(summary.get_by_role("link")).to_have_text(NPS)
    expect(question(page, NPS)).to_contain_text("请回答此问题。")  # beside the field
    expect(page.locator(".question .error")).to_have_count(1)
    assert stored_answers(app) == []
    assert_fits(page)
    shots.shot(page, "error-summary")
    summary.get_by_role("link").tap()  # to the question
    expect(question(page, NPS).get_by_role("radio").first).to_be_focused()
    # the question and its error in view above the answers, not scrolled off the top
    expect(question(page, NPS).locator("legend")).to_be_in_viewport()
    expect(question(page, NPS).get_by_text("请回答此问题。")).to_be_in_viewport()
    expect(chosen(page, CSAT)).to_have_value("4")  # the answers given are kept
    expect(page.get_by_label(COMMENT)).to_have_value("客服很耐心，就是电话排队有点久。")
    shots.shot(page, "error-beside-the-question")

    tap(page, NPS, "9")
    page.get_by_role("button", name=SEND).tap()
    page.wait_for_url(re.compile(r"/thanks$"))
    expect(page.locator("main")).to_contain_text(THANKS)
    assert_fits(page)
    shots.shot(page, "thanks")

    # the link again: already answered, nothing more stored
    page.goto(live_server.url + survey_path(reply))
    expect(page.get_by_role("button", name=SEND)).to_have_count(0)
    assert stored_answers(app) == [
        {
            "resolved": "yes",
            "csat": 4,
            "nps": 9,
            "ces": 6,
            "comment": "客服很耐心，就是电话排队有点久。",
        }
    ]
    with in_app(app):
        response = Response.get()
        assert (response.csat, response.nps, response.ces, response.locale) == (4, 9, 6, "zh_CN")
        assert Invitation.get().status == "answered"
    context.close()
    shots.done()


# --- 2. a customer with only a keyboard -------------------------------------------------------


def test_keyboard_only_customer(app, live_server, api_headers, browser, album):
    shots = album("2-keyboard")
    reply = new_case(app.test_client(), api_headers, case_id="HD-2026-1202", **CUSTOMER_CASE)
    context = new_context(browser, viewport={"width": 800, "height": 760}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + survey_path(reply))
    keys = page.keyboard

    tab_to(page, "input[name=resolved]")
    keys.press("Space")  # the first choice, 是
    expect(chosen(page, RESOLVED)).to_have_value("yes")
    keys.press("Tab")  # the follow-up question stays hidden: on to the rating
    assert focused(page, "input[name=csat]")
    expect(page.locator("#q-csat-keys")).to_be_visible()  # says the arrow keys choose
    expect(chosen(page, CSAT)).to_have_count(0)  # reaching the scale chose nothing
    shots.shot(page, "scale-focused")
    for _ in range(3):
        keys.press("ArrowRight")
    expect(chosen(page, CSAT)).to_have_value("4")
    keys.press("Tab")
    assert focused(page, "input[name=nps]")
    for _ in range(9):
        keys.press("ArrowRight")
    expect(chosen(page, NPS)).to_have_value("9")
    keys.press("Tab")
    for _ in range(4):
        keys.press("ArrowRight")
    expect(chosen(page, CES)).to_have_value("5")
    tab_to(page, "textarea[name=comment]")
    keys.type("全程只用键盘填写。")
    shots.shot(page, "answered", full_page=True)
    tab_to(page, "button[type=submit]", limit=3)
    keys.press("Enter")
    page.wait_for_url(re.compile(r"/thanks$"))
    expect(page.locator("main")).to_contain_text(THANKS)
    shots.shot(page, "thanks")

    assert stored_answers(app) == [
        {"resolved": "yes", "csat": 4, "nps": 9, "ces": 5, "comment": "全程只用键盘填写。"}
    ]
    with in_app(app):
        assert FollowUp.select().count() == 0  # no false detractor
    context.close()
    shots.done()


# --- 3. a rating tapped in the invitation email ------------------------------------------------


@pytest.fixture
def one_click_app(make_app, tmp_path, smtp_server):
    """A site that emails invitations, its post-case survey asking for the rating first with
    the email offering it as links (``one_click: true``)."""
    data = yaml.safe_load((ROOT / "surveys" / "post-case.yaml").read_text(encoding="utf-8"))
    data["questions"].sort(key=lambda q: q["id"] != "csat")
    data["one_click"] = True
    folder = tmp_path / "surveys"
    folder.mkdir()
    (folder / "post-case.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return make_app(SURVEYS_DIR=str(folder), SEND_INVITATIONS=True, **smtp_server.config)


def test_one_click_rating_from_the_email(
    one_click_app, smtp_server, api_headers_for, browser, album
):
    shots = album("3-one-tap")
    app = one_click_app
    client, headers = api_headers_for(app)
    with LiveServer(app) as server:
        app.config["BASE_URL"] = server.url  # the email's links lead to this server
        new_case(
            client,
            headers,
            case_id="HD-2026-1203",
            customer={"id": "cust-8803", "email": "wang.fang@example.cn", "locale": "zh-CN"},
        )
        deliver(app)
        (message,) = smtp_server.messages
        email = message.get_body(("html",)).get_content()

        # a mail scanner fetches every link of the email: nothing is stored
        links = re.findall(r'href="([^"]+\?csat=\d)"', email)
        assert len(links) == 5
        scanner = browser.new_context()
        for link in links:
            assert scanner.request.get(link).status == 200
        scanner.close()
        assert stored_answers(app) == []

        context = new_context(browser, **CUSTOMER)
        page = context.new_page()
        page.set_content(email)  # the email, as the phone's mail app shows it
        shots.shot(page, "email")
        page.get_by_role("link", name=re.compile("^5")).tap()
        page.wait_for_url(re.compile(r"/s/[^/]+\?csat=5$"))
        expect(chosen(page, CSAT)).to_have_value("5")
        one_tap = page.locator("#one-tap")
        expect(one_tap).to_contain_text("其他问题均为选答")
        assert_fits(page)
        shots.shot(page, "pre-selected")
        assert stored_answers(app) == []  # opening the page stored nothing either
        one_tap.get_by_role("button", name="提交我的评分").tap()
        page.wait_for_url(re.compile(r"/thanks$"))
        expect(page.locator("main")).to_contain_text(THANKS)
        shots.shot(page, "thanks")
        context.close()
    shots.done()

    assert stored_answers(app) == [{"csat": 5}]
    with in_app(app):
        response = Response.get()
        assert (response.csat, response.nps, response.ces) == (5, None, None)
        assert FollowUp.select().count() == 0


# --- 4. an anonymous suggestion, its reply read with the tracking code -------------------------


def test_anonymous_suggestion_tracked_to_its_reply(app, users, live_server, browser, album):
    shots = album("4-suggestion")
    customer = new_context(browser, **CUSTOMER)
    page = customer.new_page()
    page.goto(live_server.url + "/suggest/")
    page.get_by_label("关于哪方面？").select_option(label="服务质量")
    page.get_by_label("标题").fill("周六的电话总是打不通")
    page.get_by_label("您的建议").fill(
        "周六打客服电话一直占线，试了好几次都打不通，希望周六也安排客服接听。"
    )
    page.get_by_label("匿名", exact=True).check()
    expect(page.get_by_label("您的姓名")).to_be_hidden()
    assert_fits(page)
    shots.shot(page, "form")
    page.get_by_role("button", name="提交").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("谢谢")
    code = page.locator("#tracking-code").inner_text().strip()
    assert code == TRACKING_CODE
    shots.shot(page, "tracking-code")
    customer.close()

    # nothing links the suggestion to an account or an address
    with in_app(app):
        suggestion = Suggestion.get()
        assert suggestion.anonymous and suggestion.user is None
        assert (suggestion.name, suggestion.email) == (None, None)
        rows = [suggestion.__data__] + [e.__data__ for e in SuggestionEvent.select()]
        assert "127.0.0.1" not in repr(rows)
        assert not AuditEntry.select().where(AuditEntry.address.is_null(False)).exists()

    desk = new_context(browser, **OFFICE)
    manager = desk.new_page()
    log_in(manager, live_server, "/manage/suggestions/")  # sent to the login form, and back
    reply, note = "从下个月起，周六也有客服接听电话。", "排班表已调整 internal-42"
    answer_suggestion(manager, "周六的电话总是打不通", "已计划", reply, note)
    desk.close()

    # days later, on a fresh browser: the code is all the submitter has
    again = new_context(browser, **CUSTOMER)
    page = again.new_page()
    page.goto(live_server.url + "/suggest/")
    page.get_by_role("link", name=re.compile("查询")).first.tap()
    page.get_by_label("查询码").fill(code.lower())
    page.get_by_role("button", name="查看状态").tap()
    expect(page.locator("#current-status")).to_have_text("已计划")
    expect(page.get_by_text("从下个月起，周六也有客服接听电话。")).to_be_visible()
    assert "internal-42" not in page.content()
    assert_fits(page)
    shots.shot(page, "reply", full_page=True)
    again.close()
    shots.done()

    with in_app(app):
        suggestion = Suggestion.get()
        assert suggestion.status == "planned" and suggestion.user is None
        replies = [e.public_text for e in SuggestionEvent.select() if e.public_text]
        assert replies == ["从下个月起，周六也有客服接听电话。"]


# --- 5. a team lead works a follow-up to "recovered" --------------------------------------------


def test_lead_works_a_follow_up_to_recovered(
    app, client, api_headers, users, live_server, browser, album
):
    shots = album("5-lead")
    answer(
        client,
        api_headers,
        DETRACTOR,
        case_id="HD-2026-1205",
        customer={"id": "cust-8805", "name": "王芳", "phone": "13800138000", "locale": "zh-CN"},
    )
    context = new_context(browser, **CUSTOMER)
    page = context.new_page()
    log_in(page, live_server, "/manage/follow-ups/", "lead")  # sent to the login form, and back
    row = page.locator("table tbody tr").filter(has_text="HD-2026-1205")
    expect(row).to_contain_text("待处理")
    assert_fits(page)
    shots.shot(page, "queue")

    row.get_by_role("link", name="HD-2026-1205").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("案件 HD-2026-1205 的跟进")
    expect(page.get_by_role("link", name="13800138000")).to_be_visible()
    assert_fits(page)
    shots.shot(page, "follow-up")
    page.get_by_label("沟通内容（或尝试联系的情况）").fill("已回电，客户同意补发账单说明。")
    page.get_by_role("button", name="记录联系").tap()
    expect(page.locator("#follow-up-state")).to_have_text("已联系")

    page.get_by_label("已挽回：客户现在满意了").check()
    page.get_by_role("button", name="关闭跟进").tap()  # the note forgotten: asked for
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#close_note-error")).to_have_text("请写下具体情况。")
    expect(page.get_by_label("已挽回：客户现在满意了")).to_be_checked()  # the choice kept
    page.locator("#error-summary").get_by_role("link").tap()  # to the field, its label in view
    expect(page.get_by_label("备注")).to_be_focused()
    expect(page.locator("label[for=close_note]")).to_be_in_viewport()
    page.get_by_label("备注").fill("客户收到说明后表示满意。")
    page.get_by_role("button", name="关闭跟进").tap()
    state = page.locator("#follow-up-state")
    expect(state).to_have_text(re.compile(r"^已关闭\s*[:：（(]\s*已挽回：客户现在满意了[）)]?$"))
    expect(page.locator("ol.history")).to_contain_text("已回电，客户同意补发账单说明。")
    state.scroll_into_view_if_needed()
    shots.shot(page, "closed")

    page.goto(live_server.url + "/manage/follow-ups/")
    expect(page.locator("table tbody tr").filter(has_text="HD-2026-1205")).to_have_count(0)
    shots.shot(page, "queue-empty")
    context.close()
    shots.done()

    with in_app(app):
        follow_up = FollowUp.get()
        lead = User.get(User.username == "lead")
        assert (follow_up.state, follow_up.outcome) == ("closed", "recovered")
        assert follow_up.first_contact_at is not None and follow_up.closed_at is not None
        events = [
            (e.user_id, e.to_state, e.outcome, e.note)
            for e in FollowUpEvent.select().where(FollowUpEvent.follow_up == follow_up)
            if e.user_id
        ]
        assert events == [
            (lead.id, "contacted", None, "已回电，客户同意补发账单说明。"),
            (lead.id, "closed", "recovered", "客户收到说明后表示满意。"),
        ]


# --- 6. a manager, in English -------------------------------------------------------------------

WEEKS, MIN_SAMPLE = 2, 5  # an action's windows and the fewest answers for a verdict
TEAM = "技术支持"


@pytest.fixture
def app(make_app):
    """The site, with two-week windows around an improvement action (the ``scored`` data set
    covers eight weeks) and verdicts from five answers."""
    return make_app(ACTION_WINDOW_WEEKS=WEEKS, MIN_SAMPLE=MIN_SAMPLE)


def test_manager_in_english(app, users, scored, live_server, browser, album, tmp_path):
    from feedback import actions

    shots = album("6-manager")
    suggest(
        app,
        anonymous=False,
        team=TEAM,
        title="Open the phone line on Saturdays",
        body="I can only call at weekends, and the line is closed then.",
    )
    action_id = make_action(
        app,
        team=None,
        channel="phone",
        title="Phone: first-call resolution training",
        start_date=date(2026, 9, 15),
        due_date=date(2026, 10, 15),
    )
    with in_app(app):
        action = ImprovementAction.get_by_id(action_id)
        manager = User.get(User.username == "manager")
        actions.change_state(action, "in_progress", "", manager, NOW.date())
        actions.change_state(action, "done", "", manager, NOW.date(), done_on=date(2026, 10, 1))

    context = new_context(browser, **OFFICE)  # a browser set to Chinese
    page = context.new_page()
    page.goto(live_server.url + "/manage/")
    page.get_by_role("navigation", name="语言").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/manage/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")

    # September and October, the technical support team
    page.get_by_label("From").fill("2026-09-01")
    page.get_by_label("To", exact=True).fill("2026-10-31")
    page.get_by_label("Team", exact=True).select_option(label=TEAM)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(lambda url: "team=" in url)
    answered = sum(1 for r in scored if r["answered"] and r["team"] == TEAM)
    tile = page.locator(".tiles .tile").filter(has=page.get_by_role("heading", name="Answers"))
    expect(tile.locator(".value").first).to_have_text(str(answered))
    expect(page.locator("main")).to_contain_text("2026-09-01 to 2026-10-31")
    shots.shot(page, "dashboard")

    # a chart for the slides, and the meeting pack
    chart = page.locator("figure.chart").first
    data = download(page, chart.get_by_role("link", name="PNG 1920×1080"), tmp_path)
    from PIL import Image

    picture = Image.open(io.BytesIO(data))
    assert (picture.format, picture.size) == ("PNG", (1920, 1080))
    picture.verify()
    pack = page.get_by_role("link", name=re.compile("^Meeting pack"))
    data = download(page, pack, tmp_path)
    assert data[:5] == b"%PDF-" and data.rstrip().endswith(b"%%EOF")
    assert page_count(data) >= 2

    # a suggestion answered
    page.get_by_role("link", name="Suggestions", exact=True).first.click()
    page.get_by_role("link", name="Open the phone line on Saturdays").click()
    page.get_by_label("Status").select_option(label="Planned")
    page.get_by_label("Public reply (the submitter sees it)").fill(
        "From January the line opens on Saturdays, 9:00 to 17:00."
    )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("From January the line opens on Saturdays")
    shots.shot(page, "suggestion-answered")

    # the improvement action's verdict
    page.get_by_role("link", name="Improvement actions").first.click()
    page.get_by_role("link", name="Phone: first-call resolution training").click()
    with in_app(app):
        check = actions.before_after(
            ImprovementAction.get_by_id(action_id), WEEKS, MIN_SAMPLE, NOW.date()
        )
    assert not check["provisional"] and check["verdict"] != "too few"
    expect(page.locator("dl")).to_contain_text("All teams · Phone")
    verdict = page.locator("p.verdict")
    expect(verdict).to_contain_text(f"Verdict: {check['verdict']}")
    verdict.scroll_into_view_if_needed()
    shots.shot(page, "action-verdict")
    context.close()
    shots.done()

    with in_app(app):
        suggestion = Suggestion.get()
        assert suggestion.status == "planned" and suggestion.first_reply_at is not None
        (event,) = [e for e in SuggestionEvent.select() if e.public_text]
        assert event.author_id == manager.id
        assert event.public_text == "From January the line opens on Saturdays, 9:00 to 17:00."


# --- 7. an admin edits a survey; the next customer gets the new version -------------------------


def test_admin_edits_a_survey_and_the_next_customer_gets_it(
    app, users, api_headers, live_server, browser, album
):
    from feedback.surveys import current_version

    shots = album("7-admin")
    context = new_context(browser, **OFFICE)
    page = context.new_page()
    log_in(page, live_server, "/admin/surveys", "admin")
    shots.shot(page, "surveys")
    card = page.locator("section.card").filter(
        has=page.get_by_role("heading", name=re.compile("^服务满意度调查"))
    )
    card.get_by_role("link", name=re.compile("^在浏览器中编辑")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("服务满意度调查")

    added = add_question(page, "是或否", "call_back", "需要我们回电吗？", "Shall we call you back?")
    expect(added.get_by_label("类型")).to_have_value("yesno")
    page.get_by_role("button", name="预览").first.click()
    preview = page.frame_locator("iframe.phone-frame")
    expect(preview.get_by_text("需要我们回电吗？")).to_be_visible()
    added.scroll_into_view_if_needed()
    shots.shot(page, "question-added")
    page.get_by_role("button", name="保存为第 2 版").first.click()
    expect(page.get_by_text("第 2 版已保存")).to_be_visible()
    card = page.locator("section.card").filter(
        has=page.get_by_role("heading", name=re.compile("^服务满意度调查"))
    )
    in_use = card.locator("tbody tr").first
    expect(in_use).to_contain_text("浏览器（admin）")
    expect(in_use.locator("td").first).to_have_text("2")
    card.scroll_into_view_if_needed()
    shots.shot(page, "saved")
    context.close()
    with in_app(app):
        version = current_version("post-case")
        assert version.version == 2

    # the next customer's link: the new question, answered and stored with version 2
    reply = new_case(app.test_client(), api_headers, case_id="HD-2026-1207", **CUSTOMER_CASE)
    customer = new_context(browser, **CUSTOMER)
    page = customer.new_page()
    page.goto(live_server.url + survey_path(reply))
    tap(page, RESOLVED, "是")
    tap(page, CSAT, "5")
    tap(page, NPS, "10")
    tap(page, "需要我们回电吗？", "否")
    question(page, "需要我们回电吗？").scroll_into_view_if_needed()
    shots.shot(page, "customer-sees-it")
    page.get_by_role("button", name=SEND).tap()
    page.wait_for_url(re.compile(r"/thanks$"))
    customer.close()
    shots.done()

    assert stored_answers(app) == [{"resolved": "yes", "csat": 5, "nps": 10, "call_back": "no"}]
    with in_app(app):
        assert Response.get().survey_version_id == version.id


# --- the pictures of docs/journeys.md -------------------------------------------------------------


def test_docs_show_every_journey_screenshot():
    """docs/journeys.md shows each PNG of docs/journeys/ (tools/journey_screenshots.py makes
    them from these journeys) and no other, and they stay small."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "journey_screenshots", ROOT / "tools" / "journey_screenshots.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    pictures = sorted((ROOT / "docs" / "journeys").glob("*.png"))
    assert {f"journeys/{p.name}" for p in pictures} == tool.shown_in_doc()
    journeys = {p.name.split("-")[0] for p in pictures}
    assert journeys == {"1", "2", "3", "4", "5", "6", "7"}
    assert sum(p.stat().st_size for p in pictures) < 3_000_000
