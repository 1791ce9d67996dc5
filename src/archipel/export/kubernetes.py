"""Kubernetes manifests for one placement, in namespace ``archipel``.

- A service whose replica fits one node: a ``Deployment`` of ``replicas`` pods, each requesting
  the replica's accelerators (the vendor's device-plugin resource), plus a ``Service`` named like
  it, so ``http://<name>.archipel.svc:8000`` (the default endpoint URL) reaches its replicas.
- A service whose replica spans several nodes: a ``LeaderWorkerSet`` (leaderworkerset.x-k8s.io/v1,
  lws.sigs.k8s.io) of ``replicas`` groups of ``nodes_per_replica`` pods, one per node, the leader
  serving on a Ray cluster of its group, plus a ``Service`` over the leaders.
- A training run: a ``Job`` with one pod per node; a gang of several nodes is an indexed ``Job``
  (completions = parallelism = nodes) with a headless ``Service`` for the pods' names, every pod
  running ``torchrun`` with its completion index as node rank.

Pods select nodes by instance type and region (well-known labels; GKE's TPU labels for TPU
slices), and by the managed node pools' spot label where the provider has one
(:mod:`archipel.export.targets`). The allocation's facts are in those fields and in
``archipel.io/*`` labels and annotations, so :func:`read_manifests` gives it back.

Not exported (:func:`unsupported` says why): a chip with no known device plugin (one's own), a
TPU slice that spans several Kubernetes nodes.
"""

from __future__ import annotations

from typing import Any

from archipel.export.placement import Facts, Placement
from archipel.export.targets import (
    AMD,
    NEURON,
    NVIDIA,
    TPU,
    device_units,
    gke_tpu_selector,
    is_label_value,
    k8s_resource,
    region_code,
    spot_from_selector,
    spot_selector,
)
from archipel.perf.accelerators import tpu_slice_chips

NAMESPACE = "archipel"
PORT = 8000
LWS_API = "leaderworkerset.x-k8s.io/v1"

# Serving and training images per device plugin; review before deploying.
SERVE_IMAGE: dict[str, str] = {
    NVIDIA: "vllm/vllm-openai:v0.10.2",
    AMD: "rocm/vllm:latest",
    NEURON: "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:latest",
    TPU: "vllm/vllm-tpu:latest",
}
TRAIN_IMAGE: dict[str, str] = {
    NVIDIA: "nvcr.io/nvidia/pytorch:25.01-py3",
    AMD: "rocm/pytorch:latest",
    NEURON: "public.ecr.aws/neuron/pytorch-training-neuronx:latest",
    TPU: "us-docker.pkg.dev/cloud-tpu-images/pytorch/xla:latest",
}

A = "archipel.io/"


def unsupported(p: Placement) -> str | None:
    """Why no manifest can place ``p`` (None when one can)."""
    if k8s_resource(p.accelerator) is None:
        return f"no Kubernetes device plugin is known for accelerator {p.accelerator!r}"
    if p.accelerator.startswith("TPU-") and _tpu_selector(p) is None:
        return (
            f"{p.instance_type} spans several GKE nodes; a multi-host TPU slice needs a "
            "JobSet or LeaderWorkerSet per slice, which this export does not write"
        )
    if not is_label_value(p.instance_type):
        return f"instance type {p.instance_type!r} cannot be a Kubernetes label value"
    return None


def _tpu_selector(p: Placement) -> dict[str, str] | None:
    chips = tpu_slice_chips(p.instance_type) or p.accelerators_per_node
    return gke_tpu_selector(p.accelerator, chips)


def _node_selector(p: Placement) -> dict[str, str]:
    sel: dict[str, str] = {}
    if p.accelerator.startswith("TPU-"):
        sel |= _tpu_selector(p) or {}
    else:
        sel["node.kubernetes.io/instance-type"] = p.instance_type
    sel["topology.kubernetes.io/region"] = region_code(p.region)
    return sel | spot_selector(p.provider, p.spot)


def _tolerations(p: Placement, resource: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"key": resource, "operator": "Exists", "effect": "NoSchedule"}]
    if p.provider == "azure" and p.spot:
        out.append(
            {
                "key": "kubernetes.azure.com/scalesetpriority",
                "operator": "Equal",
                "value": "spot",
                "effect": "NoSchedule",
            }
        )
    return out


def _labels(p: Placement) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": p.name,
        "app.kubernetes.io/part-of": "archipel",
        A + "workload": p.workload,
        A + "kind": p.kind,
        A + "provider": p.provider,
        A + "purchase-option": p.purchase_option,
    }


