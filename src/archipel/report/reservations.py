"""The reservations a plan buys, in the terminal summary and in the HTML report.

One row per purchase — option, where, from when, term, nodes, what it costs inside the horizon,
cash paid upfront, what is left after the horizon, utilisation — and the totals under it
(:mod:`archipel.plan.reservation_result` defines the figures). A discount that rests on a
provider's "up to" level is marked ``*`` with a note. Every string from the plan is printed as
plain text (terminal) or escaped (HTML).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from archipel.plan.reservation_result import ReservationPurchase
from archipel.plan.result import Plan
from archipel.report.fit import Col, Row, View, print_table, stack
from archipel.report.fmt import format_fraction, format_number, format_usd
from archipel.report.html_parts import Cell, ident, note, section, table

ASSUMED_NOTE = (
    "* discount from the provider's headline 'up to' level (an assumption): give the "
    "option's discount_pct from a price list or quote"
)


@dataclass(frozen=True, slots=True)
class Totals:
    nodes: float
    in_horizon_usd: float
    upfront_usd: float
    beyond_horizon_usd: float
    utilisation: float  # used node-hours / bought node-hours, over every purchase


def totals(bought: Sequence[ReservationPurchase]) -> Totals:
    held = sum(r.bought_node_hours for r in bought)
    used = sum(r.used_node_hours for r in bought)
    return Totals(
        nodes=sum(r.nodes for r in bought),
        in_horizon_usd=sum(r.in_horizon_usd for r in bought),
        upfront_usd=sum(r.upfront_usd for r in bought),
        beyond_horizon_usd=sum(r.beyond_horizon_usd for r in bought),
        utilisation=used / held if held > 0 else 0.0,
    )


def _term(r: ReservationPurchase) -> str:
    return f"{r.start_period_label} to {r.end:%Y-%m-%d}"


def _discount(r: ReservationPurchase) -> str:
    return f"{r.discount_pct:g}%{'*' if r.discount_assumed else ''}"


def print_reservations(plan: Plan, console: Console) -> None:
    """The purchases and their totals; nothing when the plan buys none."""
    bought = sorted(plan.reservations, key=lambda r: (r.start_period, r.option, r.offering_id))
    if not bought:
        return
    t = totals(bought)
    heads = ("option", "where", "term", "nodes", "off", "in horizon", "upfront", "after", "use")
    wide_cols = [Col(heads[0], wrap=True), Col(heads[1], wrap=True), Col(heads[2])]
    wide_cols += [Col(h, figure=True) for h in heads[3:]]
    wide: list[Row] = [
        [
            Text(r.option),
            Text(f"{r.region} {r.instance_type}"),
            Text(_term(r)),
            format_number(r.nodes),
            _discount(r),
            format_usd(r.in_horizon_usd),
            format_usd(r.upfront_usd),
            format_usd(r.beyond_horizon_usd),
            format_fraction(r.utilisation),
        ]
        for r in bought
    ]
    total_row: list[str | Text] = [Text("total", style="bold"), "", "", format_number(t.nodes)]
    total_row += ["", format_usd(t.in_horizon_usd), format_usd(t.upfront_usd)]
    total_row += [format_usd(t.beyond_horizon_usd), format_fraction(t.utilisation)]
    narrow_cols = [Col("purchase", wrap=True), Col("nodes", figure=True)]
    narrow_cols += [
        Col("in horizon", figure=True),
        Col("after", figure=True),
        Col("use", figure=True),
    ]
    narrow: list[Row] = [
        [
            stack(r.option, f"  {r.region} {r.instance_type}", f"  {_term(r)}, {_discount(r)} off"),
            format_number(r.nodes),
            format_usd(r.in_horizon_usd),
            format_usd(r.beyond_horizon_usd),
            format_fraction(r.utilisation),
        ]
        for r in bought
    ]
    narrow_total: list[str | Text] = [Text("total", style="bold"), format_number(t.nodes)]
    narrow_total += [format_usd(t.in_horizon_usd), format_usd(t.beyond_horizon_usd)]
    narrow_total.append(format_fraction(t.utilisation))
    views = [
        View(wide_cols, [*wide, None, total_row]),
        View(narrow_cols, [*narrow, None, narrow_total]),
    ]
    print_table(console, "Reservations bought", views)
    notes = [
        "in horizon: hours held inside the horizon, counted in the totals; after: the "
        "commitment left after the horizon ends, not in the totals"
    ]
    if any(r.discount_assumed for r in bought):
        notes.append(ASSUMED_NOTE)
    for n in notes:
        console.print(Text(n, style="dim"))
    console.print()


def html_reservations(plan: Plan) -> str:
    """The purchases as an HTML section; "" when the plan buys none."""
    bought = sorted(plan.reservations, key=lambda r: (r.start_period, r.option, r.offering_id))
    if not bought:
        return ""
    t = totals(bought)
    rows: list[list[Cell]] = [
        [
            ident(r.option),
            r.kind,
            ident(f"{r.region} {r.instance_type}"),
            _term(r),
            format_number(r.nodes),
            _discount(r),
            format_usd(r.in_horizon_usd),
            format_usd(r.upfront_usd),
            format_usd(r.recurring_in_horizon_usd),
            format_usd(r.beyond_horizon_usd),
            format_fraction(r.utilisation),
        ]
        for r in bought
    ]
    rows.append(
        [
            "total",
            "",
            "",
            "",
            format_number(t.nodes),
            "",
            format_usd(t.in_horizon_usd),
            format_usd(t.upfront_usd),
            format_usd(sum(r.recurring_in_horizon_usd for r in bought)),
            format_usd(t.beyond_horizon_usd),
            format_fraction(t.utilisation),
        ]
    )
    headers = [
        "option",
        "kind",
        "where",
        "term",
        "nodes",
        "discount",
        "cost in horizon",
        "upfront",
        "recurring in horizon",
        "left after horizon",
        "utilisation",
    ]
    parts = [table(headers, rows, [4, 5, 6, 7, 8, 9, 10])]
    parts.append(
        note(
            "Cost in horizon: the hours held inside the horizon, counted in the plan's totals "
            "(amortised, whatever is paid upfront). Left after horizon: the commitment that "
            "runs on after the horizon ends, not in the totals."
        )
    )
    if any(r.discount_assumed for r in bought):
        parts.append(note(ASSUMED_NOTE))
    return section("Reservations bought", *parts)
