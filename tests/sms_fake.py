"""A local Aliyun SMS (Dysmsapi SendSms) for the tests: it checks each request as Aliyun does,
the signature computed from Aliyun's published rules with its own percent-encoding (not the
module's), so a mistake in ``feedback.sms`` cannot be repeated by the fake. Used by
tests/test_sms.py and tests/test_invitations_sms.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import string
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

KEY_ID, SECRET = "LTAI-test-id", "test-secret-never-shown"
SIGN_NAME, TEMPLATE = "反馈测试", "SMS_900000001"

# --- the fake Aliyun ----------------------------------------------------------------------------

UNRESERVED = set(string.ascii_letters + string.digits + "-_.~")


def spec_encode(text: str) -> str:
    """Aliyun's percent-encoding, written out byte by byte from the rule."""
    return "".join(chr(b) if chr(b) in UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def spec_signature(params: dict, secret: str, method: str) -> str:
    query = "&".join(
        f"{spec_encode(k)}={spec_encode(v)}" for k, v in sorted(params.items()) if k != "Signature"
    )
    to_sign = "&".join([method, spec_encode("/"), spec_encode(query)])
    mac = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class FakeAliyun:
    """Dysmsapi on loopback: checks the request like Aliyun does and answers like it. ``answers``
    is a list of (HTTP status, JSON) to give before it says OK; a bad signature always gets
    Aliyun's 400 SignatureDoesNotMatch."""

    REQUIRED = {
        "AccessKeyId",
        "Action",
        "Format",
        "PhoneNumbers",
        "RegionId",
        "Signature",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "SignName",
        "TemplateCode",
        "TemplateParam",
        "Timestamp",
        "Version",
    }

    def __init__(self, answers: list[tuple[int, dict]] | None = None):
        self.answers = list(answers or [])
        self.sent: list[dict] = []  # the parameters of each accepted message
        self.refused: list[str] = []  # why each refused request was refused
        self.requests = 0
        self.nonces: set[str] = set()
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                status, answer = fake.judge(self.headers.get("Content-Type", ""), raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"

    def judge(self, content_type: str, raw: bytes) -> tuple[int, dict]:
        with self.lock:
            self.requests += 1
            params = dict(
                parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True)
            )
            problem = self.problem(content_type, raw, params)
            if problem:
                self.refused.append(problem)
                code = "SignatureDoesNotMatch" if "signature" in problem else "MissingParameter"
                return 400, {"Code": code, "Message": problem, "RequestId": "fake"}
            self.nonces.add(params["SignatureNonce"])
            if self.answers:
                return self.answers.pop(0)
            self.sent.append(params)
            return 200, {"Code": "OK", "Message": "OK", "BizId": "9", "RequestId": "fake"}

    def problem(self, content_type: str, raw: bytes, params: dict) -> str:
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return f"content type {content_type}"
        if b"+" in raw:
            return "a + in the body: spaces must be %20"
        if missing := self.REQUIRED - params.keys():
            return f"missing {sorted(missing)}"
        fixed = {
            "Action": "SendSms",
            "Version": "2017-05-25",
            "Format": "JSON",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "AccessKeyId": KEY_ID,
        }
        if wrong := {k: params[k] for k, v in fixed.items() if params[k] != v}:
            return f"wrong {wrong}"
        if params["SignatureNonce"] in self.nonces:
            return "nonce used before"
        sent_at = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs(datetime.now(UTC) - sent_at) > timedelta(minutes=15):
            return "timestamp too far from now"
        if not re.fullmatch(r"\d{7,15}", params["PhoneNumbers"]):
            return f"phone number {params['PhoneNumbers']}"
        json.loads(params["TemplateParam"])
        if not hmac.compare_digest(params["Signature"], spec_signature(params, SECRET, "POST")):
            return "the signature does not match"
        return ""


@contextmanager
def running(answers: list[tuple[int, dict]] | None = None):
    """A FakeAliyun serving on loopback for the block."""
    fake = FakeAliyun(answers)
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def config_for(fake: FakeAliyun | None, **changes) -> dict:
    return {
        "SMS_PROVIDER": "aliyun",
        "SMS_ACCESS_KEY_ID": KEY_ID,
        "SMS_ACCESS_KEY_SECRET": SECRET,
        "SMS_SIGN_NAME": SIGN_NAME,
        "SMS_TEMPLATE_CODE": TEMPLATE,
        "SMS_TEMPLATE_PARAM": "content",
        "SMS_ENDPOINT": fake.url if fake else "http://127.0.0.1:9/",
        "SMS_TIMEOUT": 5,
        **changes,
    }
