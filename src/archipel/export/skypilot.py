"""SkyPilot task YAML for one placement: ``sky launch FILE`` brings up its nodes and starts it.

One task per allocation: ``num_nodes`` nodes of the offering's instance type in its region and
purchase option, every node with all its accelerators. A service's run script starts the
allocation's replicas of a vLLM OpenAI-compatible server (``vllm serve $MODEL``) on port 8000
and up, ``ARCHIPEL_ACCELERATORS_PER_REPLICA`` accelerators each, several per node when they
fit; a replica that spans ``ARCHIPEL_NODES_PER_REPLICA`` nodes runs on a Ray cluster of those
nodes with tensor parallelism inside a node and pipeline parallelism across them. A training run
starts ``torchrun`` on every node with the job's script (``TRAIN_SCRIPT``, to be set at launch:
``sky launch FILE --env TRAIN_SCRIPT=train.py``).

The facts of the allocation are in SkyPilot's own fields (cloud, region, instance type,
accelerators, spot, nodes) and in ``envs`` (replicas, replica shape, the plan's key), so
:func:`read_task` gives the allocation back from the file alone.

Clouds SkyPilot does not know (Hyperstack, one's own data centres) get no task:
:func:`unsupported` says why.
"""

from __future__ import annotations

from typing import Any

from archipel.export.placement import Facts, Placement
from archipel.export.targets import (
    SKYPILOT_CLOUDS,
    SKYPILOT_REFUSES,
    device_units,
    sky_resources,
    visible_devices_env,
)
from archipel.perf.accelerators import tpu_slice_chips

VLLM_VERSION = "0.10.2"  # the engine the setup installs; change it here
PORT = 8000

_SERVE_RUN = """\
set -euo pipefail
# replicas of this node: ARCHIPEL_REPLICAS over the nodes, as many per node as fit
per_node=$(( ARCHIPEL_ACCELERATORS_PER_NODE / ARCHIPEL_ACCELERATORS_PER_REPLICA ))
units=$(( ARCHIPEL_DEVICE_UNITS * ARCHIPEL_ACCELERATORS_PER_REPLICA ))
first=$(( SKYPILOT_NODE_RANK * per_node ))
for i in $(seq 0 $(( per_node - 1 ))); do
  [ $(( first + i )) -ge "$ARCHIPEL_REPLICAS" ] && break
  devices=$(seq -s, $(( i * units )) $(( i * units + units - 1 )))
  env "$ARCHIPEL_VISIBLE_DEVICES_ENV=$devices" vllm serve "$MODEL" \\
    --served-model-name "$MODEL" --host 0.0.0.0 --port $(( PORT + i )) \\
    --tensor-parallel-size "$units" &
done
wait
"""

_SERVE_MULTINODE_RUN = """\
set -euo pipefail
# every ARCHIPEL_NODES_PER_REPLICA nodes form one replica: a Ray cluster led by its first node
group=$(( SKYPILOT_NODE_RANK / ARCHIPEL_NODES_PER_REPLICA ))
leader_rank=$(( group * ARCHIPEL_NODES_PER_REPLICA ))
[ "$group" -ge "$ARCHIPEL_REPLICAS" ] && exit 0  # a node the plan holds spare
leader_ip=$(echo "$SKYPILOT_NODE_IPS" | sed -n "$(( leader_rank + 1 ))p")
units=$(( ARCHIPEL_DEVICE_UNITS * ARCHIPEL_ACCELERATORS_PER_NODE ))
if [ "$SKYPILOT_NODE_RANK" -eq "$leader_rank" ]; then
  ray start --head --port 6379 --disable-usage-stats
  until [ "$(python3 -c 'import ray; ray.init(address="auto"); print(sum(n["Alive"] for n in ray.nodes()))')" -ge "$ARCHIPEL_NODES_PER_REPLICA" ]; do sleep 5; done
  vllm serve "$MODEL" --served-model-name "$MODEL" --host 0.0.0.0 --port "$PORT" \\
    --tensor-parallel-size "$units" --pipeline-parallel-size "$ARCHIPEL_NODES_PER_REPLICA" \\
    --distributed-executor-backend ray
else
  ray start --address "$leader_ip:6379" --block
fi
"""

