"""Every setting is declared once, read from FEEDBACK_<NAME>, and listed in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback import settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.name)
def test_readme_lists_every_setting(setting):
    assert f"`FEEDBACK_{setting.name}`" in README, f"README.md does not list FEEDBACK_{setting.name}"
    assert setting.help


def test_names_are_unique():
    names = [s.name for s in settings.SETTINGS]
    assert len(names) == len(set(names))


def test_environment_overrides_defaults():
    config = settings.from_environment({"FEEDBACK_INVITATION_DAYS": "7",
                                        "FEEDBACK_SECURE_COOKIES": "yes"})
    assert config["INVITATION_DAYS"] == 7 and config["SECURE_COOKIES"] is True
    assert config["THROTTLE_DAYS"] == 30 and config["TIMEZONE"] == "Asia/Shanghai"


@pytest.mark.parametrize("name,value", [("INVITATION_DAYS", "0"), ("INVITATION_DAYS", "two"),
                                        ("SECURE_COOKIES", "maybe")])
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(settings.SettingError, match=f"FEEDBACK_{name}"):
        settings.from_environment({f"FEEDBACK_{name}": value})
