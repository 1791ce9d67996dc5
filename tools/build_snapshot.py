"""Build the catalog snapshot shipped in ``src/archipel/catalog/data/`` from the public data.

    python tools/build_snapshot.py [SHARED_DATA_DIR] [--out DIR]

SHARED_DATA_DIR defaults to ``../shared/data`` beside the repository. The importer
(:mod:`archipel.catalog.importer`) reads every catalog under ``SHARED_DATA_DIR/catalogs``; this
script then curates what the planner ships with:

- Providers: aws, azure, gcp, oci, nebius, lambda, verda, hyperstack. Vast.ai is left out: its
  rows are single marketplace hosts (one machine each, community-run, no SLA, located only to a
  state or country, gone when rented), so neither capacity nor data residency can be planned on
  them. ``archipel catalog import`` still reads Vast files.
- Accelerators: those in the facts table (archipel.perf.accelerators), which the importer already
  enforces; TPU v5p slices are kept up to 128 chips (``tpu-v5p-256``; GCP sells slices up to
  6,144 chips, 94 sizes × 12 zones), which keeps the file small and covers single-job pod slices.
- OCI: the shared data holds one region's block (us-sanjose-1). OCI's list prices are the same in
  every commercial region, so the block is replicated to OCI's main GPU regions
  (:data:`OCI_GPU_REGIONS`). Not every shape is sold in every one of them: the copies are flagged
  ``availability-assumed`` (the us-sanjose-1 rows are the source's own and carry no such flag).
- Topology, spot terms and flags come with the import (:mod:`archipel.catalog.annotate`).
- The manifest records every source row the import rejected (file relative to SHARED_DATA_DIR,
  line, reason) and every accelerator name it folded onto a chip, for ``archipel catalog report``.

The script checks that every file's rows balance (read = kept + skipped + rejected), that every
offering's region has facts, and that the required accelerators are covered, then writes the
snapshot with a fresh hash and prints a one-line summary per file.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
try:
    import archipel  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO / "src"))

from archipel.catalog.annotate import merge_flags  # noqa: E402
from archipel.catalog.flags import FLAG_AVAILABILITY_ASSUMED  # noqa: E402
from archipel.catalog.importer import ImportReport, import_paths  # noqa: E402
from archipel.catalog.model import FoldedName, Offering, RejectedRow  # noqa: E402
from archipel.catalog.regions import PROVIDERS, load_cloud_regions, neocloud_regions  # noqa: E402
from archipel.catalog.snapshot import build_catalog, save_snapshot  # noqa: E402
from archipel.perf.accelerators import tpu_slice_chips  # noqa: E402

KEPT_PROVIDERS = ("aws", "azure", "gcp", "oci", "nebius", "lambda", "verda", "hyperstack")
OCI_BLOCK_REGION = "us-sanjose-1"
OCI_GPU_REGIONS = (
    "us-ashburn-1",
    "us-chicago-1",
    "us-phoenix-1",
    "us-sanjose-1",
    "eu-frankfurt-1",
    "uk-london-1",
    "ap-tokyo-1",
)
MAX_TPU_V5P_CHIPS = 128
REQUIRED_ACCELERATORS = (
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
)
CAPTURED = "2026-05-20"
SOURCE = (
    "SkyPilot-format vms.csv catalogs: skypilot-org/skypilot-catalog v8 (aws accelerator subset "
    "@ 00148f2a, oci us-sanjose-1 block @ 05887511, nebius, verda, hyperstack); "
    "anycloud-sh/catalog (azure accelerator rows and gcp @ 62ff0a98, lambda @ 4c061026). "
    "Regions: botocore endpoints.json (Apache-2.0), dgl/cloud-regions @ 69868bfe (ODbL-1.0), "
    "Archipel's curated region facts (archipel/catalog/regions.py)."
)


def curate(offerings: tuple[Offering, ...]) -> list[Offering]:
    """Keep the shipped providers and small v5p slices; replicate OCI's block to its regions."""
    kept: list[Offering] = []
    for o in offerings:
        if o.provider not in KEPT_PROVIDERS:
            continue
        if (
            o.accelerator == "TPU-v5p"
            and (tpu_slice_chips(o.instance_type) or 0) > MAX_TPU_V5P_CHIPS
        ):
            continue
        if o.provider == "oci" and o.region == OCI_BLOCK_REGION:
            copied = merge_flags(o.flags, (FLAG_AVAILABILITY_ASSUMED,))
            kept += [
                replace(o, region=r, flags=o.flags if r == OCI_BLOCK_REGION else copied)
                for r in OCI_GPU_REGIONS
            ]
        elif o.provider != "oci":
            kept.append(o)
    return kept


