from __future__ import annotations

import pytest

from slackbridge.emulator.view_state import action_value, state_values

_SELECT = {
    "type": "static_select",
    "action_id": "priority",
    "options": [
        {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
        {"text": {"type": "plain_text", "text": "Low"}, "value": "low"},
    ],
}
_BLOCKS = [
    {
        "type": "input",
        "block_id": "title",
        "element": {"type": "plain_text_input", "action_id": "t"},
    },
    {"type": "input", "block_id": "prio", "element": _SELECT},
    {
        "type": "input",
        "block_id": "who",
        "element": {"type": "multi_users_select", "action_id": "users"},
    },
    {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}},
]


def test_state_values_shapes_each_element_type() -> None:
    values = state_values(_BLOCKS, {"title": {"t": "Printer"}, "prio": {"priority": "high"}})
    assert values == {
        "title": {"t": {"type": "plain_text_input", "value": "Printer"}},
        "prio": {"priority": {"type": "static_select", "selected_option": _SELECT["options"][0]}},
        "who": {"users": {"type": "multi_users_select", "selected_users": []}},
    }


def test_state_values_rejects_unknown_inputs_and_options() -> None:
    with pytest.raises(ValueError, match="no such input"):
        state_values(_BLOCKS, {"title": {"nope": "x"}})
    with pytest.raises(ValueError, match="no option"):
        state_values(_BLOCKS, {"prio": {"priority": "urgent"}})


def test_button_action_uses_its_value() -> None:
    button = {
        "type": "button",
        "action_id": "approve",
        "text": {"type": "plain_text", "text": "Approve"},
        "value": "42",
        "style": "primary",
    }
    action = action_value(button, "b1", None, "1700000000.000100")
    assert action == {
        "action_id": "approve",
        "block_id": "b1",
        "type": "button",
        "text": button["text"],
        "style": "primary",
        "value": "42",
        "action_ts": "1700000000.000100",
    }
    assert action_value(_SELECT, "b2", "low", "1.0")["selected_option"]["value"] == "low"
