"""Accelerator spec-sheet facts and the names catalogs use for them.

Figures are per chip (per GPU, per Trainium/Inferentia chip, per TPU chip), dense (no sparsity)
BF16 tensor throughput, from each vendor's public data sheet (sparsity figures halved):

- NVIDIA A100 data sheet (2021): 312 TFLOP/s BF16 for every A100; SXM4 40 GB HBM2 at 1.555 TB/s,
  SXM4 80 GB HBM2e at 2.039 TB/s; PCIe 40 GB at 1.555 TB/s, PCIe 80 GB at 1.935 TB/s.
- NVIDIA H100 data sheet: SXM 989 TFLOP/s BF16 dense, 80 GB HBM3, 3.35 TB/s; PCIe 756 TFLOP/s,
  80 GB HBM2e, 2.0 TB/s; NVL 835 TFLOP/s, 94 GB HBM3, 3.9 TB/s (per GPU of an NVL pair).
- NVIDIA GH200 Grace Hopper Superchip data sheet: 989 TFLOP/s BF16 dense, 96 GB HBM3, 4 TB/s
  (the 96 GB version Lambda rents as gpu_1x_gh200).
- NVIDIA H200 SXM product brief: 989 TFLOP/s BF16 dense, 141 GB HBM3e, 4.8 TB/s.
- NVIDIA DGX B200 / HGX B200 spec: 2.25 PFLOP/s BF16 dense per GPU, 180 GB usable HBM3e, 8 TB/s.
- NVIDIA Blackwell Ultra (B300/GB300) spec: 288 GB HBM3e, 8 TB/s; GB200 NVL72: 186 GB, 2.5 PFLOP/s.
- NVIDIA L40S data sheet: 362 TFLOP/s BF16 dense, 48 GB GDDR6, 0.864 TB/s; L40 data sheet: 181
  TFLOP/s, 48 GB GDDR6, 0.864 TB/s; L4: 121, 24 GB, 0.3 TB/s; A10: 125 TFLOP/s, 24 GB, 0.6 TB/s.
- AMD Instinct MI300X data sheet: 1307 TFLOP/s BF16 dense, 192 GB HBM3, 5.3 TB/s;
  MI355X: 2.3 PFLOP/s BF16 dense, 288 GB HBM3E, 8 TB/s.
- AWS Trainium (trn1): 190 TFLOP/s BF16, 32 GB HBM, 0.82 TB/s; Trainium2 (trn2): 667 TFLOP/s BF16
  dense, 96 GB HBM, 2.9 TB/s; Inferentia2 (inf2): 190 TFLOP/s BF16, 32 GB HBM, 0.82 TB/s.
- Google Cloud TPU docs: v5e 197 TFLOP/s BF16, 16 GB HBM2, 0.819 TB/s; v5p 459 TFLOP/s, 95 GB HBM2e,
  2.765 TB/s; v6e (Trillium) 918 TFLOP/s, 32 GB HBM, 1.64 TB/s.

Memory is given in GiB as catalogs report it (GB figures taken as GiB where the sheet rounds).

PCIe cards are their own accelerators (``H100-PCIe``, ``H100-NVL``, ``A100-PCIe``,
``A100-80GB-PCIe``): slower, and joined by PCIe or NVLink bridges instead of NVSwitch. A catalog
often names them like the SXM part (Lambda's ``gpu_1x_h100_pcie`` row says ``H100``; Azure's NC
H100 v5 rows say ``H100`` for an H100 NVL), so :func:`offering_accelerator` refines the name by
instance type (:data:`INSTANCE_VARIANTS`). GCP's ``H100-MEGA`` (a3-megagpu-8g) is the SXM H100: its
difference is its fabric (:mod:`archipel.catalog.topology`), not its chip.

Not in the table: pre-Ampere GPUs (V100, T4, P100, P4, K80, M60, MI25) and workstation or
consumer cards (RTX A4000/A6000, RTX 6000 Ada, RTX PRO 6000, GeForce); catalogs that list them
have those rows skipped with a counted reason. The A10G (AWS g5) is not in the shipped catalogs;
declare it in a spec (``accelerators:``) to plan with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archipel.catalog.model import suggest
from archipel.errors import UnknownNameError


@dataclass(frozen=True, slots=True)
class Accelerator:
    name: str
    vendor: str
    mem_gib: float
    bf16_tflops: float  # dense BF16 tensor peak per chip
    mem_bw_tb_per_s: float
    kind: str = "gpu"  # gpu | trainium | inferentia | tpu


ACCELERATORS: dict[str, Accelerator] = {
    a.name: a
    for a in (
        Accelerator("A100", "NVIDIA", 40, 312, 1.555),
        Accelerator("A100-80GB", "NVIDIA", 80, 312, 2.039),
        Accelerator("A100-PCIe", "NVIDIA", 40, 312, 1.555),
        Accelerator("A100-80GB-PCIe", "NVIDIA", 80, 312, 1.935),
        Accelerator("H100", "NVIDIA", 80, 989, 3.35),
        Accelerator("H100-PCIe", "NVIDIA", 80, 756, 2.0),
        Accelerator("H100-NVL", "NVIDIA", 94, 835, 3.9),
        Accelerator("GH200", "NVIDIA", 96, 989, 4.0),
        Accelerator("H200", "NVIDIA", 141, 989, 4.8),
        Accelerator("B200", "NVIDIA", 180, 2250, 8.0),
        Accelerator("B300", "NVIDIA", 288, 2250, 8.0),
        Accelerator("GB200", "NVIDIA", 186, 2500, 8.0),
        Accelerator("GB300", "NVIDIA", 288, 2500, 8.0),
        Accelerator("L40S", "NVIDIA", 48, 362, 0.864),
        Accelerator("L40", "NVIDIA", 48, 181, 0.864),
        Accelerator("L4", "NVIDIA", 24, 121, 0.3),
        Accelerator("A10", "NVIDIA", 24, 125, 0.6),
        Accelerator("MI300X", "AMD", 192, 1307, 5.3),
        Accelerator("MI355X", "AMD", 288, 2300, 8.0),
        Accelerator("Trainium", "AWS", 32, 190, 0.82, "trainium"),
        Accelerator("Trainium2", "AWS", 96, 667, 2.9, "trainium"),
        Accelerator("Inferentia2", "AWS", 32, 190, 0.82, "inferentia"),
        Accelerator("TPU-v5e", "Google", 16, 197, 0.819, "tpu"),
        Accelerator("TPU-v5p", "Google", 95, 459, 2.765, "tpu"),
        Accelerator("TPU-v6e", "Google", 32, 918, 1.64, "tpu"),
    )
}

# Names catalogs use for the same chip (case-insensitive keys).
_ALIASES: dict[str, str] = {
    "a100-40gb": "A100",
    "a100-sxm4": "A100",
    "a100-80g": "A100-80GB",
    "a100-80gb-sxm4": "A100-80GB",
    "a100-pcie-40gb": "A100-PCIe",
    "a100-80g-pcie": "A100-80GB-PCIe",  # Hyperstack
    "a100-80g-pcie-nvlink": "A100-80GB-PCIe",  # Hyperstack: PCIe cards with NVLink bridges
    "h100-mega": "H100",  # GCP a3-megagpu-8g: the SXM H100 on a faster fabric
    "h100-sxm": "H100",
    "h100-80gb": "H100",
    "h100-sxm5": "H100",
    "h100-80g-sxm5": "H100",  # Hyperstack
    "h100-80g-pcie": "H100-PCIe",  # Hyperstack
    "h100-80g-pcie-nvlink": "H100-PCIe",  # Hyperstack: PCIe cards with NVLink bridges
    "h100-nvl-94gb": "H100-NVL",
    "h200-sxm": "H200",
    "b200-sxm": "B200",
    "trainium1": "Trainium",
    "trn1": "Trainium",
    "trn2": "Trainium2",
    "inf2": "Inferentia2",
    "tpu-v5litepod": "TPU-v5e",
    "tpu-v5e": "TPU-v5e",
    "tpu-v5p": "TPU-v5p",
    "tpu-v6e": "TPU-v6e",
}

# (provider, instance-type pattern, chip the catalog names, chip it is, source): catalogs that
# name a PCIe or NVL card like the SXM part, told apart by instance type.
INSTANCE_VARIANTS: tuple[tuple[str, re.Pattern[str], str, str, str], ...] = tuple(
    (provider, re.compile(pattern), named, actual, source)
    for provider, pattern, named, actual, source in (
        (
            "lambda",
            r"gpu_1x_h100_pcie",
            "H100",
            "H100-PCIe",
            "Lambda instance types: gpu_1x_h100_pcie is 1x H100 (80 GB PCIe)",
        ),
        (
            "lambda",
            r"gpu_[124]x_a100",
            "A100",
            "A100-PCIe",
            "Lambda instance types: gpu_1x/2x/4x_a100 are A100 (40 GB PCIe); the _sxm4 and 8x "
            "types are SXM4",
        ),
        (
            "azure",
            r"Standard_NC\d+ads_A100_v4",
            "A100-80GB",
            "A100-80GB-PCIe",
            "Azure NC A100 v4-series: NVIDIA A100 80GB PCIe",
        ),
        (
            "azure",
            r"Standard_NCC?\d+adi?s_H100_v5",
            "H100",
            "H100-NVL",
            "Azure NCads H100 v5 / NCCads H100 v5-series: NVIDIA H100 NVL (94 GB)",
        ),
    )
)
_TPU_SLICE = re.compile(r"^(tpu-v\d+[a-z]*?(?:litepod)?)-(\d+)$", re.IGNORECASE)


def canonical_name(name: str) -> str | None:
    """The facts table's name for a catalog's accelerator name, or None when it is not known.

    TPU slice names (``tpu-v5litepod-8``) map to their chip (``TPU-v5e``).
    """
    if name in ACCELERATORS:
        return name
    low = name.strip().lower()
    for known in ACCELERATORS:
        if known.lower() == low:
            return known
    if low in _ALIASES:
        return _ALIASES[low]
    m = _TPU_SLICE.match(low)
    if m:
        return _ALIASES.get(m.group(1).lower())
    return None


def tpu_slice_chips(name: str) -> int | None:
    """Chips in a TPU slice name such as ``tpu-v5p-128`` (None when not a TPU slice name).

    GCP names v5p slices by TensorCores (two per chip); v5e/v6e slices by chips.
    """
    m = _TPU_SLICE.match(name.strip())
    if not m:
        return None
    n = int(m.group(2))
    return n // 2 if m.group(1).lower() == "tpu-v5p" else n


def accelerator(name: str) -> Accelerator:
    """Facts for an accelerator by any known name; unknown names raise with suggestions."""
    canon = canonical_name(name)
    if canon is None:
        raise UnknownNameError("accelerator", name, suggest(name, ACCELERATORS))
    return ACCELERATORS[canon]


def offering_accelerator(provider: str, instance_type: str, name: str) -> str | None:
    """The chip of a catalog row: its accelerator name, refined by instance type where the
    catalog names a PCIe or NVL card like the SXM part (:data:`INSTANCE_VARIANTS`).

    None when the name is not in the facts table."""
    canon = canonical_name(name)
    if canon is None:
        return None
    for variant_provider, pattern, named, actual, _ in INSTANCE_VARIANTS:
        if variant_provider == provider and canon == named and pattern.fullmatch(instance_type):
            return actual
    return canon


def fold_key(name: str) -> str:
    """How a source name is listed among folded names: TPU slice sizes collapse to one entry
    (``tpu-v5litepod-8`` → ``tpu-v5litepod-*``)."""
    m = _TPU_SLICE.match(name.strip())
    return f"{m.group(1)}-*" if m else name
