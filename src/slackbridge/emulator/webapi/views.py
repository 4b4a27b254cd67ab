"""``views.open``, ``views.push``, ``views.update``, ``views.publish``.

Modals open with a ``trigger_id`` from a user's action (valid 3 s, divided by ``--speed``, and
usable once); ``views.update`` finds a view by ``view_id`` or ``external_id`` and refuses a stale
``hash`` with ``hash_conflict``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slackbridge.emulator import ops
from slackbridge.emulator.state import View
from slackbridge.emulator.webapi.args import as_json, invalid_args
from slackbridge.emulator.webapi.common import caller_installation, workspace
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []


def _app_id(ctx: CallContext) -> str:
    assert ctx.token is not None
    if ctx.token.app_id is None:
        raise SlackError("not_allowed_token_type")
    return ctx.token.app_id


def _view_arg(ctx: CallContext) -> Any:
    if ctx.arg("view") is None:
        raise invalid_args("missing required field: view")
    return as_json(ctx.arg("view"), error="invalid_arguments")


def _answer(ctx: CallContext, view: View) -> dict[str, Any]:
    inst = caller_installation(ctx)
    return {"view": ops.render_view(view, bot_id=inst.bot_id if inst else None)}


def _with_trigger(ctx: CallContext, show: Callable[..., View]) -> dict[str, Any]:
    """views.open and views.push: spend the trigger, then ``show`` the view to its user."""
    app_id = _app_id(ctx)
    trigger_id = ctx.arg("trigger_id")
    if not trigger_id:
        raise invalid_args("missing required field: trigger_id")
    payload = _view_arg(ctx)
    trigger = ops.take_trigger(ctx.state, str(trigger_id), app_id)
    return _answer(ctx, show(ctx.state, app_id, trigger.team_id, trigger.user_id, payload))


@method("views.open", tier=4)
async def views_open(ctx: CallContext) -> dict[str, Any]:
    return _with_trigger(ctx, ops.open_view)


@method("views.push", tier=4)
async def views_push(ctx: CallContext) -> dict[str, Any]:
    return _with_trigger(ctx, ops.push_view)


@method("views.update", tier=4)
async def views_update(ctx: CallContext) -> dict[str, Any]:
    app_id = _app_id(ctx)
    view_id = ctx.arg("view_id")
    external_id = ctx.arg("external_id")
    if not view_id and not external_id:
        raise invalid_args("missing required field: view_id or external_id")
    payload = _view_arg(ctx)
    view = ops.update_view(
        ctx.state,
        app_id,
        payload,
        view_id=str(view_id) if view_id else None,
        external_id=str(external_id) if external_id else None,
        hash=str(ctx.arg("hash")) if ctx.arg("hash") else None,
    )
    return _answer(ctx, view)


@method("views.publish", tier=4)
async def views_publish(ctx: CallContext) -> dict[str, Any]:
    app_id = _app_id(ctx)
    user_id = str(ctx.require("user_id"))
    ws = workspace(ctx)
    if user_id not in ws.users:
        raise SlackError("user_not_found")
    payload = _view_arg(ctx)
    view = ops.publish_home(
        ctx.state,
        app_id,
        ws.id,
        user_id,
        payload,
        hash=str(ctx.arg("hash")) if ctx.arg("hash") else None,
    )
    return _answer(ctx, view)
