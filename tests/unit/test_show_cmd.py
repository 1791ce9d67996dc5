"""``archipel show`` renders a saved plan without solving again; ``archipel --version``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archipel.catalog.snapshot import load_builtin
from archipel.cli import app
from archipel.cli.show_cmd import map_coordinates
from archipel.errors import OutputPathError, PlanFileError
from archipel.plan.result import Plan
from archipel.report.planfile import save_plan
from factories import small_catalog
from plans import make_plan

ANSI = re.compile(r"\x1b\[")
BUILTIN_SHA = load_builtin().manifest.content_sha256


def saved(tmp_path: Path, plan: Plan | None = None) -> Path:
    path = tmp_path / "plan.json"
    save_plan(plan if plan is not None else make_plan(), path)
    return path


def show(*args: str, columns: int = 80) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["show", *args], env={"COLUMNS": str(columns)})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_show_prints_the_summary_of_a_saved_plan(tmp_path: Path) -> None:
    code, out, _ = show(str(saved(tmp_path)))
    assert code == 0
    assert "Archipel plan — frontier-lab" in out
    assert "objective $9.37M · LP relaxation bound $8.84M · gap 0.29%" in out
    assert "Standard_ND96isr_H100_v5" in out and "Serving figures" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert not ANSI.search(out)


def test_show_follows_columns(tmp_path: Path) -> None:
    _, out, _ = show(str(saved(tmp_path)), columns=120)
    assert max(len(line) for line in out.splitlines()) > 80
    assert "8×H100" in out  # the accelerator column has room at 120


def test_show_json_round_trips(tmp_path: Path) -> None:
    plan = make_plan()
    code, out, _ = show(str(saved(tmp_path, plan)), "--json")
    assert code == 0
    assert Plan.model_validate_json(out) == plan


def test_report_has_a_map_when_the_plan_used_the_builtin_catalog(tmp_path: Path) -> None:
    report = tmp_path / "plan.html"
    plan = make_plan(catalog_sha256=BUILTIN_SHA)
    code, out, _ = show(str(saved(tmp_path, plan)), "--report", str(report))
    assert code == 0
    page = report.read_text(encoding="utf-8")
    assert "accelerators by region" in page  # the map
    assert "No map" not in page and "No map" not in out
    assert f"wrote report to {report}" in out


def test_report_without_the_plans_catalog_has_no_map_and_says_so(tmp_path: Path) -> None:
    report = tmp_path / "plan.html"
    plan = make_plan(catalog_sha256="ab" * 32)
    code, out, err = show(str(saved(tmp_path, plan)), "--report", str(report), "--json")
    assert code == 0 and Plan.model_validate_json(out) == plan  # stdout stays pure JSON
    page = report.read_text(encoding="utf-8")
    assert "accelerators by region" not in page
    assert "No map: the plan was made with catalog abababababab…, not the built-in catalog" in page
    assert "No map" in err and "--catalog DIR" in " ".join(err.split())


def test_map_coordinates_need_the_same_catalog() -> None:
    catalog = small_catalog()
    coords, note = map_coordinates(make_plan(catalog_sha256="0" * 64), catalog, "the test one")
    assert note == "" and coords is not None
    assert coords["aws:eu-west-1"] == next(
        (r.lat, r.lon) for r in catalog.regions if r.id == "aws:eu-west-1"
    )
    coords, note = map_coordinates(make_plan(catalog_sha256=""), catalog, "the test one")
    assert coords is None and "does not say which catalog" in note


def test_a_bad_plan_file_is_a_plan_file_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"spec_name": "x",', encoding="utf-8")
    result = CliRunner().invoke(app, ["show", str(path)])
    assert isinstance(result.exception, PlanFileError)
    assert "invalid JSON" in str(result.exception)


def test_an_unwritable_report_path_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    with pytest.raises(OutputPathError, match=r"cannot write the report .*mkdir -p"):
        show(str(saved(tmp_path)), "--report", str(tmp_path / "no" / "r.html"))
    with pytest.raises(OutputPathError, match="a file this command reads"):  # not the plan
        show(str(saved(tmp_path)), "--report", str(tmp_path / "plan.json"))


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import sys; from archipel.cli import main; sys.argv[0] = 'archipel'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, **env},
    )


def test_the_real_command_piped_is_plain_80_columns_even_with_force_color(tmp_path: Path) -> None:
    proc = run("show", str(saved(tmp_path)), env={"COLUMNS": "80", "FORCE_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    assert not ANSI.search(proc.stdout)
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    missing = run("show", str(tmp_path / "missing.json"), env={})
    assert missing.returncode == 2
    assert "ARC-PLANFILE" in missing.stderr and "Traceback" not in missing.stderr


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"archipel {version('archipel')}, HiGHS {version('highspy')}\n"
