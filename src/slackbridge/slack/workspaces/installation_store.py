"""slackbridge's store behind slack_sdk's ``AsyncInstallationStore`` interface.

A Bolt for Python app (or anything else built on slack_sdk's OAuth helpers) can use the
installations slackbridge keeps::

    async with open_gateway(get_settings()) as gateway:
        store = SlackbridgeInstallationStore(gateway, app="default")
        bolt = AsyncApp(signing_secret=..., installation_store=store)

Tokens stay encrypted at rest and are refreshed by slackbridge, single-flight: bots and
installations are handed out with fresh tokens and *without* refresh tokens, so that Bolt never
rotates a token itself (two rotators would race on Slack's single-use refresh tokens). Deleting
goes through the same life-cycle as Slack's own events (audited, the product told).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation as SdkInstallation

from slackbridge.runtime import Gateway
from slackbridge.slack.workspaces.apps import SlackApp, resolve_app
from slackbridge.slack.workspaces.lifecycle import (
    audit_repo,
    emit_workspace_event,
    installations_repo,
    revoke_user_tokens,
    uninstall,
)
from slackbridge.slack.workspaces.tokens import (
    TokenRefreshError,
    WorkspaceUnavailable,
    bot_token,
    find_installation,
    user_token,
)
from slackbridge.store.repositories.installations import (
    Installation,
    InstallationSpec,
    UserTokenSpec,
)

__all__ = ["SlackbridgeInstallationStore"]


def _when(timestamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp else None


class SlackbridgeInstallationStore(AsyncInstallationStore):
    """The installations of one app (``app``: its name or Slack app id; default: the first)."""

    def __init__(self, gateway: Gateway, app: str | None = None) -> None:
        self._gateway = gateway
        self._app_name = app
        self._logger = logging.getLogger("slackbridge.installation_store")

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    async def _app(self) -> SlackApp:
        return await resolve_app(self._gateway, self._app_name)

    # -- saving ------------------------------------------------------------------------------

    async def async_save(self, installation: SdkInstallation) -> None:
        """Store an installation made by slack_sdk's OAuth flow (a reinstall updates it)."""
        app = await self._app()
        user = None
        if installation.user_token:
            user = UserTokenSpec(
                user_id=installation.user_id,
                token=installation.user_token,
                refresh_token=installation.user_refresh_token,
                expires_at=_when(installation.user_token_expires_at),
                scopes=tuple(installation.user_scopes or ()),
            )
        spec = InstallationSpec(
            app_ref=app.id,
            team_id=None if installation.is_enterprise_install else installation.team_id,
            team_name=installation.team_name,
            enterprise_id=installation.enterprise_id,
            enterprise_name=installation.enterprise_name,
            is_enterprise_install=bool(installation.is_enterprise_install),
            bot_token=installation.bot_token,
            bot_refresh_token=installation.bot_refresh_token,
            bot_token_expires_at=_when(installation.bot_token_expires_at),
            bot_user_id=installation.bot_user_id,
            bot_id=installation.bot_id,
            bot_scopes=tuple(installation.bot_scopes or ()),
            installer_user_id=installation.user_id,
            incoming_webhook_url=installation.incoming_webhook_url,
            incoming_webhook_channel=installation.incoming_webhook_channel,
            incoming_webhook_channel_id=installation.incoming_webhook_channel_id,
            incoming_webhook_configuration_url=installation.incoming_webhook_configuration_url,
            user_token=user,
        )
        # The installation and its audit row are one change: both or neither.
        async with self._gateway.db.transaction() as tx:
            saved = await installations_repo(self._gateway).save(spec, session=tx)
            inst = saved.installation
            await audit_repo(self._gateway).record(
                "workspace.installed" if saved.created else "workspace.reinstalled",
                actor="installation_store",
                team_id=inst.team_id or inst.enterprise_id,
                detail={"app": app.name, "installation_id": inst.id},
                session=tx,
            )
        extra = {"reinstall": not saved.created, "installer": {"id": inst.installer_user_id}}
        await emit_workspace_event(self._gateway, "workspace.installed", app, inst, extra)

    async def async_save_bot(self, bot: Bot) -> None:
        """Store a bot-only installation."""
        await self.async_save(
            SdkInstallation(
                app_id=bot.app_id,
                enterprise_id=bot.enterprise_id,
                enterprise_name=bot.enterprise_name,
                team_id=bot.team_id,
                team_name=bot.team_name,
                bot_token=bot.bot_token,
                bot_id=bot.bot_id,
                bot_user_id=bot.bot_user_id,
                bot_scopes=bot.bot_scopes,
                bot_refresh_token=bot.bot_refresh_token,
                bot_token_expires_at=bot.bot_token_expires_at,
                is_enterprise_install=bot.is_enterprise_install,
                installed_at=bot.installed_at,
                user_id=await self._installer(bot.enterprise_id, bot.team_id) or "",
            )
        )

    async def _installer(self, enterprise_id: str | None, team_id: str | None) -> str | None:
        found = await self._find(enterprise_id, team_id)
        return found[1].installer_user_id if found else None

    # -- finding -----------------------------------------------------------------------------

    async def _find(
        self, enterprise_id: str | None, team_id: str | None
    ) -> tuple[SlackApp, Installation] | None:
        app = await self._app()
        found = await find_installation(
            self._gateway, team_id, app_id=app.app_id, enterprise_id=enterprise_id
        )
        if found is None or found[0].id != app.id:
            return None
        return found

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """The bot of an active installation, its token fresh (None when there is none)."""
        found = await self._find(enterprise_id, None if is_enterprise_install else team_id)
        if found is None or not found[1].is_active:
            return None
        app, inst = found
        try:
            creds = await bot_token(
                self._gateway, inst.team_id, app_id=app.app_id, enterprise_id=inst.enterprise_id
            )
        except (WorkspaceUnavailable, TokenRefreshError) as exc:
            self._logger.warning("no bot token for %s: %s", team_id or enterprise_id, exc)
            return None
        return Bot(
            app_id=app.app_id,
            enterprise_id=inst.enterprise_id,
            enterprise_name=inst.enterprise_name,
            team_id=inst.team_id,
            team_name=inst.team_name,
            bot_token=creds.token,
            bot_id=inst.bot_id or "",
            bot_user_id=inst.bot_user_id or "",
            bot_scopes=list(inst.bot_scopes),
            is_enterprise_install=inst.is_enterprise_install,
            installed_at=inst.installed_at.timestamp(),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> SdkInstallation | None:
        """The installation with the bot token and the token of ``user_id`` (or, without a
        user, of the installer). None when it is not active, or ``user_id`` has no token."""
        bot = await self.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        found = await self._find(enterprise_id, None if is_enterprise_install else team_id)
        if bot is None or found is None:
            return None
        app, inst = found
        person = user_id or inst.installer_user_id
        creds = None
        if person:
            try:
                creds = await user_token(
                    self._gateway,
                    inst.team_id,
                    person,
                    app_id=app.app_id,
                    enterprise_id=inst.enterprise_id,
                )
            except TokenRefreshError as exc:
                self._logger.warning("no user token for %s: %s", person, exc)
        if user_id is not None and creds is None:
            return None
        return SdkInstallation(
            app_id=app.app_id,
            enterprise_id=inst.enterprise_id,
            enterprise_name=inst.enterprise_name,
            team_id=inst.team_id,
            team_name=inst.team_name,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=list(bot.bot_scopes),
            user_id=person or "",
            user_token=creds.token if creds else None,
            user_scopes=list(creds.scopes) if creds else [],
            incoming_webhook_url=inst.incoming_webhook_url,
            incoming_webhook_channel=inst.incoming_webhook_channel,
            incoming_webhook_channel_id=inst.incoming_webhook_channel_id,
            incoming_webhook_configuration_url=inst.incoming_webhook_configuration_url,
            is_enterprise_install=inst.is_enterprise_install,
            token_type="bot",
            installed_at=inst.installed_at.timestamp(),
        )

    # -- deleting ----------------------------------------------------------------------------

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """The bot's token was revoked: the installation is uninstalled (tokens deleted)."""
        app = await self._app()
        await uninstall(self._gateway, team_id, app.app_id, enterprise_id, "bot_deleted")

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        """Forget ``user_id``'s token, or with no user every token of the installation."""
        app = await self._app()
        if user_id is not None:
            await revoke_user_tokens(self._gateway, team_id, app.app_id, [user_id])
            return
        await uninstall(self._gateway, team_id, app.app_id, enterprise_id, "installation_deleted")

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """The app was uninstalled: every token deleted, the installation uninstalled."""
        app = await self._app()
        await uninstall(self._gateway, team_id, app.app_id, enterprise_id, "app_uninstalled")
