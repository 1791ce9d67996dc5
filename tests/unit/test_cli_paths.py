"""Output paths: every way a path can be unwritable is refused before any work, with a fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archipel.cli.paths import check_output_dir, check_output_file, write_text
from archipel.errors import OutputPathError, UserError


def test_a_writable_new_or_existing_file_is_accepted(tmp_path: Path) -> None:
    assert check_output_file(tmp_path / "plan.json", "plan") == tmp_path / "plan.json"
    (tmp_path / "old.json").write_text("{}", encoding="utf-8")
    assert check_output_file(tmp_path / "old.json", "plan") == tmp_path / "old.json"


@pytest.mark.parametrize("where", ["/", ".", "tmp"])
def test_a_directory_is_refused_with_a_file_name_to_use(tmp_path: Path, where: str) -> None:
    path = tmp_path if where == "tmp" else Path(where)
    with pytest.raises(OutputPathError) as info:
        check_output_file(path, "report")
    assert "it is a directory — give a file name, e.g." in str(info.value)
    assert "report.html" in str(info.value)
    assert isinstance(info.value, UserError)
    assert info.value.code == "ARC-OUTPUT"


def test_a_missing_directory_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(OutputPathError) as info:
        check_output_file(tmp_path / "reports" / "q3" / "plan.html", "report")
    message = str(info.value)
    assert f"the directory {tmp_path / 'reports' / 'q3'} does not exist" in message
    assert f"mkdir -p {tmp_path / 'reports' / 'q3'}" in message


def test_a_file_in_place_of_a_directory_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(OutputPathError, match=r"notes.txt is a file, not a directory"):
        check_output_file(tmp_path / "notes.txt" / "deeper" / "plan.json", "plan")


def test_an_input_is_never_overwritten_also_when_written_differently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "fleet.yaml"
    spec.write_text("horizon: {}\n", encoding="utf-8")
    (tmp_path / "link.yaml").symlink_to(spec)
    monkeypatch.chdir(tmp_path)
    for alias in (Path("fleet.yaml"), Path("./sub/../fleet.yaml"), Path("link.yaml")):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(OutputPathError, match="a file this command reads"):
            check_output_file(alias, "plan", inputs=[spec])
    assert spec.read_text(encoding="utf-8") == "horizon: {}\n"


def test_two_outputs_may_not_share_a_path(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    with pytest.raises(OutputPathError, match="the report is written there too"):
        check_output_file(out, "plan", others=[("report", tmp_path / "." / "plan.json")])
    assert check_output_file(out, "plan", others=[("report", None)]) == out


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write read-only files")
def test_read_only_file_and_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked.json"
    locked.write_text("{}", encoding="utf-8")
    locked.chmod(0o444)
    with pytest.raises(OutputPathError, match="read-only"):
        check_output_file(locked, "plan")
    shut = tmp_path / "shut"
    shut.mkdir()
    shut.chmod(0o555)
    try:
        with pytest.raises(OutputPathError, match="no permission to create files"):
            check_output_file(shut / "plan.json", "plan")
    finally:
        shut.chmod(0o755)


def test_an_output_directory_may_be_new_but_not_a_file_nor_an_input(tmp_path: Path) -> None:
    assert check_output_dir(tmp_path / "a" / "b", "snapshot") == tmp_path / "a" / "b"
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(OutputPathError, match="it is a file"):
        check_output_dir(tmp_path / "f", "snapshot")
    with pytest.raises(OutputPathError, match="is a file, not a directory"):
        check_output_dir(tmp_path / "f" / "snap", "snapshot")
    csvs = tmp_path / "csvs"
    csvs.mkdir()
    (csvs / "offerings.csv").write_text("x", encoding="utf-8")
    with pytest.raises(OutputPathError, match="which this command reads"):
        check_output_dir(csvs, "snapshot", inputs=[csvs])
    with pytest.raises(OutputPathError, match="which this command reads"):
        check_output_dir(
            csvs, "snapshot", inputs=[csvs / "offerings.csv"], writes=["offerings.csv"]
        )


def test_a_write_that_fails_anyway_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputPathError, match="No such file or directory"):
        write_text(tmp_path / "gone" / "r.html", "<html>", "report")
    write_text(tmp_path / "r.html", "<html>", "report")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == "<html>"
