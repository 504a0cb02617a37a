"""Surveys edited in the browser, through the real forms over HTTP (the test client posts what a
browser would post from each page), on SQLite and PostgreSQL: a new survey, questions added,
moved and removed, problems beside their fields in the admin's language, the preview, saving as
the version the next invitation gets, YAML both ways, files meeting browser versions, who may,
and hostile input."""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import PASSWORD, csrf_from, in_app, login, new_case, survey_path
from werkzeug.datastructures import MultiDict

from feedback import accounts, survey_yaml
from feedback.definitions import file_data, load_text, parse
from feedback.models import (
    AuditEntry,
    Invitation,
    Response,
    Survey,
    SurveyDraft,
    SurveyVersion,
    User,
)
from feedback.surveys import current_version, definition_of

SURVEYS = Path(__file__).resolve().parent.parent / "surveys"
EDIT = "/admin/surveys/{slug}/edit"


class EditorForm(HTMLParser):
    """The fields a browser sends from one form of a page (by its id, or the first form), in
    order: text and hidden inputs, ticked boxes, each select's chosen option, textareas. Every
    field with a name is also checked for a label tied to it."""

    def __init__(self, form_id: str | None):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[list[str]] = []
        self.labels: set[str] = set()
        self.ids_needing_labels: list[str] = []
        self._select: list | None = None
        self._first_option: str | None = None
        self._textarea: list | None = None
        self._option: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        if tag == "form":
            self.inside = self.form_id is None and not self.fields or a.get("id") == self.form_id
            return
        if not self.inside or not a.get("name") and tag != "option":
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind == "checkbox" and "checked" not in a:
                pass
            elif kind not in ("submit", "button"):
                self.fields.append([a["name"], a.get("value", "")])
            if kind not in ("hidden", "submit", "button"):
                self.ids_needing_labels.append(a.get("id", ""))
        elif tag == "select":
            self._select = [a["name"], None]
            self._first_option = None
            self.ids_needing_labels.append(a.get("id", ""))
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._select[1] = value
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
            self.ids_needing_labels.append(a.get("id", ""))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            name, value = self._select
            self.fields.append([name, value if value is not None else self._first_option or ""])
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, value = self._textarea
            # a browser drops the one newline right after <textarea>
            self.fields.append([name, value[1:] if value.startswith("\n") else value])
            self._textarea = None


def page_form(page: str, form_id: str | None = "editor") -> EditorForm:
    parser = EditorForm(form_id)
    parser.feed(page)
    return parser


class Editor:
    """An admin's browser on the editor page: read the form, change fields, press a button."""

    def __init__(self, client, slug: str):
        self.client, self.slug = client, slug
        self.url = EDIT.format(slug=slug)
        self.page = ""
        self.status = 0
        self.fields: list[list[str]] = []
        self.load()

    def load(self):
        reply = self.client.get(self.url)
        assert reply.status_code == 200, reply.status_code
        self._read(reply)

    def _read(self, reply):
        self.status = reply.status_code
        self.page = reply.get_data(as_text=True)
        self.fields = page_form(self.page).fields

    def get(self, name: str) -> str:
        return next(value for key, value in self.fields if key == name)

    def set(self, **values: str):
        for name, value in values.items():
            name = name.replace("__", "-")
            for field in self.fields:
                if field[0] == name:
                    field[1] = value
                    break
            else:
                self.fields.append([name, value])

    def tick(self, name: str, on: bool = True):
        self.fields = [f for f in self.fields if f[0] != name]
        if on:
            self.fields.append([name, "y"])

    def press(self, action: str, follow: bool = True):
        """Press the button with this value; a redirect is followed as a browser does."""
        reply = self.client.post(
            self.url, data=MultiDict([*map(tuple, self.fields), ("action", action)])
        )
        self.last = reply
        if reply.status_code in (302, 303) and follow:
            target = reply.headers["Location"]
            if target.split("#")[0].endswith(self.url):
                self.load()
            else:
                self.page = self.client.get(target).get_data(as_text=True)
                self.status = 200
        else:
            self._read(reply)
        return reply


