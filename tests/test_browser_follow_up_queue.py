"""The follow-up queue on a phone: each follow-up a compact card with its state in sight (it was
a table row 157 px tall at 360 px, the state column off-screen), a table on a desktop.

Debian's chromium through Playwright (see tests/browser.py), the app served over HTTP.
"""

from __future__ import annotations

import pytest
from browser import assert_fits, log_in
from support import in_app

from feedback.models import FollowUp

pytestmark = pytest.mark.browser

# A few short lines on a phone: the case and its state, when it is due (team, survey), why (two
# lines at the most); it was 157 px at 360 px with the state off-screen.
MAX_ROW_HEIGHT = 125


def rows_measured(page) -> list[dict]:
    """Each queue row's height and where its state cell is, with the viewport's width."""
    return page.evaluate(
        """() => [...document.querySelectorAll('table.queue tbody tr')].map(tr => {
            const state = tr.lastElementChild.getBoundingClientRect();
            return {height: tr.getBoundingClientRect().height, stateLeft: state.left,
                    stateRight: state.right, stateWidth: state.width,
                    text: tr.lastElementChild.innerText, width: window.innerWidth};
        })"""
    )


@pytest.mark.parametrize("width", [320, 360])
def test_the_queue_is_a_card_per_follow_up_on_a_phone(
    app, users, two_teams, live_server, phone, tmp_path, width
):
    with in_app(app):  # a closed one too: its state carries the outcome, the longest state text
        FollowUp.update(state="closed", outcome="recovered").where(
            FollowUp.id == two_teams["C-S1"]
        ).execute()
    page = phone.new_page()
    page.set_viewport_size({"width": width, "height": 740})
    log_in(page, live_server, "/manage/follow-ups/?state=all")
    page.screenshot(path=str(tmp_path / f"queue-{width}.png"), full_page=True)
    rows = rows_measured(page)
    print(width, [round(row["height"]) for row in rows])
    assert len(rows) == 2
    for row in rows:
        assert row["height"] <= MAX_ROW_HEIGHT, row
        assert row["stateWidth"] > 0 and row["stateLeft"] >= 0, row  # shown
        assert row["stateRight"] <= width, row  # within the screen, no scrolling
    assert "已关闭（已挽回：客户现在满意了）" in [row["text"] for row in rows]
    wrap = page.evaluate(
        "() => { const w = document.querySelector('.table-wrap');"
        " return [w.scrollWidth, w.clientWidth]; }"
    )
    assert wrap[0] <= wrap[1], f"the queue scrolls sideways in its box: {wrap}"
    assert_fits(page, "the follow-up queue")
    # the columns' names are still there for a screen reader
    assert page.locator("table.queue thead th").count() == 6


def test_the_queue_stays_a_table_on_a_desktop(app, users, two_teams, live_server, desktop):
    page = desktop.new_page()
    log_in(page, live_server, "/manage/follow-ups/")
    assert page.locator("table.queue thead").is_visible()
    rows = rows_measured(page)
    assert len(rows) == 2
    tops = page.evaluate(
        """() => [...document.querySelector('table.queue tbody tr').children]
        .map(c => Math.round(c.getBoundingClientRect().top))"""
    )
    assert len(set(tops)) == 1, f"the cells of a row are not side by side: {tops}"
    assert all(row["height"] < 100 for row in rows), rows
