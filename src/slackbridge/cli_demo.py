"""``slackbridge demo [NAME] [--scripted] [--port-base N] [--keep-data]``.

The machinery is imported inside the command so that ``slackbridge --help`` stays instant.
"""

from __future__ import annotations

import typer
from rich.console import Console

__all__ = ["demo_command"]


def demo_command(
    name: str = typer.Argument(
        "helpdesk",
        metavar="[NAME]",
        help="Which example to run: helpdesk, tasks, … (an unknown name lists them).",
        show_default=True,
    ),
    scripted: bool = typer.Option(
        False,
        "--scripted",
        help="Do the whole walkthrough by itself, print each step, exit 0 only if all worked.",
    ),
    port_base: int = typer.Option(
        8000,
        "--port-base",
        help="Gateway on this port, the emulator on +1, the example on +2.",
        show_default=True,
    ),
    keep_data: bool = typer.Option(
        False,
        "--keep-data",
        help="Keep .slackbridge/demo/ (store, keys, log) after the demo ends.",
    ),
) -> None:
    """Run the Slack emulator, the gateway and an example product together (the demo)."""
    from slackbridge.demo.runner import run_demo

    code = run_demo(
        name,
        scripted=scripted,
        port_base=port_base,
        keep_data=keep_data,
        console=Console(),
        err_console=Console(stderr=True),
    )
    if code:
        raise typer.Exit(code)
