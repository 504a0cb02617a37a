"""The login and suggestion forms' error summaries (issue 15): the problems at the top of the
page, each a link to its field, taking the focus when the page loads (``autofocus``: no
JavaScript needed), in the reader's language."""

from __future__ import annotations

import re

from support import PASSWORD, give, post_form


def summary_of(html: str) -> str:
    found = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert found, "no error summary"
    assert re.search(r'<div class="error-summary"[^>]*\bautofocus\b', html), "it takes no focus"
    return found.group(1)


def links_of(summary: str) -> list[str]:
    return re.findall(r'<a href="#([^"]+)">', summary)


def test_a_suggestion_with_mistakes_lists_each_field_and_links_to_it(app, client):
    client.get("/suggest/?lang=en")
    reply = give(client, title="", body="", identity="named", name="", email="not an address")
    assert reply.status_code == 422
    html = reply.get_data(as_text=True)
    summary = summary_of(html)
    targets = links_of(summary)
    assert {"title", "body"} <= set(targets), summary
    for target in targets:  # each link leads to an element of the page
        assert f'id="{target}"' in html, target
    for target in targets:  # and its problem is said beside the link, as beside the field
        field = target.removesuffix("-0")
        beside = re.search(rf'id="{field}-error">([^<]*)<', html)
        assert beside and beside.group(1) in summary, field


def test_a_correct_suggestion_page_has_no_summary(app, client):
    assert 'class="error-summary"' not in client.get("/suggest/").get_data(as_text=True)


def test_a_wrong_password_is_summed_up_in_chinese_and_focused(app, client, users):
    client.get("/suggest/?lang=zh_CN")
    reply = post_form(client, "/login", {"username": "manager", "password": PASSWORD + "x"})
    html = reply.get_data(as_text=True)
    summary = summary_of(html)
    assert links_of(summary) == ["password"]
    assert "请检查" in summary and 'id="password"' in html
