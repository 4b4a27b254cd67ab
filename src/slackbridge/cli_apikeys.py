"""``slackbridge apikey create|list|revoke``: the product API's keys.

A key is printed once, at creation; only its SHA-256 digest is stored. Keys may also be given in
``SLACKBRIDGE_API_KEYS`` (a comma list), which needs no store at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

if TYPE_CHECKING:
    from slackbridge.server import Gateway

__all__ = ["apikey_app"]

apikey_app = typer.Typer(
    help="Create, list and revoke API keys for the product API.", no_args_is_help=True
)
_console = Console()
_err = Console(stderr=True)
_T = TypeVar("_T")


def _fail(message: str, hint: str | None = None) -> typer.Exit:
    _err.print(f"[bold red]Error:[/] {message}")
    if hint:
        _err.print(f"[dim]{hint}[/]")
    return typer.Exit(code=1)


def _run(job: Callable[[Gateway], Awaitable[_T]]) -> _T:
    """Run ``job`` against the configured store, with friendly errors."""
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError, OperationalError

    from slackbridge.settings import get_settings
    from slackbridge.slack.standalone import open_gateway
    from slackbridge.store.crypto import DecryptionError, SecretKeyError
    from slackbridge.store.db import DatabaseConfigError, mask_url

    try:
        settings = get_settings()
    except ValidationError as exc:
        raise _fail(f"invalid configuration: {exc}") from None

    async def main() -> _T:
        async with open_gateway(settings) as gateway:
            return await job(gateway)

    try:
        return asyncio.run(main())
    except (SecretKeyError, DecryptionError, DatabaseConfigError) as exc:
        raise _fail(str(exc)) from None
    except (OperationalError, DBAPIError, OSError) as exc:
        raise _fail(
            f"could not use the database {mask_url(settings.effective_database_url)}: "
            f"{str(exc).splitlines()[0]}",
            "Check SLACKBRIDGE_DATABASE_URL and that the database server is running.",
        ) from None


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
        raise _fail("the key's name must be 1 to 255 characters")

    async def job(gateway: Gateway) -> tuple[str, str]:
        created = await ApiKeysRepository(gateway.db, gateway.keyring).create(name)
        return created.secret, created.key.prefix

    secret, prefix = _run(job)
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

    keys = _run(job)
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

    if not _run(job):
        raise _fail(
            f"no active API key with prefix {prefix!r}",
            "See the keys with: slackbridge apikey list",
        )
    _console.print(f"Revoked [bold]{prefix}[/].")
