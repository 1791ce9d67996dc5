"""One plan factory for the report tests: a realistic plan, and ``alloc`` to make allocations.

``make_plan()`` is a plan a frontier lab could get back: seven providers, long region and
instance-type names (``azure:southcentralus``, ``Standard_ND96isr_H100_v5``,
``gpu-b200-sxm_8gpu-160vcpu-1792gb``), whole nodes with replicas, utilisation and throughput
sources, two request classes, a take-or-pay shortfall, a failure scenario that serves 0 %, and a
decomposed solve. Its figures, all derived from the table below (hours 2,000 per period):

=============  ==========================  ================================  =========  ==  =====  ========
workload       region                      instance type                     option     t   nodes  cost
=============  ==========================  ================================  =========  ==  =====  ========
assistant      azure:southcentralus        Standard_ND96isr_H100_v5 (8×H100) on_demand  0   120    $2.4M
assistant      azure:southcentralus        Standard_ND96isr_H100_v5 (8×H100) on_demand  1   140    $2.8M
assistant      nebius:us-central1          gpu-b200-sxm_8gpu-160vcpu-1792gb  on_demand  1   30     $900K
assistant      oci:eu-frankfurt-1          BM.GPU.H100.8                     reserved   0   16     $0
api-open       aws:ap-northeast-1          p5.48xlarge                       spot       0   10     $300K
api-open       gcp:europe-west4            a3-highgpu-8g                     spot       1   12     $360K
eu-assistant   verda:FIN-03                1B200.30V (1×B200)                on_demand  0   64     $256K
eu-assistant   lambda:us-east-3            gpu_8x_b200_sxm6                  on_demand  1   5      $150K
pretrain       oci:us-ashburn-1            BM.GPU.B200.8 (training)          on_demand  1   64     $1.6M
=============  ==========================  ================================  =========  ==  =====  ========

Cost by provider = allocations per provider, plus aws's $100K take-or-pay shortfall and oci's
$500K reserved block (fixed, half in each period): azure $5.2M, oci $2.1M, nebius $900K,
aws $400K, gcp $360K, verda $256K, lambda $150K; objective $9.366M. Spend per period (no
shortfall): 2027-Q1 $3.206M, 2027-Q2 $6.06M.
"""

from __future__ import annotations

from typing import Any

from archipel.catalog.model import Offering
from archipel.plan.result import (
    Allocation,
    BindingRule,
    ContractYear,
    Flow,
    Plan,
    RuleCost,
    ScenarioResult,
    ServingFigure,
    Status,
)

HOURS = 2000.0
SHORTFALL = 100_000.0  # aws-strategic-2026, take-or-pay
RESERVED_FIXED = 500_000.0  # oci's reserved block, half in each period
PERIODS = ["2027-Q1", "2027-Q2"]


def alloc(
    workload: str,
    region: str,
    instance_type: str,
    accelerator: str,
    option: str,
    period: int,
    nodes: float,
    cost: float,
    *,
    kind: str = "service",
    per_node: int = 8,
    per_replica: int = 0,
    utilisation: float | None = None,
    source: str = "",
    availability: float = 1.0,
    hours: float = HOURS,
) -> Allocation:
    """One allocation; a service's replicas are nodes × per_node / per_replica when given."""
    replicas = nodes * per_node // per_replica if per_replica else 0.0
    return Allocation(
        workload=workload,
        workload_kind=kind,  # type: ignore[arg-type]
        provider=region.split(":")[0],
        region=region,
        instance_type=instance_type,
        accelerator=accelerator,
        purchase_option=option,
        offering_id=f"{region}/{instance_type}/{option}",
        period=period,
        period_label=PERIODS[period] if period < len(PERIODS) else f"#{period}",
        nodes=nodes,
        accelerators=nodes * per_node,
        hours=hours,
        cost_usd=cost,
        replicas=replicas,
        accelerators_per_replica=per_replica,
        utilisation=utilisation,
        throughput_source=source,
        availability=availability,
    )


