"""Rendering for ``archipel catalog import``, ``offers`` and ``report``.

:func:`import_json` and :func:`print_import` give the import's JSON body and its rich table and
lines (file names escaped, emoji codes off: the caller's console).

Offers and report are plain text (no markup, no emoji codes) that fits a width:
:func:`render_columns` drops optional columns by priority and wraps long values only after ``-``,
``_``, ``.``, ``:``, ``/`` or a space, never inside a word; :func:`offer_lines` switches to a
narrow layout (scale-up and fabric abbreviated into one ``link`` column) when the full table does
not fit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from archipel.catalog.flags import EXCLUDE_HINT
from archipel.catalog.importer import FileReport, ImportReport
from archipel.catalog.model import Catalog, Offering
from archipel.catalog.pricing_rules import CPU_ONLY, SKIP_NOT_AI
from archipel.catalog.report import CatalogReport


@dataclass(frozen=True, slots=True)
class Column:
    """A plain-text column: lower ``priority`` is kept longer when the width is short (0:
    always); ``wrap`` lets long values wrap after - _ . : or a space."""

    header: str
    right: bool = False
    priority: int = 0
    wrap: bool = False


OFFER_COLUMNS = (
    Column("provider:region", wrap=True),
    Column("instance type", wrap=True),
    Column("accelerator"),
    Column("n", right=True, priority=2),
    Column("option", priority=1),
    Column("USD/node-h", right=True, priority=6),
    Column("USD/accel-h", right=True),
    Column("scale-up", priority=1),
    Column("fabric", priority=1),
    Column("avail", right=True, priority=5),
    Column("int/h", right=True, priority=7),
    Column("*"),
)
# Narrow terminals: one "link" column (scale-up/fabric, abbreviated) instead of two.
NARROW_OFFER_COLUMNS = (
    Column("provider:region", wrap=True),
    Column("instance type", wrap=True),
    Column("accel"),
    Column("n", right=True, priority=2),
    Column("option", priority=1),
    Column("USD/accel-h", right=True),
    Column("link", priority=1),
    Column("*"),
)
_SHORT = {
    "on_demand": "od",
    "reserved": "rsv",
    "nvswitch": "nvs",
    "nvlink": "nvl",
    "nvlink-bridge": "nvl-br",
    "neuronlink": "neuron",
    "infinity-fabric": "if",
    "infiniband": "ib",
    "gpudirect-tcpx": "tcpx",
    "gpudirect-tcpxo": "tcpxo",
}


def offer_lines(offerings: Sequence[Offering], width: int) -> list[str]:
    """The offers table in ``width`` columns: the full table when it fits, else the narrow one
    (scale-up and fabric abbreviated into one ``link`` column, e.g. ``nvs/ib``)."""
    wide = [
        [
            o.region_id,
            o.instance_type,
            o.accelerator,
            str(o.accelerators_per_node),
            o.purchase_option.value,
            f"{o.price_usd_per_node_hour:.4f}",
            f"{o.price_usd_per_accelerator_hour:.4f}",
            o.scale_up or "?",
            f"{o.fabric} {o.fabric_gbps:g}" if o.fabric else "-",
            f"{o.availability:g}",
            f"{o.interruptions_per_hour:g}",
            "*" if o.flags else "",
        ]
        for o in offerings
    ]
    if _natural_width(OFFER_COLUMNS, wide, max_priority=1) <= width:
        return render_columns(OFFER_COLUMNS, wide, width)
    narrow = [
        [
            o.region_id,
            o.instance_type,
            o.accelerator,
            str(o.accelerators_per_node),
            _SHORT.get(o.purchase_option.value, o.purchase_option.value),
            f"{o.price_usd_per_accelerator_hour:.4f}",
            f"{_SHORT.get(o.scale_up, o.scale_up or '?')}/{_SHORT.get(o.fabric, o.fabric or '-')}",
            "*" if o.flags else "",
        ]
        for o in offerings
    ]
    return render_columns(NARROW_OFFER_COLUMNS, narrow, width)


_GAP = "  "
_BREAK = re.compile(r"(?<=[-_.:/ ])")


def _pieces(text: str) -> list[str]:
    """``text`` split after each break character (the places a value may wrap)."""
    return [p for p in _BREAK.split(text) if p]


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width``, broken only after break characters; a piece
    longer than ``width`` stays whole (the caller sized columns to the longest piece)."""
    lines: list[str] = []
    for piece in _pieces(text):
        if lines and len(lines[-1]) + len(piece) <= width:
            lines[-1] += piece
        else:
            lines.append(piece)
    return [line.rstrip() for line in lines] or [""]


