"""``slackbridge apikey create|list|revoke``: the product API's keys.

A key is printed once, at creation; only its SHA-256 digest is stored. Keys may also be given in
``SLACKBRIDGE_API_KEYS`` (a comma list), which needs no store at all; those may do everything.

A stored key has a scope: its permissions (``--scope read,write,admin``; ``read,write`` when not
given) and the workspaces it may touch (``--workspace T…`` and ``--ref REF``, each repeatable;
every workspace when neither is given).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from slackbridge.cli_common import refused, run_job

if TYPE_CHECKING:
    from slackbridge.runtime import Gateway
    from slackbridge.store.repositories.api_keys import ApiKeyScope

__all__ = ["apikey_app"]

apikey_app = typer.Typer(
    help="Create, list and revoke API keys for the product API.", no_args_is_help=True
)
_console = Console()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def _where(scope: ApiKeyScope) -> str:
    if scope.everywhere:
        return "every workspace"
    return ", ".join([*scope.team_ids, *(f"ref {r}" for r in scope.product_refs)])


@apikey_app.command("create")
def create(
    name: str = typer.Argument(..., help="What the key is for (e.g. helpdesk-prod)."),
    permissions: str = typer.Option(
        "read,write",
        "--scope",
        help="What the key may do: a comma list of read, write, admin (admin includes read and "
        "write, and may remove workspaces and see every key's operations).",
    ),
    workspaces: list[str] = typer.Option(
        [],
        "--workspace",
        help="Limit the key to this workspace (team id T…); repeatable.",
    ),
    refs: list[str] = typer.Option(
        [],
        "--ref",
        help="Limit the key to workspaces installed with this install ref; repeatable.",
    ),
) -> None:
    """Create a key and print it (once: it is stored only as a digest)."""
    from slackbridge.operations.api_keys import create_api_key, key_name, key_scope
    from slackbridge.operations.errors import InvalidInput

    try:
        name = key_name(name)
        scope = key_scope(permissions, workspaces, refs)
    except InvalidInput as exc:
        raise refused(exc) from None

    async def job(gateway: Gateway) -> tuple[str, str]:
        created = await create_api_key(gateway.db, gateway.keyring, name, scope)
        return created.secret, created.key.prefix

    secret, prefix = run_job(job)
    _console.print(
        Panel(
            f"[bold]{secret}[/]\n\n"
            f"Permissions: [bold]{scope.describe_permissions()}[/]; "
            f"workspaces: [bold]{escape(_where(scope))}[/].\n"
            "Send it as [cyan]Authorization: Bearer <key>[/] to /api/v1/.\n"
            "Store it now: it is not shown again "
            f"(revoke it with [cyan]slackbridge apikey revoke {prefix}[/]).",
            title=escape(f"API key {name!r} created"),
            border_style="green",
        )
    )


@apikey_app.command("list")
def list_keys(
    all_keys: bool = typer.Option(False, "--all", help="Include revoked keys."),
) -> None:
    """List the stored keys (their prefixes, never the keys)."""
    from slackbridge.operations.api_keys import ApiKey, list_api_keys

    async def job(gateway: Gateway) -> list[ApiKey]:
        return await list_api_keys(gateway.db, gateway.keyring, include_revoked=all_keys)

    keys = run_job(job, existing_store=True)
    if not keys:
        _console.print("No API keys yet. Create one with [cyan]slackbridge apikey create NAME[/].")
        return
    table = Table(title="API keys")
    for column in ("prefix", "name", "may", "where", "created", "last used", "status"):
        table.add_column(column)
    for key in keys:
        status = "[green]active[/]" if key.active else f"[red]revoked {_when(key.revoked_at)}[/]"
        table.add_row(
            f"sbk_{key.prefix}",
            escape(key.name),
            key.scope.describe_permissions(),
            escape(_where(key.scope)),
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
    from slackbridge.operations.api_keys import revoke_api_key
    from slackbridge.operations.errors import ApiKeyNotFound

    async def job(gateway: Gateway) -> None:
        await revoke_api_key(gateway.db, gateway.keyring, prefix)

    try:
        run_job(job, existing_store=True)
    except ApiKeyNotFound as exc:
        raise refused(exc) from None
    _console.print(f"Revoked [bold]{prefix}[/].")
