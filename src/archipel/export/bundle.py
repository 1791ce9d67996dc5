"""The hand-off bundle of one plan period: SkyPilot tasks, Kubernetes manifests, endpoints.

:func:`build` is pure (spec, catalog, plan, period → file texts and what was left out and why);
:func:`export_bundle` writes them to a directory. Layout of a bundle::

    DIR/bundle.json            what was written, per allocation; what was not, and why
    DIR/endpoints.yaml         the gateway's endpoints file (archipel.export.endpoints)
    DIR/skypilot/NAME.yaml     one SkyPilot task per allocation on a cloud SkyPilot knows
    DIR/kubernetes/00-namespace.yaml, DIR/kubernetes/NAME.yaml   manifests per allocation

``NAME`` is ``<service>-<index>`` for a service (index = the deployment's index in the period's
:class:`archipel.route.types.DeploymentTable`, so the endpoints file, the manifests and the
gateway agree) and ``<job>-train-<i>`` for a training run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pathlib
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from archipel.catalog.model import Catalog
from archipel.errors import OutputPathError, UserError
from archipel.export import endpoints, kubernetes, skypilot
from archipel.export.placement import Placement, placement
from archipel.export.targets import dns_label
from archipel.plan.inputs import spec_sha256
from archipel.plan.result import Allocation, Plan
from archipel.spec.models import Spec
from archipel.spec.periods import periods

MANIFEST = "bundle.json"


@dataclass(frozen=True)
class Left:
    """An allocation (or part of one) the bundle does not deploy, and why."""

    key: str
    target: str  # "skypilot" | "kubernetes" | "all"
    reason: str


@dataclass(frozen=True)
class Bundle:
    period: int
    period_label: str
    period_reason: str  # why this period: "asked for", "contains today (…)", "the first …"
    plan_ref: str
    placements: tuple[Placement, ...]
    files: dict[str, str]  # relative path -> text
    left_out: tuple[Left, ...]
    files_of: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key -> its files


_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """Block style; multi-line strings (run scripts) as literal blocks. libyaml's emitter when
    PyYAML has it (the pure-Python one spends ~7 ms per allocation's files)."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(docs: list[dict[str, Any]]) -> str:
    """YAML text of one or more documents."""
    return yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, width=100)


def plan_ref(plan: Plan) -> str:
    """The plan's content hash, as the endpoints file and bundle.json name it."""
    return "sha256:" + hashlib.sha256(plan.model_dump_json().encode()).hexdigest()


def choose_period(spec: Spec, period: int | None, today: dt.date) -> tuple[int, str]:
    """The period to export and why: the one asked for, else the one containing ``today``,
    else the first."""
    pers = periods(spec.horizon)
    if period is not None:
        if not 0 <= period < len(pers):
            raise UserError(
                f"--period {period}: the plan has periods 0..{len(pers) - 1} "
                f"({pers[0].label} … {pers[-1].label}); pick one of them"
            )
        return period, "asked for"
    now = dt.datetime.combine(today, dt.time())
    for p in pers:
        if p.start <= now < p.end:
            return p.index, f"contains today ({today.isoformat()})"
    return 0, f"the first; no period contains today ({today.isoformat()})"


def _model_of(spec: Spec) -> dict[str, str]:
    out = {s.id: s.model for s in spec.services}
    out |= {j.id: j.model or j.id for j in spec.training}
    return out


def _merge(group: list[Allocation]) -> Allocation:
    """One allocation for several of the same key (the same offering for the same workload)."""
    if len(group) == 1:
        return group[0]
    head = group[0]
    return head.model_copy(
        update={
            "nodes": sum(a.nodes for a in group),
            "accelerators": sum(a.accelerators for a in group),
            "replicas": sum(a.replicas for a in group),
        }
    )


def placements(spec: Spec, plan: Plan, period: int) -> tuple[tuple[Placement, ...], list[Left]]:
    """The period's allocations as placements, services first in deployment-table order."""
    groups: dict[tuple[str, str, str, str], list[Allocation]] = {}
    for a in plan.allocations:
        if a.period == period:
            groups.setdefault((a.workload_kind, a.workload, a.region, a.offering_id), []).append(a)
    model = _model_of(spec)
    out: list[Placement] = []
    left: list[Left] = []
    index = {"service": 0, "training": 0}
    for kind in ("service", "training"):
        for (k, workload, region, offering), group in groups.items():
            if k != kind:
                continue
            a = _merge(group)
            key = f"{workload}/{region}/{offering}"
            if kind == "service" and a.replicas <= 0:
                left.append(Left(key, "all", "nodes without a replica: nothing to start"))
                continue
            i = index[kind]
            index[kind] += 1
            suffix = f"-{i}" if kind == "service" else f"-train-{i}"
            name = dns_label(workload, 63 - len(suffix)) + suffix
            out.append(placement(a, name, model.get(workload, workload)))
    return tuple(out), left


