"""Run an ASGI app under uvicorn on 127.0.0.1 with a free port, for tests that need real HTTP.

Usage::

    async with serve_asgi(app) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            ...

The socket is bound before uvicorn starts (port 0, so the kernel picks a free port and no other
test can take it in between), the context manager returns once the app's lifespan has started
and the socket accepts connections, and leaving it shuts the server down (lifespan shutdown
included) and waits for it. A lifespan that fails to start raises :class:`ServerStartError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from typing import Any

import uvicorn

__all__ = ["RunningServer", "ServerStartError", "bind_loopback", "free_port", "serve_asgi"]


class ServerStartError(RuntimeError):
    """The server stopped before it was ready (usually the app's lifespan start-up failed)."""


@dataclass(frozen=True)
class RunningServer:
    """A server started by :func:`serve_asgi`."""

    host: str
    port: int
    server: uvicorn.Server

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:<port>``."""
        return f"ws://{self.host}:{self.port}"


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the test runner's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (prefer :func:`serve_asgi`, which cannot race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def bind_loopback(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket on a free loopback port, for an app that must know its own URL
    before it is built: read ``sock.getsockname()[1]``, then pass ``sock=`` to
    :func:`serve_asgi` (which closes it)."""
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError("test servers listen on loopback only")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def _accepts(host: str, port: int) -> bool:
    try:
        _reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


@contextlib.asynccontextmanager
async def serve_asgi(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    lifespan: str = "on",
    startup_timeout: float = 20.0,
    shutdown_timeout: float = 10.0,
    ws: str = "auto",
    sock: socket.socket | None = None,
) -> AsyncIterator[RunningServer]:
    """Serve ``app`` on ``host`` (loopback only) until the block exits.

    ``port=0`` picks a free port; ``sock`` (from :func:`bind_loopback`) serves on a socket
    bound earlier. ``shutdown_timeout`` bounds how long open connections (for example a
    websocket a test forgot to close) may delay the shutdown.
    """
    if sock is None:
        sock = bind_loopback(host, port)
    host = sock.getsockname()[0]
    bound_port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan=lifespan,
        log_config=None,
        access_log=False,
        ws=ws,
        timeout_graceful_shutdown=int(max(1, shutdown_timeout)),
    )
    server = _QuietServer(config)

    async def _run() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:  # uvicorn exits when the lifespan start-up fails
            raise ServerStartError(f"server exited during start-up (code {exc.code})") from None

    task = asyncio.create_task(_run(), name=f"uvicorn:{bound_port}")
    try:
        deadline = time.monotonic() + startup_timeout
        while not (server.started and await _accepts(host, bound_port)):
            if task.done():
                task.result()  # raises ServerStartError or the server's own exception
                raise ServerStartError("server stopped before it started")
            if time.monotonic() > deadline:
                raise ServerStartError(f"server not ready after {startup_timeout:.0f}s")
            await asyncio.sleep(0.02)
        yield RunningServer(host=host, port=bound_port, server=server)
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), shutdown_timeout + 5)
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        except ServerStartError:
            pass
        finally:
            sock.close()
