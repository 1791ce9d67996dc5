"""Cross-references: every name a spec uses is known or declared, and no typo lifts a rule.

The catalog is the small one of test_spec_check (aws us-east-1/eu-west-1, nebius eu-north1).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_spec_check import BASE, small_catalog

from archipel.catalog.model import Catalog
from archipel.catalog.snapshot import save_snapshot
from archipel.errors import CatalogError, Issue, SpecError
from archipel.spec.check import check_spec, validate_file, validate_file_with_catalog
from archipel.spec.load import parse_spec_with_positions


def check(extra: str = "", base: str = BASE) -> list[Issue]:
    spec, src = parse_spec_with_positions(base + textwrap.dedent(extra), "f.yaml")
    return check_spec(spec, small_catalog(), src)


def found(extra: str, base: str = BASE) -> list[tuple[str, str]]:
    return [(i.path, i.message) for i in check(extra, base)]


EU_RULES = """\
rules:
  - {kind: residency, data_class: eu-personal, jurisdictions: [EU]}
  - {kind: cloud_act_exclusion, data_classes: [eu-personal]}
"""


def with_class(data_class: str) -> str:
    return BASE.replace("    model: m70\n", f"    model: m70\n    data_class: {data_class}\n")


# --------------------------------------------------------------------------- data classes


def test_a_data_class_typo_is_an_error_not_unrestricted_data() -> None:
    issues = check(EU_RULES, with_class("eu-persona"))
    assert [(i.line, i.column, i.path) for i in issues] == [(13, 17, "services[0].data_class")]
    assert issues[0].message == (
        "no residency or cloud_act_exclusion rule names data class 'eu-persona', "
        "so it would restrict nothing"
    )
    assert issues[0].hint.startswith("did you mean 'eu-personal'?")


def test_a_data_class_named_by_a_rule_and_no_data_class_are_fine() -> None:
    assert check(EU_RULES, with_class("eu-personal")) == []
    assert check(EU_RULES) == []


def test_a_training_job_data_class_is_checked_too() -> None:
    job = """\
    training:
      - id: t
        work: {kind: accelerator_hours, reference_accelerator: H100, accelerator_hours: 10}
        accelerators: [H100]
        deadline: 2027-06-01
        data_class: secret
    """
    assert found(job) == [
        (
            "training[0].data_class",
            "no residency or cloud_act_exclusion rule names data class 'secret', "
            "so it would restrict nothing",
        )
    ]


def test_a_typo_in_a_rule_that_leaves_it_applying_to_nothing_is_an_error() -> None:
    rules = EU_RULES.replace("data_classes: [eu-personal]", "data_classes: [eu-persnal]")
    issues = check(rules, with_class("eu-personal"))
    assert [(i.path, i.message) for i in issues] == [
        ("rules[1].data_classes[0]", "no service or training job has data class 'eu-persnal'")
    ]
    assert issues[0].hint.startswith("did you mean 'eu-personal'?")


# --------------------------------------------------------------------------- requests


def test_request_classes_longer_than_the_context_window() -> None:
    base = BASE.replace("parameters_b: 70\n", "parameters_b: 70\n    context_length_tokens: 4096\n")
    base += "    request_classes:\n"
    base += "      - {name: chat, share: 0.5, input_tokens: 1000, output_tokens: 200}\n"
    base += "      - {name: agent, share: 0.5, input_tokens: 4000, output_tokens: 800}\n"
    issues = check("", base)
    assert [(i.line, i.path) for i in issues] == [(21, "services[0].request_classes[1]")]
    assert issues[0].message == (
        "4,000 input + 800 output tokens = 4,800, more than model 'm70' holds "
        "(4,096 tokens of context)"
    )


def test_measured_throughput_names_a_request_class_of_the_model() -> None:
    base = BASE.replace(
        "parameters_b: 70\n",
        "parameters_b: 70\n    throughput:\n"
        "      - {accelerator: h100-sxm, accelerators_per_replica: 2, request_class: defualt,"
        " requests_per_s_per_replica: 5}\n",
    )
    issues = check("", base)
    assert [(i.path, i.message, i.hint) for i in issues] == [
        (
            "models[0].throughput[0].request_class",
            "unknown request class of the services of 'm70' 'defualt'",
            "did you mean 'default'?",
        )
    ]


# --------------------------------------------------------------------------- own providers etc.

OWN = """\
providers:
  - {id: labco, hq_country: FR, cloud_act: false}