def as_admin(app, locale: str = "en"):
    client = app.test_client()
    login(client, "admin")
    client.get(f"/admin/?lang={locale}")
    return client


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def error_beside(page: str, field: str) -> str:
    match = re.search(rf'id="{re.escape(field)}-error">(.*?)</p>', page, re.S)
    assert match, f"no error beside {field}"
    return html.unescape(match.group(1))


def invitation_page(client, api_headers, case_id: str, survey: str, lang: str = "en") -> str:
    reply = new_case(client, api_headers, case_id=case_id, survey=survey, customer={"id": case_id})
    return client.get(survey_path(reply) + f"?lang={lang}").get_data(as_text=True)


# --- a new survey, made with the forms, used by the next invitation ---------------------------


def test_a_new_survey_made_in_the_browser_is_what_the_next_invitation_asks(app, users, api_headers):
    admin = as_admin(app)
    page = admin.get("/admin/surveys/new").get_data(as_text=True)
    form = page_form(page, None)
    assert {"slug", "title-zh_CN", "title-en"} <= {name for name, _v in form.fields}
    reply = admin.post(
        "/admin/surveys/new",
        data={
            "csrf_token": csrf_from(page),
            "slug": "after-sales",
            "title-zh_CN": "售后回访",
            "title-en": "After-sales check",
        },
    )
    assert reply.status_code == 302 and reply.headers["Location"].endswith(
        EDIT.format(slug="after-sales")
    )
    editor = Editor(admin, "after-sales")
    assert editor.get("title-zh_CN") == "售后回访"
    editor.set(
        **{
            "intro-zh_CN": "请花一分钟。",
            "intro-en": "A minute, please.",
            "thanks-zh_CN": "谢谢！",
            "thanks-en": "Thank you!",
            "q0-text-zh_CN": "您满意吗？",
            "q0-text-en": "Are you satisfied?",
        }
    )
    editor.tick("q0-required")
    editor.set(add_type="choice")
    editor.press("add")
    assert editor.get("q1-type") == "choice" and editor.get("q1-id") == "choice"
    editor.set(
        **{
            "q1-id": "reason",
            "q1-text-zh_CN": "主要原因？",
            "q1-text-en": "The main reason?",
            "q1-choices": "price | 价格 | Price\nspeed | 速度 | Speed\n",
            "q1-show_if": "csat <= 3",
        }
    )
    editor.set(add_type="textarea")
    editor.press("add")
    editor.set(**{"q2-id": "remark", "q2-text-zh_CN": "备注", "q2-text-en": "Anything else?"})
    editor.set(add_type="yesno")
    editor.press("add")
    assert [editor.get(f"q{i}-id") for i in range(4)] == ["csat", "reason", "remark", "yesno"]
    editor.press("remove:3")
    assert "q3-id" not in dict(editor.fields)
    assert "Question 4 (yesno) was taken out of the draft" in text_of(editor.page)
    editor.press("up:2")  # the remark above the reason
    assert [editor.get(f"q{i}-id") for i in range(3)] == ["csat", "remark", "reason"]
    editor.set(follow_up="csat <= 2\nreason == price")
    editor.press("check")
    assert "No problems found" in editor.page
    editor.press("save")
    assert "Version 1 of after-sales was saved" in text_of(editor.page)

    with in_app(app):
        version = current_version("after-sales")
        definition = definition_of(version)
        assert version.version == 1 and version.created_by_id == users["admin"].id
        assert [q.id for q in definition.questions] == ["csat", "remark", "reason"]
        assert [str(rule) for rule in definition.follow_up] == ["csat <= 2", "reason == price"]
        assert Survey.get(Survey.slug == "after-sales").source is None
        assert SurveyDraft.select().count() == 0  # the draft is gone once saved
        entry = AuditEntry.get(AuditEntry.target == "survey after-sales")
        assert (entry.action, entry.actor_user_id) == ("survey.change", users["admin"].id)
        assert json.loads(entry.detail) == {"edited": "browser", "status": "new", "version": 1}

    customer = app.test_client()
    survey_page = invitation_page(customer, api_headers, "AS-1", "after-sales")
    assert "The main reason?" in survey_page and "Anything else?" in survey_page
    assert survey_page.index("Anything else?") < survey_page.index("The main reason?")


