"""The domain's vocabulary is declared once, in ``feedback/vocabulary.py``."""

from __future__ import annotations

import ast
from pathlib import Path

from feedback import vocabulary

PACKAGE = Path(vocabulary.__file__).parent
KEY_SETS = {
    name: frozenset(value)
    for name, value in vars(vocabulary).items()
    if name.isupper() and isinstance(value, tuple)
}


def _string_collections(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set) and len(node.elts) >= 2:
            if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
                yield node.lineno, frozenset(e.value for e in node.elts)


def test_no_module_spells_out_a_vocabulary_again():
    """A tuple, list or set of exactly one of the vocabulary's key sets imports it instead.

    Tables keyed by the vocabulary (names, weights, transitions) are dicts and not counted.
    """
    copies = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "vocabulary.py":
            continue
        for line, keys in _string_collections(ast.parse(path.read_text(), str(path))):
            copies += [
                f"{path.relative_to(PACKAGE)}:{line} spells out {name}"
                for name, known in KEY_SETS.items()
                if keys == known
            ]
    assert copies == []


def test_the_key_sets_are_distinct_and_their_parts_add_up():
    assert len(set(vocabulary.LOCALES)) == len(vocabulary.LOCALES)
    assert set(vocabulary.SUGGESTION_OPEN_STATES).isdisjoint(vocabulary.SUGGESTION_CLOSED_STATES)
    assert vocabulary.SUGGESTION_STATES == (
        vocabulary.SUGGESTION_OPEN_STATES + vocabulary.SUGGESTION_CLOSED_STATES
    )
    assert set(vocabulary.ACTION_OPEN_STATES) < set(vocabulary.ACTION_STATES)
    assert set(vocabulary.SCALE_TYPES) < set(vocabulary.QUESTION_TYPES)
    assert set(vocabulary.REPORT_ROLES) < set(vocabulary.ROLES)
    assert set(vocabulary.ALL_TEAM_ROLES) < set(vocabulary.REPORT_ROLES)