regions:
  - {id: "labco:paris-1", city: Paris, country: FR, lat: 48.9, lon: 2.3}
accelerators:
  - {name: LabChip, memory_gib: 96, bf16_tflops: 800, memory_bandwidth_tb_per_s: 3}
offerings:
  - provider: labco
    region: "labco:paris-1"
    instance_type: lab-8
    accelerator: LabChip
    accelerators_per_node: 8
    cost: {kind: per_node_hour, usd_per_node_hour: 20}
    max_nodes_by_period: [1, 2, 3, 4]
spot:
  - {provider: labco, region: "labco:paris-1", instance_type: lab-8, availability: 0.9}
  - {provider: aws, instance_type: p5.48xlarge, interruptions_per_hour: 0.1}
"""


def test_own_provider_region_chip_and_offering_are_known_everywhere() -> None:
    extra = OWN + textwrap.dedent(
        """\
        training:
          - id: t
            work: {kind: accelerator_hours, reference_accelerator: H100, accelerator_hours: 10}
            accelerators: [LabChip, h100-sxm]
            deadline: 2027-06-01
        contracts:
          - id: c
            provider: labco
            start: 2027-01-01
            end: 2028-01-01
            regions: ["labco:paris-1"]
            reserved_blocks:
              - {region: "labco:paris-1", instance_type: lab-8, nodes: 2,
                 usd_per_node_hour: 10, start: 2027-01-01, end: 2027-07-01}
        rules:
          - {kind: exclusivity, model: m70, providers: [labco, aws], until: 2028-01-01}
        """
    )
    assert check(extra) == []


def test_an_unknown_provider_must_say_where_it_is_based() -> None:
    issues = check("providers:\n  - {id: nebuis}\n  - {id: labco, hq_country: fr}\n")
    assert [(i.path, i.message) for i in issues] == [
        ("providers[0].id", "unknown provider 'nebuis'"),
        ("providers[1].id", "unknown provider 'labco'"),
        ("providers[1].hq_country", "unknown country code 'fr'"),
    ]
    assert issues[0].hint.startswith("did you mean 'nebius'? Or, for a provider of your own, ")
    assert "add 'cloud_act'" in issues[1].hint


def test_declared_regions_need_a_known_provider_and_a_new_id() -> None:
    extra = """\
    regions:
      - {id: "aws:eu-west-1", city: Dublin, country: IE, lat: 53, lon: -6}
      - {id: "labx:one", city: Paris, country: FR, lat: 48.9, lon: 2.3}
      - {id: "aws:outpost-1", city: Lyon, country: FX, lat: 45.8, lon: 4.8}
    """
    assert found(extra) == [
        ("regions[0].id", "region 'aws:eu-west-1' is already in the catalog"),
        ("regions[1].id", "unknown provider 'labx'"),
        ("regions[2].country", "unknown country code 'FX'"),
    ]


def test_declared_accelerators_do_not_shadow_built_in_chips() -> None:
    extra = """\
    accelerators:
      - {name: h100-sxm, memory_gib: 80, bf16_tflops: 989, memory_bandwidth_tb_per_s: 3.35}
      - {name: Lab1, memory_gib: 80, bf16_tflops: 900, memory_bandwidth_tb_per_s: 3}
      - {name: lab1, memory_gib: 80, bf16_tflops: 900, memory_bandwidth_tb_per_s: 3}
    """
    assert found(extra) == [
        ("accelerators[0].name", "accelerator 'h100-sxm' is built in (as 'H100')"),
        ("accelerators[2].name", "accelerator 'lab1' is declared twice (also accelerators[1])"),
    ]


def test_offerings_name_known_providers_regions_and_chips_of_one_period_each() -> None:
    extra = (
        OWN.replace("provider: labco\n    region", "provider: labko\n    region")
        .replace("accelerator: LabChip", "accelerator: LabChp")
        .replace("[1, 2, 3, 4]", "[1, 2, 3]")
    )
    assert found(extra) == [
        ("offerings[0].provider", "unknown provider 'labko'"),
        ("offerings[0].region", "region 'labco:paris-1' belongs to 'labco', not 'labko'"),
        ("offerings[0].accelerator", "unknown accelerator 'LabChp'"),
        ("offerings[0].max_nodes_by_period", "has 3 values but the horizon has 4 periods"),
    ]


def test_spot_terms_name_an_existing_provider_region_and_instance_type() -> None:
    extra = """\
    spot:
      - {provider: aws, region: "aws:eu-west-3", availability: 0.9}
      - {provider: aws, instance_type: p5.48xlarg, availability: 0.9}
      - {provider: nebius, region: "aws:us-east-1", availability: 0.9}
      - {provider: nope, availability: 0.9}
    """
    issues = check(extra)
    assert [(i.path, i.message) for i in issues] == [
        ("spot[0].region", "unknown region 'aws:eu-west-3'"),
        ("spot[1].instance_type", "unknown instance type of aws 'p5.48xlarg'"),
        ("spot[2].region", "region 'aws:us-east-1' belongs to 'aws', not 'nebius'"),
        ("spot[3].provider", "unknown provider 'nope'"),
    ]
    assert issues[1].hint == "did you mean 'p5.48xlarge'?"


def test_capacity_accelerators_may_be_aliases_but_must_be_known() -> None:
    extra = """\
    catalog: {accelerators: [H100, B20]}
    providers:
      - id: aws
        capacity:
          - {accelerator: h100-sxm, max_accelerators: 10}
          - {accelerator: h100-sxn, max_accelerators: 10}
    """
    issues = check(extra)
    assert [(i.path, i.message) for i in issues] == [
        ("catalog.accelerators[1]", "unknown accelerator 'B20'"),
        ("providers[0].capacity[1].accelerator", "unknown accelerator 'h100-sxn'"),
    ]


# --------------------------------------------------------------------------- catalog.source


def test_validate_reads_the_catalog_the_spec_names_relative_to_its_file(tmp_path: Path) -> None:
    save_snapshot(small_catalog(), tmp_path / "snap")
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / "fleet.yaml"
    spec.write_text(BASE + "catalog: {source: ../snap}\n", encoding="utf-8")
    seen: list[str] = []

    def load(source: str) -> Catalog:
        from archipel.catalog.snapshot import load_snapshot

        seen.append(source)
        return load_snapshot(Path(source))

    assert validate_file(spec, load).name == "fleet"
    assert Path(seen[0]).resolve() == (tmp_path / "snap").resolve()


def test_a_catalog_source_that_cannot_be_read_is_placed_at_its_line(tmp_path: Path) -> None:
    spec = tmp_path / "fleet.yaml"
    spec.write_text(BASE + "catalog:\n  source: ./nope\n", encoding="utf-8")

    def load(source: str) -> Catalog:
        raise CatalogError(f"{source}: not a snapshot directory")

    with pytest.raises(SpecError) as info:
        validate_file(spec, load)
    (issue,) = info.value.issues
    assert (issue.line, issue.column, issue.path) == (19, 11, "catalog.source")
    assert issue.message.startswith("cannot use the catalog snapshot './nope': ")


# --------------------------------------------------------------------------- slips


def test_a_boolean_where_a_number_belongs_is_not_read_as_one() -> None:
    text = BASE.replace("lat: 48.9", "lat: yes").replace(
        "[1, 2, 3, 4]\n        us", "[1, true, 3, 4]\n        us"
    )
    with pytest.raises(SpecError) as info:
        parse_spec_with_positions(text, "f.yaml")
    assert [(i.line, i.column, i.path, i.message) for i in info.value.issues] == [
        (5, 19, "geographies[0].lat", "expected a number, got true"),
        (16, 17, "services[0].demand.by_geography.eu[1]", "expected a number, got true"),
    ]


def test_a_name_listed_twice_is_a_slip() -> None:
    extra = """\
    catalog: {providers: [aws, nebius, aws], purchase_options: [on_demand, on_demand]}
    rules:
      - {kind: residency, data_class: eu-personal, jurisdictions: [EU], countries: [FR, FR]}
    """
    issues = check(extra, with_class("eu-personal"))
    assert [(i.path, i.message) for i in issues] == [
        ("catalog.providers[2]", "'aws' is listed twice (also catalog.providers[0])"),
        (
            "catalog.purchase_options[1]",
            "'on_demand' is listed twice (also catalog.purchase_options[0])",
        ),
        ("rules[0].countries[1]", "'FR' is listed twice (also rules[0].countries[0])"),
    ]


def test_two_terms_for_one_scope_are_ambiguous() -> None:
    extra = """\
    providers:
      - id: aws
        prices:
          - {instance_type: p5.48xlarge, usd_per_node_hour: 40}
          - {instance_type: p5.48xlarge, usd_per_node_hour: 30}
          - {instance_type: p5.48xlarge, region: "aws:us-east-1", usd_per_node_hour: 30}
    spot:
      - {provider: aws, availability: 0.9}
      - {provider: aws, availability: 0.8}
    """
    assert [p for p, _ in found(extra)] == ["providers[0].prices[1]", "spot[1]"]
    base = BASE.replace(
        "parameters_b: 70\n",
        "parameters_b: 70\n    throughput:\n"
        "      - {accelerator: H100, accelerators_per_replica: 2, requests_per_s_per_replica: 5}\n"
        "      - {accelerator: h100-sxm, accelerators_per_replica: 4, requests_per_s_per_replica: 9}\n",
    )
    assert found("", base) == [
        ("models[0].throughput[1]", "a second measurement for h100-sxm (also throughput[0])")
    ]


def test_an_empty_list_that_selects_nothing_is_a_trap() -> None:
    extra = """\
    catalog: {providers: [], purchase_options: []}
    contracts:
      - {id: c, provider: aws, start: 2027-01-01, end: 2028-01-01, regions: []}
    rules:
      - {kind: survivability, services: []}
    """
    issues = check(extra)
    assert [(i.path, i.hint) for i in issues] == [
        ("catalog.providers", "leave the field out for every provider"),
        ("catalog.purchase_options", "list at least one"),
        ("contracts[0].regions", "leave the field out for every region of the provider"),
        ("rules[0].services", "leave the field out for every service"),
    ]
    assert {i.message for i in issues} == {"an empty list selects nothing here"}


def test_validate_file_with_catalog_returns_the_catalog_the_spec_names(tmp_path: Path) -> None:
    save_snapshot(small_catalog(), tmp_path / "snap")
    spec = tmp_path / "fleet.yaml"
    spec.write_text(BASE + "catalog: {source: snap}\n", encoding="utf-8")
    from archipel.catalog.snapshot import load_snapshot

    got, catalog = validate_file_with_catalog(spec, lambda source: load_snapshot(Path(source)))
    assert got.catalog.source == "snap"
    assert {p.id for p in catalog.providers} == {"aws", "nebius"}
    same = small_catalog()
    assert validate_file_with_catalog(spec, same)[1] is same


# --------------------------------------------------------------------------- contracts


def test_a_contract_scope_names_known_workloads_chips_and_regions() -> None:
    contract = """\
    contracts:
      - id: deal
        provider: aws
        start: 2027-02-01
        end: 2029-02-01
        spent_to_date_usd: 5
        scope: {workloads: [chta], accelerators: [H1000], regions: [aws:us-east-9]}
    """
    got = found(contract)
    assert [p for p, _ in got] == [
        "contracts[0].spent_to_date_usd",
        "contracts[0].scope.workloads[0]",
        "contracts[0].scope.accelerators[0]",
        "contracts[0].scope.regions[0]",
    ]
    assert got[0][1].startswith("the contract starts on 2027-02-01, not before the horizon")
    assert got[1][1] == "unknown workload 'chta'"
