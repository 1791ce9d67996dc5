"""The shipped examples validate against the built-in catalog."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from archipel.spec.check import validate_file
from archipel.spec.dump import dump_spec
from archipel.spec.load import parse_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("archipel.catalog.snapshot") is None,
    reason="archipel.catalog.snapshot (the built-in catalog) is not built yet",
)


@pytest.mark.parametrize("name", ["small.yaml", "frontier-lab.yaml", "migration.yaml"])
def test_example_validates_against_the_builtin_catalog(name: str) -> None:
    from archipel.catalog.snapshot import load_builtin

    spec = validate_file(EXAMPLES / name, load_builtin())
    assert spec.services
    assert parse_spec(dump_spec(spec)) == spec


def test_frontier_lab_has_what_its_comments_promise() -> None:
    from archipel.catalog.snapshot import load_builtin

    spec = validate_file(EXAMPLES / "frontier-lab.yaml", load_builtin())
    assert len(spec.catalog.providers or []) >= 5
    assert spec.horizon.periods == 16
    kinds = {r.kind for r in spec.rules}
    assert {"exclusivity", "residency", "cloud_act_exclusion", "survivability"} <= kinds
    assert {c.provider for c in spec.contracts} == {"oci", "aws"}
    assert len(spec.training) == 1 and spec.training[0].single_region


def test_frontier_lab_plan_is_what_its_comments_say() -> None:
    """The figures in examples/frontier-lab.yaml's comments come from this plan: keep them true.

    (About 4 s: the README's main job, planned and verified.)"""
    from archipel.catalog.snapshot import load_builtin
    from archipel.plan.planner import PlanOptions, make_plan

    catalog = load_builtin()
    spec = validate_file(EXAMPLES / "frontier-lab.yaml", catalog)
    plan = make_plan(spec, catalog, options=PlanOptions(rule_costs=False))
    assert plan.verified and plan.whole_nodes
    assert plan.objective_usd == pytest.approx(18.79e9, rel=0.005)
    assert plan.gap is not None and plan.gap < 0.001
    assistant = [a for a in plan.allocations if a.workload == "assistant"]
    before_2030 = [a for a in assistant if a.period < 12]
    assert {a.provider for a in before_2030} == {"azure"}
    h200 = [a for a in before_2030 if a.instance_type == "Standard_ND96isr_H200_v5"]
    assert sum(a.nodes for a in h200) >= 0.999 * sum(a.nodes for a in before_2030)
    peak = {y: max(a.nodes for a in h200 if a.period_label.startswith(y)) for y in ("2027", "2029")}
    assert peak == {"2027": 4878.0, "2029": 10260.0}
    share = sum(a.cost_usd for a in assistant) / plan.objective_usd
    assert share == pytest.approx(0.94, abs=0.005)
    training = [a for a in plan.allocations if a.workload_kind == "training"]
    assert {(a.region, a.instance_type) for a in training} == {("oci:ap-tokyo-1", "BM.GPU.B200.8")}
    assert [a.accelerators for a in training] == [8192.0, 8192.0]
    assert sum(a.cost_usd for a in training) == pytest.approx(252e6, rel=0.005)
    oci = {c.year: c for c in plan.contracts if c.contract == "oci-compute"}
    assert [round(oci[y].shortfall_usd / 1e6) for y in (1, 2, 3, 4)] == [0, 88, 78, 0]
    assert [round(oci[y].spent_usd / 1e6) for y in (2, 3)] == [62, 72]
    aws = [c for c in plan.contracts if c.contract == "aws-strategic"]
    assert (aws[0].start, round(aws[0].committed_usd / 1e5), round(aws[0].shortfall_usd / 1e5)) == (
        "2026-10-01",
        187,
        187,
    )
    assert all(c.shortfall_usd < 1e5 for c in aws[1:])
    eu = [a for a in plan.allocations if a.workload == "eu-assistant"]
    assert {a.provider for a in eu} == {"nebius", "verda"}
    main = [a for a in eu if (a.provider, a.accelerator) in {("nebius", "H200"), ("verda", "B200")}]
    assert sum(a.cost_usd for a in main) >= 0.99 * sum(a.cost_usd for a in eu)
    assert all(s.ok for s in plan.survivability)


def test_migration_plan_is_what_its_comments_say() -> None:
    """The figures in examples/migration.yaml's comments come from this plan: keep them true."""
    from archipel.catalog.snapshot import load_builtin
    from archipel.plan.planner import PlanOptions, make_plan

    catalog = load_builtin()
    spec = validate_file(EXAMPLES / "migration.yaml", catalog)
    plan = make_plan(spec, catalog, options=PlanOptions(rule_costs=False))
    assert plan.verified and plan.whole_nodes
    demand = [0.0] * 8
    served: dict[str, list[float]] = {p: [0.0] * 8 for p in ("aws", "azure", "lab")}
    for f in plan.flows:
        demand[f.period] += f.requests_per_s
        served[f.region.split(":")[0]][f.period] += f.requests_per_s
    shares = {
        p: [round(v / d, 2) for v, d in zip(s, demand, strict=True)] for p, s in served.items()
    }
    assert shares == {
        "aws": [0.05, 0.0, 0.2, 0.25, 0.4, 0.4, 0.4, 0.4],
        "azure": [0.95, 1.0, 0.8, 0.6, 0.4, 0.2, 0.0, 0.0],
        "lab": [0.0, 0.0, 0.0, 0.15, 0.2, 0.4, 0.6, 0.6],
    }
    lab = {a.period: a.nodes for a in plan.allocations if a.provider == "lab"}
    assert min(lab) == 3 and lab[3] == 42.0
    cost = {p: round(v / 1e6) for p, v in plan.cost_by_provider_usd.items()}
    assert cost == {"aws": 100, "azure": 189, "lab": 20}
    assert plan.objective_usd == pytest.approx(309e6, rel=0.005)
