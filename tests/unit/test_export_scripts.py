"""The SkyPilot run scripts, run by bash with stand-ins for vllm, ray and torchrun: every node
starts its share of the replicas on disjoint accelerators, and the whole task starts exactly the
allocation's replicas."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from archipel.catalog.snapshot import load_builtin
from archipel.export import skypilot
from archipel.export.placement import Placement, placement
from plans import alloc_on

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")

STUB = """#!/bin/sh
echo "$(basename "$0") $* ${CUDA_VISIBLE_DEVICES:+CUDA=$CUDA_VISIBLE_DEVICES}\
${NEURON_RT_VISIBLE_CORES:+NEURON=$NEURON_RT_VISIBLE_CORES}" >> "$STUB_LOG"
"""


def _placement(instance_type: str, nodes: int, replicas: int, apr: int, npr: int = 1) -> Placement:
    o = next(o for o in load_builtin().offerings if o.instance_type == instance_type)
    kind = "service" if replicas else "training"
    a = alloc_on(o, "chat", kind, nodes, replicas, apr, npr, hours=1.0)
    return placement(a, "chat-0", "llama")


def _run_nodes(task: dict[str, Any], tmp: Path, nodes: int) -> list[list[str]]:
    """Run the task's script as each node; the stand-ins' calls per node."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("vllm", "ray", "torchrun", "python3"):
        (bin_dir / tool).write_text(STUB)
        (bin_dir / tool).chmod(0o755)
    # the multi-node leader waits for Ray's node count: the python3 stand-in prints it
    (bin_dir / "python3").write_text('#!/bin/sh\necho "$NODES_ALIVE"\n')
    ips = "\n".join(f"10.0.0.{i + 1}" for i in range(nodes))
    calls = []
    for rank in range(nodes):
        log = tmp / f"node{rank}.log"
        log.write_text("")
        env = {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "STUB_LOG": str(log),
            "SKYPILOT_NODE_RANK": str(rank),
            "SKYPILOT_NUM_NODES": str(nodes),
            "SKYPILOT_NODE_IPS": ips,
            "NODES_ALIVE": str(task["envs"].get("ARCHIPEL_NODES_PER_REPLICA", 1)),
            **{k: str(v) for k, v in task["envs"].items()},
        }
        if "TRAIN_SCRIPT" in task["envs"]:
            env["TRAIN_SCRIPT"] = "train.py"
        done = subprocess.run(
            [str(BASH), "-c", task["run"]], env=env, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        calls.append([line for line in log.read_text().splitlines() if line])
    return calls


def test_replicas_fill_nodes_on_disjoint_gpus(tmp_path: Path) -> None:
    p = _placement("p5.48xlarge", nodes=3, replicas=10, apr=2)  # 4 a node: 4 + 4 + 2
    task = skypilot.task(p)
    assert task is not None
    assert task["resources"]["ports"] == "8000-8003"  # the engines' ports are open
    calls = _run_nodes(task, tmp_path, 3)
    assert [len(c) for c in calls] == [4, 4, 2]
    for node in calls:  # engines start in the background: order lines by port
        node = sorted(node, key=lambda line: int(line.split("--port ")[1].split()[0]))
        devices = [line.split("CUDA=")[1] for line in node]
        assert devices == ["0,1", "2,3", "4,5", "6,7"][: len(node)]
        assert all("--tensor-parallel-size 2" in line for line in node)
        ports = [line.split("--port ")[1].split()[0] for line in node]
        assert ports == [str(8000 + i) for i in range(len(node))]


def test_neuron_replicas_count_cores(tmp_path: Path) -> None:
    p = _placement("trn1.32xlarge", nodes=1, replicas=2, apr=8)  # 16 chips of 2 cores
    task = skypilot.task(p)
    assert task is not None
    (node,) = _run_nodes(task, tmp_path, 1)
    assert sorted(line.split("NEURON=")[1] for line in node) == [
        ",".join(map(str, range(0, 16))),
        ",".join(map(str, range(16, 32))),
    ]
    assert all("--tensor-parallel-size 16" in line for line in node)


def test_a_replica_on_two_nodes_has_one_leader_serving(tmp_path: Path) -> None:
    p = _placement("p5.48xlarge", nodes=5, replicas=2, apr=16, npr=2)  # node 4 spare
    task = skypilot.task(p)
    assert task is not None
    calls = _run_nodes(task, tmp_path, 5)
    serving = [i for i, c in enumerate(calls) if any(x.startswith("vllm") for x in c)]
    assert serving == [0, 2]
    assert any("--address 10.0.0.1:6379" in x for x in calls[1])
    assert any("--address 10.0.0.3:6379" in x for x in calls[3])
    assert calls[4] == []
    assert "--pipeline-parallel-size 2" in next(x for x in calls[0] if x.startswith("vllm"))


def test_training_runs_torchrun_on_every_node(tmp_path: Path) -> None:
    p = _placement("p5.48xlarge", nodes=3, replicas=0, apr=0)
    task = skypilot.task(p)
    assert task is not None
    calls = _run_nodes(task, tmp_path, 3)
    for rank, node in enumerate(calls):
        (line,) = node
        assert f"--node-rank={rank}" in line and "--nnodes=3" in line
        assert "--master-addr=10.0.0.1" in line and "--nproc-per-node=8" in line
