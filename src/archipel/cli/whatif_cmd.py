"""``archipel whatif``: re-plan a spec with changes and show what moves against a base plan.

The changes edit the spec's YAML before it is validated (:mod:`archipel.spec.overrides`), so
every check runs on the changed spec; the diff is :func:`archipel.report.diff.diff_plans`, as
``archipel diff`` prints it.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.text import Text

from archipel.catalog.model import Catalog
from archipel.errors import RuntimeFailure, UserError
from archipel.plan.result import Plan, Status
from archipel.report.diff import PlanDiff
from archipel.spec.models import Spec
from archipel.spec.overrides import Change, Changed, Landed

_NO_PLAN = {
    Status.TIME_LIMIT: "no plan found for the changed spec within the time limit (--time-limit)",
    Status.ERROR: "the solver failed on the changed spec",
}
MAX_VALUE_CHARS = 40
"""Longest old value shown next to a change; longer ones are cut with '…'."""


def _changes(sets: list[str], drops: list[str], lost: list[str]) -> list[Change]:
    from archipel.spec.overrides import lose_provider, parse_drop, parse_set

    changes = [
        *(parse_set(s) for s in sets),
        *(parse_drop(d) for d in drops),
        *(lose_provider(n) for n in lost),
    ]
    if not changes:
        raise UserError(
            "nothing to change: give --set PATH=VALUE, --drop PATH or --lose-provider NAME "
            "(`archipel whatif --help` has examples)"
        )
    return changes


def _validate(
    spec_path: Path, changes: list[Change], catalog_path: Path | None
) -> tuple[Spec, Spec, Catalog, Changed]:
    from archipel.catalog.snapshot import load_builtin, load_snapshot
    from archipel.spec.load import read_text
    from archipel.spec.overrides import validate_changed

    def loader(source: str) -> Catalog:
        return load_builtin() if source == "builtin" else load_snapshot(Path(source))

    given = load_snapshot(catalog_path) if catalog_path is not None else None
    text = read_text(spec_path)
    return validate_changed(text, str(spec_path), changes, given if given is not None else loader)


def _brief(value: Any) -> str:
    """A value as short YAML, cut to :data:`MAX_VALUE_CHARS`."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False)
    text = text.removesuffix("\n").removesuffix("\n...").strip()
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _what(x: Landed) -> str:
    """What a change did, in a few words."""
    from archipel.spec.yaml_reader import format_path

    where = format_path(x.file_path)
    if x.change.option == "--lose-provider":
        return f"{where}: max_accelerators 0 for the whole horizon"
    if x.change.option == "--drop":
        return f"removed {where} (was {_brief(x.old_value)})"
    if not x.had_value:
        return f"{where} added (was not written)"
    return f"{where} was {_brief(x.old_value)}"


def _lost(spec: Spec, changes: list[Change]) -> dict[str, dict[str, list[str]]]:
    """Per lost provider, the spec's contracts with it (they stay as signed) and its rules
    that name it (they stay too)."""
    lost = [c.value for c in changes if c.option == "--lose-provider"]
    return {
        p: {
            "contracts": [c.id for c in spec.contracts if c.provider == p],
            "rules": _rules_naming(spec, p),
        }
        for p in lost
    }


def _rules_naming(spec: Spec, provider: str) -> list[str]:
    """The spec's rules that name ``provider`` (a traffic ramp onto it, an exclusivity)."""
    out = []
    for i, rule in enumerate(spec.rules):
        named = [getattr(rule, "provider", None), *(getattr(rule, "providers", None) or [])]
        if provider in named:
            out.append(f"rules[{i}] ({rule.kind})")
    return out


def _base_from(path: Path | None, plan: Plan, spec: Spec) -> str:
    """Where the base plan comes from, in a few words."""
    if path is None:
        return f"the spec as written, planned now ({plan.status.value})"
    note = (
        f"; note: it was planned for '{plan.spec_name}', not '{spec.name}'"
        if plan.spec_name != spec.name
        else ""
    )
    return f"{path} ({plan.status.value}){note}"


def _feasible(plan: Plan) -> bool:
    return plan.status in (Status.OPTIMAL, Status.FEASIBLE)