def test_an_edit_of_a_file_survey_is_the_version_the_next_invitation_gets(app, users, api_headers):
    customer = app.test_client()
    before = invitation_page(customer, api_headers, "E-1", "post-case")
    assert "How quick was the first answer?" not in before
    # a pending invitation's page as the cached path serves it (no cookie, no ?lang=)
    with in_app(app):
        pending = Invitation.select().order_by(Invitation.id.desc()).first().token
    cached = app.test_client().get(f"/s/{pending}").get_data(as_text=True)
    assert "首次答复快吗？" not in cached and "您的问题解决了吗？" in cached
    editor = Editor(as_admin(app), "post-case")
    editor.set(**{"q2-text-en": "All in all, were you satisfied?"})
    editor.set(add_type="rating")
    editor.press("add")
    n = len([name for name, _v in editor.fields if name.endswith("-id")]) - 1
    editor.set(
        **{
            f"q{n}-id": "first_answer",
            f"q{n}-text-zh_CN": "首次答复快吗？",
            f"q{n}-text-en": "How quick was the first answer?",
            f"q{n}-min": "1",
            f"q{n}-max": "7",
            f"q{n}-labels-min-zh_CN": "很慢",
            f"q{n}-labels-min-en": "Slow",
            f"q{n}-labels-max-zh_CN": "很快",
            f"q{n}-labels-max-en": "Quick",
        }
    )
    editor.press("save")
    assert "Version 2 of post-case was saved" in text_of(editor.page)
    after = invitation_page(customer, api_headers, "E-2", "post-case")
    assert "How quick was the first answer?" in after and "All in all, were you" in after
    reply = customer.get("/api/v1/surveys/post-case", headers=api_headers).get_json()
    assert reply["version"] == 2
    # the invitation made before the save: its next page view is the new version, cached path
    assert "首次答复快吗？" in app.test_client().get(f"/s/{pending}").get_data(as_text=True)
    # the versions' list says where each came from
    listing = text_of(as_admin(app).get("/admin/surveys?lang=en").get_data(as_text=True))
    assert "the browser (admin)" in listing and "a file" in listing


# --- problems beside their fields, in the admin's language ------------------------------------


def _broken(editor: Editor):
    editor.set(**{"q1-text-en": "", "q3-show_if": "csat <= 9", "q0-id": "Resolved!"})
    editor.set(follow_up="nps <= 6\nmood == sad")


def test_problems_are_beside_their_fields_in_chinese_for_a_chinese_admin(app, users):
    with in_app(app):
        User.update(locale="zh_CN").where(User.username == "admin").execute()
    admin = app.test_client()
    login(admin, "admin")
    editor = Editor(admin, "post-case")
    _broken(editor)
    editor.press("save")
    assert editor.status == 200  # the draft is kept, the version is not made
    page = editor.page
    assert error_beside(page, "q1-text") == "“text”缺少 en 文本"
    assert "不符合问题“csat”：应为 1 到 5 之间的整数" in error_beside(page, "q3-show_if")
    assert "“id”必须以字母开头" in error_beside(page, "q0-id")
    assert "“follow_up”引用的“mood”不是本问卷的问题" in error_beside(page, "follow_up")
    summary = re.search(
        r'<div class="error-summary" role="alert" tabindex="-1" id="error-summary" autofocus>(.*?)</div>',
        page,
        re.S,
    )
    assert summary, "the summary takes focus"
    assert '<a href="#q1-text-zh_CN">问题 2</a>' in summary.group(1)
    assert 'aria-invalid="true"' in page and 'aria-describedby="q1-text-error"' in page
    for english in ("lacks the en text", "does not fit question", "Please correct"):
        assert english not in page
    with in_app(app):
        assert current_version("post-case").version == 1  # nothing saved


