"""WTForms forms built from survey definitions: field names are the question ids.

A servqual question has two fields, ``<id>-expectation`` and ``<id>-perception`` (ids never hold
a hyphen, so these cannot clash). Checking follows the definition: an answer is coerced by its
question, a question whose ``show_if`` fails is ignored whatever was sent, and a required question
must be answered only when it is shown.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from wtforms import HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from ..cache import cached
from ..definitions import (
    SERVQUAL_PART_LABELS,
    SERVQUAL_PARTS,
    AnswerError,
    Question,
    SurveyDefinition,
)
from ..input_checks import is_id
from .forms_common import Form


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def field_names(question: Question) -> list[str]:
    if question.type == "servqual":
        return [f"{question.id}-{part}" for part in SERVQUAL_PARTS]
    return [question.id]


def survey_csrf_token(secret_key: str, invitation_token: str) -> str:
    """The CSRF token of a survey form: an HMAC of the invitation's own secret token.

    A forged request from another site cannot know it without knowing the invitation token, and
    whoever knows that can answer the survey anyway; so the survey needs no session cookie.
    """
    return hmac.new(
        secret_key.encode(), b"survey-form:" + invitation_token.encode(), hashlib.sha256
    ).hexdigest()


class SurveyFormBase(Form):
    class Meta:
        csrf = False  # checked against survey_csrf_token instead of a session

    definition: SurveyDefinition
    version = HiddenField()
    csrf_token = HiddenField()

    def __init__(
        self,
        *args,
        expected_csrf: str | None = None,
        only_required: frozenset[str] = frozenset(),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.expected_csrf = expected_csrf
        self.only_required = only_required  # a one-click link's questions (``needs_answer``)
        self.question_errors: dict[str, list[str]] = {}
        self.answers: dict[str, Any] = {}

    def raw_answer(self, question: Question) -> Any:
        if question.type == "servqual":
            return {part: self[f"{question.id}-{part}"].data for part in SERVQUAL_PARTS}
        return self[question.id].data

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (
            csrf_matches(self.csrf_token.data, self.expected_csrf)
            and version_well_formed(self.version.data)
        ):
            self.csrf_token.errors = [
                _("The form was out of date. Your answers are kept: please send it again.")
            ]
            valid = False
        self.csrf_token.data = self.expected_csrf  # a page shown again carries the right one
        self.answers, self.question_errors = check_answers(
            self.definition, self.raw_answer, only_required=self.only_required
        )
        return valid and not self.question_errors


def csrf_matches(sent: str | None, expected: str | None) -> bool:
    """Whether the token sent is the one expected (compared in constant time; a token that is
    not ASCII, which ours never are, does not match)."""
    if not isinstance(sent, str) or not sent.isascii():
        return False
    return hmac.compare_digest(sent, expected or "\0")


def version_well_formed(sent: str | None) -> bool:
    """The form's hidden version: missing (the current version is used) or a row id. Anything
    else (a huge number, a sign, other digits) was not sent by our page: the form comes back
    as out of date, with the answers kept."""
    return sent in (None, "") or is_id(sent)


def preselected_ids(definition: SurveyDefinition, sent: str | None) -> frozenset[str]:
    """The questions a one-click link answered (the form's hidden ``preselected``, ids joined
    by commas), kept only when they are questions of this survey shown whatever the other
    answers (no ``show_if``). Empty: the usual rules."""
    if not isinstance(sent, str) or len(sent) > 1000:
        return frozenset()
    unconditional = {q.id for q in definition.questions if q.show_if is None}
    return frozenset(part for part in sent.split(",") if part in unconditional)


def preselected_in(definition: SurveyDefinition, answers: dict[str, Any]) -> frozenset[str]:
    """The unconditional questions a link's query answered (``prefill``'s answers)."""
    ids = {name.split("-", 1)[0] for name in answers}
    return frozenset(q.id for q in definition.questions if q.id in ids and q.show_if is None)


def needs_answer(question: Question, only_required: frozenset[str] = frozenset()) -> bool:
    """Whether a question must be answered on this form: a required question, unless the
    customer came by a one-click link, when only the questions the link answered must be."""
    if only_required:
        return question.id in only_required
    return question.required


def check_answers(
    definition: SurveyDefinition,
    raw_answer: Callable[[Question], Any],
    only_required: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The answers to keep and the errors by question id, from each question's raw input.

    Every answer is coerced by its question; a question whose ``show_if`` fails is ignored
    whatever was sent, and a required question must be answered only when it is shown. A
    customer who came by a one-click link (``only_required``: the questions the link answered)
    must answer only those: sending the score they clicked is enough.
    """
    coerced: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for question in definition.questions:
        try:
            coerced[question.id] = question.coerce(raw_answer(question))
        except AnswerError:
            errors[question.id] = [_invalid_message(question)]
    kept = definition.visible_answers(coerced)
    for question in definition.questions:
        shown = question.show_if is None or question.show_if.holds(
            kept.get(question.show_if.question)
        )
        if not shown:
            errors.pop(question.id, None)
        elif (
            needs_answer(question, only_required)
            and question.id not in kept
            and question.id not in errors
        ):
            errors[question.id] = [_("Please answer this question.")]
    return kept, errors


