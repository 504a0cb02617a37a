"""Drafts of surveys edited in the browser: one per survey and admin, kept between the editor's
round trips, valid or not, until saved as a new version or discarded.

A draft's data is the survey as a file would give it (``definitions.file_data``): the editor's
form and its YAML box write it, ``definitions.parse`` checks it exactly as it checks a file
(the same problems, the same messages), and saving stores it with ``surveys.save_edited``, which
stores a version exactly as a sync stores a file's (the same canonical JSON and checksum).

Knows nothing of Flask. *Why a table, not the form alone:* the phone-sized preview is a page of
its own (an iframe), which can show only what the server holds; and a draft outlives a closed
tab. *Why one per admin:* two admins editing one survey never overwrite each other's draft;
whoever saves second is told that a version was saved since their draft began (``Conflict``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import survey_yaml, surveys
from .db import database, utcnow
from .definitions import (
    MAX_QUESTIONS,
    SLUG,
    DefinitionError,
    SurveyDefinition,
    file_data,
    parse,
)
from .models import Survey, SurveyDraft, SurveyVersion, User
from .names import N_
from .survey_problems import Message, Problem
from .survey_yaml import MAX_FILE_BYTES
from .vocabulary import QUESTION_TYPES, SERVQUAL_DIMENSIONS

EMPTY_TEXT = {"zh-CN": "", "en": ""}


@dataclass
class Draft:
    slug: str
    data: dict[str, Any]
    base_version: int | None  # the version it started from; None: a survey not saved yet
    stored: bool  # False: the version in use, not changed yet
    updated_at: datetime | None = None

    @property
    def questions(self) -> list:
        """The questions as a list (whatever the YAML box gave), for the editor's operations."""
        found = self.data.get("questions")
        if not isinstance(found, list):
            found = self.data["questions"] = []
        return found


class Conflict(Exception):
    """A version was saved since the draft began: ``current`` is it. The draft now starts from
    it, so saving again replaces it knowingly."""

    def __init__(self, current: SurveyVersion):
        super().__init__(f"version {current.version} was saved since the draft began")
        self.current = current


def valid_slug(slug: str) -> bool:
    return isinstance(slug, str) and bool(SLUG.match(slug))


def open_draft(slug: str, user: User) -> Draft | None:
    """The admin's draft of a survey, else the version in use as a draft not yet stored; None
    for a survey that has neither (unknown, or a refused file's only)."""
    if not valid_slug(slug):
        return None
    row = SurveyDraft.get_or_none(SurveyDraft.slug == slug, SurveyDraft.user == user)
    if row is not None:
        return Draft(slug, _loads(row.data), row.base_version, True, row.updated_at)
    version = surveys.current_version(slug)
    if version is None:
        return None
    return Draft(slug, file_data(surveys.definition_of(version)), version.version, False)


def new_draft(slug: str, user: User, title: dict | None = None) -> Draft:
    """A draft of a new survey (one question to begin with), stored."""
    draft = Draft(
        slug,
        {
            "slug": slug,
            "title": dict(title or EMPTY_TEXT),
            "intro": dict(EMPTY_TEXT),
            "thanks": dict(EMPTY_TEXT),
            "questions": [],
        },
        None,
        False,
    )
    add_question(draft, "csat")
    store(draft, user)
    return draft


def slug_taken(slug: str) -> bool:
    """Whether a survey of that slug exists (a file's, a browser's, or a refused file's)."""
    return Survey.select().where(Survey.slug == slug).exists()


def store(draft: Draft, user: User) -> None:
    """Keep the draft (insert or replace the admin's row)."""
    now = utcnow()
    values = {
        SurveyDraft.data: _dumps(draft.data),
        SurveyDraft.base_version: draft.base_version,
        SurveyDraft.updated_at: now,
    }
    SurveyDraft.insert(
        slug=draft.slug, user=user, **{f.name: v for f, v in values.items()}
    ).on_conflict(conflict_target=[SurveyDraft.slug, SurveyDraft.user], update=values).execute()
    draft.stored, draft.updated_at = True, now


def discard(slug: str, user: User) -> bool:
    """Forget the admin's draft; whether there was one."""
    return bool(
        SurveyDraft.delete().where(SurveyDraft.slug == slug, SurveyDraft.user == user).execute()
    )


def drafts_by_slug() -> dict[str, list[SurveyDraft]]:
    """Every stored draft with its admin, by survey, for the survey list."""
    found: dict[str, list[SurveyDraft]] = {}
    for row in (
        SurveyDraft.select(SurveyDraft, User).join(User).order_by(SurveyDraft.updated_at.desc())
    ):
        found.setdefault(row.slug, []).append(row)
    return found


