"""The stochastic program (archipel.outlook.saa): the L-shaped method against the extensive
form, savings plans held to one hourly rate, and the method chosen by size."""

from __future__ import annotations

import numpy as np
import pytest

from archipel.outlook import saa
from archipel.outlook.saa import Terms, build_extensive, scenario_cost, solve_saa

TERMS = Terms(
    discount=np.array([0.4, 0.2, 0.5, 0.3, 0.3, 0.3]),
    hours=np.array([1.0, 1.0, 1.0, 2208.0, 8760.0, 4380.0]),
    group=np.array([-1, -1, -1, 7, 7, 7]),  # the last three: one savings plan
)


def sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.lognormal(3.0, 0.5, (n, 6)) * np.array([1, 1, 1, 20, 80, 40]), rng.random(n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_l_shaped_method_meets_the_extensive_form(seed: int) -> None:
    w, c = sample(800, seed)
    ext = solve_saa(w, c, TERMS, method="extensive")
    ls = solve_saa(w, c, TERMS, method="lshaped")
    assert ls.method == "L-shaped" and ls.iterations > 1
    assert ls.objective_usd == pytest.approx(ext.objective_usd, rel=1e-8)
    # the objective is the sample's mean cost of the answer (the constant included)
    assert scenario_cost(ls.q, w, c, TERMS).mean() == pytest.approx(ls.objective_usd, rel=1e-12)


def test_a_savings_plan_commits_one_hourly_rate() -> None:
    w, c = sample(500, 3)
    for method in ("extensive", "lshaped"):
        q = solve_saa(w, c, TERMS, method=method).q  # type: ignore[arg-type]
        hourly = (1 - TERMS.discount[3:]) * q[3:] / TERMS.hours[3:]
        assert hourly == pytest.approx(np.full(3, hourly[0]), rel=1e-6)


def test_the_size_chooses_the_method(monkeypatch: pytest.MonkeyPatch) -> None:
    w, c = sample(300, 4)
    assert solve_saa(w, c, TERMS).method == "extensive form"
    monkeypatch.setattr(saa, "EXTENSIVE_MAX_COLUMNS", 100)
    assert solve_saa(w, c, TERMS).method == "L-shaped"
    assert solve_saa(w, c, TERMS, cvar_weight=0.3).method == "extensive form"  # CVaR: extensive
    with pytest.raises(ValueError, match="expected cost"):
        solve_saa(w, c, TERMS, cvar_weight=0.3, method="lshaped")


def test_the_extensive_form_has_a_column_per_scenario_and_contract_year() -> None:
    w, c = sample(50, 5)
    lp = build_extensive(w, c, TERMS, cvar_weight=0.5)
    assert lp.num_cols == 6 + 50 * 6 + 1 + 50  # q, y, η, z
    assert lp.num_rows == 50 * 6 + 50 + 2  # recourse, CVaR excess, two savings-plan ties
