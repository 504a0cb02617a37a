"""The page checks' crawler (tests/test_page_checks.py): every page a role reaches, in one
language, checked in Debian's chromium with axe-core, at 320 px and without JavaScript, each
page's served HTML kept for the Nu HTML Checker.

``seed`` fills an app with the demo data (``feedback.demo.fill``, a few hundred cases: tables,
charts, follow-ups, suggestions, actions) and the things no link reaches (the customer's
survey links, a tracking code, an opt-out link); ``crawl`` walks one role in one language.

How a crawl finds its pages: from the role's start pages it follows every same-origin GET link
(``<a href>``, and ``<iframe src>``), but never logout, the language switch (``lang=``) or
downloads (``SKIPPED_SUFFIXES``), and at most ``CAP`` addresses of each pattern (the app's
route that answers it, whatever its numbers, slugs or query; the start pages always), so a new
page is checked as soon as a link leads to it. Then it sends each POST form that can fail in
the error state (text fields emptied, ``required`` removed so that the browser's own checks let
it go; forms that delete, revoke, test or log out are left alone, and so are forms with nothing
to fill in or no enabled button) and checks the page that comes back. A second context, without
JavaScript, opens every page again and sends the same forms the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlparse

from browser import assert_fits, new_context
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from werkzeug.exceptions import HTTPException

from feedback.db import database, utcnow

CAP = 1
SKIPPED_SUFFIXES = (
    ".csv",
    ".png",
    ".svg",
    ".xlsx",
    ".pdf",
    ".zip",
    ".yaml",
    ".json",
    ".txt",
    ".ico",
    "/email.html",  # the invitation email's preview: an email's markup, not a page of the site
)
# POST forms never sent in the error state: they change or send something with no field to fill.
UNTOUCHED_FORMS = re.compile(r"/(logout|delete|remove|revoke|test|done|reopen)$|/links/")
LOCALES = {"zh_CN": "zh-CN", "en": "en"}
# A 1x1 PNG served for the charts: the checks read the markup, not matplotlib's drawings, which
# are slow to draw and have their own tests (test_charts.py, test_browser_small.py).
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
CHARTS = re.compile(r"/(manage|me)/charts/[^?]*\.(png|svg)|/before-after\.png")
ROLES = ("customer", "staff", "lead", "manager", "admin")
# The text fields an error-state submission empties.
EMPTIED = ("text", "email", "number", "date", "url", "tel", "search", "password", "time")

AXE_RUN = """async () => {
  // Frames are checked inside their page too (a landmark there is met by a screen reader as
  // part of the page), and crawled on their own (their src is followed).
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ')),
  }));
}"""

# Each POST form's action and whether it can fail: it has a field to fill in (else it acts,
# never fails) and a button that is not disabled (a preview's form cannot be sent at all).
FORMS = """fs => fs.map(f => [
  f.getAttribute('action') || '',
  [...f.elements].some(e => !['hidden', 'submit', 'button', 'reset'].includes(e.type)
                            && e.tagName !== 'FIELDSET' && e.tagName !== 'OUTPUT')
  && [...f.querySelectorAll('button:not([type=button]):not([type=reset]), input[type=submit]')]
       .some(b => !b.disabled),
])"""

ERROR_STATE = """(form, emptied) => {
  form.noValidate = true;
  for (const el of form.querySelectorAll('[required]')) el.removeAttribute('required');
  for (const el of form.elements) {
    if (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && emptied.includes(el.type)))
      el.value = '';
  }
  const button = form.querySelector(
    'button:not([type=button]):not([type=reset]), input[type=submit]');
  if (button) button.click(); else form.submit();
}"""


@dataclass
class Checked:
    """One page as checked: its address, how it was reached, and what the checks found."""

    role: str
    lang: str
    url: str
    status: int
    via: str = "link"  # link, start, or "error state of <form action> on <page>"
    html: Path | None = None
    axe: list[dict] = field(default_factory=list)
    fits: str | None = None
    no_js: str | None = None
    form: tuple[str, int] | None = None  # (page, index of its POST form) for an error state

    @property
    def name(self) -> str:
        return f"{self.role}/{self.lang} {self.url}" + (
            f" ({self.via})" if self.via not in ("link", "start") else ""
        )


def pattern(app, url: str) -> str:
    """The address's pattern: the app's route that answers it (``/manage/follow-ups/<int:...>``),
    whatever its numbers, slugs and query; the path with its numbers as N when none does."""
    path = urlparse(url).path
    try:
        rule, _args = app.url_map.bind("feedback.test").match(path, return_rule=True)
    except HTTPException:
        return re.sub(r"\d+", "N", path)
    return rule.rule


def local(url: str, base: str) -> str | None:
    """The path and query of a same-origin page link worth following, else None."""
    parts = urlparse(url)
    if f"{parts.scheme}://{parts.netloc}" != base or parts.scheme not in ("http", "https"):
        return None
    if parts.path.endswith(SKIPPED_SUFFIXES) or parts.path.startswith(("/logout", "/static/")):
        return None
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "lang" for key, _value in query):
        return None
    return parts.path + ("?" + urlencode(query) if query else "")


# --- the data --------------------------------------------------------------------------------


@dataclass
class Seeded:
    """What the crawls need beyond the demo data: the addresses no link reaches, by role."""

    extra: dict[str, list[str]]
    password: str
    twins: dict[str, str]  # survey link: the one the pass without JavaScript uses in its place


def seed(app, secret: str) -> Seeded:
    """The demo data (600 cases over six months, its users, follow-ups, suggestions, actions),
    an API token, and the customer's pages no link reaches."""
    from support import in_app, suggest_with_code

    from feedback import accounts
    from feedback.cases import CaseInput, InvitationPolicy, register_case
    from feedback.demo import DEMO_PASSWORD, fill
    from feedback.invitations import unsubscribe_url
    from feedback.models import Case, Invitation, User
    from feedback.surveys import current_version

    with in_app(app):
        fill(cases=600, seed=4, config=app.config)
        accounts.create_token("helpdesk")
        with database.atomic():
            policy = InvitationPolicy()
            survey = current_version("post-case").survey
            team = User.get(User.username == "staff").team.name  # call-backs for staff too
            register_case(
                CaseInput(
                    case_ref="CHECK-callback",
                    survey="post-case",
                    resolved_at=utcnow() - timedelta(hours=1),
                    channel="phone",
                    team=team,
                    customer_ref="check-callback",
                    customer_name="王芳",
                    customer_phone="13800138000",
                ),
                survey,
                policy,
            )
            pending = {
                code: [
                    register_case(
                        CaseInput(
                            case_ref=f"CHECK-{code}-{n}",
                            survey="post-case",
                            resolved_at=utcnow() - timedelta(hours=1),
                            channel="phone",
                            team=team,
                            agent="李娜",
                            customer_ref=f"check-{code}-{n}",
                            customer_locale=code,
                        ),
                        survey,
                        policy,
                    ).invitation
                    for n in range(5)
                ]
                for code in LOCALES
            }
            answered = Invitation.get(Invitation.status == "answered")
            expired = pending["zh_CN"][4]
            expired.expires_at = utcnow() - timedelta(days=1)
            expired.save()
            mailed = (
                Invitation.select(Invitation, Case)
                .join(Case)
                .where(Case.customer_email.is_null(False))
                .get()
            )
            opt_out = unsubscribe_url("", secret, mailed.token, mailed.case.customer_email)
    _made, tracking = suggest_with_code(
        app,
        anonymous=True,
        team=None,
        title="周末电话排队太久",
        body="周六打客服电话等了二十多分钟。",
        locale="zh_CN",
    )
    customer = {
        code: [
            f"/s/{rows[0].token}",
            f"/s/{rows[1].token}?csat=5",  # the one-tap rating from an email
        ]
        for code, rows in pending.items()
    }
    common = [
        f"/s/{answered.token}",
        f"/s/{answered.token}/thanks",
        f"/s/{expired.token}",
        opt_out,
        f"/suggest/track/{tracking}",
        "/suggest/",
        "/suggest/track",
        "/suggest/done",
        "/login",
        "/no-such-page",
    ]
    # A call-back found by its case (a GET form: no link leads there), and one not found.
    callbacks = ["/callback/?case=CHECK-callback", "/callback/?case=NO-SUCH-CASE"]
    staff = ["/", "/suggest/staff", "/callback/", "/me/", "/manage/", "/no-such-page", *callbacks]
    # The pass without JavaScript answers links of its own: the first pass may have used them.
    twins = {rows[n].token: rows[n + 2].token for rows in pending.values() for n in (0, 1)}
    return Seeded(
        twins=twins,
        extra={
            "customer:zh_CN": customer["zh_CN"] + common,
            "customer:en": customer["en"] + common,
            "staff": staff,
            "lead": ["/", "/manage/", "/me/", *callbacks],
            "manager": ["/", "/manage/", "/manage/responses", *callbacks],
            "admin": ["/", "/admin/", "/manage/", *callbacks],
        },
        password=DEMO_PASSWORD,
    )


