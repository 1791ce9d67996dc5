"""Plan files: round trip, and precise errors for every way a file can be wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archipel.errors import PlanFileError
from archipel.plan.result import Allocation, Plan, Status
from archipel.report.planfile import load_plan, save_plan


def make_plan() -> Plan:
    return Plan(
        spec_name="lab",
        planner="greedy",
        status=Status.FEASIBLE,
        objective_usd=1234.5,
        periods=["2027-Q1"],
        cost_by_provider_usd={"aws": 1234.5},
        allocations=[
            Allocation(
                workload="chat",
                workload_kind="service",
                provider="aws",
                region="aws:eu-west-1",
                instance_type="p5.48xlarge",
                accelerator="H100",
                purchase_option="on_demand",
                offering_id="o1",
                period=0,
                period_label="2027-Q1",
                nodes=1.5,
                accelerators=12.0,
                hours=2160.0,
                cost_usd=1234.5,
            )
        ],
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_round_trip(tmp_path: Path) -> None:
    plan = make_plan()
    path = tmp_path / "plan.json"
    save_plan(plan, path)
    assert load_plan(path) == plan
    assert load_plan(str(path)) == plan
    assert path.read_text(encoding="utf-8").endswith("}\n")
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]  # no temporary file left


def test_save_replaces_an_existing_file(tmp_path: Path) -> None:
    path = write(tmp_path, "old")
    save_plan(make_plan(), path)
    assert load_plan(path).spec_name == "lab"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(PlanFileError, match="no such plan file") as info:
        load_plan(path)
    assert str(path) in str(info.value)
    assert info.value.code == "ARC-PLANFILE"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="is a directory"):
        load_plan(tmp_path)


def test_bad_json_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "spec_name": "lab",\n  "planner": lp\n}\n')
    with pytest.raises(PlanFileError) as info:
        load_plan(path)
    assert f"{path}:3:14: invalid JSON: Expecting value" in str(info.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(b'{"spec_name": "\xff"}')
    with pytest.raises(PlanFileError, match="not UTF-8 text"):
        load_plan(path)


def test_wrong_value_names_the_field_path(tmp_path: Path) -> None:
    data = json.loads(make_plan().model_dump_json())
    data["allocations"][0]["nodes"] = "lots"
    data["status"] = "great"
    with pytest.raises(PlanFileError) as info:
        load_plan(write(tmp_path, json.dumps(data)))
    message = str(info.value)
    assert "2 values do not match the plan model" in message
    assert "allocations[0].nodes: Input should be a valid number" in message
    assert '(got "lots")' in message
    assert "status: Input should be" in message


def test_missing_and_unknown_fields(tmp_path: Path) -> None:
    data = json.loads(make_plan().model_dump_json())
    del data["spec_name"]
    data["allocations"][0]["colour"] = "red"
    with pytest.raises(PlanFileError) as info:
        load_plan(write(tmp_path, json.dumps(data)))
    message = str(info.value)
    assert "spec_name: Field required" in message
    assert "allocations[0].colour: Extra inputs are not permitted" in message


def test_top_level_not_an_object(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match=r"\(the whole file\)"):
        load_plan(write(tmp_path, "[1, 2]"))


def test_save_into_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="cannot be written"):
        save_plan(make_plan(), tmp_path / "missing" / "plan.json")


@pytest.mark.parametrize(
    ("field", "written"),
    [
        ("objective_usd", "1e999"),
        ("objective_usd", "-1e999"),
        ("objective_usd", "NaN"),
        ("lower_bound_usd", "Infinity"),
        ("gap", "-Infinity"),
    ],
)
def test_non_finite_numbers_are_refused_with_their_field(
    tmp_path: Path, field: str, written: str
) -> None:
    data = json.loads(make_plan().model_dump_json())
    data[field] = "@"
    text = json.dumps(data, indent=2).replace('"@"', written)
    with pytest.raises(PlanFileError) as info:
        load_plan(write(tmp_path, text))
    assert f"{field}: {written} is not a finite number" in str(info.value)


def test_a_non_finite_number_deep_in_the_plan_is_placed(tmp_path: Path) -> None:
    data = json.loads(make_plan().model_dump_json())
    data["allocations"][0]["nodes"] = "@"
    data["cost_by_provider_usd"]["aws"] = "@"
    text = json.dumps(data).replace('"@"', "NaN", 1).replace('"@"', "1E400")
    with pytest.raises(PlanFileError) as info:
        load_plan(write(tmp_path, text))
    assert "cost_by_provider_usd.aws: NaN is not a finite number" in str(info.value)


@pytest.mark.parametrize("depth", [100, 5000, 200_000])
def test_deep_nesting_is_a_plan_file_error_not_a_recursion_error(
    tmp_path: Path, depth: int
) -> None:
    data = json.loads(make_plan().model_dump_json())
    data["allocations"][0]["nodes"] = "@"
    text = json.dumps(data).replace('"@"', "[" * depth + "]" * depth)
    with pytest.raises(PlanFileError, match=r"nodes|nested far too deep"):
        load_plan(write(tmp_path, text))


def test_an_integer_of_thousands_of_digits_is_refused(tmp_path: Path) -> None:
    data = json.loads(make_plan().model_dump_json())
    data["allocations"][0]["period"] = "@"
    text = json.dumps(data).replace('"@"', "9" * 5000)
    with pytest.raises(PlanFileError, match="a number too long to read"):
        load_plan(write(tmp_path, text))


def test_a_long_text_is_quoted_short(tmp_path: Path) -> None:
    data = json.loads(make_plan().model_dump_json())
    data["allocations"][0]["nodes"] = "x" * 100_000
    with pytest.raises(PlanFileError) as info:
        load_plan(write(tmp_path, json.dumps(data)))
    assert len(str(info.value)) < 1000


def test_save_to_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="is a directory"):
        save_plan(make_plan(), tmp_path)
    with pytest.raises(PlanFileError, match="is a directory"):
        save_plan(make_plan(), Path("/"))


@pytest.mark.parametrize(
    ("escaped", "code"), [("\\u001b[2J", "001B"), ("\\b", "0008"), ("\\u202e", "202E")]
)
def test_control_characters_in_texts_are_refused(tmp_path: Path, escaped: str, code: str) -> None:
    data = json.loads(make_plan().model_dump_json())
    data["allocations"][0]["workload"] = "@"
    text = json.dumps(data).replace("@", f"chat{escaped}")
    with pytest.raises(PlanFileError) as info:
        load_plan(write(tmp_path, text))
    assert f"allocations[0].workload: the text contains the control character U+{code}" in str(
        info.value
    )


def test_a_control_character_in_a_key_is_refused(tmp_path: Path) -> None:
    data = json.loads(make_plan().model_dump_json())
    data["cost_by_provider_usd"] = {"a\u0007ws": 1.0}
    with pytest.raises(
        PlanFileError,
        match=r"cost_by_provider_usd.a\\u0007ws: the key contains the control character U\+0007",
    ):
        load_plan(write(tmp_path, json.dumps(data)))


def test_ordinary_escapes_and_newlines_in_messages_load(tmp_path: Path) -> None:
    plan = make_plan().model_copy(update={"message": "line one\nline two\tdone é"})
    path = tmp_path / "plan.json"
    save_plan(plan, path)
    assert load_plan(path) == plan
    data = json.loads(make_plan().model_dump_json())
    data["spec_name"] = "caf\u00e9"
    assert load_plan(write(tmp_path, json.dumps(data))).spec_name == "café"
