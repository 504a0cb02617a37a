#!/usr/bin/env python3
"""Set everything up and run the site or the tests; needs nothing but Python 3.11+.

    python3 dev.py serve   # virtual env, packages, database with demo data, site on :5000
    python3 dev.py test    # virtual env, packages, the whole test suite (extra args go to pytest)
    python3 dev.py lint    # virtual env, packages, ruff check and ruff format --check (as CI)

    python3 dev.py serve --port 5050            # another port
    python3 dev.py serve --bind 0.0.0.0:8080    # another address (HOST, HOST:PORT, [::1]:PORT)

The virtual environment lives in .venv and is reinstalled only when the lock file changes. It
installs requirements-dev.lock: every package the site and the tests use, pinned with its hashes,
so a fresh machine gets exactly what CI tested (see README, "Pinned packages").
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
LOCK = ROOT / "requirements-dev.lock"
NODE_LOCK = ROOT / "package-lock.json"
NODE_MODULES = ROOT / "node_modules"
DEMO_USERS = (("admin", "admin"), ("manager", "manager"), ("lead", "lead"), ("staff", "staff"))
DEMO_PASSWORD = "demo-pass"
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 5000
# Threaded workers: an idle connection (a browser's spare one) waits in the worker's poller and
# holds no thread, so it can never keep a request waiting (see docs/architecture.md, Serving).
WORKERS, THREADS = 2, 8


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (run by whatever python3 a person has)
        sys.exit(f"feedback needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == digest and PYTHON.exists():
        return
    if not PYTHON.exists():
        say(f"creating the virtual environment in {VENV.name}/")
        venv.EnvBuilder(with_pip=True).create(VENV)
    say("installing the pinned packages (first time only; a minute or two)")
    subprocess.run(
        [
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "-r",
            str(LOCK),
        ],
        check=True,
    )
    stamp.write_text(digest)


def ensure_node_tools() -> None:
    """The page checks' npm packages (axe-core, vnu-jar, Lighthouse: package.json), installed
    with ``npm ci`` when npm is here and the lock file changed. Without npm the tests that need
    them skip and say why. ``--ignore-scripts``: vnu-jar's own script would fetch a Java runtime;
    the machine's is used."""
    npm = shutil.which("npm")
    if npm is None:
        say("npm not found: the page checks (axe-core, Nu HTML Checker, Lighthouse) will skip")
        return
    digest = hashlib.sha256(NODE_LOCK.read_bytes()).hexdigest()
    stamp = NODE_MODULES / ".installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say("installing the page checks' npm packages (first time only)")
    command = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    subprocess.run(
        command, cwd=ROOT, check=True, env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"}
    )
    stamp.write_text(digest)


def flask(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PYTHON), "-m", "flask", "--app", "feedback", *args], cwd=ROOT, env=env, check=check
    )


class ServeError(Exception):
    """A mistake in the serve arguments or an address we cannot listen on; the text says which."""


def parse_serve_args(args: list[str]) -> tuple[str, int, list[str]]:
    """``--bind HOST[:PORT]`` and ``--port N`` out of ``args``: (host, port, the rest for
    gunicorn)."""
    host, port, rest = DEFAULT_HOST, DEFAULT_PORT, []
    items = iter(args)
    for item in items:
        name, equals, value = item.partition("=")
        if name not in ("--bind", "-b", "--port"):
            rest.append(item)
            continue
        if not equals:
            value = next(items, None)
            if value is None:
                raise ServeError(f"{name} needs a value (--bind HOST:PORT, --port N)")
        if name == "--port":
            port = _port(value)
        elif value.startswith("["):  # [::1]:8080
            inside, _, after = value[1:].partition("]")
            host = inside
            port = _port(after[1:]) if after.startswith(":") else port
        elif value.count(":") == 1:
            host, text = value.split(":")
            port = _port(text)
        else:
            host = value
        if not host:
            raise ServeError(f"{name} {value!r}: no host (e.g. --bind 127.0.0.1:5000)")
    return host, port, rest


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise ServeError(f"{text!r} is not a port number (0-65535)")
    return int(text)