def test_the_same_problems_in_english_and_nothing_typed_is_lost(app, users):
    admin = as_admin(app)
    editor = Editor(admin, "post-case")
    _broken(editor)
    editor.press("check")
    assert error_beside(editor.page, "q1-text") == "'text' lacks the en text"
    assert "'follow_up' names 'mood', which is not a question of this survey" in text_of(
        editor.page
    )
    # a fresh page later: the draft, as typed, with the same problems on the next check
    again = Editor(admin, "post-case")
    assert again.get("q0-id") == "Resolved!" and again.get("follow_up") == "nps <= 6\nmood == sad"
    again.press("preview")
    preview = text_of(
        admin.get("/admin/surveys/post-case/edit/preview?lang=en").get_data(as_text=True)
    )
    assert "Not ready to preview" in preview and "'text' lacks the en text" in preview


def test_an_unknown_type_from_yaml_stays_shown_and_named(app, users):
    admin = as_admin(app)
    editor = Editor(admin, "post-case")
    text = editor.page.split('name="yaml"')[1].split(">", 1)[1].split("</textarea>")[0]
    changed = html.unescape(text).replace("type: nps", "type: stars", 1)
    page = admin.post(
        editor.url, data={"csrf_token": csrf_from(editor.page), "action": "yaml", "yaml": changed}
    )
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert '<option value="stars" selected>stars</option>' in body
    assert "'type' must be one of" in error_beside(body, "q4-type")


# --- the preview ------------------------------------------------------------------------------


def test_the_preview_shows_the_draft_and_stores_nothing(app, users, api_headers):
    client = app.test_client()
    new_case(client, api_headers, case_id="P-1")
    admin = as_admin(app)
    editor = Editor(admin, "post-case")
    editor.set(**{"q0-text-en": "Sorted out?"})
    reply = editor.press("preview", follow=False)
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/edit#preview")
    with in_app(app):
        counts = (Invitation.select().count(), Response.select().count())
    frame = admin.get("/admin/surveys/post-case/edit/preview?lang=en")
    page = frame.get_data(as_text=True)
    assert frame.status_code == 200
    assert "Sorted out?" in page and "Preview of version 2. Answers are not stored." in page
    assert re.search(r'<button type="submit" class="primary" disabled>', page)
    assert "Log out" not in page  # the customer's page, not the admin's menu
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    # the editor frames it (375 px wide inside its border: static/site.css)
    editor.load()
    assert 'src="/admin/surveys/post-case/edit/preview"' in editor.page
    # nothing there can answer: the preview takes GET only
    token = csrf_from(editor.page)
    sent = admin.post(
        "/admin/surveys/post-case/edit/preview",
        data={"csrf_token": token, "resolved": "yes", "csat": "5", "nps": "10"},
    )
    assert sent.status_code == 405
    with in_app(app):
        assert (Invitation.select().count(), Response.select().count()) == counts
        assert current_version("post-case").version == 1
    zh = admin.get("/admin/surveys/post-case/edit/preview?lang=zh_CN").get_data(as_text=True)
    assert "您的问题解决了吗？" in zh


# --- YAML both ways ---------------------------------------------------------------------------


def test_a_version_exported_as_yaml_reads_back_as_the_same_survey(app, users):
    admin = as_admin(app)
    reply = admin.get("/admin/surveys/post-case/v1.yaml")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/yaml")
    assert 'filename="post-case.yaml"' in reply.headers["Content-Disposition"]
    text = reply.get_data(as_text=True)
    with in_app(app):
        stored = definition_of(current_version("post-case"))
    back = parse(load_text(text, "post-case.yaml"), "post-case.yaml")
    assert back == stored and back.checksum == stored.checksum
    assert admin.get("/admin/surveys/post-case/v9.yaml").status_code == 404
    assert admin.get("/admin/surveys/nope/v1.yaml").status_code == 404


