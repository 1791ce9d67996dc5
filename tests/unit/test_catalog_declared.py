"""Chips of your own in imported catalogs: ``catalog import --accelerator A10G``, snapshots that
hold them (flagged ``accelerator-declared``), and the report and offers that show them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from archipel.catalog.flags import FLAG_ACCELERATOR_DECLARED, FLAGS, check_accelerator
from archipel.catalog.importer import SKIP_NOT_AI, import_paths, import_text
from archipel.catalog.model import FoldedName, Offering
from archipel.catalog.regions import PROVIDERS
from archipel.catalog.report import DeclaredChip, catalog_report
from archipel.catalog.snapshot import (
    MANIFEST_JSON,
    OFFERINGS_CSV,
    TABLES,
    build_catalog,
    content_sha256,
    load_builtin,
    load_snapshot,
    save_snapshot,
)
from archipel.cli import catalog_cmd
from archipel.errors import CatalogError, UnknownNameError

AWS_HEADER = (
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
    "Region,AvailabilityZone,Arch"
)
# AWS g5 instance types carry NVIDIA A10G GPUs, a chip the facts table lacks.
A10G_CSV = (
    "\n".join(
        (
            AWS_HEADER,
            'g5.xlarge,A10G,1.0,4.0,16.0,"{}",1.006,0.4,us-east-1,use1-az1,x86_64',
            'g5.48xlarge,A10G,8.0,192.0,768.0,"{}",16.288,,us-east-1,use1-az1,x86_64',
            'p5.48xlarge,H100,8.0,192.0,2048.0,"{}",55.04,20.5,us-east-1,use1-az1,x86_64',
            'p3.2xlarge,V100,1.0,8.0,61.0,"{}",3.06,,us-east-1,use1-az1,x86_64',
        )
    )
    + "\n"
)
GCP_HEADER = (
    "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,"
    "AvailabilityZone,Price,SpotPrice"
)


def offerings_by_id(offerings: tuple[Offering, ...]) -> dict[str, Offering]:
    return {o.id: o for o in offerings}


# ---------------------------------------------------------------------------------- importer


def test_an_a10g_row_is_skipped_unless_the_chip_is_declared() -> None:
    plain, plain_offs = import_text(A10G_CSV, "aws.csv")
    assert plain.balanced
    assert plain.skipped == {SKIP_NOT_AI: 3}
    assert plain.skipped_accelerators == {"A10G": 2, "V100": 1}
    assert {o.accelerator for o in plain_offs} == {"H100"}
    assert plain.declared == {}

    report, offs = import_text(A10G_CSV, "aws.csv", declared=["A10G"])
    assert report.balanced
    assert (report.rows_kept, report.skipped, report.skipped_accelerators) == (
        3,
        {SKIP_NOT_AI: 1},
        {"V100": 1},
    )
    assert report.declared == {"A10G": 2}
    by_id = offerings_by_id(offs)
    small = by_id["aws:us-east-1:g5.xlarge:on_demand"]
    assert (small.accelerator, small.accelerators_per_node, small.price_usd_per_node_hour) == (
        "A10G",
        1,
        1.006,
    )
    assert FLAG_ACCELERATOR_DECLARED in small.flags
    assert list(small.flags) == sorted(small.flags)  # one order, so snapshots render alike
    assert by_id["aws:us-east-1:g5.48xlarge:on_demand"].accelerators_per_node == 8
    assert FLAG_ACCELERATOR_DECLARED in by_id["aws:us-east-1:g5.xlarge:spot"].flags
    # built-in chips are untouched by a declaration
    assert FLAG_ACCELERATOR_DECLARED not in by_id["aws:us-east-1:p5.48xlarge:on_demand"].flags
    assert report.folded == ()  # spelled as the source spells it: nothing folded


def test_declared_names_match_case_insensitively_and_keep_the_declared_spelling() -> None:
    report, offs = import_text(A10G_CSV, "aws.csv", declared=("a10g",))
    assert report.declared == {"a10g": 2}
    assert {o.accelerator for o in offs} == {"a10g", "H100"}
    assert report.folded == (FoldedName("aws", "A10G", "a10g", ("g5.48xlarge", "g5.xlarge"), 2),)


def test_a_declared_tpu_generation_keeps_its_slices_with_chips_per_node() -> None:
    text = (
        "\n".join(
            (
                GCP_HEADER,
                ",,,tpu-v4-8,1,tpu-v4-8,us-central2,us-central2-b,12.88,",
                ",,,tpu-v4-32,1,tpu-v4-32,us-central2,us-central2-b,51.52,",
            )
        )
        + "\n"
    )
    skipped, _ = import_text(text, "gcp.csv")
    assert skipped.skipped_accelerators == {"tpu-v4-8": 1, "tpu-v4-32": 1}
    report, offs = import_text(text, "gcp.csv", declared=["TPU-v4"])
    assert report.balanced and report.declared == {"TPU-v4": 2}
    by_id = offerings_by_id(offs)
    v4 = by_id["gcp:us-central2:tpu-v4-32:on_demand"]
    assert (v4.accelerator, v4.accelerators_per_node, v4.price_usd_per_accelerator_hour) == (
        "TPU-v4",
        32,
        1.61,
    )
    assert report.folded == (FoldedName("gcp", "tpu-v4-*", "TPU-v4", ("tpu-v4-32", "tpu-v4-8"), 2),)


def test_a_declared_chip_no_row_names_is_reported_with_zero_rows() -> None:
    report, _ = import_text(A10G_CSV, "aws.csv", declared=["A10G", "LPU-1"])
    assert report.declared == {"A10G": 2, "LPU-1": 0}


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["H100"], r"--accelerator H100: 'H100' is a built-in chip, .*the built-in one is used"),
        (["h100-sxm"], r"'h100-sxm' is a built-in chip \(as 'H100'\)"),
        (["tpu-v5e-8"], r"'tpu-v5e-8' is a built-in chip \(as 'TPU-v5e'\)"),
        (["trn2"], r"'trn2' is a built-in chip \(as 'Trainium2'\)"),
        (["A 10"], r"--accelerator 'A 10': a chip's name is 1 to 64 letters"),
        ([""], r"--accelerator '': a chip's name"),
        (["x" * 65], r"a chip's name is 1 to 64"),
        (["A10G", "a10g"], r"--accelerator a10g and --accelerator A10G name one chip"),
    ],
)
def test_declared_names_that_a_spec_could_not_declare_are_refused(
    names: list[str], message: str
) -> None:
    with pytest.raises(CatalogError, match=message):
        import_text(A10G_CSV, "aws.csv", declared=names)


def test_a_bad_declared_name_fails_before_any_file_is_read(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="built-in chip"):
        import_paths([tmp_path / "missing.csv"], declared=["H100"])
    (tmp_path / "aws.csv").write_text(A10G_CSV, "utf-8")
    (tmp_path / "aws2.csv").write_text(A10G_CSV.replace("us-east-1", "us-west-2"), "utf-8")
    report = import_paths([tmp_path], declared=["A10G", "A10G"])  # a repeat is harmless
    assert report.declared == {"A10G": 4}


# ---------------------------------------------------------------------------------- snapshot


def saved_snapshot(tmp_path: Path, declared: tuple[str, ...] = ("A10G",)) -> Path:
    report, offs = import_text(A10G_CSV, "aws.csv", declared=declared)
    catalog = build_catalog(
        PROVIDERS,
        load_builtin().regions,
        offs,
        source="test",
        captured="2026-01-01",
        folded=report.folded,
    )
    path = tmp_path / "snap"
    save_snapshot(catalog, path)
    return path


def rewrite(path: Path, old: str, new: str) -> None:
    """Edit offerings.csv and refresh the manifest's hash, so only the row check can object."""
    text = (path / OFFERINGS_CSV).read_text("utf-8")
    assert old in text
    (path / OFFERINGS_CSV).write_text(text.replace(old, new, 1), "utf-8")
    body = json.loads((path / MANIFEST_JSON).read_text("utf-8"))
    body["content_sha256"] = content_sha256({n: (path / n).read_bytes() for n in TABLES})
    (path / MANIFEST_JSON).write_text(json.dumps(body), "utf-8")


