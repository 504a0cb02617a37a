"""Helpers for tests: the app's context with a connection, forms with CSRF, logging in, cases
and answers through the API, a live server, an SMTP server.

Fixtures live in conftest.py and the plugins it registers (browser.py, data_sets.py); test
modules import plain helpers and constants from here, never from one another.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from werkzeug.serving import make_server

from feedback.db import database

PASSWORD = "password123"


def run_flask(env: dict, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """``flask --app feedback ARGS`` in a process of its own, as a person runs it."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "feedback", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def in_app(app):
    """The block runs inside the app's context with a database connection open, closed after.

    Like a request, it holds the connection only for the block: a test client request ends by
    closing the connection (the app's teardown), so do not make one inside the block.
    """
    with app.app_context(), database.connection_context():
        yield


CSRF = re.compile(r'name="csrf_token"[^>]*? value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )


def client_for(app, role: str | None):
    """A client logged in with that role (None: anonymous), reading the pages in English."""
    client = app.test_client()
    if role:
        login(client, role)
    client.get("/?lang=en" if role else "/login?lang=en")
    return client


def post_form(client, url: str, data: dict, **kwargs):
    """GET a form page, then POST to it with its CSRF token, as a browser would."""
    page = client.get(url)
    return client.post(
        url, data={**data, "csrf_token": csrf_from(page.get_data(as_text=True))}, **kwargs
    )


CASE = {
    "case_id": "C-1001",
    "resolved_at": "2026-11-20T10:00:00+08:00",
    "channel": "phone",
    "agent": "李娜",
    "team": "Billing",
    "category": "billing",
    "customer": {"id": "cust-1", "email": "wang@example.cn", "locale": "zh-CN"},
}


def all_at_once(count: int, task) -> list:
    """``task(n)`` for n in 0..count-1, each in its own thread, all let go together; their
    results in that order once every thread ended."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(n):
        barrier.wait()
        results[n] = task(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def new_case(client, headers, **changes):
    """POST a case through the API and return the JSON reply (asserting it was accepted)."""
    body = {**CASE, **changes}
    reply = client.post("/api/v1/cases", json=body, headers=headers)
    assert reply.status_code in (200, 201), reply.get_json()
    return reply.get_json()


def import_cases(app, folder, text: str):
    """Write ``text`` as cases.csv in ``folder`` and run ``import-cases`` on it (asserting it
    succeeded); the command's result."""
    path = folder / "cases.csv"
    path.write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-cases", str(path)])
    assert result.exit_code == 0, result.output
    return result


def deliver(app, hours: float = 0):
    """Run the outbox deliverer as if ``hours`` had passed; its Outcome."""
    from feedback import outbox
    from feedback.db import utcnow

    later = utcnow() + timedelta(hours=hours)
    with in_app(app):
        return outbox.deliver_due(app.config, now=lambda: later)


def invitation_of(app, case_ref: str):
    """The invitation of the case with this reference."""
    from feedback.models import Case, Invitation

    with in_app(app):
        return Invitation.select().join(Case).where(Case.case_ref == case_ref).get()


def survey_path(reply: dict) -> str:
    return urlparse(reply["invitation"]["url"]).path


# Answers to the post-case survey: one opening a follow-up by its NPS, one by "not resolved".
DETRACTOR = {"resolved": "yes", "csat": "4", "nps": "3", "comment": "meh"}
UNRESOLVED = {"resolved": "no", "csat": "4", "nps": "8"}
HAPPY = {"resolved": "yes", "csat": "5", "nps": "10"}


def answer(client, api_headers, data, **case):
    """A new case through the API, its survey answered with ``data``; the reply to the answer."""
    path = survey_path(new_case(client, api_headers, **case))
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={**data, "csrf_token": csrf_from(page)})


def make_action(app, team: str | None = "Billing", owner: str = "manager", **changes) -> int:
    """An improvement action written through the domain function; returns its id."""
    from feedback import actions
    from feedback.models import Survey, Team, User

    with in_app(app):
        by = User.get(User.username == "manager")
        fields = {
            "title": "Shorter hold times",
            "description": "",
            "metric": "csat",
            "survey": Survey.get(Survey.slug == "post-case").id,
            "channel": None,
            "team": Team.by_name(team).id if team else None,
            "agent": None,
            "category": None,
            "owner": User.get(User.username == owner).id,
            "start_date": date(2026, 9, 1),
            "due_date": date(2026, 10, 15),
        }
        fields.update(changes)
        return actions.create_action(fields, by).id


SUGGESTION_CODE = re.compile(r'id="tracking-code">([A-Z0-9-]+)<')


def give(client, url="/suggest/", **fields):
    """Give a suggestion through the form (anonymous unless ``fields`` say otherwise)."""
    data = {
        "category": "1",
        "title": "排队太久",
        "body": "电话等了二十分钟才接通。",
        "identity": "anonymous",
        **fields,
    }
    return post_form(client, url, data)


def code_of(reply) -> str:
    """The tracking code on the page that thanks for a suggestion."""
    match = SUGGESTION_CODE.search(reply.get_data(as_text=True))
    assert match, reply.get_data(as_text=True)[:2000]
    return match.group(1)


