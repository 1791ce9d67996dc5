"""``archipel catalog …`` through typer's CliRunner, on an app holding only the catalog group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from archipel.cli import catalog_cmd
from archipel.errors import CatalogError, UnknownNameError

AWS_CSV = (
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
    "Region,AvailabilityZone,Arch\n"
    'p5.48xlarge,H100,8.0,192.0,2048.0,"{}",55.04,20.5,us-east-1,use1-az1,x86_64\n'
    'p5.48xlarge,H100,8.0,192.0,2048.0,"{}",55.04,,us-east-1,use1-az2\n'
    'inf2.xlarge,Inferentia2,1,4,16,"{}",0.76,,mars-north-1,mars-az1,x86_64\n'
    'p3.2xlarge,V100,1,8,61,"{}",3.06,0.9,us-east-1,use1-az1,x86_64\n'
)


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @root.callback()
    def _root() -> None:
        """Test root."""

    catalog_cmd.register(root)
    return root


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("import", "archipel catalog import ../shared/data/catalogs"),
        ("offers", "archipel catalog offers -a H100 -j EU"),
        ("regions", "archipel catalog regions -p nebius"),
        ("show", "archipel catalog show --catalog my-snapshot --json"),
    ],
)
def test_every_help_teaches_with_examples(
    app: typer.Typer, runner: CliRunner, command: str, example: str
) -> None:
    result = runner.invoke(app, ["catalog", command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Examples" in result.output
    assert example in result.output


def test_import_reports_rows_and_rejections_then_writes_a_snapshot(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "aws.csv").write_text(AWS_CSV, "utf-8")
    out = tmp_path / "snap"
    result = runner.invoke(app, ["catalog", "import", str(tmp_path), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    (f,) = body["files"]
    assert (f["provider"], f["rows_read"], f["rows_kept"], f["rows_skipped"]) == ("aws", 4, 2, 1)
    assert f["rejected"] == [
        {"file": str(tmp_path / "aws.csv"), "line": 3, "reason": "expected 11 fields, found 10"}
    ]
    assert body["snapshot"]["offerings"] == 2  # mars-north-1 has no region facts
    assert body["snapshot"]["left_out_by_region"] == {"aws:mars-north-1": 1}

    text = runner.invoke(
        app, ["catalog", "import", str(tmp_path / "aws.csv")], env={"COLUMNS": "200"}
    )
    assert text.exit_code == 0, text.output
    assert f"rejected {tmp_path / 'aws.csv'}:3: expected 11 fields, found 10" in text.output
    assert "skipped 1: not an AI accelerator in the facts table" in text.output

    offers = runner.invoke(app, ["catalog", "offers", "--catalog", str(out), "--json"])
    assert offers.exit_code == 0, offers.output
    rows = json.loads(offers.output)
    assert [(r["purchase_option"], r["price_usd_per_accelerator_hour"]) for r in rows] == [
        ("spot", 2.5625),
        ("on_demand", 6.88),
    ]


def test_offers_from_the_builtin_snapshot(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["catalog", "offers", "-a", "H100,H200", "-j", "EU", "--limit", "5", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 5
    assert {r["accelerator"] for r in rows} <= {"H100", "H200"}
    prices = [r["price_usd_per_accelerator_hour"] for r in rows]
    assert prices == sorted(prices)
    table = runner.invoke(
        app, ["catalog", "offers", "-p", "aws", "-a", "trn2"], env={"COLUMNS": "200"}
    )
    assert table.exit_code == 0, table.output
    assert "trn2.48xlarge" in table.output


def test_unknown_names_are_user_errors_with_suggestions(
    app: typer.Typer, runner: CliRunner
) -> None:
    result = runner.invoke(app, ["catalog", "offers", "-a", "H10"])
    assert isinstance(result.exception, UnknownNameError)
    assert "Did you mean 'H100'" in str(result.exception)
    missing = runner.invoke(app, ["catalog", "show", "--catalog", "/nonexistent/snap"])
    assert isinstance(missing.exception, CatalogError)


def test_regions_and_show(app: typer.Typer, runner: CliRunner) -> None:
    regions = runner.invoke(app, ["catalog", "regions", "-p", "nebius", "--json"])
    assert regions.exit_code == 0, regions.output
    rows = json.loads(regions.output)
    assert {r["id"] for r in rows} == {"nebius:eu-north1", "nebius:eu-west1", "nebius:us-central1"}
    assert all(r["offerings"] > 0 for r in rows)
    table = runner.invoke(app, ["catalog", "regions", "-p", "verda"], env={"COLUMNS": "200"})
    assert "verda:FIN-01" in table.output
    show = runner.invoke(app, ["catalog", "show", "--json"])
    assert show.exit_code == 0, show.output
    body = json.loads(show.output)
    assert body["schema_version"] == 1
    assert len(body["content_sha256"]) == 64
    assert body["offerings"] == sum(body["offerings_by_provider"].values())
    text = runner.invoke(app, ["catalog", "show"], env={"COLUMNS": "200"})
    assert "captured" in text.output
    assert "by accelerator" in text.output
