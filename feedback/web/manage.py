"""The managers' dashboard: figures with their intervals, charts and their downloads."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from peewee import Value, fn

from .. import (
    audit,
    chart_data,
    comment_terms,
    dashboard,
    drilldown,
    drivers,
    exports,
    follow_up_figures,
    meeting_pack,
    reports,
    suggestions,
)
from ..cache import app_cache
from ..db import utcnow
from ..errors import AppError
from ..i18n import current_locale, language
from ..models import Case, Survey, SurveyVersion, Team
from ..surveys import current_version, definition_of
from ..vocabulary import CHANNELS, REPORT_ROLES, RESPONSE_SOURCES
from .common import (
    CHART_CACHE_SIZE,
    CHART_TYPES,
    allowed_team_ids,
    chart_reply,
    chart_size,
    key_drivers,
    roles_required,
    survey_titles,
)
from .filters import PRESETS, FilterError, Filters, parse_criteria, parse_filters
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
        servqual_questions=dashboard.servqual_questions(definition),
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


CASE_CHOICES_CACHE_SIZE = 64  # one entry per set of visible teams


def case_choices(teams: tuple[int, ...] | None) -> dict[str, list[str]]:
    """The agents and the categories on the cases of the teams one may see (every team's for
    None), each sorted: what the dashboard's agent and category lists offer. Reading them scans
    the cases, so they are kept per set of teams under the newest case's id, read on every use
    (cache.py's contract: a case's agent and category are never changed, only new cases add
    names)."""
    newest = Case.select(fn.MAX(Case.id)).scalar()
    return app_cache("case-choices", CASE_CHOICES_CACHE_SIZE).get_or_make(
        (teams, newest), lambda: _case_choices(teams)
    )


def _case_choices(teams: tuple[int, ...] | None) -> dict[str, list[str]]:
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


@bp.route("/themes/comments")
@roles_required(*REPORT_ROLES)
def theme_comments():
    """The comments holding a term, as the list of responses behind a figure now gives them
    (/manage/responses?term=&side=): an old link keeps working."""
    return redirect(url_for("manage.responses", **request.args.to_dict(flat=False)))


# --- the responses behind a figure ------------------------------------------------------------


@bp.app_template_global()
def responses_url(filters: Filters, group: str | None = None, key=None, **criteria) -> str:
    """The address of the responses behind a figure: the view's filters and the figure's
    criteria (``drilldown.Criteria``'s query: measure, band, score, question, term, side,
    bucket, per, without). ``group`` and ``key``: a row of a breakdown, its key in place of the
    view's filter on that column (an empty key: ``without`` it). The one place such links are
    made: the dashboard's tiles and tables and the charts' tables all call it."""
    return url_for("manage.responses", **_responses_query(filters, group, key, criteria))


def _responses_query(filters: Filters, group: str | None, key, criteria: dict) -> dict:
    params = filters.query(group_by=None)
    if group is not None:
        if key is None:
            params.pop(group, None)
            criteria["without"] = [*criteria.get("without", ()), group]
        else:
            params[group] = key
    for name, value in criteria.items():
        if isinstance(value, date):
            value = value.isoformat()
        if value not in (None, "", [], ()):
            params[name] = value
    return params


@bp.app_template_global()
def cell_text(value) -> str:
    """A cell of a chart's table as its page shows it: a number with at most two decimals."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return language(current_locale()).number(value, "#,##0.##")
    return str(value)


def criteria_query(c: drilldown.Criteria, **changes) -> dict:
    """The query parameters of criteria (with some changed), for ``responses_url``."""
    params = {
        "measure": None if c.measure == "responses" else c.measure,
        "band": c.band,
        "score": c.score,
        "question": list(c.questions),
        "term": c.term,
        "side": c.side,
        "bucket": c.bucket,
        "per": c.per,
        "without": list(c.without),
    }
    params.update(changes)
    return params


