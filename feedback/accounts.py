"""Users, roles, teams and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import unicodedata

from peewee import fn
from werkzeug.security import check_password_hash, generate_password_hash

from .db import database, utcnow
from .input_checks import MAX_ID
from .models import ApiToken, Case, Team, TeamLead, User
from .vocabulary import ROLES

USERNAME = re.compile(r"^[a-zA-Z0-9_.-]{2,64}$")
MIN_PASSWORD = 8
PASSWORD_METHOD = "scrypt"  # werkzeug's default; the test suite swaps in a cheaper one
# A hash of a password nobody has: checked when the username is unknown, so that a wrong
# username takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A user or token that cannot be created as asked; says which field and why."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_new_user(username: str, password: str, role: str) -> None:
    if not USERNAME.match(username or ""):
        raise AccountError("username", "2 to 64 letters, digits, dots, hyphens or underscores")
    if User.select().where(User.username == username).exists():
        raise AccountError("username", "this username is taken")
    if len(password or "") < MIN_PASSWORD:
        raise AccountError("password", f"at least {MIN_PASSWORD} characters")
    if role not in ROLES:
        raise AccountError("role", f"one of {', '.join(ROLES)}")


# An agent code is what the helpdesk sends as a case's ``agent`` (cases.parse_case: a trimmed
# text of at most 100 characters), so a user's code can name exactly those cases.
AGENT_CODE_LENGTH = 100


def clean_agent_code(value: str | None) -> str | None:
    """An agent code as it is stored: trimmed, None when empty; AccountError (field
    ``agent_code``) when it is too long or holds a control character (no helpdesk name does)."""
    code = (value or "").strip()
    if not code:
        return None
    if len(code) > AGENT_CODE_LENGTH:
        raise AccountError("agent_code", f"at most {AGENT_CODE_LENGTH} characters")
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in code):
        raise AccountError("agent_code", "no control characters (tabs, line breaks)")
    return code


def agent_code_holder(code: str, other_than: int | None = None) -> User | None:
    """The user (but ``other_than``) who has this agent code, compared without regard to case
    as the unique index app_user_agent_code compares them."""
    query = User.select().where(fn.LOWER(User.agent_code) == fn.LOWER(code))
    if other_than is not None:
        query = query.where(User.id != other_than)
    return query.first()


def check_agent_code(value: str | None, other_than: int | None = None) -> str | None:
    """``clean_agent_code``, and AccountError when another user already has the code."""
    code = clean_agent_code(value)
    if code is not None:
        holder = agent_code_holder(code, other_than)
        if holder is not None:
            raise AccountError("agent_code", f"{holder.username} has this agent code")
    return code


def agent_code_in_cases(code: str) -> bool:
    """Whether any case names this agent, exactly as stored: a code that none does is likely
    written otherwise than the helpdesk writes it (one scan of the cases, for an admin's save)."""
    return Case.select(Case.id).where(Case.agent == code).exists()


def create_user(
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    team: Team | None = None,
    locale: str | None = None,
    email: str | None = None,
    agent_code: str | None = None,
) -> User:
    """A new user with a hashed password; raises AccountError for bad input."""
    check_new_user(username, password, role)
    agent_code = check_agent_code(agent_code)
    with database.atomic():
        return User.create(
            username=username,
            display_name=display_name or username,
            password_hash=generate_password_hash(password, PASSWORD_METHOD),
            role=role,
            team=team,
            active=True,
            locale=locale,
            email=email,
            agent_code=agent_code,
        )


def set_password(user: User, password: str) -> None:
    """A new password; every session and remember-me cookie of the user ends with the old one."""
    if len(password or "") < MIN_PASSWORD:
        raise AccountError("password", f"at least {MIN_PASSWORD} characters")
    password_hash = generate_password_hash(password, PASSWORD_METHOD)
    with database.atomic():
        User.update(password_hash=password_hash).where(User.id == user.id).execute()
        user.__data__["password_hash"] = password_hash
        end_sessions(user)


def set_active(user: User, active: bool) -> None:
    """Mark a user active or not (saved with the user); deactivating ends their sessions, so
    that reactivating them later does not bring an old cookie back to life."""
    if user.active and not active:
        end_sessions(user)
    user.active = active


# --- sessions -----------------------------------------------------------------------------------
# A login stores a *session key* as Flask-Login's user id: in the session cookie and, signed, in
# the remember-me cookie. It names the user, their session version at login, when the login
# was made and a random part (so every login's remember-me cookie differs). Raising the version
# ends every key made before; a key older than the site's REMEMBER_DAYS is refused too.

_SESSION_KEY = re.compile(r"^(\d{1,10}):(\d{1,10}):(\d{1,12}):[A-Za-z0-9_-]{16}$")
_CLOCK_SKEW = 300  # seconds a key's time may lie ahead of this process's clock (other machines)


def clock() -> float:
    """Seconds since the epoch (a function of its own, so tests can move time on)."""
    return time.time()


def session_key(user: User) -> str:
    """A new session key for a login of ``user`` now."""
    return f"{user.id}:{user.session_version}:{int(clock())}:{secrets.token_urlsafe(12)}"


def parse_session_key(key: str | None) -> tuple[int, int, int] | None:
    """(user id, session version, login time) of a well-formed key, else None."""
    match = _SESSION_KEY.match(key or "")
    if match is None:
        return None
    user_id, version, issued = (int(part) for part in match.groups())
    if not (0 < user_id <= MAX_ID and 0 < version <= MAX_ID):
        return None
    return user_id, version, issued


def key_is_current(issued: int, now: float, max_age_seconds: int) -> bool:
    return now - max_age_seconds <= issued <= now + _CLOCK_SKEW


def user_for_session(key: str | None, max_age_seconds: int) -> User | None:
    """The active user a session key still stands for, else None (ended, too old, forged)."""
    parsed = parse_session_key(key)
    if parsed is None:
        return None
    user_id, version, issued = parsed
    if not key_is_current(issued, clock(), max_age_seconds):
        return None
    user = User.get_or_none((User.id == user_id) & (User.active == True))  # noqa: E712
    if user is None or user.session_version != version:
        return None
    return user


def end_sessions(user: User) -> None:
    """End every session and remember-me cookie of ``user`` (an atomic increment, so that two
    endings at once both count and no save of an older copy of the user can undo one)."""
    User.update(session_version=User.session_version + 1).where(User.id == user.id).execute()
    version = User.select(User.session_version).where(User.id == user.id).scalar()
    user.__data__["session_version"] = version  # not marked dirty: a later save leaves it


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, else None (in the same time)."""
    user = User.get_or_none(User.username == username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def set_team_leads(team: Team, users: list[User]) -> None:
    with database.atomic():
        TeamLead.delete().where(TeamLead.team == team).execute()
        for user in users:
            TeamLead.create(team=team, user=user)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str) -> str:
    """Store a new API token's hash and return the token itself (shown once, never again)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise AccountError("name", "1 to 100 characters")
    token = "fbk_" + secrets.token_urlsafe(32)
    with database.atomic():
        ApiToken.create(name=name, token_hash=_hash_token(token))
    return token


def token_from_header(header: str | None) -> ApiToken | None:
    """The live API token named by an ``Authorization: Bearer ...`` header, else None."""
    if not header or not header.startswith("Bearer "):
        return None
    token = ApiToken.get_or_none(ApiToken.token_hash == _hash_token(header[7:].strip()))
    if token is None or token.revoked_at is not None:
        return None
    return token


def revoke_token(token_id: int) -> bool:
    return bool(
        ApiToken.update(revoked_at=utcnow())
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_null())
        .execute()
    )
