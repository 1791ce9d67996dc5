"""How every report writes figures: one function per kind of number, shared by all reports.

The terminal summary, the HTML report and ``archipel diff`` format through these functions only,
so that the same figure reads the same everywhere: money in three significant digits with a
unit (``$1.23M``), fractions as percentages with one decimal (``84.3%``), counts with thousands
separators (``57,017``), rates in three significant digits (``12.5``). Each returns ``—`` for a
missing or non-finite figure. Pure functions of their arguments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

MISSING = "—"

_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
_YEAR = re.compile(r"^(\d{4})(?!\d)")

# What ``Plan.lower_bound_kind`` means, in the words a report uses for it.
BOUND_LABELS: Mapping[str, str] = {
    "lp_relaxation": "LP relaxation bound",
    "mip_bound": "MIP bound",
    "lp_optimum": "LP optimum",
    "none": "lower bound",
}

# Purchase options as people write them, and the short forms narrow tables fall back to.
OPTION_LABELS: Mapping[str, str] = {
    "on_demand": "on-demand",
    "spot": "spot",
    "reserved": "reserved",
}
OPTION_SHORT: Mapping[str, str] = {"on_demand": "OD", "spot": "spot", "reserved": "resv"}


def _three_digits(v: float) -> str:
    decimals = 2 if v < 10 else 1 if v < 100 else 0
    return f"{v:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{v:.0f}"


def format_usd(x: float | None, *, signed: bool = False) -> str:
    """Money for people: ``$950``, ``$12.3K``, ``$1.23M``, ``$4.5B``; a ``+`` when ``signed``."""
    if x is None or not math.isfinite(x):
        return MISSING
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
        return MISSING
    return f"{x:+.1%}" if signed else f"{x:.1%}"


def format_gap(x: float | None) -> str:
    """A relative optimality gap, finer than other fractions: 0.00049 → ``0.05%``."""
    if x is None or not math.isfinite(x):
        return MISSING
    return f"{x:.2%}"


def format_number(x: float) -> str:
    """A count for people: ``12``, ``1,234``, ``3.5`` (two decimals at most below 100)."""
    if not math.isfinite(x):
        return MISSING
    if abs(x - round(x)) < 1e-9 or abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def format_signed_number(x: float) -> str:
    """A change in a count: ``+224,000``, ``-64,000``, ``0``."""
    if not math.isfinite(x):
        return MISSING
    return f"{x:+,.0f}" if round(x) else "0"


def format_rate(x: float | None) -> str:
    """A rate (requests/s) to three significant digits: ``12.5``, ``0.375``, ``6.5``, ``1,234``."""
    if x is None or not math.isfinite(x):
        return MISSING
    if x == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    text = f"{round(x, digits):,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_seconds(x: float) -> str:
    """A duration of a phase: ``0.04 s``, ``46.5 s``, ``3 min 20 s``."""
    if not math.isfinite(x):
        return MISSING
    if x < 10:
        return f"{x:.2f} s"
    if x < 120:
        return f"{x:.1f} s"
    minutes, seconds = divmod(round(x), 60)
    return f"{minutes} min {seconds} s"


def format_replica(accelerators: int, accelerator: str) -> str:
    """The accelerators one replica takes: ``8×H100``."""
    return f"{accelerators}×{accelerator}"


def option_label(option: str, *, short: bool = False) -> str:
    """A purchase option as people write it (``on-demand``), or its short form (``OD``)."""
    table = OPTION_SHORT if short else OPTION_LABELS
    return table.get(option, option)


def bound_label(kind: str) -> str:
    """What a plan's lower bound is: ``LP relaxation bound``, ``MIP bound``, ``LP optimum``."""
    return BOUND_LABELS.get(kind, "lower bound")


def period_year(label: str) -> int | None:
    """The calendar year a period label starts with (``2027-Q1`` → 2027), or None."""
    m = _YEAR.match(label)
    return int(m.group(1)) if m else None
