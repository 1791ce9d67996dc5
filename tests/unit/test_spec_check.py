"""Semantic checks: each one reports its problem at the offending value, with a fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from archipel.catalog.model import Catalog, Manifest, Offering, Provider, PurchaseOption, Region
from archipel.errors import Issue, SpecError
from archipel.spec.check import check_spec, validate_file, validate_text
from archipel.spec.load import parse_spec_with_positions

OD = PurchaseOption.ON_DEMAND


def small_catalog() -> Catalog:
    """aws (us-east-1, eu-west-1) and nebius (eu-north1), H100 nodes in each."""
    return Catalog(
        Manifest("test", "2026-01-01", 1, "0" * 64),
        (
            Provider("aws", "Amazon Web Services", "US", True),
            Provider("nebius", "Nebius", "NL", False),
        ),
        (
            Region("aws", "us-east-1", "Ashburn", "US", "North America", 39.0, -77.5),
            Region("aws", "eu-west-1", "Dublin", "IE", "Europe", 53.3, -6.3, ("EU",)),
            Region("nebius", "eu-north1", "Mäntsälä", "FI", "Europe", 60.6, 25.3, ("EU",)),
        ),
        (
            Offering("aws", "us-east-1", "p5.48xlarge", "H100", 8, OD, 55.04),
            Offering("aws", "eu-west-1", "p5.48xlarge", "H100", 8, OD, 60.0),
            Offering("nebius", "eu-north1", "gpu-h100-sxm_8gpu", "H100", 8, OD, 23.6),
        ),
    )


BASE = """\
horizon:
  start: 2027-01-01
  periods: 4
geographies:
  - {id: eu, lat: 48.9, lon: 2.4, country: FR}
  - {id: us, lat: 40.7, lon: -74.0, country: US}
models:
  - id: m70
    parameters_b: 70
services:
  - id: chat
    model: m70
    demand:
      kind: table
      by_geography:
        eu: [1, 2, 3, 4]
        us: [1, 2, 3, 4]
