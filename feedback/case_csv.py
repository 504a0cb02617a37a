"""The CSV files of resolved cases that ``import-cases`` reads, as Excel and helpdesks save them.

Pure functions over bytes and text (no Flask, no database). Excel in China saves "CSV" in the
Windows code page (GBK, read here as its superset GB18030), "CSV UTF-8" as UTF-8 with a BOM and
"Unicode text" as tab-separated UTF-16 with a BOM; all of them are read, and anything else gets
a message saying how to save the file from Excel.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

EXCEL_HOW_TO = (
    "In Excel choose File > Save As and the type 'CSV UTF-8 (comma delimited) "
    "(*.csv)' (in Chinese Excel: 'CSV UTF-8(逗号分隔)(*.csv)'), then import that file."
)


class FileError(ValueError):
    """A file that cannot be read as cases; the message says why (and how to mend it)."""


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the name of the encoding it was read in.

    A BOM decides (UTF-8, UTF-16 LE/BE); without one, NUL bytes mean UTF-16 (or not text at
    all), then UTF-8 is tried, then GB18030 (GBK and GB2312 are subsets of it).
    """
    for bom, codec, name in (
        (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
        (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec), name
            except UnicodeDecodeError as exc:
                raise FileError(
                    f"starts like {name} text, but line {_line_at(data, exc.start)} "
                    f"is not {name}. {EXCEL_HOW_TO}"
                ) from None
    if data.startswith(b"PK\x03\x04"):
        raise FileError(
            f"is an Excel workbook (.xlsx) or another zip file, not CSV. {EXCEL_HOW_TO}"
        )
    head = data[:4096]
    if b"\x00" in head:
        codec = (
            "utf-16-le"
            if head[1::2].count(0) * 2 > len(head[1::2])
            else "utf-16-be"
            if head[0::2].count(0) * 2 > len(head[0::2])
            else None
        )
        if codec:
            try:
                return data.decode(codec), "UTF-16"
            except UnicodeDecodeError:
                pass
        raise FileError(f"is not text (it holds NUL bytes). {EXCEL_HOW_TO}")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        return data.decode("gb18030"), "GBK/GB18030"
    except UnicodeDecodeError:
        raise FileError(
            f"is neither UTF-8, UTF-16 nor GBK/GB18030 text (line "
            f"{_line_at(data, first_bad)} is the first that fits none). "
            f"{EXCEL_HOW_TO}"
        ) from None


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def delimiter_of(text: str) -> str:
    """A tab when the header line holds one (Excel's "Unicode text"), else a comma."""
    return "\t" if "\t" in text.split("\n", 1)[0] else ","


def records(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on; a quoted value may span lines. Blank lines are
    skipped. A malformed record raises FileError naming its first line."""
    # newline="": a quoted value keeps its line breaks, and only \r and \n end a line
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    end = 0
    while True:
        start = end + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a value longer than the csv module takes
            raise FileError(f"line {start}: {exc}") from None
        end = reader.line_num
        if values:
            yield start, values


def row_problem(values: list[str], columns: int, delimiter: str) -> str | None:
    """Why a record cannot be matched to the header's columns, or None."""
    if len(values) > columns:
        sign = "tab" if delimiter == "\t" else "comma"
        return (
            f"has {len(values)} values but the header names {columns} columns (a value "
            f"that holds a {sign} must be in double quotes)"
        )
    return None
