"""Spot availability and interruption rates, derived from public spot traces.

Source: the AWS and GCP spot traces of "Can't Be Late: Optimizing Spot Instance Savings under
Deadlines" (Wu et al., NSDI '24), skypilot-org/spot-traces @ 221da1ab (``../shared/data/spot``).
Each trace is ``{"metadata": {"gap_seconds": g}, "data": [n, …]}``: the number of nodes up (or
obtainable) at each tick of ``g`` seconds, for a target of 1, 4 or 16 nodes of one instance type in
one zone. Availability traces record whether a node could be obtained; preemption traces record
nodes that were launched, kept running until preempted, then relaunched when possible.

Per (provider, region, instance type), pooling the zones of the region and all traces
(:func:`derive_spot_facts`):

- ``availability`` = node-time up ÷ node-time observed (Σ data × gap ÷ (ticks × nodes × gap)),
  over availability and preemption traces alike: the share of time a spot node is obtainable/up;
- ``interruptions_per_hour`` = nodes lost ÷ node-hours up, over preemption traces only (a loss is
  a drop in the count from one tick to the next); None where the instance type has no preemption
  trace in the region.

``tools/spot_rates.py`` reads the traces, prints these figures (JSON lines and the table literal
below); ``tests/integration/test_spot_rates_traces.py`` re-derives them and compares.

How they are applied (:func:`spot_terms`). Only old GPUs were traced (p3 V100, p2 K80), in three
AWS regions. A spot offering of an NVIDIA GPU instance type on AWS in a traced region (us-east-1,
us-east-2, us-west-2) takes that region's V100 figures, flagged ``spot-rates-proxy``: the
interruption rate of p3.2xlarge and its availability, or for nodes of 8+ GPUs the availability of
p3.16xlarge (8 V100) where it was traced (us-west-2: 8-GPU nodes were obtainable about half as
often as 1-GPU ones). Newer GPUs are scarcer, so these proxies are likely optimistic. Every other
spot offering (other regions, other clouds, Trainium and Inferentia) takes the defaults pooled over
all AWS V100 traces (:data:`DEFAULT_SPOT_AVAILABILITY`,
:data:`DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR`), flagged ``spot-rates-assumed``. The CPU traces
(r5.16xlarge, c3-highcpu-88) are derived and listed but applied to nothing. On-demand, reserved
and owned offerings have availability 1 and no interruptions.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from archipel.catalog.flags import FLAG_SPOT_RATES_ASSUMED, FLAG_SPOT_RATES_PROXY

TRACES_SOURCE = (
    "skypilot-org/spot-traces @ 221da1ab (\"Can't Be Late\", NSDI '24): AWS p3/p2/r5 and GCP c3 "
    "spot availability and preemption traces"
)

# (provider, chip token in the file name, accelerators or vCPUs) -> (instance type, accelerator).
# The spot-traces README names p2.2xlarge/p2.16xlarge for K80; AWS's sizes with 1 and 8 K80 are
# p2.xlarge and p2.8xlarge, as the file names (k80_1, k80_8) say.
TRACE_INSTANCE_TYPES: dict[tuple[str, str, int], tuple[str, str]] = {
    ("aws", "v100", 1): ("p3.2xlarge", "V100"),
    ("aws", "v100", 8): ("p3.16xlarge", "V100"),
    ("aws", "k80", 1): ("p2.xlarge", "K80"),
    ("aws", "k80", 8): ("p2.8xlarge", "K80"),
    ("aws", "intel", 64): ("r5.16xlarge", ""),
    ("gcp", "c3", 88): ("c3-highcpu-88", ""),
}

_TRACE_PATH = re.compile(
    r"(?:^|/)(availability|preemption)/(\d+)-node/(aws|gcp)-[0-9-]+/"
    r"([a-z0-9-]+?)_([a-z0-9]+)[_-](\d+)\.json$"
)


@dataclass(frozen=True, slots=True)
class SpotTrace:
    """One trace file: nodes up per tick for ``nodes`` nodes of one instance type in one zone."""

    name: str  # path under the traces directory
    kind: str  # availability | preemption
    provider: str
    zone: str
    region: str
    instance_type: str
    accelerator: str  # "" for CPU instance types
    nodes: int
    gap_seconds: float
    data: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SpotFact:
    """Derived spot figures for an instance type in a region (zones pooled)."""

    provider: str
    region: str
    instance_type: str
    accelerator: str
    availability: float
    interruptions_per_hour: float | None
    node_hours: float  # node-hours observed, all traces
    traces: tuple[str, ...]


def trace_from(name: str, gap_seconds: float, data: Sequence[int]) -> SpotTrace:
    """A trace from its path (``availability/1-node/aws-02-15-2023/us-east-1a_v100_1.json``) and
    content; raises ValueError when the path does not follow the traces' naming."""
    m = _TRACE_PATH.search(name)
    if m is None:
        raise ValueError(
            f"{name}: not a <kind>/<n>-node/<cloud>-<date>/<zone>_<chip>_<n>.json path"
        )
    kind, nodes, provider, zone, chip, size = m.groups()
    known = TRACE_INSTANCE_TYPES.get((provider, chip, int(size)))
    if known is None:
        raise ValueError(f"{name}: no instance type known for {provider} {chip} {size}")
    if gap_seconds <= 0 or any(n < 0 or n > int(nodes) for n in data):
        raise ValueError(f"{name}: gap must be > 0 and counts within 0..{nodes}")
    region = re.sub(r"-[a-z]$", "", zone) if provider == "gcp" else re.sub(r"[a-z]$", "", zone)
    return SpotTrace(
        name, kind, provider, zone, region, known[0], known[1], int(nodes), gap_seconds, tuple(data)
    )


