"""Periods of a horizon: start, end, length in hours and the calendar year each belongs to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from archipel.spec.models import Horizon


@dataclass(frozen=True, slots=True)
class Period:
    index: int
    start: dt.datetime
    end: dt.datetime  # exclusive
    hours: float

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def label(self) -> str:
        if self.hours <= 1.0 + 1e-9:
            return self.start.strftime("%Y-%m-%dT%H:00")
        if self.hours > 24 * 32:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return self.start.strftime("%Y-%m")


def _add_months(d: dt.datetime, months: int) -> dt.datetime:
    m = d.month - 1 + months
    return d.replace(year=d.year + m // 12, month=m % 12 + 1, day=1)


def periods(horizon: Horizon) -> tuple[Period, ...]:
    """The horizon's periods in order. Month and quarter lengths follow the calendar."""
    start = dt.datetime.combine(horizon.start, dt.time())
    out: list[Period] = []
    for i in range(horizon.periods):
        if horizon.granularity == "hour":
            s, e = start + dt.timedelta(hours=i), start + dt.timedelta(hours=i + 1)
        else:
            step = 1 if horizon.granularity == "month" else 3
            s, e = _add_months(start, i * step), _add_months(start, (i + 1) * step)
        out.append(Period(i, s, e, (e - s).total_seconds() / 3600.0))
    return tuple(out)


def overlap_hours(p: Period, start: dt.date, end: dt.date) -> float:
    """Hours of period ``p`` that fall inside ``[start, end)``."""
    a = max(p.start, dt.datetime.combine(start, dt.time()))
    b = min(p.end, dt.datetime.combine(end, dt.time()))
    return max(0.0, (b - a).total_seconds() / 3600.0)
