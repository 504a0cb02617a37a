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

from peewee import Tuple

from .definitions import SurveyDefinition
from .i18n import Language
from .models import Answer, Case, Response, SurveyVersion, Team
from .names import BOXES, N_, SUGGESTION_STATUSES, name_of
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


def response_rows(
    s: Slice, definitions: list[SurveyDefinition], tz: str, lang: Language
) -> Iterator[list]:
    """The header (in ``lang``; question columns by their ids), then one list of cells per
    response of the slice, oldest first."""
    columns = question_columns(definitions)
    yield [*headers(CASE_COLUMNS, lang), *(name for name, _q, _p in columns)]
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
            for name, _question, _part in columns:
                found = cells.get(name)
                if found is None:
                    values.append(None)
                elif len(found) == 1:
                    values.append(found[0])
                else:  # multi: the chosen values, in order
                    values.append("; ".join(str(v) for v in found))
            yield [
                safe_cell(v)
                for v in (
                    rid,
                    local.strftime("%Y-%m-%d %H:%M:%S"),
                    case_ref,
                    channel,
                    teams.get(team_id),
                    agent,
                    category,
                    source,
                    locale,
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


def table_csv(header, rows) -> bytes:
    """A small table as CSV bytes (BOM, formula-safe cells)."""
    return b"".join(csv_stream([list(header), *([safe_cell(v) for v in row] for row in rows)]))


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
