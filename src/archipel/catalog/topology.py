"""Topology per instance type: the link inside a node and the fabric between nodes.

A model replica lives inside one node's scale-up domain unless the instance type has a scale-out
fabric (and the spec allows multi-node replicas); a training gang of many nodes needs a fabric.
This module is the curated table those rules read, keyed by provider and instance type (exact
names, or documented family patterns). Each entry gives:

- ``scale_up``: the link between the accelerators of one node —
  ``nvswitch`` (every GPU reaches every other at full NVLink bandwidth),
  ``nvlink-bridge`` (PCIe cards joined in pairs by NVLink bridges),
  ``pcie`` (no GPU-to-GPU link but the host's PCIe), ``neuronlink`` (Trainium/Inferentia),
  ``infinity-fabric`` (AMD Instinct), ``ici`` (a TPU slice's inter-chip interconnect),
  ``none`` (one accelerator per node);
- ``scale_up_gb_per_s``: that link's bandwidth per accelerator, GB/s (None where the vendor
  publishes no per-chip figure);
- ``fabric``: the scale-out fabric between nodes — ``efa``, ``infiniband``, ``roce``,
  ``gpudirect-tcpx``, ``gpudirect-tcpxo`` — or ``""``: ordinary data-centre networking only;
- ``fabric_gbps``: that fabric's bandwidth per node, Gbit/s (0 without one);
- ``source``: the vendor page the entry rests on; ``documented`` is False where the entry is
  inferred from a family rule or a sibling type rather than documented for that exact type (the
  offering is then flagged ``topology-assumed``); ``note`` says what is inferred and why.

Fabrics that a cloud sells only as a separate cluster product are left out: Lambda's on-demand
8-GPU instances have no InfiniBand (1-Click Clusters, bought separately, do), nor have Verda's
on-demand VMs (Instant Clusters) or Hyperstack's on-demand SXM VMs (its Supercloud reservations).
Nebius attaches InfiniBand to 8-GPU VMs placed in a GPU cluster, which any project can create;
OCI's bare-metal GPU shapes join RDMA cluster networks the same way.

TPU slices are one node each (the catalog prices them per slice): ``ici`` inside the slice and
no fabric between slices (Multislice runs over the ordinary data-centre network).

An instance type without an entry gets ``scale_up=""``, no fabric and the flag
``topology-unknown`` (:func:`topology_for`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCALE_UP_KINDS = (
    "nvswitch",
    "nvlink",
    "nvlink-bridge",
    "pcie",
    "neuronlink",
    "infinity-fabric",
    "ici",
    "none",
)
FABRIC_KINDS = ("efa", "infiniband", "roce", "gpudirect-tcpx", "gpudirect-tcpxo", "ici")

FLAG_TOPOLOGY_ASSUMED = "topology-assumed"
FLAG_TOPOLOGY_UNKNOWN = "topology-unknown"


@dataclass(frozen=True, slots=True)
class Topology:
    """How the accelerators of one node are joined, and how nodes are joined."""

    scale_up: str
    scale_up_gb_per_s: float | None
    fabric: str
    fabric_gbps: float
    source: str
    documented: bool = True
    note: str = ""


@dataclass(frozen=True, slots=True)
class TopologyRule:
    """A topology for the instance types of a provider whose names match ``pattern`` fully."""

    provider: str
    pattern: str
    topology: Topology

    def matches(self, provider: str, instance_type: str) -> bool:
        return provider == self.provider and re.fullmatch(self.pattern, instance_type) is not None


# ----------------------------------------------------------------------------- sources

AWS_P4 = "AWS, Amazon EC2 P4 instances (aws.amazon.com/ec2/instance-types/p4/)"
AWS_P5 = "AWS, Amazon EC2 P5 instances (aws.amazon.com/ec2/instance-types/p5/)"
AWS_P6 = "AWS, Amazon EC2 P6 instances (aws.amazon.com/ec2/instance-types/p6/)"
AWS_TRN1 = (
    "AWS Neuron docs, Trn1/Trn1n architecture and 'How to prepare trn1.32xlarge for multi-node "
    "execution' (awsdocs-neuron.readthedocs-hosted.com)"
)
AWS_TRN2 = "AWS Neuron docs, Trn2 architecture (awsdocs-neuron.readthedocs-hosted.com)"
AWS_INF2 = "AWS Neuron docs, Inf2 architecture (awsdocs-neuron.readthedocs-hosted.com)"
AZ_ND = (
    "Microsoft Learn, ND family VM sizes: ND A100 v4, NDm A100 v4, ND H100 v5, ND H200 v5, "
    "ND MI300X v5 (learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/nd-family)"
)
AZ_NC = (
    "Microsoft Learn, NC family VM sizes: NC A100 v4, NCads H100 v5, NCCads H100 v5, NC A10 v4 "
    "(learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/nc-family)"
)
AZ_NV = (
    "Microsoft Learn, NV A10 v5-series (learn.microsoft.com/azure/virtual-machines/nva10v5-series)"
)
GCP_NET = (
    "Google Cloud, Networking and GPU machines (cloud.google.com/compute/docs/gpus/"
    "gpu-network-bandwidth) and GPU machine types (cloud.google.com/compute/docs/gpus)"
)
GCP_TPU = (
    "Google Cloud TPU docs, TPU v5e / v5p / v6e system architecture: ICI bandwidth per chip "
    "1,600 / 4,800 / 3,584 Gbit/s (cloud.google.com/tpu/docs)"
)
OCI_GPU = (
    "Oracle Cloud, Compute shapes: bare metal GPU shapes and RDMA cluster networks "
    "(docs.oracle.com/iaas/Content/Compute/References/computeshapes.htm)"
)
OCI_MEM = (
    "Oracle Cloud, GPU memory cluster and memory fabric: NVLink across GB200/GB300 hosts is for "
    "Dedicated Capacity customers only (docs.oracle.com/iaas/Content/Compute/Concepts/"
    "gpu-memory-fabric.htm)"
)
NEBIUS = (
    "Nebius AI Cloud docs, GPU platforms and GPU clusters with InfiniBand (docs.nebius.com/"
    "compute/clusters/gpu); MLPerf Inference v6.0 system description nebius_b200_n1 (8x "
    "ConnectX-7 IB NDR 400 Gb/s)"
)
LAMBDA = (
    "Lambda docs, on-demand instance types and 1-Click Clusters (InfiniBand only in 1-Click "
    "Clusters) (docs.lambda.ai)"
)
VERDA = "Verda (ex-DataCrunch) docs, instance types and Instant Clusters (docs.verda.com)"
HYPERSTACK = (
    "Hyperstack docs, GPU flavours: PCIe, PCIe with NVLink bridges, SXM5 (docs.hyperstack.cloud)"
)
NVIDIA_BRIDGE = (
    "NVIDIA A100 PCIe / H100 PCIe data sheets: an NVLink bridge joins two cards at 600 GB/s"
)

# ----------------------------------------------------------------------------- the table

_NONE_1 = "one accelerator per node"


def _t(
    scale_up: str,
    gb_per_s: float | None,
    fabric: str,
    gbps: float,
    source: str,
    *,
    documented: bool = True,
    note: str = "",
) -> Topology:
    return Topology(scale_up, gb_per_s, fabric, gbps, source, documented, note)


RULES: tuple[TopologyRule, ...] = tuple(
    TopologyRule(provider, pattern, topology)
    for provider, pattern, topology in (
        # ---------------------------------------------------------------- AWS
        ("aws", r"p4de?\.24xlarge", _t("nvswitch", 600, "efa", 400, AWS_P4)),
        ("aws", r"p5e?n?\.48xlarge", _t("nvswitch", 900, "efa", 3200, AWS_P5)),
        (
            "aws",
            r"p5\.4xlarge",
            _t(
                "none",
                None,
                "",
                0,
                AWS_P5,
                documented=False,
                note="one H100 with 100 Gbit/s networking; EFA on this size is not confirmed, so "
                "no fabric is assumed",
            ),
        ),
        ("aws", r"p6-b200\.48xlarge", _t("nvswitch", 1800, "efa", 3200, AWS_P6)),
        ("aws", r"p6-b300\.48xlarge", _t("nvswitch", 1800, "efa", 6400, AWS_P6)),
        (
            "aws",
            r"trn1\.2xlarge",
            _t("none", None, "", 0, AWS_TRN1, note="EFA is not available on the small sizes"),
        ),
        ("aws", r"trn1\.32xlarge", _t("neuronlink", None, "efa", 800, AWS_TRN1)),
        ("aws", r"trn1n\.32xlarge", _t("neuronlink", None, "efa", 1600, AWS_TRN1)),
        ("aws", r"trn2\.48xlarge", _t("neuronlink", None, "efa", 3200, AWS_TRN2)),
        (
            "aws",
            r"trn2\.3xlarge",
            _t(
                "none",
                None,
                "",
                0,
                AWS_TRN2,
                documented=False,
                note="one Trainium2 chip; no EFA assumed, as for trn1.2xlarge",
            ),
        ),
        ("aws", r"inf2\.(?:x|8x)large", _t("none", None, "", 0, AWS_INF2, note=_NONE_1)),
        (
            "aws",
            r"inf2\.(?:24|48)xlarge",
            _t("neuronlink", None, "", 0, AWS_INF2, note="chips in a NeuronLink ring; no EFA"),
        ),
        # ---------------------------------------------------------------- Azure
        (
            "azure",
            r"Standard_ND96a?m?sr(?:_A100)?_v4",
            _t("nvswitch", 600, "infiniband", 1600, AZ_ND),
        ),
        ("azure", r"Standard_ND96isr_H[12]00_v5", _t("nvswitch", 900, "infiniband", 3200, AZ_ND)),
        (
            "azure",
            r"Standard_ND96isr_MI300X_v5",
            _t("infinity-fabric", 896, "infiniband", 3200, AZ_ND),
        ),
        ("azure", r"Standard_NC24ads_A100_v4", _t("none", None, "", 0, AZ_NC, note=_NONE_1)),
        (
            "azure",
            r"Standard_NC(?:48|96)ads_A100_v4",
            _t(
                "pcie",
                None,
                "",
                0,
                AZ_NC,
                documented=False,
                note="A100 PCIe cards; no NVLink bridge is documented, so PCIe is assumed",
            ),
        ),
        ("azure", r"Standard_NCC?40ads_H100_v5", _t("none", None, "", 0, AZ_NC, note=_NONE_1)),
        (
            "azure",
            r"Standard_NC80adis_H100_v5",
            _t(
                "nvlink-bridge",
                600,
                "",
                0,
                AZ_NC,
                documented=False,
                note="two H100 NVL cards, which NVIDIA sells as a bridged pair (600 GB/s); the "
                "bridge is inferred from the NVL part",
            ),
        ),
        (
            "azure",
            r"Standard_NC(?:8|16)ads_A10_v4|Standard_NV36adm?s_A10_v5",
            _t("none", None, "", 0, f"{AZ_NC}; {AZ_NV}", note=_NONE_1),
        ),
        (
            "azure",
            r"Standard_NC32ads_A10_v4|Standard_NV72ads_A10_v5",
            _t("pcie", None, "", 0, f"{AZ_NC}; {AZ_NV}", note="A10 has no NVLink"),
        ),
        # ---------------------------------------------------------------- GCP
        ("gcp", r"a2-(?:high|ultra)gpu-1g", _t("none", None, "", 0, GCP_NET, note=_NONE_1)),
        (
            "gcp",
            r"a2-(?:highgpu-[248]g|ultragpu-[248]g|megagpu-16g)",
            _t(
                "nvswitch",
                600,
                "",
                0,
                GCP_NET,
                note="A2: NVLink full mesh, up to 100 Gbit/s networking without a GPU fabric",
            ),
        ),
        (
            "gcp",
            r"a3-highgpu-8g",
            _t(
                "nvswitch",
                900,
                "gpudirect-tcpx",
                800,
                GCP_NET,
                note="four 200 Gbit/s GPU NICs (1,000 Gbit/s with the primary NIC)",
            ),
        ),
        ("gcp", r"a3-highgpu-1g", _t("none", None, "", 0, GCP_NET, note=_NONE_1)),
        (
            "gcp",
            r"a3-highgpu-[24]g",
            _t(
                "nvswitch",
                900,
                "",
                0,
                GCP_NET,
                documented=False,
                note="part of an HGX H100 board (NVSwitch inferred); GPUDirect-TCPX is documented "
                "for a3-highgpu-8g only",
            ),
        ),
        (
            "gcp",
            r"a3-edgegpu-8g(?:-nolssd)?",
            _t(
                "nvswitch",
                900,
                "gpudirect-tcpx",
                400,
                GCP_NET,
                documented=False,
                note="GCP gives A3 Edge 600-800 Gbit/s in total including the primary NIC; the "
                "GPU NICs' share is taken as 400 Gbit/s",
            ),
        ),
        (
            "gcp",
            r"a3-megagpu-8g",
            _t("nvswitch", 900, "gpudirect-tcpxo", 1600, GCP_NET, note="eight 200 Gbit/s GPU NICs"),
        ),
        (
            "gcp",
            r"a3-ultragpu-8g(?:-nolssd)?",
            _t(
                "nvswitch", 900, "roce", 3200, GCP_NET, note="eight ConnectX-7 NICs, GPUDirect RDMA"
            ),
        ),
        (
            "gcp",
            r"a4-highgpu-8g",
            _t(
                "nvswitch",
                1800,
                "roce",
                3200,
                GCP_NET,
                note="eight ConnectX-7 NICs, GPUDirect RDMA",
            ),
        ),
        ("gcp", r"g2-standard-(?:4|8|12|16|32)", _t("none", None, "", 0, GCP_NET, note=_NONE_1)),
        (
            "gcp",
            r"g2-standard-(?:24|48|96)",
            _t("pcie", None, "", 0, GCP_NET, note="L4 has no NVLink"),
        ),
        ("gcp", r"tpu-v5litepod-1|tpu-v6e-1", _t("none", None, "", 0, GCP_TPU, note="one chip")),
        ("gcp", r"tpu-v5litepod-(?:[2-9]|1\d)\d*", _t("ici", 200, "", 0, GCP_TPU)),
        ("gcp", r"tpu-v6e-(?:[2-9]|1\d)\d*", _t("ici", 448, "", 0, GCP_TPU)),
        ("gcp", r"tpu-v5p-\d+", _t("ici", 600, "", 0, GCP_TPU)),
        # ---------------------------------------------------------------- OCI
        ("oci", r"BM\.GPU4\.8|BM\.GPU\.A100-v2\.8", _t("nvswitch", 600, "roce", 1600, OCI_GPU)),
        ("oci", r"BM\.GPU\.H[12]00\.8", _t("nvswitch", 900, "roce", 3200, OCI_GPU)),
        (
            "oci",
            r"BM\.GPU\.B200\.8",
            _t(
                "nvswitch",
                1800,
                "roce",
                3200,
                OCI_GPU,
                documented=False,
                note="cluster network bandwidth taken from the H200 shape (8 x 400 Gbit/s)",
            ),
        ),
        (
            "oci",
            r"BM\.GPU\.B300\.8",
            _t(
                "nvswitch",
                1800,
                "roce",
                6400,
                OCI_GPU,
                documented=False,
                note="ConnectX-8 (8 x 800 Gbit/s) inferred from the HGX B300 reference design",
            ),
        ),
        (
            "oci",
            r"BM\.GPU\.GB[23]00\.4",
            _t(
                "nvswitch",
                1800,
                "roce",
                1600,
                f"{OCI_GPU}; {OCI_MEM}",
                documented=False,
                note="the node as sold is 4 GPUs; NVLink across the NVL72 rack needs Dedicated "
                "Capacity and is not modelled; 4 x 400 Gbit/s cluster network assumed",
            ),
        ),
        (
            "oci",
            r"BM\.GPU\.MI(?:300|355)X\.8",
            _t(
                "infinity-fabric",
                None,
                "roce",
                3200,
                OCI_GPU,
                documented=False,
                note="8 x 400 Gbit/s cluster network inferred from the other 8-GPU shapes",
            ),
        ),
        (
            "oci",
            r"BM\.GPU\.L40S\.4",
            _t(
                "pcie",
                None,
                "roce",
                800,
                OCI_GPU,
                documented=False,
                note="L40S has no NVLink; 2 x 400 Gbit/s cluster network assumed",
            ),
        ),
        (
            "oci",
            r"BM\.GPU\.A10\.4",
            _t(
                "pcie",
                None,
                "",
                0,
                OCI_GPU,
                documented=False,
                note="A10 has no NVLink; no cluster network is documented for this shape",
            ),
        ),
        ("oci", r"VM\.GPU\.A10\.1", _t("none", None, "", 0, OCI_GPU, note=_NONE_1)),
        ("oci", r"VM\.GPU\.A10\.2", _t("pcie", None, "", 0, OCI_GPU, note="A10 has no NVLink")),
        # ---------------------------------------------------------------- Nebius
        (
            "nebius",
            r"gpu-h[12]00-sxm_8gpu-[a-z0-9-]+",
            _t("nvswitch", 900, "infiniband", 3200, NEBIUS, note="in a GPU cluster"),
        ),
        (
            "nebius",
            r"gpu-b200-sxm_8gpu-[a-z0-9-]+",
            _t("nvswitch", 1800, "infiniband", 3200, NEBIUS, note="in a GPU cluster"),
        ),
        (
            "nebius",
            r"gpu-[a-z0-9-]+_1gpu-[a-z0-9-]+",
            _t("none", None, "", 0, NEBIUS, note=_NONE_1),
        ),
        (
            "nebius",
            r"gpu-l40s-[ad]_[24]gpu-[a-z0-9-]+",
            _t("pcie", None, "", 0, NEBIUS, note="L40S has no NVLink"),
        ),
        # ---------------------------------------------------------------- Lambda
        ("lambda", r"gpu_1x_[a-z0-9_]+", _t("none", None, "", 0, LAMBDA, note=_NONE_1)),
        (
            "lambda",
            r"gpu_8x_(?:a100|a100_80gb_sxm4)",
            _t("nvswitch", 600, "", 0, LAMBDA, note="on-demand: no InfiniBand"),
        ),
        (
            "lambda",
            r"gpu_8x_h100_sxm5",
            _t("nvswitch", 900, "", 0, LAMBDA, note="on-demand: no InfiniBand"),
        ),
        (
            "lambda",
            r"gpu_8x_b200_sxm6",
            _t("nvswitch", 1800, "", 0, LAMBDA, note="on-demand: no InfiniBand"),
        ),
        (
            "lambda",
            r"gpu_[24]x_(?:h100_sxm5|b200_sxm6)",
            _t(
                "nvswitch",
                None,
                "",
                0,
                LAMBDA,
                documented=False,
                note="part of an HGX board (NVSwitch inferred); on-demand: no InfiniBand",
            ),
        ),
        (
            "lambda",
            r"gpu_[24]x_a100",
            _t(
                "pcie",
                None,
                "",
                0,
                LAMBDA,
                documented=False,
                note="A100 PCIe cards; no NVLink bridge documented",
            ),
        ),
        # ---------------------------------------------------------------- Verda
        ("verda", r"1[A-Z0-9]+(?:\.\d+[A-Z]+)+", _t("none", None, "", 0, VERDA, note=_NONE_1)),
        (
            "verda",
            r"[248](?:A100|H100|H200|B200|B300)(?:\.\d+[A-Z]+)+",
            _t(
                "nvswitch",
                None,
                "",
                0,
                VERDA,
                documented=False,
                note="SXM GPUs of one HGX board (NVSwitch inferred); on-demand: no InfiniBand "
                "(Instant Clusters are separate)",
            ),
        ),
        # ---------------------------------------------------------------- Hyperstack
        ("hyperstack", r"n3-[A-Za-z0-9-]+x1", _t("none", None, "", 0, HYPERSTACK, note=_NONE_1)),
        (
            "hyperstack",
            r"n3-(?:A100|H100|L40)x[248]",
            _t("pcie", None, "", 0, HYPERSTACK, note="PCIe cards without bridges"),
        ),
        (
            "hyperstack",
            r"n3-(?:A100|H100)x8-NVLink",
            _t(
                "nvlink-bridge",
                600,
                "",
                0,
                f"{HYPERSTACK}; {NVIDIA_BRIDGE}",
                note="NVLink bridges join the cards in pairs; pairs talk over PCIe",
            ),
        ),
        (
            "hyperstack",
            r"n3-H100-SXM5x8",
            _t(
                "nvswitch",
                900,
                "",
                0,
                HYPERSTACK,
                documented=False,
                note="on-demand SXM5 VMs: InfiniBand only in reserved Supercloud clusters",
            ),
        ),
    )
)

UNKNOWN = Topology("", None, "", 0.0, "", documented=False, note="no entry in the topology table")


def topology_for(provider: str, instance_type: str) -> tuple[Topology, tuple[str, ...]]:
    """The topology of an instance type and the flags it puts on its offerings: none when
    documented, ``topology-assumed`` when inferred, ``topology-unknown`` without an entry."""
    for rule in RULES:
        if rule.matches(provider, instance_type):
            flags = () if rule.topology.documented else (FLAG_TOPOLOGY_ASSUMED,)
            return rule.topology, flags
    return UNKNOWN, (FLAG_TOPOLOGY_UNKNOWN,)
