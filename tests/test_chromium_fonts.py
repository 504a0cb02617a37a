"""Chromium draws Chinese with real glyphs, not empty boxes ("tofu"), through the fontconfig file
of chromium.py.

A character no font has is drawn as the fallback font's .notdef box: two such characters from
the Private Use Area (U+E000, U+E001) make two identical boxes, and so would 你好 without a CJK
font. So the screenshot of 你好 must differ from that of the two unknown characters, and the two
characters of 你好 must differ from each other. The control shows that the comparison can fail:
chromium started with a fontconfig file without the CJK fonts draws 你好 as the same boxes.
"""

from __future__ import annotations

import io
import subprocess

import chromium
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

PAGE = (
    "<!doctype html><html lang='zh-CN'><meta charset='utf-8'>"
    "<body style='margin:0;background:#fff'>"
    "<span id='text' style='font:48px sans-serif;color:#000'>{}</span></body></html>"
)
CHINESE = "你好"
UNKNOWN = "\ue000\ue001"  # Private Use Area: no font has them, so .notdef boxes


def glyph_images(page, text: str) -> list[Image.Image]:
    """Each character of ``text`` drawn alone, as a grey image of its box."""
    images = []
    for ch in text:
        page.set_content(PAGE.format(ch))
        png = page.locator("#text").screenshot()
        images.append(Image.open(io.BytesIO(png)).convert("L"))
    return images


def drawn_with(page, text: str) -> list[str]:
    """The fonts chromium drew ``text`` with (DevTools' platform fonts of the node)."""
    page.set_content(PAGE.format(text))
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#text"})["nodeId"]
        return [
            f["familyName"]
            for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        ]
    finally:
        cdp.detach()


def same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.tobytes() == b.tobytes()


def inked(image: Image.Image) -> int:
    """Pixels darker than mid-grey."""
    return sum(image.histogram()[:128])


def test_the_fontconfig_file_keeps_the_system_and_adds_the_cjk_fonts(tmp_path):
    fonts = chromium.cjk_font_dir()
    assert fonts is not None, "mpl_font (a requirement) ships the Noto Sans CJK SC fonts"
    path = chromium.write_fontconfig(tmp_path)
    text = path.read_text()
    assert f'<include ignore_missing="yes">{chromium.SYSTEM_FONTCONFIG}</include>' in text
    assert f"<dir>{fonts}</dir>" in text
    assert chromium.browser_env(path)["FONTCONFIG_FILE"] == str(path)
    # fontconfig itself finds the CJK font through the file
    listed = subprocess.run(
        ["fc-list", ":lang=zh-cn", "family"],
        env=chromium.browser_env(path),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Noto Sans CJK SC" in listed


def test_chinese_is_drawn_with_glyphs_not_boxes(browser, tmp_path):
    page = browser.new_page(viewport={"width": 300, "height": 120})
    ni, hao = glyph_images(page, CHINESE)
    box1, box2 = glyph_images(page, UNKNOWN)
    assert same(box1, box2), "two unknown characters are the same .notdef box"
    assert not same(ni, box1) and not same(hao, box1), "你 or 好 drawn as an empty box"
    assert not same(ni, hao), "你 and 好 drawn alike"
    assert inked(ni) > 0 and inked(hao) > 0
    assert any("CJK" in family for family in drawn_with(page, CHINESE))
    page.set_content(PAGE.format(CHINESE))
    page.screenshot(path=tmp_path / "chinese.png")  # to look at when it fails
    page.close()


def has_system_cjk_font() -> bool:
    listed = subprocess.run(
        ["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True
    ).stdout
    return bool(listed.strip())


def test_without_the_cjk_fonts_chinese_is_boxes_so_the_check_can_fail(browser, tmp_path):
    if has_system_cjk_font():
        pytest.skip("this machine has a CJK font of its own: no tofu to show")
    bare = chromium.write_fontconfig(tmp_path, font_dirs=[])
    # a second chromium, from the session's Playwright, without the CJK fonts
    second = chromium.launch(browser.browser_type, env=chromium.browser_env(bare))
    try:
        page = second.new_page(viewport={"width": 300, "height": 120})
        ni, hao = glyph_images(page, CHINESE)
        box, _ = glyph_images(page, UNKNOWN)
    finally:
        second.close()
    assert same(ni, hao) and same(ni, box), "without a CJK font 你好 is two .notdef boxes"