def _losses(data: Sequence[int]) -> int:
    return sum(max(0, a - b) for a, b in pairwise(data))


def _pool(traces: Sequence[SpotTrace]) -> tuple[float, float | None, float]:
    """(availability, interruptions per hour or None, node-hours observed) of some traces."""
    up = sum(sum(t.data) * t.gap_seconds for t in traces)
    seen = sum(len(t.data) * t.nodes * t.gap_seconds for t in traces)
    pre = [t for t in traces if t.kind == "preemption"]
    up_pre_h = sum(sum(t.data) * t.gap_seconds for t in pre) / 3600
    rate = sum(_losses(t.data) for t in pre) / up_pre_h if up_pre_h > 0 else None
    return up / seen, rate, seen / 3600


def derive_spot_facts(traces: Iterable[SpotTrace]) -> tuple[SpotFact, ...]:
    """Figures per (provider, region, instance type), zones and traces pooled, rounded to 4
    decimals (node-hours to 1), sorted."""
    groups: defaultdict[tuple[str, str, str, str], list[SpotTrace]] = defaultdict(list)
    for t in traces:
        groups[(t.provider, t.region, t.instance_type, t.accelerator)].append(t)
    facts = []
    for (provider, region, itype, acc), group in sorted(groups.items()):
        availability, rate, hours = _pool(group)
        facts.append(
            SpotFact(
                provider,
                region,
                itype,
                acc,
                round(availability, 4),
                None if rate is None else round(rate, 4),
                round(hours, 1),
                tuple(sorted(t.name for t in group)),
            )
        )
    return tuple(facts)


def derive_defaults(traces: Iterable[SpotTrace]) -> tuple[float, float]:
    """(availability, interruptions per hour) pooled over every AWS V100 trace: the defaults."""
    v100 = [t for t in traces if t.provider == "aws" and t.accelerator == "V100"]
    availability, rate, _ = _pool(v100)
    if rate is None:
        raise ValueError("no AWS V100 preemption trace to derive a default interruption rate")
    return round(availability, 4), round(rate, 4)


# --------------------------------------------------------------------------- committed facts
# Printed by `python tools/spot_rates.py --literal` from ../shared/data/spot; do not edit by hand.

DEFAULT_SPOT_AVAILABILITY = 0.5529
DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR = 0.2293