def _annotations(p: Placement) -> dict[str, str]:
    return {
        A + "key": p.key,
        A + "offering": p.offering_id,
        A + "region": p.region,
        A + "instance-type": p.instance_type,
        A + "accelerator": p.accelerator,
        A + "nodes": str(p.nodes),
        A + "accelerators-per-node": str(p.accelerators_per_node),
        A + "period": p.period_label,
    }


def _meta(p: Placement, name: str | None = None) -> dict[str, Any]:
    return {
        "name": name or p.name,
        "namespace": NAMESPACE,
        "labels": _labels(p),
        "annotations": _annotations(p),
    }


def _resources(resource: str, count: int) -> dict[str, Any]:
    return {"limits": {resource: count}, "requests": {resource: count}}


def _pod_spec(p: Placement, container: dict[str, Any], restart: str) -> dict[str, Any]:
    resource = k8s_resource(p.accelerator) or NVIDIA
    return {
        "nodeSelector": _node_selector(p),
        "tolerations": _tolerations(p, resource),
        "restartPolicy": restart,
        "containers": [container],
    }


def _serve_args(p: Placement, units: int, extra: list[str]) -> list[str]:
    return [
        "vllm serve $(MODEL) --served-model-name $(MODEL) --host 0.0.0.0 "
        f"--port {PORT} --tensor-parallel-size {units}" + "".join(f" {x}" for x in extra)
    ]


def _engine(p: Placement, args: list[str], per_pod: int, probe: bool) -> dict[str, Any]:
    resource = k8s_resource(p.accelerator) or NVIDIA
    c: dict[str, Any] = {
        "name": "engine",
        "image": SERVE_IMAGE[resource],
        "command": ["/bin/sh", "-c"],
        "args": args,
        "env": [{"name": "MODEL", "value": p.model}],
        "ports": [{"name": "http", "containerPort": PORT}],
        "resources": _resources(resource, per_pod),
    }
    if probe:
        c["readinessProbe"] = {
            "httpGet": {"path": "/health", "port": PORT},
            "periodSeconds": 10,
            "failureThreshold": 60,
        }
    return c


def _service(p: Placement, selector: dict[str, str], headless: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": selector}
    if headless:
        spec["clusterIP"] = "None"
    spec["ports"] = [{"name": "http", "port": PORT, "targetPort": PORT}]
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(p), "spec": spec}


def _deployment(p: Placement) -> list[dict[str, Any]]:
    units = device_units(p.accelerator) * p.accelerators_per_replica
    engine = _engine(p, _serve_args(p, units, []), p.accelerators_per_replica, probe=True)
    match = {"app.kubernetes.io/name": p.name}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(p),
        "spec": {
            "replicas": p.replicas,
            "selector": {"matchLabels": match},
            "template": {
                "metadata": {"labels": _labels(p), "annotations": _annotations(p)},
                "spec": _pod_spec(p, engine, "Always"),
            },
        },
    }
    return [deployment, _service(p, match)]


def _leader_worker_set(p: Placement) -> list[dict[str, Any]]:
    per_node = p.accelerators_per_node
    units = device_units(p.accelerator) * per_node
    wait = (
        'until [ "$(python3 -c \'import ray; ray.init(address=\\"auto\\"); '
        'print(sum(n[\\"Alive\\"] for n in ray.nodes()))\')" -ge "$LWS_GROUP_SIZE" ]; '
        "do sleep 5; done"
    )
    leader_args = [
        "ray start --head --port=6379 --disable-usage-stats && "
        + wait
        + " && "
        + _serve_args(
            p,
            units,
            ["--pipeline-parallel-size $(LWS_GROUP_SIZE)", "--distributed-executor-backend ray"],
        )[0]
    ]
    worker_args = ["ray start --address=$(LWS_LEADER_ADDRESS):6379 --block"]
    leader = _engine(p, leader_args, per_node, probe=True)
    worker = _engine(p, worker_args, per_node, probe=False)
    worker["name"] = "worker"
    leader_labels = _labels(p) | {A + "role": "leader"}
    lws = {
        "apiVersion": LWS_API,
        "kind": "LeaderWorkerSet",
        "metadata": _meta(p),
        "spec": {
            "replicas": p.replicas,
            "startupPolicy": "LeaderCreated",
            "leaderWorkerTemplate": {
                "size": p.nodes_per_replica,
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": {
                    "metadata": {"labels": leader_labels, "annotations": _annotations(p)},
                    "spec": _pod_spec(p, leader, "Always"),
                },
                "workerTemplate": {
                    "metadata": {"labels": _labels(p), "annotations": _annotations(p)},
                    "spec": _pod_spec(p, worker, "Always"),
                },
            },
        },
    }
    selector = {"app.kubernetes.io/name": p.name, A + "role": "leader"}
    return [lws, _service(p, selector)]


