"""The managers' dashboard: figures with their intervals, charts and their downloads."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, abort, current_app, g, render_template, request
from flask_login import current_user

from .. import dashboard, reports
from ..errors import AppError
from ..i18n import current_locale
from ..models import CHANNELS, Survey, Team
from ..surveys import current_version, definition_of
from .auth import roles_required
from .filters import PRESETS, FilterError, parse_filters

bp = Blueprint("manage", __name__, url_prefix="/manage")
REPORT_ROLES = ("admin", "manager", "lead")


def allowed_team_ids() -> tuple[int, ...] | None:
    """None for managers and admins; a team lead's own teams otherwise."""
    return tuple(current_user.led_team_ids()) if current_user.role == "lead" else None


def current_filters():
    config = current_app.config
    try:
        return parse_filters(request.args, config["DEFAULT_SURVEY"], config["TIMEZONE"],
                             allowed_team_ids()), {}
    except FilterError as exc:
        if request.path.startswith("/manage/") and request.path != "/manage/":
            raise AppError(400, "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items()))
        return None, exc.errors


@bp.route("/")
@roles_required(*REPORT_ROLES)
def index():
    filters, errors = current_filters()
    choices = {
        "surveys": [s.slug for s in Survey.select(Survey.slug)
                    .where(Survey.current_version_id.is_null(False)).order_by(Survey.slug)],
        "channels": CHANNELS,
        "teams": [t.name for t in Team.select(Team.name).where(
            Team.id.in_(allowed_team_ids()) if allowed_team_ids() is not None else True)
            .order_by(Team.name)],
        "presets": PRESETS,
    }
    if filters is None:
        return render_template("manage/dashboard.html", filters=None, errors=errors,
                               choices=choices, args=request.args), 400
    min_sample = current_app.config["MIN_SAMPLE"]
    version = current_version(filters.survey)
    definition = definition_of(version)
    s = filters.slice
    band = request.args.get("comments", "all")
    if band not in reports.COMMENT_BANDS:
        band = "all"
    breakdowns = {group: reports.metrics(s, group)["groups"]
                  for group in ("channel", "team", "category")}
    ranked, too_few = dashboard.agent_ranking(s, min_sample)
    comments = reports.comments(s, dashboard.comment_question_ids(definition), band)
    return render_template(
        "manage/dashboard.html", filters=filters, errors={}, choices=choices, args=request.args,
        tiles=dashboard.tiles(s, min_sample), breakdowns=breakdowns, ranked=ranked,
        too_few=too_few, gaps=dashboard.servqual_gaps(s, definition),
        comments=comments, band=band, bands=reports.COMMENT_BANDS,
        team_names=reports.team_names({c["team"] for c in comments}), min_sample=min_sample,
        definition=definition, locale=current_locale())