def alloc_on(
    o: Offering,
    workload: str,
    kind: str,
    nodes: float,
    replicas: float,
    accelerators_per_replica: int,
    nodes_per_replica: int = 1,
    *,
    period: int = 0,
    period_label: str = "2027-Q1",
    hours: float = 2000.0,
) -> Allocation:
    """One allocation on a catalog offering (its provider, region, instance and chip), with
    the replica shape given: the export tests' plans."""
    return Allocation(
        workload=workload,
        workload_kind=kind,  # type: ignore[arg-type]
        provider=o.provider,
        region=o.region_id,
        instance_type=o.instance_type,
        accelerator=o.accelerator,
        purchase_option=str(o.purchase_option),
        offering_id=o.id,
        period=period,
        period_label=period_label,
        nodes=nodes,
        accelerators=nodes * o.accelerators_per_node,
        hours=hours,
        cost_usd=1.0,
        replicas=replicas,
        accelerators_per_replica=accelerators_per_replica,
        nodes_per_replica=nodes_per_replica,
    )


ND96 = "Standard_ND96isr_H100_v5"
NEBIUS_B200 = "gpu-b200-sxm_8gpu-160vcpu-1792gb"


def allocations() -> list[Allocation]:
    return [
        alloc("assistant", "azure:southcentralus", ND96, "H100", "on_demand", 0, 120, 2.4e6,
              per_replica=4, utilisation=0.82, source="estimated"),
        alloc("assistant", "azure:southcentralus", ND96, "H100", "on_demand", 1, 140, 2.8e6,
              per_replica=4, utilisation=0.9, source="estimated"),
        alloc("assistant", "nebius:us-central1", NEBIUS_B200, "B200", "on_demand", 1, 30, 9e5,
              per_replica=2, utilisation=0.95, source="calibrated"),
        alloc("assistant", "oci:eu-frankfurt-1", "BM.GPU.H100.8", "H100", "reserved", 0, 16, 0.0,
              per_replica=4, utilisation=0.5, source="estimated"),
        alloc("api-open", "aws:ap-northeast-1", "p5.48xlarge", "H100", "spot", 0, 10, 3e5,
              per_replica=2, utilisation=0.7, source="measured", availability=0.92),
        alloc("api-open", "gcp:europe-west4", "a3-highgpu-8g", "H100", "spot", 1, 12, 3.6e5,
              per_replica=2, utilisation=0.75, source="measured", availability=0.9),
        alloc("eu-assistant", "verda:FIN-03", "1B200.30V", "B200", "on_demand", 0, 64, 2.56e5,
              per_node=1, per_replica=1, utilisation=0.88, source="estimated"),
        alloc("eu-assistant", "lambda:us-east-3", "gpu_8x_b200_sxm6", "B200", "on_demand", 1, 5,
              1.5e5, per_replica=1, utilisation=0.6, source="estimated"),
        alloc("pretrain", "oci:us-ashburn-1", "BM.GPU.B200.8", "B200", "on_demand", 1, 64, 1.6e6,
              kind="training"),
    ]  # fmt: skip


