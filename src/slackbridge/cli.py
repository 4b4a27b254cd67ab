"""The ``slackbridge`` command line (Typer).

Each command imports its machinery lazily so that ``slackbridge --help`` stays instant.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from slackbridge.cli_apikeys import apikey_app
from slackbridge.cli_deliveries import deliveries_app, webhooks_app
from slackbridge.cli_demo import demo_command
from slackbridge.cli_serve import serve_command
from slackbridge.cli_store import db_app, secrets_app
from slackbridge.cli_webhooks import webhook_secrets_app
from slackbridge.cli_workspaces import apps_app, manifest_command, workspaces_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="slackbridge",
    help="A self-hosted Slack integration gateway, with a faithful Slack emulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """A self-hosted Slack integration gateway, with a faithful Slack emulator."""


@app.command()
def version() -> None:
    """Print slackbridge's version."""
    from slackbridge import __version__

    console.print(f"slackbridge {__version__}")


@app.command()
def emulator(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8001, help="Port to listen on."),
    seed: Path | None = typer.Option(
        None, help="Seed file (.toml or .json) with workspaces, users and channels."
    ),
    speed: float = typer.Option(
        1.0, help="Time factor for Slack's waits (retries, expiries); 60 makes a minute a second."
    ),
    rate_limits: bool = typer.Option(True, help="Apply Slack's Web API rate limits."),
    history_limits: str = typer.Option(
        "default",
        help="conversations.history/replies limits: default (Tier 3), or non-marketplace "
        "(1 request a minute, at most 15 messages a page).",
    ),
) -> None:
    """Run the Slack emulator (default 127.0.0.1:8001)."""
    from slackbridge.emulator.runner import run_emulator

    code = run_emulator(
        host=host,
        port=port,
        seed_path=seed,
        speed=speed,
        rate_limits=rate_limits,
        history_limits=history_limits,
        console=console,
        err_console=err_console,
    )
    if code:
        raise typer.Exit(code)


app.command("serve")(serve_command)
app.add_typer(db_app, name="db")
app.add_typer(secrets_app, name="secrets")
app.command("manifest")(manifest_command)
app.command("demo")(demo_command)
app.add_typer(apps_app, name="apps")
app.add_typer(workspaces_app, name="workspaces")
app.add_typer(deliveries_app, name="deliveries")
webhooks_app.add_typer(webhook_secrets_app, name="secrets")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(apikey_app, name="apikey")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
