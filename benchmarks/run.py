"""Run the benchmarks: ``python benchmarks/run.py [scale|quality ...]`` (default: both).

Each prints JSON lines of its figures. Not part of the test run; timings live here only.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

if __name__ == "__main__":
    import quality
    import scale

    which = sys.argv[1:] or ["scale", "quality"]
    if "scale" in which:
        scale.main([a for a in which if a in scale.CASES])
    if "quality" in which:
        quality.main()
