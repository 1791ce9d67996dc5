"""Catalog snapshots on disk: a directory of three CSV tables and a manifest.

    offerings.csv   provider,region,instance_type,accelerator,accelerators_per_node,
                    purchase_option,price_usd_per_node_hour,interruptions_per_hour,max_nodes,
                    scale_up,fabric,fabric_gbps,availability,flags  (flags ";"-separated)
    regions.csv     provider,code,city,country,continent,lat,lon,jurisdictions  (";"-separated)
    providers.csv   id,name,hq_country,cloud_act
    manifest.json   {"source", "captured", "schema_version", "content_sha256", "notes",
                     "rejected": [{"file", "line", "reason"}],
                     "folded": [{"provider", "source_name", "accelerator", "instance_types",
                                 "rows"}]}

Schema 2 added the topology, availability and flags columns and the manifest's ``rejected`` and
``folded`` lists (docs/catalog.md). Every offering value is checked on load: ``scale_up`` and
``fabric`` are one of the known kinds (:mod:`archipel.catalog.topology`) or empty, a fabric has a
bandwidth and only a fabric has one, ``availability`` is in (0, 1] and is 1 unless spot, flags are
known (:mod:`archipel.catalog.flags`). ``accelerator`` is a canonical built-in chip name
(:mod:`archipel.perf.accelerators`), or, on a row flagged ``accelerator-declared``, the name of a
chip of one's own (``archipel catalog import --accelerator NAME``) that no built-in name or alias
resolves to; the spec that plans with the snapshot declares that chip's facts.

``content_sha256`` is the SHA-256 of the bytes of offerings.csv, regions.csv and providers.csv,
concatenated in that order. :func:`load_snapshot` recomputes it and refuses a snapshot whose
tables were changed after the manifest was written. Rendering is deterministic (sorted rows,
``repr`` floats, ``\\n`` line ends), so the same catalog always gives the same bytes and hash.

The built-in snapshot ships in ``archipel/catalog/data/`` and is built by
``tools/build_snapshot.py``; :func:`load_builtin` reads it once per process (read-only cache).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TypeVar

from archipel.catalog.flags import check_accelerator, check_flags
from archipel.catalog.model import (
    SCHEMA_VERSION,
    Catalog,
    FoldedName,
    Manifest,
    Offering,
    Provider,
    PurchaseOption,
    Region,
    RejectedRow,
)
from archipel.catalog.topology import FABRIC_KINDS, SCALE_UP_KINDS
from archipel.errors import CatalogError

OFFERINGS_CSV = "offerings.csv"
REGIONS_CSV = "regions.csv"
PROVIDERS_CSV = "providers.csv"
MANIFEST_JSON = "manifest.json"
TABLES = (OFFERINGS_CSV, REGIONS_CSV, PROVIDERS_CSV)

OFFERING_COLUMNS = (
    "provider",
    "region",
    "instance_type",
    "accelerator",
    "accelerators_per_node",
    "purchase_option",
    "price_usd_per_node_hour",
    "interruptions_per_hour",
    "max_nodes",
    "scale_up",
    "fabric",
    "fabric_gbps",
    "availability",
    "flags",
)
REGION_COLUMNS = ("provider", "code", "city", "country", "continent", "lat", "lon", "jurisdictions")
PROVIDER_COLUMNS = ("id", "name", "hq_country", "cloud_act")

_T = TypeVar("_T")


def content_sha256(tables: Mapping[str, bytes]) -> str:
    """The snapshot hash: SHA-256 over the three tables' bytes in :data:`TABLES` order."""
    digest = hashlib.sha256()
    for name in TABLES:
        digest.update(tables[name])
    return digest.hexdigest()


def render_tables(
    providers: Iterable[Provider], regions: Iterable[Region], offerings: Iterable[Offering]
) -> dict[str, bytes]:
    """The three CSV tables as bytes, rows sorted so that equal catalogs render equally."""
    return {
        OFFERINGS_CSV: _csv(
            OFFERING_COLUMNS,
            sorted(
                (
                    (
                        o.provider,
                        o.region,
                        o.instance_type,
                        o.accelerator,
                        o.accelerators_per_node,
                        o.purchase_option.value,
                        _num(o.price_usd_per_node_hour),
                        _num(o.interruptions_per_hour),
                        "" if o.max_nodes is None else _num(o.max_nodes),
                        o.scale_up,
                        o.fabric,
                        _num(o.fabric_gbps),
                        _num(o.availability),
                        ";".join(o.flags),
                    )
                    for o in offerings
                ),
                key=lambda r: tuple(str(v) for v in r[:6]),
            ),
        ),
        REGIONS_CSV: _csv(
            REGION_COLUMNS,
            sorted(
                (
                    r.provider,
                    r.code,
                    r.city,
                    r.country,
                    r.continent,
                    _num(r.lat),
                    _num(r.lon),
                    ";".join(r.jurisdictions),
                )
                for r in regions
            ),
        ),
        PROVIDERS_CSV: _csv(
            PROVIDER_COLUMNS,
            sorted(
                (p.id, p.name, p.hq_country, "true" if p.cloud_act else "false") for p in providers
            ),
        ),
    }


