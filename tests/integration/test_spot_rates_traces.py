"""The committed spot facts (archipel/catalog/spot.py) re-derived from the public traces.

Skips where ../shared/data is absent; elsewhere any drift between the traces, the derivation and
the committed table fails here (regenerate it with `python tools/spot_rates.py --literal`).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from archipel.catalog.spot import (
    DEFAULT_SPOT_AVAILABILITY,
    DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR,
    SPOT_FACTS,
    derive_defaults,
    derive_spot_facts,
)

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def tool(repo: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("spot_rates", repo / "tools/spot_rates.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_facts_are_what_the_traces_give(tool: ModuleType, shared_data: Path) -> None:
    traces = tool.read_traces(shared_data / "spot")
    assert len(traces) == 34
    assert derive_spot_facts(traces) == SPOT_FACTS
    assert derive_defaults(traces) == (
        DEFAULT_SPOT_AVAILABILITY,
        DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR,
    )


def test_tool_prints_json_lines_and_the_literal(
    tool: ModuleType, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tool.main([str(shared_data / "spot")]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == len(SPOT_FACTS) + 1
    us_west_2 = next(
        r for r in rows if r.get("region") == "us-west-2" and r["instance_type"] == "p3.2xlarge"
    )
    assert us_west_2["interruptions_per_hour"] == 0.2587
    assert rows[-1]["availability"] == DEFAULT_SPOT_AVAILABILITY
    assert tool.main([str(shared_data / "spot"), "--literal"]) == 0
    literal = capsys.readouterr().out
    assert literal.startswith(f"DEFAULT_SPOT_AVAILABILITY = {DEFAULT_SPOT_AVAILABILITY!r}")
    assert literal in (Path(tool.__file__).parents[1] / "src/archipel/catalog/spot.py").read_text()
