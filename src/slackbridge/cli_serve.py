"""``slackbridge serve``: the gateway on ``--host``/``--port``.

Everything that can stop the gateway from starting is checked first and explained in one line
with what to do (the settings, the database URL and server, the secret keys, the configured apps,
the address to listen on); only then does uvicorn run, on the socket already bound here so that
nothing can take the port in between.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from slackbridge.cli_common import (
    check_database_url,
    describe,
    explain,
    fail,
    first_line,
    load_settings,
    run_with_gateway,
)

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from slackbridge.runtime import Gateway

__all__ = ["serve_command"]

_console = Console()


def _bind(host: str, port: int) -> socket.socket:
    from slackbridge.demo.servers import PortUnavailable, bind_port

    try:
        return bind_port(host, port, "the gateway")
    except PortUnavailable as exc:
        if exc.in_use:
            hint = "Stop the program using it, or pass --port (or set SLACKBRIDGE_PORT)."
        else:
            hint = (
                "Pass --host/--port (or set SLACKBRIDGE_HOST/SLACKBRIDGE_PORT) to an address of "
                "this machine that this user may listen on (ports below 1024 need privileges)."
            )
        raise fail(str(exc), hint) from None


class _StartupGuard:
    """Keeps an exception of the app's start-up for the command to explain. uvicorn would log
    the traceback; it is left out when the problem is one the command can explain (the
    pre-flight check catches most of them earlier), kept for anything else (a bug)."""

    def __init__(self, app: ASGIApp, known: Callable[[BaseException], bool]) -> None:
        self.app = app
        self.known = known
        self.failure: Exception | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_failure(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                held.append(message)  # its text is the traceback; sent once the cause is known
                return
            await send(message)

        try:
            await self.app(scope, receive, hold_failure)
        except Exception as exc:  # start-up failed: uvicorn is told below, and stops
            self.failure = exc
            if held and self.known(exc):
                held[0] = {**held[0], "message": ""}
        if held:
            await send(held[0])


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def public_url_mismatch(public_url: str, port: int) -> str | None:
    """A warning when ``SLACKBRIDGE_PUBLIC_URL`` names this machine's loopback on another port
    than the one the gateway listens on: Slack's request URLs, the OAuth redirect and the install
    links are built from it, so they would lead elsewhere. A public URL elsewhere (a proxy, a
    load balancer) may well use another port, and is left alone."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(public_url)
        url_port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    if (parts.hostname or "") not in _LOOPBACK or url_port in (None, port):
        return None
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    fixed = parts._replace(netloc=f"{host}:{port}").geturl()
    return (
        f"SLACKBRIDGE_PUBLIC_URL is {public_url}, but the gateway listens on port {port}: "
        f"Slack's request URLs and the install links lead to port {url_port}. Set "
        f"SLACKBRIDGE_PUBLIC_URL={fixed} (then run `slackbridge apps provision` again)."
    )


async def _ready(gateway: Gateway) -> None:
    """What start-up reads besides opening the store: the stored apps (their secrets decrypt)."""
    from slackbridge.slack.workspaces.apps import list_apps

    await list_apps(gateway, fresh=True)


def serve_command(
    host: str = typer.Option(None, help="Interface to listen on (default 127.0.0.1)."),
    port: int = typer.Option(None, min=1, max=65535, help="Port to listen on (default 8000)."),
) -> None:
    """Run the gateway (upgrades the database schema on start)."""
    import uvicorn

    from slackbridge.logs import configure_logging
    from slackbridge.server import create_app

    settings = load_settings()
    bind_host = host or settings.host
    bind_port = port or settings.port
    if not isinstance(logging.getLevelName(settings.log_level.upper()), int):
        raise fail(
            f"SLACKBRIDGE_LOG_LEVEL={settings.log_level} is not a log level",
            "Use DEBUG, INFO, WARNING or ERROR.",
        )
    database = check_database_url(settings)
    sock = _bind(bind_host, bind_port)
    try:
        run_with_gateway(settings, _ready)
        configure_logging(settings.log_level, json=settings.log_json)
        _console.print(
            f"[bold]slackbridge[/] gateway on http://{bind_host}:{bind_port} "
            f"(Slack API: {settings.slack_api_url}, public URL: {settings.public_url})"
        )
        mismatch = public_url_mismatch(settings.public_url, bind_port)
        if mismatch:
            _console.print(f"[yellow]Warning:[/] {mismatch}", highlight=False)
        guard = _StartupGuard(create_app(settings), lambda exc: describe(exc, database) is not None)
        config = uvicorn.Config(
            guard,
            host=bind_host,
            port=bind_port,
            log_config=None,
            access_log=False,
            lifespan="on",
            # The gateway reads neither the client's address nor the scheme from requests
            # (links are built from SLACKBRIDGE_PUBLIC_URL): no X-Forwarded-* rewriting, which
            # saves a middleware on every request.
            proxy_headers=False,
            # No "server: uvicorn" on every answer: it tells a scanner what runs here and costs
            # a header per request.
            server_header=False,
        )
        server = uvicorn.Server(config)
        with contextlib.suppress(SystemExit):  # uvicorn's way out of a failed start-up
            server.run(sockets=[sock])
    finally:
        sock.close()
    if guard.failure is not None:
        friendly = explain(guard.failure, database)
        raise friendly or fail(
            f"the gateway could not start: {type(guard.failure).__name__}: "
            f"{first_line(guard.failure)}",
            "The log above has the details.",
        )
    if not server.started:
        raise fail("the gateway did not start; the log above says why")