def render_columns(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int
) -> list[str]:
    """Rows as plain-text lines no wider than ``width`` where possible: optional columns are
    dropped by priority, then wrappable columns are narrowed down to their longest piece; a
    value is never cut inside a word."""
    cols = list(range(len(columns)))
    natural = [max([len(columns[i].header), *(len(r[i]) for r in rows)]) for i in cols]
    floor = [
        max([len(columns[i].header), *(len(p) for r in rows for p in _pieces(r[i]))])
        if columns[i].wrap
        else natural[i]
        for i in cols
    ]

    def total(keep: list[int], widths: list[int]) -> int:
        return sum(widths[i] for i in keep) + len(_GAP) * (len(keep) - 1)

    def shrunk(keep: list[int]) -> list[int]:
        widths = natural[:]
        while total(keep, widths) > width:
            shrinkable = [i for i in keep if widths[i] > floor[i]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda i: widths[i] - floor[i])
            widths[widest] = max(floor[widest], widths[widest] - (total(keep, widths) - width))
        return widths

    # Columns of priority ≥ 2 go before any value wraps; those of priority 1 only when
    # wrapping is not enough; those of priority 0 never.
    keep = cols[:]
    for i in sorted((i for i in cols if columns[i].priority), key=lambda i: -columns[i].priority):
        widths = shrunk(keep) if columns[i].priority == 1 else natural
        if total(keep, widths) <= width:
            break
        keep.remove(i)
    widths = shrunk(keep)
    lines = [
        _line(
            [columns[i].header for i in keep], [columns[i] for i in keep], [widths[i] for i in keep]
        )
    ]
    for row in rows:
        cells = [_wrap(row[i], widths[i]) if columns[i].wrap else [row[i]] for i in keep]
        lines.extend(
            _line(
                [c[k] if k < len(c) else "" for c in cells],
                [columns[i] for i in keep],
                [widths[i] for i in keep],
            )
            for k in range(max(len(c) for c in cells))
        )
    return lines


def _natural_width(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], *, max_priority: int
) -> int:
    """The unwrapped width of the columns of priority ≤ ``max_priority``."""
    keep = [i for i, c in enumerate(columns) if c.priority <= max_priority]
    widths = [max([len(columns[i].header), *(len(r[i]) for r in rows)]) for i in keep]
    return sum(widths) + len(_GAP) * (len(keep) - 1)


def _line(cells: Sequence[str], columns: Sequence[Column], widths: Sequence[int]) -> str:
    return _GAP.join(
        c.rjust(w) if col.right else c.ljust(w)
        for c, col, w in zip(cells, columns, widths, strict=True)
    ).rstrip()


def report_lines(cat: Catalog, report: CatalogReport, width: int) -> list[str]:
    """The text of ``archipel catalog report`` (plain, no markup), ``width`` columns wide."""
    m = cat.manifest
    out = [
        f"snapshot captured {m.captured}, schema {m.schema_version}, sha256 "
        f"{m.content_sha256[:12]}: {report.offerings} offerings",
        "",
        "per provider",
    ]
    out += render_columns(
        (
            Column("provider"),
            Column("offerings", right=True),
            Column("regions", right=True),
            Column("accelerators", right=True),
            Column("flagged", right=True),
        ),
        [
            [p.provider, str(p.offerings), str(p.regions), str(p.accelerators), str(p.flagged)]
            for p in report.providers
        ],
        width,
    )
    out += ["", f"flagged rows: {report.flagged_rows} of {report.offerings}"]
    for flag in report.flags:
        out += para(
            f"{flag.flag} ({_n(flag.rows, 'row')}): {flag.meaning}. Or: {flag.remedy}.",
            width,
            "  ",
        )
    out += para(f"To plan without them: {EXCLUDE_HINT}.", width, "  ")
    out += ["", f"rejected source rows: {len(report.rejected)}"]
    for reason, n in report.rejected_by_reason:
        files = sorted({r.file for r in report.rejected if r.reason == reason})
        out += para(f"{_n(n, 'row')}: {reason} ({', '.join(files)})", width, "  ")
    out += ["", "accelerator names folded onto chips"]
    for f in report.folded:
        types = ", ".join(f.instance_types[:4]) + (", ..." if len(f.instance_types) > 4 else "")
        out += para(
            f"{f.provider}: {f.source_name} -> {f.accelerator} ({_n(f.rows, 'source row')}; "
            f"{types})",
            width,
            "  ",
        )
    out += ["", "chips of your own (accelerator-declared)"]
    for d in report.declared:
        out += para(
            f"{d.accelerator}: {_n(d.offerings, 'offering')} ({', '.join(d.providers)})",
            width,
            "  ",
        )
    out += para(
        "their facts come from the spec's `accelerators:`; a spec that does not declare one "
        "cannot plan on its offerings"
        if report.declared
        else "none: every offering is of a built-in chip",
        width,
        "  ",
    )
    c = report.coverage
    out += [
        "",
        "topology coverage",
        f"  scale-up link known:  {c.scale_up_known} of {c.offerings} "
        f"({c.share(c.scale_up_known):.0%})",
        f"  documented topology:  {c.documented} of {c.offerings} ({c.share(c.documented):.0%})",
        f"  scale-out fabric:     {c.with_fabric} of {c.offerings} ({c.share(c.with_fabric):.0%})",
    ]
    return out


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def para(text: str, width: int, indent: str) -> list[str]:
    """``text`` wrapped at spaces to ``width``, continuation lines indented by two more spaces
    (a word longer than a line stays whole)."""
    lines: list[str] = []
    line = indent
    for word in text.split(" "):
        if line.strip() and len(line) + 1 + len(word) > width:
            lines.append(line.rstrip())
            line = indent + "  "
        line += (" " if line.strip() else "") + word
    lines.append(line.rstrip())
    return lines


