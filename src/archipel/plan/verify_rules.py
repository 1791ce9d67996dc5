"""The verifier's checks of demand, capacity and the rules across workloads.

Each check takes the facts (derived from the spec and catalog) and what the plan says, and
returns a list of problems ``(rule, message)``; ``rule`` names the kind of rule broken. The
tolerance is relative 1e-6 plus absolute 1e-6, and relative 1e-5 for the figures that come out
of the verifier's own LP (serving capacity with several request classes, survivability).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from archipel.perf.accelerators import canonical_name
from archipel.plan.result import Flow, ScenarioResult
from archipel.plan.verify_facts import Cells, Facts, Float, Int
from archipel.plan.verify_lp import FractionLP, max_fractions
from archipel.spec.models import (
    DiversificationRule,
    MinProvidersRule,
    SurvivabilityRule,
    WorkAcceleratorHours,
)

Problem = tuple[str, str]
REL = 1e-6
ABS = 1e-6
LP_REL = 1e-5

Loads = dict[tuple[str, int, int], float]  # (service, region index, period) -> requests/s


def close(a: float, b: float, rel: float = REL) -> bool:
    return abs(a - b) <= ABS + rel * max(abs(a), abs(b))


def exceeds(value: float, limit: float, rel: float = REL) -> bool:
    return value > limit + ABS + rel * abs(limit)


def _num(x: float) -> str:
    return f"{x:.6g}" if abs(x) < 1e6 else f"{x:,.1f}"


def check_flows(facts: Facts, flows: Sequence[Flow]) -> tuple[list[Problem], Loads]:
    """Flows to allowed regions only; demand served per (service, geography, period) = D."""
    out: list[Problem] = []
    labels, n_t = facts.labels, len(facts.labels)
    region_index = {r: i for i, r in enumerate(facts.regions)}
    served = {s: np.zeros_like(f.demand) for s, f in facts.services.items()}
    loads: Loads = defaultdict(float)
    for fl in flows:
        where = f"flow of service {fl.service} from {fl.geography} to {fl.region}"
        sf = facts.services.get(fl.service)
        if sf is None or not 0 <= fl.period < n_t or fl.geography not in sf.geos:
            out.append(
                (
                    "flow-unknown",
                    f"{where}, period {fl.period}: unknown service, geography or period",
                )
            )
            continue
        where += f", period {labels[fl.period]}"
        if fl.requests_per_s < -ABS:
            out.append(
                ("flow-negative", f"{where}: {_num(fl.requests_per_s)} requests/s is negative")
            )
        g = sf.geos.index(fl.geography)
        served[fl.service][g, fl.period] += fl.requests_per_s
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
            loads[fl.service, r, fl.period] += fl.requests_per_s
    for s, sf in facts.services.items():
        got_all, want_all = served[s], sf.demand
        bad = np.abs(got_all - want_all) > ABS + REL * np.maximum(np.abs(got_all), np.abs(want_all))
        out.extend(
            (
                "demand-served",
                f"service {s}, geography {sf.geos[g]}, period {labels[t]}: "
                f"served {_num(float(got_all[g, t]))} of {_num(float(want_all[g, t]))} requests/s",
            )
            for g, t in zip(*np.nonzero(bad), strict=True)
        )
    return out, dict(loads)


def _service_cells(facts: Facts, cells: Cells) -> tuple[Int, Int, Int, Float]:
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


def _shares_and_rates(facts: Facts, s: Int, o: Int) -> tuple[Float, Float]:
    svcs = list(facts.services.values())
    n_c = max((len(f.classes) for f in svcs), default=1)
    shares = np.zeros((len(s), n_c))
    rates = np.zeros((len(s), n_c))
    for i, (si, oi) in enumerate(zip(s, o, strict=True)):
        sf = svcs[si]
        shares[i, : len(sf.classes)] = sf.shares
        rates[i, : len(sf.classes)] = sf.rate[oi]
    return shares, rates


def check_serving_capacity(facts: Facts, cells: Cells, loads: Loads) -> list[Problem]:
    """Per (service, region, period): the flows' class loads fit the allocated nodes (split LP)."""
    cs, co, ct, cn = _service_cells(facts, cells)
    names = list(facts.services)
    sid = {s: i for i, s in enumerate(names)}
    items = [(sid[s], r, t, v) for (s, r, t), v in loads.items() if v > ABS]
    if not items:
        return []
    bs = np.array([i[0] for i in items], dtype=np.int64)
    br = np.array([i[1] for i in items], dtype=np.int64)
    bt = np.array([i[2] for i in items], dtype=np.int64)
    load = np.array([i[3] for i in items], dtype=float)
    n_r, n_t = len(facts.regions), len(facts.hours)
    bkey = (bs * n_r + br) * n_t + bt
    ckey = (cs * n_r + facts.region_of[co]) * n_t + ct
    pos = {int(k): i for i, k in enumerate(bkey)}
    cb = np.array([pos.get(int(k), -1) for k in ckey], dtype=np.int64)
    use = cb >= 0
    block_shares, _ = _shares_and_rates(facts, bs, np.zeros_like(bs))
    _, cell_rate = _shares_and_rates(facts, cs[use], co[use])
    lp = FractionLP(
        n_keys=len(items),
        entry_key=np.arange(len(items)),
        entry_demand=load,
        flow_entry=np.arange(len(items)),
        flow_block=np.arange(len(items)),
        block_shares=block_shares,
        cell_block=cb[use],
        cell_nodes=cn[use],
        cell_rate=cell_rate,
    )
    frac, solved = max_fractions(lp)
    out: list[Problem] = []
    if not solved:
        out.append(("serving-capacity", "the serving capacity LP could not be solved"))
    for b in np.flatnonzero(frac < 1.0 - LP_REL):
        if (1.0 - frac[b]) * load[b] <= ABS:
            continue
        out.append(
            (
                "serving-capacity",
                f"service {names[bs[b]]}, region {facts.regions[br[b]]}, "
                f"period {facts.labels[bt[b]]}: "
                f"flows of {_num(load[b])} requests/s exceed the capacity of the allocated nodes "
                f"({_num(frac[b] * load[b])} requests/s at the service's class mix; LP check, "
                f"relative tolerance {LP_REL:g})",
            )
        )
    return out