def test_an_exported_draft_is_what_sync_then_finds_unchanged(make_app, users, tmp_path):
    folder = tmp_path / "surveys"
    shutil.copytree(SURVEYS, folder)
    app = make_app(SURVEYS_DIR=str(folder))
    with in_app(app):
        accounts.create_user("admin2", PASSWORD, "admin")
    admin = as_admin(app)
    editor = Editor(admin, "post-case")
    assert "also a file on the server" in text_of(editor.page)
    editor.set(**{"title-en": "How did we do, really?"})
    editor.press("preview")
    draft = admin.get("/admin/surveys/post-case/draft.yaml").get_data(as_text=True)
    assert "How did we do, really?" in draft
    editor.press("save")
    runner = app.test_cli_runner()
    kept = runner.invoke(args=["surveys", "sync"])
    assert "post-case: kept, version 2 (saved in the browser)" in kept.output
    # the saved version, exported, as the file: unchanged, and the file is in charge again
    exported = admin.get("/admin/surveys/post-case/v2.yaml").get_data(as_text=True)
    assert exported == draft.replace(draft.splitlines()[0], exported.splitlines()[0]), (
        "the draft's export is the version's"
    )
    (folder / "post-case.yaml").write_text(exported, encoding="utf-8")
    assert "post-case: unchanged, version 2" in runner.invoke(args=["surveys", "sync"]).output
    with in_app(app):
        assert Survey.get(Survey.slug == "post-case").source == "post-case.yaml"


def test_yaml_typed_in_the_box_replaces_the_draft_or_is_refused_with_its_line(app, users):
    admin = as_admin(app)
    editor = Editor(admin, "post-case")
    token = csrf_from(editor.page)
    with in_app(app):
        data = file_data(definition_of(current_version("post-case")))
    data["questions"] = data["questions"][:3]
    data["follow_up"] = ["csat <= 2"]
    reply = admin.post(
        editor.url, data={"csrf_token": token, "action": "yaml", "yaml": survey_yaml.dump(data)}
    )
    assert reply.status_code == 302
    editor.load()
    assert editor.get("count") == "3" and editor.get("follow_up") == "csat <= 2"

    with in_app(app):
        stored = SurveyDraft.get().data
    for bad, message in (
        ("slug: post-case\ntitle: [unclosed\n", "is not valid YAML at line 3, column 1"),
        ("slug: post-case\nslug: again\n", "'slug' is given twice (first on line 1)"),
        ("slug: &a post-case\ntitle: *a\n", "anchors and aliases (&a) are not allowed"),
        ("questions: " + "[" * 50 + "]" * 50, "nested more than 10 levels deep"),
        ("- just\n- a list\n", "a survey file must be a mapping with slug"),
        ('slug: "post\\0case"\n', "cannot be stored (U+0000)"),
    ):
        reply = admin.post(editor.url, data={"csrf_token": token, "action": "yaml", "yaml": bad})
        page = html.unescape(reply.get_data(as_text=True))
        assert reply.status_code == 422, bad
        assert message in page, (bad, page[:300])
        assert bad.splitlines()[0] in page  # the text stays in its box
        with in_app(app):
            assert SurveyDraft.get().data == stored  # the draft is as it was


