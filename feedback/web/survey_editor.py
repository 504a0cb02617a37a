"""Surveys edited in the browser (admins only): a new survey, the editor of a survey's draft,
its phone-sized preview, and the YAML of a draft or a version.

Statuses: a post that kept the draft answers 200 (the page with its problems, if any) or a
redirect; 4xx only when nothing was kept (YAML that cannot be read: 422; a post that is not the
editor's form: 400), so a refused request never changes anything.

Works without JavaScript: every button of the editor is a submit button that posts the whole
draft (``survey_editor_forms``) with what to do (``action``): add a question of a type, move one
up or down, remove one, preview, check, save, discard. The draft is stored at each post
(``survey_drafts``), so nothing typed is lost, whatever the outcome; problems are the ones a
file gets (``definitions.parse``), shown beside their fields in the admin's language and listed
at the top. Saving makes a new version exactly as ``surveys sync`` makes one from a file.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, current_user
from peewee import fn

from .. import survey_drafts, survey_yaml
from ..db import database
from ..definitions import (
    SCALE_DEFAULTS,
    DefinitionError,
    file_data,
    load_text,
)
from ..i18n import current_locale
from ..models import Survey, SurveyVersion
from ..surveys import definition_of, version_of
from ..vocabulary import QUESTION_TYPES, SERVQUAL_DIMENSIONS
from .common import roles_required
from .survey_editor_forms import (
    TYPE_LABELS,
    EditorView,
    Errors,
    data_from_form,
    place_problems,
    question_count,
    view_of,
)
from .survey_forms import form_class

bp = Blueprint("survey_editor", __name__, url_prefix="/admin/surveys")

# The preview is a page of its own in the editor's frame: framed by this site only.
PREVIEW_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'none'; frame-ancestors 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}
YAML_TYPE = "application/yaml; charset=utf-8"


class PreviewVersion:
    """What the survey page shows of a version, for a draft: the number it would get."""

    def __init__(self, number: int):
        self.id = None
        self.version = number


def _draft_or_404(slug: str) -> survey_drafts.Draft:
    draft = survey_drafts.open_draft(slug, current_user)
    if draft is None:
        abort(404)
    return draft


def _next_number(slug: str) -> int:
    highest = (
        SurveyVersion.select(fn.MAX(SurveyVersion.version))
        .join(Survey)
        .where(Survey.slug == slug)
        .scalar()
    )
    return (highest or 0) + 1


def _file_of(slug: str) -> Path | None:
    path = Path(current_app.config["SURVEYS_DIR"]) / f"{slug}.yaml"
    return path if path.is_file() else None


# --- a new survey -------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def new():
    """A slug and a title, then the editor of the new survey's draft."""
    errors: dict[str, str] = {}
    values = {"slug": "", "title-zh_CN": "", "title-en": ""}
    if request.method == "POST":
        values = {name: request.form.get(name, "").strip() for name in values}
        slug = values["slug"]
        if not slug:
            errors["slug"] = _("Give the survey a short name for its links, like after-sales.")
        elif not survey_drafts.valid_slug(slug):
            errors["slug"] = _(
                "Use lower-case letters, digits and hyphens (at most 63), beginning with a "
                "letter or digit, like after-sales."
            )
        elif survey_drafts.slug_taken(slug):
            errors["slug"] = _("There is already a survey %(slug)s.", slug=slug)
        if not errors:
            title = {"zh-CN": values["title-zh_CN"], "en": values["title-en"]}
            with database.atomic():
                existing = survey_drafts.open_draft(slug, current_user)
                if existing is None:
                    survey_drafts.new_draft(slug, current_user, title)
            return redirect(url_for("survey_editor.edit", slug=slug))
    page = render_template("admin/survey_new.html", errors=errors, values=values)
    return page, 422 if errors else 200


