"""The survey page read by a screen reader and in either language.

Required questions are exposed on their inputs (``required``), the star is hidden from screen
readers next to a spoken word (never an ``aria-label`` on a span, which is invalid HTML), the
error summary takes focus and links each problem to its question's first input, and the words
read naturally: no "？：" joins, no half-width punctuation next to Chinese.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from support import csrf_from, new_case, survey_path

CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
# half-width punctuation touching Chinese (either side), as in "全部: 84" or "(匿名)"
MIXED = re.compile(rf"[{CJK}][:;,?!()]|[:;,?!(](?=[{CJK}])")


class Text(HTMLParser):
    """The text a person reads (not scripts, styles or attribute values)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def text_of(html: str) -> str:
    parser = Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def inputs(html: str, name: str) -> list[str]:
    return re.findall(rf'<input[^>]*name="{name}"[^>]*>', html)


def test_required_questions_are_exposed_on_their_inputs(client, api_headers):
    html = client.get(survey_path(new_case(client, api_headers))).get_data(as_text=True)
    for name in ("resolved", "csat", "nps"):  # required and always shown
        assert inputs(html, name) and all(" required" in i for i in inputs(html, name)), name
    for name in ("ces", "what_went_wrong"):  # optional, or shown only after another answer
        assert not any(" required" in i for i in inputs(html, name)), name
    assert 'aria-label="必答"' not in html and '<span class="req" aria-label' not in html
    assert html.count('<span class="req" aria-hidden="true">*</span>') == 3
    assert html.count('<span class="visually-hidden">（必答）</span>') == 3


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_error_summary_takes_focus_and_links_to_the_first_input(client, api_headers, locale):
    reply = new_case(client, api_headers, customer={"id": f"w-{locale}", "locale": locale})
    path = survey_path(reply)
    html = client.get(path).get_data(as_text=True)
    page = client.post(path, data={"csrf_token": csrf_from(html), "resolved": "yes"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert summary and "autofocus" in summary.group(0)
    targets = re.findall(r'<a href="#([^"]+)">', summary.group(1))
    assert targets == ["csat-0", "nps-0"]
    for target in targets:
        assert re.search(rf'<input[^>]*id="{target}"', html), target
    assert all('aria-invalid="true"' in i for i in inputs(html, "csat"))
    assert not any("aria-invalid" in i for i in inputs(html, "resolved"))
    words = text_of(summary.group(1))
    if locale == "zh-CN":
        assert "？：" not in html and "？:" not in html
        assert "总体而言，您对这次服务满意吗？ 请回答此问题。" in words
    else:
        assert "?:" not in words and "?: " not in words
        assert "received? Please answer this question." in words


@pytest.mark.parametrize("query", ["", "?csat=5"])
def test_chinese_survey_page_has_no_half_width_punctuation_next_to_chinese(
    client, api_headers, query
):
    path = survey_path(new_case(client, api_headers))
    html = client.get(path + query).get_data(as_text=True)
    words = text_of(html)
    assert not MIXED.findall(words), [
        words[max(0, m.start() - 15) : m.end() + 15] for m in MIXED.finditer(words)
    ]
    error_page = client.post(path, data={"csrf_token": csrf_from(html)}).get_data(as_text=True)
    words = text_of(error_page)
    assert not MIXED.findall(words), [
        words[max(0, m.start() - 15) : m.end() + 15] for m in MIXED.finditer(words)
    ]


CONDITIONAL = """
slug: words
title: {zh-CN: 调查, en: Survey}
intro: {zh-CN: 请回答。, en: Please answer.}
thanks: {zh-CN: 谢谢。, en: Thanks.}
questions:
  - id: how
    type: choice
    text: {zh-CN: 服务如何？, en: "How was it?"}
    choices:
      - {value: fast, label: {zh-CN: 快, en: Fast}}
      - {value: slow, label: {zh-CN: 慢, en: Slow}}
      - {value: ok, label: {zh-CN: 一般, en: OK}}
  - id: why
    type: text
    show_if: how in [fast, slow]
    text: {zh-CN: 为什么？, en: "Why?"}
"""


@pytest.mark.parametrize(
    "locale,expected",
    [
        ("zh-CN", "仅当您对“服务如何？”的回答为 “快”、“慢” 之一 时才需回答。"),
        ("en", "Answer this only if your answer to “How was it?” is one of “Fast”, “Slow”."),
    ],
)
def test_a_list_in_a_condition_hint_reads_naturally(app, locale, expected):
    from flask_babel import force_locale

    from feedback.definitions import load_text, parse
    from feedback.web.survey_forms import condition_hint

    definition = parse(load_text(CONDITIONAL, "words.yaml"))
    with app.test_request_context("/"), force_locale(locale.replace("-CN", "")):
        assert condition_hint(definition, definition.question("why"), locale) == expected
