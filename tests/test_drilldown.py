"""The responses behind a figure (/manage/responses): every link of the dashboard and of the
charts' tables lists exactly as many responses as its figure counts, paged, as CSV, within the
reader's teams, and hostile parameters get a clear 400.

The data set is ``drillable`` (tests/data_sets.py): every kind of figure over eight weeks.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from data_sets import START
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import in_app, login

from feedback import drilldown, privacy, themes
from feedback.models import AuditEntry, Response

PERIOD = f"from={START}&to=2026-10-31"
HEADING = re.compile(r"<h1 class=\"drill-heading\">(.*?)</h1>", re.S)
TITLE = re.compile(r"The (\d+) responses? behind this figure")


class Links(HTMLParser):
    """The links of a page: (href, title) of each <a>."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            values = dict(attrs)
            if values.get("href"):
                self.found.append((values["href"], values.get("title")))


def links_of(html: str, path: str) -> list[tuple[str, str | None]]:
    """The links of a page to addresses under ``path``, with their titles."""
    parser = Links()
    parser.feed(html)
    return [(href, title) for href, title in parser.found if urlparse(href).path.startswith(path)]


def listed(client, url: str) -> int:
    """The count a list's heading says (in English)."""
    reply = client.get(url + "&lang=en")
    assert reply.status_code == 200, (url, reply.status_code, reply.get_data(as_text=True)[:500])
    heading = HEADING.search(reply.get_data(as_text=True)).group(1)
    match = re.search(r": (\d+) responses?$", heading)
    assert match, heading
    return int(match.group(1))


def figure_links(client, dashboard: str) -> dict[str, int]:
    """Every link to a list on the dashboard and on its charts' pages, with the count its
    figure gives (the link's title); the same address always with the same count."""
    page = client.get(dashboard).get_data(as_text=True)
    found: dict[str, int] = {}
    chart_pages = {href for href, _title in links_of(page, "/manage/charts/") if ".html?" in href}
    assert chart_pages
    pages = [page] + [client.get(href).get_data(as_text=True) for href in sorted(chart_pages)]
    for html in pages:
        for href, title in links_of(html.replace("&amp;", "&"), "/manage/responses"):
            match = TITLE.search(title or "")
            assert match, (href, title)
            n = int(match.group(1))
            assert found.setdefault(href, n) == n, href
    return found


def kinds(urls) -> set[tuple]:
    """The kinds of figure among the links: (measure, band, and which extras they carry)."""
    seen = set()
    for url in urls:
        query = parse_qs(urlparse(url).query)
        seen.add(
            (
                query.get("measure", ["responses"])[0],
                query.get("band", [None])[0],
                *sorted(
                    k for k in ("question", "term", "bucket", "without", "agent") if k in query
                ),
            )
        )
    return seen


@pytest.mark.parametrize(
    "view",
    [
        PERIOD,
        f"{PERIOD}&team=技术支持",
        f"{PERIOD}&channel=chat&source=link",
        "from=2026-10-01&to=2026-10-26",  # the period before holds answers too
    ],
)
def test_every_link_lists_as_many_responses_as_its_figure_counts(app, manager, drillable, view):
    links = figure_links(manager, f"/manage/?{view}&lang=en")
    assert len(links) > 60
    wrong = {url: (n, listed(manager, url)) for url, n in links.items()}
    wrong = {url: counts for url, counts in wrong.items() if counts[0] != counts[1]}
    assert not wrong
    if view.startswith("from=2026-10-01"):  # the answers before, behind the tile's "before"
        assert any("from=2026-09-05" in url and "to=2026-09-30" in url for url in links)
    if view == PERIOD:  # every kind of figure is among them
        found = kinds(links)
        for kind in (
            ("responses", None),
            ("csat", None),
            ("nps", None),
            ("ces", None),
            ("response_rate", None),
            ("csat", None, "agent"),
            ("csat", None, "without"),
            ("csat", None, "bucket"),
            ("csat", "satisfied", "bucket"),
            ("nps", "detractors", "bucket"),
            ("csat", None, "question"),
            ("question", None, "question"),
            ("follow_up", "opened"),
            ("follow_up", "due"),
            ("follow_up", "contacted"),
            ("follow_up", "closed"),
            ("follow_up", "recovered"),
            ("follow_up", "opened", "bucket"),
            ("responses", None, "term"),
        ):
            assert kind in found, kind


