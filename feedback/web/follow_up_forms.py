"""The forms of a follow-up's page: record a contact, close with an outcome, reopen."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from ..follow_ups import NOTE_MAX
from .forms_common import Form, choices

OUTCOME_LABELS = {
    "recovered": _l("Recovered: the customer is now satisfied"),
    "not_recovered": _l("Not recovered"),
    "unreachable": _l("Unreachable"),
    "declined": _l("Customer declined"),
}


def _note(label):
    return TextAreaField(
        label,
        validators=[
            DataRequired(message=_l("Please write what happened.")),
            Length(max=NOTE_MAX, message=_l("Please keep it to %(max)d characters or fewer.")),
        ],
        render_kw={"rows": 3, "maxlength": NOTE_MAX},
    )


class ContactForm(Form):
    contact_note = _note(_l("What was said (or tried)"))


class CloseForm(Form):
    outcome = RadioField(
        _l("Outcome"),
        choices=choices(OUTCOME_LABELS.items()),
        validate_choice=False,
        validators=[
            DataRequired(message=_l("Please choose an outcome.")),
            AnyOf(list(OUTCOME_LABELS), message=_l("Please choose an outcome.")),
        ],
    )
    close_note = _note(_l("Note"))


class ReopenForm(Form):
    reopen_note = _note(_l("Why reopen it"))
