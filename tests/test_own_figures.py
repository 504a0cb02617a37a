"""My figures (/me/): a person linked to their cases by an agent code sees their own figures,
trend, comments and place in their team, and nobody else's (issue 14, item 5).

The data set: team 账务组 with the agent 李娜 (the staff user "staff", agent code 李娜) and four
colleagues whose names must never reach her, one more agent in 技术支持, and a few of 李娜's cases
handled for 技术支持 (hers all the same, but not in her team's funnel). Every figure is worked out
here in Python from what was stored, and compared with the page, the charts' tables and the
dashboard's own figures for that agent. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import PASSWORD, answered_case, in_app, login, post_form, user_form

from feedback import accounts, privacy, stats
from feedback.cases import CaseInput
from feedback.chart_data import OWN_FUNNEL_OTHERS
from feedback.db import database
from feedback.models import Answer, AuditEntry, Case, Response, Team, User
from feedback.own_figures import PER_PAGE

START = date(2026, 9, 1)
END = date(2026, 10, 31)
PERIOD = f"from={START}&to={END}"
ME = "李娜"
TEAM = "账务组"
COLLEAGUES = ("王秘密", "张保密", "赵隐私", "陈不见")  # 账务组: never named to 李娜
STRANGER = "周别人"  # 技术支持
OTHERS = (*COLLEAGUES, STRANGER)
CUSTOMER = {"name": "顾客甲乙", "email": "guke@example.cn", "phone": "13912345678"}
SKILL = {ME: 0.75, "王秘密": 0.9, "张保密": 0.5, "赵隐私": 0.8, "陈不见": 0.65, STRANGER: 0.7}


def _answers(rng: random.Random, agent: str, index: int) -> dict:
    happy = rng.random() < SKILL[agent]
    csat = rng.choice([4, 5]) if happy else rng.choice([1, 2, 3])
    answers = {
        "resolved": "yes" if csat >= 3 else "no",
        "csat": csat,
        "nps": min(10, max(0, csat * 2 + rng.choice([-1, 0, 1]))),
        "ces": rng.choice([None, 3, 5, 6, 7]),
    }
    if index % 2 == 0:  # every other answer comments; the text names whose case it was
        marker = "MINE" if agent == ME else f"OTHER-{OTHERS.index(agent)}"
        answers["comment"] = f"{marker}-{index} 服务评价"
    return {k: v for k, v in answers.items() if v is not None}


@pytest.fixture
def agents(app):
    """Cases and answers of six agents in two teams; returns what was stored, newest last."""
    rng = random.Random(14)
    plan = [(ME, TEAM)] * 52 + [(ME, "技术支持")] * 8 + [(STRANGER, "技术支持")] * 30
    plan += [(name, TEAM) for name in COLLEAGUES for _ in range(30 + 5 * COLLEAGUES.index(name))]
    rng.shuffle(plan)
    stored = []
    with in_app(app), database.atomic():
        for index, (agent, team) in enumerate(plan):
            day = START + timedelta(days=rng.randrange((END - START).days + 1))
            sent = datetime(day.year, day.month, day.day, 2, 0) + timedelta(minutes=index)
            case_in = CaseInput(
                case_ref=f"CASE-{index:03d}",
                survey="post-case",
                resolved_at=sent,
                channel=rng.choice(["phone", "chat"]),
                team=team,
                agent=agent,
                category="billing",
                customer_ref=f"cust-{index}",
                customer_name=CUSTOMER["name"],
                customer_email=f"c{index}-{CUSTOMER['email']}",
                customer_phone=CUSTOMER["phone"],
            )
            answers = _answers(rng, agent, index)
            answered_case(case_in, answers, sent)
            stored.append({"agent": agent, "team": team, "day": day, "index": index, **answers})
    return stored


@pytest.fixture
def people(app):
    """staff (李娜, agent code 李娜, team 账务组), a lead of 账务组 without code, a manager, an
    admin, and 王秘密's own account (agent code 王秘密)."""
    with in_app(app):
        team = Team.by_name(TEAM)
        made = {
            "staff": accounts.create_user("staff", PASSWORD, "staff", team=team, agent_code=ME),
            "lead": accounts.create_user("lead", PASSWORD, "lead", team=team),
            "manager": accounts.create_user("manager", PASSWORD, "manager"),
            "admin": accounts.create_user("admin", PASSWORD, "admin"),
            "wang": accounts.create_user("wang", PASSWORD, "staff", team=team, agent_code="王秘密"),
        }
        accounts.set_team_leads(team, [made["lead"]])
    return made


