"""A workspace's life after install: token death, uninstall, revoked user tokens, removal.

* Token death (``invalid_auth``, ``account_inactive``, ``token_revoked``, ``token_expired``):
  the installation becomes ``disconnected``, its last error is kept, calls for it stop
  (:class:`WorkspaceUnavailable`) and the product hears ``workspace.disconnected``.
* ``app_uninstalled`` / a revoked bot token (ingress's ``uninstall`` action): the tokens are
  deleted, the installation becomes ``uninstalled`` and the product hears
  ``workspace.uninstalled``.
* ``slackbridge workspaces remove``: the token is revoked at Slack (``auth.revoke``), the tokens
  are deleted, the installation becomes ``removed``.

Every change is written to the audit log. Each is idempotent: a second report of the same death
or uninstall changes nothing and tells the product nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slackbridge.domain.events import DomainEvent
from slackbridge.pipeline.normalize import OwnIdentity
from slackbridge.ports import WorkspaceUnavailable
from slackbridge.slack.workspaces.apps import SlackApp, app_by_ref, list_apps
from slackbridge.slack.workspaces.call_budget import within_budget
from slackbridge.store.models_base import utcnow
from slackbridge.store.repositories.audit import AuditRepository
from slackbridge.store.repositories.installations import Installation, InstallationsRepository

if TYPE_CHECKING:
    from slackbridge.runtime import Gateway

__all__ = [
    "TOKEN_DEATH_ERRORS",
    "RemoveResult",
    "WorkspaceUnavailable",
    "audit_repo",
    "emit_workspace_event",
    "installations_repo",
    "locate_installations",
    "mark_disconnected",
    "own_identity",
    "remove_workspace",
    "revoke_user_tokens",
    "uninstall",
    "workspace_data",
]

_log = logging.getLogger("slackbridge.workspaces")

#: Slack errors that mean the token will never work again.
TOKEN_DEATH_ERRORS = frozenset(
    {"invalid_auth", "account_inactive", "token_revoked", "token_expired"}
)


def installations_repo(gateway: Gateway) -> InstallationsRepository:
    return InstallationsRepository(gateway.db, gateway.keyring)


def audit_repo(gateway: Gateway) -> AuditRepository:
    return AuditRepository(gateway.db, gateway.keyring)


def workspace_data(app: SlackApp | None, inst: Installation) -> dict[str, Any]:
    """The ``data.workspace`` object of workspace.* webhooks (no secrets)."""
    return {
        "team_id": inst.team_id,
        "team_name": inst.team_name,
        "enterprise_id": inst.enterprise_id,
        "enterprise_name": inst.enterprise_name,
        "is_enterprise_install": inst.is_enterprise_install,
        "app_id": app.app_id if app else None,
        "app_name": app.name if app else None,
        "status": inst.status,
        "ref": inst.product_ref,
    }


async def emit_workspace_event(
    gateway: Gateway,
    type_: str,
    app: SlackApp | None,
    inst: Installation,
    extra: Mapping[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> int:
    """Tell the product a ``workspace.*`` event (the ``notify`` port: one delivery per
    interested endpoint)."""
    moment = at or utcnow()
    data = {"workspace": workspace_data(app, inst), **(extra or {})}
    event = DomainEvent(
        type=type_,
        team_id=inst.team_id or inst.enterprise_id,
        app_id=app.app_id if app else None,
        data=data,
        ordering_key=f"workspace:{inst.id}",
        dedupe_key=f"{type_}:{inst.id}:{moment.isoformat()}",
        occurred_at=moment.timestamp(),
    )
    return await gateway.ports.notify([event])


async def locate_installations(
    gateway: Gateway, team_id: str | None, app_id: str | None, enterprise_id: str | None
) -> list[tuple[SlackApp, Installation]]:
    """Installations (any status) serving ``team_id``, per app in app order: of app ``app_id``
    (Slack's ``A…`` id) only when given. An org-wide installation of ``enterprise_id`` serves
    the org's teams that have no installation of their own."""
    repo = installations_repo(gateway)
    found = [
        inst
        for inst in (await repo.list(team_id=team_id) if team_id else [])
        if enterprise_id is None or inst.enterprise_id in (None, enterprise_id)
    ]
    if enterprise_id:
        served = {inst.app_ref for inst in found}
        found += [
            inst
            for inst in await repo.list(team_id="")  # org-wide installs have no team id
            if inst.enterprise_id == enterprise_id and inst.app_ref not in served
        ]
    located: list[tuple[SlackApp, Installation]] = []
    for inst in found:
        app = await app_by_ref(gateway, inst.app_ref)
        if app is not None and (app_id is None or app.app_id == app_id):
            located.append((app, inst))
    return sorted(located, key=lambda pair: pair[0].id)


async def mark_disconnected(
    gateway: Gateway, app: SlackApp, inst: Installation, error: str
) -> bool:
    """Mark an active installation ``disconnected`` with ``error`` as its last error, audit
    it and dispatch ``workspace.disconnected``. False when it was not active (nothing done)."""
    repo = installations_repo(gateway)
    async with gateway.db.transaction() as tx:
        current = await repo.get(inst.id, session=tx)
        if current is None or current.status != "active":
            return False
        await repo.set_status(inst.id, "disconnected", last_error=error, session=tx)
        await audit_repo(gateway).record(
            "workspace.disconnected",
            actor="slack",
            team_id=inst.team_id or inst.enterprise_id,
            detail={"app": app.name, "error": error, "installation_id": inst.id},
            session=tx,
        )
    _log.warning(
        "workspace %s (app %s) disconnected: Slack answered %s", inst.team_id, app.name, error
    )
    updated = await repo.get(inst.id)
    if updated is not None:
        await emit_workspace_event(
            gateway, "workspace.disconnected", app, updated, {"error": error}
        )
    return True


async def uninstall(
    gateway: Gateway,
    team_id: str | None,
    app_id: str | None,
    enterprise_id: str | None,
    reason: str,
) -> bool:
    """The app was uninstalled from the workspace (``app_uninstalled``, or its bot token was
    revoked): delete its tokens, mark it ``uninstalled``, audit, dispatch
    ``workspace.uninstalled``. Returns False when there was nothing (left) to uninstall."""
    changed = False
    repo = installations_repo(gateway)
    for app, inst in await locate_installations(gateway, team_id, app_id, enterprise_id):
        if inst.status in ("uninstalled", "removed"):
            continue
        async with gateway.db.transaction() as tx:
            # Read again under the write lock: an operator's removal (whose auth.revoke is
            # what made Slack send this event) may have settled it since.
            current = await repo.get(inst.id, session=tx)
            if current is None or current.status in ("uninstalled", "removed"):
                continue
            await repo.retire(inst.id, "uninstalled", reason=reason, session=tx)
            await audit_repo(gateway).record(
                "workspace.uninstalled",
                actor="slack",
                team_id=inst.team_id,
                detail={"app": app.name, "reason": reason, "installation_id": inst.id},
                session=tx,
            )
        updated = await repo.get(inst.id)
        if updated is not None:
            await emit_workspace_event(
                gateway, "workspace.uninstalled", app, updated, {"reason": reason}
            )
        changed = True
    return changed


async def revoke_user_tokens(
    gateway: Gateway, team_id: str | None, app_id: str | None, user_ids: Sequence[str]
) -> int:
    """Forget the user tokens of ``user_ids`` (``tokens_revoked``); returns how many."""
    if not user_ids:
        return 0
    deleted = 0
    repo = installations_repo(gateway)
    for app, inst in await locate_installations(gateway, team_id, app_id, None):
        async with gateway.db.transaction() as tx:
            count = await repo.forget_tokens(inst.id, bot=False, user_ids=user_ids, session=tx)
            if count:
                await audit_repo(gateway).record(
                    "user_tokens.revoked",
                    actor="slack",
                    team_id=inst.team_id,
                    detail={"app": app.name, "user_ids": list(user_ids), "deleted": count},
                    session=tx,
                )
        deleted += count
    return deleted


@dataclass(frozen=True)
class RemoveResult:
    """What ``workspaces remove`` did for one installation."""

    app_name: str
    team_id: str | None
    revoked: bool  # Slack confirmed auth.revoke
    revoke_error: str | None  # why it didn't (the tokens are deleted anyway)
    user_tokens_revoked: int


async def _revoke_at_slack(
    gateway: Gateway, team_id: str | None, token: str | None
) -> tuple[bool, str | None]:
    if not token:
        return False, "no_token"
    await within_budget(gateway, team_id, "auth.revoke")
    try:
        answer = await gateway.slack_client(token).auth_revoke()
    except Exception as exc:
        response = getattr(exc, "response", None)
        error = response.get("error") if response is not None else None
        return False, str(error or type(exc).__name__)
    return bool(answer.get("revoked")), None


async def remove_workspace(
    gateway: Gateway, team_id: str, *, app_name: str | None = None, actor: str = "cli"
) -> list[RemoveResult]:
    """Revoke the workspace's tokens at Slack (``auth.revoke``), delete them, mark the
    installation ``removed``, audit it and tell the product (``workspace.uninstalled``).

    Every installation of ``team_id`` is removed, or only app ``app_name``'s. Slack failing to
    revoke (the token is already dead, Slack is unreachable) does not stop the removal; the
    result says so. Raises LookupError when nothing matches.
    """
    repo = installations_repo(gateway)
    apps = await list_apps(gateway, fresh=True)
    if app_name is not None:
        apps = [a for a in apps if app_name in (a.name, a.app_id)]
        if not apps:
            raise LookupError(f"no Slack app named {app_name!r}")
    results: list[RemoveResult] = []
    for app in apps:
        inst = await repo.find(app.id, team_id=team_id)
        if inst is None or inst.status == "removed":
            continue
        # People's tokens first: some Slack answers stop accepting them once the bot is gone.
        users = 0
        for user in await repo.list_user_tokens(inst.id):
            user_revoked, _ = await _revoke_at_slack(gateway, inst.team_id, user.token)
            users += int(user_revoked)
        revoked, error = await _revoke_at_slack(gateway, inst.team_id, inst.bot_token)
        async with gateway.db.transaction() as tx:
            await repo.retire(inst.id, "removed", reason=f"removed by {actor}", session=tx)
            await audit_repo(gateway).record(
                "workspace.removed",
                actor=actor,
                team_id=team_id,
                detail={
                    "app": app.name,
                    "installation_id": inst.id,
                    "revoked_at_slack": revoked,
                    "revoke_error": error,
                    "user_tokens_revoked": users,
                },
                session=tx,
            )
        updated = await repo.get(inst.id)
        if updated is not None:
            await emit_workspace_event(
                gateway, "workspace.uninstalled", app, updated, {"reason": "removed"}
            )
        results.append(RemoveResult(app.name, team_id, revoked, error, users))
    if not results:
        which = f" for app {app_name!r}" if app_name else ""
        raise LookupError(f"workspace {team_id} has no installation{which} to remove")
    return results


async def own_identity(gateway: Gateway, team_id: str | None) -> OwnIdentity:
    """slackbridge's own bots and apps as seen in ``team_id`` (for the loop guard)."""
    apps = await list_apps(gateway)
    bot_ids: set[str] = set()
    bot_user_ids: set[str] = set()
    repo = installations_repo(gateway)
    # The team's own installations, and org-wide ones (stored with an empty team id).
    for team in {team_id or "", ""}:
        for inst in await repo.list(team_id=team):
            if inst.bot_id:
                bot_ids.add(inst.bot_id)
            if inst.bot_user_id:
                bot_user_ids.add(inst.bot_user_id)
    return OwnIdentity(
        bot_ids=frozenset(bot_ids),
        app_ids=frozenset(a.app_id for a in apps if a.app_id),
        bot_user_ids=frozenset(bot_user_ids),
    )
