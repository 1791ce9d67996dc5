"""The export's SkyPilot names against SkyPilot's own catalogs (../shared/data/catalogs): every
accelerator Archipel imported from a row maps back to that row's name and count, and every
region of the built-in catalog on a cloud SkyPilot knows is one of SkyPilot's regions there."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from archipel.catalog.pricing_rules import GCP_GPU_MACHINES
from archipel.catalog.snapshot import load_builtin
from archipel.export.targets import SKYPILOT_CLOUDS, region_code, skypilot_accelerator
from archipel.perf.accelerators import offering_accelerator

FILES = {
    "aws": "skypilot-v8/aws/vms_accelerators_subset.csv",
    "nebius": "skypilot-v8/nebius/vms.csv",
    "verda": "skypilot-v8/verda/vms.csv",
    "oci": "skypilot-v8/oci/vms_us-sanjose-1_block.csv",
    "gcp": "anycloud/gcp/vms.csv",
    "lambda": "anycloud/lambda/vms.csv",
    "azure": "anycloud/azure/vms_accelerators.csv",
}


def _rows(shared: Path, provider: str) -> list[dict[str, str]]:
    with (shared / "catalogs" / FILES[provider]).open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.shared_data
@pytest.mark.parametrize("provider", sorted(FILES))
def test_accelerator_names_map_back_to_skypilots(shared_data: Path, provider: str) -> None:
    checked = 0
    for row in _rows(shared_data, provider):
        itype, name, count = row["InstanceType"], row["AcceleratorName"], row["AcceleratorCount"]
        if not name or not count or name.startswith("tpu-") or float(count) != int(float(count)):
            continue  # CPU rows, fractional GPUs; TPU slices are named by slice (unit test)
        n = int(float(count))
        # a GCP GPU row has no instance type: the machine types that bundle it do
        hosts = GCP_GPU_MACHINES.get((name, n), ()) if not itype else (itype,)
        for host in hosts:
            canon = offering_accelerator(provider, host, name)
            if canon is None:
                continue  # a chip Archipel does not plan with
            assert skypilot_accelerator(host, canon, n) == (name, n), (host, name)
            checked += 1
    assert checked > 0


@pytest.mark.shared_data
@pytest.mark.parametrize("provider", sorted(set(FILES) - {"oci"}))  # OCI's file: one region
def test_catalog_regions_are_skypilots(shared_data: Path, provider: str) -> None:
    assert provider in SKYPILOT_CLOUDS
    theirs = {row["Region"] for row in _rows(shared_data, provider)}
    ours = {region_code(o.region_id) for o in load_builtin().offerings if o.provider == provider}
    assert ours and ours <= theirs, sorted(ours - theirs)