def unusable(data: Any, slug: str) -> list[str]:
    """Why YAML's data cannot even become a draft (the editor could not show it): not a
    mapping, or more questions than a survey may have. Empty when it can (with problems or not).
    """
    if not isinstance(data, dict):
        return [
            Problem(
                Message(
                    N_(
                        "a survey file must be a mapping with slug, title, intro, thanks and "
                        "questions"
                    )
                ),
                f"{slug}.yaml",
            )
        ]
    questions = data.get("questions")
    if isinstance(questions, list) and len(questions) > MAX_QUESTIONS:
        try:
            parse({"questions": questions}, f"{slug}.yaml")
        except DefinitionError as exc:
            return [p for p in exc.problems if getattr(p, "key", None) == "questions"]
    return []


def check(draft: Draft) -> tuple[SurveyDefinition | None, list[Problem]]:
    """The draft as a definition, or its problems: a file's checks, with the draft's slug."""
    problems: list[Problem] = []
    if draft.data.get("slug") != draft.slug:
        problems.append(
            Problem(
                Message(
                    N_(
                        "the slug of this survey is %(slug)s; to make another survey, use "
                        "New survey"
                    ),
                    slug=draft.slug,
                ),
                draft.slug,
                key="slug",
            )
        )
    try:
        definition = parse(draft.data, draft.slug)
    except DefinitionError as exc:
        return None, problems + exc.problems
    size = len(survey_yaml.dump(file_data(definition)).encode())
    if size > MAX_FILE_BYTES:  # its file could not be synced: the same limit as a file
        problems.append(
            Problem(
                Message(
                    N_("is %(size)s bytes; a survey file may be at most %(limit)s"),
                    size=f"{size:,}",
                    limit=f"{MAX_FILE_BYTES:,}",
                ),
                draft.slug,
            )
        )
    return (None, problems) if problems else (definition, [])


def save(draft: Draft, user: User) -> surveys.SyncOutcome:
    """Store a valid draft as the survey's new version and forget the draft.

    Raises DefinitionError when it does not validate, Conflict when a version was saved since
    the draft began (the draft, stored, then starts from that one).
    """
    definition, problems = check(draft)
    if definition is None:
        raise DefinitionError(problems)
    with database.atomic():
        current = surveys.current_version(draft.slug)
        number = current.version if current else None
        if number == draft.base_version:
            outcome = surveys.save_edited(definition, user)
            discard(draft.slug, user)
            return outcome
    draft.base_version = number
    store(draft, user)
    raise Conflict(current)


# --- the editor's operations on a draft's questions ----------------------------------------


def add_question(draft: Draft, qtype: str) -> int:
    """A new question of that type at the end, with an unused id; its index."""
    if qtype not in QUESTION_TYPES:
        qtype = QUESTION_TYPES[0]
    taken = {q.get("id") for q in draft.questions if isinstance(q, dict)}
    qid = next(
        candidate
        for n in range(1, len(taken) + 2)
        if (candidate := qtype if n == 1 else f"{qtype}_{n}") not in taken
    )
    question: dict[str, Any] = {"id": qid, "type": qtype, "text": dict(EMPTY_TEXT)}
    if qtype == "rating":
        question.update(min=1, max=5, labels={"min": dict(EMPTY_TEXT), "max": dict(EMPTY_TEXT)})
    elif qtype in ("choice", "multi"):
        question["choices"] = []
    elif qtype == "servqual":
        used = {q.get("dimension") for q in draft.questions if isinstance(q, dict)}
        question["dimension"] = next(
            (d for d in SERVQUAL_DIMENSIONS if d not in used), SERVQUAL_DIMENSIONS[0]
        )
    draft.questions.append(question)
    return len(draft.questions) - 1


def move_question(draft: Draft, index: int, offset: int) -> int:
    """Move a question up (-1) or down (+1); its new index (unchanged at either end)."""
    items = draft.questions
    target = index + offset
    if 0 <= index < len(items) and 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
        return target
    return index


def remove_question(draft: Draft, index: int) -> Any:
    """Take a question out of the draft; the question (None when there was no such index)."""
    if 0 <= index < len(draft.questions):
        return draft.questions.pop(index)
    return None


def _dumps(data: dict) -> str:
    # ensure_ascii: whatever a YAML box held, the stored text is plain ASCII JSON
    return json.dumps(data, ensure_ascii=True, default=str)


def _loads(text: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    return data if isinstance(data, dict) else {}