def test_ten_thousand_questions_are_one_clear_problem(app, users):
    admin = as_admin(app)
    editor = Editor(admin, "post-case")
    many = {
        "slug": "post-case",
        "questions": [{"id": f"q{i}", "type": "yesno"} for i in range(10_000)],
    }
    text = survey_yaml.dump(many)
    reply = admin.post(
        editor.url, data={"csrf_token": csrf_from(editor.page), "action": "yaml", "yaml": text}
    )
    assert reply.status_code == 422
    assert "a survey file may be at most 262,144" in html.unescape(reply.get_data(as_text=True))
    compact = "slug: post-case\nquestions: [" + ", ".join(["{}"] * 10_000) + "]\n"
    reply = admin.post(
        editor.url, data={"csrf_token": csrf_from(editor.page), "action": "yaml", "yaml": compact}
    )
    page = html.unescape(reply.get_data(as_text=True))
    assert reply.status_code == 422  # not even a draft: the editor could not show it
    assert "'questions' may list at most 200 questions (this survey lists 10000)" in page
    # the form posted with a huge count is cut at one more than allowed, and named
    fields = [*map(tuple, editor.fields), ("action", "check")]
    fields = [(k, "99999" if k == "count" else v) for k, v in fields]
    reply = admin.post(editor.url, data=MultiDict(fields))
    assert reply.status_code == 200
    assert "may list at most 200 questions (this survey lists 201)" in reply.get_data(as_text=True)


# --- two admins, and files ------------------------------------------------------------------


def test_whoever_saves_second_is_told_and_may_then_replace_it(app, users):
    with in_app(app):
        accounts.create_user("admin2", PASSWORD, "admin")
    first = Editor(as_admin(app), "post-case")
    other = app.test_client()
    login(other, "admin2")
    other.get("/admin/?lang=en")
    second = Editor(other, "post-case")
    first.set(**{"title-en": "First admin's title"})
    first.press("preview")
    second.set(**{"title-en": "Second admin's title"})
    second.press("preview")
    assert second.get("title-en") == "Second admin's title"  # drafts of their own
    assert first.get("title-en") == "First admin's title"
    first.press("save")
    second.press("save")
    assert "Version 2 was saved by admin since your draft began" in text_of(second.page)
    with in_app(app):
        assert current_version("post-case").version == 2
    second.press("save")
    assert "Version 3 of post-case was saved" in text_of(second.page)
    with in_app(app):
        assert definition_of(current_version("post-case")).title.en == "Second admin's title"


def test_saving_what_is_in_use_makes_no_version(app, users):
    editor = Editor(as_admin(app), "post-case")
    editor.press("save")
    assert "Nothing to save: version 1 of post-case has this content already." in text_of(
        editor.page
    )
    with in_app(app):
        assert SurveyVersion.select().join(Survey).where(Survey.slug == "post-case").count() == 1


def test_a_discarded_draft_is_gone(app, users):
    admin = as_admin(app)
    editor = Editor(admin, "post-case")
    editor.set(**{"title-en": "Scrap this"})
    editor.press("preview")
    assert "Discard my draft" in editor.page
    editor.press("discard")
    assert "Your draft of post-case was discarded." in text_of(editor.page)
    assert Editor(admin, "post-case").get("title-en") == "How did we do?"


# --- a new survey's short name --------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("", "Give the survey a short name"),
        ("After Sales", "Use lower-case letters, digits and hyphens"),
        ("-x", "Use lower-case letters"),
        ("a" * 64, "Use lower-case letters"),
        ("post-case", "There is already a survey post-case."),
        ("\u202eabc", "Use lower-case letters"),
    ],
)
def test_a_new_surveys_short_name_is_checked_beside_its_field(app, users, slug, message):
    admin = as_admin(app)
    page = admin.get("/admin/surveys/new").get_data(as_text=True)
    reply = admin.post("/admin/surveys/new", data={"csrf_token": csrf_from(page), "slug": slug})
    assert reply.status_code == 422
    assert message in error_beside(reply.get_data(as_text=True), "slug")
    with in_app(app):
        assert SurveyDraft.select().count() == 0


# --- who may ----------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/admin/surveys/new"),
    ("POST", "/admin/surveys/new"),
    ("GET", "/admin/surveys/post-case/edit"),
    ("POST", "/admin/surveys/post-case/edit"),
    ("GET", "/admin/surveys/post-case/edit/preview"),
    ("GET", "/admin/surveys/post-case/draft.yaml"),
    ("GET", "/admin/surveys/post-case/v1.yaml"),
]


