"""Admin pages: surveys and their versions, users, teams and API tokens.

Every page is for the ``admin`` role only. Every change is a POST (with the CSRF token that
CSRFProtect checks for the whole site) that redirects to a page saying what was done.
"""

from __future__ import annotations

from collections import defaultdict
from secrets import token_hex

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from peewee import JOIN, IntegrityError, fn

from .. import accounts, audit, charts, posters, survey_drafts, workdays
from ..db import database
from ..i18n import current_locale
from ..models import (
    ApiToken,
    Suggestion,
    SuggestionCategory,
    Team,
    TeamLead,
    User,
)
from ..surveys import definition_of, listing, version_of
from .admin_forms import (
    ROLE_LABELS,
    RevokeForm,
    TeamForm,
    TokenForm,
    UserCreateForm,
    UserEditForm,
    team_from_choice,
)
from .common import keep_own_session, roles_required
from .suggest_forms import CategoryForm
from .survey_forms import form_class

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.context_processor
def _admin_globals():
    return {"role_labels": ROLE_LABELS}


# Columns of a user that an audit entry of a change compares (never the password's hash: a new
# password is an entry of its own, without it).
_AUDITED_USER_FIELDS = (
    "display_name",
    "role",
    "team_id",
    "locale",
    "email",
    "active",
    "callbacks_all_teams",
    "agent_code",
)


def _user_state(user: User) -> dict:
    state = {name: getattr(user, name, None) for name in _AUDITED_USER_FIELDS}
    state["team"] = Team.get_by_id(user.team_id).name if user.team_id else None  # readable
    del state["team_id"]
    return state


def _changes(before: dict, after: dict) -> dict:
    """What changed, as {column: [before, after]}."""
    return {key: [before[key], after[key]] for key in before if before[key] != after.get(key)}


def _audit_user_edit(user: User, before: dict, new_password: bool) -> None:
    """The entries of one save of the user form: activation, password, the rest."""
    changes = _changes(before, _user_state(user))
    target = f"user {user.username}"
    if "active" in changes:
        audit.record("user.activate" if user.active else "user.deactivate", target)
        del changes["active"]
    if new_password:
        audit.record("user.password", target)
    if changes:
        audit.record("user.change", target, changes=changes)


def _form_page(template: str, form, **context):
    """A form's page: 422 when it is shown again with its errors."""
    return render_template(template, form=form, **context), 422 if form.errors else 200


@bp.route("/")
@roles_required("admin")
def index():
    config = current_app.config
    return render_template(
        "admin/index.html",
        calendar_gaps=workdays.calendar_gaps(config),
        holiday_country=config.get("HOLIDAY_COUNTRY", "").upper(),
    )


# --- surveys ----------------------------------------------------------------------------------


@bp.route("/surveys")
@roles_required("admin")
def surveys():
    items = listing()
    for item in items:  # a refused file's problems in the admin's language
        item["problems"] = [problem.located(_) for problem in item["problems"]]
    return render_template(
        "admin/surveys.html", surveys=items, drafts=survey_drafts.drafts_by_slug()
    )


@bp.route("/surveys/<slug>/v<int:number>")
@roles_required("admin")
def preview(slug: str, number: int):
    """A version as a customer would see it; the form posts nowhere."""
    version = version_of(slug, number)
    if version is None:
        abort(404)
    definition = definition_of(version)
    form = form_class(definition, current_locale())(formdata=None)
    return render_template(
        "survey/form.html",
        form=form,
        definition=definition,
        version=version,
        token=None,
        locale=current_locale(),
        preview=True,
    )


# --- users ------------------------------------------------------------------------------------


def _teams_led_by_user() -> dict[int, list[Team]]:
    led: dict[int, list[Team]] = defaultdict(list)
    for row in TeamLead.select(TeamLead, Team).join(Team).order_by(Team.name):
        led[row.user_id].append(row.team)
    return led


@bp.route("/users")
@roles_required("admin")
def users():
    rows = (
        User.select(User, Team)
        .join(Team, JOIN.LEFT_OUTER, on=(User.team == Team.id))
        .order_by(User.username)
    )
    return render_template("admin/users.html", users=list(rows), led=_teams_led_by_user())


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                form.username.data,
                form.password.data,
                form.role.data,
                display_name=form.display_name.data or None,
                team=team_from_choice(form.team.data),
                locale=form.locale.data or None,
                email=form.email.data or None,
                agent_code=form.agent_code.data,
            )
        except accounts.AccountError as exc:
            _field_error(form, exc)
        except IntegrityError:  # the same username (or agent code) sent twice at once
            _taken(form)
        else:
            audit.user_created(user)
            flash(_("User %(name)s was created.", name=user.username))
            _warn_unknown_agent(user)
            return redirect(url_for("admin.users"))
    return _form_page("admin/user_form.html", form, user=None)


