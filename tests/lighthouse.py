"""Lighthouse (npm, package.json) on a page of the site, in Debian's chromium: the run and its
reading, shared by ``tests/test_lighthouse.py`` and ``bench/bench_lighthouse.py``.

No pytest here (the bench imports it): the caller finds the command line first
(``node_tools.lighthouse_command()`` in tests, which skips when Lighthouse is missing).
Lighthouse starts the browser itself: ``CHROME_PATH`` names Debian's chromium (never a browser
download), its flags are ``chromium.CHROMIUM_ARGS`` and its environment carries the fontconfig
file that adds the CJK fonts (``chromium.browser_env``), so Chinese pages are measured as people
see them. Lighthouse's defaults otherwise: a phone (412 x 823, Moto G Power) with simulated
throttling (slow 4G, 4x CPU).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import chromium

CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def run(
    command: list[str],
    url: str,
    report: Path,
    categories: tuple[str, ...] = CATEGORIES,
    headers: dict[str, str] | None = None,
    timeout: float = 240,
) -> dict:
    """Run Lighthouse (``command``: its ``node .../cli/index.js``) on ``url``; write its JSON
    report to ``report`` and return it. ``headers`` go with every request (a session cookie)."""
    path = chromium.executable()
    if path is None:
        raise RuntimeError("chromium is not installed (Debian: apt-get install chromium)")
    env = chromium.browser_env(chromium.write_fontconfig(chromium.cache_dir()))
    env["CHROME_PATH"] = path
    args = [
        *command,
        url,
        f"--only-categories={','.join(categories)}",
        f"--chrome-flags={' '.join(chromium.CHROMIUM_ARGS)}",
        "--output=json",
        f"--output-path={report}",
        "--quiet",
    ]
    if headers:
        args.append(f"--extra-headers={json.dumps(headers)}")
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0 or not report.exists():
        raise RuntimeError(
            f"lighthouse failed on {url} (exit {done.returncode}): {done.stderr[-2000:]}"
        )
    result = json.loads(report.read_text(encoding="utf-8"))
    if result.get("runtimeError"):
        raise RuntimeError(f"lighthouse could not load {url}: {result['runtimeError']}")
    return result


@dataclass
class Reading:
    """What a report says: scores out of 100 by category, the audits that cost points, bytes."""

    url: str
    scores: dict[str, int]
    failing: dict[str, list[str]] = field(default_factory=dict)
    transferred: int = 0  # bytes over the wire, every request of the page load
    requests: list[tuple[str, int]] = field(default_factory=list)  # (url, bytes transferred)
    metrics: dict[str, str] = field(default_factory=dict)  # FCP, LCP, TBT, CLS, SI as displayed


METRICS = {
    "first-contentful-paint": "FCP",
    "largest-contentful-paint": "LCP",
    "total-blocking-time": "TBT",
    "cumulative-layout-shift": "CLS",
    "speed-index": "SI",
}


def read(report: dict) -> Reading:
    """Scores (0-100), and per category every audit that weighs in its score and did not pass,
    as ``id (score): title, value``; also the page's bytes and its metrics."""
    audits = report["audits"]
    reading = Reading(
        url=report.get("finalDisplayedUrl") or report.get("requestedUrl", ""),
        scores={
            name: round(100 * category["score"])
            for name, category in report["categories"].items()
            if category.get("score") is not None
        },
    )
    for name, category in report["categories"].items():
        lost = []
        for ref in category["auditRefs"]:
            audit = audits.get(ref["id"], {})
            score = audit.get("score")
            if ref.get("weight", 0) <= 0 or score is None or score >= 1:
                continue
            value = audit.get("displayValue") or ""
            line = f"{ref['id']} ({score:.2f}): {audit.get('title', '')}"
            line += f", {value}" if value else ""
            lost.append(line + _where(audit))
        if lost:
            reading.failing[name] = lost
    weight = audits.get("total-byte-weight", {})
    reading.transferred = int(weight.get("numericValue") or 0)
    for item in (weight.get("details") or {}).get("items", []):
        reading.requests.append((item.get("url", ""), int(item.get("totalBytes") or 0)))
    for audit_id, short in METRICS.items():
        if audit_id in audits:
            reading.metrics[short] = audits[audit_id].get("displayValue") or ""
    return reading


def _where(audit: dict, shown: int = 3) -> str:
    """Where an audit failed: the first elements it names (their CSS selectors), if any."""
    items = (audit.get("details") or {}).get("items") or []
    nodes = [
        item["node"].get("selector", "") for item in items if isinstance(item.get("node"), dict)
    ]
    if not nodes:
        return ""
    more = f" and {len(nodes) - shown} more" if len(nodes) > shown else ""
    return " at " + "; ".join(nodes[:shown]) + more


def explain(reading: Reading, categories: tuple[str, ...] = CATEGORIES) -> str:
    """The failing audits of ``categories``, one a line, for an assertion's message."""
    lines = [f"{reading.url}: {reading.scores}"]
    for name in categories:
        lines += [f"  {name}: {audit}" for audit in reading.failing.get(name, [])]
    return "\n".join(lines)
