"""Files for people: raw responses as CSV or XLSX, streamed; safe against formula injection.

Rows are read in batches by keyset ((day, id) after the last row, which the index on
(survey_id, day, id) serves in order), with one query for a batch's answers, so a million
responses never sit in memory, no query runs per row, and no batch sorts the whole period.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from peewee import Tuple

from .definitions import SurveyDefinition
from .i18n import Language
from .models import Answer, Case, Response, SurveyVersion, Team
from .names import BOXES, N_, SOURCES, SUGGESTION_STATUSES, channel_name, name_of
from .reports import Slice, _response_conditions
from .suggestions import Triage, export_query
from .suggestions import categories as suggestion_categories

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The control characters an XLSX cell cannot hold (XML 1.0 forbids them): all below U+0020 but
# tab, line feed and carriage return. openpyxl refuses a text with one (IllegalCharacterError).
XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
BATCH = 2000
# (key, header): the headers are gettext messages, written in the reader's language
CASE_COLUMNS = (
    ("response_id", N_("Response")),
    ("submitted_at", N_("Submitted at")),
    ("case_id", N_("Case")),
    ("channel", N_("Channel")),
    ("team", N_("Team")),
    ("agent", N_("Agent")),
    ("category", N_("Category")),
    ("source", N_("Source")),
    ("locale", N_("Language")),
    ("survey_version", N_("Survey version")),
)


SERVQUAL_PARTS = {"expectation": N_("%(name)s: expected"), "perception": N_("%(name)s: perceived")}


def headers(columns, lang: Language) -> list[str]:
    """The header row of (key, message) columns in ``lang``."""
    return [lang.gettext(message) for _key, message in columns]


def yes_no(value: bool, lang: Language) -> str:
    return lang.gettext("yes") if value else lang.gettext("no")


def safe_cell(value):
    """A value a spreadsheet will show as text, never run: text starting like a formula gets a
    leading apostrophe. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def xlsx_text(value):
    """A cell value an XLSX file can hold: each forbidden control character becomes U+FFFD (the
    replacement character), so the reader sees that something was there. Others stay as given."""
    if isinstance(value, str) and XLSX_ILLEGAL.search(value):
        return XLSX_ILLEGAL.sub("\ufffd", value)
    return value


def question_columns(definitions: Iterable[SurveyDefinition]) -> list[tuple[str, str, str]]:
    """(column name, question id, part) for every question of every version, newest first.

    A servqual question has two columns (expectation and perception); a question removed in a
    later version keeps its column, so old answers stay in the export.
    """
    columns, seen = [], set()
    for definition in definitions:
        for q in definition.questions:
            parts = ("expectation", "perception") if q.type == "servqual" else ("",)
            for part in parts:
                name = f"{q.id}_{part}" if part else q.id
                if name not in seen:
                    seen.add(name)
                    columns.append((name, q.id, part))
    return columns


def question_heads(
    definitions: list[SurveyDefinition], columns: list[tuple[str, str, str]], lang: Language
) -> list[str]:
    """Each question column's head in ``lang``, as the responses list's download heads it: CSAT,
    NPS, CES, a SERVQUAL dimension with its part, else the question's text (of the newest
    version that asks it); the id after a head two questions share."""
    from .drilldown import short_label  # drilldown builds on this module

    questions = {}
    for definition in reversed(definitions):  # oldest first: the newest wording wins
        for q in definition.questions:
            questions[q.id] = q
    heads, seen = [], set()
    for _name, question_id, part in columns:
        text = short_label(questions[question_id], lang)
        if part:
            text = lang.gettext(SERVQUAL_PARTS[part], name=text)
        if text in seen:
            text = lang.gettext("%(text)s (%(id)s)", text=text, id=question_id)
        seen.add(text)
        heads.append(text)
    return heads


