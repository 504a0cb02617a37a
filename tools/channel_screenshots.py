#!/usr/bin/env python3
"""What each channel sends, as its receiver got it: the screenshots of docs/channels.md.

    .venv/bin/python tools/channel_screenshots.py            # writes docs/channels/*.png and docs/channels.md
    .venv/bin/python tools/channel_screenshots.py --out DIR  # elsewhere (DIR/*.png, DIR/channels.md)

Everything happens in a temporary folder and on loopback, through the code the site runs:

1. a new SQLite database, migrated, with a little demo data (``demo.fill``: teams, agents,
   suggestion categories);
2. local receivers: a real SMTP server (aiosmtpd, as the tests' ``SmtpServer``), and HTTP fakes
   (the tests' ``HttpFake``) of a WeCom, a DingTalk and a Feishu group robot (each checks its
   platform's signature) and of Aliyun's SMS endpoint;
3. the site configured for them as an administrator would (``SMTP_*``, ``SEND_INVITATIONS``,
   ``SMS_*``; the three robots given to the billing team as ``Robot`` rows, the admin page's
   model);
4. three cases through the API (``POST /api/v1/cases``): a Chinese-speaking customer with an
   email address, an English-speaking one, and one with only a mobile number, whose link goes by
   SMS (the registration queues the text, its link the short ``/r/<code>``); the
   outbox deliverer (``outbox.deliver_due``) sends the invitations;
5. the Chinese customer answers the survey unhappily (a follow-up for the billing team) and a
   customer gives a suggestion concerning that team; the deliverer sends the robots' messages;
6. what the receivers got is drawn in Debian's chromium (``tests/chromium.py``, which gives it
   the CJK fonts): each invitation email's HTML part, parsed from the MIME message, at 375 and
   800 px; each robot's messages as chat bubbles (the markdown rendered) beside the JSON as
   received; the SMS as a phone would show it beside the parameters Aliyun received.

The PNGs are quantized to at most 128 colours (``optimize``), so each stays small.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import html
import io
import json
import logging
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import chromium  # noqa: E402  (tests/chromium.py: chromium's flags and CJK fonts)
from support import HttpFake, SmtpServer, csrf_from  # noqa: E402

OUT = ROOT / "docs" / "channels"
DOC_NAME = "channels.md"
COMMAND = ".venv/bin/python tools/channel_screenshots.py"
BASE_URL = "https://feedback.example.cn"
TEAM = "账务组"  # the demo's billing team
SECRETS = {"dingtalk": "SEC-demo-dingtalk-secret", "feishu": "demo-feishu-secret"}
ROBOT_NAMES = {"wecom": "账务组企业微信群", "dingtalk": "账务组钉钉群", "feishu": "账务组飞书群"}
SMS = {
    "SMS_PROVIDER": "aliyun",
    "SMS_ACCESS_KEY_ID": "LTAI-demo-key-id",
    "SMS_ACCESS_KEY_SECRET": "demo-secret",
    "SMS_SIGN_NAME": "服务评价",
    "SMS_TEMPLATE_CODE": "SMS_900000001",
    "SMS_TEMPLATE_PARAM": "content",
}
# What the approved template of SMS_TEMPLATE_CODE would say (it lives at Aliyun, not here).
SMS_TEMPLATE_TEXT = "您的服务已完成，请评价：${content}"
CASES = {
    "zh": {
        "case_id": "HD-2026-1204",
        "channel": "phone",
        "agent": "李娜",
        "team": TEAM,
        "category": "billing",
        "customer": {
            "id": "cust-8801",
            "name": "王芳",
            "email": "wang.fang@example.cn",
            "locale": "zh-CN",
        },
    },
    "en": {
        "case_id": "HD-2026-1205",
        "channel": "email",
        "agent": "李娜",
        "team": TEAM,
        "category": "billing",
        "customer": {
            "id": "cust-8802",
            "name": "Ann Lee",
            "email": "ann@example.com",
            "locale": "en",
        },
    },
    "sms": {
        "case_id": "HD-2026-1206",
        "channel": "phone",
        "agent": "李娜",
        "team": TEAM,
        "category": "billing",
        "customer": {"id": "cust-8803", "phone": "13800138000", "locale": "zh-CN"},
    },
}
UNHAPPY = {
    "resolved": "no",
    "unresolved_detail": "重复扣的 58 元还没有退回来。",
    "csat": "1",
    "what_went_wrong": ["not_solved"],
    "nps": "2",
    "comment": "上个月被重复扣费两次，申请退款一个星期了还没到账，客服电话也很难打通。",
}
SUGGESTION = {
    "title": "账单能不能每月推送一次",
    "body": "希望每个月出账后能收到一条账单明细的提醒，这样扣费有问题可以早点发现。",
}


# --- the receivers ------------------------------------------------------------------------------


@dataclass
class Received:
    """One request a fake got: its path and query, and its body as JSON (or form fields)."""

    path: str
    query: dict
    body: dict
    signature: str = ""  # what the fake found of the platform's signature


def _b64_hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


class Fake:
    """A receiver on loopback (the tests' HttpFake) that keeps what it got in ``received``."""

    def __init__(self):
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.http = HttpFake(self.answer)
        self.base = self.http.base

    def answer(self, path: str, headers, raw: bytes) -> tuple[int, bytes]:
        raise NotImplementedError

    def __enter__(self):
        self.http.__enter__()
        return self

    def __exit__(self, *exc):
        self.http.__exit__(*exc)


class RobotFakes(Fake):
    """WeCom, DingTalk and Feishu robots at /wecom, /dingtalk and /feishu: each takes a message
    with the platform's success answer after checking its signature (DingTalk: HMAC-SHA256 of
    "timestamp\\nsecret" keyed with the secret, in the query; Feishu: keyed with
    "timestamp\\nsecret" over nothing, in the body)."""

    def answer(self, path: str, headers, raw: bytes) -> tuple[int, bytes]:
        url = urlparse(path)
        platform, query, body = url.path.strip("/"), parse_qs(url.query), json.loads(raw)
        signature = "none (WeCom's key is in the address)"
        if platform == "dingtalk":
            stamp, secret = query["timestamp"][0], SECRETS["dingtalk"]
            good = query["sign"][0] == _b64_hmac(secret.encode(), f"{stamp}\n{secret}".encode())
            signature = "valid" if good else "WRONG"
        elif platform == "feishu":
            stamp, secret = body["timestamp"], SECRETS["feishu"]
            good = body["sign"] == _b64_hmac(f"{stamp}\n{secret}".encode(), b"")
            signature = "valid" if good else "WRONG"
        with self.lock:
            self.received.append(Received(url.path, query, body, signature))
        if signature == "WRONG":
            return 200, json.dumps({"errcode": 310000, "errmsg": "sign not match"}).encode()
        answer = {"code": 0, "msg": "success"} if platform == "feishu" else {"errcode": 0}
        return 200, json.dumps(answer).encode()


class AliyunFake(Fake):
    """Aliyun's SMS endpoint (Dysmsapi SendSms): keeps the form's parameters, answers OK."""

    def answer(self, path: str, headers, raw: bytes) -> tuple[int, bytes]:
        params = dict(parse_qsl(raw.decode("ascii"), keep_blank_values=True))
        with self.lock:
            self.received.append(Received(path, {}, params))
        reply = {"Code": "OK", "Message": "OK", "BizId": "900001^0", "RequestId": "fake"}
        return 200, json.dumps(reply).encode()


# --- the site, configured and used ----------------------------------------------------------------


@dataclass
class Outcome:
    """What the receivers got, and what the run did."""

    emails: dict[str, EmailMessage] = field(default_factory=dict)  # by case kind (zh, en)
    other_emails: list[EmailMessage] = field(default_factory=list)
    robots: list[Received] = field(default_factory=list)
    sms: list[Received] = field(default_factory=list)
    delivered: int = 0
    steps: list[str] = field(default_factory=list)


def _site(folder: Path, smtp: SmtpServer, aliyun: AliyunFake):
    """A migrated SQLite database with a little demo data, and the app configured for the
    receivers."""
    from feedback import create_app, demo
    from feedback.db import database

    # (its warning that the new database is not migrated yet: init-db comes next)
    logging.getLogger("feedback").setLevel(logging.ERROR)
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'feedback.sqlite3'}",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "BASE_URL": BASE_URL,
            "DEFAULT_LOCALE": "zh_CN",
            "TIMEZONE": "Asia/Shanghai",
            "EXPORTS_DIR": str(folder / "exports"),
            "OUTBOX_THREAD": False,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE": "memory://",
            "SEND_INVITATIONS": True,
            "REMINDERS": 1,
            **smtp.config,
            "MAIL_FROM": "客户服务中心 <service@example.cn>",
            **SMS,
            "SMS_ENDPOINT": aliyun.base + "/",
            "SMS_TIMEOUT": 5,
        }
    )
    logging.getLogger("feedback").setLevel(logging.NOTSET)
    done = app.test_cli_runner().invoke(args=["init-db"])  # migrated, surveys loaded
    if done.exit_code:
        raise RuntimeError(f"init-db failed: {done.output}")
    with app.app_context(), database.connection_context():
        # the demo's own invitations are not sent: only this run's cases reach the receivers
        demo.fill(cases=120, seed=7, config={**app.config, "SEND_INVITATIONS": False})
    return app