def _invalid_message(question: Question) -> str:
    if question.type == "servqual":
        return _(
            "Give both scores, each from %(min)d to %(max)d.", min=question.min, max=question.max
        )
    if question.is_scale:
        return _("Choose a number from %(min)d to %(max)d.", min=question.min, max=question.max)
    if question.type in ("text", "textarea"):
        return _("Please keep it to %(n)d characters or fewer.", n=question.max_length)
    return _("Choose from the options given.")


def _scale_choices(question: Question) -> list[SelectChoice]:
    return [SelectChoice(str(i), str(i)) for i in question.scale()]


def _labelled_choices(question: Question, locale: str) -> list[SelectChoice]:
    return [SelectChoice(c.value, c.label.get(locale)) for c in question.choices]


@cached(maxsize=128)
def form_class(definition: SurveyDefinition, locale: str) -> type[SurveyFormBase]:
    """The form class for one definition in one language (built once per process; a
    definition never changes)."""
    fields: dict[str, Any] = {"definition": definition}
    for q in definition.questions:
        label = q.text.get(locale)
        if q.type == "servqual":
            for part in SERVQUAL_PARTS:
                fields[f"{q.id}-{part}"] = RadioField(
                    SERVQUAL_PART_LABELS[part].get(locale),
                    choices=_scale_choices(q),
                    validate_choice=False,
                )
        elif q.is_scale:
            fields[q.id] = RadioField(label, choices=_scale_choices(q), validate_choice=False)
        elif q.type in ("choice", "yesno"):
            fields[q.id] = RadioField(
                label, choices=_labelled_choices(q, locale), validate_choice=False
            )
        elif q.type == "multi":
            fields[q.id] = MultiCheckboxField(
                label, choices=_labelled_choices(q, locale), validate_choice=False
            )
        elif q.type == "text":
            fields[q.id] = StringField(label, render_kw={"maxlength": q.max_length})
        else:
            fields[q.id] = TextAreaField(label, render_kw={"maxlength": q.max_length, "rows": 4})
    return type(f"SurveyForm_{definition.slug}_{locale}", (SurveyFormBase,), fields)


def prefill(definition: SurveyDefinition, args) -> dict[str, Any]:
    """Answers given in a link (``?csat=5``) that their questions accept; others are ignored."""
    data: dict[str, Any] = {}
    for question in definition.questions:
        names = field_names(question)
        if not any(name in args for name in names):
            continue
        if question.type == "servqual":
            raw = {part: args.get(f"{question.id}-{part}") for part in SERVQUAL_PARTS}
        elif question.type == "multi":
            raw = args.getlist(question.id)
        else:
            raw = args.get(question.id)
        try:
            value = question.coerce(raw)
        except AnswerError:
            continue
        if value is None:
            continue
        if question.type == "servqual":
            data.update({f"{question.id}-{part}": str(value[part]) for part in SERVQUAL_PARTS})
        else:
            data[question.id] = value if question.type == "multi" else str(value)
    return data


_OPERATOR_WORDS = {
    "==": "",
    "!=": "≠ ",
    "<": "< ",
    "<=": "≤ ",
    ">": "> ",
    ">=": "≥ ",
}


def condition_hint(definition: SurveyDefinition, question: Question, locale: str) -> str | None:
    """For pages without JavaScript: when a conditional question needs answering."""
    condition = question.show_if
    if condition is None:
        return None
    target = definition.question(condition.question)
    labels = {c.value: c.label.get(locale) for c in target.choices}

    def shown(value) -> str:
        return f"“{labels[value]}”" if value in labels else str(value)

    if condition.op in ("in", "not in"):
        # the list separator of the language (Chinese lists use "、", not a half-width comma)
        values = _(", ").join(shown(v) for v in condition.value)
        text = (
            _("one of %(values)s", values=values)
            if condition.op == "in"
            else _("none of %(values)s", values=values)
        )
    else:
        text = _OPERATOR_WORDS[condition.op] + shown(condition.value)
    return _(
        "Answer this only if your answer to “%(question)s” is %(condition)s.",
        question=target.text.get(locale),
        condition=text,
    )
