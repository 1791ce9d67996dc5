"""The outlook's stochastic program and risk figures, checked against answers derived by hand.

Newsvendor. One period, one take-or-pay commitment bought at p_c per unit of work, on-demand at
p_od > p_c for what exceeds it, demand W ~ U[0, 100]. Commit q: cost(q, W) = p_c q + p_od (W −
q)+. d/dq E[cost] = p_c − p_od P(W > q) = 0, so P(W ≤ q*) = 1 − p_c / p_od: with p_c / p_od =
0.6, q* is the 0.4 quantile, 40. In Archipel's terms (archipel.outlook.saa) a commitment
covering q of list spend costs (1 − d) q: a discount d = 0.4 is the ratio 0.6, and p_od = 1.

At q* = 40: E[cost] = 0.6 · 40 + E[(W − 40)+] = 24 + 60² / 200 = 42. The mean-value answer
commits the mean, 50: 30 + 50² / 200 = 42.5, so VSS = 0.5. With perfect information each
scenario commits its own W: E[0.6 W] = 30, so EVPI = 42 − 30 = 12.

Stranding cap. Stranded commitment in scenario W is 0.6 (q − W)+. Asking P(stranded > 0) ≤ 0.2
means P(W < q) ≤ 0.2: q ≤ 20, the 0.2 quantile, below the unconstrained 40, so the cap binds
and q* = 20; a cap of 0.6 does not bind (P(W < 40) = 0.4) and leaves q* = 40.

CVaR. Costs 100, 200, 300, 1000 with probabilities 0.5, 0.3, 0.15, 0.05: the worst 5 % is the
atom at 1000, so CVaR95 = 1000; the worst 10 % is 0.05 at 1000 and 0.05 of the 0.15 at 300, so
CVaR90 = (0.05 · 1000 + 0.05 · 300) / 0.1 = 650; the worst 30 %: (50 + 45 + 0.1 · 200) / 0.3 =
383.33…
"""

from __future__ import annotations

import numpy as np
import pytest

from archipel.outlook.saa import (
    StrandingCap,
    Terms,
    scenario_cost,
    scenario_stranded,
    solve_saa,
    wait_and_see,
)
from archipel.outlook.stats import cvar

ONE = Terms(discount=np.array([0.4]), hours=np.array([1.0]), group=np.array([-1]))


def demand(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 100.0, (n, 1))


def test_the_saa_commitment_is_the_critical_quantile_and_converges_to_40() -> None:
    """Mean absolute error over 8 seeds shrinks as N grows; at N = 5,000 every seed is within
    2.3 of 40 (the DKW bound on the empirical quantile: 100 · sqrt(ln(2 / 0.01) / (2N)) = 2.30
    with 99 % confidence)."""
    errors = {}
    for n in (50, 500, 5000):
        qs = [solve_saa(demand(n, s), np.zeros(n), ONE).q[0] for s in range(8)]
        errors[n] = float(np.mean(np.abs(np.array(qs) - 40.0)))
        if n == 5000:
            assert all(abs(q - 40.0) < 2.30 for q in qs), qs
    assert errors[50] > errors[500] > errors[5000]
    # the SAA answer is exactly an empirical 0.4-quantile of the sample
    w = demand(999, 0)
    q = solve_saa(w, np.zeros(999), ONE).q[0]
    below = float(np.mean(w[:, 0] < q - 1e-9))
    assert below <= 0.4 <= float(np.mean(w[:, 0] <= q + 1e-9))


def test_same_seed_same_figures() -> None:
    a = solve_saa(demand(3000, 9), np.zeros(3000), ONE)
    b = solve_saa(demand(3000, 9), np.zeros(3000), ONE)
    assert a.q.tolist() == b.q.tolist() and a.objective_usd == b.objective_usd


def test_expected_cost_vss_and_evpi_of_the_newsvendor() -> None:
    n = 200_000
    w = demand(n, 1)
    zero = np.zeros(n)
    sp = solve_saa(w[:20_000], zero[:20_000], ONE).q
    ev = solve_saa(w.mean(axis=0, keepdims=True), np.zeros(1), ONE).q
    assert ev[0] == pytest.approx(50.0, abs=0.2)
    cost_sp = scenario_cost(sp, w, zero, ONE).mean()
    cost_ev = scenario_cost(ev, w, zero, ONE).mean()
    assert cost_sp == pytest.approx(42.0, abs=0.1)
    assert cost_ev - cost_sp == pytest.approx(0.5, abs=0.1)
    assert cost_sp - wait_and_see(w, zero, ONE) == pytest.approx(12.0, abs=0.15)


def test_cvar_of_a_discrete_distribution_by_hand() -> None:
    x = np.array([300.0, 100.0, 1000.0, 200.0])
    p = np.array([0.15, 0.5, 0.05, 0.3])
    assert cvar(x, 0.95, p) == pytest.approx(1000.0)
    assert cvar(x, 0.90, p) == pytest.approx(650.0)
    assert cvar(x, 0.70, p) == pytest.approx((50 + 45 + 20) / 0.3)
    # equal weights: 20 costs 1..20, the worst 5 % is the largest one
    assert cvar(np.arange(1.0, 21.0), 0.95) == pytest.approx(20.0)
    assert cvar(np.arange(1.0, 21.0), 0.90) == pytest.approx(19.5)


def test_a_cvar_weight_commits_more_against_the_costly_tail() -> None:
    """With all weight on CVaR95 the commitment protects the worst 5 % (high demand): the
    cost there is W − 0.4 q for q ≤ W, lowest when q reaches the tail: q near the 0.95
    quantile and beyond the risk-neutral 40."""
    w = demand(4000, 2)
    neutral = solve_saa(w, np.zeros(4000), ONE).q[0]
    averse = solve_saa(w, np.zeros(4000), ONE, cvar_weight=1.0).q[0]
    assert neutral == pytest.approx(40.0, abs=2.5)
    assert averse > 90.0


def test_a_cap_on_the_probability_of_stranding_commits_its_quantile() -> None:
    """N = 400: the capped answer is within the DKW bound of 20 (100 · sqrt(ln(200) / 800) =
    8.1 with 99 % confidence) and strands in at most 20 % of the sample (one scenario more at
    the solver's tolerance); the loose cap gives the unconstrained answer's cost."""
    n = 400
    w = demand(n, 6)
    capped = solve_saa(w, np.zeros(n), ONE, cap=StrandingCap(0.0, 0.2))
    assert "stranding cap" in capped.method
    assert abs(capped.q[0] - 20.0) < 8.1
    assert float(np.mean(scenario_stranded(capped.q, w, ONE) > 1e-6)) <= 0.2 + 1.0 / n
    free = solve_saa(w, np.zeros(n), ONE)
    loose = solve_saa(w, np.zeros(n), ONE, cap=StrandingCap(0.0, 0.6))
    assert loose.objective_usd == pytest.approx(free.objective_usd, rel=2e-4)
    assert capped.objective_usd > free.objective_usd
