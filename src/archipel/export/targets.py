"""How Archipel's catalog names map onto the names SkyPilot and Kubernetes clusters use.

Pure tables and functions, no I/O. Sources:

- SkyPilot clouds and accelerator names: SkyPilot 0.14 (``sky/clouds/``) and its catalogs
  (``skypilot-org/skypilot-catalog``, ``catalogs/v8/<cloud>/vms.csv``, the files Archipel's own
  catalog is imported from). Archipel's region codes are SkyPilot's (``aws:us-east-1`` →
  cloud ``aws``, region ``us-east-1``); its accelerator names are folded from SkyPilot's
  (:mod:`archipel.perf.accelerators`), and :func:`skypilot_accelerator` unfolds them.
- Kubernetes accelerator resources: the vendors' device plugins (NVIDIA ``nvidia.com/gpu``, AMD
  ``amd.com/gpu``, AWS Neuron ``aws.amazon.com/neuron``, GKE TPU ``google.com/tpu``).
- Node labels: the well-known labels ``node.kubernetes.io/instance-type`` and
  ``topology.kubernetes.io/region`` (kubernetes.io/docs/reference/labels-annotations-taints/),
  EKS ``eks.amazonaws.com/capacityType``, GKE ``cloud.google.com/gke-spot`` and the TPU labels
  ``cloud.google.com/gke-tpu-accelerator`` / ``gke-tpu-topology`` (cloud.google.com/kubernetes-
  engine/docs/concepts/tpus), AKS ``kubernetes.azure.com/scalesetpriority``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archipel.catalog.pricing_rules import GCP_GPU_MACHINES
from archipel.perf.accelerators import tpu_slice_chips

# Archipel provider id -> SkyPilot cloud name, for the clouds SkyPilot 0.14 knows. Others
# (Hyperstack, chips and data centres of one's own) are reported by the export, not faked.
SKYPILOT_CLOUDS: dict[str, str] = {
    "aws": "aws",
    "azure": "azure",
    "gcp": "gcp",
    "oci": "oci",
    "lambda": "lambda",
    "nebius": "nebius",
    "verda": "verda",
}

# Archipel's canonical accelerator -> SkyPilot's name where they differ (the importer folded
# PCIe/NVL variants onto the card's base name by instance type; SkyPilot keeps the base name).
_SKYPILOT_ACCELERATOR: dict[str, str] = {
    "H100-PCIe": "H100",  # Lambda gpu_1x_h100_pcie
    "A100-PCIe": "A100",  # Lambda gpu_[124]x_a100
    "A100-80GB-PCIe": "A100-80GB",  # Azure NC A100 v4
    "H100-NVL": "H100",  # Azure NC(C)ads H100 v5
}

# GCP machine type -> SkyPilot's accelerator name where it is not Archipel's (a3-megagpu-8g is
# SkyPilot's H100-MEGA, the SXM H100 Archipel calls H100), from the importer's own table.
_SKYPILOT_BY_INSTANCE: dict[str, str] = {
    machine: name
    for (name, _), machines in GCP_GPU_MACHINES.items()
    for machine in machines
    if name.endswith("-MEGA")
}

# Instance types SkyPilot 0.14 knows but will not launch with the GPUs they carry (its GCP
# catalog attaches H100s only to a3-highgpu and H200s only to a3-ultragpu-8g); the export
# reports them instead of writing a task SkyPilot would refuse (checked against SkyPilot by
# tests/integration/test_export_targets.py).
SKYPILOT_REFUSES: dict[str, frozenset[str]] = {
    "gcp": frozenset({"a3-edgegpu-8g", "a3-edgegpu-8g-nolssd", "a3-ultragpu-8g-nolssd"}),
}

NVIDIA = "nvidia.com/gpu"
AMD = "amd.com/gpu"
NEURON = "aws.amazon.com/neuron"
TPU = "google.com/tpu"

_AMD_CHIPS = re.compile(r"^MI\d+")
_NEURON_CHIPS = frozenset({"Trainium", "Trainium2", "Inferentia2"})
_NVIDIA_CHIPS = re.compile(r"^(?:[ABHL]\d+|GB\d+|GH\d+|RTX|A10G?$)")

# NeuronCores per Neuron device (AWS Neuron docs, "Trainium/Inferentia2 architecture"): the
# unit vLLM's tensor parallelism and NEURON_RT_VISIBLE_CORES count in.
NEURON_CORES_PER_CHIP: dict[str, int] = {"Trainium": 2, "Inferentia2": 2, "Trainium2": 8}

# GKE TPU node labels for single-host slices (chips -> topology); multi-host slices span
# several Kubernetes nodes and are reported instead of exported.
_GKE_TPU: dict[str, tuple[str, dict[int, str]]] = {
    "TPU-v5e": ("tpu-v5-lite-podslice", {1: "1x1", 4: "2x2", 8: "2x4"}),
    "TPU-v6e": ("tpu-v6e-slice", {1: "1x1", 4: "2x2", 8: "2x4"}),
    "TPU-v5p": ("tpu-v5p-slice", {4: "2x2x1"}),
}


@dataclass(frozen=True, slots=True)
class SkyResources:
    """What goes under ``resources:`` of a SkyPilot task for one node of an offering."""

    cloud: str
    region: str
    instance_type: str | None  # None for TPU slices: SkyPilot names the slice as accelerator
    accelerator: str
    count: int
    use_spot: bool


def region_code(region_id: str) -> str:
    """``aws:us-east-1`` → ``us-east-1`` (the provider's own code, also SkyPilot's)."""
    _, _, code = region_id.partition(":")
    return code or region_id


def skypilot_cloud(provider: str) -> str | None:
    """SkyPilot's cloud name for an Archipel provider, or None when SkyPilot lacks the cloud."""
    return SKYPILOT_CLOUDS.get(provider)


