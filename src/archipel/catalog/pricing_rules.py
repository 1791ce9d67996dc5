"""How catalog rows become priced offerings: the pricing rules behind the importer.

:mod:`archipel.catalog.importer` reads files and rows; this module turns structurally valid rows
(:class:`Row`) into offerings and records what became of every row (:class:`Tally`).

- Plain layouts (AWS, Azure, OCI, Lambda, Nebius, Verda, Hyperstack, Vast): one row is one node
  type in one zone or region, priced whole.
- GCP (SkyPilot's layout): host VM rows (no accelerator) plus accelerator rows with an empty
  InstanceType whose price is the total for AcceleratorCount GPUs in that zone. The GPU machine
  families bundle a fixed GPU count per machine type (:data:`GCP_GPU_MACHINES`, after SkyPilot's
  ``gcp_catalog`` and GCP's GPU machine-type docs). A GPU offering's node price is the host row's
  price plus the accelerator row's price, same zone and same purchase option: e.g. us-central1
  a2-highgpu-1g = 0.73948 (host vCPU+memory) + 2.93391 (one A100) = 3.67339 USD/h, GCP's list
  price for that machine type. A host row priced 0 or less is rejected (a zero price is a
  missing price, not a free machine: the a4-highgpu-8g host rows are 0.0 in the source), and so
  is an accelerator row whose zone has only rejected host rows (a GPU alone is not a machine), so
  no B200 machine appears at the price of its GPUs alone. A host row with SpotPrice 0 gives no
  spot offering.
- GCP TPUs: accelerator rows named by slice (``tpu-v5litepod-8``, ``tpu-v5p-16``, ``tpu-v6e-4``)
  are priced per slice, not per chip: tpu-v5litepod-1 is 1.2 and tpu-v5litepod-8 is 9.6 USD/h in
  us-central1 (1.2 per chip-hour, GCP's v5e list price); tpu-v5p-8 is 16.8 = 4 chips × 4.2. A
  slice is one node whose accelerator count is its chip count
  (:func:`archipel.perf.accelerators.tpu_slice_chips`; v5p names count TensorCores, 2 per chip).
- Zones collapse to their region: one offering per (provider, region, instance type, purchase
  option). On-demand: the zones' prices must agree; where they do not, the lowest is kept and the
  disagreement is written to the file's notes. Spot: the lowest zone price (spot prices
  legitimately differ by zone, and a planner can launch in the cheapest one).
- Prices: a non-empty Price gives an on-demand offering and must be > 0 (a row priced 0 or less
  is rejected, never kept as a cheap machine); a SpotPrice > 0 gives a spot offering (0 or empty:
  no spot market; negative: rejected). A row with neither is skipped (not sold there). Prices
  above :data:`MAX_PRICE_USD_PER_HOUR` and counts above :data:`MAX_ACCELERATOR_COUNT` are
  rejected as implausible. Prices are rounded to 6 decimals (the sources carry at most 6), so
  host + accelerator sums are exact decimals.
- Accelerator names: each row's name is resolved to a chip of the facts table, refined by instance
  type where a catalog names a PCIe or NVL card like the SXM part
  (:func:`archipel.perf.accelerators.offering_accelerator`). Every name that changes on the way
  (``H100-MEGA`` → ``H100``, Lambda's ``H100`` on gpu_1x_h100_pcie → ``H100-PCIe``) is recorded in
  the tally (:meth:`Tally.fold`) for the catalog report.
- Chips of one's own (``archipel catalog import --accelerator A10G``): a name the facts table
  lacks is kept, not skipped, when the caller declares it (:func:`declared_chips`). A row is of a
  declared chip when its accelerator name equals the declared name, case-insensitively, or when
  its accelerator or instance type is a TPU slice name (``tpu-v7-8``) of that chip (``TPU-v7``).
  The offering carries the declared spelling; a source spelling that differs is a folded name.
  A declared name may not be a built-in chip or alias: those rows keep the built-in facts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from archipel.catalog.flags import DECLARED_NAME, DECLARED_NAME_MAX
from archipel.catalog.model import FoldedName, Offering, PurchaseOption
from archipel.errors import CatalogError
from archipel.perf.accelerators import (
    canonical_name,
    fold_key,
    offering_accelerator,
    tpu_slice_chips,
)

SKIP_NOT_AI = "not an AI accelerator in the facts table"
SKIP_BLANK = "blank line"
SKIP_NO_PRICE = "no price listed (Price empty, SpotPrice empty or 0): not sold here"
SKIP_FRACTIONAL = "fractional accelerator (a share of one GPU); Archipel plans whole ones"
SKIP_GCP_NO_MACHINE = "GCP accelerator count that no GCP machine type bundles"
SKIP_GCP_NO_HOST = "GCP accelerator row with no host VM row of its machine type in its zone"
SKIP_GCP_UNUSED_HOST = "GCP GPU host VM row with no accelerator row in its zone"

CPU_ONLY = "(none: CPU-only row)"
MAX_PRICE_USD_PER_HOUR = 1e6  # the largest real list price is a 6,144-chip TPU slice, ~26k USD/h
MAX_ACCELERATOR_COUNT = 100_000
# (GCP accelerator name, count) -> machine types that bundle exactly that many.
GCP_GPU_MACHINES: MappingProxyType[tuple[str, int], tuple[str, ...]] = MappingProxyType(
    {
        **{("A100", n): (f"a2-highgpu-{n}g",) for n in (1, 2, 4, 8)},
        ("A100", 16): ("a2-megagpu-16g",),
        **{("A100-80GB", n): (f"a2-ultragpu-{n}g",) for n in (1, 2, 4, 8)},
        **{("H100", n): (f"a3-highgpu-{n}g",) for n in (1, 2, 4)},
        ("H100", 8): ("a3-highgpu-8g", "a3-edgegpu-8g", "a3-edgegpu-8g-nolssd"),
        ("H100-MEGA", 8): ("a3-megagpu-8g",),
        ("H200", 8): ("a3-ultragpu-8g", "a3-ultragpu-8g-nolssd"),
        ("B200", 8): ("a4-highgpu-8g",),
        ("L4", 1): tuple(f"g2-standard-{v}" for v in (4, 8, 12, 16, 32)),
        ("L4", 2): ("g2-standard-24",),
        ("L4", 4): ("g2-standard-48",),
        ("L4", 8): ("g2-standard-96",),
    }
)
_GCP_HOST_TYPES = frozenset(m for ms in GCP_GPU_MACHINES.values() for m in ms)
_SLICE_FAMILY = re.compile(r"^(tpu-v\d+[a-z]*?(?:litepod)?)-\d+$")


def declared_chips(names: Iterable[str]) -> dict[str, str]:
    """Chips of one's own named for an import (``--accelerator``), by lower-case name.

    Raises ``CatalogError`` for a name a spec's ``accelerators:`` could not declare, a built-in
    chip or alias (whose rows are imported with the built-in facts anyway), or one chip named in
    two spellings."""
    out: dict[str, str] = {}
    for raw in names:
        name = raw.strip()
        if not DECLARED_NAME.match(name) or len(name) > DECLARED_NAME_MAX:
            raise CatalogError(
                f"--accelerator {raw!r}: a chip's name is 1 to {DECLARED_NAME_MAX} letters, "
                "digits, '.', '_' or '-', starting with a letter or digit (as in a spec's "
                "`accelerators:`); rename it, e.g. --accelerator A10G"
            )
        builtin = canonical_name(name)
        if builtin is not None:
            same = "" if builtin == name else f" (as {builtin!r})"
            raise CatalogError(
                f"--accelerator {name}: {name!r} is a built-in chip{same}, not a chip of your "
                "own: the built-in one is used, and its rows are imported without "
                f"--accelerator. Drop --accelerator {name}, or name your own chip differently"
            )
        other = out.setdefault(name.lower(), name)
        if other != name:
            raise CatalogError(
                f"--accelerator {name} and --accelerator {other} name one chip in two "
                "spellings (names match case-insensitively); give it once, spelled as your "
                "spec's `accelerators:` declares it"
            )
    return out


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    instance_type: str
    accelerator: str  # as written in the file
    count: float | None
    region: str
    zone: str
    price: float | None
    spot: float | None


@dataclass(frozen=True, slots=True)
class Entry:
    """One row's (or GCP host + accelerator pair's) price for one offering."""

    region: str
    instance_type: str
    accelerator: str
    per_node: int
    option: PurchaseOption
    price: float
    lines: tuple[int, ...]


@dataclass
class Tally:
    """Per-file bookkeeping while importing (local to one call)."""

    file: str
    kept: set[int] = field(default_factory=set)
    skipped: dict[int, str] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)
    skipped_accelerators: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    folds: dict[tuple[str, str], tuple[set[str], set[int]]] = field(default_factory=dict)
    declared: Mapping[str, str] = field(default_factory=dict)  # declared_chips(): lower -> name
    declared_lines: dict[str, set[int]] = field(default_factory=dict)  # chip -> its rows

    def chip(self, provider: str, instance_type: str, name: str) -> str | None:
        """The chip of a row: built in (:func:`offering_accelerator`) or declared, else None."""
        if not name:
            return None
        return offering_accelerator(provider, instance_type, name) or self.declared_chip(
            name, instance_type
        )

    def declared_chip(self, name: str, instance_type: str) -> str | None:
        """The declared chip a row's accelerator name (or its TPU slice name, or its instance
        type's) stands for, or None."""
        if not self.declared or not name.strip():
            return None
        key = name.strip().lower()
        if key in self.declared:
            return self.declared[key]
        for candidate in (key, instance_type.strip().lower()):
            m = _SLICE_FAMILY.match(candidate)
            if m and m.group(1) in self.declared:
                return self.declared[m.group(1)]
        return None

    def keep(self, line: int, accelerator: str) -> None:
        """Record a kept row (and, for a declared chip, whose it is)."""
        self.kept.add(line)
        if accelerator.lower() in self.declared:
            self.declared_lines.setdefault(accelerator, set()).add(line)

    def declared_rows(self) -> dict[str, int]:
        """Kept rows per declared chip, every declared chip listed (0: no row kept)."""
        return {
            name: len(self.declared_lines.get(name, set()) & self.kept)
            for name in sorted(self.declared.values())
        }

    def skip(self, line: int, reason: str, accelerator: str | None = None) -> None:
        self.skipped[line] = reason
        if accelerator is not None:
            self.skipped_accelerators[accelerator or CPU_ONLY] += 1

    def reject(self, line: int, reason: str) -> None:
        self.rejected[line] = reason

    def fold(self, source_name: str, accelerator: str, instance_type: str, line: int) -> None:
        """Record that ``source_name`` was read as ``accelerator`` (when the two differ)."""
        if source_name == accelerator:
            return
        types, lines = self.folds.setdefault((fold_key(source_name), accelerator), (set(), set()))
        types.add(instance_type)
        lines.add(line)

    def folded(self, provider: str) -> tuple[FoldedName, ...]:
        """The folds of kept rows, sorted by source name."""
        out = []
        for (source, acc), (types, lines) in sorted(self.folds.items()):
            kept = lines & self.kept
            if kept:
                out.append(FoldedName(provider, source, acc, tuple(sorted(types)), len(kept)))
        return tuple(out)


