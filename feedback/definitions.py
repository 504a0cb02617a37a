"""Survey definitions: read ``surveys/*.yaml`` into immutable, validated objects.

Knows nothing of Flask or the database. Every error names the file, the question and what is
wrong, so that ``flask surveys check`` can be read by the person who wrote the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from . import survey_yaml
from .i18n import language
from .names import N_
from .survey_problems import Message, Problem
from .survey_yaml import MAX_FILE_BYTES
from .vocabulary import LOCALES, QUESTION_TYPES, SCALE_TYPES, SERVQUAL_DIMENSIONS

YAML_LOCALES = {code.replace("_", "-"): code for code in LOCALES}  # how the files spell them
OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "not in", "in")

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Names a question id must not take: the survey form's own fields (csrf_token, version, and
# preselected, which names the questions a one-click link answered) and the attributes of the
# form class each question becomes a field of (tests/test_definitions.py checks the list
# against the class).
RESERVED_IDS = (
    "csrf_token",
    "data",
    "errors",
    "hidden_tag",
    "is_submitted",
    "populate_obj",
    "post_process",
    "preselected",
    "process",
    "raw_answer",
    "validate",
    "validate_on_submit",
    "version",
)
CHOICE_VALUE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
CONDITION = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(==|!=|<=|>=|<|>|not in|in)\s*(.+?)\s*$")


@dataclass(frozen=True)
class Text:
    """One text in every language we speak."""

    zh_CN: str
    en: str

    def get(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh_CN

    def to_dict(self) -> dict:
        return {"zh-CN": self.zh_CN, "en": self.en}


def _named(message: str) -> Text:
    """An interface word (a default scale anchor, a dimension's name) as a Text, both languages
    from the gettext catalogue: one place for a translator, whatever shows the word."""
    return Text(zh_CN=language("zh_CN").gettext(message), en=language("en").gettext(message))


# Defaults for each scale type: range and end labels.
SCALE_DEFAULTS = {
    "csat": (1, 5, _named(N_("Very dissatisfied")), _named(N_("Very satisfied"))),
    "nps": (0, 10, _named(N_("Not at all likely")), _named(N_("Extremely likely"))),
    "ces": (1, 7, _named(N_("Strongly disagree")), _named(N_("Strongly agree"))),
    "servqual": (1, 7, _named(N_("Strongly disagree")), _named(N_("Strongly agree"))),
}
YESNO_CHOICES = None  # filled below, after Choice is defined
TEXT_LIMITS = {"text": (200, 1000), "textarea": (2000, 10000)}  # default, largest allowed
SERVQUAL_PARTS = ("expectation", "perception")
SERVQUAL_PART_LABELS = {
    "expectation": _named(N_("What you expect of excellent service")),
    "perception": _named(N_("What you experienced this time")),
}
DIMENSION_LABELS = {
    "reliability": _named(N_("Reliability")),
    "responsiveness": _named(N_("Responsiveness")),
    "assurance": _named(N_("Assurance")),
    "empathy": _named(N_("Empathy")),
    "tangibles": _named(N_("Tangibles")),
}


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text


YESNO_CHOICES = (Choice("yes", _named(N_("Yes"))), Choice("no", _named(N_("No"))))


class AnswerError(ValueError):
    """An answer that the question does not accept. ``reason`` says why as a Message (English
    as its text): a definition's problem quotes it, in the reader's language."""

    def __init__(self, message: str, **values: Any):
        self.reason = Message(message, **values)
        super().__init__(self.reason)


@dataclass(frozen=True)
class Condition:
    """``show_if``: show a question only when an earlier answer meets this."""

    question: str
    op: str
    value: Any  # int, str, or a tuple of them for in / not in

    def holds(self, answer: Any) -> bool:
        if answer is None or answer == [] or answer == "":
            return False
        if isinstance(answer, (list, tuple)):  # multi: does any chosen value meet it?
            if self.op in ("!=", "not in"):
                return all(self._compare(a) for a in answer)
            return any(self._compare(a) for a in answer)
        return self._compare(answer)

    def _compare(self, answer: Any) -> bool:
        value = self.value
        if self.op == "in":
            return answer in value
        if self.op == "not in":
            return answer not in value
        if self.op == "==":
            return answer == value
        if self.op == "!=":
            return answer != value
        try:
            return {
                "<": answer < value,
                "<=": answer <= value,
                ">": answer > value,
                ">=": answer >= value,
            }[self.op]
        except TypeError:
            return False

    def __str__(self) -> str:
        value = (
            f"[{', '.join(map(str, self.value))}]"
            if isinstance(self.value, tuple)
            else str(self.value)
        )
        return f"{self.question} {self.op} {value}"


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: Text
    required: bool = False
    show_if: Condition | None = None
    help: Text | None = None
    min: int | None = None
    max: int | None = None
    min_label: Text | None = None
    max_label: Text | None = None
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    dimension: str | None = None

    @property
    def is_scale(self) -> bool:
        return self.type in SCALE_TYPES or self.type == "servqual"

    def scale(self) -> range:
        return range(self.min, self.max + 1)

    def choice_values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)

    def coerce(self, raw: Any) -> Any:
        """Turn what a form or URL sent into the answer's value, or raise AnswerError.

        Scale questions give an int; choice and yesno a str; multi a list of str; text a str;
        servqual a dict {"expectation": int, "perception": int}. Empty input gives None.
        """
        if self.type == "multi":
            values = [raw] if isinstance(raw, str) else list(raw or [])
            values = [v for v in values if v != ""]
            unknown = [v for v in values if v not in self.choice_values()]
            if unknown:
                raise AnswerError(N_("not a choice: %(values)s"), values=", ".join(unknown))
            return [v for v in self.choice_values() if v in values] or None
        if self.type == "servqual":
            parts = {}
            for part in SERVQUAL_PARTS:
                value = (raw or {}).get(part)
                parts[part] = None if value in (None, "") else self._integer(value)
            if all(v is None for v in parts.values()):
                return None
            if any(v is None for v in parts.values()):
                raise AnswerError(N_("both scores are needed"))
            return parts
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return None
        if self.type in SCALE_TYPES:
            return self._integer(raw)
        if self.type in ("choice", "yesno"):
            if raw not in self.choice_values():
                raise AnswerError(N_("not a choice"))
            return raw
        text = str(raw).strip()
        if len(text) > self.max_length:
            raise AnswerError(N_("at most %(n)s characters"), n=self.max_length)
        return text

    def _integer(self, raw: Any) -> int:
        try:
            value = int(str(raw).strip())
        except ValueError:
            value = None
        if value is None or not self.min <= value <= self.max:
            raise AnswerError(
                N_("a whole number from %(min)s to %(max)s"), min=self.min, max=self.max
            )
        return value

    def to_dict(self) -> dict:
        data: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "text": self.text.to_dict(),
            "required": self.required,
        }
        if self.show_if:
            data["show_if"] = str(self.show_if)
        if self.help:
            data["help"] = self.help.to_dict()
        if self.is_scale:
            data.update(
                min=self.min,
                max=self.max,
                labels={"min": self.min_label.to_dict(), "max": self.max_label.to_dict()},
            )
        if self.type in ("choice", "multi"):
            data["choices"] = [{"value": c.value, "label": c.label.to_dict()} for c in self.choices]
        if self.type in TEXT_LIMITS:
            data["max_length"] = self.max_length
        if self.dimension:
            data["dimension"] = self.dimension
        return data


@dataclass(frozen=True)
class SurveyDefinition:
    slug: str
    title: Text
    intro: Text
    thanks: Text
    questions: tuple[Question, ...]
    source: str = field(default="", compare=False)
    follow_up: tuple[Condition, ...] = ()  # any one met: the response needs a follow-up
    send_invitations: bool | None = None  # None: the site's FEEDBACK_SEND_INVITATIONS decides
    one_click: bool = False  # the invitation email offers the first question's answers as links

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def to_dict(self) -> dict:
        """The canonical form: what is stored with each version and hashed into its checksum."""
        return {
            "slug": self.slug,
            "title": self.title.to_dict(),
            "intro": self.intro.to_dict(),
            "thanks": self.thanks.to_dict(),
            "questions": [q.to_dict() for q in self.questions],
            # only when present, so the checksums of surveys without rules stay the same
            **({"follow_up": [str(r) for r in self.follow_up]} if self.follow_up else {}),
            **(
                {"send_invitations": self.send_invitations}
                if self.send_invitations is not None
                else {}
            ),
            **({"one_click": True} if self.one_click else {}),
        }

    @cached_property
    def checksum(self) -> str:
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def visible_answers(self, answers: dict[str, Any]) -> dict[str, Any]:
        """The answers to questions that are shown, in question order; the rest are dropped.

        A question whose ``show_if`` fails is ignored, whatever was sent for it; a condition on
        a question that was itself dropped fails.
        """
        kept: dict[str, Any] = {}
        for q in self.questions:
            if q.show_if and not q.show_if.holds(kept.get(q.show_if.question)):
                continue
            if answers.get(q.id) is not None:
                kept[q.id] = answers[q.id]
        return kept

    def follow_up_reasons(self, answers: dict[str, Any]) -> list[str]:
        """The follow-up rules these answers meet (as written), in the file's order."""
        kept = self.visible_answers(answers)
        return [str(rule) for rule in self.follow_up if rule.holds(kept.get(rule.question))]

    def is_shown(self, question: Question, answers: dict[str, Any]) -> bool:
        if not question.show_if:
            return True
        kept = self.visible_answers(answers)
        return question.show_if.holds(kept.get(question.show_if.question))


class DefinitionError(ValueError):
    """A survey that cannot be used; ``problems`` lists each, with file and question.

    Each problem is a ``survey_problems.Problem``: its English text as before, and what a page
    needs to show it in the reader's language beside its field.
    """

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# --- reading ------------------------------------------------------------------------------------

# Characters a survey's text may not hold: control characters but line breaks and tabs, and
# halves of surrogate pairs (a file can hold them only as escapes like "\a" or "\ud800"; they
# have no business on a customer's page, and no database or page can store a lone surrogate).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_QUESTIONS = 200  # the shipped surveys ask at most 11; an editor's form stays usable


class _Reader:
    """Collects every problem of one file instead of stopping at the first.

    ``index`` is the number of the question being read (from 1), so that each problem can be
    shown beside its question's field; None outside the questions.
    """

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []
        self.index: int | None = None

    def problem(self, where: str | None, field: str | None, message: str, /, **values: Any) -> None:
        """One problem of question ``where`` (None: of the survey) about key ``field``."""
        self.problems.append(
            Problem(
                Message(message, **values),
                self.source,
                question=where,
                index=self.index if where is not None else None,
                key=field,
            )
        )

    def text(
        self,
        data: Any,
        key: str,
        where: str | None,
        required: bool = True,
        field: str | None = None,
    ) -> Text | None:
        """``data[key]`` as a Text; ``field`` is the key a problem is shown beside (``labels``
        for a scale's end labels)."""
        field = field or key
        value = data.get(key)
        if value is None:
            if required:
                self.problem(where, field, N_("'%(key)s' is missing (give zh-CN and en)"), key=key)
            return None
        if isinstance(value, str):
            self.problem(
                where,
                field,
                N_("'%(key)s' must give both languages, as zh-CN: ... and en: ..."),
                key=key,
            )
            return None
        if not isinstance(value, dict):
            self.problem(
                where, field, N_("'%(key)s' must be a mapping of zh-CN and en texts"), key=key
            )
            return None
        missing = [lang for lang in YAML_LOCALES if not str(value.get(lang) or "").strip()]
        extra = [str(lang) for lang in value if lang not in YAML_LOCALES]
        if len(missing) == 1:
            self.problem(
                where,
                field,
                N_("'%(key)s' lacks the %(language)s text"),
                key=key,
                language=missing[0],
            )
        elif missing:
            self.problem(where, field, N_("'%(key)s' lacks the zh-CN and en text"), key=key)
        if extra:
            self.problem(
                where,
                field,
                N_("'%(key)s' has unknown language %(languages)s (use zh-CN and en)"),
                key=key,
                languages=", ".join(extra),
            )
        if missing or extra:
            return None
        texts = {lang: str(value[lang]).strip() for lang in YAML_LOCALES}
        for text in texts.values():
            if control := CONTROL.search(text):
                self.problem(
                    where,
                    field,
                    N_("'%(key)s' holds a control character (U+%(code)s); remove it"),
                    key=key,
                    code=f"{ord(control.group()):04X}",
                )
                return None
        return Text(zh_CN=texts["zh-CN"], en=texts["en"])

    def one_of(
        self, where: str | None, field: str, value: Any, allowed: tuple[str, ...], message: str
    ) -> bool:
        """Whether ``value`` is one of ``allowed``; a problem naming them when it is not."""
        if isinstance(value, str) and value in allowed:
            return True
        self.problem(where, field, message, allowed=", ".join(allowed), got=repr(value)[:80])
        return False

    def unknown_keys(self, data: dict, allowed: set[str], where: str | None) -> None:
        for key in data:
            if key not in allowed:
                self.problem(
                    where,
                    None,
                    N_("unknown key '%(key)s' (allowed: %(allowed)s)"),
                    key=str(key),
                    allowed=", ".join(sorted(allowed)),
                )


QUESTION_KEYS = {
    "id",
    "type",
    "text",
    "required",
    "show_if",
    "help",
    "min",
    "max",
    "labels",
    "choices",
    "max_length",
    "dimension",
}
SURVEY_KEYS = {
    "slug",
    "title",
    "intro",
    "thanks",
    "questions",
    "follow_up",
    "send_invitations",
    "one_click",
}
# A first question whose answers an invitation email may offer as links (one value each).
ONE_CLICK_TYPES = ("csat", "nps", "ces", "rating", "choice", "yesno")


def parse(data: Any, source: str = "<survey>") -> SurveyDefinition:
    """Validate a survey's data (as read from YAML or stored JSON) into a definition.

    Raises DefinitionError listing every problem found.
    """
    reader = _Reader(source)
    if not isinstance(data, dict):
        reader.problem(
            None,
            None,
            N_("a survey file must be a mapping with slug, title, intro, thanks and questions"),
        )
        raise DefinitionError(reader.problems)
    reader.unknown_keys(data, SURVEY_KEYS, None)
    slug = data.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug):
        reader.problem(
            None,
            "slug",
            N_(
                "'slug' must be lower-case letters, digits and hyphens, like post-case (got %(got)s)"
            ),
            got=repr(slug)[:80],
        )
    title = reader.text(data, "title", None)
    intro = reader.text(data, "intro", None)
    thanks = reader.text(data, "thanks", None)
    raw_questions = data.get("questions")
    questions: list[Question] = []
    if not isinstance(raw_questions, list) or not raw_questions:
        reader.problem(None, "questions", N_("'questions' must be a non-empty list"))
        raw_questions = []
    elif len(raw_questions) > MAX_QUESTIONS:
        reader.problem(
            None,
            "questions",
            N_("'questions' may list at most %(most)s questions (this survey lists %(count)s)"),
            most=MAX_QUESTIONS,
            count=len(raw_questions),
        )
        raw_questions = []
    seen: dict[str, Question] = {}
    for index, raw in enumerate(raw_questions, start=1):
        reader.index = index
        question = _parse_question(reader, raw, index, seen)
        if question:
            seen[question.id] = question
            questions.append(question)
    reader.index = None
    follow_up = _parse_follow_up(reader, data.get("follow_up"), seen)
    send_invitations = data.get("send_invitations")
    if send_invitations is not None and not isinstance(send_invitations, bool):
        reader.problem(None, "send_invitations", N_("'send_invitations' must be true or false"))
    one_click = data.get("one_click", False)
    if not isinstance(one_click, bool):
        reader.problem(None, "one_click", N_("'one_click' must be true or false"))
    elif one_click and questions and questions[0].type not in ONE_CLICK_TYPES:
        reader.index = 1
        reader.problem(
            questions[0].id,
            "one_click",
            N_("'one_click' needs a first question of type %(types)s (this one is %(type)s)"),
            types=", ".join(ONE_CLICK_TYPES),
            type=questions[0].type,
        )
    if reader.problems:
        raise DefinitionError(reader.problems)
    return SurveyDefinition(
        slug=slug,
        title=title,
        intro=intro,
        thanks=thanks,
        questions=tuple(questions),
        source=source,
        follow_up=follow_up,
        send_invitations=send_invitations,
        one_click=one_click,
    )


