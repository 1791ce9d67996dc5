"""What the future may bring, for ``archipel outlook``: a scenarios file next to a spec.

A scenarios file (YAML, e.g. ``examples/outlook/frontier-lab.yaml``) says how the years after
the plan may differ from it; :mod:`archipel.outlook.scenarios` samples it from a seed. It is a
file of its own, not a section of the spec, so that a spec (and the hash its plans carry) does
not change when a risk view changes. Every part is optional:

- ``demand``: yearly demand growth per service, ``lognormal`` (a median in percent a year and a
  spread, the standard deviation of the log of the yearly growth factor) or ``options`` (an
  explicit list of growth rates with weights, one drawn per scenario for the whole horizon);
  a service not listed follows ``default_demand``; ``correlation`` is the share of the yearly
  log-growth variance common to all services (a market-wide factor);
- ``prices``: a yearly decline of list prices per accelerator, uniform between two rates;
- ``generations``: a new accelerator generation arriving on a date uniform between two dates,
  cutting the price of work on the accelerators it replaces by a share from then on;
- ``outages``: a provider lost for a span, with a probability over the horizon;
- ``funding``: a spend cap per calendar year (money, not demand, falling short);
- ``stranded_threshold_usd``: the stranded commitment whose excess probability is reported.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from archipel.errors import Issue, SpecError
from archipel.spec.types import Frozen, Id, Name, Pct, PlanDate, Usd
from archipel.spec.yaml_reader import SourceMap

SCENARIOS = "the scenarios file"

MAX_SCENARIOS = 10_000_000
Spread = Annotated[float, Field(ge=0.0, le=3.0)]
GrowthPct = Annotated[float, Field(ge=-99.0, le=1000.0)]


class LognormalGrowth(Frozen):
    """Yearly growth factor ``1 + g`` lognormal: median ``1 + median_pct/100``, log-sd ``spread``
    (0.25: a one-sigma year is about 28 % above or 22 % below the median path)."""

    kind: Literal["lognormal"] = "lognormal"
    median_pct_per_year: GrowthPct | None = Field(
        None, description="Median yearly growth in percent; default: the spec's growth rate."
    )
    spread: Spread = 0.25


class GrowthOption(Frozen):
    growth_pct_per_year: GrowthPct
    weight: float = Field(gt=0.0, le=1e6)


class GrowthOptions(Frozen):
    """One of ``options`` per scenario (by weight), held for the whole horizon."""

    kind: Literal["options"] = "options"
    options: list[GrowthOption] = Field(min_length=1, max_length=1000)


Growth = Annotated[LognormalGrowth | GrowthOptions, Field(discriminator="kind")]


class ServiceDemand(Frozen):
    service: Id
    growth: Growth


class PriceDecline(Frozen):
    """List prices of work on ``accelerator`` fall by a yearly rate drawn uniformly in
    [low, high] per scenario, from the horizon's start."""

    accelerator: Name
    low_pct_per_year: Pct = 0.0
    high_pct_per_year: Pct = 0.0

    @model_validator(mode="after")
    def _order(self) -> PriceDecline:
        if self.low_pct_per_year > self.high_pct_per_year:
            raise ValueError("low_pct_per_year is above high_pct_per_year")
        return self


class Generation(Frozen):
    """A new generation arriving between two dates (uniform): from then on, work on
    ``replaces`` costs ``price_cut_pct`` less (it moves to the new chips at that saving)."""

    name: Name
    earliest: PlanDate
    latest: PlanDate
    price_cut_pct: Pct
    replaces: list[Name] | None = Field(
        None, description="Accelerators whose work moves; default: every accelerator."
    )

    @model_validator(mode="after")
    def _order(self) -> Generation:
        if self.earliest > self.latest:
            raise ValueError(f"earliest {self.earliest} is after latest {self.latest}")
        return self


class Outage(Frozen):
    """With ``probability`` over the horizon, ``provider`` is lost for ``months`` from a start
    uniform over the horizon's periods: its work is bought elsewhere at list price ×
    ``replacement_price_factor`` and no longer counts toward its contracts (which run on)."""

    provider: Id
    probability: float = Field(ge=0.0, le=1.0)
    months: int = Field(ge=1, le=600)
    replacement_price_factor: float = Field(1.0, ge=0.1, le=10.0)


class FundingCap(Frozen):
    year: int = Field(ge=2000, le=2200)
    usd: Usd


class Uncertainty(Frozen):
    """A scenarios file (see the module docstring)."""

    version: Literal[1] = 1
    seed: int = Field(0, ge=0, le=2**63 - 1)
    scenarios: int = Field(10_000, ge=1, le=MAX_SCENARIOS)
    default_demand: Growth = Field(default_factory=LognormalGrowth)
    correlation: float = Field(
        0.5, ge=0.0, le=1.0, description="Share of log-growth variance common to all services."
    )
    demand: list[ServiceDemand] = Field(default_factory=list, max_length=10_000)
    prices: list[PriceDecline] = Field(default_factory=list, max_length=1000)
    generations: list[Generation] = Field(default_factory=list, max_length=100)
    outages: list[Outage] = Field(default_factory=list, max_length=1000)
    funding: list[FundingCap] = Field(default_factory=list, max_length=200)
    stranded_threshold_usd: Usd | None = Field(
        None, description="Default: 5 % of the commitments inside the horizon."
    )

    @model_validator(mode="after")
    def _unique(self) -> Uncertainty:
        for what, names in (
            ("demand", [d.service for d in self.demand]),
            ("prices", [p.accelerator for p in self.prices]),
            ("funding", [str(f.year) for f in self.funding]),
        ):
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"{what} lists {', '.join(dup)} more than once; list each once")
        return self


def load_uncertainty(path: str | Path) -> tuple[Uncertainty, SourceMap]:
    """Read a scenarios file; every problem at once, at ``file:line:column``. Returns the model
    and its source map (for :func:`check_names`)."""
    from archipel.spec.load import by_position, read_text, validation_issues
    from archipel.spec.yaml_reader import read_document

    doc = read_document(read_text(path), str(path))
    if doc.issues:
        raise SpecError(by_position(doc.issues), SCENARIOS)
    try:
        return Uncertainty.model_validate(doc.data), doc.source
    except ValidationError as exc:
        raise SpecError(by_position(validation_issues(exc, doc)), SCENARIOS) from None


def check_names(
    u: Uncertainty,
    source: SourceMap,
    services: set[str],
    accelerators: set[str],
    providers: set[str],
) -> None:
    """Every service, accelerator and provider the file names exists in the spec's plan
    inputs; else one :class:`SpecError` with each unknown name at its line."""
    issues: list[Issue] = []

    def unknown(path: tuple[str | int, ...], name: str, known: set[str], what: str) -> None:
        if name not in known:
            hint = f"known {what}s: {', '.join(sorted(known)) or 'none'}"
            issues.append(source.issue(path, f"unknown {what} {name!r}", hint))

    for i, d in enumerate(u.demand):
        unknown(("demand", i, "service"), d.service, services, "service")
    for i, p in enumerate(u.prices):
        unknown(("prices", i, "accelerator"), p.accelerator, accelerators, "accelerator")
    for i, g in enumerate(u.generations):
        for k, a in enumerate(g.replaces or []):
            unknown(("generations", i, "replaces", k), a, accelerators, "accelerator")
    for i, o in enumerate(u.outages):
        unknown(("outages", i, "provider"), o.provider, providers, "provider")
    if issues:
        raise SpecError(issues, SCENARIOS)


def to_datetime(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time())
