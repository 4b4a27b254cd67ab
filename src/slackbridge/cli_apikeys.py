"""``slackbridge apikey create|list|revoke``: the product API's keys.

A key is printed once, at creation; only its SHA-256 digest is stored. Keys may also be given in
``SLACKBRIDGE_API_KEYS`` (a comma list), which needs no store at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from slackbridge.cli_common import fail, run_job

if TYPE_CHECKING:
    from slackbridge.server import Gateway

__all__ = ["apikey_app"]

apikey_app = typer.Typer(
    help="Create, list and revoke API keys for the product API.", no_args_is_help=True
)
_console = Console()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


@apikey_app.command("create")
def create(
    name: str = typer.Argument(..., help="What the key is for (e.g. helpdesk-prod)."),
) -> None:
    """Create a key and print it (once: it is stored only as a digest)."""
    from slackbridge.store.repositories.api_keys import ApiKeysRepository

    name = name.strip()
    if not name or len(name) > 255:
        raise fail("the key's name must be 1 to 255 characters")

    async def job(gateway: Gateway) -> tuple[str, str]:
        created = await ApiKeysRepository(gateway.db, gateway.keyring).create(name)
        return created.secret, created.key.prefix

    secret, prefix = run_job(job)
    _console.print(
        Panel(
            f"[bold]{secret}[/]\n\n"
            "Send it as [cyan]Authorization: Bearer <key>[/] to /api/v1/.\n"
            "Store it now: it is not shown again "
            f"(revoke it with [cyan]slackbridge apikey revoke {prefix}[/]).",
            title=f"API key {name!r} created",
            border_style="green",
        )
    )


@apikey_app.command("list")
def list_keys(
    all_keys: bool = typer.Option(False, "--all", help="Include revoked keys."),
) -> None:
    """List the stored keys (their prefixes, never the keys)."""
    from slackbridge.store.repositories.api_keys import ApiKey, ApiKeysRepository

    async def job(gateway: Gateway) -> list[ApiKey]:
        return await ApiKeysRepository(gateway.db, gateway.keyring).list(include_revoked=all_keys)

    keys = run_job(job, existing_store=True)
    if not keys:
        _console.print("No API keys yet. Create one with [cyan]slackbridge apikey create NAME[/].")
        return
    table = Table(title="API keys")
    for column in ("prefix", "name", "created", "last used", "status"):
        table.add_column(column)
    for key in keys:
        status = "[green]active[/]" if key.active else f"[red]revoked {_when(key.revoked_at)}[/]"
        table.add_row(
            f"sbk_{key.prefix}",
            key.name,
            _when(key.created_at),
            _when(key.last_used_at),
            status,
        )
    _console.print(table)


@apikey_app.command("revoke")
def revoke(
    prefix: str = typer.Argument(..., help="The key's prefix (sbk_xxxxxxxx) or the whole key."),
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from slackbridge.store.repositories.api_keys import ApiKeysRepository

    async def job(gateway: Gateway) -> bool:
        return await ApiKeysRepository(gateway.db, gateway.keyring).revoke(prefix.strip())

    if not run_job(job, existing_store=True):
        raise fail(
            f"no active API key with prefix {prefix!r}",
            "See the keys with: slackbridge apikey list",
        )
    _console.print(f"Revoked [bold]{prefix}[/].")
