"""Blueprints stand side by side: what two of them share lives in a module below them
(``feedback/web/common.py``), so no blueprint module imports another."""

from __future__ import annotations

import ast
from pathlib import Path

import feedback.web

WEB = Path(feedback.web.__file__).parent


def _defines_blueprint(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Blueprint"
        for node in ast.walk(tree)
    )


def _imported_web_modules(tree: ast.Module) -> set[str]:
    """The modules of feedback.web that this module of feedback.web imports, anywhere in it."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:  # from .x import y
                found.add(node.module.split(".")[0])
            elif node.level == 1:  # from . import x, y
                found.update(alias.name for alias in node.names)
            elif node.level == 2 and node.module and node.module.startswith("web."):
                found.add(node.module.split(".")[1])
            elif node.level == 0 and (node.module or "").startswith("feedback.web."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found.update(
                alias.name.split(".")[2]
                for alias in node.names
                if alias.name.startswith("feedback.web.")
            )
    return found


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(), str(path)) for path in WEB.glob("*.py")}


def test_the_blueprints_are_found():
    blueprints = {name for name, tree in _modules().items() if _defines_blueprint(tree)}
    assert {"auth", "manage", "triage", "actions", "follow_ups", "survey", "api"} <= blueprints
    assert "common" not in blueprints


def test_no_blueprint_module_imports_another():
    modules = _modules()
    blueprints = {name for name, tree in modules.items() if _defines_blueprint(tree)}
    crossings = sorted(
        f"{name} imports {other}"
        for name in blueprints
        for other in _imported_web_modules(modules[name]) & blueprints
        if other != name
    )
    assert crossings == []
