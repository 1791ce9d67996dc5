"""Measuring on a shared machine: wall and CPU time side by side, child processes, load average.

Every figure the benchmarks print comes from here: ``Clock`` reads wall time
(``time.perf_counter``) and this process's CPU time (``time.process_time``, all threads, so a
multi-threaded solve shows CPU above wall); ``run_timed`` runs a command and reads the child's
own user and system time and peak memory from ``os.wait4``. Other engineers use the machine at
the same time, so each record carries the load average (``os.getloadavg``) and comparisons
should prefer CPU time. Nothing here asserts a timing.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent  # the repository: examples/, src/


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def emit(record: Mapping[str, Any]) -> None:
    """Print one JSON line of figures."""
    print(json.dumps(record), flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass(frozen=True)
class Span:
    wall_s: float
    cpu_s: float

    def as_dict(self) -> dict[str, float]:
        return {"wall_s": round(self.wall_s, 4), "cpu_s": round(self.cpu_s, 4)}


class Clock:
    """Wall and CPU time since the last ``lap`` (or since it was made)."""

    def __init__(self) -> None:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def lap(self) -> Span:
        wall, cpu = time.perf_counter(), time.process_time()
        span = Span(wall - self._wall, cpu - self._cpu)
        self._wall, self._cpu = wall, cpu
        return span


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: wall time, its own CPU time, peak memory, exit code, output."""

    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    exit_code: int
    stdout: str
    stderr: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    def figures(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 4),
            "cpu_s": round(self.cpu_s, 4),
            "user_s": round(self.user_s, 4),
            "sys_s": round(self.sys_s, 4),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "exit_code": self.exit_code,
        }


def run_timed(
    argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path = ROOT
) -> ChildRun:
    """Run ``argv`` to the end; the child's CPU time and peak memory are its own (``wait4``).

    Output goes to temporary files rather than pipes, so that the child never waits on us.
    """
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        return ChildRun(
            wall,
            usage.ru_utime,
            usage.ru_stime,
            usage.ru_maxrss / 1024,
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON object lines of a child's output (anything else is ignored)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def spread(values: Iterable[float]) -> dict[str, float] | None:
    """Min and median of some figures (None when there are none)."""
    xs = sorted(values)
    if not xs:
        return None
    return {"min": round(xs[0], 4), "median": round(statistics.median(xs), 4), "n": len(xs)}


def python_env(extra_paths: Sequence[Path] = ()) -> dict[str, str]:
    """The environment for a child Python that imports ``extra_paths`` first (before any
    installed copy of a package, an editable one included)."""
    env = dict(os.environ)
    parts = [str(p) for p in extra_paths]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    if parts:
        env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


# the planner's progress messages that start a phase (others, like "solving block 3 of 9", don't)
_PHASE_OF_MESSAGE = (
    ("building the model", "build"),
    ("solving:", "solve"),
    ("extracting the plan", "extract"),
    ("pricing rules and contracts", "rule_costs"),
    ("verifying the plan", "verify"),
    ("no plan exists", "diagnose"),
)


class PlanPhases:
    """Wall and CPU seconds per phase of ``make_plan`` or ``plan_lp``, switched by the progress
    messages they send (pass ``progress``); the planner's own ``timings_s`` are wall only."""

    def __init__(self, first: str) -> None:
        self.clock = Clock()
        self.current = first
        self.spans: dict[str, Span] = {}

    def switch(self, phase: str) -> None:
        lap = self.clock.lap()
        old = self.spans.get(self.current, Span(0.0, 0.0))
        self.spans[self.current] = Span(old.wall_s + lap.wall_s, old.cpu_s + lap.cpu_s)
        self.current = phase

    def progress(self, message: str) -> None:
        for prefix, phase in _PHASE_OF_MESSAGE:
            if message.startswith(prefix):
                self.switch(phase)
