"""``slackbridge db …`` and ``slackbridge secrets …`` commands.

Heavy imports happen inside the commands so that ``slackbridge --help`` stays instant.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from slackbridge.cli_common import fail, first_line, load_settings

if TYPE_CHECKING:
    from slackbridge.store.rotation import RotationReport

__all__ = ["db_app", "secrets_app"]

db_app = typer.Typer(help="Manage slackbridge's database.", no_args_is_help=True)
secrets_app = typer.Typer(
    help="Manage the keys that encrypt secrets at rest.", no_args_is_help=True
)
_console = Console()


@db_app.command("upgrade")
def upgrade_command() -> None:
    """Create or migrate the database schema to the newest revision."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from slackbridge.store.db import DatabaseConfigError, mask_url, normalize_url
    from slackbridge.store.migrate import upgrade

    settings = load_settings()
    url = settings.effective_database_url
    try:
        shown = mask_url(normalize_url(url))
    except DatabaseConfigError as exc:
        raise fail(str(exc)) from None
    _console.print(f"Database: [bold]{shown}[/]")
    if settings.database_schema:
        _console.print(f"Schema:   [bold]{settings.database_schema}[/]")
    try:
        with _console.status("Migrating…"):
            result = asyncio.run(upgrade(url, schema=settings.database_schema))
    except (OperationalError, DBAPIError, OSError) as exc:
        raise fail(
            f"could not migrate {shown}: {first_line(exc)}",
            "Check SLACKBRIDGE_DATABASE_URL and that the database server is running.",
        ) from None
    if result.changed:
        before = result.before or "empty database"
        _console.print(f"[green]Upgraded[/] {before} → revision [bold]{result.after}[/]")
    else:
        _console.print(f"[green]Already up to date[/] at revision [bold]{result.after}[/]")


@secrets_app.command("generate-key")
def generate_key_command() -> None:
    """Print a new random key for SLACKBRIDGE_SECRET_KEYS."""
    from slackbridge.operations.encryption_keys import new_encryption_key

    typer.echo(new_encryption_key())


@secrets_app.command("rotate")
def rotate_command() -> None:
    """Re-encrypt every stored secret under the first key of SLACKBRIDGE_SECRET_KEYS."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from sqlalchemy.exc import DBAPIError, OperationalError

    from slackbridge.operations.encryption_keys import rotate_encryption_keys
    from slackbridge.store.crypto import DecryptionError, SecretKeyError
    from slackbridge.store.db import DatabaseConfigError
    from slackbridge.store.store import Store

    settings = load_settings()

    async def run(progress: Progress) -> RotationReport:
        tasks: dict[str, object] = {}

        def advance(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(table, total=total)
            progress.update(tasks[table], completed=done)  # type: ignore[arg-type]

        store = await Store.open(settings)
        try:
            return await rotate_encryption_keys(store.db, store.keyring, progress=advance)
        finally:
            await store.close()

    try:
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=_console
        ) as progress:
            report = asyncio.run(run(progress))
    except SecretKeyError as exc:
        raise fail(str(exc)) from None
    except DecryptionError as exc:
        raise fail(
            f"nothing was changed: {exc}",
            "Put the new key first and keep every older key after it, then run this again.",
        ) from None
    except (DatabaseConfigError, OperationalError, DBAPIError, OSError) as exc:
        raise fail(
            f"could not open the database: {first_line(exc)}",
            "Check SLACKBRIDGE_DATABASE_URL and that the database server is running.",
        ) from None
    _print_report(report)


def _print_report(report: RotationReport) -> None:
    table = Table(title="Secrets re-encrypted under the first key")
    table.add_column("column")
    table.add_column("re-encrypted", justify="right")
    for column, count in sorted(report.by_column.items()):
        table.add_row(column, str(count))
    table.add_row("[bold]total[/]", f"[bold]{report.reencrypted}[/]")
    _console.print(table)
    _console.print(
        f"Checked {report.checked} stored secrets; {report.reencrypted} re-encrypted, "
        f"{report.checked - report.reencrypted} were already under the first key."
    )
    if report.checked:
        _console.print(
            "[dim]Older keys can now be removed from SLACKBRIDGE_SECRET_KEYS "
            "(keep a backup until you have restarted with the new list).[/]"
        )
