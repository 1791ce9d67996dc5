"""Fit the serving step-time constants to Splitwise's measurements and print the errors.

    python tools/calibrate_serving.py [CSV] [--committed] [--markdown]

CSV defaults to ``../shared/data/perf/splitwise/perf_model.csv`` beside the repository
(Mutinifni/splitwise-sim @ 8f99e7dc, data/perf_model.csv). Without options the script fits each
calibrated accelerator's constants (:func:`archipel.perf.calibration.fit`) and prints JSON lines:
one ``constants`` line per accelerator, one ``point`` line per measured configuration (estimate,
measurement, error, or the reason it is excluded), one ``band`` line per phase, and a ``check``
line. ``--committed`` evaluates the constants committed in ``archipel.perf.steptime`` instead of
fitting; ``--markdown`` prints the tables of docs/estimates.md (always from the committed
constants, so the docs show what the code uses).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
try:
    import archipel  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO / "src"))

from archipel.perf.architecture import KNOWN_ARCHITECTURES, architecture  # noqa: E402
from archipel.perf.calibration import (  # noqa: E402
    FITTED_MODEL,
    POWER_CAPPED,
    SPLITWISE_MODELS,
    STATED_BANDS,
    Comparison,
    Row,
    band,
    compare,
    fit,
    parse_splitwise,
    points,
    power_capped_is_derived,
)
from archipel.perf.serving import serving_profile  # noqa: E402
from archipel.perf.steptime import CALIBRATIONS, ChipConstants  # noqa: E402
from archipel.spec.models import ModelSpec, RequestClass  # noqa: E402

DEFAULT_CSV = REPO.parent / "shared" / "data" / "perf" / "splitwise" / "perf_model.csv"

# The profiles docs/estimates.md shows: Llama-2-70B, the 70B model of examples/small.yaml (one
# class, 1000 in / 250 out) and frontier-x of examples/frontier-lab.yaml (400B FP8, 131k context,
# its chat and agent classes).
_DEFAULT = [RequestClass(name="default", share=1.0, input_tokens=1000, output_tokens=250)]
_FRONTIER_CLASSES = [
    RequestClass(name="chat", share=0.8, input_tokens=1500, output_tokens=300),
    RequestClass(name="agent", share=0.2, input_tokens=12000, output_tokens=800),
]
_GPUS = ("H100", "H200", "B200", "A100-80GB")
PROFILE_CASES: tuple[tuple[ModelSpec, list[RequestClass], tuple[str, ...], str], ...] = (
    (SPLITWISE_MODELS["llama2-70b"], _DEFAULT, _GPUS, ""),
    (ModelSpec(id="chat-70b", parameters_b=70), _DEFAULT, _GPUS, ""),
    (ModelSpec(id="chat-70b", parameters_b=70), _DEFAULT, ("H100",), "pcie"),
    (
        ModelSpec(
            id="frontier-x", parameters_b=400, bytes_per_parameter=1, context_length_tokens=131072
        ),
        _FRONTIER_CLASSES,
        ("H100", "H200", "B200"),
        "",
    ),
)


def json_lines(rows: list[Row], constants: Mapping[str, ChipConstants]) -> list[str]:
    """The JSON lines described in the module doc, for ``constants``."""
    out = [
        json.dumps(
            {"kind": "constants", "accelerator": name}
            | {k: float(f"{v:.4g}") for k, v in asdict(c).items()}
        )
        for name, c in constants.items()
    ]
    comparisons = compare(points(rows), constants)
    capped = [c for c in comparisons if c.point.hardware == POWER_CAPPED]
    for c in comparisons:
        if c.point.hardware == POWER_CAPPED:
            continue
        line = {"kind": "point"} | {k: v for k, v in asdict(c.point).items() if k != "repeats"}
        line |= {
            "measured_ms": round(c.point.measured_ms, 2),
            "estimated_ms": round(c.estimated_ms, 2),
            "error_pct": round(100 * c.error, 1),
            "excluded": c.excluded,
        }
        out.append(json.dumps(line, ensure_ascii=False))
    if capped:
        reason = capped[0].excluded
        out.append(
            json.dumps(
                {
                    "kind": "excluded",
                    "hardware": POWER_CAPPED,
                    "points": len(capped),
                    "reason": reason,
                },
                ensure_ascii=False,
            )
        )
    for phase in ("prefill", "decode"):
        low, high = band(comparisons, phase)
        n = sum(1 for c in comparisons if not c.excluded and c.point.phase == phase)
        stated = STATED_BANDS[phase]
        out.append(
            json.dumps(
                {
                    "kind": "band",
                    "phase": phase,
                    "points": n,
                    "low_pct": round(100 * low, 1),
                    "high_pct": round(100 * high, 1),
                    "stated_pct": [round(100 * stated[0]), round(100 * stated[1])],
                }
            )
        )
    out.append(
        json.dumps({"kind": "check", "power_capped_is_derived": power_capped_is_derived(rows)})
    )
    return out


def markdown(rows: list[Row]) -> str:
    """docs/estimates.md's generated tables: constants, architectures, profiles, comparisons."""
    out = ["<!-- generated by: python tools/calibrate_serving.py --markdown -->"]
    out += ["", "### Fitted constants", "", *_constants_table()]
    out += ["", "### Architecture: published and derived", "", *_architecture_table()]
    out += ["", "### Profiles", "", *_profiles_table()]
    comparisons = [c for c in compare(points(rows)) if c.point.hardware != POWER_CAPPED]
    out += ["", "### Estimate versus measurement", ""]
    for phase in ("prefill", "decode"):
        low, high = band(comparisons, phase)
        n = sum(1 for c in comparisons if not c.excluded and c.point.phase == phase)
        out.append(
            f"Llama-2-70B {phase}: {n} configurations, {100 * low:+.1f} % to {100 * high:+.1f} %."
        )
    llama = [c for c in comparisons if c.point.model == FITTED_MODEL]
    bloom = [c for c in comparisons if c.point.model != FITTED_MODEL]
    for title, chosen in (("Llama-2-70B (fitted)", llama), ("BLOOM-176B (not fitted)", bloom)):
        for phase in ("prefill", "decode"):
            out += ["", f"#### {title}, {phase}", ""]
            out += _phase_table([c for c in chosen if c.point.phase == phase], phase)
    return "\n".join(out)


