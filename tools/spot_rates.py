"""Derive spot availability and interruption rates from the public spot traces.

    python tools/spot_rates.py [SPOT_DIR] [--literal]

SPOT_DIR defaults to ``../shared/data/spot`` beside the repository (skypilot-org/spot-traces @
221da1ab, the traces of "Can't Be Late", NSDI '24; format in its README.md). Prints one JSON line
per (provider, region, instance type) — availability (share of node-time a spot node was up or
obtainable), interruptions per hour (nodes lost per node-hour up, preemption traces only), the
node-hours observed and the trace files — then one line with the defaults pooled over all AWS V100
traces. ``--literal`` prints instead the Python table committed in ``archipel/catalog/spot.py``.
The method is in that module's docstring (:func:`archipel.catalog.spot.derive_spot_facts`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
try:
    import archipel  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO / "src"))

from archipel.catalog.spot import (  # noqa: E402
    SpotFact,
    SpotTrace,
    derive_defaults,
    derive_spot_facts,
    trace_from,
)


def read_traces(root: Path) -> tuple[SpotTrace, ...]:
    """Every ``*.json`` trace under ``root`` (sorted by path)."""
    traces = []
    for path in sorted(root.rglob("*.json")):
        body = json.loads(path.read_text("utf-8"))
        name = path.relative_to(root).as_posix()
        traces.append(trace_from(name, float(body["metadata"]["gap_seconds"]), body["data"]))
    if not traces:
        raise SystemExit(f"error: no *.json traces under {root}")
    return tuple(traces)


def _q(text: str) -> str:
    """A Python string literal in double quotes (as ruff formats them)."""
    return json.dumps(text)


def _tuple_lines(items: list[str], indent: str) -> list[str]:
    """A tuple of literals, one line when a single item fits in 100 columns (as ruff does)."""
    one = f"{indent}({items[0]},),"
    if len(items) == 1 and len(one) <= 100:
        return [one]
    return [f"{indent}(", *(f"{indent}    {item}," for item in items), f"{indent}),"]


def literal(facts: tuple[SpotFact, ...], defaults: tuple[float, float]) -> str:
    """The committed table as Python source, formatted as ``ruff format`` leaves it."""
    lines = [
        f"DEFAULT_SPOT_AVAILABILITY = {defaults[0]!r}",
        f"DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR = {defaults[1]!r}",
        "",
        "SPOT_FACTS: tuple[SpotFact, ...] = (",
    ]
    for f in facts:
        lines += [
            "    SpotFact(",
            f"        {_q(f.provider)},",
            f"        {_q(f.region)},",
            f"        {_q(f.instance_type)},",
            f"        {_q(f.accelerator)},",
            f"        {f.availability!r},",
            f"        {f.interruptions_per_hour!r},",
            f"        {f.node_hours!r},",
            *_tuple_lines([_q(t) for t in f.traces], "        "),
            "    ),",
        ]
    lines.append(")")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "spot", nargs="?", type=Path, default=REPO.parent / "shared" / "data" / "spot"
    )
    parser.add_argument("--literal", action="store_true", help="Print the Python table.")
    args = parser.parse_args(argv)
    traces = read_traces(args.spot)
    facts = derive_spot_facts(traces)
    defaults = derive_defaults(traces)
    if args.literal:
        print(literal(facts, defaults))
        return 0
    for f in facts:
        print(
            json.dumps(
                {
                    "provider": f.provider,
                    "region": f.region,
                    "instance_type": f.instance_type,
                    "accelerator": f.accelerator,
                    "availability": f.availability,
                    "interruptions_per_hour": f.interruptions_per_hour,
                    "node_hours": f.node_hours,
                    "traces": list(f.traces),
                }
            )
        )
    print(
        json.dumps(
            {
                "defaults": "pooled over every AWS V100 trace",
                "availability": defaults[0],
                "interruptions_per_hour": defaults[1],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
