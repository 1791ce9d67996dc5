"""Schemathesis against the published OpenAPI document (in-process ASGI): every operation, with
generated valid and invalid input, as an admin; no server error, every answer as documented."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from archipel.api.app import create_app
from archipel.store.repo import Store

pytestmark = pytest.mark.filterwarnings(
    # schemathesis drives ASGI apps through starlette's TestClient, which warns about httpx
    "ignore::DeprecationWarning"
)


# Every other check runs. A spec's or usage file's meaning (a YAML mapping with a horizon, a
# CSV with FOCUS columns) is not expressible in JSON Schema: a schema-valid text that is not a
# spec is answered 400 with the line that is wrong, which this check would call a failure.
EXCLUDED = [positive_data_acceptance]


@pytest.fixture(scope="module")
def admin_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, str]]:
    store = Store.open(str(tmp_path_factory.mktemp("schemathesis") / "archipel.db"))
    _, admin = store.add_key("admin", "admin", "admin", "test")
    try:
        yield store, admin
    finally:
        store.close()


@pytest.fixture(scope="module")
def api_schema(admin_store: tuple[Store, str]) -> Any:
    store, _ = admin_store
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return schemathesis.openapi.from_asgi("/api/openapi.json", create_app(store))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_operation_fails(api_schema: Any, admin_store: tuple[Store, str], mode: Any) -> None:
    """Each operation with up to 10 generated requests (schemathesis' pytest plugin does not
    run on pytest 9, so the operations are driven here with hypothesis directly)."""
    _, admin = admin_store
    headers = {"Authorization": f"Bearer {admin}"}
    tested = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=10,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

        try:
            check()
        except Unsatisfiable:  # no parameter or body to make invalid (GET /api/health)
            assert mode == GenerationMode.NEGATIVE
            continue
        tested += 1
    assert tested >= 15
