"""Digest subscriptions under /manage/digests: one's own list, adding one, removing one.

Managers and admins may subscribe to any team's slice, a team lead to the teams they lead (or
all of them: no team chosen); staff get 403. The dashboard links here with its filters in the
query string, which fill the form in. Every change is a POST with the CSRF token; removing
another person's subscription is a 404, like one that does not exist. Works without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import RadioField

from .. import audit, digests
from ..i18n import current_locale, language
from ..models import Survey, Team
from ..vocabulary import CHANNELS, DIGEST_FREQUENCIES, REPORT_ROLES
from .action_forms import ChoiceField, SliceForm, survey_choices
from .common import allowed_team_ids, roles_required
from .forms_common import choices

bp = Blueprint("digests", __name__, url_prefix="/manage/digests")


class DigestForm(SliceForm):
    survey = ChoiceField(_l("Survey"))
    frequency = RadioField(_l("How often"), default="weekly")

    def __init__(self, *args, allowed_teams: tuple[int, ...] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey.choices = choices(survey_choices())
        self.frequency.choices = choices(
            (f, _(digests.FREQUENCY_NAMES[f])) for f in DIGEST_FREQUENCIES
        )
        # a lead may leave the team out: the digest then covers every team they lead
        self.set_slice_choices(allowed_teams, None, keep_all_teams=True)

    def choice(self) -> digests.Choice:
        chosen = self.slice_fields()
        return digests.Choice(
            survey_id=int(self.survey.data),
            frequency=self.frequency.data,
            channel=chosen["channel"],
            team_id=chosen["team"],
            agent=chosen["agent"],
            category=chosen["category"],
        )


def _from_dashboard(args) -> dict:
    """The form's values from the dashboard's filters in the query string (names to ids)."""
    data = {}
    survey = Survey.get_or_none(Survey.slug == (args.get("survey") or ""))
    if survey is not None:
        data["survey"] = str(survey.id)
    team = Team.get_or_none(Team.name == (args.get("team") or ""))
    if team is not None:
        data["team"] = str(team.id)
    if args.get("channel") in CHANNELS:
        data["channel"] = args["channel"]
    for name in ("agent", "category"):
        if args.get(name):
            data[name] = args[name][:100]
    return data


def _page(form: DigestForm, status: int = 200):
    lang = language(current_locale())
    rows = [
        (
            subscription,
            digests.describe(subscription, lang),
        )
        for subscription in digests.subscriptions_of(current_user)
    ]
    return render_template(
        "manage/digests.html",
        form=form,
        rows=rows,
        frequency_names=digests.FREQUENCY_NAMES,
        has_email=bool(current_user.email),
    ), status


@bp.route("/", methods=["GET", "POST"])
@roles_required(*REPORT_ROLES)
def index():
    teams = allowed_team_ids()
    if request.method == "GET":
        return _page(DigestForm(data=_from_dashboard(request.args), allowed_teams=teams))
    form = DigestForm(allowed_teams=teams)
    if not form.validate():
        return _page(form, 422)
    try:
        made = digests.subscribe(current_user, form.choice())
    except digests.SubscriptionError as exc:
        field = getattr(form, exc.field) if exc.field else form.survey
        field.errors = [*field.errors, _(str(exc))]
        return _page(form, 422)
    audit.record(
        "digest.subscribe",
        f"digest {made.id}",
        survey=made.survey_id,
        frequency=made.frequency,
        channel=made.channel,
        team=made.team_id,
        agent=made.agent,
        category=made.category,
    )
    flash(_("Subscribed: the digest comes after each period ends."))
    return redirect(url_for(".index"), 303)


@bp.route("/remove", methods=["POST"])
@roles_required(*REPORT_ROLES)
def remove():
    number = request.form.get("subscription", "")
    plain = number.isascii() and number.isdigit()  # "²" is a digit to str.isdigit, not to int
    removed = digests.unsubscribe(current_user, int(number)) if plain else None
    if removed is None:
        abort(404)
    audit.record("digest.unsubscribe", f"digest {removed.id}")
    flash(_("The digest is stopped."))
    return redirect(url_for(".index"), 303)
