"""The dashboard: who may see it, what it shows, and that it runs a fixed number of queries."""

from __future__ import annotations

import csv
import io
import re

import pytest
from data_sets import START, expected
from support import ALL_BUT_SERVQUAL, counted_queries, in_app, login

from feedback import dashboard, reports
from feedback.i18n import language
from feedback.names import channel_name

PERIOD = f"from={START}&to=2026-10-31"


@pytest.mark.parametrize(
    "role,status", [("manager", 200), ("admin", 200), ("lead", 200), ("staff", 403)]
)
def test_who_sees_the_dashboard(app, users, role, status):
    client = app.test_client()
    assert client.get("/manage/").status_code == 302
    login(client, role)
    assert client.get("/manage/").status_code == status


def test_tiles_show_the_same_figures_as_the_api(manager, scored, api_headers):
    page = manager.get(f"/manage/?{PERIOD}&lang=en").get_data(as_text=True)
    api = manager.get(f"/api/v1/metrics?{PERIOD}").get_json()["overall"]
    want = expected(scored)
    assert api["responses"] == want["responses"] == 120
    assert f"{api['csat']['value']:.1f}%" in page
    assert f"[{api['csat']['low']:.1f}, {api['csat']['high']:.1f}]" in page
    assert f"{api['nps']['value']:.1f}" in page and f"n={api['nps']['n']}" in page
    assert "How these figures are worked out" in page


def test_filters_live_in_the_url_and_narrow_the_figures(manager, scored):
    page = manager.get(f"/manage/?{PERIOD}&channel=chat&lang=en").get_data(as_text=True)
    chat = expected([r for r in scored if r["channel"] == "chat"])
    assert re.search(r'<option value="chat" selected>', page)
    assert f"{chat['csat'].value:.1f}%" in page


def test_bad_filters_are_named_beside_their_field(manager):
    reply = manager.get("/manage/?from=2026-13-01&lang=en")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert 'id="f-from-error"' in page and 'aria-invalid="true"' in page
    assert "must be a date like 2026-11-01" in page


def test_bad_filters_are_named_in_the_page_language(manager):
    page = manager.get("/manage/?from=2026-13-01&to=2026-01-01&channel=fax&lang=zh").get_data(
        as_text=True
    )
    assert "应为日期，例如 2026-11-01" in page and "应为以下之一：phone" in page
    assert "must be" not in page
    later = manager.get("/manage/?from=2026-02-01&to=2026-01-01&lang=en").get_data(as_text=True)
    assert "must not be after the end date" in later


def test_too_few_answers_are_greyed_and_left_out_of_the_ranking(manager, scored):
    page = manager.get(f"/manage/?{PERIOD}&lang=en").get_data(as_text=True)
    # 120 answers over 5 agents: about 24 each, under the minimum sample of 30
    assert "too few answers" in page and "Too few answers to rank:" in page


def test_agents_are_ordered_by_the_lower_bound(app, scored):
    with in_app(app):
        from feedback.models import Survey

        survey = Survey.get(Survey.slug == "post-case")
        s = reports.Slice(survey.id, START, START.replace(month=10, day=31))
        ranked, too_few = dashboard.agent_ranking(s, min_sample=10)
    lows = [row.csat.low for row in ranked]
    assert lows == sorted(lows, reverse=True) and ranked and not too_few


def test_a_team_lead_sees_only_their_team(app, users, scored):
    client = app.test_client()
    login(client, "lead")
    page = client.get(f"/manage/?{PERIOD}&lang=en").get_data(as_text=True)
    assert "技术支持" not in page  # the lead leads Billing only


def test_comments_detractors_first_and_filtered(app, manager, scored):
    with in_app(app):
        from feedback.models import Answer, Response

        response = Response.select().where(Response.nps <= 6).first()
        Answer.create(response=response, question_id="comment", value_text="太慢了 <script>")
        happy = Response.select().where(Response.nps >= 9).first()
        Answer.create(response=happy, question_id="comment", value_text="very good")
    page = manager.get(f"/manage/?{PERIOD}&lang=en").get_data(as_text=True)
    assert page.index("太慢了") < page.index("very good")
    assert "&lt;script&gt;" in page and "<script>" not in page.split("太慢了")[1][:20]
    only = manager.get(f"/manage/?{PERIOD}&comments=promoters&lang=en").get_data(as_text=True)
    assert "very good" in only and "太慢了" not in only


