"""The start-up guard of ``slackbridge serve``: a start-up failure is kept for the command to
explain; its traceback goes to uvicorn only when the command can't explain it (a bug)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from slackbridge.cli_serve import _StartupGuard, public_url_mismatch
from slackbridge.slack.workspaces.apps import AppConfigError


def _failing(exc: Exception) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        raise exc
        yield  # pragma: no cover

    return Starlette(lifespan=lifespan)


async def _start(guard: _StartupGuard) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    messages = iter([{"type": "lifespan.startup"}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await guard({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    return sent


@pytest.mark.parametrize(
    ("exc", "traceback_kept"),
    [(AppConfigError("two apps are named a"), False), (RuntimeError("a bug"), True)],
)
async def test_a_start_up_failure_is_kept_and_reported_once(
    exc: Exception, traceback_kept: bool
) -> None:
    guard = _StartupGuard(_failing(exc), lambda e: isinstance(e, AppConfigError))
    (failed,) = await _start(guard)
    assert failed["type"] == "lifespan.startup.failed"
    assert guard.failure is exc
    assert ("Traceback" in failed["message"]) is traceback_kept


@pytest.mark.parametrize(
    ("public_url", "port", "fixed"),
    [
        ("http://127.0.0.1:8000", 18400, "http://127.0.0.1:18400"),
        ("http://localhost:8000/", 9000, "http://localhost:9000/"),
        ("http://127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("http://[::1]:8000", 8001, "http://[::1]:8001"),
    ],
)
def test_a_loopback_public_url_on_another_port_is_warned_about(
    public_url: str, port: int, fixed: str
) -> None:
    warning = public_url_mismatch(public_url, port)
    assert warning is not None
    assert f"listens on port {port}" in warning
    assert f"SLACKBRIDGE_PUBLIC_URL={fixed} " in warning
    assert "slackbridge apps provision" in warning


@pytest.mark.parametrize(
    ("public_url", "port"),
    [
        ("http://127.0.0.1:8000", 8000),
        ("https://bridge.example.com", 8000),  # behind a proxy: any port
        ("http://10.0.0.5:80", 8000),
        ("http://[::1]:8000", 8000),
        ("not a url", 8000),
    ],
)
def test_a_public_url_that_fits_or_is_elsewhere_is_not_warned_about(
    public_url: str, port: int
) -> None:
    assert public_url_mismatch(public_url, port) is None
