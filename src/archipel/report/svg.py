"""Inline SVG charts for the HTML report: pure functions from figures to SVG text.

No scripts, no external references: tooltips are SVG ``<title>`` elements, which every browser
shows on hover. Coordinates are written with one decimal so that the same figures always give
the same bytes. Every piece of text is escaped here; callers pass plain strings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from archipel.report.fmt import format_fraction, format_number, format_usd

# Brand-like colours for the providers people know; others get the palette in name order.
KNOWN_COLOURS: Mapping[str, str] = {
    "aws": "#ff9900",
    "azure": "#0078d4",
    "gcp": "#34a853",
    "oci": "#c74634",
    "nebius": "#7b61ff",
    "coreweave": "#1f3a93",
    "lambda": "#8c564b",
}
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#9c755f",
    "#ff9da7",
    "#bab0ac",
    "#e15759",
)
OTHER_COLOUR = "#9aa0a6"
TRANSFER_COLOUR = "#5f6368"  # network transfer, beside the providers' compute
OK_COLOUR = "#2e7d32"
BAD_COLOUR = "#c62828"
WIDTH = 860
MIN_BAR = 4.0  # a failing bar is at least this wide, so that 0 % served still shows
HATCH = "url(#archipel-shortfall)"  # red stripes: a shortfall never looks like a provider's spend
_HATCH = (
    '<defs><pattern id="archipel-shortfall" patternUnits="userSpaceOnUse" width="6" height="6" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fdecea"/>'
    f'<line x1="0" y1="0" x2="0" y2="6" stroke="{BAD_COLOUR}" stroke-width="3"/></pattern></defs>'
)


def provider_colours(providers: Iterable[str]) -> dict[str, str]:
    """A colour per provider: its own when known, else the palette's next unused one."""
    names = sorted(set(providers))
    out = {p: KNOWN_COLOURS[p] for p in names if p in KNOWN_COLOURS}
    free = [c for c in PALETTE if c not in out.values()] or list(PALETTE)
    for i, p in enumerate(p for p in names if p not in out):
        out[p] = free[i % len(free)]
    return out


def _f(x: float) -> str:
    return f"{x:.1f}"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round axis ticks from 0 up to at least ``top``."""
    if not math.isfinite(top) or top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def _svg(height: float, label: str, body: Iterable[str]) -> str:
    """An SVG that scales to its container's width (no fixed size: only a ``viewBox``)."""
    head = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {_f(height)}" '
        f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="{escape(label)}">'
    )
    return "\n".join([head, *body, "</svg>"])


def _text(x: float, y: float, s: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{extra}>{escape(s)}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str, extra: str = "") -> str:
    return (
        f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(max(w, 0.0))}" height="{_f(max(h, 0.0))}" '
        f'fill="{fill}"{extra}><title>{escape(tip)}</title></rect>'
    )


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    out = []
    for name, colour in items:
        out.append(f'<rect x="{_f(x)}" y="{_f(y - 9)}" width="10" height="10" fill="{colour}"/>')
        out.append(_text(x + 14, y, name))
        x += 24 + 7 * len(name)
    return out


def _y_axis(
    ticks: Sequence[float], left: float, right: float, y_of: Callable[[float], float], fmt: str
) -> list[str]:
    out = []
    for t in ticks:
        y = y_of(t)
        out.append(
            f'<line class="grid" x1="{_f(left)}" x2="{_f(right)}" y1="{_f(y)}" y2="{_f(y)}"/>'
        )
        label = (
            format_usd(t)
            if fmt == "usd"
            else format_number(t)
            if fmt == "count"
            else format_fraction(t)
        )
        out.append(_text(left - 6, y + 4, label, "end"))
    return out


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float]
    colour: str


