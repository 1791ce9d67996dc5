"""An outlook as terminal lines, 80 columns at most (pure: strings in, strings out)."""

from __future__ import annotations

import textwrap

from archipel.outlook.result import Optimization, Outlook
from archipel.report.fmt import format_fraction, format_seconds, format_usd

WIDTH = 80


def _row(cells: list[str], widths: list[int]) -> str:
    first, *rest = cells
    out = first[: widths[0]].ljust(widths[0])
    for c, w in zip(rest, widths[1:], strict=True):
        out += c.rjust(w)
    return out.rstrip()


def outlook_lines(o: Outlook) -> list[str]:
    t = o.totals
    took = sum(o.timings_s.values())
    lines = [
        f"Outlook for {o.spec_name}: {o.scenarios:,} scenarios, seed {o.seed}, "
        f"{o.backend}, {format_seconds(took)}",
        "",
        f"Total cost   expected {format_usd(t.expected_cost_usd)}   p5 "
        f"{format_usd(t.cost_usd.p5)}   p50 {format_usd(t.cost_usd.p50)}   p95 "
        f"{format_usd(t.cost_usd.p95)}   CVaR95 {format_usd(t.cvar95_usd)}",
        f"Stranded     expected {format_usd(t.expected_stranded_usd)}   p95 "
        f"{format_usd(t.stranded_usd.p95)}   P(over {format_usd(t.stranded_threshold_usd)}) "
        f"{format_fraction(t.p_stranded_over_threshold)}",
        f"The plan on its own path: {format_usd(t.plan_cost_usd)}, "
        f"{format_usd(t.plan_unused_commitment_usd)} of commitment unused.",
        "",
        "Per contract (spend after discounts, with shortfall billed; stranded: paid,",
        "carrying no load; P(over): over its share of the threshold; util: useful",
        "spend / commitment; break-even: below it the contract costs more than list)",
    ]
    w = [14, 11, 10, 10, 10, 8, 7, 7]
    lines.append(
        _row(
            [
                "contract",
                "committed",
                "E spend",
                "p95 spend",
                "E strand",
                "P(over)",
                "util",
                "b-even",
            ],
            w,
        )
    )
    lines.extend(
        _row(
            [
                c.contract,
                format_usd(c.committed_usd),
                format_usd(c.expected_spend_usd),
                format_usd(c.spend_usd.p95),
                format_usd(c.expected_stranded_usd),
                format_fraction(c.p_stranded_over_threshold),
                f"{c.expected_utilisation:.0%}",
                f"{c.break_even_utilisation:.0%}",
            ],
            w,
        )
        for c in o.per_contract
    )
    lines += ["", "Spend per calendar year (all providers) against the commitments in it"]
    funded = any(y.funding_cap_usd is not None for y in o.per_year)
    wy = [6, 11, 10, 10, 10, 10, 13] if funded else [6, 11, 10, 10, 10, 10]
    head = ["year", "committed", "p5", "p50", "p95", "mean"]
    lines.append(_row([*head, "P(>funding)"] if funded else head, wy))
    for y in o.per_year:
        cells = [
            str(y.year),
            format_usd(y.committed_usd),
            format_usd(y.spend_usd.p5),
            format_usd(y.spend_usd.p50),
            format_usd(y.spend_usd.p95),
            format_usd(y.spend_usd.mean),
        ]
        if funded:
            cells.append(format_fraction(y.p_over_funding) if y.p_over_funding is not None else "-")
        lines.append(_row(cells, wy))
    if o.optimization is not None:
        lines += ["", *optimization_lines(o.optimization)]
    return lines


def optimization_lines(p: Optimization) -> list[str]:
    lines = [
        f"Choosing commitments: SAA on {p.scenarios:,} scenarios, compared on "
        f"{p.out_of_sample_scenarios:,} fresh ones",
        *textwrap.wrap(
            f"({p.terms_semantics}; CVaR weight {p.cvar_weight:g}; "
            + (
                f"P(stranded over the threshold) at most {p.max_p_stranded:g} in sample; "
                if p.max_p_stranded is not None
                else ""
            )
            + "solved in "
            f"{format_seconds(p.solve_seconds)})",
            WIDTH,
        ),
    ]
    w = [32, 12, 11, 11, 10]
    lines.append(_row(["portfolio", "committed", "E cost", "CVaR95", "E strand"], w))
    lines.extend(
        _row(
            [
                c.name,
                format_usd(c.commitment_usd),
                format_usd(c.expected_cost_usd),
                format_usd(c.cvar95_usd),
                format_usd(c.expected_stranded_usd),
            ],
            w,
        )
        for c in p.candidates
    )
    lines.append(
        f"VSS {format_usd(p.vss_usd)} (mean-value plan's expected cost − the stochastic answer's)"
    )
    lines.append(f"EVPI {format_usd(p.evpi_usd)} (what knowing the future would save)")
    if p.gap is not None:
        g = p.gap
        lines.append(
            f"Optimality gap {format_usd(g.gap_usd)}, 95 % bound {format_usd(g.gap_ci95_usd)} "
            f"({g.replications} replications)"
        )
    lines += ["", "Commitment per contract year (net USD), signed and stochastic:"]
    wt = [16, 8, 12, 12, 12]
    lines.append(_row(["contract year", "disc.", "as signed", "stochastic", "mean-value"], wt))
    for t in p.terms:
        cm = t.commitments_usd
        lines.append(
            _row(
                [
                    t.term,
                    f"{t.discount_pct:.0f}%",
                    format_usd(cm.get("as signed (deterministic plan)")),
                    format_usd(cm.get("stochastic (SAA)")),
                    format_usd(cm.get("mean-value plan")),
                ],
                wt,
            )
        )
    return lines
