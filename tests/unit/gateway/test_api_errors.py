"""The API's error shape, for errors the integration tests can't provoke (a crash)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from slackbridge.api.errors import (
    ERROR_CODES,
    ApiError,
    error_responses,
    install_error_handlers,
    refusal,
)
from slackbridge.operations.errors import (
    ApiKeyNotFound,
    DeliveriesNotRetryable,
    EndpointNotFound,
    InvalidInput,
    OperationError,
    SecretConfigured,
)


async def test_an_unexpected_exception_is_a_500_in_the_error_shape(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        answer = await client.get("/boom")
    assert answer.status_code == 500
    assert answer.json() == {
        "error": {"code": "internal_error", "message": ERROR_CODES["internal_error"][1]}
    }
    assert "kaput" not in answer.text
    assert "unexpected error in GET /boom" in caplog.text


def test_codes_know_their_status_and_routes_document_them() -> None:
    assert ApiError("workspace_disconnected").status == 503
    assert ApiError("rate_limited", headers={"Retry-After": "3"}).headers == {"Retry-After": "3"}
    documented = error_responses("workspace_not_found", "rate_limited", "payload_too_large")
    # 401, 403 (permission_denied), 413 and 422: every route.
    assert set(documented) == {401, 403, 404, 413, 422, 429}
    assert documented[401]["description"] == "Error codes: `invalid_api_key`, `missing_api_key`"
    assert documented[403]["description"] == "Error codes: `permission_denied`"
    assert "`workspace_not_found`" in documented[404]["description"]
    assert documented[413]["description"] == "Error codes: `payload_too_large`"  # once
    statuses = {status for status, _ in ERROR_CODES.values()}
    assert statuses == {401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503}


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (EndpointNotFound("no webhook endpoint has id 7", "list them"), 404, "endpoint_not_found"),
        (SecretConfigured("set in the configuration", "change it there"), 409, "secret_configured"),
        (InvalidInput("the limit must be at least 1"), 422, "invalid_request"),
        (ApiKeyNotFound("no active API key with prefix 'x'"), 404, "not_found"),
        (DeliveriesNotRetryable([(3, "pending")]), 422, "invalid_request"),
    ],
)
async def test_an_operator_action_refused_answers_its_code_and_status(
    error: OperationError, status: int, code: str
) -> None:
    assert (refusal(error).status, refusal(error).code) == (status, code)
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/act")
    async def act() -> None:
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        answer = await client.get("/act")
    assert answer.status_code == status
    assert answer.json() == {"error": {"code": code, "message": str(error)}}
