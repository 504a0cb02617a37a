"""Each language punctuates its own way, and no page speaks the other language.

The whole Chinese catalogue: no half-width ``: ; , ? ! ( )`` touching Chinese in any msgstr (a
translated word glued to literal punctuation in a template, ``{{ _("Closed") }}: {{ x }}``, was
how "全部: 84" and "(匿名)" reached pages: such punctuation lives in the msgid, with a
placeholder, so the translation punctuates it). Then a set of pages of every role, with data,
read as text in both languages: a Chinese page has no half-width punctuation next to Chinese
and no English words but a short allow-list (and what people typed or named: user data); an
English page has no Chinese but the user data and the language switch's 中文.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po
from data_sets import START
from support import in_app, login, make_action, suggest
from test_survey_page_words import CJK, MIXED, Text

from feedback import suggestions
from feedback.models import (
    Answer,
    AuditEntry,
    Case,
    FollowUp,
    FollowUpEvent,
    ImprovementAction,
    Robot,
    Suggestion,
    SuggestionCategory,
    Survey,
    Team,
    User,
)
from tools.update_translations import PO

# Words a Chinese page may show in Latin letters, each for a reason:
ALLOWED_LATIN = {
    # metric and model names used as such in Chinese service work
    "CSAT", "NPS", "CES", "SERVQUAL", "PDCA",
    # file formats and standards, named as such on the links and in the hints
    "CSV", "XLSX", "PNG", "PDF", "SVG", "YAML", "HTML", "JSON", "QR", "API", "URL", "ID",
    "SMTP", "SMS", "HTTP", "HTTPS", "Webhook", "BASE", "E.164",
    # the language switch names English in English; statistics' and products' own names
    "English", "Wilson", "Wald", "Excel", "Slack", "Cookie",
    # an SMS provider's and a mail server's terms, as their consoles name them (admin's
    # channel settings, beside the setting's name): Aliyun's AccessKey Secret, a sender's From,
    # the template variable "content", the TLS modes, the webhook's POST
    "AccessKey", "Secret", "From", "content", "Dysmsapi", "STARTTLS", "SSL", "TLS", "POST",
    # the command the admin's survey page tells them to run
    "flask", "app", "feedback", "surveys", "sync", "force",
}  # fmt: skip
# Identifiers that are the same in every language: setting names (FEEDBACK_SMTP_HOST), file
# names (post-case.yaml), a JSON example, webhook event names (follow_up.created)
IDENTIFIERS = re.compile(
    r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\S+\.ya?ml\b|\{[^}]*\}|\b[a-z_]+\.[a-z_]+\b"
    r"|\b[A-Z][a-z]+(?:-[A-Z][a-z]+)+\b"  # HTTP headers (X-Feedback-Signature)
    r"|\b[a-z]+(?:_[a-z]+)+\b|\b[A-Z]+_…"  # a survey file's keys (send_invitations), FEEDBACK_…
    r"|\b[A-Z0-9]{4}(?:-[A-Z0-9]{4}){2}\b"  # a suggestion's tracking code (K7QM-2XHD-9PWA)
)
CJK_RUN = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]+")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z.]*[A-Za-z]")  # single letters are symbols (n, z, A4)
URL = re.compile(r"https?://\S+")


class Words(Text):
    """The words a person reads in the page's language: not scripts or styles, nor code
    (``<code>``, ``<kbd>``, ``<samp>``: setting names, commands, headers, file names are the
    same in every language), nor addresses, nor what an element marks as in another language
    (``lang``: the invitation preview shows the email in each language)."""

    CODE = ("code", "kbd", "samp")
    VOID = ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source")

    def __init__(self, lang: str):
        super().__init__()
        self.lang = lang
        self.foreign = 0  # depth inside an element in another language

    def handle_starttag(self, tag, attrs):
        if self.foreign:
            self.foreign += tag not in self.VOID
        elif tag != "html" and dict(attrs).get("lang", self.lang) != self.lang:
            self.foreign = 1
        self.skip += tag in ("script", "style", *self.CODE)

    def handle_endtag(self, tag):
        if self.foreign:
            self.foreign -= 1
        self.skip -= tag in ("script", "style", *self.CODE)

    def handle_data(self, data):
        if not self.foreign:
            super().handle_data(data)


def text_of(html: str, lang: str) -> str:
    words = Words(lang)
    words.feed(html)
    return IDENTIFIERS.sub(" ", URL.sub(" ", " ".join(" ".join(words.parts).split())))


PERIOD = f"from={START}&to=2026-10-31"
# On a page, also with a space between ("退出登录 (manager)", "全部: 84")
SPACED = re.compile(rf"[{CJK}]\s?[:;,?!()]|[:;,?!(]\s?(?=[{CJK}])")


def test_no_chinese_translation_has_half_width_punctuation_next_to_chinese():
    with PO.open("rb") as handle:
        catalogue = read_po(handle)
    found = []
    for message in catalogue:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found += [(message.id, s) for s in strings if s and MIXED.search(s)]
    assert not found, found


def test_the_catalogue_scan_finds_a_glued_colon():
    assert MIXED.search("服务反馈会议资料: %(survey)s") and MIXED.search("(匿名)")
    assert not MIXED.search("服务反馈会议资料：%(survey)s，%(period)s（匿名）")


def user_data(app) -> str:
    """Everything people typed or named, that a page may show in whatever language it is in."""
    with in_app(app):
        texts = [
            *(t.name for t in Team.select()),
            *(u for user in User.select() for u in (user.username, user.display_name, user.email)),
            *(v for c in Case.select() for v in (c.case_ref, c.agent, c.category, c.customer_ref,
                                                 c.customer_name, c.customer_email)),
            *(a.value_text for a in Answer.select().where(Answer.value_text.is_null(False))),
            *(v for s in Suggestion.select() for v in (s.title, s.body, s.name, s.email)),
            *(r.name for r in Robot.select()),
            *(a.title for a in ImprovementAction.select()),
            *(e.note for e in FollowUpEvent.select()),
            *(v for e in AuditEntry.select() for v in (e.actor, e.target)),  # records, as written
            *(s.slug for s in Survey.select()),  # an admin's page names a survey's file by it
            *(n for c in SuggestionCategory.select() for n in (c.name_zh, c.name_en)),
        ]  # fmt: skip
    texts.append("HD-1001")  # the made-up case of the invitation email's preview
    return "\n".join(t for t in texts if t)


@pytest.fixture
def site(app, users, drillable):
    """The drill-down data set, a suggestion (anonymous), an action linked to a follow-up."""
    suggest(app, anonymous=True, title="排队太久", body="等了二十分钟")
    with in_app(app):  # one more, whose tracking code the submitter's page needs
        _made, code = suggestions.submit(
            suggestions.NewSuggestion(
                box="customer",
                category_id=SuggestionCategory.get(SuggestionCategory.slug == "service").id,
                title="周末排队",
                body="正文",
                anonymous=True,
                locale="zh_CN",
            ),
            app.config,
        )
    suggest(app, anonymous=False, title="Too long a wait", body="Twenty minutes", locale="en")
    action = make_action(app)
    with in_app(app):
        follow_up = FollowUp.select().order_by(FollowUp.id).first()
        suggestion = Suggestion.select().order_by(Suggestion.id).first()
        case = Case.select().order_by(Case.id).first()
        category = SuggestionCategory.select().first()
    return {
        "manager": [
            "/",
            f"/manage/?{PERIOD}",
            f"/manage/responses?{PERIOD}&measure=csat",
            f"/manage/responses?{PERIOD}&measure=nps&band=detractors",
            f"/manage/charts/csat-by-team.html?{PERIOD}",
            "/manage/follow-ups/?state=all",
            f"/manage/follow-ups/{follow_up.id}",
            "/manage/suggestions/",
            f"/manage/suggestions/{suggestion.id}",
            "/manage/actions/",
            f"/manage/actions/{action}",
            "/manage/digests/",
            f"/callback/case/{case.id}",
            f"/callback/case/{case.id}/callback",
        ],
        "admin": [
            "/admin/",
            "/admin/users",
            "/admin/teams",
            "/admin/surveys",
            "/admin/suggestion-box",
            f"/admin/suggestion-box/categories/{category.id}",
            "/admin/users/new",
            "/admin/tokens",
            "/admin/channels/",
            "/admin/surveys/post-case/v1",
            "/admin/invitations/",
            "/admin/invitations/preview/post-case",  # the invitation email, text and HTML
            "/admin/invitations/preview/post-case?reminder=1",
            "/admin/audit/",
        ],
        "staff": ["/callback/", "/suggest/staff"],
        None: ["/login", "/suggest/", "/suggest/track", f"/suggest/track/{code}"],
        "lead": ["/manage/follow-ups/", f"/manage/?{PERIOD}"],
    }


def pages(app, site, lang):
    for role, paths in site.items():
        client = app.test_client()
        if role:
            login(client, role)
        for path in paths:
            joiner = "&" if "?" in path else "?"
            reply = client.get(f"{path}{joiner}lang={lang}")
            assert reply.status_code == 200, (path, reply.status_code)
            main = reply.get_data(as_text=True)
            yield path, text_of(main, lang)


def test_chinese_pages_punctuate_in_chinese_and_speak_no_english(app, site):
    data = user_data(app)
    problems = []
    for path, text in pages(app, site, "zh-CN"):
        for match in SPACED.finditer(text):
            around = text[max(0, match.start() - 25) : match.end() + 25]
            if not any(around.strip() in d for d in data.splitlines()):
                problems.append((path, "punctuation", around))
        for word in set(LATIN_WORD.findall(text)):
            if word not in ALLOWED_LATIN and word not in data:
                at = text.find(word)
                problems.append((path, "English", word, text[max(0, at - 40) : at + 30]))
    assert not problems, "\n".join(map(str, problems))


def test_english_pages_speak_no_chinese(app, site):
    data = user_data(app) + "\n中文"  # the language switch names Chinese in Chinese
    problems = [
        (path, run)
        for path, text in pages(app, site, "en")
        for run in set(CJK_RUN.findall(text))
        if run not in data
    ]
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_invitation_emails_one_click_answers_punctuate_per_language(app, locale):
    """Each answer of a one-click email beside its link: "是：http://…" in Chinese."""
    from dataclasses import replace

    from feedback import invitations
    from feedback.i18n import language
    from feedback.surveys import current_version, definition_of

    with in_app(app):
        definition = replace(definition_of(current_version("post-case")), one_click=True)
        email = invitations.preview(definition, language(locale), app.config)
    lines = [line.strip() for line in email.text.splitlines() if "?resolved=" in line]
    assert len(lines) == 2, email.text
    if locale == "zh_CN":
        assert lines[0].startswith("是：http") and not SPACED.search(URL.sub(" ", email.text))
    else:
        assert lines[0].startswith("Yes: http")


@pytest.mark.browser
def test_a_phones_card_labels_its_cells_with_the_pages_colon(
    app, users, drillable, live_server, phone
):
    """The responses list on a phone names each cell before it (CSS ``::before``): "渠道：" on
    a Chinese page, "Channel: " on an English one."""
    from browser import log_in

    page = phone.new_page()
    log_in(page, live_server, f"/manage/responses?{PERIOD}&measure=csat")
    before = """() => getComputedStyle(
        document.querySelector('table.stack td[data-label]'), '::before').content"""
    assert page.evaluate(before).endswith('："'), page.evaluate(before)
    page.goto(f"{live_server.url}/manage/responses?{PERIOD}&measure=csat&lang=en")
    assert page.evaluate(before).endswith(': "'), page.evaluate(before)
