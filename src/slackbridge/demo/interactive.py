"""``slackbridge demo`` without ``--scripted``: start everything, say where to click, keep going.

What to do comes from the example (:attr:`~slackbridge.demo.examples.Example.guide`). Once
someone installs the app into a workspace, the demo says so and, when the example names an
``invite_channel`` (the Helpdesk's #support), invites the bot there (as the installing person,
as they would with ``/invite``), so that the next message there reaches the product.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from slackbridge.demo.control import EmulatorControl, find_channel
from slackbridge.demo.stack import DemoStack
from slackbridge.demo.startup import start_everything
from slackbridge.demo.steps import Failure, Steps

__all__ = ["guide", "run_interactive"]

_WATCH_INTERVAL = 1.0


def guide(stack: DemoStack, log_path: str) -> Panel:
    """Where to click and what to do, for a person."""
    urls = stack.urls
    example = stack.example
    name = example.app.display_name or example.name
    links = Table.grid(padding=(0, 2))
    links.add_column(style="bold")
    links.add_column()
    links.add_row("Slack (emulator)", f"{urls.emulator}/")
    links.add_row(name, f"{urls.product}/")
    links.add_row("Add to Slack", urls.install)
    links.add_row("Product API", f"{urls.api}/openapi.json (reference: docs/api.md)")
    links.add_row("API key", str(stack.api_key))
    steps = Table.grid(padding=(0, 1))
    steps.add_column(style="cyan")
    steps.add_column()
    for number, text in enumerate(example.guide(urls), start=1):
        steps.add_row(f"{number}.", text)
    body = Table.grid()
    body.add_row(links)
    body.add_row("")
    body.add_row(steps)
    body.add_row("")
    body.add_row(
        f"[dim]Logs: {log_path} · `slackbridge demo --scripted` does all of this by itself · "
        "Ctrl-C stops everything.[/]"
    )
    return Panel(body, title="slackbridge demo is running", title_align="left", expand=False)


async def _invite_bots(
    control: EmulatorControl, stack: DemoStack, handled: set[str], console: Console
) -> None:
    """Announce each new installation of the app; invite its bot into the example's channel."""
    app_id = stack.app_id
    name = stack.example.app.display_name or stack.example.name
    channel = stack.example.invite_channel
    state = await control.state()
    names = {ws["id"]: ws.get("name") or ws["id"] for ws in state.get("workspaces") or []}
    people = {
        u["id"]: u.get("name") or u["id"]
        for ws in state.get("workspaces") or []
        for u in ws.get("users") or []
    }
    for inst in state.get("installations") or []:
        team_id = inst.get("team_id")
        if inst.get("app_id") != app_id or inst.get("status") != "active" or team_id in handled:
            continue
        handled.add(team_id)
        installer = inst.get("installer_user_id")
        who = people.get(installer, installer or "someone")
        console.print(f"[bold green]✓[/] {name} installed into {names.get(team_id)} by {who}")
        if channel is None:
            continue
        support = find_channel(state, team_id, channel)
        if support is None:
            console.print(f"  [yellow]No #{channel} channel there; invite the bot yourself.[/]")
            continue
        members: list[str] = list(support.get("members") or [])
        inviter = installer if installer in members else (members[0] if members else None)
        if inviter is None or not inst.get("bot_user_id"):
            continue
        try:
            await control.invite(team_id, support["id"], inviter, [inst["bot_user_id"]])
        except Failure as exc:
            console.print(f"  [yellow]Could not invite the bot into #{channel}: {exc}[/]")
            continue
        console.print(
            f"[bold green]✓[/] {people.get(inviter, inviter)} invited the {name} bot into "
            f"#{channel}"
        )


async def _watch_installs(stack: DemoStack, console: Console, stop: asyncio.Event) -> None:
    handled: set[str] = set()
    async with httpx.AsyncClient(timeout=5.0) as http:
        control = EmulatorControl(http, stack.urls.emulator)
        while not stop.is_set():
            if stack.app_id:
                with contextlib.suppress(Failure, httpx.HTTPError):
                    await _invite_bots(control, stack, handled, console)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _WATCH_INTERVAL)


async def run_interactive(
    stack: DemoStack, steps: Steps, stop: asyncio.Event, log_path: str
) -> None:
    """Start everything, print the guide, and serve until ``stop`` is set."""
    await start_everything(stack, steps)
    steps.console.print()
    steps.console.print(guide(stack, log_path))
    await _watch_installs(stack, steps.console, stop)
