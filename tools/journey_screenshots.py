#!/usr/bin/env python3
"""Each person's journey, in screenshots: the pictures of docs/journeys.md.

    .venv/bin/python tools/journey_screenshots.py            # writes docs/journeys/*.png
    .venv/bin/python tools/journey_screenshots.py --out DIR  # elsewhere (DIR/*.png)

The screenshots are those the journeys' browser tests take (tests/test_journeys.py): each test
walks one person's journey in Debian's chromium, from a fresh start on a new SQLite database, at
a fixed moment and with fixed demo data, and saves its key steps into the folder named by
FEEDBACK_JOURNEY_SCREENSHOTS. This runs those tests (``pytest tests/test_journeys.py -k sqlite``)
with that folder pointed at ``--out``, after emptying it of its old PNGs, so a journey that
failed leaves no stale picture behind; then it lists what was made and checks that
docs/journeys.md shows every picture of docs/journeys/ and no other.

Each PNG is the browser's viewport (a 375 px phone for customers and the lead, 1024 px for the
manager and the admin), quantized to at most 128 colours by the tests, so each stays small.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "journeys"
DOC = ROOT / "docs" / "journeys.md"
ENV = "FEEDBACK_JOURNEY_SCREENSHOTS"
IMAGE = re.compile(r"!\[[^\]]*\]\((journeys/[^)]+\.png)\)")


def shown_in_doc(doc: Path = DOC) -> set[str]:
    """The PNGs docs/journeys.md shows, as paths relative to docs/."""
    return set(IMAGE.findall(doc.read_text(encoding="utf-8")))


def run(out: Path, say: Callable[[str], None] = print) -> int:
    """Run the journeys with their screenshots going to ``out``; pytest's exit status."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    command = [sys.executable, "-m", "pytest", "tests/test_journeys.py", "-k", "sqlite", "-q"]
    command += ["-n", "0", "-p", "no:cacheprovider"]
    say(f"running {' '.join(command[2:])} with {ENV}={out}")
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, ENV: str(out)})
    made = sorted(out.glob("*.png"))
    total = 0
    for path in made:
        size = path.stat().st_size
        total += size
        say(
            f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({size // 1024} KB)"
        )
    say(f"{len(made)} screenshots, {total / 1024:.0f} KB, in {time.perf_counter() - started:.0f} s")
    if out == OUT:
        on_disk = {f"journeys/{p.name}" for p in made}
        shown = shown_in_doc()
        for name in sorted(on_disk - shown):
            say(f"not shown in docs/journeys.md: {name}")
        for name in sorted(shown - on_disk):
            say(f"shown in docs/journeys.md but not made: {name}")
        if on_disk != shown and result.returncode == 0:
            return 1
    return result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder of the PNGs (default {OUT})")
    args = parser.parse_args()
    return run(args.out.resolve())


if __name__ == "__main__":
    sys.exit(main())
