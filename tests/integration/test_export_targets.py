"""Exported files pass their targets' own parsers and read back to their allocations.

- SkyPilot: every task file is parsed by ``sky.Task.from_yaml`` (SkyPilot 0.14, in a child
  process whose HOME is a temporary directory, so nothing is written to the user's ~/.sky), and
  its cloud, region, instance type and accelerators are checked against SkyPilot's own catalogs
  (the public copies in ../shared/data/catalogs, placed where SkyPilot looks for them, so it
  never downloads). The OCI file there is one region's block (us-sanjose-1): other OCI regions
  are checked for instance type and accelerators only.
- Kubernetes: every manifest passes ``kubernetes-validate --strict`` (offline schemas) for
  Kubernetes 1.30 and 1.37; a LeaderWorkerSet is checked against tests/data/crds/ (its pod
  templates and metadata against Kubernetes' own schemas of the same version).

Allocations come from the frontier-lab example's plan (the period containing today), and one
per (provider, accelerator, purchase option) of the built-in catalog in four shapes (a service
on one node, a service whose replica spans two nodes, a training gang, a one-node run), and for
SkyPilot a one-node service on every instance type of the built-in catalog.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jsonschema
import pytest
import yaml
from kubernetes_validate.utils import ValidationError, schema_contents
from kubernetes_validate.utils import validate as k8s_validate
from referencing import Registry, Resource

from archipel.catalog.model import Offering
from archipel.catalog.snapshot import load_builtin
from archipel.cli.plan_cmd import _load
from archipel.export import build, kubernetes, skypilot
from archipel.export.bundle import dump
from archipel.export.placement import Facts, Placement, placement
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Allocation
from archipel.spec.models import Spec
from plans import alloc_on

REPO = Path(__file__).resolve().parents[2]
LWS_SCHEMA = REPO / "tests" / "data" / "crds" / "leaderworkerset-x-k8s-io-v1.yaml"
K8S_VERSIONS = ("1.30.0", "1.37.0")

# SkyPilot's catalog file per cloud, from the public copies (catalogs/MANIFEST.md)
SKY_CATALOGS = {
    "aws": "skypilot-v8/aws/vms_accelerators_subset.csv",
    "nebius": "skypilot-v8/nebius/vms.csv",
    "verda": "skypilot-v8/verda/vms.csv",
    "oci": "skypilot-v8/oci/vms_us-sanjose-1_block.csv",
    "gcp": "anycloud/gcp/vms.csv",
    "lambda": "anycloud/lambda/vms.csv",
    "azure": "anycloud/azure/vms_accelerators.csv",
}
OCI_REGIONS_IN_DATA = {"us-sanjose-1"}

SKY_CHECK = r"""
import json, sys
import sky
out = []
for path in sys.argv[1:]:
    rec = {"file": path}
    try:
        task = sky.Task.from_yaml(path)
        (r,) = list(task.resources)
        rec.update(cloud=str(r.cloud).lower(), region=r.region, instance_type=r.instance_type,
                   accelerators=r.accelerators, use_spot=r.use_spot, num_nodes=task.num_nodes,
                   envs=task.envs)
        try:
            r.cloud.validate_region_zone(r.region, None)
            rec["region_ok"] = True
        except ValueError as exc:
            rec["region_ok"] = str(exc)
        if r.instance_type and str(r.cloud) == "GCP":
            # GPUs are attached to a host VM: the table gcp_catalog's
            # check_accelerator_attachable_to_host decides by (its other steps take 8 s a call)
            from sky.catalog import gcp_catalog
            ((name, count),) = r.accelerators.items()
            hosts = gcp_catalog._ACC_INSTANCE_TYPE_DICTS.get(name, {}).get(count, [])
            rec["attachable"] = r.instance_type in hosts or f"{name}:{count} not on {hosts}"
        if r.instance_type:
            rec["instance_ok"] = r.cloud.instance_type_exists(r.instance_type)
            rec["catalog_accelerators"] = r.cloud.get_accelerators_from_instance_type(
                r.instance_type)
    except Exception as exc:
        rec["error"] = f"{type(exc).__name__}: {exc}"
    out.append(rec)
