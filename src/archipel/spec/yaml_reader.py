"""YAML text → plain values with the position of each value and key, refusing hostile input.

The YAML is composed into a node tree (PyYAML's ``SafeLoader``), then turned into plain Python
values by hand so that each value's and each key's position is recorded under its path
(``("services", 1, "demand", "by_geography", "eu")``) in a :class:`SourceMap`. Mapping keys are
always read as text (``no:`` is the key ``"no"``, not ``False``), since every key in the spec
language is a field name or an id.

Hostile or broken input is refused with a position, never a traceback or a hang: characters YAML
forbids (NUL, DEL, other control characters) and control characters written as escapes inside
quoted text; nesting deeper than :data:`MAX_DEPTH`; aliases that refer to the value containing
them or that expand the file to more than :data:`MAX_ALIAS_VALUES` values (an "alias bomb" of a
few hundred bytes would otherwise take gigabytes); values that cannot be constructed (2027-02-30,
year 0, integers of thousands of digits); infinite and NaN numbers (``.inf``, ``.nan``,
``1.0e+999``); text longer than :data:`MAX_TEXT_CHARS`; binary data and tagged collections. Merge keys (``<<: *defaults``) follow YAML's
rules: the mapping's own keys win, without being reported as duplicates.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from archipel.errors import Issue, SpecError

YamlPath = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line and column

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists read; a spec needs fewer than ten levels."""
MAX_ALIAS_VALUES = 100_000
"""Most values that aliases (``*name``) may add to a file by repeating their anchors."""
MAX_LISTED_CHARACTERS = 20
"""At most this many forbidden characters are listed, one issue each."""
MAX_TEXT_CHARS = 10_000
"""Longest text value read; the longest a spec takes (a name, a path) is a few hundred."""

# C0 controls but tab, line feed and carriage return; DEL and the C1 controls; and the
# bidirectional overrides and isolates (they make text display in another order than it reads).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CHAR_NAMES = {0x00: "NUL", 0x1B: "ESC", 0x7F: "DEL", 0x07: "BEL", 0x08: "backspace"}


def format_path(path: Iterable[str | int]) -> str:
    """``("services", 1, "demand")`` → ``services[1].demand`` (odd keys in ``["…"]``)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f'["{part}"]'
    return out


@dataclass(frozen=True)
class SourceMap:
    """Where each value (and each mapping key) of a spec file sits in its YAML source.

    ``values[path]`` is the position of the value at ``path``; ``keys[path]`` the position of
    the key that introduces it (for entries of a mapping). Lookups fall back to the nearest
    enclosing value, so a path that is not in the file (a defaulted field) still gets a place.
    ``renumber`` maps, per top-level list, indices of a shortened list back to the file's
    indices (used when problem items were set aside to check the rest).
    """

    file: str
    values: Mapping[YamlPath, Position] = field(default_factory=dict)
    keys: Mapping[YamlPath, Position] = field(default_factory=dict)
    renumber: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def original(self, path: YamlPath) -> YamlPath:
        """The file's path for ``path`` (undoing any renumbering of top-level lists)."""
        if len(path) >= 2 and isinstance(path[0], str) and isinstance(path[1], int):
            kept = self.renumber.get(path[0])
            if kept is not None and path[1] < len(kept):
                return (path[0], kept[path[1]], *path[2:])
        return path

    def at(self, path: YamlPath) -> Position:
        """Position of the value at ``path`` or of its nearest enclosing value; (1, 1) if none."""
        p = self.original(path)
        for n in range(len(p), -1, -1):
            pos = self.values.get(p[:n])
            if pos is not None:
                return pos
        return (1, 1)

    def key_at(self, path: YamlPath) -> Position:
        """Position of the key introducing ``path`` (or of the value when there is no key)."""
        return self.keys.get(self.original(path)) or self.at(path)

    def issue(
        self,
        path: YamlPath,
        message: str,
        hint: str = "",
        *,
        key: bool = False,
        at: YamlPath | None = None,
    ) -> Issue:
        """An :class:`Issue` about ``path``, located at ``at`` (default ``path``), at its key
        when ``key``."""
        where = path if at is None else at
        line, column = self.key_at(where) if key else self.at(where)
        return Issue(self.file, line, column, format_path(self.original(path)), message, hint)


