"""``slackbridge webhooks secrets list|rotate|retire``: signing secrets rotated with an overlap.

They call the same operator actions as the API (``operations/webhook_secrets.py``) on the store
directly; a running gateway signs with the new set within a few seconds. Heavy imports happen
inside the commands so that ``slackbridge --help`` stays instant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from slackbridge.cli_common import fail, refused, run_job

if TYPE_CHECKING:
    from slackbridge.runtime import Gateway
    from slackbridge.store.repositories.endpoints import WebhookEndpoint

__all__ = ["webhook_secrets_app"]

webhook_secrets_app = typer.Typer(
    help="Rotate an endpoint's signing secret with an overlap, then retire the old one.",
    no_args_is_help=True,
)
_console = Console()
_T = TypeVar("_T")
_MAX_ID = 2**63 - 1  # ids are 64-bit in the store


def _friendly(exc: Exception) -> typer.Exit | None:
    from slackbridge.operations.errors import OperationError, sentence
    from slackbridge.product.endpoints import EndpointConfigError

    if isinstance(exc, OperationError):
        return refused(exc, sentence(exc.hint) if exc.hint else None)
    if isinstance(exc, EndpointConfigError):
        return fail(str(exc), "Fix SLACKBRIDGE_WEBHOOK_URL or SLACKBRIDGE_WEBHOOKS.")
    return None


def _previous(count: int) -> str:
    return "the previous one" if count == 1 else f"the {count} previous ones"


def _run(job: Callable[[Gateway], Awaitable[_T]]) -> _T:
    """:func:`run_job`, with the operator actions' refusals explained (no traceback)."""
    try:
        return run_job(job)
    except Exception as exc:
        friendly = _friendly(exc)
        if friendly is None:
            raise
        raise friendly from None


def _secrets_table(endpoint: WebhookEndpoint) -> Table:
    from slackbridge.operations.webhook_secrets import describe_secrets

    table = Table(title=f"Signing secrets of endpoint {endpoint.id}: {escape(endpoint.shown_url)}")
    for column in ("secret", "fingerprint", "state", "overlapping since"):
        table.add_column(column)
    for info in describe_secrets(endpoint):
        table.add_row(
            "current" if info.id is None else str(info.id),
            info.fingerprint,
            "[green]signs (current)[/]" if info.current else "[yellow]signs (retiring)[/]",
            info.since.strftime("%Y-%m-%d %H:%M:%S") if info.since else "",
        )
    return table


@webhook_secrets_app.command("list")
def list_secrets(
    endpoint_id: int | None = typer.Argument(
        None, min=1, max=_MAX_ID, help="Only this endpoint (see `webhooks list`)."
    ),
) -> None:
    """Show each endpoint's signing secrets (fingerprints only)."""
    from slackbridge.operations.webhook_endpoints import get_endpoint, list_endpoints

    async def job(gateway: Gateway) -> list[WebhookEndpoint]:
        if endpoint_id is not None:
            return [await get_endpoint(gateway.db, gateway.keyring, endpoint_id)]
        return await list_endpoints(gateway.db, gateway.keyring)

    endpoints = _run(job)
    if not endpoints:
        _console.print(
            "No webhook endpoint yet. Set SLACKBRIDGE_WEBHOOK_URL (or SLACKBRIDGE_WEBHOOKS) "
            "and start the gateway once (`slackbridge serve`)."
        )
        return
    for endpoint in endpoints:
        _console.print(_secrets_table(endpoint))
        if endpoint.previous_secrets:
            _console.print(
                f"[dim]Once the product verifies with the current secret: "
                f"`slackbridge webhooks secrets retire {endpoint.id}`.[/]"
            )


@webhook_secrets_app.command("rotate")
def rotate(
    endpoint_id: int = typer.Argument(
        ..., min=1, max=_MAX_ID, help="The endpoint (see `webhooks list`)."
    ),
) -> None:
    """Make a new secret current; the old one keeps signing until you retire it."""
    from slackbridge.operations.webhook_secrets import Rotated, fingerprint, rotate_secret
    from slackbridge.product.endpoints import configured_endpoints, forget_cache

    async def job(gateway: Gateway) -> Rotated:
        return await rotate_secret(
            gateway.db,
            gateway.keyring,
            endpoint_id,
            actor="cli",
            configured=configured_endpoints(gateway.settings),
            on_change=lambda: forget_cache(gateway),
        )

    rotated = _run(job)
    endpoint, secret = rotated.endpoint, rotated.secret
    _console.print(
        Panel(
            f"[bold]{secret}[/]",
            title=f"New signing secret of endpoint {endpoint.id} ({fingerprint(secret)})",
            subtitle="shown this once: store it now",
        )
    )
    _console.print(
        f"Webhooks to {escape(endpoint.shown_url)} are now signed with the new secret "
        f"[bold]and[/] {_previous(len(endpoint.previous_secrets))}, so the product verifies "
        "with either.\n"
        "1. Give the product the new secret.\n"
        f"2. Then stop signing with the old: `slackbridge webhooks secrets retire {endpoint.id}`."
    )


@webhook_secrets_app.command("retire")
def retire(
    endpoint_id: int = typer.Argument(
        ..., min=1, max=_MAX_ID, help="The endpoint (see `webhooks list`)."
    ),
    secret_id: int | None = typer.Option(
        None,
        "--secret",
        "-s",
        min=1,
        max=_MAX_ID,
        help="Retire only this previous secret (see `secrets list`).",
    ),
) -> None:
    """Stop signing with the endpoint's previous secrets (all of them, or --secret ID)."""
    from slackbridge.operations.webhook_secrets import Retired, retire_secrets
    from slackbridge.product.endpoints import forget_cache

    async def job(gateway: Gateway) -> Retired:
        return await retire_secrets(
            gateway.db,
            gateway.keyring,
            endpoint_id,
            secret_id,
            actor="cli",
            on_change=lambda: forget_cache(gateway),
        )

    retired = _run(job)
    endpoint, count = retired.endpoint, retired.count
    if count == 0:
        _console.print(
            f"Endpoint {endpoint.id} signs with its current secret only: nothing to retire."
        )
        return
    _console.print(
        f"[green]Retired {count} secret{'' if count == 1 else 's'}.[/] "
        f"Webhooks to {escape(endpoint.shown_url)} are "
        "signed with the current secret only (a running gateway switches within seconds)."
    )
