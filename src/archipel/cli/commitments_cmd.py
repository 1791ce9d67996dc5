"""``archipel catalog commitments``: the documented discount levels of purchasable commitments.

Lists :data:`archipel.catalog.commitments.COMMITMENT_LEVELS` — per provider, kind and term the
program, its discount off on-demand (or that none is published), whether the level is exact or a
headline "up to" one (an assumption when a reservation option uses it), the payment options and
the page it was read from, with the date. Plain text that fits the terminal, or ``--json``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from archipel.catalog.commitments import KINDS, CommitmentLevel, levels
from archipel.cli.catalog_text import Column, render_columns
from archipel.errors import UnknownNameError


def _term(c: CommitmentLevel) -> str:
    if c.term_months is None:
        return "varies"
    return f"{c.term_months // 12} y" if c.term_months % 12 == 0 else f"{c.term_months} mo"


def _level(c: CommitmentLevel) -> str:
    if c.level_pct is None:
        return "quote"
    return f"up to {c.level_pct:g}%" if c.basis == "up_to" else f"{c.level_pct:g}%"


def level_json(c: CommitmentLevel) -> dict[str, Any]:
    return {
        "provider": c.provider,
        "kind": c.kind,
        "program": c.program,
        "term_months": c.term_months,
        "level_pct": c.level_pct,
        "basis": c.basis,
        "assumed": c.assumed,
        "upfront": c.upfront,
        "url": c.url,
        "retrieved": c.retrieved,
        "note": c.note,
    }


def commitments_command(
    provider: Annotated[
        str | None, typer.Option("--provider", "-p", help="Only this provider (aws, gcp, …).")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", "-k", help=f"Only this kind: {', '.join(KINDS)}."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of a table.")
    ] = False,
) -> None:
    """List the documented discount levels of reservations, capacity blocks, committed-use
    discounts and savings plans, each with its source page and the date it was read.

    A spec's `reservations:` option without discount_pct takes the level of its provider, kind
    and term; an "up to" level is the provider's best case and is flagged as an assumption.

    Examples:

      archipel catalog commitments

      archipel catalog commitments --provider aws --json
    """
    if kind is not None and kind not in KINDS:
        raise UnknownNameError("commitment kind", kind, [k for k in KINDS if kind in k])
    shown = levels(provider, kind)
    if provider is not None and not shown and not levels(provider):
        known = sorted({c.provider for c in levels()})
        raise UnknownNameError("provider with documented commitments", provider, known)
    if json_output:
        typer.echo(json.dumps([level_json(c) for c in shown], indent=2))
        return
    urls = list(dict.fromkeys(c.url for c in shown))
    columns = (
        Column("provider"),
        Column("kind"),
        Column("term"),
        Column("discount", right=True),
        Column("program", wrap=True),
        Column("src", right=True),
    )
    rows = [
        (c.provider, c.kind, _term(c), _level(c), c.program, f"[{urls.index(c.url) + 1}]")
        for c in shown
    ]
    for line in render_columns(columns, rows, Console(emoji=False, highlight=False).width):
        typer.echo(line)
    typer.echo("")
    typer.echo("Sources (each read on the date given; levels change):")
    for k, url in enumerate(urls, 1):
        date = next(c.retrieved for c in shown if c.url == url)
        typer.echo(f"  [{k}] {url} ({date})")
    typer.echo("'up to': the provider's headline best case, flagged discount-assumed when a")
    typer.echo("reservation option uses it; 'quote': no level published, the option must give")
    typer.echo(
        "discount_pct; 'varies': the term is chosen per purchase. Notes and payment: --json."
    )
