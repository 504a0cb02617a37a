"""Chinese throughout: every interface string has a zh_CN translation, pages, forms, charts and
exports use it, and no template or module holds a word of its own outside the catalogue."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from support import new_case, post_form, survey_path

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "feedback" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
}


def source_messages() -> set[str]:
    found = set()
    for folder in ("feedback", "templates"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python"), ("**.html", "jinja2")],
            keywords=KEYWORDS,
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_interface_string_has_chinese():
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    # a plural entry's id and string are tuples: its singular, and every form translated
    translated = {
        m.id[0] if isinstance(m.id, tuple) else m.id
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(source_messages() - translated)
    assert not missing, (
        "untranslated (run tools/update_translations.py and translate):\n" + "\n".join(missing)
    )


def test_survey_errors_come_in_chinese(client, api_headers):
    path = survey_path(new_case(client, api_headers))
    page = client.get(path).get_data(as_text=True)
    from support import csrf_from

    reply = client.post(path, data={"csrf_token": csrf_from(page)}).get_data(as_text=True)
    assert "请回答此问题。" in reply and "提交回答" in reply


@pytest.mark.parametrize(
    ("lang", "required", "choice"),
    [
        ("zh_CN", "此项为必填项。", "不是有效的选项。"),
        ("en", "This field is required.", "Not a valid choice."),
    ],
)
def test_wtforms_own_messages_come_in_the_pages_language(client, lang, required, choice):
    client.get(f"/suggest/?lang={lang}")  # the switch is kept in the session
    suggestion = {"category": "999", "title": "排队太久", "body": "等了二十分钟。"}
    html = post_form(client, "/suggest/", {**suggestion, "identity": "anonymous"}).get_data(
        as_text=True
    )
    assert re.search(r'id="category-error">' + re.escape(choice), html)
    html = post_form(client, "/login", {"username": "", "password": ""}).get_data(as_text=True)
    assert re.search(r'id="username-error">' + re.escape(required), html)
    other = "This field is required." if lang == "zh_CN" else "此项为必填项。"
    assert other not in html


# --- no bare words in templates -----------------------------------------------------------------

# Removed before looking for words: Jinja comments, {% trans %} blocks, {{ expressions }} and
# {% tags %}; script, style, code and pre elements (code is not translated).
JINJA = re.compile(
    r"\{#.*?#\}|\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}", re.S
)
NOT_WORDS = re.compile(r"<(script|style|code|pre)\b.*?</\1>", re.S | re.I)
TAG = re.compile(r"<[^>]*>", re.S)
# attributes a person reads (or hears, from a screen reader)
READ_ATTRIBUTES = re.compile(
    r"""\b(title|alt|placeholder|aria-label|label)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I
)
ENTITY = re.compile(r"&#?\w+;")
WORD = re.compile(r"[^\W\d_]{2,}")  # two letters in a row, of any script

# Text that is the same in every language, with the reason.
TEMPLATE_WORDS_ALLOWED = {
    # file formats the dashboard offers, named as their programs name them
    "CSV",
    "Excel (XLSX)",
    "PNG 800×450",
    "PNG 1920×1080",
    "SVG",
    "PDF",
    # the metrics' abbreviations, written so in both languages (column heads, the hint line)
    "CSAT",
    "NPS",
    "CES",
    "· CSAT · NPS · · ·",
}


def bare_words(html: str) -> list[str]:
    """The text of a template that is neither inside a gettext call nor allowed."""
    html = NOT_WORDS.sub(" ", JINJA.sub(" ", html))
    found = []
    for tag in TAG.findall(html):
        for match in READ_ATTRIBUTES.finditer(tag):
            value = match.group(2) if match.group(2) is not None else match.group(3)
            if WORD.search(ENTITY.sub(" ", value)):
                found.append(match.group(0))
    for node in TAG.sub("\n", html).split("\n"):
        node = " ".join(ENTITY.sub(" ", node).split())
        if WORD.search(node) and node not in TEMPLATE_WORDS_ALLOWED:
            found.append(node)
    return found


def test_templates_hold_no_bare_words():
    found = {
        str(path.relative_to(ROOT)): words
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if (words := bare_words(path.read_text(encoding="utf-8")))
    }
    assert not found, "wrap these in {{ _() }} or {% trans %}: " + repr(found)


@pytest.mark.parametrize(
    "html",
    [
        "<p>Hello</p>",
        "<p>{{ _('Hi') }} there</p>",
        '<img alt="A chart" src="x.png">',
        '<input placeholder="名字">',
        "<td>你好</td>",
    ],
)
def test_the_template_scan_finds_a_bare_word(html):
    assert bare_words(html)


@pytest.mark.parametrize(
    "html",
    [
        "<p>{{ _('Hello') }}</p>",
        "<p>{% trans %}Hello {{ name }}{% endtrans %}</p>",
        '<img alt="{{ _(\'A chart\') }}" src="x.png">',
        "<td>42 – 7%</td><th>#</th><td>n = {{ n }}</td>",
        "<code>Authorization: Bearer &lt;token&gt;</code>",
        "{# a comment for the reader #}<th>CSAT</th>",
    ],
)
def test_the_template_scan_passes_translated_text_and_symbols(html):
    assert bare_words(html) == []


# --- no Chinese in modules outside the catalogue -----------------------------------------------

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Modules whose Chinese literals are content or data, not interface words, with the reason.
CHINESE_ALLOWED = {
    "feedback/demo.py": "demo data: names of people, teams and their comments",
    "feedback/i18n.py": "LANGUAGES: each language's name written in itself (中文), as switches show it",
    "feedback/suggestions.py": "DEFAULT_CATEGORIES: seed rows of the category table, whose names "
    "are content an admin edits in both languages",
    "feedback/case_csv.py": "quotes the name of Chinese Excel's CSV type in a help text",
    "feedback/typeset.py": "the ranges of CJK characters that may break anywhere, not words",
    "feedback/stopwords.py": "the Chinese stop words left out of comment themes: data, not words "
    "shown to anyone",
}


def chinese_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of each string literal holding a Chinese character, docstrings aside."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and CJK.search(node.value)
    ]


def test_modules_hold_no_chinese_outside_the_catalogue():
    found = {}
    for path in sorted((ROOT / "feedback").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name not in CHINESE_ALLOWED and (literals := chinese_literals(path.read_text("utf-8"))):
            found[name] = literals
    assert not found, "put these in the catalogue (gettext / N_): " + repr(found)


def test_the_allowed_modules_still_exist():
    assert all((ROOT / name).exists() for name in CHINESE_ALLOWED)


def test_the_module_scan_finds_chinese_but_not_in_docstrings():
    assert chinese_literals('GREETING = "你好"\n') == [(1, "你好")]
    assert chinese_literals('x = f"共 {n} 份"\n')
    assert chinese_literals('def f():\n    """回访 (call-back)."""\n    return "ok"\n') == []
