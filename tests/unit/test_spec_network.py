"""What a spec says about the network: bytes per request class, gateways, negotiated rates."""

from __future__ import annotations

import textwrap

import pytest
from test_spec_check import BASE, small_catalog

from archipel.errors import Issue, SpecError
from archipel.spec.check import check_spec
from archipel.spec.load import parse_spec, parse_spec_with_positions
from archipel.spec.models import RequestClass
from archipel.spec.network import (
    REQUEST_OVERHEAD_BYTES,
    RESPONSE_OVERHEAD_BYTES,
    SSE_BYTES_PER_OUTPUT_TOKEN,
    TEXT_BYTES_PER_TOKEN,
)


def check(text: str) -> list[Issue]:
    spec, src = parse_spec_with_positions(text, "f.yaml")
    return check_spec(spec, small_catalog(), src)


def load_errors(text: str) -> list[Issue]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "f.yaml")
    return list(info.value.issues)


def test_default_sizes_are_prompt_text_in_and_one_sse_chunk_per_token_out() -> None:
    """1,500 input tokens: 1,000 + 4 × 1,500 = 7,000 bytes in; 300 output tokens streamed:
    1,000 + 250 × 300 = 76,000 bytes out."""
    c = RequestClass(name="chat", share=1.0, input_tokens=1500, output_tokens=300)
    assert (c.request_size_bytes, c.response_size_bytes) == (7_000, 76_000)
    assert (REQUEST_OVERHEAD_BYTES, TEXT_BYTES_PER_TOKEN) == (1_000, 4)
    assert (RESPONSE_OVERHEAD_BYTES, SSE_BYTES_PER_OUTPUT_TOKEN) == (1_000, 250)


def test_given_sizes_replace_the_defaults_each_on_its_own() -> None:
    c = RequestClass(name="batch", share=1.0, input_tokens=1500, output_tokens=300)
    fixed = c.model_copy(update={"response_bytes": 2_200})  # a non-streamed JSON answer
    assert (fixed.request_size_bytes, fixed.response_size_bytes) == (7_000, 2_200)
    zero = c.model_copy(update={"request_bytes": 0})
    assert (zero.request_size_bytes, zero.response_size_bytes) == (0, 76_000)


def test_sizes_out_of_range_are_errors_at_their_place() -> None:
    text = BASE + textwrap.dedent("""\
        request_classes:
          - {name: a, share: 1, input_tokens: 10, output_tokens: 10, response_bytes: -5}
    """).replace("request_classes", "    request_classes").replace("\n  - ", "\n      - ")
    issues = load_errors(text)
    assert [i.path for i in issues] == ["services[0].request_classes[0].response_bytes"]
    assert issues[0].message == "must be ≥ 0, got -5"


def test_a_gateway_region_must_be_a_known_region() -> None:
    good = BASE.replace("country: FR}", "country: FR, gateway_region: aws:eu-west-1}")
    assert check(good) == []
    typo = BASE.replace("country: FR}", "country: FR, gateway_region: aws:eu-west-2}")
    issues = check(typo)
    assert [(i.path, i.message) for i in issues] == [
        ("geographies[0].gateway_region", "unknown region 'aws:eu-west-2'")
    ]
    assert "aws:eu-west-1" in issues[0].hint
    bare = BASE.replace("country: FR}", "country: FR, gateway_region: eu-west-1}")
    assert [i.message for i in check(bare)] == [
        "region 'eu-west-1' is not written as 'provider:code'"
    ]


def test_negotiated_rates_are_bounded_and_named() -> None:
    rates = BASE + textwrap.dedent("""\
        providers:
          - id: aws
            egress: {internet_usd_per_gb: 0.03, inter_region_usd_per_gb: 0.01}
    """)
    spec = parse_spec(rates, "f.yaml")
    egress = spec.providers[0].egress
    assert egress is not None
    assert (egress.internet_usd_per_gb, egress.inter_region_usd_per_gb) == (0.03, 0.01)
    assert egress.inter_continent_usd_per_gb is None  # keeps the list rate
    assert check(rates) == []
    negative = rates.replace("0.03", "-0.03")
    assert [i.path for i in load_errors(negative)] == ["providers[0].egress.internet_usd_per_gb"]
    typo = rates.replace("inter_region_usd_per_gb", "interregion_usd_per_gb")
    [issue] = load_errors(typo)
    assert (issue.path, issue.message) == (
        "providers[0].egress",
        "unknown field 'interregion_usd_per_gb'",
    )
    assert issue.hint == "did you mean 'inter_region_usd_per_gb'?"


EU_ONLY = """\
rules:
  - {kind: residency, data_class: eu-personal, jurisdictions: [EU]}
  - {kind: cloud_act_exclusion, data_classes: [eu-personal]}
"""


def test_a_gateway_obeys_the_data_rules_of_the_services_it_carries() -> None:
    """eu's requests of an EU-personal service enter at the gateway: it must be in the EU and
    off providers the CLOUD Act reaches, like the regions that serve them."""
    personal = BASE.replace("    model: m70\n", "    model: m70\n    data_class: eu-personal\n")
    ok = personal.replace("country: FR}", "country: FR, gateway_region: nebius:eu-north1}")
    assert check(ok + EU_ONLY) == []
    us = personal.replace("country: FR}", "country: FR, gateway_region: aws:us-east-1}")
    issues = check(us + EU_ONLY)
    assert [i.path for i in issues] == ["geographies[0].gateway_region"] * 2
    assert sorted(i.message for i in issues) == [
        "gateway region 'aws:us-east-1' of geography 'eu' belongs to 'aws', subject to the US "
        "CLOUD Act, which data class 'eu-personal' (service 'chat') excludes",
        "gateway region 'aws:us-east-1' of geography 'eu' is in US, outside the residency rule "
        "of data class 'eu-personal' (service 'chat'): ['EU']",
    ]
    dublin = personal.replace("country: FR}", "country: FR, gateway_region: aws:eu-west-1}")
    [act] = check(dublin + EU_ONLY)  # in the EU, but aws is US-headquartered
    assert act.message.startswith("gateway region 'aws:eu-west-1' of geography 'eu' belongs")
    plain = BASE.replace("country: FR}", "country: FR, gateway_region: aws:us-east-1}")
    assert check(plain) == []  # no data class: any gateway
