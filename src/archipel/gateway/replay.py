"""One trace and one fault schedule, replayed through the simulator and through the real gateway
(:mod:`archipel.gateway.replay_run` runs the processes), with the results side by side.

What both sides are given, so that they model the same world:

- **Routing**: the same policy (:func:`archipel.route.policy.decide`) on the same table; the
  simulator with ``health = "observed"`` (:mod:`archipel.sim.observed`): it knows of a fault only
  what the gateway learns from its attempts, with the gateway's breaker (``failures_to_open``
  consecutive failures open it for ``open_s``, then one half-open probe), its attempt timeout
  (``attempt_share`` of the time left to the first-token deadline) and its stream rule (a stream
  that broke after its first token fails, it is not failed over).
- **Service times**: the simulator's service model (:mod:`archipel.sim.service`) with ``batch =
  slots_per_replica`` (the gateway's "busy" is the simulator's full batch) and the table's rates
  times ``speedup`` (time compressed: a 70B replica's seconds become a fraction of a second on
  both sides); each fake backend gets its deployment's per-token times (:func:`fake_behaviour`)
  and takes a request's tokens from its body (``max_tokens`` and the prompt's words). Only
  services with one request class (the fake cannot tell classes apart).
- **Network**: loopback, so the simulator's round trip is 0 (``rtt_scale = 0``); the policy
  still reads the table's RTT estimates for its choices, on both sides.
- **Requests**: streams (a time to first token is measured), open loop at the trace's times,
  with the tenant's data class and geography, the request class in a header and the SLOs as the
  deadlines (``x-archipel-deadline-ms``, ``--ttft``).

Per request both sides give: served or not, attempts, retries (new rounds after a backoff),
failovers (attempts sent right after a failed one in the same round; the gateway's
``x-archipel-failovers``), the serving deployment, time to first token and end-to-end time from
the request's trace time. :func:`compare` counts requests served, failed, retried and failed over.

Differences that are not removed, so schedules avoid them (:func:`check_schedule`):

- the draws: the gateway's seeded ``random.Random`` and the simulator's PCG64 stream are consumed
  in different orders, so a weighted choice between several planned deployments differs request
  by request. Counts are compared for requests whose placement is not drawn (one planned
  deployment, or none: the nearest allowed);
- active health probes (the gateway probes every ``--health-interval``; the simulator has none):
  the replay turns them off (an interval of an hour: one probe at start-up);
- the ramp gate (the gateway's SLO-gated steps and decayed shares against the simulator's
  windowed shares): only deployments without a ramp cap, or a capped one that is the last
  resort (a cap gives way when nothing else is usable), may serve the replayed requests;
- timing: the gateway opens a half-open circuit on its 50 ms tick and learns of a killed
  backend a few milliseconds late, the fake checks for the end of a hang every 50 ms, and the
  gateway and loopback add a few milliseconds to every response; an event within a few tens of
  milliseconds of such an instant may land on the other side of it. Counts can differ by such
  a request: :func:`settle` shifts the schedule to where the simulated run has the fewest.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from archipel.route.policy import decide
from archipel.route.types import DeploymentTable, FloatArray, IntArray
from archipel.sim.engine import SERVED, SimConfig, SimResult, Workload, simulate
from archipel.sim.faults import Fault, FaultKind, FaultSchedule
from archipel.sim.service import ServiceModel
from archipel.sim.traces import Trace

SUPPORTED = (FaultKind.OUTAGE, FaultKind.HUNG, FaultKind.CAPACITY_ERROR)


@dataclass(frozen=True)
class Tenant:
    """A tenant of the keys file the replay writes: its API key, data class and geography."""

    id: str
    key: str
    data_class: str | None
    geography: str
    services: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Settings:
    """What both sides run with (the gateway's command-line options, the simulator's config)."""

    failures_to_open: int = 3
    open_s: float = 2.0
    slots_per_replica: int = 16
    attempt_share: float = 0.5
    chunk_timeout_s: float = 1.0
    chunks: int = 4
    e2e_slo_s: float = 30.0
    ttft_slo_s: float = 2.0
    speedup: float = 8.0
    prefill_weight: float = 0.1
    seed: int = 7

    def __post_init__(self) -> None:
        if not self.speedup > 0:
            raise ValueError("speedup must be positive")
        if not 0 < self.ttft_slo_s <= self.e2e_slo_s:
            raise ValueError("the first-token SLO must be positive and at most the end-to-end one")
        if self.chunks < 1 or self.slots_per_replica < 1 or self.failures_to_open < 1:
            raise ValueError("chunks, slots_per_replica and failures_to_open must be at least 1")


@dataclass(frozen=True)
class Replay:
    """The requests (``arrival_s`` sorted from 0; per request a service index into the table,
    a tenant index into ``tenants``, tokens) and the faults."""

    table: DeploymentTable  # as planned (rates not scaled)
    arrival_s: FloatArray
    service: IntArray
    tenant: IntArray
    input_tokens: IntArray
    output_tokens: IntArray
    tenants: tuple[Tenant, ...]
    faults: FaultSchedule
    class_tokens: tuple[tuple[int, int], ...]  # per service of the table: its class's tokens
    settings: Settings = field(default_factory=Settings)

    @property
    def size(self) -> int:
        return int(self.arrival_s.size)


def make_replay(
    table: DeploymentTable,
    trace: Trace,
    tenants: tuple[Tenant, ...],
    faults: FaultSchedule,
    class_tokens: tuple[tuple[int, int], ...],
    settings: Settings | None = None,
    tenant: IntArray | None = None,
    service: IntArray | None = None,
) -> Replay:
    """A replay of ``trace`` (every request from tenant 0 to service 0 unless given), checked
    (:func:`check_schedule`); ``class_tokens``: per service of the table, the (input, output)
    tokens of its one request class (the spec's)."""
    n = trace.size
    if n == 0:
        raise ValueError("the trace has no requests")
    if not np.all(np.diff(trace.arrival_s) >= 0) or trace.arrival_s[0] < 0:
        raise ValueError("arrival times must be sorted and non-negative")
    if not tenants:
        raise ValueError("a replay needs at least one tenant")
    ten = np.zeros(n, dtype=np.int64) if tenant is None else np.asarray(tenant, dtype=np.int64)
    svc = np.zeros(n, dtype=np.int64) if service is None else np.asarray(service, dtype=np.int64)
    if ten.shape != (n,) or svc.shape != (n,):
        raise ValueError("tenant and service need one entry per request")
    if ten.min() < 0 or ten.max() >= len(tenants):
        raise ValueError("a request names a tenant index outside the tenants given")
    if svc.min() < 0 or svc.max() >= len(table.services):
        raise ValueError("a request names a service index outside the table")
    for t in tenants:
        if t.geography not in table.geographies:
            raise ValueError(f"tenant {t.id!r}: geography {t.geography!r} not in the table")
        if t.data_class is not None and t.data_class not in table.data_classes:
            raise ValueError(f"tenant {t.id!r}: data class {t.data_class!r} not in the table")
    if len(class_tokens) != len(table.services):
        raise ValueError("class_tokens needs one (input, output) pair per service of the table")
    for s in np.unique(svc):
        names = table.request_classes[int(s)]
        if len(names) != 1:
            raise ValueError(
                f"service {table.services[int(s)]!r} has {len(names)} request classes: the fake "
                "backend cannot tell them apart, replay services with one class"
            )
    rep = Replay(
        table,
        np.asarray(trace.arrival_s, dtype=np.float64),
        svc,
        ten,
        np.asarray(trace.input_tokens, dtype=np.int64),
        np.asarray(trace.output_tokens, dtype=np.int64),
        tenants,
        faults,
        tuple(class_tokens),
        settings or Settings(),
    )
    check_schedule(rep)
    return rep


def check_schedule(rep: Replay) -> None:
    """ValueError for a fault the gateway side cannot apply as the simulator models it."""
    for f in rep.faults.faults:
        if f.kind not in SUPPORTED:
            raise ValueError(f"{f.kind.name} faults are not replayed (outage, hang, 429 only)")
        if f.kind is FaultKind.CAPACITY_ERROR and f.value != 1.0:
            raise ValueError(f"{f}: a 429 window replays at probability 1 only (deterministic)")
        mask = f.mask(rep.table)
        if not mask.any():
            raise ValueError(f"{f}: the target matches no deployment of the table")
        if f.kind is FaultKind.OUTAGE and f.end_s - f.start_s < 2.0:
            raise ValueError(f"{f}: an outage needs 2 s at least (a fake process restarts)")


def scaled_table(rep: Replay) -> DeploymentTable:
    """The table with rates times ``speedup`` (service times divided by it)."""
    return replace(rep.table, rate=rep.table.rate * rep.settings.speedup)


def service_model(rep: Replay) -> ServiceModel:
    return ServiceModel(
        batch=rep.settings.slots_per_replica, prefill_weight=rep.settings.prefill_weight
    )


def fake_behaviour(rep: Replay, d: int) -> dict[str, float | int]:
    """Deployment ``d``'s per-token times for the fake, equal to the simulator's
    :meth:`~archipel.sim.service.ServiceModel.times` for a request of ``p`` prompt and ``c``
    output tokens: with ``k = 1 / (rate · cost(class))`` and ``w`` the prefill weight, first
    token after ``k·w·p``, then ``k·(batch·c + (batch − 1)·w·p)`` more."""
    sm = service_model(rep)
    rate = float(scaled_table(rep).rate[d, 0])
    if rate <= 0:
        raise ValueError(f"{rep.table.key[d]} has no rate for its class: no service time")
    k = 1.0 / (rate * sm.cost(*rep.class_tokens[int(rep.table.service[d])]))
    w, b = sm.prefill_weight, sm.batch
    return {
        "ttft_s_per_prompt_token": k * w,
        "s_per_prompt_token": k * (b - 1) * w,
        "s_per_completion_token": k * b,
        "chunks": rep.settings.chunks,
    }


@dataclass
class Side:
    """Per request, one side's results."""

    name: str
    served: np.ndarray  # bool
    attempts: IntArray
    retries: IntArray
    failovers: IntArray
    deployment: list[str]  # "-" where none served
    ttft_s: FloatArray  # NaN unless served
    e2e_s: FloatArray

    def counts(self) -> dict[str, int]:
        return {
            "requests": int(self.served.size),
            "served": int(self.served.sum()),
            "failed": int((~self.served).sum()),
            "retried": int((self.retries > 0).sum()),
            "failed_over": int((self.failovers > 0).sum()),
            "attempts": int(self.attempts.sum()),
            "retries": int(self.retries.sum()),
            "failovers": int(self.failovers.sum()),
        }

    def latency(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, xs in (("ttft", self.ttft_s), ("e2e", self.e2e_s)):
            ok = xs[self.served & np.isfinite(xs)]
            for q in (50, 99):
                out[f"{name}_p{q}_ms"] = (
                    round(float(np.percentile(ok, q)) * 1000, 3) if ok.size else float("nan")
                )
        return out


def workload(rep: Replay) -> Workload:
    t = rep.table
    geo = np.array([t.geographies.index(x.geography) for x in rep.tenants], dtype=np.int64)
    dcs = np.array(
        [-1 if x.data_class is None else t.data_classes.index(x.data_class) for x in rep.tenants],
        dtype=np.int64,
    )
    S = len(t.services)
    return Workload(
        arrival_s=rep.arrival_s,
        service=rep.service,
        geography=geo[rep.tenant],
        request_class=np.zeros(rep.size, dtype=np.int64),  # one class per service
        data_class=dcs[rep.tenant],
        input_tokens=rep.input_tokens,
        output_tokens=rep.output_tokens,
        e2e_slo_s=np.full(S, rep.settings.e2e_slo_s),
        ttft_slo_s=np.full(S, rep.settings.ttft_slo_s),
        class_tokens=tuple((c,) for c in rep.class_tokens),
    )


def sim_config(rep: Replay) -> SimConfig:
    st = rep.settings
    return SimConfig(
        seed=st.seed,
        service=service_model(rep),
        breaker_failures=st.failures_to_open,
        breaker_open_s=st.open_s,
        rtt_scale=0.0,
        health="observed",
        attempt_share=st.attempt_share,
        chunk_timeout_s=st.chunk_timeout_s,
        stream_chunks=st.chunks,
    )


def simulate_replay(rep: Replay) -> SimResult:
    """The simulator's run of the replay (its log and outcomes)."""
    return simulate(scaled_table(rep), workload(rep), decide, rep.faults, sim_config(rep))


def run_sim(rep: Replay) -> Side:
    """The simulator's side of the replay."""
    res = simulate_replay(rep)
    o = res.outcomes
    n = rep.size
    failovers = np.zeros(n, dtype=np.int64)
    failed_in_round = np.zeros(n, dtype=bool)
    for _, code, a, _ in res.log:
        if code == "S":
            failovers[a] += failed_in_round[a]
        elif code in ("X", "E", "K", "H"):
            failed_in_round[a] = True
        elif code == "R":
            failed_in_round[a] = False
    keys = rep.table.key
    return Side(
        "sim",
        o.status == SERVED,
        o.attempts.copy(),
        o.retries.copy(),
        failovers,
        [keys[d] if d >= 0 else "-" for d in o.deployment.tolist()],
        o.ttft_s.copy(),
        o.e2e_s.copy(),
    )


def risk(rep: Replay, res: SimResult, margin_s: float = 0.015, tick_s: float = 0.05) -> int:
    """How many events of the simulator's run fall where a few milliseconds decide on which
    side of an instant they land: events of the faulted deployments (sends, first tokens,
    completions, failures) within ``margin_s`` of a fault's start or
    end or of a circuit opening, arrivals within ``2 · margin_s`` after a fault's start or a
    circuit opening (the gateway learns of them a little later), and completions there, (ten
    each) fault edges and, while another faulted circuit is out, arrivals within a half-open
    circuit's first ``tick_s`` (the gateway half-opens it on its tick, up to that much later:
    an old attempt's success may close it first, another request may probe), and successes
    within ``margin_s`` of a failure on the same deployment (which one resets the breaker's
    count first)."""
    hit = np.zeros(rep.table.size, dtype=bool)
    for f in rep.faults.faults:
        hit |= f.mask(rep.table)
    score = 0
    edges = [x for f in rep.faults.faults for x in (f.start_s, f.end_s)]
    instants = list(edges)
    starts = [f.start_s for f in rep.faults.faults]
    half_open: list[tuple[float, bool]] = []  # and whether another circuit is not closed
    events: list[float] = []
    closed = np.ones(rep.table.size, dtype=bool)
    for t, code, a, b in res.log:
        if code == "B" and hit[a]:
            closed[a] = b == 1
            if b == 2:
                half_open.append((t, bool((~closed & hit).sum() > 1)))
            elif b == 0:
                instants.append(t)
                starts.append(t)
        elif code in ("S", "T", "C", "U", "X", "E", "K", "H") and hit[b]:
            events.append(t)
    done = np.array([t for t, code, _, b in res.log if code in ("C", "U") and hit[b]])
    ok = {
        d: np.sort([t for t, c, _, b in res.log if c == "C" and b == d])
        for d in np.flatnonzero(hit).tolist()
    }
    for t, code, _, b in res.log:  # a success next to a failure: which resets the breaker's count
        if code in ("X", "E", "K", "H", "U") and hit[b]:
            near_ok = ok[b][
                np.searchsorted(ok[b], t - margin_s) : np.searchsorted(ok[b], t + margin_s)
            ]
            score += int(near_ok.size)
    ev = np.sort(np.array(events))
    arrivals = rep.arrival_s
    for x in instants:  # events at the instant itself are its own doing (kills, the opening)
        near = ev[np.searchsorted(ev, x - margin_s) : np.searchsorted(ev, x + margin_s)]
        score += int(np.count_nonzero(np.abs(near - x) > 1e-9))
    for x in starts:  # the gateway sees a fault's first failures some milliseconds late
        after = np.searchsorted(arrivals, x + 2 * margin_s)
        score += int(after - np.searchsorted(arrivals, x, side="right"))  # not the probe itself
    for t, others_out in half_open:  # an old attempt's success may close it first; with
        # another circuit out, whether an arrival probes or retries
        lo, hi = t - margin_s, t + tick_s + margin_s
        score += 10 * sum(lo <= x <= hi for x in edges)
        if others_out:
            score += int(np.searchsorted(arrivals, hi) - np.searchsorted(arrivals, lo))
        score += int(np.count_nonzero((done >= lo) & (done <= hi)))
    return score


def settle(rep: Replay, max_shift_s: float = 2.0, step_s: float = 0.01) -> tuple[Replay, float]:
    """The replay with every fault shifted by the same amount (the smallest first, up to
    ``max_shift_s`` either way, never before 0) whose simulated run has the lowest :func:`risk`
    (the first with none), and that shift: the schedule avoids instants the two sides cannot
    time alike. Deterministic: same replay, same shift."""
    best: tuple[int, float, Replay] | None = None
    for k in range(int(max_shift_s / step_s) + 1):
        for shift in (k * step_s, -k * step_s) if k else (0.0,):
            faults = tuple(
                replace(f, start_s=f.start_s + shift, end_s=f.end_s + shift)
                for f in rep.faults.faults
            )
            if any(f.start_s < 0 for f in faults):
                continue
            moved = replace(rep, faults=replace(rep.faults, faults=faults))
            score = risk(moved, simulate_replay(moved))
            if best is None or score < best[0]:
                best = (score, shift, moved)
            if score == 0:
                return moved, round(shift, 6)
    assert best is not None
    return best[2], round(best[1], 6)


def compare(sim: Side, gw: Side) -> dict[str, object]:
    """Both sides' counts and latency percentiles, whether the counts are equal and whether each
    percentile is within 10 % (relative to the simulator's), the share of served requests
    both served on the same deployment, and the first 20 requests counted differently."""
    cs, cg = sim.counts(), gw.counts()
    ls, lg = sim.latency(), gw.latency()
    rel = {k: round((lg[k] - ls[k]) / ls[k], 4) if ls[k] else float("nan") for k in ls}
    both = sim.served & gw.served
    same = sum(1 for i in np.flatnonzero(both) if sim.deployment[i] == gw.deployment[i])

    def flags(x: Side, i: int) -> list[int]:
        return [int(x.served[i]), int(x.retries[i] > 0), int(x.failovers[i] > 0)]

    differ = [[i, flags(sim, i), flags(gw, i)] for i in range(sim.served.size)]
    differ = [d for d in differ if d[1] != d[2]]
    return {
        "sim": {**cs, **ls},
        "gateway": {**cg, **lg},
        "counts_equal": {k: cs[k] == cg[k] for k in ("served", "failed", "retried", "failed_over")},
        "latency_rel_diff": rel,
        "latency_within_10pct": {k: bool(abs(v) <= 0.10) for k, v in rel.items()},
        "same_deployment_share": round(same / int(both.sum()), 4) if both.any() else float("nan"),
        # requests counted differently: [index, [served, retried, failed over] sim, gateway]
        "differing_requests": differ[:20],
    }


def fault(kind: str, start_s: float, end_s: float, target: str) -> Fault:
    """A replayable fault by name: ``outage``, ``hang`` or ``429``."""
    kinds = {"outage": FaultKind.OUTAGE, "hang": FaultKind.HUNG, "429": FaultKind.CAPACITY_ERROR}
    if kind not in kinds:
        raise ValueError(f"fault kind is outage, hang or 429, not {kind!r}")
    value = {"outage": 0.0, "hang": 1e9, "429": 1.0}[kind]
    return Fault(kinds[kind], start_s, end_s, target, value)
