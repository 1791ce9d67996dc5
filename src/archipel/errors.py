"""Archipel's exception tree. Every error has a stable code (``ARC-…``) documented here.

    ArchipelError                      base; never raised itself
    ├── UserError                      the input is wrong; the message says where and how to fix
    │   ├── SpecError        ARC-SPEC      a spec file has one or more problems (``issues`` lists all)
    │   ├── CatalogError     ARC-CATALOG   a catalog file or snapshot cannot be read
    │   ├── UnknownNameError ARC-UNKNOWN   a provider/region/accelerator/model name is not known
    │   ├── PlanFileError    ARC-PLANFILE  a plan JSON file cannot be read
    │   └── OutputPathError  ARC-OUTPUT    an output file or directory cannot be written there
    └── RuntimeFailure                 something outside the user's input failed
        └── SolverError      ARC-SOLVER    the LP solver failed in a way that is not an answer

Infeasible or time-limited solves are *not* errors: they are typed solver statuses on the plan.
The CLI maps ``UserError`` to exit code 2 and ``RuntimeFailure`` to exit code 3, printing the
message without a traceback (exit codes: :mod:`archipel.cli` and docs/cli.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem in an input file: where it is, what is wrong, how to fix it."""

    file: str
    line: int
    column: int
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        fix = f" — {self.hint}" if self.hint else ""
        where = f"{self.file}:{self.line}:{self.column}"
        path = f" {self.path}:" if self.path else ""
        return f"{where}:{path} {self.message}{fix}"


class ArchipelError(Exception):
    """Base of every error Archipel raises on purpose."""

    code = "ARC-ERROR"


class UserError(ArchipelError):
    """The user's input is wrong; the message says where and how to fix it."""

    code = "ARC-USER"


class SpecError(UserError):
    """A spec file has problems; ``issues`` holds every one of them, in file order."""

    code = "ARC-SPEC"

    max_listed = 200
    """The message lists at most this many issues; ``issues`` (and ``validate --json``) all."""

    def __init__(self, issues: Sequence[Issue], what: str = "the spec") -> None:
        self.issues = tuple(issues)
        n = len(self.issues)
        head = f"{n} problem{'s' if n != 1 else ''} in {what}"
        lines = [head, *(str(i) for i in self.issues[: self.max_listed])]
        if n > self.max_listed:
            lines.append(f"… and {n - self.max_listed} more (`archipel validate --json` lists all)")
        super().__init__("\n".join(lines))


class CatalogError(UserError):
    """A catalog file or snapshot cannot be read."""

    code = "ARC-CATALOG"


class UnknownNameError(UserError):
    """A name (provider, region, accelerator, model…) is not known; suggestions attached."""

    code = "ARC-UNKNOWN"

    def __init__(self, kind: str, name: str, suggestions: Sequence[str] = ()) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = tuple(suggestions)
        hint = f" Did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown {kind} {name!r}.{hint}")


class PlanFileError(UserError):
    """A plan JSON file cannot be read."""

    code = "ARC-PLANFILE"


class OutputPathError(UserError):
    """An output file or directory cannot be written where the command was asked to."""

    code = "ARC-OUTPUT"


class RuntimeFailure(ArchipelError):
    """Something outside the user's input failed."""

    code = "ARC-RUNTIME"


class SolverError(RuntimeFailure):
    """The LP solver failed in a way that is not an answer (crash, license, memory)."""

    code = "ARC-SOLVER"


ALL_ERRORS: tuple[type[ArchipelError], ...] = (
    ArchipelError,
    UserError,
    SpecError,
    CatalogError,
    UnknownNameError,
    PlanFileError,
    OutputPathError,
    RuntimeFailure,
    SolverError,
)
