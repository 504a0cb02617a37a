"""Key drivers: Pearson r by hand, against scipy and statsmodels, relative weights against a
direct implementation of Johnson (2000), the SQL sums on both databases, and the API."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats as scipy_stats
from support import counted_queries, in_app

from feedback import drivers, reports, responses, stats
from feedback.cases import CaseInput, InvitationPolicy, register_case
from feedback.db import database
from feedback.surveys import current_version, definition_of

START = date(2026, 9, 1)


def sums(xs, ys):
    return (
        len(xs),
        sum(xs),
        sum(ys),
        sum(x * x for x in xs),
        sum(y * y for y in ys),
        sum(x * y for x, y in zip(xs, ys, strict=True)),
    )


def test_pearson_worked_by_hand():
    # x = 1 2 3 4 5, y = 2 1 4 3 5: means 3 and 3, deviations -2 -1 0 1 2 and -1 -2 1 0 2,
    # sum of products 2 + 2 + 0 + 0 + 4 = 8, sums of squares 10 and 10: r = 8 / 10 = 0.8.
    estimate = stats.correlation(*sums([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]))
    assert estimate.value == pytest.approx(0.8)
    # Fisher: atanh 0.8 = 1.0986, half width 1.96 / sqrt 2 = 1.3859: tanh(-0.2873) .. tanh(2.4845)
    assert estimate.low == pytest.approx(-0.2796, abs=1e-4)
    assert estimate.high == pytest.approx(0.9862, abs=1e-4)
    assert estimate.n == 5


def test_correlation_edge_cases():
    assert stats.correlation(*sums([1, 2], [1, 2])) is None  # too few pairs
    assert stats.correlation(*sums([3, 3, 3, 3], [1, 2, 3, 4])) is None  # constant driver
    perfect = stats.correlation(*sums([1, 2, 3, 4], [2, 4, 6, 8]))
    assert perfect.value == pytest.approx(1.0) and perfect.low is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_correlation_matches_scipy_and_statsmodels(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, 200)
    y = np.clip(x + rng.integers(-2, 3, 200), 1, 5)
    estimate = stats.correlation(*sums(x.tolist(), y.tolist()))
    result = scipy_stats.pearsonr(x, y)
    assert estimate.value == pytest.approx(result.statistic, abs=1e-12)
    # scipy's Fisher interval uses the exact normal quantile, as stats.Z95 does
    interval = result.confidence_interval(0.95)
    assert estimate.low == pytest.approx(interval.low, abs=1e-9)
    assert estimate.high == pytest.approx(interval.high, abs=1e-9)
    # r is the standardised slope of the one-driver regression (statsmodels OLS)
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    assert estimate.value**2 == pytest.approx(fit.rsquared, abs=1e-12)


def johnson_direct(data: np.ndarray) -> np.ndarray:
    """Johnson (2000), as the paper sets it out, from the raw columns (drivers..., outcome):
    standardise, take X's singular value decomposition X = P D Q', Z = sqrt(n) P Q' (the
    orthogonal counterparts), regress y on Z (beta), regress X on Z (Lambda = Q D Q' / sqrt(n)),
    weights = Lambda^2 beta^2."""
    z = (data - data.mean(axis=0)) / data.std(axis=0)
    x, y = z[:, :-1], z[:, -1]
    p, d, qt = np.linalg.svd(x, full_matrices=False)
    orthogonal = math.sqrt(len(z)) * p @ qt  # standardised, as X is
    beta = np.linalg.lstsq(orthogonal, y, rcond=None)[0]
    loadings = np.linalg.lstsq(orthogonal, x, rcond=None)[0]
    return (loadings**2).T @ (beta**2)


def test_relative_weights_match_a_direct_implementation():
    rng = np.random.default_rng(7)
    n = 400
    common = rng.normal(size=n)
    x1 = common + rng.normal(size=n)
    x2 = common + 0.5 * rng.normal(size=n)
    x3 = rng.normal(size=n)
    y = 0.8 * x1 + 0.3 * x2 + 0.1 * x3 + rng.normal(size=n)
    data = np.column_stack([x1, x2, x3, y])
    ours = stats.relative_weights(np.corrcoef(data, rowvar=False))
    assert ours == pytest.approx(johnson_direct(data), abs=1e-10)
    # the weights add up to the R² of the regression on all drivers
    fit = sm.OLS(y, sm.add_constant(data[:, :-1])).fit()
    assert ours.sum() == pytest.approx(fit.rsquared, abs=1e-10)


def test_relative_weights_known_example():
    # Two uncorrelated drivers: each weight is its squared correlation with the outcome.
    matrix = np.array([[1.0, 0.0, 0.6], [0.0, 1.0, 0.3], [0.6, 0.3, 1.0]])
    assert stats.relative_weights(matrix) == pytest.approx([0.36, 0.09])
    # Two identical drivers: the matrix is singular, there is no answer
    singular = np.array([[1.0, 1.0, 0.5], [1.0, 1.0, 0.5], [0.5, 0.5, 1.0]])
    assert stats.relative_weights(singular) is None


def test_bootstrap_patterns_equal_rows():
    rng = np.random.default_rng(3)
    rows = np.column_stack([rng.integers(1, 6, 300) for _ in range(3)])
    rows[:, 2] = np.clip(rows[:, 0] + rng.integers(-1, 2, 300), 1, 5)
    patterns, counts = np.unique(rows, axis=0, return_counts=True)
    result = stats.relative_weights_bootstrap(counts, patterns, resamples=200)
    direct = johnson_direct(rows.astype(float))
    assert [w.value for w in result.weights] == pytest.approx(direct, abs=1e-10)
    assert result.n == 300
    for w in result.weights:
        assert w.low <= w.value <= w.high
    again = stats.relative_weights_bootstrap(counts, patterns, resamples=200)
    assert again == result  # a fixed seed


# --- on the databases ------------------------------------------------------------------


def store(app, rows: list[dict], prefix: str = "D") -> None:
    """Store one post-case response per row of answers, over the first 28 days."""
    policy = InvitationPolicy()
    with in_app(app), database.atomic():
        version = current_version("post-case")
        definition = definition_of(version)
        for i, answers in enumerate(rows):
            day = START + timedelta(days=i % 28)
            sent = datetime(day.year, day.month, day.day, 2, 0)
            case_in = CaseInput(
                case_ref=f"{prefix}-{i}",
                survey="post-case",
                resolved_at=sent,
                channel="phone",
                team="账务组",
                agent=f"agent-{i % 3}",
                category="billing",
                customer_ref=f"{prefix}-c-{i}",
            )
            registration = register_case(case_in, version.survey, policy, now=sent)
            responses.submit(
                registration.invitation,
                registration.case,
                version,
                definition,
                {"resolved": "yes", **answers},
                locale="zh_CN",
                tz="Asia/Shanghai",
                now=sent + timedelta(hours=1),
            )


def generated(n: int, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        attitude = rng.randint(1, 5)
        speed = rng.randint(1, 5)
        csat = max(1, min(5, round(0.7 * attitude + 0.2 * speed + rng.gauss(0.3, 0.7))))
        row = {"csat": csat, "nps": max(0, min(10, 2 * csat + rng.randint(-1, 0)))}
        row["attitude"] = attitude
        if rng.random() < 0.8:
            row["speed"] = speed
        if rng.random() < 0.15:  # few answer it: greyed
            row["competence"] = rng.randint(1, 5)
        rows.append(row)
    return rows


def a_slice(app) -> reports.Slice:
    with in_app(app):
        survey_id = current_version("post-case").survey_id
    return reports.Slice(survey_id, START, START + timedelta(days=40))


def test_sql_sums_match_scipy(app):
    rows = generated(120)
    store(app, rows)
    s = a_slice(app)
    with in_app(app):
        definition = definition_of(current_version("post-case"))
        report = drivers.key_drivers(s, definition, "csat", min_sample=30, resamples=50)
    by_question = {d.question: d for d in report.drivers}
    assert set(by_question) == {"speed", "attitude", "competence"}
    for question in ("attitude", "speed", "competence"):
        pairs = [(r[question], r["csat"]) for r in rows if question in r]
        x, y = zip(*pairs, strict=True)
        driver = by_question[question]
        assert driver.n == len(pairs)
        assert driver.correlation.value == pytest.approx(scipy_stats.pearsonr(x, y).statistic)
        top = sum(1 for v in x if v >= 4)
        assert driver.performance.value == pytest.approx(100 * top / len(x))
    # attitude drives CSAT most; competence has too few answers: greyed, unranked, last
    assert [d.question for d in report.drivers] == ["attitude", "speed", "competence"]
    assert [d.rank for d in report.drivers] == [1, 2, None]
    assert by_question["competence"].relative_weight is None
    complete = [r for r in rows if "speed" in r]
    data = np.array([[r["attitude"], r["speed"], r["csat"]] for r in complete], dtype=float)
    weights = johnson_direct(data)
    assert report.complete_cases == len(complete)
    assert by_question["attitude"].relative_weight.value == pytest.approx(weights[0])
    assert by_question["speed"].relative_weight.value == pytest.approx(weights[1])


def test_drivers_sql_is_two_statements(app):
    store(app, generated(60))
    s = a_slice(app)
    with in_app(app):
        definition = definition_of(current_version("post-case"))
        with counted_queries() as statements:
            drivers.key_drivers(s, definition, "nps", min_sample=10, resamples=20)
    assert len(statements) == 2


def test_no_answers(app):
    s = a_slice(app)
    with in_app(app):
        definition = definition_of(current_version("post-case"))
        report = drivers.key_drivers(s, definition, "csat", min_sample=30)
    assert all(d.n == 0 and d.rank is None and d.correlation is None for d in report.drivers)
    assert report.to_dict()["drivers"][0]["performance"] is None


def test_pack_headline_names_the_drivers_to_fix_first():
    from feedback import meeting_pack
    from feedback.definitions import load_file
    from feedback.i18n import language

    definition = load_file("surveys/post-case.yaml")
    lang = language("en")

    def driver(question, r, share, rank):
        return drivers.Driver(
            question,
            100,
            stats.Estimate(r, r - 0.1, r + 0.1, 100),
            stats.Estimate(share, share - 5, share + 5, 100),
            None,
            rank,
        )

    report = drivers.DriverReport(
        "csat",
        (
            driver("attitude", 0.8, 50.0, 1),
            driver("competence", 0.5, 80.0, 2),
            driver("speed", 0.3, 70.0, 3),
        ),
        None,
        0,
    )
    headline = meeting_pack.drivers_headline(report, definition, lang)
    assert headline == "Fix first: Attitude of the staff: r 0.80 [0.70, 0.90], 50% top-two-box"


def test_api_drivers(app, client, api_headers):
    store(app, generated(120))
    query = "from=2026-09-01&to=2026-10-10"
    reply = client.get(f"/api/v1/drivers?outcome=csat&{query}", headers=api_headers)
    assert reply.status_code == 200
    body = reply.get_json()
    assert set(body) == {"outcome", "drivers"} and body["outcome"] == "csat"
    first = body["drivers"][0]
    assert first["question"] == "attitude" and first["rank"] == 1
    assert set(first) >= {"question", "n", "correlation", "performance", "relative_weight"}
    assert set(first["correlation"]) == {"value", "low", "high"}
    assert first["correlation"]["low"] < first["correlation"]["value"]
    assert 0 <= first["performance"]["low"] <= first["performance"]["value"] <= 100
    assert body["drivers"][-1]["rank"] is None  # competence: too few answers
    nps = client.get(f"/api/v1/drivers?outcome=nps&{query}", headers=api_headers).get_json()
    assert nps["outcome"] == "nps"
    team = client.get(f"/api/v1/drivers?{query}&team=账务组", headers=api_headers).get_json()
    assert team["drivers"] == body["drivers"]  # the one team; default outcome csat


@pytest.mark.parametrize("outcome", ["ces", "CSAT", "x" * 300])
def test_api_drivers_bad_outcome(client, api_headers, outcome):
    reply = client.get(f"/api/v1/drivers?outcome={outcome}", headers=api_headers)
    assert reply.status_code == 400
    assert "outcome" in reply.get_json()["errors"]


def test_api_drivers_bad_outcome_and_filter_named_together(client, api_headers):
    reply = client.get("/api/v1/drivers?outcome=ces&from=nope", headers=api_headers)
    assert reply.status_code == 400
    assert {"outcome", "from"} <= set(reply.get_json()["errors"])


# --- the chart and the dashboard --------------------------------------------------------


def test_fix_first_is_high_importance_low_performance():
    from feedback.charts import DriverPoint, fix_first, quadrant_means

    points = [
        DriverPoint("attitude", 0.7, 40.0, 100, True),  # important, done poorly
        DriverPoint("speed", 0.3, 80.0, 100, True),
        DriverPoint("competence", 0.5, 70.0, 100, True),
        DriverPoint("rare", 0.9, 10.0, 5, False),  # unranked: neither moves the means nor counts
    ]
    assert quadrant_means(points) == pytest.approx((0.5, 63.333333))
    assert [p.label for p in fix_first(points)] == ["attitude"]


def texts_of(figure) -> list[str]:
    return [a.get_text() for a in figure.findobj(lambda a: hasattr(a, "get_text"))]


@pytest.mark.parametrize("code", ["en", "zh_CN"])
def test_importance_performance_chart_draws(code):
    from feedback import charts
    from feedback.i18n import language

    lang = language(code)
    points = [
        charts.DriverPoint("Attitude", 0.7, 40.0, 100, True),
        charts.DriverPoint("速度", 0.3, 80.0, 100, True),
        charts.DriverPoint("Rare", 0.2, 50.0, 5, False),
    ]
    figure = charts.importance_performance_chart(points, "csat", lang, 30)
    texts = [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]
    assert any(lang.gettext("fix first: important, done poorly") == t for t in texts)
    assert charts.render(figure, "png", "small")[:8] == b"\x89PNG\r\n\x1a\n"
    empty = charts.importance_performance_chart([], "nps", lang, 30)
    assert lang.gettext("No data") in texts_of(empty)


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf", "csv"])
def test_drivers_chart_downloads(app, manager, fmt):
    store(app, generated(120))
    reply = manager.get(f"/manage/charts/csat-drivers.{fmt}?from=2026-09-01&to=2026-10-10")
    assert reply.status_code == 200
    body = reply.get_data()
    assert body[:4] in {b"\x89PNG", b"%PDF", b"<?xm"} or fmt in ("svg", "csv")
    if fmt == "csv":
        text = body.decode("utf-8-sig")
        assert "Attitude of the staff" in text or "服务态度" in text
        assert text.splitlines()[1].split(",")[1] == "1"  # ranked first


def test_dashboard_shows_drivers(app, manager):
    store(app, generated(120))
    page = manager.get("/manage/?from=2026-09-01&to=2026-10-10&lang=en").get_data(as_text=True)
    section = page[page.index('id="drivers-heading"') :]
    assert section.index("Attitude of the staff") < section.index("Speed of response")
    assert 'class="too-few"' in section  # competence
    assert "csat-drivers.png" in page


def test_demo_ratings_carry_the_story():
    """In the demo data attitude drives CSAT (highest r) and is rated below the mean of the
    drivers: the driver to fix first; speed hardly drives it."""
    from feedback import demo

    plans = demo.plan_cases(3000, 7, datetime(2026, 12, 1, 2, 0), "Asia/Shanghai")
    answers = [p.answers for p in plans if p.answers and "csat" in p.answers]
    r, performance = {}, {}
    for question in ("speed", "attitude", "competence"):
        pairs = [(a[question], a["csat"]) for a in answers if question in a]
        r[question] = scipy_stats.pearsonr(*zip(*pairs, strict=True)).statistic
        performance[question] = sum(x >= 4 for x, _ in pairs) / len(pairs)
    assert max(r, key=r.get) == "attitude" and min(r, key=r.get) == "speed"
    assert r["attitude"] > 0.75 and r["speed"] < 0.5
    assert performance["attitude"] < sum(performance.values()) / 3


def test_api_drivers_cached_until_a_new_answer(app, client, api_headers):
    rows = generated(60)
    store(app, rows[:40])
    url = "/api/v1/drivers?from=2026-09-01&to=2026-10-10"
    first = client.get(url, headers=api_headers).get_json()
    with counted_queries() as statements:
        again = client.get(url, headers=api_headers).get_json()
    assert again == first
    assert not any("GROUP BY" in sql for sql in statements)  # from the cache
    store(app, rows[40:], prefix="N")
    fresh = client.get(url, headers=api_headers).get_json()
    assert fresh["drivers"][0]["n"] > first["drivers"][0]["n"]


@pytest.mark.parametrize("code", ["en", "zh_CN"])
def test_meeting_pack_drivers_page(app, code):
    from feedback import meeting_pack
    from feedback.i18n import language

    store(app, generated(120))
    s = a_slice(app)
    lang = language(code)
    with in_app(app):
        definition = definition_of(current_version("post-case"))
        assert "csat-drivers" in meeting_pack.steps(s, definition)
        report = drivers.key_drivers(s, definition, "csat", 30)
        headline = meeting_pack.drivers_headline(report, definition, lang)
        figure = meeting_pack.drivers_page(s, definition, lang, 30)
    # attitude drives most and is rated above speed here: no driver is important and done
    # poorly, so the page names the strongest driver with its figures
    attitude = report.drivers[0]
    assert attitude.question == "attitude"
    assert headline == lang.gettext(
        "Strongest driver: %(drivers)s",
        drivers=lang.gettext(
            "%(question)s: r %(r)s [%(low)s, %(high)s], %(share)s top-two-box",
            question=chart_data_label(definition, "attitude", lang),
            r=f"{attitude.correlation.value:.2f}",
            low=f"{attitude.correlation.low:.2f}",
            high=f"{attitude.correlation.high:.2f}",
            share=f"{attitude.performance.value:.0f}%",
        ),
    )
    assert figure.axes[0].get_title(loc="left") == headline
    assert lang.gettext("fix first: important, done poorly") in texts_of(figure)


def chart_data_label(definition, question, lang):
    from feedback import chart_data

    return chart_data.driver_label(definition, question, lang)


def test_pack_leaves_drivers_out_without_csat(app):
    from feedback import meeting_pack

    with in_app(app):
        servqual = definition_of(current_version("servqual"))
        survey_id = current_version("servqual").survey_id
        s = reports.Slice(survey_id, START, START + timedelta(days=30))
        assert not drivers.applies(servqual, "csat")
        assert "csat-drivers" not in meeting_pack.pack_charts(s, servqual)