def price_problem(price: float | None, spot: float | None) -> str | None:
    if price is not None and round(price, 6) <= 0:
        return f"Price must be > 0 (found {price:g}): a zero price is a missing price, not a free machine"
    if spot is not None and spot < 0:
        return f"SpotPrice must be ≥ 0 (found {spot:g})"
    for name, value in (("Price", price), ("SpotPrice", spot)):
        if value is not None and value > MAX_PRICE_USD_PER_HOUR:
            return (
                f"{name} {value:g} USD/h is above {MAX_PRICE_USD_PER_HOUR:g}: not a plausible price"
            )
    return None


def whole_count(row: Row, tally: Tally) -> int | None:
    """The row's accelerator count when it is a whole number ≥ 1 and the row has a price;
    otherwise the row is skipped or rejected here and None is returned."""
    if row.count is not None and row.count != int(row.count):
        tally.skip(row.line, SKIP_FRACTIONAL)
        return None
    if row.count is None or row.count < 1:
        tally.reject(row.line, f"AcceleratorCount must be ≥ 1 for {row.accelerator}")
        return None
    if row.count > MAX_ACCELERATOR_COUNT:
        tally.reject(row.line, f"AcceleratorCount {row.count:g} is above {MAX_ACCELERATOR_COUNT}")
        return None
    if row.price is None and not (row.spot and round(row.spot, 6) > 0):
        tally.skip(row.line, SKIP_NO_PRICE)
        return None
    return int(row.count)


