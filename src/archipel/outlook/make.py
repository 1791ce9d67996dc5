"""An outlook from a plan, its inputs and a scenarios file: evaluation, then optionally choice."""

from __future__ import annotations

import time
from collections.abc import Callable

from archipel.outlook.optimize import OptimizeOptions, optimize
from archipel.outlook.portfolio import build_portfolio
from archipel.outlook.result import Outlook
from archipel.outlook.runner import Progress, RunOptions, run
from archipel.outlook.stats import default_threshold, per_contract, per_year, totals
from archipel.plan.inputs import PlanInputs
from archipel.plan.result import Plan
from archipel.spec.uncertainty import Uncertainty

ASSUMPTIONS = (
    "Each scenario keeps the plan's placement shape: a service's spend on each offering "
    "scales with its demand and with its accelerator's list-price index; load is not moved "
    "between providers to fill a commitment (stranding is an upper bound on what re-planning "
    "each scenario would leave). Training keeps its work.",
    "Spend counts toward the contract years the plan counted it toward; the contract years' "
    "commitments, maxima, discount tiers, carry-over caps and reserved blocks are the "
    "planner's (plan.contract_terms.year_terms). A shortfall is carried as far as allowed, "
    "the rest billed when take-or-pay.",
    "A lost provider's work is bought elsewhere at list price × the outage's replacement "
    "factor and counts toward no contract; its contracts run on.",
    "Reservations bought by the plan are paid in full; their use scales with their "
    "services' demand, demand above them is bought on demand.",
)


def backend_name(opts: RunOptions) -> str:
    if opts.ray_address is not None:
        return f"ray {opts.ray_address}"
    return "this process" if opts.workers <= 1 else f"{opts.workers} local processes"


def make_outlook(
    inputs: PlanInputs,
    plan: Plan,
    u: Uncertainty,
    opts: RunOptions,
    scenarios_file: str | None = None,
    choose: OptimizeOptions | None = None,
    progress: Progress | None = None,
    say: Callable[[str], None] | None = None,
) -> Outlook:
    t0 = time.perf_counter()
    pf = build_portfolio(inputs, plan)
    threshold = default_threshold(pf, u)
    t1 = time.perf_counter()
    if say:
        say(f"evaluating {opts.scenarios:,} scenarios")
    r = run(pf, u, opts, progress)
    t2 = time.perf_counter()
    providers = [c.provider for c in inputs.spec.contracts]
    chosen = optimize(pf, u, opts, choose, threshold, progress, say) if choose else None
    t3 = time.perf_counter()
    timings = {"portfolio": t1 - t0, "evaluate": t2 - t1}
    if chosen is not None:
        timings["optimize"] = t3 - t2
    return Outlook(
        spec_name=inputs.spec.name,
        scenarios=opts.scenarios,
        seed=opts.seed,
        batch_size=opts.batch_size,
        backend=backend_name(opts),
        scenarios_file=scenarios_file,
        assumptions=list(ASSUMPTIONS),
        totals=totals(pf, r, threshold),
        per_contract=per_contract(pf, r, threshold, providers),
        per_year=per_year(pf, r, u),
        optimization=chosen,
        timings_s={k: round(v, 4) for k, v in timings.items()},
    )
