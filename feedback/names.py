"""Names of channels and chart titles: gettext messages, translated where they are shown.

The keys are the domain's; the names are marked with ``N_`` for the catalogue and looked up in
the reader's language (``Language.gettext`` outside a request, ``gettext`` on a page).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .i18n import Language


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message


CHANNELS = {
    "phone": N_("Phone"),
    "chat": N_("Online chat"),
    "email": N_("Email"),
    "social": N_("Social media"),
    "onsite": N_("On site"),
}
BREAKDOWN_TITLES = {
    "channel": N_("CSAT by channel"),
    "team": N_("CSAT by team"),
    "category": N_("CSAT by category"),
}


def name_of(names: dict[str, str], key: str | None, lang: Language) -> str:
    """The name of a key of one of these tables in ``lang``; an unknown key as it is."""
    return lang.gettext(names[key]) if key in names else (key or "–")


def channel_name(key: str | None, lang: Language) -> str:
    """A channel as people call it; an unknown key as it is."""
    return name_of(CHANNELS, key, lang)


SUGGESTION_STATUSES = {
    "new": N_("New"),
    "review": N_("Under review"),
    "planned": N_("Planned"),
    "progress": N_("In progress"),
    "done": N_("Done"),
    "declined": N_("Declined"),
    "duplicate": N_("Duplicate"),
}
# Where a response came from (Response.source)
SOURCES = {"link": N_("Customer's survey link"), "callback": N_("Recorded on a call-back")}
BOXES = {"customer": N_("Customer box"), "staff": N_("Staff box")}
