"""A simulation as one self-contained HTML page: the comparison of the plans replayed, and per
plan what was served and lost window by window, with every transform of the trace listed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from archipel.report.fmt import format_fraction, format_number
from archipel.report.html_parts import CSS, Cell, note, section, table
from archipel.report.svg import Series, stacked_bars

SERVED_COLOUR = "#2e7d32"
LOST_COLOUR = "#c62828"


def _groups(groups: Sequence[Mapping[str, Any]]) -> str:
    """Per service and geography over the whole replay: where the losses fell."""
    if not groups:
        return ""
    heads = ["service", "geography", "requests", "served", "e2e SLO", "TTFT SLO", "lost"]
    heads += ["failed over", "residency violations"]
    rows: list[list[Cell]] = [
        [
            str(g["service"]),
            str(g["geography"]),
            format_number(g["requests"]),
            format_fraction(g["served_share"]),
            format_fraction(g["e2e_slo_share"]),
            format_fraction(g["ttft_slo_share"]),
            format_number(g["lost"]),
            format_number(g["failed_over"]),
            format_number(g["residency_violations"]),
        ]
        for g in groups
    ]
    return table(heads, rows, list(range(2, 9)))


def render_simulation(
    title: str, faults: str, runs: Sequence[Mapping[str, Any]], windows_s: float
) -> str:
    """``runs``: one mapping per plan as ``archipel simulate --json`` prints it, with
    ``windows`` (served and lost per window of ``windows_s`` seconds)."""
    heads = ["plan", "period", "requests", "served", "e2e SLO", "TTFT SLO", "lost", "failed over"]
    heads += ["spilled", "residency violations"]
    rows: list[list[Cell]] = [
        [
            str(r["plan"]),
            str(r["period"]),
            format_number(r["requests"]),
            format_fraction(r["served_share"]),
            format_fraction(r["e2e_slo_share"]),
            format_fraction(r["ttft_slo_share"]),
            format_number(r["lost"]),
            format_number(r["failed_over"]),
            format_number(r["spilled"]),
            format_number(r["residency_violations"]),
        ]
        for r in runs
    ]
    parts = [
        section(
            "Plans compared",
            note(f"Faults: {faults or 'none'}."),
            table(heads, rows, list(range(2, 10))),
        )
    ]
    for r in runs:
        w = r["windows"]
        cats = [f"{int(s)} s" for s in w["start_s"]]
        chart = stacked_bars(
            cats,
            [
                Series("served", w["served"], SERVED_COLOUR),
                Series("lost", w["lost"], LOST_COLOUR),
            ],
            f"requests served and lost per {windows_s:g} s window",
            unit="count",
        )
        listed = "".join(f"<li>{escape(t)}</li>" for t in r["transforms"])
        parts.append(
            section(
                f"{r['plan']}: by service and geography, window by window",
                _groups(r.get("groups", [])),
                chart,
                f"<ul>{listed}</ul>",
            )
        )
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )
