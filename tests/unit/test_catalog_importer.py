"""The importer on small inline catalogs, one per file layout and one per kind of bad row."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archipel.catalog.importer import (
    DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR,
    SKIP_BLANK,
    SKIP_FRACTIONAL,
    SKIP_GCP_NO_HOST,
    SKIP_GCP_NO_MACHINE,
    SKIP_GCP_UNUSED_HOST,
    SKIP_NO_PRICE,
    SKIP_NOT_AI,
    FileReport,
    Layout,
    find_catalog_files,
    import_file,
    import_paths,
    import_text,
)
from archipel.catalog.model import FoldedName, Offering, PurchaseOption
from archipel.catalog.spot import DEFAULT_SPOT_AVAILABILITY, spot_terms
from archipel.errors import CatalogError, UnknownNameError

AWS_HEADER = (
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
    "Region,AvailabilityZone,Arch"
)
GCP_HEADER = (
    "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,"
    "AvailabilityZone,Price,SpotPrice"
)
AZURE_HEADER = (
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
    "Region,Generation"
)
NEBIUS_HEADER = (
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice"
)


def run(text: str, **kwargs: object) -> tuple[FileReport, dict[str, Offering]]:
    report, offerings = import_text(text, "t.csv", **kwargs)  # type: ignore[arg-type]
    assert report.balanced, report
    return report, {o.id: o for o in offerings}


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def test_aws_zones_collapse_to_region_spot_takes_lowest() -> None:
    report, offs = run(
        lines(
            AWS_HEADER,
            'p5.48xlarge,H100,8.0,192.0,2048.0,"{}",55.04,20.5,us-east-1,use1-az1,x86_64',
            'p5.48xlarge,H100,8.0,192.0,2048.0,"{}",55.04,18.25,us-east-1,use1-az2,x86_64',
            'p5e.48xlarge,H200,8.0,192.0,2048.0,"{}",,,us-east-2,use2-az2,x86_64',
            'p3dn.24xlarge,V100-32GB,8.0,96.0,768.0,"{}",31.2,9.3,us-east-1,use1-az1,x86_64',
        )
    )
    assert (report.provider, report.layout) == ("aws", Layout.ZONAL)
    assert (report.rows_read, report.rows_kept, len(report.rejected)) == (4, 2, 0)
    assert report.skipped == {SKIP_NO_PRICE: 1, SKIP_NOT_AI: 1}
    assert report.skipped_accelerators == {"V100-32GB": 1}
    od = offs["aws:us-east-1:p5.48xlarge:on_demand"]
    assert (od.accelerator, od.accelerators_per_node, od.price_usd_per_node_hour) == (
        "H100",
        8,
        55.04,
    )
    assert (od.interruptions_per_hour, od.availability, od.flags) == (0.0, 1.0, ())
    assert (od.scale_up, od.fabric, od.fabric_gbps) == ("nvswitch", "efa", 3200.0)
    spot = offs["aws:us-east-1:p5.48xlarge:spot"]
    assert spot.price_usd_per_node_hour == 18.25
    # us-east-1 was traced on p3 V100s: those figures stand in for the H100, flagged as a proxy
    availability, rate, _ = spot_terms("aws", "us-east-1", "gpu", 8)
    assert (spot.availability, spot.interruptions_per_hour, spot.flags) == (
        availability,
        rate,
        ("spot-rates-proxy",),
    )
    assert report.notes == ()


def test_spot_rows_outside_the_traced_regions_get_the_documented_defaults() -> None:
    _, offs = run(
        lines(AWS_HEADER, 'p5.48xlarge,H100,8,192,2048,"{}",55.04,20.5,eu-west-1,euw1-az1,x86_64')
    )
    spot = offs["aws:eu-west-1:p5.48xlarge:spot"]
    assert (spot.availability, spot.interruptions_per_hour, spot.flags) == (
        DEFAULT_SPOT_AVAILABILITY,
        DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR,
        ("spot-rates-assumed",),
    )


def test_zone_on_demand_prices_that_disagree_keep_the_lowest_and_say_so() -> None:
    report, offs = run(
        lines(
            AWS_HEADER,
            'trn1.32xlarge,Trainium,16,128,512,"{}",21.5,,us-west-2,usw2-az1,x86_64',
            'trn1.32xlarge,Trainium,16,128,512,"{}",24.78,,us-west-2,usw2-az2,x86_64',
        )
    )
    assert offs["aws:us-west-2:trn1.32xlarge:on_demand"].price_usd_per_node_hour == 21.5
    assert len(report.notes) == 1
    assert "zone prices differ" in report.notes[0]
    assert "21.5–24.78" in report.notes[0]


def test_spot_interruption_rate_can_be_overridden_per_provider() -> None:
    text = lines(AWS_HEADER, 'inf2.xlarge,Inferentia2,1,4,16,"{}",0.76,0.2,us-east-1,use1-az1,x86')
    _, offs = run(text, spot_interruptions_per_hour={"aws": 0.3})
    assert offs["aws:us-east-1:inf2.xlarge:spot"].interruptions_per_hour == 0.3


def test_azure_unquoted_generation_pair_is_rejoined_other_extra_fields_rejected() -> None:
    report, offs = run(
        lines(
            AZURE_HEADER,
            "Standard_NC40ads_H100_v5,H100,1,40,320,H100,6.98,1.55,northeurope,V1,V2",
            "Standard_ND96isr_H200_v5,H200,8,96,1850,H200,110.24,,eastus,V2",
            "Standard_ND96isr_H100_v5,H100,8,96,1900,H100,98.32,,eastus,V2,V3,V4",
            "Standard_ND96asr_v4,A100,8,96,900,A100,27.2,,eastus,oops,V2",
            "Standard_NV6ads_A10_v5,A10,0.167,6,55,A10,0.45,0.09,eastus,V2",
            "Standard_NC6s_v3,V100,1,6,112,V100,3.06,,eastus,V1,V2",
        )
    )
    assert report.layout is Layout.AZURE_GENERATION
    assert report.provider == "azure"
    assert [(r.line, r.reason) for r in report.rejected] == [
        (4, "expected 10 fields, found 12"),
        (5, "expected 10 fields, found 11"),
    ]
    assert report.skipped == {SKIP_FRACTIONAL: 1, SKIP_NOT_AI: 1}
    assert report.rows_kept == 2
    assert offs["azure:northeurope:Standard_NC40ads_H100_v5:spot"].price_usd_per_node_hour == 1.55
    assert offs["azure:eastus:Standard_ND96isr_H200_v5:on_demand"].accelerators_per_node == 8


def test_gcp_gpu_price_is_host_plus_accelerator_in_the_same_zone() -> None:
    report, offs = run(
        lines(
            GCP_HEADER,
            "a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-a,0.73948,0.36975",
            "a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-b,0.73948,0.36975",
            "n1-standard-8,8.0,30.0,,,,us-central1,us-central1-a,0.379998,0.08",
            ",,,A100,1,{'Gpus': []},us-central1,us-central1-a,2.93391,1.4341",
            ",,,A100,1,{'Gpus': []},us-central1,us-central1-f,2.93391,1.4341",
            ",,,A100,3,{'Gpus': []},us-central1,us-central1-a,8.8,4.3",
            ",,,T4,1,{'Gpus': []},us-central1,us-central1-a,0.35,0.14",
        )
    )
    assert (report.provider, report.layout) == ("gcp", Layout.GCP_SPLIT)
    od = offs["gcp:us-central1:a2-highgpu-1g:on_demand"]
    assert od.price_usd_per_node_hour == 3.67339  # GCP's list price for a2-highgpu-1g
    assert (od.accelerator, od.accelerators_per_node) == ("A100", 1)
    assert offs["gcp:us-central1:a2-highgpu-1g:spot"].price_usd_per_node_hour == 1.80385
    assert report.rows_kept == 2  # the zone-a host and the zone-a A100 row
    assert report.skipped == {
        SKIP_GCP_UNUSED_HOST: 1,  # zone-b host: no A100 row in zone b
        SKIP_GCP_NO_HOST: 1,  # zone-f A100: no a2 host row in zone f
        SKIP_GCP_NO_MACHINE: 1,  # 3 × A100: no machine type bundles three
        SKIP_NOT_AI: 2,  # n1 host (CPU-only) and T4
    }
    assert report.skipped_accelerators == {"(none: CPU-only row)": 1, "T4": 1}


def test_gcp_zero_host_price_is_rejected_with_its_gpu_row_never_a_cheap_machine() -> None:
    report, offs = run(
        lines(
            GCP_HEADER,
            "a4-highgpu-8g,224.0,3968.0,,,,us-central1,us-central1-b,0.0,0.0",
            ",,,B200,8,{'Gpus': []},us-central1,us-central1-b,90.216,34.2368",
            "a3-highgpu-1g,26.0,234.0,,,,us-central1,us-central1-a,2.0,0.0",
            ",,,H100,1,{'Gpus': []},us-central1,us-central1-a,9.0,2.5",
        )
    )
    assert not any(o.startswith("gcp:us-central1:a4-highgpu-8g") for o in offs)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (
            2,
            "a4-highgpu-8g host VM: Price must be > 0 (found 0): a zero price is a missing "
            "price, not a free machine",
        ),
        (
            3,
            "no valid a4-highgpu-8g host VM price in this zone (its host row was rejected); a GPU "
            "price alone is not a machine's price",
        ),
    ]
    # a host with no spot price gives no spot offering, rather than the GPU's spot price alone
    assert set(offs) == {"gcp:us-central1:a3-highgpu-1g:on_demand"}
    assert offs["gcp:us-central1:a3-highgpu-1g:on_demand"].price_usd_per_node_hour == 11.0


def test_gcp_tpu_slices_are_priced_per_slice_with_chips_per_node() -> None:
    report, offs = run(
        lines(
            GCP_HEADER,
            ",,,tpu-v5litepod-8,1,tpu-v5litepod-8,us-central1,us-central1-a,9.6,2.05738",
            ",,,tpu-v5p-8,1,tpu-v5p-8,us-east5,us-east5-a,16.8,6.384",
            ",,,tpu-v5p-8,1,tpu-v5p-8,us-east5,us-east5-a,16.8,6.384",
            ",,,tpu-v6e-4,1,tpu-v6e-4,us-east5,us-east5-b,10.8,",
            ",,,tpu-v4-8,1,tpu-v4-8,us-central2,us-central2-b,12.88,",
        )
    )
    v5e = offs["gcp:us-central1:tpu-v5litepod-8:on_demand"]
    assert (v5e.accelerator, v5e.accelerators_per_node, v5e.price_usd_per_accelerator_hour) == (
        "TPU-v5e",
        8,
        1.2,
    )
    v5p = offs["gcp:us-east5:tpu-v5p-8:on_demand"]  # 8 TensorCores = 4 chips
    assert (v5p.accelerators_per_node, v5p.price_usd_per_accelerator_hour) == (4, 4.2)
    assert offs["gcp:us-east5:tpu-v6e-4:on_demand"].accelerators_per_node == 4
    assert "gcp:us-east5:tpu-v6e-4:spot" not in offs
    assert report.rows_kept == 4  # the duplicate v5p row is kept: same price, one offering
    assert report.skipped_accelerators == {"tpu-v4-8": 1}


def test_regional_layouts_find_columns_by_name_and_recognise_the_provider() -> None:
    nebius, n_offs = run(
        lines(
            NEBIUS_HEADER,
            "cpu-d3_4vcpu-16gb,,0,4,16,0.0992,eu-north1,,",
            "gpu-h200-sxm_8gpu-128vcpu-1600gb,H200,8,128,1600,28.00,eu-west1,,11.60",
        )
    )
    assert (nebius.provider, nebius.layout) == ("nebius", Layout.REGIONAL)
    assert (
        n_offs["nebius:eu-west1:gpu-h200-sxm_8gpu-128vcpu-1600gb:spot"].price_usd_per_node_hour
        == 11.6
    )
    lam, l_offs = run(
        lines(NEBIUS_HEADER, "gpu_8x_h100_sxm5,H100,8.0,208.0,1800.0,23.92,us-east-1,,")
    )
    assert lam.provider == "lambda"
    assert set(l_offs) == {"lambda:us-east-1:gpu_8x_h100_sxm5:on_demand"}
    hyper, h_offs = run(
        lines(
            "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,Region,SpotPrice",
            "n3-H100-SXM5x8,H100-80G-SXM5,8,192,1800.0,\"{'Gpus': []}\",19.2,CANADA-1,",
        )
    )
    assert hyper.provider == "hyperstack"
    assert h_offs["hyperstack:CANADA-1:n3-H100-SXM5x8:on_demand"].accelerator == "H100"
    verda, v_offs = run(
        lines(
            "InstanceType,UpstreamCloudId,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,"
            "Region,Price,SpotPrice",
            '8B200.240V,8B200.240V,240.0,1800.0,B200,8.0,"{}",FIN-03,,13.69',
        )
    )
    assert verda.provider == "verda"
    assert set(v_offs) == {"verda:FIN-03:8B200.240V:spot"}  # no on-demand price, spot only


def test_oci_block_and_vast_locations() -> None:
    oci, o_offs = run(
        lines(
            "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
            "Region,AvailabilityZone",
            'BM.GPU.MI300X.8,MI300X,8,224,2048,"{}",48,,us-sanjose-1,US-SANJOSE-1-AD-1',
            "VM.Standard.E4.Flex$_2_8,,,2,8,,0.037,0.0185,us-sanjose-1,US-SANJOSE-1-AD-1",
        )
    )
    assert (oci.provider, oci.skipped) == ("oci", {SKIP_NOT_AI: 1})
    assert o_offs["oci:us-sanjose-1:BM.GPU.MI300X.8:on_demand"].price_usd_per_accelerator_hour == 6
    vast, v_offs = run(
        lines(
            "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region",
            '8x-H200-32-65536,H200,8,32,64.0,"{}",20.71,0.00,"Michigan, US, NA"',
            '2x-H200-32-65536,H200,2,32,64.0,"{}",5.65,0.00,", US, NA"',
        )
    )
    assert (vast.provider, vast.layout) == ("vast", Layout.VAST_LOCATION)
    assert set(v_offs) == {
        "vast:us-michigan:8x-H200-32-65536:on_demand",
        "vast:us:2x-H200-32-65536:on_demand",
    }


ZERO = ": a zero price is a missing price, not a free machine"


def p5(count: str = "8", price: str = "55", spot: str = "", region: str = "us-east-1") -> str:
    """An AWS row with the given fields (the rest realistic)."""
    return f'p5.48xlarge,H100,{count},192,2048,"{{}}",{price},{spot},{region},use1-az1,x86_64'


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (p5(price="abc"), "Price 'abc' is not a number"),
        (p5(price="nan"), "Price 'nan' is not a finite number"),
        (p5(region=""), "missing Region"),
        (p5(price="0", spot="5"), f"Price must be > 0 (found 0){ZERO}"),
        (p5(price="-3"), f"Price must be > 0 (found -3){ZERO}"),
        (p5(price="2e6"), "Price 2e+06 USD/h is above 1e+06: not a plausible price"),
        (p5(count="1e9"), "AcceleratorCount 1e+09 is above 100000"),
        (p5(spot="-1"), "SpotPrice must be ≥ 0 (found -1)"),
        (p5(count=""), "AcceleratorCount must be ≥ 1 for H100"),
        (p5(count="-8"), "AcceleratorCount '-8' is negative"),
        (p5().removesuffix(",x86_64"), "expected 11 fields, found 10"),
        (
            ',,,192,2048,"{}",55,,us-east-1,use1-az1,x86_64',
            "empty InstanceType and AcceleratorName",
        ),
    ],
)
def test_each_kind_of_bad_row_is_rejected_with_its_line_and_reason(row: str, reason: str) -> None:
    ok = 'p4d.24xlarge,A100,8,96,1152,"{}",21.96,,us-east-1,use1-az1,x86_64'
    report, offs = run(lines(AWS_HEADER, ok, row), provider="aws")
    assert [(r.file, r.line, r.reason) for r in report.rejected] == [("t.csv", 3, reason)]
    assert str(report.rejected[0]) == f"t.csv:3: {reason}"
    assert list(offs) == ["aws:us-east-1:p4d.24xlarge:on_demand"]


def test_an_instance_type_naming_two_accelerators_is_rejected() -> None:
    report, _ = run(
        lines(
            AWS_HEADER,
            'p5.48xlarge,H100,8,192,2048,"{}",55.04,,us-east-1,use1-az1,x86_64',
            'p5.48xlarge,H200,8,192,2048,"{}",55.04,,us-east-1,use1-az2,x86_64',
        )
    )
    assert [r.reason for r in report.rejected] == [
        "p5.48xlarge in us-east-1 is H200×8 here but H100×8 on line 2"
    ]


def test_blank_lines_are_counted_not_dropped() -> None:
    report, _ = run(
        AWS_HEADER + "\n\n" + 'inf2.xlarge,Inferentia2,1,4,16,"{}",0.76,,us-east-1,a,x\n'
    )
    assert (report.rows_read, report.skipped, report.rows_kept) == (2, {SKIP_BLANK: 1}, 1)


def test_whole_file_problems_raise_catalog_errors() -> None:
    with pytest.raises(CatalogError, match=r"t\.csv:1: empty file"):
        import_text("", "t.csv")
    with pytest.raises(CatalogError, match=r"t\.csv:1: header lacks column\(s\) SpotPrice"):
        import_text("InstanceType,AcceleratorName,AcceleratorCount,Price,Region\n", "t.csv")
    with pytest.raises(CatalogError, match="cannot tell which provider"):
        import_text(lines(NEBIUS_HEADER, "mystery-box,H100,8,1,1,2.0,r1,,"), "t.csv")
    with pytest.raises(UnknownNameError, match="Did you mean 'nebius'"):
        import_text(lines(NEBIUS_HEADER), "t.csv", provider="nebuis")


def test_provider_can_be_named_when_instance_types_are_unfamiliar() -> None:
    report, offs = run(
        lines(NEBIUS_HEADER, "mystery-box,H100,8,1,1,20.0,eu-north1,,"), provider="nebius"
    )
    assert report.provider == "nebius"
    assert offs["nebius:eu-north1:mystery-box:on_demand"].price_usd_per_accelerator_hour == 2.5


def test_files_and_directories(tmp_path: Path) -> None:
    (tmp_path / "aws").mkdir()
    (tmp_path / "aws" / "vms.csv").write_text(
        lines(AWS_HEADER, 'inf2.xlarge,Inferentia2,1,4,16,"{}",0.76,0.2,us-east-1,a,x'), "utf-8"
    )
    (tmp_path / "accelerators.csv").write_text(
        "AcceleratorName,Clouds\nA100,\"['AWS']\"\n", "utf-8"
    )
    files, ignored = find_catalog_files([tmp_path])
    assert files == (tmp_path / "aws" / "vms.csv",)
    assert len(ignored) == 1
    assert "accelerators.csv: not a VM catalog" in ignored[0]
    progress: list[tuple[str, int, int]] = []
    report = import_paths([tmp_path], on_file=lambda p, d, t: progress.append((p.name, d, t)))
    assert len(report.offerings) == 2
    assert progress == [("vms.csv", 1, 1)]
    single, _ = import_file(tmp_path / "aws" / "vms.csv")
    assert single.rows_kept == 1
    with pytest.raises(CatalogError, match="no such file or directory"):
        find_catalog_files([tmp_path / "missing.csv"])
    (tmp_path / "latin1.csv").write_bytes(AWS_HEADER.encode() + b"\n\xe9\n")
    with pytest.raises(CatalogError, match="not UTF-8"):
        import_file(tmp_path / "latin1.csv")


_cell = st.text(alphabet="abcH10.,-8 \"'", max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_cell, min_size=0, max_size=13), max_size=12))
def test_every_row_is_kept_skipped_or_rejected_whatever_it_holds(rows: list[list[str]]) -> None:
    good = 'p4d.24xlarge,A100,8,96,1152,"{}",21.96,9.5,us-east-1,use1-az1,x86_64'
    body = "\n".join(",".join(r) for r in rows)
    report, offerings = import_text(lines(AWS_HEADER, good, body), "t.csv", provider="aws")
    assert report.balanced
    assert all(o.price_usd_per_node_hour > 0 for o in offerings)
    assert {o.purchase_option for o in offerings} <= {PurchaseOption.ON_DEMAND, PurchaseOption.SPOT}


def test_a_huge_field_rejects_its_row_only() -> None:
    """Python's csv reader refuses fields over 128 KiB; that costs the row, not the file."""
    huge = "x" * (128 * 1024 + 1)
    report, offs = run(
        lines(
            AWS_HEADER,
            'p4d.24xlarge,A100,8,96,1152,"{}",21.96,,us-east-1,use1-az1,x86_64',
            f'p5.48xlarge,H100,8,192,2048,"{huge}",55.04,,us-east-1,use1-az1,x86_64',
            'inf2.xlarge,Inferentia2,1,4,16,"{}",0.76,,us-east-1,use1-az1,x86_64',
        )
    )
    assert (report.rows_read, report.rows_kept, len(report.rejected)) == (3, 2, 1)
    (rejection,) = report.rejected
    assert rejection.line == 3
    assert rejection.reason.startswith("unreadable CSV record: field larger than field limit")
    assert set(offs) == {
        "aws:us-east-1:p4d.24xlarge:on_demand",
        "aws:us-east-1:inf2.xlarge:on_demand",
    }


