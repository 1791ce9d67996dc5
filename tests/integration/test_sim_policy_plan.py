"""The routing policy in the simulator, on a plan the planner made: an outage of the only
provider EU personal data may use.

Spec (small test catalog, tests/factories.py): ``eu-chat`` (data class ``personal``: EU
residency and CLOUD Act exclusion, so only ovh:gra, the one EU region of a provider outside the
CLOUD Act) and ``open`` (no data class), each 40 requests/s from eu (8 replicas of 5
requests/s). ``open`` must survive the loss of any provider: the plan gives eu-chat 8 replicas
on ovh, open 4 on ovh and 4 on aws carrying its flows and 4 more held on gcp (spill tier).
Traffic: 10 requests/s per service for 20 s, one arrival every 0.1 s,
end-to-end SLO 1 s. ovh is out from 5 s to 10 s.

Hand-derived: a request takes 0.20 s end to end (round trip plus service), so the eu-chat
requests that arrived at 4.8 s and 4.9 s are still in flight when ovh goes and fail; no eu-chat
request may leave ovh, so those arriving while ovh is out and unable to finish before their
deadline (arrivals in [5, 9)) are lost too, and none is ever served anywhere else; every other
eu-chat request is served. ``open`` keeps being served on its other providers (its in-flight
requests too, within their 1 s) and loses nothing.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import PurchaseOption
from archipel.plan.inputs import prepare
from archipel.plan.planner import PlanOptions, make_plan
from archipel.route.policy import decide
from archipel.route.table import deployment_table
from archipel.route.types import DeploymentTable
from archipel.sim.engine import SimConfig, Workload, simulate
from archipel.sim.faults import Fault, FaultKind, schedule
from archipel.sim.records import SERVED
from archipel.spec.models import CatalogSelection, Rule
from archipel.spec.rules import (
    CloudActExclusionRule,
    RampStep,
    ResidencyRule,
    SurvivabilityRule,
    TrafficRampRule,
)
from factories import service, small_catalog, spec_with


def test_an_outage_of_the_only_eu_provider_loses_eu_requests_and_routes_none_outside() -> None:
    spec = spec_with(
        services=[
            service("eu-chat", demand={"eu": [40.0, 40.0]}, data_class="personal"),
            service("open", demand={"eu": [40.0, 40.0]}),
        ],
        rules=[
            ResidencyRule(data_class="personal", jurisdictions=["EU"]),
            CloudActExclusionRule(data_classes=["personal"]),
            SurvivabilityRule(loss="provider", served_fraction=1.0, services=["open"]),
        ],
    )
    spec = spec.model_copy(
        update={
            "catalog": CatalogSelection(
                source="tests", accelerators=["H100"], purchase_options=[PurchaseOption.ON_DEMAND]
            )
        }
    )
    catalog = small_catalog()
    plan = make_plan(spec, catalog, options=PlanOptions(rule_costs=False))
    assert plan.verified, plan.verification_problems
    inputs = prepare(spec, catalog)
    table = deployment_table(plan, inputs, 0)
    eu_chat = table.services.index("eu-chat")
    assert {table.provider[d] for d in np.flatnonzero(table.service == eu_chat)} == {"ovh"}
    held = {(table.provider[d], int(table.replicas[d]), int(table.tier[d])) for d in range(4)}
    assert held == {("ovh", 8, 0), ("ovh", 4, 0), ("aws", 4, 0), ("gcp", 4, 1)}

    arrivals = np.repeat(np.arange(200) * 0.1, 2)  # both services, 10 requests/s each
    n = arrivals.size
    svc = np.tile([eu_chat, table.services.index("open")], 200)
    personal = table.data_classes.index("personal")
    workload = Workload(
        arrival_s=arrivals,
        service=svc.astype(np.int64),
        geography=np.full(n, table.geographies.index("eu"), dtype=np.int64),
        request_class=np.zeros(n, dtype=np.int64),
        data_class=np.where(svc == eu_chat, personal, -1).astype(np.int64),
        input_tokens=np.full(n, 1000, dtype=np.int64),
        output_tokens=np.full(n, 250, dtype=np.int64),
        e2e_slo_s=np.array([1.0, 1.0]),
        ttft_slo_s=np.array([np.nan, np.nan]),
        class_tokens=(((1000, 250),), ((1000, 250),)),
    )
    faults = schedule([Fault(FaultKind.OUTAGE, 5.0, 10.0, "provider:ovh")])
    result = simulate(table, workload, decide, faults, SimConfig(seed=7))
    out = result.outcomes
    assert not out.outside_allowed.any()  # residency is a hard filter, also in failover
    served = out.status == SERVED
    chat = svc == eu_chat
    calm = (arrivals < 4.75) | (arrivals >= 10.0)
    assert np.allclose(out.e2e_s[chat & (arrivals < 4.75)], 0.2045605, atol=1e-6)
    lost_window = chat & (arrivals >= 4.75) & (arrivals < 9.0)
    assert not served[lost_window].any()
    assert served[chat & calm].all()
    on_ovh = np.array([table.provider[d] == "ovh" for d in out.deployment[served]])
    assert on_ovh[chat[served]].all()  # an eu-chat request served is served on ovh
    assert served[~chat].all()  # the open service fails over and loses nothing
    outage = ~chat & (arrivals >= 5.5) & (arrivals < 10.0)
    assert not any(table.provider[d] == "ovh" for d in out.deployment[outage])


def _chat_workload(
    table: DeploymentTable, rate: float, seconds: float, e2e_s: float = 1.0
) -> Workload:
    """Evenly spaced chat requests from eu."""
    arrivals = np.arange(int(rate * seconds)) / rate
    n = arrivals.size
    z = np.zeros(n, dtype=np.int64)
    return Workload(
        arrival_s=arrivals,
        service=z,
        geography=np.full(n, table.geographies.index("eu"), dtype=np.int64),
        request_class=z,
        data_class=np.full(n, -1, dtype=np.int64),
        input_tokens=np.full(n, 1000, dtype=np.int64),
        output_tokens=np.full(n, 250, dtype=np.int64),
        e2e_slo_s=np.array([e2e_s]),
        ttft_slo_s=np.array([np.nan]),
        class_tokens=(((1000, 250),),),
    )


def _chat_plan(*rules: Rule) -> DeploymentTable:
    spec = spec_with(services=[service("chat", demand={"eu": [40.0, 40.0]})], rules=list(rules))
    spec = spec.model_copy(
        update={
            "catalog": CatalogSelection(
                source="tests", accelerators=["H100"], purchase_options=[PurchaseOption.ON_DEMAND]
            )
        }
    )
    plan = make_plan(spec, small_catalog(), options=PlanOptions(rule_costs=False))
    assert plan.verified, plan.verification_problems
    return deployment_table(plan, prepare(spec, small_catalog()), 0)


def test_survivability_keeps_its_promise_through_an_outage_and_the_cheapest_plan_does_not() -> None:
    """40 requests/s of chat (8 replicas of 5/s). The cheapest plan puts all 8 on ovh; the plan
    that must survive any provider's loss carries 4 on ovh and 4 on aws and holds 4 more on gcp
    (tier 1). ovh is out from 5 s to 15 s of a 20 s replay at 10 requests/s: the cheapest plan
    loses every request that cannot finish before its 1 s deadline while ovh is out, the
    survivable one fails over and loses none."""
    outage = schedule([Fault(FaultKind.OUTAGE, 5.0, 15.0, "provider:ovh")])
    cheap_table = _chat_plan()
    safe_table = _chat_plan(
        SurvivabilityRule(loss="provider", served_fraction=1.0, services=["chat"])
    )
    assert set(cheap_table.provider) == {"ovh"} and len(set(safe_table.provider)) >= 2
    w = _chat_workload(cheap_table, 10.0, 20.0)
    lost_cheap = simulate(cheap_table, w, decide, outage, SimConfig(seed=1)).outcomes.status
    lost_safe = simulate(safe_table, w, decide, outage, SimConfig(seed=1)).outcomes.status
    during = (w.arrival_s >= 5.0) & (w.arrival_s < 14.0)
    assert not (lost_cheap[during] == SERVED).any()
    assert (lost_safe == SERVED).all()


def test_a_spill_tier_absorbs_a_peak_the_planned_tier_cannot() -> None:
    """The survivable plan carries chat's 40 requests/s on tier 0 (4 replicas on ovh, 4 on aws:
    40/s) and holds 4 on gcp as tier 1 (20/s). A peak of 55 requests/s for 10 s saturates tier
    0; the policy spills to tier 1, which serves a fair part of the peak: at least 100 more
    requests (about 14 a second for the 15 a second above tier 0) than the same table with its
    tier-1 replicas removed. (Near full load this service-time model loses some requests to
    queueing before their 2 s deadline either way.)"""
    table = _chat_plan(SurvivabilityRule(loss="provider", served_fraction=1.0, services=["chat"]))
    tier1 = np.flatnonzero(table.tier == 1)
    assert tier1.size
    w = _chat_workload(table, 55.0, 10.0, e2e_s=2.0)
    with_spill = simulate(table, w, decide, None, SimConfig(seed=2)).outcomes
    no_spill = replace(table, replicas=np.where(table.tier == 1, 0, table.replicas))
    without = simulate(no_spill, w, decide, None, SimConfig(seed=2)).outcomes
    spilled = with_spill.spills > 0
    assert spilled.any() and np.isin(with_spill.deployment[spilled], tier1).all()
    assert (with_spill.status == SERVED).sum() >= (without.status == SERVED).sum() + 100
    assert not np.isin(without.deployment, tier1).any()


def test_a_ramp_sends_its_share() -> None:
    """A ramp holds aws at exactly 30 % of chat in 2027-Q1 (ovh, cheaper, takes the rest): the plan
    sends 30 % of eu's flow there, and the replay follows the plan's weights (within the sampling
    noise of 400 requests)."""
    table = _chat_plan(
        TrafficRampRule(
            service="chat",
            provider="aws",
            steps=[RampStep(start=dt.date(2027, 1, 1), min_share=0.3, max_share=0.3)],
        )
    )
    aws = np.array([p == "aws" for p in table.provider])
    assert table.weight[table.geographies.index("eu"), aws].sum() == pytest.approx(0.3)
    w = _chat_workload(table, 20.0, 20.0)
    out = simulate(table, w, decide, None, SimConfig(seed=3)).outcomes
    served = out.status == SERVED
    share = aws[out.deployment[served]].mean()
    assert share == pytest.approx(0.3, abs=0.07)
