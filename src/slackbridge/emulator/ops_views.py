"""World operations on views (modals and App Home) and the trigger ids that open them."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from slackbridge.emulator.state import EmulatorState, Trigger, View
from slackbridge.emulator.webapi.registry import SlackError

__all__ = [
    "TRIGGER_LIFETIME",
    "close_view",
    "new_trigger",
    "open_view",
    "publish_home",
    "push_view",
    "render_view",
    "take_trigger",
    "update_view",
    "view_stack",
]

TRIGGER_LIFETIME = 3.0  # seconds (Slack's), divided by the emulator's speed
_MAX_STACK = 3


def new_trigger(state: EmulatorState, team_id: str, user_id: str, app_id: str) -> Trigger:
    """A trigger id for a user's action (slash command, button, shortcut), valid 3 s."""
    trigger = Trigger(
        trigger_id=f"{secrets.randbelow(10**13)}.{secrets.randbelow(10**13)}.{secrets.token_hex(16)}",
        team_id=team_id,
        user_id=user_id,
        app_id=app_id,
        expires_at=state.now() + state.scaled(TRIGGER_LIFETIME),
    )
    state.triggers[trigger.trigger_id] = trigger
    return trigger


def take_trigger(state: EmulatorState, trigger_id: str, app_id: str | None) -> Trigger:
    """Use a trigger once: ``invalid_trigger_id``, ``expired_trigger_id``,
    ``exchanged_trigger_id``."""
    trigger = state.triggers.get(trigger_id)
    if trigger is None or (app_id is not None and trigger.app_id != app_id):
        raise SlackError("invalid_trigger_id")
    if trigger.used:
        raise SlackError("exchanged_trigger_id")
    if state.now() > trigger.expires_at:
        raise SlackError("expired_trigger_id")
    trigger.used = True
    return trigger


def _new_hash(state: EmulatorState) -> str:
    return f"{int(state.now())}.{secrets.token_hex(4)}"


def _new_view(
    state: EmulatorState,
    app_id: str,
    team_id: str,
    user_id: str,
    payload: dict[str, Any],
    *,
    kind: Literal["modal", "home"] = "modal",
    previous: str | None = None,
    root: str | None = None,
) -> View:
    """Store a new view: a modal (on top of ``previous`` in stack ``root``, or a new stack) or
    an App Home tab."""
    view = View(
        id=state.ids.next("V"),
        team_id=team_id,
        app_id=app_id,
        user_id=user_id,
        view=dict(payload),
        hash=_new_hash(state),
        kind=kind,
        previous_view_id=previous,
    )
    view.root_view_id = root or view.id
    state.views[view.id] = view
    return view


def _check_view(payload: Any, *, kind: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] view"]})
    view_type = payload.get("type")
    if view_type != kind:
        raise SlackError(
            "invalid_arguments",
            response_metadata={"messages": [f"[ERROR] must be '{kind}' [json-pointer:/view/type]"]},
        )
    if kind == "modal" and not isinstance(payload.get("title"), dict):
        raise SlackError(
            "invalid_arguments",
            response_metadata={"messages": ["[ERROR] missing required field: title"]},
        )
    blocks = payload.get("blocks", [])
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise SlackError("invalid_blocks")
    return payload


def render_view(view: View, *, bot_id: str | None = None) -> dict[str, Any]:
    """A view as ``views.*`` return it and ``view_submission`` payloads carry it."""
    p = view.view
    out: dict[str, Any] = {
        "id": view.id,
        "team_id": view.team_id,
        "type": p.get("type", view.kind),
        "blocks": p.get("blocks", []),
        "private_metadata": p.get("private_metadata", ""),
        "callback_id": p.get("callback_id", ""),
        "state": p.get("state", {"values": {}}),
        "hash": view.hash,
        "title": p.get("title"),
        "clear_on_close": bool(p.get("clear_on_close", False)),
        "notify_on_close": bool(p.get("notify_on_close", False)),
        "close": p.get("close"),
        "submit": p.get("submit"),
        "previous_view_id": view.previous_view_id,
        "root_view_id": view.root_view_id or view.id,
        "app_id": view.app_id,
        "external_id": p.get("external_id", ""),
        "app_installed_team_id": view.team_id,
        "bot_id": bot_id,
    }
    if view.kind == "home":
        for key in ("title", "close", "submit", "clear_on_close", "notify_on_close"):
            out.pop(key, None)
    return out


