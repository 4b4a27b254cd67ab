"""What the CLI's commands share: loading the settings, running a job against the store, and
failing with a friendly message that says what to do next (never a traceback).

Heavy imports happen inside the functions so that ``slackbridge --help`` stays instant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperOption

if TYPE_CHECKING:
    from pydantic import ValidationError

    from slackbridge.operations.errors import OperationError
    from slackbridge.runtime import Gateway
    from slackbridge.settings import Settings

__all__ = [
    "check_database_url",
    "describe",
    "err_console",
    "explain",
    "fail",
    "first_line",
    "load_settings",
    "refused",
    "require_store",
    "run_job",
    "run_with_gateway",
]

err_console = Console(stderr=True)
_T = TypeVar("_T")
_typer_display_type = TyperOption.display_type_rich


def _flag_takes_no_value(self: TyperOption, ctx: Any) -> str | None:
    """The type shown beside an option in the Rich help: none for a flag.

    Typer's Rich help panel asks every option for its type, flags included, so each flag
    (``--json``, even ``--help``) read ``--json <bool>`` and people typed ``--json true``,
    which a flag refuses. Plain Click help already leaves a flag's type out; this does the
    same for the Rich panel, for every command at once.
    """
    if self.is_flag or self.count:
        return None
    return _typer_display_type(self, ctx)


TyperOption.display_type_rich = _flag_takes_no_value  # type: ignore[method-assign]

_CONFIG_HINT = (
    "Fix the SLACKBRIDGE_* environment variables or slackbridge.toml "
    "(docs/configuration.md describes every setting)."
)
_DATABASE_HINT = "Check SLACKBRIDGE_DATABASE_URL and that the database server is running."


def fail(message: str, hint: str | None = None) -> typer.Exit:
    """Print ``message`` (and ``hint``, what to do next) to stderr; the exit to raise."""
    err_console.print(f"[bold red]Error:[/] {escape(message)}")
    if hint:
        err_console.print(f"[dim]{escape(hint)}[/]")
    return typer.Exit(code=1)


def refused(exc: OperationError, hint: str | None = None) -> typer.Exit:
    """:func:`fail` with what an operator action refused: its reason, and ``hint`` (by default
    the action's own)."""
    return fail(exc.reason, exc.hint if hint is None else hint)


def first_line(exc: BaseException) -> str:
    """The first line of what ``exc`` says (a database driver's own error when it wraps one)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _validation_message(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        first, *rest = error.get("loc", ()) or ("settings",)
        where = f"SLACKBRIDGE_{str(first).upper()}" + "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in rest
        )
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return "invalid configuration: " + "; ".join(problems)


def load_settings() -> Settings:
    """The settings, or a friendly exit when the environment or slackbridge.toml is wrong."""
    import tomllib

    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from slackbridge.settings import SettingsFileError, config_file, get_settings

    try:
        return get_settings()
    except SettingsFileError as exc:
        raise fail(
            f"invalid configuration: {exc}",
            f"Fix or remove the key in {exc.file} (docs/configuration.md describes every "
            "setting; unknown SLACKBRIDGE_* environment variables are ignored, keys in the "
            "file are not).",
        ) from None
    except ValidationError as exc:
        raise fail(_validation_message(exc), _CONFIG_HINT) from None
    except tomllib.TOMLDecodeError as exc:
        raise fail(f"{config_file()} is not valid TOML: {exc}", _CONFIG_HINT) from None
    except SettingsError as exc:
        raise fail(
            f"invalid configuration: {exc}",
            "List settings such as SLACKBRIDGE_APPS and SLACKBRIDGE_WEBHOOKS are JSON, e.g. "
            'SLACKBRIDGE_APPS=\'[{"name": "default"}]\'. ' + _CONFIG_HINT,
        ) from None
    except OSError as exc:
        raise fail(f"could not read {config_file()}: {exc}", _CONFIG_HINT) from None


def check_database_url(settings: Settings) -> str:
    """The database URL for display (password masked); a friendly exit when it is unusable."""
    from slackbridge.store.db import DatabaseConfigError, mask_url, normalize_url

    try:
        return mask_url(normalize_url(settings.effective_database_url))
    except DatabaseConfigError as exc:
        raise fail(str(exc)) from None


class _JobError(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def require_store(settings: Settings) -> None:
    """A friendly exit when the SQLite store does not exist: a command that reads (or changes
    existing records) must not create an empty store, and a key, wherever it happens to run.

    A PostgreSQL database is the operator's to create; only an embedded SQLite file can be
    missing because the command ran in the wrong directory.
    """
    from slackbridge.store.db import sqlite_file

    path = sqlite_file(settings.effective_database_url)
    if path is None or path.exists():
        return
    where = "SLACKBRIDGE_DATABASE_URL" if settings.database_url else "the data directory"
    raise fail(
        f"no slackbridge store at {path.absolute()} (looked there through {where}); "
        "nothing has been stored here yet",
        "Run the command where the gateway runs, or point at its store with "
        "SLACKBRIDGE_DATA_DIR=<dir> (or SLACKBRIDGE_DATABASE_URL); the demo's store is "
        "SLACKBRIDGE_DATA_DIR=.slackbridge/demo (with --keep-data). `slackbridge serve` "
        "creates a store on its first start.",
    )


def run_with_gateway(
    settings: Settings,
    job: Callable[[Gateway], Awaitable[_T]],
    *,
    existing_store: bool = False,
) -> _T:
    """Run ``job`` against the store (opened, upgraded, apps synced), turning configuration and
    store problems into friendly exits.

    ``existing_store``: the command reads the store or changes records already in it, so a
    missing store or key is explained (see :func:`require_store`) instead of created."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from slackbridge.standalone import open_gateway
    from slackbridge.store.crypto import DecryptionError

    shown = check_database_url(settings)
    if existing_store:
        require_store(settings)

    async def main() -> _T:
        async with open_gateway(settings, create_key=not existing_store) as gateway:
            try:
                return await job(gateway)
            except (OperationalError, DBAPIError, DecryptionError):
                raise
            except Exception as exc:
                # Not the store's fault (Slack unreachable, say): the command explains it.
                raise _JobError(exc) from exc

    try:
        return asyncio.run(main())
    except _JobError as wrapped:
        raise wrapped.error from None
    except Exception as exc:
        friendly = explain(exc, shown)
        if friendly is None:
            raise
        raise friendly from None


def describe(exc: BaseException, database: str) -> tuple[str, str] | None:
    """``(what went wrong, what to do)`` for a configuration or store problem; None for any
    other exception. ``database``: the URL to name, password masked."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from slackbridge.commands.declared import CommandConfigError
    from slackbridge.product.endpoints import EndpointConfigError
    from slackbridge.slack.workspaces.apps import AppConfigError
    from slackbridge.store.crypto import DecryptionError, SecretKeyError
    from slackbridge.store.db import DatabaseConfigError

    if isinstance(exc, SecretKeyError):
        return str(exc), "Check SLACKBRIDGE_SECRET_KEYS (or the secret.key file in the data dir)."
    if isinstance(exc, DecryptionError):
        return str(exc), (
            "A key that encrypted stored secrets is missing: put it back in "
            "SLACKBRIDGE_SECRET_KEYS, after the first key."
        )
    if isinstance(exc, AppConfigError | EndpointConfigError | CommandConfigError):
        return str(exc), _CONFIG_HINT
    if isinstance(exc, DatabaseConfigError):
        return str(exc), "Set SLACKBRIDGE_DATABASE_URL to a SQLite or PostgreSQL URL."
    if isinstance(exc, OperationalError | DBAPIError | OSError):
        return f"could not use the database {database}: {first_line(exc)}", _DATABASE_HINT
    return None


def explain(exc: BaseException, database: str) -> typer.Exit | None:
    """Print what a configuration or store problem means and what to do: the exit to raise;
    None (nothing printed) for any other exception."""
    found = describe(exc, database)
    return None if found is None else fail(*found)


def run_job(job: Callable[[Gateway], Awaitable[_T]], *, existing_store: bool = False) -> _T:
    """:func:`run_with_gateway` with the settings loaded (friendly exits for both)."""
    return run_with_gateway(load_settings(), job, existing_store=existing_store)
