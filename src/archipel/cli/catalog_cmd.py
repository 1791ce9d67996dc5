"""``archipel catalog …``: import price catalogs, query offerings and regions, show a snapshot
and report what it assumes.

Thin adapter: the work is in :mod:`archipel.catalog` (importer, query, snapshot, report); this
module parses options, prints tables or JSON, and raises ``UserError`` subclasses that the
top-level ``main()`` prints without a traceback.

Output rules: ``--json`` prints JSON alone on stdout (notes go to stderr). Text that carries file
names, source text or numbers is printed with rich's emoji codes and highlighting off (a line
``vms.csv:100:`` must not become an emoji), and ``catalog offers`` / ``catalog report`` print plain
text that fits the terminal (80 columns when piped): columns are dropped by priority, long names
wrap only after a ``-``, ``_``, ``.``, ``:`` or space, never inside a word.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from archipel.catalog.flags import FLAG_ACCELERATOR_DECLARED
from archipel.catalog.importer import ImportReport, import_paths
from archipel.catalog.model import Catalog, suggest
from archipel.catalog.pricing_rules import declared_chips
from archipel.catalog.query import (
    OfferingQuery,
    SortKey,
    empty_jurisdictions,
    filter_offerings,
    sort_offerings,
)
from archipel.catalog.regions import PROVIDERS
from archipel.catalog.report import catalog_report
from archipel.catalog.snapshot import build_catalog, load_builtin, load_snapshot, save_snapshot
from archipel.cli.catalog_text import (
    import_json,
    offer_lines,
    offering_json,
    para,
    print_import,
    report_lines,
)
from archipel.cli.commitments_cmd import commitments_command
from archipel.errors import UnknownNameError
from archipel.perf.accelerators import ACCELERATORS, canonical_name

CATALOG_HELP = (
    "Price catalogs: import public SkyPilot-format vms.csv files, list offerings and regions.\n\n"
    "Archipel ships a built-in snapshot (see `archipel catalog show`); every command reads it "
    "unless --catalog names another snapshot directory."
)

CatalogOption = Annotated[
    Path | None,
    typer.Option("--catalog", help="Snapshot directory to read instead of the built-in one."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register(app: typer.Typer) -> None:
    """Add the ``catalog`` command group to ``app``."""
    sub = typer.Typer(name="catalog", help=CATALOG_HELP, no_args_is_help=True)
    sub.command("import")(import_command)
    sub.command("offers")(offers_command)
    sub.command("regions")(regions_command)
    sub.command("show")(show_command)
    sub.command("report")(report_command)
    sub.command("commitments")(commitments_command)
    app.add_typer(sub, name="catalog")


def _console(*, stderr: bool = False) -> Console:
    """A console that never turns text into emoji (``:100:``) nor highlights numbers."""
    return Console(stderr=stderr, emoji=False, highlight=False)


def import_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Catalog files, or directories searched for *.csv.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the offerings as a snapshot directory here."),
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider",
            help="Provider of every file (default: recognised from its instance-type names).",
        ),
    ] = None,
    accelerator: Annotated[
        list[str] | None,
        typer.Option(
            "--accelerator",
            "-a",
            help="A chip of your own, outside the facts table (A10G, a lab's own chip): keep "
            "its rows under this name instead of skipping them; repeat or comma-separate. "
            "Its facts go in the spec's `accelerators:`.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Import SkyPilot-format vms.csv catalogs and account for every row.

    Each file's rows are kept (priced offerings), skipped with a counted reason (CPU-only,
    accelerators outside the facts table, fractional GPUs…) or rejected with file:line and
    reason (wrong field count, bad number, missing region, price ≤ 0…).

    Chips of your own: rows of a chip outside the facts table are kept when --accelerator
    names it (case-insensitively), under that name, flagged accelerator-declared. A built-in
    chip or alias (H100, trn2) is refused: the built-in one is used. The chip's facts, from
    its data sheet or your measurements, go in the spec that plans with the snapshot (a spec
    that does not declare the chip cannot plan on its offerings):

      accelerators:
        - {name: A10G, vendor: NVIDIA, kind: gpu, memory_gib: 24,
           bf16_tflops: 70, memory_bandwidth_tb_per_s: 0.6}

    Examples:

      archipel catalog import ../shared/data/catalogs

      archipel catalog import gcp/vms.csv aws/vms.csv --out my-snapshot

      archipel catalog import azure/vms.csv --json | jq '.files[].rejected'

      archipel catalog import aws/vms.csv --accelerator A10G --out my-snapshot
    """
    declared = _split(accelerator)
    declared_chips(declared)  # a name that cannot be declared fails before any work
    if out is not None:
        from archipel.catalog.snapshot import MANIFEST_JSON, TABLES
        from archipel.cli.paths import check_output_dir

        check_output_dir(out, "snapshot", inputs=paths, writes=(*TABLES, MANIFEST_JSON))
    err = _console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=json_output,
    ) as progress:
        tasks: dict[Path, TaskID] = {}

        def on_file(path: Path, done: int, total: int) -> None:
            if path not in tasks:
                tasks[path] = progress.add_task(escape(path.name), total=total)
            progress.update(tasks[path], completed=done)

        report = import_paths(paths, provider=provider, on_file=on_file, declared=declared)
    written = _write_import_snapshot(report, out, paths) if out is not None else None
    if json_output:
        body = import_json(report)
        if written is not None:
            body["snapshot"] = written
        typer.echo(json.dumps(body, indent=2))
        return
    print_import(_console(), report, written)


