"""Rate limits that hold: behind a proxy, across gunicorn's workers and across machines, keyed on
an HMAC of the address with a key that nothing writes down.

The tests at the top use the Flask test client; those below start real gunicorn servers (four
workers, a free port) on the test's SQLite file or PostgreSQL database. The Redis tests use the
server at FEEDBACK_TEST_REDIS_URL (default redis://127.0.0.1:6379/0) and skip without one, or
fail with FEEDBACK_REQUIRE_REDIS=1 (as .ci/run sets).
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import csrf_from, post_form

from feedback import ratelimits, settings

REDIS_URL = os.environ.get("FEEDBACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("FEEDBACK_REQUIRE_REDIS") == "1"

WORKERS = 4
LOGIN = {"username": "nobody", "password": "wrong-password"}
SUGGESTION = {
    "category": "1",
    "title": "排队太久",
    "body": "电话等了二十分钟才接通。",
    "identity": "anonymous",
}


@pytest.fixture
def shm_storage():
    """A shared-memory limit storage of the test's own, removed afterwards."""
    path = Path(ratelimits.SHARED_MEMORY) / f"feedback-test-{uuid.uuid4().hex}.sqlite3"
    yield f"shm://{path}"
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()


def wrong_login(client, **headers):
    page = client.get("/login")
    return client.post(
        "/login", data={**LOGIN, "csrf_token": csrf_from(page.get_data(True))}, headers=headers
    )


# --- behind a proxy ---------------------------------------------------------------------------


