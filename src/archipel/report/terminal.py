"""Terminal summary of a plan, and the small helpers every report shares.

``render_summary(plan, console)`` prints a plan with rich: what it costs, where it runs, how it
uses its commitments, whether it survives the loss of a provider, which rules bind and what they
cost. It reads the plan and writes to the console it is given; nothing else. Every string taken
from the plan is printed as plain text, never as rich markup.

The helpers (``format_usd``, ``period_year``, ``aggregate_placements``) are shared with the HTML
report and ``archipel diff`` so that the three show the same figures the same way.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from archipel.plan.result import Allocation, BindingRule, Plan, ScenarioResult, Status

MAX_PLACEMENT_ROWS = 40
MAX_PLACEMENTS_PER_WORKLOAD = 8
MAX_BINDING_RULES = 15
MAX_PERIOD_ROWS = 12
FRACTION_TOLERANCE = 1e-6

STATUS_STYLE: Mapping[Status, str] = {
    Status.OPTIMAL: "bold green",
    Status.FEASIBLE: "bold yellow",
    Status.INFEASIBLE: "bold red",
    Status.TIME_LIMIT: "bold red",
    Status.ERROR: "bold red",
}

_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
_YEAR = re.compile(r"^(\d{4})(?!\d)")


# --------------------------------------------------------------------------- shared helpers


def _three_digits(v: float) -> str:
    decimals = 2 if v < 10 else 1 if v < 100 else 0
    return f"{v:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{v:.0f}"


def format_usd(x: float | None, *, signed: bool = False) -> str:
    """Money for people: ``$950``, ``$12.3K``, ``$1.23M``, ``$4.5B``; a ``+`` when ``signed``."""
    if x is None or not math.isfinite(x):
        return "—"
    sign = "-" if x < 0 else ("+" if signed and x > 0 else "")
    v = float(f"{abs(x):.3g}")  # round to 3 significant digits before choosing the unit
    if v == 0:
        return "$0"
    if v < 0.01:  # shadow prices per unit can be this small: keep them readable, not 0
        mantissa, exponent = f"{v:.1e}".split("e")
        return f"{sign}${mantissa}e{int(exponent)}"
    if v < 1:
        return f"{sign}${v:.2g}"
    for scale, suffix in _UNITS:
        if v >= scale:
            return f"{sign}${_three_digits(v / scale)}{suffix}"
    return f"{sign}${_three_digits(v)}"


def format_fraction(x: float | None, *, signed: bool = False) -> str:
    """A fraction as a percentage with one decimal: 0.1234 → ``12.3%``."""
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:+.1%}" if signed else f"{x:.1%}"


def format_number(x: float) -> str:
    """A count for people: ``12``, ``1,234``, ``3.5``."""
    if not math.isfinite(x):
        return "—"
    if abs(x - round(x)) < 1e-9 or abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def period_year(label: str) -> int | None:
    """The calendar year a period label starts with (``2027-Q1`` → 2027), or None."""
    m = _YEAR.match(label)
    return int(m.group(1)) if m else None


def served_ok(required: float, served: float) -> bool:
    """Whether a served fraction meets the required one, within the verifier's tolerance."""
    return served >= required - FRACTION_TOLERANCE


class PlacementKey(NamedTuple):
    """Where one workload runs, periods and instance types aside."""

    workload: str
    workload_kind: str
    provider: str
    region: str
    accelerator: str
    purchase_option: str


@dataclass(frozen=True, slots=True)
class PlacementTotals:
    """A placement over all periods: peaks per period, sums over the horizon."""

    peak_nodes: float
    peak_accelerators: float
    node_hours: float
    accelerator_hours: float
    cost_usd: float
    periods: int


