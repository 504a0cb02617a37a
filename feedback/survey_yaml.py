"""Reading a survey file's YAML without trusting it: PyYAML's SafeLoader, with four refusals.

- **A key given twice** in one mapping (``required:`` twice): plain YAML keeps the last one
  silently, so the file would not mean what its first line says. A merge (``<<:``) is refused
  too: without aliases it can only hide keys that the mapping gives again.
- **Anchors and aliases** (``&name``, ``*name``) at all. An alias is a reference, so nine levels
  of nine aliases each (a "billion laughs") are a few hundred bytes that expand to 9**9 strings
  the moment anything walks or prints them. Bounding the expansion instead would mean counting
  every node an alias stands for; refusing costs a survey's writer nothing (a survey is short,
  its texts are written out, and the stored version is the expanded text anyway) and leaves
  nothing to get wrong.
- **Nesting deeper than** ``MAX_DEPTH`` collections: a survey needs six (survey, questions,
  question, choices, choice, label); PyYAML composes recursively, so thousands of ``[`` end in a
  RecursionError.
- **Files larger than** ``MAX_FILE_BYTES`` (checked by the caller before reading).

Each refusal names the line and, inside ``questions``, the question (its id, or ``#n`` before
the id is known), so the message reads like the validator's own.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

MAX_DEPTH = 10  # nested lists and mappings; the shipped surveys use at most 6
MAX_FILE_BYTES = 256 * 1024  # the largest shipped survey is 3 KB
MERGE = "tag:yaml.org,2002:merge"


class Refused(ValueError):
    """A survey file's YAML that is refused; ``problems`` lists each, as ``file, line N...``."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def place(source: str, line: int, question: str | None) -> str:
    """``post-case.yaml, line 7, question 'csat'`` (or without the question)."""
    return f"{source}, line {line}" + (f", question '{question}'" if question else "")


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and deep nesting while it composes."""

    def __init__(self, stream: str, source: str):
        super().__init__(stream)
        self.source = source
        self.path: list[tuple[Any, Any]] = []  # (parent node, key node or index) to the node

    def compose_node(self, parent, index):
        self.path.append((parent, index))
        try:
            event = self.peek_event()
            if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
                mark = ("*" if isinstance(event, AliasEvent) else "&") + str(event.anchor)
                self._refuse(
                    event,
                    f"anchors and aliases ({mark}) are not allowed in survey "
                    "files; write the value out in full",
                )
            if (
                isinstance(event, (SequenceStartEvent, MappingStartEvent))
                and len(self.path) > MAX_DEPTH
            ):
                self._refuse(
                    event, f"nested more than {MAX_DEPTH} levels deep (a survey needs at most 6)"
                )
            return super().compose_node(parent, index)
        finally:
            self.path.pop()

    def _refuse(self, event, message: str):
        where = place(self.source, event.start_mark.line + 1, self._question())
        raise Refused([f"{where}: {message}"])

    def _question(self) -> str | None:
        """The question being composed: its id once read, else its number (#3)."""
        if len(self.path) < 3:
            return None
        (root, key), (items, index) = self.path[1], self.path[2]
        if not (
            isinstance(root, MappingNode)
            and isinstance(key, ScalarNode)
            and key.value == "questions"
            and isinstance(items, SequenceNode)
        ):
            return None
        if len(self.path) > 3:
            return _question_id(self.path[3][0]) or f"#{index + 1}"
        return f"#{index + 1}"


def _question_id(node: Any) -> str | None:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode):
                return value.value
    return None


def _duplicate_keys(loader: _Loader, root: Any) -> list[str]:
    """Every key given twice in one mapping, at its second line, with its question."""
    problems: list[str] = []

    def walk(node: Any, question: str | None) -> None:
        if isinstance(node, SequenceNode):
            for item in node.value:
                walk(item, question)
            return
        if not isinstance(node, MappingNode):
            return
        seen: dict[Any, int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.tag == MERGE:
                # without aliases a merge only hides keys that the mapping gives again
                where = place(loader.source, key.start_mark.line + 1, question)
                problems.append(
                    f"{where}: '<<' (a YAML merge) is not allowed in survey files; "
                    "write the keys out"
                )
            elif isinstance(key, ScalarNode):
                try:
                    name = loader.construct_object(key)  # yes and true are the same key
                except yaml.YAMLError:
                    name = key.value
                try:
                    first = seen.get(name)
                except TypeError:  # an unhashable key: the validator names it
                    first = None
                if first is not None:
                    where = place(loader.source, key.start_mark.line + 1, question)
                    problems.append(
                        f"{where}: '{key.value}' is given twice (first on line {first}); keep one"
                    )
                else:
                    try:
                        seen[name] = key.start_mark.line + 1
                    except TypeError:
                        pass
            if (
                node is root
                and isinstance(key, ScalarNode)
                and key.value == "questions"
                and isinstance(value, SequenceNode)
            ):
                for number, item in enumerate(value.value, start=1):
                    walk(item, _question_id(item) or f"#{number}")
            else:
                walk(value, question)

    walk(root, None)
    return problems


def load(text: str, source: str) -> Any:
    """The data of one YAML document, or raise Refused (or yaml.YAMLError for bad syntax)."""
    loader = _Loader(text, source)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        problems = _duplicate_keys(loader, node)
        if problems:
            raise Refused(problems)
        return loader.construct_document(node)
    finally:
        loader.dispose()
