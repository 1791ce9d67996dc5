"""Simulator speed of several commits, interleaved: ``python benchmarks/sim_ab.py REV [REV ...]``.

Each revision's ``src`` is taken with ``git archive`` into a temporary folder; every round runs
each revision once, in its own fresh process (this checkout's ``benchmarks/sim.py`` table and
workload, the revision's engine and policy), in the same order, so that a machine whose speed
drifts affects them alike. Per revision and case (``tight``: the benchmark table; ``roomy``:
the table sized for the load; ``const``: a constant router, the engine's own cost) the best of
three replays, as requests per CPU-second. Prints JSON lines; reads ../shared/data
(``ARCHIPEL_SHARED_DATA``). Timing is never asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from measure import ROOT, emit, loadavg

CHILD = r"""
import json, sys, time
sys.path.insert(0, "benchmarks")
from dataclasses import replace
import sim as B
from archipel.route.policy import decide
from archipel.route.types import Action, Decision
from archipel.sim.engine import SimConfig, simulate
from archipel.sim.faults import Fault, FaultKind, schedule, spot_preemptions
from archipel.sim.traces import shared_data_dir
root = shared_data_dir()
tb, w = B.bench_table(), B.bench_workload(root)
faults = schedule([Fault(FaultKind.OUTAGE, 1200.0, 1500.0, "region:us-a")])
faults = faults + spot_preemptions(tb, root / "spot", 4000.0, seed=0)
route0 = Decision(Action.ROUTE, 0)
out = {}
cases = (("tight", tb, decide), ("roomy", replace(tb, replicas=tb.replicas * 4), decide),
         ("const", tb, lambda *a: route0))
for name, table, policy in cases:
    best = float("inf")
    for _ in range(3):
        c = time.process_time()
        simulate(table, w, policy, faults, SimConfig(seed=1))
        best = min(best, time.process_time() - c)
    out[name] = round(w.size / best)
print(json.dumps(out))
"""


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="sim_ab", description=__doc__.splitlines()[0])
    ap.add_argument("revs", nargs="+", help="git revisions to compare")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    data = os.environ.get("ARCHIPEL_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    with tempfile.TemporaryDirectory() as tmp:
        for rev in args.revs:
            archive = subprocess.run(
                ["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True
            ).stdout
            folder = Path(tmp) / rev
            folder.mkdir()
            archive_path = folder / "src.tar"
            archive_path.write_bytes(archive)
            with tarfile.open(archive_path) as tar:
                tar.extractall(folder, filter="data")
        for round_ in range(args.rounds):
            for rev in args.revs:
                env = {**os.environ, "PYTHONPATH": str(Path(tmp) / rev / "src")}
                env["ARCHIPEL_SHARED_DATA"] = data
                done = subprocess.run(
                    [sys.executable, "-c", CHILD],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                emit(
                    {
                        "benchmark": "sim-ab",
                        "rev": rev,
                        "round": round_,
                        "requests_per_cpu_s": figures,
                        "loadavg": loadavg(),
                    }
                )


if __name__ == "__main__":
    main(sys.argv[1:])