def build_catalog(
    providers: Sequence[Provider],
    regions: Sequence[Region],
    offerings: Sequence[Offering],
    *,
    source: str,
    captured: str,
    notes: str = "",
    rejected: Sequence[RejectedRow] = (),
    folded: Sequence[FoldedName] = (),
) -> Catalog:
    """A catalog whose manifest hash matches its tables (what :func:`save_snapshot` writes).

    ``rejected`` and ``folded`` are what the build's import rejected and folded (kept in the
    manifest for ``archipel catalog report``)."""
    tables = render_tables(providers, regions, offerings)
    manifest = Manifest(
        source,
        captured,
        SCHEMA_VERSION,
        content_sha256(tables),
        notes,
        tuple(rejected),
        tuple(folded),
    )
    return parse_tables(tables, manifest, "<memory>")


def save_snapshot(catalog: Catalog, path: Path) -> Manifest:
    """Write ``catalog`` as a snapshot directory (created if needed); return the manifest
    written, whose hash is recomputed from the tables (so a changed catalog stays loadable)."""
    tables = render_tables(catalog.providers, catalog.regions, catalog.offerings)
    m = catalog.manifest
    manifest = Manifest(
        m.source,
        m.captured,
        SCHEMA_VERSION,
        content_sha256(tables),
        m.notes,
        m.rejected,
        m.folded,
    )
    body = {
        "source": manifest.source,
        "captured": manifest.captured,
        "schema_version": manifest.schema_version,
        "content_sha256": manifest.content_sha256,
        "notes": manifest.notes,
        "rejected": [
            {"file": r.file, "line": r.line, "reason": r.reason} for r in manifest.rejected
        ],
        "folded": [
            {
                "provider": f.provider,
                "source_name": f.source_name,
                "accelerator": f.accelerator,
                "instance_types": list(f.instance_types),
                "rows": f.rows,
            }
            for f in manifest.folded
        ],
    }
    try:
        path.mkdir(parents=True, exist_ok=True)
        for name, data in tables.items():
            (path / name).write_bytes(data)
        (path / MANIFEST_JSON).write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot write the snapshot: {exc.strerror or exc}") from exc
    return manifest


def load_snapshot(path: Path) -> Catalog:
    """Read and check a snapshot directory; any problem raises ``CatalogError`` at file:line."""
    if not path.is_dir():
        raise CatalogError(
            f"{path}: not a snapshot directory (expected {', '.join(TABLES)} and "
            f"{MANIFEST_JSON}; build one with `archipel catalog import DIR --out "
            f"{path}`)"
        )
    files: dict[str, bytes] = {}
    for name in (*TABLES, MANIFEST_JSON):
        try:
            files[name] = (path / name).read_bytes()
        except OSError as exc:
            raise CatalogError(f"{path / name}: cannot read: {exc.strerror or exc}") from exc
    return parse_snapshot(files, str(path))


@functools.lru_cache(maxsize=1)
def load_builtin() -> Catalog:
    """The snapshot shipped with Archipel (read once per process; catalogs are immutable)."""
    root = resources.files("archipel.catalog").joinpath("data")
    files = {name: root.joinpath(name).read_bytes() for name in (*TABLES, MANIFEST_JSON)}
    return parse_snapshot(files, "archipel/catalog/data")


def parse_snapshot(files: Mapping[str, bytes], where: str) -> Catalog:
    """Check a snapshot's bytes (pure): manifest, hash, then every table row."""
    manifest = _parse_manifest(files[MANIFEST_JSON], f"{where}/{MANIFEST_JSON}")
    actual = content_sha256(files)
    if actual != manifest.content_sha256:
        raise CatalogError(
            f"{where}/{MANIFEST_JSON}: content_sha256 does not match the tables (manifest says "
            f"{manifest.content_sha256[:12]}…, the files hash to {actual[:12]}…): a table was "
            "edited after the snapshot was written. Rebuild it (archipel catalog import … --out) "
            "rather than editing the CSV files by hand."
        )
    return parse_tables(files, manifest, where)