def _deliver(app) -> int:
    """Run the deliverer until nothing more is due now; how many were delivered."""
    from feedback import outbox
    from feedback.db import database

    done = 0
    with app.app_context(), database.connection_context():
        while True:
            outcome = outbox.deliver_due(app.config)
            done += outcome.delivered
            if outcome.delivered + outcome.failed + outcome.skipped == 0:
                return done
            if outcome.failed or outcome.given_up:
                raise RuntimeError(f"a delivery failed: {outcome}")


def exercise(folder: Path, say: Callable[[str], None] = print) -> Outcome:
    """Configure a site for local receivers, make it send on every channel, and return what
    the receivers got."""
    from feedback import accounts, suggestions
    from feedback.db import utcnow
    from feedback.models import Case, Invitation, Robot, SuggestionCategory, Team

    result = Outcome()
    with SmtpServer() as smtp, RobotFakes() as robot_fakes, AliyunFake() as aliyun:
        say("a new SQLite database with a little demo data ...")
        app = _site(folder, smtp, aliyun)
        from feedback.db import database as db

        with app.app_context(), db.connection_context():
            team = Team.by_name(TEAM)
            for platform, name in ROBOT_NAMES.items():
                address = f"{robot_fakes.base}/{platform}"
                if platform == "wecom":
                    address += "?key=demo-wecom-key"
                elif platform == "dingtalk":
                    address += "?access_token=demo-dingtalk-token"
                Robot.create(
                    team=team,
                    platform=platform,
                    name=name,
                    url=address,
                    secret=SECRETS.get(platform),
                )
            headers = {"Authorization": f"Bearer {accounts.create_token('helpdesk')}"}
        say(f"robots of {TEAM}: WeCom, DingTalk, Feishu; SMTP on port {smtp.config['SMTP_PORT']}")

        client = app.test_client()
        urls = {}
        resolved = (utcnow() - timedelta(hours=2)).replace(microsecond=0).isoformat() + "Z"
        for kind, case in CASES.items():
            reply = client.post(
                "/api/v1/cases", json={**case, "resolved_at": resolved}, headers=headers
            )
            if reply.status_code not in (200, 201):
                raise RuntimeError(f"the API refused case {kind}: {reply.get_json()}")
            urls[kind] = reply.get_json()["invitation"]["url"]
        with app.app_context(), db.connection_context():
            case = Case.get(Case.case_ref == CASES["sms"]["case_id"])
            texted = Invitation.get(Invitation.case == case).channel == "sms"
            if not texted:  # the registration queues the text itself
                raise RuntimeError("the SMS invitation was not queued")
        say("3 cases through the API; delivering the invitations ...")
        result.delivered += _deliver(app)

        path = urlparse(urls["zh"]).path
        page = client.get(path).get_data(as_text=True)
        answered = client.post(path, data={**UNHAPPY, "csrf_token": csrf_from(page)})
        if answered.status_code != 302:
            raise RuntimeError(f"the survey answer was refused ({answered.status_code})")
        with app.app_context(), db.connection_context():
            suggestions.submit(
                suggestions.NewSuggestion(
                    box="customer",
                    category_id=SuggestionCategory.get(SuggestionCategory.slug == "billing").id,
                    anonymous=False,
                    locale="zh_CN",
                    name="王芳",
                    email=CASES["zh"]["customer"]["email"],
                    team_id=Team.by_name(TEAM).id,
                    **SUGGESTION,
                ),
                app.config,
            )
        say("an unhappy answer (a follow-up) and a suggestion; delivering the robots' messages ...")
        result.delivered += _deliver(app)
        app.extensions["feedback.db"].close_all()

        by_address = {CASES[k]["customer"]["email"]: k for k in ("zh", "en")}
        for message in smtp.messages:
            if message["To"] in by_address:
                result.emails[by_address[message["To"]]] = message
            else:  # a team lead's email about the follow-up, when leads have addresses
                result.other_emails.append(message)
        result.robots = list(robot_fakes.received)
        result.sms = list(aliyun.received)
    missing = {"zh", "en"} - set(result.emails)
    if missing or len(result.robots) != 6 or len(result.sms) != 1:
        raise RuntimeError(
            f"expected 2 emails, 6 robot messages and 1 SMS; got {sorted(result.emails)}, "
            f"{len(result.robots)}, {len(result.sms)}"
        )
    say(
        f"received: 2 invitation emails (and {len(result.other_emails)} other), "
        f"{len(result.robots)} robot messages, 1 SMS"
    )
    return result