@dataclass(frozen=True)
class Document:
    """A YAML file read into plain values: the data, where each part is, and any problems
    found while reading (duplicate keys, unsupported keys or tags) that do not stop reading."""

    data: Any
    source: SourceMap
    issues: tuple[Issue, ...]
    unreadable: frozenset[YamlPath] = frozenset()


def _pos(mark: yaml.Mark | None) -> Position:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _clip(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _char_name(ch: str) -> str:
    name = _CHAR_NAMES.get(ord(ch))
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_CONTROL_HINT = (
    "remove it: control characters are invisible, and can garble a terminal or hide text"
)


class _Refused(yaml.composer.ComposerError):
    """Reading stopped on purpose (too deep, an alias in its own anchor, an alias bomb)."""

    def __init__(self, problem: str, mark: Any, hint: str) -> None:
        super().__init__(None, None, problem, mark)
        self.hint = hint


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader refusing what would exhaust the stack or the memory: nesting deeper
    than :data:`MAX_DEPTH`, an alias inside the value of its own anchor, and aliases adding more
    than :data:`MAX_ALIAS_VALUES` values. Each node's size (values it stands for, aliases
    expanded) is counted as it is composed, so an expansion is measured without being built."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._open: set[str] = set()
        self._size: dict[int, int] = {}
        self._expanded = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            return self._alias(parent, index, event)
        if self._depth >= MAX_DEPTH:
            raise _Refused(
                f"the data is nested more than {MAX_DEPTH} levels deep",
                event.start_mark,
                "a spec is a few levels deep: check the brackets and indentation here",
            )
        anchor: str | None = getattr(event, "anchor", None)
        self._depth += 1
        if anchor is not None:
            self._open.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open.discard(anchor)
        if node is not None:
            self._size[id(node)] = 1 + sum(self._size.get(id(c), 1) for c in _children(node))
        return node

    def _alias(
        self, parent: yaml.Node | None, index: int, event: yaml.AliasEvent
    ) -> yaml.Node | None:
        if event.anchor in self._open:
            raise _Refused(
                f"the alias *{event.anchor} is inside the value of its own anchor "
                f"&{event.anchor}, so it would repeat forever",
                event.start_mark,
                "an alias may only repeat a value written before it, not one that contains it",
            )
        node = super().compose_node(parent, index)
        size = self._size.get(id(node), 1)
        self._expanded += size
        if self._expanded > MAX_ALIAS_VALUES:
            raise _Refused(
                f"aliases expand the file to more than {MAX_ALIAS_VALUES:,} values "
                f"(*{event.anchor} here repeats {size:,})",
                event.start_mark,
                "each alias copies its anchor's whole value: write the values out, or use "
                "fewer aliases",
            )
        return node


def _construct_problem(node: yaml.Node, exc: Exception) -> tuple[str, str]:
    """What to say when PyYAML cannot build a plain value (a date or number it matched)."""
    text = str(node.value)
    if node.tag.endswith(":timestamp"):
        return (
            f"'{_clip(text)}' is not a real date ({exc})",
            "write a calendar date as YYYY-MM-DD, e.g. 2027-01-01",
        )
    if node.tag.endswith(":int"):
        return (
            f"a number {len(text):,} characters long cannot be read",
            "write a number of ordinary size: no field takes more than a few digits",
        )
    return f"cannot read this value: {exc}", "write a plain value (number, text, date)"


