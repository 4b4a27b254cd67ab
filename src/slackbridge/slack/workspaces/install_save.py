"""The last step of an install: store it, unless it would move a workspace to another account.

A workspace installed from a link for product account ``A`` stays tied to ``A``: a reinstall
from a link for ``B`` (someone in the workspace with a link of another account) is refused by
default, with nothing stored, so that no one can silently take a workspace over. With
``SLACKBRIDGE_ALLOW_REF_CHANGE`` it is accepted, audited and announced to the product with
``workspace.ref_changed`` (old and new ref). A reinstall without a ref keeps the ref, and a
workspace whose app was uninstalled or removed is no longer tied: it may be installed under any
ref (announced with ``workspace.ref_changed`` too, so the old account learns it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slackbridge.runtime import Gateway
from slackbridge.slack.workspaces.apps import SlackApp
from slackbridge.slack.workspaces.install_result import scopes_of
from slackbridge.slack.workspaces.lifecycle import (
    audit_repo,
    emit_workspace_event,
    installations_repo,
)
from slackbridge.store.repositories.installations import Installation, InstallationSpec

__all__ = ["RefConflict", "SavedInstall", "save_install"]

_log = logging.getLogger("slackbridge.oauth")
#: Installations in these states are still tied to their account.
_TIED = frozenset({"active", "disconnected"})


@dataclass(frozen=True)
class SavedInstall:
    """The installation as stored; ``previous_ref`` when its ref changed."""

    installation: Installation
    created: bool
    ref_changed: bool = False
    previous_ref: str | None = None


@dataclass(frozen=True)
class RefConflict:
    """Refused: the workspace is tied to another ref (nothing was stored)."""

    team_id: str | None


def _user_scope(answer: dict[str, Any]) -> object:
    user = answer.get("authed_user")
    return user.get("scope") if isinstance(user, dict) else None


async def save_install(
    gateway: Gateway, app: SlackApp, spec: InstallationSpec, answer: dict[str, Any]
) -> SavedInstall | RefConflict:
    """Store ``spec`` (with its audit entry) in one transaction and tell the product, or refuse
    a change of ref (see the module docstring)."""
    repo = installations_repo(gateway)
    team = spec.team_id or spec.enterprise_id
    user_scopes = list(scopes_of(_user_scope(answer)))
    async with gateway.db.transaction() as tx:
        before = await repo.find(
            spec.app_ref,
            team_id=spec.team_id,
            enterprise_id=spec.enterprise_id or "",
            is_enterprise_install=spec.is_enterprise_install,
            session=tx,
        )
        old_ref = before.product_ref if before is not None else None
        changed = (
            before is not None
            and old_ref is not None
            and spec.product_ref is not None
            and spec.product_ref != old_ref
        )
        tied = before is not None and before.status in _TIED
        if changed and tied and not gateway.settings.allow_ref_change:
            await audit_repo(gateway).record(
                "workspace.ref_change_refused",
                actor=f"slack:{spec.installer_user_id or 'unknown'}",
                team_id=team,
                detail={"app": app.name, "ref": old_ref, "refused_ref": spec.product_ref},
                session=tx,
            )
            _log.warning("refused a reinstall of %s into %s under another ref", app.name, team)
            return RefConflict(team)
        saved = await repo.save(spec, session=tx)
        inst = saved.installation
        await audit_repo(gateway).record(
            "workspace.installed" if saved.created else "workspace.reinstalled",
            actor=f"slack:{inst.installer_user_id or 'unknown'}",
            team_id=team,
            detail={
                "app": app.name,
                "installation_id": inst.id,
                "scopes": list(inst.bot_scopes),
                "user_scopes": user_scopes,
                "ref": inst.product_ref,
                **({"previous_ref": old_ref} if changed else {}),
            },
            session=tx,
        )
    _log.info(
        "%s %s into %s (%s)",
        "installed" if saved.created else "reinstalled",
        app.name,
        team,
        inst.team_name,
    )
    await emit_workspace_event(
        gateway,
        "workspace.installed",
        app,
        inst,
        {
            "reinstall": not saved.created,
            "installer": {"id": inst.installer_user_id},
            "scopes": list(inst.bot_scopes),
            "user_scopes": user_scopes,
        },
    )
    if changed:
        await emit_workspace_event(
            gateway,
            "workspace.ref_changed",
            app,
            inst,
            {"old_ref": old_ref, "new_ref": inst.product_ref},
        )
    return SavedInstall(inst, saved.created, changed, old_ref if changed else None)
