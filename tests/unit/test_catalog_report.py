"""``archipel catalog report``: what a snapshot holds and assumes, as text and JSON."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from archipel.catalog.flags import FLAGS
from archipel.catalog.model import (
    FoldedName,
    Offering,
    Provider,
    PurchaseOption,
    Region,
    RejectedRow,
)
from archipel.catalog.report import catalog_report
from archipel.catalog.snapshot import build_catalog, load_builtin
from archipel.cli import catalog_cmd


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @root.callback()
    def _root() -> None:
        """Test root."""

    catalog_cmd.register(root)
    return root


def test_report_counts_flags_rejections_folds_and_coverage() -> None:
    offers = [
        Offering(
            "aws",
            "us-east-1",
            "p5.48xlarge",
            "H100",
            8,
            PurchaseOption.ON_DEMAND,
            55.0,
            scale_up="nvswitch",
            fabric="efa",
            fabric_gbps=3200.0,
        ),
        Offering(
            "aws",
            "us-east-1",
            "p5.48xlarge",
            "H100",
            8,
            PurchaseOption.SPOT,
            20.0,
            0.5,
            scale_up="nvswitch",
            fabric="efa",
            fabric_gbps=3200.0,
            availability=0.5,
            flags=("spot-rates-proxy",),
        ),
        Offering(
            "aws",
            "us-east-1",
            "x9.large",
            "H100",
            8,
            PurchaseOption.ON_DEMAND,
            50.0,
            flags=("topology-unknown",),
        ),
    ]
    cat = build_catalog(
        [Provider("aws", "AWS", "US", True)],
        [Region("aws", "us-east-1", "Ashburn", "US", "North America", 39.0, -77.5)],
        offers,
        source="t",
        captured="d",
        rejected=[RejectedRow("f.csv", 3, "bad"), RejectedRow("f.csv", 9, "bad")],
        folded=[FoldedName("aws", "H100-SXM", "H100", ("p5.48xlarge",), 2)],
    )
    report = catalog_report(cat)
    (aws,) = report.providers
    assert (aws.offerings, aws.regions, aws.accelerators, aws.flagged) == (3, 1, 1, 2)
    assert [(f.flag, f.rows) for f in report.flags] == [
        ("topology-unknown", 1),
        ("spot-rates-proxy", 1),
    ]
    assert report.rejected_by_reason == (("bad", 2),)
    c = report.coverage
    assert (c.offerings, c.scale_up_known, c.documented, c.with_fabric) == (3, 2, 2, 2)
    body = report.to_json()
    assert body["topology"]["scale_up_known_share"] == round(2 / 3, 4)
    assert body["folded"][0]["source_name"] == "H100-SXM"
    assert "exclude_assumed" in body["how_to_avoid"]


def test_builtin_report_text_and_json(app: typer.Typer) -> None:
    runner = CliRunner()
    text = runner.invoke(app, ["catalog", "report"], env={"COLUMNS": "80"})
    assert text.exit_code == 0, text.output
    out = text.stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    for section in (
        "per provider",
        "flagged rows:",
        "rejected source rows: 22",
        "accelerator names folded onto chips",
        "topology coverage",
    ):
        assert section in out
    assert "gcp: H100-MEGA -> H100" in out
    assert "`catalog.exclude_assumed:" in out and "--exclude-assumed" in out
    body = json.loads(runner.invoke(app, ["catalog", "report", "--json"]).stdout)
    cat = load_builtin()
    assert body["offerings"] == len(cat.offerings)
    assert sum(p["offerings"] for p in body["providers"]) == len(cat.offerings)
    assert {f["flag"] for f in body["flags"]} <= set(FLAGS)
    assert body["flagged_rows"] == sum(1 for o in cat.offerings if o.flags)
    assert body["rejected"]["total"] == len(body["rejected"]["rows"]) == 22
    folds = {(f["provider"], f["source_name"], f["accelerator"]) for f in body["folded"]}
    assert {
        ("gcp", "H100-MEGA", "H100"),
        ("lambda", "H100", "H100-PCIe"),
        ("azure", "H100", "H100-NVL"),
        ("azure", "A100-80GB", "A100-80GB-PCIe"),
        ("hyperstack", "H100-80G-PCIe", "H100-PCIe"),
    } <= folds
    assert body["topology"]["scale_up_known_share"] == 1.0
    assert 0 < body["topology"]["with_fabric_share"] < 1