def _external_id_taken(state: EmulatorState, app_id: str, external_id: str | None) -> bool:
    if not external_id:
        return False
    return any(
        v.open and v.app_id == app_id and v.view.get("external_id") == external_id
        for v in state.views.values()
    )


def open_view(state: EmulatorState, app_id: str, team_id: str, user_id: str, payload: Any) -> View:
    """A new modal (the root of a new stack)."""
    payload = _check_view(payload, kind="modal")
    if _external_id_taken(state, app_id, payload.get("external_id")):
        raise SlackError("duplicate_external_id")
    return _new_view(state, app_id, team_id, user_id, payload)


def view_stack(state: EmulatorState, root_view_id: str) -> list[View]:
    """The open modals of one stack, root first."""
    return [v for v in state.views.values() if v.open and v.root_view_id == root_view_id]


def push_view(state: EmulatorState, app_id: str, team_id: str, user_id: str, payload: Any) -> View:
    """A modal pushed on top of the user's open modal stack for this app."""
    payload = _check_view(payload, kind="modal")
    tops = [
        v
        for v in state.views.values()
        if v.open and v.kind == "modal" and v.app_id == app_id and v.user_id == user_id
    ]
    if not tops:
        # No open modal to push onto: Slack answers as for a missing view.
        raise SlackError("not_found")
    top = tops[-1]
    root_id = top.root_view_id or top.id
    if len(view_stack(state, root_id)) >= _MAX_STACK:
        raise SlackError("push_limit_reached")
    if _external_id_taken(state, app_id, payload.get("external_id")):
        raise SlackError("duplicate_external_id")
    return _new_view(state, app_id, team_id, user_id, payload, previous=top.id, root=root_id)


def update_view(
    state: EmulatorState,
    app_id: str,
    payload: Any,
    *,
    view_id: str | None = None,
    external_id: str | None = None,
    hash: str | None = None,
) -> View:
    """Replace a view's content by id or external id; ``hash_conflict`` if ``hash`` is stale."""
    view: View | None = None
    if view_id:
        view = state.views.get(view_id)
    elif external_id:
        view = next(
            (
                v
                for v in state.views.values()
                if v.app_id == app_id and v.view.get("external_id") == external_id
            ),
            None,
        )
    if view is None or view.app_id != app_id or not view.open:
        raise SlackError("not_found")
    payload = _check_view(payload, kind=view.kind if view.kind == "home" else "modal")
    if hash and hash != view.hash:
        raise SlackError("hash_conflict")
    old_state = view.view.get("state")
    view.view = dict(payload)
    if old_state is not None:
        view.view.setdefault("state", old_state)
    view.hash = _new_hash(state)
    return view


def publish_home(
    state: EmulatorState,
    app_id: str,
    team_id: str,
    user_id: str,
    payload: Any,
    *,
    hash: str | None = None,
) -> View:
    """Set the App Home tab a user sees for this app."""
    payload = _check_view(payload, kind="home")
    existing = next(
        (
            v
            for v in state.views.values()
            if v.kind == "home" and v.app_id == app_id and v.user_id == user_id
        ),
        None,
    )
    if existing is not None:
        if hash and hash != existing.hash:
            raise SlackError("hash_conflict")
        existing.view = dict(payload)
        existing.hash = _new_hash(state)
        return existing
    return _new_view(state, app_id, team_id, user_id, payload, kind="home")


def close_view(state: EmulatorState, view: View) -> list[View]:
    """Close a modal and every modal above it in its stack; returns those closed."""
    stack = view_stack(state, view.root_view_id or view.id)
    closing = stack[stack.index(view) :] if view in stack else [view]
    for v in closing:
        v.open = False
    return closing
