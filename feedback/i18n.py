"""Languages: which one a request speaks, and the compiled message catalogues."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import current_app, g, request, session
from flask_login import current_user

from .cache import Cache
from .vocabulary import LOCALES

# each language named in itself, for the language switch
LANGUAGES = {code: Locale.parse(code).language_name for code in LOCALES}
_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}  # parsed once, not per request
TRANSLATIONS = Path(__file__).parent / "translations"


def normalize_locale(value: str | None) -> str | None:
    """zh, zh-CN, zh_Hans, ZH-cn → zh_CN; en, en-GB → en; anything else → None."""
    if not value:
        return None
    primary = value.replace("_", "-").split("-")[0].lower()
    return {"zh": "zh_CN", "en": "en"}.get(primary)


def select_locale() -> Locale:
    """An explicit switch, then the case's customer, then the user, then the browser."""
    g.locale_code = _choose_locale()
    return _LOCALES[g.locale_code]


def _choose_locale() -> str:
    chosen = normalize_locale(request.args.get("lang"))
    if chosen:
        session["lang"] = chosen
        return chosen
    return _hinted_locale(
        session.get("lang"),
        g.get("locale_hint"),
        getattr(current_user, "locale", None) if current_user else None,
    )


def _hinted_locale(*hints: str | None) -> str:
    """The first hint that names a language, else the browser's, else the site default."""
    for hint in hints:
        if normalize_locale(hint):
            return normalize_locale(hint)
    for language, _quality in request.accept_languages:
        if normalize_locale(language):
            return normalize_locale(language)
    return current_app.config["DEFAULT_LOCALE"]


def anonymous_locale(hint: str | None) -> str:
    """The language ``select_locale`` chooses for a request without cookies or ``?lang=``.

    Such a request has no session (so no switch and no flashed messages) and no logged-in user,
    so only the hint (the case's customer locale), the browser and the site default remain.
    This skips Flask-Babel, the session and Flask-Login: the survey page's cached path uses it.
    """
    return _hinted_locale(hint)


def compile_catalogues() -> None:
    """Write each messages.mo from its messages.po when the .po is newer (the .mo is not kept)."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        # A name of this process's own: workers starting together each write their own file
        # and rename it into place (atomic), so none reads or replaces a half-written one.
        tmp = mo_path.with_name(f".{mo_path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            with tmp.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            os.replace(tmp, mo_path)
        finally:
            tmp.unlink(missing_ok=True)


def current_locale() -> str:
    """The request's language as one of LANGUAGES' keys (Babel may say zh_Hans_CN)."""
    from flask_babel import get_locale

    get_locale()  # runs select_locale once per request, which notes the code
    return (
        g.get("locale_code")
        or normalize_locale(str(get_locale()))
        or current_app.config["DEFAULT_LOCALE"]
    )


class Language:
    """One language's words and formats, for code that runs outside a request: charts, the
    meeting pack, exports, mail, CLI messages. They take a ``Language`` (``language("en")``) and
    stay free of Flask; the words come from the same gettext catalogue as the pages.

    Messages use gettext's ``%(name)s`` placeholders, as Flask-Babel's ``_()`` does, so one
    message reads the same whether a page or a chart shows it.
    """

    def __init__(self, code: str):
        if code not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {code!r}")
        self.code = code
        self.locale = _LOCALES[code]
        compile_catalogues()
        self._translations = Translations.load(str(TRANSLATIONS), [code], "messages")

    def __repr__(self) -> str:
        return f"Language({self.code!r})"

    def gettext(self, message: str, **variables) -> str:
        text = self._translations.gettext(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables) -> str:
        """The form for ``n``; ``%(num)s`` in the message is ``n`` (as in Flask-Babel)."""
        text = self._translations.ngettext(singular, plural, n)
        return text % {"num": n, **variables}

    def date(self, value, format: str = "medium") -> str:
        """A date in this language: "medium" (2026年12月4日, Dec 4, 2026) or a CLDR skeleton
        through ``skeleton()``."""
        return dates.format_date(value, format, locale=self.locale)

    def skeleton(self, value, skeleton: str) -> str:
        """A date by CLDR skeleton: "MMMd" (12月4日, Dec 4), "yMMM" (2026年12月, Dec 2026)."""
        return dates.format_skeleton(skeleton, value, locale=self.locale)

    def interval(self, start, end, skeleton: str = "yMMMd") -> str:
        """A range of dates: 2026年11月1日至30日, Nov 1 – 30, 2026."""
        return dates.format_interval(start, end, skeleton, locale=self.locale)

    def number(self, value, format: str | None = None) -> str:
        return numbers.format_decimal(value, format, locale=self.locale)

    def percent(self, value: float, format: str | None = None) -> str:
        """``value`` in percent points (61.2 → 61.2%; 61,2 % in locales that write it so)."""
        return numbers.format_percent(value / 100, format or "#,##0.0%", locale=self.locale)


_LANGUAGES: Cache[str, Language] = Cache(8)


def language(code: str) -> Language:
    """The ``Language`` of a code of LANGUAGES (made once per process: two of them)."""
    return _LANGUAGES.get_or_make(code, lambda: Language(code))