def _taken(form) -> None:
    """Two saves at once took the same username or agent code: say which, beside it."""
    if form.agent_code.data and accounts.agent_code_holder(
        form.agent_code.data, form.user.id if form.user else None
    ):
        form.agent_code.errors.append(_("Another user got this agent code just now."))
    else:
        form.username.errors.append(_("This username is taken."))


def _warn_unknown_agent(user: User) -> None:
    """An agent code that no case names yet is probably written otherwise than the helpdesk
    writes it: say so (it is kept: the person's first cases may still be on their way)."""
    if user.agent_code and not accounts.agent_code_in_cases(user.agent_code):
        flash(
            _(
                "No case names the agent “%(code)s” yet. Check that it is written exactly as "
                "the helpdesk sends it.",
                code=user.agent_code,
            )
        )


def _field_error(form, exc: accounts.AccountError) -> None:
    """An AccountError the form's own checks did not foresee, shown beside its field."""
    field = getattr(form, exc.field, None) or form.password
    field.errors = [*field.errors, exc.message]


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int):
    user = User.get_or_none(User.id == user_id)
    if user is None:
        abort(404)
    form = UserEditForm(user=user, acting_user=current_user)
    before = _user_state(user)
    if form.validate_on_submit():
        try:
            with database.atomic():
                user.display_name = form.display_name.data
                user.role = form.role.data
                user.team = team_from_choice(form.team.data)
                user.locale = form.locale.data or None
                user.email = form.email.data or None
                accounts.set_active(user, form.active.data)
                user.callbacks_all_teams = form.callbacks_all_teams.data
                user.agent_code = form.agent_code.data or None
                user.save()
                if form.new_password.data:
                    accounts.set_password(user, form.new_password.data)  # ends their sessions
                _audit_user_edit(user, before, bool(form.new_password.data))  # with the change
        except accounts.AccountError as exc:  # set_password: the form checked it already
            form.new_password.errors = [*form.new_password.errors, exc.message]
        except IntegrityError:  # another save took the agent code in the meantime
            form.agent_code.errors.append(_("Another user got this agent code just now."))
        else:
            if form.new_password.data and form.editing_self:
                keep_own_session(user)
            flash(_("The changes to %(name)s were saved.", name=user.username))
            if user.agent_code != before["agent_code"]:
                _warn_unknown_agent(user)
            return redirect(url_for("admin.users"))
    return _form_page("admin/user_form.html", form, user=user)


# --- teams ------------------------------------------------------------------------------------


@bp.route("/teams")
@roles_required("admin")
def teams():
    members = dict(
        User.select(User.team, fn.COUNT(User.id))
        .where(User.team.is_null(False), User.active == True)  # noqa: E712
        .group_by(User.team)
        .tuples()
    )
    leads: dict[int, list[User]] = defaultdict(list)
    for row in (
        TeamLead.select(TeamLead, User).join(User).order_by(User.display_name, User.username)
    ):
        leads[row.team_id].append(row.user)
    return render_template(
        "admin/teams.html",
        teams=list(Team.select().order_by(Team.name)),
        members=members,
        leads=leads,
    )


@bp.route("/teams/new", methods=["GET", "POST"])
@roles_required("admin")
def new_team():
    return _team_page(None)


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_team(team_id: int):
    team = Team.get_or_none(Team.id == team_id)
    if team is None:
        abort(404)
    return _team_page(team)


def _team_page(team: Team | None):
    """A new team (``team`` None) or a change to one: its name and its leads, audited."""
    form = TeamForm(team=team)
    if form.validate_on_submit():
        leads = sorted(u.username for u in form.chosen_leads())
        before = None if team is None else (team.name, _lead_names(team))
        try:
            with database.atomic():
                saved = team or Team()
                saved.name = form.name.data
                saved.save()
                accounts.set_team_leads(saved, form.chosen_leads())
                if before is None:
                    audit.record("team.create", f"team {saved.name}", leads=leads)
                else:
                    changes = {"name": [before[0], saved.name], "leads": [before[1], leads]}
                    audit.record("team.change", f"team {saved.name}", **changes)
        except IntegrityError:  # the same name twice (also when sent twice at once)
            if team is not None:
                team.name = before[0]
            form.name.errors.append(_("There is already a team with this name."))
        else:
            if before is None:
                flash(_("Team %(name)s was created.", name=saved.name))
            else:
                flash(_("The changes to team %(name)s were saved.", name=saved.name))
            return redirect(url_for("admin.teams"))
    return _form_page("admin/team_form.html", form, team=team)


