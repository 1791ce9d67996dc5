"""The HTML report laid out by headless Chromium at 800 px wide: nothing is clipped.

A copy of the page gets a small probe script (the report itself has none) that measures the
layout once loaded and writes it into the DOM, which ``chromium --dump-dom`` prints. Skipped,
saying so, where Chromium is not installed (``apt-get install chromium`` provides it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from archipel.report.html import render_html
from plans import make_plan

WIDTH = 800
PROBE = """<script>
addEventListener("load", () => {
  const px = (e) => e.getBoundingClientRect();
  const out = {page: document.documentElement.scrollWidth, viewport: innerWidth,
               tables: [], charts: [], failing: []};
  for (const box of document.querySelectorAll("div.scroll")) {
    const t = box.querySelector("table");
    out.tables.push({box: box.clientWidth, table: t.scrollWidth,
                     last: t.querySelector("th:last-child").textContent});
  }
  for (const svg of document.querySelectorAll("svg.chart")) {
    out.charts.push({width: px(svg).width, room: svg.parentElement.clientWidth});
  }
  for (const rect of document.querySelectorAll('svg rect[fill="#c62828"]')) {
    if (rect.querySelector("title")) out.failing.push(px(rect).width);  // bars, not the legend
  }
  const pre = document.createElement("pre");
  pre.id = "layout";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def browser() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium); layout not checked")
    return found


def layout(page: str, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "report.html"
    path.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={WIDTH},2000",
        "--dump-dom",
    ]
    done = subprocess.run(
        [browser(), *flags, path.as_uri()], capture_output=True, text=True, timeout=120, check=False
    )
    found = re.search(r'<pre id="layout">(.*?)</pre>', done.stdout)
    assert found, f"chromium printed no layout (exit {done.returncode}): {done.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(found.group(1).replace("&quot;", '"'))
    return result


def test_report_fits_800_px(tmp_path: Path) -> None:
    coords = {"azure:southcentralus": (29.4, -98.5), "oci:us-ashburn-1": (39.0, -77.5)}
    seen = layout(render_html(make_plan(), region_coords=coords), tmp_path)
    assert seen["viewport"] <= WIDTH
    assert seen["page"] <= seen["viewport"], "the page scrolls sideways"
    assert len(seen["tables"]) >= 8
    for table in seen["tables"]:  # every column, the cost column included, is in view
        assert table["table"] <= table["box"], table
    for chart in seen["charts"]:
        assert 0 < chart["width"] <= chart["room"], chart
    # the bars below the required fraction, the 0 % one included, are visible
    assert len(seen["failing"]) == 2
    assert all(width >= 2 for width in seen["failing"]), seen["failing"]
