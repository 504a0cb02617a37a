"""The managers' dashboard: figures with their intervals, charts and their downloads."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from peewee import Value

from .. import (
    audit,
    chart_data,
    comment_terms,
    dashboard,
    drivers,
    exports,
    follow_up_figures,
    meeting_pack,
    reports,
    suggestions,
    themes,
)
from ..errors import AppError
from ..i18n import current_locale, language
from ..models import Case, Survey, SurveyVersion, Team
from ..surveys import current_version, definition_of
from ..vocabulary import CHANNELS, REPORT_ROLES, RESPONSE_SOURCES
from .common import (
    CHART_TYPES,
    allowed_team_ids,
    chart_reply,
    chart_size,
    key_drivers,
    roles_required,
    survey_titles,
)
from .filters import PRESETS, FilterError, parse_filters
from .paging import page_number

bp = Blueprint("manage", __name__, url_prefix="/manage")


def current_filters():
    """The filters of this request; FilterError names the bad ones."""
    config = current_app.config
    return parse_filters(
        request.args,
        config["DEFAULT_SURVEY"],
        config["TIMEZONE"],
        allowed_team_ids(),
        language(current_locale()),
        form=True,
    )


def filters_or_400():
    """The filters of a download: bad ones are a 400 that names them."""
    try:
        return current_filters()
    except FilterError as exc:
        raise AppError(400, str(exc)) from None


@bp.route("/")
@roles_required(*REPORT_ROLES)
def index():
    try:
        filters, errors = current_filters(), {}
    except FilterError as exc:
        filters, errors = None, exc.errors
    teams = allowed_team_ids()
    locale = current_locale()
    people = case_choices(teams)
    choices = {
        "surveys": survey_titles(locale),
        "channels": CHANNELS,
        "teams": [
            t.name
            for t in Team.select(Team.name)
            .where(Team.id.in_(teams) if teams is not None else True)
            .order_by(Team.name)
        ],
        "presets": PRESETS,
        "sources": RESPONSE_SOURCES,
        "agents": people["agent"],
        "categories": people["category"],
    }
    if filters is None:
        return render_template(
            "manage/dashboard.html", filters=None, errors=errors, choices=choices, args=request.args
        ), 400
    min_sample = current_app.config["MIN_SAMPLE"]
    version = current_version(filters.survey)
    definition = definition_of(version)
    s = filters.slice
    band = request.args.get("comments", "all")
    if band not in reports.COMMENT_BANDS:
        band = "all"
    # the period's counts, its breakdowns, the agents' counts and the sources: two grouped
    # queries (responses by channel, team, agent, category and source; invitations by channel,
    # team and category), summed in Python
    tables = reports.slice_tables(s, ("channel", "team", "category"), scores_by=("agent",))
    breakdowns = {group: tables.groups[group] for group in ("channel", "team", "category")}
    ranked, too_few = dashboard.agent_ranking_of(tables.scores_by["agent"], min_sample)
    tiles = dashboard.tiles_of(tables.counts, reports.slice_counts(s.previous()), min_sample)
    comments = reports.comments(s, dashboard.comment_question_ids(definition), band)
    follow_up_rows = follow_up_figures.table(s, "team")
    period = chart_data.trend_period(s)
    follow_up_periods = (period, follow_up_figures.table(s, period) if follow_up_rows else [])
    return render_template(
        "manage/dashboard.html",
        filters=filters,
        errors={},
        wider=_wider_period(filters, ranked, too_few),
        choices=choices,
        args=request.args,
        tiles=tiles,
        breakdowns=breakdowns,
        ranked=ranked,
        too_few=too_few,
        gaps=dashboard.servqual_gaps(s, definition),
        comments=comments,
        band=band,
        bands=reports.COMMENT_BANDS,
        team_names=reports.team_names({c["team"] for c in comments}),
        min_sample=min_sample,
        definition=definition,
        locale=current_locale(),
        chart_names=[n for n in chart_data.CHARTS if n not in chart_data.SUGGESTION_CHARTS],
        suggestion_charts=chart_data.SUGGESTION_CHARTS,
        suggestion_figures=suggestions.figures(chart_data.suggestion_triage(s)),
        reply_days=current_app.config["SUGGESTION_REPLY_DAYS"],
        follow_up_rows=follow_up_rows,
        follow_up_periods=follow_up_periods,
        source_counts=tables.sources,
        **theme_context(s, definition),
        key_drivers=_key_drivers(s, definition, min_sample),
    )


def case_choices(teams: tuple[int, ...] | None) -> dict[str, list[str]]:
    """The agents and the categories on the cases of the teams one may see (every team's for
    None), each sorted, in one query: what the dashboard's agent and category lists offer."""
    visible = Case.team.in_(teams) if teams is not None else True
    agents = Case.select(Value("agent").alias("kind"), Case.agent.alias("name")).where(
        visible, Case.agent.is_null(False), Case.agent != ""
    )
    categories = Case.select(Value("category").alias("kind"), Case.category.alias("name")).where(
        visible, Case.category.is_null(False), Case.category != ""
    )
    found: dict[str, set[str]] = {"agent": set(), "category": set()}
    for kind, name in (agents | categories).tuples():
        found[kind].add(name)
    return {kind: sorted(names) for kind, names in found.items()}


