"""Forms of the improvement-action pages: the plan, a milestone, a change of state."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..models import Survey, Team, User
from ..names import CHANNELS as CHANNEL_NAMES
from ..vocabulary import ACTION_METRICS, CHANNELS, REPORT_ROLES
from .forms_common import Form, choices
from .labels import METRICS, survey_label

STATE_LABELS = {
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "evaluated": _l("Evaluated"),
}


def _strip(value):
    """Trimmed, and without NUL characters (PostgreSQL refuses them in text)."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


class ChoiceField(SelectField):
    """A select whose "not one of the choices" message is ours (and translated)."""

    def pre_validate(self, form):
        if self.data not in {str(c.value) for c in self.choices}:
            raise ValidationError(_("Please choose one from the list."))


FIRST_YEAR, LAST_YEAR = 2000, 2099  # keeps the before/after windows within the calendar


class LocalDateField(DateField):
    """A date (YYYY-MM-DD, as a date input sends it) in FIRST_YEAR..LAST_YEAR, with our own
    messages."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Please enter a date like 2026-11-01.")) from None
        if self.data is not None and not FIRST_YEAR <= self.data.year <= LAST_YEAR:
            self.data = None
            raise ValueError(
                _(
                    "Please enter a date between %(first)d and %(last)d.",
                    first=FIRST_YEAR,
                    last=LAST_YEAR,
                )
            )


def survey_choices() -> list[tuple[str, str]]:
    """Each survey in use, as its id and its title in the page's language (not its slug)."""
    return [
        (str(s.id), survey_label(s.slug))
        for s in Survey.select(Survey.id, Survey.slug)
        .where(Survey.current_version_id.is_null(False))
        .order_by(Survey.slug)
    ]


def team_choices(
    allowed: tuple[int, ...] | None, keep: int | None = None, keep_all: bool = False
) -> list[tuple[str, str]]:
    """Every team for managers; for a lead, the teams they lead (and no "all teams"), plus what
    an action they own and edit already has: its team ``keep``, or all teams (``keep_all``)."""
    query = Team.select(Team.id, Team.name).order_by(Team.name)
    if allowed is not None:
        ids = [*allowed, *([keep] if keep is not None else [])]
        every = [("", _("All teams"))] if keep_all else []
        return every + [(str(t.id), t.name) for t in query.where(Team.id.in_(ids or [-1]))]
    return [("", _("All teams"))] + [(str(t.id), t.name) for t in query]


def owner_choices() -> list[tuple[str, str]]:
    people = (
        User.select()
        .where(
            User.active == True,  # noqa: E712
            User.role.in_(REPORT_ROLES),
        )
        .order_by(User.display_name, User.username)
    )
    return [(str(u.id), f"{u.display_name} ({u.username})") for u in people]


class SliceForm(Form):
    """The dashboard's slice filters as form fields: channel, team, agent and category (the
    action form and the digest subscription form)."""

    channel = ChoiceField(_l("Channel"))
    team = ChoiceField(_l("Team"))
    agent = StringField(
        _l("Agent"),
        filters=[_strip],
        validators=[Optional(), Length(max=100, message=_l("At most %(n)d characters.", n=100))],
    )
    category = StringField(
        _l("Category"),
        filters=[_strip],
        validators=[Optional(), Length(max=100, message=_l("At most %(n)d characters.", n=100))],
    )

    def set_slice_choices(
        self, allowed_teams: tuple[int, ...] | None, keep_team: int | None, keep_all_teams: bool
    ) -> None:
        self.channel.choices = choices(
            [("", _("All channels"))] + [(c, _(CHANNEL_NAMES[c])) for c in CHANNELS]
        )
        self.team.choices = choices(team_choices(allowed_teams, keep_team, keep_all_teams))

    def slice_fields(self) -> dict:
        """The chosen filters: channel, team (an id), agent and category, None when left out."""
        return {
            "channel": self.channel.data or None,
            "team": int(self.team.data) if self.team.data else None,
            "agent": self.agent.data or None,
            "category": self.category.data or None,
        }


class ActionForm(SliceForm):
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please enter a title.")),
            Length(max=200, message=_l("At most %(n)d characters.", n=200)),
        ],
    )
    metric = ChoiceField(_l("Metric to improve"))
    survey = ChoiceField(_l("Survey"))
    description = TextAreaField(
        _l("What will be done, and why"),
        filters=[_strip],
        validators=[Optional(), Length(max=5000, message=_l("At most %(n)d characters.", n=5000))],
        render_kw={"rows": 5},
    )
    owner = ChoiceField(_l("Owner"))
    start_date = LocalDateField(
        _l("Start date"),
        validators=[InputRequired(message=_l("Please enter a date like 2026-11-01."))],
    )
    due_date = LocalDateField(
        _l("Due date"),
        validators=[InputRequired(message=_l("Please enter a date like 2026-11-01."))],
    )

    def __init__(
        self,
        *args,
        allowed_teams: tuple[int, ...] | None = None,
        keep_team: int | None = None,
        keep_all_teams: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.metric.choices = choices((m, str(METRICS[m])) for m in ACTION_METRICS)
        self.survey.choices = choices(survey_choices())
        self.set_slice_choices(allowed_teams, keep_team, keep_all_teams)
        self.owner.choices = choices(owner_choices())

    def validate_due_date(self, field):
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_("The due date cannot be before the start date."))

    def fields(self) -> dict:
        """The chosen values as actions.create_action wants them."""
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "metric": self.metric.data,
            "survey": int(self.survey.data),
            **self.slice_fields(),
            "owner": int(self.owner.data),
            "start_date": self.start_date.data,
            "due_date": self.due_date.data,
        }


class MilestoneForm(Form):
    title = StringField(
        _l("Milestone title"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please enter a title.")),
            Length(max=200, message=_l("At most %(n)d characters.", n=200)),
        ],
    )
    due_date = LocalDateField(
        _l("Due date"),
        validators=[InputRequired(message=_l("Please enter a date like 2026-11-01."))],
    )


class StateForm(Form):
    to_state = ChoiceField(_l("New state"))
    done_on = LocalDateField(_l("Done on (for “done”)"), validators=[Optional()])
    note = TextAreaField(
        _l("Note"),
        filters=[_strip],
        validators=[Optional(), Length(max=2000, message=_l("At most %(n)d characters.", n=2000))],
        render_kw={"rows": 3},
    )

    move_suggestions = BooleanField(
        _l("Also mark its linked open suggestions done, with the note as their public reply")
    )

    def __init__(self, *args, next_states: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.to_state.choices = choices((s, str(STATE_LABELS[s])) for s in next_states)


class LinkForm(Form):
    """Link a suggestion or a follow-up, by its number, to an action."""

    kind = ChoiceField(
        _l("What"),
        choices=choices([("suggestion", _l("Suggestion")), ("follow_up", _l("Follow-up"))]),
    )
    number = IntegerField(
        _l("Its number"),
        validators=[
            DataRequired(_l("Give the number (#) shown in its list.")),
            NumberRange(min=1, max=2**31 - 1, message=_l("Give the number (#) shown in its list.")),
        ],
    )
