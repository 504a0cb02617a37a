"""Debian's chromium, started so that it can draw Chinese: its flags and its fonts, in one place.

Playwright's own browser downloads are never used: the browser is the ``chromium`` on the PATH
(``.ci/install-system-packages`` installs Debian's).

A bare Debian machine has no CJK font, so Chinese would render as empty boxes ("tofu"). Chromium
finds its fonts through fontconfig, so it is given, in the ``FONTCONFIG_FILE`` environment
variable of its process, a fontconfig file written at run time that keeps the system's
configuration (``/etc/fonts/fonts.conf``) and adds the folder of the Noto Sans CJK SC fonts that
the ``mpl_font`` package (a requirement of the site) ships.

No pytest here: the browser tests' fixtures (``browser.py``) and the tools that take screenshots
(``tools/channel_screenshots.py``) both start chromium through ``launch``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from xml.sax.saxutils import escape

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SYSTEM_FONTCONFIG = "/etc/fonts/fonts.conf"


def executable() -> str | None:
    """The ``chromium`` on the PATH, or None."""
    return shutil.which("chromium")


def cjk_font_dir() -> Path | None:
    """The folder of the Noto Sans CJK SC fonts shipped in ``mpl_font``, if it is installed."""
    try:
        import mpl_font
    except ImportError:
        return None
    folder = Path(mpl_font.__file__).parent / "fonts" / "noto"
    return folder if any(folder.glob("NotoSansCJK*")) else None


def cache_dir() -> Path:
    """A folder for the fontconfig file and its cache: kept between runs where possible (the
    first run builds the CJK fonts' cache, about a second)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    for folder in (
        base / "feedback-fontconfig",
        Path(tempfile.gettempdir()) / f"feedback-fontconfig-{os.getuid()}",
    ):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise RuntimeError("no writable folder for the browser's fontconfig file")


def fontconfig_text(font_dirs: Iterable[Path], cache: Path) -> str:
    """A fontconfig file: the system's configuration, plus ``font_dirs``, with its own cache."""
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
        "<fontconfig>",
        f'  <include ignore_missing="yes">{SYSTEM_FONTCONFIG}</include>',
    ]
    lines += [f"  <dir>{escape(str(folder))}</dir>" for folder in font_dirs]
    lines += [f"  <cachedir>{escape(str(cache))}</cachedir>", "</fontconfig>", ""]
    return "\n".join(lines)


def write_fontconfig(folder: Path, font_dirs: Iterable[Path] | None = None) -> Path:
    """Write ``fonts.conf`` in ``folder`` (unless it already says the same) and return its path.
    ``font_dirs``: the folders to add, by default the CJK fonts' (none when not installed)."""
    if font_dirs is None:
        font_dirs = [found] if (found := cjk_font_dir()) is not None else []
    text = fontconfig_text(font_dirs, folder / "cache")
    path = folder / "fonts.conf"
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")  # parallel workers each write whole files
        tmp.write_text(text)
        tmp.replace(path)
    return path


def browser_env(fontconfig: Path) -> dict[str, str]:
    """The environment of the chromium process: ours, with the fontconfig file."""
    return {**os.environ, "FONTCONFIG_FILE": str(fontconfig)}


def launch(browser_type, path: str | None = None, env: Mapping[str, str] | None = None):
    """Start chromium (``path``, default the one on the PATH) through Playwright's
    ``browser_type`` (``playwright.chromium``), headless, with the fontconfig file that adds the
    CJK fonts (or the environment ``env``)."""
    path = path or executable()
    if path is None:
        raise RuntimeError("chromium is not installed (Debian: apt-get install chromium)")
    if env is None:
        env = browser_env(write_fontconfig(cache_dir()))
    return browser_type.launch(executable_path=path, args=CHROMIUM_ARGS, env=dict(env))
