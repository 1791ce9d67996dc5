"""Evaluating a fixed portfolio (archipel.outlook.evaluate) on hand-made scenarios, and the
batch runner's determinism (archipel.outlook.runner).

The plan: model m70 serves 20 requests/s per 8-H100 node; "eu" asks 100 requests/s in 2027-Q1
and Q2 (2160 h and 2184 h). Contract aws-deal (aws, 2027, take-or-pay) commits 500 USD an hour
of 2027 (4,380,000 USD), 2,172,000 inside the horizon (4344 h), with 10 % off counted net. The
planner moves the 5 nodes to aws:eu-west-1 (96 USD/h list, 86.4 net): 5 × 86.4 × 4344 =
1,876,608 counted, so 295,392 is unused and billed as shortfall.
"""

from __future__ import annotations

import datetime as dt
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import PurchaseOption
from archipel.outlook.evaluate import Evaluator, evaluate, tier_savings_v
from archipel.outlook.portfolio import Portfolio, build_portfolio
from archipel.outlook.runner import RunOptions, batch_sizes, run, tasks
from archipel.outlook.scenarios import Scenarios, mean_path
from archipel.plan.contract_books import tier_savings
from archipel.plan.inputs import PlanInputs, prepare
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Plan, Status
from archipel.spec.models import CatalogSelection, Contract
from archipel.spec.uncertainty import LognormalGrowth, Outage, Uncertainty
from factories import service, small_catalog, spec_with

COMMITTED = 500.0 * 4344  # inside the horizon
NET = 96.0 * 0.9


@cache
def planned() -> tuple[PlanInputs, Plan]:
    deal = Contract(
        id="aws-deal",
        provider="aws",
        start=dt.date(2027, 1, 1),
        end=dt.date(2028, 1, 1),
        committed_usd_per_year=500.0 * 8760,
        discount_pct=10,
        regions=["aws:eu-west-1"],
    )
    spec = spec_with(services=[service(demand={"eu": [100.0, 100.0]})], contracts=[deal])
    sel = CatalogSelection(
        source="tests", accelerators=["H100"], purchase_options=[PurchaseOption.ON_DEMAND]
    )
    spec = spec.model_copy(update={"catalog": sel})
    plan = make_plan(spec, small_catalog(), options=PlanOptions(mip_rel_gap=0.0, rule_costs=False))
    assert plan.status == Status.OPTIMAL and plan.verified
    return prepare(spec, small_catalog()), plan


def portfolio() -> Portfolio:
    return build_portfolio(*planned())


def scenarios(
    pf: Portfolio, demand: float | np.ndarray, lost: bool = False, factor: float = 1.0
) -> Scenarios:
    base = mean_path(pf.frame)
    d = np.broadcast_to(np.asarray(demand, float), base.demand.shape).copy()
    lost_mask = np.zeros_like(base.lost)
    if lost:
        lost_mask[:, pf.frame.providers.index("aws"), :] = True
    repl = np.array([factor if p == "aws" else 1.0 for p in pf.frame.providers])
    return Scenarios(d, base.price, lost_mask, repl)


def test_the_plans_own_path_gives_the_plans_figures() -> None:
    _, plan = planned()
    assert sum(a.nodes for a in plan.allocations if a.provider == "aws") == 10  # 5 a quarter
    r = evaluate(portfolio(), mean_path(portfolio().frame))
    assert plan.objective_usd is not None
    assert r.total_cost[0] == pytest.approx(plan.objective_usd, rel=1e-12)
    assert r.stranded[0] == pytest.approx(plan.unused_commitment_usd, rel=1e-9)
    assert r.stranded[0] == pytest.approx(COMMITTED - 5 * NET * 4344, rel=1e-9)


def test_half_the_demand_strands_half_the_counted_spend() -> None:
    """Half the nodes on aws: counted 5/2 × 86.4 × 4344 = 938,304; unused 2,172,000 − that =
    1,233,696, billed as shortfall; cost = 938,304 + 1,233,696 = the commitment."""
    r = evaluate(portfolio(), scenarios(portfolio(), 0.5))
    counted = 2.5 * NET * 4344
    assert r.stranded[0] == pytest.approx(COMMITTED - counted, rel=1e-9)
    assert r.contract_cost[0, 0] == pytest.approx(COMMITTED, rel=1e-9)
    assert r.total_cost[0] == pytest.approx(COMMITTED, rel=1e-9)


def test_a_lost_provider_leaves_its_contract_to_pay_in_full() -> None:
    """aws lost all horizon: its 5 nodes are bought elsewhere at 1.2 × list (96 × 1.2 per
    node-hour), nothing counts, the whole 2,172,000 is shortfall and stranded."""
    r = evaluate(portfolio(), scenarios(portfolio(), 1.0, lost=True, factor=1.2))
    assert r.stranded[0] == pytest.approx(COMMITTED)
    assert r.total_cost[0] == pytest.approx(COMMITTED + 5 * 96 * 1.2 * 4344, rel=1e-9)


