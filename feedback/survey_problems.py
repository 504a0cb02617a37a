"""A survey definition's problems, in English and in the reader's language.

A problem reads as its English text wherever a string goes (the command line, the server log,
``survey.error``), exactly as before. It also keeps what a page needs to say it in the admin's
language and beside the field it concerns: the message (a gettext msgid marked with ``N_``)
and its values, the file and line, the question (its id, or ``#n``), the question's number
and the key. The survey editor (``web/survey_editor.py``) reads those; ``surveys sync`` stores
them as JSON in ``survey.problems`` so that the admin page can show a refused file's problems
in either language.

Knows nothing of Flask: ``text`` and ``located`` take any ``gettext(message, **values)``, a
``Language``'s or Flask-Babel's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .names import N_

Gettext = Callable[..., str]

# Where a problem is, in the four shapes the messages have always had.
_PLACES = {
    (False, False): N_("%(source)s: %(problem)s"),
    (False, True): N_("%(source)s: question '%(question)s': %(problem)s"),
    (True, False): N_("%(source)s, line %(line)s: %(problem)s"),
    (True, True): N_("%(source)s, line %(line)s, question '%(question)s': %(problem)s"),
}


class Message(str):
    """A message for people: reads as its English text; ``text(gettext)`` in another language.

    ``message`` is the msgid (English with ``%(name)s`` placeholders), ``values`` what fills
    them; a value that is itself a Message is translated with it.
    """

    message: str
    values: dict[str, Any]

    def __new__(cls, message: str, **values: Any) -> Message:
        self = super().__new__(cls, message % values if values else message)
        self.message = message
        self.values = values
        return self

    def text(self, gettext: Gettext) -> str:
        values = {
            name: value.text(gettext) if isinstance(value, Message) else value
            for name, value in self.values.items()
        }
        return gettext(self.message, **values)

    def to_data(self) -> dict:
        return {
            "message": self.message,
            "values": {
                name: value.to_data() if isinstance(value, Message) else value
                for name, value in self.values.items()
            },
        }

    def __reduce__(self):  # copies and pickles keep the message, not just the English
        return (Message.from_data, (self.to_data(),))

    @classmethod
    def from_data(cls, data: dict) -> Message:
        values = {
            name: cls.from_data(value) if isinstance(value, dict) else value
            for name, value in data.get("values", {}).items()
        }
        return cls(data["message"], **values)


class Problem(str):
    """One problem of a survey: ``post-case.yaml: question 'csat': 'type' must be one of ...``.

    ``question`` is the question's id as written (or ``#3`` before a usable id), ``index`` its
    number in the list (from 1; None outside the questions), ``key`` the key the problem is
    about (``text``, ``choices``, ``show_if``, ``follow_up``, ``title``...; None when it is the
    whole question or file).
    """

    message: Message
    source: str
    line: int | None
    question: str | None
    index: int | None
    key: str | None

    def __new__(
        cls,
        message: Message,
        source: str,
        *,
        line: int | None = None,
        question: str | None = None,
        index: int | None = None,
        key: str | None = None,
    ) -> Problem:
        values = {"source": source, "line": line, "question": question, "problem": message}
        self = super().__new__(cls, _PLACES[line is not None, question is not None] % values)
        self.message = message
        self.source = source
        self.line = line
        self.question = question
        self.index = index
        self.key = key
        return self

    def text(self, gettext: Gettext) -> str:
        """The problem alone, in the language of ``gettext`` (shown beside its field)."""
        return self.message.text(gettext)

    def located(self, gettext: Gettext) -> str:
        """The problem with its file, line and question, in the language of ``gettext``."""
        place = _PLACES[self.line is not None, self.question is not None]
        return gettext(
            place,
            source=self.source,
            line=self.line,
            question=self.question,
            problem=self.text(gettext),
        )

    def to_data(self) -> dict:
        return {
            "message": self.message.to_data(),
            "source": self.source,
            "line": self.line,
            "question": self.question,
            "index": self.index,
            "key": self.key,
        }

    def __reduce__(self):
        return (Problem.from_data, (self.to_data(),))

    @classmethod
    def from_data(cls, data: dict) -> Problem:
        return cls(
            Message.from_data(data["message"]),
            data["source"],
            line=data.get("line"),
            question=data.get("question"),
            index=data.get("index"),
            key=data.get("key"),
        )


def problems_to_json(problems: list[str]) -> str | None:
    """The problems that are Problems, as JSON for ``survey.problems`` (None if none are)."""
    kept = [p.to_data() for p in problems if isinstance(p, Problem)]
    return json.dumps(kept, ensure_ascii=False) if kept else None


def problems_from_json(text: str | None) -> list[Problem]:
    """``survey.problems`` back into Problems; anything unreadable gives none (the English
    ``survey.error`` is shown instead)."""
    if not text:
        return []
    try:
        return [Problem.from_data(item) for item in json.loads(text)]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []
