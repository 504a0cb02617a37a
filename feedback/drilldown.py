"""The responses behind a figure: exactly the responses a figure of the dashboard counts, listed.

Every figure of the dashboard counts the responses of a slice (the dashboard's filters) that
meet a condition: CSAT's n those that answered CSAT, its satisfied ones those of 4-5; a driver's
pairs those that answered the driver and CSAT; the response rate's answered invitations those
answered of the invitations sent in the period; a follow-up figure the responses whose follow-up
was opened, due, closed...; a term's count the comments of one side that hold it. ``Criteria``
names that condition, ``select`` builds the query of those responses from the very expressions
the figures are counted with (``reports.SCORE_BANDS``, ``reports._invitation_conditions``,
``follow_up_figures.bands``, ``drivers.driver_questions``, the stored terms of
``comment_terms``), so the list's length is the figure's count, by construction and by test
(``tests/test_drilldown.py`` follows every link of the dashboard).

``list_page`` gives one page of them (newest first, with the case, agent, the scores of the
survey's scale questions and the comment), ``band_counts`` how many each band of the measure
holds, ``csv_rows`` every one of them as formula-safe CSV rows, ``describe`` the list in words.
What a response shows is what the raw export shows: the case number and the answers, never the
customer's name or contact details; a comment erased on request shows as erased.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import peewee as pw
from babel.lists import format_list
from peewee import fn

from . import comment_terms, drivers, follow_up_figures, reports, themes
from .charts import DIMENSION_NAMES
from .db import is_postgres, utcnow
from .definitions import Question, SurveyDefinition
from .exports import headers, safe_cell
from .i18n import Language
from .models import Answer, Case, CommentTerms, FollowUp, Invitation, Response
from .names import N_, channel_name
from .reports import SCORE_BANDS, Slice, count_if
from .vocabulary import (
    CES_BANDS,
    CSAT_BANDS,
    FOLLOW_UP_BANDS,
    NPS_BANDS,
    QUESTION_BANDS,
)

PER_PAGE = 25  # responses on one page of the list
BATCH = 2000  # responses per query of the CSV download
MAX_QUESTIONS = 20  # question= parameters of one list (complete cases name every driver)
TERM_LENGTH = 100  # characters of a term; longer ones are no term of ours

# The bands each measure's answers can be narrowed to (the first when none is given).
BANDS = {
    "csat": CSAT_BANDS,
    "nps": NPS_BANDS,
    "ces": CES_BANDS,
    "question": QUESTION_BANDS,
    "follow_up": FOLLOW_UP_BANDS,
}
# The measures whose answers are a stored score, and the scale each takes (score=).
SCALES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
# The measures that look at one question's answer (question= names it).
QUESTION_MEASURES = ("question", "servqual")
# Slice columns that may be asked to be empty (the "(none)" row of a breakdown).
WITHOUT = ("team", "agent", "category")
# A side of the comment themes as a band of the scores (``themes.side_of``), by whether the
# survey asks CSAT.
SIDE_BANDS = {
    True: {"unhappy": ("csat", "unhappy"), "happy": ("csat", "happy")},
    False: {"unhappy": ("nps", "detractors"), "happy": ("nps", "promoters")},
}


@dataclass(frozen=True)
class Criteria:
    """Which of a slice's responses a figure counts (the query string of /manage/responses)."""

    measure: str = "responses"  # DRILL_MEASURES
    band: str | None = None  # one of BANDS[measure]; None: the first ("answered", "opened")
    score: int | None = None  # exactly this answer (csat, nps, ces, question)
    questions: tuple[str, ...] = ()  # answered each of these; the first is measured by
    # "question" and "servqual"
    term: str | None = None  # the comment holds this term (of the themes' ``side``)
    side: str | None = None
    bucket: date | None = None  # the first day of the week, month or day ``per``
    per: str | None = None
    without: tuple[str, ...] = ()  # these slice columns are empty

    @property
    def chosen_band(self) -> str | None:
        """The band the list takes: the given one, else the measure's first (none for a score)."""
        if self.score is not None or self.measure not in BANDS:
            return None
        return self.band or BANDS[self.measure][0]


@dataclass(frozen=True)
class Column:
    """A scale question shown in the list: its id, name for people and type."""

    question: str
    label: str
    servqual: bool = False


@dataclass
class ListPage:
    total: int
    page: int
    pages: int
    rows: list[dict] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)


# --- which responses ------------------------------------------------------------------------


def select(
    s: Slice,
    c: Criteria,
    definition: SurveyDefinition,
    config: Mapping[str, Any],
    now: datetime | None = None,
    columns: tuple = (Response.id,),
) -> pw.ModelSelect:
    """The responses of the slice that ``c`` selects, with every condition: Response alone,
    joined to its case when ``columns`` or the measure read the case, to its invitation or
    follow-up when the measure counts those."""
    query = Response.select(*columns)
    if c.measure == "response_rate" or any(getattr(col, "model", None) is Case for col in columns):
        query = query.join(Case, on=Response.case == Case.id)
    if c.measure == "response_rate":
        # the rate counts invitations sent in the period by their case's slice columns, and
        # its answered ones are these invitations' responses (whenever they came)
        query = query.join(Invitation, on=Response.invitation == Invitation.id)
        conditions = [*reports._invitation_conditions(s), Invitation.status == "answered"]
        period = {"week": Invitation.week, "month": Invitation.month, "day": Invitation.day}
        empty = {"team": Case.team, "agent": Case.agent, "category": Case.category}
    elif c.measure == "follow_up":
        query = query.join(FollowUp, on=FollowUp.response == Response.id)
        conditions = [
            *follow_up_figures.period_conditions(s),
            follow_up_figures.bands(now or utcnow())[c.chosen_band],
        ]
        period = {"week": FollowUp.week, "month": FollowUp.month, "day": FollowUp.day}
        empty = {"team": Response.team, "agent": Response.agent, "category": Response.category}
    else:
        # the day range alone, as the totals read it: the slice columns and scores then come
        # from the covering index response_survey_day (the week range would add nothing)
        conditions = reports._response_conditions(s, weeks=False)
        period = {"week": Response.week, "month": Response.month, "day": Response.day}
        empty = {"team": Response.team, "agent": Response.agent, "category": Response.category}
        conditions += _measure_conditions(c, definition)
    for index, question in enumerate(c.questions):
        if index or c.measure not in QUESTION_MEASURES:
            conditions.append(_answered(question, index))
    if c.bucket is not None:
        conditions.append(period[c.per] == c.bucket)
    conditions += [empty[name].is_null() for name in c.without]
    if c.term is not None:
        conditions += _term_conditions(s, c, definition, config)
    return query.where(*conditions)


def _measure_conditions(c: Criteria, definition: SurveyDefinition) -> list:
    """The condition of the measure's band or score (responses: none)."""
    if c.measure in SCALES:
        column = getattr(Response, c.measure)
        if c.score is not None:
            return [column == c.score]
        return [SCORE_BANDS[c.measure][c.chosen_band]]
    if c.measure == "question":
        return [_question_band(c, definition, c.chosen_band)]
    if c.measure == "servqual":  # the gap's n: answers with an expectation (servqual_sums)
        answer = Answer.alias("drill_servqual")
        return [_exists(answer, c.questions[0], answer.expectation.is_null(False))]
    return []


def _question_band(c: Criteria, definition: SurveyDefinition, band: str | None) -> pw.Node:
    """The measured question answered (a driver's answers), in its top two boxes (as
    ``drivers.driver_questions`` says where they start), or with exactly the score."""
    question = c.questions[0]
    answer = Answer.alias("drill_measured")
    if c.score is not None:
        condition = answer.value_int == c.score
    elif band == "top_two":
        condition = answer.value_int >= drivers.driver_questions(definition)[question]
    else:
        condition = answer.value_int.is_null(False)
    return _exists(answer, question, condition)


def _answered(question: str, index: int) -> pw.Node:
    """Answered the question (a driver's pair with the outcome; a complete case's driver)."""
    answer = Answer.alias(f"drill_answered_{index}")
    return _exists(answer, question, answer.value_int.is_null(False))


def _exists(answer, question: str, condition: pw.Node) -> pw.Node:
    """The response has an answer to the question that meets the condition: ``id IN`` the
    answers to the question (read once on answer_question, as the drivers' sums read them),
    not a correlated EXISTS, which would read every answer row of every response."""
    return Response.id.in_(
        answer.select(answer.response).where(answer.question_id == question, condition)
    )


def _term_conditions(
    s: Slice, c: Criteria, definition: SurveyDefinition, config: Mapping[str, Any]
) -> list:
    """The comment of the side holds the term: its stored terms (cut first where missing, as
    the themes do) with the dictionary of now, " term " within them (``themes.join_terms``)."""
    words = comment_terms.dictionary_words(config)
    comment_terms.fill(s, words)
    measure, band = SIDE_BANDS[comment_terms.uses_csat(definition)][c.side]
    held = CommentTerms.alias("drill_terms")
    needle = f" {c.term} "
    found = fn.strpos(held.terms, needle) if is_postgres() else fn.instr(held.terms, needle)
    return [
        SCORE_BANDS[measure][band],
        fn.EXISTS(
            held.select(pw.SQL("1")).where(
                held.response == Response.id,
                held.dictionary == themes.dictionary_stamp(words),
                found > 0,
            )
        ),
    ]


def count(s, c, definition, config, now=None) -> int:
    return select(s, c, definition, config, now).count()


def band_counts(
    s: Slice,
    c: Criteria,
    definition: SurveyDefinition,
    config: Mapping[str, Any],
    now: datetime | None = None,
) -> dict[str, int]:
    """How many responses each band of the measure holds, the rest of ``c`` as it is (one
    query); empty for a measure without bands."""
    bands = BANDS.get(c.measure)
    if not bands:
        return {}
    base = replace(c, band=bands[0], score=None)
    if c.measure in SCALES:
        conditions = {band: SCORE_BANDS[c.measure][band] for band in bands}
    elif c.measure == "question":
        conditions = {band: _question_band(base, definition, band) for band in bands}
    else:
        conditions = follow_up_figures.bands(now or utcnow())
    columns = tuple(count_if(conditions[band]).alias(band) for band in bands)
    row = select(s, base, definition, config, now, columns).dicts().get()
    return {band: int(row[band] or 0) for band in bands}


# --- what a response shows -------------------------------------------------------------------


def columns(definition: SurveyDefinition, lang: Language) -> list[Column]:
    """The survey's scale questions (CSAT, NPS, CES, ratings, SERVQUAL), in its order."""
    found = []
    for q in definition.questions:
        if q.type in SCALES or q.type == "rating":
            found.append(Column(q.id, short_label(q, lang)))
        elif q.type == "servqual":
            found.append(Column(q.id, short_label(q, lang), servqual=True))
    return found


SCORE_NAMES = {"csat": N_("CSAT"), "nps": N_("NPS"), "ces": N_("CES (effort)")}


def short_label(q: Question, lang: Language) -> str:
    """A question as a column head: CSAT, NPS, CES, a SERVQUAL dimension, else its text."""
    if q.type in SCORE_NAMES:
        return lang.gettext(SCORE_NAMES[q.type])
    if q.type == "servqual" and q.dimension in DIMENSION_NAMES:
        return lang.gettext(DIMENSION_NAMES[q.dimension])
    return q.text.get(lang.code) or q.id


# Newest first: by day (the index response_survey_day_id hands the days over in order, so a page
# sorts only the responses of the days it reaches, never the whole period), then by time.
NEWEST_FIRST = (Response.day.desc(), Response.submitted_at.desc(), Response.id.desc())

_ROW_COLUMNS = (
    Response.id,
    Response.submitted_at,
    Case.case_ref,
    Response.channel,
    Response.team,
    Response.agent,
    Response.day,
)


