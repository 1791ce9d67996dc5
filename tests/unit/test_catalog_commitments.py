"""``archipel catalog commitments``: the documented levels, their sources, text and JSON."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from archipel.catalog.commitments import COMMITMENT_LEVELS, default_level, levels
from archipel.cli import catalog_cmd
from archipel.errors import UnknownNameError


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @root.callback()
    def _root() -> None:
        """Test root."""

    catalog_cmd.register(root)
    return root


def test_levels_by_provider_kind_and_term() -> None:
    assert {c.provider for c in COMMITMENT_LEVELS} >= {"aws", "azure", "gcp", "oci", "lambda"}
    assert [c.program for c in levels("aws", "savings_plan")] == [
        "EC2 Instance Savings Plans",
        "Compute Savings Plans",
    ]
    gcp3 = default_level("gcp", "committed_use", 36)
    assert gcp3 is not None and (gcp3.level_pct, gcp3.assumed) == (57.0, True)
    assert default_level("gcp", "committed_use", 12) is None  # none published for 1 year
    assert default_level("aws", "capacity_block", None) is None  # priced by supply and demand
    assert default_level("nebius", "reserved_instance", 12) is None


def test_text_lists_levels_and_numbered_sources(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["catalog", "commitments"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "up to 66%" in x)
    assert line.split()[:4] == ["aws", "savings_plan", "3", "y"]
    assert "[2] https://aws.amazon.com/savingsplans/faqs (2026-11-30)" in result.output
    assert all(len(x) <= 100 for x in result.output.splitlines() if not x.startswith("  ["))


def test_json_filters_and_says_what_is_assumed(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["catalog", "commitments", "-p", "azure", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert {b["provider"] for b in body} == {"azure"}
    ri3 = next(b for b in body if b["kind"] == "reserved_instance" and b["term_months"] == 36)
    assert (ri3["level_pct"], ri3["basis"], ri3["assumed"]) == (72.0, "up_to", True)
    assert ri3["url"].startswith("https://azure.microsoft.com/")


def test_unknown_kind_or_provider_is_named(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["catalog", "commitments", "-k", "reserved"])
    assert isinstance(result.exception, UnknownNameError)
    assert "reserved_instance" in str(result.exception)
    result = CliRunner().invoke(app, ["catalog", "commitments", "-p", "awz"])
    assert isinstance(result.exception, UnknownNameError)
    assert "aws" in str(result.exception)
