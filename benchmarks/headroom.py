"""Headroom against latency: ``python benchmarks/headroom.py [--spec S] [--utilization U ...]``
(or ``run.py headroom``).

For each ``max_utilization`` U (default 1, 0.9, 0.8), every service of the spec (default
examples/small.yaml) is given U, planned with ``archipel plan``, and the plan is replayed at its
peak with ``archipel simulate --load 1`` (the default trace: Azure 2023 conversations, from
../shared/data). One JSON line per U: the plan's cost over the horizon, and in the replay the
share of requests within the first-token and end-to-end SLOs, replica-hours and their cost,
failovers. A quality figure, not a timing: the numbers depend on the seed, not on the machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from measure import ROOT, emit

ARCHIPEL = str(Path(sys.executable).with_name("archipel"))


def run(spec: Path, u: float, folder: Path) -> dict[str, object]:
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    for svc in data.get("services", []):
        svc["max_utilization"] = u
    changed = folder / f"spec-{u}.yaml"
    changed.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    plan = folder / f"plan-{u}.json"
    subprocess.run(
        [ARCHIPEL, "plan", str(changed), "--out", str(plan)], check=True, capture_output=True
    )
    sim = subprocess.run(
        [ARCHIPEL, "simulate", str(changed), "--plan", str(plan), "--load", "1", "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    r = json.loads(sim.stdout)["runs"][0]
    return {
        "bench": "headroom",
        "spec": str(spec.relative_to(ROOT) if spec.is_relative_to(ROOT) else spec),
        "max_utilization": u,
        "plan_cost_usd": round(json.loads(plan.read_text())["objective_usd"], 2),
        "replay_period": r["period"],
        "replay_peak_rps": r["peak_rps"],
        "requests": r["requests"],
        "ttft_slo_share": round(r["ttft_slo_share"], 4),
        "e2e_slo_share": round(r["e2e_slo_share"], 4),
        "served_share": round(r["served_share"], 4),
        "failed_over": r["failed_over"],
        "replica_hours": round(r["replica_hours"], 3),
        "capacity_cost_usd": round(r["capacity_cost_usd"], 2),
    }


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="headroom", description=__doc__.splitlines()[0])
    ap.add_argument("--spec", type=Path, default=ROOT / "examples/small.yaml")
    ap.add_argument("--utilization", type=float, action="append")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for u in args.utilization or [1.0, 0.9, 0.8]:
            emit(run(args.spec.resolve(), u, Path(tmp)))


if __name__ == "__main__":
    main(sys.argv[1:])
