"""Hand-off to execution: a plan period as SkyPilot tasks, Kubernetes manifests and the
gateway's endpoints file (``archipel export``).

    bundle.py      export_bundle / build: choose the period, name the deployments, write files
    placement.py   one allocation in whole numbers, and the facts a written file must give back
    skypilot.py    SkyPilot task YAML (sky launch), and its reader
    kubernetes.py  Deployment / LeaderWorkerSet / Job manifests, and their reader
    endpoints.py   the endpoints file shared with ``archipel gateway serve``
    targets.py     provider, region, accelerator and node-label names of the targets
"""

from archipel.export.bundle import Bundle, build, export_bundle

__all__ = ["Bundle", "build", "export_bundle"]
