"""Names of things as pages show them, in the page's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import names
from ..i18n import current_locale, language
from ..names import channel_name

METRICS = {
    "csat": _l("CSAT"),
    "nps": _l("NPS"),
    "ces": _l("CES (effort)"),
    "response_rate": _l("Response rate"),
    "responses": _l("Answers"),
}
GROUPS = {
    "channel": _l("channel"),
    "team": _l("team"),
    "agent": _l("agent"),
    "category": _l("category"),
    "week": _l("week"),
    "month": _l("month"),
    "day": _l("day"),
}
DIMENSIONS = {
    "reliability": _l("Reliability"),
    "responsiveness": _l("Responsiveness"),
    "assurance": _l("Assurance"),
    "empathy": _l("Empathy"),
    "tangibles": _l("Tangibles"),
}
CHARTS = {
    "csat-trend": _l("CSAT over time"),
    "nps-trend": _l("NPS over time"),
    "csat-control": _l("Weekly CSAT control chart (p-chart, 3-sigma limits)"),
    "nps-composition": _l("Promoters, passives and detractors"),
    "csat-by-channel": _l("CSAT by channel"),
    "csat-by-team": _l("CSAT by team"),
    "csat-by-category": _l("CSAT by category"),
    "agent-funnel": _l("Agents' CSAT: funnel plot (95% and 99.8% limits)"),
    "servqual-gaps": _l("SERVQUAL gaps by dimension"),
    "suggestions-by-category": _l("Suggestions by category and month"),
    "suggestion-handling": _l("How suggestions were answered"),
    "follow-up-recovery": _l("Follow-ups: recovery rate by team"),
    "comment-themes": _l("What unhappy and happy customers write about"),
    "csat-drivers": _l("What drives CSAT"),
}
BANDS = {
    "all": _l("All"),
    "detractors": _l("Detractors (0–6)"),
    "passives": _l("Passives (7–8)"),
    "promoters": _l("Promoters (9–10)"),
}
SUGGESTION_STATUSES = {key: _l(message) for key, message in names.SUGGESTION_STATUSES.items()}
BOXES = {key: _l(message) for key, message in names.BOXES.items()}
# An invitation's state (invitation.delivery, and each message's state in the outbox).
EMAIL_STATES = {
    "queued": _l("waiting to be sent"),
    "sent": _l("sent"),
    "delivered": _l("delivered"),
    "failed": _l("failed (given up, or reported undelivered)"),
    "bounced": _l("bounced"),
    "skipped": _l("not sent (no longer due)"),
}


def survey_label(slug: str | None) -> str:
    """A survey's title (of the version in use) in the page's language, where a person would
    otherwise read its slug; the slug of a survey without a version in use. Read once a request."""
    from flask import g

    from .common import survey_titles

    locale = current_locale()
    titles = g.setdefault("survey_titles", {})
    if locale not in titles:
        titles[locale] = survey_titles(locale)
    return titles[locale].get(slug, slug or "–")


def _lookup(table):
    return lambda key: str(table.get(key, key if key is not None else "–"))


GLOBALS = {
    "metric_label": _lookup(METRICS),
    "group_label": _lookup(GROUPS),
    "channel_label": lambda key: channel_name(key, language(current_locale())),
    "dimension_label": _lookup(DIMENSIONS),
    "band_label": _lookup(BANDS),
    "chart_label": _lookup(CHARTS),
    "status_labels": SUGGESTION_STATUSES,
    "box_labels": BOXES,
    "box_label": _lookup(BOXES),
    "email_state_label": _lookup(EMAIL_STATES),
    "survey_label": survey_label,
}