def test_tier_discounts_match_the_plans_books() -> None:
    widths = np.array([[100.0, 50.0, np.inf]])
    rates = np.array([[0.0, 0.1, 0.2]])
    spend = np.array([[40.0], [120.0], [400.0]])
    got = tier_savings_v(spend, widths, rates)[:, 0]
    want = [tier_savings(float(s), ((100.0, 0.0), (50.0, 0.1), (np.inf, 0.2))) for s in spend[:, 0]]
    assert got.tolist() == pytest.approx(want)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.05, 4.0), min_size=2, max_size=2),
    st.floats(1.0, 3.0),
)
def test_more_demand_never_strands_more_and_commitments_are_always_paid(
    path: list[float], more: float
) -> None:
    pf = portfolio()
    d = np.array(path)[None, None, :]
    low = evaluate(pf, scenarios(pf, d))
    high = evaluate(pf, scenarios(pf, d * more))
    assert low.stranded[0] >= -1e-9 and high.stranded[0] <= low.stranded[0] + 1e-6
    assert low.contract_cost[0, 0] >= COMMITTED * (1 - 1e-12)  # take-or-pay
    assert high.total_cost[0] >= low.total_cost[0] - 1e-6


def test_the_batches_do_not_depend_on_the_worker_count() -> None:
    pf = portfolio()
    u = Uncertainty(
        default_demand=LognormalGrowth(median_pct_per_year=10, spread=0.4),
        outages=[Outage(provider="aws", probability=0.3, months=3)],
    )
    one = run(pf, u, RunOptions(scenarios=2500, seed=11, batch_size=400, workers=1))
    two = run(pf, u, RunOptions(scenarios=2500, seed=11, batch_size=400, workers=2))
    assert one.size == 2500 and batch_sizes(2500, 400) == [400] * 6 + [100]
    for field in ("total_cost", "stranded", "term_list", "year_cost"):
        assert np.array_equal(getattr(one, field), getattr(two, field))
    again = run(pf, u, RunOptions(scenarios=2500, seed=11, batch_size=400))
    assert np.array_equal(one.total_cost, again.total_cost)
    other = run(pf, u, RunOptions(scenarios=2500, seed=12, batch_size=400))
    assert not np.array_equal(one.total_cost, other.total_cost)


@given(
    st.lists(st.integers(1, 5000), min_size=1, max_size=300),
    st.integers(1, 8),
    st.integers(1, 50_000),
)
def test_tasks_cover_the_batches_in_order_and_stay_big_or_many(
    sizes: list[int], workers: int, least: int
) -> None:
    groups = tasks(sizes, workers, least)
    assert [b for g in groups for b in g] == list(range(len(sizes)))
    assert len({len(g) for g in groups[:-1]}) <= 1  # equal groups, the last one shorter
    per = len(groups[0])
    # a task holds enough batches for `least` full-size scenarios, unless that would leave
    # fewer than four tasks per worker
    assert per * max(sizes) >= least or len(groups) >= min(len(sizes), 4 * workers)


def test_the_evaluator_is_reusable_across_batches() -> None:
    pf = portfolio()
    ev = Evaluator(pf)
    a = ev.run(scenarios(pf, 0.7))
    b = ev.run(scenarios(pf, 0.7))
    assert np.array_equal(a.total_cost, b.total_cost)


def test_a_reservation_is_paid_in_full_and_demand_above_it_bought_on_demand() -> None:
    """tests/golden/test_golden_reservations.py: one ovh node reserved for 2027 at 43.2 USD an
    hour (72 × 0.6), 378,432 USD, fully used by 20 requests/s. Half the demand: half its cost
    stranded (189,216). Twice the demand: a second node on demand, 72 × 8760 = 630,720 more."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "golden"))
    from test_golden_reservations import fleet, ri
    from test_golden_reservations import run as plan_of

    spec = fleet([20, 20, 20, 20], ri())
    plan = plan_of(spec)
    assert len(plan.reservations) == 1
    pf = build_portfolio(prepare(spec, small_catalog()), plan)
    own = evaluate(pf, mean_path(pf.frame))
    assert own.total_cost[0] == pytest.approx(378_432.0) and own.stranded[0] == pytest.approx(0.0)
    half = evaluate(pf, scenarios(pf, 0.5))
    assert half.total_cost[0] == pytest.approx(378_432.0)
    assert half.stranded[0] == pytest.approx(189_216.0)
    double = evaluate(pf, scenarios(pf, 2.0))
    assert double.total_cost[0] == pytest.approx(378_432.0 + 630_720.0)
    assert double.stranded[0] == pytest.approx(0.0)
    assert double.year_cost[0].sum() == pytest.approx(double.total_cost[0])
