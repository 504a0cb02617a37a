"""A survey written back as YAML, its problems in either language, and files meeting surveys
saved in the browser (``surveys sync`` and the editor's versions)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import in_app

from feedback import definitions, survey_yaml, surveys
from feedback.definitions import DefinitionError, file_data, load_text, parse
from feedback.i18n import language
from feedback.models import AuditEntry, Survey, SurveyVersion, User
from feedback.survey_problems import Problem, problems_from_json, problems_to_json
from feedback.vocabulary import QUESTION_TYPES, SERVQUAL_DIMENSIONS

SURVEYS = Path(__file__).resolve().parent.parent / "surveys"
SHIPPED, _problems = definitions.load_directory(SURVEYS)


def problems_of(data, source="demo.yaml") -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        parse(data, source)
    return caught.value.problems


def survey(**changes) -> dict:
    data = file_data(SHIPPED["post-case"])
    data.update(changes)
    return copy.deepcopy(data)


# --- writing a survey back as YAML ---------------------------------------------------------------


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_each_shipped_survey_round_trips_through_its_export(slug):
    definition = SHIPPED[slug]
    text = survey_yaml.dump(file_data(definition), header="exported\nsecond line")
    assert text.startswith("# exported\n# second line\n")
    back = parse(load_text(text, f"{slug}.yaml"), f"{slug}.yaml")
    assert back == definition and back.checksum == definition.checksum


def test_the_export_leaves_out_defaults_and_writes_labels_on_one_line():
    text = survey_yaml.dump(file_data(SHIPPED["post-case"]))
    assert "required: false" not in text  # the default is left out
    assert "label: {zh-CN: 响应太慢, en: It took too long}" in text
    assert "Very dissatisfied" not in text  # csat's own end labels are the defaults
    assert "&" not in text and "*" not in text  # no anchors, which load refuses


# Texts that YAML would read as something else unless quoted, and characters it escapes.
AWKWARD = st.sampled_from(
    ["yes", "no", "null", "~", "true", "1.5", "- a", "a: b", "# c", "'q'", '"d"', "x\ny", "@e"]
)
TEXT = st.one_of(
    AWKWARD,
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"),
        min_size=1,
        max_size=30,
    ),
).filter(lambda t: t.strip())


def _text():
    return st.fixed_dictionaries({"zh-CN": TEXT, "en": TEXT})


@st.composite
def questions(draw):
    qtype = draw(st.sampled_from(QUESTION_TYPES))
    question = {"id": f"q{draw(st.integers(0, 10**6))}", "type": qtype, "text": draw(_text())}
    if draw(st.booleans()):
        question["required"] = True
    if draw(st.booleans()):
        question["help"] = draw(_text())
    if qtype == "rating":
        low = draw(st.integers(-10, 9))
        question.update(min=low, max=draw(st.integers(low + 1, min(10, low + 10))))
        question["labels"] = {"min": draw(_text()), "max": draw(_text())}
    elif qtype in ("csat", "nps", "ces") and draw(st.booleans()):
        question["labels"] = {"max": draw(_text())}
    elif qtype in ("choice", "multi"):
        values = draw(
            st.lists(
                st.from_regex(r"[a-z0-9][a-z0-9_-]{0,5}", fullmatch=True),
                min_size=2,
                max_size=5,
                unique=True,
            )
        )
        question["choices"] = [{"value": v, "label": draw(_text())} for v in values]
    elif qtype in ("text", "textarea") and draw(st.booleans()):
        question["max_length"] = draw(st.integers(1, 1000))
    elif qtype == "servqual":
        question["dimension"] = draw(st.sampled_from(SERVQUAL_DIMENSIONS))
    return question


@st.composite
def surveys_data(draw):
    items = draw(st.lists(questions(), min_size=1, max_size=6, unique_by=lambda q: q["id"]))
    data = {
        "slug": "drawn",
        "title": draw(_text()),
        "intro": draw(_text()),
        "thanks": draw(_text()),
        "questions": items,
    }
    first = items[0]
    if first["type"] in ("csat", "nps", "ces", "rating", "yesno", "choice"):
        rule = {"yesno": "no", "choice": None}.get(first["type"], first.get("min", 1))
        if rule is not None:
            data["follow_up"] = [f"{first['id']} == {rule}"]
        data["one_click"] = draw(st.booleans())
    if draw(st.booleans()):
        data["send_invitations"] = draw(st.booleans())
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(surveys_data())
def test_any_survey_round_trips_through_its_export(data):
    definition = parse(data, "drawn.yaml")
    text = survey_yaml.dump(file_data(definition))
    back = parse(load_text(text, "drawn.yaml"), "drawn.yaml")
    assert back == definition
    assert back.checksum == definition.checksum


# --- problems in the reader's language ------------------------------------------------------------


def test_a_problem_reads_as_before_and_in_chinese():
    data = survey()
    data["questions"][2]["type"] = "stars"
    data["questions"][0]["text"] = {"zh-CN": "解决了吗？"}
    found = {p.key: p for p in problems_of(data)}
    wrong_type, lacking = found["type"], found["text"]
    assert wrong_type.startswith("demo.yaml: question 'csat': 'type' must be one of csat, nps")
    assert (wrong_type.question, wrong_type.index) == ("csat", 3)
    assert lacking.index == 1 and lacking.text(language("en").gettext) == (
        "'text' lacks the en text"
    )
    zh = language("zh_CN").gettext
    assert lacking.text(zh) == "“text”缺少 en 文本"
    assert wrong_type.located(zh).startswith("demo.yaml：问题“csat”：“type”必须是 csat")


def test_a_reason_inside_a_problem_is_translated_with_it():
    data = survey()
    data["questions"][3]["show_if"] = "csat <= 9"
    (problem,) = problems_of(data)
    assert problem.key == "show_if" and problem.index == 4
    assert "a whole number from 1 to 5" in problem
    assert problem.text(language("zh_CN").gettext).endswith("应为 1 到 5 之间的整数")


def test_problems_survive_json_and_copies():
    data = survey(title="one language")
    data["questions"][0]["colour"] = "red"
    problems = problems_of(data)
    back = problems_from_json(problems_to_json(problems))
    assert back == problems  # the English
    assert [p.key for p in back] == [p.key for p in problems]
    assert [p.text(language("zh_CN").gettext) for p in back] == [
        p.text(language("zh_CN").gettext) for p in problems
    ]
    assert copy.deepcopy(problems[0]).index == problems[0].index
    assert problems_from_json("not json") == [] and problems_from_json(None) == []


def test_a_yaml_refusal_names_line_and_question_in_chinese():
    text = survey_yaml.dump(survey()).replace("  - id: csat\n", "  - id: csat\n    id: csat\n")
    with pytest.raises(DefinitionError) as caught:
        load_text(text, "demo.yaml")
    (problem,) = caught.value.problems
    assert problem.index == 3 and problem.question == "csat" and problem.line
    assert "'id' is given twice" in problem
    assert "“id”出现了两次" in problem.located(language("zh_CN").gettext)


# --- what no file may hold -----------------------------------------------------------------------


@pytest.mark.parametrize("character", ["\x07", "\x1b", "\x00", "\x9f", "\ud800"])
def test_a_text_with_a_control_character_is_refused(character):
    data = survey()
    data["questions"][-1]["text"]["en"] = f"Anything else{character}?"
    (problem,) = problems_of(data)
    assert problem.key == "text" and "control character" in problem


@pytest.mark.parametrize("escape", ["\\0", "\\ud800"])
def test_a_character_no_database_can_store_is_refused_wherever_it_is(escape):
    text = survey_yaml.dump(survey()) + f'note: "a{escape}b"\n'
    with pytest.raises(DefinitionError) as caught:
        load_text(text, "demo.yaml")
    assert "cannot be stored" in str(caught.value)


def test_too_many_questions_are_one_clear_problem():
    many = [
        {"id": f"q{i}", "type": "yesno", "text": {"zh-CN": "问", "en": "Q"}}
        for i in range(definitions.MAX_QUESTIONS + 1)
    ]
    (problem,) = problems_of(survey(questions=many, follow_up=None))
    assert problem.key == "questions" and "at most 200 questions" in problem


def test_a_text_larger_than_a_file_may_be_is_refused_before_reading():
    with pytest.raises(DefinitionError, match="a survey file may be at most 262,144"):
        load_text("slug: x\n" + "#" * survey_yaml.MAX_FILE_BYTES, "x.yaml")


# --- files and surveys saved in the browser --------------------------------------------------


@pytest.fixture
def folder(tmp_path) -> Path:
    copied = tmp_path / "surveys"
    shutil.copytree(SURVEYS, copied)
    return copied


def _version(slug: str = "post-case") -> SurveyVersion:
    return surveys.current_version(slug)


def test_a_file_never_undoes_a_version_saved_in_the_browser_unasked(make_app, users, folder):
    app = make_app(SURVEYS_DIR=str(folder))
    edited = parse(
        {**survey(), "title": {"zh-CN": "网页上改的", "en": "Edited in the browser"}}, "post-case"
    )
    with in_app(app):
        admin = User.get(User.username == "admin")
        outcome = surveys.save_edited(edited, admin)
        assert (outcome.status, outcome.version) == ("changed", 2)
        version = _version()
        assert version.created_by_id == admin.id
        assert Survey.get(Survey.slug == "post-case").source is None
        entry = AuditEntry.select().order_by(AuditEntry.id.desc()).first()
        assert (entry.action, entry.actor, entry.target) == (
            "survey.change",
            "admin",
            "survey post-case",
        )
        assert json.loads(entry.detail) == {"edited": "browser", "status": "changed", "version": 2}
        # the same content again: no new version
        assert surveys.save_edited(edited, admin).status == "unchanged"

        # the unchanged file, at a restart or a sync, leaves version 2 in use
        kept = {o.slug: o for o in surveys.sync(folder)}
        assert kept["post-case"].status == "kept" and kept["post-case"].version == 2
        assert "saved in the browser" in kept["post-case"].describe()
        assert kept["servqual"].status == "unchanged"
        assert _version().version == 2
    make_app(SURVEYS_DIR=str(folder))  # a worker's start
    with in_app(app):
        assert _version().version == 2

    runner = app.test_cli_runner()
    result = runner.invoke(args=["surveys", "sync"])
    assert result.exit_code == 0 and "post-case: kept, version 2" in result.output
    # --force loads the file: version 3 has the file's content
    forced = runner.invoke(args=["surveys", "sync", "--force"])
    assert "post-case: changed, version 3" in forced.output
    with in_app(app):
        assert surveys.definition_of(_version()).title.en == "How did we do?"
        assert _version().created_by_id is None
        assert Survey.get(Survey.slug == "post-case").source == "post-case.yaml"


def test_an_exported_survey_as_the_file_puts_the_file_back_in_charge(make_app, users, folder):
    app = make_app(SURVEYS_DIR=str(folder))
    edited = parse(
        {**survey(), "title": {"zh-CN": "网页上改的", "en": "Edited in the browser"}}, "post-case"
    )
    with in_app(app):
        surveys.save_edited(edited, User.get(User.username == "admin"))
    (folder / "post-case.yaml").write_text(survey_yaml.dump(file_data(edited)), "utf-8")
    runner = app.test_cli_runner()
    assert "post-case: unchanged, version 2" in runner.invoke(args=["surveys", "sync"]).output
    with in_app(app):
        assert Survey.get(Survey.slug == "post-case").source == "post-case.yaml"
    # from now on the file's changes are loaded as before
    path = folder / "post-case.yaml"
    path.write_text(
        path.read_text("utf-8").replace("Edited in the browser", "From the file"), "utf-8"
    )
    assert "post-case: changed, version 3" in runner.invoke(args=["surveys", "sync"]).output


def test_a_refused_file_keeps_its_problems_for_either_language(make_app, folder):
    path = folder / "post-case.yaml"
    path.write_text(path.read_text("utf-8").replace("type: csat", "type: stars"), "utf-8")
    app = make_app(SURVEYS_DIR=str(folder))
    with in_app(app):
        survey_row = Survey.get(Survey.slug == "post-case")
        assert "question 'csat': 'type' must be one of" in survey_row.error
        problem = problems_from_json(survey_row.problems)[0]
        assert problem.located(language("zh_CN").gettext).startswith(
            "post-case.yaml：问题“csat”：“type”必须是"
        )
    path.write_text(path.read_text("utf-8").replace("type: stars", "type: csat"), "utf-8")
    app.test_cli_runner().invoke(args=["surveys", "sync"])
    with in_app(app):
        survey_row = Survey.get(Survey.slug == "post-case")
        assert survey_row.error is None and survey_row.problems is None
