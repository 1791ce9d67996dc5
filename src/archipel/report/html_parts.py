"""Building blocks of the HTML report: its stylesheet, tables, sections and escaped text.

The page must read well from about 800 px wide up: tables sit in a container that scrolls
sideways rather than clipping (figures never wrap; long identifiers such as
``Standard_ND96isr_H100_v5`` may break after ``_``, ``-``, ``:``, ``/`` or ``.``, marked with
``<wbr>``), and charts scale with their ``viewBox``. Everything from a plan is escaped here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape

from archipel.report.svg import OTHER_COLOUR

MAX_TABLE_ROWS = 500

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;
background:#f6f7f9}
main{max-width:1040px;margin:0 auto;padding:20px 16px}
h1{font-size:24px;margin:0 0 4px;overflow-wrap:anywhere}h2{font-size:18px;margin:4px 0 8px}
section{background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:12px 14px;
margin:12px 0;min-width:0}
.meta{color:#5f6368}.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}
.warn{color:#b26a00;font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:12px}
.card{background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:8px 14px;min-width:130px}
.card b{display:block;font-size:20px}
.scroll{overflow-x:auto;max-width:100%;margin:8px 0}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 7px;border-bottom:1px solid #eceef1;text-align:left;vertical-align:top}
th{background:#f1f3f5}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.group td{background:#fafbfc;font-weight:600}
.sub{color:#5f6368;font-size:12px;font-weight:400}.nw{white-space:nowrap}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
svg.chart{display:block;width:100%;height:auto;font-size:11px;fill:#333}
svg .grid{stroke:#e0e0e0;stroke-width:1}svg .commit{stroke:#111;stroke-width:2}
svg .required{stroke:#111;stroke-width:2;stroke-dasharray:4 3}svg .sea{fill:#eef4fa}
svg .shortfall{stroke:#c62828}svg .land{fill:#dfe3e8;stroke:#c5ccd4}svg .axis{fill:#889}
svg .fail{fill:#c62828;font-weight:700}svg .group{font-weight:700}
.note{color:#5f6368;font-size:12px}
"""

_BREAK_AFTER = re.compile(r"([_:/.\-]+)")


class Html(str):
    """Text that is already HTML (escaped where it needed to be)."""


Cell = str | Html


def ident(name: str) -> Html:
    """An identifier, escaped, that may break after ``_ : / . -`` rather than overflow."""
    return Html(_BREAK_AFTER.sub(r"\1<wbr>", escape(name)))


def _cell(value: Cell, numeric: bool) -> str:
    body = value if isinstance(value, Html) else escape(value)
    return f'<td class="n">{body}</td>' if numeric else f"<td>{body}</td>"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    numeric: Sequence[int],
    *,
    groups: Sequence[int] = (),
) -> str:
    """A table in a sideways-scrolling box; ``numeric`` columns right-aligned, ``groups`` rows
    (indices) drawn as headings of the rows below them."""
    head = "".join(
        f'<th class="n">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    out = [f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>']
    for r, row in enumerate(rows[:MAX_TABLE_ROWS]):
        cls = ' class="group"' if r in groups else ""
        out.append(
            f"<tr{cls}>" + "".join(_cell(v, i in numeric) for i, v in enumerate(row)) + "</tr>"
        )
    out.append("</tbody></table></div>")
    if len(rows) > MAX_TABLE_ROWS:
        out.append(f'<p class="note">… {len(rows) - MAX_TABLE_ROWS} more rows not shown.</p>')
    return "\n".join(out)


def section(title: str, *parts: str) -> str:
    return "\n".join([f"<section><h2>{escape(title)}</h2>", *parts, "</section>"])


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def swatch(name: str, colours: Mapping[str, str]) -> Html:
    colour = colours.get(name, OTHER_COLOUR)
    return Html(f'<span class="swatch" style="background:{colour}"></span>{ident(name)}')


def mark(ok: bool) -> Html:
    return Html('<span class="ok">✓</span>' if ok else '<span class="bad">✗</span>')


def bad(text: str) -> Html:
    return Html(f'<span class="bad">{escape(text)}</span>')