def open_listener(host: str, port: int) -> socket.socket:
    """Bind the site's address now, so a busy port is reported before any setting-up; gunicorn
    inherits the socket (``fd://``), so the address announced is the one really served."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ServeError(f"cannot serve on {host!r}: {exc.strerror}") from None
    family, kind, proto, _name, address = infos[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
    except OSError as exc:
        listener.close()
        if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise ServeError(
                f"port {port} on {host} is already in use (is the site, or another "
                f"server, running there?). Stop it, or choose another port: "
                f"python3 dev.py serve --port {port + 1 if port else 5001}"
            ) from None
        raise ServeError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
    listener.set_inheritable(True)
    return listener


def url_of(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def gunicorn_command(fd: int, extra: list[str] = ()) -> list[str]:
    """The gunicorn that ``serve`` runs, on the listening socket ``fd`` (tests run exactly this)."""
    return [
        str(BIN / "gunicorn"),
        "--worker-class",
        "gthread",
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--timeout",
        "300",
        "--bind",
        f"fd://{fd}",
        "--chdir",
        str(ROOT),
        *extra,
        "feedback:create_app()",
    ]


def serve(listener: socket.socket, args: list[str]) -> None:
    env = dict(os.environ)
    flask("init-db", env=env)
    probe = subprocess.run(
        [
            str(PYTHON),
            "-c",
            "from feedback import create_app; from feedback.models import Case;"
            "from feedback.db import database; app = create_app(); database.connect();"
            "print(Case.select().count())",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if probe.stdout.strip() in ("", "0"):
        say("filling the database with demo data")
        flask("demo", env=env)
    print(
        f"\nfeedback runs at {url_of(listener)}  (Ctrl+C stops it)\nDemo logins "
        f"(password '{DEMO_PASSWORD}' for all): " + ", ".join(u for u, _r in DEMO_USERS),
        flush=True,
    )
    # each web worker delivers the outbox's notifications in a background thread
    env.setdefault("FEEDBACK_OUTBOX_THREAD", "true")
    if os.name == "nt":
        host, port = listener.getsockname()[:2]
        listener.close()
        flask("run", "--host", host, "--port", str(port), *args, env=env)
    else:
        listener.listen(2048)
        command = gunicorn_command(listener.fileno(), args)
        os.execve(command[0], command, env)


def test(args: list[str]) -> int:
    # Both cores by default: each test process gets its own PostgreSQL database.
    parallel = [] if any(a == "-n" or a.startswith("-n") for a in args) else ["-n", "auto"]
    command = [str(PYTHON), "-m", "pytest", *parallel, *args]
    say(" ".join(command[2:]))
    return subprocess.run(command, cwd=ROOT).returncode


def lint() -> int:
    """ruff as CI runs it: the checks, then whether every file is formatted."""
    ruff = str(BIN / "ruff")
    say("ruff check; ruff format --check")
    checked = subprocess.run([ruff, "check", "."], cwd=ROOT).returncode
    formatted = subprocess.run([ruff, "format", "--check", "."], cwd=ROOT).returncode
    return checked or formatted


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "test", "lint"):
        sys.exit(__doc__)
    if sys.argv[1] == "lint":
        ensure_environment()
        sys.exit(lint())
    if sys.argv[1] == "serve":
        try:  # before the (possibly long) setting-up: a busy port is said at once
            host, port, rest = parse_serve_args(sys.argv[2:])
            listener = open_listener(host, port)
        except ServeError as exc:
            sys.exit(f"dev.py serve: {exc}")
        ensure_environment()
        serve(listener, rest)
    else:
        ensure_environment()
        ensure_node_tools()
        sys.exit(test(sys.argv[2:]))


if __name__ == "__main__":
    main()
