"""The webhook client against raw HTTP/1.1 servers on loopback: kept-alive connections, sized and
chunked answers, a pooled connection the server closed, timeouts and refused connections, and
connections opened through a dial (the addresses it vetted, once per connection)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from slackbridge.product.webhook_client import (
    WebhookClient,
    WebhookError,
    WebhookRefused,
    WebhookTimeout,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def _server(handler: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A server on a free port; yields its base URL and a list that grows per connection."""
    connections: list[int] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", connections
    finally:
        server.close()
        await server.wait_closed()


async def _request(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    length = next(
        int(line.split(":", 1)[1])
        for line in head.split("\r\n")
        if line.lower().startswith("content-length")
    )
    return head, await reader.readexactly(length)


async def test_answers_reuse_one_connection_and_headers_reach_the_server() -> None:
    seen: list[tuple[str, bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            b"HTTP/1.1 503 No\r\nRetry-After: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n0\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
        ):
            seen.append(await _request(reader))
            writer.write(answer)

    client = WebhookClient()
    async with _server(handler) as (url, connections):
        first = await client.post(url + "/hook?x=1", b"{}", {"webhook-id": "msg_1"}, timeout=5)
        second = await client.post(url + "/hook", b"[1]", {}, timeout=5)
        third = await client.post(url + "/hook", b"", {}, timeout=5)
    await client.aclose()
    assert (first.status_code, second.status_code, third.status_code) == (200, 503, 204)
    assert second.headers["retry-after"] == "7"
    assert len(connections) == 1  # kept alive through sized, chunked and empty answers
    head, body = seen[0]
    assert head.startswith("POST /hook?x=1 HTTP/1.1\r\n")
    assert "webhook-id: msg_1" in head and body == b"{}"


async def test_a_pooled_connection_the_server_closed_is_replaced() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        # ... then the server drops the idle connection.

    client = WebhookClient()
    async with _server(handler) as (url, connections):
        assert (await client.post(url, b"1", {}, timeout=5)).status_code == 200
        await asyncio.sleep(0)  # let the close reach the client
        assert (await client.post(url, b"2", {}, timeout=5)).status_code == 200
    await client.aclose()
    assert len(connections) == 2


async def test_no_answer_in_time_is_a_timeout_and_no_server_an_error() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        await asyncio.Event().wait()  # never answers

    client = WebhookClient()
    async with _server(silent) as (url, _connections):
        with pytest.raises(WebhookTimeout):
            await client.post(url, b"x", {}, timeout=0.2)
    with pytest.raises(WebhookError):
        await client.post(url, b"x", {}, timeout=5)  # the server is gone: refused
    with pytest.raises(WebhookError, match="bad webhook URL"):
        await client.post("ftp://example.com/x", b"x", {}, timeout=5)
    await client.aclose()


async def test_a_dial_picks_the_addresses_once_per_connection_and_the_name_stays_the_host() -> None:
    heads: list[str] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(3):
            head, _body = await _request(reader)
            heads.append(head)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    dialled: list[tuple[str, int]] = []

    async def dial(host: str, port: int) -> list[str]:
        dialled.append((host, port))
        # The first address has nobody listening (no IPv6 server here): the next one is tried.
        return ["::1", "127.0.0.1"]

    client = WebhookClient(dial=dial)
    async with _server(handler) as (url, connections):
        port = int(url.rsplit(":", 1)[1])
        for n in range(3):
            answer = await client.post(f"http://product.test:{port}/hook", b"{}", {}, timeout=5)
            assert answer.status_code == 200, n
    await client.aclose()
    assert dialled == [("product.test", port)]  # one connection, kept alive: one dial
    assert len(connections) == 1 and len(heads) == 3
    assert all(f"host: product.test:{port}" in head.lower() for head in heads)


async def test_a_refusing_dial_sends_nothing() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    async def dial(host: str, port: int) -> list[str]:
        raise WebhookRefused(f"refused: {host} resolves to 169.254.169.254")

    client = WebhookClient(dial=dial)
    async with _server(handler) as (url, connections):
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(WebhookRefused, match=r"169\.254\.169\.254"):
            await client.post(f"http://sneaky.test:{port}/hook", b"{}", {}, timeout=5)
    await client.aclose()
    assert connections == []


async def test_a_dial_with_no_address_is_an_error() -> None:
    async def dial(host: str, port: int) -> list[str]:
        return []

    client = WebhookClient(dial=dial)
    with pytest.raises(WebhookError, match=r"no address to connect to for nowhere\.test"):
        await client.post("http://nowhere.test/hook", b"{}", {}, timeout=5)
    await client.aclose()
