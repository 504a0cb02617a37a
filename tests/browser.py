"""Browser tests' helpers: Debian's chromium driven by Playwright, able to show Chinese.

Playwright's own browser downloads are never used: the browser is the ``chromium`` on the PATH
(``.ci/install-system-packages`` installs Debian's). Without it the browser tests skip, or fail
when FEEDBACK_REQUIRE_BROWSER=1 (as ``.ci/run`` sets).

A bare Debian machine has no CJK font, so Chinese would render as empty boxes. Chromium is given
a fontconfig file that keeps the system's configuration and adds the Noto Sans CJK SC fonts that
the ``mpl_font`` package (a requirement of the site) ships.

conftest.py registers these fixtures for every test module, so one chromium serves the session:
``browser`` (one per test session), and per test a fresh ``phone`` (360 px) or ``desktop``
(1280 px) context.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

MISSING = (
    "chromium not installed: run .ci/install-system-packages (Debian) or install "
    "chromium to run the browser tests"
)
REQUIRE_BROWSER = os.environ.get("FEEDBACK_REQUIRE_BROWSER") == "1"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# A mid-range Android phone, as most customers open the survey link from a text message.
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
TIMEOUT_MS = 10_000


def cjk_font_dir() -> Path | None:
    """The folder of the Noto Sans CJK SC fonts shipped in ``mpl_font``, if it is installed."""
    try:
        import mpl_font
    except ImportError:
        return None
    folder = Path(mpl_font.__file__).parent / "fonts" / "noto"
    return folder if any(folder.glob("NotoSansCJK*")) else None


def cache_dir() -> Path:
    """A folder for the fontconfig file and its cache: kept between runs where possible."""
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


def write_fontconfig(folder: Path) -> Path:
    """A fontconfig file: the system's configuration plus the CJK fonts; returns its path."""
    fonts = cjk_font_dir()
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
        "<fontconfig>",
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
    ]
    if fonts is not None:
        lines.append(f"  <dir>{escape(str(fonts))}</dir>")
    lines += [f"  <cachedir>{escape(str(folder / 'cache'))}</cachedir>", "</fontconfig>", ""]
    text = "\n".join(lines)
    path = folder / "fonts.conf"
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")  # parallel workers each write whole files
        tmp.write_text(text)
        tmp.replace(path)
    return path


def browser_env(fontconfig: Path) -> dict[str, str]:
    return {**os.environ, "FONTCONFIG_FILE": str(fontconfig)}


def launch(playwright, executable: str, env: dict[str, str]):
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, env=env)


@pytest.fixture(scope="session", name="browser")
def browser_fixture():
    """Debian's chromium, started once for the session; a skip (or failure) when missing."""
    executable = shutil.which("chromium")
    if executable is None:
        if REQUIRE_BROWSER:
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    from playwright.sync_api import sync_playwright

    env = browser_env(write_fontconfig(cache_dir()))
    playwright = sync_playwright().start()
    try:
        browser = launch(playwright, executable, env)
    except BaseException:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


def new_context(browser, **options):
    """A fresh context (no cookies, no storage) with the tests' default timeout."""
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture(name="phone")
def phone_fixture(browser):
    """A fresh phone-sized context, in Chinese, with touch."""
    context = new_context(browser, **PHONE)
    yield context
    context.close()


@pytest.fixture
def desktop(browser):
    """A fresh desktop-sized context (1280x900), in Chinese."""
    context = new_context(browser, **DESKTOP)
    yield context
    context.close()


def log_in(
    page, live_server, path: str, username: str = "manager", wait_until: str = "load"
) -> None:
    """Open ``path``, log in on the login form it sends to (as the Chinese page asks) and wait
    until the browser is back on ``path`` (``wait_until``: "domcontentloaded" not to wait for
    its pictures; without JavaScript a browser loads the lazy ones at once)."""
    from urllib.parse import urlparse

    from support import PASSWORD

    page.goto(live_server.url + path)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: urlparse(url).path == urlparse(path).path, wait_until=wait_until)