SPOT_FACTS: tuple[SpotFact, ...] = (
    SpotFact(
        "aws",
        "us-east-1",
        "p3.2xlarge",
        "V100",
        0.4048,
        0.5096,
        5943.8,
        (
            "availability/1-node/aws-02-15-2023/us-east-1a_v100_1.json",
            "availability/1-node/aws-02-15-2023/us-east-1c_v100_1.json",
            "availability/1-node/aws-02-15-2023/us-east-1d_v100_1.json",
            "availability/1-node/aws-02-15-2023/us-east-1f_v100_1.json",
            "preemption/1-node/aws-04-22-2023/us-east-1c_v100_1.json",
            "preemption/1-node/aws-04-22-2023/us-east-1f_v100_1.json",
            "preemption/4-node/aws-08-03-2023/us-east-1f_v100_1.json",
        ),
    ),
    SpotFact(
        "aws",
        "us-east-1",
        "r5.16xlarge",
        "",
        0.8099,
        0.5985,
        455.9,
        (
            "preemption/1-node/aws-04-19-2023/us-east-1b_intel_64.json",
            "preemption/1-node/aws-04-19-2023/us-east-1c_intel_64.json",
            "preemption/1-node/aws-04-19-2023/us-east-1d_intel_64.json",
        ),
    ),
    SpotFact(
        "aws",
        "us-east-2",
        "p3.2xlarge",
        "V100",
        0.6316,
        0.06,
        8223.5,
        (
            "availability/1-node/aws-02-15-2023/us-east-2a_v100_1.json",
            "availability/1-node/aws-02-15-2023/us-east-2b_v100_1.json",
            "availability/16-node/aws-08-27-2023/us-east-2b_v100_1.json",
            "preemption/4-node/aws-08-03-2023/us-east-2a_v100_1.json",
        ),
    ),
    SpotFact(
        "aws",
        "us-west-2",
        "p2.8xlarge",
        "K80",
        0.3671,
        None,
        1298.3,
        (
            "availability/1-node/aws-10-26-2022/us-west-2a_k80_8.json",
            "availability/1-node/aws-10-26-2022/us-west-2b_k80_8.json",
        ),
    ),
    SpotFact(
        "aws",
        "us-west-2",
        "p2.xlarge",
        "K80",
        0.5046,
        None,
        1298.3,
        (
            "availability/1-node/aws-10-26-2022/us-west-2a_k80_1.json",
            "availability/1-node/aws-10-26-2022/us-west-2b_k80_1.json",
        ),
    ),
    SpotFact(
        "aws",
        "us-west-2",
        "p3.16xlarge",
        "V100",
        0.4728,
        None,
        1298.3,
        (
            "availability/1-node/aws-10-26-2022/us-west-2a_v100_8.json",
            "availability/1-node/aws-10-26-2022/us-west-2b_v100_8.json",
        ),
    ),
    SpotFact(
        "aws",
        "us-west-2",
        "p3.2xlarge",
        "V100",
        0.5704,
        0.2587,
        19268.5,
        (
            "availability/1-node/aws-02-15-2023/us-west-2a_v100_1.json",
            "availability/1-node/aws-02-15-2023/us-west-2b_v100_1.json",
            "availability/1-node/aws-02-15-2023/us-west-2c_v100_1.json",
            "availability/1-node/aws-10-26-2022/us-west-2a_v100_1.json",
            "availability/1-node/aws-10-26-2022/us-west-2b_v100_1.json",
            "availability/16-node/aws-08-27-2023/us-west-2a_v100_1.json",
            "availability/16-node/aws-08-27-2023/us-west-2c_v100_1.json",
            "preemption/1-node/aws-04-22-2023/us-west-2b_v100_1.json",
            "preemption/1-node/aws-04-22-2023/us-west-2c_v100_1.json",
            "preemption/4-node/aws-08-03-2023/us-west-2c_v100_1.json",
        ),
    ),
    SpotFact(
        "gcp",
        "us-central1",
        "c3-highcpu-88",
        "",
        0.9998,
        0.0,
        136.9,
        (
            "preemption/1-node/gcp-04-30-2023/us-central1-a_c3-88.json",
            "preemption/1-node/gcp-04-30-2023/us-central1-b_c3-88.json",
            "preemption/1-node/gcp-04-30-2023/us-central1-c_c3-88.json",
        ),
    ),
    SpotFact(
        "gcp",
        "us-east1",
        "c3-highcpu-88",
        "",
        0.9543,
        0.0689,
        45.6,
        ("preemption/1-node/gcp-04-30-2023/us-east1-b_c3-88.json",),
    ),
)

# --------------------------------------------------------------------------- application

PROXY_ACCELERATOR = "V100"


def _fact(provider: str, region: str, instance_type: str) -> SpotFact | None:
    return next(
        (
            f
            for f in SPOT_FACTS
            if (f.provider, f.region, f.instance_type) == (provider, region, instance_type)
        ),
        None,
    )


def spot_terms(
    provider: str, region: str, accelerator_kind: str, accelerators_per_node: int
) -> tuple[float, float, str]:
    """(availability, interruptions per hour, flag) for a spot offering (see the module doc)."""
    if provider == "aws" and accelerator_kind == "gpu":
        small = _fact("aws", region, "p3.2xlarge")
        if small is not None and small.interruptions_per_hour is not None:
            big = _fact("aws", region, "p3.16xlarge") if accelerators_per_node >= 8 else None
            availability = (big or small).availability
            return availability, small.interruptions_per_hour, FLAG_SPOT_RATES_PROXY
    return DEFAULT_SPOT_AVAILABILITY, DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR, FLAG_SPOT_RATES_ASSUMED
