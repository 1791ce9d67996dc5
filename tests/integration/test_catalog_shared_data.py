"""The importer on the real public catalogs in ../shared/data, and the shipped snapshot.

Row counts below are facts of those files (see ../shared/data/MANIFEST.md): e.g. the Azure file
has 829 rows, 582 of them with the unquoted ``V1,V2`` Generation pair, and 108 fractional-A10 VMs.
"""

from __future__ import annotations

import csv
import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from archipel.catalog.importer import (
    SKIP_FRACTIONAL,
    SKIP_GCP_NO_HOST,
    SKIP_GCP_UNUSED_HOST,
    SKIP_NO_PRICE,
    SKIP_NOT_AI,
    ImportReport,
    import_paths,
)
from archipel.catalog.snapshot import (
    MANIFEST_JSON,
    TABLES,
    build_catalog,
    load_builtin,
    load_snapshot,
    save_snapshot,
)
from archipel.perf.accelerators import tpu_slice_chips

pytestmark = pytest.mark.shared_data

# file -> (read, kept, skipped, rejected, offerings)
EXPECTED = {
    "anycloud/azure/vms_accelerators.csv": (829, 358, 471, 0, 700),
    "anycloud/gcp/vms.csv": (31285, 2572, 28691, 22, 2244),  # 11 a4 hosts at 0.0 + their B200s
    "anycloud/lambda/vms.csv": (425, 289, 136, 0, 289),
    "anycloud/vast/vms.csv": (64, 19, 45, 0, 19),
    "skypilot-v8/aws/vms_accelerators_subset.csv": (282, 264, 18, 0, 219),
    "skypilot-v8/hyperstack/vms.csv": (25, 16, 9, 0, 16),
    "skypilot-v8/nebius/vms.csv": (61, 21, 40, 0, 29),
    "skypilot-v8/oci/vms_us-sanjose-1_block.csv": (69, 14, 55, 0, 14),
    "skypilot-v8/verda/vms.csv": (33, 15, 18, 0, 23),
}


@pytest.fixture(scope="module")
def report(shared_data: Path) -> ImportReport:
    return import_paths([shared_data / "catalogs"])


def test_every_catalog_file_is_read_and_every_row_accounted_for(
    report: ImportReport, shared_data: Path
) -> None:
    got = {
        f.file.removeprefix(str(shared_data / "catalogs") + "/"): (
            f.rows_read,
            f.rows_kept,
            f.rows_skipped,
            len(f.rejected),
            f.offerings,
        )
        for f in report.files
    }
    assert got == EXPECTED
    assert all(f.balanced for f in report.files)
    assert report.ignored == (
        f"{shared_data / 'catalogs/skypilot-v8/common/accelerators.csv'}: not a VM catalog "
        "(no InstanceType, AcceleratorCount, Price, SpotPrice, Region)",
    )
    providers = {"aws", "azure", "gcp", "oci", "lambda", "nebius", "verda", "hyperstack", "vast"}
    assert {f.provider for f in report.files} == providers


def test_skip_reasons_are_counted(report: ImportReport, shared_data: Path) -> None:
    files = {f.file.rsplit("catalogs/", 1)[1]: f for f in report.files}
    azure = files["anycloud/azure/vms_accelerators.csv"]
    assert azure.skipped == {SKIP_NOT_AI: 363, SKIP_FRACTIONAL: 108}
    assert azure.skipped_accelerators == {
        "M60": 57,
        "MI25": 92,
        "T4": 116,
        "V100": 92,
        "V100-32GB": 6,
    }
    aws = files["skypilot-v8/aws/vms_accelerators_subset.csv"]
    assert aws.skipped == {SKIP_NOT_AI: 7, SKIP_NO_PRICE: 11}  # V100-32GB; p5e without a price
    gcp = files["anycloud/gcp/vms.csv"]
    assert gcp.skipped == {SKIP_NOT_AI: 28658, SKIP_GCP_NO_HOST: 31, SKIP_GCP_UNUSED_HOST: 2}
    assert gcp.notes == ()
    reasons = Counter(r.reason for r in gcp.rejected)
    assert reasons == {
        "a4-highgpu-8g host VM: Price must be > 0 (found 0): a zero price is a missing price, "
        "not a free machine": 11,
        "no valid a4-highgpu-8g host VM price in this zone (its host row was rejected); a GPU "
        "price alone is not a machine's price": 11,
    }
    assert not any(o.instance_type == "a4-highgpu-8g" for o in report.offerings)
    lambda_ = files["anycloud/lambda/vms.csv"]
    assert lambda_.skipped_accelerators == {
        "(none: CPU-only row)": 34,
        "A6000": 51,
        "RTX6000": 17,
        "V100": 34,
    }


