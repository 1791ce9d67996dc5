"""Solver versions benchmark: the main job's build and solve under different ``highspy`` versions.

Each interpreter given (``--python``, repeatable; this one is always first) is a virtual
environment with a different ``highspy`` and Archipel's other dependencies. Each run is a fresh
process of that interpreter which plans ``examples/frontier-lab.yaml`` as ``archipel plan``
does (spec validated against the built-in catalog, ``prepare``, ``plan_lp``, the independent
verifier) and times build and solve in wall and CPU seconds. The Archipel code is always this
checkout's ``src`` (put first on ``PYTHONPATH``, ahead of whatever copy the venv has installed;
each run prints the path it imported), so only the interpreter's packages differ. Runs
alternate between the interpreters, and the order rotates every round so that no version
always runs first or last. One JSON line per run (highspy, numpy and scipy versions, wall,
CPU, objective, bound, gap, status, verified, load average), then a summary line per
interpreter and view (min and median of build and solve).

Making such a venv (any highspy version on the package index; from the repository root)::

    python3 -m venv /tmp/hv1.15.1
    /tmp/hv1.15.1/bin/pip install highspy==1.15.1 numpy scipy pydantic pyyaml typer rich httpx
    /tmp/hv1.15.1/bin/pip install --no-deps -e .

(the last step is optional here, since the checkout's ``src`` is imported first anyway). Run:
``python benchmarks/run.py solvers --python /tmp/hv1.15.1/bin/python --python
/tmp/hv1.12.0/bin/python [--rounds N] [--views whole,fractional]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from measure import (
    ROOT,
    Clock,
    PlanPhases,
    emit,
    json_lines,
    loadavg,
    peak_rss_mb,
    python_env,
    run_timed,
    spread,
)

SPEC = Path("examples/frontier-lab.yaml")
VIEWS = ("whole", "fractional")


def child(view: str) -> dict[str, Any]:
    """Build and solve the main job once, in this (fresh) process."""
    import importlib.metadata as md
    import platform

    import archipel
    from archipel.catalog.snapshot import load_builtin
    from archipel.plan.inputs import prepare
    from archipel.plan.planner import PlanOptions, plan_lp
    from archipel.plan.verify import verify
    from archipel.spec.check import validate_file_with_catalog

    spec, catalog = validate_file_with_catalog(SPEC, load_builtin())
    phases = PlanPhases("prepare")
    inputs = prepare(spec, catalog)
    plan = plan_lp(inputs, PlanOptions(whole_nodes=view == "whole"), phases.progress)
    phases.switch("verify")
    clock = Clock()
    report = verify(plan, inputs) if plan.allocations else None
    spans = {**phases.spans, "verify": clock.lap()}
    return {
        "highspy": md.version("highspy"),
        "numpy": md.version("numpy"),
        "scipy": md.version("scipy"),
        "python_version": platform.python_version(),
        "archipel_from": str(Path(archipel.__file__).parent),
        **{phase: span.as_dict() for phase, span in spans.items()},
        "status": plan.status.value,
        "objective_usd": plan.objective_usd,
        "lower_bound_usd": plan.lower_bound_usd,
        "gap": plan.gap,
        "verified": report.exact if report else None,
        "verification_problems": report.problems[:3] if report else [],
        "blocks": plan.stats.get("blocks"),
        "mip_blocks": plan.stats.get("mip_blocks"),
        "peak_rss_mb": peak_rss_mb(),
    }


def run_one(python: str, view: str, round_: int) -> dict[str, Any]:
    load = loadavg()
    argv = [python, __file__, "--child", view]
    done = run_timed(argv, env=python_env([ROOT / "src"]))
    found = json_lines(done.stdout)
    record: dict[str, Any] = {"benchmark": "solvers", "kind": "run", "python": python}
    record.update(view=view, round=round_)
    if done.exit_code != 0 or not found:
        record["error"] = done.stderr.strip()[-2000:]
    else:
        record.update(found[-1])
    record["process"] = done.figures()
    record["loadavg"] = load
    return record


def summarize(python: str, view: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in rows if "error" not in r]
    out: dict[str, Any] = {"benchmark": "solvers", "kind": "summary", "python": python}
    out.update(view=view, runs=len(rows), errors=len(rows) - len(ok))
    out["highspy"] = ok[0]["highspy"] if ok else None
    for phase in ("build", "solve"):
        out[phase] = {
            "wall_s": spread(r[phase]["wall_s"] for r in ok),
            "cpu_s": spread(r[phase]["cpu_s"] for r in ok),
        }
    out["process_wall_s"] = spread(r["process"]["wall_s"] for r in ok)
    out["objectives_usd"] = sorted({r["objective_usd"] for r in ok if r["objective_usd"]})
    out["gaps"] = sorted({r["gap"] for r in ok if r["gap"] is not None})
    out["statuses"] = sorted({r["status"] for r in ok})
    out["all_verified"] = bool(ok) and all(r["verified"] for r in ok)
    out["loadavg"] = loadavg()
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="run.py solvers", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--python", action="append", default=[], help="another venv's interpreter (repeatable)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs per interpreter and view")
    parser.add_argument("--views", default=",".join(VIEWS), help="whole,fractional")
    args = parser.parse_args(argv)
    pythons = [sys.executable, *(p for p in args.python if p != sys.executable)]
    views = [v for v in args.views.split(",") if v]
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for round_ in range(args.rounds):
        shift = round_ % len(pythons)
        for view in views:
            for python in pythons[shift:] + pythons[:shift]:
                record = run_one(python, view, round_)
                emit(record)
                rows.setdefault((python, view), []).append(record)
    summaries = [summarize(p, v, rows[(p, v)]) for p in pythons for v in views]
    for s in summaries:
        emit(s)
    return summaries


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        emit(child(sys.argv[2]))
    else:
        main(sys.argv[1:])