def client_of(app, username: str, lang: str = "en"):
    client = app.test_client()
    login(client, username)
    client.get(f"/?lang={lang}")
    return client


def expected(rows: list[dict]) -> dict:
    """The figures worked out in Python from the stored answers."""
    csat = [r["csat"] for r in rows]
    nps = [r["nps"] for r in rows]
    ces = [r["ces"] for r in rows if "ces" in r]
    return {
        "csat": stats.csat(sum(c >= 4 for c in csat), len(csat)),
        "nps": stats.nps(
            sum(n >= 9 for n in nps), sum(7 <= n <= 8 for n in nps), sum(n <= 6 for n in nps)
        ),
        "ces": stats.ces(len(ces), sum(ces), sum(c * c for c in ces), sum(c >= 5 for c in ces)),
        "responses": len(rows),
    }


TILE = re.compile(
    r'id="tile-(csat|nps|ces)".*?class="value">\s*<span class="[^"]*">(-?[\d.]+)%?'
    r" <small>\[(-?[\d.]+), (-?[\d.]+)\]</small>\s*<small>n=(\d+)</small>",
    re.S,
)


def tiles(html: str) -> dict:
    found = {m[0]: tuple(m[1:]) for m in TILE.findall(html)}
    found["responses"] = re.search(r'id="tile-responses".*?class="value">(\d+)<', html, re.S)[1]
    return found


def shown(metric: str, estimate) -> tuple:
    fmt = "%.2f" if metric == "ces" else "%.1f"
    return (
        fmt % estimate.value,
        fmt % estimate.low,
        fmt % estimate.high,
        str(estimate.n),
    )