def offers_command(
    accelerator: Annotated[
        list[str] | None,
        typer.Option(
            "--accelerator",
            "-a",
            help="Accelerator, any alias (H100, trn2, tpu-v5e); repeat or comma-separate.",
        ),
    ] = None,
    provider: Annotated[
        list[str] | None, typer.Option("--provider", "-p", help="Provider id (aws, gcp, …).")
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", "-r", help="Region: provider:code or a bare code."),
    ] = None,
    jurisdiction: Annotated[
        list[str] | None,
        typer.Option("--jurisdiction", "-j", help="Jurisdiction tag (EU) or country (DE)."),
    ] = None,
    purchase_option: Annotated[
        list[str] | None,
        typer.Option("--purchase-option", help="on_demand, spot or reserved."),
    ] = None,
    max_usd_per_accelerator_hour: Annotated[
        float | None,
        typer.Option("--max-usd-per-accelerator-hour", help="Price cap per accelerator-hour."),
    ] = None,
    fabric: Annotated[
        bool,
        typer.Option(
            "--fabric",
            help="Only instance types with a scale-out fabric between nodes (EFA, InfiniBand, "
            "RoCE, GPUDirect-TCPX/TCPXO): what multi-node replicas and training gangs need.",
        ),
    ] = False,
    exclude_assumed: Annotated[
        bool,
        typer.Option(
            "--exclude-assumed",
            help="Leave out flagged offerings, whose topology, spot rates or regional "
            "availability is assumed (see `archipel catalog report`).",
        ),
    ] = False,
    sort: Annotated[
        SortKey, typer.Option("--sort", help="Sort key (cheapest first).")
    ] = SortKey.USD_PER_ACCELERATOR_HOUR,
    descending: Annotated[bool, typer.Option("--descending", help="Reverse the order.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="Rows to show; 0 = all.")] = 20,
    json_output: JsonOption = False,
    catalog: CatalogOption = None,
) -> None:
    """List offerings, cheapest per accelerator-hour first, with each node's scale-up link and
    scale-out fabric; rows marked * rest on an assumption (`archipel catalog report`).

    Examples:

      archipel catalog offers -a H100 -j EU

      archipel catalog offers -a H100,H200 --fabric --exclude-assumed --limit 10

      archipel catalog offers -a H100,H200 --purchase-option spot --limit 5

      archipel catalog offers -p aws -a trn2 --max-usd-per-accelerator-hour 3 --json
    """
    cat = _catalog(catalog)
    chips = _chips(cat, _split(accelerator))
    query = OfferingQuery(
        providers=_split(provider),
        regions=_split(region),
        jurisdictions=_split(jurisdiction),
        purchase_options=_split(purchase_option),
        max_usd_per_accelerator_hour=max_usd_per_accelerator_hour,
        fabric_only=fabric,
        exclude_assumed=exclude_assumed,
    )
    found = sort_offerings(
        (o for o in filter_offerings(cat, query) if chips is None or o.accelerator in chips),
        sort,
        descending=descending,
    )
    shown = found if limit <= 0 else found[:limit]
    notes = [
        f"the catalog has no region in {tag}: no offerings there (it is a valid EU/EEA "
        "country; pick a neighbouring one or EU)"
        for tag in empty_jurisdictions(cat, query.jurisdictions)
    ]
    if json_output:
        typer.echo(json.dumps([offering_json(o) for o in shown], indent=2))
        for note in notes:
            typer.echo(f"note: {note}", err=True)
        return
    typer.echo(f"{len(shown)} of {len(found)} offerings")
    if shown:
        for line in offer_lines(shown, _console().width):
            typer.echo(line)
    width = _console().width
    lines = []
    if any(o.flags for o in shown):
        lines += para(
            "* flagged: rests on an assumption (archipel catalog report says which); "
            "--exclude-assumed leaves these out",
            width,
            "",
        )
    for note in notes:
        lines += para(f"note: {note}", width, "")
    for line in lines:
        typer.echo(line)


def regions_command(
    provider: Annotated[
        list[str] | None, typer.Option("--provider", "-p", help="Provider id; repeatable.")
    ] = None,
    json_output: JsonOption = False,
    catalog: CatalogOption = None,
) -> None:
    """List regions with their location, jurisdiction and number of offerings.

    Examples:

      archipel catalog regions -p nebius

      archipel catalog regions --json | jq '.[] | select(.jurisdictions == ["EU"])'
    """
    cat = _catalog(catalog)
    wanted = {cat.provider(p).id for p in _split(provider)}
    regions = [r for r in cat.regions if not wanted or r.provider in wanted]
    counts = Counter(o.region_id for o in cat.offerings)
    if json_output:
        body = [
            {
                "id": r.id,
                "provider": r.provider,
                "code": r.code,
                "city": r.city,
                "country": r.country,
                "continent": r.continent,
                "lat": r.lat,
                "lon": r.lon,
                "jurisdictions": list(r.jurisdictions),
                "offerings": counts[r.id],
            }
            for r in regions
        ]
        typer.echo(json.dumps(body, indent=2))
        return
    table = Table(title=f"{len(regions)} regions", title_justify="left")
    for name in (
        "region",
        "city",
        "country",
        "continent",
        "lat",
        "lon",
        "jurisdictions",
        "offerings",
    ):
        table.add_column(name)
    for r in regions:
        table.add_row(
            escape(r.id),
            escape(r.city),
            r.country,
            r.continent,
            f"{r.lat:.3f}",
            f"{r.lon:.3f}",
            ",".join(r.jurisdictions),
            str(counts[r.id]),
        )
    _console().print(table)


def show_command(json_output: JsonOption = False, catalog: CatalogOption = None) -> None:
    """Show a snapshot's manifest (source, capture date, schema, hash) and what it holds.

    Examples:

      archipel catalog show

      archipel catalog show --catalog my-snapshot --json
    """
    cat = _catalog(catalog)
    m = cat.manifest
    by_provider = Counter(o.provider for o in cat.offerings)
    by_accelerator = Counter(o.accelerator for o in cat.offerings)
    if json_output:
        body = {
            "source": m.source,
            "captured": m.captured,
            "schema_version": m.schema_version,
            "content_sha256": m.content_sha256,
            "notes": m.notes,
            "providers": len(cat.providers),
            "regions": len(cat.regions),
            "offerings": len(cat.offerings),
            "offerings_by_provider": dict(by_provider),
            "offerings_by_accelerator": dict(by_accelerator),
        }
        typer.echo(json.dumps(body, indent=2))
        return
    out = _console()
    for label, value in (
        ("source", m.source),
        ("captured", m.captured),
        ("schema", str(m.schema_version)),
        ("sha256", m.content_sha256),
        ("notes", m.notes),
    ):
        out.print(f"[bold]{label}[/]: {escape(value)}")
    out.print(
        f"[bold]holds[/]: {len(cat.providers)} providers, {len(cat.regions)} regions, "
        f"{len(cat.offerings)} offerings"
    )
    out.print("  by provider: " + ", ".join(f"{p} {n}" for p, n in sorted(by_provider.items())))
    out.print(
        "  by accelerator: " + ", ".join(f"{a} {n}" for a, n in sorted(by_accelerator.items()))
    )


def report_command(json_output: JsonOption = False, catalog: CatalogOption = None) -> None:
    """Report what a snapshot holds and what it assumes: offerings, regions and accelerators per
    provider; flagged rows per flag, with what each flag means and how to avoid it; the source
    rows the build rejected, by reason; the accelerator names folded onto chips; and topology
    coverage (offerings whose scale-up link is known, documented, with a fabric).

    Examples:

      archipel catalog report

      archipel catalog report --json | jq '.flags[] | {flag, rows}'

      archipel catalog report --catalog my-snapshot
    """
    cat = _catalog(catalog)
    report = catalog_report(cat)
    if json_output:
        body = {
            "snapshot": {
                "source": cat.manifest.source,
                "captured": cat.manifest.captured,
                "schema_version": cat.manifest.schema_version,
                "content_sha256": cat.manifest.content_sha256,
            },
            **report.to_json(),
        }
        typer.echo(json.dumps(body, indent=2))
        return
    for line in report_lines(cat, report, _console().width):
        typer.echo(line)


def _catalog(path: Path | None) -> Catalog:
    return load_builtin() if path is None else load_snapshot(path)


def _chips(cat: Catalog, names: Sequence[str]) -> frozenset[str] | None:
    """The chips ``names`` select: built-in ones by any alias, chips of your own (rows flagged
    accelerator-declared) by name, case-insensitively; None (no names) selects every chip.
    A name that is neither raises with suggestions from both."""
    if not names:
        return None
    own = {
        o.accelerator.lower(): o.accelerator
        for o in cat.offerings
        if FLAG_ACCELERATOR_DECLARED in o.flags
    }
    wanted = set()
    for name in names:
        chip = canonical_name(name) or own.get(name.strip().lower())
        if chip is None:
            pool = [*ACCELERATORS, *own.values()]
            raise UnknownNameError("accelerator", name, suggest(name, pool))
        wanted.add(chip)
    return frozenset(wanted)


def _split(values: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for item in values or () for v in item.split(",") if v.strip())


def _write_import_snapshot(
    report: ImportReport, out: Path, paths: Sequence[Path]
) -> dict[str, Any]:
    """Save the imported offerings with the built-in region facts; offerings in regions that
    have no facts cannot be planned with and are left out (counted per region, not silently)."""
    regions = load_builtin().regions
    known = {r.id for r in regions}
    kept = [o for o in report.offerings if o.region_id in known]
    left_out = Counter(o.region_id for o in report.offerings if o.region_id not in known)
    source = "archipel catalog import " + " ".join(str(p) for p in paths)
    notes = (
        "Imported with the built-in region facts; "
        f"{sum(left_out.values())} offerings in regions without facts left out."
    )
    if report.declared:
        notes += (
            f" Chips of your own ({', '.join(report.declared)}): rows flagged "
            f"{FLAG_ACCELERATOR_DECLARED}; their facts come from the spec's `accelerators:`."
        )
    catalog = build_catalog(
        PROVIDERS,
        regions,
        kept,
        source=source,
        captured=datetime.date.today().isoformat(),
        notes=notes,
        rejected=report.rejected,
        folded=report.folded,
    )
    manifest = save_snapshot(catalog, out)
    return {
        "path": str(out),
        "offerings": len(kept),
        "content_sha256": manifest.content_sha256,
        "left_out_by_region": dict(sorted(left_out.items())),
    }