def test_dashboard_runs_a_fixed_number_of_queries(app, manager, scored):
    """No N+1: the same number of queries for 3 teams as for 30."""

    def count_queries(url):
        with counted_queries() as executed:
            assert manager.get(url).status_code == 200
        return len(executed)

    count_queries(f"/manage/?{PERIOD}")  # the key drivers, then kept under the data stamp
    before = count_queries(f"/manage/?{PERIOD}")
    with in_app(app):
        from feedback.models import Response, Team

        for i in range(27):
            team = Team.create(name=f"extra-{i}")
            Response.update(team=team).where(Response.id == i + 1).execute()
    after = count_queries(f"/manage/?{PERIOD}")
    assert before == after
    # the survey figures (responses and invitations by channel, team, agent and category in
    # one grouped query each, the previous period's two totals, team names), the comments, the
    # follow-ups table and the suggestion box's figures: 16 statements at the last count (31
    # when every breakdown ran its own queries); the comment themes 4 more (the dictionary's
    # words, the survey's versions, the comments without terms, the cached terms); the key
    # drivers 2 (the data stamp of their cache: two index look-ups; uncached, the sums by driver
    # and the complete cases' patterns: test_drivers.py); the filter form's lists 1 (the agents
    # and categories of the visible cases, one UNION; the surveys' titles replace their slugs)
    assert before <= 23, before


CHART_NAMES = [*ALL_BUT_SERVQUAL, "servqual-gaps"]


@pytest.mark.parametrize("name", CHART_NAMES)
def test_every_chart_downloads_in_every_format(manager, scored, name):
    png = manager.get(f"/manage/charts/{name}.png?{PERIOD}&size=small")
    assert png.status_code == 200 and png.get_data()[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png.get_data()[16:20], "big")
    height = int.from_bytes(png.get_data()[20:24], "big")
    assert (width, height) == (800, 450)
    assert manager.get(f"/manage/charts/{name}.pdf?{PERIOD}").get_data()[:5] == b"%PDF-"
    assert b"<svg" in manager.get(f"/manage/charts/{name}.svg?{PERIOD}").get_data()[:2000]
    table = manager.get(f"/manage/charts/{name}.csv?{PERIOD}&download=1")
    assert table.headers["Content-Disposition"].startswith("attachment")
    assert table.get_data().startswith(b"\xef\xbb\xbf")


def test_chart_table_headers_in_english(manager, scored):
    text = manager.get(f"/manage/charts/csat-by-channel.csv?{PERIOD}&lang=en").get_data()
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert rows[0] == ["Channel", "CSAT", "Low (95%)", "High (95%)", "Answers"]
    assert {row[0] for row in rows[1:]} == {"Phone", "Online chat", "Email"}


def test_chart_table_matches_the_reports(manager, scored):
    text = (
        manager.get(f"/manage/charts/csat-by-channel.csv?{PERIOD}").get_data().decode("utf-8-sig")
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["渠道", "CSAT（满意度）", "下限（95%）", "上限（95%）", "回答数"]
    answers = {r[0]: int(r[4]) for r in rows[1:]}
    for channel in ("phone", "chat", "email"):  # named as the page's language names them
        assert answers[channel_name(channel, language("zh_CN"))] == sum(
            1 for r in scored if r["answered"] and r["channel"] == channel
        )


def test_charts_are_cached_until_the_data_changes(app, manager, scored, monkeypatch):
    from feedback import chart_data

    calls = []
    original = chart_data.build
    monkeypatch.setattr(chart_data, "build", lambda *a, **k: calls.append(a) or original(*a, **k))
    url = f"/manage/charts/csat-trend.png?{PERIOD}"
    first = manager.get(url).get_data()
    assert manager.get(url).get_data() == first and len(calls) == 1
    manager.get(url + "&channel=chat")
    assert len(calls) == 2  # another filter, another chart
    with in_app(app):
        from feedback.cases import CaseInput, InvitationPolicy, register_case
        from feedback.models import Survey

        register_case(
            CaseInput("NEW-1", "post-case", START, "phone"),
            Survey.get(Survey.slug == "post-case"),
            InvitationPolicy(),
        )
    manager.get(url)
    assert len(calls) == 3  # the data changed


def test_chart_errors(manager):
    assert manager.get("/manage/charts/nope.png").status_code == 404
    assert manager.get("/manage/charts/csat-trend.gif").status_code == 404
    assert manager.get("/manage/charts/csat-trend.png?size=huge").status_code == 400
