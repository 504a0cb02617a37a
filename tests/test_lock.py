"""The lock files: every package pinned with hashes, and in step with the requirements files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.MULTILINE)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    return {canonical(name): version for name, version in PIN.findall(path.read_text())}


def entries(path: Path) -> list[str]:
    """The lock's requirement entries: a line starting with a name, with its continuations."""
    return re.split(r"\n(?=[A-Za-z0-9])", path.read_text().split("\n\n", 1)[-1].strip())


@pytest.mark.parametrize(
    "requirements, lock",
    [
        ("requirements.txt", "requirements.lock"),
        ("requirements-dev.txt", "requirements-dev.lock"),
    ],
)
def test_lock_pins_what_the_requirements_pin(requirements, lock):
    wanted, locked = pins(ROOT / requirements), pins(ROOT / lock)
    if requirements == "requirements-dev.txt":
        wanted |= pins(ROOT / "requirements.txt")  # it starts with -r requirements.txt
    differ = {n: (v, locked.get(n)) for n, v in wanted.items() if locked.get(n) != v}
    assert not differ, f"{lock} disagrees with {requirements} (regenerate it): {differ}"


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_package_has_a_pinned_version_and_a_hash(lock):
    found = [e for e in entries(ROOT / lock) if not e.startswith("#")]
    assert len(found) >= 30
    for entry in found:
        assert PIN.match(entry), f"{lock}: not pinned with ==: {entry.splitlines()[0]}"
        assert "--hash=sha256:" in entry, f"{lock}: no hash for {entry.splitlines()[0]}"


def test_the_site_lock_is_part_of_the_test_lock():
    site, tests = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-dev.lock")
    assert {n: tests.get(n) for n in site} == site
