"""Rate limits that hold across worker processes and machines, keyed so that nothing names a person.

- ``storage_uri``: the Flask-Limiter storage for ``FEEDBACK_RATELIMIT_STORAGE``. The default,
  ``shm://``, is a small SQLite file in ``/dev/shm`` (RAM, never a disk) shared by every process of
  the site on this machine, named after the site's secret key so that two sites never share one;
  ``redis://`` shares the limits between machines. Without ``/dev/shm`` (not Linux) it falls
  back to each process's memory, with a warning.
- ``SharedMemoryStorage``: the `limits` storage behind ``shm://``. Each count is one atomic
  SQLite statement, so a limit of N admits N whatever the number of processes, and a killed
  worker loses nothing (its count is in the file; SQLite's locks die with it).
- ``client_key``: the key of a request's limits, an HMAC of the client's address with a random
  key that lives only in the limit storage (so every process and machine agrees on it) and is
  replaced every day. The bare address is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import random
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from limits.errors import ConfigurationError
from limits.storage import RedisStorage, Storage

log = logging.getLogger(__name__)

SHARED_MEMORY = "/dev/shm"
SECRET_NAME = "feedback-limits-key"
ROTATE_SECONDS = 24 * 3600  # a new HMAC key every day: counts start afresh then
REREAD_SECONDS = 60  # how long a process trusts the key it read before asking the storage again
IN_MEMORY = ("tmpfs", "ramfs")


def namespace(secret_key: str) -> str:
    """A site's limits namespace: the same for all its processes and machines (which share the
    secret key), another for any other site; the key itself cannot be read back from it."""
    return hashlib.sha256(b"feedback-limits\0" + secret_key.encode()).hexdigest()[:16]


def storage_uri(setting: str, secret_key: str) -> str:
    """The storage URI for Flask-Limiter: ``shm://`` becomes this site's file in /dev/shm."""
    if setting != "shm://":
        return setting
    folder = SHARED_MEMORY
    if not (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
        log.warning(
            "feedback: no shared memory (%s) on this machine: each worker process counts "
            "rate limits on its own, so a limit of N admits up to N per process. Set "
            "FEEDBACK_RATELIMIT_STORAGE=redis://host:6379/0 to share them.",
            folder,
        )
        return "memory://"
    return f"shm://{folder}/feedback-limits-{namespace(secret_key)}.sqlite3"


def init_app(app) -> None:
    """Point Flask-Limiter at the storage the settings name (before ``limiter.init_app``)."""
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(
        app.config["RATELIMIT_STORAGE"], app.config["SECRET_KEY"]
    )
    app.config["RATELIMIT_NAMESPACE"] = namespace(app.config["SECRET_KEY"])
    # A storage that stops answering (Redis down) must not turn logins into errors: count in
    # each process's memory until it answers again (Flask-Limiter checks now and then).
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)


def hmac_of(address: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), address, hashlib.sha256).hexdigest()[:32]


def client_key() -> str:
    """Flask-Limiter's key for this request: ``<site namespace>/<HMAC of the address>``."""
    from flask import current_app, request

    from .extensions import limiter

    prefix = current_app.config["RATELIMIT_NAMESPACE"]
    secret = current_secret(limiter.storage, secret_name(prefix))
    return f"{prefix}/{hmac_of((request.remote_addr or '').encode(), secret)}"


def secret_name(prefix: str) -> str:
    return f"{SECRET_NAME}/{prefix}"


def current_secret(storage: Storage, name: str) -> str:
    """The HMAC key in force, read from the storage at most once a minute per process."""
    now = time.time()
    cached = getattr(storage, "_feedback_secret", None)
    if cached and cached[0] == name and now < cached[2]:
        return cached[1]
    try:
        value, until = shared_secret(storage, name, ROTATE_SECONDS)
    except Exception as exc:  # the storage is down: Flask-Limiter counts in memory meanwhile
        log.warning(
            "feedback: the rate-limit storage does not answer (%s): this process counts "
            "alone until it does",
            exc,
        )
        value, until = shared_secret(None, name, ROTATE_SECONDS)
    storage._feedback_secret = (name, value, min(until, now + REREAD_SECONDS))
    return value