def _by_provider(allocs: list[Allocation], extra: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = dict(extra)
    for a in allocs:
        out[a.provider] = out.get(a.provider, 0.0) + a.cost_usd
    return out


def make_plan(**overrides: Any) -> Plan:
    """The realistic plan above; keyword arguments replace its fields."""
    allocs = allocations()
    by_provider = _by_provider(allocs, {"aws": SHORTFALL, "oci": RESERVED_FIXED})
    by_period = [
        sum(a.cost_usd for a in allocs if a.period == t) + RESERVED_FIXED / 2 for t in range(2)
    ]
    fields: dict[str, Any] = {
        "spec_name": "frontier-lab",
        "planner": "lp",
        "status": Status.OPTIMAL,
        "message": "HiGHS: optimal",
        "objective_usd": sum(by_provider.values()),
        "whole_nodes": True,
        "lower_bound_kind": "lp_relaxation",
        "lower_bound_usd": 8_840_000.0,
        "gap": 0.0029,
        "spec_sha256": "5f1c0ffee" + "0" * 55,
        "verified": True,
        "catalog_sha256": "afeacb4dee6985525d9c3abe2227280089cb9c8b960bb79a9ca4bc4fc3fb9733",
        "periods": list(PERIODS),
        "period_hours": [2160.0, 2184.0],
        "cost_by_provider_usd": by_provider,
        "cost_by_period_usd": by_period,
        "cost_by_purchase_option_usd": {
            option: sum(a.cost_usd for a in allocs if a.purchase_option == option)
            for option in ("on_demand", "spot", "reserved")
        },
        "shortfall_usd": SHORTFALL,
        "reserved_fixed_usd": RESERVED_FIXED,
        "allocations": allocs,
        "flows": [
            Flow(
                service="assistant",
                request_class="chat",
                geography="us",
                region="azure:southcentralus",
                period=0,
                requests_per_s=3_000.0,
            ),
            Flow(
                service="assistant",
                request_class="long-context",
                geography="us",
                region="azure:southcentralus",
                period=0,
                requests_per_s=250.0,
            ),
        ],
        "contracts": [
            ContractYear(
                contract="aws-strategic-2026",
                provider="aws",
                year=1,
                start="2027-01-01",
                end="2028-01-01",
                committed_usd=500_000.0,
                spent_usd=400_000.0,
                useful_usd=350_000.0,
                idle_usd=50_000.0,
                shortfall_usd=100_000.0,
                unused_usd=150_000.0,
            ),
            ContractYear(
                contract="oci-compute-300b",
                provider="oci",
                year=1,
                start="2027-01-01",
                end="2028-01-01",
                committed_usd=1_000_000.0,
                spent_usd=1_600_000.0,
                shortfall_usd=0.0,
                reserved_fixed_usd=500_000.0,
            ),
        ],
        "survivability": [
            ScenarioResult(
                scenario="provider:azure",
                required_fraction=0.6,
                served_fraction={"assistant": 0.0, "api-open": 1.0},
                ok=False,
            ),
            ScenarioResult(
                scenario="provider:oci",
                required_fraction=0.6,
                served_fraction={"assistant": 0.62, "api-open": 1.0},
                ok=True,
            ),
            ScenarioResult(
                scenario="region:azure:southcentralus",
                required_fraction=0.6,
                served_fraction={"assistant": 0.45, "eu-assistant": 1.0},
                ok=False,
            ),
        ],
        "serving_figures": [
            ServingFigure(
                service="assistant",
                accelerator="H100",
                accelerators_per_replica=4,
                requests_per_s_per_replica={"chat": 6.5, "long-context": 0.8},
                source="estimated",
            ),
            ServingFigure(
                service="assistant",
                accelerator="B200",
                accelerators_per_replica=2,
                requests_per_s_per_replica={"chat": 11.0, "long-context": 1.625},
                source="calibrated",
            ),
            ServingFigure(
                service="api-open",
                accelerator="H100",
                accelerators_per_replica=2,
                requests_per_s_per_replica={"chat": 7.25},
                source="measured",
            ),
            ServingFigure(
                service="eu-assistant",
                accelerator="B200",
                accelerators_per_replica=1,
                requests_per_s_per_replica={"chat": 5.5, "long-context": 0.375},
                source="estimated",
            ),
        ],
        "binding_rules": [
            BindingRule(
                family="service-demand-equal@provider:verda",
                entity="eu-assistant/europe/2027-Q2",
                shadow_price_usd=5_480.0,
                description="requests/s of a service from a geography that must be "
                "served when provider:verda is lost",
            ),
            BindingRule(
                family="provider-spend-share-upper",
                entity="azure",
                shadow_price_usd=-0.12,
                description="azure at most 60% of spend",
            ),
            BindingRule(
                family="offering-nodes-upper",
                entity="oci:eu-frankfurt-1/BM.GPU.H100.8/reserved",
                shadow_price_usd=52_000.0,
                description="block capacity",
            ),
        ],
        "rule_costs": [
            RuleCost(
                kind="rule",
                name="survivability (rules[3])",
                effect_usd=1_040_000.0,
                method="re-solve",
                marginal_usd=5_480.0,
                unit="USD per request/s of peak demand in a period",
            ),
            RuleCost(
                kind="contract",
                name="commitment of aws-strategic-2026",
                effect_usd=-20_000.0,
                method="re-solve",
                marginal_usd=0.4,
                unit="USD per USD committed",
            ),
            RuleCost(
                kind="limit",
                name="offering-nodes-upper oci:eu-frankfurt-1/BM.GPU.H100.8/reserved",
                effect_usd=None,
                method="marginal only",
                marginal_usd=52_000.0,
                unit="USD per node in a period",
            ),
        ],
        "timings_s": {"build": 0.12, "solve": 46.53, "extract": 2.7, "verify": 0.04},
        "stats": {"variables": 125_131, "constraints": 103_012, "nonzeros": 316_709, "blocks": 3},
    }
    fields.update(overrides)
    return Plan(**fields)