def skypilot_accelerator(instance_type: str, accelerator: str, per_node: int) -> tuple[str, int]:
    """SkyPilot's (accelerator name, count) for one node: a TPU slice is one accelerator named
    by the slice (``tpu-v5litepod-8: 1``); other chips keep their count under SkyPilot's name."""
    if accelerator.startswith("TPU-") and tpu_slice_chips(instance_type) is not None:
        return instance_type, 1
    if instance_type in _SKYPILOT_BY_INSTANCE:
        return _SKYPILOT_BY_INSTANCE[instance_type], per_node
    return _SKYPILOT_ACCELERATOR.get(accelerator, accelerator), per_node


def sky_resources(
    provider: str, region_id: str, instance_type: str, accelerator: str, per_node: int, spot: bool
) -> SkyResources | None:
    """The SkyPilot resources of one node, or None when SkyPilot does not know the cloud."""
    cloud = skypilot_cloud(provider)
    if cloud is None:
        return None
    name, count = skypilot_accelerator(instance_type, accelerator, per_node)
    tpu = name == instance_type
    return SkyResources(
        cloud, region_code(region_id), None if tpu else instance_type, name, count, spot
    )


def k8s_resource(accelerator: str) -> str | None:
    """The extended resource a pod requests for ``accelerator`` (by its vendor's device plugin),
    or None for a chip of unknown vendor (one of one's own)."""
    if accelerator.startswith("TPU-"):
        return TPU
    if accelerator in _NEURON_CHIPS:
        return NEURON
    if _AMD_CHIPS.match(accelerator):
        return AMD
    if _NVIDIA_CHIPS.match(accelerator):
        return NVIDIA
    return None


def gke_tpu_selector(accelerator: str, chips: int) -> dict[str, str] | None:
    """GKE node labels of a single-host TPU slice of ``chips`` chips, or None when GKE serves
    that slice from several nodes (or the chip is not a TPU)."""
    entry = _GKE_TPU.get(accelerator)
    if entry is None or chips not in entry[1]:
        return None
    return {
        "cloud.google.com/gke-tpu-accelerator": entry[0],
        "cloud.google.com/gke-tpu-topology": entry[1][chips],
    }


def spot_selector(provider: str, spot: bool) -> dict[str, str]:
    """The managed node pools' capacity-type label for ``provider`` ({} where none is known:
    the pods carry ``archipel.io/purchase-option`` and the cluster's operator places them)."""
    if provider == "aws":
        return {"eks.amazonaws.com/capacityType": "SPOT" if spot else "ON_DEMAND"}
    if provider == "gcp" and spot:
        return {"cloud.google.com/gke-spot": "true"}
    if provider == "azure" and spot:
        return {"kubernetes.azure.com/scalesetpriority": "spot"}
    return {}


def spot_from_selector(selector: dict[str, str]) -> bool | None:
    """Inverse of :func:`spot_selector` (None when the selector does not say)."""
    if "eks.amazonaws.com/capacityType" in selector:
        return selector["eks.amazonaws.com/capacityType"] == "SPOT"
    if selector.get("cloud.google.com/gke-spot") == "true":
        return True
    if selector.get("kubernetes.azure.com/scalesetpriority") == "spot":
        return True
    return None


def visible_devices_env(accelerator: str) -> str:
    """The environment variable that confines an engine to some of a node's accelerators."""
    resource = k8s_resource(accelerator)
    if resource == AMD:
        return "HIP_VISIBLE_DEVICES"
    if resource == NEURON:
        return "NEURON_RT_VISIBLE_CORES"
    if resource == TPU:
        return "TPU_VISIBLE_CHIPS"
    return "CUDA_VISIBLE_DEVICES"


def device_units(accelerator: str) -> int:
    """Devices an accelerator shows the engine (NeuronCores per Neuron chip, 1 otherwise)."""
    return NEURON_CORES_PER_CHIP.get(accelerator, 1)


_DNS_BAD = re.compile(r"[^a-z0-9-]+")


def dns_label(text: str, limit: int = 63) -> str:
    """``text`` as an RFC 1123 label (lower case, digits, '-'; starts and ends alphanumeric)."""
    out = _DNS_BAD.sub("-", text.lower()).strip("-")[:limit].strip("-")
    return out or "x"


_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$")


def is_label_value(text: str) -> bool:
    """Whether ``text`` may be a Kubernetes label value."""
    return bool(_LABEL_VALUE.match(text))
