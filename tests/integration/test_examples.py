"""The shipped examples validate against the built-in catalog."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from archipel.spec.check import validate_file
from archipel.spec.dump import dump_spec
from archipel.spec.load import parse_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("archipel.catalog.snapshot") is None,
    reason="archipel.catalog.snapshot (the built-in catalog) is not built yet",
)


@pytest.mark.parametrize("name", ["small.yaml", "frontier-lab.yaml"])
def test_example_validates_against_the_builtin_catalog(name: str) -> None:
    from archipel.catalog.snapshot import load_builtin

    spec = validate_file(EXAMPLES / name, load_builtin())
    assert spec.services
    assert parse_spec(dump_spec(spec)) == spec


def test_frontier_lab_has_what_its_comments_promise() -> None:
    from archipel.catalog.snapshot import load_builtin

    spec = validate_file(EXAMPLES / "frontier-lab.yaml", load_builtin())
    assert len(spec.catalog.providers or []) >= 5
    assert spec.horizon.periods == 16
    kinds = {r.kind for r in spec.rules}
    assert {"exclusivity", "residency", "cloud_act_exclusion", "survivability"} <= kinds
    assert {c.provider for c in spec.contracts} == {"oci", "aws"}
    assert len(spec.training) == 1 and spec.training[0].single_region