def test_a_malformed_file_never_loses_rows_uncounted() -> None:
    """Unterminated quotes, NUL bytes, stray fields: read = kept + skipped + rejected."""
    text = lines(
        AWS_HEADER,
        'p4d.24xlarge,A100,8,96,1152,"{}",21.96,,us-east-1,use1-az1,x86_64',
        'p5.48xlarge,H\x00100,8,192,2048,"{}",55.04,,us-east-1,use1-az1,x86_64',
        'p5.48xlarge,H100,8,192,2048,"{}",55.04,,us-east-1,use1-az1,x86_64,extra',
        "",
        'inf2.xlarge,Inferentia2,1,4,16,"{unterminated,0.76,,us-east-1,use1-az1,x86_64',
        'inf2.xlarge,Inferentia2,1,4,16,"{}",0.76,,us-east-1,use1-az1,x86_64',
    )
    report, _ = import_text(text, "t.csv", provider="aws")
    assert report.balanced
    assert report.rows_read == report.rows_kept + report.rows_skipped + len(report.rejected)
    # the unterminated quote makes lines 6 and 7 one CSV record, as any CSV reader reads them
    assert report.rows_read == 5
    assert [(r.line, r.reason) for r in report.rejected] == [(4, "expected 11 fields, found 12")]
    assert report.skipped_accelerators == {"H\x00100": 1}