# --- drawing what was received --------------------------------------------------------------------

PAGE_STYLE = """
body{margin:0;padding:20px;background:#eef0f3;font:15px/1.5 'Noto Sans CJK SC',sans-serif;
color:#1a1a1a}
h1{font-size:17px;margin:0 0 4px}
.note{color:#555;font-size:13px;margin:0 0 16px}
.row{display:flex;gap:20px;align-items:flex-start;margin-bottom:22px}
.chat{flex:0 0 380px}
.who{font-size:12px;color:#666;margin:0 0 4px 52px}
.line{display:flex;gap:10px}
.avatar{flex:0 0 40px;height:40px;border-radius:6px;color:#fff;font-weight:bold;
display:flex;align-items:center;justify-content:center;font-size:13px}
.bubble{background:#fff;border-radius:8px;padding:10px 14px;box-shadow:0 1px 2px #0002;
min-width:0;overflow-wrap:anywhere}
.bubble p{margin:0 0 8px}.bubble p:last-child{margin:0}
.bubble blockquote{margin:0 0 8px;padding:2px 10px;border-left:3px solid #ccc;color:#444}
.bubble a{color:#1f5fa8}
.card-title{font-weight:bold;margin:-10px -14px 10px;padding:8px 14px;border-radius:8px 8px 0 0;
background:#3370ff;color:#fff}
pre{flex:1;margin:0;background:#fff;border:1px solid #d6d9de;border-radius:6px;padding:10px;
font:11.5px/1.45 'DejaVu Sans Mono','Noto Sans CJK SC',monospace;white-space:pre-wrap;
overflow-wrap:anywhere}
.phone{flex:0 0 300px;background:#fff;border-radius:24px;padding:18px 14px;
box-shadow:0 1px 4px #0003}
.sender{text-align:center;font-size:12px;color:#777;margin-bottom:10px}
.sms{background:#e9e9eb;border-radius:16px;padding:10px 14px;overflow-wrap:anywhere}
"""
ENVELOPE = ("From", "To", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted")
PLATFORMS = {
    "wecom": ("WeCom", "企业微信", "#07c160"),
    "dingtalk": ("DingTalk", "钉钉", "#1677ff"),
    "feishu": ("Feishu", "飞书", "#3370ff"),
}


def _markdown(text: str) -> str:
    """The markdown the robot received, as HTML (CommonMark; raw HTML in it is not passed)."""
    from markdown_it import MarkdownIt

    # chat clients keep a message's line breaks: "breaks" makes a single newline one too
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).render(text)


