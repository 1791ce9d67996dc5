"""Snapshot directories: round trip, hash check, precise errors; region and provider facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archipel.catalog.model import (
    SCHEMA_VERSION,
    FoldedName,
    Offering,
    Provider,
    PurchaseOption,
    Region,
    RejectedRow,
)
from archipel.catalog.regions import (
    CURATED_COORDINATES,
    EU_EEA_COUNTRIES,
    PROVIDERS,
    jurisdictions_for,
    neocloud_regions,
    parse_cloud_regions,
    provider_facts,
)
from archipel.catalog.snapshot import (
    MANIFEST_JSON,
    OFFERINGS_CSV,
    build_catalog,
    load_builtin,
    load_snapshot,
    save_snapshot,
)
from archipel.errors import CatalogError, UnknownNameError

PROVIDER = Provider("aws", "AWS", "US", True)
REGION = Region("aws", "eu-west-1", "Dublin", "IE", "Europe", 53.35, -6.26, ("EU",))
OFFERS = (
    Offering(
        "aws",
        "eu-west-1",
        "p5.48xlarge",
        "H100",
        8,
        PurchaseOption.ON_DEMAND,
        61.1,
        scale_up="nvswitch",
        fabric="efa",
        fabric_gbps=3200.0,
    ),
    Offering(
        "aws",
        "eu-west-1",
        "p5.48xlarge",
        "H100",
        8,
        PurchaseOption.SPOT,
        22.3,
        0.05,
        scale_up="nvswitch",
        fabric="efa",
        fabric_gbps=3200.0,
        availability=0.55,
        flags=("spot-rates-assumed", "topology-assumed"),
    ),
    Offering(
        "aws",
        "eu-west-1",
        "trn2.48xlarge",
        "Trainium2",
        16,
        PurchaseOption.RESERVED,
        30.0,
        max_nodes=4.0,
    ),
)


REJECTED = (RejectedRow("catalogs/gcp/vms.csv", 100, "Price must be > 0 (found 0)"),)
FOLDED = (FoldedName("gcp", "H100-MEGA", "H100", ("a3-megagpu-8g",), 19),)


def saved(tmp_path: Path) -> Path:
    cat = build_catalog(
        [PROVIDER],
        [REGION],
        OFFERS,
        source="unit",
        captured="2026-01-02",
        notes="n",
        rejected=REJECTED,
        folded=FOLDED,
    )
    save_snapshot(cat, tmp_path / "snap")
    return tmp_path / "snap"


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    path = saved(tmp_path)
    loaded = load_snapshot(path)
    assert set(loaded.offerings) == set(OFFERS)
    assert loaded.regions == (REGION,)
    assert loaded.providers == (PROVIDER,)
    m = loaded.manifest
    assert (m.source, m.captured, m.schema_version, m.notes) == (
        "unit",
        "2026-01-02",
        SCHEMA_VERSION,
        "n",
    )
    assert (m.rejected, m.folded) == (REJECTED, FOLDED)
    manifest = save_snapshot(loaded, tmp_path / "again")  # same bytes, same hash
    assert manifest.content_sha256 == m.content_sha256
    assert (path / OFFERINGS_CSV).read_bytes() == (tmp_path / "again" / OFFERINGS_CSV).read_bytes()


def test_edited_table_fails_the_hash_check(tmp_path: Path) -> None:
    path = saved(tmp_path)
    text = (path / OFFERINGS_CSV).read_text("utf-8").replace("61.1", "6.11")
    (path / OFFERINGS_CSV).write_text(text, "utf-8")
    with pytest.raises(CatalogError, match="content_sha256 does not match the tables"):
        load_snapshot(path)


def rewrite(path: Path, old: str, new: str) -> None:
    """Edit a table and re-hash it, as a hand-made snapshot would be, to reach row checks."""
    from archipel.catalog.snapshot import TABLES, content_sha256

    text = (path / OFFERINGS_CSV).read_text("utf-8")
    assert old in text
    (path / OFFERINGS_CSV).write_text(text.replace(old, new), "utf-8")
    body = json.loads((path / MANIFEST_JSON).read_text("utf-8"))
    body["content_sha256"] = content_sha256({n: (path / n).read_bytes() for n in TABLES})
    (path / MANIFEST_JSON).write_text(json.dumps(body), "utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (",61.1,", ",free,", r"offerings\.csv:\d: price_usd_per_node_hour 'free' is not a number"),
        (",61.1,", ",0,", r"price_usd_per_node_hour '0' must be a finite number > 0"),
        ("H100,8,on_demand", "H100,8,lease", r"offerings\.csv:\d: purchase_option 'lease'"),
        ("H100,8,on_demand", "GTX1080,8,on_demand", r"accelerator 'GTX1080' is not a canonical"),
        ("H100,8,on_demand", "H100,0,on_demand", r"accelerators_per_node '0' must be a whole"),
        (
            "aws,eu-west-1,p5.48xlarge,H100,8,on_demand",
            "aws,eu-west-9,p5.48xlarge,H100,8,on_demand",
            r"offerings\.csv:\d: region 'aws:eu-west-9' is not in regions\.csv",
        ),
        (
            "H100,8,spot,22.3,0.05,,nvswitch,efa,3200.0,0.55,spot-rates-assumed;topology-assumed",
            "H100,8,on_demand,22.3,0.0,,nvswitch,efa,3200.0,1.0,",
            r"offerings\.csv:\d: offering aws:eu-west-1:p5.48xlarge:on_demand repeats line \d",
        ),
        (",61.1,", ",61.1,,", r"offerings\.csv:\d: expected 14 fields, found 15"),
        (",nvswitch,efa,3200.0,1.0,", ",nvlink4,efa,3200.0,1.0,", r"scale_up 'nvlink4' is not one"),
        (",nvswitch,efa,3200.0,1.0,", ",nvswitch,ib,3200.0,1.0,", r"fabric 'ib' is not one of"),
        (
            ",nvswitch,efa,3200.0,1.0,",
            ",nvswitch,efa,0.0,1.0,",
            r"fabric 'efa' with fabric_gbps 0\.0: give a fabric and its bandwidth together",
        ),
        (
            ",nvswitch,efa,3200.0,1.0,",
            ",nvswitch,,100.0,1.0,",
            r"fabric '' with fabric_gbps 100\.0",
        ),
        (",nvswitch,efa,3200.0,1.0,", ",nvswitch,efa,3200.0,0.5,", r"1 unless spot"),
        (",3200.0,0.55,", ",3200.0,1.5,", r"availability 1\.5 must be in \(0, 1\]"),
        (",3200.0,0.55,", ",3200.0,0,", r"availability '0' must be a finite number > 0"),
        ("spot-rates-assumed;", "spot-rates-guessed;", r"unknown flag\(s\) spot-rates-guessed"),
    ],
)
def test_bad_rows_are_reported_at_file_and_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = saved(tmp_path)
    rewrite(path, old, new)
    with pytest.raises(CatalogError, match=message):
        load_snapshot(path)


def test_bad_manifest_and_missing_files(tmp_path: Path) -> None:
    path = saved(tmp_path)
    (path / MANIFEST_JSON).write_text("{\n  'source': 1\n}", "utf-8")
    with pytest.raises(CatalogError, match=r"manifest\.json:2: not valid JSON"):
        load_snapshot(path)
    body = {"source": "x", "captured": "y", "schema_version": 99, "content_sha256": "0"}
    (path / MANIFEST_JSON).write_text(json.dumps(body), "utf-8")
    with pytest.raises(CatalogError, match="schema_version 99 is not 2"):
        load_snapshot(path)
    (path / OFFERINGS_CSV).unlink()
    with pytest.raises(CatalogError, match=r"offerings\.csv: cannot read"):
        load_snapshot(path)
    with pytest.raises(CatalogError, match="not a snapshot directory"):
        load_snapshot(tmp_path / "nowhere")


def test_builtin_snapshot_loads_and_covers_the_planned_accelerators() -> None:
    cat = load_builtin()
    assert cat is load_builtin()  # cached: read once
    assert cat.manifest.schema_version == SCHEMA_VERSION
    assert {
        "A100",
        "H100",
        "H200",
        "B200",
        "Trainium",
        "Trainium2",
        "Inferentia2",
        "TPU-v5e",
        "TPU-v5p",
        "TPU-v6e",
        "MI300X",
    } <= set(cat.accelerators())
    assert {p.id for p in cat.providers} == {
        "aws",
        "azure",
        "gcp",
        "oci",
        "nebius",
        "lambda",
        "verda",
        "hyperstack",
    }
    assert all(cat.has_region(o.region_id) for o in cat.offerings)


def test_region_and_provider_facts() -> None:
    assert len(EU_EEA_COUNTRIES) == 30
    assert jurisdictions_for("no") == ("EU",)
    assert jurisdictions_for("GB") == ()
    assert provider_facts("nebius").hq_country == "NL"
    assert not provider_facts("verda").cloud_act
    assert provider_facts("lambda").cloud_act
    assert {p.id for p in PROVIDERS if p.cloud_act} == {
        "aws",
        "azure",
        "gcp",
        "oci",
        "lambda",
        "vast",
    }
    with pytest.raises(UnknownNameError, match="Did you mean 'hyperstack'"):
        provider_facts("hyperstak")
    ids = {r.id for r in neocloud_regions()}
    assert {"nebius:eu-north1", "lambda:us-south-3", "verda:FIN-03", "hyperstack:NORWAY-1"} <= ids
    assert next(r for r in neocloud_regions() if r.id == "hyperstack:NORWAY-1").jurisdictions == (
        "EU",
    )


def test_cloud_regions_file_uses_curated_coordinates_where_it_has_none() -> None:
    text = (
        "provider,region_code,display_name,city,country,country_code,continent,lat,lon\n"
        "aws,eu-west-1,Europe (Ireland),Dublin,Ireland,IE,Europe,53.35,-6.26\n"
        "oci,us-chicago-1,US Midwest (Chicago),Chicago,United States,US,North America,,\n"
    )
    dublin, chicago = parse_cloud_regions(text, "r.csv")
    assert (dublin.jurisdictions, chicago.jurisdictions) == (("EU",), ())
    assert (chicago.lat, chicago.lon) == CURATED_COORDINATES[("oci", "us-chicago-1")]
    bad = text + "gcp,mars-north1,,Olympus,Mars,MA,Africa,,\n"
    with pytest.raises(CatalogError, match=r"r\.csv:4: gcp:mars-north1 has no lat/lon"):
        parse_cloud_regions(bad, "r.csv")
    with pytest.raises(CatalogError, match=r"r\.csv:2: .*not numbers"):
        parse_cloud_regions(text.replace("53.35", "north"), "r.csv")


def test_builtin_snapshot_carries_topology_spot_terms_and_flags() -> None:
    cat = load_builtin()
    offs = {o.id: o for o in cat.offerings}
    p5 = offs["aws:us-east-1:p5.48xlarge:on_demand"]
    assert (p5.scale_up, p5.fabric, p5.fabric_gbps, p5.availability, p5.flags) == (
        "nvswitch",
        "efa",
        3200.0,
        1.0,
        (),
    )
    assert all(o.scale_up for o in cat.offerings)  # every instance type has a topology entry
    spot = [o for o in cat.offerings if o.purchase_option is PurchaseOption.SPOT]
    assert spot and all({"spot-rates-assumed", "spot-rates-proxy"} & set(o.flags) for o in spot)
    assert all(0 < o.availability < 1 and o.interruptions_per_hour > 0 for o in spot)
    # PCIe and NVL cards are their own chips; GCP's B200 host rows priced 0.0 are not shipped
    assert {"H100-PCIe", "H100-NVL", "A100-PCIe", "A100-80GB-PCIe", "GH200", "L40"} <= set(
        cat.accelerators()
    )
    assert not any(o.instance_type == "a4-highgpu-8g" for o in cat.offerings)
    assert {r.reason.split(":")[0] for r in cat.manifest.rejected} >= {"a4-highgpu-8g host VM"}
    oci = [o for o in cat.offerings if o.provider == "oci"]
    assert all(("availability-assumed" in o.flags) == (o.region != "us-sanjose-1") for o in oci)
