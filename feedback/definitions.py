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
from .survey_yaml import MAX_FILE_BYTES
from .vocabulary import LOCALES, QUESTION_TYPES, SCALE_TYPES, SERVQUAL_DIMENSIONS

YAML_LOCALES = {code.replace("_", "-"): code for code in LOCALES}  # how the files spell them
OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "not in", "in")

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
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
    """An answer that the question does not accept; the message is for the person answering."""


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
                raise AnswerError(f"not a choice: {', '.join(unknown)}")
            return [v for v in self.choice_values() if v in values] or None
        if self.type == "servqual":
            parts = {}
            for part in SERVQUAL_PARTS:
                value = (raw or {}).get(part)
                parts[part] = None if value in (None, "") else self._integer(value)
            if all(v is None for v in parts.values()):
                return None
            if any(v is None for v in parts.values()):
                raise AnswerError("both scores are needed")
            return parts
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return None
        if self.type in SCALE_TYPES:
            return self._integer(raw)
        if self.type in ("choice", "yesno"):
            if raw not in self.choice_values():
                raise AnswerError("not a choice")
            return raw
        text = str(raw).strip()
        if len(text) > self.max_length:
            raise AnswerError(f"at most {self.max_length} characters")
        return text

    def _integer(self, raw: Any) -> int:
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise AnswerError(f"a whole number from {self.min} to {self.max}") from None
        if not self.min <= value <= self.max:
            raise AnswerError(f"a whole number from {self.min} to {self.max}")
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
    """A survey file that cannot be used; ``problems`` lists each, with file and question."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# --- reading ------------------------------------------------------------------------------------


class _Reader:
    """Collects every problem of one file instead of stopping at the first."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []

    def problem(self, where: str | None, message: str) -> None:
        place = f"{self.source}: question '{where}'" if where else self.source
        self.problems.append(f"{place}: {message}")

    def text(self, data: Any, key: str, where: str | None, required: bool = True) -> Text | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(where, f"'{key}' is missing (give zh-CN and en)")
            return None
        if isinstance(value, str):
            self.problem(where, f"'{key}' must give both languages, as zh-CN: ... and en: ...")
            return None
        if not isinstance(value, dict):
            self.problem(where, f"'{key}' must be a mapping of zh-CN and en texts")
            return None
        missing = [lang for lang in YAML_LOCALES if not str(value.get(lang) or "").strip()]
        extra = [str(lang) for lang in value if lang not in YAML_LOCALES]
        if missing:
            self.problem(where, f"'{key}' lacks the {' and '.join(missing)} text")
        if extra:
            self.problem(
                where, f"'{key}' has unknown language {', '.join(extra)} (use zh-CN and en)"
            )
        if missing or extra:
            return None
        return Text(zh_CN=str(value["zh-CN"]).strip(), en=str(value["en"]).strip())

    def unknown_keys(self, data: dict, allowed: set[str], where: str | None) -> None:
        for key in data:
            if key not in allowed:
                self.problem(where, f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})")


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
        raise DefinitionError(
            [
                f"{source}: a survey file must be a mapping with slug, title, "
                "intro, thanks and questions"
            ]
        )
    reader.unknown_keys(data, SURVEY_KEYS, None)
    slug = data.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug):
        reader.problem(
            None,
            f"'slug' must be lower-case letters, digits and hyphens, like post-case (got {slug!r})",
        )
    title = reader.text(data, "title", None)
    intro = reader.text(data, "intro", None)
    thanks = reader.text(data, "thanks", None)
    raw_questions = data.get("questions")
    questions: list[Question] = []
    if not isinstance(raw_questions, list) or not raw_questions:
        reader.problem(None, "'questions' must be a non-empty list")
        raw_questions = []
    seen: dict[str, Question] = {}
    for index, raw in enumerate(raw_questions, start=1):
        question = _parse_question(reader, raw, index, seen)
        if question:
            seen[question.id] = question
            questions.append(question)
    follow_up = _parse_follow_up(reader, data.get("follow_up"), seen)
    send_invitations = data.get("send_invitations")
    if send_invitations is not None and not isinstance(send_invitations, bool):
        reader.problem(None, "'send_invitations' must be true or false")
    one_click = data.get("one_click", False)
    if not isinstance(one_click, bool):
        reader.problem(None, "'one_click' must be true or false")
    elif one_click and questions and questions[0].type not in ONE_CLICK_TYPES:
        reader.problem(
            questions[0].id,
            f"'one_click' needs a first question of type {', '.join(ONE_CLICK_TYPES)} "
            f"(this one is {questions[0].type})",
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
        reader.problem(None, "'follow_up' must be a list of rules like 'csat <= 2'")
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
        reader.problem(f"#{index}", "each question must be a mapping with id, type and text")
        return None
    qid = raw.get("id")
    where = qid if isinstance(qid, str) else f"#{index}"
    before = len(reader.problems)
    if not isinstance(qid, str) or not IDENTIFIER.match(qid):
        reader.problem(
            where, "'id' must start with a letter and hold only lower-case letters, digits and _"
        )
    elif qid in earlier:
        reader.problem(where, "this id is used by an earlier question too")
    reader.unknown_keys(raw, QUESTION_KEYS, where)
    qtype = raw.get("type")
    if qtype not in QUESTION_TYPES:
        reader.problem(where, f"'type' must be one of {', '.join(QUESTION_TYPES)} (got {qtype!r})")
        return None
    text = reader.text(raw, "text", where)
    help_text = reader.text(raw, "help", where, required=False)
    required = raw.get("required", False)
    if not isinstance(required, bool):
        reader.problem(where, "'required' must be true or false")
    spec: dict[str, Any] = {}
    if qtype in SCALE_TYPES or qtype == "servqual":
        spec.update(_parse_scale(reader, raw, qtype, where))
    else:
        for key in ("min", "max", "labels"):
            if key in raw:
                reader.problem(where, f"'{key}' is only for scale questions")
    if qtype in ("choice", "multi"):
        spec["choices"] = _parse_choices(reader, raw.get("choices"), where)
    elif "choices" in raw:
        reader.problem(where, "'choices' is only for choice and multi questions")
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
            reader.problem(where, f"'max_length' must be a whole number from 1 to {largest}")
        spec["max_length"] = max_length
    elif "max_length" in raw:
        reader.problem(where, "'max_length' is only for text and textarea questions")
    if qtype == "servqual":
        dimension = raw.get("dimension")
        if dimension not in SERVQUAL_DIMENSIONS:
            reader.problem(
                where,
                f"'dimension' must be one of {', '.join(SERVQUAL_DIMENSIONS)} (got {dimension!r})",
            )
        spec["dimension"] = dimension
    elif "dimension" in raw:
        reader.problem(where, "'dimension' is only for servqual questions")
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
            reader.problem(where, "'min' and 'max' must be whole numbers")
            return {}
        if not (-10 <= low < high <= 10 and high - low <= 10):
            reader.problem(
                where,
                "a rating runs from 'min' to a larger 'max', both within "
                "-10..10, with at most 11 points",
            )
            return {}
        labels = raw.get("labels")
        if not isinstance(labels, dict) or set(labels) != {"min", "max"}:
            reader.problem(where, "a rating needs 'labels' with a 'min' and a 'max' text")
            return {}
        return {
            "min": low,
            "max": high,
            "min_label": reader.text(labels, "min", where),
            "max_label": reader.text(labels, "max", where),
        }
    low, high, low_label, high_label = SCALE_DEFAULTS[qtype]
    for key in ("min", "max"):
        if key in raw and raw[key] != {"min": low, "max": high}[key]:
            reader.problem(where, f"a {qtype} question always runs from {low} to {high}")
    labels = raw.get("labels")
    if labels is not None:
        if not isinstance(labels, dict) or not set(labels) <= {"min", "max"}:
            reader.problem(where, "'labels' takes a 'min' and a 'max' text")
        else:
            low_label = reader.text(labels, "min", where, required=False) or low_label
            high_label = reader.text(labels, "max", where, required=False) or high_label
    return {"min": low, "max": high, "min_label": low_label, "max_label": high_label}


def _parse_choices(reader: _Reader, raw: Any, where: str) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or len(raw) < 2:
        reader.problem(where, "'choices' must list at least two choices, each with value and label")
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
                f"choice value {value!r} must be lower-case letters, digits, "
                "_ or - (quote yes, no, true and false)",
            )
            continue
        label = reader.text(item, "label", where)
        if str(value) in {c.value for c in choices}:
            reader.problem(where, f"choice value '{value}' appears twice")
        if label:
            choices.append(Choice(value=str(value), label=label))
    return tuple(choices)


