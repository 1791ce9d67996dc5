"""What the gateway serves: the deployment table of one plan period joined with its endpoints
and the plan's own prices (a thin adapter: the facts come from :mod:`archipel.route.table`).

Prices: ``price_nusd[d][c]`` is the cost of one nominal request of request class ``c`` served
on deployment ``d``, in nano-USD (integers, so budgets add up exactly): the deployment's cost per
replica-hour as the plan pays it (``archipel simulate``'s ``_price_per_replica_hour``, reused)
over the requests a replica serves in an hour (``table.rate[d, c] · 3600``). A request is priced
per token from there: its share of the class's nominal tokens (input + output) as the backend's
``usage`` reports them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from archipel.gateway.config import NANO as NANO  # money is integer nano-USD
from archipel.gateway.config import Endpoints
from archipel.plan.inputs import PlanInputs
from archipel.plan.result import Plan
from archipel.route.table import deployment_table
from archipel.route.types import DeploymentTable


def default_period(inputs: PlanInputs, today: dt.date) -> int:
    """The period containing ``today``, else the first."""
    for p in inputs.periods:
        if p.start.date() <= today < p.end.date():
            return p.index
    return 0


@dataclass(frozen=True)
class Fleet:
    """The table and, per deployment ``d``, where to send requests and what they cost."""

    table: DeploymentTable
    url: tuple[str | None, ...]  # [D] base URL; None: no endpoint (always down)
    model: tuple[str, ...]  # [D] the model name the upstream expects
    token: tuple[str | None, ...]  # [D] upstream bearer token
    price_nusd: tuple[tuple[int, ...], ...]  # [D][C] per nominal request of class c
    class_tokens: tuple[tuple[int, ...], ...]  # [S][C] nominal input + output tokens
    contracts: tuple[tuple[tuple[str, float], ...], ...]  # [D] (contract, share of spend)
    commitments: tuple[Commitment, ...] = ()  # contract years running in the period


@dataclass(frozen=True)
class Commitment:
    """A contract year that runs during the served period, with what the plan expects of the
    served deployments: the anchor the gateway's metered spend is compared with."""

    contract: str
    provider: str
    year: int
    committed_usd: float  # the year's commitment inside the horizon (the plan's)
    # what this period's serving allocations are planned to spend toward it, priced as the
    # gateway meters spend (after the year's average discount)
    serving_usd: float


def commitments(plan: Plan, inputs: PlanInputs, period: int) -> tuple[Commitment, ...]:
    """The plan's contract years overlapping ``period``, with what its serving allocations of
    that period are planned to spend toward each."""
    p = inputs.periods[period]
    counted: dict[tuple[str, int], float] = {}
    for a in plan.allocations:
        if a.period == period and a.workload_kind == "service":
            for share in a.contract_spend:
                key = (share.contract, share.year)
                counted[key] = counted.get(key, 0.0) + share.list_usd
    out = []
    for y in plan.contracts:
        paid = 1.0 - (y.discount_usd / y.list_usd if y.list_usd > 0 else 0.0)
        start = dt.datetime.fromisoformat(y.start) if y.start else None
        end = dt.datetime.fromisoformat(y.end) if y.end else None
        if (
            start is not None
            and end is not None
            and not (start < p.end.replace(tzinfo=None) and p.start.replace(tzinfo=None) < end)
        ):
            continue
        serving = counted.get((y.contract, y.year), 0.0) * paid
        out.append(Commitment(y.contract, y.provider, y.year, y.committed_usd, serving))
    return tuple(out)


def price_nusd(plan: Plan, table: DeploymentTable) -> tuple[tuple[int, ...], ...]:
    from archipel.cli.simulate_cmd import _price_per_replica_hour  # reuse (one definition)

    per_hour = np.asarray(_price_per_replica_hour(plan, table), dtype=float)
    out = []
    for d in range(table.size):
        row = []
        for c in range(table.rate.shape[1]):
            r = float(table.rate[d, c])
            row.append(round(NANO * per_hour[d] / (3600.0 * r)) if r > 0 else 0)
        out.append(tuple(row))
    return tuple(out)


def _contracts(plan: Plan, table: DeploymentTable) -> tuple[tuple[tuple[str, float], ...], ...]:
    spend: list[dict[str, float]] = [{} for _ in range(table.size)]
    index = {k: d for d, k in enumerate(table.key)}
    for a in plan.allocations:
        if a.period != table.period or a.workload_kind != "service":
            continue
        d = index.get(f"{a.workload}/{a.region}/{a.offering_id}")
        if d is None:
            continue
        total = a.list_cost_usd or 0.0
        counted = 0.0
        for share in a.contract_spend:
            spend[d][share.contract] = spend[d].get(share.contract, 0.0) + share.list_usd
            counted += share.list_usd
        if total > counted:
            spend[d][""] = spend[d].get("", 0.0) + total - counted
    out = []
    for s in spend:
        total = sum(s.values())
        out.append(
            tuple((c, v / total) for c, v in sorted(s.items())) if total > 0 else (("", 1.0),)
        )
    return tuple(out)


def build_fleet(
    plan: Plan,
    inputs: PlanInputs,
    period: int,
    endpoints: Endpoints,
    env: Mapping[str, str] | None = None,
    table: DeploymentTable | None = None,
) -> Fleet:
    """The fleet of ``plan`` in ``period`` with ``endpoints`` (their keys checked by the caller
    against this period's table, which may be passed as ``table``)."""
    table = deployment_table(plan, inputs, period) if table is None else table
    fleet = fleet_from_table(
        table, endpoints, price_nusd(plan, table), _contracts(plan, table), inputs, env
    )
    return dataclasses.replace(fleet, commitments=commitments(plan, inputs, table.period))


def fleet_from_table(
    table: DeploymentTable,
    endpoints: Endpoints,
    prices: tuple[tuple[int, ...], ...],
    contracts: tuple[tuple[tuple[str, float], ...], ...],
    inputs: PlanInputs | None = None,
    env: Mapping[str, str] | None = None,
) -> Fleet:
    env = os.environ if env is None else env
    urls: list[str | None] = []
    models: list[str] = []
    tokens: list[str | None] = []
    for d, key in enumerate(table.key):
        ep = endpoints.by_key.get(key)
        service = table.services[int(table.service[d])]
        urls.append(ep.url.rstrip("/") if ep is not None else None)
        models.append(ep.model if ep is not None and ep.model else service)
        tokens.append(env.get(ep.api_key_env) if ep is not None and ep.api_key_env else None)
    class_tokens: list[tuple[int, ...]] = []
    for s in table.services:
        svc = None
        if inputs is not None:
            svc = next((x for x in inputs.spec.services if x.id == s), None)
        if svc is None:
            class_tokens.append(tuple(1 for _ in range(table.rate.shape[1])))
            continue
        class_tokens.append(tuple(c.input_tokens + c.output_tokens for c in svc.request_classes))
    return Fleet(
        table=table,
        url=tuple(urls),
        model=tuple(models),
        token=tuple(tokens),
        price_nusd=prices,
        class_tokens=tuple(class_tokens),
        contracts=contracts,
    )
