"""``archipel validate`` and ``archipel schema``, on a local app built with ``register``."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from archipel.catalog.model import Catalog, Manifest, Offering, Provider, PurchaseOption, Region
from archipel.cli import spec_cmd
from archipel.errors import SpecError

OD = PurchaseOption.ON_DEMAND

# Five planted mistakes, one per numbered comment; the regions and instance types exist both in
# the test catalog below and in the built-in one.
FIVE_MISTAKES = textwrap.dedent(
    """\
    horizon:
      start: 2027-01-01
      periods: 4
    geographies:
      - {id: eu, lat: 48.9, lon: 2.4, country: FR}
    models:
      - id: chat-70b
        parameters_b: 70
      - id: big
        parameters_b: -400                 # 1: must be > 0
    services:
      - id: chat
        model: chat-7b                     # 2: unknown model
        demand:
          kind: table
          by_geography:
            eu: [1, 2, 3]                  # 3: 3 values for 4 periods
      - id: api
        model: chat-70b
        laytency_slo_rtt_ms: 50            # 4: unknown field
        demand: {kind: growth, base_by_geography: {eu: 5}, growth_pct_per_year: 45}
    contracts:
      - id: aws-deal
        provider: aws
        start: 2027-01-01
        end: 2030-01-01
        regions: [aws:eu-west-9]           # 5: unknown region
    """
)

EXPECTED = [
    "10:19: models[1].parameters_b: must be > 0, got -400",
    "13:12: services[0].model: unknown model 'chat-7b' — did you mean 'chat-70b'?",
    "17:13: services[0].demand.by_geography.eu: has 3 values but the horizon has 4 periods",
    "20:5: services[1]: unknown field 'laytency_slo_rtt_ms' — did you mean 'latency_slo_rtt_ms'?",
    "27:15: contracts[0].regions[0]: unknown region 'aws:eu-west-9'",
]


def small_catalog() -> Catalog:
    return Catalog(
        Manifest("test", "2026-01-01", 1, "0" * 64),
        (Provider("aws", "Amazon Web Services", "US", True),),
        (
            Region("aws", "eu-west-1", "Dublin", "IE", "Europe", 53.3, -6.3, ("EU",)),
            Region("aws", "eu-north-1", "Stockholm", "SE", "Europe", 59.3, 18.1, ("EU",)),
        ),
        (Offering("aws", "eu-north-1", "p5.48xlarge", "H100", 8, OD, 55.04),),
    )


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr(spec_cmd, "_load_catalog", lambda path: small_catalog())
    app = typer.Typer()
    spec_cmd.register(app)
    return app


def write(tmp_path: Path, text: str, name: str = "fleet.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_five_planted_mistakes_give_exactly_five_errors(app: typer.Typer, tmp_path: Path) -> None:
    path = write(tmp_path, FIVE_MISTAKES)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert isinstance(result.exception, SpecError), result.output
    lines = str(result.exception).splitlines()
    assert lines[0] == "5 problems in the spec"
    assert len(lines) == 6
    for line, expected in zip(lines[1:], EXPECTED, strict=True):
        assert line.startswith(f"{path}:{expected}")


def test_json_output_lists_the_issues_and_exits_2(app: typer.Typer, tmp_path: Path) -> None:
    path = write(tmp_path, FIVE_MISTAKES)
    result = CliRunner().invoke(app, ["validate", str(path), "--json"])
    assert result.exit_code == 2
    out = json.loads(result.stdout)
    assert out["ok"] is False
    assert [(i["line"], i["column"]) for i in out["issues"]] == [
        (10, 19),
        (13, 12),
        (17, 13),
        (20, 5),
        (27, 15),
    ]


def test_a_valid_spec_prints_a_summary(app: typer.Typer, tmp_path: Path) -> None:
    fixed = (
        FIVE_MISTAKES.replace("-400", "400")
        .replace("chat-7b ", "chat-70b")
        .replace("[1, 2, 3]", "[1, 2, 3, 4]")
        .replace("laytency", "latency")
        .replace("eu-west-9", "eu-west-1")
    )
    path = write(tmp_path, fixed)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "2 services, 0 training jobs, 1 contract, 0 rules, 4 quarters from 2027-01-01"
        in result.stdout
    )
    as_json = CliRunner().invoke(app, ["validate", str(path), "--json"])
    assert json.loads(as_json.stdout)["valid"][0]["services"] == 2


def test_problems_of_several_files_are_reported_together(app: typer.Typer, tmp_path: Path) -> None:
    a = write(tmp_path, FIVE_MISTAKES, "a.yaml")
    b = write(tmp_path, "- not a mapping\n", "b.yaml")
    result = CliRunner().invoke(app, ["validate", str(a), str(b)])
    assert isinstance(result.exception, SpecError)
    assert len(result.exception.issues) == 6
    assert result.exception.issues[-1].file == str(b)


def test_schema_to_stdout_and_to_a_file(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "Archipel fleet spec"
    assert "horizon" in schema["properties"]
    out = tmp_path / "s.json"
    result = CliRunner().invoke(app, ["schema", "--out", str(out)])
    assert result.exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == schema


def test_help_teaches_with_examples(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["validate", "--help"])
    assert result.exit_code == 0
    assert "archipel validate examples/small.yaml" in result.stdout


_FULL_CLI = all(
    importlib.util.find_spec(m) is not None
    for m in ("archipel.cli.catalog_cmd", "archipel.cli.plan_cmd", "archipel.catalog.snapshot")
)


@pytest.mark.skipif(
    not _FULL_CLI, reason="the full archipel CLI and built-in catalog not built yet"
)
def test_the_real_command_exits_2_without_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, FIVE_MISTAKES)
    code = "import sys; from archipel.cli import main; sys.argv[0] = 'archipel'; main()"
    proc = subprocess.run(
        [sys.executable, "-c", code, "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "5 problems in the spec" in proc.stderr
    flat = " ".join(proc.stderr.split())  # the console may wrap long lines
    for expected in EXPECTED:
        assert " ".join(f"{path}:{expected.split(' — ')[0]}".split()) in flat