def _new_value(changed: Changed, x: Landed) -> Any:
    """The value a change wrote (None for a drop)."""
    if x.change.option == "--drop":
        return None
    from archipel.spec.override_paths import read_path
    from archipel.spec.yaml_reader import format_path

    return read_path(changed.document.data, format_path(x.path))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _diff_json(d: PlanDiff) -> dict[str, Any]:
    def values(changes: tuple[Any, ...]) -> list[dict[str, Any]]:
        return [{"name": c.name, "old": c.old, "new": c.new, "delta": c.delta} for c in changes]

    return {
        "old_status": d.old_status.value,
        "new_status": d.new_status.value,
        "old_verified": d.old_verified,
        "new_verified": d.new_verified,
        "old_objective_usd": d.old_objective_usd,
        "new_objective_usd": d.new_objective_usd,
        "objective_delta_usd": d.objective_delta_usd,
        "old_egress_usd": d.old_egress_usd,
        "new_egress_usd": d.new_egress_usd,
        "old_unused_commitment_usd": d.old_unused_usd,
        "new_unused_commitment_usd": d.new_unused_usd,
        "unchanged": d.is_empty,
        "providers": values(d.providers),
        "periods": values(d.periods),
        "purchase_options": values(d.purchase_options),
        "placements": [
            {
                "change": p.kind,
                **p.key._asdict(),
                "old_accelerator_hours": p.old_accelerator_hours,
                "new_accelerator_hours": p.new_accelerator_hours,
                "old_cost_usd": p.old_cost_usd,
                "new_cost_usd": p.new_cost_usd,
                "cost_delta_usd": p.cost_delta_usd,
            }
            for p in d.placements
        ],
        "unchanged_placements": d.unchanged_placements,
        "contracts": [
            {**asdict(c), "shortfall_delta_usd": c.shortfall_delta_usd} for c in d.contracts
        ],
        "survivability": [
            {**asdict(s), "old_ok": s.old_ok, "new_ok": s.new_ok} for s in d.survivability
        ],
    }


def _report_json(
    spec_path: Path,
    changed: Changed,
    base: Plan,
    base_from: str,
    base_file: str | None,
    new: Plan,
    d: PlanDiff,
    lost: dict[str, dict[str, list[str]]],
) -> str:
    from archipel.spec.yaml_reader import format_path

    body = {
        "spec": str(spec_path),
        "changes": [
            {
                "option": x.change.option,
                "text": x.change.text,
                "path": format_path(x.file_path),
                "had_value": x.had_value,
                "old_value": x.old_value,
                "new_value": _new_value(changed, x),
            }
            for x in changed.landed
        ],
        "base": {
            "from": base_from,
            "file": base_file,
            "status": base.status.value,
            "objective_usd": base.objective_usd,
        },
        "feasible": _feasible(new),
        "status": new.status.value,
        "verified": new.verified,
        "objective_usd": new.objective_usd,
        "infeasibility": [b.model_dump() for b in new.infeasibility],
        "lost_providers": [{"provider": p, **named} for p, named in lost.items()],
        "diff": _diff_json(d),
    }
    return json.dumps(body, indent=2, default=_jsonable) + "\n"


def _render(
    console: Console,
    name: str,
    changed: Changed,
    base_from: str,
    new: Plan,
    d: PlanDiff,
    lost: dict[str, dict[str, list[str]]],
) -> None:
    from archipel.report.diff import render_diff
    from archipel.report.fmt import format_usd
    from archipel.report.terminal import render_summary

    console.rule(Text(f"What if — {name}", style="bold"))
    for x in changed.landed:
        console.print(Text(x.change.origin, style="bold"), highlight=False)
        console.print(Text(f"  {_what(x)}", style="dim"), highlight=False)
    console.print(Text(f"base: {base_from}"), highlight=False)
    if _feasible(new):
        verdict = Text("a plan still meets the changed spec", style="green")
        verdict.append(f" ({new.status.value}, {format_usd(new.objective_usd)})", style="")
    else:
        verdict = Text(_NO_PLAN.get(new.status, "no plan meets the changed spec"), "bold red")
        verdict.append(f" ({new.status.value})", style="")
    if lost:
        console.print(Text.assemble(f"without {' and '.join(lost)}: ", verdict), highlight=False)
    for provider, named in lost.items():
        rules, contracts = named["rules"], named["contracts"]
        if rules and not _feasible(new):
            console.print(
                Text(f"  rules that name {provider}: {', '.join(rules)}", style="dim"),
                highlight=False,
            )
        if contracts:
            ids = ", ".join(contracts)
            drops = " ".join(f"--drop contracts[{c}]" for c in contracts)
            console.print(
                Text(
                    f"  contracts with {provider} stay as signed ({ids}); if losing it voids "
                    f"them, add {drops}",
                    style="dim",
                ),
                highlight=False,
            )
    if not lost:
        console.print(Text.assemble("answer: ", verdict), highlight=False)
    console.print()
    if _feasible(new):
        render_diff(d, console)
    else:
        render_summary(new, console)


