"""The ``archipel`` command line. Each command group lives in its own module and registers here.

Exit codes (also in ``archipel --help`` and docs/cli.md):

    0    done: the spec is valid, the plan is found and verified, the plan holds
    1    the answer is "no": no plan meets the spec (infeasible, or none found in the time
         limit), or a plan fails verification
    2    bad input: a spec, plan, catalog or option is wrong (the message says where and how
         to fix), or an output path cannot be written
    3    runtime failure: something outside the input failed (the solver, the disk, memory)
    130  interrupted (Ctrl-C)

No input makes Archipel print a Python traceback: user errors, interrupts, and input that
exhausts the stack or memory all end with one message.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from archipel.cli import (
    audit_cmd,
    catalog_cmd,
    export_cmd,
    gateway_cmd,
    keys_cmd,
    outlook_cmd,
    plan_cmd,
    server_cmd,
    show_cmd,
    simulate_cmd,
    spec_cmd,
    whatif_cmd,
)
from archipel.errors import RuntimeFailure, UserError

EXIT_CODES = (
    "Exit codes: 0 done; 1 the answer is no (no plan meets the spec, or a plan fails "
    "verification); 2 bad input (spec, plan, catalog, option or output path); 3 runtime failure "
    "(solver, disk, memory); 130 interrupted."
)

app = typer.Typer(
    name="archipel",
    help=(
        "Plan AI compute across many clouds.\n\n"
        "Describe workloads, contracts and rules in a YAML spec; Archipel finds the cost-optimal "
        "placement (provider, region, accelerator, purchase option, per period) that honours "
        "every rule, checks it with an independent verifier and reports it.\n\n"
        "Start with:  archipel validate examples/small.yaml  then  archipel plan examples/frontier-lab.yaml"
    ),
    epilog=EXIT_CODES,
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
    try:
        solver = f", HiGHS {version('highspy')}"
    except PackageNotFoundError:
        solver = ""
    typer.echo(f"archipel {number}{solver}")
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
simulate_cmd.register(app)
server_cmd.register(app)
keys_cmd.register(app)
audit_cmd.register(app)
whatif_cmd.register(app)
outlook_cmd.register(app)
export_cmd.register(app)
gateway_cmd.register(app)

INTERRUPTED = 130


def _say(console: Console, label: str, code: str, message: str) -> None:
    """One error line, the message printed as plain text (no markup, no emoji codes)."""
    head = Text(label, "bold red")
    if code:
        head.append(" ").append(f"({code})", "dim")
    console.print(head + Text(": " + message), highlight=False)


def main() -> None:
    """Console-script entry point: run the app, turning every failure into a clean exit."""
    err = Console(stderr=True, soft_wrap=True, emoji=False, highlight=False)
    try:
        app()
    except UserError as exc:
        _say(err, "error", exc.code, str(exc))
        sys.exit(2)
    except RuntimeFailure as exc:
        _say(err, "failure", exc.code, str(exc))
        sys.exit(3)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(INTERRUPTED)
    except SystemExit as exc:
        if exc.code == INTERRUPTED:  # typer turns Ctrl-C inside a command into exit 130
            err.print("interrupted")
        raise
    except RecursionError:
        _say(
            err,
            "error",
            "",
            "the input is nested too deeply to be read; a spec or plan file is a few levels "
            "deep — check the file's brackets and indentation",
        )
        sys.exit(2)
    except MemoryError:
        _say(
            err,
            "failure",
            "",
            "out of memory; the input may be too large for this machine (plan fewer periods "
            "or split the fleet), or another program holds the memory",
        )
        sys.exit(3)
