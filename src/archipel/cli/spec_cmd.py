"""``archipel validate`` and ``archipel schema``: check spec files, export the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from archipel.catalog.model import Catalog
from archipel.cli.paths import check_output_file, write_text
from archipel.errors import Issue, SpecError
from archipel.spec.check import CatalogLoader, validate_file
from archipel.spec.models import Spec
from archipel.spec.schema import json_schema


def _load_catalog(source: str) -> Catalog:
    """The catalog to check names against: 'builtin', or a snapshot directory's path."""
    from archipel.catalog import snapshot  # lazy: the catalog is only needed to run a command

    return snapshot.load_builtin() if source == "builtin" else snapshot.load_snapshot(Path(source))


def _counts(spec: Spec) -> dict[str, int]:
    return {
        "services": len(spec.services),
        "training_jobs": len(spec.training),
        "contracts": len(spec.contracts),
        "rules": len(spec.rules),
        "periods": spec.horizon.periods,
    }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary(file: Path, spec: Spec) -> Text:
    """One line per valid file; plain text (a file name is never read as markup or emoji)."""
    c = _counts(spec)
    h = spec.horizon
    return Text.assemble(
        (f"✓ {file}", "green"),
        f": {_plural(c['services'], 'service')}, "
        f"{_plural(c['training_jobs'], 'training job')}, {_plural(c['contracts'], 'contract')}, "
        f"{_plural(c['rules'], 'rule')}, {_plural(c['periods'], h.granularity)} from {h.start}",
    )


def _issue_json(issue: Issue) -> dict[str, object]:
    return {
        "file": issue.file,
        "line": issue.line,
        "column": issue.column,
        "path": issue.path,
        "message": issue.message,
        "hint": issue.hint,
    }


def validate(
    specs: Annotated[
        list[Path], typer.Argument(help="One or more spec files (YAML).", show_default=False)
    ],
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog",
            help="Catalog snapshot directory to check names against (default: the one each "
            "spec's catalog.source names, else the built-in one).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (for editors and CI).")
    ] = False,
) -> None:
    """Check spec files: YAML syntax, fields and values, references, and catalog names.

    Every problem of every file is reported at once, each as file:line:column: path: what is wrong — how to fix. For instance:

        fleet.yaml:13:12: services[0].model: unknown model 'chat-7b' — did you mean 'chat-70b'?

    Names (providers, regions, accelerators, instance types) are checked against the catalog the spec's catalog.source names (a snapshot directory, relative to the spec file; the built-in one by default), or against --catalog. Nothing is planned. Exit code 0 when every file is valid, 2 when any has a problem.

    Examples:

        archipel validate examples/small.yaml

        archipel validate fleet.yaml staging.yaml --catalog ./my-snapshot

        archipel validate fleet.yaml --json     # for editors and CI
    """
    cat: Catalog | CatalogLoader = _load_catalog if catalog is None else _load_catalog(str(catalog))
    issues: list[Issue] = []
    good: list[tuple[Path, Spec]] = []
    for path in specs:
        try:
            good.append((path, validate_file(path, cat)))
        except SpecError as exc:
            issues.extend(exc.issues)
    if as_json:
        out = {
            "ok": not issues,
            "issues": [_issue_json(i) for i in issues],
            "valid": [{"file": str(p), **_counts(s)} for p, s in good],
        }
        typer.echo(json.dumps(out, indent=2))
        if issues:
            raise typer.Exit(code=2)
        return
    console = Console(highlight=False, soft_wrap=True, emoji=False)
    for path, spec in good:
        console.print(_summary(path, spec))
    if issues:
        raise SpecError(issues)


def schema(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the schema to this file instead of stdout."),
    ] = None,
) -> None:
    """Print the JSON Schema of spec files, for completion and checks while you type.

    Editors that speak the YAML language server (VS Code's YAML extension, Neovim, Helix, JetBrains IDEs) then complete field names, show each field's description and unit, and underline wrong values before you run validate. Example:

        archipel schema --out archipel-spec.schema.json

    then make this the first line of your spec:

        # yaml-language-server: $schema=./archipel-spec.schema.json

    The schema checks shapes and ranges; names (providers, regions, models, data classes) are checked by `archipel validate`. The output file must not be one of your specs.
    """
    text = json.dumps(json_schema(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    write_text(check_output_file(out, "schema"), text, "schema")
    Console(stderr=True, highlight=False, emoji=False).print(
        Text.assemble(("✓", "green"), f" wrote {out}")
    )


def register(app: typer.Typer) -> None:
    """Add ``validate`` and ``schema`` to the ``archipel`` command line."""
    app.command("validate")(validate)
    app.command("schema")(schema)