def whatif(
    spec_path: Annotated[
        Path, typer.Argument(help="The fleet spec (YAML).", metavar="SPEC", show_default=False)
    ],
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="PATH=VALUE",
            help="Change a value: dotted keys, list items by \\[index], \\[id or name] or "
            "\\[field=value]; VALUE is YAML (12, null, \\[a, b], {x: 1}). Repeat for more.",
        ),
    ] = None,
    drops: Annotated[
        list[str] | None,
        typer.Option(
            "--drop",
            metavar="PATH",
            help="Remove a list item or a field (e.g. rules\\[residency]). Repeat for more.",
        ),
    ] = None,
    lost: Annotated[
        list[str] | None,
        typer.Option(
            "--lose-provider",
            metavar="NAME",
            help="Plan with the provider unavailable for the whole horizon (a capacity limit "
            "of zero accelerators); says whether a plan still exists.",
        ),
    ] = None,
    base_path: Annotated[
        Path | None,
        typer.Option(
            "--base",
            metavar="PLAN.json",
            help="Compare with this plan (from `archipel plan --out`) instead of planning "
            "the spec as written.",
        ),
    ] = None,
    json_out: Annotated[
        bool,
        typer.Option("--json", help="Print the changes, the answer and the diff as JSON."),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the changed spec's plan JSON here.")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write the changed spec's plan as an HTML report."),
    ] = None,
    time_limit_s: Annotated[
        float | None,
        typer.Option("--time-limit", help="Seconds per plan; the best plan so far is kept."),
    ] = None,
    rule_costs: Annotated[
        bool,
        typer.Option(help="Price each rule of the changed plan by re-solving without it (slower)."),
    ] = False,
    catalog_path: Annotated[
        Path | None,
        typer.Option(
            "--catalog", help="A snapshot directory instead of the spec's catalog source."
        ),
    ] = None,
) -> None:
    r"""Re-plan a spec with changes and show what moves against the plan without them.

    The changes apply to the spec's YAML before it is checked, so every check runs on the changed spec; a problem they cause names the option (--set contracts\[aws].discount_pct=150: …). Quote PATHs in a shell: brackets are patterns there.

    A PATH is dotted keys, list items in brackets: by index, by id or name, by kind when one item has it (rules without an id), or by field=value. A VALUE is YAML. Every PATH refers to the spec as written; the --sets apply in order, then the --drops, then --lose-provider.

    The base is the spec as written, planned now, or the plan given with --base. The diff is the one `archipel diff` prints; when no plan meets the changed spec, the reasons instead.

    Exit codes: 0 a verified plan meets the changed spec; 1 none does; 2 bad input (a path that does not exist, a changed spec that does not hold); 3 a failure of Archipel or the solver.

    Examples:

      archipel whatif examples/small.yaml --set 'services\[chat].demand.by_geography.paris=\[80, 100, 120, 150]'

      archipel whatif fleet.yaml --set 'contracts\[aws-2025].discount_pct=12' --base plan.json

      archipel whatif fleet.yaml --set 'services\[api].demand.growth_pct_per_year=60'

      archipel whatif fleet.yaml --drop 'contracts\[oci-2027]' --out without-oci.json

      archipel whatif examples/small.yaml --drop 'rules\[residency]' --drop 'services\[chat].data_class'

      archipel whatif examples/small.yaml --lose-provider nebius --json | jq .feasible
    """
    from archipel.cli.paths import check_output_file, write_text
    from archipel.plan.planner import PlanOptions, make_plan
    from archipel.report.diff import diff_plans
    from archipel.report.planfile import load_plan, save_plan
    from archipel.report.terminal import make_console

    changes = _changes(sets or [], drops or [], lost or [])
    inputs = [spec_path, *([base_path] if base_path is not None else [])]
    if out is not None:
        check_output_file(out, "plan", inputs=inputs, others=[("report", report)])
    if report is not None:
        check_output_file(report, "report", inputs=inputs)
    console = make_console(stderr=json_out)
    base_spec, spec, catalog, changed = _validate(spec_path, changes, catalog_path)
    base_plan = load_plan(base_path) if base_path is not None else None
    options = PlanOptions(time_limit_s=time_limit_s, rule_costs=rule_costs)
    with console.status("planning…") as status:
        if base_plan is None:
            status.update("planning the spec as written…")
            plain = PlanOptions(time_limit_s=time_limit_s, rule_costs=False)
            base_plan = make_plan(base_spec, catalog, "lp", plain)
        status.update("planning the changed spec…")
        new = make_plan(spec, catalog, "lp", options, lambda m: status.update(m))
    if new.allocations and not new.verified:
        problems = "\n".join(f"  - {p}" for p in new.verification_problems[:20])
        raise RuntimeFailure(
            "the changed spec's plan failed independent verification, so it is not shown; "
            f"this is a bug in Archipel's planner. Problems:\n{problems}"
        )
    base_from = _base_from(base_path, base_plan, base_spec)
    d = diff_plans(base_plan, new)
    lost_contracts = _lost(spec, changes)
    if out is not None:
        save_plan(new, out)
    if report is not None:
        from archipel.report.html import render_html

        coords = {r.id: (r.lat, r.lon) for r in catalog.regions}
        write_text(report, render_html(new, region_coords=coords), "report")
    if json_out:
        sys.stdout.write(
            _report_json(
                spec_path,
                changed,
                base_plan,
                base_from,
                None if base_path is None else str(base_path),
                new,
                d,
                lost_contracts,
            )
        )
    else:
        _render(console, spec.name, changed, base_from, new, d, lost_contracts)
        for path, what in ((out, "plan"), (report, "report")):
            if path is not None:
                console.print(f"wrote {what} to {path}", markup=False, highlight=False)
    if not _feasible(new):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("whatif")(whatif)
