"""Name mappings of the export targets: SkyPilot clouds, regions and accelerators, Kubernetes
resources and node labels."""

from __future__ import annotations

import pytest

from archipel.catalog.snapshot import load_builtin
from archipel.export.targets import (
    AMD,
    NEURON,
    NVIDIA,
    TPU,
    dns_label,
    gke_tpu_selector,
    is_label_value,
    k8s_resource,
    region_code,
    sky_resources,
    skypilot_accelerator,
    skypilot_cloud,
    spot_from_selector,
    spot_selector,
)


@pytest.mark.parametrize(
    ("region", "code"),
    [
        ("aws:us-east-1", "us-east-1"),
        ("nebius:eu-north1", "eu-north1"),
        ("verda:FIN-03", "FIN-03"),
        ("azure:southcentralus", "southcentralus"),
        ("oci:eu-frankfurt-1", "eu-frankfurt-1"),
    ],
)
def test_region_code_is_the_providers_own(region: str, code: str) -> None:
    assert region_code(region) == code


def test_clouds_skypilot_lacks_are_none() -> None:
    assert skypilot_cloud("hyperstack") is None
    assert skypilot_cloud("lab") is None
    assert skypilot_cloud("lambda") == "lambda"


@pytest.mark.parametrize(
    ("instance_type", "accelerator", "per_node", "expected"),
    [
        ("p5.48xlarge", "H100", 8, ("H100", 8)),
        ("gpu_1x_h100_pcie", "H100-PCIe", 1, ("H100", 1)),
        ("gpu_4x_a100", "A100-PCIe", 4, ("A100", 4)),
        ("Standard_NC24ads_A100_v4", "A100-80GB-PCIe", 1, ("A100-80GB", 1)),
        ("Standard_NC80adis_H100_v5", "H100-NVL", 2, ("H100", 2)),
        ("trn1.32xlarge", "Trainium", 16, ("Trainium", 16)),
        ("tpu-v5litepod-8", "TPU-v5e", 8, ("tpu-v5litepod-8", 1)),
        ("tpu-v5p-16", "TPU-v5p", 8, ("tpu-v5p-16", 1)),
    ],
)
def test_skypilot_accelerator_names(
    instance_type: str, accelerator: str, per_node: int, expected: tuple[str, int]
) -> None:
    assert skypilot_accelerator(instance_type, accelerator, per_node) == expected


def test_a_tpu_slice_has_no_instance_type_in_skypilot() -> None:
    res = sky_resources("gcp", "gcp:us-west4", "tpu-v5litepod-8", "TPU-v5e", 8, spot=True)
    assert res is not None and res.instance_type is None and res.use_spot
    assert (
        sky_resources("hyperstack", "hyperstack:US-1", "n3-H100x8", "H100-PCIe", 8, False) is None
    )


def test_every_catalog_chip_has_a_vendor_resource() -> None:
    resources = {o.accelerator: k8s_resource(o.accelerator) for o in load_builtin().offerings}
    assert None not in resources.values(), resources
    assert resources["MI300X"] == AMD and resources["Inferentia2"] == NEURON
    assert resources["TPU-v6e"] == TPU and resources["GB200"] == NVIDIA
    assert resources["L40S"] == NVIDIA and resources["A10"] == NVIDIA
    assert k8s_resource("Titan-I1") is None  # a chip of one's own


def test_gke_tpu_labels_only_for_single_host_slices() -> None:
    assert gke_tpu_selector("TPU-v5e", 8) == {
        "cloud.google.com/gke-tpu-accelerator": "tpu-v5-lite-podslice",
        "cloud.google.com/gke-tpu-topology": "2x4",
    }
    assert gke_tpu_selector("TPU-v5e", 16) is None
    assert gke_tpu_selector("H100", 8) is None


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure", "nebius", "oci"])
@pytest.mark.parametrize("spot", [True, False])
def test_spot_selector_round_trips(provider: str, spot: bool) -> None:
    got = spot_from_selector(spot_selector(provider, spot))
    assert got in (spot, None)
    if provider == "aws" or (spot and provider in ("gcp", "azure")):
        assert got is spot


def test_dns_labels() -> None:
    assert dns_label("Fine_tune.v2") == "fine-tune-v2"
    assert len(dns_label("x" * 100)) == 63
    assert dns_label("__") == "x"
    assert all(is_label_value(o.instance_type) for o in load_builtin().offerings)
    assert not is_label_value("a:b")
