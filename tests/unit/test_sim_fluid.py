"""Fluid mode against hand-derived figures."""

from __future__ import annotations

import numpy as np
from simkit import table

from archipel.sim.faults import Fault, FaultKind, schedule
from archipel.sim.fluid import accepted_fraction, available_fraction, fluid, mixed_capacity


def test_one_of_two_equal_deployments_out() -> None:
    tb = table(replicas=(2, 2), rate=(5.0, 5.0))  # 10 req/s each
    cap = mixed_capacity(tb, np.array([1.0]))
    np.testing.assert_allclose(cap, [10.0, 10.0])
    demand = np.array([[5.0], [15.0], [25.0]])
    # r1 out for the whole of every step
    av = available_fraction(
        tb, schedule([Fault(FaultKind.OUTAGE, 0.0, 180.0, "region:r1")]), 60.0, 3
    )
    np.testing.assert_allclose(av, [[1, 0]] * 3)
    res = fluid(tb, 0, demand, cap, av, step_s=60.0)
    np.testing.assert_allclose(res.served, np.minimum(demand[:, 0], 10.0) * 60)
    np.testing.assert_allclose(res.lost, [0, 5 * 60, 15 * 60])
    np.testing.assert_allclose(res.served_by_deployment[:, 1], 0.0)
    both = fluid(tb, 0, demand, cap, None, step_s=60.0)
    np.testing.assert_allclose(both.served, np.minimum(demand[:, 0], 20.0) * 60)


def test_partial_preemption_and_weights() -> None:
    tb = table(replicas=(2, 2), rate=(5.0, 5.0), weight=(0.75, 0.25))
    cap = mixed_capacity(tb, np.array([1.0]))
    # one of r0's two replicas preempted for half of step 1: r0 has 75% of its capacity there
    fs = schedule([Fault(FaultKind.PREEMPTION, 60.0, 90.0, "deployment:chat/r0/o0", 1.0)])
    av = available_fraction(tb, fs, 60.0, 2)
    np.testing.assert_allclose(av, [[1, 1], [0.75, 1]])
    res = fluid(tb, 0, np.array([[12.0], [12.0]]), cap, av, step_s=1.0)
    # r0 gets 9 req/s: all served in step 0 (cap 10), 7.5 in step 1; r1 gets 3
    np.testing.assert_allclose(res.served_by_deployment, [[9, 3], [7.5, 3]])
    np.testing.assert_allclose(res.lost_by_geography[:, 0], [0, 1.5])


def test_a_429_window_sends_traffic_to_the_other_deployments() -> None:
    """Weights 0.5/0.5, 12 req/s, r0 turns away half (value 0.5) for the whole of step 1 and all
    of it in step 2: r0's routing weight becomes 0.25 then 0, so it carries 4 then 0 of the 12
    and r1 the rest up to its 10; capacity is untouched (a 429 costs no replica time)."""
    tb = table(replicas=(2, 2), rate=(5.0, 5.0))
    cap = mixed_capacity(tb, np.array([1.0]))
    fs = schedule(
        [
            Fault(FaultKind.CAPACITY_ERROR, 60.0, 120.0, "region:r0", 0.5),
            Fault(FaultKind.CAPACITY_ERROR, 120.0, 180.0, "region:r0", 1.0),
        ]
    )
    acc = accepted_fraction(tb, fs, 60.0, 3)
    np.testing.assert_allclose(acc, [[1, 1], [0.5, 1], [0, 1]])
    np.testing.assert_allclose(available_fraction(tb, fs, 60.0, 3), 1.0)
    res = fluid(tb, 0, np.full((3, 1), 12.0), cap, None, step_s=1.0, accepted=acc)
    np.testing.assert_allclose(res.served_by_deployment, [[6, 6], [4, 8], [0, 10]])
    np.testing.assert_allclose(res.lost, [0, 0, 2])
    everywhere = fluid(tb, 0, np.full((1, 1), 12.0), cap, None, 1.0, accepted=np.zeros((1, 2)))
    np.testing.assert_allclose(everywhere.lost, [12])  # turned away everywhere: lost
