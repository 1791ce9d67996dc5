"""Turning a submitted spec into a stored plan: validate, address, solve (or re-verify).

A server plans against its built-in catalog only: a spec naming a snapshot directory would
make the server read its own disk at a client's request. The plan's content address is
computed before solving, so a spec submitted twice with the same options is solved once.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from archipel.catalog.model import Catalog
from archipel.errors import PlanFileError, UserError
from archipel.plan.result import Plan
from archipel.spec.models import Spec
from archipel.store.repo import NewPlan, plan_address, sha256_text

MAX_SPEC_BYTES = 2_000_000


def solver_version() -> str:
    """What solves plans here: ``archipel X / highspy Y`` (both change results)."""
    return f"archipel {version('archipel')} / highspy {version('highspy')}"


@dataclass(frozen=True, slots=True)
class SolveOptions:
    planner: Literal["lp", "greedy"] = "lp"
    mip_gap: float = 1e-3
    time_limit_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _builtin_only(source: str) -> Catalog:
    from archipel.catalog.snapshot import load_builtin

    if source != "builtin":
        raise UserError(
            f"the spec's catalog.source is {source!r}, but this server plans against its "
            "built-in catalog only. To fix: set `catalog: {source: builtin}` (or plan "
            "locally with `archipel plan --out` and import the plan)."
        )
    return load_builtin()


def load_spec(text: str, name: str = "spec.yaml") -> tuple[Spec, Catalog]:
    """The validated spec and the built-in catalog; UserError (with line numbers) otherwise."""
    from archipel.spec.check import validate_text

    if len(text.encode()) > MAX_SPEC_BYTES:
        raise UserError(f"the spec is larger than {MAX_SPEC_BYTES} bytes; a spec is a few KB")
    loaded: list[Catalog] = []

    def remember(source: str) -> Catalog:
        loaded.append(_builtin_only(source))
        return loaded[-1]

    spec = validate_text(text, name, remember)
    return spec, loaded[0]


def address_of(text: str, catalog: Catalog, options: SolveOptions) -> str:
    return plan_address(
        sha256_text(text), catalog.manifest.content_sha256, options.as_dict(), solver_version()
    )


def new_plan(
    text: str, spec: Spec, catalog: Catalog, options: dict[str, Any], plan: Plan
) -> NewPlan:
    """The store's record of ``plan`` made from ``text`` with ``options``."""
    m = catalog.manifest
    return NewPlan(
        spec_text=text,
        spec_name=plan.spec_name or spec.name,
        catalog_sha256=m.content_sha256,
        catalog_source=m.source,
        catalog_captured=m.captured,
        catalog_manifest={
            "source": m.source,
            "captured": m.captured,
            "schema_version": m.schema_version,
            "content_sha256": m.content_sha256,
            "notes": m.notes,
        },
        options=options,
        solver_version=solver_version(),
        body=plan.model_dump_json(),
        planner=plan.planner,
        plan_status=plan.status.value,
        verified=plan.verified,
        objective_usd=plan.objective_usd,
        unused_commitment_usd=plan.unused_commitment_usd,
        shortfall_usd=plan.shortfall_usd,
    )


def solve(
    text: str, spec: Spec, catalog: Catalog, options: SolveOptions, progress: Callable[[str], None]
) -> NewPlan:
    """Plan ``spec`` (and verify it, as ``archipel plan`` does)."""
    from archipel.plan.planner import PlanOptions, make_plan

    plan = make_plan(
        spec,
        catalog,
        options.planner,
        PlanOptions(mip_rel_gap=options.mip_gap, time_limit_s=options.time_limit_s),
        progress,
    )
    return new_plan(text, spec, catalog, options.as_dict(), plan)


def imported(text: str, plan_json: str) -> NewPlan:
    """A plan made elsewhere (``archipel plan --out``), re-verified here against its spec."""
    from archipel.plan.inputs import prepare
    from archipel.plan.verify import verify_and_stamp
    from archipel.report.planfile import load_plan

    spec, catalog = load_spec(text)
    with tempfile.TemporaryDirectory(prefix="archipel-import-") as tmp:
        path = Path(tmp) / "plan.json"
        path.write_text(plan_json, encoding="utf-8")
        try:
            plan = load_plan(path)
        except PlanFileError as exc:  # the loader's checks, without the temporary file's name
            raise PlanFileError(str(exc).replace(str(path), "the imported plan")) from None
    if plan.catalog_sha256 and plan.catalog_sha256 != catalog.manifest.content_sha256:
        raise UserError(
            "the imported plan was made against another catalog snapshot "
            f"({plan.catalog_sha256[:12]}); this server has {catalog.manifest.content_sha256[:12]}. "
            "To fix: submit the spec and let the server plan it."
        )
    stamped = verify_and_stamp(plan, prepare(spec, catalog))
    return new_plan(text, spec, catalog, {"imported": True, "planner": plan.planner}, stamped)
