"""Improvement actions linked to the suggestions and follow-ups that led to them; moving an action
to done can move its suggestions along."""

from __future__ import annotations

import re

from support import client_for, csrf_from, in_app, login, make_action

from feedback import suggestions
from feedback.models import ActionFollowUp, ActionSuggestion, Suggestion, Team


def _suggestion(app, title="周末排队", team=None, email=None):
    with in_app(app):
        suggestion, code = suggestions.submit(
            suggestions.NewSuggestion(
                box="customer",
                category_id=1,
                title=title,
                body="正文",
                anonymous=email is None,
                locale="zh_CN",
                name="王芳" if email else None,
                email=email,
                team_id=Team.by_name(team).id if team else None,
            ),
            app.config,
        )
        return suggestion.id, code


def _post(client, url, data, page):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_link_show_and_unlink(app, users, two_teams):
    mine = make_action(app)
    suggestion_id, _code = _suggestion(app, team="Billing")
    manager = client_for(app, "manager")
    page = f"/manage/actions/{mine}"
    assert (
        _post(
            manager, f"{page}/links", {"kind": "suggestion", "number": suggestion_id}, page
        ).status_code
        == 302
    )
    assert (
        _post(
            manager, f"{page}/links", {"kind": "follow_up", "number": two_teams["C-B1"]}, page
        ).status_code
        == 302
    )
    # twice is the same
    assert (
        _post(
            manager, f"{page}/links", {"kind": "suggestion", "number": suggestion_id}, page
        ).status_code
        == 302
    )
    html = manager.get(page).get_data(as_text=True)
    assert f"#{suggestion_id} 周末排队" in html and "C-B1" in html
    # the follow-up's reason and the survey in words: no rule text, no slug
    facts = html.split('<dl class="facts">')[1].split("</dl>")[0]
    assert "post-case" not in facts and "survey How did we do?" in facts
    assert "nps &lt;= 6" not in html
    assert "How likely are you to recommend us to a friend or colleague? 3" in html
    suggestion_page = manager.get(f"/manage/suggestions/{suggestion_id}").get_data(as_text=True)
    assert "Shorter hold times" in suggestion_page
    for bad, words in [
        ({"kind": "suggestion", "number": 999}, "none with this number"),
        ({"kind": "suggestion", "number": ""}, "Give the number"),
        ({"kind": "nonsense", "number": 1}, ""),
    ]:
        reply = _post(manager, f"{page}/links", bad, page)
        assert reply.status_code == 422 and words in reply.get_data(as_text=True)
    assert (
        _post(manager, f"{page}/links/suggestion/{suggestion_id}/remove", {}, page).status_code
        == 302
    )
    with in_app(app):
        assert ActionSuggestion.select().count() == 0 and ActionFollowUp.select().count() == 1
    assert (
        manager.post(
            f"{page}/links/other/1/remove",
            data={"csrf_token": csrf_from(manager.get(page).get_data(as_text=True))},
        ).status_code
        == 404
    )


def test_a_lead_links_only_their_teams_items_and_staff_none(app, users, two_teams):
    mine = make_action(app)  # Billing: the lead's team
    billing_id, _ = _suggestion(app, "账单", team="Billing")
    other_id, _ = _suggestion(app, "别的组", team="Support")
    lead = client_for(app, "lead")
    page = f"/manage/actions/{mine}"
    assert (
        _post(lead, f"{page}/links", {"kind": "suggestion", "number": billing_id}, page).status_code
        == 302
    )
    assert (
        _post(lead, f"{page}/links", {"kind": "suggestion", "number": other_id}, page).status_code
        == 422
    )
    assert (
        _post(
            lead, f"{page}/links", {"kind": "follow_up", "number": two_teams["C-S1"]}, page
        ).status_code
        == 422
    )
    staff = app.test_client()
    login(staff, "staff")
    token = csrf_from(staff.get("/").get_data(as_text=True))
    assert (
        staff.post(
            f"{page}/links", data={"kind": "suggestion", "number": billing_id, "csrf_token": token}
        ).status_code
        == 403
    )
    assert (
        staff.post(
            f"{page}/links/suggestion/{billing_id}/remove", data={"csrf_token": token}
        ).status_code
        == 403
    )
    with in_app(app):
        assert [r.suggestion_id for r in ActionSuggestion.select()] == [billing_id]


def test_done_moves_linked_open_suggestions_along(app, users, make_app):
    mine = make_action(app)
    open_id, code = _suggestion(app, "开着的")
    declined_id, _ = _suggestion(app, "已拒绝的")
    manager = client_for(app, "manager")
    page = f"/manage/actions/{mine}"
    for number in (open_id, declined_id):
        _post(manager, f"{page}/links", {"kind": "suggestion", "number": number}, page)
    with in_app(app):
        suggestions.change(
            Suggestion.get_by_id(declined_id),
            users["manager"],
            suggestions.Change("declined", "不做"),
            app.config,
        )
    _post(manager, f"{page}/state", {"to_state": "in_progress", "note": ""}, page)
    html = manager.get(page).get_data(as_text=True)
    assert 'name="move_suggestions"' in html
    reply = _post(
        manager,
        f"{page}/state",
        {
            "to_state": "done",
            "done_on": "2026-10-01",
            "note": "周末已加人。",
            "move_suggestions": "y",
        },
        page,
    )
    assert reply.status_code == 302
    with in_app(app):
        assert Suggestion.get_by_id(open_id).status == "done"
        assert Suggestion.get_by_id(declined_id).status == "declined"  # closed ones stay
    status = app.test_client().get(f"/suggest/track/{code}").get_data(as_text=True)
    assert "周末已加人。" in status
    assert re.search(r'id="current-status">[^<]+<', status)
