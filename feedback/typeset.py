"""Setting text on matplotlib pages, in points: measure it, wrap mixed Chinese and Latin text,
size table columns, flow blocks of lines into columns and pages, draw them.

The meeting pack says what goes on its pages; this module says how text is set there. Widths come
from the glyph advances of the fonts matplotlib draws with (Noto Sans CJK SC, then DejaVu Sans for
what Noto lacks), so a line measured here is the line drawn. Why our own code rather than a
typesetting library: docs/architecture.md, "Meeting pack typesetting".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font, LoadFlags
from matplotlib.lines import Line2D

from . import charts  # registers Noto Sans CJK SC with matplotlib
from .cache import cached

PT_PER_INCH = 72
FAMILIES = [charts.FONT_FAMILY, "DejaVu Sans"]
MISSING = "□"  # drawn for a character that neither font has (a recent emoji, say)
_MEASURE_LOCK = threading.Lock()

# --- measuring ----------------------------------------------------------------------------------


@cached(maxsize=2)  # bold or not
def _font_files(bold: bool) -> tuple[str, ...]:
    """The files matplotlib draws the house style's text from: Noto, then DejaVu Sans."""
    weight = "bold" if bold else "normal"
    return tuple(
        font_manager.findfont(
            FontProperties(family=family, weight=weight), fallback_to_default=False
        )
        for family in FAMILIES
    )


@cached(maxsize=2)
def _fonts(bold: bool) -> tuple[FT2Font, ...]:
    # Our own FT2Font objects: matplotlib's cached ones are resized by every renderer.
    fonts = tuple(FT2Font(path) for path in _font_files(bold))
    for font in fonts:
        font.set_size(100, 72)  # 100 pixels to the em: advances come out in hundredths of em
    return fonts


@cached(maxsize=65536)
def _advance(char: str, bold: bool) -> float | None:
    """The advance width of a character in ems, from the first font that has it; None if none."""
    with _MEASURE_LOCK:
        for font in _fonts(bold):
            if font.get_char_index(ord(char)):
                glyph = font.load_char(ord(char), flags=LoadFlags.NO_HINTING)
                return glyph.linearHoriAdvance / 65536 / 100
    return None


def clean(text: str) -> str:
    """Text as it is drawn: plain line breaks, no control characters, and a visible box for a
    character that no font has."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(
        char
        if char == "\n" or (char.isprintable() and _advance(char, False) is not None)
        else (" " if not char.isprintable() else MISSING)
        for char in text
    )


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width of one line of text in points at ``size`` points (no kerning: a hair wide)."""
    return size * sum(_advance(char, bold) or _advance(MISSING, bold) for char in text)


def first_fitting(candidates: Sequence[str], room: float, size: float) -> str:
    """The first text (longest first) at most ``room`` points wide; the last one whatever its
    width."""
    for text in candidates:
        if text_width(text, size) <= room:
            return text
    return candidates[-1]


# --- wrapping -----------------------------------------------------------------------------------

