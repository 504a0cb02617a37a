"""Property-based fuzzing of every route of the site, on SQLite and on PostgreSQL.

The test walks ``app.url_map`` (every rule, every method but HEAD and OPTIONS), and for each one
Hypothesis draws requests: anonymous or logged in as each role (mostly one that gets past the
route's login check), with a valid CSRF token most of the time so that the body is really
parsed, path parameters that name real rows or hostile ones (huge numbers, another object),
query strings and bodies (urlencoded, multipart or JSON) made of the field names the site's own
pages use and of hostile values: huge strings, control characters, NUL, lone surrogates,
invalid UTF-8, duplicate and missing fields, wrong types, huge numbers, far dates, deep JSON.

Whatever is sent, the reply is never a 5xx, and a refused request (4xx) changes nothing in the
database (every table's rows are fingerprinted before and after).

By default each run tries the same examples (derandomized), ``EXAMPLES`` per route (fewer for the
routes that draw charts or PDFs); ``FEEDBACK_FUZZ_EXAMPLES=200`` hunts longer and
``FEEDBACK_FUZZ_RANDOM=1`` draws new examples each run. The summary (examples and statuses per
route) is printed at the end: run with ``-s`` to see it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from collections import Counter, defaultdict
from datetime import date
from html.parser import HTMLParser
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import PASSWORD, csrf_from, in_app, login, new_case, post_form, survey_path

from feedback import actions, invitations
from feedback.db import database
from feedback.models import Case, FollowUp, Robot, Suggestion, Survey, Team, User

EXAMPLES = int(os.environ.get("FEEDBACK_FUZZ_EXAMPLES", "8"))
RANDOM = os.environ.get("FEEDBACK_FUZZ_RANDOM") == "1"
SLOW = {
    "manage.chart": 3,
    "manage.meeting_pack_pdf": 1,
    "admin.poster": 3,
    "actions.chart": 3,
    "manage.export_responses": 6,
    "manage.index": 8,
}
ROLES = (None, "staff", "lead", "manager", "admin")
DEEP_ROLES = [
    ("/admin", ("admin",)),
    ("/manage", ("lead", "manager", "admin")),
    ("/api/v1/metrics", (None, "lead", "manager")),
    ("/callback", ("staff", "lead", "manager", "admin")),
    ("/suggest/staff", ("staff", "lead", "manager", "admin")),
    ("/logout", ROLES[1:]),
]
VOLATILE_COLUMNS = {"last_used_at"}  # an API token's last use: written by valid API calls

HOSTILE_TEXTS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\x0b\x07\x1b\x7f",
    "\u202e\u200b\ufeff",
    "é",
    "中文",
    "9" * 25,
    "-1",
    "0",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "1e309",
    "NaN",
    "-inf",
    "0x10",
    "٣",
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "2026-02-30",
    "2026-11-20T10:00:00+08:00",
    "x" * 5000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    "true",
    "[]",
    "{}",
    "null",
    "=cmd|' /C calc'!A0",
    "a\r\nSet-Cookie: x=1",
]
QUERY_NAMES = [
    "survey",
    "from",
    "to",
    "period",
    "group_by",
    "channel",
    "team",
    "agent",
    "category",
    "source",
    "page",
    "size",
    "comments",
    "state",
    "box",
    "status",
    "start",
    "end",
    "order",
    "case",
    "lang",
    "next",
    "download",
    "csat",
    "nps",
    "resolved",
    "kind",
    "owner",
    "metric",
    # the responses behind a figure
    "measure",
    "band",
    "score",
    "question",
    "term",
    "side",
    "bucket",
    "per",
    "without",
]


class FormFields(HTMLParser):
    """Every form field name on a page, with the values its inputs and options offer."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, set[str]] = defaultdict(set)
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "textarea", "select", "button") and attrs.get("name"):
            self.values[attrs["name"]].add(attrs.get("value") or "")
            if tag == "select":
                self._select = attrs["name"]
        elif tag == "option" and self._select:
            self.values[self._select].add(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


# --- the site to fuzz ---------------------------------------------------------------------------


def seed(app, users, client, api_headers) -> dict:
    """Rows for every kind of object route, and the path parameter values that name them."""
    answered = survey_path(
        new_case(
            client, api_headers, case_id="F-1", customer={"id": "f-1", "email": "f1@example.cn"}
        )
    )
    html = client.get(answered).get_data(as_text=True)
    client.post(
        answered,
        data={
            "resolved": "no",
            "csat": "1",
            "nps": "2",
            "ces": "2",
            "comment": "bad",
            "csrf_token": csrf_from(html),
        },
    )
    pending = new_case(client, api_headers, case_id="F-2", customer={"id": "f-2"})
    new_case(client, api_headers, case_id="F-3", team="Other team", customer={"id": "f-3"})
    reply = post_form(
        client, "/suggest/", {"category": "1", "title": "t", "body": "b", "identity": "anonymous"}
    )
    code = re.search(r'id="tracking-code">([A-Z0-9-]+)<', reply.get_data(as_text=True)).group(1)
    with in_app(app):
        target = User.create(
            username="target", display_name="Target", role="staff", password_hash="x", active=True
        )
        by = User.get(User.username == "manager")
        action = actions.create_action(
            {
                "title": "Shorter hold times",
                "description": "",
                "metric": "csat",
                "survey": Survey.get(Survey.slug == "post-case").id,
                "channel": None,
                "team": Team.by_name("Billing").id,
                "agent": None,
                "category": None,
                "owner": by.id,
                "start_date": date(2026, 9, 1),
                "due_date": date(2026, 10, 15),
            },
            by,
        )
        milestone = actions.add_milestone(action, "Step", date(2026, 10, 1))
        robot = Robot.create(
            team=Team.by_name("Billing"), platform="wecom", name="fuzz", url="http://127.0.0.1:9/"
        )
        return {
            "token": [survey_path(pending).rsplit("/", 1)[1], answered.rsplit("/", 1)[1]],
            "code": [code, code.lower().replace("-", " ")],
            # the answered invitation's real unsubscribe signature, and one we did not make
            "signature": [
                invitations.unsubscribe_signature(app.config["SECRET_KEY"], "f1@example.cn"),
                "0" * 32,
            ],
            "case_id": [Case.get(Case.case_ref == "F-1").id, Case.get(Case.case_ref == "F-3").id],
            "follow_up_id": [FollowUp.select().first().id],
            "suggestion_id": [Suggestion.select().first().id],
            "user_id": [target.id],
            "team_id": [Team.by_name("Billing").id],
            "token_id": [1],
            "category_id": [1],
            "robot_id": [robot.id],
            "action_id": [action.id],
            "milestone_id": [milestone.id],
            "target_id": [1],
            "kind": ["suggestion", "follow_up"],
            "slug": ["post-case", "callback"],
            "number": [1],
            "box": ["customer", "staff"],
            "fmt": ["csv", "xlsx", "png", "pdf", "svg"],
            "name": ["csat-trend", "suggestions-by-category"],
        }


def fingerprint(app) -> str:
    """A hash of every row of every table (volatile columns left out)."""
    digest = hashlib.sha256()
    with in_app(app):
        for table in sorted(database.get_tables()):
            cursor = database.execute_sql(f'SELECT * FROM "{table}"')
            names = [c[0] for c in cursor.description]
            keep = [i for i, n in enumerate(names) if n not in VOLATILE_COLUMNS]
            rows = sorted(repr(tuple(row[i] for i in keep)) for row in cursor.fetchall())
            digest.update(f"{table}:{len(rows)}:{''.join(rows)}".encode())
    return digest.hexdigest()


# --- strategies ---------------------------------------------------------------------------------


def encoded(value) -> str:
    """A percent-encoded value: text as UTF-8 (lone surrogates as their invalid bytes), bytes
    as they are."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return quote_from_bytes(raw, safe="")


BIG = "x" * 300_000  # bodies only: a query string that long never passes a real server


def hostile_values(known: list[str], big: bool = False):
    plain = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
    hostile = st.sampled_from(HOSTILE_TEXTS + [BIG] if big else HOSTILE_TEXTS)
    return st.one_of(
        st.sampled_from(known or [""]),
        st.sampled_from(known or [""]),
        hostile,
        plain,
        st.binary(max_size=12),
    )


def pairs(names: list[str], values_of: dict[str, list[str]], big: bool = False):
    """(name, value) pairs: the names given (some repeated or left out) and a few odd ones."""
    name = st.one_of(
        st.sampled_from(names),
        st.sampled_from(names),
        st.sampled_from(["\x00", "a" * 300, "x\ud800", "csrf_token", "id"]),
        st.text(max_size=8),
    )
    return st.lists(
        name.flatmap(lambda n: st.tuples(st.just(n), hostile_values(values_of.get(n, []), big))),
        max_size=8,
    )


def json_values():
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.sampled_from(HOSTILE_TEXTS[:27]),
        st.text(max_size=20),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )


CASE = {
    "case_id": "Z-1",
    "resolved_at": "2026-11-20T10:00:00+08:00",
    "channel": "phone",
    "team": "Billing",
    "customer": {"id": "z", "email": "z@example.cn"},
}


def json_bodies():
    changed = st.dictionaries(
        st.sampled_from([*CASE, "survey", "agent", "category", "reopened", "customer", "x\x00"]),
        json_values(),
        max_size=4,
    )
    return st.one_of(
        changed.map(lambda c: json.dumps({**CASE, "case_id": f"Z-{uuid.uuid4().hex[:8]}", **c})),
        json_values().map(json.dumps),
        st.integers(min_value=33, max_value=100_000).map(lambda n: "[" * n + "]" * n),
        st.sampled_from(["[" * 100_000, '{"a":' * 5000, "{", "\x00", '"\\ud800"', "1e999999"]),
    ).map(lambda text: text.encode("utf-8", "surrogatepass"))


def multipart(fields: list[tuple[str, object]]) -> tuple[bytes, str]:
    boundary = "fuzz" + uuid.uuid4().hex
    parts = []
    for name, value in fields:
        raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        disposition = f'form-data; name="{encoded(name)}"'
        if len(parts) % 3 == 2:  # some as files
            disposition += '; filename="f\x00.csv"'
        parts.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + raw + b"\r\n"
        )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


# --- the test -----------------------------------------------------------------------------------


class Site:
    """The app with one logged-in client per role, their CSRF tokens and what pages offer."""

    def __init__(self, app, users, api_headers):
        self.app = app
        self.api_headers = api_headers
        anon = app.test_client()
        self.params = seed(app, users, anon, api_headers)
        self.clients = {}
        self.csrf = {}
        for role in ROLES:
            self.login(role)
        self.values: dict[str, set[str]] = defaultdict(set)
        p = {name: values[0] for name, values in self.params.items()}
        pages = {
            None: [
                "/login",
                "/suggest/",
                "/suggest/track",
                f"/s/{p['token']}",
                f"/suggest/track/{p['code']}",
            ],
            "staff": ["/suggest/staff", "/callback/", f"/callback/case/{p['case_id']}/callback"],
            "manager": [
                "/manage/suggestions/",
                "/manage/follow-ups/",
                f"/manage/follow-ups/{p['follow_up_id']}",
                f"/manage/suggestions/{p['suggestion_id']}",
                "/manage/actions/new",
                f"/manage/actions/{p['action_id']}",
                f"/manage/actions/{p['action_id']}/edit",
                "/manage/",
            ],
            "admin": [
                "/admin/users/new",
                f"/admin/users/{p['user_id']}",
                "/admin/teams/new",
                "/admin/tokens/new",
                "/admin/suggestion-box/categories/new",
                "/admin/surveys/new",
                "/admin/surveys/post-case/edit",
            ],
        }
        for role, urls in pages.items():
            for page in urls:
                reply = self.clients[role].get(page)
                parser = FormFields()
                parser.feed(reply.get_data(as_text=True))
                for name, found in parser.values.items():
                    self.values[name] |= found
        self.values.pop("csrf_token", None)
        self.field_names = sorted(self.values)
        self.known = {
            name: sorted(v for v in found if len(v) < 200) for name, found in self.values.items()
        }
        survey_page = anon.get(f"/s/{self.params['token'][0]}").get_data(as_text=True)
        self.survey_csrf = csrf_from(survey_page)

    def login(self, role):
        client = self.app.test_client()
        if role is not None:
            login(client, role, PASSWORD)
        self.clients[role] = client
        page = client.get("/suggest/")
        self.csrf[role] = csrf_from(page.get_data(as_text=True))

    @staticmethod
    def deep_roles(rule) -> list:
        """The roles that get past the route's login check (by its blueprint; a wrong guess only
        spreads the examples differently)."""
        for prefix, roles in DEEP_ROLES:
            if rule.rule.startswith(prefix):
                return list(roles)
        return list(ROLES)

    @staticmethod
    def path(rule, values: dict) -> str:
        def fill(match):
            name = match.group(2)
            return encoded(str(values[name]))

        return re.sub(r"<(?:(\w+):)?(\w+)>", fill, rule.rule)


def path_values(site: Site, rule):
    strategies = {}
    for name in rule.arguments:
        real = st.sampled_from(site.params[name])
        if "Int" in type(rule._converters[name]).__name__:
            odd = st.sampled_from([0, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**22, 999])
        else:
            odd = st.one_of(
                st.sampled_from(HOSTILE_TEXTS[:24]).filter(bool), st.text(min_size=1, max_size=20)
            )
        strategies[name] = st.one_of(real, real, real, odd)
    return st.fixed_dictionaries(strategies)


def requests(site: Site, rule, method: str, deep: list):
    body = st.none()
    if method != "GET":
        names = site.field_names
        body = st.one_of(
            st.tuples(st.just("form"), pairs(names, site.known, big=True)),
            st.tuples(st.just("form"), pairs(names, site.known, big=True)),
            st.tuples(st.just("multipart"), pairs(names, site.known, big=True)),
            st.tuples(st.just("json"), json_bodies()),
        )
        if rule.rule.startswith("/api/"):
            body = st.one_of(st.tuples(st.just("json"), json_bodies()), body)
    return st.fixed_dictionaries(
        {
            "role": st.sampled_from(deep * 4 + list(ROLES)),
            "path": path_values(site, rule),
            "query": pairs(QUERY_NAMES, site.known),
            "body": body,
            "csrf": st.sampled_from(["valid", "valid", "valid", "missing", "é", "\x00"]),
            "token": st.sampled_from(["valid", "valid", "none", "bad"]),
        }
    )


def send(site: Site, rule, method: str, request: dict):
    client = site.clients[request["role"]]
    path = site.path(rule, request["path"])
    query = "&".join(f"{encoded(k)}={encoded(v)}" for k, v in request["query"])
    headers = {}
    if rule.rule.startswith("/api/") and request["token"] != "none":
        headers = (
            dict(site.api_headers)
            if request["token"] == "valid"
            else {"Authorization": "Bearer not-a-token"}
        )
    data, content_type = b"", None
    if request["body"] is not None:
        kind, fields = request["body"]
        if kind == "json":
            data, content_type = fields, "application/json"
        else:
            fields = list(fields)
            if request["csrf"] != "missing":
                token = (
                    site.survey_csrf
                    if rule.endpoint == "survey.answer"
                    else site.csrf[request["role"]]
                )
                fields.append(
                    ("csrf_token", token if request["csrf"] == "valid" else request["csrf"])
                )
            if kind == "form":
                data = "&".join(f"{encoded(k)}={encoded(v)}" for k, v in fields).encode()
                content_type = "application/x-www-form-urlencoded"
            else:
                data, content_type = multipart(fields)
    if content_type:
        headers["Content-Type"] = content_type
    reply = client.open(path, method=method, query_string=query, data=data, headers=headers)
    reply.get_data()  # a streamed download fails only while it is read
    reply.close()
    if rule.endpoint == "auth.logout" or (
        request["role"] is not None and rule.endpoint == "admin.edit_user"
    ):
        site.login(request["role"])  # logged out (or changed): log in again for what follows
    return reply


SUMMARY: dict[str, dict] = {}


@pytest.fixture
def site(app, users, api_headers):
    return Site(app, users, api_headers)


def test_every_route_survives_hostile_requests(site, request):
    app = site.app
    database_kind = request.node.callspec.params.get("database_url", "?")
    failures = []
    started, cpu = time.monotonic(), time.process_time()
    summary = SUMMARY.setdefault(database_kind, {})
    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static"),
        key=lambda r: (r.endpoint == "auth.logout", r.endpoint.startswith("admin."), r.rule),
    )
    for rule in rules:
        deep = Site.deep_roles(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            label = f"{method} {rule.rule}"
            statuses: Counter = Counter()
            examples = SLOW.get(rule.endpoint, EXAMPLES)

            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=not RANDOM,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(req=requests(site, rule, method, deep))
            def run(req):
                before = fingerprint(app)
                reply = send(site, rule, method, req)
                statuses[reply.status_code] += 1
                assert reply.status_code < 500, (label, reply.status_code, req)
                if reply.status_code >= 400:
                    assert fingerprint(app) == before, (
                        "refused but changed",
                        label,
                        reply.status_code,
                        req,
                    )

            began = time.monotonic()
            try:
                run()
            except AssertionError as exc:
                failures.append(f"{label}: {str(exc)[:600]}")
            summary[label] = {
                "examples": sum(statuses.values()),
                "statuses": dict(statuses),
                "seconds": time.monotonic() - began,
            }
    took, cpu = time.monotonic() - started, time.process_time() - cpu
    print(
        f"\nfuzz on {database_kind}: {len(summary)} routes and methods, "
        f"{sum(s['examples'] for s in summary.values())} requests in {took:.0f} s "
        f"({cpu:.0f} s of this process's CPU)"
    )
    for label, found in summary.items():
        print(f"  {found['examples']:4d} {found['seconds']:5.1f}s  {label}  {found['statuses']}")
    assert not failures, "\n".join(failures)
