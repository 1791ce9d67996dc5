"""The dashboard in headless Chromium (Debian's /usr/bin/chromium driven by Playwright; no
browser download): sign in, plans, a plan's map and review, approve with an override reason,
a second approver from the other group, apply; a viewer gets no buttons; and screenshots of the
charts hold drawn pixels, not a blank box. Skipped, saying why, where Chromium is absent."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archipel.api.app import create_app
from archipel.api.planning import SolveOptions, load_spec, solve
from archipel.api.spend import known_providers, parse_focus_csv
from archipel.catalog.snapshot import load_builtin
from archipel.store.repo import Store
from control_kit import running, spec_text

CHROMIUM = Path("/usr/bin/chromium")
USAGE = """BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,BilledCost,BillingCurrency
2027-01-01,2027-01-01,2027-02-01,Nebius,eu-west1,150000,USD
2027-02-01,2027-02-01,2027-03-01,Nebius,eu-north1,170000,USD
2027-03-01,2027-03-01,2027-04-01,AWS,eu-west-1,20000,USD
"""


def png_pixels(data: bytes) -> list[tuple[int, ...]]:
    """The pixels of an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytearray] = []
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append(line)
        prev = line
    return [tuple(r[x * channels : x * channels + 3]) for r in rows for x in range(width)]


def drawn_share(png: bytes) -> float:
    """The share of pixels that differ from the most common colour (the background)."""
    pixels = png_pixels(png)
    _background, count = Counter(pixels).most_common(1)[0]
    return 1 - count / len(pixels)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); dashboard not run")
    store = Store.open(str(tmp_path / "archipel.db"))
    keys = {}
    for name, role, group in (
        ("pat", "planner", "lab"),
        ("ann", "approver", "lab"),
        ("bob", "approver", "cloudco"),
        ("vic", "viewer", "lab"),
    ):
        keys[name] = store.add_key(name, role, group, "test")[1]
    text = spec_text()
    spec, catalog = load_spec(text)
    plan_id, _ = store.insert_plan(
        solve(text, spec, catalog, SolveOptions(), lambda _m: None), "pat"
    )
    store.set_state(plan_id, "in_review", "pat", {})
    known = known_providers((p.id, p.name) for p in load_builtin().providers)
    store.add_spend(parse_focus_csv(USAGE, known), "u" * 64, "pat")
    try:
        with running(create_app(store)) as url:
            yield {"url": url, "keys": keys, "plan_id": plan_id, "store": store}
    finally:
        store.close()


def test_the_dashboard_journey(site: dict[str, Any]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, keys, plan_id = site["url"], site["keys"], site["plan_id"]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("requestfailed", lambda r: errors.append(f"{r.url} {r.failure}"))

            def sign_in(name: str) -> None:
                page.goto(url + "/")
                if page.locator("#signout").count():
                    # the sign-out's request, then its navigation, both finished before the
                    # next sign-in (a sign-in posted meanwhile was aborted by that navigation)
                    with page.expect_navigation():
                        page.click("#signout")
                    expect(page.locator("#signin")).to_be_visible()
                page.fill("#key", keys[name])
                with page.expect_navigation():  # a good key reloads the page
                    page.click("#signin button")
                expect(page.locator("header .who")).to_contain_text(name)

            page.goto(url + "/")
            expect(page.locator("#signin")).to_be_visible()
            page.fill("#key", "ak_wrong_key")
            page.click("#signin button")
            expect(page.locator("#message")).to_contain_text("not valid")

            sign_in("vic")
            expect(page.locator("table").first).to_contain_text(plan_id[:12])
            expect(page.locator("main")).to_contain_text("No plan applied yet")
            monthly = page.locator("svg")
            assert monthly.count() == 1  # actual spend per month; commitments once applied
            assert drawn_share(monthly.first.screenshot()) > 0.02, "the spend chart looks blank"
            page.click(f"a[href='/plans/{plan_id}']")
            expect(page.locator("h1")).to_contain_text(plan_id[:12])
            expect(page.locator("main")).to_contain_text("may not approve")
            assert page.locator("#approve").count() == 0
            world = page.locator("section", has_text="Placements").locator("svg").first
            assert drawn_share(world.screenshot()) > 0.05, "the map looks blank"
            dots = world.locator("circle")
            assert dots.count() >= 2  # the plan's regions

            sign_in("ann")
            page.goto(f"{url}/plans/{plan_id}")
            expect(page.locator("main")).to_contain_text("Not ready")
            page.fill("#comment", "fits the budget")
            page.fill("#override", "pilot on one cloud")
            page.click("#approve")
            expect(page.locator("section", has_text="Approvals")).to_contain_text("ann")
            page.click("#apply")
            expect(page.locator("#message")).to_contain_text("approvals")  # one group so far

            sign_in("bob")
            page.goto(f"{url}/plans/{plan_id}")
            page.click("#approve")
            expect(page.locator("main")).to_contain_text("Ready to apply")
            page.click("#apply")
            expect(page.locator("#message")).to_contain_text("Applied as revision 1")
            page.goto(url + "/")
            charts = page.locator("svg")
            assert charts.count() == 2  # spend per month, and against the applied commitments
            for i in range(2):
                assert drawn_share(charts.nth(i).screenshot()) > 0.02, f"chart {i} looks blank"
            expect(page.locator("main")).to_contain_text("nebius-2027")
            assert not errors, errors
        finally:
            browser.close()
    assert site["store"].head().plan_id == plan_id