def test_the_figures_are_the_agents_own_and_equal_the_dashboards(app, agents, people):
    page = client_of(app, "staff").get(f"/me/?{PERIOD}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    mine = [r for r in agents if r["agent"] == ME]  # both teams: every case of hers
    want = expected(mine)
    got = tiles(html)
    assert got == {
        "csat": shown("csat", want["csat"]),
        "nps": shown("nps", want["nps"]),
        "ces": shown("ces", want["ces"]),
        "responses": str(len(mine)),
    }
    # the dashboard's figures, filtered to her by a manager, are the same
    metrics = (
        client_of(app, "manager").get(f"/api/v1/metrics?{PERIOD}&agent={ME}").get_json()["overall"]
    )
    for metric in ("csat", "nps", "ces"):
        figure = metrics[metric]
        assert (figure["value"], figure["n"]) == pytest.approx((want[metric].value, want[metric].n))
    dashboard = client_of(app, "manager").get(f"/manage/?{PERIOD}&agent={ME}").get_data(True)
    for metric in ("csat", "nps", "ces"):
        value, low, high, n = got[metric]
        assert f"[{low}, {high}]</small>\n  <small>n={n}</small>" in dashboard, metric


def test_no_parameter_shows_another_agents_figures(app, agents, people):
    staff = client_of(app, "staff")
    plain = tiles(staff.get(f"/me/?{PERIOD}").get_data(as_text=True))
    with in_app(app):
        other_team = Team.by_name("技术支持").id
    for hostile in (
        "agent=王秘密",
        "agent=周别人&team=技术支持",
        f"team={other_team}&channel=chat&category=billing&source=callback",
        "user=wang&agent_code=王秘密",
    ):
        assert tiles(staff.get(f"/me/?{PERIOD}&{hostile}").get_data(as_text=True)) == plain
        for name in ("csat-trend", "team-funnel"):
            base = staff.get(f"/me/charts/{name}.csv?{PERIOD}").data
            assert staff.get(f"/me/charts/{name}.csv?{PERIOD}&{hostile}").data == base


def test_a_colleague_sees_their_own_and_not_hers(app, agents, people):
    """王秘密's own login gets 王秘密's figures from the very same URLs, never 李娜's."""
    wang = client_of(app, "wang")
    got = tiles(wang.get(f"/me/?{PERIOD}").get_data(as_text=True))
    want = expected([r for r in agents if r["agent"] == "王秘密"])
    assert got["csat"] == shown("csat", want["csat"])
    # the staff's cached funnel is not served to him: his "you" is his own point
    staff_funnel = client_of(app, "staff").get(f"/me/charts/team-funnel.csv?{PERIOD}").data
    his = wang.get(f"/me/charts/team-funnel.csv?{PERIOD}").get_data(as_text=True)
    assert his.encode() != staff_funnel
    you = next(line for line in his.splitlines() if line.startswith("you,"))
    wang_rows = [r for r in agents if r["agent"] == "王秘密"]
    assert you.split(",")[1:3] == [
        str(sum(r["csat"] >= 4 for r in wang_rows)),
        str(len(wang_rows)),
    ]


def every_byte_served(client) -> dict[str, bytes]:
    """The page (three pages of comments) and every chart in every format and size, in the
    client's language."""
    served = {}
    for page in (1, 2, 3):
        served[f"page {page}"] = client.get(f"/me/?{PERIOD}&page={page}").data
    for name in ("csat-trend", "nps-trend", "team-funnel"):
        for fmt in ("png", "svg", "csv"):
            reply = client.get(f"/me/charts/{name}.{fmt}?{PERIOD}")
            assert reply.status_code == 200, (name, fmt)
            served[f"{name}.{fmt}"] = reply.data
        served[f"{name} large"] = client.get(f"/me/charts/{name}.png?{PERIOD}&size=large").data
    return served


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_no_other_agents_name_in_any_byte(app, agents, people, lang):
    served = every_byte_served(client_of(app, "staff", lang))
    for what, body in served.items():
        for name in OTHERS:
            for encoded in (name.encode(), name.encode("unicode_escape"), name.encode("utf-16-le")):
                assert encoded not in body, f"{name} in {what}"
    # what is hers is there: her code on the page, her point labelled in the funnel's SVG
    assert ME.encode() in served["page 1"]
    you = b"you: " if lang == "en" else "您：".encode()
    assert you in served["team-funnel.svg"]
    # the funnel's table: her row, then the others without names, by answers
    funnel = served["team-funnel.csv"].decode("utf-8-sig").splitlines()
    colleagues = [r for r in agents if r["team"] == TEAM and r["agent"] != ME]
    sizes = sorted((sum(r["agent"] == n for r in colleagues) for n in COLLEAGUES), reverse=True)
    assert [line.split(",")[2] for line in funnel[2:]] == [str(n) for n in sizes]
    assert len({line.split(",")[0] for line in funnel[2:]}) == 1  # one label for all of them
    mine_in_team = [r for r in agents if r["agent"] == ME and r["team"] == TEAM]
    assert funnel[1].split(",")[1:3] == [
        str(sum(r["csat"] >= 4 for r in mine_in_team)),
        str(len(mine_in_team)),
    ]


def test_her_comments_newest_first_paged_and_no_one_elses(app, agents, people):
    # one of her customers is erased: the details typed into the comment read [erased]
    with in_app(app):
        mine = [r for r in agents if r["agent"] == ME and "comment" in r]
        last = max(mine, key=lambda r: (r["day"], r["index"]))
        answer = (
            Answer.select()
            .join(Response)
            .join(Case)
            .where(Case.case_ref == f"CASE-{last['index']:03d}", Answer.question_id == "comment")
            .get()
        )
        answer.value_text += " 请打 13912345678 找我"
        answer.save()
        assert privacy.erase(f"cust-{last['index']}", actor="test") is not None
    staff = client_of(app, "staff")
    texts, page, more = [], 0, True
    while more:
        page += 1
        html = staff.get(f"/me/?{PERIOD}&page={page}").get_data(as_text=True)
        texts += re.findall(r"<li[^>]*>\s*<p>([^<]*)</p>", html)
        assert "OTHER-" not in html
        for detail in (*CUSTOMER.values(), "CASE-", "cust-", "example.cn"):
            assert detail not in html, detail
        more = 'rel="next"' in html
    assert page == 2
    newest_first = sorted(mine, key=lambda r: (r["day"], r["index"]), reverse=True)
    assert len(mine) > PER_PAGE  # two pages
    assert texts[0] == f"{last['comment']} 请打 [erased] 找我"
    assert texts[1:] == [r["comment"] for r in newest_first[1:]]
    # past the end: the last page again, not an empty one or an error
    far = staff.get(f"/me/?{PERIOD}&page=999999999999").get_data(as_text=True)
    assert 'rel="prev"' in far and re.findall(r"<li[^>]*>\s*<p>([^<]*)</p>", far)


def test_without_an_agent_code_the_page_says_how_to_link(app, agents, people):
    lead = client_of(app, "lead")  # a lead without a code: no link in the menu, the page says why
    page = lead.get(f"/me/?{PERIOD}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="not-linked"' in html
    assert "an admin links it" in html.lower() and "Agent code" in html
    assert not TILE.search(html) and "/me/charts/" not in html
    assert 'href="/me/"' not in lead.get("/").get_data(as_text=True)
    for name in ("csat-trend", "team-funnel"):
        assert lead.get(f"/me/charts/{name}.png?{PERIOD}").status_code == 404
    with in_app(app):
        accounts.create_user("new_staff", PASSWORD, "staff", team=Team.by_name(TEAM))
    newcomer = client_of(app, "new_staff", "zh_CN")
    html = newcomer.get("/me/").get_data(as_text=True)
    assert 'href="/me/"' in html and 'id="not-linked"' in html and "管理员" in html


def test_an_admin_links_an_account(app, agents, people):
    admin = client_of(app, "admin")
    lead = people["lead"]
    form = user_form(lead)
    url = f"/admin/users/{lead.id}"
    # taken, whatever its case; control characters; too long
    for code, error in (
        ("  王秘密 ", "wang already has this agent code."),
        ("a\tb", "No tabs, line breaks or other control characters."),
        ("x" * 101, "At most 100 characters."),
    ):
        reply = post_form(admin, url, {**form, "agent_code": code})
        assert reply.status_code == 422, code
        assert re.search(rf'id="agent_code-error">[^<]*{re.escape(error)}', reply.get_data(True))
    with in_app(app):
        accounts.create_user("bo", PASSWORD, "staff", agent_code="Bo-17")
    reply = post_form(admin, url, {**form, "agent_code": "bo-17"})
    assert "bo already has this agent code." in reply.get_data(as_text=True)
    # a code no case names is kept, with a warning
    reply = post_form(admin, url, {**form, "agent_code": "Nobody"}, follow_redirects=True)
    assert "No case names the agent “Nobody” yet." in reply.get_data(as_text=True)
    reply = post_form(admin, url, {**form, "agent_code": " 陈不见 "}, follow_redirects=True)
    assert "No case names" not in reply.get_data(as_text=True)
    with in_app(app):
        assert User.get_by_id(lead.id).agent_code == "陈不见"
        changes = [
            e.detail
            for e in AuditEntry.select()
            .where(AuditEntry.action == "user.change")
            .order_by(AuditEntry.id)
        ]
    assert '"agent_code": [null, "Nobody"]' in changes[0]
    assert '"agent_code": ["Nobody", "陈不见"]' in changes[1]
    # the lead now has a link in the menu and sees 陈不见's figures
    own = client_of(app, "lead")
    assert 'href="/me/"' in own.get("/").get_data(as_text=True)
    got = tiles(own.get(f"/me/?{PERIOD}").get_data(as_text=True))
    assert got["csat"] == shown(
        "csat", expected([r for r in agents if r["agent"] == "陈不见"])["csat"]
    )
    # emptied: unlinked again
    post_form(admin, url, {**form, "agent_code": ""})
    with in_app(app):
        assert User.get_by_id(lead.id).agent_code is None


def test_a_new_user_gets_an_agent_code(app, people):
    admin = client_of(app, "admin")
    new = {
        "username": "zhao",
        "display_name": "赵隐私",
        "password": "long-enough-1",
        "role": "staff",
        "team": "",
        "locale": "",
        "email": "",
    }
    reply = post_form(admin, "/admin/users/new", {**new, "agent_code": "王秘密"})
    assert reply.status_code == 422 and "wang already has this agent code." in reply.get_data(True)
    assert post_form(admin, "/admin/users/new", {**new, "agent_code": "赵隐私"}).status_code == 302
    with in_app(app):
        assert User.get(User.username == "zhao").agent_code == "赵隐私"
        entry = AuditEntry.get(AuditEntry.action == "user.create", AuditEntry.target == "user zhao")
    assert '"agent_code": "赵隐私"' in entry.detail


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    code=st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=110,
    )
)
def test_any_agent_code_is_saved_as_given_or_refused_beside_the_field(app, people, code):
    admin = client_of(app, "admin")
    staff = people["staff"]
    form = user_form(staff, agent_code=code)
    with in_app(app):
        before = User.get_by_id(staff.id).agent_code
    reply = post_form(admin, f"/admin/users/{staff.id}", form)
    assert reply.status_code in (302, 422), reply.status_code
    with in_app(app):
        stored = User.get_by_id(staff.id).agent_code
    if reply.status_code == 302:
        assert stored == (code.strip() or None)
    else:
        assert 'id="agent_code-error"' in reply.get_data(as_text=True)
        assert stored == before  # unchanged