# --- the editor ---------------------------------------------------------------------------------


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit(slug: str):
    draft = _draft_or_404(slug)
    if request.method == "GET":
        return _editor(draft)
    if request.form.get("action") == "yaml":
        return _from_yaml(draft)
    if question_count(request.form) is None:  # not the editor's form: nothing to keep
        abort(400)
    draft.data = data_from_form(request.form, slug)
    action, _sep, argument = request.form.get("action", "preview").partition(":")
    index = int(argument) if argument.isdigit() and len(argument) <= 4 else -1
    if action == "discard":
        survey_drafts.discard(slug, current_user)
        flash(_("Your draft of %(slug)s was discarded.", slug=slug))
        return redirect(url_for("admin.surveys"))
    if action in ("add", "up", "down", "remove", "apply"):
        return _rearranged(draft, action, index)
    survey_drafts.store(draft, current_user)
    definition, problems = survey_drafts.check(draft)
    if problems:
        return _editor(draft, problems=problems)
    if action == "save":
        return _save(draft)
    if action == "check":
        return _editor(draft, checked=True)
    return redirect(url_for("survey_editor.edit", slug=slug, _anchor="preview"))


def _rearranged(draft: survey_drafts.Draft, action: str, index: int):
    """Add, move or remove a question (or apply a changed type): kept, then the page again at
    that question."""
    if action == "add":
        index = survey_drafts.add_question(draft, request.form.get("add_type", ""))
    elif action in ("up", "down"):
        index = survey_drafts.move_question(draft, index, -1 if action == "up" else 1)
    elif action == "remove":
        removed = survey_drafts.remove_question(draft, index)
        if removed is not None:
            name = removed.get("id") if isinstance(removed, dict) else None
            flash(
                _(
                    "Question %(n)d (%(id)s) was taken out of the draft. Nothing changes for "
                    "customers until you save.",
                    n=index + 1,
                    id=name or "?",
                )
            )
        index = min(index, len(draft.questions) - 1)
    survey_drafts.store(draft, current_user)
    anchor = f"q{index}" if 0 <= index < len(draft.questions) else "questions"
    return redirect(url_for("survey_editor.edit", slug=draft.slug, _anchor=anchor))


def _save(draft: survey_drafts.Draft):
    try:
        outcome = survey_drafts.save(draft, current_user)
    except survey_drafts.Conflict as exc:
        who = exc.current.created_by.username if exc.current.created_by_id else None
        message = (
            _(
                "Version %(n)d was saved by %(who)s since your draft began. Your draft now starts "
                "from it: compare, then save again to replace it, or discard your draft.",
                n=exc.current.version,
                who=who,
            )
            if who
            else _(
                "Version %(n)d was loaded from its file since your draft began. Your draft now "
                "starts from it: compare, then save again to replace it, or discard your draft.",
                n=exc.current.version,
            )
        )
        return _editor(draft, conflict=message)
    except DefinitionError as exc:  # checked just before; a race at most
        return _editor(draft, problems=exc.problems)
    if outcome.status == "unchanged":
        flash(
            _(
                "Nothing to save: version %(n)d of %(slug)s has this content already.",
                n=outcome.version,
                slug=draft.slug,
            )
        )
    else:
        flash(
            _(
                "Version %(n)d of %(slug)s was saved; new invitations get it from now on.",
                n=outcome.version,
                slug=draft.slug,
            )
        )
    return redirect(url_for("admin.surveys", _anchor=f"survey-{draft.slug}"))


def _from_yaml(draft: survey_drafts.Draft):
    """The draft replaced by the YAML the admin typed: read as a file is read (the same refusals);
    YAML that cannot be read leaves the draft as it was, the text kept in its box."""
    text = request.form.get("yaml", "").replace("\r\n", "\n")
    try:
        data = load_text(text, f"{draft.slug}.yaml")
    except DefinitionError as exc:
        return _editor(draft, yaml_text=text, yaml_problems=exc.problems)
    if refused := survey_drafts.unusable(data, draft.slug):
        return _editor(draft, yaml_text=text, yaml_problems=refused)
    draft.data = data
    survey_drafts.store(draft, current_user)
    _definition, problems = survey_drafts.check(draft)
    if problems:
        return _editor(draft, problems=problems, yaml_text=text)
    flash(_("The YAML replaced your draft. Nothing changes for customers until you save."))
    return redirect(url_for("survey_editor.edit", slug=draft.slug))


