"""A corpus of small catalog files, mutated at random: the importer raises nothing but
``CatalogError`` and always accounts for every row (read = kept + skipped + rejected).

Mutations are those real files suffer: truncated lines, extra or missing fields, NUL bytes,
unterminated quotes, huge numbers, negative/zero/inf/NaN prices, unknown accelerators, deleted
and repeated lines, one huge field.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from archipel.catalog.importer import import_text
from archipel.errors import CatalogError

CORPUS = {
    "aws": (
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
        "Region,AvailabilityZone,Arch\n"
        'p5.48xlarge,H100,8.0,192.0,2048.0,"{}",55.04,20.5,us-east-1,use1-az1,x86_64\n'
        'p4d.24xlarge,A100,8,96,1152,"{}",21.96,9.5,us-west-2,usw2-az1,x86_64\n'
        'inf2.xlarge,Inferentia2,1,4,16,"{}",0.76,0.2,eu-west-1,euw1-az1,x86_64\n'
        'p3dn.24xlarge,V100-32GB,8.0,96.0,768.0,"{}",31.2,9.3,us-east-1,use1-az1,x86_64\n'
    ),
    "gcp": (
        "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,"
        "AvailabilityZone,Price,SpotPrice\n"
        "a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-a,0.73948,0.36975\n"
        ",,,A100,1,{'Gpus': []},us-central1,us-central1-a,2.93391,1.4341\n"
        "a4-highgpu-8g,224.0,3968.0,,,,us-central1,us-central1-b,0.0,0.0\n"
        ",,,B200,8,{'Gpus': []},us-central1,us-central1-b,90.216,34.2368\n"
        ",,,tpu-v5litepod-8,1,tpu-v5litepod-8,us-central1,us-central1-a,9.6,2.05738\n"
    ),
    "azure": (
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
        "Region,Generation\n"
        "Standard_NC40ads_H100_v5,H100,1,40,320,H100,6.98,1.55,northeurope,V1,V2\n"
        "Standard_ND96isr_H200_v5,H200,8,96,1850,H200,110.24,,eastus,V2\n"
        "Standard_NV6ads_A10_v5,A10,0.167,6,55,A10,0.45,0.09,eastus,V2\n"
    ),
    "nebius": (
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,"
        "SpotPrice\n"
        "gpu-h100-sxm_8gpu-128vcpu-1600gb,H100,8,128,1600,23.6,eu-north1,,12.0\n"
        "gpu-l40s-a_1gpu-8vcpu-32gb,L40S,1,8,32,1.55,eu-north1,,\n"
        "cpu-d3_4vcpu-16gb,,0,4,16,0.0992,eu-north1,,\n"
    ),
    "vast": (
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,"
        "SpotPrice\n"
        '8x-H100_SXM-32-65536,H100,8,32,64,16.0,"Michigan, US, NA",,\n'
        '1x-RTX_4090-32-65536,RTX4090,1,32,64,0.4,", DE, EU",,\n'
    ),
}

NASTY_VALUES = (
    "0",
    "-0",
    "-3",
    "1e308",
    "1e400",
    "-1e400",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "9" * 400,
    "0.0000001",
    "",
    " ",
    "H100",
    "FOO9000",
    "tpu-v99-8",
    'a"b',
    "\x00",
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(CORPUS)))
    lines = CORPUS[name].splitlines()
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(
            st.sampled_from(
                ["truncate", "extra", "missing", "nul", "quote", "value", "delete", "repeat"]
            )
        )
        i = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if not lines:
            lines = [""]
        line = lines[i]
        if kind == "truncate":
            lines[i] = line[: draw(st.integers(0, len(line)))]
        elif kind == "extra":
            lines[i] = line + "," + draw(st.sampled_from(NASTY_VALUES))
        elif kind == "missing":
            lines[i] = line.rpartition(",")[0]
        elif kind == "nul":
            at = draw(st.integers(0, len(line)))
            lines[i] = line[:at] + "\x00" + line[at:]
        elif kind == "quote":
            at = draw(st.integers(0, len(line)))
            lines[i] = line[:at] + '"' + line[at:]
        elif kind == "value":
            fields = line.split(",")
            j = draw(st.integers(0, len(fields) - 1))
            fields[j] = draw(st.sampled_from(NASTY_VALUES))
            lines[i] = ",".join(fields)
        elif kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "repeat":
            lines.insert(i, line)
    return name, "\n".join(lines) + "\n"


def check(text: str, provider: str | None) -> None:
    try:
        report, offerings = import_text(text, "m.csv", provider=provider)
    except CatalogError:
        return
    assert report.balanced, report
    assert report.rows_read == report.rows_kept + report.rows_skipped + len(report.rejected)
    for o in offerings:
        assert math.isfinite(o.price_usd_per_node_hour) and o.price_usd_per_node_hour > 0, o
        assert o.accelerators_per_node >= 1, o
        assert 0 < o.availability <= 1, o
        assert math.isfinite(o.interruptions_per_hour) and o.interruptions_per_hour >= 0, o


@settings(max_examples=300, deadline=None)
@given(mutated(), st.booleans())
def test_mutated_catalogs_raise_only_catalog_errors_and_balance(
    case: tuple[str, str], name_provider: bool
) -> None:
    provider, text = case
    check(text, provider if name_provider else None)


def test_the_corpus_itself_imports_cleanly() -> None:
    for provider, text in CORPUS.items():
        report, offerings = import_text(text, f"{provider}.csv")
        assert report.balanced and offerings, provider


def test_a_huge_field_anywhere_in_the_corpus_costs_one_row() -> None:
    huge = "x" * (200 * 1024)
    for provider, text in CORPUS.items():
        head, first, *rest = text.splitlines()
        fields = first.split(",")
        fields[1] = huge
        mutated_text = "\n".join([head, ",".join(fields), *rest]) + "\n"
        report, _ = import_text(mutated_text, "m.csv", provider=provider)
        assert report.balanced, provider
        assert report.rows_read == len(rest) + 1, provider
