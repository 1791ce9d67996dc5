"""``archipel simulate`` end to end on the small example: a real trace through the plan's
deployments with an outage, pure JSON on stdout, the same run for the same seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archipel.cli import app
from archipel.sim.traces import shared_data_dir

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TRACE = shared_data_dir() / "traces/azure-llm-2023/AzureLLMInferenceTrace_conv.csv"

pytestmark = pytest.mark.skipif(
    not TRACE.exists(),
    reason=f"public traces not found at {TRACE.parent} (a user's clone has none; CI has them); "
    "set ARCHIPEL_SHARED_DATA",
)


@pytest.fixture(scope="module")
def small_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small example's plan, made once for the module."""
    plan = tmp_path_factory.mktemp("sim") / "plan.json"
    made = CliRunner().invoke(app, ["plan", str(EXAMPLES / "small.yaml"), "--out", str(plan)])
    assert made.exit_code == 0, made.output
    return plan


def test_simulate_replays_the_trace_through_the_plan(tmp_path: Path, small_plan: Path) -> None:
    runner = CliRunner()
    plan = small_plan
    argv = [
        "simulate",
        str(EXAMPLES / "small.yaml"),
        "--plan",
        str(plan),
        "--outage",
        "provider:nebius@10-40",
        "--json",
    ]
    first = runner.invoke(app, argv)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    (run,) = data["runs"]
    assert run["requests"] == 19_366  # the whole Azure 2023 conversation trace
    assert run["served"] + run["lost"] == run["requests"]
    assert run["residency_violations"] == 0
    assert any("time scaled by" in t for t in run["transforms"])
    assert run["replica_hours"] > 0 and run["capacity_cost_usd"] > 0  # at the plan's prices
    # per service and geography: the groups add up to the run
    assert sum(g["requests"] for g in run["groups"]) == run["requests"]
    assert sum(g["lost"] for g in run["groups"]) == run["lost"]
    assert len({(g["service"], g["geography"]) for g in run["groups"]}) == len(run["groups"])
    again = runner.invoke(app, argv)
    assert again.stdout == first.stdout  # same seed, same run
    page = tmp_path / "sim.html"
    drawn = runner.invoke(app, [*argv[:-1], "--report", str(page)])
    assert drawn.exit_code == 0, drawn.output
    html = page.read_text()
    assert "Plans compared" in html and "<svg" in html and "window by window" in html
    for g in run["groups"]:
        assert f"<td>{g['service']}</td>" in html or g["service"] in html


def test_a_malformed_outage_is_refused_with_the_form_to_use(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            str(EXAMPLES / "small.yaml"),
            "--plan",
            str(tmp_path / "x.json"),
            "--outage",
            "aws 10 to 40",
        ],
    )
    assert result.exit_code == 2
    assert "TARGET@START-END" in result.output


def test_429_windows_latency_spikes_and_spot_preemptions_are_injected(small_plan: Path) -> None:
    runner = CliRunner()
    plan = small_plan
    base = ["simulate", str(EXAMPLES / "small.yaml"), "--plan", str(plan), "--json"]
    calm = json.loads(runner.invoke(app, base).stdout)["runs"][0]
    stormy = runner.invoke(
        app,
        [
            *base,
            "--errors",
            "provider:nebius@0-100=0.5",
            "--latency",
            "provider:nebius@0-100=300",
            "--preempt-spot",
        ],
    )
    assert stormy.exit_code == 0, stormy.output
    hit = json.loads(stormy.stdout)["runs"][0]
    assert hit["retried"] > calm["retried"]  # half the attempts on nebius get a 429 for 100 s
    assert hit["ttft_slo_share"] <= calm["ttft_slo_share"]
    assert hit["residency_violations"] == 0
    bad = runner.invoke(app, [*base, "--errors", "provider:nebius@0-100=1.5"])
    assert bad.exit_code == 2 and "429 rate" in bad.output


def test_fluid_mode_replays_two_weeks_and_an_outage_costs_capacity(small_plan: Path) -> None:
    runner = CliRunner()
    plan = small_plan
    base = ["simulate", str(EXAMPLES / "small.yaml"), "--plan", str(plan), "--fluid", "--json"]
    calm = json.loads(runner.invoke(app, base).stdout)
    (run,) = calm["runs"]
    assert calm["mode"] == "fluid" and run["steps"] == 2016  # 14 days of 10-minute windows
    assert run["served_share"] == pytest.approx(1.0)  # the plan is sized for the busiest window
    out = json.loads(runner.invoke(app, [*base, "--outage", "provider:nebius@0-86400"]).stdout)
    hit = out["runs"][0]
    assert hit["served_share"] < run["served_share"] and hit["worst_step_served_share"] == 0.0
    # a 429 window everywhere (small.yaml plans nebius only) turns its traffic away: lost
    shed = runner.invoke(app, [*base, "--errors", "provider:nebius@0-86400=1"])
    assert json.loads(shed.stdout)["runs"][0]["served_share"] == pytest.approx(hit["served_share"])
    spike = runner.invoke(app, [*base, "--latency", "provider:nebius@0-600=500"])
    assert spike.exit_code == 2 and "a latency spike cannot act" in " ".join(spike.output.split())


def test_hung_replicas_fail_their_requests_at_the_timeout_and_are_retried(small_plan: Path) -> None:
    runner = CliRunner()
    plan = small_plan
    base = ["simulate", str(EXAMPLES / "small.yaml"), "--plan", str(plan), "--json"]
    calm = json.loads(runner.invoke(app, base).stdout)["runs"][0]
    hung = runner.invoke(app, [*base, "--hang", "provider:nebius@20-80=2"])
    assert hung.exit_code == 0, hung.output
    hit = json.loads(hung.stdout)["runs"][0]
    assert hit["retried"] > calm["retried"]  # the hung replicas' requests come back to the policy
    assert hit["residency_violations"] == 0
    assert "hung" in json.loads(hung.stdout)["faults"]


def test_a_fault_that_cannot_act_on_the_replay_is_refused(small_plan: Path) -> None:
    """A target with no deployment in the period, or a window after the replay's end, would
    change nothing in silence: both are refused with what would work."""
    runner = CliRunner()
    plan = small_plan
    base = ["simulate", str(EXAMPLES / "small.yaml"), "--plan", str(plan)]
    nowhere = runner.invoke(app, [*base, "--outage", "provider:no-such-cloud@0-60"])
    assert nowhere.exit_code == 2
    assert "the period's providers: " in nowhere.output and "nebius" in nowhere.output
    late = runner.invoke(app, [*base, "--outage", "provider:nebius@100000-100060"])
    assert late.exit_code == 2
    assert "would start after it ends" in late.output
