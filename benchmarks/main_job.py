"""Main job benchmark: ``archipel plan examples/frontier-lab.yaml`` end to end, in phases.

Two measurements per view (whole nodes, and the fractional view ``--fractional``), taken in
turn in each round (the order flips every round, so that neither always runs first):

- **phases**: a fresh Python process does what the ``plan`` command does, step by step, and
  times each step in wall and CPU seconds: Python start and the imports of the command (wall
  from the moment the parent launched the process; CPU since the process began), catalog load,
  spec read and validation (``validate_file_with_catalog``, the catalog load taken out),
  prepare, build, solve, extract, rule costs, verify (``make_plan``, split at its progress messages), the
  terminal summary (rendered as when piped) and the HTML report (rendered and written to a
  temporary file). One JSON line per run.
- **command**: the command itself, ``archipel plan examples/frontier-lab.yaml [--fractional]``
  as a user runs it (and once more with ``--report``), timed as a child process: wall, and the
  child's own user+system time and peak memory from ``os.wait4``. Verified means exit code 0
  (the command shows no unverified plan) and "verified ✓" in its summary. One JSON line per run.

Then one summary line per view: min and median over the runs of every phase and of the
command, the load average, the highspy version, objective, bound, gap, blocks and the
verification result. The issue's goal is a verified plan in under 20 s wall on a quiet
2-core machine; the summary prints the slowest command run next to that goal (nothing is
asserted). Run: ``python benchmarks/run.py main [--runs N] [--views whole,fractional]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from measure import (
    ROOT,
    Clock,
    PlanPhases,
    Span,
    emit,
    json_lines,
    loadavg,
    peak_rss_mb,
    python_env,
    run_timed,
    spread,
)

SPEC = Path("examples/frontier-lab.yaml")
GOAL_WALL_S = 20.0
VIEWS = ("whole", "fractional")
PHASES = (
    "start_import",
    "catalog_load",
    "spec_validate",
    "prepare",
    "build",
    "solve",
    "extract",
    "rule_costs",
    "verify",
    "summary_render",
    "html_render",
)


def child(view: str, launched_at: float) -> dict[str, Any]:
    """The phases of one ``archipel plan`` run, in this (fresh) process."""
    # the imports the plan command makes, typer app and lazy imports alike
    import contextlib
    import importlib.metadata as md
    import io
    import tempfile

    import archipel.cli
    import archipel.plan.greedy
    import archipel.plan.verify
    import archipel.report.planfile
    from archipel.catalog.model import Catalog
    from archipel.catalog.snapshot import load_builtin, load_snapshot
    from archipel.cli.paths import write_text
    from archipel.plan.planner import PlanOptions, make_plan
    from archipel.report.html import render_html
    from archipel.report.terminal import make_console, render_summary
    from archipel.spec.check import validate_file_with_catalog

    # imported as the command imports them (make_plan imports greedy and verify when called)
    del archipel.cli, archipel.plan.greedy, archipel.plan.verify, archipel.report.planfile
    spans = {"start_import": Span(time.time() - launched_at, time.process_time())}
    clock = Clock()
    catalog_span = Span(0.0, 0.0)

    def loader(source: str) -> Catalog:
        nonlocal catalog_span
        inner = Clock()
        catalog = load_builtin() if source == "builtin" else load_snapshot(Path(source))
        catalog_span = inner.lap()
        return catalog

    spec, catalog = validate_file_with_catalog(SPEC, loader)
    both = clock.lap()
    spans["catalog_load"] = catalog_span
    spans["spec_validate"] = Span(
        both.wall_s - catalog_span.wall_s, both.cpu_s - catalog_span.cpu_s
    )

    options = PlanOptions(whole_nodes=view == "whole")
    phases = PlanPhases("prepare")
    plan = make_plan(spec, catalog, "lp", options, phases.progress)
    phases.switch("done")
    spans.update(phases.spans)

    clock.lap()
    with contextlib.redirect_stdout(io.StringIO()) as text:
        render_summary(plan, make_console())
    spans["summary_render"] = clock.lap()
    with tempfile.TemporaryDirectory() as tmp:
        coords = {r.id: (r.lat, r.lon) for r in catalog.regions}
        write_text(Path(tmp) / "plan.html", render_html(plan, region_coords=coords), "report")
        spans["html_render"] = clock.lap()
    return {
        "phases": {name: span.as_dict() for name, span in spans.items()},
        "planner_timings_s": {k: round(v, 4) for k, v in plan.timings_s.items()},
        "highspy": md.version("highspy"),
        "status": plan.status.value,
        "objective_usd": plan.objective_usd,
        "lower_bound_usd": plan.lower_bound_usd,
        "gap": plan.gap,
        "verified": plan.verified,
        "verification_problems": plan.verification_problems[:3],
        "summary_chars": len(text.getvalue()),
        **{k: plan.stats.get(k) for k in ("variables", "blocks", "mip_blocks")},
        "peak_rss_mb": peak_rss_mb(),
    }


def _archipel_command() -> list[str]:
    script = Path(sys.executable).parent / "archipel"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from archipel.cli import main; main()"]


def run_phases(view: str, run: int) -> dict[str, Any]:
    load = loadavg()
    argv = [sys.executable, __file__, "--child", view, "--launched-at", repr(time.time())]
    done = run_timed(argv, env=python_env([ROOT / "src"]))
    found = json_lines(done.stdout)
    record: dict[str, Any] = {"benchmark": "main", "kind": "phases", "view": view, "run": run}
    if done.exit_code != 0 or not found:
        return {**record, "error": done.stderr.strip()[-2000:], "exit_code": done.exit_code}
    record.update(found[-1])
    record["process"] = done.figures()
    record["loadavg"] = load
    record["loadavg_after"] = loadavg()
    return record


def _first_error(stderr: str) -> str:
    """The command's error message (its first lines), for a run that did not exit 0."""
    lines = [x for x in stderr.splitlines() if x.startswith(("error", "failure"))]
    start = stderr.find(lines[0]) if lines else max(0, len(stderr) - 300)
    return " ".join(stderr[start:].split())[:300]


