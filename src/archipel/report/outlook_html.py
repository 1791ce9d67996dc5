"""An outlook as one self-contained HTML page: a fan chart of spend per year against the
commitments, the per-contract risk table, and the commitment choice when there is one.

Pure: an :class:`~archipel.outlook.result.Outlook` in, HTML text out (inline SVG, no scripts).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from archipel.outlook.result import Optimization, Outlook, YearOutlook
from archipel.report.fmt import format_fraction, format_usd
from archipel.report.html_parts import CSS, note, section, table
from archipel.report.svg import WIDTH, _svg, _text, _y_axis, nice_ticks

FAN = "#4e79a7"
COMMIT = "#111"


def _f(x: float) -> str:
    return f"{x:.1f}"


def fan_chart(years: Sequence[YearOutlook], label: str) -> str:
    """Spend per year as bands (p5–p95 light, p25–p75 darker), the median as a line and the
    commitments of each year as black steps."""
    if not years:
        return ""
    height, top, bottom, left, right = 300.0, 20.0, 40.0, 80.0, WIDTH - 20.0
    hi = max(max(y.spend_usd.p95, y.committed_usd) for y in years)
    ticks = nice_ticks(hi)
    scale = (height - top - bottom) / (ticks[-1] or 1.0)

    def y_of(v: float) -> float:
        return height - bottom - v * scale

    n = len(years)
    step = (right - left) / n
    xs = [left + step * (i + 0.5) for i in range(n)]

    def band(lo: list[float], up: list[float]) -> str:
        pts = [f"{_f(x)},{_f(y_of(v))}" for x, v in zip(xs, up, strict=True)]
        pts += [f"{_f(x)},{_f(y_of(v))}" for x, v in zip(reversed(xs), reversed(lo), strict=True)]
        return " ".join(pts)

    body = _y_axis(ticks, left, right, y_of, "usd")
    body.append(
        f'<polygon points="{band([y.spend_usd.p5 for y in years], [y.spend_usd.p95 for y in years])}" '
        f'fill="{FAN}" fill-opacity="0.2"><title>p5 to p95 of spend</title></polygon>'
    )
    body.append(
        f'<polygon points="{band([y.spend_usd.p25 for y in years], [y.spend_usd.p75 for y in years])}" '
        f'fill="{FAN}" fill-opacity="0.4"><title>p25 to p75 of spend</title></polygon>'
    )
    med = " ".join(f"{_f(x)},{_f(y_of(y.spend_usd.p50))}" for x, y in zip(xs, years, strict=True))
    body.append(f'<polyline points="{med}" fill="none" stroke="{FAN}" stroke-width="2.5"/>')
    for x, y in zip(xs, years, strict=True):
        tip = (
            f"{y.year}: spend p5 {format_usd(y.spend_usd.p5)}, p50 {format_usd(y.spend_usd.p50)}, "
            f"p95 {format_usd(y.spend_usd.p95)}; committed {format_usd(y.committed_usd)}"
        )
        body.append(
            f'<circle cx="{_f(x)}" cy="{_f(y_of(y.spend_usd.p50))}" r="4" fill="{FAN}">'
            f"<title>{escape(tip)}</title></circle>"
        )
        cy = y_of(y.committed_usd)
        body.append(
            f'<line class="commit" x1="{_f(x - step / 2 + 4)}" x2="{_f(x + step / 2 - 4)}" '
            f'y1="{_f(cy)}" y2="{_f(cy)}"><title>{escape(tip)}</title></line>'
        )
        body.append(_text(x, height - bottom + 16, str(y.year), "middle"))
        if y.funding_cap_usd is not None:
            fy = y_of(y.funding_cap_usd)
            body.append(
                f'<line class="required" x1="{_f(x - step / 2 + 4)}" x2="{_f(x + step / 2 - 4)}" '
                f'y1="{_f(fy)}" y2="{_f(fy)}"><title>funding cap {escape(format_usd(y.funding_cap_usd))}'
                "</title></line>"
            )
    body.append(
        _text(
            left,
            height - 6,
            "band: p5–p95 and p25–p75 of spend · line: median · "
            "black steps: commitments · dashed: funding cap",
        )
    )
    return _svg(height, label, body)


def _contracts(o: Outlook) -> str:
    rows = [
        [
            c.contract,
            c.provider,
            format_usd(c.committed_usd),
            format_usd(c.expected_spend_usd),
            format_usd(c.spend_usd.p95),
            format_usd(c.cvar95_spend_usd),
            format_usd(c.expected_stranded_usd),
            format_usd(c.stranded_usd.p95),
            format_fraction(c.p_stranded_over_threshold),
            format_fraction(c.expected_utilisation),
            format_fraction(c.break_even_utilisation),
            format_fraction(c.p_below_break_even),
        ]
        for c in o.per_contract
    ]
    return table(
        [
            "contract",
            "provider",
            "committed",
            "E spend",
            "p95 spend",
            "CVaR95",
            "E stranded",
            "p95 stranded",
            "P(stranded > share)",
            "E util.",
            "break-even util.",
            "P(< break-even)",
        ],
        rows,
        numeric=list(range(2, 12)),
    )


def _choice(p: Optimization) -> str:
    cands = table(
        ["portfolio", "committed", "E cost", "CVaR95", "E stranded", "P(stranded over threshold)"],
        [
            [
                c.name,
                format_usd(c.commitment_usd),
                format_usd(c.expected_cost_usd),
                format_usd(c.cvar95_usd),
                format_usd(c.expected_stranded_usd),
                format_fraction(c.p_stranded_over_threshold),
            ]
            for c in p.candidates
        ],
        numeric=[1, 2, 3, 4, 5],
    )
    names = [c.name for c in p.candidates]
    terms = table(
        ["contract year", "discount", *names],
        [
            [
                t.term,
                f"{t.discount_pct:.0f}%",
                *(format_usd(t.commitments_usd.get(n)) for n in names),
            ]
            for t in p.terms
        ],
        numeric=list(range(1, 2 + len(names))),
    )
    gap = (
        f"Optimality gap {format_usd(p.gap.gap_usd)} (one-sided 95 % bound "
        f"{format_usd(p.gap.gap_ci95_usd)}; lower bound {format_usd(p.gap.lower_bound_usd)} from "
        f"{p.gap.replications} replications, upper bound {format_usd(p.gap.upper_bound_usd)})."
        if p.gap is not None
        else "No gap estimate (fewer than two replications)."
    )
    return section(
        "Choosing commitments",
        note(
            f"{p.method}; {p.scenarios:,} scenarios in sample, every candidate compared on the "
            f"same {p.out_of_sample_scenarios:,} fresh ones; {p.terms_semantics}; CVaR weight "
            f"{p.cvar_weight:g}."
        ),
        cands,
        note(
            f"Value of the stochastic solution {format_usd(p.vss_usd)}; expected value of "
            f"perfect information {format_usd(p.evpi_usd)}. {gap}"
        ),
        terms,
    )


def render_outlook_html(o: Outlook) -> str:
    t = o.totals
    title = f"Archipel outlook — {o.spec_name}"
    cards = "".join(
        f'<div class="card">{escape(k)}<b>{escape(v)}</b></div>'
        for k, v in (
            ("expected cost", format_usd(t.expected_cost_usd)),
            ("CVaR95 of cost", format_usd(t.cvar95_usd)),
            ("expected stranded", format_usd(t.expected_stranded_usd)),
            (
                f"P(stranded > {format_usd(t.stranded_threshold_usd)})",
                format_fraction(t.p_stranded_over_threshold),
            ),
        )
    )
    head = (
        f"<section><h1>{escape(title)}</h1>"
        f'<p class="meta">{o.scenarios:,} scenarios, seed {o.seed}, {escape(o.backend)}; '
        f"scenarios file: {escape(o.scenarios_file or 'none (defaults)')}. The plan on its own "
        f"path: {escape(format_usd(t.plan_cost_usd))}, "
        f"{escape(format_usd(t.plan_unused_commitment_usd))} of commitment unused.</p>"
        f'<div class="cards">{cards}</div></section>'
    )
    years = section(
        "Spend per year against commitments",
        fan_chart(o.per_year, "fan chart of yearly spend against commitments"),
        table(
            ["year", "committed", "p5", "p25", "p50", "p75", "p95", "funding cap", "P(over cap)"],
            [
                [
                    str(y.year),
                    format_usd(y.committed_usd),
                    format_usd(y.spend_usd.p5),
                    format_usd(y.spend_usd.p25),
                    format_usd(y.spend_usd.p50),
                    format_usd(y.spend_usd.p75),
                    format_usd(y.spend_usd.p95),
                    format_usd(y.funding_cap_usd) if y.funding_cap_usd is not None else "–",
                    format_fraction(y.p_over_funding) if y.p_over_funding is not None else "–",
                ]
                for y in o.per_year
            ],
            numeric=list(range(1, 9)),
        ),
    )
    parts = [
        head,
        years,
        section("Per contract", _contracts(o)),
        _choice(o.optimization) if o.optimization is not None else "",
        section("Assumptions", *(note(a) for a in o.assumptions)),
    ]
    body = "\n".join(p for p in parts if p)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
