"""The terminal tables about the fleet itself: where each workload runs, how each model is
served, and what is left after losing a provider.

Each table is offered as views, richest first (see :mod:`archipel.report.fit`): at 120 columns
the placement table has one column per fact; at 80 the region and the instance type share a
cell, one above the other; narrower, the accelerator column goes, purchase options are
abbreviated (``OD``), then replicas go. Workloads head their own rows, so a long workload name
never widens a column of figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from archipel.plan.result import Plan
from archipel.report.figures import (
    PlacementKey,
    PlacementTotals,
    aggregate_placements,
    survivability_rows,
)
from archipel.report.fit import Col, Row, View, print_table, stack
from archipel.report.fmt import (
    MISSING,
    format_fraction,
    format_number,
    format_rate,
    format_replica,
    format_usd,
    option_label,
)

MAX_PLACEMENT_ROWS = 40
MAX_PLACEMENTS_PER_WORKLOAD = 8
MAX_CLASS_COLUMNS = 4
INDENT = "  "


def mark(ok: bool) -> Text:
    return Text("✓", style="bold green") if ok else Text("✗", style="bold red")


# --------------------------------------------------------------------------- placements


@dataclass(frozen=True, slots=True)
class _Group:
    workload: str
    kind: str
    cost_usd: float


@dataclass(frozen=True, slots=True)
class _More:
    count: int
    cost_usd: float


_Entry = _Group | tuple[PlacementKey, PlacementTotals] | _More


def _placement_entries(plan: Plan) -> list[_Entry]:
    """Workloads by decreasing cost, each followed by its dearest placements (capped)."""
    by_workload: dict[str, list[tuple[PlacementKey, PlacementTotals]]] = defaultdict(list)
    for key, t in aggregate_placements(plan.allocations).items():
        by_workload[key.workload].append((key, t))
    cost = {w: sum(t.cost_usd for _, t in rows) for w, rows in by_workload.items()}
    entries: list[_Entry] = []
    shown = 0
    for w in sorted(by_workload, key=lambda w: (-cost[w], w)):
        rows = sorted(by_workload[w], key=lambda kv: (-kv[1].cost_usd, kv[0]))
        take = max(1, min(MAX_PLACEMENTS_PER_WORKLOAD, MAX_PLACEMENT_ROWS - shown))
        entries.append(_Group(w, rows[0][0].workload_kind, cost[w]))
        entries.extend(rows[:take])
        shown += take
        if len(rows) > take:
            entries.append(_More(len(rows) - take, sum(t.cost_usd for _, t in rows[take:])))
            shown += 1
    return entries


@dataclass(frozen=True, slots=True)
class _Layout:
    stacked: bool  # region above instance type in one cell
    accelerator: bool
    short_options: bool
    replicas: bool
    utilisation: bool


_LAYOUTS = (
    _Layout(stacked=False, accelerator=True, short_options=False, replicas=True, utilisation=True),
    _Layout(stacked=True, accelerator=True, short_options=False, replicas=True, utilisation=True),
    _Layout(stacked=True, accelerator=False, short_options=False, replicas=True, utilisation=True),
    _Layout(stacked=True, accelerator=False, short_options=True, replicas=True, utilisation=True),
    _Layout(stacked=True, accelerator=False, short_options=True, replicas=False, utilisation=True),
    _Layout(stacked=True, accelerator=False, short_options=True, replicas=False, utilisation=False),
)


def _accelerators(key: PlacementKey, t: PlacementTotals) -> str:
    per_node = t.accelerators_per_node
    return f"{format_number(per_node)}×{key.accelerator}" if per_node > 0 else key.accelerator


def _replicas(key: PlacementKey, t: PlacementTotals) -> str:
    if key.workload_kind != "service" or t.peak_replicas <= 0:
        return MISSING
    return format_number(t.peak_replicas)


def _placement_view(entries: Sequence[_Entry], layout: _Layout) -> View:
    first = "workload / region / instance type" if layout.stacked else "workload / region"
    cols = [Col(first, wrap=True)]
    cols += [] if layout.stacked else [Col("instance type")]
    cols += [Col("accel")] if layout.accelerator else []
    cols += [Col("option"), Col("nodes", figure=True)]
    cols += [Col("replicas", figure=True)] if layout.replicas else []
    cols += [Col("util", figure=True)] if layout.utilisation else []
    cols.append(Col("cost", figure=True))
    blank = [""] * (len(cols) - 2)
    rows: list[Row] = []
    for e in entries:
        if isinstance(e, _Group):
            name = Text(e.workload, style="bold")
            if e.kind != "service":
                name.append(f" ({e.kind})", style="dim")
            rows.append([name, *blank, Text(format_usd(e.cost_usd), style="bold")])
        elif isinstance(e, _More):
            more = Text(f"{INDENT}… {e.count} more", style="dim")
            rows.append([more, *blank, Text(format_usd(e.cost_usd), style="dim")])
        else:
            key, t = e
            row: list[str | Text] = []
            if layout.stacked:
                row.append(stack(INDENT + key.region, Text(INDENT + key.instance_type, "dim")))
            else:
                row += [Text(INDENT + key.region), Text(key.instance_type)]
            row += [Text(_accelerators(key, t))] if layout.accelerator else []
            row.append(Text(option_label(key.purchase_option, short=layout.short_options)))
            row.append(format_number(t.peak_nodes))
            row += [_replicas(key, t)] if layout.replicas else []
            row += [format_fraction(t.utilisation)] if layout.utilisation else []
            row.append(format_usd(t.cost_usd))
            rows.append(row)
    return View(cols, rows)


def print_placements(plan: Plan, console: Console) -> None:
    """Where each workload runs: per instance type, region and option, the peak nodes and
    replicas per period, the mean utilisation and the cost over the horizon."""
    entries = _placement_entries(plan)
    if not entries:
        return
    placed = [e for e in entries if isinstance(e, tuple)]
    has_replicas = any(t.peak_replicas > 0 for _, t in placed)
    has_utilisation = any(t.utilisation is not None for _, t in placed)
    layouts = list(
        dict.fromkeys(
            _Layout(
                layout.stacked,
                layout.accelerator,
                layout.short_options,
                layout.replicas and has_replicas,
                layout.utilisation and has_utilisation,
            )
            for layout in _LAYOUTS
        )
    )
    views = [_placement_view(entries, layout) for layout in layouts]
    title = "Where each workload runs (peak per period, cost over the horizon)"
    chosen = layouts[print_table(console, title, views)]
    notes = []
    if chosen.short_options:
        notes.append("OD = on-demand, resv = reserved")
    if chosen.utilisation:
        notes.append("util = share of the nodes' serving capacity used, mean over the horizon")
    for note in notes:
        console.print(Text(note, style="dim"))
    if notes:
        console.print()


# --------------------------------------------------------------------------- serving figures


def print_serving_figures(plan: Plan, console: Console) -> None:
    """Replica size and requests/s per replica per request class, with where each came from."""
    figures = sorted(plan.serving_figures, key=lambda f: (f.service, f.accelerator))
    if not figures:
        return
    classes = list(dict.fromkeys(c for f in figures for c in f.requests_per_s_per_replica))
    views: list[View] = []
    if len(classes) <= MAX_CLASS_COLUMNS:
        cols = [Col("service"), Col("replica"), *(Col(c, figure=True) for c in classes)]
        views.append(
            View(
                [*cols, Col("source")],
                [
                    (
                        Text(f.service),
                        format_replica(f.accelerators_per_replica, f.accelerator),
                        *(format_rate(f.requests_per_s_per_replica.get(c)) for c in classes),
                        Text(f.source),
                    )
                    for f in figures
                ],
            )
        )
    side: list[Row] = []
    grouped: list[Row] = []
    for i, f in enumerate(figures):
        first_of_service = i == 0 or figures[i - 1].service != f.service
        replica = format_replica(f.accelerators_per_replica, f.accelerator)
        if first_of_service:
            grouped.append((Text(f.service, style="bold"), "", "", ""))
        for j, (c, rate) in enumerate(f.requests_per_s_per_replica.items()):
            lead = j == 0
            side.append(
                (
                    Text(f.service if lead and first_of_service else ""),
                    replica if lead else "",
                    Text(c),
                    format_rate(rate),
                    Text(f.source if lead else ""),
                )
            )
            grouped.append(
                (
                    INDENT + replica if lead else "",
                    Text(c),
                    format_rate(rate),
                    f.source if lead else "",
                )
            )
    views.append(
        View(
            (
                Col("service"),
                Col("replica"),
                Col("class"),
                Col("req/s", figure=True),
                Col("source"),
            ),
            side,
        )
    )
    views.append(
        View(
            (Col("service / replica"), Col("class"), Col("req/s", figure=True), Col("source")),
            grouped,
        )
    )
    print_table(console, "Serving figures (requests/s per replica, per request class)", views)


# --------------------------------------------------------------------------- survivability


def print_survivability(plan: Plan, console: Console) -> None:
    """Per failure scenario and service: the required and the smallest served fraction."""
    if not plan.survivability:
        return
    side: list[Row] = []
    grouped: list[Row] = []
    for s in plan.survivability:
        rows = survivability_rows(s)
        required = format_fraction(s.required_fraction)
        grouped.append((Text(s.scenario, style="bold"), required, "", mark(s.ok)))
        if not rows:
            side.append((Text(s.scenario), "—", required, "—", mark(s.ok)))
        for i, (service, served, ok) in enumerate(rows):
            shown = Text(format_fraction(served), style="" if ok else "bold red")
            side.append(
                (Text(s.scenario if i == 0 else ""), Text(service), required, shown, mark(ok))
            )
            grouped.append((Text(INDENT + service), "", shown, mark(ok)))
    cols = (Col("required", figure=True), Col("min served", figure=True), Col("ok"))
    views = [
        View((Col("scenario"), Col("service"), *cols), side),
        View((Col("scenario / service"), *cols), grouped),
    ]
    print_table(console, "Survivability per failure scenario", views)