def _parse_follow_up(
    reader: _Reader, raw: Any, questions: dict[str, Question]
) -> tuple[Condition, ...]:
    """``follow_up``: a list of conditions like ``csat <= 2``; any one met opens a follow-up."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        reader.problem(
            None, "follow_up", N_("'follow_up' must be a list of rules like 'csat <= 2'")
        )
        return ()
    rules = []
    for item in raw:
        target = (
            CONDITION.match(item).group(1)
            if isinstance(item, str) and CONDITION.match(item)
            else None
        )
        rule = _parse_condition(reader, item, target, questions, key="follow_up")
        if rule:
            rules.append(rule)
    return tuple(rules)


def _parse_question(
    reader: _Reader, raw: Any, index: int, earlier: dict[str, Question]
) -> Question | None:
    if not isinstance(raw, dict):
        reader.problem(
            f"#{index}", None, N_("each question must be a mapping with id, type and text")
        )
        return None
    qid = raw.get("id")
    where = qid if isinstance(qid, str) else f"#{index}"
    before = len(reader.problems)
    if not isinstance(qid, str) or not IDENTIFIER.match(qid):
        reader.problem(
            where,
            "id",
            N_("'id' must start with a letter and hold only lower-case letters, digits and _"),
        )
    elif qid in earlier:
        reader.problem(where, "id", N_("this id is used by an earlier question too"))
    elif qid in RESERVED_IDS:
        reader.problem(
            where,
            "id",
            N_("'%(id)s' is a name the survey form keeps for itself: choose another id"),
            id=qid,
        )
    reader.unknown_keys(raw, QUESTION_KEYS, where)
    qtype = raw.get("type")
    if not reader.one_of(
        where, "type", qtype, QUESTION_TYPES, N_("'type' must be one of %(allowed)s (got %(got)s)")
    ):
        return None
    text = reader.text(raw, "text", where)
    help_text = reader.text(raw, "help", where, required=False)
    required = raw.get("required", False)
    if not isinstance(required, bool):
        reader.problem(where, "required", N_("'required' must be true or false"))
    spec: dict[str, Any] = {}
    if qtype in SCALE_TYPES or qtype == "servqual":
        spec.update(_parse_scale(reader, raw, qtype, where))
    else:
        for key in ("min", "max", "labels"):
            if key in raw:
                reader.problem(where, key, N_("'%(key)s' is only for scale questions"), key=key)
    if qtype in ("choice", "multi"):
        spec["choices"] = _parse_choices(reader, raw.get("choices"), where)
    elif "choices" in raw:
        reader.problem(where, "choices", N_("'choices' is only for choice and multi questions"))
    if qtype == "yesno":
        spec["choices"] = YESNO_CHOICES
    if qtype in TEXT_LIMITS:
        default, largest = TEXT_LIMITS[qtype]
        max_length = raw.get("max_length", default)
        if (
            not isinstance(max_length, int)
            or isinstance(max_length, bool)
            or not 1 <= max_length <= largest
        ):
            reader.problem(
                where,
                "max_length",
                N_("'max_length' must be a whole number from 1 to %(largest)s"),
                largest=largest,
            )
        spec["max_length"] = max_length
    elif "max_length" in raw:
        reader.problem(
            where, "max_length", N_("'max_length' is only for text and textarea questions")
        )
    if qtype == "servqual":
        dimension = raw.get("dimension")
        reader.one_of(
            where,
            "dimension",
            dimension,
            SERVQUAL_DIMENSIONS,
            N_("'dimension' must be one of %(allowed)s (got %(got)s)"),
        )
        spec["dimension"] = dimension
    elif "dimension" in raw:
        reader.problem(where, "dimension", N_("'dimension' is only for servqual questions"))
    show_if = None
    if raw.get("show_if") is not None:
        show_if = _parse_condition(reader, raw["show_if"], where, earlier)
    if len(reader.problems) > before:
        return None
    return Question(
        id=qid, type=qtype, text=text, required=required, show_if=show_if, help=help_text, **spec
    )


def _parse_scale(reader: _Reader, raw: dict, qtype: str, where: str) -> dict:
    if qtype == "rating":
        low, high = raw.get("min", 1), raw.get("max", 5)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
            reader.problem(where, "min", N_("'min' and 'max' must be whole numbers"))
            return {}
        if not (-10 <= low < high <= 10 and high - low <= 10):
            reader.problem(
                where,
                "min",
                N_(
                    "a rating runs from 'min' to a larger 'max', both within "
                    "-10..10, with at most 11 points"
                ),
            )
            return {}
        labels = raw.get("labels")
        if not isinstance(labels, dict) or set(labels) != {"min", "max"}:
            reader.problem(
                where, "labels", N_("a rating needs 'labels' with a 'min' and a 'max' text")
            )
            return {}
        return {
            "min": low,
            "max": high,
            "min_label": reader.text(labels, "min", where, field="labels"),
            "max_label": reader.text(labels, "max", where, field="labels"),
        }
    low, high, low_label, high_label = SCALE_DEFAULTS[qtype]
    for key in ("min", "max"):
        if key in raw and raw[key] != {"min": low, "max": high}[key]:
            reader.problem(
                where,
                key,
                N_("a %(type)s question always runs from %(low)s to %(high)s"),
                type=qtype,
                low=low,
                high=high,
            )
    labels = raw.get("labels")
    if labels is not None:
        if not isinstance(labels, dict) or not set(labels) <= {"min", "max"}:
            reader.problem(where, "labels", N_("'labels' takes a 'min' and a 'max' text"))
        else:
            low_label = (
                reader.text(labels, "min", where, required=False, field="labels") or low_label
            )
            high_label = (
                reader.text(labels, "max", where, required=False, field="labels") or high_label
            )
    return {"min": low, "max": high, "min_label": low_label, "max_label": high_label}


def _parse_choices(reader: _Reader, raw: Any, where: str) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or len(raw) < 2:
        reader.problem(
            where,
            "choices",
            N_("'choices' must list at least two choices, each with value and label"),
        )
        return ()
    choices = []
    for item in raw:
        value = item.get("value") if isinstance(item, dict) else None
        if (
            isinstance(value, bool)
            or not isinstance(value, (str, int))
            or not CHOICE_VALUE.match(str(value))
        ):
            reader.problem(
                where,
                "choices",
                N_(
                    "choice value %(got)s must be lower-case letters, digits, "
                    "_ or - (quote yes, no, true and false)"
                ),
                got=repr(value)[:80],
            )
            continue
        label = reader.text(item, "label", where, field="choices")
        if str(value) in {c.value for c in choices}:
            reader.problem(
                where, "choices", N_("choice value '%(value)s' appears twice"), value=value
            )
        if label:
            choices.append(Choice(value=str(value), label=label))
    return tuple(choices)


def _parse_condition(
    reader: _Reader, raw: Any, where: str, earlier: dict[str, Question], key: str = "show_if"
) -> Condition | None:
    match = CONDITION.match(raw) if isinstance(raw, str) else None
    if not match:
        reader.problem(
            where,
            key,
            N_("'%(key)s' must read like 'csat <= 2' or 'reason in [price, speed]' (got %(got)s)"),
            key=key,
            got=repr(raw)[:80],
        )
        return None
    target_id, op, raw_value = match.groups()
    target = earlier.get(target_id)
    if target is None:
        if key == "show_if":
            message = N_("'%(key)s' names '%(target)s', which is not an earlier question")
        else:
            message = N_("'%(key)s' names '%(target)s', which is not a question of this survey")
        reader.problem(where, key, message, key=key, target=target_id)
        return None
    if target.type in ("text", "textarea", "servqual"):
        reader.problem(
            where,
            key,
            N_("'%(key)s' cannot depend on a %(type)s question"),
            key=key,
            type=target.type,
        )
        return None
    if op in ("in", "not in"):
        if not (raw_value.startswith("[") and raw_value.endswith("]")):
            reader.problem(where, key, N_("'%(op)s' takes a list like [a, b]"), op=op)
            return None
        items = [v.strip() for v in raw_value[1:-1].split(",") if v.strip()]
    else:
        items = [raw_value.strip().strip("'\"")]
    values = []
    for item in items:
        try:
            value = target.coerce(item)
        except AnswerError as exc:
            reader.problem(
                where,
                key,
                N_("'%(key)s' value '%(value)s' does not fit question '%(target)s': %(reason)s"),
                key=key,
                value=item[:80],
                target=target_id,
                reason=exc.reason,
            )
            return None
        values.append(value[0] if isinstance(value, list) else value)
    if op in ("<", "<=", ">", ">=") and target.type not in SCALE_TYPES:
        reader.problem(
            where,
            key,
            N_("'%(op)s' needs a scale question; '%(target)s' is %(type)s"),
            op=op,
            target=target_id,
            type=target.type,
        )
        return None
    return Condition(
        question=target_id, op=op, value=tuple(values) if op in ("in", "not in") else values[0]
    )


def _file_problem(source: str, message: str, **values: Any) -> DefinitionError:
    return DefinitionError([Problem(Message(message, **values), source)])


def load_text(text: str, source: str) -> Any:
    """The data of a survey file's YAML text, or raise DefinitionError naming ``source``.

    The YAML is read by ``survey_yaml``: no duplicate keys, anchors or aliases, deep nesting or
    huge texts, so that no file (or text typed into the editor) can exhaust the memory or the
    stack of the site reading it.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise _file_problem(
            source,
            N_("is %(size)s bytes; a survey file may be at most %(limit)s"),
            size=f"{size:,}",
            limit=f"{MAX_FILE_BYTES:,}",
        )
    try:
        data = survey_yaml.load(text, source)
    except survey_yaml.Refused as exc:
        raise DefinitionError(exc.problems) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = str(getattr(exc, "problem", None) or exc)
        if mark:
            raise _file_problem(
                source,
                N_("is not valid YAML at line %(line)s, column %(column)s: %(problem)s"),
                line=mark.line + 1,
                column=mark.column + 1,
                problem=problem,
            ) from None
        raise _file_problem(source, N_("is not valid YAML: %(problem)s"), problem=problem) from None
    except RecursionError:  # survey_yaml bounds the nesting; this is a second line of defence
        raise _file_problem(source, N_("is nested too deeply")) from None
    if bad := _unstorable(data):
        raise _file_problem(
            source,
            N_("holds a character that cannot be stored (U+%(code)s); remove it"),
            code=f"{ord(bad):04X}",
        )
    return data