def drill_or_400() -> tuple[Filters, drilldown.Criteria, object]:
    """The view's filters, the figure's criteria and the survey's definition; bad ones are a
    400 that names each, in the page's language."""
    filters = filters_or_400()
    definition = definition_of(current_version(filters.survey))
    try:
        criteria = parse_criteria(request.args, definition, language(current_locale()))
    except FilterError as exc:
        raise AppError(400, str(exc)) from None
    return filters, criteria, definition


def slice_words(filters: Filters) -> dict:
    return {
        "channel": filters.channel,
        "team": filters.team,
        "agent": filters.agent,
        "category": filters.category,
        "source": filters.source,
        "start": filters.start,
        "end": filters.end,
    }


@bp.route("/responses")
@roles_required(*REPORT_ROLES)
def responses():
    """The responses a figure of the dashboard counts: the view's filters and the figure's
    criteria, newest first, a page at a time, with a CSV download of them all."""
    filters, criteria, definition = drill_or_400()
    lang = language(current_locale())
    config = current_app.config
    now = utcnow()  # one moment for the counts and the page (a follow-up falls due)
    bands = drilldown.band_counts(filters.slice, criteria, definition, config, now)
    found = drilldown.list_page(
        filters.slice,
        criteria,
        definition,
        config,
        lang,
        page_number(),
        now=now,
        total=bands.get(criteria.chosen_band),
    )
    query = criteria_query(criteria)
    return render_template(
        "manage/responses.html",
        filters=filters,
        criteria=criteria,
        found=found,
        heading=drilldown.describe(criteria, definition, slice_words(filters), found.total, lang),
        bands=bands,
        band_names={b: drilldown.band_name(criteria, b, definition, lang) for b in bands},
        band_urls={
            band: responses_url(filters, **criteria_query(criteria, band=band, score=None))
            for band in bands
        },
        page_url=lambda n: responses_url(filters, page=n, **query),
        csv_url=url_for("manage.responses_csv", **_responses_query(filters, None, None, query)),
    )


@bp.route("/responses.csv")
@roles_required(*REPORT_ROLES)
def responses_csv():
    """Every response of the list (all its pages), as CSV in the page's language."""
    filters, criteria, definition = drill_or_400()
    audit.record("export.raw", "responses-list.csv", filters=request.args.to_dict(flat=False))
    config = current_app.config
    rows = drilldown.csv_rows(
        filters.slice,
        criteria,
        definition,
        config,
        language(current_locale()),
        config["TIMEZONE"],
    )
    name = exports.export_name("responses-list", filters.slice, filters.survey, "csv")
    return Response(
        stream_with_context(exports.csv_stream(rows)),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
        mimetype="text/csv",
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
            mimetype="text/csv",
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
    """A chart of the dashboard as PNG (?size=slot|small|medium|large), SVG or PDF, or its table as
    CSV, or as a page (html) with the chart and its table, each count a link to the responses
    behind it; cached until the data or the filters change (the page's table, not the page)."""
    if name not in chart_data.CHARTS or (fmt not in CHART_TYPES and fmt != "html"):
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
    key = (name, fmt, size, locale, min_sample, filters.slice, stamp)

    def build() -> chart_data.ChartData:
        return chart_data.build(
            name,
            filters.slice,
            definition_of(current_version(filters.survey)),
            language(locale),
            min_sample,
        )

    if fmt == "html":  # the page holds a CSRF token of its reader: only the table is kept
        header, rows, links = app_cache("charts", CHART_CACHE_SIZE).get_or_make(
            key, lambda: (lambda data: (data.header, data.rows, data.links))(build())
        )
        return render_template(
            "manage/chart.html",
            name=name,
            filters=filters,
            header=header,
            rows=rows,
            links=links,
            responses_chart=name not in chart_data.SUGGESTION_CHARTS,
        )
    return chart_reply(
        key, fmt, size, build, exports.export_name(name, filters.slice, filters.survey, fmt)
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
