"""Chinese throughout: every interface string has a zh_CN translation, and pages use it."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from support import new_case, survey_path

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "feedback" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


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