def test_the_servqual_gaps_link_to_their_answers(app, manager, drillable):
    links = figure_links(manager, f"/manage/?{PERIOD}&survey=servqual&lang=en")
    gaps = {url: n for url, n in links.items() if "measure=servqual" in url}
    assert len(gaps) == 5 and all(n > 0 for n in gaps.values())
    for url, n in links.items():
        assert listed(manager, url) == n, url


# --- the lists against the data set, worked out in Python -------------------------------------


def _monday(day):
    return day - timedelta(days=day.weekday())


@pytest.mark.parametrize(
    "query, wanted",
    [
        (
            "measure=csat&band=satisfied&team=技术支持",
            lambda r: r["team"] == "技术支持" and r["csat"] >= 4,
        ),
        ("measure=csat&without=team", lambda r: r["team"] is None),
        (
            "measure=csat&band=unhappy&agent=agent-1",
            lambda r: r["agent"] == "agent-1" and r["csat"] <= 2,
        ),
        (
            "measure=csat&score=3&channel=email",
            lambda r: r["channel"] == "email" and r["csat"] == 3,
        ),
        (
            "measure=nps&band=detractors&bucket=2026-09-14&per=week",
            lambda r: _monday(r["day"]) == date(2026, 9, 14) and r["nps"] <= 6,
        ),
        (
            "measure=nps&band=passives&bucket=2026-10-01&per=month",
            lambda r: r["day"].month == 10 and 7 <= r["nps"] <= 8,
        ),
        (
            "measure=ces&band=low_effort&without=category",
            lambda r: r["category"] is None and r.get("ces", 0) >= 5,
        ),
        ("measure=csat&question=attitude", lambda r: "attitude" in r),
        (
            "measure=csat&question=attitude&question=speed",
            lambda r: "attitude" in r and "speed" in r,
        ),
        ("measure=question&question=speed&band=top_two", lambda r: r.get("speed", 0) >= 4),
        ("measure=question&question=competence&score=2", lambda r: r.get("competence") == 2),
        ("source=callback", lambda r: r["source"] == "callback"),
        ("measure=response_rate&team=Billing", lambda r: r["team"] == "Billing"),
        ("term=退款&side=unhappy", lambda r: r["csat"] <= 2 and "退款" in r.get("comment", "")),
    ],
)
def test_a_list_holds_what_the_data_set_says(app, manager, drillable, query, wanted):
    answered = [r for r in drillable["post-case"] if r["answered"]]
    expected = sum(1 for r in answered if wanted(r))
    assert expected > 0, query
    assert listed(manager, f"/manage/responses?{PERIOD}&{query}") == expected


def test_the_bands_add_up_and_each_links_to_its_list(app, manager, drillable):
    page = manager.get(f"/manage/responses?{PERIOD}&measure=nps&team=Billing&lang=en")
    html = page.get_data(as_text=True)
    nav = html.split('aria-label="Narrow the list"')[1].split("</nav>")[0]
    counts = {label: int(n) for label, n in re.findall(r">([^<>]+): (\d+)</", nav)}
    assert set(counts) == {
        "NPS answers",
        "Promoters (NPS 9–10)",
        "Passives (NPS 7–8)",
        "Detractors (NPS 0–6)",
    }
    assert counts["NPS answers"] == sum(v for k, v in counts.items() if k != "NPS answers")
    for href, _title in links_of(nav.replace("&amp;", "&"), "/manage/responses"):
        band = parse_qs(urlparse(href).query)["band"][0]
        label = {"promoters": "Promoters", "passives": "Passives", "detractors": "Detractors"}
        label = next(k for k in counts if k.startswith(label[band]))
        assert listed(manager, href) == counts[label]
    csat = manager.get(f"/manage/responses?{PERIOD}&measure=csat&lang=en").get_data(as_text=True)
    bands = dict(
        re.findall(r">([^<>]+): (\d+)</", csat.split("Narrow the list")[1].split("</nav>")[0])
    )
    assert int(bands["Satisfied (CSAT 4–5)"]) + int(bands["Not satisfied (CSAT 1–3)"]) == int(
        bands["CSAT answers"]
    )
    assert int(bands["Unhappy (CSAT 1–2)"]) < int(bands["Not satisfied (CSAT 1–3)"])


