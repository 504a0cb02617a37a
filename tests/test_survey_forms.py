"""A posted survey is checked without building its WTForms form: both checks must agree."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from feedback.definitions import load_directory
from feedback.web.fastpath import checked_submission
from feedback.web.survey_forms import field_names, form_class, preselected_ids

SURVEYS, _problems = load_directory(Path(__file__).resolve().parents[1] / "surveys")
CSRF = "c" * 64


def _values(question, rng: random.Random, careful: bool) -> list[str]:
    """Something a browser, a careless client or an attacker might send for one field."""
    if question.type == "multi":
        pool = [c.value for c in question.choices] + ["nope", ""]
        return rng.sample(pool, rng.randint(0, min(3, len(pool))))
    if question.type in ("choice", "yesno"):
        good = [c.value for c in question.choices]
    elif question.is_scale:
        good = [str(v) for v in question.scale()]
    else:
        good = ["很好 fine", "  spaced  ", "x" * (question.max_length + rng.choice((0, 1)))]
    bad = ["", " ", "99", "-1", "abc", "4.5"]
    pick = rng.random() * (0.55 if careful else 1)
    if pick < 0.55:
        return [rng.choice(good)]
    if pick < 0.75:
        return []
    if pick < 0.9:
        return [rng.choice(bad)]
    return [rng.choice(good), rng.choice(bad + good)]  # a field sent twice


def _random_form(definition, rng: random.Random) -> MultiDict:
    data = MultiDict()
    careful = rng.random() < 0.4  # a customer who answers everything sensibly
    for question in definition.questions:
        for name in field_names(question):
            for value in _values(question, rng, careful):
                data.add(name, value)
    if rng.random() < 0.3:  # a one-click link's page, or a forged list of questions
        ids = [q.id for q in definition.questions] + ["nope", ""]
        data.add("preselected", ",".join(rng.sample(ids, rng.randint(1, 2))))
    data.add("csrf_token", CSRF if rng.random() < 0.9 else "forged")
    data.add("version", "1")
    return data


@pytest.mark.parametrize("slug", sorted(SURVEYS))
@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_fast_check_agrees_with_the_wtforms_form(app, slug, locale):
    definition = SURVEYS[slug]
    rng = random.Random(f"{slug}-{locale}")
    outcomes = {"valid": 0, "invalid": 0}
    for _ in range(400):
        data = _random_form(definition, rng)
        with app.test_request_context("/s/x", method="POST", data=data):
            only = preselected_ids(definition, data.get("preselected"))
            form = form_class(definition, locale)(expected_csrf=CSRF, only_required=only)
            expected = form.answers if form.validate() else None
            assert checked_submission(definition, data, CSRF) == expected, data
        outcomes["valid" if expected is not None else "invalid"] += 1
    # both kinds were tried, or the comparison proves little
    assert outcomes["valid"] >= 20 and outcomes["invalid"] >= 20, outcomes