def stacked_bars(
    categories: Sequence[str], series: Sequence[Series], label: str, unit: str = "usd"
) -> str:
    """Vertical bars per category, one stacked segment per series (``unit``: "usd" for money on
    the y axis, "count" for numbers)."""
    left, top, bottom, height = 70.0, 30.0, 60.0, 320.0
    plot_w, plot_h = WIDTH - left - 10, height - top - bottom
    totals = [sum(s.values[i] for s in series if s.values[i] > 0) for i in range(len(categories))]
    ticks = nice_ticks(max(totals, default=0.0))

    def y_of(v: float) -> float:
        return top + plot_h * (1 - v / ticks[-1])

    body = _y_axis(ticks, left, WIDTH - 10, y_of, unit)
    body += _legend([(s.name, s.colour) for s in series], left, 16)
    show = format_usd if unit == "usd" else format_number
    slot = plot_w / max(len(categories), 1)
    bar_w = max(slot * 0.75, 1.0)
    every = max(1, math.ceil(len(categories) / 24))
    for i, cat in enumerate(categories):
        x = left + i * slot + (slot - bar_w) / 2
        base = 0.0
        for s in series:
            v = s.values[i]
            if v <= 0:
                continue
            tip = f"{s.name} · {cat}: {show(v)}"
            body.append(_rect(x, y_of(base + v), bar_w, y_of(base) - y_of(base + v), s.colour, tip))
            base += v
        if i % every == 0:
            cx, cy = x + bar_w / 2, height - bottom + 14
            body.append(_text(cx, cy, cat, "end", f' transform="rotate(-35 {_f(cx)} {_f(cy)})"'))
    return _svg(height, label, body)


@dataclass(frozen=True, slots=True)
class CommitmentBar:
    contract: str  # bars of one contract sit together, named once below them
    year: int
    provider: str
    committed: float
    spent: float
    shortfall: float
    colour: str
    idle: float = 0.0  # the part of ``spent`` on capacity that carries no load
    start: str = ""  # ISO date the contract year starts


def commitment_bars(bars: Sequence[CommitmentBar], label: str) -> str:
    """Spend per contract year as bars (idle capacity paler), the commitment as a line, the
    shortfall hatched red."""
    left, top, bottom, height, gap = 70.0, 30.0, 44.0, 300.0, 1.0
    plot_w, plot_h = WIDTH - left - 10, height - top - bottom
    ticks = nice_ticks(max((max(b.committed, b.spent + b.shortfall) for b in bars), default=0.0))

    def y_of(v: float) -> float:
        return top + plot_h * (1 - v / ticks[-1])

    body = [_HATCH, *_y_axis(ticks, left, WIDTH - 10, y_of, "usd")]
    legend = [*sorted({(f"{b.provider} spent", b.colour) for b in bars}), ("shortfall", HATCH)]
    body += _legend(legend, left, 16)
    x_line = left + sum(24 + 7 * len(name) for name, _ in legend)
    body.append(f'<line class="commit" x1="{_f(x_line)}" x2="{_f(x_line + 20)}" y1="12" y2="12"/>')
    body.append(_text(x_line + 26, 16, "committed"))
    groups = list(dict.fromkeys(b.contract for b in bars))
    slot = plot_w / max(len(bars) + gap * (len(groups) - 1), 1)
    bar_w = min(max(slot * 0.6, 2.0), 80.0)
    x_slot = left
    for g in groups:
        members = [b for b in bars if b.contract == g]
        g_start = x_slot
        for b in members:
            x = x_slot + (slot - bar_w) / 2
            tip = (
                f"{b.contract} year {b.year} from {b.start}: committed "
                f"{format_usd(b.committed)}, spent {format_usd(b.spent)} (idle "
                f"{format_usd(b.idle)}), shortfall {format_usd(b.shortfall)}"
            )
            used = b.spent - b.idle
            body.append(_rect(x, y_of(used), bar_w, y_of(0) - y_of(used), b.colour, tip))
            if b.idle > 0:
                y1, y2 = y_of(b.spent), y_of(used)
                body.append(_rect(x, y1, bar_w, y2 - y1, b.colour, tip, ' opacity="0.35"'))
            if b.shortfall > 0:
                y1, y2 = y_of(b.spent + b.shortfall), y_of(b.spent)
                body.append(_rect(x, y1, bar_w, y2 - y1, HATCH, tip, ' class="shortfall"'))
            yc = y_of(b.committed)
            body.append(
                f'<line class="commit" x1="{_f(x - 4)}" x2="{_f(x + bar_w + 4)}" '
                f'y1="{_f(yc)}" y2="{_f(yc)}"><title>{escape(tip)}</title></line>'
            )
            when = b.start[:4] if b.start else str(b.year)
            body.append(_text(x + bar_w / 2, height - bottom + 14, when, "middle"))
            x_slot += slot
        body.append(
            _text((g_start + x_slot) / 2, height - bottom + 32, g, "middle", ' font-weight="bold"')
        )
        x_slot += gap * slot
    return _svg(height, label, body)


@dataclass(frozen=True, slots=True)
class FractionBar:
    group: str  # the failure scenario
    name: str  # the service
    value: float  # min served fraction
    required: float
    ok: bool


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(chars - 1, 1)] + "…"


