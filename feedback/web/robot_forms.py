"""Forms of the chat robots' admin pages."""

from __future__ import annotations

from urllib.parse import urlparse

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..models import Robot, Team
from ..robots import PLATFORM_LABELS
from ..vocabulary import ROBOT_PLATFORMS
from .forms_common import Form, choices

URL_MAX = 2000
SECRET_MAX = 200


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RobotForm(Form):
    team = SelectField(_l("Team"), validators=[InputRequired(message=_l("Choose a team."))])
    # Always has a value (no empty first option), so no "required" in the HTML: a required
    # select's first option must be an empty placeholder (Nu HTML Checker).
    platform = SelectField(
        _l("Platform"), validators=[InputRequired()], render_kw={"required": False}
    )
    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please enter a name.")),
            Length(max=100, message=_l("At most %(n)d characters.", n=100)),
        ],
    )
    url = StringField(
        _l("Webhook address"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please enter the robot's webhook address.")),
            Length(max=URL_MAX, message=_l("At most %(n)d characters.", n=URL_MAX)),
        ],
    )
    secret = PasswordField(
        _l("Secret"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=SECRET_MAX, message=_l("At most %(n)d characters.", n=SECRET_MAX)),
        ],
    )
    forget_secret = BooleanField(_l("Remove the secret"))
    active = BooleanField(_l("Send alerts to this robot"), default=True)

    def __init__(self, *args, robot: Robot | None = None, **kwargs):
        if robot is not None and kwargs.get("data") is None:
            kwargs["data"] = {
                "team": str(robot.team_id),
                "platform": robot.platform,
                "name": robot.name,
                "url": robot.url,
                "active": robot.active,
            }
        super().__init__(*args, **kwargs)
        self.robot = robot
        self.team.choices = choices(
            [("", _l("Choose a team"))]
            + [(str(t.id), t.name) for t in Team.select().order_by(Team.name)]
        )
        self.platform.choices = choices((p, _l(PLATFORM_LABELS[p])) for p in ROBOT_PLATFORMS)

    def validate_team(self, field):
        if not (field.data or "").isdigit() or Team.get_or_none(Team.id == int(field.data)) is None:
            raise ValidationError(_l("Choose a team."))

    def validate_url(self, field):
        parsed = urlparse(field.data or "")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValidationError(_l("An address starting with https:// (or http://)."))
        if any(ch.isspace() for ch in field.data):
            raise ValidationError(_l("An address has no spaces."))


class DeleteRobotForm(Form):
    confirm = BooleanField(
        _l("Yes, remove this robot and the messages still waiting for it"),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


class TestRobotForm(Form):
    """No fields: the CSRF token only."""