def _chat_html(item: Received) -> str:
    """The bubble of one robot message: the markdown rendered as the platform's client would
    show it (Feishu's card header as the card's title)."""
    body = item.body
    if "card" in body:
        title = body["card"]["header"]["title"]["content"]
        inner = f"<div class='card-title'>{html.escape(title)}</div>" + "".join(
            _markdown(element["content"]) for element in body["card"]["elements"]
        )
    else:
        inner = _markdown(body["markdown"].get("content") or body["markdown"]["text"])
    return f"<div class='bubble'>{inner}</div>"


def robot_page(platform: str, items: list[Received]) -> str:
    """A page of what one platform's robot received: each message as a bubble, beside the
    request as received (the query's signature fields and the JSON body)."""
    english, chinese, colour = PLATFORMS[platform]
    rows = []
    for item in items:
        raw = {"query": {k: v[0] for k, v in item.query.items()}} if item.query else {}
        raw["body"] = item.body
        rows.append(
            "<div class='row'><div class='chat'>"
            f"<div class='who'>{html.escape(ROBOT_NAMES[platform])}</div>"
            f"<div class='line'><div class='avatar' style='background:{colour}'>Bot</div>"
            f"{_chat_html(item)}</div></div>"
            f"<pre>{html.escape(json.dumps(raw, ensure_ascii=False, indent=1))}</pre></div>"
        )
    return (
        "<!doctype html><html lang='zh-CN'><meta charset='utf-8'>"
        f"<style>{PAGE_STYLE}</style><body>"
        f"<h1>{english} ({chinese}) group robot: what the local fake received</h1>"
        f"<p class='note'>POST {html.escape(items[0].path)} · signature: "
        f"{html.escape(', '.join(sorted({i.signature for i in items})))} · left: the markdown "
        "rendered, right: the request as received</p>" + "".join(rows) + "</body></html>"
    )


