"""The spec's building blocks: the frozen base model, names, and physically meaningful bounds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=130)]  # region ids, instance types, chips
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Pct = Annotated[float, Field(ge=0.0, lt=100.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Pos = Annotated[float, Field(gt=0.0)]

# Physically meaningful ceilings: a value beyond them is a typo or an attack, never a fleet.
# Each is far above any real figure (see the field docs) and keeps the planner's arithmetic
# finite: demand × hours × prices stays below 1e20, HiGHS's infinity.
MAX_USD = 1e13  # ten trillion USD: above any contract signed so far (USD 300 B over five years)
MAX_USD_PER_HOUR = 1e6  # per node-hour; the dearest cloud node lists at about 100 USD/h
MAX_REQUESTS_PER_S = 1e8  # per geography; about a thousand times the largest public service
MAX_TOKENS_PER_S = 1e12
MAX_ACCELERATORS = 1e9  # per limit or gang; the largest clusters hold about 10^6
MAX_TOKENS = 100_000_000  # per request or context window
Usd = Annotated[float, Field(ge=0.0, le=MAX_USD)]
UsdPerHour = Annotated[float, Field(ge=0.0, le=MAX_USD_PER_HOUR)]
Hours = Annotated[float, Field(ge=0.0, le=100_000.0)]
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2200, 1, 1)
PlanDate = Annotated[
    dt.date,
    Field(ge=EARLIEST, le=LATEST, description="A date between 2000-01-01 and 2200-01-01."),
]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


def in_date_order(starts: Sequence[dt.date]) -> None:
    """Raise a ValueError naming the first step that does not start after the one before."""
    for k in range(1, len(starts)):
        if starts[k] <= starts[k - 1]:
            raise ValueError(
                f"steps[{k}] starts on {starts[k]}, not after steps[{k - 1}] ({starts[k - 1]}); "
                "list the steps in date order, one per date"
            )
