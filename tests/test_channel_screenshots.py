"""tools/channel_screenshots.py keeps working: a site configured for local receivers sends on
every channel, and what they received is drawn (so docs/channels.md can always be made again).

The tool's own core runs here on a temporary folder: the receivers' checks (the robots'
signatures, the count of what arrived) are asserted on what the run returns.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent


def load_tool():
    spec = importlib.util.spec_from_file_location(
        "channel_screenshots", ROOT / "tools" / "channel_screenshots.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_channel_is_received_and_drawn(browser, tmp_path):
    tool = load_tool()
    said: list[str] = []
    result = tool.exercise(tmp_path / "site", said.append)

    zh, en = result.emails["zh"], result.emails["en"]
    assert zh["Subject"] == "服务满意度调查（案件 HD-2026-1204）"
    assert en["Subject"] == "How did we do? (case HD-2026-1205)"
    assert zh["List-Unsubscribe"].startswith("<https://feedback.example.cn/unsubscribe/")
    zh_html = zh.get_body(preferencelist=("html",)).get_content()
    assert 'lang="zh-CN"' in zh_html and "王芳" in zh_html
    assert 'lang="en"' in en.get_body(preferencelist=("html",)).get_content()

    by_platform: dict[str, list] = {}
    for item in result.robots:
        by_platform.setdefault(item.path.strip("/"), []).append(item)
    assert sorted(by_platform) == ["dingtalk", "feishu", "wecom"]
    for platform, items in by_platform.items():
        texts = [json.dumps(i.body, ensure_ascii=False) for i in items]
        assert len(items) == 2, platform
        assert any("新回访：工单 HD-2026-1204" in t and "CSAT 1" in t for t in texts), platform
        assert any("新建议" in t and "账单能不能每月推送一次" in t for t in texts), platform
        if platform != "wecom":
            assert {i.signature for i in items} == {"valid"}, platform

    (text,) = result.sms
    assert text.body["PhoneNumbers"] == "13800138000" and text.body["Action"] == "SendSms"
    assert json.loads(text.body["TemplateParam"])["content"].startswith(
        "https://feedback.example.cn/r/"
    )

    shots = tool.draw(result, tmp_path / "png", said.append, browser)
    names = {shot.name for shot in shots}
    assert {"email-zh-375.png", "email-en-800.png", "robot-feishu.png", "sms.png"} <= names
    for shot in shots:
        data = (tmp_path / "png" / shot.name).read_bytes()
        assert len(data) < 200_000, shot.name
        image = Image.open(io.BytesIO(data))
        assert image.width == shot.width and image.height >= 200, shot.name
        assert len(image.getcolors(256) or ()) > 4, f"{shot.name} is blank"

    doc = tool.document(shots, result, "channels")
    for shot in shots:
        assert f"](channels/{shot.name})" in doc
    assert "Subject: 服务满意度调查（案件 HD-2026-1204）" in doc
    assert tool.COMMAND in doc
