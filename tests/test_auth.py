"""Logging in and out, and every route checked for who may see it."""

from __future__ import annotations

import pytest
from support import PASSWORD, csrf_from, in_app, login
from werkzeug.routing import IntegerConverter

from feedback.models import User

PUBLIC_ENDPOINTS = {
    "static",
    "favicon",  # on to the static SVG icon
    "auth.login",
    "survey.answer",
    "survey.thanks",
    "api.openapi",
    # the customers' suggestion box, tracking and "you said, we did"
    "suggest.customer_box",
    "suggest.track",
    "suggest.status",
    "suggest.comment",
    "suggest.you_said_we_did",
    # a customer's one-click unsubscribe (signed link, no login)
    "unsubscribe.opt_out",
    # the short link of an invitation text, on to the survey (the code is the credential)
    "short_link.follow",
}
TOKEN_ENDPOINTS = {
    "api.post_case",
    "api.get_survey",
    "api.get_metrics",
    "api.get_drivers",
    "api.get_themes",
    "api.post_delivery",
}


def fill_arguments(rule) -> str:
    values = {
        arg: ("1" if isinstance(rule._converters[arg], IntegerConverter) else "post-case")
        for arg in rule.arguments
    }
    return rule.build(values, append_unknown=False)[1]


def protected_rules(app):
    return [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint not in PUBLIC_ENDPOINTS | TOKEN_ENDPOINTS | {"auth.home"}
    ]


def test_every_staff_route_sends_strangers_to_login(app, client):
    rules = protected_rules(app)
    assert rules, "no protected routes found"
    for rule in rules:
        method = "GET" if "GET" in rule.methods else "POST"
        url = fill_arguments(rule)
        reply = client.open(url, method=method)
        if method == "POST" and reply.status_code == 400:
            continue  # the CSRF guard answered first: no state change either way
        assert reply.status_code == 302, (url, reply.status_code)
        assert "/login" in reply.headers["Location"], url


def test_every_api_route_needs_a_token(app, client):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in TOKEN_ENDPOINTS:
            method = "POST" if "POST" in rule.methods else "GET"
            reply = client.open(fill_arguments(rule), method=method, json={})
            assert reply.status_code == 401, rule
            assert "token" in reply.get_json()["error"]


def test_every_admin_route_refuses_other_roles(app, client, users):
    for role in ("manager", "lead", "staff"):
        client.get("/logout")
        with client.session_transaction() as session:
            session.clear()
        login(client, role)
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("admin.") and "GET" in rule.methods:
                assert client.get(fill_arguments(rule)).status_code == 403, (role, rule)


def test_login_and_logout(client, users):
    reply = login(client, "admin")
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/admin/")
    assert client.get("/admin/").status_code == 200
    page = client.get("/admin/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_wrong_password_is_said_beside_the_field(client, users):
    reply = login(client, "admin", "not-the-password")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200 and 'id="password-error"' in page
    assert client.get("/admin/").status_code == 302


def test_inactive_user_cannot_log_in(app, client, users):
    with in_app(app):
        User.update(active=False).where(User.username == "staff").execute()
    assert 'id="password-error"' in login(client, "staff").get_data(as_text=True)


def test_next_parameter_cannot_leave_the_site(client, users):
    page = client.get("/login?next=https://evil.example/")
    reply = client.post(
        "/login?next=https://evil.example/",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert "evil.example" not in reply.headers["Location"]


def test_login_without_csrf_is_refused(client, users):
    reply = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert reply.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_passwords_are_hashed(app, users):
    with in_app(app):
        stored = User.get(User.username == "admin").password_hash
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


@pytest.mark.parametrize("path", ["/login", "/s/unknown-token-123456"])
def test_pages_set_the_language(client, path):
    html = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    html = client.get(path, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
