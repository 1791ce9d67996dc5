"""``archipel outlook`` end to end on the flagship example: its plan's own path reproduces the
plan's books, the risk table and the fan chart, the commitment choice beside its baselines,
pure JSON with ``--json``, the same figures for the same seed, and located input errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from archipel.cli import app
from archipel.cli.plan_cmd import _load
from archipel.errors import SpecError, UserError
from archipel.outlook.evaluate import evaluate
from archipel.outlook.portfolio import build_portfolio
from archipel.outlook.scenarios import mean_path
from archipel.plan.inputs import prepare
from archipel.report.planfile import load_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPEC = EXAMPLES / "frontier-lab.yaml"
RISKS = EXAMPLES / "outlook/frontier-lab.yaml"


@pytest.fixture(scope="module")
def plan_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("outlook") / "plan.json"
    made = CliRunner().invoke(app, ["plan", str(SPEC), "--no-rule-costs", "--out", str(out)])
    assert made.exit_code == 0, made.output
    return out


def outlook(*args: str) -> Any:
    return CliRunner().invoke(app, ["outlook", str(SPEC), *args])


def test_the_plans_own_path_reproduces_its_books(plan_path: Path) -> None:
    """No uncertainty: the settlement of every contract year gives the planner's cost and
    unused commitment (488 B and 3.19 B USD, tests/integration/test_examples.py)."""
    spec, catalog = _load(SPEC, None)
    plan = load_plan(plan_path)
    pf = build_portfolio(prepare(spec, catalog), plan)  # type: ignore[arg-type]
    r = evaluate(pf, mean_path(pf.frame))
    assert plan.objective_usd is not None
    assert r.total_cost[0] == pytest.approx(plan.objective_usd, rel=1e-9)
    assert r.stranded[0] == pytest.approx(plan.unused_commitment_usd, rel=1e-6)
    assert len(pf.contracts) == 3 and pf.term_committed.size == 15


def test_json_holds_the_figures_other_tools_read(plan_path: Path) -> None:
    argv = ["--plan", str(plan_path), "--count", "3000", "--seed", "4", "--json"]
    first = outlook(*argv)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    t = data["totals"]
    for key in (
        "expected_cost_usd",
        "cvar95_usd",
        "expected_stranded_usd",
        "p_stranded_over_threshold",
    ):
        assert isinstance(t[key], float)
    assert t["cvar95_usd"] >= t["cost_usd"]["p95"] >= t["cost_usd"]["p50"]
    assert 0.0 <= t["p_stranded_over_threshold"] <= 1.0
    assert [c["contract"] for c in data["per_contract"]] == ["aws-2025", "azure-2026", "oci-2027"]
    for c in data["per_contract"]:
        assert c["expected_stranded_usd"] >= 0 and 0 < c["break_even_utilisation"] <= 1
    assert [y["year"] for y in data["per_year"]] == [2026, 2027, 2028, 2029, 2030]
    again = json.loads(outlook(*argv).stdout)
    del data["timings_s"], again["timings_s"]
    assert again == data  # same seed, same figures


def test_the_risk_table_and_the_fan_chart(plan_path: Path, tmp_path: Path) -> None:
    page = tmp_path / "outlook.html"
    shown = outlook(
        "--plan",
        str(plan_path),
        "--scenarios",
        str(RISKS),
        "--count",
        "2000",
        "--report",
        str(page),
    )
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert any(line.startswith("oci-2027") for line in lines)
    assert any("P(>funding)" in line for line in lines)  # the file gives funding caps
    html = page.read_text()
    assert "fan chart of yearly spend" in html and "<polygon" in html and "oci-2027" in html


def test_optimize_shows_the_stochastic_answer_beside_the_baselines(plan_path: Path) -> None:
    result = outlook(
        "--plan", str(plan_path), "--count", "500", "--optimize", "--saa-count", "200",
        "--out-of-sample", "2000", "--replications", "3", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    opt = json.loads(result.stdout)["optimization"]
    names = [c["name"] for c in opt["candidates"]]
    assert names[:4] == [
        "stochastic (SAA)",
        "mean-value plan",
        "as signed (deterministic plan)",
        "10th percentile of demand",
    ]
    assert sum("clouds' style" in n for n in names) == 3
    assert opt["evpi_usd"] >= 0.0  # in sample: the stochastic answer never beats clairvoyance
    assert opt["gap"]["replications"] == 3 and opt["gap"]["gap_ci95_usd"] >= 0.0
    assert len(opt["terms"]) == 15
    signed = {
        t["term"]: t["commitments_usd"]["as signed (deterministic plan)"] for t in opt["terms"]
    }
    assert signed["oci-2027/1"] == pytest.approx(20e9)  # the schedule's first year
    text = outlook("--plan", str(plan_path), "--count", "500", "--optimize", "--saa-count", "100",
                   "--out-of-sample", "1000", "--replications", "0")  # fmt: skip
    assert text.exit_code == 0 and "VSS" in text.stdout and "EVPI" in text.stdout


def test_a_stranding_cap_is_honoured_in_sample(plan_path: Path) -> None:
    result = outlook(
        "--plan", str(plan_path), "--count", "200", "--optimize", "--saa-count", "100",
        "--out-of-sample", "1000", "--replications", "0", "--max-p-stranded", "0.1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    opt = json.loads(result.stdout)["optimization"]
    assert opt["max_p_stranded"] == 0.1 and "stranding cap" in opt["method"]
    refused = outlook(
        "--plan", str(plan_path), "--optimize", "--saa-method", "lshaped", "--max-p-stranded", "0.1"
    )
    assert refused.exit_code == 2 and "--saa-method" in refused.output


def test_mistakes_in_the_scenarios_file_are_located(plan_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "risk.yaml"
    bad.write_text("demand:\n  - service: asistant\n    growth: {kind: lognormal}\n")
    result = outlook("--plan", str(plan_path), "--scenarios", str(bad))
    assert isinstance(result.exception, SpecError)
    assert f"{bad}:2:" in str(result.exception) and "asistant" in str(result.exception)
    bad.write_text("scenarios: -5\n")
    result = outlook("--plan", str(plan_path), "--scenarios", str(bad))
    assert isinstance(result.exception, SpecError) and f"{bad}:1:" in str(result.exception)


def test_a_plan_of_another_spec_is_refused(tmp_path: Path) -> None:
    small = tmp_path / "small.json"
    made = CliRunner().invoke(app, ["plan", str(EXAMPLES / "small.yaml"), "--out", str(small)])
    assert made.exit_code == 0, made.output
    result = outlook("--plan", str(small))
    assert isinstance(result.exception, UserError) and "another version of the spec" in str(
        result.exception
    )
