"""Inference serving cells: node units, capacity groups, per-class flows (docs/semantics.md).

Variables (one block each, over cells that exist):
- ``n[s,o,t]`` units of offering o serving service s in period t. A unit is one node hosting
  ``floor(accelerators per node / k)`` whole replicas of k accelerators, or — for a model that
  allows multi-node replicas, on an instance type with a fabric — ``ceil(k / accelerators per
  node)`` nodes hosting one replica. Offerings that can host neither have no cell.
- ``f[s,c,g,r,t]`` requests/s of class c of s from geography g served in region r.
- ``l[s,c,q,t]`` requests/s of class c carried by capacity group q, only in regions where a
  service has several groups. A group is the service's offerings in one region with the same
  accelerator, node link and spot-or-firm status: their per-replica rates are the same, so their
  capacity adds up in replica units weighted by spot availability.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.perf.serving import MAX_ACCELERATORS_PER_REPLICA, ServingProfile, serving_profile
from archipel.plan.inputs import PlanInputs
from archipel.plan.lp.problem import Problem, rtt_matrix, workload_mask
from archipel.plan.lp.program import concat_float, concat_int
from archipel.spec.models import DemandGrowth, InferenceService, ModelSpec

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class ServingCells:
    """All services' cells, concatenated; arrays are aligned per cell kind."""

    geographies: tuple[str, ...]
    # unit cells (s, o, t)
    n_s: IntArray
    n_o: IntArray
    n_t: IntArray
    n_cost: FloatArray  # USD per unit over the period
    n_nodes: FloatArray  # nodes per unit
    n_replicas: FloatArray  # whole replicas per unit
    n_weight: FloatArray  # replica-equivalents per unit in its group: replicas × availability
    n_group: IntArray  # capacity group of the cell
    qt: IntArray  # sorted distinct group × period keys (group · T + period) of the cells
    # capacity groups q: one service's offerings in a region sharing per-replica rates
    q_s: IntArray
    q_r: IntArray
    q_spot: BoolArray
    q_rate: FloatArray  # [Q, Cmax] requests/s per replica of each class, × max_utilization
    q_profile: tuple[ServingProfile, ...]
    # flow cells (s, c, g, r, t); c is a global class index
    f_s: IntArray
    f_c: IntArray
    f_g: IntArray
    f_r: IntArray
    f_t: IntArray
    # classes (global)
    class_service: IntArray
    class_local: IntArray  # index of the class within its service
    class_share: FloatArray
    class_names: tuple[str, ...]
    demand: FloatArray  # [S, G, T] peak requests/s (all classes)


def peak_demand(svc: InferenceService, geos: Sequence[str], inputs: PlanInputs) -> FloatArray:
    """[G, T] the highest requests/s inside each period (docs/semantics.md, Demand).

    Growth demand is read at the period's end when it grows (at its start when it shrinks);
    table values are the period's average. Both are multiplied by the service's peak factor.
    """
    pers = inputs.periods
    T = len(pers)
    out = np.zeros((len(geos), T))
    gi = {g: i for i, g in enumerate(geos)}
    d = svc.demand
    if isinstance(d, DemandGrowth):
        t0 = dt.datetime.combine(inputs.spec.horizon.start, dt.time())
        at = [p.end if d.growth_pct_per_year >= 0 else p.start for p in pers]
        years = np.array([(x - t0).total_seconds() / (365.25 * 86400.0) for x in at])
        factor = (1.0 + d.growth_pct_per_year / 100.0) ** years
        for g, base in d.base_by_geography.items():
            out[gi[g]] = base * factor
    else:
        for g, values in d.by_geography.items():
            row = np.zeros(T)
            row[: min(T, len(values))] = np.asarray(values, dtype=float)[:T]
            out[gi[g]] = row
    return out * svc.requests_per_unit() * svc.peak_factor


@dataclass(frozen=True)
class _Units:
    """Per offering, for one service: units and what one unit holds (0 where none fits)."""

    nodes: FloatArray  # [O] nodes per unit
    replicas: FloatArray  # [O] replicas per unit
    profile_index: IntArray  # [O] into profiles, -1 where the model has no profile/unit


