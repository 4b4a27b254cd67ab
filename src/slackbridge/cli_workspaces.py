"""``slackbridge manifest``, ``slackbridge apps …`` and ``slackbridge workspaces …``.

Heavy imports happen inside the commands so that ``slackbridge --help`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from slackbridge.cli_common import fail, load_settings, refused, run_with_gateway

if TYPE_CHECKING:
    from slackbridge.runtime import Gateway
    from slackbridge.settings import Settings, SlackAppConfig

__all__ = ["apps_app", "manifest_command", "workspaces_app"]

apps_app = typer.Typer(help="Manage the Slack apps the gateway serves.", no_args_is_help=True)
workspaces_app = typer.Typer(
    help="List and remove the workspaces the apps are installed in.", no_args_is_help=True
)
_console = Console()


# --- manifest ---------------------------------------------------------------------------------


def _app_config(settings: Settings, name: str | None) -> SlackAppConfig:
    from slackbridge.operations.apps import app_config
    from slackbridge.operations.errors import AppNotConfigured

    try:
        return app_config(settings, name)
    except AppNotConfigured as exc:
        raise refused(exc) from None


def manifest_command(
    app: str = typer.Option(None, "--app", help="Which configured app (default: the first)."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON (for scripts)."),
) -> None:
    """Print the Slack app manifest for this deployment (paste it into "Create New App")."""
    from slackbridge.slack.workspaces.manifest import (
        ManifestConfigError,
        build_manifest,
        manifest_json,
    )

    settings = load_settings()
    config = _app_config(settings, app)
    try:
        manifest = build_manifest(settings, config)
    except ManifestConfigError as exc:
        raise fail(str(exc)) from None
    text = manifest_json(manifest)
    if as_json:
        typer.echo(text)
        return
    from rich.syntax import Syntax

    _console.print(Syntax(text, "json", word_wrap=True))
    _console.print(
        "[dim]Create the app at https://api.slack.com/apps → Create New App → From a manifest, "
        "or let `slackbridge apps provision` do it with a configuration token.[/]"
    )


# --- apps ---------------------------------------------------------------------------------------


@apps_app.command("provision")
def provision_command(
    configuration_token: str = typer.Option(
        None,
        "--configuration-token",
        envvar="SLACKBRIDGE_SLACK_CONFIGURATION_TOKEN",
        help="An app configuration token (xoxe.xoxp-…) from api.slack.com/apps.",
        show_envvar=True,
    ),
    app: str = typer.Option(None, "--app", help="Provision only this app (default: every one)."),
) -> None:
    """Create the Slack app from the manifest, or update it (runs again safely)."""
    from aiohttp import ClientError

    from slackbridge.operations.apps import plan_provisioning, provision_apps
    from slackbridge.operations.errors import OperationError
    from slackbridge.slack.workspaces.manifest import ManifestConfigError
    from slackbridge.slack.workspaces.provision import (
        ProvisionError,
        ProvisionResult,
        provision_app,
    )

    settings = load_settings()
    try:
        plan = plan_provisioning(settings, token=configuration_token, app=app)
    except OperationError as exc:
        raise refused(exc) from None

    async def job(gateway: Gateway) -> list[ProvisionResult]:
        async def provision(config: SlackAppConfig, token: str) -> ProvisionResult:
            return await provision_app(gateway.db, gateway.keyring, settings, config, token)

        return await provision_apps(plan, provision)

    try:
        results = run_with_gateway(settings, job)
    except ManifestConfigError as exc:
        raise fail(str(exc)) from None
    except ProvisionError as exc:
        raise fail(str(exc), f"Slack API: {settings.slack_api_url}") from None
    except (OSError, TimeoutError, ClientError) as exc:
        raise fail(
            f"could not reach Slack at {settings.slack_api_url}: {exc or type(exc).__name__}",
            "Check SLACKBRIDGE_SLACK_API_URL (the emulator's is http://127.0.0.1:8001/api/).",
        ) from None
    table = Table(title="Provisioned Slack apps")
    for column in ("App", "Slack app id", "Client id", "Action", "Events URL"):
        table.add_column(column)
    for result in results:
        table.add_row(
            result.app.name,
            result.app.app_id or "–",
            result.app.client_id or "–",
            "[green]created[/]" if result.created else "updated",
            "[green]verified[/]" if result.events_url_verified else "[yellow]not verified[/]",
        )
    _console.print(table)
    for result in results:
        if result.warning:
            _console.print(f"[yellow]Warning ({result.app.name}):[/] {result.warning}")
    _console.print(
        f"Credentials are stored encrypted in the store. Install link: "
        f"{settings.public_url.rstrip('/')}/slack/install (tied to an account: "
        "`slackbridge workspaces install-link <account id>`)"
    )


@apps_app.command("list")
def list_apps_command() -> None:
    """Show the stored apps (never their secrets)."""
    from slackbridge.operations.apps import list_apps

    settings = load_settings()
    apps = run_with_gateway(
        settings, lambda gateway: list_apps(gateway.db, gateway.keyring), existing_store=True
    )
    if not apps:
        _console.print(
            "No Slack app yet. Run [bold]slackbridge apps provision[/] or set SLACKBRIDGE_APPS."
        )
        return
    table = Table(title="Slack apps")
    for column in ("Name", "Slack app id", "Client id", "Mode", "Rotation", "Secrets", "Scopes"):
        table.add_column(column)
    for a in apps:
        secrets = [
            label
            for label, value in (
                ("client", a.client_secret),
                ("signing", a.signing_secret),
                ("app token", a.app_token),
            )
            if value
        ]
        table.add_row(
            a.name,
            a.app_id or "–",
            a.client_id or "–",
            "Socket Mode" if a.socket_mode else "HTTP",
            "on" if a.token_rotation else "off",
            ", ".join(secrets) or "[red]none[/]",
            str(len(a.bot_scopes)),
        )
    _console.print(table)


# --- workspaces -----------------------------------------------------------------------------


def _row(app_name: str, inst: Any, wanted: Any = (), public_url: str = "") -> dict[str, Any]:
    from slackbridge.slack.workspaces.scopes import missing_scopes, reinstall_hint, reinstall_url

    missing = missing_scopes(wanted, inst.bot_scopes)
    url = reinstall_url(public_url, inst.team_id, app_name, inst.product_ref) if missing else None
    return {
        "team_id": inst.team_id,
        "team_name": inst.team_name,
        "enterprise_id": inst.enterprise_id,
        "app": app_name,
        "status": inst.status,
        "scopes": list(inst.bot_scopes),
        "missing_scopes": missing,
        "reinstall_url": url,
        "reinstall_hint": reinstall_hint(missing, url, inst.product_ref),
        "installer_user_id": inst.installer_user_id,
        "ref": inst.product_ref,
        "installed_at": inst.installed_at.isoformat(),
        "last_error": inst.last_error,
    }


_STATUS_STYLE = {"active": "green", "disconnected": "red", "uninstalled": "yellow"}


@workspaces_app.command("list")
def list_workspaces_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON (for scripts)."),
    app: str = typer.Option(None, "--app", help="Only this app's workspaces."),
) -> None:
    """Show every workspace an app is installed in: team, app, status, scopes, last error."""
    from slackbridge.operations.errors import AppNotFound
    from slackbridge.operations.workspaces import list_workspaces

    settings = load_settings()

    async def job(gateway: Gateway) -> list[dict[str, Any]]:
        found = await list_workspaces(gateway.db, gateway.keyring, app=app)
        return [
            _row(w.app_name, w.installation, w.app.bot_scopes if w.app else (), settings.public_url)
            for w in found
        ]

    try:
        rows = run_with_gateway(settings, job, existing_store=True)
    except AppNotFound as exc:
        raise refused(exc, "See `slackbridge apps list`.") from None
    if as_json:
        import orjson

        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    if not rows:
        _console.print(
            "No workspace yet. Send a workspace admin to a link from "
            "`slackbridge workspaces install-link <account id>` (or "
            f"{settings.public_url.rstrip('/')}/slack/install for no account)."
        )
        return
    table = Table(title="Workspaces")
    for column in (
        "Team",
        "App",
        "Status",
        "Scopes",
        "Missing scopes",
        "Installed at",
        "Last error",
    ):
        table.add_column(column, overflow="fold")
    for r in rows:
        style = _STATUS_STYLE.get(r["status"], "dim")
        team = r["team_id"] or r["enterprise_id"] or "?"
        table.add_row(
            f"{team} ({r['team_name']})" if r["team_name"] else team,
            r["app"],
            f"[{style}]{r['status']}[/]",
            ", ".join(r["scopes"]),
            f"[yellow]{', '.join(r['missing_scopes'])}[/]" if r["missing_scopes"] else "",
            r["installed_at"][:19].replace("T", " "),
            r["last_error"] or "",
        )
    _console.print(table)
    for r in rows:
        if r["reinstall_hint"]:
            _console.print(f"{r['team_id'] or r['enterprise_id']}: {r['reinstall_hint']}")


@workspaces_app.command("install-link")
def install_link_command(
    ref: str = typer.Argument(..., help="The product account the workspace is tied to."),
    app: str = typer.Option(None, "--app", help="Which app (default: the first)."),
    team: str = typer.Option(None, "--team", help="Preselect this workspace (T…) at Slack."),
    ttl: int = typer.Option(86_400, "--ttl", help="Seconds the link stays valid (max 30 days)."),
) -> None:
    """Print a signed "Add to Slack" link that ties the install to account REF (the product
    API's POST /api/v1/workspaces/install-url makes the same)."""
    from slackbridge.operations.errors import AppNotFound
    from slackbridge.operations.install_links import (
        MAX_REF_LENGTH,
        MAX_TTL_SECONDS,
        MIN_TTL_SECONDS,
        TEAM_ID,
        InstallLink,
        make_install_link,
    )

    if not 0 < len(ref) <= MAX_REF_LENGTH:
        raise fail(f"the account id must be 1 to {MAX_REF_LENGTH} characters")
    if team is not None and not TEAM_ID.fullmatch(team):
        raise fail(f"{team!r} is not a Slack workspace id", "Workspace ids look like T0ACME0001.")
    if not MIN_TTL_SECONDS <= ttl <= MAX_TTL_SECONDS:
        raise fail(f"--ttl must be between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS} seconds")
    settings = load_settings()

    async def job(gateway: Gateway) -> InstallLink:
        return await make_install_link(
            gateway.db, gateway.keyring, settings, ref=ref, app=app, team=team, ttl_seconds=ttl
        )

    try:
        link = run_with_gateway(settings, job)
    except AppNotFound as exc:
        raise refused(exc, "See `slackbridge apps list`.") from None
    typer.echo(link.url)
    expires = link.expires_at.isoformat(timespec="seconds") if link.expires_at else "never"
    Console(stderr=True).print(f"[dim]Valid until {expires}; it works for anyone who has it.[/]")


@workspaces_app.command("remove")
def remove_workspace_command(
    team: str = typer.Argument(..., help="The workspace's team id (T…)."),
    app: str = typer.Option(None, "--app", help="Only this app's installation."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Don't ask for confirmation."),
) -> None:
    """Revoke the workspace's tokens at Slack, delete them and mark it removed (audited)."""
    from slackbridge.operations.errors import OperationError
    from slackbridge.operations.workspaces import removable_apps, remove_workspace
    from slackbridge.slack.workspaces import lifecycle
    from slackbridge.slack.workspaces.lifecycle import RemoveResult

    settings = load_settings()

    async def preview(gateway: Gateway) -> list[str]:
        return await removable_apps(gateway.db, gateway.keyring, team, app=app)

    targets = run_with_gateway(settings, preview, existing_store=True)
    if not targets:
        which = f" for app {app!r}" if app else ""
        raise fail(
            f"workspace {team} has no installation{which} to remove",
            "See `slackbridge workspaces list`.",
        )
    if not yes:
        confirmed = typer.confirm(
            f"Remove {team} ({', '.join(targets)})? Its tokens are revoked and deleted; "
            "the product is told",
            default=False,
        )
        if not confirmed:
            _console.print("Nothing removed.")
            raise typer.Exit(code=1)

    async def job(gateway: Gateway) -> tuple[RemoveResult, ...]:
        async def remove(team_id: str, app_name: str | None, actor: str) -> list[RemoveResult]:
            return await lifecycle.remove_workspace(
                gateway, team_id, app_name=app_name, actor=actor
            )

        removal = await remove_workspace(
            gateway.db, gateway.keyring, team, remove=remove, app=app, actor="cli"
        )
        return removal.results

    try:
        results = run_with_gateway(settings, job, existing_store=True)
    except OperationError as exc:
        raise fail(str(exc), "See `slackbridge workspaces list`.") from None
    for result in results:
        if result.revoked:
            note = "tokens revoked at Slack"
        else:
            note = f"[yellow]Slack did not revoke the token ({result.revoke_error})[/]"
        _console.print(
            f"[green]Removed[/] {team} from {result.app_name}: {note}; stored tokens deleted."
        )
