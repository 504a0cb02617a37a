"""A printable A4 poster for a suggestion box: a QR code of its address and a few words in
Chinese and English, as a matplotlib Figure (render it with ``charts.render``). Knows nothing of
Flask."""

from __future__ import annotations

import numpy as np
import segno
from matplotlib.figure import Figure

from . import charts
from .i18n import language
from .names import N_

A4_INCHES = (8.27, 11.69)
A4_PNG = (2480, 3508)  # 300 dpi

# A poster speaks both languages at once: each message in Chinese above English, from the catalogue.
WORDS = {
    "customer": (
        N_("Suggestion box"),
        N_("Scan to make a suggestion or complaint — anonymously if you wish"),
    ),
    "staff": (
        N_("Staff suggestion box"),
        N_("Scan to share an idea or a complaint — anonymously if you wish"),
    ),
}
PROMISE = N_("Every suggestion gets an answer; follow it with your tracking code.")


def _both(message: str) -> tuple[str, str]:
    """(Chinese, English) of a message."""
    return language("zh_CN").gettext(message), language("en").gettext(message)


def qr_matrix(url: str) -> np.ndarray:
    """The QR code of ``url`` as a 0/1 array with its quiet zone (1 = dark module)."""
    code = segno.make(url, error="m", micro=False)
    return np.array([list(row) for row in code.matrix_iter(scale=1, border=4)], dtype=np.uint8)


def poster(url: str, box: str = "customer") -> Figure:
    """An A4 portrait poster for the box at ``url``."""
    if box not in WORDS:
        raise ValueError(f"box must be one of {', '.join(WORDS)}")
    title, line = WORDS[box]
    (title_zh, title_en), (line_zh, line_en) = _both(title), _both(line)
    promise_zh, promise_en = _both(PROMISE)
    with charts.house_style():
        figure = Figure(figsize=A4_INCHES)
        figure.patch.set_facecolor("white")
        figure.text(
            0.5,
            0.93,
            title_zh,
            ha="center",
            va="center",
            fontsize=44,
            fontweight="bold",
            color=charts.BLUE,
        )
        figure.text(0.5, 0.875, title_en, ha="center", va="center", fontsize=26, color=charts.BLUE)
        figure.text(0.5, 0.82, line_zh, ha="center", va="center", fontsize=20)
        figure.text(
            0.5, 0.79, line_en, ha="center", va="center", fontsize=13, color=charts.TEXT_GREY
        )
        axes = figure.add_axes((0.15, 0.22, 0.70, 0.70 * A4_INCHES[0] / A4_INCHES[1]))
        axes.imshow(1 - qr_matrix(url), cmap="gray", interpolation="nearest", vmin=0, vmax=1)
        axes.set_axis_off()
        figure.text(0.5, 0.19, url, ha="center", va="center", fontsize=14, family="monospace")
        figure.text(0.5, 0.11, promise_zh, ha="center", va="center", fontsize=16)
        figure.text(
            0.5, 0.08, promise_en, ha="center", va="center", fontsize=12, color=charts.TEXT_GREY
        )
    return figure
