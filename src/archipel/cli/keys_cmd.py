"""``archipel keys list|add|revoke``: the API keys of an ``archipel server`` (admin role).

Same ``--server`` and ``--key`` as the other clients (:mod:`archipel.cli.server_cmd`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from archipel.cli.server_cmd import DEFAULT_SERVER, Client, JsonOpt, KeyOpt, ServerOpt, _out

keys_app = typer.Typer(
    help="API keys of an archipel server (admin): list, add, revoke.",
    no_args_is_help=True,
)


@keys_app.command("list")
def list_keys(
    server_url: ServerOpt = DEFAULT_SERVER, key: KeyOpt = "", json_out: JsonOpt = False
) -> None:
    """Every key: id, name, role, group, revoked or not (never a secret)."""
    rows = Client(server_url, key).call("GET", "/api/keys")
    if json_out:
        _out(rows)
        return
    typer.echo(f"{'id':<13} {'name':<24} {'role':<9} {'group':<16} state")
    for k in rows:
        state = "revoked" if k["revoked"] else "active"
        typer.echo(
            f"{k['id']:<13} {k['name'][:24]:<24} {k['role']:<9} {k['group'][:16]:<16} {state}"
        )


@keys_app.command("add")
def add_key(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. ann@lab or ci-bot.")],
    role: Annotated[
        str, typer.Option(help="viewer, planner, approver or admin (each includes the last).")
    ],
    group: Annotated[
        str, typer.Option(help="Approvals need approvers from distinct groups.")
    ] = "default",
    server_url: ServerOpt = DEFAULT_SERVER,
    key: KeyOpt = "",
    json_out: JsonOpt = False,
) -> None:
    """Make a key. It is printed once: only its hash is stored.

    Example:

      archipel keys add ann@lab --role approver --group finance
    """
    made = Client(server_url, key).call(
        "POST", "/api/keys", {"name": name, "role": role, "group": group}
    )
    if json_out:
        _out(made)
        return
    typer.echo(f"key {made['id']} ({made['name']}, {made['role']}, group {made['group']})")
    typer.echo(f"{made['key']}")
    typer.echo("shown once: keep it now", err=True)


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key's id (`archipel keys list`).")],
    server_url: ServerOpt = DEFAULT_SERVER,
    key: KeyOpt = "",
) -> None:
    """Revoke a key for good (audited).

    The last admin key cannot be revoked: add another admin key first. Other server processes
    sharing the database stop trusting the key within 10 s.
    """
    Client(server_url, key).call("DELETE", f"/api/keys/{key_id}")
    typer.echo(f"revoked key {key_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
