"""Terminal summary of a plan: what it costs, where it runs, how sure we are.

``render_summary(plan, console)`` prints a plan with rich: the header (status, verification,
objective and its bound labelled for what it is, whole nodes or the fractional view, how many
blocks were solved), cost by provider (with the network transfer, shortfall and reserved blocks
it includes), period and purchase option, where each workload runs
(instance type, whole nodes, replicas, utilisation, option), the serving figures behind it,
commitments, reservations bought, survivability and the rules that bind. Every table fits the
console's width — at 60 columns and up — without breaking a word (:mod:`archipel.report.fit`);
wider consoles show more columns. It reads the plan and writes to the console it is given; nothing else. Every
string taken from the plan is printed as plain text, never as rich markup.

``make_console`` is the console the CLI prints summaries on: colours on a terminal only, and for
piped output plain text as wide as ``COLUMNS`` (80 when unset).
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from collections.abc import Mapping

from rich.console import Console
from rich.text import Text

from archipel.plan.result import ContractYear, Plan, RuleCost, Status
from archipel.report.figures import (
    blocks_solved,
    bound_parts,
    node_view,
    period_labels,
    plan_total_usd,
    ranked_rule_costs,
)
from archipel.report.fit import Bar, Cell, Col, Row, View, print_table, stack
from archipel.report.fleet import print_placements, print_serving_figures, print_survivability
from archipel.report.fmt import (
    format_fraction,
    format_number,
    format_seconds,
    format_usd,
    option_label,
    period_year,
)
from archipel.report.reservations import print_reservations

MAX_PERIOD_ROWS = 12
PIPED_WIDTH = 80

STATUS_STYLE: Mapping[Status, str] = {
    Status.OPTIMAL: "bold green",
    Status.FEASIBLE: "bold yellow",
    Status.INFEASIBLE: "bold red",
    Status.TIME_LIMIT: "bold red",
    Status.ERROR: "bold red",
}


def make_console(*, stderr: bool = False, environ: Mapping[str, str] | None = None) -> Console:
    """A console for summaries: colours on a terminal only; piped, plain and ``COLUMNS`` wide.

    Piped output never carries escape codes (even with ``FORCE_COLOR`` set) and is as wide as
    ``COLUMNS`` when set, else 80 columns — not the width of whatever terminal is nearby.
    """
    env = os.environ if environ is None else environ
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, force_terminal=True, emoji=False)
    columns = env.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH
    return Console(
        stderr=stderr,
        force_terminal=False,
        color_system=None,
        width=width,
        highlight=False,
        emoji=False,
    )


# --------------------------------------------------------------------------- header


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
    if plan.allocations:
        line.append(f" · {node_view(plan)}")
    console.print(line)
    for problem in plan.verification_problems:
        console.print(Text(f"  ✗ {problem}", style="red"))
    console.print(
        Text(" · ".join([f"objective {format_usd(plan.objective_usd)}", *bound_parts(plan)]))
    )
    if plan.contracts:
        idle = sum(c.idle_usd for c in plan.contracts)
        unused = Text(f"unused commitment {format_usd(plan.unused_commitment_usd)}")
        unused.stylize("bold red" if plan.unused_commitment_usd > 0 else "")
        unused.append(
            f" (shortfall {format_usd(plan.shortfall_usd)}, idle capacity in scope "
            f"{format_usd(idle)}) · contract discounts {format_usd(plan.discount_usd)}"
        )
        console.print(unused)
    blocks = blocks_solved(plan)
    if blocks > 1:
        console.print(Text(f"decomposed: {format_number(blocks)} independent blocks solved"))
    if plan.message:
        console.print(Text(f"solver: {plan.message}", style="dim"))
    console.print()


# --------------------------------------------------------------------------- money


def _share_views(first: str, items: list[tuple[str, float]], total_row: str | None) -> list[View]:
    denominator = sum(v for _, v in items)
    rows: list[Row] = []
    for name, cost in items:
        share = cost / denominator if denominator else 0.0
        rows.append((Text(name), format_usd(cost), format_fraction(share), Bar(share)))
    if total_row is not None:
        rows += [None, (Text("total", style="bold"), Text(total_row, style="bold"), "", Bar(0.0))]
    cols = (Col(first), Col("cost", figure=True), Col("share", figure=True), Col("", bar=True))
    return [View(cols, rows)]


def _costs(plan: Plan, console: Console) -> None:
    by_provider = plan.cost_by_provider_usd
    if not by_provider:
        return
    items = sorted(by_provider.items(), key=lambda kv: (-kv[1], kv[0]))
    print_table(
        console,
        "Cost by provider",
        _share_views("provider", items, format_usd(plan_total_usd(plan))),
    )
    notes = []
    included = [f"network transfer {format_usd(plan.egress_usd)}"] if plan.egress_usd else []
    if plan.shortfall_usd:
        included.append(f"take-or-pay shortfall {format_usd(plan.shortfall_usd)}")
    if included:
        notes.append("includes " + " and ".join(included))
    if plan.reserved_fixed_usd:
        notes.append(f"reserved blocks (fixed) {format_usd(plan.reserved_fixed_usd)}")
    if plan.reservations:
        bought = sum(r.in_horizon_usd for r in plan.reservations)
        notes.append(f"reservations bought {format_usd(bought)} in the horizon")
    if notes:
        console.print(Text(" · ".join(notes), style="dim"))
        console.print()


def _periods(plan: Plan, console: Console) -> None:
    costs = plan.cost_by_period_usd
    if not costs:
        return
    labels = period_labels(plan)[: len(costs)]
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
    notes = any(note for *_, note in rows)
    cols = [Col(first), Col("spend", figure=True), Col("", bar=True)]
    cols += [Col("", wrap=True)] if notes else []
    table_rows: list[Row] = []
    for label, cost, note in rows:
        cells: list[Cell] = [Text(label), format_usd(cost), Bar(cost / top if top > 0 else 0.0)]
        table_rows.append([*cells, Text(note)] if notes else cells)
    view = View(cols, table_rows)
    print_table(console, title, [view])


def _purchase_mix(plan: Plan, console: Console) -> None:
    mix = plan.cost_by_purchase_option_usd
    if not mix:
        return
    items = [(option_label(o), c) for o, c in sorted(mix.items(), key=lambda kv: (-kv[1], kv[0]))]
    print_table(console, "Purchase-option mix", _share_views("option", items, None))


def _commitments(plan: Plan, console: Console) -> None:
    """Per contract year: committed, what counted (useful and idle), shortfall and unused."""
    if not plan.contracts:
        return
    contracts = sorted(plan.contracts, key=lambda c: (c.contract, c.year))
    carried = any(c.carried_out_usd for c in contracts)

    def view(wide: bool, narrow: bool = False) -> View:
        heads = ["committed", "useful", "idle", "shortfall", "unused"]
        if narrow:
            heads = ["committed", "shortfall", "unused"]
        if wide:
            heads = ["committed", "discount", "useful", "idle", "shortfall"]
            heads += ["carried", "unused"] if carried else ["unused"]
        cols = [Col("contract", wrap=True), Col("year"), *(Col(h, figure=True) for h in heads)]
        rows: list[Row] = []

        def figures(c: ContractYear | None) -> dict[str, float]:
            cs = [c] if c else contracts
            return {
                "committed": sum(x.committed_usd for x in cs),
                "discount": sum(x.discount_usd for x in cs),
                "useful": sum(x.useful_usd for x in cs),
                "idle": sum(x.idle_usd for x in cs),
                "shortfall": sum(x.shortfall_usd for x in cs),
                "carried": sum(x.carried_out_usd for x in cs),
                "unused": sum(x.unused_usd for x in cs),
            }

        for c in contracts:
            f = figures(c)
            when = str(c.year) if narrow else f"{c.year} · {c.start[:7]}"
            row: list[str | Text] = [Text(c.contract), when]
            for h in heads:
                red = h in ("shortfall", "unused") and f[h] > 0
                row.append(Text(format_usd(f[h]), style="bold red" if red else ""))
            rows.append(row)
        f = figures(None)
        total: list[str | Text] = [Text("total", style="bold"), ""]
        total += [Text(format_usd(f[h]), style="bold") for h in heads]
        return View(cols, [*rows, None, total])

    views = [view(True), view(False), view(False, narrow=True)]
    print_table(console, "Commitments per contract year", views)
    console.print(
        Text(
            "useful: counted spend carried by load; idle: counted spend on capacity that "
            "carries none; unused: commitment not carried by useful work (shortfall + idle)",
            style="dim",
        )
    )
    console.print()


# --------------------------------------------------------------------------- rules


def _rule_costs(plan: Plan, console: Console) -> None:
    """One table: what each rule, commitment and binding limit costs, with its unit."""
    ranked = ranked_rule_costs(plan)
    if not ranked:
        return

    def effect(r: RuleCost) -> str:
        return "—" if r.effect_usd is None else format_usd(r.effect_usd)

    def marginal(r: RuleCost) -> str:
        return "" if r.marginal_usd is None else format_usd(r.marginal_usd)

    side = View(
        (
            Col("rule, contract or limit", wrap=True),
            Col("effect", figure=True),
            Col("marginal", figure=True),
            Col("per", wrap=True),
        ),
        [
            (Text(r.name), effect(r), marginal(r), Text(r.unit.removeprefix("USD per ")))
            for r in ranked
        ],
    )
    stacked = View(
        (Col("rule, contract or limit / marginal", wrap=True), Col("effect", figure=True)),
        [
            (
                stack(r.name, f"  {marginal(r)} {r.unit.replace('USD ', '', 1)}")
                if r.marginal_usd is not None
                else Text(r.name),
                effect(r),
            )
            for r in ranked
        ],
    )
    print_table(console, "What each rule and contract costs", [side, stacked])
    methods = sorted({r.method for r in ranked if r.kind != "limit"})
    console.print(
        Text(
            "effect: USD over the horizon, positive = makes the plan dearer ("
            + "; ".join(methods)
            + "); marginal: one more unit of the requirement (a limit one unit tighter)",
            style="dim",
        )
    )
    more = sum(r.kind == "limit" for r in plan.rule_costs) - sum(r.kind == "limit" for r in ranked)
    if more > 0:
        console.print(Text(f"… {more} more binding limits with smaller marginals", style="dim"))
    console.print()


def _blockers(plan: Plan, console: Console) -> None:
    if plan.status != Status.INFEASIBLE and not plan.infeasibility:
        return
    if not plan.infeasibility:
        console.print(Text("No plan exists; the solver named no blocker.", style="bold red"))
        console.print()
        return
    blockers = plan.infeasibility

    def amount(shortfall: float) -> Text:
        return Text(format_number(shortfall), style="bold red")

    wide = View(
        (
            Col("family"),
            Col("entity"),
            Col("shortfall", figure=True),
            Col("unit"),
            Col("description", wrap=True),
        ),
        [
            (Text(b.family), Text(b.entity), amount(b.shortfall), Text(b.unit), Text(b.description))
            for b in blockers
        ],
    )
    stacked = View(
        (
            Col("family / entity", wrap=True),
            Col("shortfall", wrap=True),
            Col("description", wrap=True),
        ),
        [
            (
                stack(b.family, f"  {b.entity}"),
                amount(b.shortfall).append(f" {b.unit}", style=""),
                Text(b.description),
            )
            for b in blockers
        ],
    )
    narrow = View(
        (Col("blocker", wrap=True), Col("shortfall", wrap=True)),
        [
            (
                stack(b.family, f"  {b.entity}", Text(f"  {b.description}", style="dim")),
                amount(b.shortfall).append(f" {b.unit}", style=""),
            )
            for b in blockers
        ],
    )
    title = "Why there is no plan (smallest relaxation that removes each blocker)"
    print_table(console, title, [wide, stacked, narrow])


def _timings(plan: Plan, console: Console) -> None:
    parts = [f"{name} {format_seconds(seconds)}" for name, seconds in plan.timings_s.items()]
    if parts:
        console.print(Text("timings: " + " · ".join(parts), style="dim"))
    sizes = [f"{format_number(n)} {name}" for name, n in plan.stats.items()]
    if sizes:
        console.print(Text("model: " + " · ".join(sizes), style="dim"))


def render_summary(plan: Plan, console: Console) -> None:
    """Print the plan's summary on ``console``; every table fits its width (60 columns up)."""
    _header(plan, console)
    for section in (
        _blockers,
        _costs,
        _periods,
        _purchase_mix,
        print_placements,
        print_serving_figures,
        _commitments,
        print_reservations,
        print_survivability,
        _rule_costs,
        _timings,
    ):
        section(plan, console)
