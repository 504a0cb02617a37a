"""The survey editor's form: a draft's data (a survey as a file gives it) to the fields of the
page and back, and each validation problem to the field it concerns.

The form is plain HTML, not a WTForms class: its fields depend on the draft (one fieldset a
question, ``q<i>-<key>``) and every problem comes from ``definitions.parse``, the check every
survey file gets. Fields hold what the admin typed; nothing is corrected on the way, so a
problem names what is really there:

* texts: ``<name>-zh_CN`` and ``<name>-en`` (``title``, ``q3-text``, ``q3-labels-min``...);
* choices: one line each, ``value | 中文 | English``;
* numbers: whole numbers become numbers, anything else stays text for the check to name;
* follow-up rules: one line each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..definitions import MAX_QUESTIONS, SCALE_DEFAULTS, YAML_LOCALES
from ..survey_problems import Problem
from ..vocabulary import SCALE_TYPES

NUMBER = re.compile(r"^[+-]?\d{1,6}$")
SCALE_ENDS = ("min", "max")
# The fields of a question the form shows, by type (others come only from the YAML box).
COMMON_KEYS = ("id", "type", "required", "text", "help", "show_if")
TYPE_KEYS = {
    "rating": ("min", "max", "labels"),
    "csat": ("labels",),
    "nps": ("labels",),
    "ces": ("labels",),
    "servqual": ("dimension", "labels"),
    "choice": ("choices",),
    "multi": ("choices",),
    "text": ("max_length",),
    "textarea": ("max_length",),
}
# Where the field of each key begins (a problem links there); texts begin with Chinese.
FIELD_IDS = {
    "text": "text-zh_CN",
    "help": "help-zh_CN",
    "labels": "labels-min-zh_CN",
}
SURVEY_FIELDS = {
    "title": ("title-zh_CN", _l("Title")),
    "intro": ("intro-zh_CN", _l("Introduction")),
    "thanks": ("thanks-zh_CN", _l("Thank-you message")),
    "questions": ("add_type", _l("Questions")),
    "follow_up": ("follow_up", _l("Follow-up rules")),
    "send_invitations": ("send_invitations", _l("Invitation emails")),
    "one_click": ("one_click", _l("One-click answers in the email")),
}
# Each question type as the type select names it.
TYPE_LABELS = {
    "csat": _l("Satisfaction, 1–5 (CSAT)"),
    "nps": _l("Likelihood to recommend, 0–10 (NPS)"),
    "ces": _l("Effort, 1–7 (CES)"),
    "rating": _l("Rating on a scale of your own"),
    "choice": _l("One choice from a list"),
    "multi": _l("Any choices from a list"),
    "yesno": _l("Yes or no"),
    "text": _l("Short text"),
    "textarea": _l("Long text"),
    "servqual": _l("SERVQUAL: expectation and experience, 1–7"),
}
SUMMARY_LIMIT = 50  # problems listed at the top; every one stays beside its field


# --- the form back into data ----------------------------------------------------------------


def data_from_form(form, slug: str) -> dict[str, Any]:
    """The survey the posted form describes, as a file would give it."""
    data: dict[str, Any] = {"slug": slug}
    for name in ("title", "intro", "thanks"):
        data[name] = _text(form, name)
    sending = form.get("send_invitations", "")
    if sending:
        data["send_invitations"] = {"true": True, "false": False}.get(sending, sending)
    if form.get("one_click"):
        data["one_click"] = True
    data["questions"] = [_question(form, f"q{i}") for i in range(question_count(form))]
    rules = [line.strip() for line in form.get("follow_up", "").splitlines() if line.strip()]
    if rules:
        data["follow_up"] = rules
    return data


def question_count(form) -> int | None:
    """How many question fieldsets the form holds; None when it is not the editor's form."""
    count = form.get("count", "")
    if not count.isascii() or not count.isdigit() or len(count) > 9:
        return None
    return min(int(count), MAX_QUESTIONS + 1)  # one more than allowed, to be told so


def _text(form, name: str) -> dict[str, str]:
    return {yaml: form.get(f"{name}-{code}", "") for yaml, code in YAML_LOCALES.items()}


def _number(text: str) -> int | str:
    text = text.strip()
    return int(text) if NUMBER.match(text) else text


def _question(form, prefix: str) -> dict[str, Any]:
    def value(key: str) -> str:
        return form.get(f"{prefix}-{key}", "")

    qtype = value("type")
    question: dict[str, Any] = {"id": value("id").strip(), "type": qtype}
    if value("required"):
        question["required"] = True
    question["text"] = _text(form, f"{prefix}-text")
    help_text = _text(form, f"{prefix}-help")
    if any(help_text.values()):
        question["help"] = help_text
    if value("show_if").strip():
        question["show_if"] = value("show_if").strip()
    if qtype == "rating":
        for end in SCALE_ENDS:
            if value(end).strip():
                question[end] = _number(value(end))
    if qtype in SCALE_TYPES or qtype == "servqual":
        labels = {end: _text(form, f"{prefix}-labels-{end}") for end in SCALE_ENDS}
        if qtype != "rating":  # the fixed scales' ends default to the catalogue's words
            labels = {end: text for end, text in labels.items() if any(text.values())}
        if labels:
            question["labels"] = labels
    if qtype in ("choice", "multi"):
        question["choices"] = choices_from_lines(value("choices"))
    if qtype in ("text", "textarea") and value("max_length").strip():
        question["max_length"] = _number(value("max_length"))
    if qtype == "servqual":
        question["dimension"] = value("dimension")
    return question