def _priced(
    region: str,
    itype: str,
    acc: str,
    n: int,
    price: float | None,
    spot: float | None,
    lines: tuple[int, ...],
) -> list[Entry]:
    out = []
    if price is not None:
        out.append(Entry(region, itype, acc, n, PurchaseOption.ON_DEMAND, round(price, 6), lines))
    if spot is not None and round(spot, 6) > 0:
        out.append(Entry(region, itype, acc, n, PurchaseOption.SPOT, round(spot, 6), lines))
    return out


def plain_entries(rows: list[Row], tally: Tally, provider: str) -> list[Entry]:
    """Entries of layouts where each row is one node type in one zone or region."""
    entries: list[Entry] = []
    first: dict[tuple[str, str], tuple[str, int, int]] = {}
    for row in rows:
        itype = row.instance_type or row.accelerator
        canon = tally.chip(provider, itype, row.accelerator)
        if canon is None:
            tally.skip(row.line, SKIP_NOT_AI, row.accelerator)
            continue
        chips = tpu_slice_chips(row.accelerator) or tpu_slice_chips(row.instance_type)
        n = whole_count(row, tally)
        if n is None:
            continue
        n = chips if chips is not None else n
        seen = first.setdefault((row.region, itype), (canon, n, row.line))
        problem = price_problem(row.price, row.spot)
        if problem is None and seen[:2] != (canon, n):
            problem = (
                f"{itype} in {row.region} is {canon}×{n} here but {seen[0]}×{seen[1]} "
                f"on line {seen[2]}"
            )
        if problem is not None:
            tally.reject(row.line, problem)
            continue
        tally.keep(row.line, canon)
        tally.fold(row.accelerator, canon, itype, row.line)
        entries += _priced(row.region, itype, canon, n, row.price, row.spot, (row.line,))
    return entries