def _file_json(f: FileReport) -> dict[str, Any]:
    return {
        "file": f.file,
        "provider": f.provider,
        "layout": f.layout.value,
        "rows_read": f.rows_read,
        "rows_kept": f.rows_kept,
        "rows_skipped": f.rows_skipped,
        "rows_rejected": len(f.rejected),
        "offerings": f.offerings,
        "skipped": dict(f.skipped),
        "skipped_accelerators": dict(f.skipped_accelerators),
        "rejected": [{"file": r.file, "line": r.line, "reason": r.reason} for r in f.rejected],
        "notes": list(f.notes),
        "folded": [
            {"source_name": n.source_name, "accelerator": n.accelerator, "rows": n.rows}
            for n in f.folded
        ],
        "declared": dict(f.declared),
    }


def import_json(report: ImportReport) -> dict[str, Any]:
    """The body of ``archipel catalog import --json`` (without the written snapshot)."""
    return {
        "files": [_file_json(f) for f in report.files],
        "ignored": list(report.ignored),
        "offerings": len(report.offerings),
        "declared": report.declared,  # chip of your own -> rows kept
    }


def print_import(out: Console, report: ImportReport, written: dict[str, Any] | None) -> None:
    """The text of ``archipel catalog import``: per-file counts, skipped reasons, chips of your
    own, rejected rows, and the snapshot written (rich markup, no emoji codes)."""
    table = Table(title="catalog import", title_justify="left")
    for name in ("file", "provider", "layout", "read", "kept", "skipped", "rejected", "offerings"):
        table.add_column(
            name, justify="left" if name in ("file", "provider", "layout") else "right"
        )
    for f in report.files:
        table.add_row(
            escape(f.file),
            f.provider,
            f.layout.value,
            str(f.rows_read),
            str(f.rows_kept),
            str(f.rows_skipped),
            str(len(f.rejected)),
            str(f.offerings),
        )
    out.print(table)
    for f in report.files:
        for reason, n in sorted(f.skipped.items()):
            why = reason + (_chips_skipped(f) if reason == SKIP_NOT_AI else "")
            out.print(f"{escape(f.file)}: skipped {n}: {escape(why)}", highlight=False)
        for note in f.notes:
            out.print(f"{escape(f.file)}: note: {escape(note)}", highlight=False)
    for chip, rows in report.declared.items():
        kept = f"{rows} row{'' if rows == 1 else 's'} kept" if rows else "no row kept"
        out.print(
            f"chip of your own {escape(chip)}: {kept}; declare its facts in the spec's "
            "`accelerators:`",
            highlight=False,
        )
    for r in report.rejected:
        out.print(f"[red]rejected[/] {escape(str(r))}", highlight=False)
    for why in report.ignored:
        out.print(f"ignored {escape(why)}", highlight=False)
    out.print(
        f"{len(report.offerings)} offerings from {len(report.files)} files; "
        f"{len(report.rejected)} rows rejected"
    )
    if written is not None:
        out.print(
            f"wrote snapshot {escape(written['path'])}: {written['offerings']} offerings, "
            f"sha256 {written['content_sha256'][:12]}",
            highlight=False,
        )
        for region_id, n in written["left_out_by_region"].items():
            out.print(f"  left out {n} offerings in {region_id} (no region facts)")


def _chips_skipped(f: FileReport, most: int = 6) -> str:
    """The accelerator names skipped as outside the facts table (most rows first), and how to
    keep one: `` (A10G 2, V100 1); keep a chip of your own with --accelerator NAME``."""
    names = sorted(
        ((a, n) for a, n in f.skipped_accelerators.items() if a and a != CPU_ONLY),
        key=lambda an: (-an[1], an[0]),
    )
    if not names:
        return ""
    listed = ", ".join(f"{a} {n}" for a, n in names[:most]) + (", …" if len(names) > most else "")
    return f" ({listed}); keep a chip of your own with --accelerator NAME"


def offering_json(o: Offering) -> dict[str, Any]:
    """An offering as ``catalog offers --json`` prints it."""
    return {
        "id": o.id,
        "provider": o.provider,
        "region": o.region,
        "instance_type": o.instance_type,
        "accelerator": o.accelerator,
        "accelerators_per_node": o.accelerators_per_node,
        "purchase_option": o.purchase_option.value,
        "price_usd_per_node_hour": o.price_usd_per_node_hour,
        "price_usd_per_accelerator_hour": o.price_usd_per_accelerator_hour,
        "interruptions_per_hour": o.interruptions_per_hour,
        "max_nodes": o.max_nodes,
        "scale_up": o.scale_up,
        "fabric": o.fabric,
        "fabric_gbps": o.fabric_gbps,
        "availability": o.availability,
        "flags": list(o.flags),
    }