def answer_words(definitions: list[SurveyDefinition], lang: Language):
    """A function giving an answer as the reader reads it: a choice's or yes/no's label in
    ``lang`` (of the newest version that has it), several chosen ones joined; numbers as they
    are; texts as the customer wrote them."""
    labels: dict[str, dict[str, str]] = {}
    for definition in reversed(definitions):
        for q in definition.questions:
            for choice in q.choices:
                labels.setdefault(q.id, {})[choice.value] = choice.label.get(lang.code)
    joiner = lang.gettext("; ")

    def words(question_id: str, found: list):
        known = labels.get(question_id, {})
        shown = [known.get(v, v) if isinstance(v, str) else v for v in found]
        return shown[0] if len(shown) == 1 else joiner.join(str(v) for v in shown)

    return words


def source_name(key: str | None, lang: Language) -> str:
    return name_of(SOURCES, key, lang)


def language_name(code: str | None, lang: Language) -> str | None:
    """A response's language named in the reader's (中文, English; Chinese, 英语)."""
    if not code:
        return None
    try:
        return Locale.parse(code).get_language_name(lang.locale) or code
    except (ValueError, UnknownLocaleError):
        return code


def response_rows(
    s: Slice, definitions: list[SurveyDefinition], tz: str, lang: Language
) -> Iterator[list]:
    """The header (in ``lang``; each question by its text), then one list of cells per response
    of the slice, oldest first: channels, sources, languages and the customers' choices in
    words in ``lang``, scores as numbers."""
    columns = question_columns(definitions)
    yield [*headers(CASE_COLUMNS, lang), *question_heads(definitions, columns, lang)]
    words = answer_words(definitions, lang)
    zone = ZoneInfo(tz)
    teams = dict(Team.select(Team.id, Team.name).tuples())
    versions = dict(SurveyVersion.select(SurveyVersion.id, SurveyVersion.version).tuples())
    after = None  # keyset (day, id) of the last row written
    while True:
        conditions = list(_response_conditions(s))
        if after is not None:
            conditions.append(Tuple(Response.day, Response.id) > Tuple(*after))
        batch = list(
            Response.select(
                Response.id,
                Response.submitted_at,
                Case.case_ref,
                Response.channel,
                Response.team,
                Response.agent,
                Response.category,
                Response.source,
                Response.locale,
                Response.survey_version,
                Response.day,
            )
            .join(Case)
            .where(*conditions)
            .order_by(Response.day, Response.id)
            .limit(BATCH)
            .tuples()
        )
        if not batch:
            return
        after = (batch[-1][-1], batch[-1][0])
        answers: dict[int, dict[str, list]] = {}
        for response_id, question_id, value_int, value_text, expectation in (
            Answer.select(
                Answer.response,
                Answer.question_id,
                Answer.value_int,
                Answer.value_text,
                Answer.expectation,
            )
            .where(Answer.response.in_([row[0] for row in batch]))
            .order_by(Answer.id)
            .tuples()
        ):
            cells = answers.setdefault(response_id, {})
            if expectation is not None:
                cells[f"{question_id}_expectation"] = [expectation]
                cells[f"{question_id}_perception"] = [value_int]
            else:
                cells.setdefault(question_id, []).append(
                    value_int if value_int is not None else value_text
                )
        for (
            rid,
            submitted,
            case_ref,
            channel,
            team_id,
            agent,
            category,
            source,
            locale,
            version_id,
            _day,
        ) in batch:
            local = submitted.replace(tzinfo=UTC).astimezone(zone)
            cells = answers.get(rid, {})
            values = []
            for name, question, _part in columns:
                found = cells.get(name)
                # a multi question's chosen values, in order, are joined
                values.append(None if found is None else words(question, found))
            yield [
                safe_cell(v)
                for v in (
                    rid,
                    local.strftime("%Y-%m-%d %H:%M:%S"),
                    case_ref,
                    channel_name(channel, lang),
                    teams.get(team_id),
                    agent,
                    category,
                    source_name(source, lang),
                    language_name(locale, lang),
                    versions.get(version_id),
                    *values,
                )
            ]