def choices_from_lines(text: str) -> list[dict]:
    """``value | 中文 | English`` a line; a line short of parts lacks those texts."""
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|", 2)] + ["", ""]
        found.append({"value": parts[0], "label": {"zh-CN": parts[1], "en": parts[2]}})
    return found


# --- data into the form's values ------------------------------------------------------------


@dataclass
class QuestionView:
    """What one question's fieldset shows, as text (whatever the draft holds)."""

    index: int
    id: str
    type: str
    required: bool
    text: dict[str, str]
    help: dict[str, str]
    show_if: str
    min: str
    max: str
    labels: dict[str, dict[str, str]]
    choices: str
    max_length: str
    dimension: str

    @property
    def prefix(self) -> str:
        return f"q{self.index}"

    @property
    def keys(self) -> tuple[str, ...]:
        return COMMON_KEYS + TYPE_KEYS.get(self.type, ())

    def default_label(self, end: str, locale: str) -> str | None:
        """A fixed scale's own end label, shown as the hint of an empty field."""
        if self.type not in SCALE_DEFAULTS:
            return None
        low, high = SCALE_DEFAULTS[self.type][2:]
        return (low if end == "min" else high).get(locale)


@dataclass
class EditorView:
    title: dict[str, str]
    intro: dict[str, str]
    thanks: dict[str, str]
    send_invitations: str
    one_click: bool
    follow_up: str
    questions: list[QuestionView] = field(default_factory=list)


def view_of(data: dict[str, Any]) -> EditorView:
    """The form's values for a draft (which may hold anything a YAML box gave)."""
    questions = data.get("questions")
    sending = data.get("send_invitations")
    if isinstance(sending, bool):
        sending = "true" if sending else "false"
    rules = data.get("follow_up")
    return EditorView(
        title=_text_view(data.get("title")),
        intro=_text_view(data.get("intro")),
        thanks=_text_view(data.get("thanks")),
        send_invitations=_plain(sending),
        one_click=data.get("one_click") is True,
        follow_up="\n".join(map(str, rules)) if isinstance(rules, list) else _plain(rules),
        questions=[
            _question_view(i, q)
            for i, q in enumerate(questions if isinstance(questions, list) else [])
        ],
    )


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def _text_view(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {code: _plain(value.get(yaml)) for yaml, code in YAML_LOCALES.items()}
    # a text given in one language only: kept in the first field, for the check to name
    return {"zh_CN": _plain(value), "en": ""}


def _question_view(index: int, raw: Any) -> QuestionView:
    q = raw if isinstance(raw, dict) else {}
    labels = q.get("labels") if isinstance(q.get("labels"), dict) else {}
    choices = q.get("choices")
    return QuestionView(
        index=index,
        id=_plain(q.get("id")),
        type=_plain(q.get("type")),
        required=q.get("required") is True,
        text=_text_view(q.get("text")),
        help=_text_view(q.get("help")) if q.get("help") is not None else _text_view({}),
        show_if=_plain(q.get("show_if")),
        min=_plain(q.get("min")),
        max=_plain(q.get("max")),
        labels={end: _text_view(labels.get(end) or {}) for end in SCALE_ENDS},
        choices="\n".join(_choice_line(c) for c in choices) if isinstance(choices, list) else "",
        max_length=_plain(q.get("max_length")),
        dimension=_plain(q.get("dimension")),
    )


def _choice_line(choice: Any) -> str:
    if not isinstance(choice, dict):
        return _plain(choice)
    label = _text_view(choice.get("label"))
    return f"{_plain(choice.get('value'))} | {label['zh_CN']} | {label['en']}"


# --- problems beside their fields -----------------------------------------------------------


@dataclass
class Errors:
    """The problems of a draft: beside their fields (``at``) and listed at the top."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str, str, str]] = field(default_factory=list)  # (field id, where, text)
    more: int = 0  # problems not listed at the top (each is beside its field)

    def at(self, name: str) -> list[str]:
        return self.by_field.get(name, [])

    def __bool__(self) -> bool:
        return bool(self.by_field)


def place_problems(problems: list[Problem], view: EditorView) -> Errors:
    """Each problem beside the field it concerns, in the page's language: ``q2-text`` for the
    third question's texts, ``title`` for the survey's title, ``q2`` for the third question as
    a whole, ``survey`` for what has no field (the slug, an unknown key of the survey)."""
    errors = Errors()
    for problem in problems:
        group, anchor, where = _place(problem, view)
        text = problem.text(_) if isinstance(problem, Problem) else str(problem)
        errors.by_field.setdefault(group, []).append(text)
        if len(errors.summary) < SUMMARY_LIMIT:
            errors.summary.append((anchor, where, text))
        else:
            errors.more += 1
    return errors


def _place(problem: Problem, view: EditorView) -> tuple[str, str, str]:
    key = getattr(problem, "key", None)
    index = getattr(problem, "index", None)
    if key == "one_click" or (index is None and key in SURVEY_FIELDS):
        anchor, label = SURVEY_FIELDS[key]
        return key, anchor, str(label)
    if index is not None and 1 <= index <= len(view.questions):
        question = view.questions[index - 1]
        where = _("Question %(n)d", n=index)
        if key in question.keys:
            return (
                f"{question.prefix}-{key}",
                f"{question.prefix}-{FIELD_IDS.get(key, key)}",
                where,
            )
        return question.prefix, f"{question.prefix}-id", where
    return "survey", "survey-fields", _("Survey")