def _constants_table() -> list[str]:
    lines = [
        "| Accelerator | m | γ | α′ µs | β′ µs | η | α µs | β µs | s µs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, cal in CALIBRATIONS.items():
        c = cal.constants
        lines.append(
            f"| {name} | {c.mfu:.3f} | {c.prefill_tp_loss:.3f} | {c.prefill_layer_us:.1f} | "
            f"{c.prefill_layer_per_extra_us:.2f} | {c.bandwidth_efficiency:.3f} | "
            f"{c.decode_layer_us:.1f} | {c.decode_layer_per_extra_us:.1f} | "
            f"{c.decode_layer_per_sequence_us:.2f} |"
        )
    return lines


def _architecture_table() -> list[str]:
    lines = [
        "| Model | Parameters (active) B | Layers published / derived | Hidden published / "
        "derived | KV heads × dim | KV KiB/token published / derived |",
        "|---|---|---|---|---|---|",
    ]
    for k in KNOWN_ARCHITECTURES:
        pub, der = architecture(k.spec(derive=False)), architecture(k.spec(derive=True))
        active = f" ({k.active_parameters_b:g})" if k.active_parameters_b else ""
        lines.append(
            f"| {k.name} | {k.parameters_b:g}{active} | {pub.layers} / {der.layers} | "
            f"{pub.hidden_size} / {der.hidden_size} | {pub.kv_heads} × {pub.head_dim} | "
            f"{pub.kv_bytes_per_token / 1024:.0f} / {der.kv_bytes_per_token / 1024:.0f} |"
        )
    return lines


def _profiles_table() -> list[str]:
    lines = [
        "| Model | Classes | Accelerator | Link | k (smallest) | Batch | KV GiB | Prefill ms "
        "| Decode step ms | Requests/s per replica | Per accelerator | Source |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model, classes, chips, link in PROFILE_CASES:
        for chip in chips:
            p = serving_profile(model, chip, classes, scale_up=link)
            names = ", ".join(f"{c.name} {c.input_tokens}/{c.output_tokens}" for c in classes)
            if p is None:
                lines.append(
                    f"| {model.id} | {names} | {chip} | {link or '-'} | no fit |" + " |" * 7
                )
                continue
            prefill = ", ".join(f"{1e3 * v:.0f}" for v in p.prefill_s.values())
            rates = ", ".join(f"{v:.3g}" for v in p.requests_per_s_per_replica.values())
            source = p.source + (f" ({p.constants_from})" if p.source == "estimated" else "")
            lines.append(
                f"| {model.id} | {names} | {chip} | {link or '-'} | "
                f"{p.accelerators_per_replica} ({p.min_accelerators_per_replica}) | {p.batch} | "
                f"{p.kv_gib_per_replica:.1f} | {prefill} | {1e3 * p.decode_step_s:.1f} | "
                f"{rates} | {p.requests_per_s_per_accelerator:.3g} | {source} |"
            )
    return lines


def _phase_table(comparisons: list[Comparison], phase: str) -> list[str]:
    head = "| Hardware | TP | Prompt | Batch |" + (" Output |" if phase == "decode" else "")
    head += " Measured ms | Estimated ms | Error | Excluded because |"
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for c in comparisons:
        p = c.point
        cells = [p.hardware, str(p.tensor_parallel), str(p.prompt_tokens), str(p.batch)]
        if phase == "decode":
            cells.append(str(p.output_tokens))
        cells += [f"{p.measured_ms:.1f}", f"{c.estimated_ms:.1f}", f"{100 * c.error:+.0f} %"]
        cells.append(c.excluded if c.excluded.startswith("does not fit") else "")
        out.append("| " + " | ".join(cells) + " |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv", nargs="?", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--committed", action="store_true", help="evaluate committed constants")
    parser.add_argument("--markdown", action="store_true", help="print the docs tables")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        print(
            f"error: {args.csv} not found; pass the Splitwise perf_model.csv path", file=sys.stderr
        )
        return 2
    with args.csv.open(newline="") as f:
        rows = parse_splitwise(f)
    if args.markdown:
        print(markdown(rows))
        return 0
    constants = (
        {name: cal.constants for name, cal in CALIBRATIONS.items()}
        if args.committed
        else fit(points(rows))
    )
    for line in json_lines(rows, constants):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
