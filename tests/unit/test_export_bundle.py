"""archipel.export.export_bundle on the small example: files, round trip, period, refusals."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from archipel.catalog.model import Catalog
from archipel.cli.plan_cmd import _load
from archipel.errors import OutputPathError, UserError
from archipel.export import build, export_bundle
from archipel.export.kubernetes import read_manifests
from archipel.export.skypilot import read_task
from archipel.plan.inputs import prepare
from archipel.plan.planner import make_plan
from archipel.plan.result import Plan
from archipel.route.table import deployment_table
from archipel.spec.models import Spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def small() -> tuple[Spec, Catalog, Plan]:
    spec, catalog = _load(EXAMPLES / "small.yaml", None)
    assert isinstance(spec, Spec)
    return spec, catalog, make_plan(spec, catalog)


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def test_every_allocation_of_the_period_is_written_and_reads_back(
    small: tuple[Spec, Catalog, Plan], tmp_path: Path
) -> None:
    spec, catalog, plan = small
    paths = export_bundle(spec, catalog, plan, tmp_path / "b", period=1)
    assert all(p.is_file() for p in paths)
    manifest = json.loads((tmp_path / "b" / "bundle.json").read_text())
    assert manifest["period"] == 1 and manifest["period_reason"] == "asked for"
    expected = [a for a in plan.allocations if a.period == 1]
    assert len(manifest["allocations"]) == len(expected) > 0
    for a, entry in zip(expected, manifest["allocations"], strict=True):
        want = (
            a.provider,
            a.region,
            a.instance_type,
            a.purchase_option == "spot",
            round(a.nodes),
            round(a.accelerators),
            round(a.replicas),
        )
        files = entry["files"]
        assert len(files) == 2, entry  # nebius: both SkyPilot and Kubernetes
        sky = read_task(_docs(tmp_path / "b" / files[0])[0])
        k8s = read_manifests(_docs(tmp_path / "b" / files[1]))
        for facts in (sky, k8s):
            got = (
                facts.provider,
                facts.region,
                facts.instance_type,
                facts.spot,
                facts.nodes,
                facts.accelerators,
                facts.replicas,
            )
            assert got == want


def test_endpoint_keys_are_the_deployment_tables(
    small: tuple[Spec, Catalog, Plan], tmp_path: Path
) -> None:
    spec, catalog, plan = small
    inputs = prepare(spec, catalog)
    for t in range(len(plan.periods)):
        export_bundle(spec, catalog, plan, tmp_path / "b", period=t)
        doc = yaml.safe_load((tmp_path / "b" / "endpoints.yaml").read_text())
        table = deployment_table(plan, inputs, t)
        assert doc["version"] == 1 and doc["period"] == t
        assert [e["deployment"] for e in doc["endpoints"]] == list(table.key)
        assert [e["url"] for e in doc["endpoints"]] == [
            f"http://chat-{d}.archipel.svc:8000" for d in range(table.size)
        ]


def test_default_period_contains_today_else_the_first(small: tuple[Spec, Catalog, Plan]) -> None:
    spec, catalog, plan = small
    start = spec.horizon.start  # quarters
    inside = build(spec, catalog, plan, today=start + dt.timedelta(days=100))
    assert inside.period == 1 and inside.period_reason.startswith("contains today")
    before = build(spec, catalog, plan, today=start - dt.timedelta(days=1))
    assert before.period == 0 and before.period_reason.startswith("the first")


def test_endpoint_template_fields(small: tuple[Spec, Catalog, Plan]) -> None:
    spec, catalog, plan = small
    b = build(spec, catalog, plan, period=0, endpoint_template="https://{provider}.{region}/{name}")
    doc = yaml.safe_load(b.files["endpoints.yaml"])
    assert doc["endpoints"][0]["url"].startswith("https://nebius.")
    for bad in ("http://{nope}", "ftp://{name}", "http://{name"):
        with pytest.raises(UserError, match="endpoint-template"):
            build(spec, catalog, plan, period=0, endpoint_template=bad)


def test_refusals(small: tuple[Spec, Catalog, Plan], tmp_path: Path) -> None:
    spec, catalog, plan = small
    with pytest.raises(UserError, match="--period 99"):
        build(spec, catalog, plan, period=99)
    with pytest.raises(UserError, match="another spec"):
        build(spec, catalog, plan.model_copy(update={"spec_sha256": "0" * 64}), period=0)
    with pytest.raises(UserError, match="fractional"):
        build(spec, catalog, plan.model_copy(update={"whole_nodes": False}), period=0)
    half = plan.model_copy(
        update={"allocations": [a.model_copy(update={"nodes": 1.5}) for a in plan.allocations]}
    )
    with pytest.raises(UserError, match="not a whole number"):
        build(spec, catalog, half, period=0)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(OutputPathError, match="not an archipel export"):
        export_bundle(spec, catalog, plan, other, period=0)
    assert (other / "notes.txt").read_text() == "mine"


def test_a_new_export_replaces_the_previous_one(
    small: tuple[Spec, Catalog, Plan], tmp_path: Path
) -> None:
    spec, catalog, plan = small
    out = tmp_path / "b"
    export_bundle(spec, catalog, plan, out, period=0)
    stale = out / "skypilot" / "chat-9.yaml"
    manifest = json.loads((out / "bundle.json").read_text())
    stale.write_text("old")
    manifest["files"].append("skypilot/chat-9.yaml")
    (out / "bundle.json").write_text(json.dumps(manifest))
    written = export_bundle(spec, catalog, plan, out, period=1)
    assert not stale.exists()
    on_disk = {p for p in out.rglob("*") if p.is_file()}
    assert on_disk == set(written)