def test_pcie_and_nvl_cards_are_their_own_chips_and_every_fold_is_recorded() -> None:
    lambda_header = (
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,"
        "SpotPrice"
    )
    report, offs = run(
        lines(
            lambda_header,
            "gpu_1x_h100_pcie,H100,1,26,200,2.49,us-east-1,,",
            "gpu_1x_h100_sxm5,H100,1,26,225,3.29,us-east-1,,",
            "gpu_2x_a100,A100,2,60,400,2.58,us-east-1,,",
            "gpu_8x_a100,A100,8,124,1800,10.32,us-east-1,,",
        )
    )
    assert {o.instance_type: o.accelerator for o in offs.values()} == {
        "gpu_1x_h100_pcie": "H100-PCIe",
        "gpu_1x_h100_sxm5": "H100",
        "gpu_2x_a100": "A100-PCIe",
        "gpu_8x_a100": "A100",
    }
    assert report.folded == (
        FoldedName("lambda", "A100", "A100-PCIe", ("gpu_2x_a100",), 1),
        FoldedName("lambda", "H100", "H100-PCIe", ("gpu_1x_h100_pcie",), 1),
    )
    azure, a_offs = run(
        lines(
            AZURE_HEADER,
            "Standard_NC40ads_H100_v5,H100,1,40,320,H100,6.98,,eastus,V2",
            "Standard_NC24ads_A100_v4,A100-80GB,1,24,220,A100,3.67,,eastus,V2",
        )
    )
    assert {o.accelerator for o in a_offs.values()} == {"H100-NVL", "A100-80GB-PCIe"}
    assert {(f.source_name, f.accelerator) for f in azure.folded} == {
        ("H100", "H100-NVL"),
        ("A100-80GB", "A100-80GB-PCIe"),
    }


def test_gcp_mega_h100_is_the_sxm_chip_on_another_fabric() -> None:
    report, offs = run(
        lines(
            GCP_HEADER,
            "a3-megagpu-8g,208.0,1872.0,,,,us-central1,us-central1-a,8.0,3.0",
            ",,,H100-MEGA,8,{'Gpus': []},us-central1,us-central1-a,80.0,30.0",
        )
    )
    od = offs["gcp:us-central1:a3-megagpu-8g:on_demand"]
    assert (od.accelerator, od.scale_up, od.fabric, od.fabric_gbps) == (
        "H100",
        "nvswitch",
        "gpudirect-tcpxo",
        1600.0,
    )
    assert report.folded == (FoldedName("gcp", "H100-MEGA", "H100", ("a3-megagpu-8g",), 1),)


def test_instance_types_without_a_topology_entry_are_flagged_unknown() -> None:
    _, offs = run(
        lines(NEBIUS_HEADER, "mystery-box,H100,8,1,1,20.0,eu-north1,,"), provider="nebius"
    )
    o = offs["nebius:eu-north1:mystery-box:on_demand"]
    assert (o.scale_up, o.fabric, o.flags) == ("", "", ("topology-unknown",))
