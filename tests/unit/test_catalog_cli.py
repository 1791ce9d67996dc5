"""``archipel catalog …`` through typer's CliRunner, on an app holding only the catalog group."""

from __future__ import annotations

import json
import re
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
        ("report", "archipel catalog report --catalog my-snapshot"),
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
    assert body["schema_version"] == 2
    assert len(body["content_sha256"]) == 64
    assert body["offerings"] == sum(body["offerings_by_provider"].values())
    text = runner.invoke(app, ["catalog", "show"], env={"COLUMNS": "200"})
    assert "captured" in text.output
    assert "by accelerator" in text.output


def _pieces(value: str) -> set[str]:
    """Every run of consecutive pieces of ``value`` split after - _ . : (how cells may wrap)."""
    parts = re.split(r"(?<=[-_.:])", value)
    return {"".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)}


@pytest.mark.parametrize("columns", ["80", "60"])
def test_offers_fit_the_width_and_never_break_a_word(
    app: typer.Typer, runner: CliRunner, columns: str
) -> None:
    args = ["catalog", "offers", "--limit", "40", "--sort", "region", "--descending"]
    text = runner.invoke(app, args, env={"COLUMNS": columns})
    assert text.exit_code == 0, text.output
    rows = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    lines = text.stdout.splitlines()
    if columns == "80":
        assert max(len(line) for line in lines) <= 80
        assert lines[1].split() == [
            "provider:region",
            "instance",
            "type",
            "accel",
            "option",
            "USD/accel-h",
            "link",
            "*",
        ]
    allowed = {"*", "od", "spot", "of", "offerings", "40"} | set(lines[1].split())
    for r in rows:
        allowed |= _pieces(f"{r['provider']}:{r['region']}") | _pieces(r["instance_type"])
        allowed |= {r["accelerator"], f"{r['price_usd_per_accelerator_hour']:.4f}"}
        allowed |= {f"{r['scale_up']}/{r['fabric'] or '-'}", str(r["accelerators_per_node"])}
    link = re.compile(r"^[a-z-]+/[a-z-]+$")  # abbreviated scale-up/fabric
    table = lines[1 : next(i for i, line in enumerate(lines) if line.startswith("* flagged"))]
    assert len(table) > len(rows)  # the header, every row, and some wrapped continuation lines
    for line in table:
        for token in line.split():
            assert token in allowed or link.match(token) or token.isdigit(), (token, line)


def test_offers_show_scale_up_fabric_and_a_mark_for_flagged_rows(
    app: typer.Typer, runner: CliRunner
) -> None:
    result = runner.invoke(
        app,
        ["catalog", "offers", "-p", "aws", "-a", "H100", "--limit", "50"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[1].split()
    assert {"scale-up", "fabric", "avail", "int/h", "*"} <= set(header)
    p5 = [line for line in result.stdout.splitlines() if "p5.48xlarge" in line]
    assert p5 and all("nvswitch" in line and "efa 3200" in line for line in p5)
    assert any(line.rstrip().endswith("*") for line in p5)  # spot rows: assumed rates
    assert any(not line.rstrip().endswith("*") for line in p5)  # on-demand rows: documented
    assert "--exclude-assumed leaves these out" in result.stdout


def test_fabric_and_exclude_assumed_filters(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["catalog", "offers", "--fabric", "--exclude-assumed", "--limit", "0", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows
    assert all(r["fabric"] and r["fabric_gbps"] > 0 and not r["flags"] for r in rows)
    assert {r["fabric"] for r in rows} >= {"efa", "infiniband", "roce", "gpudirect-tcpxo"}
    everything = json.loads(
        runner.invoke(app, ["catalog", "offers", "--limit", "0", "--json"]).stdout
    )
    assert len(rows) < len(everything)
    assert any(r["flags"] for r in everything)


def test_an_eu_country_without_a_region_is_an_empty_answer_with_a_note(
    app: typer.Typer, runner: CliRunner
) -> None:
    result = runner.invoke(app, ["catalog", "offers", "-j", "PT"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "0 of 0 offerings" in result.stdout
    assert "no region in PT" in result.stdout
    as_json = runner.invoke(app, ["catalog", "offers", "-j", "PT", "-j", "LU", "--json"])
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout) == []  # stdout stays pure JSON; the note is on stderr
    assert "no region in PT" in as_json.stderr and "no region in LU" in as_json.stderr
    unknown = runner.invoke(app, ["catalog", "offers", "-j", "XX"])
    assert isinstance(unknown.exception, UnknownNameError)


def test_line_numbers_never_print_as_emoji(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    good = 'inf2.xlarge,Inferentia2,1,4,16,"{}",0.76,,us-east-1,use1-az1,x86_64\n'
    header = AWS_CSV.splitlines()[0] + "\n"
    # line 100 and line 1234 are bad: rich would print ":100:" as 💯 with emoji codes on
    body = [good] * 1300
    body[98] = body[1232] = 'p5.48xlarge,H100,8,192,2048,"{}",55.04,,us-east-1\n'
    (tmp_path / "aws.csv").write_text(header + "".join(body), "utf-8")
    result = runner.invoke(
        app, ["catalog", "import", str(tmp_path / "aws.csv")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "aws.csv:100: expected 11 fields, found 9" in result.output
    assert "aws.csv:1234: expected 11 fields, found 9" in result.output
    assert "\N{HUNDRED POINTS SYMBOL}" not in result.output
