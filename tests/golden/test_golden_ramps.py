"""Hand-checked plans over time: a test-phase ramp, a migration-speed limit, a chip from a date.

Small catalog of tests/factories.py, H100 on-demand only unless said: m70 serves 20 requests/s
per 8-H100 node. Node prices per hour: ovh:gra 72 (≤ 10 nodes), aws:us-east-1 80, gcp (both
regions) 88, aws:eu-west-1 96; every region is within 100 ms of Paris ("eu"). Quarters of 2026:
Q1 90 days = 2160 h, Q2 91 days = 2184 h, Q3 and Q4 92 days = 2208 h; 2027-Q1 2160 h, 2027-Q2
2184 h. Demand is constant unless said, so every share below is a whole number of nodes and the
whole-node plan equals its relaxation.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import Catalog
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Plan, Status
from archipel.spec.declared import AcceleratorDecl, CostPerNodeHour, OfferingDecl
from archipel.spec.models import (
    CapacityLimit,
    CapacityStep,
    CatalogSelection,
    ExclusivityRule,
    MeasuredThroughput,
    MigrationLimitRule,
    ProviderSettings,
    RampStep,
    Rule,
    Spec,
    TrafficRampRule,
)
from factories import HUGE, M70, OD, service, small_catalog, spec_with

Y2026 = dt.date(2026, 1, 1)


def run(spec: Spec, catalog: Catalog | None = None) -> Plan:
    plan = make_plan(spec, catalog or small_catalog(), options=PlanOptions(mip_rel_gap=0.0))
    assert plan.status == Status.OPTIMAL, plan.message
    assert plan.verified, plan.verification_problems
    return plan


def on(spec: Spec, providers: list[str] | None = None) -> Spec:
    """The spec on H100 on-demand offerings (of these providers only, when given)."""
    sel = CatalogSelection(
        source="tests", providers=providers, accelerators=["H100"], purchase_options=[OD]
    )
    return spec.model_copy(update={"catalog": sel})


def by_provider(plan: Plan, what: str = "nodes") -> dict[str, list[float]]:
    """Per provider, nodes (or requests/s of flows) in each period."""
    out: dict[str, list[float]] = {}
    for a in plan.allocations:
        out.setdefault(a.provider, [0.0] * len(plan.periods))[a.period] += a.nodes
    if what == "flows":
        out = {}
        for f in plan.flows:
            p = f.region.split(":")[0]
            out.setdefault(p, [0.0] * len(plan.periods))[f.period] += f.requests_per_s
    return out


# --------------------------------------------------------------------------- traffic ramps


def ramp(provider: str, *steps: tuple[dt.date, float, float]) -> TrafficRampRule:
    return TrafficRampRule(
        service="chat",
        provider=provider,
        steps=[RampStep(start=d, min_share=lo, max_share=hi) for d, lo, hi in steps],
    )


TEST_PHASE = (
    (dt.date(2026, 1, 1), 0.0, 0.05),  # technical test phase: at most 5 %
    (dt.date(2026, 4, 1), 0.0, 0.0),  # pause: nothing
    (dt.date(2026, 7, 1), 0.25, 0.5),  # progressive production: 25 % to 50 %
)


def ramp_spec(provider: str) -> Spec:
    chat = service(demand={"eu": [400.0] * 4})
    rules: list[Rule] = [ramp(provider, *TEST_PHASE)]
    return on(spec_with(services=[chat], rules=rules, start=Y2026, periods=4), ["aws", "gcp"])


def test_a_test_phase_ramp_caps_the_cheaper_new_provider() -> None:
    """aws (80/h) is cheaper than gcp (88/h); 400 requests/s = 20 nodes. Without the ramp all 20
    would be aws: 20 × 80 × 8760 h = 14,016,000. The ramp holds aws to its max_share:
    Q1 5 % = 20 requests/s = 1 node, gcp 19: (80 + 19 × 88) × 2160 = 1752 × 2160 = 3,784,320;
    Q2 0 %: gcp 20 nodes: 1760 × 2184 = 3,843,840;
    Q3 and Q4 (the Q3 step holds on) 50 % = 200 requests/s: 10 aws + 10 gcp:
    (800 + 880) × 2208 = 3,709,440 each.
    Total 3,784,320 + 3,843,840 + 2 × 3,709,440 = 15,047,040; the rule costs 1,031,040."""
    plan = run(ramp_spec("aws"))
    assert by_provider(plan, "flows")["aws"] == pytest.approx([20.0, 0.0, 200.0, 200.0])
    assert by_provider(plan) == {"aws": [1.0, 0.0, 10.0, 10.0], "gcp": [19.0, 20.0, 10.0, 10.0]}
    assert plan.objective_usd == pytest.approx(15_047_040)
    (cost,) = [r for r in plan.rule_costs if r.kind == "rule"]
    assert cost.name == "traffic_ramp (rules[0])"
    assert cost.effect_usd == pytest.approx(1_031_040, rel=1e-5)
    binding = {(r.family, r.entity) for r in plan.binding_rules}
    assert ("provider-ramp-share-upper", "chat/aws/2026-Q1") in binding


def test_a_test_phase_ramp_holds_a_dearer_provider_at_its_minimum() -> None:
    """The same ramp on gcp (88/h, dearer than aws): its max never binds, its min does from Q3:
    25 % = 100 requests/s = 5 gcp nodes, 15 aws. Q1 and Q2 all aws:
    20 × 80 × (2160 + 2184) = 6,950,400; Q3 and Q4: (15 × 80 + 5 × 88) × 2208 = 1640 × 2208 =
    3,621,120 each. Total 6,950,400 + 7,242,240 = 14,192,640."""
    plan = run(ramp_spec("gcp"))
    assert by_provider(plan, "flows")["gcp"] == pytest.approx([0.0, 0.0, 100.0, 100.0])
    assert plan.objective_usd == pytest.approx(14_192_640)


# --------------------------------------------------------------------------- migration limits


def migration_spec(demand: list[float], max_shift: float = 0.25) -> Spec:
    """m70 exclusive to gcp (88/h) until 2026-04-01; then aws (80/h) is cheaper."""
    rules: list[Rule] = [
        MigrationLimitRule(max_shift=max_shift),
        ExclusivityRule(model="m70", providers=["gcp"], until=dt.date(2026, 4, 1)),
    ]
    chat = service(demand={"eu": demand})
    spec = spec_with(services=[chat], rules=rules, start=Y2026, periods=len(demand))
    return on(spec, ["aws", "gcp"])


def test_a_migration_limit_moves_demand_a_quarter_at_a_time() -> None:
    """400 requests/s = 20 nodes, all on gcp in Q1 (exclusivity). From Q2 aws is cheaper, but a
    provider's share may change by at most 25 % a quarter: gcp 100 %, 75 %, 50 %, 25 %, 0 %,
    i.e. gcp nodes 20, 15, 10, 5, 0 and aws 0, 5, 10, 15, 20.
    Q1 20 × 88 × 2160 = 3,801,600; Q2 (15 × 88 + 5 × 80) × 2184 = 1720 × 2184 = 3,756,480;
    Q3 (880 + 800) × 2208 = 3,709,440; Q4 (440 + 1200) × 2208 = 3,621,120;
    2027-Q1 1600 × 2160 = 3,456,000. Total 18,344,640. Without the limit aws takes all from Q2:
    3,801,600 + 1600 × (2184 + 2208 + 2208 + 2160) = 17,817,600, so the limit costs 527,040."""
    plan = run(migration_spec([400.0] * 5))
    shares = {p: [v / 400.0 for v in f] for p, f in by_provider(plan, "flows").items()}
    assert shares["gcp"] == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0])
    assert shares["aws"] == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert plan.objective_usd == pytest.approx(18_344_640)
    (cost,) = [r for r in plan.rule_costs if r.name == "migration_limit (rules[0])"]
    assert cost.effect_usd == pytest.approx(527_040, rel=1e-5)


def test_a_migration_limit_is_on_shares_not_on_requests() -> None:
    """Demand doubles from Q1 (400) to Q2 (800 requests/s). gcp's share may drop from 100 % to
    75 %, so it keeps 600 requests/s (30 nodes) of Q2 (a limit on requests/s would let it fall
    to 400 − 25 % × 400 = 300) and aws takes 200 (10 nodes): Q1 20 × 88 × 2160 = 3,801,600; Q2 (30 × 88 + 10 × 80) × 2184 =
    3440 × 2184 = 7,512,960. Total 11,314,560."""
    plan = run(migration_spec([400.0, 800.0]))
    flows = by_provider(plan, "flows")
    assert flows["gcp"] == pytest.approx([400.0, 600.0])
    assert flows["aws"] == pytest.approx([0.0, 200.0])
    assert plan.objective_usd == pytest.approx(11_314_560)


def test_a_period_without_demand_breaks_the_migration_chain() -> None:
    """Q2 has no demand, so it has no shares: Q3 may start afresh on aws (nothing links Q3 to Q1).
    Q1 gcp 20 × 88 × 2160 = 3,801,600; Q3 aws 20 × 80 × 2208 = 3,532,800. Total 7,334,400."""
    plan = run(migration_spec([400.0, 0.0, 400.0]))
    assert by_provider(plan) == {"gcp": [20.0, 0.0, 0.0], "aws": [0.0, 0.0, 20.0]}
    assert plan.objective_usd == pytest.approx(7_334_400)


# --------------------------------------------------------------------------- capacity over time

X1 = AcceleratorDecl(name="X1", memory_gib=96, bf16_tflops=1000, memory_bandwidth_tb_per_s=4)


def chip_spec(limit: CapacityLimit) -> Spec:
    """A custom inference chip X1 in gcp:europe-west4 (own deal, 40/h per 8-chip node; m70
    measured at 5 requests/s per replica of 2 X1, 20 per node like an H100 node), 100 requests/s
    from eu over 2027-Q1 (2160 h) and 2027-Q2 (2184 h); gcp's X1 capacity is ``limit``."""
    x1_rate = MeasuredThroughput(
        accelerator="X1", accelerators_per_replica=2, requests_per_s_per_replica=5.0
    )
    m70 = M70.model_copy(update={"throughput": [*M70.throughput, x1_rate]})
    x1_nodes = OfferingDecl(
        provider="gcp",
        region="gcp:europe-west4",
        instance_type="x1-8",
        accelerator="X1",
        accelerators_per_node=8,
        cost=CostPerNodeHour(usd_per_node_hour=40.0),
    )
    spec = spec_with(
        services=[service(demand={"eu": [100.0, 100.0]})],
        models=[m70, HUGE],
        providers=[ProviderSettings(id="gcp", capacity=[limit])],
    )
    return on(spec).model_copy(update={"accelerators": [X1], "offerings": [x1_nodes]})


