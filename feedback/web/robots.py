"""Admin pages of the teams' chat robots: add, change, remove, send a test message, and see
what each was sent and what failed. For the ``admin`` role only; every change is audited."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import audit, robots
from ..db import database
from ..models import Outbox, Robot, Team
from .common import roles_required
from .robot_forms import DeleteRobotForm, RobotForm, TestRobotForm

bp = Blueprint("admin_robots", __name__, url_prefix="/admin/robots")

RECENT = 10  # rows of each robot's outbox shown


def _robot_or_404(robot_id: int) -> Robot:
    robot = Robot.get_or_none(Robot.id == robot_id)
    if robot is None:
        abort(404)
    return robot


def _state(robot: Robot) -> dict:
    """What an audit entry of a change compares (never the secret, only whether there is one)."""
    return {
        "team": robot.team.name,
        "platform": robot.platform,
        "name": robot.name,
        "url": robot.url,
        "signed": bool(robot.secret),
        "active": robot.active,
    }


@bp.route("/")
@roles_required("admin")
def index():
    """Every team's robots, each with its last messages: sent, waiting, failed."""
    listed = list(Robot.select(Robot, Team).join(Team).order_by(Team.name, Robot.name, Robot.id))
    recent: dict[str, list[Outbox]] = {}
    if listed:
        ids = [str(r.id) for r in listed]
        for row in (
            Outbox.select()
            .where(Outbox.kind == robots.KIND, Outbox.target.in_(ids))
            .order_by(Outbox.id.desc())
            .limit(RECENT * len(ids))
        ):
            if len(recent.setdefault(row.target, [])) < RECENT:
                recent[row.target].append(row)
    return render_template(
        "admin/robots.html",
        robots=listed,
        recent=recent,
        labels=robots.PLATFORM_LABELS,
        test_form=TestRobotForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def new():
    return _robot_page(None)


@bp.route("/<int:robot_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(robot_id: int):
    return _robot_page(_robot_or_404(robot_id))


def _robot_page(robot: Robot | None):
    team = request.args.get("team", "")
    form = RobotForm(robot=robot, data={"team": team} if robot is None and team else None)
    if form.validate_on_submit():
        before = None if robot is None else _state(robot)
        saved = robot or Robot()
        saved.team = int(form.team.data)
        saved.platform = form.platform.data
        saved.name = form.name.data
        saved.url = form.url.data
        if form.forget_secret.data:
            saved.secret = None
        elif form.secret.data:
            saved.secret = form.secret.data
        saved.active = bool(form.active.data)
        with database.atomic():
            saved.save()
            if before is None:
                audit.record("robot.create", f"robot {saved.id}", **_state(saved))
            else:
                after = _state(saved)
                changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
                audit.record("robot.change", f"robot {saved.id}", changes=changes)
        flash(_("Robot %(name)s was saved.", name=saved.name))
        return redirect(url_for("admin_robots.index"))
    page = render_template(
        "admin/robot_form.html",
        form=form,
        robot=robot,
        delete_form=DeleteRobotForm() if robot else None,
    )
    return page, 422 if form.errors else 200


@bp.route("/<int:robot_id>/delete", methods=["POST"])
@roles_required("admin")
def delete(robot_id: int):
    """Remove a robot and its rows still waiting (confirmed with a tick)."""
    robot = _robot_or_404(robot_id)
    form = DeleteRobotForm()
    if not form.validate_on_submit():
        page = render_template(
            "admin/robot_form.html", form=RobotForm(robot=robot), robot=robot, delete_form=form
        )
        return page, 422
    with database.atomic():
        audit.record("robot.delete", f"robot {robot.id}", **_state(robot))
        Outbox.delete().where(
            Outbox.kind == robots.KIND,
            Outbox.target == str(robot.id),
            Outbox.delivered_at.is_null(),
        ).execute()
        robot.delete_instance()
    flash(_("Robot %(name)s was removed.", name=robot.name))
    return redirect(url_for("admin_robots.index"))


@bp.route("/<int:robot_id>/test", methods=["POST"])
@roles_required("admin")
def test(robot_id: int):
    """Put a test message into the outbox; the list shows when it was sent or why not."""
    robot = _robot_or_404(robot_id)
    if TestRobotForm().validate_on_submit():
        with database.atomic():
            robots.send_test(robot, current_app.config)
            audit.record("robot.test", f"robot {robot.id}", name=robot.name)
        flash(
            _(
                "A test message for %(name)s is in the outbox; this page shows when it was sent.",
                name=robot.name,
            )
        )
    return redirect(url_for("admin_robots.index"))