def aggregate_placements(allocations: Iterable[Allocation]) -> dict[PlacementKey, PlacementTotals]:
    """Allocations grouped by placement, in key order: peaks of per-period sums, horizon sums."""
    nodes: dict[PlacementKey, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    accs: dict[PlacementKey, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    sums: dict[PlacementKey, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for a in allocations:
        key = PlacementKey(
            a.workload, a.workload_kind, a.provider, a.region, a.accelerator, a.purchase_option
        )
        nodes[key][a.period] += a.nodes
        accs[key][a.period] += a.accelerators
        s = sums[key]
        s[0] += a.nodes * a.hours
        s[1] += a.accelerators * a.hours
        s[2] += a.cost_usd
    return {
        key: PlacementTotals(
            peak_nodes=max(nodes[key].values()),
            peak_accelerators=max(accs[key].values()),
            node_hours=sums[key][0],
            accelerator_hours=sums[key][1],
            cost_usd=sums[key][2],
            periods=len(nodes[key]),
        )
        for key in sorted(sums)
    }


def plan_total_usd(plan: Plan) -> float:
    """The plan's total cost: the objective, or the providers' sum when there is none."""
    if plan.objective_usd is not None:
        return plan.objective_usd
    return sum(plan.cost_by_provider_usd.values())


def ranked_binding_rules(plan: Plan, limit: int = MAX_BINDING_RULES) -> list[BindingRule]:
    """Binding rules by decreasing |shadow price| (ties by family, entity), at most ``limit``."""
    ranked = sorted(
        plan.binding_rules, key=lambda r: (-abs(r.shadow_price_usd), r.family, r.entity)
    )
    return ranked[:limit]


# --------------------------------------------------------------------------- sections


def _table(title: str, *columns: str, right: Sequence[str] = ()) -> Table:
    """A compact table: figures (``right``) keep whole, names and descriptions fold."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in columns:
        figure = name in right
        table.add_column(
            name, justify="right" if figure else "left", overflow="fold", no_wrap=figure
        )
    return table


def _bar(share: float, width: int = 20) -> Text:
    n = max(0, min(width, round(share * width))) if math.isfinite(share) else 0
    return Text("█" * n, style="cyan")


def _header(plan: Plan, console: Console) -> None:
    title = Text("Archipel plan — ", style="bold")
    title.append(plan.spec_name, style="bold")
    console.rule(title)
    line = Text("planner ")
    line.append(plan.planner, style="bold")
    line.append(" · status ")
    line.append(plan.status.value, style=STATUS_STYLE.get(plan.status, "bold"))
    line.append(" · verified ")
    line.append("✓" if plan.verified else "✗", style="bold green" if plan.verified else "bold red")
    console.print(line)
    for problem in plan.verification_problems:
        console.print(Text(f"  ✗ {problem}", style="red"))
    money = Text(f"objective {format_usd(plan.objective_usd)}")
    if plan.lower_bound_usd is not None:
        money.append(f" · LP lower bound {format_usd(plan.lower_bound_usd)}")
    if plan.gap is not None:
        money.append(f" · gap {plan.gap:.2%}" if math.isfinite(plan.gap) else " · gap —")
    console.print(money)
    if plan.message:
        console.print(Text(f"solver: {plan.message}", style="dim"))


def _costs(plan: Plan, console: Console) -> None:
    by_provider = plan.cost_by_provider_usd
    if not by_provider:
        return
    denominator = sum(by_provider.values())
    table = _table("Cost by provider", "provider", "cost", "share", "", right=("cost", "share"))
    for provider, cost in sorted(by_provider.items(), key=lambda kv: (-kv[1], kv[0])):
        share = cost / denominator if denominator else 0.0
        table.add_row(Text(provider), format_usd(cost), format_fraction(share), _bar(share))
    table.add_section()
    table.add_row(Text("total", style="bold"), Text(format_usd(plan_total_usd(plan)), "bold"))
    console.print(table)
    notes = []
    if plan.shortfall_usd:
        notes.append(f"includes take-or-pay shortfall {format_usd(plan.shortfall_usd)}")
    if plan.reserved_fixed_usd:
        notes.append(f"reserved blocks (fixed) {format_usd(plan.reserved_fixed_usd)}")
    if notes:
        console.print(Text(" · ".join(notes), style="dim"))


def _periods(plan: Plan, console: Console) -> None:
    costs = plan.cost_by_period_usd
    if not costs:
        return
    labels = [plan.periods[i] if i < len(plan.periods) else f"#{i}" for i in range(len(costs))]
    years = [period_year(label) for label in labels]
    rows: list[tuple[str, float, str]] = []
    if len(costs) > MAX_PERIOD_ROWS and all(y is not None for y in years):
        grouped: dict[int, list[float]] = defaultdict(list)
        for y, c in zip(years, costs, strict=True):
            grouped[y or 0].append(c)
        title, first = "Spend per year (periods grouped)", "year"
        for y, cs in sorted(grouped.items()):
            rows.append((str(y), sum(cs), f"{len(cs)} periods, peak {format_usd(max(cs))}"))
    else:
        title, first = "Spend per period (excl. shortfall)", "period"
        rows = [(label, c, "") for label, c in zip(labels, costs, strict=True)]
    top = max((r[1] for r in rows), default=0.0)
    table = _table(title, first, "spend", "", "", right=("spend",))
    for label, cost, note in rows:
        table.add_row(Text(label), format_usd(cost), _bar(cost / top if top > 0 else 0.0), note)
    console.print(table)


def _purchase_mix(plan: Plan, console: Console) -> None:
    mix = plan.cost_by_purchase_option_usd
    if not mix:
        return
    denominator = sum(mix.values())
    table = _table("Purchase-option mix", "option", "cost", "share", "", right=("cost", "share"))
    for option, cost in sorted(mix.items(), key=lambda kv: (-kv[1], kv[0])):
        share = cost / denominator if denominator else 0.0
        table.add_row(Text(option), format_usd(cost), format_fraction(share), _bar(share))
    console.print(table)


def _placements(plan: Plan, console: Console) -> None:
    placements = aggregate_placements(plan.allocations)
    if not placements:
        return
    cols = ("workload", "provider", "region", "accel", "option", "nodes", "accels", "cost")
    table = _table(
        "Where each workload runs (peak per period, cost over the horizon)",
        *cols,
        right=("nodes", "accels", "cost"),
    )
    by_workload: dict[str, list[tuple[PlacementKey, PlacementTotals]]] = defaultdict(list)
    for key, t in placements.items():
        by_workload[key.workload].append((key, t))
    cost = {w: sum(t.cost_usd for _, t in rows) for w, rows in by_workload.items()}
    shown = 0
    for w in sorted(by_workload, key=lambda w: (-cost[w], w)):
        rows = sorted(by_workload[w], key=lambda kv: (-kv[1].cost_usd, kv[0]))
        take = min(MAX_PLACEMENTS_PER_WORKLOAD, MAX_PLACEMENT_ROWS - shown)
        for i, (key, t) in enumerate(rows[:take]):
            name = Text(key.workload if i == 0 else "")
            if i == 0 and key.workload_kind == "training":
                name.append(" (training)", style="dim")
            table.add_row(
                name,
                Text(key.provider),
                Text(key.region),
                Text(key.accelerator),
                Text(key.purchase_option),
                format_number(t.peak_nodes),
                format_number(t.peak_accelerators),
                format_usd(t.cost_usd),
            )
        shown += take
        if len(rows) > take:
            rest = sum(t.cost_usd for _, t in rows[take:])
            more = Text(f"… {len(rows) - take} more", style="dim")
            table.add_row("", "", more, "", "", "", "", Text(format_usd(rest), style="dim"))
            shown += 1
    console.print(table)


def _commitments(plan: Plan, console: Console) -> None:
    if not plan.contracts:
        return
    table = _table(
        "Commitments per contract and year",
        "contract",
        "provider",
        "year",
        "committed",
        "spent",
        "shortfall",
        right=("year", "committed", "spent", "shortfall"),
    )
    for c in sorted(plan.contracts, key=lambda c: (c.contract, c.year)):
        short = Text(format_usd(c.shortfall_usd), style="bold red" if c.shortfall_usd > 0 else "")
        table.add_row(
            Text(c.contract),
            Text(c.provider),
            str(c.year),
            format_usd(c.committed_usd),
            format_usd(c.spent_usd),
            short,
        )
    total_short = sum(c.shortfall_usd for c in plan.contracts)
    table.add_section()
    table.add_row(
        Text("total", style="bold"),
        "",
        "",
        format_usd(sum(c.committed_usd for c in plan.contracts)),
        format_usd(sum(c.spent_usd for c in plan.contracts)),
        Text(format_usd(total_short), style="bold red" if total_short > 0 else "bold"),
    )
    console.print(table)


def survivability_rows(scenario: ScenarioResult) -> list[tuple[str, float, bool]]:
    """(service, min served fraction, ok) per service of a failure scenario, by service name."""
    return [
        (service, served, served_ok(scenario.required_fraction, served))
        for service, served in sorted(scenario.served_fraction.items())
    ]


def _mark(ok: bool) -> Text:
    return Text("✓", style="bold green") if ok else Text("✗", style="bold red")


def _survivability(plan: Plan, console: Console) -> None:
    if not plan.survivability:
        return
    table = _table(
        "Survivability per failure scenario",
        "scenario",
        "service",
        "required",
        "min served",
        "ok",
        right=("required", "min served"),
    )
    for s in plan.survivability:
        rows = survivability_rows(s)
        if not rows:
            table.add_row(
                Text(s.scenario), "—", format_fraction(s.required_fraction), "—", _mark(s.ok)
            )
        for service, served, ok in rows:
            table.add_row(
                Text(s.scenario),
                Text(service),
                format_fraction(s.required_fraction),
                Text(format_fraction(served), style="" if ok else "bold red"),
                _mark(ok),
            )
    console.print(table)


def _binding_rules(plan: Plan, console: Console) -> None:
    if not plan.binding_rules:
        return
    table = _table(
        "Binding rules: what each costs (objective drop per unit of relaxation)",
        "rule",
        "entity",
        "cost/unit",
        right=("cost/unit",),
    )
    ranked = ranked_binding_rules(plan)
    for r in ranked:
        table.add_row(Text(r.family), Text(r.entity), format_usd(r.shadow_price_usd))
    console.print(table)
    legend = Table.grid(padding=(0, 1))
    legend.add_column(style="dim", no_wrap=True)
    legend.add_column(style="dim", overflow="fold")
    for family, description in dict.fromkeys((r.family, r.description) for r in ranked):
        legend.add_row(Text(f"  {family}:"), Text(description))
    console.print(legend)
    if len(plan.binding_rules) > MAX_BINDING_RULES:
        more = len(plan.binding_rules) - MAX_BINDING_RULES
        console.print(Text(f"… {more} more binding rules with smaller shadow prices", style="dim"))


def _blockers(plan: Plan, console: Console) -> None:
    if plan.status != Status.INFEASIBLE and not plan.infeasibility:
        return
    if not plan.infeasibility:
        console.print(Text("No plan exists; the solver named no blocker.", style="bold red"))
        return
    table = _table(
        "Why there is no plan (smallest relaxation that removes each blocker)",
        "family",
        "entity",
        "shortfall",
        "unit",
        "description",
        right=("shortfall",),
    )
    for b in plan.infeasibility:
        table.add_row(
            Text(b.family),
            Text(b.entity),
            Text(format_number(b.shortfall), style="bold red"),
            Text(b.unit),
            Text(b.description),
        )
    console.print(table)


def _timings(plan: Plan, console: Console) -> None:
    parts = [f"{name} {seconds:.2f} s" for name, seconds in plan.timings_s.items()]
    if parts:
        console.print(Text("timings: " + " · ".join(parts), style="dim"))
    sizes = [f"{format_number(n)} {name}" for name, n in plan.stats.items()]
    if sizes:
        console.print(Text("model: " + " · ".join(sizes), style="dim"))


def render_summary(plan: Plan, console: Console) -> None:
    """Print the plan's summary on ``console`` (readable at 100 columns)."""
    _header(plan, console)
    for section in (
        _blockers,
        _costs,
        _periods,
        _purchase_mix,
        _placements,
        _commitments,
        _survivability,
        _binding_rules,
        _timings,
    ):
        section(plan, console)