def test_the_funnel_needs_enough_other_agents_and_a_team(app, agents, people):
    with in_app(app):
        # a team of her and two others: too few to show them without giving them away
        small = Team.by_name("小组")
        User.update(team=small).where(User.username == "staff").execute()
    staff = client_of(app, "staff")
    html = staff.get(f"/me/?{PERIOD}").get_data(as_text=True)
    assert f"Fewer than {OWN_FUNNEL_OTHERS} other agents" in html
    assert "team-funnel" not in html
    assert staff.get(f"/me/charts/team-funnel.svg?{PERIOD}").status_code == 404
    with in_app(app):
        User.update(team=None).where(User.username == "staff").execute()
    html = staff.get(f"/me/?{PERIOD}").get_data(as_text=True)
    assert "belongs to no team" in html
    assert staff.get(f"/me/charts/team-funnel.csv?{PERIOD}").status_code == 404
    # her own trend still comes, from all her cases
    assert staff.get(f"/me/charts/csat-trend.csv?{PERIOD}").status_code == 200


def test_staff_cannot_reach_the_dashboards_charts(app, agents, people):
    staff = client_of(app, "staff")
    for url in (
        f"/manage/charts/agent-funnel.png?{PERIOD}",
        f"/manage/charts/agent-funnel.csv?{PERIOD}&agent=王秘密",
        f"/manage/?{PERIOD}&agent=王秘密",
        f"/api/v1/metrics?{PERIOD}&agent=王秘密",
        f"/manage/export/responses.csv?{PERIOD}",
    ):
        assert staff.get(url).status_code == 403, url