@pytest.mark.parametrize("role", [None, "staff", "lead", "manager"])
def test_only_admins_edit_surveys(app, users, role):
    client = app.test_client()
    if role:
        login(client, role)
    token = csrf_from(client.get("/suggest/").get_data(as_text=True))
    for method, url in ROUTES:
        if method == "GET":
            reply = client.get(url)
        else:
            reply = client.post(url, data={"csrf_token": token, "slug": "x", "count": "0"})
        if role is None:
            assert reply.status_code == 302 and "/login" in reply.headers["Location"], url
        else:
            assert reply.status_code == 403, (role, url)
    with in_app(app):
        assert SurveyDraft.select().count() == 0


def test_a_post_without_its_csrf_token_is_refused_and_keeps_nothing(app, users):
    admin = as_admin(app)
    editor = Editor(admin, "post-case")
    fields = [(k, v) for k, v in editor.fields if k != "csrf_token"]
    assert admin.post(editor.url, data=MultiDict([*fields, ("action", "save")])).status_code == 400
    assert admin.post("/admin/surveys/new", data={"slug": "new-one"}).status_code == 400
    with in_app(app):
        assert SurveyDraft.select().count() == 0


def test_unknown_surveys_are_404(app, users):
    admin = as_admin(app)
    for url in (
        "/admin/surveys/nope/edit",
        "/admin/surveys/nope/edit/preview",
        "/admin/surveys/nope/draft.yaml",
        "/admin/surveys/" + "x" * 300 + "/edit",
        "/admin/surveys/Post-Case/edit",
    ):
        assert admin.get(url).status_code == 404, url


def test_every_field_of_the_editor_has_its_label(app, users):
    editor = Editor(as_admin(app), "post-case")
    form = page_form(editor.page)
    unlabelled = [i for i in form.ids_needing_labels if i not in form.labels]
    assert form.ids_needing_labels and unlabelled == []
    yaml_form = page_form(editor.page.split('id="yaml-part"')[1], None)
    assert "yaml" in yaml_form.labels


# --- hostile input ----------------------------------------------------------------------------

HOSTILE = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\x07\x1b",
            "\u202e\u200b",
            "9" * 30,
            "-99999999999",
            "1e309",
            "<script>alert(1)</script>",
            "csat <= ",
            "a in [",
            "x | | | |",
            "|||",
            "\n\n\n",
            "yes",
            "x" * 5000,
            "zz == 1",
        ]
    ),
    st.text(max_size=30),
)
KEYS = [
    "title-zh_CN",
    "q0-id",
    "q0-type",
    "q0-text-en",
    "q0-show_if",
    "q1-min",
    "q1-max",
    "q1-choices",
    "q1-max_length",
    "q1-dimension",
    "q1-labels-min-en",
    "count",
    "send_invitations",
    "follow_up",
    "add_type",
]
ACTIONS = st.sampled_from(
    [
        "preview",
        "check",
        "save",
        "add",
        "up:0",
        "down:1",
        "remove:1",
        "apply:0",
        "remove:9999",
        "up:-1",
        "down:99999999",
        "nonsense",
        "save:1",
    ]
)


@pytest.fixture
def hostile_editor(app, users):
    return Editor(as_admin(app), "post-case")