def sms_page(item: Received) -> str:
    """The text a phone would show (the template filled in, with the signature) beside the
    parameters Aliyun received."""
    params = item.body
    content = json.loads(params["TemplateParam"])[SMS["SMS_TEMPLATE_PARAM"]]
    text = f"【{params['SignName']}】" + SMS_TEMPLATE_TEXT.replace("${content}", content)
    return (
        "<!doctype html><html lang='zh-CN'><meta charset='utf-8'>"
        f"<style>{PAGE_STYLE}</style><body>"
        "<h1>SMS (Aliyun SendSms): what the local fake received</h1>"
        "<p class='note'>left: the text as a phone would show it, with the approved template "
        f"{html.escape(params['TemplateCode'])} (example wording, kept at Aliyun) filled in; "
        "right: the form parameters as received</p>"
        "<div class='row'><div class='phone'>"
        f"<div class='sender'>{html.escape(params['PhoneNumbers'])}</div>"
        f"<div class='sms'>{html.escape(text)}</div></div>"
        f"<pre>{html.escape(json.dumps(params, ensure_ascii=False, indent=1))}</pre></div>"
        "</body></html>"
    )


def small_png(png: bytes, path: Path) -> int:
    """Write the screenshot quantized to at most 128 colours; its size in bytes."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, optimize=True
    )
    return path.stat().st_size


@dataclass(frozen=True)
class Shot:
    name: str  # file name
    title: str
    sentence: str  # what it is and how it was produced
    width: int


def draw(
    result: Outcome, out: Path, say: Callable[[str], None] = print, browser=None
) -> list[Shot]:
    """Screenshots of what the receivers got, as PNGs in ``out``, in ``browser`` (a Playwright
    chromium; by default one started for the purpose)."""
    pages: list[tuple[Shot, str]] = []
    for kind, language_name in (("zh", "Chinese"), ("en", "English")):
        message = result.emails[kind]
        body = message.get_body(preferencelist=("html",)).get_content()
        subject = message["Subject"]
        for width in (375, 800):
            pages.append(
                (
                    Shot(
                        f"email-{kind}-{width}.png",
                        f"Invitation email, {language_name}, {width} px",
                        f"The HTML part of the invitation email \u201c{subject}\u201d to a "
                        f"customer whose locale is {CASES[kind]['customer']['locale']}, as the "
                        f"local SMTP server received it, drawn {width} px wide "
                        f"({'a phone' if width == 375 else 'a desktop mail client'}).",
                        width,
                    ),
                    body,
                )
            )
    for platform in PLATFORMS:
        items = [r for r in result.robots if r.path == f"/{platform}"]
        events = "a new follow-up (the unhappy answer) and a new suggestion of the team"
        pages.append(
            (
                Shot(
                    f"robot-{platform}.png",
                    f"{PLATFORMS[platform][0]} group robot",
                    f"The two messages the {PLATFORMS[platform][0]} robot of {TEAM} received, "
                    f"{events}: each as a chat bubble (its markdown rendered) beside the "
                    "request as received.",
                    900,
                ),
                robot_page(platform, items),
            )
        )
    pages.append(
        (
            Shot(
                "sms.png",
                "SMS invitation (Aliyun)",
                "The invitation by text to a customer with only a mobile number: the "
                "parameters Aliyun's endpoint received (signed; the link fills the template's "
                "one variable), and the text a phone would show.",
                800,
            ),
            sms_page(result.sms[0]),
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    if browser is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            started = chromium.launch(playwright.chromium)
            try:
                return draw(result, out, say, started)
            finally:
                started.close()
    shots = []
    for shot, content in pages:
        context = browser.new_context(
            viewport={"width": shot.width, "height": 400},
            device_scale_factor=1,
            java_script_enabled=False,
        )
        page = context.new_page()
        page.set_content(content, wait_until="load")
        size = small_png(page.screenshot(full_page=True), out / shot.name)
        context.close()
        say(f"  {out / shot.name} ({size // 1024} KB)")
        shots.append(shot)
    return shots


def document(shots: list[Shot], result: Outcome, image_dir: str) -> str:
    """docs/channels.md: each screenshot with a sentence."""
    lines = [
        "# What each channel sends",
        "",
        "Screenshots of what local receivers got from the site: the invitation emails as an SMTP",
        "server received them, the team alerts as fakes of the WeCom, DingTalk and Feishu group",
        "robots received them, and the SMS invitation as a fake of Aliyun's SMS endpoint received",
        "it. They are made by `tools/channel_screenshots.py` on a temporary SQLite database with",
        "a little demo data, through the code the site runs (the API, the survey, the suggestion",
        "box, the outbox deliverer), and drawn in Debian's chromium with the CJK fonts of",
        "`mpl_font`. Regenerate them all (about fifteen seconds):",
        "",
        "```sh",
        COMMAND,
        "```",
        "",
        "The site's language (`DEFAULT_LOCALE`) is zh_CN, so the robots speak Chinese; each email",
        "is in its customer's language. The case ids, names and addresses are made up.",
        "",
    ]
    emails = {f"email-{kind}-": message for kind, message in result.emails.items()}
    for shot in shots:
        lines += [f"## {shot.title}", "", shot.sentence, ""]
        lines += [f"![{shot.title}]({image_dir}/{shot.name})", ""]
        message = next((m for prefix, m in emails.items() if shot.name.startswith(prefix)), None)
        if message is not None and shot.width == 800:
            lines += envelope(message)
    return "\n".join(lines)


def envelope(message: EmailMessage) -> list[str]:
    """The headers and the plain-text part of an email, as markdown lines."""
    parts = " + ".join(part.get_content_type() for part in message.iter_parts())
    text = message.get_body(preferencelist=("plain",)).get_content().rstrip()
    lines = [f"Its headers, and its plain-text part ({message.get_content_type()}: {parts}):", ""]
    lines += ["```text"]
    lines += [f"{name}: {message[name]}" for name in ENVELOPE if message[name]]
    lines += ["", text, "```", ""]
    return lines


def run(out: Path, doc: Path | None, say: Callable[[str], None] = print) -> list[Shot]:
    """The whole tool: exercise a site, draw what was received into ``out``, write ``doc``."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="feedback-channels-") as folder:
        result = exercise(Path(folder), say)
    say("drawing what was received ...")
    shots = draw(result, out, say)
    if doc is not None:
        relative = out.relative_to(doc.parent) if out.is_relative_to(doc.parent) else out
        doc.write_text(document(shots, result, relative.as_posix()))
        say(f"  {doc}")
    say(f"done in {time.perf_counter() - started:.0f} s")
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder of the PNGs (default {OUT})")
    args = parser.parse_args()
    doc = ROOT / "docs" / DOC_NAME if args.out == OUT else args.out / DOC_NAME
    run(args.out.resolve(), doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
