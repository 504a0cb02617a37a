"""Forms of the admin pages: users, teams and API tokens.

Checks that need the database (a username or team name already taken, an admin taking their own
rights away) are ``validate_<field>`` methods, so that their message is shown beside the field.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import fn
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from .. import accounts
from ..i18n import LANGUAGES
from ..models import Team, TeamLead, User
from ..vocabulary import ROLES
from .forms_common import Form, choices

ROLE_LABELS = {
    "admin": _l("Admin"),
    "manager": _l("Manager"),
    "lead": _l("Team lead"),
    "staff": _l("Staff"),
}
MAX_PASSWORD = 200


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def role_choices() -> list[tuple[str, str]]:
    return [(role, ROLE_LABELS.get(role, role)) for role in ROLES]


def team_choices() -> list[tuple[str, str]]:
    return [("", _("No team"))] + [(str(t.id), t.name) for t in Team.select().order_by(Team.name)]


def locale_choices() -> list[tuple[str, str]]:
    return [("", _("The browser's language"))] + list(LANGUAGES.items())


def team_from_choice(value: str | None) -> Team | None:
    return Team.get_or_none(Team.id == int(value)) if value else None


def _check_new_password(password: str | None) -> None:
    if len(password or "") < accounts.MIN_PASSWORD:
        raise ValidationError(_("At least %(n)d characters.", n=accounts.MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        raise ValidationError(_("At most %(n)d characters.", n=MAX_PASSWORD))


class _UserFields(Form):
    role = SelectField(_l("Role"))
    team = SelectField(_l("Team"))
    locale = SelectField(_l("Language"))
    email = StringField(
        _l("Email address"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=254, message=_l("At most %(n)d characters.", n=254)),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("An address like name@example.com.")),
        ],
        render_kw={"autocomplete": "off", "type": "email"},
    )

    agent_code = StringField(
        _l("Agent code"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(
                max=accounts.AGENT_CODE_LENGTH,
                message=_l("At most %(n)d characters.", n=accounts.AGENT_CODE_LENGTH),
            ),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    user: User | None = None  # the user being edited; None on the new user's form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = choices(role_choices())
        self.team.choices = choices(team_choices())
        self.locale.choices = choices(locale_choices())

    def validate_agent_code(self, field):
        if field.errors:  # too long: said already
            return
        try:
            code = accounts.clean_agent_code(field.data)
        except accounts.AccountError:
            raise ValidationError(_("No tabs, line breaks or other control characters.")) from None
        holder = code and accounts.agent_code_holder(code, self.user.id if self.user else None)
        if holder:
            raise ValidationError(_("%(user)s already has this agent code.", user=holder.username))
        field.data = code


class UserCreateForm(_UserFields):
    username = StringField(
        _l("Username"),
        filters=[_strip],
        validators=[DataRequired(message=_l("Please enter a username."))],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    display_name = StringField(
        _l("Display name"), filters=[_strip], validators=[Optional(), Length(max=100)]
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Please enter a password."))],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_username(self, field):
        if not accounts.USERNAME.match(field.data or ""):
            raise ValidationError(_("2 to 64 letters, digits, dots, hyphens or underscores."))
        taken = User.select().where(fn.LOWER(User.username) == field.data.lower()).exists()
        if taken:
            raise ValidationError(_("This username is taken."))

    def validate_password(self, field):
        _check_new_password(field.data)


class UserEditForm(_UserFields):
    display_name = StringField(
        _l("Display name"),
        filters=[_strip],
        validators=[DataRequired(message=_l("Please enter a display name.")), Length(max=100)],
    )
    active = BooleanField(_l("Active (can log in)"))
    callbacks_all_teams = BooleanField(_l("Call-backs for all teams"))
    new_password = PasswordField(_l("New password"), render_kw={"autocomplete": "new-password"})

    def __init__(self, *args, user: User, acting_user, **kwargs):
        if kwargs.get("data") is None:
            kwargs["data"] = {
                "display_name": user.display_name,
                "role": user.role,
                "team": str(user.team_id) if user.team_id else "",
                "locale": user.locale or "",
                "active": user.active,
                "email": user.email or "",
                "callbacks_all_teams": user.callbacks_all_teams,
                "agent_code": user.agent_code or "",
            }
        super().__init__(*args, **kwargs)
        self.user = user
        self.acting_user = acting_user

    @property
    def editing_self(self) -> bool:
        return self.user.id == self.acting_user.id

    def validate_role(self, field):
        if self.editing_self and field.data != "admin":
            raise ValidationError(
                _("You cannot take the admin role away from yourself. Ask another admin to do it.")
            )

    def validate_active(self, field):
        if self.editing_self and not field.data:
            raise ValidationError(
                _("You cannot deactivate your own account. Ask another admin to do it.")
            )

    def validate_new_password(self, field):
        if field.data:
            _check_new_password(field.data)


class TeamForm(Form):
    name = StringField(
        _l("Team name"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please enter a name.")),
            Length(max=100, message=_l("At most %(n)d characters.", n=100)),
        ],
    )
    leads = SelectMultipleField(_l("Team leads"), coerce=int, render_kw={"size": 8})

    def __init__(self, *args, team: Team | None = None, **kwargs):
        if team is not None and kwargs.get("data") is None:
            kwargs["data"] = {"name": team.name, "leads": team_lead_ids(team)}
        super().__init__(*args, **kwargs)
        self.team = team
        people = User.select().order_by(User.display_name, User.username)
        self.leads.choices = choices((u.id, _user_label(u)) for u in people)

    def validate_name(self, field):
        query = Team.select().where(fn.LOWER(Team.name) == field.data.lower())
        if self.team is not None:
            query = query.where(Team.id != self.team.id)
        if query.exists():
            raise ValidationError(_("There is already a team with this name."))

    def chosen_leads(self) -> list[User]:
        ids = self.leads.data or []
        return list(User.select().where(User.id.in_(ids)).order_by(User.id)) if ids else []


def team_lead_ids(team: Team) -> list[int]:
    return [row.user_id for row in TeamLead.select(TeamLead.user).where(TeamLead.team == team)]


def _user_label(user: User) -> str:
    label = f"{user.display_name} ({user.username}, {ROLE_LABELS.get(user.role, user.role)})"
    return label if user.active else _("%(user)s – inactive", user=label)


class TokenForm(Form):
    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please enter a name.")),
            Length(max=100, message=_l("At most %(n)d characters.", n=100)),
        ],
    )


class RevokeForm(Form):
    """No fields: the CSRF token only."""
