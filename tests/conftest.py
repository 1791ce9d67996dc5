"""Shared test fixtures. Tests that read ../shared/data skip with a reason where it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ARCHIPEL_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public data folder beside the repo (../shared/data); skip where it is absent."""
    if not (SHARED_DATA / "MANIFEST.md").is_file():
        pytest.skip(
            f"public data not found at {SHARED_DATA} (a user's clone has none; CI has it). "
            "Set ARCHIPEL_SHARED_DATA to point at it."
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