def build(
    spec: Spec,
    catalog: Catalog,
    plan: Plan,
    *,
    period: int | None = None,
    today: dt.date | None = None,
    endpoint_template: str = endpoints.DEFAULT_TEMPLATE,
) -> Bundle:
    """The bundle's files for one period (pure: ``today`` picks the default period)."""
    if plan.spec_sha256 and plan.spec_sha256 != spec_sha256(spec):
        raise UserError(
            f"plan {plan.spec_name!r} was made from another spec than {spec.name!r} (its "
            "spec_sha256 differs): export with the spec the plan was made from, or plan again"
        )
    if not plan.whole_nodes:
        raise UserError(
            "the plan is the fractional view (whole_nodes: false): export deploys whole nodes; "
            "plan again without --fractional"
        )
    endpoints.check_template(endpoint_template)
    t, why = choose_period(spec, period, today or dt.datetime.now(dt.UTC).date())
    label = periods(spec.horizon)[t].label
    pls, left = placements(spec, plan, t)
    if not pls:
        raise UserError(
            f"the plan places nothing in period {t} ({label}); pick a period with allocations "
            "(--period N; `archipel show PLAN.json` lists them)"
        )
    ref = plan_ref(plan)
    known = {(o.provider, o.region, o.instance_type) for o in catalog.offerings}
    files: dict[str, str] = {"kubernetes/00-namespace.yaml": dump([kubernetes.namespace()])}
    files_of: dict[str, tuple[str, ...]] = {}
    eps: list[endpoints.Endpoint] = []
    for i, p in enumerate(pls):
        mine: list[str] = []
        code = p.region.partition(":")[2]
        own = (p.provider, code, p.instance_type) not in known
        why_not = skypilot.unsupported(p) or (
            f"{p.instance_type} in {p.region} is an offering of the spec's own, not in "
            "SkyPilot's catalog"
            if own
            else None
        )
        task = None if why_not else skypilot.task(p)
        if task is None:
            left.append(Left(p.key, "skypilot", why_not or "SkyPilot cannot launch it"))
        else:
            path = f"skypilot/{p.name}.yaml"
            files[path] = _header(p, ref) + dump([task])
            mine.append(path)
        docs = kubernetes.manifests(p)
        if docs is None:
            reason = kubernetes.unsupported(p) or "no manifest"
            left.append(Left(p.key, "kubernetes", reason))
        else:
            path = f"kubernetes/{p.name}.yaml"
            files[path] = _header(p, ref) + dump(docs)
            mine.append(path)
        files_of[p.key] = tuple(mine)
        if not mine and p.kind == "service":
            left.append(
                Left(
                    p.key,
                    "endpoints",
                    "its URL in endpoints.yaml names no exported server: "
                    "point it at where the deployment runs",
                )
            )
        if p.kind == "service":
            fields = {
                "service": p.name.rsplit("-", 1)[0],
                "index": str(i),
                "name": p.name,
                "provider": p.provider,
                "region": code,
                "namespace": kubernetes.NAMESPACE,
            }
            eps.append(endpoints.Endpoint(p.key, fields, p.model))
    doc = endpoints.document(eps, endpoint_template, plan=ref, period=t)
    files["endpoints.yaml"] = dump([doc])
    bundle = Bundle(t, label, why, ref, pls, files, tuple(left), files_of)
    files[MANIFEST] = json.dumps(summary(bundle), indent=2) + "\n"
    return bundle


def _header(p: Placement, ref: str) -> str:
    return f"# archipel export: {p.key}\n# period {p.period} ({p.period_label}) of plan {ref}\n"