def csv_stream(rows: Iterable[list]) -> Iterator[bytes]:
    """UTF-8 CSV with a byte-order mark (so Excel shows Chinese), a few hundred rows a chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff".encode()
    for number, row in enumerate(rows, start=1):
        writer.writerow(["" if v is None else v for v in row])
        if number % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


# A chart table's numbers in its CSV as its page shows them: at most two decimals.
TABLE_PLACES = 2


def table_number(value):
    """A float rounded as the chart's page shows it (69.38775… → 69.39, 0.5830… → 0.58; no
    -0.0); anything else as it is."""
    if isinstance(value, float):
        return round(value, TABLE_PLACES) + 0.0
    return value


def table_csv(header, rows) -> bytes:
    """A small table as CSV bytes (BOM, formula-safe cells, numbers as the page rounds them)."""
    return b"".join(
        csv_stream([list(header), *([safe_cell(table_number(v)) for v in row] for row in rows)])
    )


def xlsx_file(rows: Iterable[list], sheet_title: str = "responses"):
    """Write rows to an XLSX workbook in write-only mode (rows go straight to disk) and return
    the open temporary file, positioned at its start. Texts are cleaned by ``xlsx_text`` here,
    the one place every XLSX export passes through."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    for row in rows:
        sheet.append([xlsx_text(v) for v in row])
    handle = tempfile.TemporaryFile()
    workbook.save(handle)
    handle.seek(0)
    return handle


def file_chunks(handle, size: int = 64 * 1024) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(size):
            yield chunk


def export_name(
    kind: str, s: Slice, survey: str, extension: str, now: datetime | None = None
) -> str:
    """A file name that says what and when: feedback-responses-post-case-2026-10-01-to-..."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M")
    return (
        f"feedback-{kind}-{survey}-{s.start.isoformat()}-to-{s.end.isoformat()}-{stamp}.{extension}"
    )


SUGGESTION_COLUMNS = (
    ("number", N_("Number")),
    ("box", N_("Box")),
    ("category", N_("Category")),
    ("title", N_("Title")),
    ("suggestion", N_("Suggestion")),
    ("status", N_("Status")),
    ("anonymous", N_("Anonymous")),
    ("name", N_("Name")),
    ("email", N_("Email address")),
    ("team", N_("Team")),
    ("owner", N_("Owner")),
    ("received", N_("Received")),
    ("reply_due", N_("Reply due")),
    ("first_reply", N_("First reply")),
    ("working_days_to_first_reply", N_("Working days to the first reply")),
    ("done", N_("Done")),
    ("merged_into", N_("Merged into")),
    ("public", N_("Public")),
)


def suggestion_rows(triage: Triage, tz: str, lang: Language) -> Iterator[list]:
    """The suggestions a triage list selects, oldest first, as formula-safe rows after a header;
    headers, boxes, statuses and yes/no in ``lang``.

    An anonymous suggestion's name and email columns are empty: nothing identifying is stored
    for it, so there is nothing to export."""
    zone = ZoneInfo(tz)

    def local(moment):
        if moment is None:
            return None
        return (
            moment.replace(tzinfo=UTC)
            .astimezone(zone)
            .replace(tzinfo=None)
            .isoformat(sep=" ", timespec="minutes")
        )

    categories = {c.slug: c.name(lang.code) for c in suggestion_categories(active_only=False)}
    yield headers(SUGGESTION_COLUMNS, lang)
    for row in export_query(triage):
        yield [
            safe_cell(v)
            for v in (
                row["id"],
                name_of(BOXES, row["box"], lang),
                categories.get(row["category"], row["category"]),
                row["title"],
                row["body"],
                name_of(SUGGESTION_STATUSES, row["status"], lang),
                yes_no(row["anonymous"], lang),
                row["name"],
                row["email"],
                row["team"],
                row["owner"],
                local(row["created_at"]),
                local(row["reply_due_at"]),
                local(row["first_reply_at"]),
                None if row["first_reply_days"] is None else round(row["first_reply_days"], 2),
                local(row["done_at"]),
                row["merged_into_id"],
                yes_no(row["public"], lang),
            )
        ]
