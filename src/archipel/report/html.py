"""The HTML report: one self-contained page (inline CSS and SVG, no network) for a plan.

``render_html(plan)`` returns the page as a string; writing it is the caller's job. The page works
offline: no scripts, fonts or images are fetched, and tooltips are SVG ``<title>`` elements.
Every string from the plan is escaped. The same plan always gives the same bytes. It reads well
from about 800 px wide: tables scroll sideways inside their box instead of clipping, charts
scale with their ``viewBox`` (see :mod:`archipel.report.html_parts`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from html import escape

from archipel.plan.result import Plan, Status
from archipel.report.figures import (
    blocks_solved,
    node_view,
    period_labels,
    plan_total_usd,
    ranked_rule_costs,
)
from archipel.report.fmt import (
    bound_label,
    format_fraction,
    format_gap,
    format_number,
    format_seconds,
    format_usd,
    option_label,
    period_year,
)
from archipel.report.html_fleet import allocations, serving_figures, survivability
from archipel.report.html_parts import (
    CSS,
    Cell,
    Html,
    bad,
    ident,
    note,
    section,
    swatch,
    table,
)
from archipel.report.reservations import html_reservations
from archipel.report.svg import (
    OTHER_COLOUR,
    TRANSFER_COLOUR,
    CommitmentBar,
    MapPoint,
    Series,
    commitment_bars,
    provider_colours,
    stacked_bars,
    world_map,
)

MAX_CHART_PERIODS = 48


def _header(plan: Plan, title: str, notes: Sequence[str]) -> str:
    status_class = {Status.OPTIMAL: "ok", Status.FEASIBLE: "warn"}.get(plan.status, "bad")
    verified = (
        '<span class="ok">✓ verified</span>'
        if plan.verified
        else '<span class="bad">✗ not verified</span>'
    )
    facts = [
        f"spec <b>{escape(plan.spec_name)}</b>",
        f"planner {escape(plan.planner)}",
        f'status <span class="{status_class}">{escape(plan.status.value)}</span>',
        verified,
    ]
    if plan.allocations:
        facts.append(escape(node_view(plan)))
    blocks = blocks_solved(plan)
    if blocks > 1:
        facts.append(f"decomposed: {format_number(blocks)} independent blocks solved")
    lines = [f"<h1>{escape(title)}</h1>", f'<div class="meta">{" · ".join(facts)}</div>']
    if plan.message:
        lines.append(f'<div class="meta">solver: {escape(plan.message)}</div>')
    hashes = [
        f"{name} sha256 {escape(value[:12])}"
        for name, value in (("spec", plan.spec_sha256), ("catalog", plan.catalog_sha256))
        if value
    ]
    if hashes:
        lines.append(f'<div class="meta">{" · ".join(hashes)}</div>')
    if plan.verification_problems:
        items = "".join(f"<li>{escape(p)}</li>" for p in plan.verification_problems)
        lines.append(f'<ul class="bad">{items}</ul>')
    lines.extend(f'<div class="meta">{escape(n)}</div>' for n in notes)
    cards = [("total cost", format_usd(plan_total_usd(plan)))]
    cards.append(("objective", format_usd(plan.objective_usd)))
    if plan.lower_bound_usd is not None:
        cards.append((bound_label(plan.lower_bound_kind), format_usd(plan.lower_bound_usd)))
    if plan.gap is not None:
        cards.append(("gap", format_gap(plan.gap)))
    cards.append(("network transfer", format_usd(plan.egress_usd)))
    cards.append(("take-or-pay shortfall", format_usd(plan.shortfall_usd)))
    if plan.contracts:
        cards.append(("unused commitment", format_usd(plan.unused_commitment_usd)))
    cards.append(("reserved blocks (fixed)", format_usd(plan.reserved_fixed_usd)))
    if plan.reservations:
        bought = sum(r.in_horizon_usd for r in plan.reservations)
        cards.append(("reservations bought (in horizon)", format_usd(bought)))
    lines.append(
        '<div class="cards">'
        + "".join(f'<div class="card">{escape(k)}<b>{escape(v)}</b></div>' for k, v in cards)
        + "</div>"
    )
    return "<header>" + "\n".join(lines) + "</header>"


def _blockers(plan: Plan) -> str:
    if plan.status != Status.INFEASIBLE and not plan.infeasibility:
        return ""
    if not plan.infeasibility:
        return section("Why there is no plan", '<p class="bad">The solver named no blocker.</p>')
    rows: list[list[Cell]] = [
        [ident(b.family), ident(b.entity), bad(format_number(b.shortfall)), b.unit, b.description]
        for b in plan.infeasibility
    ]
    return section(
        "Why there is no plan (smallest relaxation that removes each blocker)",
        table(["family", "entity", "shortfall", "unit", "description"], rows, [2]),
    )


def _spend(plan: Plan, colours: Mapping[str, str]) -> str:
    labels = period_labels(plan)
    by_provider: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(labels))
    for a in plan.allocations:
        by_provider[a.provider][a.period] += a.cost_usd
    totals = [
        plan.cost_by_period_usd[t] if t < len(plan.cost_by_period_usd) else 0.0
        for t in range(len(labels))
    ]
    transfer = [0.0] * len(labels)
    for f in plan.flows:
        if 0 <= f.period < len(labels):
            transfer[f.period] += f.egress_usd
    alloc_sum = [sum(v[t] for v in by_provider.values()) + transfer[t] for t in range(len(labels))]
    other = [
        max(0.0, tot - s) if tot - s > 1e-6 * max(1.0, abs(tot)) else 0.0
        for tot, s in zip(totals, alloc_sum, strict=True)
    ]
    order = sorted(by_provider, key=lambda p: (-sum(by_provider[p]), p))
    series = [Series(p, by_provider[p], colours[p]) for p in order]
    if any(v > 0 for v in transfer):
        series.append(Series("network transfer", transfer, TRANSFER_COLOUR))
    if any(v > 0 for v in other):
        series.append(Series("reserved blocks & other", other, OTHER_COLOUR))
    categories = labels
    years = [period_year(label) for label in labels]
    if len(labels) > MAX_CHART_PERIODS and all(y is not None for y in years):
        index = sorted({y for y in years if y is not None})
        categories = [str(y) for y in index]
        series = [
            Series(
                s.name,
                [sum(v for v, y in zip(s.values, years, strict=True) if y == yr) for yr in index],
                s.colour,
            )
            for s in series
        ]
    parts = []
    if categories and series:
        parts.append(stacked_bars(categories, series, "spend by provider over periods"))
    total = sum(plan.cost_by_provider_usd.values())
    rows: list[list[Cell]] = [
        [swatch(p, colours), format_usd(c), format_fraction(c / total if total else 0.0)]
        for p, c in sorted(plan.cost_by_provider_usd.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    rows.append([Html("<b>total</b>"), format_usd(plan_total_usd(plan)), ""])
    parts.append(table(["provider", "cost (incl. shortfall)", "share"], rows, [1, 2]))
    period_rows: list[list[Cell]] = [
        [
            label,
            format_number(plan.period_hours[t]) if t < len(plan.period_hours) else "",
            format_usd(totals[t]),
        ]
        for t, label in enumerate(labels)
    ]
    parts.append(table(["period", "hours", "spend (excl. shortfall)"], period_rows, [1, 2]))
    mix = plan.cost_by_purchase_option_usd
    mix_total = sum(mix.values())
    mix_rows: list[list[Cell]] = [
        [option_label(o), format_usd(c), format_fraction(c / mix_total if mix_total else 0.0)]
        for o, c in sorted(mix.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    if mix_rows:
        parts.append(table(["purchase option", "cost", "share"], mix_rows, [1, 2]))
    return section("Spend by provider and period", *parts)


def _commitments(plan: Plan, colours: Mapping[str, str]) -> str:
    if not plan.contracts:
        return ""
    contracts = sorted(plan.contracts, key=lambda c: (c.contract, c.year))
    bars = [
        CommitmentBar(
            c.contract,
            c.year,
            c.provider,
            c.committed_usd,
            c.spent_usd,
            c.shortfall_usd,
            colours.get(c.provider, OTHER_COLOUR),
            idle=c.idle_usd,
            start=c.start,
        )
        for c in contracts
    ]

    def money(v: float, alarm: bool = False) -> Cell:
        return bad(format_usd(v)) if alarm and v > 0 else format_usd(v)

    # two tables of 7 columns: one of 11 does not fit an 800 px page
    outcome: list[list[Cell]] = [
        [
            ident(c.contract),
            swatch(c.provider, colours),
            str(c.year),
            format_usd(c.committed_usd),
            format_usd(c.useful_usd),
            money(c.idle_usd, True),
            money(c.shortfall_usd, True),
            money(c.unused_usd, True),
        ]
        for c in contracts
    ]
    terms: list[list[Cell]] = [
        [
            ident(c.contract),
            str(c.year),
            f"{c.start} to {c.end}",
            format_usd(c.discount_usd),
            format_usd(c.carried_out_usd),
            format_usd(c.reserved_fixed_usd),
        ]
        for c in contracts
    ]
    return section(
        "Commitments per contract year: useful, idle, shortfall, unused",
        commitment_bars(bars, "commitments vs spend"),
        table(
            ["contract", "provider", "year", "committed", "useful", "idle", "shortfall", "unused"],
            outcome,
            list(range(3, 8)),
        ),
        table(
            ["contract", "year", "dates", "discount", "carried out", "reserved fixed"],
            terms,
            list(range(3, 6)),
        ),
    )


def _capacity(
    plan: Plan,
    colours: Mapping[str, str],
    coords: Mapping[str, tuple[float, float]] | None,
    map_note: str,
) -> str:
    if not plan.allocations:
        return ""
    per_period: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    provider: dict[str, str] = {}
    accelerators: dict[str, set[str]] = defaultdict(set)
    acc_hours: dict[str, float] = defaultdict(float)
    cost: dict[str, float] = defaultdict(float)
    for a in plan.allocations:
        per_period[a.region][a.period] += a.accelerators
        provider[a.region] = a.provider
        accelerators[a.region].add(a.accelerator)
        acc_hours[a.region] += a.accelerators * a.hours
        cost[a.region] += a.cost_usd
    peak = {r: max(v.values()) for r, v in per_period.items()}
    regions = sorted(peak, key=lambda r: (-peak[r], r))
    rows: list[list[Cell]] = [
        [
            ident(r),
            swatch(provider[r], colours),
            ", ".join(sorted(accelerators[r])),
            format_number(peak[r]),
            format_number(acc_hours[r]),
            format_usd(cost[r]),
        ]
        for r in regions
    ]
    headers = ["region", "provider", "accelerators", "peak accelerators", "accel-hours", "cost"]
    parts = []
    if coords is not None:
        points = [
            MapPoint(
                r,
                provider[r],
                coords[r][0],
                coords[r][1],
                peak[r],
                colours[provider[r]],
                f"{r}: peak {format_number(peak[r])} accelerators, {format_usd(cost[r])}",
            )
            for r in regions
            if r in coords and all(map(math.isfinite, coords[r]))
        ]
        parts.append(world_map(points, "accelerators by region"))
        missing = [r for r in regions if r not in coords]
        if missing:
            parts.append(note(f"No coordinates for: {', '.join(missing)}."))
    elif map_note:
        parts.append(note(map_note))
    parts.append(table(headers, rows, [3, 4, 5]))
    return section("Capacity by region (peak accelerators per period)", *parts)


def _rule_costs(plan: Plan) -> str:
    ranked = ranked_rule_costs(plan, limits=len(plan.rule_costs))
    if not ranked:
        return ""

    def usd(v: float | None) -> str:
        return "—" if v is None else format_usd(v)

    rows: list[list[Cell]] = [
        [r.kind, ident(r.name), usd(r.effect_usd), usd(r.marginal_usd), r.unit, r.method]
        for r in ranked
    ]
    return section(
        "What each rule and contract costs (positive: makes the plan dearer)",
        table(
            ["kind", "rule, contract or limit", "effect", "marginal", "unit", "method"],
            rows,
            [2, 3],
        ),
    )


def _timings(plan: Plan) -> str:
    if not plan.timings_s and not plan.stats:
        return ""
    rows: list[list[Cell]] = [[k, format_seconds(v)] for k, v in plan.timings_s.items()]
    rows += [[k, format_number(v)] for k, v in plan.stats.items()]
    return section("Timings and model size", table(["what", "value"], rows, [1]))


def render_html(
    plan: Plan,
    title: str | None = None,
    region_coords: Mapping[str, tuple[float, float]] | None = None,
    notes: Sequence[str] = (),
    map_note: str = "",
) -> str:
    """The plan as one self-contained HTML page.

    ``region_coords`` (region id → lat, lon) adds a map; without them, ``map_note`` says why
    there is none. ``notes`` are shown under the header.
    """
    page_title = title if title is not None else f"Archipel plan — {plan.spec_name}"
    colours = provider_colours(
        [
            *plan.cost_by_provider_usd,
            *(a.provider for a in plan.allocations),
            *(c.provider for c in plan.contracts),
        ]
    )
    sections = [
        _header(plan, page_title, notes),
        _blockers(plan),
        _spend(plan, colours),
        _commitments(plan, colours),
        html_reservations(plan),
        _capacity(plan, colours, region_coords, map_note),
        survivability(plan),
        allocations(plan),
        serving_figures(plan),
        _rule_costs(plan),
        _timings(plan),
    ]
    body = "\n".join(s for s in sections if s)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(page_title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
