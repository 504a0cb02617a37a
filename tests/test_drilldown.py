"""The responses behind a figure (/manage/responses): every link of the dashboard and of the
charts' tables lists exactly as many responses as its figure counts, paged, as CSV, within the
reader's teams, and hostile parameters get a clear 400.

The data set is ``drillable`` (tests/data_sets.py): every kind of figure over eight weeks.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

import pytest
from data_sets import START

PERIOD = f"from={START}&to=2026-10-31"
HEADING = re.compile(r"<h1 class=\"drill-heading\">(.*?)</h1>", re.S)
COUNT = re.compile(r"(\d+) responses?</h1>|(\d+) response</h1>")
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


@pytest.mark.parametrize("view", ["", "&team=技术支持", "&channel=chat&source=link"])
def test_every_link_lists_as_many_responses_as_its_figure_counts(app, manager, drillable, view):
    links = figure_links(manager, f"/manage/?{PERIOD}{view}&lang=en")
    assert len(links) > 60
    wrong = {url: (n, listed(manager, url)) for url, n in links.items()}
    wrong = {url: counts for url, counts in wrong.items() if counts[0] != counts[1]}
    assert not wrong
    if not view:  # every kind of figure is among them
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