def test_the_themes_sides_are_bands_of_the_scores():
    from feedback import reports

    for uses_csat, sides in drilldown.SIDE_BANDS.items():
        for csat in (None, *range(1, 6)):
            for nps in (None, *range(11)):
                side = themes.side_of(csat, nps, uses_csat)
                for name, (measure, band) in sides.items():
                    score = csat if measure == "csat" else nps
                    low_high = {
                        ("csat", "unhappy"): (1, 2),
                        ("csat", "happy"): (5, 5),
                        ("nps", "detractors"): (0, 6),
                        ("nps", "promoters"): (9, 10),
                    }[measure, band]
                    inside = score is not None and low_high[0] <= score <= low_high[1]
                    assert (side == name) == inside, (uses_csat, csat, nps, name)
                    assert band in reports.SCORE_BANDS[measure]


# --- paging, the CSV, the words -----------------------------------------------------------------


def rows_of(html: str) -> list[str]:
    """The case numbers of a list page, in order."""
    return re.findall(r'<th scope="row" data-label="[^"]*">([^<]*)</th>', html)


def test_paged_25_at_a_time_keeping_every_parameter(app, manager, drillable):
    url = f"/manage/responses?{PERIOD}&measure=csat&question=attitude&question=speed&lang=en"
    total = listed(manager, url)
    assert total > 50
    seen, page, html = [], 1, manager.get(url).get_data(as_text=True)
    while True:
        cases = rows_of(html)
        assert len(cases) == min(25, total - len(seen))
        seen += cases
        nexts = [href for href, _t in links_of(html, "/manage/responses") if "page=" in href]
        forward = [h for h in nexts if f"page={page + 1}" in h]
        if not forward:
            break
        assert parse_qs(urlparse(forward[0]).query)["question"] == ["attitude", "speed"]
        page += 1
        html = manager.get(forward[0] + "&lang=en").get_data(as_text=True)
        assert f"Page {page} of" in html
    assert len(seen) == len(set(seen)) == total
    past = manager.get(url + "&page=99").get_data(as_text=True)
    assert "This page is past the end of the list." in past and not rows_of(past)
    huge = manager.get(url + "&page=99999999999999999999999")
    assert huge.status_code == 200


def csv_of(client, url: str) -> list[list[str]]:
    reply = client.get(url)
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    assert reply.headers["Content-Disposition"].startswith("attachment")
    return list(csv.reader(io.StringIO(reply.get_data().decode("utf-8-sig"))))


@pytest.mark.parametrize(
    "query",
    [
        "measure=csat&question=attitude&question=speed",
        "term=退款&side=unhappy",
        "measure=response_rate&channel=phone",
        "measure=follow_up&band=closed",
    ],
)
def test_the_csv_is_exactly_the_list(app, manager, drillable, query, monkeypatch):
    monkeypatch.setattr(drilldown, "BATCH", 7)  # many batches, and ties of time within them
    url = f"/manage/responses?{PERIOD}&{query}&lang=en"
    html = manager.get(url).get_data(as_text=True)
    cases, page = [], 1
    while rows := rows_of(html):
        cases += rows
        page += 1
        html = manager.get(f"{url}&page={page}").get_data(as_text=True)
    csv_href = next(
        h for h, _t in links_of(manager.get(url).get_data(as_text=True), "/manage/responses.csv")
    )
    table = csv_of(manager, csv_href + "&lang=en")
    assert table[0][:5] == ["Case", "Submitted at", "Channel", "Team", "Agent"]
    assert table[0][5:8] == ["CSAT", "NPS", "CES (effort)"] and table[0][-1] == "Comment"
    assert [row[0] for row in table[1:]] == cases == list(dict.fromkeys(cases))
    assert len(cases) == listed(manager, url.replace("&lang=en", ""))
    chinese = csv_of(manager, csv_href + "&lang=zh")
    assert chinese[0][:3] == ["案件", "提交时间", "渠道"] and chinese[1:] != []
    with in_app(app):
        assert AuditEntry.select().where(AuditEntry.action == "export.raw").count() == 2


def test_each_row_shows_the_case_agent_scores_and_comment(app, manager, drillable):
    html = manager.get(
        f"/manage/responses?{PERIOD}&term=退款&side=unhappy&team=Billing&lang=en"
    ).get_data(as_text=True)
    table = html.split('<table class="stack" id="responses">')[1].split("</table>")[0]
    heads = re.findall(r'<th scope="col">([^<]*)</th>', table)
    assert heads == [
        "Case",
        "Submitted at",
        "Channel",
        "Team",
        "Agent",
        "CSAT",
        "NPS",
        "CES (effort)",
        "Speed of response",
        "Attitude of the staff",
        "Knowledge and competence",
        "Comment",
    ]
    for row in table.split("<tr>")[2:]:
        assert "退款" in row.split('class="comment">')[1] and ">Billing<" in row
        csat = re.search(r'data-label="CSAT" class="score">(\d)', row)
        assert csat and int(csat.group(1)) <= 2


