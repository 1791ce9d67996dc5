"""``archipel whatif`` end to end on the small example: changes re-planned and diffed against the
spec as written (or a saved plan), pure JSON on stdout, errors that name the option, exit codes."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from archipel.cli import app, main
from archipel.report.planfile import load_plan

SMALL = str(Path(__file__).resolve().parents[2] / "examples" / "small.yaml")
PARIS = "services[chat].demand.by_geography.paris"


@pytest.fixture(scope="module")
def base_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("whatif") / "base.json"
    made = CliRunner().invoke(app, ["plan", SMALL, "--no-rule-costs", "--out", str(path)])
    assert made.exit_code == 0, made.output
    return path


def whatif(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["whatif", SMALL, *args], env={"COLUMNS": "80"})
    return result.exit_code, result.stdout, result.stderr


def as_json(*args: str) -> dict[str, Any]:
    code, out, err = whatif(*args, "--json")
    assert code == 0, out + err
    data: dict[str, Any] = json.loads(out)
    return data


def test_more_demand_costs_more_and_the_diff_says_where(base_plan: Path) -> None:
    data = as_json("--set", f"{PARIS}=[80, 100, 120, 150]", "--base", str(base_plan))
    (change,) = data["changes"]
    assert change["path"] == "services[0].demand.by_geography.paris"
    assert (change["old_value"], change["new_value"]) == ([40, 50, 60, 75], [80, 100, 120, 150])
    assert data["feasible"] and data["verified"]
    assert data["base"]["file"] == str(base_plan)
    diff = data["diff"]
    assert diff["objective_delta_usd"] > 0
    assert diff["new_objective_usd"] == pytest.approx(data["objective_usd"])
    hours = sum(p["new_accelerator_hours"] - p["old_accelerator_hours"] for p in diff["placements"])
    assert hours > 0  # more demand, more capacity


def test_setting_a_value_to_what_the_file_says_changes_nothing() -> None:
    data = as_json("--set", f"{PARIS}=[40, 50, 60, 75]")  # the base is planned now
    assert data["base"]["file"] is None
    assert data["diff"]["unchanged"]
    assert data["diff"]["objective_delta_usd"] == pytest.approx(0.0, abs=1e-6)


def test_without_one_provider_a_plan_exists_without_both_none(
    base_plan: Path, tmp_path: Path
) -> None:
    out = tmp_path / "without.json"
    data = as_json("--lose-provider", "nebius", "--base", str(base_plan), "--out", str(out))
    assert data["feasible"]
    assert data["lost_providers"] == [{"provider": "nebius", "contracts": [], "rules": []}]
    plan = load_plan(out)
    assert plan.allocations and not any(a.provider == "nebius" for a in plan.allocations)
    assert data["diff"]["objective_delta_usd"] > 0  # nebius was the cheaper one
    code, stdout, _ = whatif("--lose-provider", "nebius", "--lose-provider", "aws", "--json")
    assert code == 1
    both = json.loads(stdout)
    assert not both["feasible"] and both["status"] == "infeasible"
    assert both["infeasibility"]


def test_terminal_output_names_the_change_and_fits_80_columns(
    base_plan: Path, tmp_path: Path
) -> None:
    report = tmp_path / "r.html"
    code, out, err = whatif(
        "--drop",
        "rules[residency]",
        "--drop",
        "services[chat].data_class",
        "--base",
        str(base_plan),
        "--report",
        str(report),
    )
    assert code == 0, out + err
    assert "--drop rules[residency]" in out and "removed rules[0]" in out
    assert "a plan still meets the changed spec" in out and "Plan diff" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "<svg" in report.read_text()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--set", "services[chat].demnd.kind=growth"], "did you mean 'demand'?"),
        (["--drop", "rules[eu-residency]"], "did you mean 'residency'?"),
        (["--set", "services[chat].latency_slo_rtt_ms=-5"], "must be > 0"),
        (["--drop", "rules[residency]"], "no residency or cloud_act_exclusion rule"),
        (["--set", "horizon.periods=[1"], "not valid YAML"),
        (["--lose-provider", "nebuis"], "did you mean 'nebius'?"),
        ([], "nothing to change"),
    ],
)
def test_bad_input_exits_2_naming_the_option(
    args: list[str], says: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["archipel", "whatif", SMALL, *args])
    with pytest.raises(SystemExit) as info:
        main()
    _, err = capsys.readouterr()
    assert info.value.code == 2
    assert "Traceback" not in err
    assert says in err
    if args:  # the problem's line starts with the option as written
        lines = [re.sub(r"^error \(ARC-\w+\): ", "", line) for line in err.splitlines()]
        assert any(line.startswith(f"{args[0]} {args[1]}: ") for line in lines), err