def test_without_trusted_proxies_forwarded_headers_change_nothing(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per hour")
    assert app.config["TRUSTED_PROXIES"] == 0
    client = app.test_client()
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    assert wrong_login(client, **{"X-Forwarded-For": "203.0.113.1"}, **forged).status_code == 200
    assert wrong_login(client, **{"X-Forwarded-For": "203.0.113.2"}).status_code == 200
    # a new forged address each time buys no new quota: the connecting address counts
    assert wrong_login(client, **{"X-Forwarded-For": "203.0.113.3"}).status_code == 429
    fresh = app.test_client()  # a new session, so the page sets its cookie
    page = fresh.get("/suggest/", headers=forged)
    assert "Secure" not in page.headers["Set-Cookie"]
    reply = fresh.post(
        "/suggest/",
        headers=forged,
        data={**SUGGESTION, "csrf_token": csrf_from(page.get_data(True))},
    )
    assert reply.status_code == 200
    assert "http://localhost/suggest/track/" in reply.get_data(True)
    assert "evil.example" not in reply.get_data(True)


def test_with_one_trusted_proxy_address_scheme_and_host_come_from_its_headers(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per hour", TRUSTED_PROXIES=1)
    first, second = app.test_client(), app.test_client()
    for _ in range(2):
        assert wrong_login(first, **{"X-Forwarded-For": "203.0.113.1"}).status_code == 200
    assert wrong_login(first, **{"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    # another client behind the same proxy keeps its own quota ...
    assert wrong_login(second, **{"X-Forwarded-For": "203.0.113.2"}).status_code == 200
    # ... and a forged header does not get the first one out: the proxy's own entry counts
    assert wrong_login(first, **{"X-Forwarded-For": "203.0.113.2, 203.0.113.1"}).status_code == 429
    via_https = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "feedback.example",
    }
    fresh = app.test_client()
    page = fresh.get("/suggest/", headers=via_https)
    assert "Secure" in page.headers["Set-Cookie"]
    reply = fresh.post(
        "/suggest/",
        headers={**via_https, "Referer": "https://feedback.example/suggest/"},
        data={**SUGGESTION, "csrf_token": csrf_from(page.get_data(True))},
    )
    assert reply.status_code == 200, reply.get_data(True)[:1000]
    assert "https://feedback.example/suggest/track/" in reply.get_data(True)


def test_trusted_proxies_must_be_a_whole_number():
    for bad in ("-1", "one", "1.5"):
        with pytest.raises(settings.SettingError, match="FEEDBACK_TRUSTED_PROXIES"):
            settings.from_environment({"FEEDBACK_TRUSTED_PROXIES": bad})
    assert settings.from_environment({"FEEDBACK_TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2


# --- the storage and its keys -----------------------------------------------------------------


def test_the_default_storage_is_a_file_in_shared_memory_named_for_the_site():
    assert settings.from_environment({})["RATELIMIT_STORAGE"] == "shm://"
    one = ratelimits.storage_uri("shm://", "secret one")
    assert one.startswith(f"shm://{ratelimits.SHARED_MEMORY}/feedback-limits-")
    assert one == ratelimits.storage_uri("shm://", "secret one")  # every worker agrees
    assert one != ratelimits.storage_uri("shm://", "secret two")  # another site does not
    assert "secret" not in one
    assert ratelimits.storage_uri("redis://127.0.0.1:6379/0", "x") == "redis://127.0.0.1:6379/0"


def test_without_shared_memory_limits_fall_back_to_each_process_with_a_warning(
    monkeypatch, caplog, tmp_path
):
    monkeypatch.setattr(ratelimits, "SHARED_MEMORY", str(tmp_path / "no-such-folder"))
    with caplog.at_level(logging.WARNING):
        assert ratelimits.storage_uri("shm://", "secret") == "memory://"
    assert "no shared memory" in caplog.text and "FEEDBACK_RATELIMIT_STORAGE" in caplog.text


def test_a_storage_that_cannot_keep_the_key_is_refused_by_name():
    for bad in ("memcached://127.0.0.1:11211", "mongodb://x", "nonsense", "file:///tmp/x"):
        with pytest.raises(settings.SettingError, match="FEEDBACK_RATELIMIT_STORAGE"):
            settings.from_environment({"FEEDBACK_RATELIMIT_STORAGE": bad})


def test_limit_keys_are_an_hmac_of_the_address_and_nothing_names_it(make_app, shm_storage):
    address = "198.51.100.77"
    apps = [
        make_app(
            RATELIMIT_ENABLED=True,
            TRUSTED_PROXIES=1,
            RATELIMIT_STORAGE=shm_storage,
            SUGGESTION_RATE_LIMIT="3 per hour",
        )
        for _ in range(2)
    ]
    # two apps on one storage, as two worker processes: they count together
    for number in range(3):
        client = apps[number % 2].test_client()
        reply = post_form(client, "/suggest/", SUGGESTION, headers={"X-Forwarded-For": address})
        assert reply.status_code == 200
    assert (
        post_form(
            apps[1].test_client(), "/suggest/", SUGGESTION, headers={"X-Forwarded-For": address}
        ).status_code
        == 429
    )
    path = Path(shm_storage.removeprefix("shm://"))
    held = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    for written in (address, address.replace(".", ""), "198.51.100"):
        assert written.encode() not in held
    storage = ratelimits.SharedMemoryStorage(shm_storage)
    keys = storage.keys()
    assert keys and all(re.search(r"/[0-9a-f]{32}/", key) for key in keys), keys
    name = ratelimits.secret_name(apps[0].config["RATELIMIT_NAMESPACE"])
    secret = storage.secret(name, ratelimits.ROTATE_SECONDS)[0]
    with apps[0].test_request_context(environ_base={"REMOTE_ADDR": address}):
        assert ratelimits.hmac_of(address.encode(), secret) in "".join(keys)
    assert ratelimits.on_tmpfs(path)  # RAM only: never on a disk


def test_the_key_is_shared_by_processes_and_rotated(shm_storage, monkeypatch):
    one, two = (ratelimits.SharedMemoryStorage(shm_storage) for _ in range(2))
    secret, until = one.secret("hmac", 60)
    assert len(secret) >= 32 and two.secret("hmac", 60) == (secret, until)
    now = time.time()
    monkeypatch.setattr(ratelimits.time, "time", lambda: now + 61)
    rotated, _ = two.secret("hmac", 60)
    assert rotated != secret and one.secret("hmac", 60)[0] == rotated


def test_the_shared_memory_storage_counts_and_expires(shm_storage, monkeypatch):
    storage = ratelimits.SharedMemoryStorage(shm_storage)
    assert storage.check()
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3 and storage.get("other") == 0
    assert time.time() < storage.get_expiry("k") <= time.time() + 60
    now = time.time()
    monkeypatch.setattr(ratelimits.time, "time", lambda: now + 61)
    assert storage.get("k") == 0 and storage.incr("k", 60) == 1
    storage.clear("k")
    assert storage.get("k") == 0
    storage.incr("k", 60)
    storage.reset()
    assert storage.keys() == []


def test_a_storage_that_does_not_answer_falls_back_to_memory_not_to_errors(make_app):
    app = make_app(
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT="2 per hour",
        RATELIMIT_STORAGE="redis://127.0.0.1:1/0",
    )  # nothing listens on port 1
    client = app.test_client()
    assert [wrong_login(client).status_code for _ in range(3)] == [200, 200, 429]


# --- real gunicorn ----------------------------------------------------------------------------


class Gunicorn:
    """`gunicorn 'feedback:create_app()'` with four workers on a free port, as in the README."""

    def __init__(self, database_url: str, log: Path, **environ: str):
        self.log = log
        env = {
            key: value
            for key, value in os.environ.items()  # the settings given, no other
            if not key.startswith("FEEDBACK_") or key.startswith("FEEDBACK_REQUIRE")
        }
        env.update(FEEDBACK_DATABASE_URL=database_url, **environ)
        self.handle = log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(WORKERS),
                "--bind",
                "127.0.0.1:0",
                "--timeout",
                "60",
                "feedback:create_app()",
            ],
            cwd=settings.PROJECT_ROOT,
            env=env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
        )
        self.port = self._wait_for(r"Listening at: http://127\.0\.0\.1:(\d+)", int)
        self._wait_until_workers(WORKERS)
        deadline = time.time() + 60
        while get(self.port, "/login")[0] != 200:
            assert time.time() < deadline, self.log.read_text()
            time.sleep(0.2)

    def _wait_for(self, pattern: str, convert):
        deadline = time.time() + 60
        while time.time() < deadline:
            match = re.search(pattern, self.log.read_text())
            if match:
                return convert(match.group(1))
            assert self.process.poll() is None, self.log.read_text()
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not say {pattern!r}:\n{self.log.read_text()}")

    def worker_pids(self) -> list[int]:
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split()
        return [int(pid) for pid in children]

    def _wait_until_workers(self, count: int, besides: tuple[int, ...] = ()):
        deadline = time.time() + 60
        while len([p for p in self.worker_pids() if p not in besides]) < count:
            assert time.time() < deadline, self.log.read_text()
            time.sleep(0.1)

    def kill_workers(self):
        """SIGKILL every worker at once, then wait until gunicorn has booted four new ones."""
        old = tuple(self.worker_pids())
        for pid in old:
            os.kill(pid, signal.SIGKILL)
        self._wait_until_workers(WORKERS, besides=old)

    def stop(self):
        self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.handle.close()


def request(
    port: int, method: str, path: str, body: str | None = None, headers: dict | None = None
) -> tuple[int, dict, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        reply = connection.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read().decode()
    finally:
        connection.close()


def get(port: int, path: str, headers: dict | None = None):
    try:
        return request(port, "GET", path, headers=headers)
    except OSError:
        return 0, {}, ""


class Form:
    """A browser's session with a form page: its cookie and CSRF token, then many posts."""

    def __init__(self, port: int, path: str, **headers: str):
        status, reply_headers, html = request(port, "GET", path, headers=headers)
        assert status == 200, html[:500]
        self.path, self.headers = path, headers
        self.cookie = reply_headers["Set-Cookie"].split(";")[0]
        self.token = csrf_from(html)

    def post(self, port: int, fields: dict, **headers: str) -> int:
        from urllib.parse import urlencode

        body = urlencode({**fields, "csrf_token": self.token})
        return request(
            port,
            "POST",
            self.path,
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": self.cookie,
                **self.headers,
                **headers,
            },
        )[0]


def burst(calls, threads: int = 8) -> list[int]:
    """Run the calls from several threads at once; their statuses in order."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda call: call(), calls))


@pytest.fixture
def served_database(make_app, database_url):
    """The test's database, set up as `flask --app feedback init-db` leaves it, for gunicorn."""
    make_app()
    return database_url


@pytest.fixture
def gunicorn(served_database, tmp_path):
    """Start gunicorn servers on the test's database: each one ``start(**FEEDBACK_settings)``."""
    servers = []
    secret = f"limits-test-{uuid.uuid4().hex}"  # its own limits namespace, its own shm file

    def start(**environ):
        server = Gunicorn(
            served_database,
            tmp_path / f"gunicorn-{len(servers)}.log",
            FEEDBACK_SECRET_KEY=secret,
            **{f"FEEDBACK_{k}": str(v) for k, v in environ.items()},
        )
        servers.append(server)
        return server

    start.secret = secret
    yield start
    for server in servers:
        server.stop()
    path = ratelimits.storage_uri("shm://", secret).removeprefix("shm://")
    for leftover in Path(path).parent.glob(Path(path).name + "*"):
        leftover.unlink()


@pytest.fixture
def redis_url():
    """The test Redis server's address, or a skip (a failure with FEEDBACK_REQUIRE_REDIS=1)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        reason = (
            f"Redis not reachable at {REDIS_URL} ({exc}); set FEEDBACK_TEST_REDIS_URL "
            "to run these tests"
        )
        if REQUIRE_REDIS:
            pytest.fail(reason)
        pytest.skip(reason)
    return REDIS_URL


def admitted(statuses: list[int], refused: int = 429) -> int:
    assert set(statuses) <= {200, refused}, statuses
    return sum(status != refused for status in statuses)


def test_logins_suggestions_and_tracking_codes_are_limited_across_four_workers(gunicorn):
    server = gunicorn()  # the default storage, nothing set
    form = Form(server.port, "/login")
    statuses = burst([lambda: form.post(server.port, LOGIN)] * 100)
    print(
        f"\nwrong logins admitted of 100 from one address, {WORKERS} workers: {admitted(statuses)}"
    )
    assert 10 <= admitted(statuses) <= 10 + WORKERS
    form = Form(server.port, "/suggest/")  # the default: 5 per minute
    statuses = burst([lambda: form.post(server.port, SUGGESTION)] * 30)
    print(f"suggestions admitted of 30 (limit 5 per minute): {admitted(statuses)}")
    assert 5 <= admitted(statuses) <= 5 + WORKERS
    wrong = [
        lambda n=n: get(server.port, f"/suggest/track/2222-3333-{4000 + n}")[0] for n in range(80)
    ]
    statuses = burst(wrong)  # the default: 20 per hour
    assert set(statuses) <= {404, 429}, statuses
    print(f"wrong tracking codes answered of 80 (limit 20 per hour): {statuses.count(404)}")
    assert 20 <= statuses.count(404) <= 20 + WORKERS


def test_behind_a_proxy_clients_have_their_own_quota_and_killed_workers_lose_none(gunicorn):
    server = gunicorn(TRUSTED_PROXIES=1)
    attacker = Form(server.port, "/login", **{"X-Forwarded-For": "203.0.113.66"})
    statuses = burst([lambda: attacker.post(server.port, LOGIN)] * 60)
    print(f"\nwrong logins admitted of 60 from one client behind a proxy: {admitted(statuses)}")
    assert 10 <= admitted(statuses) <= 10 + WORKERS
    # forging the header does not get the attacker out: nginx appends the real address last
    assert (
        attacker.post(server.port, LOGIN, **{"X-Forwarded-For": "203.0.113.7, 203.0.113.66"}) == 429
    )
    # a colleague behind the same proxy is not locked out
    colleague = Form(server.port, "/login", **{"X-Forwarded-For": "203.0.113.7"})
    first = [colleague.post(server.port, LOGIN) for _ in range(8)]
    assert first == [200] * 8
    # every worker SIGKILLed: the colleague's count of 8 lives on in the new ones
    server.kill_workers()
    statuses = burst([lambda: colleague.post(server.port, LOGIN)] * 50)
    print(f"wrong logins admitted after SIGKILLing every worker: 8 + {admitted(statuses)}")
    assert admitted(first + statuses) <= 10 + WORKERS


def test_two_instances_sharing_redis_hold_one_limit(gunicorn, redis_url):
    servers = [gunicorn(RATELIMIT_STORAGE=redis_url) for _ in range(2)]
    form = Form(servers[0].port, "/login")
    calls = [lambda port=servers[i % 2].port: form.post(port, LOGIN) for i in range(100)]
    statuses = burst(calls)
    print(f"\nwrong logins admitted of 100 across two instances on Redis: {admitted(statuses)}")
    assert 10 <= admitted(statuses) <= 10 + 2 * WORKERS
    import redis

    client = redis.Redis.from_url(redis_url)
    held = list(client.scan_iter(f"*{ratelimits.namespace(gunicorn.secret)}*"))
    assert held and not any(b"127.0.0.1" in key for key in held)  # an HMAC, not the address
    client.delete(*held)
