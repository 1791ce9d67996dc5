"""Import SkyPilot-format ``vms.csv`` price catalogs into offerings, accounting for every row.

Every data row of a file ends in exactly one of three piles, so ``rows_read = kept + skipped +
rejected`` holds for each file (:class:`FileReport`):

- kept: the row contributes to at least one offering;
- skipped, with a counted reason: not an error, just not something Archipel plans with (a CPU-only
  row, an accelerator with no entry in :mod:`archipel.perf.accelerators` such as T4 or V100 —
  unless the caller declares it as a chip of its own, ``declared=("A10G",)`` —, a fractional GPU, a row with no price (AWS lists p5e without one), a GCP host VM whose
  accelerator is not sold in its zone, a blank line);
- rejected, with ``file:line: reason``: the row is wrong (wrong field count, a field the CSV
  reader cannot read — such as one larger than 128 KiB —, a number that is not one, a missing
  Region, a Price ≤ 0, a negative SpotPrice, an implausibly large price or count, an accelerator
  without a count, an instance type that names another accelerator on another line, a GCP GPU
  whose host VM row was rejected).

Layouts, told apart by header and content, never by path (:class:`Layout`). Columns are found by
name, so each provider's column order works. The provider is recognised by its instance-type
naming (``p5.48xlarge`` AWS, ``Standard_…`` Azure, ``a2-highgpu-1g`` GCP, ``BM.GPU.H100.8`` OCI,
``gpu_8x_h100_sxm5`` Lambda, ``gpu-h100-sxm_8gpu-…`` Nebius, ``1H100.80S.32V`` Verda,
``n3-H100x8`` Hyperstack, ``8x-H100_SXM-…`` Vast) unless the caller names it.

- Azure: the last column ``Generation`` holds ``V1,V2`` unquoted in many rows, one field too
  many. A row with exactly one extra field whose last two fields both look like ``V<n>`` is
  rejoined; any other field count is rejected.
- Vast: Region is ``"State, CC, Continent"``; the region code becomes ``cc-state`` (``us-michigan``)
  or ``cc`` when the state is empty.
- GCP: host VM rows plus accelerator rows with an empty InstanceType; a GPU offering's node price
  is host VM + accelerator row (same zone), TPU slices are priced per slice. The rules, and those
  for collapsing zones to regions, are in :mod:`archipel.catalog.pricing_rules`.

Chips of one's own: ``declared`` names accelerators the facts table lacks (``catalog import
--accelerator A10G``). Their rows are kept under the declared name and their offerings flagged
``accelerator-declared``: the chip's facts come from the spec that plans with them
(:func:`archipel.catalog.pricing_rules.declared_chips` has the rules for names and matching).

Topology, spot availability and interruption rates are not in these files: every offering is
annotated with the curated topology table (:mod:`archipel.catalog.topology`) and, when spot, the
rates derived from public spot traces or their documented defaults (:mod:`archipel.catalog.spot`),
each assumption named in the offering's flags (:mod:`archipel.catalog.annotate`). A caller may
pass an interruption rate per provider to replace the spot rates.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from archipel.catalog.annotate import annotate, merge_flags
from archipel.catalog.flags import FLAG_ACCELERATOR_DECLARED
from archipel.catalog.model import FoldedName, Offering, PurchaseOption, RejectedRow
from archipel.catalog.pricing_rules import (
    SKIP_BLANK,
    SKIP_FRACTIONAL,
    SKIP_GCP_NO_HOST,
    SKIP_GCP_NO_MACHINE,
    SKIP_GCP_UNUSED_HOST,
    SKIP_NO_PRICE,
    SKIP_NOT_AI,
    Row,
    Tally,
    collapse_zones,
    declared_chips,
    gcp_entries,
    plain_entries,
)
from archipel.catalog.regions import provider_facts
from archipel.catalog.spot import DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR
from archipel.errors import CatalogError

__all__ = [
    "DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR",
    "REQUIRED_COLUMNS",
    "SKIP_BLANK",
    "SKIP_FRACTIONAL",
    "SKIP_GCP_NO_HOST",
    "SKIP_GCP_NO_MACHINE",
    "SKIP_GCP_UNUSED_HOST",
    "SKIP_NOT_AI",
    "SKIP_NO_PRICE",
    "FileReport",
    "ImportReport",
    "Layout",
    "Rejection",
    "find_catalog_files",
    "import_file",
    "import_paths",
    "import_text",
]

REQUIRED_COLUMNS = (
    "InstanceType",
    "AcceleratorName",
    "AcceleratorCount",
    "Price",
    "SpotPrice",
    "Region",
)
_PROGRESS_EVERY_ROWS = 4096


class Layout(StrEnum):
    REGIONAL = "regional"  # one row per (instance type, region)
    ZONAL = "zonal"  # an AvailabilityZone column: one row per zone
    GCP_SPLIT = "gcp-split"  # host VM rows plus accelerator rows with an empty InstanceType
    AZURE_GENERATION = "azure-generation"  # trailing Generation column, unquoted "V1,V2"
    VAST_LOCATION = "vast-location"  # Region is "State, CC, Continent"


_PROVIDER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (p, re.compile(rx))
    for p, rx in (
        ("aws", r"^[a-z][a-z0-9-]*\.(?:\d*x?large|metal[a-z0-9-]*|medium|small|micro|nano)$"),
        ("azure", r"^(?:Standard|Basic)_"),
        ("gcp", r"^[a-z]+\d+[a-z]*-[a-z0-9-]+$"),
        ("oci", r"^(?:VM|BM)\."),
        ("lambda", r"^(?:gpu|cpu)_\d+x_"),
        ("nebius", r"^(?:gpu|cpu)-[a-z0-9-]+_\d+(?:gpu|vcpu)-"),
        ("verda", r"^(?:\d+[A-Z0-9]+(?:\.\d+[A-Z]+)+|CPU\.\d+V\.\d+G)$"),
        ("hyperstack", r"^n\d+-[A-Za-z0-9-]*x\d+(?:-[A-Za-z]+)?$"),
        ("vast", r"^\d+x-"),
    )
)
_GENERATION = re.compile(r"^V\d+$")
_VAST_REGION = re.compile(r"^([^,]*), ([A-Z]{2}), ([A-Z]{2})$")


Rejection = RejectedRow  # a row that is wrong, where it is and why


@dataclass(frozen=True)
class FileReport:
    """What became of each row of one file."""

    file: str
    provider: str
    layout: Layout
    rows_read: int
    rows_kept: int
    skipped: Mapping[str, int]  # reason -> rows
    rejected: tuple[Rejection, ...]
    offerings: int
    skipped_accelerators: Mapping[str, int] = field(default_factory=dict)  # name -> rows
    notes: tuple[str, ...] = ()
    folded: tuple[FoldedName, ...] = ()  # source accelerator names read as another chip
    declared: Mapping[str, int] = field(default_factory=dict)  # declared chip -> rows kept

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    @property
    def balanced(self) -> bool:
        """True when every row read is kept, skipped or rejected (the importer's invariant)."""
        return self.rows_read == self.rows_kept + self.rows_skipped + len(self.rejected)


@dataclass(frozen=True)
class ImportReport:
    """Per-file reports, the offerings of all files, and the files that were not catalogs."""

    files: tuple[FileReport, ...]
    offerings: tuple[Offering, ...]
    ignored: tuple[str, ...] = ()  # "path: why", for files found in a directory

    @property
    def rejected(self) -> tuple[Rejection, ...]:
        return tuple(r for f in self.files for r in f.rejected)

    @property
    def folded(self) -> tuple[FoldedName, ...]:
        return tuple(n for f in self.files for n in f.folded)

    @property
    def declared(self) -> dict[str, int]:
        """Rows kept per declared chip over all files (0: declared, but no row kept)."""
        out: dict[str, int] = {}
        for f in self.files:
            for name, rows in f.declared.items():
                out[name] = out.get(name, 0) + rows
        return dict(sorted(out.items()))


def import_text(
    text: str,
    file: str,
    *,
    provider: str | None = None,
    spot_interruptions_per_hour: Mapping[str, float] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    declared: Collection[str] = (),
) -> tuple[FileReport, tuple[Offering, ...]]:
    """Import one catalog's text (pure: no I/O). ``file`` names it in messages; ``declared``
    names chips of one's own whose rows are kept (see the module doc).

    Raises ``CatalogError`` when the file as a whole cannot be read (no header, a header without
    the required columns, a provider that cannot be recognised) or a declared name is not
    acceptable; row problems are reported."""
    chips = declared_chips(declared)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise CatalogError(f"{file}:1: cannot read the header: {exc}") from None
    if not header:
        raise CatalogError(f"{file}:1: empty file; expected a SkyPilot vms.csv header")
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CatalogError(
            f"{file}:1: header lacks column(s) {', '.join(missing)}; a SkyPilot vms.csv has "
            f"{', '.join(REQUIRED_COLUMNS)} (in any order)"
        )
    records, unreadable = _records(reader)
    layout = _detect_layout(header, records)
    provider_id = (
        provider_facts(provider).id if provider else _detect_provider(file, header, records, layout)
    )
    tally = Tally(file, declared=chips)
    for line, why in unreadable:
        tally.reject(line, why)
    rows = _parse_rows(records, header, layout, tally, on_progress)
    entries = (
        gcp_entries(rows, tally, provider_id)
        if layout is Layout.GCP_SPLIT
        else plain_entries(rows, tally, provider_id)
    )
    rate = (spot_interruptions_per_hour or {}).get(provider_id)
    offerings = tuple(
        _declared_flag(_with_rate(annotate(o), rate), chips)
        for o in collapse_zones(provider_id, entries, tally)
    )
    report = FileReport(
        file=file,
        provider=provider_id,
        layout=layout,
        rows_read=len(records) + len(unreadable),
        rows_kept=len(tally.kept),
        skipped=dict(Counter(tally.skipped.values())),
        rejected=tuple(Rejection(file, ln, why) for ln, why in sorted(tally.rejected.items())),
        offerings=len(offerings),
        skipped_accelerators=dict(sorted(tally.skipped_accelerators.items())),
        notes=tuple(tally.notes),
        folded=tally.folded(provider_id),
        declared=tally.declared_rows(),
    )
    return report, offerings


def _records(
    reader: Iterator[list[str]],
) -> tuple[list[tuple[int, list[str]]], list[tuple[int, str]]]:
    """The data records (line, fields) and the records the CSV reader could not read (line,
    reason): a field over the reader's size limit, for instance, costs that row only."""
    records: list[tuple[int, list[str]]] = []
    unreadable: list[tuple[int, str]] = []
    last = getattr(reader, "line_num", 0)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            unreadable.append((last + 1, f"unreadable CSV record: {exc}"))
        else:
            records.append((last + 1, fields))
        last = getattr(reader, "line_num", last + 1)
    return records, unreadable


def _with_rate(offering: Offering, rate: float | None) -> Offering:
    """The offering with a caller's interruption rate, when it is spot and one is given."""
    if rate is None or offering.purchase_option is not PurchaseOption.SPOT:
        return offering
    return replace(offering, interruptions_per_hour=rate)


def _declared_flag(offering: Offering, chips: Mapping[str, str]) -> Offering:
    """The offering flagged ``accelerator-declared`` when its chip is one of ``chips``."""
    if offering.accelerator.lower() not in chips:
        return offering
    return replace(offering, flags=merge_flags(offering.flags, (FLAG_ACCELERATOR_DECLARED,)))


def import_file(
    path: Path,
    *,
    provider: str | None = None,
    spot_interruptions_per_hour: Mapping[str, float] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    declared: Collection[str] = (),
) -> tuple[FileReport, tuple[Offering, ...]]:
    """Read and import one catalog file (see :func:`import_text`)."""
    return import_text(
        _read(path),
        str(path),
        provider=provider,
        spot_interruptions_per_hour=spot_interruptions_per_hour,
        on_progress=on_progress,
        declared=declared,
    )


def find_catalog_files(paths: Iterable[Path]) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    """Catalog files named or found (``*.csv``, recursively) under directories, and the CSV files
    found that are not VM catalogs (``"path: why"``). A named file that is missing raises."""
    found: list[Path] = []
    ignored: list[str] = []
    for path in paths:
        if path.is_dir():
            for candidate in sorted(path.rglob("*.csv")):
                head = _read(candidate).lstrip("\ufeff").partition("\n")[0]
                try:
                    cols = {c.strip() for c in next(csv.reader([head]), [])}
                except csv.Error as exc:
                    ignored.append(f"{candidate}: header unreadable as CSV ({exc})")
                    continue
                lacking = [c for c in REQUIRED_COLUMNS if c not in cols]
                if lacking:
                    ignored.append(f"{candidate}: not a VM catalog (no {', '.join(lacking)})")
                else:
                    found.append(candidate)
        elif path.is_file():
            found.append(path)
        else:
            raise CatalogError(f"{path}: no such file or directory")
    return tuple(found), tuple(ignored)


def import_paths(
    paths: Sequence[Path],
    *,
    provider: str | None = None,
    spot_interruptions_per_hour: Mapping[str, float] | None = None,
    on_file: Callable[[Path, int, int], None] | None = None,
    declared: Collection[str] = (),
) -> ImportReport:
    """Import every catalog file named or found under ``paths`` (see :func:`find_catalog_files`),
    keeping the rows of ``declared`` chips (see :func:`import_text`).

    ``on_file(path, rows_done, rows_total)`` reports progress within each file."""
    declared_chips(declared)  # a bad name fails before any file is read
    files, ignored = find_catalog_files(paths)
    reports: list[FileReport] = []
    offerings: list[Offering] = []
    for path in files:
        progress = None if on_file is None else _bind(on_file, path)
        report, offs = import_file(
            path,
            provider=provider,
            on_progress=progress,
            spot_interruptions_per_hour=spot_interruptions_per_hour,
            declared=declared,
        )
        reports.append(report)
        offerings.extend(offs)
    return ImportReport(tuple(reports), tuple(offerings), ignored)


def _bind(fn: Callable[[Path, int, int], None], path: Path) -> Callable[[int, int], None]:
    return lambda done, total: fn(path, done, total)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _detect_layout(header: list[str], records: list[tuple[int, list[str]]]) -> Layout:
    col = {name: i for i, name in enumerate(header)}
    sample = [f for _, f in records if len(f) >= len(header)]
    it, acc, region = col["InstanceType"], col["AcceleratorName"], col["Region"]
    if any(not f[it].strip() and f[acc].strip() for f in sample):
        return Layout.GCP_SPLIT
    if header[-1] == "Generation":
        return Layout.AZURE_GENERATION
    regions = [f[region] for f in sample if f[region].strip()]
    if regions and all(_VAST_REGION.match(r) for r in regions):
        return Layout.VAST_LOCATION
    return Layout.ZONAL if "AvailabilityZone" in col else Layout.REGIONAL


def _detect_provider(
    file: str, header: list[str], records: list[tuple[int, list[str]]], layout: Layout
) -> str:
    it = header.index("InstanceType")
    names = [f[it].strip() for _, f in records if len(f) > it and f[it].strip()]
    votes = Counter(p for name in names for p, rx in _PROVIDER_PATTERNS if rx.match(name))
    if layout is Layout.GCP_SPLIT:  # accelerator rows without a host are SkyPilot's GCP layout
        votes["gcp"] += len(records) - len(names)
        names += [""] * (len(records) - len(names))
    ranked = votes.most_common(2)
    if (
        ranked
        and ranked[0][1] >= 0.8 * len(names)
        and (len(ranked) == 1 or ranked[1][1] < ranked[0][1])
    ):
        return ranked[0][0]
    examples = ", ".join(sorted(set(names) - {""})[:3]) or "none"
    raise CatalogError(
        f"{file}:1: cannot tell which provider this catalog is from (instance types such as "
        f"{examples}); name it explicitly (--provider aws|azure|gcp|oci|lambda|nebius|verda|"
        "hyperstack|vast)"
    )


def _parse_rows(
    records: list[tuple[int, list[str]]],
    header: list[str],
    layout: Layout,
    tally: Tally,
    on_progress: Callable[[int, int], None] | None,
) -> list[Row]:
    col = {name: i for i, name in enumerate(header)}
    rows: list[Row] = []
    total = len(records)
    for i, (line, fields) in enumerate(records, start=1):
        if on_progress is not None and (i % _PROGRESS_EVERY_ROWS == 0 or i == total):
            on_progress(i, total)
        if not any(f.strip() for f in fields):
            tally.skip(line, SKIP_BLANK)
            continue
        parsed = _parse_row(line, fields, col, len(header), layout)
        if isinstance(parsed, str):
            tally.reject(line, parsed)
        else:
            rows.append(parsed)
    return rows


def _parse_row(
    line: int, fields: list[str], col: dict[str, int], width: int, layout: Layout
) -> Row | str:
    """A structurally valid row, or the reason it is rejected."""
    if (
        len(fields) == width + 1
        and layout is Layout.AZURE_GENERATION
        and all(_GENERATION.match(f.strip()) for f in fields[-2:])
    ):
        fields = [*fields[:-2], f"{fields[-2]},{fields[-1]}"]
    if len(fields) != width:
        return f"expected {width} fields, found {len(fields)}"

    def get(name: str) -> str:
        return fields[col[name]].strip() if name in col else ""

    region = get("Region")
    if layout is Layout.VAST_LOCATION and region:
        m = _VAST_REGION.match(region)
        if m is None:
            return f"Region {region!r} is not 'State, CC, Continent'"
        state = re.sub(r"[^a-z0-9]+", "-", m.group(1).lower()).strip("-")
        region = f"{m.group(2).lower()}-{state}" if state else m.group(2).lower()
    if not region:
        return "missing Region"
    instance_type, accelerator = get("InstanceType"), get("AcceleratorName")
    if not instance_type and not accelerator:
        return "empty InstanceType and AcceleratorName"
    count_text = get("AcceleratorCount")
    count = _number(count_text, "AcceleratorCount")
    if isinstance(count, str):
        return count
    if count is not None and count < 0:
        return f"AcceleratorCount {count_text!r} is negative"
    price, spot = _number(get("Price"), "Price"), _number(get("SpotPrice"), "SpotPrice")
    if isinstance(price, str):
        return price
    if isinstance(spot, str):
        return spot
    return Row(
        line,
        instance_type,
        accelerator,
        count,
        region,
        get("AvailabilityZone") or region,
        price,
        spot,
    )


def _number(text: str, column: str) -> float | str | None:
    """The number in ``text`` (None when empty), or the reason it is not one."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return f"{column} {text!r} is not a number"
    return value if math.isfinite(value) else f"{column} {text!r} is not a finite number"
