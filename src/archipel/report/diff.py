"""What changed between two plans: ``diff_plans(old, new)`` and its terminal rendering.

The diff is a frozen value computed from the two plans alone. Placements are compared after
aggregation over periods, per (workload, region, instance type, purchase option), on
accelerator-hours and cost. Figures that differ by less than one part in a million (relative, or
absolute below 1) count as unchanged. ``render_diff`` prints it so that every table fits the
console's width without breaking a word (see :mod:`archipel.report.fit`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.text import Text

from archipel.plan.result import ContractYear, Plan, Status
from archipel.report.figures import PlacementKey, aggregate_placements, served_ok
from archipel.report.fit import Col, Row, View, print_table, stack
from archipel.report.fmt import (
    format_fraction,
    format_number,
    format_signed_number,
    format_usd,
    option_label,
    period_year,
)
from archipel.report.terminal import MAX_PERIOD_ROWS

RELATIVE_TOLERANCE = 1e-6
MAX_MOVED_ROWS = 30


def differs(a: float | None, b: float | None) -> bool:
    """Whether two figures differ beyond the tolerance (None differs from any number)."""
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) > RELATIVE_TOLERANCE * max(1.0, abs(a), abs(b))


@dataclass(frozen=True, slots=True)
class ValueChange:
    """One named figure before and after (0 where a plan lacks it)."""

    name: str
    old: float
    new: float

    @property
    def delta(self) -> float:
        return self.new - self.old

    @property
    def relative(self) -> float | None:
        return self.delta / abs(self.old) if self.old else None


@dataclass(frozen=True, slots=True)
class PlacementChange:
    """A placement added, removed or changed; totals over the horizon (0 on the absent side)."""

    key: PlacementKey
    kind: Literal["added", "removed", "changed"]
    old_accelerator_hours: float
    new_accelerator_hours: float
    old_cost_usd: float
    new_cost_usd: float

    @property
    def accelerator_hours_delta(self) -> float:
        return self.new_accelerator_hours - self.old_accelerator_hours

    @property
    def cost_delta_usd(self) -> float:
        return self.new_cost_usd - self.old_cost_usd


@dataclass(frozen=True, slots=True)
class ContractChange:
    """A contract-year whose spend or shortfall changed; None where a plan lacks that year."""

    contract: str
    provider: str
    year: int
    old_committed_usd: float | None
    new_committed_usd: float | None
    old_spent_usd: float | None
    new_spent_usd: float | None
    old_shortfall_usd: float | None
    new_shortfall_usd: float | None

    @property
    def shortfall_delta_usd(self) -> float:
        return (self.new_shortfall_usd or 0.0) - (self.old_shortfall_usd or 0.0)


@dataclass(frozen=True, slots=True)
class SurvivabilityChange:
    """A (scenario, service) whose served or required fraction changed; None where absent."""

    scenario: str
    service: str
    old_required: float | None
    new_required: float | None
    old_served: float | None
    new_served: float | None

    @property
    def old_ok(self) -> bool | None:
        return _ok(self.old_required, self.old_served)

    @property
    def new_ok(self) -> bool | None:
        return _ok(self.new_required, self.new_served)


def _ok(required: float | None, served: float | None) -> bool | None:
    return None if required is None or served is None else served_ok(required, served)


@dataclass(frozen=True, slots=True)
class PlanDiff:
    """Everything that changed from ``old`` to ``new``; unchanged items are left out."""

    old_spec: str
    new_spec: str
    old_status: Status
    new_status: Status
    old_verified: bool
    new_verified: bool
    old_objective_usd: float | None
    new_objective_usd: float | None
    providers: tuple[ValueChange, ...]  # every provider of either plan, by |delta| then name
    periods: tuple[ValueChange, ...]  # every period label of either plan, in period order
    purchase_options: tuple[ValueChange, ...]
    placements: tuple[PlacementChange, ...]  # changed only, by |cost delta| then key
    unchanged_placements: int
    contracts: tuple[ContractChange, ...]
    survivability: tuple[SurvivabilityChange, ...]
    old_egress_usd: float = 0.0  # network transfer, included in the objectives
    new_egress_usd: float = 0.0
    old_unused_usd: float = 0.0  # unused commitment (shortfall + commitment filled idle)
    new_unused_usd: float = 0.0

    @property
    def objective_delta_usd(self) -> float | None:
        if self.old_objective_usd is None or self.new_objective_usd is None:
            return None
        return self.new_objective_usd - self.old_objective_usd

    @property
    def is_empty(self) -> bool:
        """True when the plans agree on everything the diff compares."""
        return (
            self.old_status == self.new_status
            and self.old_verified == self.new_verified
            and self.placements_and_costs_unchanged
        )

    @property
    def placements_and_costs_unchanged(self) -> bool:
        """True when only the status or the verification stamp changed (if anything)."""
        return (
            not differs(self.old_objective_usd, self.new_objective_usd)
            and not differs(self.old_egress_usd, self.new_egress_usd)
            and not differs(self.old_unused_usd, self.new_unused_usd)
            and not any(differs(c.old, c.new) for c in self.providers)
            and not any(differs(c.old, c.new) for c in self.periods)
            and not any(differs(c.old, c.new) for c in self.purchase_options)
            and not self.placements
            and not self.contracts
            and not self.survivability
        )


def _value_changes(old: Mapping[str, float], new: Mapping[str, float]) -> tuple[ValueChange, ...]:
    changes = [ValueChange(k, old.get(k, 0.0), new.get(k, 0.0)) for k in {*old, *new}]
    return tuple(sorted(changes, key=lambda c: (-abs(c.delta), c.name)))


def _by_period(plan: Plan) -> dict[str, float]:
    out: dict[str, float] = {}
    for i, cost in enumerate(plan.cost_by_period_usd):
        label = plan.periods[i] if i < len(plan.periods) else f"#{i}"
        out[label] = out.get(label, 0.0) + cost
    return out


def _placements(old: Plan, new: Plan) -> tuple[list[PlacementChange], int]:
    a, b = aggregate_placements(old.allocations), aggregate_placements(new.allocations)
    changes: list[PlacementChange] = []
    for key in sorted({*a, *b}):
        ta, tb = a.get(key), b.get(key)
        kind: Literal["added", "removed", "changed"] = (
            "added" if ta is None else "removed" if tb is None else "changed"
        )
        oh, nh = (ta.accelerator_hours if ta else 0.0), (tb.accelerator_hours if tb else 0.0)
        oc, nc = (ta.cost_usd if ta else 0.0), (tb.cost_usd if tb else 0.0)
        if kind == "changed" and not differs(oh, nh) and not differs(oc, nc):
            continue
        changes.append(PlacementChange(key, kind, oh, nh, oc, nc))
    changes.sort(key=lambda c: (-abs(c.cost_delta_usd), c.key))
    return changes, len({*a, *b}) - len(changes)


def _contracts(old: Plan, new: Plan) -> list[ContractChange]:
    def index(plan: Plan) -> dict[tuple[str, int], ContractYear]:
        return {(c.contract, c.year): c for c in plan.contracts}

    a, b = index(old), index(new)
    out = []
    for key in sorted({*a, *b}):
        ca, cb = a.get(key), b.get(key)
        change = ContractChange(
            contract=key[0],
            provider=cb.provider if cb else ca.provider if ca else "",
            year=key[1],
            old_committed_usd=ca.committed_usd if ca else None,
            new_committed_usd=cb.committed_usd if cb else None,
            old_spent_usd=ca.spent_usd if ca else None,
            new_spent_usd=cb.spent_usd if cb else None,
            old_shortfall_usd=ca.shortfall_usd if ca else None,
            new_shortfall_usd=cb.shortfall_usd if cb else None,
        )
        pairs = (
            (change.old_committed_usd, change.new_committed_usd),
            (change.old_spent_usd, change.new_spent_usd),
            (change.old_shortfall_usd, change.new_shortfall_usd),
        )
        if any(differs(x, y) for x, y in pairs):
            out.append(change)
    return out


def _survivability(old: Plan, new: Plan) -> list[SurvivabilityChange]:
    def index(plan: Plan) -> dict[tuple[str, str], tuple[float, float]]:
        return {
            (s.scenario, service): (s.required_fraction, served)
            for s in plan.survivability
            for service, served in s.served_fraction.items()
        }

    a, b = index(old), index(new)
    out = []
    for key in sorted({*a, *b}):
        (ra, sa), (rb, sb) = a.get(key, (None, None)), b.get(key, (None, None))
        if differs(ra, rb) or differs(sa, sb):
            out.append(SurvivabilityChange(key[0], key[1], ra, rb, sa, sb))
    return out


def diff_plans(old: Plan, new: Plan) -> PlanDiff:
    """What changed from ``old`` to ``new``."""
    old_periods, new_periods = _by_period(old), _by_period(new)
    labels = list(dict.fromkeys([*old_periods, *new_periods]))
    placements, unchanged = _placements(old, new)
    return PlanDiff(
        old_spec=old.spec_name,
        new_spec=new.spec_name,
        old_status=old.status,
        new_status=new.status,
        old_verified=old.verified,
        new_verified=new.verified,
        old_objective_usd=old.objective_usd,
        new_objective_usd=new.objective_usd,
        providers=_value_changes(old.cost_by_provider_usd, new.cost_by_provider_usd),
        periods=tuple(
            ValueChange(k, old_periods.get(k, 0.0), new_periods.get(k, 0.0)) for k in labels
        ),
        purchase_options=_value_changes(
            old.cost_by_purchase_option_usd, new.cost_by_purchase_option_usd
        ),
        placements=tuple(placements),
        unchanged_placements=unchanged,
        contracts=tuple(_contracts(old, new)),
        survivability=tuple(_survivability(old, new)),
        old_egress_usd=old.egress_usd,
        new_egress_usd=new.egress_usd,
        old_unused_usd=old.unused_commitment_usd,
        new_unused_usd=new.unused_commitment_usd,
    )


# --------------------------------------------------------------------------- terminal


def _money_delta(delta: float | None) -> Text:
    """A cost change: red when it costs more, green when less."""
    if delta is None or not math.isfinite(delta) or not differs(0.0, delta):
        return Text("—" if delta is None else "$0", style="dim")
    return Text(format_usd(delta, signed=True), style="red" if delta > 0 else "green")


def _mark(ok: bool | None) -> Text:
    if ok is None:
        return Text("—", style="dim")
    return Text("✓", style="green") if ok else Text("✗", style="bold red")


def _render_header(d: PlanDiff, console: Console) -> None:
    names = d.old_spec if d.old_spec == d.new_spec else f"{d.old_spec} → {d.new_spec}"
    console.rule(Text(f"Plan diff — {names}", style="bold"))
    status = Text(f"status {d.old_status.value}")
    if d.new_status != d.old_status:
        status.append(f" → {d.new_status.value}", style="bold yellow")
    status.append(" · verified ")
    status.append_text(_mark(d.old_verified))
    if d.new_verified != d.old_verified:
        status.append(" → ")
        status.append_text(_mark(d.new_verified))
    console.print(status)
    line = Text(
        f"objective {format_usd(d.old_objective_usd)} → {format_usd(d.new_objective_usd)} ("
    )
    line.append_text(_money_delta(d.objective_delta_usd))
    delta = d.objective_delta_usd
    if delta is not None and d.old_objective_usd:
        line.append(f", {format_fraction(delta / abs(d.old_objective_usd), signed=True)}")
    line.append(")")
    console.print(line)
    if d.old_egress_usd or d.new_egress_usd:
        moved = Text(
            f"network transfer {format_usd(d.old_egress_usd)} → {format_usd(d.new_egress_usd)} ("
        )
        moved.append_text(_money_delta(d.new_egress_usd - d.old_egress_usd))
        console.print(moved.append(")"))
    if d.old_unused_usd or d.new_unused_usd:
        unused = Text(
            f"unused commitment {format_usd(d.old_unused_usd)} → {format_usd(d.new_unused_usd)} ("
        )
        unused.append_text(_money_delta(d.new_unused_usd - d.old_unused_usd))
        console.print(unused.append(")"))
    console.print()


def _render_values(title: str, first: str, changes: tuple[ValueChange, ...], c: Console) -> None:
    rows: list[Row] = []
    for ch in changes:
        if not differs(ch.old, ch.new):
            continue
        rel = format_fraction(ch.relative, signed=True) if ch.relative is not None else "new"
        rows.append(
            (Text(ch.name), format_usd(ch.old), format_usd(ch.new), _money_delta(ch.delta), rel)
        )
    if rows:
        figures = (Col(h, figure=True) for h in ("old", "new", "change", "change %"))
        print_table(c, title, [View((Col(first, wrap=True), *figures), rows)])


def _group_periods(changes: tuple[ValueChange, ...]) -> tuple[ValueChange, ...]:
    years = [period_year(ch.name) for ch in changes]
    if len(changes) <= MAX_PERIOD_ROWS or any(y is None for y in years):
        return changes
    old: dict[str, float] = defaultdict(float)
    new: dict[str, float] = defaultdict(float)
    for ch, y in zip(changes, years, strict=True):
        old[str(y)] += ch.old
        new[str(y)] += ch.new
    return tuple(ValueChange(y, old[y], new[y]) for y in sorted(old))


_SIGNS = {"added": ("+", "green"), "removed": ("−", "red"), "changed": ("~", "")}


def _placement_view(d: PlanDiff, stacked: bool, short: bool, totals: bool) -> View:
    cols = [Col("")]
    if stacked:
        cols.append(Col("workload / region / instance type", wrap=True))
    else:
        cols += [Col("workload"), Col("region"), Col("instance type")]
    cols.append(Col("option"))
    cols += [Col("accel-h", figure=True)] if totals else []
    cols.append(Col("Δ accel-h", figure=True))
    cols += [Col("cost", figure=True)] if totals else []
    cols.append(Col("Δ cost", figure=True))
    rows: list[Row] = []
    for ch in d.placements[:MAX_MOVED_ROWS]:
        k = ch.key
        row: list[str | Text] = [Text(*_SIGNS[ch.kind])]
        if stacked:
            row.append(stack(k.workload, f"  {k.region}", Text(f"  {k.instance_type}", "dim")))
        else:
            row += [Text(k.workload), Text(k.region), Text(k.instance_type)]
        row.append(Text(option_label(k.purchase_option, short=short)))
        row += [format_number(ch.new_accelerator_hours)] if totals else []
        row.append(format_signed_number(ch.accelerator_hours_delta))
        row += [format_usd(ch.new_cost_usd)] if totals else []
        row.append(_money_delta(ch.cost_delta_usd))
        rows.append(row)
    return View(cols, rows)


def _render_placements(d: PlanDiff, console: Console) -> None:
    if not d.placements:
        return
    layouts = ((False, False, True), (True, False, True), (True, True, True), (True, True, False))
    views = [_placement_view(d, *layout) for layout in layouts]
    chosen = print_table(console, "Allocations moved (totals over the horizon)", views)
    more = len(d.placements) - MAX_MOVED_ROWS
    tail = f"{more} more changed, " if more > 0 else ""
    notes = [f"{tail}{d.unchanged_placements} unchanged placements"]
    if layouts[chosen][1]:
        notes.append("OD = on-demand, resv = reserved")
    for note in notes:
        console.print(Text(note, style="dim"))
    console.print()


def _render_contracts(d: PlanDiff, console: Console) -> None:
    if not d.contracts:
        return
    full: list[Row] = []
    lean: list[Row] = []
    for ch in d.contracts:
        bad = "bold red" if (ch.new_shortfall_usd or 0.0) > 0 else ""
        short = Text(f"{format_usd(ch.old_shortfall_usd)} → ")
        short.append(format_usd(ch.new_shortfall_usd), style=bad)
        spent = f"{format_usd(ch.old_spent_usd)} → {format_usd(ch.new_spent_usd)}"
        delta = _money_delta(ch.shortfall_delta_usd)
        full.append((Text(ch.contract), str(ch.year), spent, short, delta))
        new_short = Text(format_usd(ch.new_shortfall_usd), style=bad)
        lean.append(
            (Text(ch.contract), str(ch.year), format_usd(ch.new_spent_usd), new_short, delta)
        )
    figures = [Col("year", figure=True), Col("spent", figure=True), Col("shortfall", figure=True)]
    cols = [Col("contract", wrap=True), *figures, Col("Δ shortfall", figure=True)]
    lean_cols = [cols[0], cols[1], Col("spent now", figure=True)]
    lean_cols += [Col("shortfall now", figure=True), cols[-1]]
    print_table(console, "Commitments changed", [View(cols, full), View(lean_cols, lean)])


def _render_survivability(d: PlanDiff, console: Console) -> None:
    if not d.survivability:
        return
    side: list[Row] = []
    grouped: list[Row] = []
    for i, ch in enumerate(d.survivability):
        ok = _mark(ch.old_ok)
        ok.append(" → ")
        ok.append_text(_mark(ch.new_ok))
        required = _before_after(ch.old_required, ch.new_required)
        served = f"{format_fraction(ch.old_served)} → {format_fraction(ch.new_served)}"
        first = i == 0 or d.survivability[i - 1].scenario != ch.scenario
        side.append((Text(ch.scenario if first else ""), Text(ch.service), required, served, ok))
        if first:
            grouped.append((Text(ch.scenario, style="bold"), "", "", ""))
        grouped.append((Text(f"  {ch.service}"), required, served, ok))
    cols = (Col("required", figure=True), Col("min served", figure=True), Col("ok"))
    views = [
        View((Col("scenario"), Col("service"), *cols), side),
        View((Col("scenario / service"), *cols), grouped),
    ]
    print_table(console, "Survivability changed", views)


def _before_after(old: float | None, new: float | None) -> str:
    if not differs(old, new):
        return format_fraction(new)
    return f"{format_fraction(old)} → {format_fraction(new)}"


def render_diff(diff: PlanDiff, console: Console) -> None:
    """Print ``diff`` on ``console``; every table fits its width (60 columns and up)."""
    _render_header(diff, console)
    if diff.is_empty:
        console.print(Text("No differences.", style="green"))
        return
    if diff.placements_and_costs_unchanged:
        console.print(Text("Costs, placements, commitments and survivability are unchanged."))
        return
    _render_values("Cost by provider", "provider", diff.providers, console)
    _render_values("Spend by period", "period", _group_periods(diff.periods), console)
    _render_values("Purchase-option mix", "option", diff.purchase_options, console)
    _render_placements(diff, console)
    _render_contracts(diff, console)
    _render_survivability(diff, console)
