"""The routing policy in the simulator, on a plan the planner made: an outage of the only
provider EU personal data may use.

Spec (small test catalog, tests/factories.py): ``eu-chat`` (data class ``personal``: EU
residency and CLOUD Act exclusion, so only ovh:gra, the one EU region of a provider outside the
CLOUD Act) and ``open`` (no data class), each 40 requests/s from eu (8 replicas of 5
requests/s). ``open`` must survive the loss of any provider: the plan gives eu-chat 8 replicas
on ovh, open 4 on ovh and 4 on aws carrying its flows and 4 more held on gcp (spill tier).
Traffic: 10 requests/s per service for 20 s, one arrival every 0.1 s,
end-to-end SLO 1 s. ovh is out from 5 s to 10 s.

Hand-derived: a request takes 0.29 s end to end (round trip plus service), so the eu-chat
requests that arrived at 4.8 s and 4.9 s are still in flight when ovh goes and fail; no eu-chat
request may leave ovh, so those arriving while ovh is out and unable to finish before their
deadline (arrivals in [5, 9)) are lost too, and none is ever served anywhere else; every other
eu-chat request is served. ``open`` fails over to the capacity held on another provider (its
in-flight requests too, within their 1 s) and loses nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import PurchaseOption
from archipel.plan.inputs import prepare
from archipel.plan.planner import PlanOptions, make_plan
from archipel.route.policy import decide
from archipel.route.table import deployment_table
from archipel.sim.engine import SimConfig, Workload, simulate
from archipel.sim.faults import Fault, FaultKind, schedule
from archipel.sim.records import SERVED
from archipel.spec.models import CatalogSelection
from archipel.spec.rules import CloudActExclusionRule, ResidencyRule, SurvivabilityRule
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
        geography=np.zeros(n, dtype=np.int64),
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
    assert np.allclose(out.e2e_s[chat & (arrivals < 4.75)], 0.2870602, atol=1e-6)
    lost_window = chat & (arrivals >= 4.75) & (arrivals < 9.0)
    assert not served[lost_window].any()
    assert served[chat & calm].all()
    on_ovh = np.array([table.provider[d] == "ovh" for d in out.deployment[served]])
    assert on_ovh[chat[served]].all()  # an eu-chat request served is served on ovh
    assert served[~chat].all()  # the open service fails over and loses nothing
    failed_over = out.failovers[~chat & (arrivals >= 5.0) & (arrivals < 10.0)]
    assert (failed_over > 0).any()