def _wider_period(filters, ranked, too_few) -> dict | None:
    """When no agent is ranked only because none reaches the minimum sample: the first preset
    longer than the period, its number of days and its link (None when there is none)."""
    if ranked or not too_few:
        return None
    days = (filters.end - filters.start).days + 1
    for key, length in PRESETS.items():
        if length > days:
            return {
                "days": length,
                "url": url_for(
                    "manage.index", **filters.query(**{"from": None, "to": None}), period=key
                ),
            }
    return None


def _key_drivers(s, definition, min_sample: int) -> dict | None:
    """The dashboard's key-drivers table (CSAT), or None for a survey without CSAT or ratings."""
    if not drivers.applies(definition, "csat"):
        return None
    report = key_drivers(s, definition, "csat")
    lang = language(current_locale())
    return {
        "report": report,
        "labels": {
            d.question: chart_data.driver_label(definition, d.question, lang)
            for d in report.drivers
        },
    }


def theme_context(s: reports.Slice, definition) -> dict:
    """The dashboard's comment themes: the top terms of each side and which scores make one."""
    return {
        "themes": comment_terms.slice_themes(s, definition, current_app.config),
        "themes_by_csat": comment_terms.uses_csat(definition),
    }


THEME_TERM_LENGTH = 100  # characters of a term in a link; longer ones are no term of ours


@bp.route("/themes/comments")
@roles_required(*REPORT_ROLES)
def theme_comments():
    """The comments of one side (?side=unhappy or happy) that hold a term (?term=), with the
    dashboard's filters, newest first, a page at a time."""
    side = request.args.get("side")
    if side not in themes.SIDES:
        raise AppError(400, "side: unhappy or happy")
    term = (request.args.get("term") or "").strip()
    if not term or len(term) > THEME_TERM_LENGTH:
        raise AppError(400, "term: give one term of the dashboard's comment themes")
    filters = filters_or_400()
    definition = definition_of(current_version(filters.survey))
    found = comment_terms.comments_holding(
        filters.slice, definition, current_app.config, side, term, page_number()
    )
    return render_template(
        "manage/theme_comments.html",
        filters=filters,
        survey_title=definition.title.get(current_locale()),
        side=side,
        term=term,
        found=found,
        by_csat=comment_terms.uses_csat(definition),
        team_names=reports.team_names({row["team"] for row in found.rows}),
    )


def _definitions(slug: str) -> list:
    """Every version of a survey, newest first (an export has a column for every question)."""
    versions = (
        SurveyVersion.select()
        .join(Survey)
        .where(Survey.slug == slug)
        .order_by(SurveyVersion.version.desc())
    )
    return [definition_of(v) for v in versions]


@bp.route("/export/responses.<fmt>")
@roles_required(*REPORT_ROLES)
def export_responses(fmt: str):
    """Every response of the period and slice, one row each, one column per question."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    filters = filters_or_400()
    audit.record("export.raw", f"responses.{fmt}", filters=request.args.to_dict())
    rows = exports.response_rows(
        filters.slice,
        _definitions(filters.survey),
        current_app.config["TIMEZONE"],
        language(current_locale()),
    )
    name = exports.export_name("responses", filters.slice, filters.survey, fmt)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(
            stream_with_context(exports.csv_stream(rows)),
            headers=headers,
            mimetype="text/csv; charset=utf-8",
        )
    return Response(
        exports.file_chunks(
            exports.xlsx_file(rows, language(current_locale()).gettext("Responses"))
        ),
        headers=headers,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.route("/charts/<name>.<fmt>")
@roles_required(*REPORT_ROLES)
def chart(name: str, fmt: str):
    """A chart of the dashboard as PNG (?size=small|medium|large), SVG or PDF, or its table as
    CSV; cached until the data or the filters change."""
    if name not in chart_data.CHARTS or fmt not in CHART_TYPES:
        abort(404)
    size = chart_size()
    filters = filters_or_400()
    locale = current_locale()
    min_sample = current_app.config["MIN_SAMPLE"]
    stamp = (
        suggestions.data_stamp()
        if name in chart_data.SUGGESTION_CHARTS
        else reports.data_stamp(filters.slice.survey_id)
    )
    if name == "comment-themes":  # also the dictionary, and erased comments' terms
        stamp = (stamp, comment_terms.cache_stamp(current_app.config))
    return chart_reply(
        (name, fmt, size, locale, min_sample, filters.slice, stamp),
        fmt,
        size,
        lambda: chart_data.build(
            name,
            filters.slice,
            definition_of(current_version(filters.survey)),
            language(locale),
            min_sample,
        ),
        exports.export_name(name, filters.slice, filters.survey, fmt),
    )


@bp.route("/meeting-pack.pdf")
@roles_required(*REPORT_ROLES)
def meeting_pack_pdf():
    """The meeting pack of the dashboard's view: cover, charts, detractors' comments, as PDF."""
    filters = filters_or_400()
    config = current_app.config
    made = datetime.now(ZoneInfo(config["TIMEZONE"]))  # on the cover and in the file's name
    body = meeting_pack.build_pack(
        filters.slice,
        filters.survey,
        definition_of(current_version(filters.survey)),
        language(current_locale()),
        config["MIN_SAMPLE"],
        config["TIMEZONE"],
        made=made,
    )
    name = exports.export_name("meeting-pack", filters.slice, filters.survey, "pdf", now=made)
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
