"""``archipel export``: what it writes and prints, and how it refuses bad input (exit 2)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from archipel.cli import app, main
from archipel.cli.plan_cmd import _load
from archipel.plan.planner import make_plan
from archipel.report.planfile import save_plan
from archipel.spec.models import Spec

SMALL = Path(__file__).resolve().parents[2] / "examples" / "small.yaml"


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec, catalog = _load(SMALL, None)
    assert isinstance(spec, Spec)
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    save_plan(make_plan(spec, catalog), path)
    return path


def _run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["export", *args], env={"COLUMNS": "80"})
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def run_main(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str, str]]:
    """The console script itself (errors become exit codes and one message on stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["archipel", "export", *args])
        monkeypatch.setenv("COLUMNS", "80")
        with pytest.raises(SystemExit) as done:
            main()
        out, err = capsys.readouterr()
        return int(done.value.code or 0), out, err

    return run


def test_export_writes_the_bundle_and_says_so(plan_file: Path, tmp_path: Path) -> None:
    code, out, _ = _run(str(SMALL), str(plan_file), "--out", str(tmp_path / "b"), "--period", "2")
    assert code == 0, out
    assert "period 2 (2027-Q3): asked for" in out
    assert "SkyPilot tasks" in out and "wrote" in out
    assert all(len(line) <= 80 for line in out.splitlines())
    assert (tmp_path / "b" / "endpoints.yaml").is_file()
    assert yaml.safe_load((tmp_path / "b" / "endpoints.yaml").read_text())["period"] == 2


def test_json_is_pure_and_lists_the_files(plan_file: Path, tmp_path: Path) -> None:
    code, out, _ = _run(str(SMALL), str(plan_file), "--out", str(tmp_path / "b"), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["out"] == str(tmp_path / "b")
    for rel in doc["files"]:
        assert (tmp_path / "b" / rel).is_file()


def test_all_periods_writes_one_directory_each(plan_file: Path, tmp_path: Path) -> None:
    code, out, _ = _run(str(SMALL), str(plan_file), "--out", str(tmp_path / "b"), "--all-periods")
    assert code == 0, out
    top = json.loads((tmp_path / "b" / "bundle.json").read_text())
    assert [p["period"] for p in top["periods"]] == [0, 1, 2, 3]
    assert {p["period_reason"] for p in top["periods"]} == {"every period (--all-periods)"}
    for p in top["periods"]:
        ep = yaml.safe_load((tmp_path / "b" / p["dir"] / "endpoints.yaml").read_text())
        assert ep["period"] == p["period"]
    # an export of one period into the same directory replaces all of it
    code, _, _ = _run(str(SMALL), str(plan_file), "--out", str(tmp_path / "b"), "--period", "0")
    assert code == 0
    assert not list((tmp_path / "b").glob("period-*/*"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--period", "1", "--all-periods"], "exclude each other"),
        (["--period", "9"], "--period 9"),
        (["--endpoint-template", "http://{host}"], "unknown field {host}"),
    ],
)
def test_bad_options_exit_2_without_a_traceback(
    plan_file: Path,
    tmp_path: Path,
    extra: list[str],
    message: str,
    run_main: Callable[..., tuple[int, str, str]],
) -> None:
    code, out, err = run_main(str(SMALL), str(plan_file), "--out", str(tmp_path / "b"), *extra)
    assert code == 2
    assert message in err and "Traceback" not in err + out


def test_out_must_not_be_a_file_or_a_foreign_directory(
    plan_file: Path, tmp_path: Path, run_main: Callable[..., tuple[int, str, str]]
) -> None:
    code, _, err = run_main(str(SMALL), str(plan_file), "--out", str(plan_file))
    assert code == 2 and "file" in err
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "x.txt").write_text("keep")
    code, _, err = run_main(str(SMALL), str(plan_file), "--out", str(tmp_path / "mine"))
    assert code == 2 and "not an archipel export" in err
    assert (tmp_path / "mine" / "x.txt").read_text() == "keep"


def test_a_plan_of_another_spec_is_refused(
    plan_file: Path, tmp_path: Path, run_main: Callable[..., tuple[int, str, str]]
) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(SMALL.read_text().replace("name: ", "name: other-", 1))
    code, _, err = run_main(str(other), str(plan_file), "--out", str(tmp_path / "b"))
    assert code == 2 and "another spec" in err
