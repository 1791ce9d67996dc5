"""The verifier's checks of demand, capacity and the rules across workloads.

Each check takes the facts (derived from the spec and catalog) and what the plan says, and
returns a list of problems ``(rule, message)``; ``rule`` names the kind of rule broken. The
tolerance is relative 1e-6 plus absolute 1e-6, and relative 1e-5 for the figures that come out
of the verifier's own LP (serving capacity with several request classes, survivability).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from archipel.catalog.model import PurchaseOption
from archipel.plan.result import Flow
from archipel.plan.verify_facts import Cells, Facts, Float, Int
from archipel.plan.verify_lp import FractionLP, max_fractions
from archipel.spec.models import (
    DiversificationRule,
    MinProvidersRule,
    WorkAcceleratorHours,
)

Problem = tuple[str, str]
REL = 1e-6
ABS = 1e-6
LP_REL = 1e-5

Loads = dict[tuple[str, int, int, int], float]  # (service, region, period, class) -> req/s


def close(a: float, b: float, rel: float = REL) -> bool:
    return abs(a - b) <= ABS + rel * max(abs(a), abs(b))


def exceeds(value: float, limit: float, rel: float = REL) -> bool:
    return value > limit + ABS + rel * abs(limit)


def _num(x: float) -> str:
    return f"{x:.6g}" if abs(x) < 1e6 else f"{x:,.1f}"


def check_flows(facts: Facts, flows: Sequence[Flow]) -> tuple[list[Problem], Loads]:
    """Flows to allowed regions only; each class's peak demand served per (geography, period)."""
    out: list[Problem] = []
    labels, n_t = facts.labels, len(facts.labels)
    region_index = {r: i for i, r in enumerate(facts.regions)}
    served = {s: np.zeros((len(f.classes), *f.demand.shape)) for s, f in facts.services.items()}
    loads: Loads = defaultdict(float)
    for fl in flows:
        where = f"flow of {fl.service}/{fl.request_class} from {fl.geography} to {fl.region}"
        sf = facts.services.get(fl.service)
        if (
            sf is None
            or not 0 <= fl.period < n_t
            or fl.geography not in sf.geos
            or fl.request_class not in sf.classes
        ):
            out.append(
                (
                    "flow-unknown",
                    f"{where}, period {fl.period}: unknown service, request class, geography or "
                    "period",
                )
            )
            continue
        where += f", period {labels[fl.period]}"
        if fl.requests_per_s < -ABS:
            out.append(
                ("flow-negative", f"{where}: {_num(fl.requests_per_s)} requests/s is negative")
            )
        g = sf.geos.index(fl.geography)
        c = sf.classes.index(fl.request_class)
        served[fl.service][c, g, fl.period] += fl.requests_per_s
        r = region_index.get(fl.region)
        if r is None or not sf.region_ok[r, fl.period]:
            out.append(
                ("flow-region", f"{where}: the region has no offering allowed for the service")
            )
        elif not sf.latency_ok[g, r]:
            out.append(
                (
                    "flow-latency",
                    f"{where}: the region is outside the latency SLO "
                    f"({_num(sf.service.latency_slo_rtt_ms)} ms) "
                    f"or the serving_regions of {fl.geography}",
                )
            )
        if r is not None:
            loads[fl.service, r, fl.period, c] += fl.requests_per_s
    for s, sf in facts.services.items():
        want_all = sf.shares[:, None, None] * sf.demand[None, :, :]
        got_all = served[s]
        bad = np.abs(got_all - want_all) > ABS + REL * np.maximum(np.abs(got_all), np.abs(want_all))
        out.extend(
            (
                "demand-served",
                f"service {s}, class {sf.classes[c]}, geography {sf.geos[g]}, period "
                f"{labels[t]}: served {_num(float(got_all[c, g, t]))} of "
                f"{_num(float(want_all[c, g, t]))} peak requests/s",
            )
            for c, g, t in zip(*np.nonzero(bad), strict=True)
        )
    return out, dict(loads)


def service_cells(facts: Facts, cells: Cells) -> tuple[Int, Int, Int, Float]:
    """Service allocations with a serving profile, summed per (service index, offering, period)."""
    names = list(facts.services)
    sid = {s: i for i, s in enumerate(names)}
    pick = np.array(
        [not cells.is_training[a] and cells.workload[a] in sid for a in range(len(cells.nodes))],
        dtype=bool,
    )
    s = np.array([sid[cells.workload[a]] for a in np.flatnonzero(pick)], dtype=np.int64)
    o, t, n = cells.offering[pick], cells.period[pick], cells.nodes[pick]
    has_rate = np.array(
        [(facts.services[names[si]].rate[oi] > 0).any() for si, oi in zip(s, o, strict=True)],
        dtype=bool,
    )
    s, o, t, n = s[has_rate], o[has_rate], t[has_rate], n[has_rate]
    n_o, n_t = len(facts.price), len(facts.hours)
    key, inv = np.unique((s * n_o + o) * n_t + t, return_inverse=True)
    nodes = np.bincount(inv, weights=n, minlength=len(key)).astype(float)
    key = key.astype(np.int64)
    return key // (n_o * n_t), (key // n_t) % n_o, key % n_t, nodes


def cell_rates(facts: Facts, s: Int, o: Int) -> Float:
    """[len(s), Cmax] requests/s per node of each cell's service classes (0-padded)."""
    svcs = list(facts.services.values())
    n_c = max((len(f.classes) for f in svcs), default=1)
    rates = np.zeros((len(s), n_c))
    for i, (si, oi) in enumerate(zip(s, o, strict=True)):
        sf = svcs[si]
        rates[i, : len(sf.classes)] = sf.rate[oi]
    return rates


@dataclass(frozen=True)
class _LoadLP:
    """The capacity LP of the plan's own flows, and what its keys and cells are."""

    lp: FractionLP
    key_s: Int
    key_r: Int  # -1 when keyed by period
    key_t: Int
    load: Float  # requests/s per key
    cell_s: Int
    cell_o: Int
    cell_t: Int


def _load_lp(facts: Facts, cells: Cells, loads: Loads, by_period: bool) -> _LoadLP:
    """Entries per (service, region, period, class) of the plan's flows, blocks per (service,
    region, period); keys are the blocks, or (service, period) when ``by_period``."""
    cs, co, ct, cn = service_cells(facts, cells)
    names = list(facts.services)
    sid = {s: i for i, s in enumerate(names)}
    items = [(sid[s], r, t, c, v) for (s, r, t, c), v in loads.items() if v > ABS]
    n_r, n_t = len(facts.regions), len(facts.hours)
    es, er, et, ec = (np.array([i[k] for i in items], dtype=np.int64) for k in range(4))
    ev = np.array([i[4] for i in items], dtype=float)
    bkey = (es * n_r + er) * n_t + et
    blocks, eb = np.unique(bkey, return_inverse=True)
    keys, ek = np.unique(es * n_t + et if by_period else bkey, return_inverse=True)
    ckey = (cs * n_r + facts.region_of[co]) * n_t + ct
    pos = np.minimum(np.searchsorted(blocks, ckey), max(blocks.size - 1, 0))
    use = blocks[pos] == ckey if blocks.size else np.zeros(ckey.size, dtype=bool)
    lp = FractionLP(
        n_keys=keys.size,
        entry_key=ek.astype(np.int64),
        entry_class=ec,
        entry_demand=ev,
        flow_entry=np.arange(len(items), dtype=np.int64),
        flow_block=eb.astype(np.int64),
        n_blocks=blocks.size,
        cell_block=pos[use].astype(np.int64),
        cell_nodes=cn[use],
        cell_rate=cell_rates(facts, cs[use], co[use]),
    )
    load = np.bincount(ek, weights=ev, minlength=keys.size).astype(float)
    if by_period:
        ks, kr, kt = keys // n_t, np.full(keys.size, -1, dtype=np.int64), keys % n_t
    else:
        ks, kr, kt = keys // (n_r * n_t), (keys // n_t) % n_r, keys % n_t
    return _LoadLP(lp, ks, kr, kt, load, cs[use], co[use], ct[use])