def shared_secret(storage: Storage | None, name: str, ttl: int) -> tuple[str, float]:
    """The random key ``name`` held by ``storage`` and when it expires; made when there is none
    (of several processes asking at once, one makes it and all read the same)."""
    if isinstance(storage, SharedMemoryStorage):
        return storage.secret(name, ttl)
    if isinstance(storage, RedisStorage):
        client = storage.get_connection()
        key = f"{storage.key_prefix}:{name}"
        for _ in range(3):
            client.set(key, secrets.token_hex(32), nx=True, ex=ttl)
            value, left = client.get(key), client.pttl(key)
            if value is not None and left > 0:
                text = value.decode() if isinstance(value, bytes) else value
                return text, time.time() + left / 1000
        raise ConfigurationError("the Redis rate-limit storage keeps no key")
    # memory:// (or no storage answering): this process alone counts, so a key of its own is right
    if name not in _OWN_SECRETS or _OWN_SECRETS[name][1] <= time.time():
        _OWN_SECRETS[name] = (secrets.token_hex(32), time.time() + ttl)
    return _OWN_SECRETS[name]


_OWN_SECRETS: dict[str, tuple[str, float]] = {}


def on_tmpfs(path: str | Path) -> bool:
    """Whether ``path`` lies on a file system in memory (tmpfs), by /proc/mounts."""
    target = os.path.realpath(path)
    best, kind = "", ""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fields[2]
    return kind in IN_MEMORY


SCHEMA = """
CREATE TABLE IF NOT EXISTS counter (key TEXT PRIMARY KEY, value INTEGER NOT NULL,
                                    expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS secret (name TEXT PRIMARY KEY, value TEXT NOT NULL,
                                   expires REAL NOT NULL);
"""

INCR = """
INSERT INTO counter (key, value, expires) VALUES (?1, ?2, ?3 + ?4)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN counter.expires <= ?3 THEN excluded.value
                 ELSE counter.value + excluded.value END,
    expires = CASE WHEN counter.expires <= ?3 THEN excluded.expires ELSE counter.expires END
RETURNING value
"""


class SharedMemoryStorage(Storage):
    """A `limits` storage in a SQLite file shared by the processes of one machine:
    ``shm:///dev/shm/name.sqlite3``. Fixed-window counters (Flask-Limiter's default strategy)
    and the shared HMAC key; expired rows are swept now and then."""

    STORAGE_SCHEME = ["shm"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = urlparse(uri).path
        if not self.path or self.path.endswith("/"):
            raise ConfigurationError(f"{uri}: expected shm:///dev/shm/NAME.sqlite3")
        self._local = threading.local()
        if not on_tmpfs(self.path):
            log.warning(
                "feedback: the rate-limit file %s is not in memory (tmpfs): hashed "
                "addresses are written to that disk",
                self.path,
            )
        self._db()

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        """This thread's connection; a new one after a fork (a connection never crosses one)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))  # only this user reads it
            db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA busy_timeout = 30000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = OFF")  # in memory: there is no disk to wait for
            db.executescript(SCHEMA)
            local.db, local.pid = db, os.getpid()
        return local.db

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        db = self._db()
        [(value,)] = db.execute(INCR, (key, amount, now, expiry)).fetchall()  # one atomic write
        if random.random() < 0.01:
            db.execute("DELETE FROM counter WHERE expires <= ?", (now,))
        return value

    def get(self, key: str) -> int:
        row = (
            self._db()
            .execute("SELECT value FROM counter WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = (
            self._db()
            .execute(
                "SELECT expires FROM counter WHERE key = ? AND expires > ?", (key, time.time())
            )
            .fetchone()
        )
        return row[0] if row else time.time()

    def check(self) -> bool:
        try:
            self._db().execute("SELECT 1").fetchall()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._db().execute("DELETE FROM counter").rowcount

    def clear(self, key: str) -> None:
        self._db().execute("DELETE FROM counter WHERE key = ?", (key,))

    def keys(self) -> list[str]:
        return [
            key
            for (key,) in self._db().execute(
                "SELECT key FROM counter WHERE expires > ? ORDER BY key", (time.time(),)
            )
        ]

    def secret(self, name: str, ttl: int) -> tuple[str, float]:
        """The key ``name`` and when it expires; a new random one when it has expired."""
        db = self._db()
        now = time.time()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM secret WHERE name = ? AND expires <= ?", (name, now))
            db.execute(
                "INSERT OR IGNORE INTO secret (name, value, expires) VALUES (?, ?, ?)",
                (name, secrets.token_hex(32), now + ttl),
            )
            value, until = db.execute(
                "SELECT value, expires FROM secret WHERE name = ?", (name,)
            ).fetchone()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return value, until
