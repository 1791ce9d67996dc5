"""Actual spend: a usage CSV in the FOCUS billing-export shape, and spend against commitments.

FOCUS (the FinOps Open Cost and Usage Specification) is the common column set of the clouds'
billing exports. Required columns: ``BillingPeriodStart``, ``ChargePeriodStart``,
``ChargePeriodEnd``, ``ProviderName``, ``RegionId``, ``BilledCost``, ``BillingCurrency``;
``ServiceName`` is read when present; other columns are ignored. Provider names are matched to
the catalog's ids by id or name (``AWS``, ``Amazon Web Services`` and ``aws`` are ``aws``;
``Microsoft`` is ``azure``; ``Google Cloud`` is ``gcp``; ``Oracle`` is ``oci``). Only USD is
read (the plan's unit).

Against commitments: each charge counts in the contract year (``start <= ChargePeriodStart <
end``) of the applied plan's contracts with that provider.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from archipel.errors import UserError
from archipel.plan.result import Plan
from archipel.store.repo import SpendRow

REQUIRED = (
    "BillingPeriodStart",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ProviderName",
    "RegionId",
    "BilledCost",
    "BillingCurrency",
)
MAX_ROWS = 200_000
ALIASES = {
    "amazon web services": "aws",
    "amazon": "aws",
    "microsoft": "azure",
    "microsoft azure": "azure",
    "google": "gcp",
    "google cloud": "gcp",
    "google cloud platform": "gcp",
    "oracle": "oci",
    "oracle cloud infrastructure": "oci",
    "datacrunch": "verda",
}


def provider_id(name: str, known: dict[str, str]) -> str:
    """The catalog id for a FOCUS ProviderName (``known``: lower-case name or id → id)."""
    key = name.strip().lower()
    return known.get(key) or ALIASES.get(key) or key


def _date(text: str, where: str) -> str:
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(
            f"{where}: {value!r} is not a date; FOCUS dates are ISO 8601, e.g. 2026-01-01T00:00:00Z"
        ) from None
    return parsed.date().isoformat() if len(value) <= 10 else parsed.isoformat()


def parse_focus_csv(text: str, known: dict[str, str]) -> list[SpendRow]:
    """The rows of a FOCUS usage CSV; UserError naming the line and column of a bad value."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise UserError(
            f"the usage CSV lacks the column(s) {', '.join(missing)}. To fix: export usage in "
            "the FOCUS shape (every cloud's billing export offers it); needed: "
            + ", ".join(REQUIRED)
        )
    rows: list[SpendRow] = []
    for line, rec in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise UserError(f"the usage CSV has more than {MAX_ROWS} rows; send it in parts")
        where = f"usage CSV line {line}"
        cost_text = (rec.get("BilledCost") or "").strip()
        try:
            cost = float(cost_text)
        except ValueError:
            raise UserError(f"{where}: BilledCost {cost_text!r} is not a number") from None
        if not math.isfinite(cost) or abs(cost) > 1e13:
            raise UserError(f"{where}: BilledCost {cost_text!r} is not a plausible amount")
        currency = (rec.get("BillingCurrency") or "").strip().upper()
        if currency != "USD":
            raise UserError(
                f"{where}: BillingCurrency is {currency!r}; only USD is read (plans are in USD)"
            )
        start = _date(rec.get("ChargePeriodStart") or "", f"{where}, ChargePeriodStart")
        rows.append(
            SpendRow(
                billing_period_start=_date(
                    rec.get("BillingPeriodStart") or "", f"{where}, BillingPeriodStart"
                ),
                charge_period_start=start,
                charge_period_end=_date(
                    rec.get("ChargePeriodEnd") or "", f"{where}, ChargePeriodEnd"
                ),
                provider=provider_id(rec.get("ProviderName") or "", known),
                region=(rec.get("RegionId") or "").strip()[:100],
                service=(rec.get("ServiceName") or "").strip()[:200],
                billed_cost=cost,
                currency=currency,
            )
        )
    return rows


def against_commitments(plan: Plan | None, rows: Sequence[SpendRow]) -> dict[str, Any]:
    """Per contract year of ``plan``: committed, planned spend, actual spend so far; and the
    actual spend per provider and month (for the chart)."""
    monthly: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        monthly[r.charge_period_start[:7]][r.provider] += r.billed_cost
    years = []
    for c in plan.contracts if plan is not None else []:
        actual = sum(
            r.billed_cost
            for r in rows
            if r.provider == c.provider and c.start <= r.charge_period_start[:10] < c.end
        )
        years.append(
            {
                "contract": c.contract,
                "provider": c.provider,
                "year": c.year,
                "start": c.start,
                "end": c.end,
                "committed_usd": c.committed_usd,
                "planned_spent_usd": c.spent_usd,
                "actual_usd": actual,
                "remaining_to_commit_usd": max(0.0, c.committed_usd - actual),
            }
        )
    return {
        "contract_years": years,
        "monthly": {m: dict(v) for m, v in sorted(monthly.items())},
        "total_actual_usd": sum(r.billed_cost for r in rows),
    }


def known_providers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{lower-case id or name: id}`` from (id, name) pairs."""
    out: dict[str, str] = {}
    for pid, name in pairs:
        out[pid.lower()] = pid
        out[name.lower()] = pid
    return out
