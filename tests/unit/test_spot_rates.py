"""Spot figures from traces (synthetic here) and how they are applied to offerings."""

from __future__ import annotations

import pytest

from archipel.catalog.spot import (
    DEFAULT_SPOT_AVAILABILITY,
    DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR,
    SPOT_FACTS,
    derive_defaults,
    derive_spot_facts,
    spot_terms,
    trace_from,
)


def test_trace_names_give_zone_region_instance_type_and_node_count() -> None:
    t = trace_from("preemption/4-node/aws-08-03-2023/us-east-1f_v100_1.json", 300, [0, 4, 3])
    assert (t.kind, t.provider, t.zone, t.region, t.instance_type, t.accelerator, t.nodes) == (
        "preemption",
        "aws",
        "us-east-1f",
        "us-east-1",
        "p3.2xlarge",
        "V100",
        4,
    )
    g = trace_from("preemption/1-node/gcp-04-30-2023/us-central1-a_c3-88.json", 30, [1])
    assert (g.region, g.instance_type, g.accelerator) == ("us-central1", "c3-highcpu-88", "")
    with pytest.raises(ValueError, match="not a <kind>"):
        trace_from("elsewhere/us-east-1a_v100_1.json", 30, [1])
    with pytest.raises(ValueError, match="no instance type known"):
        trace_from("availability/1-node/aws-1-1-2023/us-east-1a_h100_8.json", 30, [1])
    with pytest.raises(ValueError, match=r"counts within 0\.\.1"):
        trace_from("availability/1-node/aws-1-1-2023/us-east-1a_v100_1.json", 30, [2])


def test_availability_pools_node_time_and_interruptions_count_losses_per_hour_up() -> None:
    """Zone a, 1 node, ticks of 1800 s: up, up, lost, up → 3 of 4 ticks up (1.5 h), one loss.
    Zone b, 4 nodes: 4, 2, 2, 4 → 12 of 16 node-ticks up (6 node-hours), 2 nodes lost.
    Availability (3 + 12) / (4 + 16) = 0.75; interruptions (1 + 2) / (1.5 + 6) = 0.4 per hour."""
    a = trace_from("preemption/1-node/aws-01-01-2024/us-west-2a_v100_1.json", 1800, [1, 1, 0, 1])
    b = trace_from("preemption/4-node/aws-01-01-2024/us-west-2b_v100_1.json", 1800, [4, 2, 2, 4])
    (fact,) = derive_spot_facts([a, b])
    assert (fact.region, fact.instance_type) == ("us-west-2", "p3.2xlarge")
    assert (fact.availability, fact.interruptions_per_hour, fact.node_hours) == (0.75, 0.4, 10.0)
    only_availability = trace_from(
        "availability/1-node/aws-01-01-2024/us-west-2a_v100_8.json", 60, [1, 0]
    )
    (big,) = derive_spot_facts([only_availability])
    assert (big.availability, big.interruptions_per_hour) == (0.5, None)
    assert derive_defaults([a, b]) == (0.75, 0.4)


def test_gpu_spot_in_a_traced_region_takes_the_v100_proxy_else_the_defaults() -> None:
    facts = {(f.region, f.instance_type): f for f in SPOT_FACTS if f.provider == "aws"}
    small, big = facts[("us-west-2", "p3.2xlarge")], facts[("us-west-2", "p3.16xlarge")]
    assert spot_terms("aws", "us-west-2", "gpu", 1) == (
        small.availability,
        small.interruptions_per_hour,
        "spot-rates-proxy",
    )
    assert spot_terms("aws", "us-west-2", "gpu", 8) == (
        big.availability,  # 8-GPU nodes: the p3.16xlarge availability, traced in us-west-2
        small.interruptions_per_hour,
        "spot-rates-proxy",
    )
    assert big.availability < small.availability
    defaults = (
        DEFAULT_SPOT_AVAILABILITY,
        DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR,
        "spot-rates-assumed",
    )
    assert spot_terms("aws", "eu-west-1", "gpu", 8) == defaults  # not traced
    assert spot_terms("aws", "us-east-1", "trainium", 16) == defaults  # not a GPU
    assert spot_terms("gcp", "us-central1", "gpu", 8) == defaults  # GCP traced CPUs only
    assert 0 < DEFAULT_SPOT_AVAILABILITY < 1 and DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR > 0
