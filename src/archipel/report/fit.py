"""Terminal tables that fit their width without breaking a word.

A section offers its table as views, richest first: each next view is leaner (fewer columns,
abbreviated values, two facts stacked in one cell). :func:`fit_table` takes the first view whose
columns fit the width with every word whole, and sets each column's width itself. Rich, left to
itself, shrinks the widest columns of a table that is too wide below their longest word and
folds inside words (``on_deman`` / ``d``); here no column is narrower than its longest word, and
only free text (a column marked ``wrap``) wraps, between words. When even the leanest view does
not fit (below about 60 columns), its text columns are cut with ``…``, never folded.

Bar columns (cells are :class:`Bar`) take the room left, up to :data:`BAR_MAX` characters, and
are dropped when fewer than :data:`BAR_MIN` remain. Pure: a view and a width give a table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

GAP = 2  # characters between two columns: one of padding, one of separator
BAR_MAX = 20
BAR_MIN = 5
WRAP_MIN = 16  # a free-text column wraps, but not narrower than this (or its longest word)
ELLIPSIS_MIN = 4


@dataclass(frozen=True, slots=True)
class Col:
    """A column: a right-aligned ``figure`` never wraps; ``wrap`` text may wrap between words."""

    header: str
    figure: bool = False
    wrap: bool = False
    bar: bool = False


@dataclass(frozen=True, slots=True)
class Bar:
    """A horizontal bar for a share in [0, 1], as long as the bar column allows."""

    share: float
    style: str = "cyan"


Cell = str | Text | Bar
Row = Sequence[Cell] | None  # None draws a line between sections


@dataclass(frozen=True, slots=True)
class View:
    """One way to show a table: columns, and rows of cells in column order."""

    columns: Sequence[Col]
    rows: Sequence[Row]


def stack(*parts: str | Text) -> Text:
    """Several facts in one cell, one per line."""
    out = Text()
    for i, part in enumerate(parts):
        if i:
            out.append("\n")
        out.append_text(part if isinstance(part, Text) else Text(part))
    return out


def _plain(cell: Cell) -> str:
    if isinstance(cell, Bar):
        return ""
    return cell.plain if isinstance(cell, Text) else cell


def _column_cells(view: View, i: int) -> list[str]:
    return [_plain(row[i]) for row in view.rows if row is not None]


def _natural(header: str, cells: Sequence[str]) -> int:
    lines = [*header.split("\n"), *(line for c in cells for line in c.split("\n"))]
    return max((cell_len(line) for line in lines), default=0)


_WORD = re.compile(r"\s*\S+\s*")  # as rich wraps: a line's indent belongs to its first word


def _longest_word(texts: Sequence[str]) -> int:
    return max(
        (
            cell_len(m.group().rstrip())
            for t in texts
            for line in t.split("\n")
            for m in _WORD.finditer(line)
        ),
        default=0,
    )


def _bounds(view: View) -> tuple[list[int], list[int]]:
    """Per column, the natural width (nothing wraps) and the least one that keeps words whole."""
    natural, least = [], []
    for i, col in enumerate(view.columns):
        if col.bar:
            natural.append(BAR_MAX)
            least.append(BAR_MIN)
            continue
        cells = _column_cells(view, i)
        nat = _natural(col.header, cells)
        header_word = _longest_word([col.header])
        if col.wrap:
            low = max(header_word, _longest_word(cells), min(nat, WRAP_MIN))
        else:  # only the header may wrap, between its words
            low = max(header_word, _natural("", cells))
        natural.append(nat)
        least.append(min(low, nat))
    return natural, least


def _total(widths: Sequence[int], kept: Sequence[bool]) -> int:
    shown = [w for w, k in zip(widths, kept, strict=True) if k]
    return sum(shown) + GAP * max(0, len(shown) - 1)


def _shrink(widths: list[int], floor: Sequence[int], kept: Sequence[bool], width: int) -> bool:
    """Narrow the widest shrinkable columns, one character at a time, until the table fits."""
    excess = _total(widths, kept) - width
    while excess > 0:
        slack = [i for i, w in enumerate(widths) if kept[i] and w > floor[i]]
        if not slack:
            return False
        i = max(slack, key=lambda j: (widths[j], j))
        widths[i] -= 1
        excess -= 1
    return True


def fit_widths(view: View, width: int) -> list[int] | None:
    """Column widths that fit ``width`` with every word whole (0: a bar column dropped), or None."""
    natural, least = _bounds(view)
    bars = [c.bar for c in view.columns]
    for with_bars in (True, False):
        kept = [with_bars or not b for b in bars]
        widths = list(natural)
        # bars give way first, then the text that may wrap
        bar_floor = [least[i] if b else natural[i] for i, b in enumerate(bars)]
        if _shrink(widths, bar_floor, kept, width) or _shrink(widths, least, kept, width):
            return [w if k else 0 for w, k in zip(widths, kept, strict=True)]
    return None


def _squeezed(view: View, width: int) -> list[int]:
    """The last resort: the leanest view with its text columns cut (with …) to fit."""
    _, least = _bounds(view)
    kept = [not c.bar for c in view.columns]
    widths = [w if k else 0 for w, k in zip(least, kept, strict=True)]
    floor = [
        w if c.figure else min(w, ELLIPSIS_MIN) for c, w in zip(view.columns, widths, strict=True)
    ]
    _shrink(widths, floor, kept, width)
    return widths


def _render(cell: Cell, width: int) -> Text:
    if isinstance(cell, Bar):
        share = min(max(cell.share, 0.0), 1.0) if cell.share == cell.share else 0.0
        return Text("█" * round(share * width), style=cell.style)
    return cell if isinstance(cell, Text) else Text(cell)


def build_table(view: View, widths: Sequence[int], *, cut: bool = False) -> Table:
    """A rich table of ``view`` with these column widths; ``cut`` ends long text with …."""
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), expand=False
    )
    shown = [i for i, (c, w) in enumerate(zip(view.columns, widths, strict=True)) if w or not c.bar]
    for i in shown:
        col = view.columns[i]
        table.add_column(
            col.header,
            justify="right" if col.figure else "left",
            width=widths[i],
            # figures are never narrower than their values: only a header may wrap
            no_wrap=cut and not (col.wrap or col.figure),
            overflow="ellipsis" if cut else "fold",
        )
    for row in view.rows:
        if row is None:
            table.add_section()
        else:
            table.add_row(*(_render(row[i], widths[i]) for i in shown))
    return table


def fit_table(views: Sequence[View], width: int) -> tuple[Table, int]:
    """The first view that fits ``width`` with every word whole (else the leanest, cut), and
    its index in ``views``."""
    for i, view in enumerate(views):
        widths = fit_widths(view, width)
        if widths is not None:
            return build_table(view, widths), i
    return build_table(views[-1], _squeezed(views[-1], width), cut=True), len(views) - 1


def print_table(console: Console, title: str, views: Sequence[View]) -> int:
    """Print a titled table on ``console`` in the richest view its width allows; return which."""
    table, chosen = fit_table(views, console.width)
    console.print(Text(title, style="bold"))
    console.print(table)
    console.print()
    return chosen