def check_serving_capacity(facts: Facts, cells: Cells, loads: Loads) -> list[Problem]:
    """Per (service, region, period): the flows' class loads fit the allocated nodes (split LP),
    and no service serves more than its ``spot_max_share`` of peak demand from spot nodes."""
    if not any(v > ABS for v in loads.values()):
        return []
    names = list(facts.services)
    m = _load_lp(facts, cells, loads, by_period=False)
    frac, solved = max_fractions(m.lp)
    out: list[Problem] = []
    if not solved:
        out.append(("serving-capacity", "the serving capacity LP could not be solved"))
    for b in np.flatnonzero(frac < 1.0 - LP_REL):
        if (1.0 - frac[b]) * m.load[b] <= ABS:
            continue
        out.append(
            (
                "serving-capacity",
                f"service {names[m.key_s[b]]}, region {facts.regions[m.key_r[b]]}, "
                f"period {facts.labels[m.key_t[b]]}: "
                f"flows of {_num(m.load[b])} requests/s exceed the capacity of the allocated "
                f"nodes (at most {_num(frac[b] * m.load[b])} requests/s at this class mix; LP "
                f"check, relative tolerance {LP_REL:g})",
            )
        )
    return out if out else _check_spot_share(facts, cells, loads)


def _check_spot_share(facts: Facts, cells: Cells, loads: Loads) -> list[Problem]:
    """A split of each (service, period)'s flows exists with spot nodes carrying at most
    ``spot_max_share`` of its peak demand (all classes, all geographies)."""
    m = _load_lp(facts, cells, loads, by_period=True)
    offs = facts.inputs.offerings
    spot = np.array([offs[o].purchase_option == PurchaseOption.SPOT for o in m.cell_o], bool)
    if not spot.any():
        return []
    n_t = len(facts.hours)
    keys = m.key_s * n_t + m.key_t
    ck = m.cell_s * n_t + m.cell_t
    pos = np.minimum(np.searchsorted(keys, ck), keys.size - 1)
    group = np.where(spot & (keys[pos] == ck), pos, -1).astype(np.int64)
    svcs = list(facts.services.values())
    share = np.array([svcs[s].service.spot_max_share for s in m.key_s])
    total = np.array(
        [float(svcs[s].demand[:, t].sum()) for s, t in zip(m.key_s, m.key_t, strict=True)]
    )
    capped = replace(m.lp, cell_cap_group=group, cap=share * total)
    frac, _ = max_fractions(capped)
    return [
        (
            "spot-share",
            f"service {svcs[m.key_s[k]].service.id}, period {facts.labels[m.key_t[k]]}: its "
            f"flows need spot nodes to carry more than spot_max_share {share[k]:g} of its peak "
            f"demand ({_num(share[k] * total[k])} requests/s); at most {frac[k]:.4f} of its "
            f"{_num(m.load[k])} requests/s fit within that cap",
        )
        for k in np.flatnonzero(frac < 1.0 - LP_REL)
        if (1.0 - frac[k]) * m.load[k] > ABS
    ]


def check_offering_capacity(facts: Facts, cells: Cells) -> list[Problem]:
    """Σ_w nodes ≤ capacity per (offering, period). Provider limits: verify_ramps (over time)."""
    inputs = facts.inputs
    used = np.zeros((len(facts.price), len(facts.hours)))
    np.add.at(used, (cells.offering, cells.period), cells.nodes)
    cap = inputs.capacity_nodes
    out: list[Problem] = []
    for o, t in zip(
        *np.nonzero(used > cap + ABS + REL * np.where(np.isinf(cap), 0, cap)), strict=True
    ):
        out.append(
            (
                "offering-capacity",
                f"offering {inputs.keys[o]}, period {facts.labels[t]}: {_num(used[o, t])} nodes "
                f"allocated, capacity {_num(cap[o, t])}",
            )
        )
    return out


