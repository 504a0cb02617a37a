"""What the form modules share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask_babel import get_translations
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import HiddenInput

from ..names import N_
from ..periods import LAST_DAY


class CatalogueTranslations:
    """WTForms' own messages ("This field is required.") looked up in our gettext catalogue, in
    the page's language, like every other word on the page.

    We use our catalogue, not WTForms' (Flask-WTF's WTF_I18N_ENABLED): one place for a translator,
    one wording for "required" whether WTForms or our own validator says it. WTForms formats the
    message itself, so this returns it untouched (Flask-Babel's ``gettext`` would format it).
    """

    def gettext(self, string: str) -> str:
        return get_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ngettext(singular, plural, n)


CATALOGUE = CatalogueTranslations()


class Form(FlaskForm):
    """Every form of the app: FlaskForm (CSRF) with WTForms' messages from our catalogue."""

    class Meta:
        def get_translations(self, form):
            return CATALOGUE

    def hidden_tag(self, *fields):
        """The hidden fields, the CSRF token without an ``id``: a page with several forms would
        repeat ``id="csrf_token"``, and an id must be unique (Nu HTML Checker)."""
        fields = fields or tuple(self)
        tags = []
        for field in fields:
            if isinstance(field, str):
                field = getattr(self, field, None)
            if field is None or not isinstance(field.widget, HiddenInput):
                continue
            tags.append(str(field(id=False) if field.name == "csrf_token" else field()))
        return Markup("\n".join(tags))


# The messages of WTForms' fields and validators that our forms use, for the catalogue (WTForms
# asks for them by these English texts). Keep in step with the fields and validators used.
WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Not a valid integer value."),
    N_("Not a valid float value."),
    N_("Not a valid date value."),
    N_("Not a valid datetime value."),
    N_("Not a valid choice."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Invalid value, must be one of: %(values)s."),
    N_("Invalid input."),
)


def _wtforms_plurals(ngettext) -> None:
    """Never called: marks WTForms' plural messages for the catalogue's extraction."""
    ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        0,
    )
    ngettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
        0,
    )


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """A select's or radio group's options from (value, label) pairs, as WTForms wants them
    (tuples are deprecated). Labels are kept as given, so a lazy one is translated when the
    option is rendered. Read an option back as ``.value`` / ``.label``: a SelectChoice unpacks
    into four items, not two."""
    return [SelectChoice(value, label) for value, label in pairs]


def date_range(
    start_text: str | None, end_text: str | None, errors: dict[str, str]
) -> tuple[date | None, date | None]:
    """A filter's from/to dates (YYYY-MM-DD, each optional). A bad one is None and its message
    goes into ``errors`` under ``start`` or ``end``, to be shown beside that field."""

    def read(text: str | None, name: str) -> date | None:
        if not text:
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            errors[name] = _("A date like 2026-11-25.")
            return None
        if day > LAST_DAY:  # the period arithmetic of reports overflows beyond it
            errors[name] = _("No later than %(day)s.", day=LAST_DAY.isoformat())
            return None
        return day

    start, end = read(start_text, "start"), read(end_text, "end")
    if start and end and end < start:
        errors["end"] = _("The end comes before the start.")
        end = None
    return start, end
