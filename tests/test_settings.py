"""Every setting is declared once, read from FEEDBACK_<NAME>, and listed in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback import settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.name)
def test_readme_lists_every_setting(setting):
    assert f"`FEEDBACK_{setting.name}`" in README, (
        f"README.md does not list FEEDBACK_{setting.name}"
    )
    assert setting.help


def test_names_are_unique():
    names = [s.name for s in settings.SETTINGS]
    assert len(names) == len(set(names))


def test_environment_overrides_defaults():
    config = settings.from_environment(
        {"FEEDBACK_INVITATION_DAYS": "7", "FEEDBACK_SECURE_COOKIES": "yes"}
    )
    assert config["INVITATION_DAYS"] == 7 and config["SECURE_COOKIES"] is True
    assert config["THROTTLE_DAYS"] == 30 and config["TIMEZONE"] == "Asia/Shanghai"


@pytest.mark.parametrize(
    "name,value",
    [("INVITATION_DAYS", "0"), ("INVITATION_DAYS", "two"), ("SECURE_COOKIES", "maybe")],
)
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(settings.SettingError, match=f"FEEDBACK_{name}"):
        settings.from_environment({f"FEEDBACK_{name}": value})


@pytest.mark.parametrize(
    "name,value",
    [
        ("MIN_SAMPLE", "many"),
        ("WORKING_HOURS", "18:00-09:00"),
        ("DATABASE_URL", "mysql://db/feedback"),
    ],
)
def test_a_bad_setting_stops_the_command_with_a_message_not_a_traceback(tmp_path, name, value):
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3",
        f"FEEDBACK_{name}": value,
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "feedback", "init-db"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert f"FEEDBACK_{name}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_wrong_method_says_which_are_allowed(client):
    reply = client.delete("/login")
    assert reply.status_code == 405
    assert set(reply.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_an_old_sqlite_is_refused_with_its_version(monkeypatch):
    import sqlite3

    from feedback import db

    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 22, 0))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.22.0")
    with pytest.raises(db.DatabaseURLError, match=r"SQLite is 3\.22\.0; feedback needs 3\.30"):
        db.open_database("sqlite:////tmp/never-made.sqlite3")