def check_offering_capacity(facts: Facts, cells: Cells) -> list[Problem]:
    """Σ_w nodes ≤ capacity per (offering, period); provider limits on accelerators."""
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
    accels = used * facts.accels_per_node[:, None]
    for ps in inputs.spec.providers:
        for lim in ps.capacity:
            want = canonical_name(lim.accelerator) or lim.accelerator if lim.accelerator else None
            match = np.array(
                [
                    o.provider == ps.id
                    and (lim.region is None or o.region_id == lim.region)
                    and (want is None or o.accelerator == want)
                    for o in inputs.offerings
                ],
                dtype=bool,
            )
            total = accels[match].sum(axis=0)
            scope = (
                ps.id
                + (f" {lim.region}" if lim.region else "")
                + (f" {lim.accelerator}" if lim.accelerator else "")
            )
            out.extend(
                (
                    "provider-capacity",
                    f"provider {scope}, period {facts.labels[t]}: {_num(total[t])} accelerators, "
                    f"limit {_num(lim.max_accelerators)}",
                )
                for t in range(len(total))
                if exceeds(float(total[t]), lim.max_accelerators)
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
    """Each provider's spend (allocations + reserved fixed) ≤ max_share × total spend."""
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
        by[fl.service, fl.period][fl.region.split(":", 1)[0]] += fl.requests_per_s
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


def survivability(facts: Facts, cells: Cells) -> tuple[list[ScenarioResult], list[Problem]]:
    """For each rule and failure scenario, the largest fraction of demand the rest can serve."""
    results: list[ScenarioResult] = []
    out: list[Problem] = []
    cs, co, ct, cn = _service_cells(facts, cells)
    names = list(facts.services)
    for rule in facts.inputs.spec.rules:
        if not isinstance(rule, SurvivabilityRule):
            continue
        listed = [i for i, s in enumerate(names) if rule.services is None or s in rule.services]
        if rule.loss == "provider":
            scenarios = [
                (f"provider:{p}", np.array([q == p for q in facts.provider_of], dtype=bool))
                for p in sorted(set(facts.provider_of))
            ]
        else:
            scenarios = [
                (f"region:{r}", facts.region_of == ri) for ri, r in enumerate(facts.regions)
            ]
        for name, lost in scenarios:
            keep = ~lost[co]
            frac = _scenario_fractions(facts, listed, cs[keep], co[keep], ct[keep], cn[keep])
            served = {
                names[si]: float(frac[k].min()) if frac.shape[1] else 1.0
                for k, si in enumerate(listed)
            }
            ok = True
            for k, si in enumerate(listed):
                t = int(np.argmin(frac[k])) if frac.shape[1] else 0
                if frac.shape[1] and frac[k, t] < rule.served_fraction * (1.0 - LP_REL) - ABS:
                    ok = False
                    out.append(
                        (
                            "survivability",
                            f"after losing {name}: service {names[si]} serves at most "
                            f"{frac[k, t]:.4f} of its demand in period {facts.labels[t]} "
                            f"(required {rule.served_fraction:g}; LP check, "
                            f"relative tolerance {LP_REL:g})",
                        )
                    )
            results.append(
                ScenarioResult(
                    scenario=name,
                    required_fraction=rule.served_fraction,
                    served_fraction=served,
                    ok=ok,
                )
            )
    return results, out


def _scenario_fractions(
    facts: Facts, listed: list[int], cs: Int, co: Int, ct: Int, cn: Float
) -> Float:
    """[len(listed), T]: max fraction of each listed service's demand per period (flows free)."""
    svcs = list(facts.services.values())
    n_r, n_t = len(facts.regions), len(facts.hours)
    cr = facts.region_of[co]
    ckey = (cs * n_r + cr) * n_t + ct
    blocks, cb = np.unique(ckey, return_inverse=True)
    b_s = blocks // (n_r * n_t)
    has_block = np.zeros((len(svcs), n_r, n_t), dtype=bool)
    has_block[b_s, (blocks // n_t) % n_r, blocks % n_t] = True
    e_key: list[Int] = []
    e_dem: list[Float] = []
    f_entry: list[Int] = []
    f_block: list[Int] = []
    n_e = 0
    for k, si in enumerate(listed):
        sf = svcs[si]
        g, t = np.nonzero(sf.demand > 0)
        e_key.append(k * n_t + t)
        e_dem.append(sf.demand[g, t])
        # [E_s, R]: geography within reach, region allowed and holding nodes in the entry's period
        ok = sf.latency_ok[g] & sf.region_ok[:, t].T & has_block[si][:, t].T
        fe, fr = np.nonzero(ok)
        ft = t[fe]
        f_entry.append(n_e + fe)
        f_block.append(np.searchsorted(blocks, (si * n_r + fr) * n_t + ft))
        n_e += len(g)
    block_shares, _ = _shares_and_rates(facts, b_s, np.zeros_like(b_s))
    _, cell_rate = _shares_and_rates(facts, cs, co)
    lp = FractionLP(
        n_keys=len(listed) * n_t,
        entry_key=np.concatenate([*e_key, np.zeros(0, np.int64)]).astype(np.int64),
        entry_demand=np.concatenate([*e_dem, np.zeros(0)]),
        flow_entry=np.concatenate([*f_entry, np.zeros(0, np.int64)]).astype(np.int64),
        flow_block=np.concatenate([*f_block, np.zeros(0, np.int64)]).astype(np.int64),
        block_shares=block_shares,
        cell_block=cb.astype(np.int64),
        cell_nodes=cn,
        cell_rate=cell_rate,
    )
    frac, _ = max_fractions(lp)
    return frac.reshape(len(listed), n_t)
