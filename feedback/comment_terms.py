"""The comment themes of a slice: comments cut into terms once, kept, and ranked by ``themes``.

A response's comments (its answers to the text questions of the version it answered) are cut
with ``themes.terms_of`` and the terms stored in ``comment_terms``, never in the customer's
request: the first themes request (dashboard, API, chart, pack) that finds responses of its
slice without terms cuts them there, in batches of ``BATCH``, and later requests only read the
stored lists. jieba's first load (about a second) happens in that request too, in a manager's
process, never in a survey worker. The dictionary (suggestion categories, channel names,
``THEME_WORDS``) is read from the database each time and its stamp stored with the terms, so a
renamed category re-cuts what was cut with the old words. The privacy erasure deletes the
terms of a comment it changes; they are cut again from the scrubbed text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, has_app_context
from peewee import EXCLUDED

from . import reports, themes
from .db import database
from .definitions import SurveyDefinition
from .i18n import language
from .models import CommentTerms, SuggestionCategory, SurveyVersion
from .names import channel_name
from .reports import Slice
from .surveys import definition_of
from .vocabulary import CHANNELS, LOCALES

BATCH = 2000  # responses cut and stored per transaction


def current_config() -> Mapping[str, Any]:
    """The running app's settings (for THEME_WORDS), or none outside an app: the charts and the
    meeting pack are built from a fixed signature that carries no settings, as ``cache`` reads
    its app the same way."""
    return current_app.config if has_app_context() else {}


def dictionary_words(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The user dictionary: the suggestion categories' names, the channels' names in both
    languages and the THEME_WORDS setting (one query)."""
    categories = SuggestionCategory.select(SuggestionCategory.name_zh, SuggestionCategory.name_en)
    names = [name for row in categories.tuples() for name in row]
    channels = [channel_name(c, language(code)) for c in CHANNELS for code in LOCALES]
    return themes.user_words(
        names, channels, themes.theme_words_setting(config.get("THEME_WORDS", ""))
    )


def cache_stamp(config: Mapping[str, Any]) -> tuple[str, int]:
    """What a cached themes chart also depends on: the dictionary, and how many comments have
    terms (an erasure deletes some: the chart must not keep showing what was erased)."""
    return themes.dictionary_stamp(dictionary_words(config)), CommentTerms.select().count()


def comment_questions(survey_id: int) -> dict[int, set[str]]:
    """The text questions of each version of a survey, by version id (one query)."""
    versions = SurveyVersion.select().where(SurveyVersion.survey == survey_id)
    return {
        v.id: {q.id for q in definition_of(v).questions if q.type in ("text", "textarea")}
        for v in versions
    }


def fill(s: Slice, words: tuple[str, ...], batch: int = BATCH) -> int:
    """Cut and store the terms of the slice's comments that have none with this dictionary;
    returns how many responses were cut."""
    stamp = themes.dictionary_stamp(words)
    by_version = comment_questions(s.survey_id)
    question_ids = sorted(set().union(*by_version.values()))
    # One scan finds them all: finding each batch anew read the slice's comments once a batch,
    # which made a year of a million comments spend most of its first view finding them.
    pending = reports.comments_without_terms(s, question_ids, stamp)
    tokenizer = themes.segmenter(words) if pending else None
    for start in range(0, len(pending), batch):
        ids = pending[start : start + batch]
        texts: dict[int, list[str]] = {i: [] for i in ids}
        for response_id, version_id, question_id, text in reports.comment_texts(ids, question_ids):
            if question_id in by_version.get(version_id, ()):
                texts[response_id].append(text)
        rows = [
            {
                "response": response_id,
                "dictionary": stamp,
                "terms": themes.join_terms(themes.terms_of("\n".join(parts), tokenizer)),
            }
            for response_id, parts in texts.items()
        ]
        with database.atomic():
            for first in range(0, len(rows), 500):
                CommentTerms.insert_many(rows[first : first + 500]).on_conflict(
                    conflict_target=[CommentTerms.response],
                    update={
                        CommentTerms.dictionary: EXCLUDED.dictionary,
                        CommentTerms.terms: EXCLUDED.terms,
                    },
                ).execute()
    return len(pending)


def uses_csat(definition: SurveyDefinition) -> bool:
    """Whether the sides go by CSAT (the survey asks it) or by NPS."""
    return any(q.type == "csat" for q in definition.questions)


def _documents(s: Slice, definition: SurveyDefinition, config: Mapping[str, Any]) -> list:
    """(response id, side, terms) of each comment of the slice, its terms cut first if need be."""
    words = dictionary_words(config)
    fill(s, words)
    by_csat = uses_csat(definition)
    return [
        (response_id, themes.side_of(csat, nps, by_csat), themes.split_terms(terms))
        for response_id, csat, nps, terms in reports.cached_terms(s, themes.dictionary_stamp(words))
    ]


def slice_themes(
    s: Slice, definition: SurveyDefinition, config: Mapping[str, Any], top: int = themes.TOP_N
) -> dict[str, list[themes.Term]]:
    """The slice's top terms of the unhappy and of the happy, each by z, highest first."""
    documents = _documents(s, definition, config)
    return themes.themes(((side, terms) for _i, side, terms in documents), top=top)


def newest_holding(
    s: Slice,
    definition: SurveyDefinition,
    config: Mapping[str, Any],
    wanted: list[tuple[str, str]],
) -> dict[tuple[str, str], str]:
    """For each (side, term) wanted, the text of the newest comment of that side holding the
    term (its first comment answer), from one read of the cached terms and one of the texts."""
    newest: dict[tuple[str, str], int] = {}
    wanted_set = set(wanted)
    for response_id, side, terms in _documents(s, definition, config):
        for term in terms:
            key = (side, term)
            if key in wanted_set and response_id > newest.get(key, 0):
                newest[key] = response_id
    question_ids = sorted(set().union(*comment_questions(s.survey_id).values()))
    texts: dict[int, str] = {}
    for row in reports.comment_rows(sorted(set(newest.values())), question_ids):
        texts.setdefault(row["response_id"], row["text"])
    return {key: texts[rid] for key, rid in newest.items() if rid in texts}
