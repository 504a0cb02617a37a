"""`python3 dev.py serve`: the real gunicorn it runs never hangs on idle connections; its address
options and a busy port."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_dev():
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = load_dev()


def server_env(tmp_path) -> dict:
    return {
        **os.environ,
        "FEEDBACK_DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3",
        "FEEDBACK_SECRET_KEY": "serve-test",
        "FEEDBACK_OUTBOX_THREAD": "false",
        "FEEDBACK_EXPORTS_DIR": str(tmp_path / "exports"),
    }


def get(url: str, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        reply.read()
        return reply.status, time.monotonic() - started


def requests_behind_idle_connections(
    idle: list, port: int, base: str, how_many: int, timeout: float
) -> list[float]:
    """Open ``how_many`` more idle connections, then time 6 requests on new connections."""
    for _ in range(how_many):
        idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    time.sleep(0.5)  # let the workers accept them
    took = []
    for _ in range(6):
        try:
            status, seconds = get(base + "login", timeout=timeout)
        except OSError as exc:  # a hang: the request waits for a worker that never frees
            pytest.fail(f"a request waited behind {len(idle)} idle connections: {exc}")
        assert status == 200
        took.append(seconds)
    return took


def test_idle_connections_never_keep_a_request_waiting(tmp_path):
    env = server_env(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "feedback", "init-db"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    listener = dev.open_listener("127.0.0.1", 0)
    base = dev.url_of(listener)
    port = listener.getsockname()[1]
    listener.listen(128)
    command = dev.gunicorn_command(listener.fileno())
    assert command[0] == str(dev.BIN / "gunicorn")
    command[0] = str(Path(sys.executable).parent / "gunicorn")  # the venv this test runs in
    log_path = tmp_path / "gunicorn.log"
    idle: list[socket.socket] = []
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, pass_fds=(listener.fileno(),)
        )
    listener.close()
    try:
        deadline = time.monotonic() + 60
        while True:  # both workers up: the login page answers
            try:
                assert get(base + "login", timeout=5)[0] == 200
                break
            except OSError:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
        for _ in range(3):  # warm every worker
            get(base + "login", timeout=30)
        # As Chromium does: spare connections opened and never used, more than the workers.
        took = requests_behind_idle_connections(idle, port, base, 6, timeout=15)
        assert max(took) < 10, took  # a hang is 30 s or more (the browser gives up)
        # Far more than a browser opens: more than all the threads. Gunicorn's gthread worker
        # gives an idle new connection 5 s before parking it in its poller, so a request may wait
        # a few seconds, but never indefinitely.
        took = requests_behind_idle_connections(
            idle, port, base, dev.WORKERS * dev.THREADS + 4, timeout=25
        )
        assert max(took) < 20, took
    finally:
        for connection in idle:
            connection.close()
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def test_a_busy_port_gets_a_clear_message_and_no_traceback(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, str(ROOT / "dev.py"), "serve", "--port", str(port)],
            cwd=ROOT,
            env=server_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        took = time.monotonic() - started
    assert done.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "--port" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "==>" not in done.stdout, "it set things up before noticing the port"
    assert took < 20
    assert not (tmp_path / "serve.sqlite3").exists()


def test_a_busy_port_given_with_bind_is_named_too(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, str(ROOT / "dev.py"), "serve", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=server_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0 and f"port {port} on 127.0.0.1" in done.stderr
    assert "5000" not in done.stderr + done.stdout and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args,expected",
    [
        ([], ("127.0.0.1", 5000, [])),
        (["--port", "5050"], ("127.0.0.1", 5050, [])),
        (["--port=5050"], ("127.0.0.1", 5050, [])),
        (["--bind", "0.0.0.0:8080"], ("0.0.0.0", 8080, [])),
        (["--bind=0.0.0.0"], ("0.0.0.0", 5000, [])),
        (["-b", "[::1]:8081", "--log-level", "debug"], ("::1", 8081, ["--log-level", "debug"])),
        (["--bind", "0.0.0.0:8080", "--port", "9000"], ("0.0.0.0", 9000, [])),
    ],
)
def test_serve_arguments(args, expected):
    assert dev.parse_serve_args(args) == expected


@pytest.mark.parametrize(
    "args,message",
    [
        (["--port", "http"], "'http' is not a port number"),
        (["--port", "70000"], "'70000' is not a port number"),
        (["--bind"], "--bind needs a value"),
        (["--bind", ":8080"], "no host"),
    ],
)
def test_bad_serve_arguments_are_named(args, message):
    with pytest.raises(dev.ServeError, match=message):
        dev.parse_serve_args(args)


def test_the_announced_address_is_the_one_bound():
    listener = dev.open_listener("127.0.0.1", 0)
    try:
        port = listener.getsockname()[1]
        assert port != 0 and dev.url_of(listener) == f"http://127.0.0.1:{port}/"
        listener.listen(1)
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        listener.close()


def test_an_unknown_host_is_a_message():
    with pytest.raises(dev.ServeError, match="cannot serve on 'no-such-host.invalid'"):
        dev.open_listener("no-such-host.invalid", 5000)
