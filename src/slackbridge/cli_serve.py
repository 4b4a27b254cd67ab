"""``slackbridge serve``: the gateway on ``--host``/``--port``.

Everything that can stop the gateway from starting is checked first and explained in one line
with what to do (the settings, the database URL and server, the secret keys, the configured apps,
the address to listen on); only then does uvicorn run, on the socket already bound here so that
nothing can take the port in between.
"""

from __future__ import annotations

import logging
import socket

import typer
from rich.console import Console

from slackbridge.cli_common import check_database_url, fail, load_settings, run_with_gateway

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


async def _ready(_gateway: object) -> None:
    """Nothing to do: opening the gateway (store, schema, keys, apps) was the check."""


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
    check_database_url(settings)
    sock = _bind(bind_host, bind_port)
    try:
        run_with_gateway(settings, _ready)
        configure_logging(settings.log_level, json=settings.log_json)
        _console.print(
            f"[bold]slackbridge[/] gateway on http://{bind_host}:{bind_port} "
            f"(Slack API: {settings.slack_api_url}, public URL: {settings.public_url})"
        )
        config = uvicorn.Config(
            create_app(settings),
            host=bind_host,
            port=bind_port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        raise fail("the gateway did not start; the log above says why")