def check_training(facts: Facts, cells: Cells) -> list[Problem]:
    """Work done ≥ required; gang min/max per period; one region for single-region jobs."""
    out: list[Problem] = []
    apn = facts.accels_per_node
    by_job: dict[str, list[int]] = defaultdict(list)
    for a in np.flatnonzero(cells.is_training).tolist():
        by_job[cells.workload[a]].append(a)
    for j, jf in facts.jobs.items():
        mine = np.array(by_job.get(j, []), dtype=np.int64)
        o, t, n = cells.offering[mine], cells.period[mine], cells.nodes[mine]
        done = float((n * jf.window_hours[t] * jf.work_per_node_hour[o]).sum())
        unit = (
            f"accelerator-hours of {jf.job.work.reference_accelerator}"
            if isinstance(jf.job.work, WorkAcceleratorHours)
            else "FLOPs"
        )
        if done < jf.required - ABS - REL * jf.required:
            out.append(
                (
                    "training-work",
                    f"training {j}: work done {_num(done)} of {_num(jf.required)} {unit}",
                )
            )
        acc = np.bincount(t, weights=n * apn[o], minlength=len(facts.hours))
        gmax, gmin = jf.job.gang_max_accelerators, jf.job.gang_min_accelerators
        for ti in range(len(acc)):
            if gmax is not None and exceeds(float(acc[ti]), gmax):
                out.append(
                    (
                        "gang-max",
                        f"training {j}, period {facts.labels[ti]}: {_num(acc[ti])} accelerators, "
                        f"above gang_max {gmax}",
                    )
                )
            if jf.window_hours[ti] > 0 and acc[ti] < gmin - ABS - REL * gmin:
                out.append(
                    (
                        "gang-min",
                        f"training {j}, period {facts.labels[ti]}: {_num(acc[ti])} accelerators, "
                        f"below gang_min {gmin}",
                    )
                )
        types = sorted(
            {
                facts.inputs.offerings[oi].accelerator
                for oi, ni in zip(o, n, strict=True)
                if ni > ABS
            }
        )
        if len(types) > 1:
            out.append(
                (
                    "gang-type",
                    f"training {j}: mixes accelerator types ({', '.join(types)}); a gang is one "
                    "type for the whole run",
                )
            )
        no_fabric = np.array([not facts.inputs.offerings[oi].fabric for oi in o], dtype=bool)
        lone = np.bincount(t[no_fabric], weights=n[no_fabric], minlength=len(facts.hours))
        out.extend(
            (
                "training-fabric",
                f"training {j}, period {facts.labels[ti]}: {_num(lone[ti])} nodes without a "
                "scale-out fabric; such nodes can hold a job only one at a time",
            )
            for ti in np.flatnonzero(lone > 1.0 + ABS)
        )
        regions = sorted(
            {facts.regions[facts.region_of[oi]] for oi, ni in zip(o, n, strict=True) if ni > ABS}
        )
        if jf.job.single_region and len(regions) > 1:
            out.append(
                (
                    "single-region",
                    f"training {j}: uses {len(regions)} regions ({', '.join(regions)}); "
                    "single_region allows one",
                )
            )
    return out


def check_diversification(facts: Facts, spend_by_provider: dict[str, float]) -> list[Problem]:
    """Each provider's spend (allocations after discounts + reserved fixed + billed shortfall) ≤
    max_share × total spend."""
    total = sum(spend_by_provider.values())
    out: list[Problem] = []
    for rule in facts.inputs.spec.rules:
        if isinstance(rule, DiversificationRule):
            out.extend(
                (
                    "diversification",
                    f"provider {p}: spend {_num(v)} USD is {v / total:.4f} of the total "
                    f"{_num(total)} USD, "
                    f"above max_share {rule.max_share:g}",
                )
                for p, v in sorted(spend_by_provider.items())
                if exceeds(v, rule.max_share * total)
            )
    return out


def check_min_providers(facts: Facts, flows: Sequence[Flow]) -> list[Problem]:
    """Per service and period with demand: ≥ count providers each serving ≥ min_share of it."""
    by: dict[tuple[str, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for fl in flows:
        by[fl.service, fl.period][fl.region.split(":", 1)[0]] += fl.requests_per_s  # all classes
    out: list[Problem] = []
    for rule in facts.inputs.spec.rules:
        if not isinstance(rule, MinProvidersRule):
            continue
        for s, sf in facts.services.items():
            if rule.services is not None and s not in rule.services:
                continue
            for t, total in enumerate(sf.demand.sum(axis=0)):
                if total <= ABS:
                    continue
                shares = by.get((s, t), {})
                need = rule.min_share * total
                count = sum(1 for v in shares.values() if v >= need - ABS - REL * need)
                if count < rule.count:
                    seen = (
                        ", ".join(f"{p} {v / total:.1%}" for p, v in sorted(shares.items()))
                        or "none"
                    )
                    out.append(
                        (
                            "min_providers",
                            f"service {s}, period {facts.labels[t]}: {count} provider(s) serve "
                            "at least "
                            f"{rule.min_share:.0%} of demand ({seen}); {rule.count} required",
                        )
                    )
    return out
