"""The report filters of the dashboard and the metrics API, read from a query string."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .. import access, drilldown, drivers, themes
from ..definitions import SurveyDefinition
from ..i18n import Language, language
from ..models import Survey, Team
from ..names import N_
from ..periods import LAST_DAY
from ..reports import GROUP_BY, TIME_GROUPS, Slice
from ..vocabulary import CHANNELS, DRILL_MEASURES, RESPONSE_SOURCES

PRESETS = {"7d": 7, "28d": 28, "90d": 90, "365d": 365}


@dataclass(frozen=True)
class Filters:
    """What was asked, as given (for links and forms), and the Slice it selects."""

    survey: str
    start: date
    end: date
    group_by: str | None
    channel: str | None
    team: str | None
    agent: str | None
    category: str | None
    slice: Slice
    source: str | None = None  # "link" or "callback"; None counts both
    period: str | None = None  # the preset that chose start and end; None: the dates did

    def query(self, **changes) -> dict:
        """The query-string parameters that select these filters (with some changed)."""
        params = {
            "survey": self.survey,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "group_by": self.group_by,
            "channel": self.channel,
            "team": self.team,
            "agent": self.agent,
            "category": self.category,
            "source": self.source,
        }
        params.update(changes)
        return {k: v for k, v in params.items() if v not in (None, "")}


class FilterError(ValueError):
    """Bad filters, each named; ``status`` is 404 when all that is wrong is an unknown name."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors
        self.status = 404 if set(errors) <= {"survey", "team"} else 400


def today(tz: str) -> date:
    return datetime.now(ZoneInfo(tz)).date()


def parse_filters(
    args,
    default_survey: str,
    tz: str,
    allowed_team_ids: tuple[int, ...] | None = None,
    lang: Language | None = None,
    form: bool = False,
) -> Filters:
    """Read survey, from, to (or preset), group_by and the slice filters; FilterError names
    every bad one, in ``lang`` (English by default: the API's). ``allowed_team_ids`` limits a
    team lead to their teams.

    A preset (``period``) wins over ``from`` and ``to`` (the API's rule). With ``form`` (the
    dashboard's form, which also sends the dates its boxes were filled with as ``shown_from``
    and ``shown_to``), dates the person typed win: the preset applies only when the date boxes
    were left as shown."""
    lang = lang or language("en")
    errors: dict[str, list[str]] = {}
    slug = (args.get("survey") or default_survey).strip()
    survey = Survey.get_or_none(Survey.slug == slug)
    if survey is None:
        errors["survey"] = [lang.gettext(N_("unknown survey '%(slug)s'"), slug=slug)]
    end = start = None
    preset = args.get("period")
    if preset not in PRESETS or (form and dates_typed(args)):
        preset = None
    if preset is not None:
        start, end = preset_range(preset, tz)
    else:
        end = _date(args, "to", errors, lang) or today(tz)
        start = _date(args, "from", errors, lang) or _days_before(end, 27)
    if start and end and start > end and "from" not in errors and "to" not in errors:
        errors["from"] = [lang.gettext(N_("must not be after the end date"))]
    group_by = args.get("group_by") or None
    if group_by is not None and group_by not in GROUP_BY:
        errors["group_by"] = [one_of(GROUP_BY, lang)]
    channel = args.get("channel") or None
    if channel is not None and channel not in CHANNELS:
        errors["channel"] = [one_of(CHANNELS, lang)]
    team_name = args.get("team") or None
    team_id = None
    if team_name is not None:
        team = Team.get_or_none(Team.name == team_name)
        if team is None or not access.may_see(allowed_team_ids, team.id):
            # a lead asking for another team's figures is told what an unknown name gets
            errors["team"] = [lang.gettext(N_("unknown team '%(name)s'"), name=team_name)]
        else:
            team_id = team.id
    source = args.get("source") or None
    if source is not None and source not in RESPONSE_SOURCES:
        errors["source"] = [one_of(RESPONSE_SOURCES, lang)]
    if errors:
        raise FilterError(errors)
    agent = args.get("agent") or None
    category = args.get("category") or None
    return Filters(
        survey=slug,
        start=start,
        end=end,
        group_by=group_by,
        channel=channel,
        team=team_name,
        agent=agent,
        category=category,
        source=source,
        period=preset,
        slice=Slice(
            survey_id=survey.id,
            start=start,
            end=end,
            channel=channel,
            team_id=team_id,
            agent=agent,
            category=category,
            source=source,
            allowed_team_ids=allowed_team_ids,
        ),
    )


def dates_typed(args) -> bool:
    """Whether the dashboard form's date boxes were changed from the dates they showed (a link
    without ``shown_from`` and ``shown_to``, such as one saved before they existed, typed none)."""
    if "shown_from" not in args and "shown_to" not in args:
        return False
    return any(
        (args.get(name) or "") != (args.get(f"shown_{name}") or "") for name in ("from", "to")
    )


def preset_range(preset: str, tz: str) -> tuple[date, date]:
    """The first and last day of a preset (a key of PRESETS), today in ``tz`` the last."""
    end = today(tz)
    return end - timedelta(days=PRESETS[preset] - 1), end