def summary(bundle: Bundle) -> dict[str, Any]:
    """What ``bundle.json`` and ``archipel export --json`` say about a bundle."""
    return {
        "period": bundle.period,
        "period_label": bundle.period_label,
        "period_reason": bundle.period_reason,
        "plan": bundle.plan_ref,
        "allocations": [
            {
                "key": p.key,
                "name": p.name,
                "kind": p.kind,
                "provider": p.provider,
                "region": p.region,
                "instance_type": p.instance_type,
                "purchase_option": p.purchase_option,
                "nodes": p.nodes,
                "accelerators": p.accelerators,
                "replicas": p.replicas,
                "files": list(bundle.files_of.get(p.key, ())),
            }
            for p in bundle.placements
        ],
        "left_out": [
            {"key": x.key, "target": x.target, "reason": x.reason} for x in bundle.left_out
        ],
        "files": sorted({*bundle.files, MANIFEST}),
    }


def _clear_previous(out_dir: pathlib.Path) -> None:
    """Remove the files of an earlier export in ``out_dir``; refuse a directory of other files."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise OutputPathError(f"{out_dir}: is a file; --out names a directory for the bundle")
    if not any(out_dir.iterdir()):
        return
    manifest = out_dir / MANIFEST
    try:
        old = json.loads(manifest.read_text())
        listed = [str(f) for f in old["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        raise OutputPathError(
            f"{out_dir}: holds files that are not an archipel export (no readable {MANIFEST}); "
            "give --out a new or empty directory"
        ) from None
    root = out_dir.resolve()
    dirs: set[pathlib.Path] = set()
    for rel in listed:
        target = (out_dir / rel).resolve()
        if root in target.parents:
            target.unlink(missing_ok=True)
            dirs.update(d for d in target.parents if root in d.parents)
    for d in sorted(dirs, key=lambda d: len(d.parts), reverse=True):  # deepest first
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()


def write_files(files: dict[str, str], out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Write ``files`` (relative path -> text) under ``out_dir``, replacing an earlier export."""
    _clear_previous(out_dir)
    written: list[pathlib.Path] = []
    try:
        for rel, text in sorted(files.items()):
            path = out_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise OutputPathError(f"{out_dir}: cannot write the bundle: {exc.strerror}") from None
    return written


def write(bundle: Bundle, out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Write ``bundle`` under ``out_dir`` (replacing an earlier export there)."""
    return write_files(bundle.files, out_dir)


def period_dir(bundle: Bundle) -> str:
    """The sub-directory of one period in an export of every period."""
    return f"period-{bundle.period:02d}-" + "".join(
        c if c.isalnum() or c == "-" else "-" for c in bundle.period_label
    )


def build_all(
    spec: Spec,
    catalog: Catalog,
    plan: Plan,
    *,
    endpoint_template: str = endpoints.DEFAULT_TEMPLATE,
) -> tuple[list[Bundle], dict[str, str]]:
    """A bundle per period that places anything, and the files of all of them: each period
    under :func:`period_dir`, and a top ``bundle.json`` with every period's summary."""
    bundles: list[Bundle] = []
    for t in sorted({a.period for a in plan.allocations}):
        try:
            b = build(spec, catalog, plan, period=t, endpoint_template=endpoint_template)
            bundles.append(replace(b, period_reason="every period (--all-periods)"))
        except UserError as exc:
            if "places nothing" not in str(exc):
                raise
    if not bundles:
        raise UserError("the plan places nothing in any period: there is nothing to export")
    files: dict[str, str] = {}
    for b in bundles:
        own = b.files | {MANIFEST: json.dumps(summary(b), indent=2) + "\n"}
        files |= {f"{period_dir(b)}/{rel}": text for rel, text in own.items()}
    top: dict[str, Any] = {"periods": [summary(b) | {"dir": period_dir(b)} for b in bundles]}
    top["files"] = sorted({*files, MANIFEST})
    files[MANIFEST] = json.dumps(top, indent=2) + "\n"
    return bundles, files


def export_bundle(
    spec: Spec,
    catalog: Catalog,
    plan: Plan,
    out_dir: pathlib.Path,
    *,
    period: int | None = None,
    endpoint_template: str = endpoints.DEFAULT_TEMPLATE,
    today: dt.date | None = None,
) -> list[pathlib.Path]:
    """Write the hand-off bundle of ``plan`` for one period under ``out_dir``; the paths written.

    ``period`` None: the period containing today (UTC), else the first (``bundle.json`` says
    which and why). Raises UserError for a plan of another spec, a fractional plan, a period
    with nothing placed, or an output directory holding other files."""
    bundle = build(
        spec, catalog, plan, period=period, today=today, endpoint_template=endpoint_template
    )
    return write(bundle, out_dir)