def fraction_bars(bars: Sequence[FractionBar], label: str) -> str:
    """Horizontal bars of served fractions, one group per scenario under its name, with the
    required fraction as a dashed line. A bar below the required one is red, never thinner
    than ``MIN_BAR`` (so 0 % shows), and is labelled with its value and ✗."""
    row, gap, top, char_w = 18.0, 8.0, 30.0, 6.6
    groups = list(dict.fromkeys(b.group for b in bars))
    names = max((len(b.name) for b in bars), default=0)
    left = min(max(names * char_w + 16, 110.0), 280.0)
    height = top + len(bars) * row + len(groups) * (row + gap) + 30
    scale_max = max([1.0, *(b.value for b in bars)])
    plot_w = WIDTH - left - 90  # room on the right for the value labels

    def x_of(v: float) -> float:
        return left + plot_w * max(v, 0.0) / scale_max

    body = _legend([("meets required", OK_COLOUR), ("below required", BAD_COLOUR)], left, 16)
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = x_of(t)
        body.append(
            f'<line class="grid" x1="{_f(x)}" x2="{_f(x)}" y1="{top}" y2="{_f(height - 24)}"/>'
        )
        body.append(_text(x, height - 10, format_fraction(t), "middle"))
    y = top
    for g in groups:
        members = [b for b in bars if b.group == g]
        y += gap
        body.append(
            _text(8, y + row * 0.7, _clip(g, int((WIDTH - 16) / char_w)), extra=' class="group"')
        )
        y += row
        y_start = y
        for b in members:
            served, required = format_fraction(b.value), format_fraction(b.required)
            tip = f"{g} · {b.name}: {served} served, {required} required"
            colour = OK_COLOUR if b.ok else BAD_COLOUR
            name = _clip(b.name, int((left - 16) / char_w))
            body.append(_text(left - 8, y + row * 0.7, name, "end"))
            width = x_of(b.value) - left
            if not b.ok:
                width = max(width, MIN_BAR)
            body.append(_rect(left, y + 2, width, row - 4, colour, tip))
            value = served if b.ok else f"{served} ✗"
            extra = "" if b.ok else ' class="fail"'
            body.append(_text(left + width + 5, y + row * 0.7, value, extra=extra))
            y += row
        xr = x_of(members[0].required)
        body.append(
            f'<line class="required" x1="{_f(xr)}" x2="{_f(xr)}" y1="{_f(y_start)}" y2="{_f(y)}">'
            f"<title>{escape(g)}: required {format_fraction(members[0].required)}</title></line>"
        )
    return _svg(height, label, body)


@dataclass(frozen=True, slots=True)
class MapPoint:
    name: str
    provider: str
    lat: float
    lon: float
    value: float
    colour: str
    tip: str