"""


def check(extra: str = "", base: str = BASE) -> list[Issue]:
    spec, src = parse_spec_with_positions(base + textwrap.dedent(extra), "f.yaml")
    return check_spec(spec, small_catalog(), src)


def one(extra: str = "", base: str = BASE) -> Issue:
    issues = check(extra, base)
    assert len(issues) == 1, issues
    return issues[0]


def test_the_base_spec_is_clean() -> None:
    assert check() == []


def test_duplicate_ids() -> None:
    third = "  - {id: eu, lat: 1, lon: 1, country: FR}\n"
    issue = one(base=BASE.replace("models:\n", third + "models:\n"))
    assert (issue.line, issue.column, issue.path) == (7, 10, "geographies[2].id")
    assert issue.message == "duplicate id 'eu' (also used by geographies[0])"
    second = "  - {id: chat, model: m70, demand: {kind: growth, base_by_geography: {}, growth_pct_per_year: 45}}\n"
    dup_service = one(base=BASE + second)
    assert (dup_service.line, dup_service.path) == (18, "services[1].id")


def test_unknown_model_with_suggestion() -> None:
    issue = one(base=BASE.replace("model: m70", "model: m7O"))
    assert issue == Issue(
        "f.yaml", 12, 12, "services[0].model", "unknown model 'm7O'", "did you mean 'm70'?"
    )


def test_unknown_demand_geography_points_at_its_key() -> None:
    issue = one(base=BASE.replace("        us: [", "        usa: ["))
    assert (issue.line, issue.column) == (17, 9)
    assert issue.path == "services[0].demand.by_geography.usa"
    assert issue.message == "unknown geography 'usa'"
    assert issue.hint == "did you mean 'us'?"


def test_training_and_rule_references() -> None:
    issues = check(
        """\
        training:
          - id: t
            model: m71
            work: {kind: accelerator_hours, reference_accelerator: H100, accelerator_hours: 10}
            accelerators: [H100]
            deadline: 2027-06-01
        rules:
          - {kind: exclusivity, model: nope, providers: [aws], until: 2028-01-01}
          - {kind: survivability, services: [chat, caht2]}
          - {kind: min_providers, count: 2, services: [cht]}
        """
    )
    assert [(i.path, i.message) for i in issues] == [
        ("training[0].model", "unknown model 'm71'"),
        ("rules[0].model", "unknown model 'nope'"),
        ("rules[1].services[1]", "unknown service 'caht2'"),
        ("rules[2].services[0]", "unknown service 'cht'"),
    ]
    assert issues[0].hint == "did you mean 'm70'?"


def test_unknown_providers_everywhere() -> None:
    issues = check(
        """\
        catalog: {providers: [aws, nebuis]}
        providers:
          - id: azure
        contracts:
          - {id: c, provider: gpc, start: 2027-01-01, end: 2028-01-01}
        rules:
          - {kind: exclusivity, model: m70, providers: [awz], until: 2028-01-01}
        """
    )
    assert [(i.path, i.message, i.hint) for i in issues] == [
        ("catalog.providers[1]", "unknown provider 'nebuis'", "did you mean 'nebius'?"),
        (
            "providers[0].id",
            "unknown provider 'azure'",
            "known: aws, nebius. For a provider of your own, add 'hq_country' and 'cloud_act' "
            "(its headquarters' country and whether the US CLOUD Act applies to it)",
        ),
        (
            "contracts[0].provider",
            "unknown provider 'gpc'",
            "use a provider of the catalog, or declare your own under 'providers:'; "
            "known: aws, azure, nebius",
        ),
        ("rules[0].providers[0]", "unknown provider 'awz'", "did you mean 'aws'?"),
    ]


def test_regions_known_written_with_provider_and_of_the_right_provider() -> None:
    issues = check(
        """\
        providers:
          - id: aws
            capacity: [{region: aws:eu-west-2, max_accelerators: 10}]
            prices: [{instance_type: p5.48xlarge, region: nebius:eu-north1, usd_per_node_hour: 1}]
        contracts:
          - id: c
            provider: aws
            start: 2027-01-01
            end: 2028-01-01
            regions: [us-east-1]
        """
    )
    assert [(i.path, i.message, i.hint) for i in issues] == [
        (
            "providers[0].capacity[0].region",
            "unknown region 'aws:eu-west-2'",
            "did you mean 'aws:eu-west-1' or 'aws:us-east-1'?",
        ),
        (
            "providers[0].prices[0].region",
            "region 'nebius:eu-north1' belongs to 'nebius', not 'aws'",
            "use a region of 'aws' here",
        ),
        (
            "contracts[0].regions[0]",
            "region 'us-east-1' is not written as 'provider:code'",
            "write it with its provider, e.g. 'aws:us-east-1'",
        ),
    ]


def test_serving_regions_and_their_geographies() -> None:
    base = BASE + "    serving_regions: {eu: [nebius:eu-north2], asia: [aws:us-east-1]}\n"
    issues = check(base=base)
    assert [(i.path, i.message) for i in issues] == [
        ("services[0].serving_regions.eu[0]", "unknown region 'nebius:eu-north2'"),
        ("services[0].serving_regions.asia", "unknown geography 'asia'"),
    ]


def test_accelerator_names() -> None:
    issues = check(
        """\
        catalog: {accelerators: [H100, H10]}
        training:
          - id: t
            work: {kind: accelerator_hours, reference_accelerator: A100x, accelerator_hours: 10}
            accelerators: [h100-sxm, Gaudi3]
            deadline: 2027-06-01
        """
    )
    assert [(i.path, i.message) for i in issues] == [
        ("catalog.accelerators[1]", "unknown accelerator 'H10'"),
        ("training[0].work.reference_accelerator", "unknown accelerator 'A100x'"),
        ("training[0].accelerators[1]", "unknown accelerator 'Gaudi3'"),
    ]
    assert issues[0].hint.startswith("did you mean 'H100'")
    assert (
        issues[2].hint
        == "use a name such as H100, B200, Trainium2 or TPU-v5e, or declare your own chip"
    )


def test_measured_throughput_and_capacity_accelerators() -> None:
    base = BASE.replace(
        "    parameters_b: 70\n",
        "    parameters_b: 70\n    throughput:\n"
        "      - {accelerator: H10, accelerators_per_replica: 2, requests_per_s_per_replica: 5}\n",
    )
    issues = check(
        "providers: [{id: aws, capacity: [{accelerator: MI300, max_accelerators: 1}]}]\n", base=base
    )
    assert [(i.path, i.message) for i in issues] == [
        ("models[0].throughput[0].accelerator", "unknown accelerator 'H10'"),
        ("providers[0].capacity[0].accelerator", "unknown accelerator 'MI300'"),
    ]


def test_reserved_block_instance_type_must_exist_in_its_region() -> None:
    issues = check(
        """\
        contracts:
          - id: c
            provider: nebius
            start: 2027-01-01
            end: 2028-01-01
            reserved_blocks:
              - {region: nebius:eu-north1, instance_type: gpu-h100-sxm_8gpu, nodes: 2,
                 usd_per_node_hour: 20, start: 2027-01-01, end: 2027-07-01}
              - {region: nebius:eu-north1, instance_type: p5.48xlarge, nodes: 2,
                 usd_per_node_hour: 20, start: 2027-07-01, end: 2027-03-01}
        """
    )
    assert [(i.path, i.message) for i in issues] == [
        (
            "contracts[0].reserved_blocks[1].instance_type",
            "unknown instance type in nebius:eu-north1 'p5.48xlarge'",
        ),
        ("contracts[0].reserved_blocks[1].end", "end 2027-03-01 is not after start 2027-07-01"),
    ]
    assert issues[0].hint == (
        "use an instance type offered in nebius:eu-north1; known: gpu-h100-sxm_8gpu"
    )


def test_price_override_instance_type() -> None:
    issue = one(
        "providers: [{id: aws, prices: [{instance_type: p5.48xl, usd_per_node_hour: 1}]}]\n"
    )
    assert issue.path == "providers[0].prices[0].instance_type"
    assert issue.hint == "did you mean 'p5.48xlarge'?"


def test_demand_table_must_cover_the_horizon() -> None:
    issue = one(base=BASE.replace("eu: [1, 2, 3, 4]", "eu: [1, 2, 3]"))
    assert issue == Issue(
        "f.yaml",
        16,
        13,
        "services[0].demand.by_geography.eu",
        "has 3 values but the horizon has 4 periods",
        "give exactly one value per period of the horizon",
    )


def test_training_window_and_contracts_must_overlap_the_horizon() -> None:
    issues = check(
        """\
        training:
          - id: early
            work: {kind: flops, flops: 1e20}
            accelerators: [H100]
            deadline: 2026-12-01
          - id: inside
            work: {kind: flops, flops: 1e20}
            accelerators: [H100]
            start: 2027-12-31
            deadline: 2029-01-01
        contracts:
          - {id: late, provider: aws, start: 2028-01-01, end: 2029-01-01}
          - {id: ok, provider: aws, start: 2026-01-01, end: 2027-01-02}
        """
    )
    assert [(i.path, i.message) for i in issues] == [
        (
            "training[0].deadline",
            "the window 2027-01-01 to 2026-12-01 lies outside the horizon "
            "(2027-01-01 to 2028-01-01)",
        ),
        (
            "contracts[0].start",
            "the contract (2028-01-01 to 2029-01-01) lies outside the horizon "
            "(2027-01-01 to 2028-01-01)",
        ),
    ]


def test_residency_jurisdictions_and_country_codes() -> None:
    issues = check(
        """\
        rules:
          - kind: residency
            data_class: personal
            jurisdictions: [EU, DE, EEU]
            countries: [FR, de, XX]
        """,
        base=BASE.replace("country: US", "country: ZZ"),
    )
    assert [(i.path, i.message, i.hint) for i in issues] == [
        (
            "geographies[1].country",
            "unknown country code 'ZZ'",
            "use an ISO-3166 alpha-2 code such as DE, FR, US",
        ),
        (
            "rules[0].jurisdictions[1]",
            "unknown jurisdiction 'DE'",
            "'DE' looks like a country: list it under 'countries:'",
        ),
        ("rules[0].jurisdictions[2]", "unknown jurisdiction 'EEU'", "did you mean 'EU'?"),
        ("rules[0].countries[1]", "unknown country code 'de'", "write it in capitals: 'DE'"),
        (
            "rules[0].countries[2]",
            "unknown country code 'XX'",
            "use an ISO-3166 alpha-2 code such as DE, FR, US",
        ),
    ]


def test_validate_reports_both_stages_together_in_file_order(tmp_path: Path) -> None:
    text = BASE.replace("parameters_b: 70", "parameters_b: -1").replace(
        "        us: [1, 2, 3, 4]\n", "        us: [1, 2, 3]\n"
    )
    text += textwrap.dedent(
        """\
          - id: api
            model: m70
            demand: {kind: table, by_geography: {eu: [1, 2, 3, 4, 5]}}
        contracts:
          - {id: c, provider: awz, start: 2027-01-01, end: 2028-01-01}
        """
    )
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        validate_file(path, small_catalog())
    got = [(i.line, i.path, i.message) for i in info.value.issues]
    assert got == [
        (9, "models[0].parameters_b", "must be > 0, got -1"),
        (17, "services[0].demand.by_geography.us", "has 3 values but the horizon has 4 periods"),
        (20, "services[1].demand.by_geography.eu", "has 5 values but the horizon has 4 periods"),
        (22, "contracts[0].provider", "unknown provider 'awz'"),
    ]


def test_items_set_aside_do_not_cause_unknown_reference_noise() -> None:
    text = BASE.replace("parameters_b: 70", "parameters_b: 70\n    colour: red")
    with pytest.raises(SpecError) as info:
        validate_text(text, "f.yaml", small_catalog())
    assert [i.message for i in info.value.issues] == ["unknown field 'colour'"]


def test_validate_returns_the_spec_when_clean() -> None:
    spec = validate_text(BASE, "f.yaml", small_catalog())
    assert spec.services[0].id == "chat"


def test_rule_ids_are_optional_and_unique() -> None:
    rule = "  - {kind: diversification, id: spread, max_share: 0.6}\n"
    assert check(base=BASE + "rules:\n" + rule) == []
    issue = one(base=BASE + "rules:\n" + rule + rule)
    assert issue.path == "rules[1].id" and issue.message.startswith("duplicate id 'spread'")
