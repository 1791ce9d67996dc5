"""Checks on the files and directories a command writes, made before any work starts.

A command that writes (``plan --out/--report``, ``schema --out``, ``catalog import --out``)
first calls :func:`check_output_file` or :func:`check_output_dir`, so that ``--out /``, a
report into a missing directory or ``--out fleet.yaml`` (the spec being read) is refused at
once with what is wrong and how to fix it, not after a long solve nor with a traceback.
:func:`write_text` writes a file and turns the failures that remain possible (disk full, a
file removed meanwhile) into the same error. Every problem raises
:class:`~archipel.errors.OutputPathError`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from archipel.errors import OutputPathError


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (also through links and '..')."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError, ValueError):  # a link loop, a name the system refuses
        return False


def _nearest_existing(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _refuse(what: str, path: Path, why: str, fix: str) -> OutputPathError:
    return OutputPathError(f"cannot write the {what} to {path}: {why} — {fix}")


def check_output_file(
    path: Path,
    what: str,
    *,
    inputs: Sequence[Path] = (),
    others: Sequence[tuple[str, Path | None]] = (),
) -> Path:
    """``path`` if a file can be written there; else :class:`OutputPathError` saying why.

    The path must not be a directory, its directory must exist and be writable, it must not be
    one of the command's ``inputs`` and not the path of another output (``others``: name and
    path, None when not asked for). ``what`` names the output in messages ("plan", "report").
    """
    try:
        is_dir = path.is_dir()
        parent = path.absolute().parent
    except (OSError, ValueError) as exc:
        raise _refuse(what, path, f"the path cannot be used ({exc})", "choose another") from None
    suggestion = f"{what}.json" if what != "report" else "report.html"
    if is_dir or not path.name or path.name in (".", ".."):
        raise _refuse(
            what, path, "it is a directory", f"give a file name, e.g. {path / suggestion}"
        )
    near = _nearest_existing(parent)
    if not near.is_dir():
        raise _refuse(what, path, f"{near} is a file, not a directory", "choose another path")
    if not parent.exists():
        raise _refuse(
            what,
            path,
            f"the directory {parent} does not exist",
            f"create it first (mkdir -p {parent}) or write somewhere else",
        )
    for source in inputs:
        if _same(path, source):
            raise _refuse(
                what,
                path,
                "it is a file this command reads, and would be overwritten",
                "write to another file name",
            )
    for name, other in others:
        if other is not None and _same(path, other):
            raise _refuse(
                what, path, f"the {name} is written there too", "give each output its own path"
            )
    if path.exists() and not os.access(path, os.W_OK):
        raise _refuse(what, path, "the file is read-only", "choose another path or change it")
    if not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise _refuse(
            what, path, f"no permission to create files in {parent}", "choose another directory"
        )
    return path


def check_output_dir(
    path: Path, what: str, *, inputs: Sequence[Path] = (), writes: Sequence[str] = ()
) -> Path:
    """``path`` if a directory can be made or filled there (with the files named ``writes``);
    else :class:`OutputPathError`. It must not be a file, nor one of the ``inputs`` or contain
    one of them under a name it writes."""
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except (OSError, ValueError) as exc:
        raise _refuse(what, path, f"the path cannot be used ({exc})", "choose another") from None
    if exists and not is_dir:
        raise _refuse(what, path, "it is a file", "give the path of a directory (new or existing)")
    near = _nearest_existing(path)
    if not near.is_dir():
        raise _refuse(what, path, f"{near} is a file, not a directory", "choose another path")
    for source in inputs:
        if _same(path, source) or any(_same(path / name, source) for name in writes):
            raise _refuse(
                what,
                path,
                f"it holds {source}, which this command reads",
                "write the snapshot to a new directory",
            )
    if not os.access(near, os.W_OK | os.X_OK):
        raise _refuse(what, path, f"no permission to write in {near}", "choose another path")
    return path


def write_text(path: Path, text: str, what: str) -> None:
    """Write ``text`` (UTF-8) to ``path``; a failure raises :class:`OutputPathError`."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise _refuse(what, path, why, "free some space or choose another path") from exc
