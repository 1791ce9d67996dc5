"""Small parts of a plan shared by :mod:`archipel.plan.result` and
:mod:`archipel.plan.reservation_result` (kept apart so neither imports the other)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ContractShare(BaseModel):
    """List-price spend of an allocation (or a reservation bought) counted toward one contract
    year."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contract: str
    year: int  # contract year, 1-based from the contract's start
    list_usd: float