def _unstorable(data: Any) -> str | None:
    """The first NUL or lone surrogate in the strings of YAML's data (written as escapes like
    "\\0"): no database column or page can hold one, whatever key it is under."""
    if isinstance(data, str):
        found = re.search(r"[\x00\ud800-\udfff]", data)
        return found.group() if found else None
    if isinstance(data, dict):
        items = [*data.keys(), *data.values()]
    elif isinstance(data, list):
        items = data
    else:
        return None
    return next((bad for item in items if (bad := _unstorable(item))), None)


def load_file(path: Path | str) -> SurveyDefinition:
    """Read and validate one survey file; raise DefinitionError naming the file."""
    path = Path(path)
    source = path.name
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)  # never more, whatever the file's size
            if len(raw) > MAX_FILE_BYTES:
                raise _file_problem(
                    source,
                    N_("is %(size)s bytes; a survey file may be at most %(limit)s"),
                    size=f"{os.fstat(file.fileno()).st_size:,}",
                    limit=f"{MAX_FILE_BYTES:,}",
                )
        text = raw.decode("utf-8")
    except OSError as exc:
        raise _file_problem(
            source, N_("cannot be read: %(reason)s"), reason=str(exc.strerror)
        ) from None
    except UnicodeDecodeError:
        raise _file_problem(source, N_("is not UTF-8 text")) from None
    definition = parse(load_text(text, source), source)
    if definition.slug != path.stem:
        raise _file_problem(
            source,
            N_("slug '%(slug)s' must match the file name ('%(name)s')"),
            slug=definition.slug,
            name=path.stem,
        )
    return definition


