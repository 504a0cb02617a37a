"""Sessions that end: logout, a password change and deactivation end every session and
remember-me cookie of the user, replayed through the test client and over real HTTP.

Each test captures a logged-in browser's cookies (the session cookie and the remember-me
cookie, each alone), lets something happen, then sends the old cookies again from a new
browser: they must open nothing.
"""

from __future__ import annotations

import http.client
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlparse

import pytest
from support import PASSWORD, LiveServer, csrf_from, in_app, login, post_form

from feedback import accounts
from feedback.models import User

REMEMBER = "remember_token"
SESSION = "session"
PROTECTED = "/manage/"  # the dashboard


def remembered_login(client, username: str, password: str = PASSWORD):
    page = client.get("/login")
    reply = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "remember": "y",
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return reply


def cookies_of(client) -> dict[str, str]:
    return {
        name: client.get_cookie(name).value
        for name in (SESSION, REMEMBER)
        if client.get_cookie(name) is not None
    }


def opens(app, cookies: dict[str, str]) -> bool:
    """Whether a new browser holding just these cookies sees the dashboard."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    reply = browser.get(PROTECTED)
    assert reply.status_code in (200, 302), reply.status_code
    return reply.status_code == 200


def logout(client):
    page = client.get("/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302


def admin_edits(app, user_id: int, **changes):
    admin = app.test_client()
    assert login(admin, "admin").status_code == 302
    data = {
        "display_name": "Manager",
        "role": "manager",
        "team": "",
        "locale": "",
        "active": "y",
        "new_password": "",
    }
    data.update(changes)
    reply = post_form(
        admin,
        f"/admin/users/{user_id}",
        {key: value for key, value in data.items() if value is not None},
    )
    assert reply.status_code == 302, reply.get_data(as_text=True)


# The events that must end the manager's earlier sessions, each given the browser that logged in.
def by_logout(app, client, users):
    logout(client)


def by_admin_password_change(app, client, users):
    admin_edits(app, users["manager"].id, new_password="a brand new password")


def by_deactivation(app, client, users):
    admin_edits(app, users["manager"].id, active=None)
    assert not opens(app, {SESSION: client.get_cookie(SESSION).value})
    admin_edits(app, users["manager"].id)  # active again: the old cookies must stay dead


def by_second_login_elsewhere_then_logout(app, client, users):
    elsewhere = app.test_client()
    remembered_login(elsewhere, "manager")
    assert elsewhere.get(PROTECTED).status_code == 200
    logout(elsewhere)


EVENTS = [
    by_logout,
    by_admin_password_change,
    by_deactivation,
    by_second_login_elsewhere_then_logout,
]
EVENT_IDS = [event.__name__ for event in EVENTS]


@pytest.mark.parametrize("event", EVENTS, ids=EVENT_IDS)
def test_old_cookies_open_nothing_after(app, users, event):
    client = app.test_client()
    remembered_login(client, "manager")
    before = cookies_of(client)
    assert set(before) == {SESSION, REMEMBER}
    assert opens(app, {SESSION: before[SESSION]}) and opens(app, {REMEMBER: before[REMEMBER]})

    event(app, client, users)

    assert not opens(app, {SESSION: before[SESSION]})
    assert not opens(app, {REMEMBER: before[REMEMBER]})
    assert not opens(app, before)
    # and the user can log in again afterwards (with the new password where it changed)
    password = "a brand new password" if event is by_admin_password_change else PASSWORD
    again = app.test_client()
    remembered_login(again, "manager", password)
    assert again.get(PROTECTED).status_code == 200


def test_remember_cookie_rotates_and_is_flagged(make_app, users):
    app = make_app()
    values = []
    for _ in range(3):
        client = app.test_client()
        reply = remembered_login(client, "manager")
        values.append(client.get_cookie(REMEMBER).value)
        cookie = remember_header(reply)
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        assert_expires_in(cookie, days=14)
    assert len(set(values)) == 3, "the remember-me cookie must differ at every login"
    # every one of them works until one of the sessions logs out
    assert all(opens(app, {REMEMBER: value}) for value in values)

    secure = make_app(SECURE_COOKIES=True, REMEMBER_DAYS=3)
    reply = remembered_login(secure.test_client(), "manager")
    cookie = remember_header(reply)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert_expires_in(cookie, days=3)


def test_a_login_ends_after_remember_days_whatever_the_browser_keeps(app, users, monkeypatch):
    client = app.test_client()
    remembered_login(client, "manager")
    cookies = cookies_of(client)
    now = accounts.clock()
    monkeypatch.setattr(accounts, "clock", lambda: now + 13 * 86400)
    assert opens(app, {REMEMBER: cookies[REMEMBER]}) and opens(app, {SESSION: cookies[SESSION]})
    monkeypatch.setattr(accounts, "clock", lambda: now + 14 * 86400 + 60)
    assert not opens(app, {REMEMBER: cookies[REMEMBER]})
    assert not opens(app, {SESSION: cookies[SESSION]})


def test_a_refused_remember_cookie_is_deleted(app, users):
    client = app.test_client()
    remembered_login(client, "manager")
    old = cookies_of(client)[REMEMBER]
    logout(client)
    browser = app.test_client()
    browser.set_cookie(REMEMBER, old)
    reply = browser.get(PROTECTED)
    assert reply.status_code == 302
    assert any(h.startswith(f"{REMEMBER}=;") for h in reply.headers.getlist("Set-Cookie"))
    assert browser.get_cookie(REMEMBER) is None


def test_forged_or_old_format_keys_are_refused(app, users):
    """A session signed with the key but holding a bare id (as before versions) opens nothing."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(users["manager"].id)
        session["_fresh"] = True
    assert client.get(PROTECTED).status_code == 302
    for key in ("", "x", "1:1", "1:x:1:y", ":::", "9" * 40 + ":1:1:n", "1:1:1:n:extra"):
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = key
        assert client.get(PROTECTED).status_code == 302, key


