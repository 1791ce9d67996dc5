"""The Ray path of the scenario batches, on a local Ray instance (one CPU, no dashboard).

Skipped, saying so, where Ray is not installed (``pip install 'archipel[ray]'``; the ``dev``
extra brings it). Every path runs numpy with one BLAS thread, so Ray's figures are this
process's to the bit.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from test_outlook_evaluate import portfolio

from archipel.outlook.runner import RunOptions, run
from archipel.spec.uncertainty import LognormalGrowth, Uncertainty

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed (pip install 'archipel[ray]'); the Ray path is not tested",
)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_ray_batches_give_the_local_figures() -> None:
    import ray

    pf = portfolio()
    u = Uncertainty(default_demand=LognormalGrowth(median_pct_per_year=20, spread=0.3))
    opts = RunOptions(scenarios=1200, seed=5, batch_size=300)
    here = run(pf, u, opts)
    seen: list[tuple[int, int]] = []
    on_ray = run(
        pf,
        u,
        RunOptions(scenarios=1200, seed=5, batch_size=300, ray_address="local"),
        lambda done, total: seen.append((done, total)),
    )
    assert not ray.is_initialized()  # started here, shut down here
    assert seen[-1] == (4, 4)
    for field in ("total_cost", "stranded", "term_list", "contract_cost"):
        assert np.array_equal(getattr(on_ray, field), getattr(here, field))