def survey_files(directory: Path | str) -> list[Path]:
    return sorted(Path(directory).glob("*.yaml"))


def load_directory(directory: Path | str) -> tuple[dict[str, SurveyDefinition], list[str]]:
    """Every good definition in a folder by slug, and the problems of the bad files."""
    good: dict[str, SurveyDefinition] = {}
    problems: list[str] = []
    for path in survey_files(directory):
        try:
            definition = load_file(path)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        good[definition.slug] = definition
    return good, problems


def file_data(definition: SurveyDefinition) -> dict:
    """The survey as a file writes it, leaving out what the file may leave out (defaults): the
    data ``parse`` turns back into the same definition (same checksum), for the editor and the
    YAML export. Keys come in the order of the shipped files."""
    data: dict[str, Any] = {
        "slug": definition.slug,
        "title": definition.title.to_dict(),
        "intro": definition.intro.to_dict(),
        "thanks": definition.thanks.to_dict(),
    }
    if definition.send_invitations is not None:
        data["send_invitations"] = definition.send_invitations
    if definition.one_click:
        data["one_click"] = True
    data["questions"] = [_question_data(q) for q in definition.questions]
    if definition.follow_up:
        data["follow_up"] = [str(rule) for rule in definition.follow_up]
    return data


def _question_data(q: Question) -> dict:
    data: dict[str, Any] = {"id": q.id, "type": q.type}
    if q.dimension:
        data["dimension"] = q.dimension
    if q.required:
        data["required"] = True
    if q.show_if:
        data["show_if"] = str(q.show_if)
    if q.type == "rating":
        data.update(min=q.min, max=q.max)
        data["labels"] = {"min": q.min_label.to_dict(), "max": q.max_label.to_dict()}
    elif q.is_scale:
        _low, _high, low_label, high_label = SCALE_DEFAULTS[q.type]
        labels = {
            end: label.to_dict()
            for end, label, default in (
                ("min", q.min_label, low_label),
                ("max", q.max_label, high_label),
            )
            if label != default
        }
        if labels:
            data["labels"] = labels
    if q.type in TEXT_LIMITS and q.max_length != TEXT_LIMITS[q.type][0]:
        data["max_length"] = q.max_length
    data["text"] = q.text.to_dict()
    if q.help:
        data["help"] = q.help.to_dict()
    if q.type in ("choice", "multi"):
        data["choices"] = [{"value": c.value, "label": c.label.to_dict()} for c in q.choices]
    return data


def from_json(text: str) -> SurveyDefinition:
    """A stored version back into a definition."""
    return parse(json.loads(text), "<stored version>")
