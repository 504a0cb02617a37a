"""The page checks' tools from npm (package.json): axe-core, the Nu HTML Checker, Lighthouse.

``dev.py test`` installs them with ``npm ci`` into node_modules/; vnu.jar runs on the machine's
Java. Without them (no npm, no Java on a fresh machine) the checks skip and say why, or fail
when FEEDBACK_REQUIRE_BROWSER=1, as ``.ci/run`` sets.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
LIGHTHOUSE = NODE_MODULES / "lighthouse" / "cli" / "index.js"
REQUIRED = os.environ.get("FEEDBACK_REQUIRE_BROWSER") == "1"
INSTALL = "run python3 dev.py test (it installs package.json's tools with npm ci when npm is here)"


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


def axe_source() -> str:
    """axe-core's script, to inject into a page; a skip (or failure) when not installed."""
    if not AXE.exists():
        _missing(f"axe-core not installed ({AXE.relative_to(ROOT)} missing): {INSTALL}")
    return AXE.read_text(encoding="utf-8")


def vnu_command() -> list[str]:
    """The Nu HTML Checker's command line (java -jar vnu.jar), or a skip (or failure)."""
    java = shutil.which("java")
    if java is None:
        _missing("no java on the PATH: the Nu HTML Checker (vnu.jar) needs a Java runtime 11+")
    if not VNU.exists():
        _missing(f"vnu-jar not installed ({VNU.relative_to(ROOT)} missing): {INSTALL}")
    return [java, "-jar", str(VNU)]


def lighthouse_command() -> list[str]:
    """Lighthouse's command line (node lighthouse/cli), or a skip (or failure)."""
    node = shutil.which("node")
    if node is None:
        _missing("no node on the PATH: Lighthouse needs Node.js 18.16+")
    if not LIGHTHOUSE.exists():
        _missing(f"lighthouse not installed ({LIGHTHOUSE.relative_to(ROOT)} missing): {INSTALL}")
    return [node, str(LIGHTHOUSE)]
