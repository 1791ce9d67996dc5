"""The topology table: facts per instance type, sources, and the flags inferred entries carry."""

from __future__ import annotations

import pytest

from archipel.catalog.snapshot import load_builtin
from archipel.catalog.topology import (
    FABRIC_KINDS,
    RULES,
    SCALE_UP_KINDS,
    topology_for,
)


@pytest.mark.parametrize(
    ("provider", "instance_type", "scale_up", "fabric", "gbps", "flags"),
    [
        ("aws", "p5.48xlarge", "nvswitch", "efa", 3200, ()),
        ("aws", "p4d.24xlarge", "nvswitch", "efa", 400, ()),
        ("aws", "p6-b300.48xlarge", "nvswitch", "efa", 6400, ()),
        ("aws", "trn1n.32xlarge", "neuronlink", "efa", 1600, ()),
        ("aws", "trn1.2xlarge", "none", "", 0, ()),
        ("aws", "inf2.48xlarge", "neuronlink", "", 0, ()),
        ("azure", "Standard_ND96isr_H100_v5", "nvswitch", "infiniband", 3200, ()),
        ("azure", "Standard_ND96asr_v4", "nvswitch", "infiniband", 1600, ()),
        ("azure", "Standard_ND96isr_MI300X_v5", "infinity-fabric", "infiniband", 3200, ()),
        ("azure", "Standard_NC80adis_H100_v5", "nvlink-bridge", "", 0, ("topology-assumed",)),
        ("gcp", "a3-highgpu-8g", "nvswitch", "gpudirect-tcpx", 800, ()),
        ("gcp", "a3-megagpu-8g", "nvswitch", "gpudirect-tcpxo", 1600, ()),
        ("gcp", "a3-ultragpu-8g", "nvswitch", "roce", 3200, ()),
        ("gcp", "a2-ultragpu-8g", "nvswitch", "", 0, ()),
        ("gcp", "a3-highgpu-4g", "nvswitch", "", 0, ("topology-assumed",)),
        ("gcp", "tpu-v5p-128", "ici", "", 0, ()),
        ("gcp", "tpu-v6e-1", "none", "", 0, ()),
        ("gcp", "g2-standard-48", "pcie", "", 0, ()),
        ("oci", "BM.GPU.H100.8", "nvswitch", "roce", 3200, ()),
        ("oci", "BM.GPU.GB200.4", "nvswitch", "roce", 1600, ("topology-assumed",)),
        ("nebius", "gpu-h200-sxm_8gpu-128vcpu-1600gb", "nvswitch", "infiniband", 3200, ()),
        ("nebius", "gpu-h100-sxm_1gpu-16vcpu-200gb", "none", "", 0, ()),
        # on-demand 8-GPU VMs whose cloud sells InfiniBand only as separate clusters
        ("lambda", "gpu_8x_h100_sxm5", "nvswitch", "", 0, ()),
        ("verda", "8B200.240V", "nvswitch", "", 0, ("topology-assumed",)),
        ("hyperstack", "n3-H100-SXM5x8", "nvswitch", "", 0, ("topology-assumed",)),
        ("hyperstack", "n3-H100x8-NVLink", "nvlink-bridge", "", 0, ()),
        ("hyperstack", "n3-A100x4", "pcie", "", 0, ()),
        ("aws", "p9.96xlarge", "", "", 0, ("topology-unknown",)),
        ("oci", "p5.48xlarge", "", "", 0, ("topology-unknown",)),  # names are per provider
    ],
)
def test_documented_and_inferred_entries(
    provider: str,
    instance_type: str,
    scale_up: str,
    fabric: str,
    gbps: float,
    flags: tuple[str, ...],
) -> None:
    topology, got_flags = topology_for(provider, instance_type)
    assert (topology.scale_up, topology.fabric, topology.fabric_gbps, got_flags) == (
        scale_up,
        fabric,
        gbps,
        flags,
    )


def test_every_rule_is_well_formed_and_sourced() -> None:
    for rule in RULES:
        t = rule.topology
        assert t.scale_up in SCALE_UP_KINDS, rule
        assert t.fabric == "" or t.fabric in FABRIC_KINDS, rule
        assert bool(t.fabric) == (t.fabric_gbps > 0), rule
        assert t.source, rule
        assert t.documented or t.note, f"an inferred entry says what it infers: {rule}"


def test_every_shipped_instance_type_has_exactly_one_entry() -> None:
    types = {
        (o.provider, o.instance_type, o.accelerators_per_node) for o in load_builtin().offerings
    }
    for provider, itype, per_node in types:
        matches = [r for r in RULES if r.matches(provider, itype)]
        assert len(matches) == 1, (provider, itype, matches)
        assert (matches[0].topology.scale_up == "none") == (per_node == 1), (provider, itype)
