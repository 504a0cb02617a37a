"""The before/after check of an improvement action against hand-worked cases.

Each case stores known answers in the week before an action's start and the week after it was
done (ACTION_WINDOW_WEEKS = 1 here), plus answers that must not count (another team, another
channel, outside the windows), and checks the figures, the interval of the change and the
verdict. The expected intervals are worked out by hand in the comments, and the pure maths is
also checked against statsmodels.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from itertools import count

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW
from support import csrf_from, in_app, login

from feedback import actions, chart_data, responses, stats
from feedback.cases import CaseInput, InvitationPolicy, register_case
from feedback.i18n import language
from feedback.models import ImprovementAction, Survey, Team, User
from feedback.surveys import current_version, definition_of

START = date(2026, 9, 8)  # the action's start: the before window is 1-7 Sep
DONE = date(2026, 9, 20)  # done: the after window is 21-27 Sep
BEFORE_DAY, AFTER_DAY = date(2026, 9, 3), date(2026, 9, 24)
LATER = date(2026, 10, 1)  # "today", once the after window is over
MIN_SAMPLE = 30
_refs = count()


def store(
    day: date,
    n: int = 1,
    answered: bool = True,
    team: str = "Billing",
    channel: str = "phone",
    **scores,
) -> None:
    """``n`` cases resolved on ``day`` (10:00 in Shanghai), answered with ``scores``."""
    version = current_version("post-case")
    definition = definition_of(version)
    sent = datetime(day.year, day.month, day.day, 2, 0)
    for _ in range(n):
        ref = next(_refs)
        case_in = CaseInput(
            case_ref=f"V-{ref}",
            survey="post-case",
            resolved_at=sent,
            channel=channel,
            team=team,
            agent="李娜",
            category="billing",
            customer_ref=f"v-{ref}",
        )
        registration = register_case(case_in, version.survey, InvitationPolicy(), now=sent)
        if answered:
            responses.submit(
                registration.invitation,
                registration.case,
                version,
                definition,
                {k: v for k, v in scores.items() if v is not None},
                locale="zh_CN",
                tz="Asia/Shanghai",
                now=sent + timedelta(hours=1),
            )


def noise() -> None:
    """Answers that the check must leave out: wrong team, wrong channel, outside the windows."""
    store(BEFORE_DAY, 5, team="技术支持", csat=1, nps=0, ces=1)
    store(AFTER_DAY, 5, channel="chat", csat=1, nps=0, ces=1)
    store(START, 5, csat=1, nps=0, ces=1)  # the start day itself is in neither window
    store(DONE, 5, csat=1, nps=0, ces=1)  # nor is the done day
    store(date(2026, 9, 28), 5, csat=1, nps=0, ces=1)  # after the after window


def make_done_action(metric: str) -> ImprovementAction:
    manager = User.get(User.username == "manager")
    fields = {
        "title": f"Better {metric}",
        "description": "",
        "metric": metric,
        "survey": Survey.get(Survey.slug == "post-case").id,
        "channel": "phone",
        "team": Team.get(Team.name == "Billing").id,
        "agent": None,
        "category": None,
        "owner": manager.id,
        "start_date": START,
        "due_date": DONE,
    }
    action = actions.create_action(fields, manager)
    actions.change_state(action, "in_progress", "", manager, DONE)
    actions.change_state(action, "done", "", manager, DONE, done_on=DONE)
    return action


def check_of(metric: str, today: date = LATER) -> dict:
    return actions.before_after(make_done_action(metric), 1, MIN_SAMPLE, today)


def csat_scores(day: date, satisfied: int, n: int) -> None:
    store(day, satisfied, csat=5, nps=8)
    store(day, n - satisfied, csat=2, nps=8)


def nps_scores(day: date, promoters: int, passives: int, detractors: int) -> None:
    store(day, promoters, csat=4, nps=10)
    store(day, passives, csat=4, nps=7)
    store(day, detractors, csat=4, nps=3)


# --- the rule itself ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "low,high,n1,n2,verdict",
    [
        (0.5, 9.0, 30, 30, "improved"),
        (-9.0, -0.5, 30, 30, "worse"),
        (-3.0, 4.0, 30, 30, "no clear change"),
        (0.0, 4.0, 30, 30, "no clear change"),  # touching zero is not clear
        (0.5, 9.0, 29, 300, "too few"),
        (0.5, 9.0, 300, 29, "too few"),
    ],
)
def test_the_verdict_rule(low, high, n1, n2, verdict):
    difference = stats.Difference((low + high) / 2, low, high)
    assert stats.improvement_verdict(difference, n1, n2, 30) == verdict


def test_no_difference_is_too_few():
    assert stats.improvement_verdict(None, 100, 100, 30) == "too few"


def test_the_windows():
    (b_start, b_end), (a_start, a_end) = actions.windows(START, DONE, 8)
    assert (b_start, b_end) == (date(2026, 7, 14), date(2026, 9, 7))  # 56 days
    assert (a_start, a_end) == (date(2026, 9, 21), date(2026, 11, 15))
    assert (b_end - b_start).days + 1 == (a_end - a_start).days + 1 == 56


# --- hand-worked cases --------------------------------------------------------------------------


def test_csat_improved(db, users):
    # before 30 of 60 satisfied (50%), after 51 of 60 (85%).
    # Wilson 30/60: centre 0.5, half 1.96*sqrt(.25/60 + 3.8415/14400)/1.06403 = 0.12265
    #   -> [37.73, 62.27]. Wilson 51/60 -> [73.89, 91.90].
    # Newcombe: d = 35; low = 35 - sqrt((85-73.885)^2 + (62.265-50)^2) = 35 - 16.55 = 18.45;
    #   high = 35 + sqrt((91.903-85)^2 + (50-37.735)^2) = 35 + 14.07 = 49.07
    csat_scores(BEFORE_DAY, 30, 60)
    csat_scores(AFTER_DAY, 51, 60)
    noise()
    check = check_of("csat")
    assert check["before"]["n"] == 60 and check["after"]["n"] == 60
    assert check["before"]["figure"]["value"] == pytest.approx(50)
    assert (check["before"]["figure"]["low"], check["before"]["figure"]["high"]) == (
        pytest.approx(37.735, abs=0.01),
        pytest.approx(62.265, abs=0.01),
    )
    assert check["after"]["figure"]["value"] == pytest.approx(85)
    assert (check["after"]["figure"]["low"], check["after"]["figure"]["high"]) == (
        pytest.approx(73.885, abs=0.01),
        pytest.approx(91.903, abs=0.01),
    )
    difference = check["difference"]
    assert difference["value"] == pytest.approx(35)
    assert difference["low"] == pytest.approx(18.45, abs=0.01)
    assert difference["high"] == pytest.approx(49.07, abs=0.01)
    assert check["verdict"] == "improved" and check["provisional"] is False
    assert check["after"]["measured_to"] == "2026-09-27"


def test_csat_no_clear_change(db, users):
    # 30/60 -> 34/60: d = 6.67, Newcombe [-10.89, 23.66] contains zero
    csat_scores(BEFORE_DAY, 30, 60)
    csat_scores(AFTER_DAY, 34, 60)
    noise()
    check = check_of("csat")
    assert (check["difference"]["low"], check["difference"]["high"]) == (
        pytest.approx(-10.89, abs=0.01),
        pytest.approx(23.66, abs=0.01),
    )
    assert check["verdict"] == "no clear change"


def test_csat_worse(db, users):
    # 51/60 -> 30/60: the mirror of the improved case, [-49.07, -18.45]
    csat_scores(BEFORE_DAY, 51, 60)
    csat_scores(AFTER_DAY, 30, 60)
    check = check_of("csat")
    assert (check["difference"]["low"], check["difference"]["high"]) == (
        pytest.approx(-49.07, abs=0.01),
        pytest.approx(-18.45, abs=0.01),
    )
    assert check["verdict"] == "worse"


def test_too_few_answers_in_one_window(db, users):
    # 20 of 29 answers before would be a large change, but 29 < MIN_SAMPLE: no verdict
    csat_scores(BEFORE_DAY, 5, 29)
    csat_scores(AFTER_DAY, 60, 60)
    check = check_of("csat")
    assert check["before"]["n"] == 29 and check["verdict"] == "too few"
    assert check["difference"]["low"] > 0  # the interval alone would have said improved


def test_nothing_before_is_too_few(db, users):
    csat_scores(AFTER_DAY, 40, 60)
    check = check_of("csat")
    assert check["before"]["figure"] is None and check["difference"] is None
    assert check["verdict"] == "too few"


def test_nps_improved(db, users):
    # before P10 / 20 / D30 (n 60, NPS -33.3), after P35 / 15 / D10 (NPS +41.7).
    # adjusted Wald, n' = 63: before P' = 10.75/63 = .170635, D' = 30.75/63 = .488095,
    #   centre -.317460, var = (.170635 + .488095 - .100781)/63 = .0088563;
    # after P' = 35.75/63 = .567460, D' = .170635, centre .396825,
    #   var = (.567460 + .170635 - .157470)/63 = .0092163.
    # change 71.43, half = 1.96 * sqrt(.0180726) = .26349 -> [45.08, 97.78]
    nps_scores(BEFORE_DAY, 10, 20, 30)
    nps_scores(AFTER_DAY, 35, 15, 10)
    noise()
    check = check_of("nps")
    assert check["before"]["figure"]["value"] == pytest.approx(-100 / 3)
    assert check["after"]["figure"]["value"] == pytest.approx(250 / 6)
    assert check["difference"]["value"] == pytest.approx(71.43, abs=0.01)
    assert check["difference"]["low"] == pytest.approx(45.08, abs=0.01)
    assert check["difference"]["high"] == pytest.approx(97.78, abs=0.01)
    assert check["verdict"] == "improved"


def test_nps_no_clear_change(db, users):
    # 20/20/20 -> 22/20/18: change 6.35 [-21.95, 34.65]
    nps_scores(BEFORE_DAY, 20, 20, 20)
    nps_scores(AFTER_DAY, 22, 20, 18)
    check = check_of("nps")
    assert (check["difference"]["low"], check["difference"]["high"]) == (
        pytest.approx(-21.95, abs=0.01),
        pytest.approx(34.65, abs=0.01),
    )
    assert check["verdict"] == "no clear change"


def test_nps_worse(db, users):
    # 40/10/10 -> 20/15/25: change -55.56 [-83.95, -27.16]
    nps_scores(BEFORE_DAY, 40, 10, 10)
    nps_scores(AFTER_DAY, 20, 15, 25)
    check = check_of("nps")
    assert check["difference"]["high"] == pytest.approx(-27.16, abs=0.01)
    assert check["verdict"] == "worse"


def test_ces_worse_and_improved(db, users):
    # before 20 x 6 and 20 x 5: mean 5.5, s^2 = 10/39 = .25641; after 20 x 4 and 20 x 5: mean
    # 4.5, same s^2. change -1.0, half = 1.96 * sqrt(2 * .25641/40) = .22192 -> [-1.222, -0.778]
    store(BEFORE_DAY, 20, csat=4, nps=8, ces=6)
    store(BEFORE_DAY, 20, csat=4, nps=8, ces=5)
    store(AFTER_DAY, 20, csat=4, nps=8, ces=4)
    store(AFTER_DAY, 20, csat=4, nps=8, ces=5)
    store(AFTER_DAY, 10, csat=4, nps=8)  # answered without CES: in no CES denominator
    check = check_of("ces")
    assert check["before"]["figure"]["value"] == pytest.approx(5.5)
    assert check["after"]["figure"]["value"] == pytest.approx(4.5) and check["after"]["n"] == 40
    assert (check["difference"]["low"], check["difference"]["high"]) == (
        pytest.approx(-1.2219, abs=1e-4),
        pytest.approx(-0.7781, abs=1e-4),
    )
    assert check["verdict"] == "worse"
    # the same two windows the other way round: improved
    assert actions.compare(
        "ces",
        {"ces_n": 40, "ces_sum": 180, "ces_sum_sq": 820},
        {"ces_n": 40, "ces_sum": 220, "ces_sum_sq": 1220},
        30,
    )[1] == ("improved")


def test_response_rate_improved(db, users):
    # invited 60 each week: 30 answered before, 51 after -> the CSAT case's numbers
    store(BEFORE_DAY, 30, csat=4)
    store(BEFORE_DAY, 30, answered=False)
    store(AFTER_DAY, 51, csat=4)
    store(AFTER_DAY, 9, answered=False)
    check = check_of("response_rate")
    assert check["before"]["n"] == 60 and check["after"]["figure"]["value"] == pytest.approx(85)
    assert check["difference"]["low"] == pytest.approx(18.45, abs=0.01)
    assert check["verdict"] == "improved"


def test_a_provisional_reading_counts_the_days_so_far(db, users):
    csat_scores(BEFORE_DAY, 30, 60)
    store(date(2026, 9, 22), 40, csat=5, nps=8)  # in the first three days
    store(date(2026, 9, 25), 40, csat=1, nps=8)  # not yet counted on the 24th
    check = check_of("csat", today=date(2026, 9, 24))
    assert check["started"] and check["provisional"]
    assert check["elapsed_days"] == 3 and check["after"]["measured_to"] == "2026-09-23"
    assert check["after"]["n"] == 40 and check["verdict"] == "improved"
    on_done_day = check_of("csat", today=date(2026, 9, 21))
    assert not on_done_day["started"] and on_done_day["verdict"] is None


# --- the maths against statsmodels --------------------------------------------------------------


@pytest.mark.parametrize(
    "before,after", [((30, 60), (51, 60)), ((30, 60), (34, 60)), ((7, 40), (3, 35))]
)
def test_csat_change_matches_statsmodels(before, after):
    counts = [{"csat_n": n, "csat_satisfied": x} for x, n in (before, after)]
    difference, _verdict = actions.compare("csat", *counts, 30)
    low, high = confint_proportions_2indep(
        after[0], after[1], before[0], before[1], method="newcomb", compare="diff"
    )
    assert (difference.low, difference.high) == (
        pytest.approx(100 * low),
        pytest.approx(100 * high),
    )


def test_ces_change_matches_statsmodels():
    before, after = [6] * 20 + [5] * 20, [4] * 20 + [5] * 20 + [7] * 3
    counts = [
        {"ces_n": len(x), "ces_sum": sum(x), "ces_sum_sq": sum(v * v for v in x)}
        for x in (before, after)
    ]
    difference, _verdict = actions.compare("ces", *counts, 30)
    low, high = CompareMeans(
        DescrStatsW(np.array(after, float)), DescrStatsW(np.array(before, float))
    ).zconfint_diff(usevar="unequal")
    assert (difference.low, difference.high) == (pytest.approx(low), pytest.approx(high))


def test_nps_change_by_the_formula():
    difference, verdict = actions.compare(
        "nps",
        {"nps_n": 60, "promoters": 10, "passives": 20, "detractors": 30},
        {"nps_n": 60, "promoters": 35, "passives": 15, "detractors": 10},
        30,
    )
    p1, d1, p2, d2 = 10.75 / 63, 30.75 / 63, 35.75 / 63, 10.75 / 63
    v1 = (p1 + d1 - (p1 - d1) ** 2) / 63
    v2 = (p2 + d2 - (p2 - d2) ** 2) / 63
    assert difference.value == pytest.approx(100 * ((p2 - d2) - (p1 - d1)))
    assert difference.high - difference.value == pytest.approx(100 * stats.Z95 * math.sqrt(v1 + v2))
    assert verdict == "improved"


# --- on the page --------------------------------------------------------------------------------


def test_the_page_shows_both_windows_and_the_verdict(app, users):
    with in_app(app):  # let go before the requests
        csat_scores(BEFORE_DAY, 30, 60)
        csat_scores(AFTER_DAY, 51, 60)
        action_id = make_done_action("csat").id
    app.config["ACTION_WINDOW_WEEKS"] = 1
    client = app.test_client()
    login(client, "manager")
    client.get("/?lang=en")
    page = client.get(f"/manage/actions/{action_id}").get_data(as_text=True)
    assert "2026-09-01 – 2026-09-07" in page and "2026-09-21 – 2026-09-27" in page
    assert "50.0% <small>[37.7, 62.3]</small>" in page
    assert "85.0% <small>[73.9, 91.9]</small>" in page
    assert "Change (after − before): +35.0 [+18.4, +49.1]" in page
    assert "improved" in page and "verdict-improved" in page
    assert "Provisional" not in page and "too-few-label" not in page
    # evaluating stores the reading with the action
    reply = client.post(
        f"/manage/actions/{action_id}/state",
        data={"csrf_token": csrf_from(page), "to_state": "evaluated", "note": "Worked"},
    )
    assert reply.status_code == 302
    with in_app(app):
        saved = ImprovementAction.get_by_id(action_id)
    assert saved.verdict == "improved" and actions.stored_evaluation(saved)["difference"][
        "low"
    ] == pytest.approx(18.45, abs=0.01)
    chart = client.get(f"/manage/actions/{action_id}/before-after.png")
    assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG")
    assert f'src="/manage/actions/{action_id}/before-after.png"' in client.get(
        f"/manage/actions/{action_id}"
    ).get_data(as_text=True)


def test_the_chart_shows_both_windows(db, users):
    csat_scores(BEFORE_DAY, 30, 60)
    csat_scores(AFTER_DAY, 51, 60)
    check = check_of("csat")
    figure = chart_data.before_after(check, "Shorter hold times", language("en"))
    axes = figure.axes[0]
    labels = [tick.get_text() for tick in axes.get_yticklabels()]
    assert labels == [  # Babel's date intervals, thin spaces around the dash
        "before: Sep 1\u2009–\u20097, 2026 (n = 60)",
        "after: Sep 21\u2009–\u200927, 2026 (n = 60)",
    ]
    assert figure.get_suptitle() == "Shorter hold times: before and after"
    chinese = chart_data.before_after(check, "缩短等待", language("zh_CN"))
    assert [tick.get_text() for tick in chinese.axes[0].get_yticklabels()] == [
        "之前：2026年9月1日至7日（n = 60）",
        "之后：2026年9月21日至27日（n = 60）",
    ]
    assert chinese.get_suptitle() == "缩短等待：之前与之后"
    assert (
        chart_data.before_after({**check, "metric": "response_rate"}, "x", language("en")) is None
    )
    assert chart_data.before_after(check_of("csat", today=DONE), "x", language("en")) is None


def test_the_meeting_pack_draws_evaluated_actions(db, users):
    from support import ALL_BUT_SERVQUAL, page_count

    from feedback import meeting_pack
    from feedback.reports import Slice

    csat_scores(BEFORE_DAY, 30, 60)
    csat_scores(AFTER_DAY, 51, 60)
    action = make_done_action("csat")
    check = actions.before_after(action, 1, MIN_SAMPLE, LATER)
    actions.change_state(
        action,
        "evaluated",
        "",
        User.get(User.username == "manager"),
        LATER,
        evaluation=check,
        now=datetime(2026, 10, 1, 2, 0),
    )
    s = Slice(
        Survey.get(Survey.slug == "post-case").id,
        date(2026, 10, 1),
        date(2026, 10, 31),
        team_id=Team.get(Team.name == "Billing").id,
    )
    listed = actions.in_period(s, "Asia/Shanghai")
    assert [(item.kind, item.action.title) for item in listed] == [("evaluated", "Better csat")]
    row = meeting_pack.actions_section(listed, language("en"), "Asia/Shanghai").lines()[3]
    assert row.endswith("| evaluated Oct 1 | 50.0% (n=60) → 85.0% (n=60): improved")
    chinese = meeting_pack.actions_section(listed, language("zh_CN"), "Asia/Shanghai").lines()[3]
    assert "(n=60)：" in chinese and "):" not in chinese  # the colon as Chinese writes it
    assert len(meeting_pack.evaluated_charts(listed, language("en"))) == 1
    steps = []
    pdf = meeting_pack.build_pack(
        s,
        "post-case",
        definition_of(current_version("post-case")),
        language("en"),
        MIN_SAMPLE,
        "Asia/Shanghai",
        progress=steps.append,
    )
    # cover, charts, one page of comments, the actions table and the action's chart
    assert page_count(pdf) == 1 + len(ALL_BUT_SERVQUAL) + 1 + 1 + 1 + 1  # + themes
    assert steps[-3:] == ["actions", "themes", "finish"]


def test_the_page_greys_a_window_with_too_few_answers(app, users):
    with in_app(app):
        csat_scores(BEFORE_DAY, 5, 29)
        csat_scores(AFTER_DAY, 51, 60)
        action_id = make_done_action("csat").id
    app.config["ACTION_WINDOW_WEEKS"] = 1
    client = app.test_client()
    login(client, "manager")
    client.get("/?lang=en")
    page = client.get(f"/manage/actions/{action_id}").get_data(as_text=True)
    assert page.count('<small class="too-few-label">too few answers</small>') == 1
    assert "too few answers to judge: fewer than 30 in a window." in page
    assert "verdict-too-few" in page
