"""The nastiest inputs found, kept as files: each spec and plan file has a stated outcome.

Specs (tests/corpus/specs/*.yaml): the first line says ``# expect: ok``, or ``# expect: error``
optionally followed by ``LINE:COLUMN`` and a part of the message of an issue found there. Plans
(tests/corpus/plans/*.json, outcomes in tests/corpus/plans/EXPECTED): the loader returns a plan
or raises a PlanFileError containing the given text. Add a file whenever a new class of bad
input is found; see tests/corpus/README.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archipel.catalog.snapshot import load_builtin
from archipel.errors import PlanFileError, SpecError
from archipel.report.planfile import load_plan
from archipel.spec.check import validate_file

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SPECS = sorted((CORPUS / "specs").glob("*.yaml"))
PLANS = sorted((CORPUS / "plans").glob("*.json"))
_EXPECT = re.compile(r"# expect: (ok|error)(?: (\d+):(\d+))?(?: (.+))?")


def spec_expectation(path: Path) -> tuple[bool, tuple[int, int] | None, str]:
    """(valid, position of the expected issue, part of its message) from the first line."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8").lstrip("\ufeff").rstrip("\r")
    m = _EXPECT.fullmatch(first)
    assert m, f"{path.name}: the first line must be '# expect: ok' or '# expect: error …'"
    where = (int(m[2]), int(m[3])) if m[2] else None
    return m[1] == "ok", where, m[4] or ""


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_corpus_spec(path: Path) -> None:
    valid, where, message = spec_expectation(path)
    if valid:
        assert validate_file(path, load_builtin()).horizon.periods >= 1
        return
    with pytest.raises(SpecError) as info:
        validate_file(path, load_builtin())
    issues = info.value.issues
    assert all(i.line >= 1 and i.column >= 1 and i.file == str(path) for i in issues)
    if where is not None:
        at = [i.message for i in issues if (i.line, i.column) == where]
        assert any(message in m for m in at), (where, message, [str(i) for i in issues])


def plan_expectations() -> dict[str, str]:
    """File name → 'ok' or 'error: <part of the message>', from EXPECTED."""
    out = {}
    for line in (CORPUS / "plans" / "EXPECTED").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, outcome = line.partition(" ")
            out[name] = outcome.strip()
    return out


def test_every_plan_file_has_a_stated_outcome() -> None:
    assert sorted(plan_expectations()) == [p.name for p in PLANS]


@pytest.mark.parametrize("path", PLANS, ids=[p.name for p in PLANS])
def test_corpus_plan(path: Path) -> None:
    outcome = plan_expectations()[path.name]
    if outcome == "ok":
        assert load_plan(path).spec_name
        return
    assert outcome.startswith("error: "), outcome
    with pytest.raises(PlanFileError) as info:
        load_plan(path)
    assert outcome.removeprefix("error: ") in str(info.value)
