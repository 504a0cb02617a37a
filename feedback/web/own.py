"""My figures (``/me/``): a person linked to their cases by an agent code sees their own.

Whoever is logged in may open the page; it is meant for staff, and for a lead, manager or admin
who also handles cases. It shows only the figures of the logged-in user's own agent code, taken
from the session's user, never from the request: the page and its charts honour no agent, team,
channel or category parameter (only the survey and the period), so no URL shows anyone else's
figures. Without an agent code the page says that an admin must link the account, and the
charts are 404. See ``feedback/own_figures.py`` and docs/access.md.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from .. import chart_data, exports, own_figures, reports
from ..errors import AppError
from ..i18n import current_locale, language
from ..surveys import current_version, definition_of
from ..vocabulary import ROLES
from .common import chart_reply, chart_size, roles_required, survey_titles
from .filters import PRESETS, FilterError, parse_filters
from .paging import page_number

bp = Blueprint("own", __name__, url_prefix="/me")

# The only parameters read: everything else (agent, team, ...) is ignored, whoever sends it.
OWN_PARAMETERS = ("survey", "period", "from", "to", "shown_from", "shown_to")


def own_filters():
    """The survey and period of this request; FilterError names the bad ones."""
    config = current_app.config
    args = {name: request.args[name] for name in OWN_PARAMETERS if name in request.args}
    return parse_filters(
        args,
        config["DEFAULT_SURVEY"],
        config["TIMEZONE"],
        None,
        language(current_locale()),
        form=True,
    )


@bp.route("/")
@roles_required(*ROLES)
def figures():
    code = current_user.agent_code
    surveys = survey_titles(current_locale())
    page = {"code": code, "surveys": surveys, "presets": PRESETS, "args": request.args}
    if code is None:
        return render_template("own/figures.html", filters=None, errors={}, **page)
    try:
        filters = own_filters()
    except FilterError as exc:
        return render_template("own/figures.html", filters=None, errors=exc.errors, **page), 400
    config = current_app.config
    min_sample = config["MIN_SAMPLE"]
    lang = language(current_locale())
    definition = definition_of(current_version(filters.survey))
    mine = own_figures.own_slice(filters.slice, code)
    team_id = current_user.team_id
    return render_template(
        "own/figures.html",
        filters=filters,
        errors={},
        headline=own_figures.headline(mine),
        trends={
            name: chart_data.build(name, mine, definition, lang, min_sample)
            for name in own_figures.TREND_CHARTS
        },
        funnel=(
            chart_data.own_funnel(
                own_figures.team_slice(filters.slice, team_id), code, lang, min_sample
            )
            if team_id is not None
            else None
        ),
        has_team=team_id is not None,
        comments=own_figures.comments(mine, page_number()),
        min_sample=min_sample,
        funnel_others=chart_data.OWN_FUNNEL_OTHERS,
        **page,
    )


@bp.route("/charts/<name>.<fmt>")
@roles_required(*ROLES)
def chart(name: str, fmt: str):
    """One of the charts of My figures as PNG (?size=small|medium|large) or SVG, or its table
    as CSV: always the logged-in user's own (404 without an agent code, and the team funnel
    without a team or with too few other agents)."""
    code = current_user.agent_code
    if code is None or name not in own_figures.CHARTS or fmt not in own_figures.FORMATS:
        abort(404)
    size = chart_size()
    try:
        filters = own_filters()
    except FilterError as exc:
        raise AppError(400, str(exc)) from None
    locale = current_locale()
    min_sample = current_app.config["MIN_SAMPLE"]
    stamp = reports.data_stamp(filters.slice.survey_id)
    if name == own_figures.FUNNEL_CHART:
        if current_user.team_id is None:
            abort(404)
        s = own_figures.team_slice(filters.slice, current_user.team_id)

        def build():  # the team's slice and the agent's code: another's "you" is never served
            return chart_data.own_funnel(s, code, language(locale), min_sample) or abort(404)

    else:
        s = own_figures.own_slice(filters.slice, code)

        def build():
            definition = definition_of(current_version(filters.survey))
            return chart_data.build(name, s, definition, language(locale), min_sample)

    return chart_reply(
        ("own", name, fmt, size, locale, min_sample, s, code, stamp),
        fmt,
        size,
        build,
        exports.export_name(f"my-{name}", s, filters.survey, fmt),
    )
