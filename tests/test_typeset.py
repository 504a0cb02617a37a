"""Setting text on pages: measuring, wrapping Chinese and Latin text, table columns, columns and
pages (feedback.typeset, which the meeting pack draws with)."""

from __future__ import annotations

import pytest

from feedback import typeset

WIDTH = 400.0  # points, about the meeting pack's comment column


# --- measuring ----------------------------------------------------------------------------------


def test_widths_come_from_the_fonts():
    # a Chinese character is one em wide in Noto Sans CJK; Latin letters are narrower
    assert typeset.text_width("中", 10) == pytest.approx(10, rel=0.01)
    assert typeset.text_width("中文", 10) == pytest.approx(2 * typeset.text_width("中", 10))
    assert typeset.text_width("i", 10) < typeset.text_width("m", 10) < 10
    assert typeset.text_width("m", 10, bold=True) > typeset.text_width("m", 10)
    assert typeset.text_width("", 10) == 0


def test_a_character_no_font_has_is_shown_as_a_box():
    # a flamingo is in neither Noto Sans CJK nor DejaVu Sans; a stray control character goes
    assert typeset.clean("ok\U0001f9a9\tfine\x07\r\n") == f"ok{typeset.MISSING} fine \n"


def test_the_first_candidate_that_fits():
    long, short = "a long corner text, page 3 of 12", "page 3 of 12"
    room = typeset.text_width(short, 11) + 1
    assert typeset.first_fitting([long, short], room, 11) == short
    assert typeset.first_fitting([long, short], 1000, 11) == long
    assert typeset.first_fitting([long, short], 1, 11) == short  # the last, whatever its width


# --- wrapping -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "等了很久才有人处理，体验很差。" * 12,
        "I called three times about the same broken router and explained it all again. " * 6,
        "混合 mixed 文本，with English words 和中文（括号）“引号”。" * 8,
        "https://example.com/" + "a" * 300,
    ],
)
def test_wrapped_lines_fit_and_keep_the_line_rules(text):
    lines = typeset.wrap(text, WIDTH, 15)
    assert len(lines) > 1
    for line in lines:
        # a closing mark may hang past the end, never start a line
        assert typeset.text_width(line.rstrip("，。）”"), 15) <= WIDTH
        assert line[0] not in typeset.NO_LINE_START
        assert line[-1] not in typeset.NO_LINE_END
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").strip()


