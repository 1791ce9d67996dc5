"""Tables that fit their width: the richest view that fits, never a word split across lines."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from archipel.report.fit import BAR_MAX, Bar, Col, View, fit_table, fit_widths, stack

LONG = "Standard_ND96isr_H100_v5"


def render(view_list: list[View], width: int) -> tuple[str, int]:
    console = Console(width=width, record=True, color_system=None)
    table, chosen = fit_table(view_list, width)
    console.print(table)
    return console.export_text(), chosen


def words(text: str) -> set[str]:
    return {w for line in text.splitlines() for w in line.split() if set(w) - set("─█")}


def views() -> list[View]:
    rows = [
        (Text("azure:southcentralus"), Text(LONG), Text("on_demand"), "57,017", "$6.61B"),
        (Text("oci:eu-frankfurt-1"), Text("BM.GPU.H100.8"), Text("reserved"), "16", "$0"),
    ]
    wide = View(
        (Col("region"), Col("instance type"), Col("option"), Col("nodes", figure=True),
         Col("cost", figure=True)),
        rows,
    )  # fmt: skip
    stacked = View(
        (Col("region / instance type"), Col("option"), Col("nodes", figure=True),
         Col("cost", figure=True)),
        [(stack(r[0], r[1]), *r[2:]) for r in rows],
    )  # fmt: skip
    return [wide, stacked]


def test_widest_view_when_it_fits_else_the_stacked_one() -> None:
    """wide: 20 + 24 + 9 + 6 + 6 + 4 gaps of 2 = 73 columns; stacked: 24 + 9 + 6 + 6 + 6 = 51."""
    assert fit_widths(views()[0], 73) == [20, 24, 9, 6, 6]
    assert fit_widths(views()[0], 72) is None
    text, chosen = render(views(), 73)
    assert chosen == 0 and f"azure:southcentralus  {LONG}  on_demand" in text
    text, chosen = render(views(), 72)
    assert chosen == 1
    assert max(len(line) for line in text.splitlines()) <= 72
    assert LONG in text and "on_demand" in text  # whole words, the instance type below


def test_headers_wrap_between_words_and_figures_never_wrap() -> None:
    view = View((Col("name"), Col("min served", figure=True)), [("a", "100.0%")])
    assert fit_widths(view, 12) == [4, 6]  # "min served" wraps to two lines
    text, _ = render([view], 12)
    assert [line.rstrip() for line in text.splitlines()[:2]] == ["         min", "name  served"]


def test_bars_shrink_then_go() -> None:
    view = View((Col("provider"), Col("cost", figure=True), Col("", bar=True)),
                [("azure", "$6.6B", Bar(1.0))])  # fmt: skip
    assert fit_widths(view, 100) == [8, 5, BAR_MAX]
    assert fit_widths(view, 22) == [8, 5, 5]  # 8 + 5 + 5 + 2 gaps of 2
    assert fit_widths(view, 20) == [8, 5, 0]  # too little room: no bar at all
    text, _ = render([view], 20)
    assert "█" not in text and "$6.6B" in text


def test_free_text_wraps_between_words() -> None:
    description = "requests/s of a service from a geography that must be served"
    view = View((Col("rule"), Col("description", wrap=True)), [("cap", description)])
    text, _ = render([view], 30)
    assert max(len(line) for line in text.splitlines()) <= 30
    assert words(text) == words(f"rule description cap {description}")


def test_too_narrow_for_any_view_cuts_with_an_ellipsis_never_folds() -> None:
    text, chosen = render(views(), 30)
    assert chosen == 1
    assert max(len(line) for line in text.splitlines()) <= 30
    assert "…" in text
    assert not any(line.strip() in {"d", "_v5"} for line in text.splitlines())


NAME = st.text(alphabet="abcdefghijklmnop_-:.0123456789", min_size=1, max_size=26)


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.tuples(NAME, NAME, st.sampled_from(["on_demand", "spot", "reserved"])),
                   min_size=1, max_size=6),
    width=st.integers(min_value=60, max_value=140),
)  # fmt: skip
def test_any_names_fit_without_split_words(names: list[tuple[str, str, str]], width: int) -> None:
    """Whatever the names, a table with a stacked view of at most 26 + 9 + 6 + 6 + 3 × 2 = 53
    columns renders within the width, every word whole."""
    rows = [(Text(a), Text(b), Text(o), "1,024", "$1.5M") for a, b, o in names]
    wide = View((Col("region"), Col("instance"), Col("option"), Col("nodes", figure=True),
                 Col("cost", figure=True)), rows)  # fmt: skip
    stacked = View((Col("where"), Col("option"), Col("nodes", figure=True),
                    Col("cost", figure=True)), [(stack(r[0], r[1]), *r[2:]) for r in rows])  # fmt: skip
    text, _ = render([wide, stacked], width)
    assert max(len(line) for line in text.splitlines()) <= width
    vocabulary = words(" ".join(["region instance option nodes cost where 1,024 $1.5M"]
                                + [" ".join(n) for n in names]))  # fmt: skip
    assert words(text) <= vocabulary