def _parse_condition(
    reader: _Reader, raw: Any, where: str, earlier: dict[str, Question], key: str = "show_if"
) -> Condition | None:
    match = CONDITION.match(raw) if isinstance(raw, str) else None
    if not match:
        reader.problem(
            where, f"'{key}' must read like 'csat <= 2' or 'reason in [price, speed]' (got {raw!r})"
        )
        return None
    target_id, op, raw_value = match.groups()
    target = earlier.get(target_id)
    if target is None:
        which = "an earlier question" if key == "show_if" else "a question of this survey"
        reader.problem(where, f"'{key}' names '{target_id}', which is not {which}")
        return None
    if target.type in ("text", "textarea", "servqual"):
        reader.problem(where, f"'{key}' cannot depend on a {target.type} question")
        return None
    if op in ("in", "not in"):
        if not (raw_value.startswith("[") and raw_value.endswith("]")):
            reader.problem(where, f"'{op}' takes a list like [a, b]")
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
                where, f"'{key}' value '{item}' does not fit question '{target_id}': {exc}"
            )
            return None
        values.append(value[0] if isinstance(value, list) else value)
    if op in ("<", "<=", ">", ">=") and target.type not in SCALE_TYPES:
        reader.problem(where, f"'{op}' needs a scale question; '{target_id}' is {target.type}")
        return None
    return Condition(
        question=target_id, op=op, value=tuple(values) if op in ("in", "not in") else values[0]
    )


