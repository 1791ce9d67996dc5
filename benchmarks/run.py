"""Run the benchmarks: ``python benchmarks/run.py [main|build|scale|quality|solvers|route|sim|outlook|gateway|sim_vs_gateway|control|headroom ...]``.

Each benchmark prints JSON lines of its figures (wall and CPU seconds, with the load average).
Arguments after a benchmark's name are its own, up to the next name, e.g.
``run.py main --runs 5 build --runs 7 scale 1e4 1e5 --views fractional``; ``run.py NAME --help``
lists them. With no name: main, build, scale and quality (solvers needs other interpreters,
``--python``). Not part of the test run; no timing is asserted anywhere.

- ``main`` (main_job.py): ``archipel plan examples/frontier-lab.yaml`` in phases, and as a command.
- ``build`` (build_ratio.py): the 10^6-variable build and hand-off to HiGHS against a plain CSR build.
- ``scale`` (scale.py): generated fleets of 10^4 to 10^6 variables, whole nodes and fractional.
- ``quality`` (quality.py): the planner against the greedy baseline.
- ``solvers`` (solvers.py): the main job under different highspy versions, interleaved.
- ``route`` (route_policy.py): routing-policy decisions per CPU-second on a 50-deployment table.
- ``sim`` (sim.py): simulator throughput, per-request and fluid mode (reads ../shared/data).
- ``control`` (control.py): control-plane reads (a plan, a page of plans) with 10^4 plans stored,
  SQLite and PostgreSQL, p50/p99 over HTTP and at the store.
- ``outlook`` (outlook.py): 10^5 scenarios evaluated, SAA on 1,000, 1 vs 2 worker processes.
- ``gateway`` (gateway.py): the gateway on loopback: CPU per request, added latency, memory,
  streaming, faults (starts processes pinned to cores 0 and 1).
- ``sim_vs_gateway`` (sim_vs_gateway.py): one trace and fault schedule through the simulator and
  the real gateway on loopback: counts and p50/p99 latency side by side.
- ``headroom`` (headroom.py): plan cost and first-token SLO attainment against each service's
  ``max_utilization`` (reads ../shared/data).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

NAMES = (
    "main",
    "build",
    "scale",
    "quality",
    "solvers",
    "route",
    "sim",
    "outlook",
    "gateway",
    "sim_vs_gateway",
    "control",
    "headroom",
)
DEFAULT = ("main", "build", "scale", "quality")


def split(argv: list[str]) -> list[tuple[str, list[str]]]:
    """``[name, args..., name, args...]`` into (name, its args); no name: the default set."""
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        raise SystemExit(0)
    if not argv or argv[0] not in NAMES:
        if argv:
            raise SystemExit(f"unknown benchmark {argv[0]!r}; choose from {', '.join(NAMES)}")
        return [(name, []) for name in DEFAULT]
    groups: list[tuple[str, list[str]]] = []
    for arg in argv:
        if arg in NAMES:
            groups.append((arg, []))
        else:
            groups[-1][1].append(arg)
    return groups


def main(argv: list[str]) -> None:
    import build_ratio
    import control
    import gateway
    import headroom
    import main_job
    import outlook
    import quality
    import route_policy
    import scale
    import sim
    import sim_vs_gateway
    import solvers

    runners = {
        "main": main_job.main,
        "build": build_ratio.main,
        "scale": scale.main,
        "quality": quality.main,
        "solvers": solvers.main,
        "route": route_policy.main,
        "sim": sim.main,
        "control": control.main,
        "outlook": outlook.main,
        "gateway": gateway.main,
        "sim_vs_gateway": sim_vs_gateway.main,
        "headroom": headroom.main,
    }
    for name, args in split(argv):
        runners[name](args)


if __name__ == "__main__":
    main(sys.argv[1:])