def _job(p: Placement) -> list[dict[str, Any]]:
    resource = k8s_resource(p.accelerator) or NVIDIA
    per_node = p.accelerators_per_node
    procs = device_units(p.accelerator) * per_node
    gang = p.nodes > 1
    rank = "$(JOB_COMPLETION_INDEX)" if gang else "0"
    master = f"{p.name}-0.{p.name}" if gang else "127.0.0.1"
    trainer: dict[str, Any] = {
        "name": "trainer",
        "image": TRAIN_IMAGE[resource],
        "command": ["/bin/sh", "-c"],
        "args": [
            f"torchrun --nnodes={p.nodes} --node-rank={rank} --nproc-per-node={procs} "
            f"--master-addr={master} --master-port=29500 $(TRAIN_SCRIPT)"
        ],
        "env": [
            {"name": "MODEL", "value": p.model},
            {"name": "TRAIN_SCRIPT", "value": "train.py"},
        ],
        "resources": _resources(resource, per_node),
    }
    pod = _pod_spec(p, trainer, "Never")
    spec: dict[str, Any] = {"completions": p.nodes, "parallelism": p.nodes, "backoffLimit": 3}
    if gang:
        spec["completionMode"] = "Indexed"
        pod["subdomain"] = p.name
    spec["template"] = {"metadata": {"labels": _labels(p), "annotations": _annotations(p)}}
    spec["template"]["spec"] = pod
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": _meta(p), "spec": spec}
    if not gang:
        return [job]
    headless = _service(p, {"app.kubernetes.io/name": p.name}, headless=True)
    headless["spec"]["ports"] = [{"name": "rendezvous", "port": 29500, "targetPort": 29500}]
    return [job, headless]


def manifests(p: Placement) -> list[dict[str, Any]] | None:
    """The manifests of ``p`` (workload first), or None when :func:`unsupported`."""
    if unsupported(p) is not None:
        return None
    if p.kind == "training":
        return _job(p)
    if p.nodes_per_replica > 1:
        return _leader_worker_set(p)
    return _deployment(p)


def namespace() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}


def _pod_request(template: dict[str, Any]) -> int:
    (c,) = template["spec"]["containers"]
    ((_, count),) = c["resources"]["limits"].items()
    return int(count)


def read_manifests(docs: list[dict[str, Any]]) -> Facts:
    """The allocation the workload manifest of ``docs`` (as :func:`manifests` writes) states.

    Node selectors, replicas, completions and resource requests are read from their fields;
    what Kubernetes has no field for (provider, nodes held, accelerators per node) from the
    ``archipel.io/*`` labels and annotations. Raises ValueError when the two disagree."""
    w = docs[0]
    meta, spec = w["metadata"], w["spec"]
    ann, labels = meta["annotations"], meta["labels"]
    nodes = int(ann[A + "nodes"])
    per_node = int(ann[A + "accelerators-per-node"])
    kind = w["kind"]
    if kind == "LeaderWorkerSet":
        template = spec["leaderWorkerTemplate"]["workerTemplate"]
        replicas = int(spec["replicas"])
        pods = replicas * int(spec["leaderWorkerTemplate"]["size"])
    elif kind == "Deployment":
        template = spec["template"]
        replicas = pods = int(spec["replicas"])
    elif kind == "Job":
        template = spec["template"]
        replicas, pods = 0, int(spec["completions"])
        if pods != nodes or int(spec["parallelism"]) != nodes:
            raise ValueError(f"{meta['name']}: {pods} pods for {nodes} nodes")
    else:
        raise ValueError(f"{meta['name']}: unexpected kind {kind}")
    sel = template["spec"]["nodeSelector"]
    if pods * _pod_request(template) > nodes * per_node:
        raise ValueError(f"{meta['name']}: pods request more accelerators than {nodes} nodes")
    provider = labels[A + "provider"]
    spot = spot_from_selector(sel)
    option_spot = labels[A + "purchase-option"] == "spot"
    if spot is not None and spot != option_spot:
        raise ValueError(f"{meta['name']}: the node selector and the purchase option disagree")
    return Facts(
        provider=provider,
        region=f"{provider}:{sel['topology.kubernetes.io/region']}",
        instance_type=sel.get("node.kubernetes.io/instance-type", ann[A + "instance-type"]),
        spot=option_spot,
        nodes=nodes,
        accelerators=nodes * per_node,
        replicas=replicas,
    )