def gcp_entries(rows: list[Row], tally: Tally, provider: str = "gcp") -> list[Entry]:
    """Entries of GCP's split layout: TPU slices alone, GPUs as host + accelerator pairs."""
    hosts: defaultdict[tuple[str, str], list[Row]] = defaultdict(list)
    rejected_hosts: defaultdict[tuple[str, str], list[Row]] = defaultdict(list)
    accelerator_rows: list[Row] = []
    for row in rows:
        if row.accelerator and row.instance_type:
            continue  # a host row naming its accelerator: priced whole, as in other layouts
        if row.accelerator:
            accelerator_rows.append(row)
        elif row.instance_type in _GCP_HOST_TYPES:
            problem = price_problem(row.price, row.spot)
            if problem is None and row.price is None:
                problem = "a GPU host VM row needs a Price"
            if problem is not None:
                tally.reject(row.line, f"{row.instance_type} host VM: {problem}")
                rejected_hosts[(row.instance_type, row.zone)].append(row)
            else:
                hosts[(row.instance_type, row.zone)].append(row)
        else:
            tally.skip(row.line, SKIP_NOT_AI, "")
    entries = plain_entries([r for r in rows if r.accelerator and r.instance_type], tally, provider)
    for acc in accelerator_rows:
        canon = canonical_name(acc.accelerator) or tally.declared_chip(acc.accelerator, "")
        chips = tpu_slice_chips(acc.accelerator)
        if canon is None:
            tally.skip(acc.line, SKIP_NOT_AI, acc.accelerator)
        elif chips is not None:
            entries += plain_entries([acc], tally, provider)
        else:
            entries += _gcp_pair(acc, canon, hosts, rejected_hosts, tally)
    for host_rows in hosts.values():
        for host in host_rows:
            if host.line not in tally.kept:
                tally.skip(host.line, SKIP_GCP_UNUSED_HOST)
    return entries


