"""Apply's hand-off to execution: the files :func:`archipel.export.export_bundle` writes.

The export package (SkyPilot task YAML, Kubernetes manifests, the gateway's endpoints file) is
built separately; where this build of Archipel does not have it, apply stores no files and its
record says so. The files are read back into memory and stored with the apply, so they can be
downloaded from the API whichever server process answers.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path

from archipel.api.planning import load_spec
from archipel.plan.result import Plan

MAX_BUNDLE_BYTES = 50_000_000


def export_files(spec_text: str, plan: Plan) -> tuple[list[tuple[str, bytes]], str]:
    """(files as (relative name, bytes), a note for the apply record)."""
    try:
        export = importlib.import_module("archipel.export")
    except ModuleNotFoundError:
        return [], "no export: this build of Archipel has no archipel.export package"
    spec, catalog = load_spec(spec_text)
    with tempfile.TemporaryDirectory(prefix="archipel-export-") as tmp:
        root = Path(tmp)
        written = export.export_bundle(spec, catalog, plan, root)
        files = []
        total = 0
        for path in sorted(Path(p) for p in written):
            data = path.read_bytes()
            total += len(data)
            if total > MAX_BUNDLE_BYTES:
                raise ValueError(f"the export bundle is larger than {MAX_BUNDLE_BYTES} bytes")
            files.append((path.relative_to(root).as_posix(), data))
    return files, f"exported {len(files)} file(s)"
