"""A manager carries the dashboard on to an improvement action, in a real browser.

From the dashboard's view of the ``scored`` data set (Sept-Oct 2026), the manager follows "start
an improvement action for this slice", plans it, adds a milestone and marks it done, moves the
action to in progress and then to done, and reads the before/after figures. The window is two
weeks here (the data set covers eight) and the minimum sample 5, so that both windows hold
enough answers for a verdict. Then the same pages on a phone: nothing reaches past the edge.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from browser import assert_fits, log_in
from data_sets import START
from playwright.sync_api import expect
from support import in_app

from feedback import actions
from feedback.models import ImprovementAction

pytestmark = pytest.mark.browser

DASHBOARD = f"/manage/?from={START}&to=2026-10-31&channel=phone"
WEEKS, MIN_SAMPLE = 2, 5


@pytest.fixture
def app(make_app):
    return make_app(ACTION_WINDOW_WEEKS=WEEKS, MIN_SAMPLE=MIN_SAMPLE)


def figure_text(metric: str, figure: dict) -> str:
    return f"{figure['value']:.1f}% [{figure['low']:.1f}, {figure['high']:.1f}]"


def test_manager_plans_an_action_from_the_dashboard_and_checks_it(
    app, users, scored, live_server, desktop, tmp_path
):
    page = desktop.new_page()
    log_in(page, live_server, DASHBOARD)
    page.get_by_role("link", name="为此范围开始一项改进行动").click()
    page.wait_for_url(re.compile(r"/manage/actions/new\?"))
    assert parse_qs(urlparse(page.url).query)["channel"] == ["phone"]
    expect(page.locator("h1")).to_have_text("制定改进行动")
    expect(page.get_by_label("渠道")).to_have_value("phone")  # from the dashboard's filters
    page.get_by_label("标题").fill("电话渠道：首次解决培训")
    page.get_by_label("要改进的指标").select_option("csat")
    page.get_by_label("开始日期").fill("2026-09-15")
    page.get_by_label("截止日期").fill("2026-10-15")
    page.get_by_role("button", name="制定行动").click()
    page.wait_for_url(re.compile(r"/manage/actions/\d+$"))
    expect(page.locator("h1")).to_have_text("电话渠道：首次解决培训")
    expect(page.locator(".flash")).to_have_text("行动已制定。")

    # a milestone, added and then marked done
    page.get_by_label("里程碑名称").fill("培训材料定稿")
    page.get_by_label("截止日期").fill("2026-09-22")
    page.get_by_role("button", name="添加里程碑").click()
    expect(page.locator(".flash")).to_have_text("里程碑已添加。")
    milestone = page.locator("ul.milestones li").filter(has_text="培训材料定稿")
    expect(milestone).to_contain_text("逾期")  # 22 Sep has passed
    milestone.get_by_role("button").click()
    expect(page.locator(".flash")).to_have_text("里程碑已完成。")
    expect(page.locator("ul.milestones li")).to_contain_text("已完成")

    # in progress, then done on 1 Oct, with notes
    page.get_by_label("新状态").select_option("in_progress")
    page.get_by_label("备注").fill("培训开始")
    page.get_by_role("button", name="更改状态").click()
    expect(page.locator("dd.state")).to_have_text(re.compile("进行中"))
    page.get_by_label("新状态").select_option("done")
    page.get_by_label("完成日期（用于“已完成”）").fill("2026-10-01")
    page.get_by_label("备注").fill("全员完成培训")
    page.get_by_role("button", name="更改状态").click()
    expect(page.locator("dd.state")).to_have_text("已完成")
    expect(page.locator("ol.history")).to_contain_text("全员完成培训")

    # the before/after figures, as the check works them out
    action_id = int(urlparse(page.url).path.rsplit("/", 1)[1])
    with in_app(app):
        check = actions.before_after(
            ImprovementAction.get_by_id(action_id), WEEKS, MIN_SAMPLE, date(2026, 11, 1)
        )
    assert check["before"]["n"] >= MIN_SAMPLE and check["after"]["n"] >= MIN_SAMPLE
    table = page.locator("table.check")
    before, after = table.locator("tbody tr").nth(0), table.locator("tbody tr").nth(1)
    expect(before).to_contain_text("2026-09-01 – 2026-09-14")
    expect(before).to_contain_text(figure_text("csat", check["before"]["figure"]))
    expect(before.locator("td").last).to_have_text(str(check["before"]["n"]))
    expect(after).to_contain_text("2026-10-02 – 2026-10-15")
    expect(after).to_contain_text(figure_text("csat", check["after"]["figure"]))
    expect(after.locator("td").last).to_have_text(str(check["after"]["n"]))
    verdict = {"improved": "改善", "worse": "变差", "no clear change": "无明显变化"}
    expect(page.locator("p.verdict")).to_contain_text(verdict[check["verdict"]])
    page.screenshot(path=tmp_path / "action-desktop.png", full_page=True)

    # the list marks nothing overdue: it is done
    page.get_by_role("link", name="改进行动").first.click()
    row = page.locator("table.actions tbody tr").filter(has_text="电话渠道：首次解决培训")
    expect(row).to_contain_text("已完成")
    expect(row).not_to_have_class(re.compile("overdue"))


def test_the_action_pages_fit_a_phone(
    app,
    users,
    scored,
    live_server,
    phone,
    tmp_path,
):
    page = phone.new_page()
    log_in(page, live_server, "/manage/actions/new")
    page.get_by_label("标题").fill(
        "一个很长的改进行动标题，用来检查手机上的排版是否会超出屏幕的右边缘"
    )
    page.get_by_label("开始日期").fill("2026-09-15")
    page.get_by_label("截止日期").fill("2026-09-20")
    page.get_by_role("button", name="制定行动").click()
    page.wait_for_url(re.compile(r"/manage/actions/\d+$"))
    for path in (urlparse(page.url).path, "/manage/actions/", "/manage/actions/new"):
        page.goto(live_server.url + path)
        assert_fits(page, path)
    page.screenshot(path=tmp_path / "actions-phone.png", full_page=True)
