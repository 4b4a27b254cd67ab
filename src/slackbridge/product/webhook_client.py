"""The HTTP client that posts product webhooks: HTTP/1.1 over kept-alive connections.

Delivery shares the gateway's event loop with the ingress, so its CPU per webhook is taken
from Slack's acks. A general-purpose client spent about a millisecond of CPU per request here
(bench/RESULTS.md), most of it in layers a webhook doesn't need (an async-library sniffing per
call, a generic connection pool, streaming response models); this one writes the request in one
call and reads the answer with the stream reader's own buffer, about a tenth of that.

What it does: ``http`` and ``https`` URLs, one pool of idle connections per origin (scheme, host,
port), ``Content-Length`` and chunked answers (the body is read and dropped, up to
:data:`MAX_BODY`; a longer one closes the connection), ``Connection: close`` honoured, redirects
never followed (a 3xx is an answer like any other). A request that fails on a connection taken
from the pool before any answer byte came back is tried once more on a new connection: the
server may have closed an idle connection at the same moment (receivers dedupe on
``webhook-id`` in any case). Proxies from the environment are not used. Given a ``dial``, a new
connection goes to the addresses it returns for the URL's host, in order, instead of the name
(TLS still checks the certificate against the name): the delivery worker resolves and vets the
name there once per connection (product/webhook_addresses.py).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

__all__ = [
    "MAX_BODY",
    "Dial",
    "WebhookClient",
    "WebhookError",
    "WebhookRefused",
    "WebhookResponse",
    "WebhookTimeout",
]

#: Bytes of an answer's body read before the connection is dropped instead of reused.
MAX_BODY = 1 << 20
_MAX_HEAD = 64 * 1024
_IDLE_PER_ORIGIN = 64


class WebhookError(Exception):
    """The request got no HTTP answer (refused, reset, malformed answer, bad URL)."""


class WebhookTimeout(WebhookError):
    """No complete answer within the timeout."""


class WebhookRefused(WebhookError):
    """The dial refused the host: nothing was sent (the message says why)."""


#: ``(host, port)`` → the addresses a new connection may use, in order; raises
#: :class:`WebhookRefused` (or :class:`WebhookError`) when there are none.
Dial = Callable[[str, int], Awaitable[list[str]]]


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int
    headers: Mapping[str, str]  # names in lower case


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class _Stale(Exception):
    """A pooled connection failed before any answer byte: safe to try on a new one."""


class WebhookClient:
    """Posts to webhook URLs (see the module doc); :meth:`aclose` when done."""

    def __init__(
        self, *, ssl_context: ssl.SSLContext | None = None, dial: Dial | None = None
    ) -> None:
        self._ssl = ssl_context
        self._dial = dial
        self._idle: dict[_Origin, list[_Conn]] = {}

    @property
    def dials(self) -> bool:
        """Whether new connections go to the addresses ``dial`` gives (see the module doc)."""
        return self._dial is not None

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        timeout: float,  # noqa: ASYNC109 (one deadline for connect, write and read)
    ) -> WebhookResponse:
        """POST ``body`` to ``url``; the answer's status and headers. Raises
        :class:`WebhookTimeout` or :class:`WebhookError` when no answer came."""
        origin, start = _parse(url)
        fields = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
        request = f"{start}{fields}content-length: {len(body)}\r\n\r\n".encode("latin-1") + body
        try:
            async with asyncio.timeout(timeout):
                pooled = self._take(origin)
                if pooled is not None:
                    try:
                        return await self._exchange(origin, pooled, request, reused=True)
                    except _Stale:
                        pass
                conn = await self._connect(origin)
                try:
                    return await self._exchange(origin, conn, request, reused=False)
                except _Stale as exc:
                    raise WebhookError(str(exc.__cause__ or exc)) from None
        except TimeoutError:
            raise WebhookTimeout(f"no answer within {timeout:g}s") from None

    def _take(self, origin: _Origin) -> _Conn | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
                return conn
            conn.close()
        return None

    async def _connect(self, origin: _Origin) -> _Conn:
        hosts = [origin.host] if self._dial is None else await self._dial(origin.host, origin.port)
        if not hosts:
            raise WebhookError(f"no address to connect to for {origin.host}")
        failed: Exception | None = None
        for host in hosts:
            try:
                if origin.scheme == "https":
                    reader, writer = await asyncio.open_connection(
                        host, origin.port, ssl=self._context(), server_hostname=origin.host
                    )
                else:
                    reader, writer = await asyncio.open_connection(host, origin.port)
            except (OSError, ssl.SSLError) as exc:
                failed = exc
                continue
            return _Conn(reader, writer)
        raise WebhookError(f"{failed.__class__.__name__}: {failed}") from None

    async def _exchange(
        self, origin: _Origin, conn: _Conn, request: bytes, *, reused: bool
    ) -> WebhookResponse:
        answered = False
        try:
            conn.writer.write(request)
            head = await conn.reader.readuntil(b"\r\n\r\n")
            answered = True
            status, headers = _head(head)
            keep = await _drain_body(conn.reader, status, headers)
        except asyncio.CancelledError:
            conn.close()
            raise
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
            conn.close()
            if reused and not answered:
                raise _Stale(str(e)) from e
            if isinstance(e, ValueError):
                raise WebhookError(f"malformed answer: {e}") from None
            raise WebhookError(f"{e.__class__.__name__}: {e}") from None
        if keep and headers.get("connection", "").lower() != "close":
            idle = self._idle.setdefault(origin, [])
            if len(idle) < _IDLE_PER_ORIGIN:
                idle.append(conn)
            else:
                conn.close()
        else:
            conn.close()
        return WebhookResponse(status, headers)

    async def aclose(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


@lru_cache(maxsize=256)  # every delivery to an endpoint posts to the same URL
def _parse(url: str) -> tuple[_Origin, str]:
    """The origin, and the request's start (its request line, ``host`` and, from the URL's
    userinfo, Basic ``authorization``: a webhook URL like ``https://user:pw@host/hook``
    authenticates the way browsers and httpx do), each line ended."""
    origin, target, credentials = _split(url)
    host = origin.host if ":" not in origin.host else f"[{origin.host}]"
    default = 443 if origin.scheme == "https" else 80
    authority = host if origin.port == default else f"{host}:{origin.port}"
    start = f"POST {target} HTTP/1.1\r\nhost: {authority}\r\n"
    if credentials is not None:
        start += f"authorization: {credentials}\r\n"
    return origin, start


def _split(url: str) -> tuple[_Origin, str, str | None]:
    """The origin, the request target, and Basic credentials from the URL's userinfo."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookError(f"bad webhook URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(f"bad webhook URL {url!r}: http(s)://host/path expected")
    default = 443 if parts.scheme == "https" else 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    credentials = None
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        credentials = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return _Origin(parts.scheme, parts.hostname, port or default), target, credentials


def _head(raw: bytes) -> tuple[int, dict[str, str]]:
    if len(raw) > _MAX_HEAD:
        raise ValueError("answer head too long")
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _drain_body(
    reader: asyncio.StreamReader, status: int, headers: Mapping[str, str]
) -> bool:
    """Read the answer's body (dropped); whether the connection can be used again."""
    if status in (204, 304) or 100 <= status < 200:
        return True  # never a body
    if "chunked" in headers.get("transfer-encoding", "").lower():
        total = 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            total += size
            if total > MAX_BODY:
                return False
            await reader.readexactly(size + 2)
            if size == 0:
                return True
    length = headers.get("content-length")
    if length is None:
        return False  # the body runs to the end of the connection: nothing to reuse
    size = int(length)
    if size > MAX_BODY:
        return False
    if size:
        await reader.readexactly(size)
    return True
