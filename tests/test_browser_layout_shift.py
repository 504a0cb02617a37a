"""Nothing on the survey and the suggestion box shows and then vanishes while their script loads
(Lighthouse's layout shift, issue 15 item 4).

``survey.js`` hides a conditional question until its condition holds, ``suggest.js`` the name
and email until "With my name" is chosen. When such a script ran after the first paint, a phone
drew the question, then took it away, and everything below jumped (cumulative layout shift
0.35 on the survey). Here the script is held back on its way to the browser (Playwright's
routing), which is what made the paint come first: the page must still record no layout shift
(the browser's own ``layout-shift`` entries) and never show what the script hides. Without
JavaScript everything shows, as before (tests/test_browser.py and the no-JS tests).

Debian's chromium through Playwright (see tests/browser.py), against the app over HTTP.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from support import new_case, survey_path

pytestmark = pytest.mark.browser

HOLD_SECONDS = 1.0

# Every layout shift the page records, from its first byte (buffered).
OBSERVER = """
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__shifts.push({value: entry.value, nodes: entry.sources.map(
      (s) => s.node ? (s.node.id || s.node.nodeName) : null)});
  }
}).observe({type: "layout-shift", buffered: true});
"""


def hold_back(page, pattern: str) -> list:
    """Hold each request matching ``pattern`` for a second before letting it through (the
    browser meanwhile parses and paints whatever does not wait for it); the list of the URLs
    held, to check that the script was really asked for."""
    held = []

    def route(route):
        held.append(route.request.url)
        time.sleep(HOLD_SECONDS)  # not a limit: only an order, the script arriving late
        route.continue_()

    page.route(pattern, route)
    return held


def shifts(page) -> list:
    """The layout shifts recorded once the page has loaded and drawn its next frame."""
    page.wait_for_load_state("load")
    page.evaluate("new Promise((done) => requestAnimationFrame(() => setTimeout(done, 50)))")
    return page.evaluate("window.__shifts")


def test_the_survey_s_conditional_question_never_shows_while_survey_js_loads(
    phone, live_server, client, api_headers
):
    path = survey_path(new_case(client, api_headers, case_id="SHIFT-1"))
    page = phone.new_page()
    page.add_init_script(OBSERVER)
    held = hold_back(page, "**/static/survey.js*")
    page.goto(live_server.url + path)
    assert held, "survey.js was not requested"
    assert shifts(page) == []
    expect(page.locator("form.survey.ready")).to_have_count(1)  # the script did run
    expect(page.locator("#q-unresolved_detail")).to_be_hidden()
    page.get_by_role("radio", name="否").check()  # "not resolved": the question now shows
    expect(page.locator("#q-unresolved_detail")).to_be_visible()


def test_the_suggestion_box_s_name_fields_never_show_while_suggest_js_loads(phone, live_server):
    page = phone.new_page()
    # a tall phone: the fields sit below a common phone's first screen, where shifts do not count
    page.set_viewport_size({"width": 375, "height": 1800})
    page.add_init_script(OBSERVER)
    held = hold_back(page, "**/static/suggest.js*")
    page.goto(live_server.url + "/suggest/")
    assert held, "suggest.js was not requested"
    assert shifts(page) == []
    expect(page.locator("#named-fields")).to_be_hidden()
    page.get_by_role("radio", name="署名").check()
    expect(page.locator("#named-fields")).to_be_visible()


def test_without_javascript_nothing_is_folded(browser, live_server, client, api_headers):
    from browser import PHONE, new_context

    path = survey_path(new_case(client, api_headers, case_id="SHIFT-2"))
    context = new_context(browser, **PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + path)
        expect(page.locator("#q-unresolved_detail")).to_be_visible()
        expect(page.locator("#q-unresolved_detail .cond-hint")).to_be_visible()
        page.goto(live_server.url + "/suggest/")
        expect(page.locator("#named-fields")).to_be_visible()
    finally:
        context.close()
