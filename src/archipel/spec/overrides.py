"""Changes to a spec's YAML document before it is validated: what ``archipel whatif`` asks.

``--set PATH=VALUE``, ``--drop PATH`` and ``--lose-provider NAME`` edit the plain data that
:func:`archipel.spec.yaml_reader.read_document` reads from the spec file, so every check of the
spec language (models, names, catalog) runs on the changed spec as it runs on a file.

A PATH says where (:mod:`archipel.spec.override_paths`: ``contracts[aws-2025].discount_pct``,
``rules[residency]``). A VALUE is YAML (``20``, ``null``, ``[a, b]``, ``{x: 1}``), read by the
same guarded reader as spec files.

Every PATH refers to the spec as written. The ``--set``s apply in order, then the ``--drop``s;
then each lost provider gets a capacity limit of zero accelerators over the whole horizon
(appended to ``providers[NAME].capacity``): the planner honours it as any limit
(docs/semantics.md, "Capacity over time"), and contracts and rules naming the provider stay as
written — a take-or-pay commitment is still billed, a rule that needs the provider makes the
spec infeasible, which is the answer.

Errors: a malformed, unknown or conflicting PATH raises :class:`~archipel.errors.UserError`
naming the option and listing what exists at that level, with a "did you mean"; a spec that the
changes make invalid raises :class:`~archipel.errors.SpecError` whose issues
(:class:`OverrideIssue`) name the option that caused each one.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from archipel.catalog.model import Catalog
from archipel.errors import Issue, SpecError, UserError
from archipel.spec.check import validate_document
from archipel.spec.models import Spec
from archipel.spec.override_paths import (
    Place,
    Step,
    did_you_mean,
    names_listed,
    parse_path,
    resolve,
    written_path,
)
from archipel.spec.yaml_reader import Document, SourceMap, YamlPath, format_path, read_document

Option = Literal["--set", "--drop", "--lose-provider"]
MAX_ORIGIN = 72
"""Longest option text quoted at the head of a message; longer ones are cut with '…'."""
_FORMATTED = re.compile(r'\.?([A-Za-z0-9_\-]+)|\[(\d+)\]|\["([^"]*)"\]')


@dataclass(frozen=True, slots=True)
class Change:
    """One change as asked: the option, its text as written, the parsed path and value."""

    option: Option
    text: str
    steps: tuple[Step, ...] = ()
    value: Any = None

    @property
    def origin(self) -> str:
        """The option as the user wrote it, to head a message (a long one cut with '…')."""
        text = self.text if len(self.text) <= MAX_ORIGIN else self.text[: MAX_ORIGIN - 1] + "…"
        return f"{self.option} {text}"


@dataclass(frozen=True, slots=True)
class Landed:
    """Where a change landed in the changed document, and what was there before."""

    change: Change
    path: YamlPath  # in the changed document
    had_value: bool
    old_value: Any = None
    file_path: YamlPath = ()  # in the spec as written (a lost provider's limit: the new one)


@dataclass(frozen=True)
class Changed:
    """A document with the changes applied; ``landed`` in the order they were given,
    ``dropped`` the paths the ``--drop``s removed, in the order they were removed."""

    document: Document
    landed: tuple[Landed, ...]
    dropped: tuple[YamlPath, ...] = ()

    def file_path(self, path: YamlPath) -> YamlPath:
        """Where a path of the changed document was in the spec as written (items after a
        dropped one had moved up)."""
        for gone in reversed(self.dropped):
            path = _unmoved(path, gone)
        return path


@dataclass(frozen=True)
class OverrideIssue(Issue):
    """A problem of the changed spec, headed by the option that caused it (``origin``).

    ``located`` is False when the problem lies inside a value the option wrote: the file has
    no line for it, so none is shown."""

    origin: str = ""
    located: bool = True

    def __str__(self) -> str:
        if self.located:
            return f"{self.origin}: {Issue.__str__(self)}"
        fix = f" — {self.hint}" if self.hint else ""
        where = f"{self.path}: " if self.path else ""
        return f"{self.origin}: {where}{self.message}{fix}"


# --------------------------------------------------------------------------- parsing


def _split_assignment(text: str) -> tuple[str, str] | None:
    """PATH and VALUE of ``PATH=VALUE`` (the first '=' outside brackets); None without one."""
    depth, quote = 0, ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'" and depth:
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif ch == "=" and depth == 0:
            return text[:i], text[i + 1 :]
    return None


def parse_value(text: str, origin: str) -> Any:
    """A VALUE read as YAML by the spec reader (so it refuses what a spec file may not hold)."""
    body = "\n".join("  " + line for line in text.splitlines())
    try:
        doc = read_document(f"value:\n{body}\n", origin)
    except SpecError as exc:
        problems = exc.issues
    else:
        problems = doc.issues
        if not problems:
            return doc.data.get("value")
    first = problems[0]
    fix = f" — {first.hint}" if first.hint else ""
    raise UserError(f"{origin}: the value is not valid YAML: {first.message}{fix}")


def parse_set(text: str) -> Change:
    """``--set PATH=VALUE`` as a :class:`Change`."""
    origin = Change("--set", text).origin
    parts = _split_assignment(text)
    if parts is None:
        raise UserError(f"{origin}: no '=' — write PATH=VALUE, e.g. contracts[aws].discount_pct=12")
    path, value = parts
    return Change("--set", text, parse_path(path.strip(), origin), parse_value(value, origin))


def parse_drop(text: str) -> Change:
    """``--drop PATH`` as a :class:`Change`."""
    return Change("--drop", text, parse_path(text.strip(), Change("--drop", text).origin))


def lose_provider(name: str) -> Change:
    """``--lose-provider NAME`` as a :class:`Change` (its value is the provider's id)."""
    return Change("--lose-provider", name, value=name.strip())


# --------------------------------------------------------------------------- applying changes


def _moved(path: YamlPath, dropped: YamlPath) -> YamlPath | None:
    """``path`` once the value at ``dropped`` is removed: None when it lay under it; an item
    after it in the same list moves up by one."""
    n = len(dropped)
    if path[:n] == dropped:
        return None
    last = dropped[-1]
    if (
        isinstance(last, int)
        and len(path) >= n
        and path[: n - 1] == dropped[:-1]
        and isinstance(path[n - 1], int)
        and path[n - 1] > last  # type: ignore[operator]
    ):
        return (*path[: n - 1], path[n - 1] - 1, *path[n:])  # type: ignore[operator]
    return path


def _unmoved(path: YamlPath, dropped: YamlPath) -> YamlPath:
    """The inverse of :func:`_moved` for a path that was not under ``dropped``."""
    n, last = len(dropped), dropped[-1]
    if (
        isinstance(last, int)
        and len(path) >= n
        and path[: n - 1] == dropped[:-1]
        and isinstance(path[n - 1], int)
        and path[n - 1] >= last  # type: ignore[operator]
    ):
        return (*path[: n - 1], path[n - 1] + 1, *path[n:])  # type: ignore[operator]
    return path


def _remap(
    source: SourceMap, unreadable: frozenset[YamlPath], move: Callable[[YamlPath], YamlPath | None]
) -> tuple[SourceMap, frozenset[YamlPath]]:
    def over(table: dict[YamlPath, Any] | Any) -> dict[YamlPath, Any]:
        out = {}
        for p, pos in table.items():
            q = move(p)
            if q is not None:
                out[q] = pos
        return out

    kept = frozenset(q for q in map(move, unreadable) if q is not None)
    return SourceMap(source.file, over(source.values), over(source.keys)), kept


def _below(path: YamlPath, top: YamlPath) -> YamlPath | None:
    """None for a path strictly under ``top`` (its old value was replaced), else the path."""
    return None if len(path) > len(top) and path[: len(top)] == top else path


def _lose(data: dict[str, Any], change: Change) -> Landed:
    providers = data.setdefault("providers", [])
    name = change.value
    index = next(
        (i for i, p in enumerate(providers) if isinstance(p, dict) and p.get("id") == name), None
    )
    if index is None:
        providers.append({"id": name})
        index = len(providers) - 1
    limits = providers[index].setdefault("capacity", [])
    limits.append({"max_accelerators": 0})
    path = ("providers", index, "capacity", len(limits) - 1)
    return Landed(change, path, had_value=False, file_path=path)


def apply_changes(doc: Document, changes: Sequence[Change]) -> Changed:
    """``doc`` with ``changes`` applied (``doc`` itself is left as it was): the ``--set``s in
    order, then the ``--drop``s, then the lost providers. A PATH that does not exist, or a
    ``--drop`` of a value another change wrote, raises :class:`UserError`."""
    data = copy.deepcopy(doc.data)
    source, unreadable = doc.source, doc.unreadable
    landed: list[Landed] = []
    dropped: list[YamlPath] = []
    for change in (c for c in changes if c.option == "--set"):
        place = resolve(data, change.steps, change.origin, may_add=True)
        old = place.parent[place.last] if place.exists else None  # type: ignore[index]
        place.parent[place.last] = copy.deepcopy(change.value)  # type: ignore[index]
        source, unreadable = _remap(source, unreadable, functools.partial(_below, top=place.path))
        landed.append(Landed(change, place.path, place.exists, old, place.path))
    drops = [c for c in changes if c.option == "--drop"]
    places = [resolve(data, c.steps, c.origin, may_add=False) for c in drops]
    written = [p.path for p in places]
    for i, (change, place) in enumerate(zip(drops, places, strict=True)):
        _refuse_overlap(change, place.path, landed)
        old = place.parent.pop(place.last)  # type: ignore[arg-type]
        gone = place.path
        source, unreadable = _remap(source, unreadable, functools.partial(_moved, dropped=gone))
        landed = [
            Landed(x.change, _moved(x.path, gone) or x.path, x.had_value, x.old_value, x.file_path)
            for x in landed
        ]
        for j in range(i + 1, len(places)):  # later drops: their items may have moved up
            later = places[j]
            moved = _moved(later.path, gone)
            if moved is None:
                raise UserError(f"{drops[j].origin}: {change.origin} already drops it")
            places[j] = Place(moved, later.parent, moved[-1], later.exists)
        landed.append(Landed(change, gone, True, old, written[i]))
        dropped.append(gone)
    landed += [_lose(data, c) for c in changes if c.option == "--lose-provider"]
    order = {id(c): i for i, c in enumerate(changes)}
    landed.sort(key=lambda x: order[id(x.change)])
    return Changed(Document(data, source, doc.issues, unreadable), tuple(landed), tuple(dropped))


def _refuse_overlap(drop: Change, path: YamlPath, landed: Sequence[Landed]) -> None:
    for x in landed:
        if x.change.option == "--set" and x.path[: len(path)] == path:
            raise UserError(
                f"{drop.origin}: it drops what {x.change.origin} sets — keep one of the two"
            )


# --------------------------------------------------------------------------- validating


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith((top + ".", top + "["))


def _written_here(x: Landed) -> bool:
    """Whether the change's path still names what it changed (a dropped list item's place is
    taken by the next item)."""
    return not (x.change.option == "--drop" and isinstance(x.path[-1], int))


def _parse_formatted(path: str) -> YamlPath | None:
    """The inverse of :func:`format_path`; None for text it does not write."""
    out: list[str | int] = []
    at = 0
    while at < len(path):
        m = _FORMATTED.match(path, at)
        if m is None or (m.group(1) is not None and out and path[at] != "."):
            return None
        key, index, odd = m.groups()
        out.append(int(index) if index is not None else key if key is not None else odd)
        at = m.end()
    return tuple(out)


def _shown_path(issue_path: str, changed: Changed) -> str:
    """An issue's path (in the changed document) as a path of the spec as written."""
    parsed = _parse_formatted(issue_path)
    return issue_path if parsed is None else format_path(changed.file_path(parsed))


def attribute(issues: Iterable[Issue], changed: Changed) -> list[OverrideIssue]:
    """Each problem of the changed spec headed by the change that caused it: the change that
    wrote the value (then no file position is shown, and the path is the one the option
    wrote), else the most specific change under the problem's place, else the only change;
    with several unrelated changes, all of them."""
    out = []
    landed = changed.landed
    spots = [(x, format_path(x.path)) for x in landed]
    everyone = ", ".join(x.change.origin for x in landed)
    for issue in issues:
        inside = [(x, p) for x, p in spots if _written_here(x) and _under(issue.path, p)]
        around = [x for x, p in spots if p and _under(p, issue.path)]
        path = _shown_path(issue.path, changed)
        if inside:
            owner, top = max(inside, key=lambda xp: len(xp[1]))
            origin, located = owner.change.origin, owner.change.option == "--drop"
            if owner.change.steps and not located:
                path = written_path(owner.change.steps) + issue.path[len(top) :]
        elif len(around) == 1 or (not around and len(landed) == 1):
            origin, located = (around or list(landed))[0].change.origin, True
        elif around:
            origin, located = ", ".join(x.change.origin for x in around), True
        else:
            origin, located = f"after {everyone}", True
        where = (issue.file, issue.line, issue.column)
        out.append(
            OverrideIssue(*where, path, issue.message, issue.hint, origin=origin, located=located)
        )
    return out


def check_lost_providers(changes: Sequence[Change], spec: Spec, catalog: Catalog) -> None:
    """Refuse a ``--lose-provider`` naming a provider the spec cannot use anyway."""
    declared = {p.id for p in spec.providers}
    known = {p.id for p in catalog.providers} | declared
    selected = spec.catalog.providers
    for c in changes:
        if c.option != "--lose-provider":
            continue
        name = c.value
        if name not in known:
            raise UserError(
                f"{c.origin}: unknown provider '{name}' — {did_you_mean(name, known)}"
                f"known: {names_listed(sorted(known))}"
            )
        if selected is not None and name not in selected and name not in declared:
            raise UserError(
                f"{c.origin}: the spec already leaves {name} out (catalog.providers: "
                f"{names_listed(selected)}), so losing it changes nothing — name one of those"
            )


CatalogLoader = Callable[[str], Catalog]


def validate_changed(
    text: str, filename: str, changes: Sequence[Change], catalog: Catalog | CatalogLoader
) -> tuple[Spec, Spec, Catalog, Changed]:
    """The spec as written and as changed, both fully checked, and the catalog checked against.

    The spec as written is checked first, so its own problems are reported as usual
    (file:line:column); the changed spec's problems come as :class:`OverrideIssue`\\ s."""
    loaded: list[Catalog] = []

    def remember(source: str) -> Catalog:
        loaded.append(catalog(source) if callable(catalog) else catalog)
        return loaded[-1]

    doc = read_document(text, filename)
    if isinstance(catalog, Catalog):
        base, cat = validate_document(doc, filename, catalog), catalog
    else:
        base = validate_document(doc, filename, remember)
        cat = loaded[0]
    check_lost_providers(changes, base, cat)
    changed = apply_changes(doc, changes)
    try:
        spec = validate_document(changed.document, filename, cat)
    except SpecError as exc:
        raise SpecError(attribute(exc.issues, changed)) from None
    return base, spec, cat, changed