def test_the_list_in_words_in_both_languages(app, manager, drillable):
    url = f"/manage/responses?{PERIOD}&measure=csat&band=unhappy&team=Billing"
    english = HEADING.search(manager.get(url + "&lang=en").get_data(as_text=True)).group(1)
    english = english.replace("\u2009", " ")  # Babel's thin spaces around the dash
    n = listed(manager, url)
    assert english == f"Unhappy (CSAT 1–2) in team Billing, Sep 1 – Oct 31, 2026: {n} responses"
    chinese = HEADING.search(manager.get(url + "&lang=zh").get_data(as_text=True)).group(1)
    assert chinese.startswith("不满意（CSAT 1–2）（团队 Billing，2026年9月1日至10月31日）：")
    week = HEADING.search(
        manager.get(
            f"/manage/responses?{PERIOD}&measure=nps&band=detractors&bucket=2026-09-14&per=week"
            "&channel=phone&without=agent&lang=en"
        ).get_data(as_text=True)
    ).group(1)
    assert week.startswith("Detractors (NPS 0–6) in Phone and no agent, the week of Sep 14, 2026:")
    pairs = HEADING.search(
        manager.get(
            f"/manage/responses?{PERIOD}&measure=csat&question=attitude&question=speed&lang=en"
        ).get_data(as_text=True)
    ).group(1)
    assert pairs.startswith(
        "CSAT answers that also answered “Attitude of the staff” and “Speed of response”, "
    )


def test_no_customer_contact_details_and_erased_comments_stay_erased(
    app, manager, client, api_headers
):
    from support import answer

    data = {"resolved": "no", "csat": "1", "nps": "0", "comment": "王小明说：退款还没到"}
    answer(
        client,
        api_headers,
        data,
        case_id="E-1",
        customer={"id": "cust-9", "name": "王小明", "phone": "13800138000"},
    )
    with in_app(app):
        day = Response.get().day
    url = f"/manage/responses?from={day}&to={day}&measure=csat&lang=en"
    page = manager.get(url).get_data(as_text=True)
    assert "E-1" in page and "13800138000" not in page and "cust-9" not in page
    assert "王小明说" in page  # typed into the comment: shown until erased, as in the export
    with in_app(app):
        privacy.erase("cust-9", actor="test")
    after = manager.get(url).get_data(as_text=True)
    assert "王小明" not in after and "E-1" in after
    table = csv_of(manager, f"/manage/responses.csv?from={day}&to={day}&measure=csat")
    assert "王小明" not in str(table) and table[1][0] == "E-1"


def test_formula_like_texts_are_safe_in_the_csv(app, manager, client, api_headers):
    from support import answer

    answer(
        client,
        api_headers,
        {"resolved": "yes", "csat": "5", "nps": "10", "comment": '=HYPERLINK("http://x")'},
        case_id="=1+1",
        agent="@agent",
    )
    with in_app(app):
        day = Response.get().day
    table = csv_of(manager, f"/manage/responses.csv?from={day}&to={day}")
    assert table[1][0] == "'=1+1" and table[1][4] == "'@agent"
    assert table[1][-1] == '\'=HYPERLINK("http://x")'


# --- who may see which responses ------------------------------------------------------------


def test_staff_get_403_and_anonymous_the_login(app, users, drillable):
    staff = app.test_client()
    login(staff, "staff")
    for path in ("/manage/responses", "/manage/responses.csv", "/manage/charts/csat-trend.html"):
        assert staff.get(f"{path}?{PERIOD}").status_code == 403
        anonymous = app.test_client().get(f"{path}?{PERIOD}")
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_lead_lists_only_the_teams_they_lead(app, users, drillable):
    lead = app.test_client()
    login(lead, "lead")  # leads Billing
    billing = sum(1 for r in drillable["post-case"] if r["answered"] and r["team"] == "Billing")
    assert listed(lead, f"/manage/responses?{PERIOD}") == billing
    page = lead.get(f"/manage/responses?{PERIOD}&measure=csat&lang=en").get_data(as_text=True)
    assert "技术支持" not in page and "售后服务" not in page
    # another team's list, by its name, is what an unknown team gets
    other = lead.get(f"/manage/responses?{PERIOD}&team=技术支持&lang=en")
    unknown = lead.get(f"/manage/responses?{PERIOD}&team=Nope&lang=en")
    assert other.status_code == unknown.status_code == 400
    assert "unknown team" in other.get_data(as_text=True)
    assert lead.get(f"/manage/responses.csv?{PERIOD}&team=技术支持").status_code == 400
    assert listed(lead, f"/manage/responses?{PERIOD}&without=team") == 0
    rows = csv_of(lead, f"/manage/responses.csv?{PERIOD}")[1:]
    assert len(rows) == billing and {row[3] for row in rows} == {"Billing"}
    # every link of the lead's own dashboard lists what its figure counts
    for url, n in figure_links(lead, f"/manage/?{PERIOD}&lang=en").items():
        assert listed(lead, url) == n, url