def test_latin_breaks_between_words_and_chinese_between_characters():
    english = typeset.wrap("alpha beta gamma delta epsilon zeta eta theta " * 10, 200, 15)
    words = set("alpha beta gamma delta epsilon zeta eta theta".split())
    assert all(set(line.split()) <= words for line in english)  # no word cut in two
    chinese = typeset.wrap("服务很好" * 40, 200, 15)
    # as many characters on each full line as fit in the width
    per_line = int(200 * 0.98 // typeset.text_width("服", 15))
    assert [len(line) for line in chinese[:-1]] == [per_line] * (len(chinese) - 1)


def test_a_closing_mark_hangs_and_an_opening_one_moves_down():
    size = 15
    width = typeset.text_width("一二三四五", size) / 0.98
    # the comma would start the second line: it stays on the first, past the width
    assert typeset.wrap("一二三四五，六七", width, size) == ["一二三四五，", "六七"]
    # the opening bracket would end the first line: it moves down with what it opens
    assert typeset.wrap("一二三四（五六）", width, size) == ["一二三四", "（五六）"]


def test_line_breaks_in_the_text_are_kept_and_empty_lines_go():
    assert typeset.wrap("first\r\n\r\nsecond\tline", WIDTH, 15) == ["first", "second line"]


def test_parts_join_on_one_line_while_they_fit():
    parts = ["2026-10-31 21:44", "CSAT 1", "NPS 2", "电话"]
    assert typeset.joined(parts, WIDTH, 12) == ["2026-10-31 21:44 · CSAT 1 · NPS 2 · 电话"]
    narrow = typeset.text_width("2026-10-31 21:44 · CSAT 1", 12) + 1
    assert typeset.joined(parts, narrow, 12) == ["2026-10-31 21:44 · CSAT 1", "NPS 2 · 电话"]


def test_at_most_cuts_the_last_line_with_an_ellipsis():
    text = "团队甲，团队乙，团队丙，" * 20
    lines = typeset.wrap(text, 150, 14)
    assert len(lines) > 3
    kept = typeset.at_most(text, 3, 150, 14)
    assert kept[:2] == lines[:2] and kept[2].endswith(" …")
    assert typeset.text_width(kept[2], 14) <= 150
    assert typeset.at_most("团队甲，团队乙", 3, 150, 14) == ["团队甲，团队乙"]
    assert typeset.at_most("", 3, 150, 14) == [""]
    bold = typeset.at_most("Where it stands, and what comes next", 1, 80, 12, bold=True)
    assert bold[0].endswith(" …") and typeset.text_width(bold[0], 12, True) <= 80


# --- tables -------------------------------------------------------------------------------------


def test_table_columns_are_as_wide_as_their_widest_cell():
    rows = [
        [typeset.Cell("指标", 13, True), typeset.Cell("数值", 13, True)],
        [typeset.Cell("满意度 CSAT", 16, True), typeset.Cell("61.2%", 16)],
        [typeset.Cell("NPS", 16, True), typeset.Cell("12.4 (n=1,234)", 16)],
    ]
    xs, across = typeset.table_columns(rows, 10, 900, gap=18)
    assert across == 1.0
    assert xs[0] == 10
    assert xs[1] == pytest.approx(10 + typeset.text_width("满意度 CSAT", 16, True) + 18)


def test_a_table_too_wide_shrinks_to_fit():
    rows = [[typeset.Cell("很长的单元格" * 10, 16)] * 3]
    xs, across = typeset.table_columns(rows, 0, 600, gap=20)
    assert across < 1
    width = typeset.text_width("很长的单元格" * 10, 16)
    assert xs[-1] + width * across == pytest.approx(600)


# --- columns and pages --------------------------------------------------------------------------

LEADING = {"head": 10.0, "body": 20.0}
COLUMNS = typeset.Columns(LEADING, height=100.0, gap=10.0, per_page=2, head="head", body="body")


def block(name: str, lines: int) -> list[tuple[str, str]]:
    return [("head", name), *(("body", f"{name} {i}") for i in range(lines))]


def continued(index: int) -> list[tuple[str, str]]:
    return [("head", f"block {index} (continued)")]


def bottoms(pages) -> list[float]:
    return [
        max(line.top + LEADING.get(line.kind, 0.0) for line in column)
        for page in pages
        for column in page
    ]


def test_blocks_fill_a_column_with_a_rule_between_them():
    pages = typeset.flow([block("a", 1), block("b", 1)], COLUMNS, continued)
    assert len(pages) == 1 and len(pages[0]) == 1
    column = pages[0][0]
    assert [line.kind for line in column] == ["head", "body", "rule", "head", "body"]
    assert [line.top for line in column] == [0, 10, 35, 40, 50]


def test_a_block_that_fits_the_next_column_moves_there_whole():
    pages = typeset.flow([block("a", 3), block("b", 3)], COLUMNS, continued)
    first, second = pages[0]
    assert [line.text for line in first] == ["a", "a 0", "a 1", "a 2"]
    assert [line.text for line in second] == ["b", "b 0", "b 1", "b 2"]


def test_a_block_longer_than_a_column_goes_on_under_its_head():
    pages = typeset.flow([block("a", 12)], COLUMNS, continued)
    columns = [column for page in pages for column in page]
    assert len(pages) == 2  # two columns a page
    assert len(columns) == 3
    for column in columns[1:]:
        assert column[0].text == "block 0 (continued)"
    assert sum(line.kind == "body" for column in columns for line in column) == 12
    assert all(bottom <= 100 for bottom in bottoms(pages))
    # at least two body lines on each side of a split
    assert all(sum(line.kind == "body" for line in column) >= 2 for column in columns)


def test_no_blocks_give_one_empty_page():
    assert typeset.flow([], COLUMNS, continued) == [[[]]]


def test_runs_of_lines_of_a_kind():
    column = typeset.flow([block("a", 2), block("b", 1)], COLUMNS, continued)[0][0]
    assert typeset.runs(column, "body", 20.0) == [(10.0, 50.0), (70.0, 90.0)]