def _gcp_pair(
    acc: Row,
    canon: str,
    hosts: Mapping[tuple[str, str], list[Row]],
    rejected_hosts: Mapping[tuple[str, str], list[Row]],
    tally: Tally,
) -> list[Entry]:
    count = whole_count(acc, tally)
    if count is None:
        return []
    problem = price_problem(acc.price, acc.spot)
    if problem is not None:
        tally.reject(acc.line, problem)
        return []
    machines = GCP_GPU_MACHINES.get((acc.accelerator, count))
    if machines is None:
        tally.skip(acc.line, SKIP_GCP_NO_MACHINE)
        return []
    pairs = [h for m in machines for h in hosts.get((m, acc.zone), ())]
    if not pairs:
        bad = [h for m in machines for h in rejected_hosts.get((m, acc.zone), ())]
        if bad:
            names = ", ".join(sorted({h.instance_type for h in bad}))
            tally.reject(
                acc.line,
                f"no valid {names} host VM price in this zone (its host row was rejected); a GPU "
                "price alone is not a machine's price",
            )
        else:
            tally.skip(acc.line, SKIP_GCP_NO_HOST)
        return []
    entries: list[Entry] = []
    for host in pairs:
        price = None if host.price is None or acc.price is None else host.price + acc.price
        spot = None if not host.spot or not acc.spot else host.spot + acc.spot
        tally.kept.update((host.line, acc.line))
        tally.fold(acc.accelerator, canon, host.instance_type, acc.line)
        entries += _priced(
            acc.region, host.instance_type, canon, count, price, spot, (host.line, acc.line)
        )
    return entries


def collapse_zones(provider: str, entries: list[Entry], tally: Tally) -> tuple[Offering, ...]:
    """One offering per (region, instance type, purchase option); topology, spot terms and flags
    are added afterwards (:func:`archipel.catalog.annotate.annotate`)."""
    groups: defaultdict[tuple[str, str, PurchaseOption], list[Entry]] = defaultdict(list)
    for e in entries:
        groups[(e.region, e.instance_type, e.option)].append(e)
    offerings: list[Offering] = []
    for (region, itype, option), group in sorted(groups.items()):
        prices = sorted({e.price for e in group})
        if option is PurchaseOption.ON_DEMAND and prices[-1] - prices[0] > 1e-9 * prices[-1]:
            tally.notes.append(
                f"{provider}:{region}:{itype} on-demand zone prices differ "
                f"({prices[0]:g}–{prices[-1]:g} USD/h); kept the lowest"
            )
        first = group[0]
        offerings.append(
            Offering(
                provider,
                region,
                itype,
                first.accelerator,
                first.per_node,
                option,
                prices[0],
            )
        )
    return tuple(offerings)
