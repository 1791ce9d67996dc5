"""``archipel server`` and its clients: ``archipel plans``, ``review``, ``approve``, ``apply``.

The clients talk to a server over HTTP (httpx): ``--server`` (or ``$ARCHIPEL_SERVER``, default
http://127.0.0.1:8750) and ``--key`` (or ``$ARCHIPEL_KEY``). A plan is named by its id or an
unambiguous prefix of it (6 characters or more).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from archipel.errors import RuntimeFailure, UserError

DEFAULT_PORT = 8750
DEFAULT_SERVER = f"http://127.0.0.1:{DEFAULT_PORT}"
MIN_PREFIX = 6

ServerOpt = Annotated[
    str,
    typer.Option("--server", envvar="ARCHIPEL_SERVER", help="The server's URL ($ARCHIPEL_SERVER)."),
]
KeyOpt = Annotated[
    str,
    typer.Option(
        "--key",
        envvar="ARCHIPEL_KEY",
        help="Your API key ($ARCHIPEL_KEY); `archipel server` prints the admin key once.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout (nothing else).")]
PlanArg = Annotated[str, typer.Argument(help="A plan id, or 6+ leading characters of one.")]


def server(
    db: Annotated[
        str,
        typer.Option(
            "--db",
            envvar="ARCHIPEL_DB",
            help="A SQLite file (created if absent) or postgresql://user@host/db.",
        ),
    ] = "archipel.db",
    host: Annotated[
        str, typer.Option(help="Address to listen on; 127.0.0.1 keeps it on this machine.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = DEFAULT_PORT,
    seed: Annotated[
        Path | None,
        typer.Option("--seed", help="Plan this spec at start (if not stored yet), to look at."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="A YAML policy file: gates and the approval rule."),
    ] = None,
) -> None:
    """Start the control plane: API, jobs and dashboard, on one database.

    With no options: the SQLite file ./archipel.db (created and migrated), on
    http://127.0.0.1:8750. The first start creates an admin key and prints it once; keep it
    (only its hash is stored). The dashboard is at /, the API's OpenAPI at /api/docs.

    Examples:

      archipel server --seed examples/small.yaml

      archipel server --db postgresql://archipel@db:5432/archipel --host 0.0.0.0

      archipel server --policy policy.yaml
    """
    try:
        import uvicorn

        from archipel.api.app import create_app
        from archipel.api.review import default_policy, load_policy
        from archipel.store.repo import Store
    except ModuleNotFoundError as exc:
        raise UserError(
            f"the control plane needs {exc.name}: pip install 'archipel[server]'"
        ) from exc
    rules = load_policy(policy) if policy is not None else default_policy()
    store = Store.open(db)
    if store.count_keys() == 0:
        _, token = store.add_key("admin", "admin", "admin", "archipel server")
        typer.echo(f"admin key (shown once, keep it): {token}")
    if seed is not None:
        _seed(store, seed)
    typer.echo(f"Archipel control plane on http://{host}:{port}/ (database {db}); Ctrl-C stops")
    uvicorn.run(create_app(store, rules), host=host, port=port, log_level="warning", ws="none")


def _seed(store: Any, path: Path) -> None:
    from archipel.api.planning import SolveOptions, address_of, load_spec, solve
    from archipel.store.repo import NotFound

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    spec, catalog = load_spec(text, str(path))
    options = SolveOptions()
    try:
        store.get_plan(address_of(text, catalog, options))
        typer.echo(f"seed: {path} is planned already")
    except NotFound:
        typer.echo(f"seed: planning {path}…")
        new = solve(text, spec, catalog, options, lambda _m: None)
        plan_id, _ = store.insert_plan(new, "admin")
        typer.echo(f"seed: plan {plan_id[:12]} stored")


class Client:
    """The few HTTP calls the commands make; errors become UserError/RuntimeFailure."""

    def __init__(self, server_url: str, key: str, transport: Any = None) -> None:
        if not key:
            raise UserError(
                "no API key: pass --key or set ARCHIPEL_KEY (the server printed the admin key "
                "when it first started; an admin makes others with POST /api/keys)"
            )
        self.base_url = server_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {key}"}
        self.transport = transport

    def call(self, method: str, path: str, body: Any = None) -> Any:
        import httpx

        try:
            with httpx.Client(
                base_url=self.base_url,
                headers=self.headers,
                timeout=60.0,
                transport=self.transport,
            ) as http:
                r = http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise RuntimeFailure(
                f"cannot reach the server at {self.base_url}: {exc}. Is `archipel server` "
                "running? (--server or ARCHIPEL_SERVER)"
            ) from exc
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            raise UserError(f"server said {r.status_code}: {detail}")
        ctype = r.headers.get("content-type", "")
        return r.json() if ctype.startswith("application/json") else r.content

    def plan_id(self, prefix: str) -> str:
        if len(prefix) == 64:
            return prefix
        if len(prefix) < MIN_PREFIX:
            raise UserError(f"give at least {MIN_PREFIX} characters of the plan id")
        found = [p["id"] for p in self.call("GET", "/api/plans?limit=500")["plans"]]
        hits = [p for p in found if p.startswith(prefix)]
        if len(hits) != 1:
            raise UserError(
                f"{'no' if not hits else 'more than one'} plan starts with {prefix!r}; "
                "`archipel plans` lists them"
            )
        return str(hits[0])


def _out(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _usd(v: float | None) -> str:
    from archipel.report.fmt import format_usd

    return "—" if v is None else format_usd(v)


def plans(
    server_url: ServerOpt = DEFAULT_SERVER,
    key: KeyOpt = "",
    submit: Annotated[
        Path | None, typer.Option("--submit", help="Send this spec to be planned (a job).")
    ] = None,
    wait: Annotated[bool, typer.Option(help="With --submit: wait for the plan.")] = True,
    spend_csv: Annotated[
        Path | None, typer.Option("--spend", help="Record a usage CSV (FOCUS columns).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    json_out: JsonOpt = False,
) -> None:
    """List the plans a server holds; or submit a spec; or record actual spend.

    Examples:

      archipel plans

      archipel plans --submit examples/small.yaml

      archipel plans --spend usage-2026-01.csv
    """
    import time

    client = Client(server_url, key)
    if spend_csv is not None:
        text = _read(spend_csv)
        done = client.call("POST", "/api/spend", {"csv": text})
        _out(done) if json_out else typer.echo(
            f"recorded {done['rows']} rows, {_usd(done['billed_cost_usd'])}"
        )
        return
    if submit is not None:
        job = client.call("POST", "/api/plans", {"spec_yaml": _read(submit)})
        while wait and job["state"] in ("queued", "running"):
            time.sleep(0.5)
            job = client.call("GET", f"/api/jobs/{job['id']}")
            if not json_out:
                typer.echo(f"  {job['progress']}", err=True)
        if json_out:
            _out(job)
        elif job["state"] == "failed":
            raise UserError(f"the plan failed: {job['error']}")
        else:
            typer.echo(f"job {job['id']}: {job['state']}; plan {job['plan_id'] or '(pending)'}")
        return
    listing = client.call("GET", f"/api/plans?limit={limit}")
    if json_out:
        _out(listing)
        return
    for p in listing["plans"]:
        typer.echo(
            f"{p['id'][:12]}  {p['state']:<10} {p['plan_status']:<10} "
            f"{_usd(p['objective_usd']):>12}  {p['spec_name'][:30]}"
        )
    if not listing["plans"]:
        typer.echo("no plans yet: archipel plans --submit SPEC")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot be read: {exc.strerror or exc}") from exc


def review(
    plan: PlanArg,
    server_url: ServerOpt = DEFAULT_SERVER,
    key: KeyOpt = "",
    outlook: Annotated[
        Path | None,
        typer.Option("--outlook", help="Attach `archipel outlook --json` output first."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Send a plan for review and show it: diff against the applied plan, risk, gates.

    Examples:

      archipel review 4b7b4b39f83a

      archipel review 4b7b4b39f83a --outlook outlook.json
    """
    client = Client(server_url, key)
    plan_id = client.plan_id(plan)
    if outlook is not None:
        try:
            document = json.loads(_read(outlook))
        except json.JSONDecodeError as exc:
            raise UserError(f"{outlook}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
        client.call("POST", f"/api/plans/{plan_id}/outlook", {"document": document})
    r = client.call("POST", f"/api/plans/{plan_id}/review")
    if json_out:
        _out(r)
        return
    d = r["diff"]
    against = r["applied_plan_id"][:12] if r["applied_plan_id"] else "nothing applied (rev 0)"
    lines = [
        f"plan {plan_id[:12]} ({r['plan']['spec_name']}), {r['plan']['state']}",
        f"against: {against}, applied revision {r['applied_revision']}",
        f"cost: {_usd(d['old_objective_usd'])} -> {_usd(d['new_objective_usd'])}",
        f"unused commitment: {_usd(r['unused_commitment_usd'])}; "
        f"shortfall: {_usd(r['shortfall_usd'])}",
    ]
    if r["outlook"]:
        o = r["outlook"]
        lines.append(
            "outlook: CVaR95 "
            + _usd(o.get("cvar95_usd"))
            + ", stranded "
            + _usd(o.get("expected_stranded_usd"))
        )
    lines.append(f"placements: {d['placements_changed']} changed")
    for g in r["gates"]:
        result = "ok" if g["passed"] else ("BLOCKS" if g["blocks"] else "fails")
        lines.append(f"  gate {g['name'][:30]:<30} {g['level']:<11} {result}")
    for a in r["approvals"]:
        counts = "" if a["counts"] else " (stale)"
        lines.append(f"  {a['decision']}d by {a['approver']} ({a['group']}){counts}")
    lines.append("ready to apply" if r["ready"] else "not ready:")
    lines += [f"  - {m}" for m in r["missing"]]
    typer.echo("\n".join(lines))


def approve(
    plan: PlanArg,
    server_url: ServerOpt = DEFAULT_SERVER,
    key: KeyOpt = "",
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead.")] = False,
    comment: Annotated[str, typer.Option(help="Why, for the record.")] = "",
    override: Annotated[
        list[str] | None,
        typer.Option(help="GATE=REASON: override an overridable gate, with a reason."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Approve (or --reject) a plan under review; bound to its hash and the applied revision.

    Example:

      archipel approve 4b7b4b39f83a --override one-provider-share="single-cloud pilot"
    """
    overrides: dict[str, str] = {}
    for item in override or []:
        gate, sep, reason = item.partition("=")
        if not sep or not reason.strip():
            raise UserError(f"--override {item!r}: write GATE=REASON")
        overrides[gate.strip()] = reason.strip()
    client = Client(server_url, key)
    plan_id = client.plan_id(plan)
    body = {
        "decision": "reject" if reject else "approve",
        "comment": comment,
        "overrides": overrides,
    }
    r = client.call("POST", f"/api/plans/{plan_id}/decisions", body)
    _out(r) if json_out else typer.echo(
        f"{r['decision']}d plan {plan_id[:12]} at applied revision {r['base_revision']}"
    )


def apply(
    plan: PlanArg,
    server_url: ServerOpt = DEFAULT_SERVER,
    key: KeyOpt = "",
    download: Annotated[
        Path | None, typer.Option("--download", help="Write the exported files here.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Apply an approved plan: refused if it or the applied revision changed since approval.

    Example:

      archipel apply 4b7b4b39f83a --download deploy/
    """
    client = Client(server_url, key)
    plan_id = client.plan_id(plan)
    r = client.call("POST", f"/api/plans/{plan_id}/apply")
    if download is not None:
        for f in r["files"]:
            target = download / f["name"]
            if not target.resolve().is_relative_to(download.resolve()):
                raise UserError(f"the server sent a file name outside {download}: {f['name']}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(client.call("GET", f"/api/applies/{r['id']}/files/{f['name']}"))
    if json_out:
        _out(r)
        return
    typer.echo(f"applied plan {plan_id[:12]} as revision {r['revision']}; {r['export_note']}")


def register(app: typer.Typer) -> None:
    app.command("server")(server)
    app.command("plans")(plans)
    app.command("review")(review)
    app.command("approve")(approve)
    app.command("apply")(apply)
