"""Fault schedules: spot preemptions mapped from spot traces, and seeded random schedules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from simkit import table

from archipel.route.types import DeploymentTable
from archipel.sim.faults import Fault, FaultKind, random_schedule, spot_preemptions


def write_trace(root: Path, nodes: int, gap: int, data: list[int]) -> Path:
    path = root / "preemption" / f"{nodes}-node" / "aws-test" / "us-east-1a_v100_1.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"metadata": {"gap_seconds": gap}, "data": data}))
    return path


def spot_table(replicas: int) -> DeploymentTable:
    tb = table(replicas=(replicas, 1), rate=(1.0, 1.0))
    tb.spot[0] = True
    return tb


def downtime(faults: tuple[Fault, ...]) -> float:
    return sum(f.end_s - f.start_s for f in faults)


def test_one_node_trace_down_ticks_become_preemptions(tmp_path: Path) -> None:
    # 10 ticks of 10 s, the node down at ticks 2, 3 and 7; over a 100 s horizon each replica
    # reads the whole trace once from its own offset (wrapping): 30 s down per replica
    write_trace(tmp_path, 1, 10, [1, 1, 0, 0, 1, 1, 1, 0, 1, 1])
    fs = spot_preemptions(spot_table(2), tmp_path, 100.0, seed=4)
    assert {f.kind for f in fs.faults} == {FaultKind.PREEMPTION}
    assert {f.target for f in fs.faults} == {"deployment:chat/r0/o0"}  # only the spot deployment
    assert downtime(fs.faults) == pytest.approx(2 * 30.0)
    assert all(0 <= f.start_s < f.end_s <= 100.0 for f in fs.faults)
    assert all(f.start_s % 10 == 0 for f in fs.faults)
    assert fs == spot_preemptions(spot_table(2), tmp_path, 100.0, seed=4)


def test_four_node_trace_maps_slots_to_replicas(tmp_path: Path) -> None:
    # replica j follows node slot j: slot 3 is down when fewer than 4 are up (2 ticks), slot 2
    # when fewer than 3 (1 tick), slots 0 and 1 never
    write_trace(tmp_path, 4, 10, [4, 4, 3, 2, 4])
    fs = spot_preemptions(spot_table(4), tmp_path, 50.0, seed=1)
    assert downtime(fs.faults) == pytest.approx(30.0)


def test_random_schedule_is_seeded() -> None:
    tb = table(replicas=(1, 1, 1), rate=(1.0, 1.0, 1.0), weight=(0.4, 0.3, 0.3))
    a = random_schedule(tb, 3600.0, 5, outages=3, spikes=2, capacity_errors=2)
    assert a.faults == random_schedule(tb, 3600.0, 5, outages=3, spikes=2, capacity_errors=2).faults
    assert a.faults != random_schedule(tb, 3600.0, 6, outages=3, spikes=2, capacity_errors=2).faults
    assert [f.start_s for f in a.faults] == sorted(f.start_s for f in a.faults)
    assert sum(f.kind is FaultKind.OUTAGE for f in a.faults) == 3


@pytest.mark.shared_data
def test_real_spot_traces(shared_data: Path) -> None:
    tb = spot_table(3)
    trace = shared_data / "spot/preemption/4-node/aws-08-03-2023/us-east-1f_v100_1.json"
    fs = spot_preemptions(tb, shared_data / "spot", 86400.0, seed=0, trace=trace)
    assert fs.faults and "us-east-1f_v100_1.json" in fs.note
    assert all(f.end_s <= 86400.0 and f.value == 1.0 for f in fs.faults)
    drawn = spot_preemptions(tb, shared_data / "spot", 86400.0, seed=0)
    assert drawn == spot_preemptions(tb, shared_data / "spot", 86400.0, seed=0)
    # overlapping preemptions never exceed the replicas: each replica has its own down windows
    edges = np.array(sorted({f.start_s for f in fs.faults}))
    live = [sum(f.start_s <= t < f.end_s for f in fs.faults) for t in edges]
    assert max(live) <= 3


def test_fault_target_is_checked() -> None:
    with pytest.raises(ValueError):
        Fault(FaultKind.OUTAGE, 0.0, 1.0, "zone:x")
    with pytest.raises(ValueError):
        Fault(FaultKind.OUTAGE, 1.0, 1.0, "region:x")
