"""``archipel export``: a plan period as SkyPilot tasks, Kubernetes manifests and endpoints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.text import Text

from archipel.cli.plan_cmd import CatalogOpt, SpecArg, _load
from archipel.errors import UserError
from archipel.export.endpoints import DEFAULT_TEMPLATE, FIELDS


def _print_bundle(console: Console, s: dict[str, Any], where: str) -> None:
    allocs = s["allocations"]
    sky = sum(1 for a in allocs if any(f.startswith("skypilot/") for f in a["files"]))
    k8s = sum(1 for a in allocs if any(f.startswith("kubernetes/") for f in a["files"]))
    services = sum(1 for a in allocs if a["kind"] == "service")
    console.print(
        Text.assemble(
            (f"period {s['period']} ({s['period_label']})", "bold"), f": {s['period_reason']}"
        )
    )
    console.print(
        f"  {len(allocs)} allocations: {sky} SkyPilot tasks, {k8s} Kubernetes manifests, "
        f"{services} endpoints"
    )
    if s["left_out"]:
        console.print(Text(f"  not exported ({len(s['left_out'])}):", style="yellow"))
        for x in s["left_out"]:
            console.print(f"  - {x['key']}")
            console.print(f"    {x['target']}: {x['reason']}")
    console.print(Text.assemble(("wrote", "green"), f" {where}"), soft_wrap=True)


def export(
    spec_path: SpecArg,
    plan_path: Annotated[
        Path,
        typer.Argument(
            help="The plan JSON (`archipel plan SPEC --out PLAN.json`).",
            metavar="PLAN.json",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Directory for the bundle (new, empty, or an earlier export, which is replaced).",
            show_default=False,
        ),
    ],
    period: Annotated[
        int | None,
        typer.Option(
            "--period",
            help="The plan period to export (0-based; default: the one containing today, "
            "else the first).",
        ),
    ] = None,
    all_periods: Annotated[
        bool,
        typer.Option(
            "--all-periods", help="Every period that places anything, one sub-directory each."
        ),
    ] = False,
    endpoint_template: Annotated[
        str,
        typer.Option(
            "--endpoint-template",
            help="URL of each deployment in endpoints.yaml; fields: "
            + ", ".join("{" + f + "}" for f in FIELDS)
            + ".",
        ),
    ] = DEFAULT_TEMPLATE,
    catalog_path: CatalogOpt = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print what was written as JSON on stdout.")
    ] = False,
) -> None:
    """Hand a plan to execution: SkyPilot tasks, Kubernetes manifests, gateway endpoints.

    For every allocation of one period (default: the one containing today, else the first) it writes:

    skypilot/NAME.yaml: a SkyPilot task (`sky launch`) with the allocation's cloud, region, instance type, accelerators, spot and nodes; a service starts its replicas of vLLM (`vllm serve $MODEL`, ports 8000 up), a training run `torchrun` with $TRAIN_SCRIPT (`sky launch FILE --env TRAIN_SCRIPT=train.py`). Clouds SkyPilot lacks (Hyperstack, your own) are listed as not exported.

    kubernetes/NAME.yaml: a Deployment and Service per serving allocation (a LeaderWorkerSet when a replica spans nodes), a Job per training run (indexed for a gang), requesting the vendor's accelerator resource (nvidia.com/gpu, amd.com/gpu, aws.amazon.com/neuron, google.com/tpu) on nodes of the instance type and region: `kubectl apply -f kubernetes/`.

    endpoints.yaml: the gateway's endpoints (`archipel gateway serve --endpoints`), one per deployment; URLs from --endpoint-template (default: the Services above).

    bundle.json: what was written, and what was not and why.

    NAME is SERVICE-INDEX (INDEX: the deployment's place in the period's routing table) or JOB-train-I. Review images and engine flags before deploying: the files place what the plan says; how your models start is yours to check.

    Examples:

      archipel plan examples/small.yaml --out plan.json

      archipel export examples/small.yaml plan.json --out bundle/

      archipel export examples/small.yaml plan.json --out bundle/ --period 2

      archipel export examples/small.yaml plan.json --out all/ --all-periods

      archipel export SPEC plan.json --out b/ --endpoint-template 'https://{name}.example.com'
    """
    from archipel.cli.paths import check_output_dir
    from archipel.export.bundle import build, build_all, summary, write, write_files
    from archipel.report.planfile import load_plan
    from archipel.report.terminal import make_console
    from archipel.spec.models import Spec

    if all_periods and period is not None:
        raise UserError("--period and --all-periods exclude each other; give one of them")
    check_output_dir(out, "--out", inputs=[spec_path, plan_path])
    loaded, catalog = _load(spec_path, catalog_path)
    spec = cast(Spec, loaded)  # _load returns the validated Spec
    plan = load_plan(plan_path)
    console = make_console(stderr=json_out)
    if all_periods:
        bundles, files = build_all(spec, catalog, plan, endpoint_template=endpoint_template)
        write_files(files, out)
        report: dict[str, Any] = json.loads(files["bundle.json"]) | {"out": str(out)}
        if not json_out:
            for b, s in zip(bundles, report["periods"], strict=True):
                _print_bundle(console, s, f"{out / s['dir']} ({len(b.files)} files)")
    else:
        bundle = build(spec, catalog, plan, period=period, endpoint_template=endpoint_template)
        write(bundle, out)
        report = summary(bundle) | {"out": str(out)}
        if not json_out:
            _print_bundle(console, report, f"{out} ({len(bundle.files)} files)")
    if json_out:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