def list_page(
    s: Slice,
    c: Criteria,
    definition: SurveyDefinition,
    config: Mapping[str, Any],
    lang: Language,
    page: int = 1,
    per_page: int = PER_PAGE,
    now: datetime | None = None,
    total: int | None = None,
) -> ListPage:
    """One page of the responses, newest first (a page past the end has no rows). ``total``:
    how many they are, when known (``band_counts`` of the chosen band)."""
    if total is None:
        total = count(s, c, definition, config, now)
    pages = max(1, -(-total // per_page))
    shown = columns(definition, lang)
    result = ListPage(total, page, pages, columns=shown)
    if (page - 1) * per_page >= total:
        return result
    query = (
        select(s, c, definition, config, now, _ROW_COLUMNS)
        .order_by(*NEWEST_FIRST)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    result.rows = _with_answers(list(query.tuples()), s.survey_id, shown)
    return result


def _with_answers(found: list[tuple], survey_id: int, shown: list[Column]) -> list[dict]:
    """Rows of responses with their scale answers and comments (two queries), in order."""
    ids = [row[0] for row in found]
    text_questions = sorted(set().union(*comment_terms.comment_questions(survey_id).values()))
    wanted = [column.question for column in shown] + text_questions
    scores: dict[int, dict] = {i: {} for i in ids}
    comments: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        answers = (
            Answer.select(
                Answer.response,
                Answer.question_id,
                Answer.value_int,
                Answer.value_text,
                Answer.expectation,
            )
            # by response alone (answer_response): a condition on the question would let
            # SQLite read every answer to the question instead; the others are left out here
            .where(Answer.response.in_(ids))
            .order_by(Answer.id)
            .tuples()
        )
        texts, wanted = set(text_questions), set(wanted)
        for response_id, question, value, text, expectation in answers:
            if question not in wanted:
                continue
            if question in texts:
                if text:
                    comments[response_id].append(text)
            else:
                scores[response_id][question] = (value, expectation)
    names = reports.team_names({row[4] for row in found})
    return [
        {
            "id": rid,
            "submitted_at": submitted,
            "case": case_ref,
            "channel": channel,
            "team": names.get(team_id),
            "agent": agent,
            "scores": scores[rid],
            "comment": "\n".join(comments[rid]),
        }
        for rid, submitted, case_ref, channel, team_id, agent, _day in found
    ]


# --- the CSV download ------------------------------------------------------------------------

CSV_COLUMNS = (
    ("case", N_("Case")),
    ("submitted_at", N_("Submitted at")),
    ("channel", N_("Channel")),
    ("team", N_("Team")),
    ("agent", N_("Agent")),
)


def csv_rows(
    s: Slice,
    c: Criteria,
    definition: SurveyDefinition,
    config: Mapping[str, Any],
    lang: Language,
    tz: str,
    now: datetime | None = None,
) -> Iterator[list]:
    """The header (in ``lang``), then every response of the list in its order, as
    formula-safe cells: batches by keyset (submitted_at, id), one query of answers each."""
    shown = columns(definition, lang)
    score_heads = []
    for column in shown:
        if column.servqual:
            score_heads += [
                lang.gettext("%(name)s: expected", name=column.label),
                lang.gettext("%(name)s: perceived", name=column.label),
            ]
        else:
            score_heads.append(column.label)
    yield [*headers(CSV_COLUMNS, lang), *score_heads, lang.gettext("Comment")]
    zone = ZoneInfo(tz)
    now = now or utcnow()
    after = None
    while True:
        query = select(s, c, definition, config, now, _ROW_COLUMNS)
        if after is not None:  # after the last row written, in the list's order
            day, submitted, last = after
            query = query.where(
                (Response.day < day)
                | (
                    (Response.day == day)
                    & (
                        (Response.submitted_at < submitted)
                        | ((Response.submitted_at == submitted) & (Response.id < last))
                    )
                )
            )
        batch = list(query.order_by(*NEWEST_FIRST).limit(BATCH).tuples())
        if not batch:
            return
        after = (batch[-1][-1], batch[-1][1], batch[-1][0])
        for row in _with_answers(batch, s.survey_id, shown):
            scores = []
            for column in shown:
                value, expectation = row["scores"].get(column.question, (None, None))
                scores += [expectation, value] if column.servqual else [value]
            local = row["submitted_at"].replace(tzinfo=UTC).astimezone(zone)
            yield [
                safe_cell(v)
                for v in (
                    row["case"],
                    local.strftime("%Y-%m-%d %H:%M"),
                    channel_name(row["channel"], lang),
                    row["team"],
                    row["agent"],
                    *scores,
                    row["comment"] or None,
                )
            ]
        if len(batch) < BATCH:
            return


# --- the list in words ------------------------------------------------------------------------

WHAT = {
    ("responses", None): N_("All answers"),
    ("csat", "answered"): N_("CSAT answers"),
    ("csat", "satisfied"): N_("Satisfied (CSAT 4–5)"),
    ("csat", "not_satisfied"): N_("Not satisfied (CSAT 1–3)"),
    ("csat", "unhappy"): N_("Unhappy (CSAT 1–2)"),
    ("csat", "happy"): N_("Happy (CSAT 5)"),
    ("nps", "answered"): N_("NPS answers"),
    ("nps", "promoters"): N_("Promoters (NPS 9–10)"),
    ("nps", "passives"): N_("Passives (NPS 7–8)"),
    ("nps", "detractors"): N_("Detractors (NPS 0–6)"),
    ("ces", "answered"): N_("CES answers"),
    ("ces", "low_effort"): N_("Low effort (CES 5–7)"),
    ("response_rate", None): N_("Answered invitations (response rate)"),
    ("question", "answered"): N_("Answers to “%(question)s”"),
    ("question", "top_two"): N_("Top-two-box answers to “%(question)s”"),
    ("servqual", None): N_("SERVQUAL answers on “%(question)s”"),
    ("follow_up", "opened"): N_("Answers that opened a follow-up"),
    ("follow_up", "due"): N_("Answers whose follow-up was due or contacted"),
    ("follow_up", "on_time"): N_("Answers whose follow-up was contacted on time"),
    ("follow_up", "contacted"): N_("Answers whose follow-up was contacted"),
    ("follow_up", "closed"): N_("Answers whose follow-up was closed"),
    ("follow_up", "recovered"): N_("Answers whose follow-up was closed as recovered"),
}
SCORE_WHAT = {
    "csat": N_("CSAT %(score)d"),
    "nps": N_("NPS %(score)d"),
    "ces": N_("CES %(score)d"),
    "question": N_("“%(question)s” answered %(score)d"),
}
SIDE_WORDS = {
    True: {"unhappy": N_("unhappy customers (CSAT 1–2)"), "happy": N_("happy customers (CSAT 5)")},
    False: {"unhappy": N_("detractors (NPS 0–6)"), "happy": N_("promoters (NPS 9–10)")},
}
WITHOUT_WORDS = {"team": N_("no team"), "agent": N_("no agent"), "category": N_("no category")}
SOURCE_WORDS = {"link": N_("customers' own answers"), "callback": N_("recorded on call-backs")}


def question_label(definition: SurveyDefinition, question: str, lang: Language) -> str:
    """A question's short name (the id of one no longer in the survey)."""
    found = definition.question(question)
    return short_label(found, lang) if found else question


def band_name(c: Criteria, band: str, definition: SurveyDefinition, lang: Language) -> str:
    """A band of the list's measure in words: "Satisfied (CSAT 4–5)"."""
    measured = question_label(definition, c.questions[0], lang) if c.questions else ""
    return lang.gettext(WHAT[c.measure, band], question=measured)


def what(c: Criteria, definition: SurveyDefinition, lang: Language) -> str:
    """What the list holds, in words: "Unhappy (CSAT 1–2) whose comment holds “退款”"."""
    measured = question_label(definition, c.questions[0], lang) if c.questions else ""
    if c.score is not None:
        words = lang.gettext(SCORE_WHAT[c.measure], score=c.score, question=measured)
    else:
        words = lang.gettext(WHAT[c.measure, c.chosen_band], question=measured)
    also = c.questions[1:] if c.measure in QUESTION_MEASURES else c.questions
    if also:
        names = [f"“{question_label(definition, q, lang)}”" for q in also]
        words = lang.gettext(
            "%(what)s that also answered %(questions)s",
            what=words,
            questions=format_list(names, locale=lang.locale),
        )
    if c.term is not None:
        side = SIDE_WORDS[comment_terms.uses_csat(definition)][c.side]
        words = lang.gettext(
            "%(what)s: comments of %(side)s that hold “%(term)s”",
            what=words,
            side=lang.gettext(side),
            term=c.term,
        )
    return words


def where(c: Criteria, slice_words: Mapping[str, str | None], lang: Language) -> list[str]:
    """The slice in words: channel, team, agent, category, the empty columns and the source
    (the response rate counts every source)."""
    found = []
    if slice_words.get("channel"):
        found.append(channel_name(slice_words["channel"], lang))
    for key, message in (
        ("team", N_("team %(name)s")),
        ("agent", N_("agent %(name)s")),
        ("category", N_("category %(name)s")),
    ):
        if slice_words.get(key):
            found.append(lang.gettext(message, name=slice_words[key]))
    found += [lang.gettext(WITHOUT_WORDS[name]) for name in c.without]
    source = slice_words.get("source")
    if source in SOURCE_WORDS and c.measure != "response_rate":
        found.append(lang.gettext(SOURCE_WORDS[source]))
    return found


def when(c: Criteria, start: date, end: date, lang: Language) -> str:
    """The period in words, or the week, month or day of a point of a chart within it."""
    if c.bucket is None:
        return lang.interval(start, end)
    if c.per == "week":
        return lang.gettext("the week of %(day)s", day=lang.date(c.bucket))
    if c.per == "month":
        return lang.skeleton(c.bucket, "yMMM")
    return lang.date(c.bucket)


def describe(
    c: Criteria,
    definition: SurveyDefinition,
    slice_words: Mapping[str, Any],
    total: int,
    lang: Language,
) -> str:
    """The list in one sentence: "Unhappy (CSAT 1–2) in team 账务组, Nov 1 – 30, 2026: 13
    responses". ``slice_words``: channel, team, agent, category, source, start, end."""
    places = where(c, slice_words, lang)
    count_words = lang.ngettext("%(num)d response", "%(num)d responses", total)
    period = when(c, slice_words["start"], slice_words["end"], lang)
    if places:
        return lang.gettext(
            "%(what)s in %(where)s, %(when)s: %(count)s",
            what=what(c, definition, lang),
            where=format_list(places, locale=lang.locale),
            when=period,
            count=count_words,
        )
    return lang.gettext(
        "%(what)s, %(when)s: %(count)s",
        what=what(c, definition, lang),
        when=period,
        count=count_words,
    )