HOSTILE = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", "9999-12-31", "0001-01-01", "2026-02-30", "-1", "1e309", "99999999999999999999"]
    ),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.dictionaries(
        st.sampled_from(["from", "to", "period", "survey", "page", "size", "agent", "download"]),
        HOSTILE,
        max_size=5,
    ),
    target=st.sampled_from(["/me/", "/me/charts/csat-trend.csv", "/me/charts/team-funnel.csv"]),
)
def test_hostile_parameters_never_break_the_pages(app, people, params, target):
    client = app.test_client()
    login(client, "staff")
    params = {k: v.replace("\x00", "") for k, v in params.items()}
    reply = client.get(target, query_string=params)
    assert reply.status_code in (200, 400, 404), (target, params, reply.status_code)
    if reply.status_code == 400 and target == "/me/":
        assert 'class="error"' in reply.get_data(as_text=True)


def test_the_demo_links_every_agent_to_their_cases(app):
    from feedback.demo import AGENTS, DEMO_PASSWORD, fill

    with in_app(app):
        fill(cases=120, seed=3, config=app.config)
        codes = {u.username: u.agent_code for u in User.select()}
    assert {login: codes[login] for a in AGENTS.values() for _n, login, _s in a} == {
        login: name for a in AGENTS.values() for name, login, _s in a
    }
    assert codes["admin"] is None and codes["manager"] is None
    staff = app.test_client()
    login(staff, "staff", DEMO_PASSWORD)
    html = staff.get("/me/?period=365d&lang=en").get_data(as_text=True)
    assert "“李娜”" in html and TILE.search(html)


def test_other_surveys_show_the_page_without_a_funnel(app, agents, people):
    staff = client_of(app, "staff")
    for survey in ("servqual", "callback"):  # no answers of hers, no CSAT on servqual
        html = staff.get(f"/me/?{PERIOD}&survey={survey}").get_data(as_text=True)
        assert f'<option value="{survey}" selected>' in html  # named by its title
        assert f">{survey}<" not in html
        assert f"Fewer than {OWN_FUNNEL_OTHERS} other agents" in html
        assert 'id="tile-responses"><h2>Answers</h2><p class="value">0<' in html
        for name in ("csat-trend", "nps-trend"):
            assert staff.get(f"/me/charts/{name}.png?{PERIOD}&survey={survey}").status_code == 200
        assert staff.get(f"/me/charts/team-funnel.csv?{PERIOD}&survey={survey}").status_code == 404


def test_the_period_form_shows_a_presets_dates_and_typed_dates_win(app, agents, people):
    staff = client_of(app, "staff")
    end = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()
    shown = {"shown_from": "2026-09-01", "shown_to": "2026-10-31"}
    query = {"period": "90d", "from": "2026-09-01", "to": "2026-10-31", **shown, "lang": "en"}
    html = staff.get("/me/", query_string=query).get_data(as_text=True)
    start = (end - timedelta(days=89)).isoformat()
    assert f'id="f-from" name="from" value="{start}"' in html
    assert '<option value="90d" selected>' in html
    query["from"] = "2026-09-15"  # typed over the preset left selected
    html = staff.get("/me/", query_string=query).get_data(as_text=True)
    assert 'id="f-from" name="from" value="2026-09-15"' in html
    assert '<option value="" selected>' in html and "2026-09-15 to 2026-10-31" in html
