"""The HTML report: one self-contained page (inline CSS and SVG, no network) for a plan.

``render_html(plan)`` returns the page as a string; writing it is the caller's job. The page works
offline: no scripts, fonts or images are fetched, and tooltips are SVG ``<title>`` elements.
Every string from the plan is escaped. The same plan always gives the same bytes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from html import escape

from archipel.plan.result import Plan, Status
from archipel.report.figures import (
    aggregate_placements,
    plan_total_usd,
    ranked_binding_rules,
    survivability_rows,
)
from archipel.report.fmt import format_fraction, format_number, format_usd, period_year
from archipel.report.svg import (
    OTHER_COLOUR,
    CommitmentBar,
    FractionBar,
    MapPoint,
    Series,
    commitment_bars,
    fraction_bars,
    provider_colours,
    stacked_bars,
    world_map,
)

MAX_TABLE_ROWS = 500
MAX_CHART_PERIODS = 48

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;
background:#f6f7f9}
main{max-width:920px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}
section{background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:12px 16px;margin:12px 0}
.meta{color:#5f6368}.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}
.warn{color:#b26a00;font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:12px}
.card{background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:8px 14px;min-width:130px}
.card b{display:block;font-size:20px}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #eceef1;text-align:left;vertical-align:top}
th{background:#f1f3f5}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
svg.chart{max-width:100%;height:auto;font-size:11px;fill:#333}
svg .grid{stroke:#e0e0e0;stroke-width:1}svg .commit{stroke:#111;stroke-width:2}
svg .required{stroke:#111;stroke-width:2;stroke-dasharray:4 3}svg .sea{fill:#eef4fa}
svg .shortfall{stroke:#c62828}svg .land{fill:#dfe3e8;stroke:#c5ccd4}svg .axis{fill:#889}
.note{color:#5f6368;font-size:12px}
"""


class _Html(str):
    """Text that is already HTML (escaped where it needed to be)."""


Cell = str | _Html


