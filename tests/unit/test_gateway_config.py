"""The endpoints and keys files: every mistake reported at its file:line, with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from archipel.cli import app
from archipel.errors import UserError
from archipel.gateway.config import hash_key, load_endpoints, load_keys
from archipel.gateway.errors import GatewayConfigError

KEYS = (
    "chat/aws:eu-north-1/aws:eu-north-1:p5:on_demand",
    "chat/nebius:eu-north1/nebius:x:on_demand",
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_endpoints_are_read_and_deployments_without_one_are_listed(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "e.yaml",
        f'version: 1\nperiod: 2\nendpoints:\n  - deployment: "{KEYS[0]}"\n'
        '    url: "http://10.0.3.7:8000/"\n    model: llama\n    api_key_env: K\n',
    )
    eps = load_endpoints(p, KEYS)
    assert eps.file.period == 2
    assert eps.by_key[KEYS[0]].model == "llama"
    assert eps.missing == (KEYS[1],)


def test_an_unknown_deployment_is_an_error_at_its_line_with_the_nearest_key(tmp_path: Path) -> None:
    typo = KEYS[1].replace("eu-north1", "eu-nort1")
    p = _write(
        tmp_path,
        "e.yaml",
        f'version: 1\nendpoints:\n  - deployment: "{KEYS[0]}"\n    url: "http://a:1"\n'
        f'  - deployment: "{typo}"\n    url: "http://b:1"\n',
    )
    with pytest.raises(GatewayConfigError) as exc:
        load_endpoints(p, KEYS)
    (issue,) = exc.value.issues
    assert (issue.file, issue.line) == (str(p), 5)
    assert "unknown deployment" in issue.message and KEYS[1] in issue.hint


def test_bad_fields_are_each_reported_with_their_line(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "e.yaml",
        'version: 1\nendpoints:\n  - deployment: "x"\n    url: "ftp://nope"\n    colour: red\n',
    )
    with pytest.raises(GatewayConfigError) as exc:
        load_endpoints(p)
    lines = sorted(i.line for i in exc.value.issues)
    assert lines == [4, 5]
    assert str(exc.value).startswith("2 problems in the endpoints file")


def test_a_missing_file_and_broken_yaml_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(GatewayConfigError, match="no such file"):
        load_endpoints(tmp_path / "absent.yaml")
    with pytest.raises(GatewayConfigError) as exc:
        load_endpoints(_write(tmp_path, "b.yaml", "version: 1\nendpoints: [\n"))
    assert exc.value.issues[0].line >= 2


def test_keys_store_hashes_and_names_are_checked_against_the_table(tmp_path: Path) -> None:
    h = hash_key("secret")
    assert h == "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
    p = _write(
        tmp_path,
        "k.yaml",
        "version: 1\ntenants:\n  - id: eu\n    data_class: eu-personl\n    services: [chat]\n"
        f"keys:\n  - {{sha256: {h}, tenant: eu}}\n  - {{sha256: {h}, tenant: nobody}}\n",
    )
    with pytest.raises(GatewayConfigError) as exc:
        load_keys(p, ["chat"], ["eu-personal"], ["paris"])
    found = {(i.line, i.message) for i in exc.value.issues}
    assert (4, "unknown data class 'eu-personl'") in found
    assert (8, "unknown tenant 'nobody'") in found
    good = _write(
        tmp_path,
        "g.yaml",
        f"version: 1\ntenants: [{{id: eu}}]\nkeys: [{{sha256: {h}, tenant: eu}}]\n",
    )
    keys = load_keys(good, ["chat"], [], [])
    assert keys.caller_of_hash[h].tenant.id == "eu" and "secret" not in good.read_text()
    assert [x.id for x in keys.caller_of_hash[h].quotas] == ["eu"]


def test_a_key_with_limits_needs_a_name_unique_in_its_tenant(tmp_path: Path) -> None:
    a, b, c = (hash_key(x) for x in "abc")
    p = _write(
        tmp_path,
        "k.yaml",
        "version: 1\ntenants: [{id: eu, budget_usd: 10}]\nkeys:\n"
        f"  - {{sha256: {a}, tenant: eu, budget_usd: 1}}\n"
        f"  - {{sha256: {b}, tenant: eu, name: ci, requests_per_minute: 5}}\n"
        f"  - {{sha256: {c}, tenant: eu, name: ci}}\n",
    )
    with pytest.raises(GatewayConfigError) as exc:
        load_keys(p)
    found = sorted((i.line, i.message) for i in exc.value.issues)
    assert found == [
        (4, "a key with limits of its own needs a name"),
        (6, "tenant 'eu' has two keys named 'ci'"),
    ]
    assert "add name:" in str(exc.value)
    text = p.read_text().replace("eu, budget_usd: 1}", "eu, name: x, budget_usd: 1}")
    p.write_text(text.replace("name: ci}", "name: cd}"))
    keys = load_keys(p)
    limited = keys.caller_of_hash[b]
    assert [(x.scope, x.id) for x in limited.quotas] == [("key", "eu/ci"), ("tenant", "eu")]
    assert limited.quotas[0].requests_per_minute == 5 and limited.quotas[1].budget_nusd == 10**10
    assert [x.id for x in keys.caller_of_hash[c].quotas] == ["eu"]  # a name, no limits


def test_the_cli_reports_a_bad_endpoints_file_with_exit_2(tmp_path: Path) -> None:
    bad = _write(tmp_path, "e.yaml", "version: 2\nendpoints: []\n")
    keys = _write(tmp_path, "k.yaml", "version: 1\n")
    spec = Path(__file__).resolve().parents[2] / "examples" / "gateway.yaml"
    plan = tmp_path / "absent-plan.json"
    r = CliRunner().invoke(
        app,
        [
            "gateway",
            "check",
            str(spec),
            "--plan",
            str(plan),
            "--endpoints",
            str(bad),
            "--keys",
            str(keys),
        ],
    )
    assert isinstance(r.exception, UserError)  # exit 2 through archipel's main
    assert "absent-plan.json" in str(r.exception)


def test_hash_key_command_prints_the_digest() -> None:
    r = CliRunner().invoke(app, ["gateway", "hash-key", "secret"])
    assert r.exit_code == 0 and r.output.strip() == hash_key("secret")


def test_several_workers_without_redis_are_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    """Each process would keep its own budget: a budget of N requests would admit N each."""
    spec = Path(__file__).resolve().parents[2] / "examples" / "gateway.yaml"
    files = [_write(tmp_path, n, "version: 1\n") for n in ("p.json", "e.yaml", "k.yaml")]
    args = ["gateway", "serve", str(spec), "--plan", str(files[0]), "--endpoints"]
    r = CliRunner().invoke(app, [*args, str(files[1]), "--keys", str(files[2]), "--workers", "2"])
    assert r.exit_code == 2 and "--redis" in r.output and "budget" in r.output