def _value_problem(value: Any, written: str) -> tuple[str, str] | None:
    """Why a value PyYAML built is not allowed in a spec, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return (
            f"'{_clip(written)}' is not a finite number",
            "write a plain number such as 12 or 0.5; to set no limit, leave the field out",
        )
    if isinstance(value, bytes):
        return "binary data (!!binary) is not part of the spec language", "write plain text"
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        return (
            f"this text is {len(value):,} characters long",
            f"no value of a spec is longer than {MAX_TEXT_CHARS:,} characters; is this the "
            "right value (a closing quote missing)?",
        )
    if isinstance(value, str):
        bad = _CONTROL.search(value)
        if bad:
            return f"the text contains the control character {_char_name(bad[0])}", _CONTROL_HINT
    return None


class _Builder:
    """Walks a composed node tree into Python values, recording positions and problems."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.values: dict[YamlPath, Position] = {}
        self.keys: dict[YamlPath, Position] = {}
        self.issues: list[Issue] = []
        self.unreadable: set[YamlPath] = set()

    def _issue(self, pos: Position, path: YamlPath, message: str, hint: str) -> None:
        self.issues.append(Issue(self.file, pos[0], pos[1], format_path(path), message, hint))

    def _unreadable(self, node: yaml.Node, path: YamlPath, message: str, hint: str) -> None:
        self.unreadable.add(path)
        self._issue(_pos(node.start_mark), path, message, hint)

    def build(self, node: yaml.Node, path: YamlPath) -> Any:
        self.values[path] = _pos(node.start_mark)
        if isinstance(node, yaml.CollectionNode) and node.tag not in _COLLECTION_TAGS:
            self._unreadable(
                node,
                path,
                f"cannot read this value: the tag {_clip(node.tag)} is not supported",
                "write plain mappings and lists, without a '!' tag",
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: YamlPath) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self._unreadable(
                node,
                path,
                f"cannot read this value: {exc.problem}",
                "write a plain value (number, text, date, true/false) without a '!' tag",
            )
            return None
        except (ValueError, OverflowError) as exc:
            self._unreadable(node, path, *_construct_problem(node, exc))
            return None
        problem = _value_problem(value, str(node.value))
        if problem is not None:
            self._unreadable(node, path, *problem)
            return None
        return value

    def _entries(
        self, node: yaml.MappingNode, path: YamlPath, depth: int = 0
    ) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """(key, value, merged) pairs of a mapping with its merge keys (``<<``) resolved as YAML
        says: the mapping's own keys win, then earlier merged mappings over later ones."""
        own = [(k, v) for k, v in node.value if k.tag != _MERGE_TAG]
        seen = {str(k.value) for k, _ in own if isinstance(k, yaml.ScalarNode)}
        merged: list[tuple[yaml.Node, yaml.Node, bool]] = []
        for k, v in node.value:
            if k.tag != _MERGE_TAG:
                continue
            sources = v.value if isinstance(v, yaml.SequenceNode) else [v]
            for src in sources:
                if not isinstance(src, yaml.MappingNode):
                    self._issue(
                        _pos(src.start_mark),
                        path,
                        "bad merge key: '<<' merges a mapping or a list of mappings",
                        "write '<<: *name' where '&name' marks a mapping",
                    )
                    continue
                if depth >= MAX_DEPTH:
                    self._issue(
                        _pos(src.start_mark),
                        path,
                        f"merge keys ('<<') are chained more than {MAX_DEPTH} deep",
                        "merge a mapping that is written out, not one made of merges",
                    )
                    continue
                for sk, sv, _ in self._entries(src, path, depth + 1):
                    name = str(sk.value)
                    if name not in seen:
                        seen.add(name)
                        merged.append((sk, sv, True))
        return [*merged, *((k, v, False) for k, v in own)]

    def _mapping(self, node: yaml.MappingNode, path: YamlPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first: dict[str, Position] = {}
        for key_node, value_node, merged in self._entries(node, path):
            kpos = _pos(key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                self._issue(
                    kpos, path, "a key must be a plain name", "write 'name: value' on one line"
                )
                continue
            key = str(key_node.value)
            bad = _CONTROL.search(key)
            if bad:
                message = f"the key contains the control character {_char_name(bad[0])}"
                self._issue(kpos, path, message, _CONTROL_HINT)
                continue
            if key in first and not merged:
                line, col = first[key]
                self._issue(
                    kpos,
                    path,
                    f"duplicate key '{_clip(key)}' (first given at line {line}, column {col})",
                    "give each key once; YAML would silently keep only the last one",
                )
            else:
                first[key] = kpos
            self.keys[(*path, key)] = kpos
            out[key] = self.build(value_node, (*path, key))
        return out


_SYNTAX_HINTS: tuple[tuple[str, str], ...] = (
    ("'\\t'", "indent with spaces, never tabs"),
    ("quoted text", "close the quote with the same quote character it opens with"),
    ("expected ':'", "check that each key is followed by ':' and lines at one level line up"),
    (
        "mapping values are not allowed",
        "a value containing ': ' must be quoted, or this line is indented too far",
    ),
    ("expected <block end>", "this line's indentation does not match the lines above it"),
    ("single document", "a spec file holds one YAML document: remove the extra '---'"),
    ("flow", "close the '[' or '{' opened earlier, and separate items with commas"),
)


def _syntax_issue(exc: yaml.YAMLError, file: str) -> Issue:
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        return Issue(file, 1, 1, "", f"not valid YAML: {exc}", "check the file's syntax")
    text = " ".join(str(x) for x in (exc.context, exc.problem) if x)
    mark = exc.problem_mark
    if exc.context_mark is not None and exc.context:
        text += f" (the {exc.context.split()[-1]} starts at line {exc.context_mark.line + 1})"
        if "quoted scalar" in exc.context:  # point at the quote that is never closed
            text, mark = "a quoted text is never closed", exc.context_mark
    hint = next(
        (h for needle, h in _SYNTAX_HINTS if needle in text),
        "check indentation (spaces, the same for each level) and quotes near here",
    )
    line, column = _pos(mark)
    return Issue(file, line, column, "", f"YAML syntax error: {text}", hint)


def _forbidden_characters(text: str, file: str) -> list[Issue]:
    """An issue for each character YAML does not allow in a file (the first few of them)."""
    found = list(
        itertools.islice(yaml.reader.Reader.NON_PRINTABLE.finditer(text), 1 + MAX_LISTED_CHARACTERS)
    )
    out = []
    for m in found[:MAX_LISTED_CHARACTERS]:
        line = text.count("\n", 0, m.start()) + 1
        column = m.start() - text.rfind("\n", 0, m.start())
        out.append(
            Issue(
                file,
                line,
                column,
                "",
                f"the file contains the character {_char_name(m[0])}, which YAML does not allow",
                "delete it: it is invisible in most editors (`cat -A FILE` shows it)",
            )
        )
    if len(found) > MAX_LISTED_CHARACTERS:
        out.append(Issue(file, out[-1].line, out[-1].column, "", "more such characters follow", ""))
    return out


def read_document(text: str, file: str) -> Document:
    """Parse YAML text into a :class:`Document`; fatal problems raise :class:`SpecError`."""
    forbidden = _forbidden_characters(text, file)
    if forbidden:
        raise SpecError(forbidden)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except _Refused as exc:
        line, column = _pos(exc.problem_mark)
        raise SpecError([Issue(file, line, column, "", str(exc.problem), exc.hint)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([_syntax_issue(exc, file)]) from None
    finally:
        loader.dispose()
    if node is None:
        raise SpecError(
            [
                Issue(
                    file,
                    1,
                    1,
                    "",
                    "the file is empty",
                    "a spec needs at least 'horizon:' (see examples/small.yaml)",
                )
            ]
        )
    if not isinstance(node, yaml.MappingNode):
        what = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        line, column = _pos(node.start_mark)
        raise SpecError(
            [
                Issue(
                    file,
                    line,
                    column,
                    "",
                    f"the top level must be a mapping of fields, got {what}",
                    "start with lines such as 'horizon:' and 'services:' at column 1",
                )
            ]
        )
    builder = _Builder(loader, file)
    data = builder.build(node, ())
    source = SourceMap(file, builder.values, builder.keys)
    return Document(data, source, tuple(builder.issues), frozenset(builder.unreadable))