_TRAIN_RUN = """\
set -euo pipefail
: "${TRAIN_SCRIPT:?set the training script: sky launch THIS_FILE --env TRAIN_SCRIPT=train.py}"
master=$(echo "$SKYPILOT_NODE_IPS" | head -n1)
torchrun --nnodes="$SKYPILOT_NUM_NODES" --node-rank="$SKYPILOT_NODE_RANK" \\
  --nproc-per-node="$(( ARCHIPEL_DEVICE_UNITS * ARCHIPEL_ACCELERATORS_PER_NODE ))" \\
  --master-addr="$master" --master-port=29500 $TRAIN_SCRIPT
"""


def unsupported(p: Placement) -> str | None:
    """Why SkyPilot cannot launch ``p`` (None when it can)."""
    if p.provider not in SKYPILOT_CLOUDS:
        known = ", ".join(sorted(SKYPILOT_CLOUDS))
        return f"SkyPilot has no cloud {p.provider!r} (it knows {known})"
    if p.instance_type in SKYPILOT_REFUSES.get(p.provider, ()):
        return (
            f"SkyPilot does not launch {p.instance_type} with its {p.accelerator}s (its "
            f"{p.provider} catalog attaches them to other machine types)"
        )
    return None


def task(p: Placement) -> dict[str, Any] | None:
    """The SkyPilot task of ``p`` as YAML-ready data, or None when :func:`unsupported`."""
    res = sky_resources(
        p.provider, p.region, p.instance_type, p.accelerator, p.accelerators_per_node, p.spot
    )
    if res is None:
        return None
    resources: dict[str, Any] = {"cloud": res.cloud, "region": res.region}
    if res.instance_type is not None:
        resources["instance_type"] = res.instance_type
    resources["accelerators"] = {res.accelerator: res.count}
    resources["use_spot"] = res.use_spot
    envs: dict[str, Any] = {
        "MODEL": p.model,
        "ARCHIPEL_KEY": p.key,
        "ARCHIPEL_PURCHASE_OPTION": p.purchase_option,
        "ARCHIPEL_ACCELERATOR": p.accelerator,
        "ARCHIPEL_ACCELERATORS_PER_NODE": p.accelerators_per_node,
        "ARCHIPEL_DEVICE_UNITS": device_units(p.accelerator),
        "ARCHIPEL_VISIBLE_DEVICES_ENV": visible_devices_env(p.accelerator),
        "ARCHIPEL_PERIOD": p.period_label,
    }
    out: dict[str, Any] = {"name": p.name, "resources": resources, "num_nodes": p.nodes}
    if p.kind == "service":
        engines = (
            1
            if p.nodes_per_replica > 1
            else p.accelerators_per_node // max(1, p.accelerators_per_replica)
        )
        resources["ports"] = PORT if engines == 1 else f"{PORT}-{PORT + engines - 1}"
        envs |= {
            "PORT": PORT,
            "ARCHIPEL_REPLICAS": p.replicas,
            "ARCHIPEL_ACCELERATORS_PER_REPLICA": p.accelerators_per_replica,
            "ARCHIPEL_NODES_PER_REPLICA": p.nodes_per_replica,
        }
        setup = f'pip install "vllm=={VLLM_VERSION}"'
        if p.nodes_per_replica > 1:
            setup += ' "ray[default]"'
        run = _SERVE_MULTINODE_RUN if p.nodes_per_replica > 1 else _SERVE_RUN
    else:
        envs["TRAIN_SCRIPT"] = ""  # the run refuses to start until --env sets it
        setup = "pip install torch"
        run = _TRAIN_RUN
    out |= {"envs": envs, "setup": setup, "run": run}
    return out


def read_task(doc: dict[str, Any]) -> Facts:
    """The allocation a task written by :func:`task` states (its fields, not its name)."""
    res = doc["resources"]
    envs = doc["envs"]
    provider = next(p for p, c in SKYPILOT_CLOUDS.items() if c == res["cloud"])
    ((acc_name, count),) = res["accelerators"].items()
    nodes = int(doc.get("num_nodes", 1))
    instance_type = res.get("instance_type")
    if instance_type is None:  # a TPU slice, named as the accelerator
        instance_type = acc_name
        chips = tpu_slice_chips(acc_name)
        per_node = (chips or 0) * int(count)
    else:
        per_node = int(count)
    return Facts(
        provider=provider,
        region=f"{provider}:{res['region']}",
        instance_type=str(instance_type),
        spot=bool(res.get("use_spot", False)),
        nodes=nodes,
        accelerators=nodes * per_node,
        replicas=int(envs.get("ARCHIPEL_REPLICAS", 0)),
    )
