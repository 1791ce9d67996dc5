"""``archipel.spec.overrides`` and ``override_paths``: PATH=VALUE parsing, changes to a spec's YAML document, and the
problems of a changed spec headed by the option that caused them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from archipel.catalog.model import Catalog
from archipel.catalog.snapshot import load_builtin
from archipel.errors import SpecError, UserError
from archipel.spec.override_paths import Key, Select, parse_path, read_path
from archipel.spec.overrides import (
    OverrideIssue,
    apply_changes,
    lose_provider,
    parse_drop,
    parse_set,
    validate_changed,
)
from archipel.spec.yaml_reader import format_path, read_document

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SMALL = (EXAMPLES / "small.yaml").read_text()
FRONTIER = (EXAMPLES / "frontier-lab.yaml").read_text()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_builtin()


def small_doc() -> Any:
    return read_document(SMALL, "small.yaml")


# --------------------------------------------------------------------------- parsing


def test_a_path_is_dotted_keys_with_selectors_in_brackets() -> None:
    assert parse_path("contracts[aws-2025].discount_pct", "o") == (
        Key("contracts"),
        Select("aws-2025"),
        Key("discount_pct"),
    )
    assert parse_path('demand.by_geography["eu.west"][0]', "o") == (
        Key("demand"),
        Key("by_geography"),
        Select("eu.west", quoted=True),
        Select("0"),
    )


def test_set_splits_at_the_first_equals_sign_outside_brackets() -> None:
    change = parse_set("rules[kind=residency].jurisdictions=[EU, 'a=b']")
    assert change.steps == (Key("rules"), Select("kind=residency"), Key("jurisdictions"))
    assert change.value == ["EU", "a=b"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("x=20", 20),
        ("x=0.5", 0.5),
        ("x=null", None),
        ("x=", None),
        ("x=[a, b]", ["a", "b"]),
        ("x={x: 1}", {"x": 1}),
        ("x=2027-01-01", dt.date(2027, 1, 1)),
        ("x=no", False),
        ("x='12'", "12"),
    ],
)
def test_a_value_is_yaml(text: str, value: object) -> None:
    assert parse_set(text).value == value


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("services[0", "no '='"),
        ("services[0]]=1", "character 12"),
        ("=1", "the path is empty"),
        ("a..b=1", "expected a key"),
        ("a[]=1", "empty brackets"),
        ("a={b: [1", "not valid YAML"),
        ("a=2027-02-30", "not a real date"),
        ("a=.nan", "not valid YAML"),
        ("a=!!binary abc", "not valid YAML"),
    ],
)
def test_a_malformed_set_is_a_user_error_naming_the_option(text: str, says: str) -> None:
    with pytest.raises(UserError) as err:
        parse_set(text)
    assert str(err.value).startswith(f"--set {text}: ")
    assert says in str(err.value)


# --------------------------------------------------------------------------- applying


def test_set_replaces_a_value_and_leaves_the_document_it_was_given_alone() -> None:
    doc = small_doc()
    changed = apply_changes(doc, [parse_set("services[chat].latency_slo_rtt_ms=25")])
    assert read_path(changed.document.data, "services[chat].latency_slo_rtt_ms") == 25
    assert read_path(doc.data, "services[chat].latency_slo_rtt_ms") == 40
    (landed,) = changed.landed
    assert landed.path == ("services", 0, "latency_slo_rtt_ms")
    assert (landed.had_value, landed.old_value) == (True, 40)


def test_set_may_write_a_field_the_file_leaves_to_its_default() -> None:
    changed = apply_changes(small_doc(), [parse_set("services[chat].spot_max_share=0.2")])
    assert read_path(changed.document.data, "services[0].spot_max_share") == 0.2
    assert not changed.landed[0].had_value


def test_set_adds_a_key_to_a_mapping_keyed_by_names_and_the_checks_judge_it(
    catalog: Catalog,
) -> None:
    change = parse_set("services[chat].demand.by_geography.lyon=[1, 2, 3, 4]")
    changed = apply_changes(small_doc(), [change])
    assert read_path(changed.document.data, "services[0].demand.by_geography.lyon") == [1, 2, 3, 4]
    with pytest.raises(SpecError) as err:
        validate_changed(SMALL, "small.yaml", [change], catalog)
    (issue,) = err.value.issues
    assert str(issue).startswith(
        f"{change.origin}: services[chat].demand.by_geography.lyon: unknown geography 'lyon'"
    )


def test_items_are_selected_by_index_id_name_kind_or_field() -> None:
    data = small_doc().data
    assert read_path(data, "geographies[1].id") == "frankfurt"
    assert read_path(data, "geographies[frankfurt].country") == "DE"
    assert read_path(data, "geographies[country=FR].id") == "paris"
    assert read_path(data, "rules[residency].jurisdictions") == ["EU"]
    assert read_path(data, "services[chat].demand.by_geography[paris]") == [40, 50, 60, 75]


def test_an_unknown_field_lists_what_exists_there_with_the_nearest_name() -> None:
    with pytest.raises(UserError) as err:
        apply_changes(small_doc(), [parse_set("services[chat].demnd.kind=growth")])
    message = str(err.value)
    assert message.startswith("--set services[chat].demnd.kind=growth: services[chat] has no")
    assert "did you mean 'demand'?" in message
    assert "written here: id, model, demand" in message
    assert "also allowed: serving_regions" in message


def test_an_unknown_item_lists_the_items_with_the_nearest_name() -> None:
    with pytest.raises(UserError) as err:
        apply_changes(small_doc(), [parse_drop("rules[eu-residency]")])
    assert "did you mean 'residency'?" in str(err.value)
    assert "items: [0] residency" in str(err.value)
    with pytest.raises(UserError, match=r"geographies has 2 item\(s\), no \[5\]"):
        apply_changes(small_doc(), [parse_drop("geographies[5]")])


def test_an_ambiguous_selector_asks_which_item() -> None:
    doc = read_document(
        SMALL + "  - kind: residency\n    data_class: x\n    countries: [FR]\n", "s"
    )
    with pytest.raises(UserError, match=r"say which, rules\[0\] or rules\[1\]"):
        apply_changes(doc, [parse_drop("rules[residency]")])


def test_a_key_on_a_list_or_under_a_single_value_says_what_is_there() -> None:
    with pytest.raises(UserError, match="services is a list — select an item"):
        apply_changes(small_doc(), [parse_set("services.model=x")])
    with pytest.raises(UserError, match=r"is a single value \('chat-70b'\)"):
        apply_changes(small_doc(), [parse_set("services[chat].model.size=1")])


def test_drops_refer_to_the_spec_as_written_and_may_not_undo_a_set() -> None:
    changed = apply_changes(
        small_doc(), [parse_drop("geographies[0]"), parse_drop("geographies[1]")]
    )
    assert changed.document.data["geographies"] == []
    assert [x.file_path for x in changed.landed] == [("geographies", 0), ("geographies", 1)]
    with pytest.raises(UserError, match="it drops what --set rules"):
        apply_changes(
            small_doc(), [parse_set("rules[0].countries=[FR]"), parse_drop("rules[residency]")]
        )


def test_losing_a_provider_adds_a_zero_capacity_limit() -> None:
    changed = apply_changes(small_doc(), [lose_provider("nebius")])
    assert changed.document.data["providers"] == [
        {"id": "nebius", "capacity": [{"max_accelerators": 0}]}
    ]
    doc = read_document(FRONTIER, "f.yaml")
    changed = apply_changes(doc, [lose_provider("nebius")])
    (nebius,) = [p for p in changed.document.data["providers"] if p["id"] == "nebius"]
    assert nebius["capacity"][-1] == {"max_accelerators": 0}
    assert (
        len(nebius["capacity"])
        == len(next(p for p in doc.data["providers"] if p["id"] == "nebius").get("capacity", []))
        + 1
    )


# --------------------------------------------------------------------------- validating


def test_a_problem_inside_a_set_value_names_the_option_and_its_path(catalog: Catalog) -> None:
    changes = [parse_set("contracts[aws-2025].discount_pct=150")]
    with pytest.raises(SpecError) as err:
        validate_changed(FRONTIER, "frontier-lab.yaml", changes, catalog)
    (issue,) = err.value.issues
    assert isinstance(issue, OverrideIssue)
    assert str(issue).startswith(
        "--set contracts[aws-2025].discount_pct=150: contracts[aws-2025].discount_pct: must be"
    )
    assert "frontier-lab.yaml:" not in str(issue)  # the file has no line for the new value


def test_a_problem_a_drop_causes_elsewhere_is_at_its_line_in_the_file(catalog: Catalog) -> None:
    changes = [parse_drop("rules[residency]")]
    with pytest.raises(SpecError) as err:
        validate_changed(SMALL, "small.yaml", changes, catalog)
    (issue,) = err.value.issues
    line = (
        SMALL.splitlines().index(
            "    data_class: eu-personal     # the data these requests carry (used by the rule below)"
        )
        + 1
    )
    assert str(issue).startswith(f"--drop rules[residency]: small.yaml:{line}:")
    assert "services[0].data_class" in str(issue)


def test_positions_follow_the_items_a_drop_moved_up(catalog: Catalog) -> None:
    text = SMALL.replace(
        "  - id: chat-70b\n",
        "  - id: other\n    parameters_b: 8\n  - id: chat-70b\n",
    ).replace(
        "services:                       # an inference service: a model, demand, a latency target\n",
        "services:\n  - id: side\n    model: other\n    demand: {kind: table, by_geography: {paris: [1, 1, 1, 1]}}\n",
    )
    validate_changed(text, "s.yaml", [], catalog)  # the spec as written holds
    with pytest.raises(SpecError) as err:
        validate_changed(
            text, "s.yaml", [parse_drop("services[side]"), parse_drop("models[chat-70b]")], catalog
        )
    (issue,) = err.value.issues
    line = 1 + text.splitlines().index(
        "    model: chat-70b             # refers to models[].id above"
    )
    assert issue.path == "services[1].model"  # as written, not services[0] of the changed spec
    assert (issue.file, issue.line) == ("s.yaml", line)


def test_the_spec_as_written_is_checked_first(catalog: Catalog) -> None:
    broken = SMALL.replace("periods: 4 ", "periods: 0 ")
    with pytest.raises(SpecError) as err:
        validate_changed(broken, "s.yaml", [parse_set("name=x")], catalog)
    assert not any(isinstance(i, OverrideIssue) for i in err.value.issues)


def test_a_lost_provider_must_be_one_the_spec_can_use(catalog: Catalog) -> None:
    with pytest.raises(UserError, match="did you mean 'nebius'"):
        validate_changed(SMALL, "s.yaml", [lose_provider("nebiuss")], catalog)
    with pytest.raises(UserError, match="already leaves azure out"):
        validate_changed(SMALL, "s.yaml", [lose_provider("azure")], catalog)
    _, spec, _, _ = validate_changed(SMALL, "s.yaml", [lose_provider("nebius")], catalog)
    assert spec.providers[0].capacity[0].max_accelerators == 0


# --------------------------------------------------------------------------- properties


def _paths(value: Any, path: str, out: list[str]) -> list[str]:
    """Every path inside ``value``, written with items by id where they have one."""
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{k}" if path else k
            if k not in ("id", "name", "kind"):
                out.append(here)
            _paths(v, here, out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            sel = item.get("id") if isinstance(item, dict) and "id" in item else i
            _paths(item, f"{path}[{sel}]", out)
            out.append(f"{path}[{i}]")
    return out


SMALL_DOC = small_doc()  # apply_changes leaves the document it is given alone
FRONTIER_DOC = read_document(FRONTIER, "f")
SMALL_PATHS = _paths(SMALL_DOC.data, "", [])
FRONTIER_PATHS = _paths(FRONTIER_DOC.data, "", [])
TEXT = st.text(st.sampled_from("abcXYZ019 -_.:/"), max_size=12)
SCALARS = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | TEXT
SCALARS |= st.floats(allow_nan=False, allow_infinity=False, width=32)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text("abcxyz_", min_size=1, max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=100, deadline=None)
@given(path=st.sampled_from(SMALL_PATHS + FRONTIER_PATHS), value=VALUES)
def test_a_set_value_reads_back(path: str, value: Any) -> None:
    """``--set PATH=VALUE`` (VALUE written as YAML) then reading PATH gives VALUE."""
    doc = FRONTIER_DOC if path in FRONTIER_PATHS and path not in SMALL_PATHS else SMALL_DOC
    written = yaml.safe_dump(value, default_flow_style=True, width=10_000)
    written = written.removesuffix("\n").removesuffix("\n...")  # a scalar ends its document
    changed = apply_changes(doc, [parse_set(f"{path}={written}")])
    assert read_path(changed.document.data, path) == value
    assert read_path(changed.document.data, format_path(changed.landed[0].path)) == value


NAMES = st.text(st.sampled_from("abcdefxyz_-0123"), min_size=1, max_size=10)


@settings(max_examples=100, deadline=None)
@given(path=st.sampled_from(SMALL_PATHS + FRONTIER_PATHS), name=NAMES, drop=st.booleans())
def test_an_unknown_path_is_always_a_user_error(path: str, name: str, drop: bool) -> None:
    """A key or item that is not there (and not a field to add) is refused with a UserError
    (a mapping keyed by names, such as by_geography, takes new keys with --set)."""
    doc = SMALL_DOC if path in SMALL_PATHS else FRONTIER_DOC
    target = read_path(doc.data, path)
    free = path.endswith(("by_geography", "serving_regions"))  # keys are names: --set adds
    drop = drop or free
    unknown = f"{path}[zz{name}]" if isinstance(target, list) else f"{path}.zz{name}"
    change = parse_drop(unknown) if drop else parse_set(f"{unknown}=1")
    with pytest.raises(UserError) as err:
        apply_changes(doc, [change])
    assert str(err.value).startswith(change.origin)


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.sampled_from("ab01.[]\"'=:{} -"), max_size=20), drop=st.booleans())
def test_any_path_text_is_applied_or_refused_with_a_user_error(text: str, drop: bool) -> None:
    try:
        change = parse_drop(text) if drop else parse_set(text)
        apply_changes(SMALL_DOC, [change])
    except UserError:
        pass


def test_a_rule_with_an_id_is_selected_by_it() -> None:
    doc = read_document(
        SMALL + "  - {kind: residency, id: fr-only, data_class: x, countries: [FR]}\n", "s"
    )
    assert read_path(doc.data, "rules[fr-only].countries") == ["FR"]
    changed = apply_changes(doc, [parse_set("rules[fr-only].countries=[DE]")])
    assert read_path(changed.document.data, "rules[1].countries") == ["DE"]