def _lead_names(team: Team) -> list[str]:
    return sorted(
        u.username
        for u in User.select(User.username)
        .join(TeamLead, on=(TeamLead.user == User.id))
        .where(TeamLead.team == team)
    )


# --- API tokens -------------------------------------------------------------------------------


@bp.route("/tokens")
@roles_required("admin")
def tokens():
    rows = ApiToken.select().order_by(ApiToken.revoked_at.is_null(False), ApiToken.id.desc())
    return render_template("admin/tokens.html", tokens=list(rows))


@bp.route("/tokens/new", methods=["GET", "POST"])
@roles_required("admin")
def new_token():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token = accounts.create_token(form.name.data)
        except accounts.AccountError as exc:
            form.name.errors.append(exc.message)
        else:
            audit.record("token.create", f"API token {form.name.data}")
            # Shown in the answer to this POST and nowhere else: not in the session (a signed,
            # not encrypted, cookie), not behind a redirect, not kept by any cache.
            response = make_response(
                render_template(
                    "admin/token_created.html", new={"name": form.name.data, "token": token}
                )
            )
            response.headers["Cache-Control"] = "no-store"
            return response
    return _form_page("admin/token_form.html", form)


@bp.route("/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@roles_required("admin")
def revoke_token(token_id: int):
    """GET asks to confirm; POST revokes."""
    token = ApiToken.get_or_none(ApiToken.id == token_id)
    if token is None:
        abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        if accounts.revoke_token(token.id):
            audit.record("token.revoke", f"API token {token.name}", token_id=token.id)
            flash(
                _(
                    "API token %(name)s was revoked. Requests with it are now refused.",
                    name=token.name,
                )
            )
        else:
            flash(_("API token %(name)s was already revoked.", name=token.name))
        return redirect(url_for("admin.tokens"))
    return render_template("admin/token_revoke.html", token=token, form=form)


# --- the suggestion box: categories and posters -----------------------------------------------


@bp.route("/suggestion-box")
@roles_required("admin")
def suggestion_box():
    used = dict(
        Suggestion.select(Suggestion.category, fn.COUNT(Suggestion.id))
        .group_by(Suggestion.category)
        .tuples()
    )
    rows = SuggestionCategory.select().order_by(SuggestionCategory.position, SuggestionCategory.id)
    return render_template(
        "admin/suggestion_box.html",
        categories=list(rows),
        used=used,
        boxes={
            "customer": url_for("suggest.customer_box", _external=True),
            "staff": url_for("suggest.staff_box", _external=True),
        },
    )


@bp.route("/suggestion-box/categories/new", methods=["GET", "POST"])
@bp.route("/suggestion-box/categories/<int:category_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_category(category_id: int | None = None):
    """A category of the suggestion form. Categories in use are hidden (not offered), never
    deleted, so old suggestions keep theirs."""
    category = None
    if category_id is not None:
        category = SuggestionCategory.get_or_none(SuggestionCategory.id == category_id)
        if category is None:
            abort(404)
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        values = {
            "name_zh": form.name_zh.data,
            "name_en": form.name_en.data,
            "position": form.position.data or 0,
            "active": form.active.data,
        }
        if category is None:
            category = SuggestionCategory.create(slug=f"c-{token_hex(4)}", **values)
        else:
            SuggestionCategory.update(**values).where(
                SuggestionCategory.id == category.id
            ).execute()
        audit.record("category.save", f"category {category.id} {form.name_en.data}", **values)
        flash(_("The category was saved."))
        return redirect(url_for("admin.suggestion_box"))
    return _form_page("admin/category_form.html", form, category=category)


POSTER_TYPES = {"png": "image/png", "pdf": "application/pdf"}


@bp.route("/suggestion-box/poster-<box>.<fmt>")
@roles_required("admin")
def poster(box: str, fmt: str):
    """An A4 poster with the QR code of a box's address (BASE_URL), for a service counter."""
    if box not in posters.WORDS or fmt not in POSTER_TYPES:
        abort(404)
    endpoint = "suggest.customer_box" if box == "customer" else "suggest.staff_box"
    url = current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint)
    body = charts.render(posters.poster(url, box), fmt, posters.A4_PNG)
    return current_app.response_class(
        body,
        mimetype=POSTER_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="suggestion-box-{box}-poster.{fmt}"'
        },
    )
