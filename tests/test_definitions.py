"""Survey definition files: the shipped ones are valid, and every kind of mistake is named."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from feedback import definitions, vocabulary
from feedback.definitions import AnswerError, DefinitionError, parse

SURVEYS = Path(__file__).resolve().parent.parent / "surveys"

BASE = {
    "slug": "demo",
    "title": {"zh-CN": "标题", "en": "Title"},
    "intro": {"zh-CN": "介绍", "en": "Intro"},
    "thanks": {"zh-CN": "谢谢", "en": "Thanks"},
    "questions": [
        {
            "id": "csat",
            "type": "csat",
            "required": True,
            "text": {"zh-CN": "满意吗？", "en": "Satisfied?"},
        },
        {
            "id": "why",
            "type": "choice",
            "show_if": "csat <= 2",
            "text": {"zh-CN": "为什么？", "en": "Why?"},
            "choices": [
                {"value": "slow", "label": {"zh-CN": "慢", "en": "Slow"}},
                {"value": "rude", "label": {"zh-CN": "无礼", "en": "Rude"}},
            ],
        },
    ],
}


def with_change(path: str, value, delete: bool = False) -> dict:
    data = copy.deepcopy(BASE)
    target = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = int(keys[-1]) if keys[-1].isdigit() else keys[-1]
    if delete:
        del target[last]
    else:
        target[last] = value
    return data


def test_shipped_surveys_are_valid():
    good, problems = definitions.load_directory(SURVEYS)
    assert problems == []
    assert set(good) >= {"post-case", "servqual", "callback"}
    types = {q.type for q in good["post-case"].questions}
    assert {"yesno", "csat", "nps", "ces", "rating", "textarea"} <= types
    dims = {q.dimension for q in good["servqual"].questions if q.type == "servqual"}
    assert dims == set(vocabulary.SERVQUAL_DIMENSIONS)


def test_every_question_type_can_be_defined():
    questions = [
        {"id": t, "type": t, "text": {"zh-CN": "问", "en": "Q"}}
        for t in ("csat", "nps", "ces", "yesno", "text", "textarea")
    ] + [
        {
            "id": "r",
            "type": "rating",
            "min": 0,
            "max": 3,
            "text": {"zh-CN": "问", "en": "Q"},
            "labels": {"min": {"zh-CN": "低", "en": "Low"}, "max": {"zh-CN": "高", "en": "High"}},
        },
        {
            "id": "m",
            "type": "multi",
            "text": {"zh-CN": "问", "en": "Q"},
            "choices": [
                {"value": "a", "label": {"zh-CN": "甲", "en": "A"}},
                {"value": "b", "label": {"zh-CN": "乙", "en": "B"}},
            ],
        },
        {"id": "s", "type": "servqual", "dimension": "empathy", "text": {"zh-CN": "问", "en": "Q"}},
    ]
    definition = parse({**BASE, "questions": questions})
    ranges = {q.id: (q.min, q.max) for q in definition.questions}
    assert ranges["csat"] == (1, 5) and ranges["nps"] == (0, 10) and ranges["ces"] == (1, 7)
    assert ranges["r"] == (0, 3) and ranges["s"] == (1, 7)


@pytest.mark.parametrize(
    "data,fragment",
    [
        (with_change("slug", "Bad Slug"), "'slug' must be"),
        (with_change("title", "only one language"), "'title' must give both languages"),
        (with_change("title", {"zh-CN": "标题"}), "'title' lacks the en text"),
        (with_change("questions", []), "'questions' must be a non-empty list"),
        (with_change("questions.0.type", "stars"), "question 'csat': 'type' must be one of"),
        (with_change("questions.0.id", "Bad-Id"), "'id' must start with a letter"),
        (with_change("questions.1.id", "csat"), "question 'csat': this id is used by an earlier"),
        (with_change("questions.1.id", "preselected"), "'preselected' is a name the survey form"),
        (with_change("questions.1.id", "csrf_token"), "'csrf_token' is a name the survey form"),
        (with_change("questions.1.id", "errors"), "'errors' is a name the survey form keeps"),
        (with_change("questions.0.required", "yes"), "'required' must be true or false"),
        (with_change("questions.0.max", 10), "a csat question always runs from 1 to 5"),
        (with_change("questions.0.colour", "red"), "unknown key 'colour'"),
        (with_change("questions.1.show_if", "nps <= 2"), "'nps', which is not an earlier question"),
        (with_change("questions.1.show_if", "csat <= 9"), "does not fit question 'csat'"),
        (with_change("questions.1.show_if", "csat about 2"), "'show_if' must read like"),
        (
            with_change(
                "questions.1.choices",
                [
                    {"value": True, "label": {"zh-CN": "是", "en": "Y"}},
                    {"value": "b", "label": {"zh-CN": "乙", "en": "B"}},
                ],
            ),
            "quote yes, no, true and false",
        ),
        (
            with_change(
                "questions.1.choices", [{"value": "a", "label": {"zh-CN": "甲", "en": "A"}}]
            ),
            "at least two choices",
        ),
        (with_change("questions.1.text", None, delete=True), "question 'why': 'text' is missing"),
    ],
)
def test_mistakes_are_named_with_file_and_question(data, fragment):
    with pytest.raises(DefinitionError) as caught:
        parse(data, "demo.yaml")
    assert any(fragment in p and p.startswith("demo.yaml") for p in caught.value.problems), (
        caught.value.problems
    )


def test_the_reserved_ids_are_the_survey_forms_own_names():
    """A question id becomes a field of the survey form class: it must not take the name of
    one of the form's attributes or hidden fields (a question 'version' would replace the
    version the answers are checked against)."""
    from feedback.web.survey_forms import SurveyFormBase

    own = {name for name in dir(SurveyFormBase) if not name.startswith("_")}
    hidden = {"csrf_token", "version", "preselected"}  # templates/survey/form.html's
    assert set(definitions.RESERVED_IDS) == {n for n in own | hidden if n[0].islower()}


def test_all_problems_of_a_file_are_listed_at_once():
    data = with_change("questions.0.type", "stars")
    data["title"] = "x"
    with pytest.raises(DefinitionError) as caught:
        parse(data, "demo.yaml")
    assert len(caught.value.problems) >= 2


def test_rating_and_servqual_need_their_parts():
    rating = {"id": "r", "type": "rating", "text": {"zh-CN": "问", "en": "Q"}}
    servqual = {
        "id": "s",
        "type": "servqual",
        "dimension": "speed",
        "text": {"zh-CN": "问", "en": "Q"},
    }
    with pytest.raises(DefinitionError) as caught:
        parse({**BASE, "questions": [rating, servqual]}, "x.yaml")
    text = str(caught.value)
    assert "a rating needs 'labels'" in text and "'dimension' must be one of" in text


def test_bad_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("slug: broken\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        definitions.load_file(path)
    assert "broken.yaml: is not valid YAML at line" in str(caught.value)


def test_slug_must_match_file_name(tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(BASE, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError, match="must match the file name"):
        definitions.load_file(path)


def test_checksum_changes_with_content_only():
    one, two = parse(BASE), parse(copy.deepcopy(BASE))
    assert one.checksum == two.checksum
    assert parse(with_change("questions.0.text.en", "Happy?")).checksum != one.checksum
    assert definitions.from_json(__import__("json").dumps(one.to_dict())) == one


@pytest.mark.parametrize(
    "qtype,raw,expected",
    [
        ("csat", "5", 5),
        ("csat", " 1 ", 1),
        ("nps", "0", 0),
        ("csat", "", None),
    ],
)
def test_coerce_accepts(qtype, raw, expected):
    question = parse(
        {**BASE, "questions": [{"id": "q", "type": qtype, "text": {"zh-CN": "问", "en": "Q"}}]}
    ).questions[0]
    assert question.coerce(raw) == expected


@pytest.mark.parametrize(
    "qtype,raw", [("csat", "6"), ("csat", "abc"), ("nps", "-1"), ("yesno", "maybe")]
)
def test_coerce_refuses(qtype, raw):
    question = parse(
        {**BASE, "questions": [{"id": "q", "type": qtype, "text": {"zh-CN": "问", "en": "Q"}}]}
    ).questions[0]
    with pytest.raises(AnswerError):
        question.coerce(raw)


def test_visible_answers_drop_hidden_questions_and_chains():
    definition = parse(BASE)
    assert definition.visible_answers({"csat": 5, "why": "slow"}) == {"csat": 5}
    assert definition.visible_answers({"csat": 2, "why": "slow"}) == {"csat": 2, "why": "slow"}
    assert definition.visible_answers({"why": "slow"}) == {}


@pytest.mark.parametrize(
    "op,value,answer,holds",
    [
        ("==", "a", "a", True),
        ("!=", "a", "a", False),
        ("in", ("a", "b"), "b", True),
        ("not in", ("a", "b"), "c", True),
        ("<=", 2, 2, True),
        (">", 2, 2, False),
        ("==", "a", ["a", "b"], True),
        ("!=", "a", ["a", "b"], False),
        ("==", "a", None, False),
    ],
)
def test_conditions(op, value, answer, holds):
    assert definitions.Condition("q", op, value).holds(answer) is holds


def test_surveys_check_command_names_file_and_question(make_app, tmp_path):
    bad = copy.deepcopy(BASE)
    bad["questions"][0]["type"] = "stars"
    (tmp_path / "demo.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), "utf-8")
    result = make_app().test_cli_runner().invoke(args=["surveys", "check", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "demo.yaml: question 'csat': 'type' must be one of" in result.output