def provenance(
    report: ImportReport, data: Path, shipped: list[Offering]
) -> tuple[tuple[RejectedRow, ...], tuple[FoldedName, ...]]:
    """What the import rejected (files relative to ``data``) and folded, for the manifest.

    A folded name lists the shipped instance types it was read on; its row count is of source
    rows (TPU v5p slices over the shipped size included)."""
    rejected = tuple(
        replace(r, file=Path(r.file).relative_to(data).as_posix())
        for f in report.files
        if f.provider in KEPT_PROVIDERS
        for r in f.rejected
    )
    types = {(o.provider, o.instance_type) for o in shipped}
    folded = tuple(
        replace(n, instance_types=tuple(t for t in n.instance_types if (n.provider, t) in types))
        for n in report.folded
        if n.provider in KEPT_PROVIDERS
    )
    return rejected, folded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "src" / "archipel" / "catalog" / "data")
    args = parser.parse_args(argv)

    report = import_paths([args.data / "catalogs"])
    for f in report.files:
        print(
            f"{f.file}: read {f.rows_read}, kept {f.rows_kept}, skipped {f.rows_skipped}, "
            f"rejected {len(f.rejected)}, offerings {f.offerings}"
        )
        if not f.balanced:
            print(f"error: {f.file}: rows do not balance", file=sys.stderr)
            return 1
    offerings = curate(report.offerings)
    regions = [
        r
        for r in (
            *load_cloud_regions(args.data / "regions" / "cloud_regions.csv"),
            *neocloud_regions(),
        )
        if r.provider in KEPT_PROVIDERS
    ]
    known = {r.id for r in regions}
    missing = sorted({o.region_id for o in offerings} - known)
    if missing:
        print(f"error: offerings in regions without facts: {', '.join(missing)}", file=sys.stderr)
        return 1
    lacking = sorted(set(REQUIRED_ACCELERATORS) - {o.accelerator for o in offerings})
    if lacking:
        print(f"error: no offerings for {', '.join(lacking)}", file=sys.stderr)
        return 1
    notes = (
        f"Providers: {', '.join(KEPT_PROVIDERS)} (vast.ai left out: marketplace hosts). "
        f"OCI: the {OCI_BLOCK_REGION} list-price block replicated to {', '.join(OCI_GPU_REGIONS)} "
        "(OCI prices are uniform across regions; the copies outside us-sanjose-1 are flagged "
        "availability-assumed: that the shape is sold there is not known). "
        f"TPU v5p slices up to {MAX_TPU_V5P_CHIPS} chips. GCP GPU prices = host VM + accelerator "
        "rows; the a4-highgpu-8g host rows are 0.0 in the source, so they and their B200 rows are "
        "rejected (no GCP B200 offering). TPU prices are per slice. Topology: "
        "archipel.catalog.topology. Spot availability and interruptions: derived from "
        "skypilot-org/spot-traces @ 221da1ab (NSDI '24 \"Can't Be Late\"; AWS V100 figures as "
        "proxies in us-east-1, us-east-2, us-west-2, pooled defaults elsewhere), "
        "archipel.catalog.spot. Flags name every assumption (archipel catalog report). "
        "captured = date of the anycloud snapshot (2026-05-20)."
    )
    providers = [p for p in PROVIDERS if p.id in KEPT_PROVIDERS]
    rejected, folded = provenance(report, args.data, offerings)
    catalog = build_catalog(
        providers,
        regions,
        offerings,
        source=SOURCE,
        captured=CAPTURED,
        notes=notes,
        rejected=rejected,
        folded=folded,
    )
    manifest = save_snapshot(catalog, args.out)
    by_provider = Counter(o.provider for o in catalog.offerings)
    print(
        f"wrote {args.out}: {len(catalog.offerings)} offerings "
        f"({', '.join(f'{p} {n}' for p, n in sorted(by_provider.items()))}), "
        f"{len(catalog.regions)} regions, sha256 {manifest.content_sha256[:12]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
