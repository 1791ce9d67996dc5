"""Outlook: a plan's commitments under uncertainty (``archipel outlook``).

- :mod:`~archipel.outlook.scenarios`: scenarios drawn from a seed as arrays (demand, prices,
  provider losses), from a scenarios file (:mod:`archipel.spec.uncertainty`);
- :mod:`~archipel.outlook.portfolio`: a plan's spend cells and contract years as arrays (the
  planner's own contract terms);
- :mod:`~archipel.outlook.evaluate`: a fixed portfolio on a batch of scenarios, vectorised;
- :mod:`~archipel.outlook.runner`: batches in this process, local processes or Ray;
- :mod:`~archipel.outlook.stats`: percentiles, CVaR, the per-contract and per-year tables;
- :mod:`~archipel.outlook.saa`: choosing commitments by sample-average approximation (extensive
  form, L-shaped method, optional CVaR weight and stranding cap);
- :mod:`~archipel.outlook.optimize`: the stochastic answer beside the baselines, VSS, EVPI, gap;
- :mod:`~archipel.outlook.make`, :mod:`~archipel.outlook.result`, :mod:`~archipel.outlook.text`:
  the outlook as data, and as terminal lines.

No files or environment are read here; the runner starts worker processes (or uses Ray), the
stochastic program calls the solver adapter, and elapsed times are measured for the report.
"""