# --- the crawl -------------------------------------------------------------------------------


def _serve_tiny_charts(context) -> None:
    context.route(
        CHARTS, lambda route: route.fulfill(status=200, content_type="image/png", body=TINY_PNG)
    )


def _log_in(page, base: str, role: str, password: str) -> None:
    page.goto(base + "/login")
    page.locator("input[name=username]").fill(role)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form[method=post] button[type=submit]").last.click()
    assert urlparse(page.url).path != "/login", f"{role} could not log in"


def _start(context, base: str, role: str, lang: str, password: str):
    page = context.new_page()
    if role != "customer":
        _log_in(page, base, role, password)
        page.goto(f"{base}/?lang={lang}")  # the language, kept in the session
    return page


def _keep_html(response, folder: Path, number: int) -> Path | None:
    if response is None or "text/html" not in (response.headers.get("content-type") or ""):
        return None
    path = folder / f"{number:04d}.html"
    path.write_bytes(response.body())
    return path


def _check(page, response, checked: Checked, folder: Path, number: int) -> None:
    """axe-core's rules, the served HTML kept, and no sideways scroll at the page's width."""
    checked.html = _keep_html(response, folder, number)
    checked.axe = page.evaluate(AXE_RUN)
    try:
        assert_fits(page, checked.url)
    except AssertionError as exc:
        checked.fits = str(exc).splitlines()[0]


