"""``slackbridge deliveries list|retry`` and ``slackbridge webhooks list``.

URLs are shown without their credentials and query (``https://***@host/path?***``).

They work on the store directly (a running gateway picks replayed deliveries up within a
second). Heavy imports happen inside the commands so that ``slackbridge --help`` stays instant.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from slackbridge.cli_common import err_console, fail, refused, run_job

if TYPE_CHECKING:
    from slackbridge.runtime import Gateway
    from slackbridge.store.repositories.deliveries import Delivery

__all__ = ["deliveries_app", "webhooks_app"]

deliveries_app = typer.Typer(
    help="Inspect and replay the webhooks sent to the product.", no_args_is_help=True
)
webhooks_app = typer.Typer(help="The product's webhook endpoints.", no_args_is_help=True)
_console = Console()


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _as_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "endpoint_id": delivery.endpoint_id,
        "type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "ordering_key": delivery.ordering_key,
        "created_at": delivery.created_at.isoformat(),
        "next_attempt_at": delivery.not_before.isoformat()
        if delivery.status == "pending"
        else None,
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
    }


_STYLE = {"delivered": "green", "dead": "bold red", "pending": "yellow", "delivering": "cyan"}


@deliveries_app.command("list")
def list_deliveries(
    status: str = typer.Option(
        None, "--status", "-s", help="Only this status: pending, delivering, delivered or dead."
    ),
    type_: str = typer.Option(None, "--type", "-t", help="Only this webhook type."),
    endpoint: int = typer.Option(None, "--endpoint", "-e", help="Only this endpoint id."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=10_000, help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List webhook deliveries, newest first."""
    from slackbridge.operations.deliveries import DELIVERY_STATUSES, list_deliveries
    from slackbridge.operations.errors import InvalidInput

    if status is not None and status not in DELIVERY_STATUSES:
        raise fail(f"unknown status {status!r}", f"Use one of: {', '.join(DELIVERY_STATUSES)}.")

    async def job(gateway: Gateway) -> list[Delivery]:
        return await list_deliveries(
            gateway.db,
            gateway.keyring,
            status=status,
            endpoint_id=endpoint,
            event_type=type_,
            limit=limit,
        )

    try:
        found = run_job(job, existing_store=True)
    except InvalidInput as exc:
        raise refused(exc) from None
    if as_json:
        import orjson

        _console.out(orjson.dumps([_as_json(d) for d in found]).decode(), highlight=False)
        return
    if not found:
        _console.print("No deliveries" + (f" with status {status}." if status else "."))
        return
    table = Table(title="Webhook deliveries (newest first)")
    for column in ("id", "status", "type", "endpoint", "attempts", "last result", "created"):
        table.add_column(column)
    for d in found:
        result = d.last_error or (str(d.last_status) if d.last_status else "")
        style = _STYLE.get(d.status, "")
        table.add_row(
            str(d.id),
            f"[{style}]{d.status}[/]" if style else d.status,
            d.event_type,
            str(d.endpoint_id),
            str(d.attempts),
            result[:60],
            _when(d.created_at),
        )
    _console.print(table)
    dead = sum(1 for d in found if d.status == "dead")
    if dead:
        _console.print(
            f"[dim]{dead} dead: replay with `slackbridge deliveries retry ID` or `--all-dead`.[/]"
        )


@deliveries_app.command("retry")
def retry_deliveries(
    ids: list[int] = typer.Argument(None, help="Ids of dead deliveries to send again."),
    all_dead: bool = typer.Option(False, "--all-dead", help="Send every dead delivery again."),
) -> None:
    """Send dead deliveries again (attempts start over; the webhook-id stays the same)."""
    if bool(ids) == all_dead:
        raise fail(
            "give delivery ids or --all-dead (not both)",
            "Find them with `slackbridge deliveries list --status dead`.",
        )
    from slackbridge.operations.deliveries import retry_all_dead, retry_deliveries
    from slackbridge.operations.errors import DeliveriesNotRetryable, describe_refusal, sentence

    async def job(gateway: Gateway) -> int:
        if all_dead:
            return await retry_all_dead(gateway.db, gateway.keyring)
        return await retry_deliveries(gateway.db, gateway.keyring, ids)

    try:
        count = run_job(job, existing_store=True)
    except DeliveriesNotRetryable as exc:
        for delivery_id, state in exc.refused:
            err_console.print(
                f"[bold red]Error:[/] delivery {delivery_id} {describe_refusal(state)}"
            )
        err_console.print(f"[dim]{sentence(exc.hint or '')}[/]")
        raise typer.Exit(code=1) from None
    if count == 0:
        _console.print("No dead deliveries to retry.")
        return
    _console.print(
        f"[green]{count} deliveries queued again[/] (a running gateway sends them within seconds)."
    )


@webhooks_app.command("list")
def list_webhooks(
    show_secret: bool = typer.Option(
        False, "--show-secret", help="Show each endpoint's signing secret (whsec_…)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the webhook endpoints as the gateway stored them at its last start-up."""
    from slackbridge.operations.webhook_endpoints import WebhookEndpoint, list_endpoints

    async def job(gateway: Gateway) -> list[WebhookEndpoint]:
        return await list_endpoints(gateway.db, gateway.keyring)

    endpoints = run_job(job, existing_store=True)
    rows: list[dict[str, Any]] = [
        {
            "id": e.id,
            "url": e.shown_url,
            "event_types": list(e.event_types),
            "synchronous": e.synchronous,
            "enabled": e.enabled,
            **({"secret": e.secret} if show_secret else {}),
        }
        for e in endpoints
    ]
    if as_json:
        import orjson

        _console.out(orjson.dumps(rows).decode(), highlight=False)
        return
    if not rows:
        _console.print(
            "No webhook endpoint yet. Set SLACKBRIDGE_WEBHOOK_URL (or SLACKBRIDGE_WEBHOOKS) "
            "and start the gateway once (`slackbridge serve`)."
        )
        return
    table = Table(title="Webhook endpoints")
    columns = ["id", "url", "types", "synchronous", "enabled"]
    for column in [*columns, *(["secret"] if show_secret else [])]:
        table.add_column(column, overflow="fold")
    for row in rows:
        cells = [
            str(row["id"]),
            str(row["url"]),
            ", ".join(row["event_types"]) or "all (except slack.event)",
            "yes" if row["synchronous"] else "",
            "yes" if row["enabled"] else "[dim]no (no longer configured)[/]",
        ]
        if show_secret:
            cells.append(str(row.get("secret") or ""))
        table.add_row(*cells)
    _console.print(table)