def run_command(view: str, run: int, report: bool) -> dict[str, Any]:
    import tempfile

    args = ["plan", str(SPEC)] + (["--fractional"] if view == "fractional" else [])
    with tempfile.TemporaryDirectory() as tmp:
        extra = ["--report", str(Path(tmp) / "plan.html")] if report else []
        load = loadavg()
        done = run_timed(_archipel_command() + args + extra)
    return {
        "benchmark": "main",
        "kind": "command",
        "view": view,
        "run": run,
        "command": " ".join(["archipel", *args, *(["--report", "plan.html"] if report else [])]),
        **done.figures(),
        "verified": done.exit_code == 0 and "verified ✓" in done.stdout,
        "error": _first_error(done.stderr) if done.exit_code != 0 else None,
        "loadavg": load,
        "loadavg_after": loadavg(),
    }


def summarize(view: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    phases = [r for r in rows if r["kind"] == "phases" and "phases" in r]
    plain = [r for r in rows if r["kind"] == "command" and "--report" not in r["command"]]
    report = [r for r in rows if r["kind"] == "command" and "--report" in r["command"]]
    last = phases[-1] if phases else {}
    out: dict[str, Any] = {"benchmark": "main", "kind": "summary", "view": view}
    out["runs"] = len(plain)
    for name in PHASES:
        out[name] = {
            "wall_s": spread(r["phases"][name]["wall_s"] for r in phases if name in r["phases"]),
            "cpu_s": spread(r["phases"][name]["cpu_s"] for r in phases if name in r["phases"]),
        }
    for label, runs in (("command", plain), ("command_report", report)):
        out[label] = {
            "wall_s": spread(r["wall_s"] for r in runs),
            "cpu_s": spread(r["cpu_s"] for r in runs),
            "peak_rss_mb": max((r["peak_rss_mb"] for r in runs), default=None),
            "all_verified": bool(runs) and all(r["verified"] for r in runs),
        }
    out["slowest_command_wall_s"] = max((r["wall_s"] for r in plain), default=None)
    out["goal_wall_s"] = GOAL_WALL_S
    keys = ("highspy", "status", "objective_usd", "lower_bound_usd", "gap", "variables")
    out.update({k: last.get(k) for k in (*keys, "blocks", "mip_blocks")})
    out["same_objective_every_run"] = len({r.get("objective_usd") for r in phases}) <= 1
    out["all_phase_runs_verified"] = bool(phases) and all(r.get("verified") for r in phases)
    out["loadavg"] = loadavg()
    out["cpus"] = os.cpu_count()
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="run.py main", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions (min and median)")
    parser.add_argument("--views", default=",".join(VIEWS), help="whole,fractional")
    parser.add_argument("--no-report", action="store_true", help="skip the --report command")
    args = parser.parse_args(argv)
    views = [v for v in args.views.split(",") if v]
    rows: dict[str, list[dict[str, Any]]] = {v: [] for v in views}
    for run in range(args.runs):
        order = views if run % 2 == 0 else views[::-1]
        for view in order:
            steps = ["phases", "command"] + ([] if args.no_report else ["command_report"])
            for step in steps if run % 2 == 0 else steps[::-1]:
                if step == "phases":
                    record = run_phases(view, run)
                else:
                    record = run_command(view, run, report=step == "command_report")
                emit(record)
                rows[view].append(record)
    summaries = [summarize(view, rows[view]) for view in views]
    for s in summaries:
        emit(s)
    return summaries


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        view, launched_at = sys.argv[2], float(sys.argv[4])
        emit(child(view, launched_at))
    else:
        main(sys.argv[1:])
