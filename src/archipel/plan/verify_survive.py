"""Survivability for the verifier: after the loss of a provider or region, the largest fraction
of each listed service's peak demand that the surviving firm nodes can serve (flows re-chosen by
the verifier's own LP, :mod:`archipel.plan.verify_lp`)."""

from __future__ import annotations

import numpy as np

from archipel.catalog.model import PurchaseOption
from archipel.plan.result import ScenarioResult
from archipel.plan.verify_facts import Cells, Facts, Float, Int
from archipel.plan.verify_lp import FractionLP, max_fractions
from archipel.plan.verify_rules import ABS, LP_REL, Problem, cell_rates, service_cells
from archipel.spec.models import SurvivabilityRule


def survivability(facts: Facts, cells: Cells) -> tuple[list[ScenarioResult], list[Problem]]:
    """For each rule and failure scenario, the largest fraction of peak demand the rest serves.

    Only firm nodes count (on-demand, reserved, own), spot nodes too when ``count_spot``.
    """
    results: list[ScenarioResult] = []
    out: list[Problem] = []
    cs, co, ct, cn = service_cells(facts, cells)
    names = list(facts.services)
    offs = facts.inputs.offerings
    spot = np.array([offs[o].purchase_option == PurchaseOption.SPOT for o in co], dtype=bool)
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
        firm = ~spot | rule.count_spot
        for name, lost in scenarios:
            keep = ~lost[co] & firm
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
                            f"{frac[k, t]:.4f} of its peak demand in period {facts.labels[t]} on "
                            f"{'the surviving nodes' if rule.count_spot else 'surviving firm (non-spot) nodes'} "
                            f"(required {rule.served_fraction:g}; LP check, relative tolerance "
                            f"{LP_REL:g})",
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
    """[len(listed), T]: max fraction of each listed service's peak demand per period."""
    svcs = list(facts.services.values())
    n_r, n_t = len(facts.regions), len(facts.hours)
    ckey = (cs * n_r + facts.region_of[co]) * n_t + ct
    blocks, cb = np.unique(ckey, return_inverse=True)
    b_s = blocks // (n_r * n_t)
    has_block = np.zeros((len(svcs), n_r, n_t), dtype=bool)
    has_block[b_s, (blocks // n_t) % n_r, blocks % n_t] = True
    e_key: list[Int] = []
    e_cls: list[Int] = []
    e_dem: list[Float] = []
    f_entry: list[Int] = []
    f_block: list[Int] = []
    n_e = 0
    for k, si in enumerate(listed):
        sf = svcs[si]
        for c, share in enumerate(sf.shares):
            g, t = np.nonzero(sf.demand * share > 0)
            e_key.append(k * n_t + t)
            e_cls.append(np.full(g.size, c, dtype=np.int64))
            e_dem.append(sf.demand[g, t] * share)
            # geography within reach, region allowed and holding nodes in the entry's period
            ok = sf.latency_ok[g] & sf.region_ok[:, t].T & has_block[si][:, t].T
            fe, fr = np.nonzero(ok)
            f_entry.append(n_e + fe)
            f_block.append(np.searchsorted(blocks, (si * n_r + fr) * n_t + t[fe]))
            n_e += g.size
    ints = np.zeros(0, np.int64)
    lp = FractionLP(
        n_keys=len(listed) * n_t,
        entry_key=np.concatenate([*e_key, ints]).astype(np.int64),
        entry_class=np.concatenate([*e_cls, ints]).astype(np.int64),
        entry_demand=np.concatenate([*e_dem, np.zeros(0)]),
        flow_entry=np.concatenate([*f_entry, ints]).astype(np.int64),
        flow_block=np.concatenate([*f_block, ints]).astype(np.int64),
        n_blocks=blocks.size,
        cell_block=cb.astype(np.int64),
        cell_nodes=cn,
        cell_rate=cell_rates(facts, cs, co),
    )
    frac, _ = max_fractions(lp)
    return frac.reshape(len(listed), n_t)
