"""What a snapshot holds and what it assumes: the data behind ``archipel catalog report``.

:func:`catalog_report` (pure) counts per provider, the flagged rows per flag with each flag's
meaning and remedy (:mod:`archipel.catalog.flags`), the source rows the build rejected by reason
and the accelerator names it folded onto chips (both from the manifest), the chips of one's own
it holds (rows flagged ``accelerator-declared``, whose facts a spec must declare), and topology
coverage: the share of offerings whose scale-up link is known, whose topology is documented rather
than assumed, and that have a scale-out fabric.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from archipel.catalog.flags import EXCLUDE_HINT, FLAG_ACCELERATOR_DECLARED, FLAGS
from archipel.catalog.model import Catalog, FoldedName, RejectedRow
from archipel.catalog.topology import FLAG_TOPOLOGY_ASSUMED, FLAG_TOPOLOGY_UNKNOWN


@dataclass(frozen=True, slots=True)
class ProviderCounts:
    provider: str
    offerings: int
    regions: int  # regions with at least one offering
    accelerators: int
    flagged: int


@dataclass(frozen=True, slots=True)
class FlagCount:
    flag: str
    rows: int
    meaning: str
    remedy: str


@dataclass(frozen=True, slots=True)
class DeclaredChip:
    """A chip of one's own in the snapshot: its offerings and the providers that sell it."""

    accelerator: str
    offerings: int
    providers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Coverage:
    offerings: int
    scale_up_known: int  # scale_up not empty
    documented: int  # neither topology-assumed nor topology-unknown
    with_fabric: int

    def share(self, n: int) -> float:
        return n / self.offerings if self.offerings else 0.0


@dataclass(frozen=True)
class CatalogReport:
    providers: tuple[ProviderCounts, ...]
    flags: tuple[FlagCount, ...]
    flagged_rows: int
    offerings: int
    rejected_by_reason: tuple[tuple[str, int], ...]  # most frequent first
    rejected: tuple[RejectedRow, ...]
    folded: tuple[FoldedName, ...]
    coverage: Coverage
    declared: tuple[DeclaredChip, ...] = ()  # chips whose facts the planning spec declares

    def to_json(self) -> dict[str, Any]:
        c = self.coverage
        return {
            "offerings": self.offerings,
            "providers": [
                {
                    "id": p.provider,
                    "offerings": p.offerings,
                    "regions": p.regions,
                    "accelerators": p.accelerators,
                    "flagged": p.flagged,
                }
                for p in self.providers
            ],
            "flagged_rows": self.flagged_rows,
            "flags": [
                {"flag": f.flag, "rows": f.rows, "meaning": f.meaning, "remedy": f.remedy}
                for f in self.flags
            ],
            "how_to_avoid": EXCLUDE_HINT,
            "rejected": {
                "total": len(self.rejected),
                "by_reason": [{"reason": r, "rows": n} for r, n in self.rejected_by_reason],
                "rows": [
                    {"file": r.file, "line": r.line, "reason": r.reason} for r in self.rejected
                ],
            },
            "folded": [
                {
                    "provider": f.provider,
                    "source_name": f.source_name,
                    "accelerator": f.accelerator,
                    "instance_types": list(f.instance_types),
                    "rows": f.rows,
                }
                for f in self.folded
            ],
            "declared_accelerators": [
                {
                    "accelerator": d.accelerator,
                    "offerings": d.offerings,
                    "providers": list(d.providers),
                }
                for d in self.declared
            ],
            "topology": {
                "offerings": c.offerings,
                "scale_up_known": c.scale_up_known,
                "scale_up_known_share": round(c.share(c.scale_up_known), 4),
                "documented": c.documented,
                "documented_share": round(c.share(c.documented), 4),
                "with_fabric": c.with_fabric,
                "with_fabric_share": round(c.share(c.with_fabric), 4),
            },
        }


def catalog_report(catalog: Catalog) -> CatalogReport:
    """The report of a snapshot (see the module doc)."""
    offerings = catalog.offerings
    providers = []
    for pid in sorted({o.provider for o in offerings}):
        mine = [o for o in offerings if o.provider == pid]
        providers.append(
            ProviderCounts(
                pid,
                len(mine),
                len({o.region for o in mine}),
                len({o.accelerator for o in mine}),
                sum(1 for o in mine if o.flags),
            )
        )
    per_flag = Counter(f for o in offerings for f in o.flags)
    flags = tuple(
        FlagCount(name, per_flag[name], info.meaning, info.remedy)
        for name, info in FLAGS.items()
        if per_flag[name]
    )
    m = catalog.manifest
    by_reason = Counter(r.reason for r in m.rejected)
    topology_flags = {FLAG_TOPOLOGY_ASSUMED, FLAG_TOPOLOGY_UNKNOWN}
    coverage = Coverage(
        len(offerings),
        sum(1 for o in offerings if o.scale_up),
        sum(1 for o in offerings if not topology_flags & set(o.flags)),
        sum(1 for o in offerings if o.fabric),
    )
    declared = [o for o in offerings if FLAG_ACCELERATOR_DECLARED in o.flags]
    chips = tuple(
        DeclaredChip(
            name,
            sum(1 for o in declared if o.accelerator == name),
            tuple(sorted({o.provider for o in declared if o.accelerator == name})),
        )
        for name in sorted({o.accelerator for o in declared})
    )
    return CatalogReport(
        tuple(providers),
        flags,
        sum(1 for o in offerings if o.flags),
        len(offerings),
        tuple(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        m.rejected,
        m.folded,
        coverage,
        chips,
    )