def test_azure_rows_with_the_unquoted_generation_pair_are_all_read(
    report: ImportReport, shared_data: Path
) -> None:
    path = shared_data / "catalogs/anycloud/azure/vms_accelerators.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        widths = [len(row) for row in csv.reader(fh)][1:]
    assert (widths.count(10), widths.count(11)) == (247, 582)
    azure = next(f for f in report.files if f.file == str(path))
    assert azure.rejected == ()


def test_documented_gcp_prices(report: ImportReport) -> None:
    offs = {o.id: o for o in report.offerings}
    assert offs["gcp:us-central1:a2-highgpu-1g:on_demand"].price_usd_per_node_hour == 3.67339
    v5p = offs["gcp:us-central1:tpu-v5p-8:on_demand"]
    assert (v5p.accelerators_per_node, v5p.price_usd_per_accelerator_hour) == (4, 4.2)
    v5e = offs["gcp:us-central1:tpu-v5litepod-8:on_demand"]
    assert (v5e.accelerators_per_node, v5e.price_usd_per_node_hour) == (8, 9.6)


def test_builtin_snapshot_has_the_prices_of_a_fresh_import(report: ImportReport) -> None:
    fresh = {o.id: o for o in report.offerings}
    builtin = load_builtin()
    for o in builtin.offerings:
        source_region = "us-sanjose-1" if o.provider == "oci" else o.region
        twin = fresh[f"{o.provider}:{source_region}:{o.instance_type}:{o.purchase_option}"]
        assert (o.accelerator, o.accelerators_per_node, o.price_usd_per_node_hour) == (
            twin.accelerator,
            twin.accelerators_per_node,
            twin.price_usd_per_node_hour,
        ), o.id
        copied = o.provider == "oci" and o.region != "us-sanjose-1"
        extra = ("availability-assumed",) if copied else ()
        assert set(o.flags) == set(twin.flags) | set(extra), o.id
        assert (o.scale_up, o.fabric, o.availability) == (
            twin.scale_up,
            twin.fabric,
            twin.availability,
        ), o.id
    shipped = {o.id for o in builtin.offerings}
    left_out = [
        o.id
        for o in report.offerings
        if o.id not in shipped
        and o.provider != "vast"  # not shipped: marketplace hosts
        and (tpu_slice_chips(o.instance_type) or 0) <= 128  # v5p slices over 128 chips
    ]
    assert left_out == []


def test_build_tool_reproduces_the_shipped_files(
    shared_data: Path, repo: Path, tmp_path: Path
) -> None:
    spec = importlib.util.spec_from_file_location(
        "build_snapshot", repo / "tools/build_snapshot.py"
    )
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main([str(shared_data), "--out", str(tmp_path)]) == 0
    shipped = repo / "src/archipel/catalog/data"
    for name in (*TABLES, MANIFEST_JSON):
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), name
    assert sum((shipped / n).stat().st_size for n in (*TABLES, MANIFEST_JSON)) < 1_000_000


def test_fresh_import_round_trips_through_a_snapshot(report: ImportReport, tmp_path: Path) -> None:
    builtin = load_builtin()
    regions = {r.id for r in builtin.regions}
    offerings = [o for o in report.offerings if o.region_id in regions]
    cat = build_catalog(builtin.providers, builtin.regions, offerings, source="t", captured="d")
    save_snapshot(cat, tmp_path / "s")
    loaded = load_snapshot(tmp_path / "s")
    assert set(loaded.offerings) == set(offerings)
    assert loaded.manifest == cat.manifest
