"""The ``slackbridge`` command line (Typer).

Each command imports its machinery lazily so that ``slackbridge --help`` stays instant.
"""

from __future__ import annotations

import typer
from rich.console import Console

from slackbridge.store.cli import db_app, secrets_app

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


app.add_typer(db_app, name="db")
app.add_typer(secrets_app, name="secrets")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