# The meeting pack's charts, all but the SERVQUAL ones (which need that survey's questions).
ALL_BUT_SERVQUAL = [
    "csat-trend",
    "nps-trend",
    "csat-control",
    "nps-composition",
    "csat-by-channel",
    "csat-by-team",
    "csat-by-category",
    "agent-funnel",
    "csat-drivers",
]


def page_count(pdf: bytes) -> int:
    """The /Count of the PDF's page tree, checked against the page objects."""
    tree = re.findall(rb"/Type /Pages\s*/Kids \[[^\]]*\]\s*/Count (\d+)", pdf)
    assert len(tree) == 1, "one page tree"
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == int(tree[0])
    return int(tree[0])


def suggest(app, anonymous: bool, team: str | None = "Billing", **text):
    """A customer's suggestion in the "service" category (the default categories made first),
    named by Wang Fang unless anonymous; ``text`` may give title, body and locale."""
    return suggest_with_code(app, anonymous, team, **text)[0]


def suggest_with_code(app, anonymous: bool, team: str | None = "Billing", **text):
    """``suggest``'s suggestion and the tracking code its submitter is shown."""
    from feedback import suggestions
    from feedback.models import SuggestionCategory, Team

    with in_app(app):
        suggestions.ensure_default_categories()
        category = SuggestionCategory.get(SuggestionCategory.slug == "service")
        return suggestions.submit(
            suggestions.NewSuggestion(
                box="customer",
                category_id=category.id,
                title=text.get("title", "Longer opening hours"),
                body=text.get("body", "Please open on Saturdays."),
                anonymous=anonymous,
                locale=text.get("locale", "en"),
                name=None if anonymous else "Wang Fang",
                email=None if anonymous else "wang@example.cn",
                team_id=Team.by_name(team).id if team else None,
            ),
            app.config,
        )


class HttpFake:
    """A receiver on a free loopback port, in a thread: each POST is answered by
    ``answer(path, headers, body) -> (status, body bytes)``, called from the server's threads."""

    def __init__(self, answer):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                status, body = answer(self.path, self.headers, raw)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class LiveServer:
    """The app served over real HTTP on a free loopback port, in a thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@contextmanager
def counted_queries():
    """Every SQL statement run inside the block, in a list (to assert query counts)."""
    executed: list[str] = []
    db = database.obj
    original = db.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        executed.append(sql)
        return original(sql, params, *args, **kwargs)

    db.execute_sql = counting
    try:
        yield executed
    finally:
        del db.execute_sql  # back to the class's method


class SmtpServer:
    """A real SMTP server on a free loopback port (aiosmtpd) that keeps what it receives.

    ``fail_next`` makes the next that many messages fail with a temporary error (451), to test
    retries; ``config`` is what an app needs to send through it.
    """

    def __init__(self, tls: str = "", certificate: tuple[str, str] | None = None):
        """``tls``: "" (plain), "starttls" (offers and requires STARTTLS) or "implicit" (TLS from
        the first byte, as on port 465); ``certificate``: (cert file, key file) for those."""
        import ssl

        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.fail_next = 0
        self.tls = tls
        with socket.socket() as probe:  # aiosmtpd needs a real port number up front
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        context = None
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
        if tls == "implicit":
            self.controller = Controller(self, hostname="127.0.0.1", port=port, ssl_context=context)
        elif tls == "starttls":
            self.controller = Controller(
                self, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
            )
        else:
            self.controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server, session, envelope):
        if self.fail_next > 0:
            self.fail_next -= 1
            return "451 4.3.0 try again later (failing on purpose)"
        import email
        from email import policy

        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        return "250 OK"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def config(self) -> dict:
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": self.controller.port,
            "MAIL_FROM": "feedback <feedback@example.test>",
            "SMTP_STARTTLS": self.tls == "starttls",
            "SMTP_SSL": self.tls == "implicit",
        }


def self_signed_certificate(folder) -> tuple[str, str]:
    """A new self-signed certificate for 127.0.0.1 (openssl): (certificate file, key file)."""
    import subprocess

    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def answered_case(case_in, answers: dict, sent, survey: str = "post-case") -> int:
    """A case (a ``cases.CaseInput``) registered at ``sent`` and its survey answered with
    ``answers`` an hour later through the domain functions, in the caller's app context and
    transaction; returns the response's id."""
    from datetime import timedelta

    from feedback import responses
    from feedback.cases import InvitationPolicy, register_case
    from feedback.surveys import current_version, definition_of

    version = current_version(survey)
    registration = register_case(case_in, version.survey, InvitationPolicy(), now=sent)
    return responses.submit(
        registration.invitation,
        registration.case,
        version,
        definition_of(version),
        answers,
        locale="zh_CN",
        tz="Asia/Shanghai",
        now=sent + timedelta(hours=1),
    )


def user_form(user, **changes) -> dict:
    """The admin's edit form of ``user`` as the browser sends it, the user's values kept but
    ``changes`` (an unticked box is not sent: give it None)."""
    data = {
        "display_name": user.display_name,
        "role": user.role,
        "team": str(user.team_id) if user.team_id else "",
        "locale": user.locale or "",
        "email": user.email or "",
        "active": "y" if user.active else None,
        "agent_code": user.agent_code or "",
        **changes,
    }
    return {key: value for key, value in data.items() if value is not None}
