"""Forms of the suggestion box (giving, following) and of its triage (answering)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..cases import EMAIL
from ..i18n import current_locale
from ..input_checks import MAX_ID
from ..models import Team, User
from ..suggestions import BODY_MAX, COMMENT_MAX, NAME_MAX, TITLE_MAX, categories
from .forms_common import Form, choices
from .labels import BOXES as BOX_LABELS
from .labels import SUGGESTION_STATUSES as STATUS_LABELS


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def category_choices(active_only: bool = True) -> list[tuple[int, str]]:
    locale = current_locale()
    return [(c.id, c.name(locale)) for c in categories(active_only)]


def _category_id(value) -> int:
    """The chosen category's number; 0 for the empty "Choose…" option (a required select's
    placeholder has an empty value, as HTML wants)."""
    return int(value) if value not in (None, "") else 0


class SuggestionForm(Form):
    category = SelectField(
        _l("What is it about?"),
        coerce=_category_id,
        validators=[DataRequired(_l("Choose a category."))],
    )
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[DataRequired(_l("Give your suggestion a short title.")), Length(max=TITLE_MAX)],
    )
    body = TextAreaField(
        _l("Your suggestion"),
        filters=[_strip],
        validators=[DataRequired(_l("Write your suggestion.")), Length(max=BODY_MAX)],
        render_kw={"rows": 6},
    )
    identity = RadioField(
        _l("Anonymous or with your name?"),
        choices=choices([("anonymous", _l("Anonymous")), ("named", _l("With my name"))]),
        validators=[DataRequired(_l("Choose whether to stay anonymous."))],
    )
    name = StringField(
        _l("Your name"),
        filters=[_strip],
        validators=[Length(max=NAME_MAX)],
        render_kw={"autocomplete": "name"},
    )
    email = StringField(
        _l("Email for replies (optional)"),
        filters=[_strip],
        validators=[
            Optional(),
            Regexp(EMAIL, message=_l("This is not an email address.")),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )
    team = SelectField(_l("Which team does it concern? (optional)"), default="")
    # A field people never see: bots fill every field they find.
    website = StringField(
        _l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"}
    )

    def __init__(self, *args, staff: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = choices([("", _l("Choose…"))] + category_choices())
        if staff:
            self.team.choices = choices(
                [("", _l("No team in particular"))]
                + [(str(t.id), t.name) for t in Team.select().order_by(Team.name)]
            )
        else:
            del self.team

    def validate_website(self, field):
        if field.data:
            raise ValidationError(_l("Leave this field empty."))

    def validate_name(self, field):
        # Anonymous wins: a name or email typed anyway (say, with JavaScript off) is dropped.
        if self.identity.data == "named" and not field.data:
            raise ValidationError(_l("Give your name, or choose 'Anonymous'."))


class CodeForm(Form):
    code = StringField(
        _l("Tracking code"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter your tracking code.")), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class CommentForm(Form):
    comment = TextAreaField(
        _l("Add a comment"),
        filters=[_strip],
        validators=[DataRequired(_l("Write your comment.")), Length(max=COMMENT_MAX)],
        render_kw={"rows": 4},
    )


class ChangeForm(Form):
    """A staff member answers: status, public reply, internal note, owner, team, publishing."""

    status = SelectField(_l("Status"), choices=choices(STATUS_LABELS.items()))
    public_text = TextAreaField(
        _l("Public reply (the submitter sees it)"),
        filters=[_strip],
        validators=[Length(max=COMMENT_MAX)],
        render_kw={"rows": 4},
    )
    internal_note = TextAreaField(
        _l("Internal note (never shown to the submitter)"),
        filters=[_strip],
        validators=[Length(max=COMMENT_MAX)],
        render_kw={"rows": 3},
    )
    merged_into = IntegerField(
        _l("Repeats suggestion number (for a duplicate)"),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=MAX_ID,  # beyond: no such row, and SQLite overflows
                message=_l("There is no suggestion with that number."),
            ),
        ],
    )
    owner = SelectField(_l("Owner"), default="")
    team = SelectField(_l("Team"), default="")
    public = BooleanField(_l("Show on the public “You said, we did” page once done"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner.choices = choices(
            [("", _l("Nobody yet"))]
            + [
                (str(u.id), u.display_name)
                for u in User.select()
                .where((User.active == True) & (User.role != "staff"))  # noqa: E712
                .order_by(User.display_name)
            ]
        )
        self.team.choices = choices(
            [("", _l("No team"))] + [(str(t.id), t.name) for t in Team.select().order_by(Team.name)]
        )


class CategoryForm(Form):
    name_zh = StringField(
        _l("Name in Chinese"), filters=[_strip], validators=[DataRequired(), Length(max=100)]
    )
    name_en = StringField(
        _l("Name in English"), filters=[_strip], validators=[DataRequired(), Length(max=100)]
    )
    position = IntegerField(
        _l("Position in the list"), default=10, validators=[Optional(), NumberRange(min=0, max=999)]
    )
    active = BooleanField(_l("Offered on the form"), default=True)


class TriageFilterForm(Form):
    """The triage list's filter bar (GET: no CSRF, state in the URL)."""

    class Meta:
        csrf = False

    box = SelectField(_l("Box"), default="")
    status = SelectField(_l("Status"), default="")
    category = SelectField(_l("Category"), default="")
    start = StringField(_l("From"), render_kw={"type": "date"})
    end = StringField(_l("To"), render_kw={"type": "date"})
    order = SelectField(
        _l("Order"),
        choices=choices([("newest", _l("Newest first")), ("oldest", _l("Oldest first"))]),
        default="newest",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.box.choices = choices([("", _l("Both boxes")), *BOX_LABELS.items()])
        self.status.choices = choices(
            [
                ("", _l("Any status")),
                ("open", _l("Open")),
                ("overdue", _l("Overdue")),
                *STATUS_LABELS.items(),
            ]
        )
        self.category.choices = choices(
            [("", _l("Any category"))]
            + [(str(i), n) for i, n in category_choices(active_only=False)]
        )
