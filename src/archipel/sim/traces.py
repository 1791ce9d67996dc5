"""Real LLM traffic traces as numpy arrays, and the transforms that fit them to a plan.

Sources (``../shared/data/traces``, see its MANIFEST.md; never copied into the repository):

- Azure LLM inference 2023 (``code``, ``conv``): ``TIMESTAMP,ContextTokens,GeneratedTokens``;
- Mooncake conversation trace: JSON lines ``timestamp`` (ms), ``input_length``, ``output_length``;
- ServeGen client windows: per client and 10-minute window a rate in requests/s (no tokens), summed
  over clients into an aggregate rate per window (:class:`RateWindows`, for the fluid mode).

A :class:`Trace` holds ``arrival_s`` (seconds from the first request, sorted), ``input_tokens`` and
``output_tokens``, and ``transforms``: the record of every transform applied, in order, each also
logged. Randomness comes only from ``numpy.random.Generator(PCG64(seed))``.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

REPO = Path(__file__).resolve().parents[3]


def shared_data_dir() -> Path:
    """The public data folder: ``$ARCHIPEL_SHARED_DATA``, else ``shared/data`` beside the repo."""
    env = os.environ.get("ARCHIPEL_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@dataclass(frozen=True)
class Trace:
    name: str
    arrival_s: FloatArray  # [N] sorted, first at 0
    input_tokens: IntArray  # [N]
    output_tokens: IntArray  # [N]
    transforms: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return int(self.arrival_s.size)

    def noted(self, what: str, **changes: object) -> Trace:
        log.info("trace %s: %s", self.name, what)
        return replace(self, transforms=(*self.transforms, what), **changes)  # type: ignore[arg-type]


def mean_rate(arrival_s: FloatArray) -> float:
    """Requests/s as the inverse of the mean inter-arrival time: (N - 1) / (last - first)."""
    if arrival_s.size < 2:
        raise ValueError("a mean rate needs at least two arrivals")
    span = float(arrival_s[-1] - arrival_s[0])
    if span <= 0.0:
        raise ValueError("all arrivals at one instant: no mean rate")
    return (arrival_s.size - 1) / span


def _make(name: str, t: FloatArray, inp: IntArray, out: IntArray, source: Path) -> Trace:
    order = np.argsort(t, kind="stable")
    t = t[order]
    trace = Trace(name, t - t[0], inp[order], out[order])
    return trace.noted(f"loaded {trace.size} requests from {source}; times shifted to start at 0")


def load_azure(kind: str, root: Path | None = None) -> Trace:
    """The Azure LLM inference trace of 2023 (``kind`` "code" or "conv")."""
    if kind not in ("code", "conv"):
        raise ValueError(f"Azure 2023 trace kind is 'code' or 'conv', not {kind!r}")
    path = (
        (root or shared_data_dir()) / "traces/azure-llm-2023" / f"AzureLLMInferenceTrace_{kind}.csv"
    )
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    if header != ["TIMESTAMP", "ContextTokens", "GeneratedTokens"]:
        raise ValueError(f"{path}: unexpected header {header}")
    stamps = np.array([r[0] for r in body], dtype="datetime64[ns]")
    t = (stamps - stamps.min()).astype(np.int64).astype(np.float64) / 1e9
    inp = np.array([int(r[1]) for r in body], dtype=np.int64)
    out = np.array([int(r[2]) for r in body], dtype=np.int64)
    return _make(f"azure-2023-{kind}", t, inp, out, path)


def load_mooncake(root: Path | None = None) -> Trace:
    """The Mooncake (Kimi) conversation trace; timestamps are milliseconds."""
    path = (root or shared_data_dir()) / "traces/mooncake/conversation_trace.jsonl"
    t, inp, out = [], [], []
    with path.open() as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                t.append(row["timestamp"] / 1000.0)
                inp.append(row["input_length"])
                out.append(row["output_length"])
    return _make(
        "mooncake-conversation",
        np.array(t, dtype=np.float64),
        np.array(inp, dtype=np.int64),
        np.array(out, dtype=np.int64),
        path,
    )


@dataclass(frozen=True)
class RateWindows:
    """Aggregate arrival rate per window: ``rate_rps[w]`` from ``start_s[w]`` for ``window_s``."""

    name: str
    start_s: FloatArray
    rate_rps: FloatArray
    window_s: float

    @property
    def requests(self) -> float:
        return float(self.rate_rps.sum() * self.window_s)


def load_servegen(name: str = "language_m-large", root: Path | None = None) -> RateWindows:
    """ServeGen client windows summed over clients; windows no client used are rate 0."""
    path = (root or shared_data_dir()) / "traces/servegen" / f"{name}_client_windows.csv"
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        starts, rates = [], []
        for row in reader:
            starts.append(float(row["window_start_s"]))
            rates.append(float(row["rate_rps"]))
    s = np.array(starts)
    r = np.array(rates)
    window = float(np.min(np.diff(np.unique(s)))) if np.unique(s).size > 1 else 600.0
    idx = np.rint((s - s.min()) / window).astype(np.int64)
    total = np.bincount(idx, weights=r).astype(np.float64)
    log.info("servegen %s: %d client windows summed into %d windows", name, s.size, total.size)
    return RateWindows(name, s.min() + window * np.arange(total.size), total, window)


def scale_to_rate(trace: Trace, target_rps: float) -> Trace:
    """Stretch or compress time so that :func:`mean_rate` is ``target_rps``; order is kept."""
    if target_rps <= 0:
        raise ValueError("target rate must be positive")
    factor = mean_rate(trace.arrival_s) / target_rps
    return trace.noted(
        f"time scaled by {factor:.6g} to a mean rate of {target_rps:g} requests/s",
        arrival_s=trace.arrival_s * factor,
    )


@dataclass(frozen=True)
class Split:
    index: IntArray  # [N] index into names
    names: tuple[str, ...]
    note: str


def split_geographies(trace: Trace, shares: Mapping[str, float], seed: int) -> Split:
    """Assign each request a geography independently with probability ``shares[g]`` (normalised),
    from ``Generator(PCG64(seed))``: same seed, same assignment."""
    names = tuple(shares)
    p = np.array([shares[n] for n in names], dtype=np.float64)
    if p.size == 0 or np.any(p < 0) or p.sum() <= 0:
        raise ValueError("geography shares must be non-negative with a positive sum")
    p = p / p.sum()
    rng = np.random.Generator(np.random.PCG64(seed))
    index = rng.choice(p.size, size=trace.size, p=p).astype(np.int64)
    note = (
        f"split over geographies {dict(zip(names, p.round(6).tolist(), strict=True))} seed {seed}"
    )
    log.info("trace %s: %s", trace.name, note)
    return Split(index, names, note)


@dataclass(frozen=True)
class RequestClass:
    name: str
    input_tokens: int
    output_tokens: int


def assign_classes(trace: Trace, classes: Sequence[RequestClass]) -> Split:
    """Each request takes the nearest class in (log(1 + input), log(1 + output)) space: token
    counts span orders of magnitude, so distance is by ratio, not difference. Ties: first class."""
    if not classes:
        raise ValueError("no request classes")
    pts = np.log1p(np.stack([trace.input_tokens, trace.output_tokens], axis=1).astype(np.float64))
    centres = np.log1p(np.array([[c.input_tokens, c.output_tokens] for c in classes], dtype=float))
    d2 = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    index = np.argmin(d2, axis=1).astype(np.int64)
    names = tuple(c.name for c in classes)
    counts = np.bincount(index, minlength=len(classes))
    note = "classes by nearest log-token distance: " + ", ".join(
        f"{n}={int(k)}" for n, k in zip(names, counts, strict=True)
    )
    log.info("trace %s: %s", trace.name, note)
    return Split(index, names, note)


def synthesize(
    windows: RateWindows,
    donor: Trace,
    seed: int,
    start_s: float | None = None,
    end_s: float | None = None,
    rate_scale: float = 1.0,
) -> Trace:
    """Requests from aggregate rate windows (ServeGen has rates, no requests and no tokens): in
    each window of ``[start_s, end_s)`` a Poisson number of arrivals at ``rate_scale`` × its rate,
    uniform in the window; token counts resampled with replacement from ``donor``'s requests. The
    per-client inter-arrival distributions are not used (their parameters do not reproduce the
    window rates). One ``Generator(PCG64(seed))`` draws everything, window by window."""
    lo = windows.start_s[0] if start_s is None else start_s
    hi = windows.start_s[-1] + windows.window_s if end_s is None else end_s
    rng = np.random.Generator(np.random.PCG64(seed))
    w0 = np.maximum(windows.start_s, lo)
    w1 = np.minimum(windows.start_s + windows.window_s, hi)
    keep = w1 > w0
    w0, w1 = w0[keep], w1[keep]
    counts = rng.poisson(windows.rate_rps[keep] * rate_scale * (w1 - w0))
    t = np.sort(np.repeat(w0, counts) + rng.random(int(counts.sum())) * np.repeat(w1 - w0, counts))
    pick = rng.integers(donor.size, size=t.size)
    trace = Trace(
        f"{windows.name}-synth", t - lo, donor.input_tokens[pick], donor.output_tokens[pick]
    )
    return trace.noted(
        f"synthesized {t.size} Poisson arrivals from {windows.name} windows over [{lo:g}, {hi:g}) s "
        f"at {rate_scale:g} x the rates, tokens resampled from {donor.name}, seed {seed}; "
        "times shifted to start at the range start"
    )