def load_file(path: Path | str) -> SurveyDefinition:
    """Read and validate one survey file; raise DefinitionError naming the file.

    The YAML is read by ``survey_yaml``: no duplicate keys, anchors or aliases, deep nesting or
    huge files, so that no file can exhaust the memory or the stack of the site reading it.
    """
    path = Path(path)
    source = path.name
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)  # never more, whatever the file's size
            if len(raw) > MAX_FILE_BYTES:
                raise DefinitionError(
                    [
                        f"{source}: is {os.fstat(file.fileno()).st_size:,} "
                        f"bytes; a survey file may be at most {MAX_FILE_BYTES:,}"
                    ]
                )
        data = survey_yaml.load(raw.decode("utf-8"), source)
    except OSError as exc:
        raise DefinitionError([f"{source}: cannot be read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise DefinitionError([f"{source}: is not UTF-8 text"]) from None
    except survey_yaml.Refused as exc:
        raise DefinitionError(exc.problems) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError([f"{source}: is not valid YAML{where}: {problem}"]) from None
    except RecursionError:  # survey_yaml bounds the nesting; this is a second line of defence
        raise DefinitionError([f"{source}: is nested too deeply"]) from None
    definition = parse(data, source)
    if definition.slug != path.stem:
        raise DefinitionError(
            [f"{source}: slug '{definition.slug}' must match the file name ('{path.stem}')"]
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


def from_json(text: str) -> SurveyDefinition:
    """A stored version back into a definition."""
    return parse(json.loads(text), "<stored version>")