def test_own_password_change_keeps_this_session_and_ends_the_others(app, users):
    here = app.test_client()
    remembered_login(here, "admin")
    there = app.test_client()
    remembered_login(there, "admin")
    old = cookies_of(there)
    reply = post_form(
        here,
        f"/admin/users/{users['admin'].id}",
        {
            "display_name": "admin",
            "role": "admin",
            "team": "",
            "locale": "",
            "active": "y",
            "new_password": "my own new password",
        },
    )
    assert reply.status_code == 302
    assert here.get("/admin/users").status_code == 200  # still logged in here
    assert opens(app, {REMEMBER: here.get_cookie(REMEMBER).value})  # a new remember cookie
    assert there.get("/admin/users").status_code == 302
    assert not opens(app, {REMEMBER: old[REMEMBER]})


def test_session_version_rises_with_each_ending(app, users):
    def version():
        with in_app(app):
            return User.get_by_id(users["manager"].id).session_version

    start = version()
    client = app.test_client()
    remembered_login(client, "manager")
    assert version() == start  # logging in ends nothing
    logout(client)
    assert version() == start + 1
    admin_edits(app, users["manager"].id, new_password="a brand new password")
    assert version() == start + 2
    admin_edits(app, users["manager"].id)  # no new password, still active: nothing ends
    assert version() == start + 2
    admin_edits(app, users["manager"].id, active=None)
    assert version() == start + 3


def remember_header(reply) -> str:
    found = [h for h in reply.headers.getlist("Set-Cookie") if h.startswith(f"{REMEMBER}=")]
    assert len(found) == 1, reply.headers.getlist("Set-Cookie")
    return found[0]


def assert_expires_in(cookie: str, days: int) -> None:
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    left = expires - datetime.now(UTC)
    assert timedelta(days=days, minutes=-2) < left <= timedelta(days=days), cookie


# --- over real HTTP -----------------------------------------------------------------------------