# Coarse coastlines as (lon, lat) rings, for orientation only: dots sit at their own coordinates.
# fmt: off
LAND: tuple[tuple[tuple[float, float], ...], ...] = (
    (  # North America
        (-168, 66), (-162, 70), (-140, 70), (-125, 70), (-95, 72), (-80, 73), (-65, 62),
        (-60, 55), (-55, 50), (-66, 45), (-70, 42), (-76, 35), (-81, 31), (-80, 25), (-83, 29),
        (-90, 30), (-97, 27), (-97, 21), (-92, 18), (-87, 21), (-88, 16), (-83, 10), (-78, 8),
        (-85, 11), (-92, 14), (-105, 20), (-110, 23), (-115, 30), (-118, 34), (-124, 40),
        (-124, 48), (-132, 55), (-140, 60), (-150, 60), (-158, 57), (-165, 62),
    ),
    (  # South America
        (-78, 8), (-72, 12), (-62, 10), (-52, 5), (-50, 0), (-35, -5), (-38, -13), (-40, -22),
        (-48, -26), (-53, -34), (-58, -38), (-65, -42), (-68, -50), (-70, -55), (-74, -50),
        (-73, -40), (-71, -30), (-70, -18), (-76, -14), (-81, -5), (-80, 0), (-77, 4),
    ),
    (  # Eurasia
        (-10, 36), (-9, 43), (-2, 44), (-5, 48), (2, 51), (8, 54), (10, 57), (5, 62), (15, 68),
        (25, 71), (40, 68), (60, 70), (80, 73), (100, 77), (115, 74), (140, 72), (170, 70),
        (180, 66), (178, 63), (162, 60), (156, 51), (160, 58), (150, 59), (140, 54), (135, 43),
        (127, 39), (127, 35), (121, 31), (122, 25), (109, 21), (106, 10), (100, 13), (101, 3),
        (104, 1), (98, 8), (97, 16), (92, 22), (88, 22), (80, 15), (78, 8), (73, 18), (67, 25),
        (57, 25), (56, 27), (52, 28), (48, 30), (50, 25), (56, 24), (59, 22), (55, 17),
        (52, 16), (44, 12), (39, 21), (35, 28), (34, 30), (35, 33), (36, 36), (27, 37),
        (26, 40), (23, 37), (22, 40), (19, 42), (14, 45), (12, 44), (18, 40), (16, 38),
        (10, 44), (3, 43), (0, 39), (-5, 36),
    ),
    (  # Africa
        (-17, 21), (-16, 14), (-12, 7), (-8, 4), (0, 5), (8, 4), (9, 0), (12, -6), (13, -12),
        (12, -18), (15, -27), (18, -34), (25, -34), (33, -27), (35, -24), (40, -15), (40, -10),
        (39, -5), (42, 0), (51, 11), (44, 11), (39, 16), (33, 28), (32, 31), (20, 32), (10, 37),
        (-5, 36), (-10, 30),
    ),
    (  # Australia
        (114, -22), (114, -34), (118, -35), (129, -32), (134, -32), (138, -35), (140, -38),
        (147, -38), (150, -37), (153, -28), (153, -25), (146, -19), (142, -11), (136, -12),
        (131, -12), (126, -14), (122, -18),
    ),
    (  # Greenland
        (-45, 60), (-52, 65), (-55, 70), (-65, 76), (-70, 78), (-60, 82), (-30, 83), (-20, 80),
        (-18, 75), (-22, 70), (-35, 65),
    ),
    ((-5, 50), (1, 51), (2, 53), (-2, 56), (-3, 58.6), (-6, 58), (-5, 55), (-3, 54), (-5, 52)),
    ((-10, 52), (-6, 52), (-6, 55), (-10, 54)),  # Ireland
    (  # Japan
        (130, 31), (132, 34), (135, 35), (140, 35), (142, 40), (141, 45), (143, 44), (140, 41),
        (139, 38), (136, 36), (133, 35), (130, 33.5),
    ),
    ((95, 5), (106, -6), (104, -5), (98, 2)),  # Sumatra
    ((109, 2), (117, 7), (119, 1), (116, -4), (110, -3)),  # Borneo
    ((44, -25), (47, -25), (50, -15), (49, -12), (44, -17)),  # Madagascar
    ((167, -46), (172, -41), (174, -41), (178, -38), (173, -35), (175, -40), (170, -46)),  # NZ
)
# fmt: on


def world_map(points: Sequence[MapPoint], label: str) -> str:
    """An equirectangular graticule with one dot per point, area proportional to its value."""
    height = WIDTH / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (lon + 180) / 360 * WIDTH, (90 - lat) / 180 * height

    body = [f'<rect class="sea" x="0" y="0" width="{WIDTH}" height="{_f(height)}"/>']
    for outline in LAND:
        path = " ".join(f"{_f(x)},{_f(y)}" for x, y in (xy(lat, lon) for lon, lat in outline))
        body.append(f'<polygon class="land" points="{path}"/>')
    for lon in range(-180, 181, 30):
        x, _ = xy(0, lon)
        body.append(f'<line class="grid" x1="{_f(x)}" x2="{_f(x)}" y1="0" y2="{_f(height)}"/>')
    for lat in range(-60, 61, 30):
        _, y = xy(lat, 0)
        body.append(f'<line class="grid" x1="0" x2="{WIDTH}" y1="{_f(y)}" y2="{_f(y)}"/>')
        body.append(_text(4, y - 3, f"{lat}°", extra=' class="axis"'))
    body += _legend(sorted({(p.provider, p.colour) for p in points}), 40, height - 8)
    top = max((p.value for p in points), default=0.0)
    for p in sorted(points, key=lambda p: (-p.value, p.name)):  # small dots drawn last, on top
        x, y = xy(p.lat, p.lon)
        r = 3 + 17 * math.sqrt(p.value / top) if top > 0 else 3.0
        body.append(
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" fill="{p.colour}" '
            f'fill-opacity="0.7" stroke="{p.colour}"><title>{escape(p.tip)}</title></circle>'
        )
    return _svg(height, label, body)
