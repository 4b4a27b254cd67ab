"""How Slack reports what a user picked or typed in Block Kit elements (pure functions).

:func:`action_value` is one item of a ``block_actions`` payload's ``actions``;
:func:`state_values` is a view's ``state.values`` (``{block_id: {action_id: {type, …}}}``).
A user's choice is given simply (a string, or a list for multi-selects) and shaped per element
type: ``value`` for text inputs and buttons, ``selected_option(s)`` for selects, radio buttons,
checkboxes and overflow menus, ``selected_user(s)``/``selected_conversation(s)``/
``selected_channel(s)``, ``selected_date``/``selected_time``/``selected_date_time``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Offered", "action_value", "selection", "state_values"]

# Options an app returned for external selects (its block_suggestion answers), per action_id:
# {action_id: {value: option}}. A pick in an external select echoes the app's own option.
Offered = Mapping[str, Mapping[str, dict[str, Any]]]

_TEXT_INPUTS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
_SINGLE_OPTION = {"static_select", "external_select", "radio_buttons", "overflow"}
_MULTI_OPTION = {"multi_static_select", "multi_external_select", "checkboxes"}
_SINGLE_ID = {
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
}
_MULTI_ID = {
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    found = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            found.extend(o for o in group.get("options") or [] if isinstance(o, dict))
    return found


def _option(element: dict[str, Any], value: Any, offered: Offered | None) -> dict[str, Any]:
    if element.get("type") in ("external_select", "multi_external_select"):
        # External options come from the app: Slack echoes the option (text and value) that
        # the app's block_suggestion answer offered and the user picked.
        loaded = (offered or {}).get(str(element.get("action_id")), {})
        if isinstance(value, str) and value in loaded:
            return loaded[value]
        initial = element.get("initial_option")
        if isinstance(initial, dict) and initial.get("value") == value:
            return initial
        raise ValueError(
            f"{element.get('action_id')}: the app has not offered an option with value "
            f"{value!r} (load options first)"
        )
    for option in _options(element):
        if option.get("value") == value:
            return option
    raise ValueError(f"{element.get('action_id')}: no option with value {value!r}")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _unix_time(element: dict[str, Any], value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{element.get('action_id')}: expected a unix time, not {value!r}")
    try:
        return int(value)
    except (ValueError, OverflowError):
        raise ValueError(
            f"{element.get('action_id')}: expected a unix time, not {value!r}"
        ) from None


def selection(
    element: dict[str, Any], value: Any, offered: Offered | None = None
) -> dict[str, Any]:
    """The fields describing ``value`` chosen in ``element`` (without ``type``); ``ValueError``
    when ``value`` cannot be a choice there (an option the element does not offer, a date-time
    that is not a unix time)."""
    kind = str(element.get("type", ""))
    if kind in _TEXT_INPUTS or kind == "button":
        if value is None and kind == "button":
            value = element.get("value")
        return {"value": value}
    if kind in _SINGLE_OPTION:
        return {"selected_option": None if value is None else _option(element, value, offered)}
    if kind in _MULTI_OPTION:
        return {"selected_options": [_option(element, v, offered) for v in _as_list(value)]}
    if kind in _SINGLE_ID:
        return {_SINGLE_ID[kind]: value}
    if kind in _MULTI_ID:
        return {_MULTI_ID[kind]: _as_list(value)}
    if kind == "datetimepicker":
        return {"selected_date_time": None if value is None else _unix_time(element, value)}
    if kind == "rich_text_input":
        text = "" if value is None else str(value)
        rich = {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
        return {"rich_text_value": rich}
    return {"value": value}


def action_value(
    element: dict[str, Any],
    block_id: str,
    value: Any,
    action_ts: str,
    offered: Offered | None = None,
) -> dict[str, Any]:
    """One entry of ``block_actions.actions`` for a click or pick in ``element``."""
    out: dict[str, Any] = {
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "type": element.get("type"),
    }
    if element.get("type") == "button":
        out["text"] = element.get("text")
        if element.get("style"):
            out["style"] = element["style"]
    out.update(selection(element, value, offered))
    out["action_ts"] = action_ts
    return out


def _stateful(block: dict[str, Any]) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    if block.get("type") == "input" and isinstance(block.get("element"), dict):
        elements.append(block["element"])
    elif block.get("type") == "actions":
        elements.extend(
            e
            for e in block.get("elements") or []
            if isinstance(e, dict) and e.get("type") != "button"
        )
    elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
        accessory = block["accessory"]
        if accessory.get("type") not in ("button", "image", "overflow"):
            elements.append(accessory)
    return [e for e in elements if e.get("action_id")]


def state_values(
    blocks: list[Any] | None, values: dict[str, Any], offered: Offered | None = None
) -> dict[str, dict[str, Any]]:
    """A view's ``state.values`` after the user entered ``values`` ({block_id: {action_id: v}}).

    Every stateful element appears (unfilled ones empty); ``ValueError`` names a value for an
    element the view does not have, or an option it does not offer."""
    out: dict[str, dict[str, Any]] = {}
    known: set[tuple[str, str]] = set()
    for i, block in enumerate(blocks or []):
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id") or f"block_{i}")
        for element in _stateful(block):
            action_id = str(element["action_id"])
            known.add((block_id, action_id))
            given = values.get(block_id)
            value = given.get(action_id) if isinstance(given, dict) else None
            if value is None and element.get("type") in _TEXT_INPUTS:
                value = element.get("initial_value")
            out.setdefault(block_id, {})[action_id] = {
                "type": element.get("type"),
                **selection(element, value, offered),
            }
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            raise ValueError(f"values.{block_id}: expected {{action_id: value}}")
        for action_id in actions:
            if (block_id, action_id) not in known:
                raise ValueError(f"values.{block_id}.{action_id}: the view has no such input")
    return out
