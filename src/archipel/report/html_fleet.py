"""The HTML report's sections about the fleet: where each workload runs, how each model is
served, and what is left after losing a provider. Each returns a ``<section>`` (or ``""`` when the
plan has nothing to show)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from archipel.plan.result import Plan
from archipel.report.figures import (
    PlacementKey,
    PlacementTotals,
    aggregate_placements,
    nodes_are_whole,
    survivability_rows,
)
from archipel.report.fmt import (
    MISSING,
    format_fraction,
    format_number,
    format_rate,
    format_replica,
    format_usd,
    option_label,
)
from archipel.report.html_parts import Cell, Html, bad, ident, mark, note, section, table
from archipel.report.svg import FractionBar, fraction_bars


def _option(key: PlacementKey, t: PlacementTotals) -> Html:
    label = f'<span class="nw">{escape(option_label(key.purchase_option))}</span>'
    if t.availability < 1.0:
        up = format_fraction(t.availability)
        return Html(f'{label}<br><span class="sub">{up} up</span>')
    return Html(label)


def _instance(key: PlacementKey, t: PlacementTotals) -> Html:
    per_node = t.accelerators_per_node
    whole = per_node > 0 and abs(per_node - round(per_node)) < 1e-9
    accelerators = format_replica(round(per_node), key.accelerator) if whole else key.accelerator
    return Html(f'{ident(key.instance_type)}<br><span class="sub">{accelerators} per node</span>')


@dataclass(frozen=True, slots=True)
class _Column:
    header: str
    numeric: bool
    cell: Callable[[PlacementKey, PlacementTotals], Cell]


def _replicas(key: PlacementKey, t: PlacementTotals) -> str:
    return format_number(t.peak_replicas) if key.workload_kind == "service" else MISSING


def _columns(plan: Plan, placed: Sequence[PlacementTotals]) -> list[_Column]:
    """The allocation table's columns; replicas, utilisation and source only when stated."""
    nodes = "nodes" if nodes_are_whole(plan) else "nodes (fractional)"
    columns = [
        _Column("workload / region", False, lambda k, _: ident(k.region)),
        _Column("instance type", False, _instance),
        _Column("option", False, _option),
        _Column(nodes, True, lambda _, t: format_number(t.peak_nodes)),
    ]
    if any(t.peak_replicas > 0 for t in placed):
        columns.append(_Column("replicas", True, _replicas))
    if any(t.utilisation is not None for t in placed):
        columns.append(_Column("util.", True, lambda _, t: format_fraction(t.utilisation)))
    if any(t.sources for t in placed):
        columns.append(_Column("source", False, lambda _, t: ", ".join(t.sources) or MISSING))
    columns.append(_Column("cost", True, lambda _, t: format_usd(t.cost_usd)))
    return columns


def allocations(plan: Plan) -> str:
    """Per workload (dearest first), each placement: instance type, nodes, replicas, use, cost."""
    placements = aggregate_placements(plan.allocations)
    if not placements:
        return ""
    columns = _columns(plan, list(placements.values()))
    by_workload: dict[str, list[tuple[PlacementKey, PlacementTotals]]] = defaultdict(list)
    for key, t in placements.items():
        by_workload[key.workload].append((key, t))
    cost = {w: sum(t.cost_usd for _, t in rows) for w, rows in by_workload.items()}
    rows: list[list[Cell]] = []
    groups: list[int] = []
    for w in sorted(by_workload, key=lambda w: (-cost[w], w)):
        members = sorted(by_workload[w], key=lambda kv: (-kv[1].cost_usd, kv[0]))
        groups.append(len(rows))
        name = Html(f'{ident(w)} <span class="sub">{members[0][0].workload_kind}</span>')
        rows.append([name, *[""] * (len(columns) - 2), format_usd(cost[w])])
        rows.extend([c.cell(key, t) for c in columns] for key, t in members)
    numeric = [i for i, c in enumerate(columns) if c.numeric]
    return section(
        "Where each workload runs (peak per period, cost over the horizon)",
        table([c.header for c in columns], rows, numeric, groups=groups),
        note(
            "nodes and replicas: the peak per period. util.: share of the nodes' serving "
            "capacity the routed demand uses, mean over the horizon weighted by node-hours. "
            "source: where the throughput figures come from (measured, calibrated or estimated)."
            " For spot, the expected share of time the nodes are up."
        ),
    )


def serving_figures(plan: Plan) -> str:
    """Replica size and requests/s per replica per request class, with where each came from."""
    figures = sorted(plan.serving_figures, key=lambda f: (f.service, f.accelerator))
    if not figures:
        return ""
    classes = list(dict.fromkeys(c for f in figures for c in f.requests_per_s_per_replica))
    rows: list[list[Cell]] = [
        [
            ident(f.service),
            format_replica(f.accelerators_per_replica, f.accelerator),
            *(format_rate(f.requests_per_s_per_replica.get(c)) for c in classes),
            f.source,
        ]
        for f in figures
    ]
    headers = ["service", "replica", *classes, "source"]
    numeric = list(range(2, 2 + len(classes)))
    return section(
        "Serving figures (requests/s per replica, per request class)",
        table(headers, rows, numeric),
    )


def survivability(plan: Plan) -> str:
    """Per failure scenario and service, the smallest served fraction against the required."""
    if not plan.survivability:
        return ""
    bars: list[FractionBar] = []
    rows: list[list[Cell]] = []
    for s in plan.survivability:
        for service, served, ok in survivability_rows(s):
            bars.append(FractionBar(s.scenario, service, served, s.required_fraction, ok))
            rows.append(
                [
                    ident(s.scenario),
                    ident(service),
                    format_fraction(s.required_fraction),
                    format_fraction(served) if ok else bad(format_fraction(served)),
                    mark(ok),
                ]
            )
        if not s.served_fraction:
            rows.append(
                [
                    ident(s.scenario),
                    MISSING,
                    format_fraction(s.required_fraction),
                    MISSING,
                    mark(s.ok),
                ]
            )
    parts = [fraction_bars(bars, "survivability per failure scenario")] if bars else []
    failing = sum(1 for b in bars if not b.ok)
    if failing:
        parts.append(
            Html(f'<p class="bad">{failing} of {len(bars)} service scenarios fall short.</p>')
        )
    parts.append(table(["scenario", "service", "required", "min served", "ok"], rows, [2, 3]))
    return section("Survivability per failure scenario", *parts)