def test_a_snapshot_of_a_declared_chip_loads_back_byte_for_byte(tmp_path: Path) -> None:
    path = saved_snapshot(tmp_path)
    loaded = load_snapshot(path)
    a10g = [o for o in loaded.offerings if o.accelerator == "A10G"]
    assert len(a10g) == 3 and all(FLAG_ACCELERATOR_DECLARED in o.flags for o in a10g)
    assert "A10G" in loaded.accelerators()
    again = tmp_path / "again"
    save_snapshot(loaded, again)
    for name in (*TABLES, MANIFEST_JSON):
        assert (again / name).read_bytes() == (path / name).read_bytes(), name
    assert load_snapshot(again) == loaded


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "A10G,8,on_demand,16.288,0.0,,,,0.0,1.0,accelerator-declared;topology-unknown",
            "A10G,8,on_demand,16.288,0.0,,,,0.0,1.0,topology-unknown",
            r"offerings\.csv:2: offering aws:us-east-1:g5\.48xlarge: accelerator 'A10G' is not a "
            r"canonical chip name .* not flagged accelerator-declared; .*--accelerator A10G",
        ),
        (
            "H100,8,on_demand,55.04,0.0,,nvswitch,efa,3200.0,1.0,",
            "H100,8,on_demand,55.04,0.0,,nvswitch,efa,3200.0,1.0,accelerator-declared",
            r"offerings\.csv:5: .*accelerator 'H100' is built in \(as 'H100'\) but flagged "
            r"accelerator-declared; write 'H100' and drop the flag",
        ),
        (
            "H100,8,on_demand,55.04,0.0,,nvswitch,efa,3200.0,1.0,",
            "h100-sxm,8,on_demand,55.04,0.0,,nvswitch,efa,3200.0,1.0,",
            r"offerings\.csv:5: .*accelerator 'h100-sxm' is not a canonical name; write 'H100'",
        ),
        (
            "A10G,8,on_demand,16.288,0.0,,,,0.0,1.0,accelerator-declared",
            "A 10G,8,on_demand,16.288,0.0,,,,0.0,1.0,accelerator-declared",
            r"offerings\.csv:2: .*accelerator 'A 10G' \(flagged accelerator-declared\) is not a "
            r"name a spec can declare",
        ),
    ],
)
def test_an_unknown_chip_loads_only_when_flagged_declared(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = saved_snapshot(tmp_path)
    rewrite(path, old, new)
    with pytest.raises(CatalogError, match=message):
        load_snapshot(path)


def test_the_flag_has_a_meaning_and_a_remedy() -> None:
    info = FLAGS[FLAG_ACCELERATOR_DECLARED]
    assert "spec" in info.meaning and "cannot be planned on" in info.meaning
    assert "`accelerators:`" in info.remedy
    assert check_accelerator("A10G", (FLAG_ACCELERATOR_DECLARED,)) is None
    assert check_accelerator("H100", ()) is None
    assert check_accelerator("A10G", ()) is not None


# ---------------------------------------------------------------------------------- report


def test_the_report_lists_declared_chips_and_their_offerings(tmp_path: Path) -> None:
    report = catalog_report(load_snapshot(saved_snapshot(tmp_path)))
    assert report.declared == (DeclaredChip("A10G", 3, ("aws",)),)
    body = report.to_json()
    assert body["declared_accelerators"] == [
        {"accelerator": "A10G", "offerings": 3, "providers": ["aws"]}
    ]
    flags = {f["flag"]: f["rows"] for f in body["flags"]}
    assert flags[FLAG_ACCELERATOR_DECLARED] == 3
    assert catalog_report(load_builtin()).declared == ()


# ---------------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @root.callback()
    def _root() -> None:
        """Test root."""

    catalog_cmd.register(root)
    return root


def test_cli_import_with_a_declared_chip_end_to_end(app: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    csv_path = tmp_path / "aws.csv"
    csv_path.write_text(A10G_CSV, "utf-8")
    wide = {"COLUMNS": "200"}

    plain = runner.invoke(app, ["catalog", "import", str(csv_path)], env=wide)
    assert plain.exit_code == 0, plain.output
    assert (
        "skipped 3: not an AI accelerator in the facts table (A10G 2, V100 1); keep a chip of "
        "your own with --accelerator NAME" in plain.output
    )

    out = tmp_path / "snap"
    args = ["catalog", "import", str(csv_path), "--accelerator", "A10G", "--out", str(out)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["declared"] == {"A10G": 2}
    (f,) = body["files"]
    assert (f["rows_kept"], f["skipped_accelerators"], f["declared"]) == (
        3,
        {"V100": 1},
        {"A10G": 2},
    )
    assert body["snapshot"]["offerings"] == 5
    assert "A10G" in load_snapshot(out).manifest.notes

    text = runner.invoke(app, ["catalog", "import", str(csv_path), "-a", "A10G"], env=wide)
    assert text.exit_code == 0, text.output
    assert "chip of your own A10G: 2 rows kept" in text.output

    report = runner.invoke(app, ["catalog", "report", "--catalog", str(out)], env=wide)
    assert report.exit_code == 0, report.output
    assert "chips of your own (accelerator-declared)\n  A10G: 3 offerings (aws)" in report.stdout
    report_json = json.loads(
        runner.invoke(app, ["catalog", "report", "--catalog", str(out), "--json"]).stdout
    )
    assert report_json["declared_accelerators"][0]["offerings"] == 3

    for name in ("A10G", "a10g"):
        offers = runner.invoke(
            app, ["catalog", "offers", "--catalog", str(out), "-a", name, "--json"]
        )
        assert offers.exit_code == 0, offers.output
        rows = json.loads(offers.stdout)
        assert [(r["instance_type"], r["purchase_option"]) for r in rows] == [
            ("g5.xlarge", "spot"),
            ("g5.xlarge", "on_demand"),
            ("g5.48xlarge", "on_demand"),
        ]
    both = runner.invoke(app, ["catalog", "offers", "--catalog", str(out), "-a", "A10G,H100"])
    assert both.exit_code == 0 and "5 of 5 offerings" in both.stdout


def test_cli_refuses_built_in_names_and_unknown_chips(app: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    csv_path = tmp_path / "aws.csv"
    csv_path.write_text(A10G_CSV, "utf-8")
    refused = runner.invoke(app, ["catalog", "import", str(csv_path), "--accelerator", "H100"])
    assert isinstance(refused.exception, CatalogError)
    assert "built-in chip" in str(refused.exception)
    # the built-in snapshot has no A10G: an unknown name, with the nearest ones
    unknown = runner.invoke(app, ["catalog", "offers", "-a", "A10G"])
    assert isinstance(unknown.exception, UnknownNameError)
    assert "'A10'" in str(unknown.exception)
    out = saved_snapshot(tmp_path)
    typo = runner.invoke(app, ["catalog", "offers", "--catalog", str(out), "-a", "A10GG"])
    assert isinstance(typo.exception, UnknownNameError)
    assert "'A10G'" in str(typo.exception)  # the snapshot's own chips are suggested too


def test_import_help_says_where_the_facts_go(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["catalog", "import", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for text in (
        "--accelerator",
        "accelerators:",
        "- {name: A10G, vendor: NVIDIA, kind: gpu, memory_gib: 24,",
        "archipel catalog import aws/vms.csv --accelerator A10G --out my-snapshot",
    ):
        assert text in result.output