def _cell(value: Cell, numeric: bool) -> str:
    body = value if isinstance(value, _Html) else escape(value)
    return f'<td class="n">{body}</td>' if numeric else f"<td>{body}</td>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], numeric: Sequence[int]) -> str:
    head = "".join(
        f'<th class="n">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    out = [f"<table><thead><tr>{head}</tr></thead><tbody>"]
    out.extend(
        "<tr>" + "".join(_cell(v, i in numeric) for i, v in enumerate(row)) + "</tr>"
        for row in rows[:MAX_TABLE_ROWS]
    )
    out.append("</tbody></table>")
    if len(rows) > MAX_TABLE_ROWS:
        out.append(f'<p class="note">… {len(rows) - MAX_TABLE_ROWS} more rows not shown.</p>')
    return "\n".join(out)


def _section(title: str, *parts: str) -> str:
    return "\n".join([f"<section><h2>{escape(title)}</h2>", *parts, "</section>"])


def _swatch(name: str, colours: Mapping[str, str]) -> _Html:
    colour = colours.get(name, OTHER_COLOUR)
    return _Html(f'<span class="swatch" style="background:{colour}"></span>{escape(name)}')


def _mark(ok: bool) -> _Html:
    return _Html('<span class="ok">✓</span>' if ok else '<span class="bad">✗</span>')


def _period_labels(plan: Plan) -> list[str]:
    n = max(
        len(plan.periods),
        len(plan.cost_by_period_usd),
        max((a.period + 1 for a in plan.allocations), default=0),
    )
    return [plan.periods[i] if i < len(plan.periods) else f"#{i}" for i in range(n)]


# --------------------------------------------------------------------------- sections


def _header(plan: Plan, title: str) -> str:
    status_class = {Status.OPTIMAL: "ok", Status.FEASIBLE: "warn"}.get(plan.status, "bad")
    verified = (
        '<span class="ok">✓ verified</span>'
        if plan.verified
        else '<span class="bad">✗ not verified</span>'
    )
    lines = [
        f"<h1>{escape(title)}</h1>",
        f'<div class="meta">spec <b>{escape(plan.spec_name)}</b> · planner {escape(plan.planner)}'
        f' · status <span class="{status_class}">{escape(plan.status.value)}</span> · {verified}'
        "</div>",
    ]
    if plan.message:
        lines.append(f'<div class="meta">solver: {escape(plan.message)}</div>')
    if plan.catalog_sha256:
        lines.append(f'<div class="meta">catalog sha256 {escape(plan.catalog_sha256[:12])}</div>')
    if plan.verification_problems:
        items = "".join(f"<li>{escape(p)}</li>" for p in plan.verification_problems)
        lines.append(f'<ul class="bad">{items}</ul>')
    cards = [
        ("total cost", format_usd(plan_total_usd(plan))),
        ("objective", format_usd(plan.objective_usd)),
        ("LP lower bound", format_usd(plan.lower_bound_usd)),
        ("gap", "—" if plan.gap is None or not math.isfinite(plan.gap) else f"{plan.gap:.2%}"),
        ("take-or-pay shortfall", format_usd(plan.shortfall_usd)),
        ("reserved blocks (fixed)", format_usd(plan.reserved_fixed_usd)),
    ]
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
        return _section("Why there is no plan", '<p class="bad">The solver named no blocker.</p>')
    rows = [
        [
            b.family,
            b.entity,
            _Html(f'<span class="bad">{format_number(b.shortfall)}</span>'),
            b.unit,
            b.description,
        ]
        for b in plan.infeasibility
    ]
    return _section(
        "Why there is no plan (smallest relaxation that removes each blocker)",
        _table(["family", "entity", "shortfall", "unit", "description"], rows, [2]),
    )


def _spend(plan: Plan, colours: Mapping[str, str]) -> str:
    labels = _period_labels(plan)
    by_provider: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(labels))
    for a in plan.allocations:
        by_provider[a.provider][a.period] += a.cost_usd
    totals = [
        plan.cost_by_period_usd[t] if t < len(plan.cost_by_period_usd) else 0.0
        for t in range(len(labels))
    ]
    alloc_sum = [sum(v[t] for v in by_provider.values()) for t in range(len(labels))]
    other = [
        max(0.0, tot - s) if tot - s > 1e-6 * max(1.0, abs(tot)) else 0.0
        for tot, s in zip(totals, alloc_sum, strict=True)
    ]
    order = sorted(by_provider, key=lambda p: (-sum(by_provider[p]), p))
    series = [Series(p, by_provider[p], colours[p]) for p in order]
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
        [_swatch(p, colours), format_usd(c), format_fraction(c / total if total else 0.0)]
        for p, c in sorted(plan.cost_by_provider_usd.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    rows.append([_Html("<b>total</b>"), format_usd(plan_total_usd(plan)), ""])
    parts.append(_table(["provider", "cost (incl. shortfall)", "share"], rows, [1, 2]))
    period_rows: list[list[Cell]] = [
        [
            label,
            format_number(plan.period_hours[t]) if t < len(plan.period_hours) else "",
            format_usd(totals[t]),
        ]
        for t, label in enumerate(labels)
    ]
    parts.append(_table(["period", "hours", "spend (excl. shortfall)"], period_rows, [1, 2]))
    mix = plan.cost_by_purchase_option_usd
    mix_total = sum(mix.values())
    mix_rows: list[list[Cell]] = [
        [o, format_usd(c), format_fraction(c / mix_total if mix_total else 0.0)]
        for o, c in sorted(mix.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    if mix_rows:
        parts.append(_table(["purchase option", "cost", "share"], mix_rows, [1, 2]))
    return _section("Spend by provider and period", *parts)


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
        )
        for c in contracts
    ]
    rows: list[list[Cell]] = [
        [
            c.contract,
            _swatch(c.provider, colours),
            str(c.year),
            format_usd(c.committed_usd),
            format_usd(c.spent_usd),
            _Html(f'<span class="bad">{escape(format_usd(c.shortfall_usd))}</span>')
            if c.shortfall_usd > 0
            else format_usd(c.shortfall_usd),
            format_usd(c.reserved_fixed_usd),
        ]
        for c in contracts
    ]
    headers = ["contract", "provider", "year", "committed", "spent", "shortfall", "reserved fixed"]
    return _section(
        "Commitments vs spend per contract and year",
        commitment_bars(bars, "commitments vs spend"),
        _table(headers, rows, [2, 3, 4, 5, 6]),
    )


def _capacity(
    plan: Plan, colours: Mapping[str, str], coords: Mapping[str, tuple[float, float]] | None
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
            r,
            _swatch(provider[r], colours),
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
            parts.append(f'<p class="note">No coordinates for: {escape(", ".join(missing))}.</p>')
    parts.append(_table(headers, rows, [3, 4, 5]))
    return _section("Capacity by region (peak accelerators per period)", *parts)


def _survivability(plan: Plan) -> str:
    if not plan.survivability:
        return ""
    bars: list[FractionBar] = []
    rows: list[list[Cell]] = []
    for s in plan.survivability:
        for service, served, ok in survivability_rows(s):
            bars.append(FractionBar(s.scenario, service, served, s.required_fraction, ok))
            rows.append(
                [
                    s.scenario,
                    service,
                    format_fraction(s.required_fraction),
                    format_fraction(served),
                    _mark(ok),
                ]
            )
        if not s.served_fraction:
            rows.append([s.scenario, "—", format_fraction(s.required_fraction), "—", _mark(s.ok)])
    parts = [fraction_bars(bars, "survivability per failure scenario")] if bars else []
    parts.append(_table(["scenario", "service", "required", "min served", "ok"], rows, [2, 3]))
    return _section("Survivability per failure scenario", *parts)


def _allocations(plan: Plan) -> str:
    placements = aggregate_placements(plan.allocations)
    if not placements:
        return ""
    ordered = sorted(placements.items(), key=lambda kv: (kv[0].workload, -kv[1].cost_usd, kv[0]))
    rows: list[list[Cell]] = [
        [
            k.workload,
            k.workload_kind,
            k.provider,
            k.region,
            k.accelerator,
            k.purchase_option,
            format_number(t.peak_nodes),
            format_number(t.peak_accelerators),
            format_number(t.accelerator_hours),
            format_usd(t.cost_usd),
        ]
        for k, t in ordered
    ]
    headers = [
        "workload",
        "kind",
        "provider",
        "region",
        "accelerator",
        "option",
        "peak nodes",
        "peak accels",
        "accel-hours",
        "cost",
    ]
    return _section("Where each workload runs", _table(headers, rows, [6, 7, 8, 9]))


def _binding_rules(plan: Plan) -> str:
    if not plan.binding_rules:
        return ""
    rows: list[list[Cell]] = [
        [r.family, r.entity, format_usd(r.shadow_price_usd), r.description]
        for r in ranked_binding_rules(plan, limit=len(plan.binding_rules))
    ]
    return _section(
        "Binding rules: what each costs (objective drop per unit of relaxation)",
        _table(["rule", "entity", "cost per unit", "description"], rows, [2]),
    )


def _timings(plan: Plan) -> str:
    if not plan.timings_s and not plan.stats:
        return ""
    rows: list[list[Cell]] = [[k, f"{v:.3f} s"] for k, v in plan.timings_s.items()]
    rows += [[k, format_number(v)] for k, v in plan.stats.items()]
    return _section("Timings and model size", _table(["what", "value"], rows, [1]))


def render_html(
    plan: Plan,
    title: str | None = None,
    region_coords: Mapping[str, tuple[float, float]] | None = None,
) -> str:
    """The plan as one self-contained HTML page; ``region_coords`` (id → lat, lon) adds a map."""
    page_title = title if title is not None else f"Archipel plan — {plan.spec_name}"
    colours = provider_colours(
        [
            *plan.cost_by_provider_usd,
            *(a.provider for a in plan.allocations),
            *(c.provider for c in plan.contracts),
        ]
    )
    sections = [
        _header(plan, page_title),
        _blockers(plan),
        _spend(plan, colours),
        _commitments(plan, colours),
        _capacity(plan, colours, region_coords),
        _survivability(plan),
        _allocations(plan),
        _binding_rules(plan),
        _timings(plan),
    ]
    body = "\n".join(s for s in sections if s)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(page_title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