def _main_text(page) -> str | None:
    """What is wrong with the page without JavaScript, or None: it must show its main content."""
    main = page.locator("main")
    if main.count() != 1:
        return f"{main.count()} <main> elements"
    if not main.inner_text().strip():
        return "an empty <main>"
    return None


def crawl(app, browser, base: str, role: str, lang: str, seeded: Seeded, folder: Path, axe: str):
    """Every page of ``role`` in ``lang`` (zh_CN or en), checked; a list of ``Checked``."""
    viewport = {"viewport": {"width": 320, "height": 640}, "locale": LOCALES[lang]}
    extra = seeded.extra.get(f"{role}:{lang}") or seeded.extra[role]
    found: list[Checked] = []
    forms: list[tuple[str, int, str]] = []  # (page, index of its POST form, action)
    context = new_context(browser, **viewport)
    context.add_init_script(script=axe)
    _serve_tiny_charts(context)
    try:
        page = _start(context, base, role, lang, seeded.password)
        queue = list(extra)
        seen: set[str] = set()
        counts: dict[str, int] = {}
        while queue:
            url = queue.pop(0)
            key = pattern(app, url)
            if url in seen or (counts.get(key, 0) >= CAP and url not in extra):
                continue
            seen.add(url)
            counts[key] = counts.get(key, 0) + 1
            response = page.goto(base + url)
            final = local(page.url, base) or url
            if final != url and final in seen:
                continue  # a redirect to a page already checked
            seen.add(final)

            checked = Checked(
                role,
                lang,
                final,
                response.status if response else 0,
                "start" if url in extra else "link",
            )
            _check(page, response, checked, folder, len(found) + _offset(role, lang))
            found.append(checked)
            links = page.eval_on_selector_all(
                "a[href], iframe[src]", "els => els.map(e => e.href || e.src)"
            )
            queue += [u for u in (local(link, base) for link in links) if u and u not in seen]
            actions = page.eval_on_selector_all("form[method=post i]", FORMS)
            for index, (action, fields) in enumerate(actions):
                target = urlparse(action).path or urlparse(final).path
                if fields and not UNTOUCHED_FORMS.search(target):
                    forms.append((final, index, target))
        sent: set[str] = set()
        for url, index, action in forms:
            key = pattern(app, url) + " " + pattern(app, action)
            if key in sent:
                continue
            sent.add(key)
            page.goto(base + url)
            response = _send_in_error_state(page, index)
            checked = Checked(
                role,
                lang,
                local(page.url, base) or page.url,
                response.status if response else 0,
                f"error state of {action} on {url}",
            )
            checked.form = (url, index)
            number = len(found) + _offset(role, lang) + 500
            _check(page, response, checked, folder, number)
            found.append(checked)
    finally:
        context.close()
    _without_javascript(browser, base, role, lang, seeded, found)
    return found


def _offset(role: str, lang: str) -> int:
    return (ROLES.index(role) * 2 + list(LOCALES).index(lang)) * 1000


def _send_in_error_state(page, index: int):
    """Send the page's ``index``-th POST form with its text fields emptied; the response
    (after redirects)."""
    form = page.locator("form[method=post i]").nth(index)
    try:
        with page.expect_navigation() as navigation:
            form.evaluate(ERROR_STATE, list(EMPTIED))
    except PlaywrightTimeout:
        return None  # no page came back: a finding (status 0)
    return navigation.value


def _without_javascript(browser, base, role, lang, seeded, found) -> None:
    """Each page again without JavaScript: it shows its main content; and each form sent in
    the error state brings back a page with its main content, never a server error."""
    context = new_context(
        browser,
        viewport={"width": 320, "height": 640},
        locale=LOCALES[lang],
        java_script_enabled=False,
    )
    _serve_tiny_charts(context)
    try:
        page = _start(context, base, role, lang, seeded.password)
        for checked in found:
            if checked.form is None:
                page.goto(base + checked.url)
                checked.no_js = _main_text(page)
                continue
            url, index = checked.form
            for token, twin in seeded.twins.items():
                url = url.replace(token, twin)
            page.goto(base + url)
            if page.locator("form[method=post i]").count() <= index:
                checked.no_js = f"its form is not there without JavaScript: {url}"
                continue
            response = _send_in_error_state(page, index)
            status = response.status if response else 0
            problem = _main_text(page)
            if status >= 500 or status == 0:
                problem = f"answered {status}"
            checked.no_js = problem
    finally:
        context.close()
