"""Inference serving: cells for nodes, flows and class loads, and their constraint families.

Variables (one block each, over cells that exist):
- ``n[s,o,t]``  nodes of offering o serving service s in period t;
- ``f[s,g,r,t]`` requests/s of s from geography g served in region r;
- ``l[s,c,o,t]`` requests/s of class c of s carried by offering o.
Survivability scenarios add their own ``f``/``l`` copies over the cells that survive, bound to the
same ``n``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.perf.serving import node_requests_per_s, serving_profile
from archipel.plan.lp.problem import Problem, rtt_matrix, workload_mask
from archipel.plan.lp.program import concat_float, concat_int
from archipel.spec.models import DemandGrowth, InferenceService, Spec

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class ServingCells:
    """All services' cells, concatenated; arrays are aligned per cell kind."""

    geographies: tuple[str, ...]
    # node cells
    n_s: IntArray
    n_o: IntArray
    n_t: IntArray
    n_cost: FloatArray
    # flow cells
    f_s: IntArray
    f_g: IntArray
    f_r: IntArray
    f_t: IntArray
    # load cells: node cell index and class index (class index is global: see class_*)
    l_cell: IntArray
    l_class: IntArray
    l_inv_rate: FloatArray  # node-equivalents per request/s
    class_service: IntArray  # per global class
    class_share: FloatArray
    class_names: tuple[str, ...]
    demand: FloatArray  # [S, G, T] requests/s


def demand_requests_per_s(
    spec: Spec, svc: InferenceService, geos: Sequence[str], prob: Problem
) -> FloatArray:
    """[G, T] demand in requests/s (docs/semantics.md, Demand)."""
    T = prob.num_periods
    out = np.zeros((len(geos), T))
    gi = {g: i for i, g in enumerate(geos)}
    d = svc.demand
    if isinstance(d, DemandGrowth):
        start = spec.horizon.start
        years = np.array([(p.start.date() - start).days / 365.25 for p in prob.inputs.periods])
        factor = (1.0 + d.growth_pct_per_year / 100.0) ** years
        for g, base in d.base_by_geography.items():
            out[gi[g]] = base * factor
    else:
        for g, values in d.by_geography.items():
            out[gi[g]] = np.asarray(values, dtype=float)[:T]
    return out * svc.requests_per_unit()


def _node_rates(prob: Problem, spec: Spec, svc: InferenceService) -> FloatArray:
    """[O, C] requests/s one node of each offering serves per class (0 where the model won't fit)."""
    model = next(m for m in spec.models if m.id == svc.model)
    rates = np.zeros((prob.num_offerings, len(svc.request_classes)))
    cache: dict[tuple[str, float], list[float] | None] = {}
    for o, (acc, per_node) in enumerate(
        zip(prob.off_accelerator, prob.off_acc_per_node, strict=True)
    ):
        key = (acc, float(per_node))
        if key not in cache:
            prof = serving_profile(model, acc, svc.request_classes)
            cache[key] = (
                None
                if prof is None
                else [node_requests_per_s(prof, int(per_node))[c.name] for c in svc.request_classes]
            )
        row = cache[key]
        if row is not None:
            rates[o] = row
    return rates


def serving_cells(prob: Problem) -> ServingCells:
    spec = prob.inputs.spec
    geos = tuple(g.id for g in spec.geographies)
    geo_lat = np.array([g.lat for g in spec.geographies], dtype=float)
    geo_lon = np.array([g.lon for g in spec.geographies], dtype=float)
    rtt = rtt_matrix(prob, geo_lat, geo_lon) if geos else np.zeros((0, len(prob.regions)))
    T = prob.num_periods
    parts: dict[str, list[NDArray[np.generic]]] = {
        k: []
        for k in (
            "n_s",
            "n_o",
            "n_t",
            "n_cost",
            "f_s",
            "f_g",
            "f_r",
            "f_t",
            "l_cell",
            "l_class",
            "l_inv",
        )
    }
    class_service: list[int] = []
    class_share: list[float] = []
    class_names: list[str] = []
    demand = np.zeros((len(spec.services), len(geos), T))
    n_count = 0
    for s, svc in enumerate(spec.services):
        model = svc.model
        rates = _node_rates(prob, spec, svc)
        fits = rates.min(axis=1) > 0
        mask = workload_mask(prob, svc.data_class, model, set(svc.purchase_options)) & fits[:, None]
        o_idx, t_idx = np.nonzero(mask)
        cost = prob.hours[t_idx] * prob.off_price[o_idx] * (1.0 - prob.discount[o_idx, t_idx])
        parts["n_s"].append(np.full(o_idx.size, s))
        parts["n_o"].append(o_idx)
        parts["n_t"].append(t_idx)
        parts["n_cost"].append(cost)
        # class loads per node cell
        C = len(svc.request_classes)
        c0 = len(class_names)
        for c in svc.request_classes:
            class_service.append(s)
            class_share.append(c.share)
            class_names.append(f"{svc.id}/{c.name}")
        cells = np.arange(o_idx.size) + n_count
        parts["l_cell"].append(np.repeat(cells, C))
        parts["l_class"].append(np.tile(np.arange(C) + c0, o_idx.size))
        parts["l_inv"].append((1.0 / rates[o_idx]).reshape(-1))
        n_count += o_idx.size
        # flows: geography -> region allowed by latency (or listed), region has capacity in t
        dem = demand_requests_per_s(spec, svc, geos, prob)
        demand[s] = dem
        region_has = np.zeros((len(prob.regions), T), dtype=bool)
        region_has[prob.off_region[o_idx], t_idx] = True
        ok_gr = rtt <= svc.latency_slo_rtt_ms
        for g, listed in (svc.serving_regions or {}).items():
            gi = geos.index(g)
            ok_gr[gi] = np.isin(np.array(prob.regions, dtype=object), list(listed))
        cell = ok_gr[:, :, None] & region_has[None, :, :] & (dem > 0)[:, None, :]
        g_i, r_i, t_i = np.nonzero(cell)
        parts["f_s"].append(np.full(g_i.size, s))
        parts["f_g"].append(g_i)
        parts["f_r"].append(r_i)
        parts["f_t"].append(t_i)

    return ServingCells(
        geographies=geos,
        n_s=concat_int(parts["n_s"]),
        n_o=concat_int(parts["n_o"]),
        n_t=concat_int(parts["n_t"]),
        n_cost=concat_float(parts["n_cost"]),
        f_s=concat_int(parts["f_s"]),
        f_g=concat_int(parts["f_g"]),
        f_r=concat_int(parts["f_r"]),
        f_t=concat_int(parts["f_t"]),
        l_cell=concat_int(parts["l_cell"]),
        l_class=concat_int(parts["l_class"]),
        l_inv_rate=concat_float(parts["l_inv"]),
        class_service=np.array(class_service, dtype=np.int64),
        class_share=np.array(class_share, dtype=float),
        class_names=tuple(class_names),
        demand=demand,
    )
