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

from archipel.perf.calibration import (  # noqa: E402
    POWER_CAPPED,
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
from archipel.perf.steptime import CALIBRATIONS, ChipConstants  # noqa: E402

DEFAULT_CSV = REPO.parent / "shared" / "data" / "perf" / "splitwise" / "perf_model.csv"


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
    """docs/estimates.md's constants table and estimate-versus-measurement tables."""
    lines = [
        "| Accelerator | m | γ | α′ µs | β′ µs | η | α µs | β µs | s µs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, cal in CALIBRATIONS.items():
        c = cal.constants
        lines.append(
            f"| {name} | {c.mfu:.3f} | {c.prefill_tp_loss:.3f} | {c.prefill_layer_us:.1f} | "
            f"{c.prefill_layer_per_extra_us:.1f} | {c.bandwidth_efficiency:.3f} | "
            f"{c.decode_layer_us:.1f} | {c.decode_layer_per_extra_us:.1f} | "
            f"{c.decode_layer_per_sequence_us:.2f} |"
        )
    comparisons = compare(points(rows))
    for phase in ("prefill", "decode"):
        lines += ["", *_phase_table(comparisons, phase)]
    return "\n".join(lines)


def _phase_table(comparisons: list[Comparison], phase: str) -> list[str]:
    head = "| Model | Hardware | TP | Prompt | Batch |" + (" Output |" if phase == "decode" else "")
    head += " Measured ms | Estimated ms | Error | Note |"
    out = [f"{phase.capitalize()}:", "", head, "|" + "---|" * (head.count("|") - 1)]
    for c in comparisons:
        p = c.point
        if p.phase != phase or p.hardware == POWER_CAPPED:
            continue
        cells = [p.model, p.hardware, str(p.tensor_parallel), str(p.prompt_tokens), str(p.batch)]
        if phase == "decode":
            cells.append(str(p.output_tokens))
        cells += [f"{p.measured_ms:.1f}", f"{c.estimated_ms:.1f}", f"{100 * c.error:+.0f} %"]
        cells.append(c.excluded or "")
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
