"""Which teams' objects a user may see: the rules that docs/access.md tabulates, in one place.

Plain functions of a user, no Flask and no queries beyond the user's own team leads. A tuple of
team ids limits what the user sees (an empty tuple: nothing); None means every team. An object
outside the user's teams is answered exactly as one that does not exist (404), so ids reveal
nothing; see docs/access.md.
"""

from __future__ import annotations

# Ids are SERIAL (int4) columns on PostgreSQL: a larger number names no row. (SQLite cannot even
# be asked about one beyond 64 bits: its driver raises OverflowError, which was a 500.)
from .input_checks import MAX_ID
from .models import User
from .vocabulary import ALL_TEAM_ROLES

# Roles that see every team's reports, follow-ups, suggestions, actions and call-backs.


def valid_id(value: int | None) -> bool:
    """Whether ``value`` can be the id of a row at all."""
    return value is not None and 0 < value <= MAX_ID


def report_team_ids(user: User) -> tuple[int, ...] | None:
    """The teams whose follow-ups, suggestions and actions a user works on: every team for
    managers and admins, the teams a lead leads, none for anyone else."""
    if user.role in ALL_TEAM_ROLES:
        return None
    if user.role == "lead":
        return tuple(user.led_team_ids())
    return ()


def callback_team_ids(user: User) -> tuple[int, ...] | None:
    """The teams whose cases (and their customers' contact details) a user may call back:
    every team for managers, admins and a call-back desk granted all teams; a lead the teams
    they lead and their own; a staff member their own team."""
    if user.role in ALL_TEAM_ROLES or user.callbacks_all_teams:
        return None
    teams = set(user.led_team_ids()) if user.role == "lead" else set()
    if user.team_id is not None:
        teams.add(user.team_id)
    return tuple(sorted(teams))


def may_see(team_ids: tuple[int, ...] | None, team_id: int | None) -> bool:
    """Whether an object of ``team_id`` (None: no team) is within ``team_ids``."""
    return team_ids is None or (team_id is not None and team_id in team_ids)
