"""The dashboard: server-rendered HTML pages with inline SVG charts and a little vanilla JS.

Pages (all read the store directly; the buttons call the JSON API):

- ``/``: sign-in (an API key, kept in an HttpOnly cookie), the stored plans and their state,
  and actual spend against the applied plan's commitments.
- ``/plans/ID``: the plan's placements on a map and the review: diff against the applied plan,
  unused commitment and shortfall, the outlook's risk figures when attached, the gates, the
  approvals, and approve / reject / apply buttons for keys whose role allows them.

No external reference at all (no CDN, fonts or scripts from elsewhere): it works offline. The
charts are :mod:`archipel.report.svg`'s, the look the HTML report's (``html_parts.CSS``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from html import escape
from importlib import resources
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from archipel.api import spend
from archipel.api.app import build_review
from archipel.api.auth import rank, token_of
from archipel.catalog.snapshot import load_builtin
from archipel.plan.result import Plan
from archipel.report.fmt import format_fraction, format_number, format_usd
from archipel.report.html_parts import CSS, Cell, Html, ident, note, section, swatch, table
from archipel.report.svg import (
    CommitmentBar,
    MapPoint,
    Series,
    commitment_bars,
    provider_colours,
    stacked_bars,
    world_map,
)
from archipel.store.repo import Key, NotFound, Store

router = APIRouter(include_in_schema=False)
EXTRA_CSS = """
header.top{background:#1d1d1f;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header.top a{color:#fff;text-decoration:none;font-weight:600}
header.top .who{margin-left:auto;color:#c9ccd1}
button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid #9aa0a6;background:#fff;
cursor:pointer}button.go{background:#2e7d32;color:#fff;border-color:#2e7d32}
button.stop{background:#c62828;color:#fff;border-color:#c62828}
input,textarea{font:inherit;padding:5px 8px;border:1px solid #c9ccd1;border-radius:6px}
#message{min-height:1.4em}.state{font-weight:600}
"""


def _page(title: str, key: Key | None, *parts: str) -> HTMLResponse:
    who = (
        f"{escape(key.name)} · {escape(key.role)} · {escape(key.group)} "
        '<button id="signout">sign out</button>'
        if key
        else "not signed in"
    )
    body = "\n".join(parts)
    return HTMLResponse(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Archipel</title><style>{CSS}{EXTRA_CSS}</style></head><body>
<header class="top"><a href="/">Archipel control plane</a><span class="who">{who}</span></header>
<main><h1>{escape(title)}</h1><p id="message" role="status"></p>
{body}</main><script src="/static/dashboard.js"></script></body></html>"""
    )


def _key(request: Request) -> Key | None:
    store: Store = request.app.state.store
    token = token_of(request)
    return store.key_for(token) if token else None


def _sign_in() -> str:
    return section(
        "Sign in",
        '<form id="signin"><label>API key <input id="key" type="password" size="50" '
        'autocomplete="off"></label> <button class="go" type="submit">sign in</button></form>',
        note("`archipel server` printed the admin key when it first started."),
    )


def _plans_table(store: Store) -> str:
    found = store.list_plans(100)
    if not found:
        return section("Plans", note("No plan yet: `archipel plans --submit SPEC`."))
    head = store.head()
    rows: list[list[Cell]] = [
        [
            Html(f'<a href="/plans/{p.id}">{p.id[:12]}</a>'),
            ident(p.spec_name),
            Html(
                f'<span class="state">{escape(p.state)}</span>'
                + (" (applied now)" if p.id == head.plan_id else "")
            ),
            p.plan_status + (" ✓" if p.verified else ""),
            format_usd(p.objective_usd) if p.objective_usd is not None else "—",
            format_usd(p.unused_commitment_usd),
            ident(p.author),
            p.created_at[:19].replace("T", " "),
        ]
        for p in found
    ]
    return section(
        f"Plans (newest first; applied revision {head.revision})",
        table(
            ["plan", "spec", "state", "solver", "cost", "unused commitment", "author", "created"],
            rows,
            [4, 5],
        ),
    )


def _spend_section(store: Store) -> str:
    head = store.head()
    applied = Plan.model_validate_json(store.get_plan(head.plan_id).body) if head.plan_id else None
    figures = spend.against_commitments(applied, store.spend_rows())
    parts: list[str] = []
    monthly: dict[str, dict[str, float]] = figures["monthly"]
    if monthly:
        providers = sorted({p for m in monthly.values() for p in m})
        colours = provider_colours(providers)
        months = list(monthly)
        series = [
            Series(p, [monthly[m].get(p, 0.0) for m in months], colours[p]) for p in providers
        ]
        parts.append(stacked_bars(months, series, "actual spend per month"))
    years: list[dict[str, Any]] = figures["contract_years"]
    if years:
        colours = provider_colours(sorted({y["provider"] for y in years}))
        bars = [
            CommitmentBar(
                y["contract"],
                y["year"],
                y["provider"],
                y["committed_usd"],
                y["actual_usd"],
                y["remaining_to_commit_usd"],
                colours[y["provider"]],
                start=y["start"],
            )
            for y in years
        ]
        parts.append(commitment_bars(bars, "actual spend against commitments"))
        parts.append(
            table(
                ["contract", "provider", "year", "committed", "planned", "actual", "to commit"],
                [
                    [
                        ident(y["contract"]),
                        swatch(y["provider"], colours),
                        f"{y['year']} · {y['start']} to {y['end']}",
                        format_usd(y["committed_usd"]),
                        format_usd(y["planned_spent_usd"]),
                        format_usd(y["actual_usd"]),
                        format_usd(y["remaining_to_commit_usd"]),
                    ]
                    for y in years
                ],
                [3, 4, 5, 6],
            )
        )
    if not parts:
        parts.append(note("No spend recorded: `archipel plans --spend usage.csv` (FOCUS CSV)."))
    elif applied is None:
        parts.append(note("No plan applied yet: commitments appear once one is."))
    return section("Spend against commitments", *parts)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    key = _key(request)
    if key is None:
        return _page("Dashboard", None, _sign_in())
    store: Store = request.app.state.store
    return _page("Dashboard", key, _plans_table(store), _spend_section(store))


def _map(plan: Plan) -> str:
    if not plan.allocations:
        return note("The plan places nothing.")
    coords = {r.id: (r.lat, r.lon) for r in load_builtin().regions}
    peak: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    provider: dict[str, str] = {}
    cost: dict[str, float] = defaultdict(float)
    for a in plan.allocations:
        peak[a.region][a.period] += a.accelerators
        provider[a.region] = a.provider
        cost[a.region] += a.cost_usd
    colours = provider_colours(sorted(set(provider.values())))
    points = [
        MapPoint(
            r,
            provider[r],
            coords[r][0],
            coords[r][1],
            max(v.values()),
            colours[provider[r]],
            f"{r}: peak {format_number(max(v.values()))} accelerators, {format_usd(cost[r])}",
        )
        for r, v in sorted(peak.items())
        if r in coords and all(map(math.isfinite, coords[r]))
    ]
    return world_map(points, "placements: peak accelerators by region")


def _money(v: float | None) -> str:
    return "—" if v is None else format_usd(v)


def _review_parts(review: Any) -> list[str]:
    d = review.diff
    risk_rows: list[list[Cell]] = [
        ["cost over the horizon", _money(d["old_objective_usd"]), _money(d["new_objective_usd"])],
        [
            "unused commitment",
            _money(d["old_unused_usd"]),
            format_usd(review.unused_commitment_usd),
        ],
        ["shortfall", "", format_usd(review.shortfall_usd)],
    ]
    if review.outlook:
        o = review.outlook
        for name, label in (
            ("expected_cost_usd", "outlook: expected cost"),
            ("cvar95_usd", "outlook: CVaR 95 %"),
            ("expected_stranded_usd", "outlook: expected stranded commitment"),
        ):
            if name in o:
                risk_rows.append([label, "", format_usd(o[name])])
        if "p_stranded_over_threshold" in o:
            risk_rows.append(
                [
                    "outlook: P(stranded over threshold)",
                    "",
                    format_fraction(o["p_stranded_over_threshold"]),
                ]
            )
    applied = review.applied_plan_id
    against = (
        f'against the applied plan <a href="/plans/{applied}">{applied[:12]}</a>'
        if applied
        else "against nothing applied yet (revision 0)"
    )
    moved = [
        [
            ident(p["workload"]),
            ident(p["region"]),
            ident(p["instance_type"]),
            p["purchase_option"],
            p["kind"],
            format_number(p["new_accelerator_hours"] - p["old_accelerator_hours"]),
            format_usd(p["cost_delta_usd"]),
        ]
        for p in d["placements"][:30]
    ]
    gates = [
        [
            ident(g.name),
            g.level,
            "—" if g.value is None else format_number(g.value),
            "—" if g.limit is None else format_number(g.limit),
            Html('<span class="ok">passes</span>')
            if g.passed
            else Html(
                '<span class="bad">blocks</span>' if g.blocks else '<span class="warn">fails</span>'
            ),
            g.override_reason,
        ]
        for g in review.gates
    ]
    approvals = [
        [
            ident(a.approver),
            ident(a.group),
            a.decision,
            str(a.base_revision),
            "yes" if a.counts else "no (stale)",
            a.comment,
        ]
        for a in review.approvals
    ]
    status = (
        '<p class="ok">Ready to apply.</p>'
        if review.ready
        else "<p><b>Not ready:</b></p><ul>"
        + "".join(f"<li>{escape(m)}</li>" for m in review.missing)
        + "</ul>"
    )
    return [
        section(
            "Review: cost and risk",
            f"<p>{against}</p>",
            table(["figure", "applied", "this plan"], risk_rows, [1, 2]),
        ),
        section(
            f"Placements that change ({d['placements_changed']} changed, "
            f"{d['placements_unchanged']} unchanged)",
            table(
                ["workload", "region", "instance", "option", "change", "accel-hours Δ", "cost Δ"],
                moved,
                [5, 6],
            ),
        ),
        section(
            "Policy gates",
            table(["gate", "level", "value", "limit", "result", "override"], gates, [2, 3]),
        ),
        section(
            "Approvals",
            table(
                ["approver", "group", "decision", "at revision", "counts", "comment"], approvals, []
            ),
            Html(status),
        ),
    ]


def _buttons(plan_id: str, key: Key, review: Any) -> str:
    if rank(key.role) < rank("approver"):
        return note(f"Your role ({key.role}) may not approve or apply.")
    overridable = [g.name for g in review.gates if g.level == "overridable" and not g.passed]
    override = (
        "<p><label>Reason to override "
        + ", ".join(escape(n) for n in overridable)
        + f' <input id="override" size="50" data-gates="{escape(",".join(overridable))}"></label></p>'
        if overridable
        else ""
    )
    return section(
        "Decide",
        f'<div id="decide" data-plan="{plan_id}">'
        '<p><label>Comment <input id="comment" size="60"></label></p>'
        + override
        + '<button class="go" id="approve">approve</button> '
        '<button class="stop" id="reject">reject</button> '
        '<button id="apply">apply</button></div>',
    )


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(plan_id: str, request: Request) -> HTMLResponse:
    key = _key(request)
    if key is None:
        return _page("Plan", None, _sign_in())
    store: Store = request.app.state.store
    try:
        record = store.get_plan(plan_id)
    except NotFound:
        return _page("No such plan", key, note(f"No plan {plan_id}."))
    plan = Plan.model_validate_json(record.body)
    review = build_review(store, request.app.state.policy, plan_id)
    s = record.summary
    cards = (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="meta">{escape(k)}</div><b>{escape(v)}</b></div>'
            for k, v in (
                ("state", s.state),
                ("solver", s.plan_status + (", verified" if s.verified else ", NOT verified")),
                ("cost", _money(s.objective_usd)),
                ("author", s.author),
            )
        )
        + "</div>"
    )
    return _page(
        f"Plan {plan_id[:12]} · {s.spec_name}",
        key,
        cards,
        section("Placements", _map(plan)),
        *_review_parts(review),
        _buttons(plan_id, key, review),
    )


@router.get("/static/dashboard.js")
def script() -> Response:
    text = resources.files("archipel.web").joinpath("dashboard.js").read_text(encoding="utf-8")
    return Response(text, media_type="text/javascript")


def register(app: FastAPI) -> None:
    app.include_router(router)
