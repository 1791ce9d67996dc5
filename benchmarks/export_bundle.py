"""Export benchmark: the hand-off bundle of every period of the frontier-lab plan.

Plans ``examples/frontier-lab.yaml`` once (not timed; rule pricing off), then times
``archipel.export.bundle.build_all`` (every period: placements, SkyPilot tasks, Kubernetes
manifests, endpoints, YAML text) and writing the files to a temporary directory, median of
``--runs``. One JSON line: allocations, files, bytes, wall and CPU seconds of each step, the
load average. Run: ``python benchmarks/export_bundle.py [--runs N]``. No timing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).parent))

from archipel.cli.plan_cmd import _load
from archipel.export.bundle import build_all, write_files
from archipel.plan.planner import PlanOptions, make_plan
from archipel.spec.models import Spec
from measure import ROOT, Clock, emit, loadavg


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="export_bundle.py")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    loaded, catalog = _load(ROOT / "examples" / "frontier-lab.yaml", None)
    spec = cast(Spec, loaded)
    plan = make_plan(spec, catalog, options=PlanOptions(rule_costs=False))
    build_wall, build_cpu, write_wall, write_cpu = [], [], [], []
    files: dict[str, str] = {}
    bundles = []
    for _ in range(args.runs):
        clock = Clock()
        bundles, files = build_all(spec, catalog, plan)
        built = clock.lap()
        with tempfile.TemporaryDirectory() as tmp:
            write_files(files, Path(tmp) / "bundle")
            wrote = clock.lap()
        build_wall.append(built.wall_s)
        build_cpu.append(built.cpu_s)
        write_wall.append(wrote.wall_s)
        write_cpu.append(wrote.cpu_s)
    emit(
        {
            "benchmark": "export",
            "case": "frontier-lab, every period",
            "periods": len(bundles),
            "allocations": sum(len(b.placements) for b in bundles),
            "files": len(files),
            "bytes": sum(len(t.encode()) for t in files.values()),
            "runs": args.runs,
            "build_wall_s": round(statistics.median(build_wall), 4),
            "build_cpu_s": round(statistics.median(build_cpu), 4),
            "write_wall_s": round(statistics.median(write_wall), 4),
            "write_cpu_s": round(statistics.median(write_cpu), 4),
            "loadavg": loadavg(),
        }
    )


if __name__ == "__main__":
    main(sys.argv[1:])
