"""The baseline: a bare Flask app, served the same way as feedback (gunicorn, 2 workers).

``GET /page`` renders a static template; ``POST /insert`` stores the posted form as one row with
one ``sqlite3`` INSERT (its own file, WAL mode, the same pragmas as feedback's SQLite). Each
worker keeps one connection open, as feedback's pool does.

    BARE_DATABASE=/tmp/bare.sqlite3 gunicorn --workers 2 --chdir bench bare_app:app
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

from flask import Flask, render_template, request

HERE = Path(__file__).resolve().parent
DATABASE = os.environ.get("BARE_DATABASE", str(HERE / "results" / "bare.sqlite3"))

app = Flask(__name__, template_folder=str(HERE / "templates"))
_local = threading.local()


def setup(path: str = DATABASE) -> None:
    """Create the table (run once, before the workers start)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=wal")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS submission (id INTEGER PRIMARY KEY "
            "AUTOINCREMENT, submitted_at TEXT NOT NULL, answers TEXT NOT NULL)"
        )
    conn.close()


def _connection() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DATABASE, isolation_level=None, check_same_thread=False)
        for pragma in (
            "journal_mode=wal",
            "synchronous=normal",
            "busy_timeout=10000",
            "foreign_keys=1",
        ):
            conn.execute(f"PRAGMA {pragma}")
        _local.conn = conn
    return conn


@app.get("/page")
def page():
    return render_template("bare_page.html")


@app.post("/insert")
def insert():
    answers = json.dumps(request.form.to_dict(flat=False), ensure_ascii=False)
    _connection().execute(
        "INSERT INTO submission (submitted_at, answers) VALUES (datetime('now'), ?)", (answers,)
    )
    return "", 204


if __name__ == "__main__":
    setup()
