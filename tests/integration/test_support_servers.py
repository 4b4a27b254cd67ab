"""The shared test helper that serves an ASGI app on a loopback port."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.support.servers import ServerStartError, _accepts, bind_loopback, serve_asgi


def _app(events: list[str], *, fail: bool = False) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if fail:
            raise RuntimeError("start-up failed on purpose")
        events.append("startup")
        yield
        events.append("shutdown")

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"hello from {request.url.port}")

    return Starlette(routes=[Route("/", hello)], lifespan=lifespan)


async def test_serves_on_a_free_loopback_port_and_shuts_down_cleanly() -> None:
    events: list[str] = []
    async with serve_asgi(_app(events)) as server:
        assert events == ["startup"]
        assert server.url == f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient() as client:
            response = await client.get(server.url + "/")
        assert response.text == f"hello from {server.port}"
    assert events == ["startup", "shutdown"]
    assert not await _accepts("127.0.0.1", server.port)


async def test_two_servers_get_different_ports() -> None:
    async with serve_asgi(_app([])) as one, serve_asgi(_app([])) as two:
        assert one.port != two.port


async def test_failed_lifespan_raises_instead_of_hanging() -> None:
    with pytest.raises(ServerStartError):
        async with serve_asgi(_app([], fail=True)):
            pytest.fail("the block must not run when start-up failed")


async def test_refuses_non_loopback_hosts() -> None:
    with pytest.raises(ValueError, match="loopback"):
        async with serve_asgi(_app([]), host="0.0.0.0"):
            pass


async def test_serves_on_a_socket_bound_beforehand() -> None:
    sock = bind_loopback()
    port = sock.getsockname()[1]
    async with serve_asgi(_app([]), sock=sock) as server:
        assert server.port == port
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/")).status_code == 200
