"""``archipel``'s entry point: exit codes, one-line errors, never a traceback, plain file text."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import archipel.cli
from archipel.cli import main, spec_cmd

SMALL = Path(__file__).resolve().parents[2] / "examples" / "small.yaml"


def run(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run ``archipel ARGS`` in this process: exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["archipel", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_help_documents_the_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["--help"], monkeypatch, capsys)
    flat = " ".join(out.split())
    assert code == 0
    assert "Exit codes: 0 done; 1 the answer is no" in flat
    assert "130 interrupted" in flat
    assert "130" in (archipel.cli.__doc__ or "")


def test_line_numbers_are_printed_as_numbers_not_emoji(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """':100:' and ':1234:' are rich emoji codes (💯, 🔢); file text is printed plain."""
    lines = SMALL.read_text(encoding="utf-8").splitlines()
    padded = lines[:8] + ["#"] * (99 - 8) + ["bogus: [x]"] + ["#"] * (1233 - 100) + ["oops: 1"]
    spec = tmp_path / "[bold]fleet:100:.yaml"
    spec.write_text("\n".join([*padded, *lines[8:]]) + "\n", encoding="utf-8")
    code, _, err = run(["validate", str(spec)], monkeypatch, capsys)
    assert code == 2
    assert "💯" not in err and "🔢" not in err
    assert f"{spec}:100:1: unknown field 'bogus'" in err
    assert f"{spec}:1234:1: unknown field 'oops'" in err
    assert "Traceback" not in err


def test_a_valid_spec_name_is_printed_plain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "[red]q:100:.yaml"
    spec.write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, _ = run(["validate", str(spec)], monkeypatch, capsys)
    assert code == 0
    assert f"✓ {spec}: 1 service" in out


def test_ctrl_c_in_a_command_exits_130_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(spec_cmd, "validate_file", interrupt)
    code, _, err = run(["validate", str(SMALL)], monkeypatch, capsys)
    assert (code, err) == (130, "interrupted\n")


def test_ctrl_c_outside_a_command_exits_130_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(archipel.cli, "app", interrupt)
    assert run([], monkeypatch, capsys) == (130, "", "interrupted\n")


@pytest.mark.parametrize(
    ("exc", "code", "start"),
    [
        (RecursionError, 2, "error: the input is nested too deeply"),
        (MemoryError, 3, "failure: out of memory"),
    ],
)
def test_stack_and_memory_exhaustion_are_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: type[BaseException],
    code: int,
    start: str,
) -> None:
    def fail(*_: object) -> None:
        raise exc

    monkeypatch.setattr(spec_cmd, "validate_file", fail)
    got, _, err = run(["validate", str(SMALL)], monkeypatch, capsys)
    assert got == code
    assert err.startswith(start)
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["schema", "--out", "/"], "cannot write the schema to /: it is a directory"),
        (["schema", "--out", "{tmp}/no/s.json"], "the directory {tmp}/no does not exist"),
        (["plan", str(SMALL), "--out", "/"], "cannot write the plan to /: it is a directory"),
        (["plan", str(SMALL), "--out", str(SMALL)], "a file this command reads"),
        (["plan", str(SMALL), "--report", "{tmp}/no/r.html"], "{tmp}/no does not exist"),
        (
            ["plan", str(SMALL), "--out", "{tmp}/p", "--report", "{tmp}/p"],
            "the report is written there too",
        ),
        (["catalog", "import", str(SMALL), "--out", str(SMALL)], "it is a file"),
    ],
)
def test_unwritable_outputs_exit_2_before_any_work(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 2
    assert err.startswith("error (ARC-OUTPUT): ")
    assert message.replace("{tmp}", str(tmp_path)) in " ".join(err.split())
    assert "Traceback" not in err
    assert SMALL.read_text(encoding="utf-8").startswith("# A first Archipel spec")


def test_validate_follows_the_spec_catalog_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "fleet.yaml"
    text = SMALL.read_text(encoding="utf-8").replace("catalog:", "catalog:\n  source: snap")
    spec.write_text(text, encoding="utf-8")
    code, out, _ = run(["validate", str(spec), "--json"], monkeypatch, capsys)
    assert code == 2
    (issue,) = json.loads(out)["issues"]
    assert (issue["line"], issue["path"]) == (17, "catalog.source")
    assert issue["message"].startswith("cannot use the catalog snapshot 'snap'")


CORPUS_PLANS = Path(__file__).resolve().parents[1] / "corpus" / "plans"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["verify", str(SMALL), str(CORPUS_PLANS / "objective-1e999.json")],
            "objective_usd: 1e999 is not a finite number",
        ),
        (
            ["verify", str(SMALL), str(CORPUS_PLANS / "nodes-nan.json")],
            "allocations[0].nodes: NaN is not a finite number",
        ),
        (
            [
                "diff",
                str(CORPUS_PLANS / "small-plan.json"),
                str(CORPUS_PLANS / "deep-nesting.json"),
            ],
            "nested far too deep",
        ),
    ],
)
def test_tampered_plans_exit_2_with_the_field_not_verified_nor_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    code, out, err = run(args, monkeypatch, capsys)
    assert code == 2
    assert "verified" not in out
    assert err.startswith("error (ARC-PLANFILE): ")
    assert message in err