def _days_before(day: date, days: int) -> date:
    return day - timedelta(days=days) if day.toordinal() > days else date.min


def one_of(keys, lang: Language) -> str:
    """The error of a value outside ``keys``, in ``lang``."""
    return lang.gettext(N_("must be one of %(choices)s"), choices=", ".join(keys))


def _date(args, name: str, errors: dict, lang: Language) -> date | None:
    raw = args.get(name)
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors[name] = [lang.gettext(N_("must be a date like %(example)s"), example="2026-11-01")]
        return None
    if day > LAST_DAY:
        errors[name] = [lang.gettext(N_("must be no later than %(day)s"), day=LAST_DAY.isoformat())]
        return None
    return day


SCORE = re.compile(r"-?[0-9]{1,3}")


def parse_criteria(
    args, definition: SurveyDefinition, lang: Language | None = None
) -> drilldown.Criteria:
    """Read which of the slice's responses a figure counts (``drilldown.Criteria``) from the
    query string of /manage/responses: measure, band or score, question (repeatable), term and
    side, bucket and per, without (repeatable). FilterError names every bad one, in ``lang``;
    the dashboard's filters are read by ``parse_filters``."""
    lang = lang or language("en")
    errors: dict[str, list[str]] = {}
    measure = args.get("measure") or "responses"
    if measure not in DRILL_MEASURES:
        errors["measure"] = [one_of(DRILL_MEASURES, lang)]
        raise FilterError(errors)
    band = args.get("band") or None
    bands = drilldown.BANDS.get(measure, ())
    if band is not None and band not in bands:
        errors["band"] = [
            one_of(bands, lang) if bands else lang.gettext(N_("this measure has no bands"))
        ]
    questions = tuple(dict.fromkeys(q for q in args.getlist("question") if q))
    allowed = drivers.driver_questions(definition)
    if len(questions) > drilldown.MAX_QUESTIONS:
        errors["question"] = [
            lang.gettext(N_("at most %(n)d questions"), n=drilldown.MAX_QUESTIONS)
        ]
    elif any(q not in allowed for q in questions):
        errors["question"] = [
            lang.gettext(
                N_("must be rating questions of this survey: %(choices)s"),
                choices=", ".join(allowed) or "–",
            )
        ]
    elif measure in drilldown.QUESTION_MEASURES and not questions:
        errors["question"] = [lang.gettext(N_("name the question this measure is about"))]
    elif measure == "servqual" and definition.question(questions[0]).type != "servqual":
        errors["question"] = [lang.gettext(N_("must be a SERVQUAL question"))]
    score = _score(args.get("score"), measure, questions, definition, errors, lang)
    if score is not None and band is not None:
        errors["score"] = [lang.gettext(N_("give a band or a score, not both"))]
    term, side = (args.get("term") or "").strip() or None, args.get("side") or None
    if term is not None and (len(term) > drilldown.TERM_LENGTH or term.split() != [term]):
        errors["term"] = [lang.gettext(N_("give one term of the dashboard's comment themes"))]
    if (term is None) != (side is None) or (side is not None and side not in themes.SIDES):
        errors["side"] = [
            lang.gettext(
                N_("a term goes with its side: %(choices)s"), choices=", ".join(themes.SIDES)
            )
        ]
    bucket, per = _date(args, "bucket", errors, lang), args.get("per") or None
    if per is not None and per not in TIME_GROUPS:
        errors["per"] = [one_of(TIME_GROUPS, lang)]
    elif (bucket is None) != (per is None) and "bucket" not in errors:
        errors["per"] = [lang.gettext(N_("a bucket goes with per (week, month or day)"))]
    elif bucket is not None and not _starts(bucket, per):
        errors["bucket"] = [
            lang.gettext(N_("must be the first day of its %(per)s"), per=lang.gettext(per))
        ]
    without = tuple(dict.fromkeys(w for w in args.getlist("without") if w))
    if any(w not in drilldown.WITHOUT for w in without):
        errors["without"] = [one_of(drilldown.WITHOUT, lang)]
    elif any(args.get(w) for w in without):
        errors["without"] = [lang.gettext(N_("not together with a filter on the same column"))]
    if errors:
        raise FilterError(errors)
    return drilldown.Criteria(measure, band, score, questions, term, side, bucket, per, without)


def _score(raw, measure, questions, definition, errors, lang) -> int | None:
    """score=: a whole number on the measure's scale (a question's own range)."""
    if not raw:
        return None
    if measure in drilldown.SCALES:
        low, high = drilldown.SCALES[measure]
    elif measure == "question" and questions and "question" not in errors:
        question = definition.question(questions[0])
        low, high = question.min, question.max
    else:
        errors["score"] = [lang.gettext(N_("only for CSAT, NPS, CES or a rating question"))]
        return None
    if not SCORE.fullmatch(raw) or not low <= int(raw) <= high:
        errors["score"] = [
            lang.gettext(N_("must be a whole number from %(low)d to %(high)d"), low=low, high=high)
        ]
        return None
    return int(raw)


def _starts(day: date, per: str) -> bool:
    """Whether a day is the first of its week (Monday), month or day."""
    return {"week": day.weekday() == 0, "month": day.day == 1}.get(per, True)
