#!/usr/bin/env python3
"""Set everything up and run the site or the tests; needs nothing but Python 3.11+.

    python3 dev.py serve   # virtual env, packages, database with demo data, site on :5000
    python3 dev.py test    # virtual env, packages, the whole test suite (extra args go to pytest)

The virtual environment lives in .venv and is reinstalled only when the requirements change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
DEMO_USERS = (("admin", "admin"), ("manager", "manager"), ("lead", "lead"), ("staff", "staff"))
DEMO_PASSWORD = "demo-pass"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"feedback needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    requirements = [ROOT / "requirements.txt", ROOT / "requirements-dev.txt"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in requirements)).hexdigest()
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == digest and PYTHON.exists():
        return
    if not PYTHON.exists():
        say(f"creating the virtual environment in {VENV.name}/")
        venv.EnvBuilder(with_pip=True).create(VENV)
    say("installing the pinned packages (first time only; a minute or two)")
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-r", str(ROOT / "requirements-dev.txt")], check=True)
    stamp.write_text(digest)


def flask(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(PYTHON), "-m", "flask", "--app", "feedback", *args], cwd=ROOT,
                          env=env, check=check)


def serve(args: list[str]) -> None:
    env = dict(os.environ)
    flask("init-db", env=env)
    probe = subprocess.run(
        [str(PYTHON), "-c", "from feedback import create_app; from feedback.models import Case;"
         "from feedback.db import database; app = create_app(); database.connect();"
         "print(Case.select().count())"], cwd=ROOT, env=env, capture_output=True, text=True)
    if probe.stdout.strip() in ("", "0"):
        say("filling the database with demo data")
        flask("demo", env=env)
    host, port = "127.0.0.1", "5000"
    print(f"\nfeedback runs at http://{host}:{port}/  (Ctrl+C stops it)\nDemo logins "
          f"(password '{DEMO_PASSWORD}' for all): " + ", ".join(u for u, _r in DEMO_USERS),
          flush=True)
    # each web worker delivers the outbox's notifications in a background thread
    os.environ.setdefault("FEEDBACK_OUTBOX_THREAD", "true")
    env.setdefault("FEEDBACK_OUTBOX_THREAD", "true")
    if os.name == "nt":
        flask("run", "--host", host, "--port", port, env=env)
    else:
        os.execv(str(BIN / "gunicorn"), [str(BIN / "gunicorn"), "--workers", "2", "--timeout", "300", "--bind",
                                         f"{host}:{port}", "--chdir", str(ROOT),
                                         "feedback:create_app()", *args])


def test(args: list[str]) -> int:
    # Both cores by default: each test process gets its own PostgreSQL database.
    parallel = [] if any(a == "-n" or a.startswith("-n") for a in args) else ["-n", "auto"]
    command = [str(PYTHON), "-m", "pytest", *parallel, *args]
    say(" ".join(command[2:]))
    return subprocess.run(command, cwd=ROOT).returncode


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "test"):
        sys.exit(__doc__)
    ensure_environment()
    if sys.argv[1] == "serve":
        serve(sys.argv[2:])
    else:
        sys.exit(test(sys.argv[2:]))


if __name__ == "__main__":
    main()