def _units(
    prob: Problem, model: ModelSpec, svc: InferenceService
) -> tuple[_Units, list[ServingProfile]]:
    """Whole replicas per node, or whole nodes per replica on a fabric (docs/semantics.md)."""
    accs = prob.inputs.accelerators
    profiles: list[ServingProfile] = []
    cache: dict[tuple[str, str, int], int] = {}
    n_off = prob.num_offerings
    nodes = np.zeros(n_off)
    replicas = np.zeros(n_off)
    index = np.full(n_off, -1, dtype=np.int64)
    for o, off in enumerate(prob.inputs.offerings):
        a = off.accelerators_per_node
        # a replica stays inside one node unless it may span nodes over a fabric
        span = model.multi_node_replicas and bool(off.fabric)
        cap = MAX_ACCELERATORS_PER_REPLICA if span else a
        key = (off.accelerator, off.scale_up, cap)
        if key not in cache:
            acc = accs.get(off.accelerator)
            prof = (
                None
                if acc is None
                else serving_profile(
                    model,
                    acc,
                    svc.request_classes,
                    scale_up=off.scale_up,
                    max_accelerators_per_replica=cap,
                )
            )
            cache[key] = len(profiles) if prof is not None else -1
            if prof is not None:
                profiles.append(prof)
        p = cache[key]
        if p < 0:
            continue
        k = profiles[p].accelerators_per_replica
        if a >= k:
            nodes[o], replicas[o] = 1.0, float(a // k)
        elif span:
            nodes[o], replicas[o] = float(-(-k // a)), 1.0
        else:
            continue
        index[o] = p
    return _Units(nodes, replicas, index), profiles


def serving_cells(prob: Problem) -> ServingCells:
    spec = prob.inputs.spec
    geos = tuple(g.id for g in spec.geographies)
    geo_lat = np.array([g.lat for g in spec.geographies], dtype=float)
    geo_lon = np.array([g.lon for g in spec.geographies], dtype=float)
    rtt = rtt_matrix(prob, geo_lat, geo_lon) if geos else np.zeros((0, len(prob.regions)))
    T, R = prob.num_periods, len(prob.regions)
    models = {m.id: m for m in spec.models}
    n_max_c = max((len(s.request_classes) for s in spec.services), default=1)
    keys = ("s", "o", "t", "cost", "nodes", "reps", "weight", "grp", "fs", "fc", "fg", "fr", "ft")
    parts: dict[str, list[NDArray[np.generic]]] = {k: [] for k in keys}
    q_s: list[int] = []
    q_r: list[int] = []
    q_spot: list[bool] = []
    q_rate: list[FloatArray] = []
    q_prof: list[ServingProfile] = []
    class_service: list[int] = []
    class_local: list[int] = []
    class_share: list[float] = []
    class_names: list[str] = []
    demand = np.zeros((len(spec.services), len(geos), T))
    for s, svc in enumerate(spec.services):
        units, profiles = _units(prob, models[svc.model], svc)
        fits = units.profile_index >= 0
        mask = workload_mask(prob, svc.data_class, svc.model, set(svc.purchase_options))
        mask &= fits[:, None]
        o_idx, t_idx = np.nonzero(mask)
        cost = prob.hours[t_idx] * prob.off_price[o_idx] * units.nodes[o_idx]
        # capacity groups: (region, profile, spot) of the offerings with cells
        used = np.unique(o_idx)
        gkey = (prob.off_region[used] * (len(profiles) + 1) + units.profile_index[used]) * 2 + (
            prob.off_spot[used]
        )
        gkeys, ginv = np.unique(gkey, return_inverse=True)
        group_of = np.full(prob.num_offerings, -1, dtype=np.int64)
        group_of[used] = len(q_s) + ginv
        for k in gkeys.tolist():
            rp, spot = divmod(k, 2)
            r, p = divmod(rp, len(profiles) + 1)
            prof = profiles[p]
            rate = np.zeros(n_max_c)
            rate[: len(svc.request_classes)] = [  # planned: at most max_utilization of it
                prof.requests_per_s_per_replica[c.name] * svc.max_utilization
                for c in svc.request_classes
            ]
            q_s.append(s)
            q_r.append(r)
            q_spot.append(bool(spot))
            q_rate.append(rate)
            q_prof.append(prof)
        parts["s"].append(np.full(o_idx.size, s))
        parts["o"].append(o_idx)
        parts["t"].append(t_idx)
        parts["cost"].append(cost)
        parts["nodes"].append(units.nodes[o_idx])
        parts["reps"].append(units.replicas[o_idx])
        parts["weight"].append(units.replicas[o_idx] * prob.off_availability[o_idx])
        parts["grp"].append(group_of[o_idx])
        c0 = len(class_names)
        for ci, c in enumerate(svc.request_classes):
            class_service.append(s)
            class_local.append(ci)
            class_share.append(c.share)
            class_names.append(f"{svc.id}/{c.name}")
        # flows: (class, geography) -> region within the SLO (or listed) with a cell in t
        dem = peak_demand(svc, geos, prob.inputs)
        demand[s] = dem
        region_has = np.zeros((R, T), dtype=bool)
        region_has[prob.off_region[o_idx], t_idx] = True
        ok_gr = rtt <= svc.latency_slo_rtt_ms
        for g, listed in (svc.serving_regions or {}).items():
            ok_gr[geos.index(g)] = np.isin(np.array(prob.regions, dtype=object), list(listed))
        cell = ok_gr[:, :, None] & region_has[None, :, :] & (dem > 0)[:, None, :]
        g_i, r_i, t_i = np.nonzero(cell)
        C = len(svc.request_classes)
        parts["fs"].append(np.full(g_i.size * C, s))
        parts["fc"].append(np.repeat(np.arange(C) + c0, g_i.size))
        parts["fg"].append(np.tile(g_i, C))
        parts["fr"].append(np.tile(r_i, C))
        parts["ft"].append(np.tile(t_i, C))

    n_group = concat_int(parts["grp"])
    n_t = concat_int(parts["t"])
    cells = ServingCells(
        geographies=geos,
        n_s=concat_int(parts["s"]),
        n_o=concat_int(parts["o"]),
        n_t=n_t,
        n_cost=concat_float(parts["cost"]),
        n_nodes=concat_float(parts["nodes"]),
        n_replicas=concat_float(parts["reps"]),
        n_weight=concat_float(parts["weight"]),
        n_group=n_group,
        qt=np.unique(n_group * T + n_t),
        q_s=np.array(q_s, dtype=np.int64),
        q_r=np.array(q_r, dtype=np.int64),
        q_spot=np.array(q_spot, dtype=bool),
        q_rate=np.array(q_rate, dtype=float).reshape(len(q_s), n_max_c),
        q_profile=tuple(q_prof),
        f_s=concat_int(parts["fs"]),
        f_c=concat_int(parts["fc"]),
        f_g=concat_int(parts["fg"]),
        f_r=concat_int(parts["fr"]),
        f_t=concat_int(parts["ft"]),
        class_service=np.array(class_service, dtype=np.int64),
        class_local=np.array(class_local, dtype=np.int64),
        class_share=np.array(class_share, dtype=float),
        class_names=tuple(class_names),
        demand=demand,
    )
    return cells
