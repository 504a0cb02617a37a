#!/usr/bin/env python3
"""Extract the interface strings and merge them into the zh_CN catalogue.

    .venv/bin/python tools/update_translations.py            # extract + merge, list untranslated
    .venv/bin/python tools/update_translations.py --check    # exit 1 if any string lacks Chinese
    .venv/bin/python tools/update_translations.py --fill zh.json  # also fill from {"msgid": "中文"}

Translate the new entries in feedback/translations/zh/LC_MESSAGES/messages.po by hand; the app
compiles the catalogue when it starts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "feedback" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
POT = ROOT / "instance" / "messages.pot"


def untranslated() -> list[str]:
    with PO.open("rb") as handle:
        catalog = read_po(handle)

    def missing(string) -> bool:  # a plural entry's string is a tuple, one per form
        return not all(string) if isinstance(string, tuple) else not string

    return [str(m.id) for m in catalog if m.id and (missing(m.string) or m.fuzzy)]


def fill(path: Path) -> None:
    """Set the Chinese of the entries named in a JSON object {msgid: msgstr}.

    A plural entry takes a list [singular, plural] (Chinese uses one form, but gettext wants
    as many as the catalogue's header says).
    """
    import json

    translations = json.loads(path.read_text(encoding="utf-8"))
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    unknown = []
    for msgid, string in translations.items():
        message = catalog.get(msgid)
        if message is None:
            unknown.append(msgid)
            continue
        message.string = tuple(string) if isinstance(string, list) else string
        message.flags.discard("fuzzy")
    with PO.open("wb") as handle:
        write_po(
            handle, catalog, width=76, sort_output=True, omit_header=False, ignore_obsolete=True
        )
    for msgid in unknown:
        print(f"not in the catalogue (extract first?): {msgid!r}")


def main() -> int:
    if "--check" not in sys.argv:
        POT.parent.mkdir(exist_ok=True)
        pybabel = [sys.executable, "-m", "babel.messages.frontend"]
        subprocess.run(
            [
                *pybabel,
                "extract",
                "-F",
                str(ROOT / "babel.cfg"),
                "-k",
                "_l",
                "-k",
                "N_",
                "-k",
                "lazy_gettext",
                "--no-location",
                "--sort-output",
                "-o",
                str(POT),
                str(ROOT),
            ],
            check=True,
            capture_output=True,
        )
        action = "update" if PO.exists() else "init"
        extra = ["--no-fuzzy-matching", "--ignore-obsolete"] if action == "update" else []
        subprocess.run(
            [*pybabel, action, "-i", str(POT), "-d", str(PO.parents[2]), "-l", "zh", *extra],
            check=True,
            capture_output=True,
        )
    if "--fill" in sys.argv:
        fill(Path(sys.argv[sys.argv.index("--fill") + 1]))
    missing = untranslated()
    for message in missing:
        print(f"untranslated: {message!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
