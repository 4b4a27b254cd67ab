"""Serve several ASGI apps in one process, each under its own uvicorn server on a loopback port.

Ports are bound up front (:func:`bind_port`), before anything starts, so that a port in use is
reported at once with its role and no other program can take it in between. The servers leave
signal handling to the caller (one process, one Ctrl-C handler for all of them).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import time
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from typing import Any

import uvicorn

__all__ = ["PortUnavailable", "RunningApp", "ServerFailed", "bind_port", "serve"]


class PortUnavailable(OSError):
    """A port can't be listened on; the message names its role. ``in_use``: another program
    holds it (rather than a bad address or a privileged port)."""

    def __init__(self, message: str, *, in_use: bool = False) -> None:
        super().__init__(message)
        self.in_use = in_use


class ServerFailed(RuntimeError):
    """A server stopped before it was ready (usually its app failed to start)."""


@dataclass(frozen=True)
class RunningApp:
    """An app being served."""

    name: str
    url: str  # http://127.0.0.1:<port>, no trailing slash


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the process (the demo handles Ctrl-C once)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind_port(host: str, port: int, role: str) -> socket.socket:
    """A listening socket on ``host:port`` for ``role`` (e.g. "the gateway").

    Raises :class:`PortUnavailable` with a friendly message when the port is taken.
    """
    if not 0 < port < 65536:
        raise PortUnavailable(f"port {port} for {role} is not between 1 and 65535")
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
    except (OSError, UnicodeError) as exc:
        raise PortUnavailable(f"cannot listen on {host}:{port} ({role}): {exc}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortUnavailable(f"port {port} ({role}) is already in use", in_use=True) from None
        raise PortUnavailable(
            f"cannot listen on {host}:{port} ({role}): {exc.strerror or exc}"
        ) from None
    sock.setblocking(False)
    return sock


@contextlib.asynccontextmanager
async def serve(
    app: Any,
    sock: socket.socket,
    name: str,
    *,
    startup_timeout: float = 30.0,
    shutdown_timeout: float = 5.0,
) -> AsyncIterator[RunningApp]:
    """Serve ``app`` on ``sock`` until the block exits (the socket is closed afterwards).

    Returns once the app's lifespan has started; raises :class:`ServerFailed` if it doesn't.
    """
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(max(1, shutdown_timeout)),
    )
    server = _Server(config)

    async def run() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:  # uvicorn exits when the lifespan start-up fails
            raise ServerFailed(f"{name} failed to start (exit code {exc.code})") from None

    task = asyncio.create_task(run(), name=f"serve:{name}")
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if task.done():
                task.result()
                raise ServerFailed(f"{name} stopped while starting; see the log")
            if time.monotonic() > deadline:
                raise ServerFailed(f"{name} did not start within {startup_timeout:.0f} s")
            await asyncio.sleep(0.02)
        yield RunningApp(name=name, url=f"http://{host}:{port}")
    finally:
        server.should_exit = True
        try:
            done, _ = await asyncio.wait({task}, timeout=shutdown_timeout + 5)
            if not done:
                server.force_exit = True
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            elif not task.cancelled():
                task.exception()  # retrieved: a start-up failure was already raised above
        finally:
            sock.close()
