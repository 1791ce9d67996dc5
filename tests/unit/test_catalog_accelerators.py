"""Accelerator names: PCIe/NVL parts are their own chips, old aliases still resolve."""

from __future__ import annotations

import pytest

from archipel.perf.accelerators import (
    ACCELERATORS,
    accelerator,
    canonical_name,
    offering_accelerator,
)


@pytest.mark.parametrize(
    ("name", "chip"),
    [
        ("H100-PCIe", "H100-PCIe"),
        ("h100-pcie", "H100-PCIe"),
        ("H100-80G-PCIe", "H100-PCIe"),  # Hyperstack
        ("H100-80G-PCIe-NVLink", "H100-PCIe"),  # Hyperstack, bridged cards
        ("H100-NVL", "H100-NVL"),
        ("A100-80GB-PCIe", "A100-80GB-PCIe"),
        ("A100-80G-PCIe", "A100-80GB-PCIe"),
        ("a100-80g-pcie-nvlink", "A100-80GB-PCIe"),
        ("H100-MEGA", "H100"),  # GCP a3-megagpu-8g: the SXM chip, a faster fabric
        ("H100-SXM", "H100"),
        ("H100-80G-SXM5", "H100"),
        ("A100-80G", "A100-80GB"),
        ("trn2", "Trainium2"),
        ("tpu-v5litepod-8", "TPU-v5e"),
        ("GH200", "GH200"),
        ("L40", "L40"),
        ("V100", None),
        ("RTX4090", None),
    ],
)
def test_names_resolve_to_their_chip(name: str, chip: str | None) -> None:
    assert canonical_name(name) == chip


def test_pcie_parts_have_their_own_spec_sheet_facts() -> None:
    sxm, pcie, nvl = (accelerator(n) for n in ("H100", "H100-PCIe", "H100-NVL"))
    assert pcie.bf16_tflops < nvl.bf16_tflops < sxm.bf16_tflops
    assert pcie.mem_bw_tb_per_s < sxm.mem_bw_tb_per_s < nvl.mem_bw_tb_per_s
    assert (nvl.mem_gib, pcie.mem_gib) == (94, 80)
    a80, a80p = accelerator("A100-80GB"), accelerator("A100-80GB-PCIe")
    assert (a80p.bf16_tflops, a80p.mem_gib) == (a80.bf16_tflops, a80.mem_gib)
    assert a80p.mem_bw_tb_per_s < a80.mem_bw_tb_per_s
    assert all(a.kind == "gpu" for n, a in ACCELERATORS.items() if n.endswith(("PCIe", "NVL")))


@pytest.mark.parametrize(
    ("provider", "instance_type", "name", "chip"),
    [
        ("lambda", "gpu_1x_h100_pcie", "H100", "H100-PCIe"),
        ("lambda", "gpu_1x_h100_sxm5", "H100", "H100"),
        ("lambda", "gpu_4x_a100", "A100", "A100-PCIe"),
        ("lambda", "gpu_1x_a100_sxm4", "A100", "A100"),
        ("lambda", "gpu_8x_a100", "A100", "A100"),
        ("azure", "Standard_NC40ads_H100_v5", "H100", "H100-NVL"),
        ("azure", "Standard_NCC40ads_H100_v5", "H100", "H100-NVL"),
        ("azure", "Standard_ND96isr_H100_v5", "H100", "H100"),
        ("azure", "Standard_NC96ads_A100_v4", "A100-80GB", "A100-80GB-PCIe"),
        ("azure", "Standard_ND96amsr_A100_v4", "A100-80GB", "A100-80GB"),
        ("aws", "gpu_1x_h100_pcie", "H100", "H100"),  # variants are per provider
        ("gcp", "a3-megagpu-8g", "H100-MEGA", "H100"),
        ("azure", "Standard_NC6s_v3", "V100", None),
    ],
)
def test_instance_types_refine_the_chip(
    provider: str, instance_type: str, name: str, chip: str | None
) -> None:
    assert offering_accelerator(provider, instance_type, name) == chip