_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+\s*|\s+")
# No line starts with a closing mark (it hangs at the end of the line before) ...
NO_LINE_START = set("，。、；：？！）》」』】〕〉…,.;:?!)]}%’”·")
# ... and none ends with an opening one (it moves down with what it opens).
NO_LINE_END = set("（《「『【〔〈([{‘“")


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Lines of at most ``width`` points at ``size`` points: between words in Latin text, between
    any two characters in Chinese, never before a closing mark (it hangs at the line's end) or
    after an opening one. Each line break in the text starts a new line; empty lines go.

    Keeps 2% in hand: a bitmap renderer rounds each glyph's advance to whole pixels."""
    width *= 0.98
    lines: list[str] = []
    for paragraph in clean(text).split("\n"):
        line = ""
        for token in _TOKEN.findall(paragraph):
            if (
                line.strip()
                and text_width((line + token).rstrip(), size, bold) > width
                and token[0] not in NO_LINE_START
            ):
                carry = ""
                while line and line[-1] in NO_LINE_END:
                    carry, line = line[-1] + carry, line[:-1]
                if line.strip():
                    lines.append(line.rstrip())
                    line = carry
                else:  # nothing but opening marks: they stay, whatever the width
                    line += carry
                if not line:
                    token = token.lstrip()
            if text_width((line + token).rstrip(), size, bold) > width:
                # a word longer than a line: cut it where it reaches the end of the line
                for char in token:
                    if (
                        line.strip()
                        and text_width(line + char, size, bold) > width
                        and char not in NO_LINE_START
                    ):
                        lines.append(line.rstrip())
                        line = ""
                    if line or not char.isspace():
                        line += char
                continue
            line += token
        if line.strip():
            lines.append(line.rstrip())
    return lines


def joined(parts: Sequence[str], width: float, size: float, separator: str = " · ") -> list[str]:
    """The parts joined by ``separator`` into lines of at most ``width``, breaking between parts
    (and inside a part only when it is too long by itself)."""
    lines: list[str] = []
    for part in parts:
        if lines and text_width(f"{lines[-1]}{separator}{part}", size) <= width:
            lines[-1] = f"{lines[-1]}{separator}{part}"
        else:
            lines += wrap(part, width, size) or [""]
    return lines


def at_most(text: str, count: int, width: float, size: float, bold: bool = False) -> list[str]:
    """The text wrapped into at most ``count`` lines, the last one cut to end in "…" if there
    were more; one empty line for no text."""
    lines = wrap(text, width, size, bold)
    if len(lines) <= count:
        return lines or [""]
    last = lines[count - 1]
    while last and text_width(last + " …", size, bold) > width:
        last = last[:-1]
    return [*lines[: count - 1], last.rstrip("，,、 ") + " …"]


# --- tables -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A table cell as it is measured: its text, size in points and weight."""

    text: str
    size: float
    bold: bool = False


def table_columns(
    rows: Sequence[Sequence[Cell]], left: float, right: float, gap: float
) -> tuple[list[float], float]:
    """Where each column starts, each as wide as its widest cell, and the factor (at most 1) by
    which every size shrinks so the table fits between ``left`` and ``right``."""
    widths = [
        max(text_width(cell.text, cell.size, cell.bold) for cell in column)
        for column in zip(*rows, strict=True)
    ]
    across = min(1.0, (right - left - gap * (len(widths) - 1)) / sum(widths))
    xs, x = [], left
    for width in widths:
        xs.append(x)
        x += width * across + gap
    return xs, across


# --- columns and pages --------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A line in a column: kind (the caller's, or "rule" between two blocks), text, and its
    top, in points below the top of the column."""

    kind: str
    text: str
    top: float


@dataclass(frozen=True)
class Columns:
    """How blocks flow: each kind's leading, a column's height, the gap (with a rule in the
    middle) between two blocks, how many columns make a page, and the kinds of a block's head
    (repeated where the block goes on) and of its body (``keep`` lines of it stay together)."""

    leading: dict[str, float]
    height: float
    gap: float
    per_page: int
    head: str
    body: str
    keep: int = 2


def flow(
    blocks: Sequence[Sequence[tuple[str, str]]],
    columns_: Columns,
    continued: Callable[[int], Sequence[tuple[str, str]]],
) -> list[list[list[Line]]]:
    """Pages of columns of lines. A block (its (kind, text) lines) moves whole to the next column
    when it fits there; one longer than a column is split and goes on under the head lines
    ``continued(index of the block)`` gives, with at least ``keep`` lines on each side. No blocks
    give one empty page."""
    leading, height, gap = columns_.leading, columns_.height, columns_.gap
    columns: list[list[Line]] = [[]]
    used = 0.0

    def fitting(lines: Sequence[tuple[str, str]], room: float) -> int:
        count = 0
        for kind, _text in lines:
            room -= leading[kind]
            if room < 0:
                break
            count += 1
        return count

    for index, block in enumerate(blocks):
        lines = list(block)
        size = sum(leading[kind] for kind, _ in lines)
        least = leading[columns_.head] + columns_.keep * leading[columns_.body]
        if (
            columns[-1]
            and used + gap + size > height
            and (size <= height or height - used - gap < least)
        ):
            columns.append([])  # whole in the next column, or too little room here to start it
            used = 0.0
        while True:
            space = gap if columns[-1] else 0.0
            count = fitting(lines, height - used - space)
            if count < len(lines):
                count = min(count, len(lines) - columns_.keep)  # no lone line at the top
                head = sum(1 for kind, _ in lines if kind == columns_.head)
                if count < head + columns_.keep:
                    if columns[-1]:
                        columns.append([])
                        used = 0.0
                        continue
                    count = max(count, 1)  # a fresh column always takes something
            if space:
                columns[-1].append(Line("rule", "", used + space / 2))
                used += space
            for kind, text in lines[:count]:
                columns[-1].append(Line(kind, text, used))
                used += leading[kind]
            if count >= len(lines):
                break
            lines = [*continued(index), *lines[count:]]
            columns.append([])
            used = 0.0
    if not columns[-1]:
        columns.pop()
    if not columns:
        return [[[]]]
    return [columns[i : i + columns_.per_page] for i in range(0, len(columns), columns_.per_page)]


def runs(column: Sequence[Line], kind: str, leading: float) -> list[tuple[float, float]]:
    """(top, bottom) of each run of consecutive lines of ``kind``, in points."""
    found: list[tuple[float, float]] = []
    for line in column:
        if line.kind != kind:
            continue
        bottom = line.top + leading
        if found and abs(found[-1][1] - line.top) < 0.01:
            found[-1] = (found[-1][0], bottom)
        else:
            found.append((line.top, bottom))
    return found


# --- drawing ------------------------------------------------------------------------------------


class Page:
    """A page (a bare matplotlib ``Figure``), written on in points from the top-left corner."""

    def __init__(self, inches: tuple[float, float] = charts.FIGURE_INCHES):
        self.figure = Figure(figsize=inches)
        self.width, self.height = inches[0] * PT_PER_INCH, inches[1] * PT_PER_INCH

    def text(self, x: float, y: float, text: str, size: float, **kwargs):
        """Text whose top-left (or as ``ha``/``va`` say) corner is x, y points from top-left."""
        kwargs.setdefault("va", "top")
        kwargs.setdefault("color", "#222222")
        # Noto first, DejaVu Sans for the glyphs it lacks: a list of families makes matplotlib
        # fall back glyph by glyph (the house style's generic "sans-serif" resolves to Noto only)
        kwargs.setdefault("fontfamily", FAMILIES)
        return self.figure.text(x / self.width, 1 - y / self.height, text, fontsize=size, **kwargs)

    def rule(
        self, x0: float, x1: float, y: float, colour: str = charts.LIGHT_GREY, width: float = 1.0
    ) -> None:
        """A horizontal line from x0 to x1 at y."""
        self._line([x0, x1], [y, y], colour, width)

    def vrule(self, x: float, y0: float, y1: float, colour: str, width: float) -> None:
        """A vertical line from y0 to y1 at x, cut square at its ends."""
        self._line([x, x], [y0, y1], colour, width, solid_capstyle="butt")

    def _line(self, xs, ys, colour: str, width: float, **kwargs) -> None:
        self.figure.add_artist(
            Line2D(
                [x / self.width for x in xs],
                [1 - y / self.height for y in ys],
                color=colour,
                linewidth=width,
                transform=self.figure.transFigure,
                **kwargs,
            )
        )
