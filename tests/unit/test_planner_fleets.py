"""Random fleets, seeded: every plan verified, never dearer than a verified greedy plan, no
traceback, and infeasible only when a relaxation (or the exact whole-node MIP) proves it.

Fleets draw on the factories' catalog with spot availability, prices and capacities varied, and
mix services (demand tables or growth, one or two request classes, data classes, spot), training
jobs (hours or FLOPs, gangs, one region or not, preemptible), rules (residency, CLOUD Act,
exclusivity, survivability with and without spot, diversification, minimum providers, provider
limits) and network cost (free, or list rates with or without a gateway region per geography).
Hypothesis is derandomized, so the same fleets run every time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archipel.catalog.model import Catalog, PurchaseOption
from archipel.plan.greedy import plan_greedy
from archipel.plan.inputs import prepare
from archipel.plan.planner import PlanOptions, make_plan, plan_lp
from archipel.plan.result import Status
from archipel.plan.verify import verify
from archipel.spec.models import (
    CapacityLimit,
    CloudActExclusionRule,
    DiversificationRule,
    ExclusivityRule,
    MinProvidersRule,
    ProviderSettings,
    ResidencyRule,
    Rule,
    Spec,
    SurvivabilityRule,
    TrainingJob,
    WorkAcceleratorHours,
    WorkFlops,
)
from factories import (
    GEOGRAPHIES,
    OFFERINGS,
    request_classes,
    service,
    small_catalog,
    spec_with,
)

OPTIONS = PlanOptions(rule_costs=False, block_mip_time_s=10.0)
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
demand = st.lists(st.one_of(st.just(0.0), st.floats(0.5, 250)), min_size=2, max_size=2)


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    out = []
    for o in OFFERINGS:
        price = draw(st.sampled_from([o.price_usd_per_node_hour, 60.0, 100.0]))
        cap = draw(st.sampled_from([o.max_nodes, None, 3.0, 20.0]))
        avail = draw(st.sampled_from([1.0, 0.6])) if o.purchase_option == "spot" else 1.0
        out.append(replace(o, price_usd_per_node_hour=price, max_nodes=cap, availability=avail))
    return small_catalog(out)


@st.composite
def services_(draw: st.DrawFn, i: int) -> Any:
    two = draw(st.booleans())
    classes = (
        request_classes(("short", 0.7, 500, 100), ("long", 0.3, 4000, 400))
        if two
        else request_classes(("default", 1.0, 1000, 250))
    )
    spot = draw(st.booleans())
    return service(
        f"s{i}",
        {g: draw(demand) for g in draw(st.sets(st.sampled_from(["eu", "us"]), min_size=1))},
        data_class=draw(st.sampled_from([None, "personal", "sovereign"])),
        latency_slo_rtt_ms=draw(st.sampled_from([20.0, 100.0])),
        request_classes=classes,
        purchase_options=["on_demand", "spot"] if spot else ["on_demand"],
        spot_max_share=draw(st.sampled_from([0.3, 1.0])),
        peak_to_average=draw(st.sampled_from([1.0, 1.4])),
    )


@st.composite
def jobs(draw: st.DrawFn, i: int) -> TrainingJob:
    gmin = draw(st.sampled_from([0, 8, 16, 24]))
    gmax = draw(st.sampled_from([None, 8, 32, 64]))
    if gmax is not None and gmax < gmin:
        gmax = gmin
    flops = draw(st.booleans())
    work = (
        WorkFlops(flops=draw(st.floats(1e21, 2e23)))
        if flops
        else WorkAcceleratorHours(
            reference_accelerator="H100", accelerator_hours=draw(st.floats(500, 2e5))
        )
    )
    return TrainingJob(
        id=f"j{i}",
        work=work,
        accelerators=draw(st.sampled_from([["H100"], ["H100", "L4"]])),
        gang_min_accelerators=gmin,
        gang_max_accelerators=gmax,
        single_region=draw(st.booleans()),
        preemptible=draw(st.booleans()),
        deadline=dt.date(2027, 7, 1),
        data_class=draw(st.sampled_from([None, "personal"])),
    )


@st.composite
def fleets(draw: st.DrawFn, cross_rules: bool = True) -> tuple[Spec, Catalog]:
    services = [draw(services_(i)) for i in range(draw(st.integers(1, 3)))]
    training = [draw(jobs(i)) for i in range(draw(st.integers(0, 1)))]
    rules: list[Rule] = []
    if draw(st.booleans()) or any(x.data_class == "personal" for x in [*services, *training]):
        rules.append(ResidencyRule(data_class="personal", jurisdictions=["EU"]))
    if draw(st.booleans()) or any(x.data_class == "sovereign" for x in services):
        rules.append(CloudActExclusionRule(data_classes=["sovereign"]))
    if draw(st.booleans()):
        rules.append(ExclusivityRule(model="m70", providers=["gcp"], until=dt.date(2027, 4, 1)))
    providers: list[ProviderSettings] = []
    if draw(st.booleans()):
        providers.append(
            ProviderSettings(
                id="aws", capacity=[CapacityLimit(max_accelerators=draw(st.sampled_from([16, 80])))]
            )
        )
    if cross_rules:
        if draw(st.booleans()):
            rules.append(
                SurvivabilityRule(
                    served_fraction=draw(st.sampled_from([0.3, 0.6])),
                    count_spot=draw(st.booleans()),
                )
            )
        if draw(st.booleans()):
            rules.append(DiversificationRule(max_share=draw(st.sampled_from([0.5, 0.8]))))
        if draw(st.booleans()):
            rules.append(MinProvidersRule(count=2, min_share=0.1))
    gateways = st.sampled_from([None, "aws:us-east-1", "gcp:europe-west4", "ovh:gra"])
    spec = spec_with(
        services=services,
        training=training,
        rules=rules,
        providers=providers,
        purchase_options=(PurchaseOption.ON_DEMAND, PurchaseOption.SPOT),
        geographies=[g.model_copy(update={"gateway_region": draw(gateways)}) for g in GEOGRAPHIES],
        price_egress=draw(st.booleans()),
    )
    return spec, draw(catalogs())


@SETTINGS
@given(fleets())
def test_every_plan_is_verified_and_infeasible_only_when_proven(
    fleet: tuple[Spec, Catalog],
) -> None:
    spec, catalog = fleet
    plan = make_plan(spec, catalog, options=OPTIONS)
    assert plan.status in (Status.OPTIMAL, Status.FEASIBLE, Status.INFEASIBLE), plan.message
    if plan.status == Status.INFEASIBLE:
        assert plan.infeasibility, "an infeasible plan must say why"
        relaxed = plan_lp(prepare(spec, catalog), replace(OPTIONS, whole_nodes=False))
        proven_by_mip = "the MIP proves it" in plan.message
        assert relaxed.status == Status.INFEASIBLE or proven_by_mip, plan.message
        return
    assert plan.verified, plan.verification_problems
    assert plan.whole_nodes and all(a.nodes == round(a.nodes) for a in plan.allocations)
    assert plan.lower_bound_usd is not None and plan.objective_usd is not None
    assert plan.lower_bound_usd <= plan.objective_usd * (1 + 1e-6) + 1e-6


@SETTINGS
@given(fleets(cross_rules=False))
def test_the_planner_never_costs_more_than_a_verified_greedy_plan(
    fleet: tuple[Spec, Catalog],
) -> None:
    spec, catalog = fleet
    inputs = prepare(spec, catalog)
    greedy = plan_greedy(inputs)
    if greedy.status != Status.FEASIBLE or not verify(greedy, inputs).ok:
        return  # greedy found no valid plan: nothing to compare against
    lp = plan_lp(inputs, OPTIONS)
    assert lp.status in (Status.OPTIMAL, Status.FEASIBLE), lp.message
    assert lp.objective_usd is not None and greedy.objective_usd is not None
    if lp.status == Status.OPTIMAL:  # within mip_rel_gap of each block's bound
        assert lp.objective_usd <= greedy.objective_usd * (1 + OPTIONS.mip_rel_gap) + 1e-6