def x1_nodes(plan: Plan) -> list[float]:
    out = [0.0] * len(plan.periods)
    for a in plan.allocations:
        if a.accelerator == "X1":
            out[a.period] += a.nodes
    return out


@pytest.mark.parametrize("arrives", [dt.date(2027, 4, 1), dt.date(2027, 2, 15)])
def test_a_chip_available_from_a_date_is_not_used_before(arrives: dt.date) -> None:
    """X1 (40/h) is the cheapest, but arrives on ``arrives``: Q1 is not wholly inside its window
    either way, so Q1 runs on ovh (72/h): 5 × 72 × 2160 = 777,600; Q2 on X1: 5 × 40 × 2184 =
    436,800. Total 1,214,400."""
    plan = run(chip_spec(CapacityLimit(accelerator="X1", available_from=arrives)))
    assert x1_nodes(plan) == [0.0, 5.0]
    assert plan.objective_usd == pytest.approx(1_214_400)


def test_a_chip_leaving_mid_period_is_not_used_in_that_period() -> None:
    """X1 until 2027-05-15: Q2 is not wholly inside, so Q1 on X1 (5 × 40 × 2160 = 432,000) and Q2
    on ovh (5 × 72 × 2184 = 786,240). Total 1,218,240."""
    plan = run(chip_spec(CapacityLimit(accelerator="X1", until=dt.date(2027, 5, 15))))
    assert x1_nodes(plan) == [5.0, 0.0]
    assert plan.objective_usd == pytest.approx(1_218_240)


