"""The dashboard's period and filter form: a preset shows its dates, typed dates win over a preset
left selected, agents and categories are chosen from lists (a lead's teams only), an empty
ranking points to a wider period, and surveys are named by their titles."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

from data_sets import START
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import in_app, login
from werkzeug.datastructures import MultiDict

from feedback.web.filters import FilterError, parse_filters

TYPED = {"from": START.isoformat(), "to": "2026-10-31"}


def today(app):
    return datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()


def box(page: str, name: str) -> str:
    found = re.search(rf'<input type="date" id="f-{name}" name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} box"
    return found.group(1)


def selected(page: str, name: str) -> list[str]:
    select = re.search(rf'<select id="f-{name}" name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no {name} list"
    return re.findall(r'<option(?: value="([^"]*)")? selected>', select.group(1))


def options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select id="f-{name}" name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no {name} list"
    return re.findall(r"<option[^>]*>([^<]*)</option>", select.group(1))


def test_a_chosen_preset_shows_its_own_dates(app, manager, scored):
    # the form as the page sent it: the boxes still show September-October, 90 days now chosen
    query = {"period": "90d", **TYPED, "shown_from": TYPED["from"], "shown_to": TYPED["to"]}
    page = manager.get("/manage/", query_string={**query, "lang": "en"}).get_data(as_text=True)
    end = today(app)
    start = end - timedelta(days=89)
    assert box(page, "from") == start.isoformat() and box(page, "to") == end.isoformat()
    assert selected(page, "period") == ["90d"]
    assert f"{start.isoformat()} to {end.isoformat()}, compared with the 90 days before" in page
    # the hidden record of what the boxes show follows them, so the next Apply keeps the preset
    assert f'name="shown_from" value="{start.isoformat()}"' in page


def test_typed_dates_win_over_a_preset_left_selected(app, manager, scored):
    end = today(app)
    shown = {"shown_from": (end - timedelta(days=89)).isoformat(), "shown_to": end.isoformat()}
    query = {"period": "90d", **TYPED, **shown, "lang": "en"}
    page = manager.get("/manage/", query_string=query).get_data(as_text=True)
    assert box(page, "from") == TYPED["from"] and box(page, "to") == TYPED["to"]
    assert selected(page, "period") == [""]  # "Custom dates"
    assert "2026-09-01 to 2026-10-31, compared with the 61 days before" in page
    # one box typed is enough; the other keeps what it showed
    query = {"period": "90d", "from": "2026-10-01", "to": shown["shown_to"], **shown}
    page = manager.get("/manage/", query_string=query).get_data(as_text=True)
    assert box(page, "from") == "2026-10-01" and selected(page, "period") == [""]


def test_a_link_without_the_form_record_keeps_the_preset(app, manager, scored):
    # links saved before the form recorded its dates, and the API, keep the old rule
    page = manager.get("/manage/", query_string={"period": "7d", **TYPED}).get_data(as_text=True)
    assert box(page, "from") == (today(app) - timedelta(days=6)).isoformat()
    assert selected(page, "period") == ["7d"]


def test_the_api_period_still_wins_over_dates(app, api_headers, scored):
    client = app.test_client()
    shown = {"shown_from": "2020-01-01", "shown_to": "2020-01-31"}
    for extra in ({}, shown):
        reply = client.get(
            "/api/v1/metrics",
            query_string={"period": "28d", **TYPED, **extra},
            headers=api_headers,
        )
        assert reply.status_code == 200
        body = reply.get_json()
        assert body["from"] == (today(app) - timedelta(days=27)).isoformat(), body
    plain = client.get("/api/v1/metrics", query_string=TYPED, headers=api_headers).get_json()
    assert plain["from"] == TYPED["from"] and plain["overall"]["responses"] == 120


def test_bad_dates_typed_under_a_preset_are_named(manager, scored):
    query = {"period": "90d", "from": "2026-13-01", "to": "", "shown_from": "", "shown_to": ""}
    reply = manager.get("/manage/", query_string={**query, "lang": "en"})
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400 and "must be a date like 2026-11-01" in page
    assert box(page, "from") == "2026-13-01"  # shown back as typed, to be corrected


def test_agents_and_categories_are_chosen_from_lists(manager, scored):
    page = manager.get("/manage/", query_string={**TYPED, "agent": "agent-2"}).get_data(
        as_text=True
    )
    assert options(page, "agent")[1:] == [f"agent-{i}" for i in range(5)]
    assert re.search(r"<option selected>agent-2</option>", page)
    assert options(page, "category")[1:] == ["billing"]
    assert 'type="text" id="f-agent"' not in page
    # a name from a link that no case carries is still shown as chosen, not lost
    page = manager.get("/manage/", query_string={**TYPED, "agent": "nobody"}).get_data(as_text=True)
    assert re.search(r"<option selected>nobody</option>", page)


def test_a_lead_is_offered_only_their_teams_agents(app, users, scored):
    from feedback import accounts
    from feedback.models import Case, Team, User

    with in_app(app):
        support_team = Team.by_name("技术支持")
        accounts.set_team_leads(support_team, [User.get(User.username == "lead")])
        other = Team.by_name("售后服务")
        Case.update(agent="stranger", category="secret").where(
            Case.case_ref == "R-2"  # team 售后服务 (2 % 3)
        ).execute()
        assert Case.get(Case.case_ref == "R-2").team_id == other.id
    lead = app.test_client()
    login(lead, "lead")
    page = lead.get("/manage/", query_string=TYPED).get_data(as_text=True)
    assert "stranger" not in page and "secret" not in page
    assert "agent-0" in options(page, "agent")
    manager = app.test_client()
    login(manager, "manager")
    page = manager.get("/manage/", query_string=TYPED).get_data(as_text=True)
    assert "stranger" in options(page, "agent") and "secret" in options(page, "category")


def test_an_empty_ranking_links_to_a_wider_period(app, manager, scored):
    query = {**TYPED, "channel": "chat", "lang": "en"}
    page = manager.get("/manage/", query_string=query).get_data(as_text=True)
    assert "Too few answers to rank:" in page
    link = re.search(r'<a id="wider-period" href="([^"]+)">([^<]+)</a>', page)
    assert link and "last 90 days" in link.group(2)
    asked = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)
    assert asked["period"] == ["90d"] and asked["channel"] == ["chat"]
    assert "from" not in asked and "to" not in asked
    wider = manager.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert selected(wider, "period") == ["90d"]
    # ranked agents, or none with answers at all: no hint
    app.config["MIN_SAMPLE"] = 5
    page = manager.get("/manage/", query_string=query).get_data(as_text=True)
    assert 'id="wider-period"' not in page
    app.config["MIN_SAMPLE"] = 30
    empty = {"from": "2020-01-01", "to": "2020-01-31", "lang": "en"}
    page = manager.get("/manage/", query_string=empty).get_data(as_text=True)
    assert 'id="wider-period"' not in page


def test_an_empty_ranking_over_the_longest_preset_has_no_link(manager, scored):
    query = {"from": "2025-11-01", "to": "2026-10-31", "lang": "en"}
    page = manager.get("/manage/", query_string=query).get_data(as_text=True)
    assert "Too few answers to rank:" in page and 'id="wider-period"' not in page


def test_surveys_are_named_by_their_titles(manager, scored):
    page = manager.get("/manage/", query_string={**TYPED, "lang": "en"}).get_data(as_text=True)
    assert '<option value="post-case" selected>How did we do?</option>' in page
    assert "How did we do?, 2026-09-01 to 2026-10-31" in page
    assert ">post-case<" not in page
    page = manager.get("/manage/", query_string={**TYPED, "lang": "zh"}).get_data(as_text=True)
    assert '<option value="post-case" selected>服务满意度调查</option>' in page


def test_hostile_form_records_are_not_errors(manager, scored):
    for junk in ("\x00", "9" * 400, "2026-02-30", "<b>"):
        query = {"period": "28d", "from": junk, "shown_from": "", "shown_to": "", "to": ""}
        reply = manager.get("/manage/", query_string=query)
        assert reply.status_code == 400, junk  # the typed junk is named, never a 500
        if junk != "\x00":  # NUL is refused for the whole request, naming the field
            assert "f-from-error" in reply.get_data(as_text=True)
        query = {"period": "28d", "shown_from": junk}
        assert manager.get("/manage/", query_string=query).status_code in (200, 400)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(
        st.sampled_from(["period", "from", "to", "shown_from", "shown_to"]),
        st.one_of(st.sampled_from(["7d", "90d", "2026-09-01", ""]), st.text(max_size=12)),
    )
)
def test_the_form_filters_take_any_input(app, scored, args):
    with in_app(app):
        try:
            filters = parse_filters(MultiDict(args), "post-case", "Asia/Shanghai", form=True)
        except FilterError as exc:
            assert set(exc.errors) <= {"from", "to"}
        else:
            assert filters.start <= filters.end
            assert filters.period in (None, args.get("period"))


def test_a_new_cases_agent_is_offered_at_once(manager, app, scored):
    """The lists are kept between requests (under the newest case's id): a case that names a
    new agent and category shows them on the next page."""
    from feedback.models import Case

    page = manager.get("/manage/", query_string=TYPED).get_data(as_text=True)
    assert "newcomer" not in options(page, "agent")
    with in_app(app):
        model = Case.get(Case.case_ref == "R-1")
        Case.create(
            case_ref="R-new",
            survey=model.survey,
            channel=model.channel,
            team=model.team,
            resolved_at=model.resolved_at,
            agent="newcomer",
            category="refunds",
        )
    page = manager.get("/manage/", query_string=TYPED).get_data(as_text=True)
    assert "newcomer" in options(page, "agent") and "refunds" in options(page, "category")
