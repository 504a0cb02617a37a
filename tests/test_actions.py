"""Improvement actions: the pages under /manage/actions, their roles, forms, milestones and
states, and the dashboard's link to plan one for its slice."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import pytest
from support import client_for, csrf_from, in_app, make_action, post_form

from feedback import actions
from feedback.i18n import language
from feedback.models import (
    ActionEvent,
    ActionMilestone,
    ActionSuggestion,
    ImprovementAction,
    Survey,
    Team,
    User,
)
from feedback.web.filters import today as local_today

TZ = "Asia/Shanghai"


def today() -> date:
    return local_today(TZ)


@pytest.fixture
def english_manager(app, users):
    """A client logged in as the manager, reading the pages in English."""
    return client_for(app, "manager")


def plan_fields(app, **changes) -> dict:
    """A valid form for a new action on team Billing, owned by the manager."""
    with in_app(app):
        survey = Survey.get(Survey.slug == "post-case")
        billing = Team.get(Team.name == "Billing")
        manager = User.get(User.username == "manager")
    fields = {
        "title": "回访话术培训",
        "metric": "csat",
        "survey": str(survey.id),
        "channel": "phone",
        "team": str(billing.id),
        "agent": "",
        "category": "",
        "description": "Train the billing team to explain invoices on the phone.",
        "owner": str(manager.id),
        "start_date": "2026-09-01",
        "due_date": "2026-10-15",
    }
    fields.update(changes)
    return fields


def action(app, action_id: int) -> ImprovementAction:
    with in_app(app):
        return ImprovementAction.get_by_id(action_id)


# --- roles ------------------------------------------------------------------------------------

ROLE_STATUS = {None: 302, "staff": 403, "lead": 200, "manager": 200, "admin": 200}


@pytest.mark.parametrize("role", list(ROLE_STATUS))
def test_every_route_checks_the_role(app, users, role):
    """Every page and every POST, for anonymous, staff, a lead (of the action's team), a
    manager and an admin."""
    mine = make_action(app)  # team Billing, which the lead leads
    with in_app(app):
        milestone = actions.add_milestone(
            ImprovementAction.get_by_id(mine), "Step", date(2026, 9, 20)
        )
    client = client_for(app, role)
    expected = ROLE_STATUS[role]
    for path in (
        "/manage/actions/",
        "/manage/actions/new",
        f"/manage/actions/{mine}",
        f"/manage/actions/{mine}/edit",
    ):
        reply = client.get(path)
        assert reply.status_code == expected, (path, reply.status_code)
        if role is None:
            assert "/login" in reply.headers["Location"]
    chart = client.get(f"/manage/actions/{mine}/before-after.png")  # none before it is done
    assert chart.status_code == (404 if expected == 200 else expected)
    # a valid CSRF token of this client's session, so that only the role check can refuse
    token = csrf_from(client.get("/login" if role is None else "/").get_data(as_text=True))
    with in_app(app):
        from feedback import suggestions

        suggestion, _code = suggestions.submit(
            suggestions.NewSuggestion(
                box="customer",
                category_id=1,
                title="t",
                body="b",
                anonymous=True,
                locale="en",
                team_id=Team.by_name("Billing").id,
            ),
            app.config,
        )
    posts = [
        (f"/manage/actions/{mine}/links", {"kind": "suggestion", "number": suggestion.id}),
        (f"/manage/actions/{mine}/links/follow_up/1/remove", {}),
        (f"/manage/actions/{mine}/milestones", {"title": "x", "due_date": "2026-10-01"}),
        (f"/manage/actions/{mine}/milestones/{milestone.id}/done", {}),
        (f"/manage/actions/{mine}/state", {"to_state": "in_progress"}),
        (f"/manage/actions/{mine}/edit", plan_fields(app, title="Changed")),
        ("/manage/actions/new", plan_fields(app, title="New one")),
    ]
    for path, data in posts:
        reply = client.post(path, data={**data, "csrf_token": token})
        assert reply.status_code == (302 if role not in (None, "staff") else expected), path
        if role is None:
            assert "/login" in reply.headers["Location"]
    with in_app(app):
        written = (
            ActionMilestone.select().count(),
            ImprovementAction.select().count(),
            ImprovementAction.get_by_id(mine).state,
            ImprovementAction.get_by_id(mine).title,
            ActionMilestone.get_by_id(milestone.id).state,
        )
        linked = ActionSuggestion.select().count()
    if role in (None, "staff"):
        assert written == (1, 1, "planned", "Shorter hold times", "open") and linked == 0
    else:
        assert written == (2, 2, "in_progress", "Changed", "done") and linked == 1


def test_a_lead_sees_and_changes_only_their_teams_and_their_own(app, users):
    with in_app(app):
        Team.by_name("技术支持")
    billing = make_action(app, title="Billing one")
    other = make_action(app, team="技术支持", title="Support one")
    owned = make_action(app, team="技术支持", owner="lead", title="Owned by the lead")
    everyone = make_action(app, team=None, title="Every team")
    lead = client_for(app, "lead")
    listing = lead.get("/manage/actions/").get_data(as_text=True)
    assert "Billing one" in listing and "Owned by the lead" in listing
    assert "Support one" not in listing and "Every team" not in listing
    # another team's action is answered as one that does not exist (docs/access.md)
    assert lead.get(f"/manage/actions/{other}").status_code == 404
    assert lead.get(f"/manage/actions/{everyone}").status_code == 404
    assert lead.get(f"/manage/actions/{owned}").status_code == 200
    page = lead.get(f"/manage/actions/{other}/edit")
    assert page.status_code == 404
    detail = lead.get(f"/manage/actions/{billing}").get_data(as_text=True)
    reply = lead.post(
        f"/manage/actions/{billing}/state",
        data={"csrf_token": csrf_from(detail), "to_state": "in_progress", "note": "started"},
    )
    assert reply.status_code == 302
    assert action(app, billing).state == "in_progress"
    manager_listing = client_for(app, "manager").get("/manage/actions/").get_data(as_text=True)
    assert all(t in manager_listing for t in ("Billing one", "Support one", "Every team"))


def test_a_lead_plans_only_for_their_teams(app, users):
    with in_app(app):
        support = Team.by_name("技术支持")
    lead = client_for(app, "lead")
    form = lead.get("/manage/actions/new").get_data(as_text=True)
    assert "技术支持" not in form and "All teams" not in form
    reply = post_form(lead, "/manage/actions/new", plan_fields(app, team=str(support.id)))
    assert reply.status_code == 422
    assert 'id="team-error"' in reply.get_data(as_text=True)
    reply = post_form(lead, "/manage/actions/new", plan_fields(app, team=""))
    assert reply.status_code == 422
    assert post_form(lead, "/manage/actions/new", plan_fields(app)).status_code == 302


def test_unknown_action_or_milestone_is_404(app, users, english_manager):
    assert english_manager.get("/manage/actions/999").status_code == 404
    assert english_manager.get("/manage/actions/99999999999").status_code == 404
    mine = make_action(app)
    page = english_manager.get(f"/manage/actions/{mine}").get_data(as_text=True)
    for milestone in (999, 99999999999):
        assert (
            english_manager.post(
                f"/manage/actions/{mine}/milestones/{milestone}/done",
                data={"csrf_token": csrf_from(page)},
            ).status_code
            == 404
        )


# --- planning -----------------------------------------------------------------------------------


def test_the_dashboard_links_to_a_plan_for_its_slice(app, users, english_manager):
    page = english_manager.get(
        "/manage/?survey=post-case&team=Billing&channel=phone&from=2026-09-01&to=2026-10-31"
    ).get_data(as_text=True)
    link = re.search(r'<a href="(/manage/actions/new\?[^"]+)">', page)
    assert link, "no link to plan an action"
    href = link.group(1).replace("&amp;", "&")
    assert "team=Billing" in href and "channel=phone" in href and "survey=post-case" in href
    form = english_manager.get(href).get_data(as_text=True)
    with in_app(app):
        billing = Team.get(Team.name == "Billing").id
    assert re.search(rf'<option selected value="{billing}">Billing</option>', form)
    assert re.search(r'<option selected value="phone">', form)
    assert 'value="post-case"' not in form  # surveys are chosen by id
    assert re.search(r'<option selected value="\d+">How did we do\?</option>', form)


def test_planning_an_action(app, users, english_manager):
    reply = post_form(english_manager, "/manage/actions/new", plan_fields(app))
    assert reply.status_code == 302
    detail = english_manager.get(reply.headers["Location"]).get_data(as_text=True)
    assert "回访话术培训" in detail and "The action is planned." in detail
    assert "Once the action is done" in detail  # no check before it is done
    with in_app(app):
        saved = ImprovementAction.get()
        assert (saved.metric, saved.channel, saved.team.name, saved.state) == (
            "csat",
            "phone",
            "Billing",
            "planned",
        )
        assert saved.agent is None and saved.category is None
        assert saved.start_date == date(2026, 9, 1) and saved.due_date == date(2026, 10, 15)
        assert saved.created_by.username == "manager" and saved.owner.username == "manager"
        event = ActionEvent.get()
        assert (event.from_state, event.to_state, event.user.username) == (
            None,
            "planned",
            "manager",
        )


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"start_date": "2026-13-01"}, "start_date"),
        ({"due_date": ""}, "due_date"),
        ({"due_date": "2026-08-01"}, "due_date"),
        ({"start_date": "0001-01-05"}, "start_date"),
        ({"due_date": "soon"}, "due_date"),
        ({"channel": "fax"}, "channel"),
        ({"metric": "happiness"}, "metric"),
        ({"survey": "999"}, "survey"),
        ({"owner": "999"}, "owner"),
        ({"team": "999"}, "team"),
        ({"agent": "a" * 101}, "agent"),
    ],
)
def test_bad_input_is_named_beside_its_field_and_nothing_is_lost(
    app, users, english_manager, changes, field
):
    fields = plan_fields(app, **changes)
    reply = post_form(english_manager, "/manage/actions/new", fields)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert f'id="{field}-error"' in page
    assert re.search(rf'aria-describedby="[^"]*{field}-error"', page)
    assert "Please correct the fields marked below." in page
    assert "Train the billing team to explain invoices on the phone." in page  # kept
    if field != "title":
        assert 'value="回访话术培训"' in page
    with in_app(app):
        assert ImprovementAction.select().count() == 0


def test_a_form_without_its_csrf_token_is_refused(app, users, english_manager):
    reply = english_manager.post("/manage/actions/new", data=plan_fields(app))
    assert reply.status_code in (400, 422)
    with in_app(app):
        assert ImprovementAction.select().count() == 0


def test_the_form_speaks_chinese(app, users, english_manager):
    english_manager.get("/manage/actions/?lang=zh_CN")
    reply = post_form(english_manager, "/manage/actions/new", plan_fields(app, title=""))
    page = reply.get_data(as_text=True)
    assert "请输入标题。" in page and "改进行动" in page


def test_editing_an_action(app, users, english_manager):
    mine = make_action(app)
    form = english_manager.get(f"/manage/actions/{mine}/edit").get_data(as_text=True)
    assert 'value="Shorter hold times"' in form
    reply = post_form(
        english_manager,
        f"/manage/actions/{mine}/edit",
        plan_fields(app, title="Shorter hold times, phase 2", metric="nps"),
    )
    assert reply.status_code == 302
    saved = action(app, mine)
    assert saved.title == "Shorter hold times, phase 2" and saved.metric == "nps"
    reply = post_form(
        english_manager, f"/manage/actions/{mine}/edit", plan_fields(app, due_date="2026-01-01")
    )
    assert reply.status_code == 422 and 'id="due_date-error"' in reply.get_data(as_text=True)


def test_the_start_cannot_move_past_the_done_day(app, users, english_manager):
    mine = make_action(app)
    with in_app(app):
        a = ImprovementAction.get_by_id(mine)
        by = User.get(User.username == "manager")
        actions.change_state(a, "in_progress", "", by, today())
        actions.change_state(a, "done", "", by, today(), done_on=date(2026, 9, 20))
    reply = post_form(
        english_manager,
        f"/manage/actions/{mine}/edit",
        plan_fields(app, start_date="2026-09-25", due_date="2026-10-30"),
    )
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422 and 'id="start_date-error"' in page
    assert "cannot be after the day the action was done" in page


# --- the list ----------------------------------------------------------------------------------


def test_the_list_filters_and_marks_overdue(app, users, english_manager):
    past, future = today() - timedelta(days=3), today() + timedelta(days=30)
    late = make_action(app, title="Late one", start_date=past - timedelta(days=20), due_date=past)
    make_action(app, title="On time one", start_date=today(), due_date=future, owner="lead")
    with in_app(app):
        a = ImprovementAction.get_by_id(late)
        actions.add_milestone(a, "First step", past - timedelta(days=1))
        actions.add_milestone(a, "Second step", past)
        actions.add_milestone(a, "Third step", future)
        lead_id = User.get(User.username == "lead").id
        billing = Team.get(Team.name == "Billing").id
    page = english_manager.get("/manage/actions/").get_data(as_text=True)
    rows = re.findall(r'<tr class="(overdue)?">\s*<th scope="row"><a [^>]+>([^<]+)</a>', page)
    assert rows == [("overdue", "Late one"), ("", "On time one")]  # soonest due first
    assert "Milestones overdue: 2" in page
    only_late = english_manager.get("/manage/actions/?overdue=1").get_data(as_text=True)
    assert "Late one" in only_late and "On time one" not in only_late
    by_owner = english_manager.get(f"/manage/actions/?owner={lead_id}").get_data(as_text=True)
    assert "On time one" in by_owner and "Late one" not in by_owner
    by_state = english_manager.get("/manage/actions/?state=done").get_data(as_text=True)
    assert "No actions match." in by_state
    by_team = english_manager.get(f"/manage/actions/?team={billing}&state=planned")
    assert by_team.status_code == 200 and "Late one" in by_team.get_data(as_text=True)


@pytest.mark.parametrize(
    "query,field",
    [
        ("state=lost", "state"),
        ("owner=abc", "owner"),
        ("team=x", "team"),
        ("owner=99999999999", "owner"),
        ("team=-1", "team"),
    ],
)
def test_bad_list_filters_are_named(app, users, english_manager, query, field):
    reply = english_manager.get(f"/manage/actions/?{query}")
    assert reply.status_code == 400
    assert f'id="a-{field}-error"' in reply.get_data(as_text=True)


def test_a_done_action_is_not_overdue(app, users):
    past = today() - timedelta(days=3)
    mine = make_action(app, start_date=past - timedelta(days=10), due_date=past)
    with in_app(app):
        a = ImprovementAction.get_by_id(mine)
        assert actions.is_overdue(a, today())
        by = User.get(User.username == "manager")
        actions.change_state(a, "in_progress", "", by, today())
        actions.change_state(a, "done", "", by, today(), done_on=today())
        assert not actions.is_overdue(a, today())


# --- milestones ----------------------------------------------------------------------------------


def test_adding_and_finishing_milestones(app, users, english_manager):
    mine = make_action(app, due_date=today() + timedelta(days=30))
    url = f"/manage/actions/{mine}"
    page = english_manager.get(url).get_data(as_text=True)
    reply = english_manager.post(
        f"{url}/milestones",
        data={"csrf_token": csrf_from(page), "title": "Script written", "due_date": "2026-09-10"},
    )
    assert reply.status_code == 302
    page = english_manager.get(url).get_data(as_text=True)
    assert "Script written" in page
    assert '<li class="overdue">' in page and "overdue</strong>" in page  # 2026-09-10 passed
    with in_app(app):
        milestone = ActionMilestone.get()
    reply = english_manager.post(
        f"{url}/milestones/{milestone.id}/done", data={"csrf_token": csrf_from(page)}
    )
    assert reply.status_code == 302
    page = english_manager.get(url).get_data(as_text=True)
    assert "The milestone is done." in page and "overdue" not in page.split("<h2")[2]
    with in_app(app):
        milestone = ActionMilestone.get()
        assert milestone.state == "done" and milestone.done_by.username == "manager"
        done_at = milestone.done_at
    english_manager.post(
        f"{url}/milestones/{milestone.id}/done", data={"csrf_token": csrf_from(page)}
    )
    with in_app(app):
        assert ActionMilestone.get().done_at == done_at  # a second click changes nothing


@pytest.mark.parametrize(
    "data,field",
    [
        ({"title": "", "due_date": "2026-09-10"}, "title"),
        ({"title": "Step", "due_date": "soon"}, "due_date"),
    ],
)
def test_a_bad_milestone_is_named_and_kept(app, users, english_manager, data, field):
    mine = make_action(app)
    page = english_manager.get(f"/manage/actions/{mine}").get_data(as_text=True)
    reply = english_manager.post(
        f"/manage/actions/{mine}/milestones", data={**data, "csrf_token": csrf_from(page)}
    )
    body = reply.get_data(as_text=True)
    assert reply.status_code == 422 and f'id="{field}-error"' in body
    assert f'value="{data["title"]}"' in body if data["title"] else True
    with in_app(app):
        assert ActionMilestone.select().count() == 0


# --- states ---------------------------------------------------------------------------------------


def change(manager, action_id: int, **data):
    page = manager.get(f"/manage/actions/{action_id}").get_data(as_text=True)
    return manager.post(
        f"/manage/actions/{action_id}/state",
        data={"note": "", **data, "csrf_token": csrf_from(page)},
    )


def test_states_go_forward_with_notes(app, users, english_manager):
    mine = make_action(app)
    assert (
        change(english_manager, mine, to_state="in_progress", note="Kick-off held").status_code
        == 302
    )
    reply = change(english_manager, mine, to_state="done", done_on="2026-10-01", note="All trained")
    assert reply.status_code == 302
    saved = action(app, mine)
    assert saved.state == "done" and saved.done_on == date(2026, 10, 1)
    assert saved.done_at is not None
    page = english_manager.get(f"/manage/actions/{mine}").get_data(as_text=True)
    assert "Kick-off held" in page and "All trained" in page
    with in_app(app):
        events = [
            (e.from_state, e.to_state, e.note)
            for e in ActionEvent.select().order_by(ActionEvent.id)
        ]
    assert events == [
        (None, "planned", ""),
        ("planned", "in_progress", "Kick-off held"),
        ("in_progress", "done", "All trained"),
    ]
    assert (
        change(english_manager, mine, to_state="in_progress", note="Not finished").status_code
        == 302
    )
    reopened = action(app, mine)
    assert reopened.state == "in_progress" and reopened.done_on is None


@pytest.mark.parametrize(
    "setup,data,field,message",
    [
        ([], {"to_state": "done"}, "to_state", "Please choose one from the list."),
        ([], {"to_state": "evaluated"}, "to_state", "Please choose one from the list."),
        (
            ["in_progress"],
            {"to_state": "done", "done_on": "2026-08-01"},
            "done_on",
            "cannot be done before its start date",
        ),
        (
            ["in_progress"],
            {"to_state": "done", "done_on": "2099-01-01"},
            "done_on",
            "cannot be in the future",
        ),
        (
            ["in_progress"],
            {"to_state": "done", "done_on": "01/10/2026"},
            "done_on",
            "Please enter a date like 2026-11-01.",
        ),
        (
            ["in_progress"],
            {"to_state": "in_progress", "note": "x" * 2001},
            "to_state",
            "Please choose one from the list.",
        ),
        (["in_progress"], {"to_state": "done", "note": "x" * 2001}, "note", "At most 2000"),
    ],
)
def test_bad_state_changes_are_named(app, users, english_manager, setup, data, field, message):
    mine = make_action(app)
    for state in setup:
        assert change(english_manager, mine, to_state=state).status_code == 302
    reply = change(english_manager, mine, **data)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert f'id="{field}-error"' in page and message in page
    assert action(app, mine).state == (setup[-1] if setup else "planned")


def test_done_today_has_no_after_reading_yet(app, users, english_manager):
    mine = make_action(
        app, start_date=today() - timedelta(days=5), due_date=today() + timedelta(days=5)
    )
    change(english_manager, mine, to_state="in_progress")
    assert change(english_manager, mine, to_state="done").status_code == 302  # done_on: today
    assert action(app, mine).done_on == today()
    page = english_manager.get(f"/manage/actions/{mine}").get_data(as_text=True)
    assert "The after window has not started yet" in page
    assert f"Starts on {today() + timedelta(days=1)}." in page
    reply = change(english_manager, mine, to_state="evaluated")
    assert reply.status_code == 422 and "The after window is not over yet" in (
        reply.get_data(as_text=True)
    )
    assert action(app, mine).state == "done"


def test_evaluating_stores_the_verdict_and_figures(app, users, english_manager):
    mine = make_action(app, start_date=date(2026, 3, 1), due_date=date(2026, 4, 1))
    change(english_manager, mine, to_state="in_progress")
    assert change(english_manager, mine, to_state="done", done_on="2026-04-01").status_code == 302
    assert change(english_manager, mine, to_state="evaluated", note="Checked").status_code == 302
    saved = action(app, mine)
    stored = json.loads(saved.evaluation)
    assert saved.state == "evaluated" and saved.verdict == "too few"
    assert saved.evaluated_at is not None
    assert stored["before"] == {"start": "2026-01-04", "end": "2026-02-28", "figure": None, "n": 0}
    assert stored["after"]["start"] == "2026-04-02" and stored["after"]["end"] == "2026-05-27"
    assert stored["provisional"] is False and stored["verdict"] == "too few"
    page = english_manager.get(f"/manage/actions/{mine}").get_data(as_text=True)
    assert "As recorded when the action was evaluated." in page
    assert "too few answers to judge: fewer than 30 in a window." in page
    assert "This action is evaluated" in page
    assert change(english_manager, mine, to_state="in_progress").status_code == 422


def test_a_deactivated_owner_stays_on_the_action(app, users):
    """An owner who is deactivated later still shows on the action, and the form offers only
    active people to own new ones."""
    mine = make_action(app, owner="lead")
    with in_app(app):
        User.update(active=False).where(User.username == "lead").execute()
    manager = client_for(app, "manager")
    assert "lead" in manager.get(f"/manage/actions/{mine}").get_data(as_text=True)
    form = manager.get("/manage/actions/new").get_data(as_text=True)
    assert "(lead)" not in form and "(manager)" in form


def test_the_main_menu_links_to_the_actions(app, users):
    for role, shown in (("manager", True), ("lead", True), ("admin", True), ("staff", False)):
        page = client_for(app, role).get("/").get_data(as_text=True)
        assert ('href="/manage/actions/"' in page) is shown, role


# --- the meeting pack --------------------------------------------------------------------------


def pack_actions(app, manager_client):
    """Five actions around Sept-Oct 2026: overdue, due, done, evaluated, and one outside."""
    ids = {
        "overdue": make_action(
            app, title="Overdue one", start_date=date(2026, 7, 1), due_date=date(2026, 8, 20)
        ),
        "due": make_action(
            app, title="Due one", start_date=date(2026, 9, 1), due_date=date(2026, 10, 20)
        ),
        "done": make_action(
            app, title="Done one", start_date=date(2026, 9, 1), due_date=date(2026, 9, 30)
        ),
        "evaluated": make_action(
            app,
            title="Evaluated one",
            start_date=date(2026, 3, 1),
            due_date=date(2026, 4, 1),
            metric="nps",
        ),
        "later": make_action(
            app, title="Later one", start_date=date(2026, 11, 1), due_date=date(2026, 12, 1)
        ),
        "other team": make_action(
            app,
            team="技术支持",
            title="Other team one",
            start_date=date(2026, 9, 1),
            due_date=date(2026, 10, 1),
        ),
    }
    with in_app(app):
        by = User.get(User.username == "manager")
        done = ImprovementAction.get_by_id(ids["done"])
        actions.change_state(done, "in_progress", "", by, date(2026, 10, 5))
        actions.change_state(done, "done", "", by, date(2026, 10, 5), done_on=date(2026, 10, 5))
        evaluated = ImprovementAction.get_by_id(ids["evaluated"])
        actions.change_state(evaluated, "in_progress", "", by, date(2026, 4, 1))
        actions.change_state(evaluated, "done", "", by, date(2026, 4, 1), done_on=date(2026, 4, 1))
        check = actions.before_after(evaluated, 8, 30, date(2026, 10, 10))
        actions.change_state(
            evaluated,
            "evaluated",
            "",
            by,
            date(2026, 10, 10),
            evaluation=check,
            now=datetime(2026, 10, 10, 2, 0),
        )
    return ids


def test_the_pack_lists_the_periods_actions(app, users, english_manager):
    from feedback import meeting_pack
    from feedback.reports import Slice

    pack_actions(app, english_manager)
    with in_app(app):
        survey = Survey.get(Survey.slug == "post-case")
        billing = Team.get(Team.name == "Billing")
        s = Slice(survey.id, date(2026, 9, 1), date(2026, 10, 31), team_id=billing.id)
        found = actions.in_period(s, TZ)
        section = meeting_pack.actions_section(found, language("en"), TZ)
        everyone = actions.in_period(Slice(survey.id, date(2026, 9, 1), date(2026, 10, 31)), TZ)
        chinese = meeting_pack.actions_section(found, language("zh_CN"), TZ)
    assert [(item.kind, item.action.title) for item in found] == [
        ("overdue", "Overdue one"),
        ("due", "Due one"),
        ("done", "Done one"),
        ("evaluated", "Evaluated one"),
    ]
    assert "Other team one" in {item.action.title for item in everyone}
    lines = section.lines()
    assert lines[0] == "Improvement actions"
    assert lines[1] == "1 overdue · 1 due in the period · 1 done · 1 evaluated"
    assert lines[2] == ("Action | Problem | Owner | Due | Where it stands | Before → after")
    assert lines[3] == "Overdue one | CSAT · Billing | manager | Aug 20, 2026 | overdue | –"
    assert lines[5] == (
        "Done one | CSAT · Billing | manager | Sep 30, 2026 | done Oct 5 | not evaluated yet"
    )
    assert lines[6] == (
        "Evaluated one | NPS · Billing | manager | Apr 1, 2026 | evaluated "
        "Oct 10 | – → –: too few answers"
    )
    assert chinese.lines()[0] == "改进行动" and "逾期" in chinese.lines()[3]


def test_the_pack_gets_an_actions_page(app, users, english_manager):
    from support import ALL_BUT_SERVQUAL, page_count

    from feedback import meeting_pack
    from feedback.surveys import current_version, definition_of

    pack_actions(app, english_manager)
    with in_app(app):
        survey = Survey.get(Survey.slug == "post-case")
        s = meeting_pack.Slice(survey.id, date(2026, 9, 1), date(2026, 10, 31))
        definition = definition_of(current_version("post-case"))
        steps = []
        pdf = meeting_pack.build_pack(
            s, "post-case", definition, language("zh_CN"), 30, TZ, progress=steps.append
        )
        assert steps == meeting_pack.steps(s, definition, TZ)
        quiet = meeting_pack.Slice(survey.id, date(2025, 1, 1), date(2025, 1, 31))
        assert "actions" not in meeting_pack.steps(quiet, definition, TZ)
    assert steps == ["cover", *ALL_BUT_SERVQUAL, "comments", "actions", "themes", "finish"]
    assert page_count(pdf) == 1 + len(ALL_BUT_SERVQUAL) + 1 + 1 + 1  # + themes


def test_a_date_outside_the_years_is_named(app, users, english_manager):
    reply = post_form(
        english_manager, "/manage/actions/new", plan_fields(app, start_date="1900-01-01")
    )
    assert reply.status_code == 422
    assert "Please enter a date between 2000 and 2099." in reply.get_data(as_text=True)


def test_two_moves_from_the_same_state_only_one_wins(app, users):
    mine = make_action(app)
    with in_app(app):
        by = User.get(User.username == "manager")
        first, second = (ImprovementAction.get_by_id(mine) for _ in range(2))
        actions.change_state(first, "in_progress", "mine", by, today())
        with pytest.raises(actions.ActionError):  # still believes the action is planned
            actions.change_state(second, "in_progress", "mine too", by, today())
        assert ActionEvent.select().where(ActionEvent.to_state == "in_progress").count() == 1
        # editing the plan from a stale copy keeps the state
        second.title = "Renamed"
        actions.update_action(
            second, {name: getattr(second, name) for name in actions.EDIT_FIELDS}, by
        )
        saved = ImprovementAction.get_by_id(mine)
        assert (saved.title, saved.state) == ("Renamed", "in_progress")


def test_the_list_runs_a_fixed_number_of_queries(app, users, english_manager):
    """No query per action: owners, teams and late milestones come with the list."""
    from support import counted_queries

    def queries() -> int:
        with in_app(app):
            with counted_queries() as executed:
                listed = actions.list_actions(User.get(User.username == "manager"), today())
                for item in listed:  # what the page reads of each
                    _ = (
                        item.action.owner.display_name,
                        item.action.team and item.action.team.name,
                        item.milestones_overdue,
                    )
            return len(executed)

    make_action(app, title="One")
    few = queries()
    for i in range(5):
        a = make_action(app, title=f"More {i}", team=None if i % 2 else "Billing")
        with in_app(app):
            actions.add_milestone(ImprovementAction.get_by_id(a), "Late", date(2026, 1, 1))
    assert queries() == few
    page = english_manager.get("/manage/actions/").get_data(as_text=True)
    assert page.count("Milestones overdue: 1") == 5


def test_the_role_test_covers_every_action_route(app):
    """test_every_route_checks_the_role walks these; a new route must join it."""
    endpoints = {
        rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("actions.")
    }
    assert endpoints == {
        "actions.index",
        "actions.new",
        "actions.edit",
        "actions.detail",
        "actions.chart",
        "actions.add_milestone",
        "actions.milestone_done",
        "actions.change_state",
        "actions.add_link",
        "actions.remove_link",
    }
    for endpoint in endpoints:
        assert app.view_functions[endpoint].roles == ("admin", "manager", "lead"), endpoint


def test_a_lead_editing_their_own_action_keeps_its_slice(app, users):
    with in_app(app):
        support = Team.by_name("技术支持")
    every = make_action(app, team=None, owner="lead", title="Every team, lead's")
    other = make_action(app, team="技术支持", owner="lead", title="Support, lead's")
    lead = client_for(app, "lead")
    for action_id, team in ((every, ""), (other, str(support.id))):
        form = lead.get(f"/manage/actions/{action_id}/edit").get_data(as_text=True)
        assert re.search(rf'<option selected value="{team}">', form), action_id
        reply = post_form(
            lead,
            f"/manage/actions/{action_id}/edit",
            plan_fields(app, team=team, title="Renamed by the lead"),
        )
        assert reply.status_code == 302
        saved = action(app, action_id)
        assert saved.title == "Renamed by the lead"
        assert saved.team_id == (int(team) if team else None)


def test_who_sees_what_without_filters(app, users):
    """A manager with no filter sees all; a lead who leads no team sees only what they own."""
    make_action(app, title="Billing one")
    make_action(app, team=None, owner="lead", title="Owned")
    with in_app(app):
        manager_ = User.get(User.username == "manager")
        assert len(actions.list_actions(manager_, today())) == 2
        lead = User.get(User.username == "lead")
        assert {i.action.title for i in actions.list_actions(lead, today())} == {
            "Billing one",
            "Owned",
        }
        from feedback.models import TeamLead

        TeamLead.delete().execute()
        assert [i.action.title for i in actions.list_actions(lead, today())] == ["Owned"]
        staff = User.get(User.username == "staff")
        assert actions.list_actions(staff, today()) == []


def test_nul_characters_are_refused_by_name_and_nothing_is_stored(app, users, english_manager):
    reply = post_form(
        english_manager,
        "/manage/actions/new",
        plan_fields(app, title="Hold\x00 times", description="ab"),
    )
    assert reply.status_code == 400
    assert "title" in reply.get_data(as_text=True)
    with in_app(app):
        assert ImprovementAction.select().count() == 0


def test_a_long_list_of_actions_takes_more_pages():
    import types

    from feedback import meeting_pack
    from feedback.actions import PackAction

    items = [
        PackAction(
            "due",
            types.SimpleNamespace(
                title=f"Action {i}",
                metric="csat",
                due_date=date(2026, 10, i + 1),
                state="planned",
                done_on=None,
                evaluated_at=None,
                evaluation=None,
                channel=None,
            ),
            "manager",
            "Billing",
        )
        for i in range(meeting_pack.ACTION_ROWS_PER_PAGE + 1)
    ]
    section = meeting_pack.actions_section(items, language("en"), TZ)
    assert section.subtitle == f"{len(items)} due in the period"
    assert meeting_pack.action_pages(section) == 2
    assert len(meeting_pack.actions_figures(section, ["page 1", "page 2"])) == 2
