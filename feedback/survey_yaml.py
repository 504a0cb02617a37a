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

from .names import N_
from .survey_problems import Message, Problem

MAX_DEPTH = 10  # nested lists and mappings; the shipped surveys use at most 6
MAX_FILE_BYTES = 256 * 1024  # the largest shipped survey is 3 KB
MERGE = "tag:yaml.org,2002:merge"


class Refused(ValueError):
    """A survey file's YAML that is refused; ``problems`` lists each, as ``file, line N...``."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


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
                    N_(
                        "anchors and aliases (%(mark)s) are not allowed in survey "
                        "files; write the value out in full"
                    ),
                    mark=mark[:80],
                )
            if (
                isinstance(event, (SequenceStartEvent, MappingStartEvent))
                and len(self.path) > MAX_DEPTH
            ):
                self._refuse(
                    event,
                    N_("nested more than %(depth)s levels deep (a survey needs at most 6)"),
                    depth=MAX_DEPTH,
                )
            return super().compose_node(parent, index)
        finally:
            self.path.pop()

    def _refuse(self, event, message: str, /, **values):
        question, index = self._question()
        raise Refused(
            [
                Problem(
                    Message(message, **values),
                    self.source,
                    line=event.start_mark.line + 1,
                    question=question,
                    index=index,
                )
            ]
        )

    def _question(self) -> tuple[str | None, int | None]:
        """The question being composed: its id once read, else its number (#3); and its
        number."""
        if len(self.path) < 3:
            return None, None
        (root, key), (items, index) = self.path[1], self.path[2]
        if not (
            isinstance(root, MappingNode)
            and isinstance(key, ScalarNode)
            and key.value == "questions"
            and isinstance(items, SequenceNode)
        ):
            return None, None
        if len(self.path) > 3:
            return _question_id(self.path[3][0]) or f"#{index + 1}", index + 1
        return f"#{index + 1}", index + 1


def _question_id(node: Any) -> str | None:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode):
                return value.value
    return None


def _duplicate_keys(loader: _Loader, root: Any) -> list[str]:
    """Every key given twice in one mapping, at its second line, with its question."""
    problems: list[str] = []

    def refuse(node: Any, question: tuple[str, int] | None, message: str, /, **values) -> None:
        problems.append(
            Problem(
                Message(message, **values),
                loader.source,
                line=node.start_mark.line + 1,
                question=question[0] if question else None,
                index=question[1] if question else None,
            )
        )

    def walk(node: Any, question: tuple[str, int] | None) -> None:
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
                refuse(
                    key,
                    question,
                    N_("'<<' (a YAML merge) is not allowed in survey files; write the keys out"),
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
                    refuse(
                        key,
                        question,
                        N_("'%(key)s' is given twice (first on line %(line)s); keep one"),
                        key=key.value[:80],
                        line=first,
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
                    walk(item, (_question_id(item) or f"#{number}", number))
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


# --- writing ------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """SafeDumper without anchors (``load`` refuses them), with multi-line texts as ``|`` blocks
    and the short mappings of the shipped files (a choice's label, a scale's end) on one line."""

    def ignore_aliases(self, data):
        return True

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)  # list items indented, as in the files


class _OneLine(dict):
    """A mapping written on one line: ``{zh-CN: 很慢, en: Very slow}``."""


def _text(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None  # the emitter falls back to quotes where | cannot
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)
_Dumper.add_representer(
    _OneLine,
    lambda dumper, value: dumper.represent_mapping(
        "tag:yaml.org,2002:map", value.items(), flow_style=True
    ),
)


def _styled(data: Any, key: Any = None) -> Any:
    """Labels of choices and scale ends on one line, as the shipped files write them."""
    if isinstance(data, dict):
        items = {k: _styled(v, k) for k, v in data.items()}
        return _OneLine(items) if key in ("label", "min", "max") else items
    if isinstance(data, list):
        return [_styled(item) for item in data]
    return data


def dump(data: Any, header: str = "") -> str:
    """A survey's data (``definitions.file_data``) as the YAML of a survey file, which ``load``
    reads back to the same data; ``header`` lines go first as comments."""
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    body = yaml.dump(
        _styled(data),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1000,
        indent=2,
    )
    return comments + body
