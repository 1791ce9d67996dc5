"""``archipel validate`` and ``archipel schema``: check spec files, export the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from archipel.catalog.model import Catalog
from archipel.errors import Issue, SpecError
from archipel.spec.check import validate_file
from archipel.spec.models import Spec
from archipel.spec.schema import json_schema


def _load_catalog(path: Path | None) -> Catalog:
    """The catalog to check names against: a snapshot directory, or the built-in one."""
    from archipel.catalog import snapshot  # lazy: the catalog is only needed to run a command

    return snapshot.load_builtin() if path is None else snapshot.load_snapshot(path)


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


def _summary(file: Path, spec: Spec) -> str:
    c = _counts(spec)
    h = spec.horizon
    return (
        f"[green]✓ {escape(str(file))}[/]: {_plural(c['services'], 'service')}, "
        f"{_plural(c['training_jobs'], 'training job')}, {_plural(c['contracts'], 'contract')}, "
        f"{_plural(c['rules'], 'rule')}, {_plural(c['periods'], h.granularity)} from {h.start}"
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
            help="Catalog snapshot directory to check names against (default: the built-in one).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (for editors and CI).")
    ] = False,
) -> None:
    """Check spec files: YAML syntax, fields and values, references, and catalog names.

    Every problem of every file is reported at once, as

        file:line:column: path: what is wrong — how to fix

    and the command exits with code 2 when there is any. It never plans anything.

    Examples:

        archipel validate examples/small.yaml

        archipel validate fleet.yaml staging.yaml --catalog ./my-snapshot

        archipel validate fleet.yaml --json
    """
    cat = _load_catalog(catalog)
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
    console = Console(highlight=False, soft_wrap=True)
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
    """Print the JSON Schema of spec files, for editor completion and checks while typing.

    Example, with the YAML language server (VS Code's YAML extension, Neovim, …):

        archipel schema --out archipel-spec.schema.json

    then put this first line in your spec:

        # yaml-language-server: $schema=./archipel-spec.schema.json
    """
    text = json.dumps(json_schema(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    Console(stderr=True, highlight=False).print(f"[green]✓[/] wrote {escape(str(out))}")


def register(app: typer.Typer) -> None:
    """Add ``validate`` and ``schema`` to the ``archipel`` command line."""
    app.command("validate")(validate)
    app.command("schema")(schema)