def parse_tables(tables: Mapping[str, bytes], manifest: Manifest, where: str) -> Catalog:
    """The catalog in three CSV tables, with every row and cross-reference checked."""
    providers = _rows(
        tables[PROVIDERS_CSV], f"{where}/{PROVIDERS_CSV}", PROVIDER_COLUMNS, _provider
    )
    regions = _rows(tables[REGIONS_CSV], f"{where}/{REGIONS_CSV}", REGION_COLUMNS, _region)
    offerings = _rows(
        tables[OFFERINGS_CSV], f"{where}/{OFFERINGS_CSV}", OFFERING_COLUMNS, _offering
    )
    provider_ids = {p.id for p, _ in providers}
    region_ids = {r.id for r, _ in regions}
    for r, line in regions:
        if r.provider not in provider_ids:
            raise CatalogError(
                f"{where}/{REGIONS_CSV}:{line}: provider {r.provider!r} is not in {PROVIDERS_CSV}"
            )
    seen: dict[str, int] = {}
    for o, line in offerings:
        if o.region_id not in region_ids:
            raise CatalogError(
                f"{where}/{OFFERINGS_CSV}:{line}: region {o.region_id!r} is not in {REGIONS_CSV}"
            )
        if o.id in seen:
            raise CatalogError(
                f"{where}/{OFFERINGS_CSV}:{line}: offering {o.id} repeats line {seen[o.id]}"
            )
        seen[o.id] = line
    return Catalog(
        manifest,
        tuple(p for p, _ in providers),
        tuple(r for r, _ in regions),
        tuple(o for o, _ in offerings),
    )


def _num(x: float) -> str:
    """A number as the snapshot writes it: Python's shortest round-trip form of a float (numpy
    scalars included, whose repr is not a number)."""
    return repr(float(x))


