"""The ``archipel`` command line. Each command group lives in its own module and registers here.

User errors print their message (no traceback) and exit 2; runtime failures exit 3.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from archipel.cli import catalog_cmd, plan_cmd, show_cmd, spec_cmd
from archipel.errors import RuntimeFailure, UserError

app = typer.Typer(
    name="archipel",
    help=(
        "Plan AI compute across many clouds.\n\n"
        "Describe workloads, contracts and rules in a YAML spec; Archipel finds the cost-optimal "
        "placement (provider, region, accelerator, purchase option, per period) that honours "
        "every rule, checks it with an independent verifier and reports it.\n\n"
        "Start with:  archipel validate examples/small.yaml  then  archipel plan examples/frontier-lab.yaml"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if not value:
        return
    try:
        number = version("archipel")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from archipel import __version__ as number
    typer.echo(f"archipel {number}")
    raise typer.Exit()


@app.callback()
def _options(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


spec_cmd.register(app)
catalog_cmd.register(app)
plan_cmd.register(app)
show_cmd.register(app)


def main() -> None:
    """Console-script entry point: run the app, turning Archipel errors into clean exits."""
    err = Console(stderr=True, soft_wrap=True)
    try:
        app()
    except UserError as exc:
        err.print(f"[bold red]error[/] [dim]({exc.code})[/]: {escape(str(exc))}", highlight=False)
        sys.exit(2)
    except RuntimeFailure as exc:
        err.print(f"[bold red]failure[/] [dim]({exc.code})[/]: {escape(str(exc))}", highlight=False)
        sys.exit(3)
