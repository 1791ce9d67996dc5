"""Generated fleets for benchmarks: a synthetic catalog and spec of a chosen size.

Prices are drawn around real list prices per accelerator-hour (H100 ≈ 3–12 USD, see the built-in
catalog) so that the LP has realistic structure; the generator is seeded and deterministic.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from archipel.catalog.model import Catalog, Manifest, Offering, Provider, PurchaseOption, Region
from archipel.spec.models import (
    DiversificationRule,
    Geography,
    Horizon,
    InferenceService,
    ModelSpec,
    ResidencyRule,
    Spec,
    SurvivabilityRule,
    TrainingJob,
    WorkAcceleratorHours,
)

ACCELERATORS = (
    ("H100", 8, 6.0),
    ("H200", 8, 7.0),
    ("A100-80GB", 8, 3.5),
    ("MI300X", 8, 5.0),
    ("B200", 8, 10.0),
)
EU = {"DE", "FR", "NL", "IE", "SE", "FI"}
COUNTRIES = (
    ("US", 39.0, -77.0),
    ("US", 45.6, -121.2),
    ("DE", 50.1, 8.7),
    ("FR", 48.9, 2.3),
    ("IE", 53.3, -6.3),
    ("SE", 59.3, 18.1),
    ("JP", 35.7, 139.7),
    ("SG", 1.3, 103.8),
    ("GB", 51.5, -0.1),
    ("FI", 60.2, 24.9),
    ("NL", 52.4, 4.9),
    ("AU", -33.9, 151.2),
)


def generate(
    providers: int = 6,
    regions_per_provider: int = 8,
    offerings_per_region: int = 6,
    services: int = 8,
    geographies: int = 6,
    periods: int = 12,
    jobs: int = 2,
    skewed: bool = False,
    rules: bool = True,
    seed: int = 0,
) -> tuple[Spec, Catalog]:
    rng = np.random.default_rng(seed)
    provs = tuple(
        Provider(f"p{i}", f"Provider {i}", "US" if i % 2 == 0 else "FR", i % 2 == 0)
        for i in range(providers)
    )
    regions: list[Region] = []
    for p in provs:
        for k in range(regions_per_provider):
            cc, lat, lon = COUNTRIES[(k + int(p.id[1:])) % len(COUNTRIES)]
            jitter = rng.normal(0, 1.0, 2)
            regions.append(
                Region(
                    p.id,
                    f"r{k}",
                    f"City {k}",
                    cc,
                    "X",
                    lat + jitter[0],
                    lon + jitter[1],
                    ("EU",) if cc in EU else (),
                )
            )
    total = len(regions) * offerings_per_region
    if skewed:  # a hub region holds half of all offerings
        counts = np.full(len(regions), max(1, total // (2 * (len(regions) - 1))))
        counts[0] = total // 2
    else:
        counts = np.full(len(regions), offerings_per_region)
    offerings: list[Offering] = []
    for r, n in zip(regions, counts, strict=True):
        for k in range(int(n)):
            acc, per_node, base = ACCELERATORS[k % len(ACCELERATORS)]
            price = base * per_node * rng.uniform(0.7, 1.6)
            option = PurchaseOption.SPOT if k % 4 == 3 else PurchaseOption.ON_DEMAND
            offerings.append(
                Offering(
                    r.provider,
                    r.code,
                    f"{acc.lower()}-x{per_node}-v{k}",
                    acc,
                    per_node,
                    option,
                    price * (0.4 if option == PurchaseOption.SPOT else 1.0),
                    0.05 if option == PurchaseOption.SPOT else 0.0,
                    float(rng.integers(20, 400)) if k % 3 == 0 else None,
                    scale_up="nvswitch",
                    # most 8-GPU types have a cluster fabric; every fifth has none
                    fabric="infiniband" if k % 5 != 4 else "",
                    fabric_gbps=3200.0 if k % 5 != 4 else 0.0,
                    availability=0.8 if option == PurchaseOption.SPOT else 1.0,
                )
            )
    catalog = Catalog(
        Manifest("generated", "2026-01-01", 1, "0" * 64), provs, tuple(regions), tuple(offerings)
    )
    geos = [
        Geography(
            id=f"g{i}",
            lat=COUNTRIES[i % len(COUNTRIES)][1],
            lon=COUNTRIES[i % len(COUNTRIES)][2],
            country=COUNTRIES[i % len(COUNTRIES)][0],
        )
        for i in range(geographies)
    ]
    model = ModelSpec(id="m70", parameters_b=70)
    svcs = []
    for s in range(services):
        demand = {g.id: float(rng.uniform(5, 200)) for g in geos if rng.random() < 0.7} or {
            geos[0].id: 50.0
        }
        svcs.append(
            InferenceService.model_validate(
                {
                    "id": f"svc{s}",
                    "model": "m70",
                    "latency_slo_rtt_ms": 150.0,
                    "data_class": "eu" if s % 4 == 0 else None,
                    "demand": {
                        "kind": "growth",
                        "base_by_geography": demand,
                        "growth_pct_per_year": 45.0,
                    },
                    "purchase_options": ["on_demand", "spot", "reserved"],
                }
            )
        )
    start = dt.date(2027, 1, 1)
    horizon = Horizon(start=start, granularity="month", periods=periods)
    end = dt.date(2027 + (periods - 1) // 12, (periods - 1) % 12 + 1, 1)
    train = [
        TrainingJob(
            id=f"job{j}",
            work=WorkAcceleratorHours(reference_accelerator="H100", accelerator_hours=2e5),
            accelerators=["H100", "H200", "B200"],
            deadline=end,
            single_region=False,
            preemptible=j % 2 == 1,
        )
        for j in range(jobs)
    ]
    rule_list = (
        [
            ResidencyRule(data_class="eu", jurisdictions=["EU"]),
            SurvivabilityRule(loss="provider", served_fraction=0.5),
            DiversificationRule(max_share=0.6),
        ]
        if rules
        else []
    )
    spec = Spec(
        name=f"generated-{seed}",
        horizon=horizon,
        geographies=geos,
        models=[model],
        services=svcs,
        training=train,
        rules=rule_list,
    )
    return spec, catalog