def _csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _parse_manifest(data: bytes, file: str) -> Manifest:
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", 1)
        raise CatalogError(f"{file}:{line}: not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise CatalogError(f"{file}:1: expected a JSON object")
    for key, kind in (
        ("source", str),
        ("captured", str),
        ("schema_version", int),
        ("content_sha256", str),
    ):
        if not isinstance(body.get(key), kind):
            raise CatalogError(f"{file}:1: {key!r} is missing or not a {kind.__name__}")
    if body["schema_version"] != SCHEMA_VERSION:
        raise CatalogError(
            f"{file}:1: schema_version {body['schema_version']} is not {SCHEMA_VERSION}, the "
            "version this Archipel reads; rebuild the snapshot with this version"
        )
    return Manifest(
        body["source"],
        body["captured"],
        body["schema_version"],
        body["content_sha256"],
        str(body.get("notes", "")),
        _rejected_rows(body.get("rejected", []), file),
        _folded_names(body.get("folded", []), file),
    )


def _rejected_rows(items: object, file: str) -> tuple[RejectedRow, ...]:
    if not isinstance(items, list) or not all(
        isinstance(r, dict)
        and isinstance(r.get("file"), str)
        and isinstance(r.get("line"), int)
        and isinstance(r.get("reason"), str)
        for r in items
    ):
        raise CatalogError(f"{file}:1: 'rejected' must be a list of {{file, line, reason}}")
    return tuple(RejectedRow(r["file"], r["line"], r["reason"]) for r in items)


def _folded_names(items: object, file: str) -> tuple[FoldedName, ...]:
    def ok(f: object) -> bool:
        return (
            isinstance(f, dict)
            and all(isinstance(f.get(k), str) for k in ("provider", "source_name", "accelerator"))
            and isinstance(f.get("instance_types"), list)
            and all(isinstance(t, str) for t in f["instance_types"])
            and isinstance(f.get("rows"), int)
        )

    if not isinstance(items, list) or not all(ok(f) for f in items):
        raise CatalogError(
            f"{file}:1: 'folded' must be a list of {{provider, source_name, accelerator, "
            "instance_types, rows}"
        )
    return tuple(
        FoldedName(
            f["provider"], f["source_name"], f["accelerator"], tuple(f["instance_types"]), f["rows"]
        )
        for f in items
    )


def _rows(
    data: bytes, file: str, columns: Sequence[str], make: Callable[[dict[str, str]], _T]
) -> list[tuple[_T, int]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{file}: not UTF-8 text (byte {exc.start})") from exc
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(header) != tuple(columns):
        raise CatalogError(f"{file}:1: header must be {','.join(columns)}")
    out: list[tuple[_T, int]] = []
    for fields in reader:
        line = reader.line_num
        if len(fields) != len(columns):
            raise CatalogError(
                f"{file}:{line}: expected {len(columns)} fields, found {len(fields)}"
            )
        try:
            out.append((make(dict(zip(columns, fields, strict=True))), line))
        except ValueError as exc:
            raise CatalogError(f"{file}:{line}: {exc}") from None
    return out


def _float(row: Mapping[str, str], key: str, *, low: float, low_ok: bool = True) -> float:
    text = row[key]
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{key} {text!r} is not a number") from None
    if not math.isfinite(value) or value < low or (value == low and not low_ok):
        bound = "≥" if low_ok else ">"
        raise ValueError(f"{key} {text!r} must be a finite number {bound} {low:g}")
    return value


def _provider(row: dict[str, str]) -> Provider:
    if row["cloud_act"] not in ("true", "false"):
        raise ValueError(f"cloud_act {row['cloud_act']!r} must be true or false")
    if not row["id"] or len(row["hq_country"]) != 2:
        raise ValueError("id and a 2-letter hq_country are required")
    return Provider(row["id"], row["name"], row["hq_country"], row["cloud_act"] == "true")


def _region(row: dict[str, str]) -> Region:
    if not row["provider"] or not row["code"] or len(row["country"]) != 2:
        raise ValueError("provider, code and a 2-letter country are required")
    lat, lon = _float(row, "lat", low=-90), _float(row, "lon", low=-180)
    if lat > 90 or lon > 180:
        raise ValueError(f"lat/lon {lat}, {lon} out of range")
    tags = tuple(t for t in row["jurisdictions"].split(";") if t)
    return Region(
        row["provider"], row["code"], row["city"], row["country"], row["continent"], lat, lon, tags
    )


def _offering(row: dict[str, str]) -> Offering:
    flags = tuple(row["flags"].split(";")) if row["flags"] else ()
    problem = check_flags(flags)
    if problem is not None:
        raise ValueError(f"flags: {problem}")
    problem = check_accelerator(row["accelerator"], flags)
    if problem is not None:
        where = f"{row['provider']}:{row['region']}:{row['instance_type']}"
        raise ValueError(f"offering {where}: {problem}")
    try:
        option = PurchaseOption(row["purchase_option"])
    except ValueError:
        choices = ", ".join(p.value for p in PurchaseOption)
        raise ValueError(
            f"purchase_option {row['purchase_option']!r} is not one of {choices}"
        ) from None
    per_node = row["accelerators_per_node"]
    if not per_node.isdigit() or int(per_node) < 1:
        raise ValueError(f"accelerators_per_node {per_node!r} must be a whole number ≥ 1")
    max_nodes = None if row["max_nodes"] == "" else _float(row, "max_nodes", low=0)
    scale_up, fabric = row["scale_up"], row["fabric"]
    if scale_up and scale_up not in SCALE_UP_KINDS:
        raise ValueError(
            f"scale_up {scale_up!r} is not one of {', '.join(SCALE_UP_KINDS)} (or empty: unknown)"
        )
    if fabric and fabric not in FABRIC_KINDS:
        raise ValueError(
            f"fabric {fabric!r} is not one of {', '.join(FABRIC_KINDS)} (or empty: none)"
        )
    fabric_gbps = _float(row, "fabric_gbps", low=0)
    if bool(fabric) != (fabric_gbps > 0):
        raise ValueError(
            f"fabric {fabric!r} with fabric_gbps {row['fabric_gbps']}: give a fabric and its "
            "bandwidth together, or neither"
        )
    availability = _float(row, "availability", low=0, low_ok=False)
    if availability > 1 or (option is not PurchaseOption.SPOT and availability != 1):
        raise ValueError(f"availability {row['availability']} must be in (0, 1], and 1 unless spot")
    return Offering(
        provider=row["provider"],
        region=row["region"],
        instance_type=row["instance_type"],
        accelerator=row["accelerator"],
        accelerators_per_node=int(per_node),
        purchase_option=option,
        price_usd_per_node_hour=_float(row, "price_usd_per_node_hour", low=0, low_ok=False),
        interruptions_per_hour=_float(row, "interruptions_per_hour", low=0),
        max_nodes=max_nodes,
        scale_up=scale_up,
        fabric=fabric,
        fabric_gbps=fabric_gbps,
        availability=availability,
        flags=flags,
    )