class HttpBrowser:
    """A minimal browser over a real socket: keeps cookies, follows no redirects."""

    def __init__(self, base: str, cookies: dict[str, str] | None = None):
        self.address = urlparse(base)
        self.cookies = dict(cookies or {})

    def request(self, method: str, path: str, form: dict | None = None, timeout: float = 30):
        from urllib.parse import urlencode

        conn = http.client.HTTPConnection(self.address.hostname, self.address.port, timeout=timeout)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        reply = conn.getresponse()
        text = reply.read().decode()
        for header in reply.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            if value and "Expires=Thu, 01 Jan 1970" not in header:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        conn.close()
        return reply.status, text

    def login(self, username: str, password: str = PASSWORD):
        _status, page = self.request("GET", "/login")
        status, _ = self.request(
            "POST",
            "/login",
            {
                "username": username,
                "password": password,
                "remember": "y",
                "csrf_token": csrf_from(page),
            },
        )
        assert status == 302

    def logout(self):
        _status, page = self.request("GET", "/")
        assert self.request("POST", "/logout", {"csrf_token": csrf_from(page)})[0] == 302

    def opens(self) -> bool:
        status, _ = self.request("GET", PROTECTED)
        assert status in (200, 302)
        return status == 200


@pytest.mark.parametrize("event", ["logout", "password", "deactivation", "elsewhere"])
def test_old_cookies_open_nothing_over_http(app, users, event):
    with LiveServer(app) as server:
        browser = HttpBrowser(server.url)
        browser.login("manager")
        before = dict(browser.cookies)
        assert set(before) >= {SESSION, REMEMBER}
        assert HttpBrowser(server.url, {REMEMBER: before[REMEMBER]}).opens()
        assert HttpBrowser(server.url, {SESSION: before[SESSION]}).opens()

        if event == "logout":
            browser.logout()
        elif event == "password":
            admin_edits(app, users["manager"].id, new_password="a brand new password")
        elif event == "deactivation":
            admin_edits(app, users["manager"].id, active=None)
            admin_edits(app, users["manager"].id)
        else:
            elsewhere = HttpBrowser(server.url)
            elsewhere.login("manager")
            assert elsewhere.cookies[REMEMBER] != before[REMEMBER]  # rotated
            elsewhere.logout()

        for cookies in ({REMEMBER: before[REMEMBER]}, {SESSION: before[SESSION]}, before):
            assert not HttpBrowser(server.url, cookies).opens(), (event, list(cookies))


# --- across the worker processes of a real gunicorn ----------------------------------------------


@pytest.fixture
def gunicorn(app, users, database_url, tmp_path):
    """The site served by gunicorn with 2 worker processes on the test's database."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": database_url,
        "FEEDBACK_SECRET_KEY": "s3",
        "FEEDBACK_EXPORTS_DIR": str(tmp_path / "exports"),
        "FEEDBACK_LOGIN_RATE_LIMIT": "1000 per minute",
    }
    gunicorn_bin = Path(sys.executable).parent / "gunicorn"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [str(gunicorn_bin), "--workers", "2", "--bind", "127.0.0.1:0", "feedback:create_app()"],
            env=env,
            stderr=sink,
            cwd=Path(__file__).resolve().parent.parent,
        )
    try:
        deadline = time.monotonic() + 120
        url = None
        while url is None and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            found = re.search(r"Listening at: (http://\S+)", log.read_text())
            url = found.group(1) if found else None
            time.sleep(0.1)
        assert url, log.read_text()
        # the workers load the app after booting: wait until they answer
        while time.monotonic() < deadline:
            try:
                if all(
                    HttpBrowser(url).request("GET", "/login", timeout=60)[0] == 200
                    for _ in range(4)
                ):
                    break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(20)


def test_logout_ends_the_session_in_every_worker_process(gunicorn):
    browser = HttpBrowser(gunicorn)
    browser.login("manager")
    before = dict(browser.cookies)
    # new connections, spread over both workers: each of them honours the login...
    assert all(HttpBrowser(gunicorn, before).opens() for _ in range(8))
    browser.logout()
    # ...and none of them any longer, with either cookie
    for cookies in ({REMEMBER: before[REMEMBER]}, {SESSION: before[SESSION]}):
        assert not any(HttpBrowser(gunicorn, cookies).opens() for _ in range(8)), list(cookies)
