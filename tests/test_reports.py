"""Reports: the SQL aggregates and /api/v1/metrics against the same figures worked in Python."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from data_sets import START, TEAMS, expected
from support import counted_queries, login

from feedback import reports
from feedback.models import Survey


def check(figures: dict, want: dict) -> None:
    assert figures["responses"] == want["responses"]
    for name in ("csat", "nps", "ces"):
        assert figures[name] == pytest.approx(want[name].to_dict()), name
    assert figures["response_rate"]["invited"] == want["invited"]
    assert figures["response_rate"]["answered"] == want["answered"]


def whole_period(db) -> reports.Slice:
    survey = Survey.get(Survey.slug == "post-case")
    return reports.Slice(survey_id=survey.id, start=START, end=START + timedelta(days=60))


def test_overall_figures_match_python(scored, db):
    check(reports.metrics(whole_period(db))["overall"], expected(scored))


@pytest.mark.parametrize(
    "group_by,key_of",
    [
        ("channel", lambda r: r["channel"]),
        ("team", lambda r: r["team"]),
        ("agent", lambda r: r["agent"]),
        ("week", lambda r: (r["day"] - timedelta(days=r["day"].weekday())).isoformat()),
        ("month", lambda r: r["day"].replace(day=1).isoformat()),
    ],
)
def test_groups_match_python(scored, db, group_by, key_of):
    result = reports.metrics(whole_period(db), group_by)
    groups = {g["key"]: g for g in result["groups"]}
    keys = {key_of(r) for r in scored}
    assert set(groups) == keys
    for key in keys:
        check(groups[key], expected([r for r in scored if key_of(r) == key]))


def test_filters_narrow_the_slice(scored, db):
    base = whole_period(db)
    only = reports.metrics(reports.Slice(**{**vars(base), "channel": "chat"}))["overall"]
    check(only, expected([r for r in scored if r["channel"] == "chat"]))
    short = reports.Slice(**{**vars(base), "end": START + timedelta(days=13)})
    check(
        reports.metrics(short)["overall"],
        expected([r for r in scored if r["day"] <= START + timedelta(days=13)]),
    )


def test_no_answers_give_null_figures(db, app):
    survey = Survey.get(Survey.slug == "post-case")
    figures = reports.metrics(reports.Slice(survey.id, START, START))["overall"]
    assert figures == {
        "responses": 0,
        "csat": None,
        "nps": None,
        "ces": None,
        "response_rate": None,
    }


def test_reports_run_a_fixed_number_of_queries(scored, db):
    """One GROUP BY per table of numbers, whatever the number of groups (no N+1)."""
    period = whole_period(db)
    with counted_queries() as executed:
        reports.metrics(period, "agent")
        agents = len(executed)
        executed.clear()
        reports.metrics(period, "week")
    assert agents == 4 and len(executed) == 4  # 2 overall + 2 grouped


# --- the API ------------------------------------------------------------------------------


def test_metrics_api_agrees_with_the_reports(scored, client, api_headers):
    reply = client.get(
        f"/api/v1/metrics?survey=post-case&from={START}&to="
        f"{START + timedelta(days=60)}&group_by=team",
        headers=api_headers,
    )
    body = reply.get_json()
    assert reply.status_code == 200
    assert body["survey"] == "post-case" and body["group_by"] == "team"
    check(body["overall"], expected(scored))
    assert {g["key"] for g in body["groups"]} == set(TEAMS)
    billing = next(g for g in body["groups"] if g["key"] == "账务组")
    check(billing, expected([r for r in scored if r["team"] == "账务组"]))
    assert set(body["overall"]["nps"]) >= {
        "value",
        "low",
        "high",
        "n",
        "promoters",
        "passives",
        "detractors",
    }


def test_metrics_api_filters(scored, client, api_headers):
    reply = client.get(
        f"/api/v1/metrics?from={START}&to={START + timedelta(days=60)}&channel=chat&team=技术支持",
        headers=api_headers,
    )
    want = expected([r for r in scored if r["channel"] == "chat" and r["team"] == "技术支持"])
    assert 0 < want["responses"] < 120
    check(reply.get_json()["overall"], want)


@pytest.mark.parametrize(
    "query,fields",
    [
        ("from=2026-13-01", {"from"}),
        ("from=2026-10-02&to=2026-10-01", {"from"}),
        ("group_by=colour&channel=fax", {"group_by", "channel"}),
        ("survey=nope&team=nobody&channel=fax", {"survey", "team", "channel"}),
    ],
)
def test_metrics_api_names_every_bad_parameter(client, api_headers, query, fields):
    reply = client.get(f"/api/v1/metrics?{query}", headers=api_headers)
    assert reply.status_code == 400
    assert set(reply.get_json()["errors"]) == fields


def test_unknown_survey_or_team_is_404(client, api_headers):
    reply = client.get("/api/v1/metrics?survey=nope&team=nobody", headers=api_headers)
    assert reply.status_code == 404 and set(reply.get_json()["errors"]) == {"survey", "team"}


def test_metrics_api_access(app, client, users, scored):
    assert client.get("/api/v1/metrics").status_code == 401
    assert (
        client.get("/api/v1/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    )
    staff = app.test_client()
    login(staff, "staff")
    assert staff.get("/api/v1/metrics").status_code == 403
    manager = app.test_client()
    login(manager, "manager")
    assert (
        manager.get(f"/api/v1/metrics?from={START}&to=2026-11-30").get_json()["overall"][
            "responses"
        ]
        == 120
    )


def test_a_team_lead_sees_only_their_teams(app, client, users, scored):
    login(client, "lead")  # leads team Billing, which has no responses here
    body = client.get(f"/api/v1/metrics?from={START}&to=2026-11-30&group_by=team").get_json()
    assert body["overall"]["responses"] == 0 and body["groups"] == []


# --- the dashboard's tables from the cells of one grouped query ------------------------------


def vary(db) -> None:
    """Spread the scored data over more cells: categories, call-backs, no team or agent."""
    from feedback.models import Case, Response

    for i, case in enumerate(Case.select().order_by(Case.id)):
        changes = {"category": ("billing", "login", "refund", None)[i % 4]}
        if i % 11 == 0:
            changes.update(team=None, agent=None)
        Case.update(changes).where(Case.id == case.id).execute()
        Response.update({**changes, "source": "callback" if i % 6 == 0 else "link"}).where(
            Response.case == case.id
        ).execute()


def old_tables(s: reports.Slice) -> dict:
    """What the dashboard used to ask for, one query per table."""
    return {
        "counts": reports.slice_counts(s),
        "groups": {g: reports.metrics(s, g)["groups"] for g in reports.CELL_COLUMNS},
        "scores_by": {g: reports.score_counts(s, g) for g in reports.CELL_COLUMNS},
        "sources": reports.source_counts(s),
    }


def by_key(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: str(r["key"]))


def test_slice_tables_equal_the_per_group_queries(scored, db):
    vary(db)
    base = whole_period(db)
    teams = sorted(t for (t,) in reports.Team.select(reports.Team.id).tuples())
    slices = [
        base,
        replace(base, channel="chat"),
        replace(base, source="link"),
        replace(base, source="callback"),
        replace(base, category="refund"),
        replace(base, agent="agent-3"),
        replace(base, team_id=teams[1]),
        replace(base, allowed_team_ids=(teams[0], teams[2])),
        replace(base, allowed_team_ids=()),
        replace(base, end=START + timedelta(days=13)),
        replace(base, start=START - timedelta(days=30), end=START - timedelta(days=1)),
    ]
    checked = set()
    for s in slices:
        with counted_queries() as executed:
            new = reports.slice_tables(s)
        assert len(executed) <= 3  # responses, invitations, team names
        old = old_tables(s)
        assert new.counts == old["counts"], s
        assert new.overall == reports.metrics(s)["overall"], s
        assert new.groups == old["groups"], s
        for group in reports.CELL_COLUMNS:  # the same rows, whatever their order
            assert by_key(new.scores_by[group]) == by_key(old["scores_by"][group]), (s, group)
        assert new.sources == old["sources"], s
        # as the dashboard asks: invitations grouped by fewer columns, agents' scores only
        fewer = reports.slice_tables(s, ("channel", "team", "category"), scores_by=("agent",))
        assert fewer.counts == new.counts and fewer.sources == new.sources, s
        assert fewer.groups == {g: new.groups[g] for g in ("channel", "team", "category")}, s
        assert fewer.scores_by["agent"] == new.scores_by["agent"], s
        checked.add((new.counts["responses"] > 0, len(new.groups["category"])))
    # the data really is varied: empty and non-empty slices, several categories with None
    assert (False, 0) in checked and any(n >= 4 for _, n in checked)
    assert None in {g["key"] for g in reports.slice_tables(base).groups["team"]}
    assert set(reports.slice_tables(base).sources) == {"link", "callback"}


def test_score_cells_by_month_equal_the_cells_by_day(scored, db, monkeypatch):
    """A period that fills its months is counted month by month on their index, a shorter one
    day by day: the same cells either way, whatever the period and the filters."""
    vary(db)
    base = whole_period(db)
    assert reports._fills_its_months(base)
    assert not reports._fills_its_months(replace(base, end=START + timedelta(days=13)))
    slices = [
        base,
        replace(base, start=START + timedelta(days=3), end=START + timedelta(days=40)),
        replace(base, end=START),
        replace(base, channel="chat", source="link"),
        replace(base, allowed_team_ids=()),
        replace(base, start=date.min, end=date.min),
    ]

    def cells(s, by_month):
        monkeypatch.setattr(reports, "_fills_its_months", lambda _s: by_month)
        return sorted(
            ((c[:5], tuple(int(v or 0) for v in c[5:])) for c in reports.score_cells(s)), key=str
        )

    for s in slices:
        assert cells(s, True) == cells(s, False), s
    assert len(cells(base, True)) > 20