print(json.dumps(out))
"""


def _allocation(
    o: Offering, kind: str, nodes: int, replicas: int, apr: int, npr: int
) -> Allocation:
    return alloc_on(o, f"{o.provider}-{o.accelerator}-{kind}", kind, nodes, replicas, apr, npr)


def catalog_placements() -> list[Placement]:
    """One offering per (provider, accelerator, purchase option), in four shapes."""
    seen: dict[tuple[str, str, str], Offering] = {}
    for o in load_builtin().offerings:
        seen.setdefault((o.provider, o.accelerator, str(o.purchase_option)), o)
    out: list[Placement] = []
    for i, o in enumerate(seen.values()):
        a = o.accelerators_per_node
        shapes = [
            ("service", 3, 3 * (a // max(1, a // 2)), max(1, a // 2), 1),
            ("service", 4, 2, 2 * a, 2),
            ("training", 4, 0, 0, 1),
            ("training", 1, 0, 0, 1),
        ]
        for j, (kind, nodes, replicas, apr, npr) in enumerate(shapes):
            alloc = _allocation(o, kind, nodes, replicas, apr, npr)
            out.append(placement(alloc, f"w{i}-{j}", "some-model"))
    return out


def instance_placements() -> list[Placement]:
    """A one-node service on every instance type of the built-in catalog (SkyPilot only)."""
    seen: dict[tuple[str, str], Offering] = {}
    for o in load_builtin().offerings:
        seen.setdefault((o.provider, o.instance_type), o)
    return [
        placement(
            _allocation(o, "service", 1, 1, o.accelerators_per_node, 1), f"i{k}", "some-model"
        )
        for k, o in enumerate(seen.values())
    ]


@pytest.fixture(scope="module")
def frontier_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec, catalog = _load(REPO / "examples" / "frontier-lab.yaml", None)
    assert isinstance(spec, Spec)
    plan = make_plan(spec, catalog, options=PlanOptions(rule_costs=False))
    out = tmp_path_factory.mktemp("frontier")
    b = build(spec, catalog, plan, period=3)  # 2026-Q4: every provider the example uses
    for rel, text in b.files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    # every allocation of the period is in bundle.json, with its files or why not
    manifest = json.loads(b.files["bundle.json"])
    assert len(manifest["allocations"]) == sum(
        1 for a in plan.allocations if a.period == 3 and a.replicas > 0
    )
    return out


@pytest.fixture(scope="module")
def catalog_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Placement]]:
    out = tmp_path_factory.mktemp("catalog")
    by_file: dict[str, Placement] = {}
    for p in instance_placements():
        task = skypilot.task(p)
        if task is not None:  # also where unsupported() says SkyPilot refuses the type
            path = out / "skypilot" / f"{p.name}.yaml"
            path.parent.mkdir(exist_ok=True)
            path.write_text(dump([task]))
            by_file[str(path)] = p
    for p in catalog_placements():
        task = skypilot.task(p)
        if task is not None and skypilot.unsupported(p) is None:
            path = out / "skypilot" / f"{p.name}.yaml"
            path.parent.mkdir(exist_ok=True)
            path.write_text(dump([task]))
            by_file[str(path)] = p
        docs = kubernetes.manifests(p)
        if docs is not None:
            path = out / "kubernetes" / f"{p.name}.yaml"
            path.parent.mkdir(exist_ok=True)
            path.write_text(dump(docs))
            by_file[str(path)] = p
    return out, by_file


def _sky_home(shared: Path, home: Path) -> Path:
    """A HOME whose ~/.sky holds SkyPilot's catalogs from the public data (fresh files: no
    download). Azure's file has rows with an unquoted ``V1,V2``, rejoined here."""
    root = home / ".sky" / "catalogs" / "v8"
    for cloud, rel in SKY_CATALOGS.items():
        (root / cloud).mkdir(parents=True, exist_ok=True)
        with (shared / "catalogs" / rel).open(newline="") as f:
            rows = list(csv.reader(f))
        width = len(rows[0])
        fixed = [[*r[:-2], f"{r[-2]},{r[-1]}"] if len(r) == width + 1 else r for r in rows]
        with (root / cloud / "vms.csv").open("w", newline="") as f:
            csv.writer(f).writerows(fixed)
    return home


