"""Property: for random plans over the built-in catalog, every exported file reads back to its
allocation, every allocation is either written for each target or listed with the reason it is
not, and the endpoints file names exactly the period's deployment table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archipel.catalog.model import Catalog, Offering
from archipel.catalog.snapshot import load_builtin
from archipel.cli.plan_cmd import _load
from archipel.export import build
from archipel.export.kubernetes import read_manifests
from archipel.export.placement import Facts
from archipel.export.skypilot import read_task
from archipel.plan.inputs import PlanInputs, prepare, spec_sha256
from archipel.plan.result import Allocation, Plan
from archipel.route.table import deployment_table
from archipel.spec.models import Spec
from plans import alloc_on, make_plan

SMALL = Path(__file__).resolve().parents[2] / "examples" / "small.yaml"
OFFERINGS = load_builtin().offerings


@pytest.fixture(scope="module")
def small() -> tuple[Spec, Catalog, PlanInputs]:
    spec, catalog = _load(SMALL, None)
    assert isinstance(spec, Spec)
    return spec, catalog, prepare(spec, catalog)


@st.composite
def allocations(draw: st.DrawFn, o: Offering, period: int, training_id: str) -> Allocation:
    a = o.accelerators_per_node
    kind = draw(st.sampled_from(["service", "training"]))
    nodes = draw(st.integers(1, 40))
    replicas, apr, npr = 0, 0, 1
    if kind == "service":
        npr = draw(st.sampled_from([1, 1, 2, 4]))
        if npr == 1:
            apr = draw(st.integers(1, a))
            replicas = draw(st.integers(1, nodes * (a // apr)))
        else:
            nodes = max(nodes, npr)
            apr = npr * a
            replicas = draw(st.integers(1, nodes // npr))
    workload = "chat" if kind == "service" else training_id
    return alloc_on(
        o,
        workload,
        kind,
        float(nodes),
        float(replicas),
        apr,
        npr,
        period=period,
        period_label=f"p{period}",
    )


@st.composite
def random_plans(draw: st.DrawFn, spec: Spec) -> Plan:
    picks = draw(st.lists(st.sampled_from(OFFERINGS), min_size=1, max_size=8, unique_by=id))
    allocs = [
        draw(allocations(o, draw(st.integers(0, 3)), draw(st.sampled_from(["pre", "Fine_tune"]))))
        for o in picks
    ]
    return make_plan(spec_name=spec.name, spec_sha256=spec_sha256(spec), allocations=allocs)


def _facts(a: Allocation) -> Facts:
    return Facts(
        a.provider,
        a.region,
        a.instance_type,
        a.purchase_option == "spot",
        round(a.nodes),
        round(a.accelerators),
        round(a.replicas),
    )


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_plans_round_trip(
    small: tuple[Spec, Catalog, PlanInputs], data: st.DataObject
) -> None:
    spec, catalog, inputs = small
    plan = data.draw(random_plans(spec))
    for t in sorted({a.period for a in plan.allocations}):
        b = build(spec, catalog, plan, period=t)
        manifest = json.loads(b.files["bundle.json"])
        by_key = {e["key"]: e for e in manifest["allocations"]}
        left = {(x["key"], x["target"]) for x in manifest["left_out"]}
        mine = [a for a in plan.allocations if a.period == t]
        assert len(by_key) == len(mine)
        for a in mine:
            key = f"{a.workload}/{a.region}/{a.offering_id}"
            files = by_key[key]["files"]
            for target, reader in (("skypilot", read_task), ("kubernetes", read_manifests)):
                written = [f for f in files if f.startswith(target + "/")]
                if not written:
                    assert (key, target) in left  # not written, and says why
                    continue
                docs = _docs(b.files[written[0]])
                got = reader(docs[0]) if target == "skypilot" else reader(docs)  # type: ignore[operator]
                assert got == _facts(a), (target, key)
        endpoints = yaml.safe_load(b.files["endpoints.yaml"])
        services = [a for a in mine if a.workload_kind == "service"]
        if services:
            table = deployment_table(plan, inputs, t)
            assert [e["deployment"] for e in endpoints["endpoints"]] == list(table.key)
        else:
            assert endpoints["endpoints"] == []
