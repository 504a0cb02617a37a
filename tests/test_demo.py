"""Demo data: ``flask --app feedback demo`` fills six months of plausible cases and answers."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import timedelta

import peewee
from support import in_app

from feedback import accounts
from feedback.db import database, utcnow
from feedback.demo import AGENTS, DEMO_PASSWORD, DEMO_USERS, TEAMS, fill, plan_cases
from feedback.models import Answer, Case, Invitation, Response, Survey, Team, User
from feedback.vocabulary import CHANNELS

TEAM_NAMES = {t[0] for t in TEAMS}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _post_case_responses():
    return list(
        Response.select()
        .join(Survey, on=(Response.survey == Survey.id))
        .where(Survey.slug == "post-case")
    )


def test_fill_makes_six_months_of_plausible_data(app, db):
    summary = fill(cases=300, seed=11, config=app.config)

    assert Case.select().count() == 300
    assert Case.select().where(Case.case_ref.startswith("DEMO11-")).count() == 300
    invitations = Invitation.select().count()
    assert 240 <= invitations <= 300  # varied customers: most are invited, a few throttled
    responses = Response.select().count()
    assert 60 <= responses <= 150, responses
    assert "300 cases" in summary and DEMO_PASSWORD in summary
    assert f"{invitations} invitations" in summary and f"{responses} responses" in summary

    assert {c.channel for c in Case.select(Case.channel).distinct()} == set(CHANNELS)
    channels = Counter(c.channel for c in Case.select(Case.channel))
    assert channels["phone"] > channels["social"] and channels["chat"] > channels["onsite"]
    teams = {t.name for t in Team.select().join(Case, on=(Case.team == Team.id)).distinct()}
    assert teams == TEAM_NAMES
    assert len({c.agent for c in Case.select(Case.agent)}) >= 15
    assert len({c.customer_ref for c in Case.select(Case.customer_ref)}) >= 250

    # Spread over six months ending today, each answer after its case was resolved.
    days = sorted(r.day for r in Response.select(Response.day))
    assert (days[-1] - days[0]).days >= 140
    assert len({(d.year, d.month) for d in days}) >= 6
    now = utcnow()
    for response in Response.select(Response, Case).join(Case):
        assert response.case.resolved_at < response.submitted_at <= now
        assert response.submitted_at - response.case.resolved_at < timedelta(days=20)
    assert Case.select(peewee.fn.MAX(Case.resolved_at)).scalar() > now - timedelta(days=3)

    # Mostly satisfied, not uniformly: every score occurs, some unhappy customers.
    post_case = _post_case_responses()
    csat = Counter(r.csat for r in post_case)
    assert len(csat) >= 4, csat
    satisfied = (csat[4] + csat[5]) / len(post_case)
    assert 0.6 <= satisfied <= 0.95, csat
    assert csat[1] + csat[2] >= 3, csat
    # NPS and CES follow CSAT.
    by_csat = defaultdict(list)
    for r in post_case:
        by_csat[r.csat >= 4].append(r)
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    assert mean([r.nps for r in by_csat[True]]) > mean([r.nps for r in by_csat[False]]) + 2
    ces_happy = [r.ces for r in by_csat[True] if r.ces is not None]
    ces_unhappy = [r.ces for r in by_csat[False] if r.ces is not None]
    assert mean(ces_happy) > mean(ces_unhappy)

    # show_if is respected: follow-up questions only where their condition holds.
    wrong = (
        Answer.select(Answer, Response)
        .join(Response)
        .where(Answer.question_id == "what_went_wrong")
    )
    assert wrong.count() > 0
    assert all(a.response.csat <= 2 for a in wrong)
    resolved = {
        a.response_id: a.value_text for a in Answer.select().where(Answer.question_id == "resolved")
    }
    unresolved = Answer.select().where(Answer.question_id == "unresolved_detail")
    assert unresolved.count() > 0
    assert all(resolved[a.response_id] == "no" for a in unresolved)
    assert all(resolved[r.id] in ("yes", "no") for r in post_case)

    # Comments in Chinese and in English.
    comments = [a.value_text for a in Answer.select().where(Answer.question_id == "comment")]
    assert any(CJK.search(c) for c in comments) and any(not CJK.search(c) for c in comments)

    # Some SERVQUAL responses, each with both scores for all five dimensions.
    servqual = (
        Response.select()
        .join(Survey, on=(Response.survey == Survey.id))
        .where(Survey.slug == "servqual")
    )
    assert servqual.count() >= 3
    for response in servqual:
        scored = [a for a in response.answers if a.expectation is not None]
        assert len(scored) == 5 and all(1 <= a.value_int <= 7 for a in scored)


def test_demo_users_can_log_in_and_teams_have_leads(app, db):
    fill(cases=30, seed=2, config=app.config)
    for username, role, _name, _team in DEMO_USERS:
        user = accounts.authenticate(username, DEMO_PASSWORD)
        assert user is not None and user.role == role
    assert accounts.authenticate("admin", "wrong-password") is None
    lead = User.get(User.username == "lead")
    assert lead.led_team_ids() == [Team.get(Team.name == "账务组").id]
    for team in Team.select():
        assert team.leads.count() == 1, team.name
    agents = sum(len(a) for a in AGENTS.values())
    assert User.select().count() == agents + 2  # lead and staff are agents too


def test_running_again_adds_nothing_and_another_seed_adds_more(app, db):
    first = fill(cases=80, seed=5, config=app.config)
    counts = (Case.select().count(), Invitation.select().count(), Response.select().count())
    again = fill(cases=80, seed=5, config=app.config)
    assert "there already" in again and "no cases added" in again
    assert (Case.select().count(), Invitation.select().count(), Response.select().count()) == counts
    assert "80 cases" in first
    more = fill(cases=40, seed=6, config=app.config)
    assert "40 cases" in more and "were there already" in more
    assert Case.select().count() == 120
    assert User.select().where(User.username == "admin").count() == 1


def test_same_seed_same_plan():
    now = utcnow()
    one, two = (plan_cases(200, 3, now, "Asia/Shanghai") for _ in range(2))
    assert [(p.case_in, p.answers, p.answer_at) for p in one] == [
        (p.case_in, p.answers, p.answer_at) for p in two
    ]
    other = plan_cases(200, 4, now, "Asia/Shanghai")
    assert [p.case_in for p in other] != [p.case_in for p in one]


def test_agents_differ_and_one_team_improves():
    """So that charts show something: planned answers of the default 5,000 cases."""
    now = utcnow()
    plans = [
        p
        for p in plan_cases(5000, 7, now, "Asia/Shanghai")
        if p.answer_at and p.case_in.survey == "post-case"
    ]
    assert 1100 <= len(plans) <= 1900
    by_agent = defaultdict(list)
    for p in plans:
        by_agent[p.case_in.agent].append(p.answers["csat"])
    means = sorted(sum(v) / len(v) for v in by_agent.values())
    assert means[-1] - means[0] >= 1.0
    after_sales = [p for p in plans if p.case_in.team == "售后服务"]
    early = [p.answers["csat"] for p in after_sales if p.answer_at < now - timedelta(days=120)]
    late = [p.answers["csat"] for p in after_sales if p.answer_at > now - timedelta(days=60)]
    assert sum(late) / len(late) >= sum(early) / len(early) + 0.4


def test_demo_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--cases", "200"])
    try:
        assert result.exit_code == 0, result.output + repr(result.exception)
        assert "200 cases" in result.output and DEMO_PASSWORD in result.output
        again = runner.invoke(args=["demo", "--cases", "200"])
        assert again.exit_code == 0 and "there already" in again.output
    finally:
        with app.app_context():
            if not database.is_closed():
                database.close()
    with in_app(app):
        assert Case.select().count() == 200
        assert Response.select().count() > 0


def test_demo_has_actions_and_a_live_follow_up_queue_for_the_next_meeting(app, db):
    import json

    from feedback.models import (
        ActionFollowUp,
        ActionMilestone,
        ActionSuggestion,
        FollowUp,
        ImprovementAction,
        Suggestion,
    )

    summary = fill(cases=600, seed=4, config=app.config)
    assert "4 improvement actions" in summary
    states = {a.title: a.state for a in ImprovementAction.select()}
    assert sorted(states.values()) == ["evaluated", "in_progress", "in_progress", "planned"]
    evaluated = ImprovementAction.get(ImprovementAction.state == "evaluated")
    reading = json.loads(evaluated.evaluation)
    assert evaluated.verdict == reading["verdict"] and not reading["provisional"]
    assert reading["before"]["n"] > 0 and reading["after"]["n"] > 0
    today = utcnow().date()
    late = [
        a for a in ImprovementAction.select() if a.state == "in_progress" and a.due_date < today
    ]
    assert len(late) == 1  # one overdue action for the meeting to talk about
    assert (
        ActionMilestone.select()
        .where(ActionMilestone.state == "open", ActionMilestone.due_date < today)
        .count()
        >= 2
    )
    for link in ActionSuggestion.select():
        assert Suggestion.get_by_id(link.suggestion_id).status in ("planned", "progress")
    for link in ActionFollowUp.select():
        follow_up = FollowUp.get_by_id(link.follow_up_id)
        assert follow_up.outcome == "not_recovered" and follow_up.team.name == "账务组"
    # follow-ups still open are recent: nothing left untouched for months
    now = utcnow()
    waiting = list(FollowUp.select().where(FollowUp.state != "closed"))
    assert all(now - f.created_at < timedelta(days=21) for f in waiting)
    # another seed adds cases, not a second set of actions
    assert "0 improvement actions" in fill(cases=30, seed=5, config=app.config)
    assert ImprovementAction.select().count() == 4