def _editor(
    draft: survey_drafts.Draft,
    problems=(),
    checked: bool = False,
    conflict: str | None = None,
    yaml_text: str | None = None,
    yaml_problems=(),
):
    view: EditorView = view_of(draft.data)
    errors: Errors = place_problems(list(problems), view)
    if yaml_text is None:
        yaml_text = survey_yaml.dump(_as_file(draft))
    yaml_errors = [p.located(_) if hasattr(p, "located") else str(p) for p in yaml_problems]
    locale = current_locale()
    page = render_template(
        "admin/survey_edit.html",
        draft=draft,
        view=view,
        shown_title=view.title.get(locale, "").strip() or draft.slug,
        errors=errors,
        checked=checked,
        conflict=conflict,
        yaml_text=yaml_text,
        yaml_errors=yaml_errors,
        next_number=_next_number(draft.slug),
        file=_file_of(draft.slug),
        question_types=QUESTION_TYPES,
        type_labels=TYPE_LABELS,
        dimensions=SERVQUAL_DIMENSIONS,
        scale_defaults={
            qtype: (low.get(locale), high.get(locale))
            for qtype, (_min, _max, low, high) in SCALE_DEFAULTS.items()
        },
    )
    # 200 whenever the draft was kept, whatever its checks found (every button keeps it); 422
    # only for YAML that could not be read, which changes nothing
    return page, 422 if yaml_errors else 200


def _as_file(draft: survey_drafts.Draft) -> dict:
    """A draft as its file would be written: a valid one as a version's export is (defaults
    left out, keys in the files' order), one with problems as it is."""
    definition, _problems = survey_drafts.check(draft)
    return file_data(definition) if definition else draft.data


# --- the preview --------------------------------------------------------------------------------


@bp.route("/<slug>/edit/preview")
@roles_required("admin")
def preview(slug: str):
    """The draft as a customer's phone shows it, in the editor's frame. Nothing here can be
    sent: the button is disabled and the form posts nowhere that stores (this URL takes GET
    only); no invitation is made."""
    draft = _draft_or_404(slug)
    definition, problems = survey_drafts.check(draft)
    locale = current_locale()
    if definition is None:
        page = render_template(
            "admin/survey_preview_problems.html",
            problems=[p.located(_) if hasattr(p, "located") else str(p) for p in problems],
            preview=True,
            current_user=AnonymousUserMixin(),
        )
    else:
        page = render_template(
            "survey/form.html",
            form=form_class(definition, locale)(formdata=None),
            definition=definition,
            version=PreviewVersion(_next_number(slug) if draft.stored else draft.base_version),
            token=None,
            locale=locale,
            preview=True,
            current_user=AnonymousUserMixin(),  # the customer's page: no staff menu
        )
    response = make_response(page)
    response.headers.update(PREVIEW_HEADERS)
    return response


# --- YAML ---------------------------------------------------------------------------------------


def _yaml_download(data: dict, name: str, header: str):
    response = make_response(survey_yaml.dump(data, header=header))
    response.mimetype = YAML_TYPE
    response.headers["Content-Type"] = YAML_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/<slug>/draft.yaml")
@roles_required("admin")
def draft_yaml(slug: str):
    """The admin's draft (else the version in use) as a survey file."""
    draft = _draft_or_404(slug)
    header = _(
        "The survey %(slug)s as drafted in the browser. As surveys/%(slug)s.yaml, "
        "'flask --app feedback surveys sync' loads it.",
        slug=slug,
    )
    return _yaml_download(_as_file(draft), f"{slug}.yaml", header)


@bp.route("/<slug>/v<int:number>.yaml")
@roles_required("admin")
def version_yaml(slug: str, number: int):
    """A version as a survey file: put as surveys/<slug>.yaml, a sync finds it unchanged."""
    version = version_of(slug, number)
    if version is None:
        abort(404)
    header = _(
        "Version %(n)d of the survey %(slug)s. As surveys/%(slug)s.yaml, "
        "'flask --app feedback surveys sync' finds it unchanged while it is the version in use.",
        n=number,
        slug=slug,
    )
    return _yaml_download(file_data(definition_of(version)), f"{slug}.yaml", header)