def _sky_parse(files: list[Path], home: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "HOME": str(home), "SKYPILOT_DISABLE_USAGE_COLLECTION": "1"}
    done = subprocess.run(
        [sys.executable, "-c", SKY_CHECK, *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _check_sky(records: list[dict[str, Any]]) -> None:
    for rec in records:
        assert "error" not in rec, rec
        doc = yaml.safe_load(Path(rec["file"]).read_text())
        res = doc["resources"]
        assert rec["cloud"] == res["cloud"]
        assert rec["region"] == res["region"]
        if rec["cloud"] != "oci" or rec["region"] in OCI_REGIONS_IN_DATA:
            assert rec["region_ok"] is True, rec
        assert rec["use_spot"] == res["use_spot"]
        assert rec["num_nodes"] == doc["num_nodes"]
        assert rec["accelerators"] == res["accelerators"]
        if "instance_type" in res:
            assert rec["instance_type"] == res["instance_type"]
            assert rec["instance_ok"] is True, rec
            if rec["cloud"] == "gcp":
                assert rec["attachable"] is True, rec
            assert rec["catalog_accelerators"] == res["accelerators"], rec
        # SkyPilot's view of the file states the same allocation as ours
        assert read_sky_view(rec) == skypilot.read_task(doc)


def read_sky_view(rec: dict[str, Any]) -> Facts:
    """The Facts of a task as SkyPilot parsed it."""
    doc = {
        "resources": {
            "cloud": rec["cloud"],
            "region": rec["region"],
            "accelerators": rec["accelerators"],
            "use_spot": rec["use_spot"],
            **({"instance_type": rec["instance_type"]} if rec["instance_type"] else {}),
        },
        "num_nodes": rec["num_nodes"],
        "envs": rec["envs"],
    }
    return skypilot.read_task(doc)


@pytest.mark.shared_data
def test_skypilot_parses_every_task_of_the_frontier_bundle(
    frontier_bundle: Path, shared_data: Path, tmp_path: Path
) -> None:
    files = sorted((frontier_bundle / "skypilot").glob("*.yaml"))
    assert len(files) >= 10
    records = _sky_parse(files, _sky_home(shared_data, tmp_path))
    assert {r["cloud"] for r in records} >= {"aws", "azure", "nebius", "oci", "verda"}
    _check_sky(records)


@pytest.mark.shared_data
def test_skypilot_parses_every_catalog_shape(
    catalog_files: tuple[Path, dict[str, Placement]], shared_data: Path, tmp_path: Path
) -> None:
    root, by_file = catalog_files
    files = sorted((root / "skypilot").glob("*.yaml"))
    records = _sky_parse(files, _sky_home(shared_data, tmp_path))
    assert {r["cloud"] for r in records} == set(SKY_CATALOGS)
    refused = [r for r in records if skypilot.unsupported(by_file[r["file"]]) is not None]
    # what the export reports as refused, SkyPilot refuses; everything else it accepts
    assert refused and all(r["attachable"] is not True for r in refused)
    _check_sky([r for r in records if r not in refused])
    for rec in records:
        assert read_sky_view(rec) == by_file[rec["file"]].facts()


def _lws_validator(version: str) -> jsonschema.protocols.Validator:
    schema = yaml.safe_load(LWS_SCHEMA.read_text())
    defs = schema_contents(
        f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version
    )
    registry: Registry[Any] = Registry().with_resource(
        urljoin(schema["$id"], "/api/_definitions.json"), Resource.from_contents(defs)
    )
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.cache
def _k8s_validator(kind: str, api_version: str, version: str) -> jsonschema.protocols.Validator:
    """What ``kubernetes_validate.utils.validate(doc, version, strict=True)`` checks a document
    with (the same files, registry and validator class), built once per kind: that function
    reads the 3 MB of definitions again for every document."""
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    d = f"kubernetes-json-schema/v{version}-local-strict"
    schema = schema_contents(f"{d}/{kind.lower()}-{group}.json", version)
    defs = schema_contents(f"{d}/_definitions.json", version)
    registry: Registry[Any] = Resource.from_contents(schema) @ Registry()
    registry = Resource.from_contents(defs) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _check_manifests(path: Path, *, cached: bool = False) -> list[str]:
    kinds = []
    for doc in yaml.safe_load_all(path.read_text()):
        kinds.append(doc["kind"])
        for version in K8S_VERSIONS:
            if doc["kind"] == "LeaderWorkerSet":
                _lws_validator(version).validate(doc)
            elif cached:
                _k8s_validator(doc["kind"], doc["apiVersion"], version).validate(doc)
            else:
                k8s_validate(doc, version, strict=True)
    return kinds


def test_kubernetes_validates_the_frontier_bundle(frontier_bundle: Path) -> None:
    files = sorted((frontier_bundle / "kubernetes").glob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        _check_manifests(path)


def test_kubernetes_validates_every_catalog_shape_and_reads_back(
    catalog_files: tuple[Path, dict[str, Placement]],
) -> None:
    root, by_file = catalog_files
    kinds: set[str] = set()
    for path in sorted((root / "kubernetes").glob("*.yaml")):
        kinds.update(_check_manifests(path, cached=True))
        docs = list(yaml.safe_load_all(path.read_text()))
        assert kubernetes.read_manifests(docs) == by_file[str(path)].facts()
    assert kinds == {"Deployment", "LeaderWorkerSet", "Job", "Service"}


def test_the_cached_validator_is_kubernetes_validates() -> None:
    """The cached path rejects what kubernetes-validate rejects, and accepts what it accepts."""
    o = next(o for o in load_builtin().offerings if o.instance_type == "p5.48xlarge")
    (deployment, _) = (
        kubernetes.manifests(placement(_allocation(o, "service", 1, 4, 2, 1), "y-0", "m")) or []
    )
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["resource"] = {}
    for version in K8S_VERSIONS:
        v = _k8s_validator("Deployment", "apps/v1", version)
        k8s_validate(deployment, version, strict=True)
        v.validate(deployment)
        with pytest.raises(ValidationError):
            k8s_validate(broken, version, strict=True)
        with pytest.raises(jsonschema.ValidationError):
            v.validate(broken)


def test_the_lws_schema_rejects_what_the_controller_would() -> None:
    """The hand-written schema is not vacuous: unknown fields, bad enums, a missing worker."""
    o = next(o for o in load_builtin().offerings if o.instance_type == "p5.48xlarge")
    p = placement(_allocation(o, "service", 4, 2, 16, 2), "x-0", "m")
    docs = kubernetes.manifests(p)
    assert docs is not None and docs[0]["kind"] == "LeaderWorkerSet"
    v = _lws_validator(K8S_VERSIONS[0])
    v.validate(docs[0])
    bad: list[dict[str, Any]] = []
    for change in (
        lambda d: d["spec"].update(replica=1),
        lambda d: d["spec"].update(startupPolicy="Eventually"),
        lambda d: d["spec"]["leaderWorkerTemplate"].pop("workerTemplate"),
        lambda d: d["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"].update(node="x"),
    ):
        d = json.loads(json.dumps(docs[0]))
        change(d)
        bad.append(d)
    for d in bad:
        with pytest.raises(jsonschema.ValidationError):
            v.validate(d)