# --- hostile parameters: a clear 400, never a 500 -----------------------------------------------


@pytest.mark.parametrize(
    "query, field",
    [
        ("measure=everything", "measure"),
        ("measure=csat&band=furious", "band"),
        ("measure=responses&band=answered", "band"),
        ("measure=csat&score=" + "9" * 40, "score"),
        ("measure=csat&score=6", "score"),
        ("measure=nps&score=-1", "score"),
        ("measure=csat&band=satisfied&score=5", "score"),
        ("measure=response_rate&score=1", "score"),
        ("measure=question", "question"),
        ("measure=question&question=nope", "question"),
        ("measure=servqual&question=speed", "question"),
        ("measure=csat&question=csat", "question"),
        ("term=a b&side=happy", "term"),
        ("term=退款", "side"),
        ("side=unhappy", "side"),
        ("term=退款&side=sad", "side"),
        ("bucket=2026-09-02&per=week", "bucket"),
        ("bucket=2026-09-02&per=month", "bucket"),
        ("bucket=99999-01-01&per=day", "bucket"),
        ("bucket=2026-09-07", "per"),
        ("per=week", "per"),
        ("bucket=2026-09-07&per=year", "per"),
        ("without=channel", "without"),
        ("without=team&team=Billing", "without"),
        ("channel=fax", "channel"),
        ("from=2026-13-01", "from"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(app, manager, query, field):
    for path in ("/manage/responses", "/manage/responses.csv"):
        reply = manager.get(f"{path}?{query}&lang=en")
        assert reply.status_code == 400, (path, query)
        assert f"{field}: " in reply.get_data(as_text=True), (path, query)
    chinese = manager.get(f"/manage/responses?{query}&lang=zh").get_data(as_text=True)
    assert "must" not in chinese.split("<h1>")[1].split("</h1>")[0] or field == "measure"


def test_too_many_questions_and_a_nul_are_refused(app, manager):
    many = "&".join(f"question=q{i}" for i in range(21))
    reply = manager.get(f"/manage/responses?measure=csat&{many}&lang=en")
    assert reply.status_code == 400 and "question: at most 20 questions" in reply.get_data(
        as_text=True
    )
    assert manager.get("/manage/responses?term=a%00b&side=happy").status_code == 400
    assert manager.get("/manage/responses?measure=csat%00").status_code == 400


FIELDS = (
    "measure",
    "band",
    "score",
    "question",
    "term",
    "side",
    "bucket",
    "per",
    "without",
    "page",
    "team",
    "agent",
    "from",
)
VALUES = st.one_of(
    st.sampled_from(
        [
            "csat",
            "nps",
            "ces",
            "question",
            "servqual",
            "follow_up",
            "response_rate",
            "satisfied",
            "top_two",
            "speed",
            "attitude",
            "unhappy",
            "happy",
            "week",
            "month",
            "2026-09-07",
            "2026-09-01",
            "team",
            "agent",
            "-1",
            "0",
            "10",
            "1e9",
            "9" * 30,
            "退款",
            "",
        ]
    ),
    st.text(max_size=40).map(lambda s: s.replace("\x00", "")),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(FIELDS), VALUES), max_size=6))
def test_any_parameters_give_a_list_or_a_clear_400(app, manager, params):
    for path in ("/manage/responses", "/manage/responses.csv"):
        reply = manager.get(f"{path}?{urlencode(params)}&lang=en")
        assert reply.status_code in (200, 400), (params, reply.status_code)
        if reply.status_code == 400:
            message = reply.get_data(as_text=True).split("<h1>")[1].split("</h1>")[0]
            assert re.match(r"[a-z_]+: ", message), message