def test_a_capacity_schedule_grows_the_chip_step_by_step() -> None:
    """16 X1 (2 nodes) at first, 40 (5 nodes) from 2027-04-01: Q1 2 X1 nodes + 3 ovh:
    (2 × 40 + 3 × 72) × 2160 = 296 × 2160 = 639,360; Q2 5 X1: 436,800. Total 1,076,160."""
    limit = CapacityLimit(
        accelerator="X1",
        max_accelerators=16,
        steps=[CapacityStep(start=dt.date(2027, 4, 1), max_accelerators=40)],
    )
    plan = run(chip_spec(limit))
    assert x1_nodes(plan) == [2.0, 5.0]
    assert plan.objective_usd == pytest.approx(1_076_160)


def test_a_capacity_drop_inside_a_period_holds_for_the_whole_period() -> None:
    """40 X1 at first, 16 from 2027-03-01: the drop is inside Q1, so Q1 (and Q2, where the step
    holds on) may use 2 nodes: (2 × 40 + 3 × 72) × 2160 = 639,360 and (80 + 216) × 2184 =
    646,464. Total 1,285,824."""
    limit = CapacityLimit(
        accelerator="X1",
        max_accelerators=40,
        steps=[CapacityStep(start=dt.date(2027, 3, 1), max_accelerators=16)],
    )
    plan = run(chip_spec(limit))
    assert x1_nodes(plan) == [2.0, 2.0]
    assert plan.objective_usd == pytest.approx(1_285_824)