# derandomized: the same examples each run; a fresh draft each (the fixture's editor discards)
HOSTILE_RUNS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HOSTILE_RUNS
@given(
    changes=st.lists(st.tuples(st.sampled_from(KEYS), HOSTILE), max_size=6),
    action=ACTIONS,
)
def test_hostile_edits_get_clear_answers_never_a_500(hostile_editor, changes, action):
    editor = hostile_editor
    editor.load()
    for name, value in changes:
        if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            continue  # refused with a 400 before any view (tests/test_hostile_input.py)
        editor.set(**{name: value})
    reply = editor.press(action, follow=False)
    assert reply.status_code in (200, 302, 400), reply.status_code
    if reply.status_code == 200:
        assert "error-summary" in reply.get_data(as_text=True) or action == "check"
    preview = editor.client.get("/admin/surveys/post-case/edit/preview")
    assert preview.status_code == 200
    assert editor.client.get("/admin/surveys/post-case/draft.yaml").status_code == 200
    editor.press("discard")


@HOSTILE_RUNS
@given(
    st.one_of(
        st.text(max_size=200),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
            lambda inner: st.one_of(
                st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
            ),
            max_leaves=10,
        ).map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
    )
)
def test_any_yaml_in_the_box_gets_a_clear_answer(hostile_editor, text):
    editor = hostile_editor
    if "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return
    reply = editor.client.post(
        editor.url, data={"csrf_token": csrf_from(editor.page), "action": "yaml", "yaml": text}
    )
    assert reply.status_code in (200, 302, 422), reply.status_code
    assert editor.client.get(editor.url).status_code == 200
    assert editor.client.get("/admin/surveys/post-case/edit/preview").status_code == 200


def test_a_refused_files_problems_read_in_chinese_on_the_survey_list(make_app, users, tmp_path):
    folder = tmp_path / "surveys"
    shutil.copytree(SURVEYS, folder)
    path = folder / "post-case.yaml"
    path.write_text(path.read_text("utf-8").replace("type: nps", "type: stars"), "utf-8")
    app = make_app(SURVEYS_DIR=str(folder))
    admin = as_admin(app, "zh_CN")
    page = text_of(admin.get("/admin/surveys").get_data(as_text=True))
    assert "该文件被拒绝" in page
    assert "post-case.yaml：问题“nps”：“type”必须是 csat" in page
    assert "must be one of" not in page


def test_a_nul_or_a_lone_surrogate_in_a_field_is_refused_before_anything_is_kept(app, users):
    admin = as_admin(app)
    editor = Editor(admin, "post-case")
    for bad in ("Resolved\x00?", "%00"):
        editor.set(**{"q0-text-en": bad})
        reply = editor.press("save", follow=False)
        assert reply.status_code == 400 if "\x00" in bad else 200
    body = b"&".join(
        [
            f"csrf_token={csrf_from(editor.page)}".encode(),
            b"count=1&action=preview&q0-text-en=%ED%A0%80",  # the UTF-8 bytes of U+D800
        ]
    )
    reply = admin.post(editor.url, data=body, content_type="application/x-www-form-urlencoded")
    assert reply.status_code in (200, 302, 400)
    with in_app(app):
        for row in SurveyDraft.select():
            assert "\x00" not in row.data and "\\u0000" not in row.data


def test_a_survey_too_large_for_a_file_is_not_saved(app, users):
    editor = Editor(as_admin(app), "post-case")
    editor.set(**{"intro-en": "long " * 60_000})
    editor.press("save")
    assert "a survey file may be at most 262,144" in text_of(editor.page)
    with in_app(app):
        assert current_version("post-case").version == 1


def test_a_changed_type_shows_the_fields_it_needs(app, users):
    editor = Editor(as_admin(app), "post-case")
    last = editor.get("count")
    index = int(last) - 1  # the comment, a textarea
    assert f"q{index}-max_length" in dict(editor.fields)
    editor.set(**{f"q{index}-type": "choice"})
    reply = editor.press(f"apply:{index}", follow=False)
    assert reply.headers["Location"].endswith(f"/edit#q{index}")
    editor.load()
    names = dict(editor.fields)
    assert f"q{index}-choices" in names and f"q{index}-max_length" not in names
    editor.set(**{f"q{index}-choices": "a | 甲 | A\nb | 乙"})
    editor.press("check")
    assert error_beside(editor.page, f"q{index}-choices") == "'label' lacks the en text"
