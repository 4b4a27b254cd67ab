"""Declared sets, choosing among commands, near misses and the help answer."""

from __future__ import annotations

from datetime import date

import pytest

from slackbridge.commands.choose import Matched, Unmatched, choose
from slackbridge.commands.declaration import CommandError, build_commands
from slackbridge.commands.help import help_text
from slackbridge.commands.suggest import edit_distance, near_misses

TASKS = [
    {
        "name": "add",
        "pattern": "add {title:text} [due {due:date}]",
        "description": "Add a task",
        "examples": ['add "Write release notes" due friday', "add buy milk"],
    },
    {"name": "done", "pattern": "done {id:number}", "examples": ["done 3"]},
    {"name": "list", "pattern": "list [{who:user}]", "via": ["dm"]},
    {"name": "call", "pattern": "{who:user}...", "slash": "/Call"},
]
TODAY = date(2026, 12, 2)


def test_a_declared_set_is_checked_and_sources_default_sensibly() -> None:
    add, _done, listed, call = build_commands(TASKS)
    assert add.via == {"mention", "dm"}
    assert listed.via == {"dm"}
    assert call.via == {"slash"} and call.slash == "/call"
    assert call.declaration() == {
        "name": "call",
        "pattern": "{who:user}...",
        "description": "",
        "examples": [],
        "slash": "/call",
        "via": ["slash"],
    }


@pytest.mark.parametrize(
    ("declared", "location", "message", "position"),
    [
        ([{"name": "Add", "pattern": "add"}], "commands[0].name", "lower-case letter", None),
        ([{"name": "a", "pattern": "add {x"}], "commands[0].pattern", "never closed", 4),
        ([{"name": "a"}], "commands[0].pattern", "is required", None),
        (
            [{"name": "a", "pattern": "add {n:number}", "examples": ["add 1", "add x"]}],
            "commands[0].examples[1]",
            "doesn't match the pattern: n should be a number",
            4,
        ),
        (
            [{"name": "a", "pattern": "a"}, {"name": "a", "pattern": "b"}],
            "commands[1].name",
            "declared twice",
            None,
        ),
        ([{"name": "a", "pattern": "a", "via": ["slash"]}], "commands[0].via", "needs", None),
        ([{"name": "a", "pattern": "a", "via": ["email"]}], "commands[0].via", "not one of", None),
        ([{"name": "a", "pattern": "a", "slash": "tasks"}], "commands[0].slash", "such as", None),
        (["add"], "commands[0]", "must be an object", None),
    ],
)
def test_bad_declarations_name_the_field(
    declared: list[object], location: str, message: str, position: int | None
) -> None:
    with pytest.raises(CommandError) as caught:
        build_commands(declared)  # type: ignore[arg-type]
    assert caught.value.location == location
    assert message in caught.value.message
    assert caught.value.position == position


def test_the_first_command_that_fits_wins_and_sources_are_respected() -> None:
    commands = build_commands(TASKS)
    found = choose(commands, "add “Ship it” due tomorrow", "mention", today=TODAY)
    assert isinstance(found, Matched)
    assert (found.command.name, found.arguments) == (
        "add",
        {"title": "Ship it", "due": "2026-12-03"},
    )
    # list is for DMs only; call for /call only.
    assert isinstance(choose(commands, "list", "dm", today=TODAY), Matched)
    listed = choose(commands, "list", "mention", today=TODAY)
    assert isinstance(listed, Unmatched) and listed.kind == "unknown"
    called = choose(commands, "<@U1> <@U2>", "slash", "/CALL", today=TODAY)
    assert isinstance(called, Matched) and called.arguments == {"who": ["U1", "U2"]}
    assert choose(commands, "x", "slash", "/other", today=TODAY) is None


def test_help_malformed_and_near_misses() -> None:
    commands = build_commands(TASKS)
    asked = choose(commands, "help", "dm")
    assert isinstance(asked, Unmatched) and asked.kind == "help" and asked.topic == ()
    about = choose(commands, "help add", "dm")
    assert isinstance(about, Unmatched) and [c.name for c in about.topic] == ["add"]
    empty = choose(commands, "", "slash", "/call")
    assert isinstance(empty, Unmatched) and empty.kind == "help" and empty.topic == ()
    wrong = choose(commands, "done soon", "mention")
    assert isinstance(wrong, Unmatched) and wrong.kind == "malformed"
    assert wrong.problem == "id should be a number, not “soon”"
    typo = choose(commands, "dnoe 3", "mention")
    assert isinstance(typo, Unmatched) and typo.kind == "unknown"
    assert typo.suggestions == ("done",)
    nothing = choose(commands, "dance", "mention")
    assert isinstance(nothing, Unmatched) and nothing.suggestions == ()


def test_a_declared_help_command_takes_precedence() -> None:
    commands = build_commands([{"name": "help", "pattern": "help [{topic:word}]"}])
    assert isinstance(choose(commands, "help me", "dm"), Matched)


def test_edit_distance_and_near_misses() -> None:
    assert edit_distance("done", "done") == 0
    assert edit_distance("dnoe", "done") == 1  # a swap
    assert edit_distance("ad", "add") == 1
    assert edit_distance("kitten", "sitting") == 3
    assert near_misses("ad", ["add", "done", "list"]) == ["add"]
    assert near_misses("lst", ["list", "last"]) == ["list", "last"]
    assert near_misses("remind", ["remove", "reminder"]) == ["reminder"]  # a prefix
    assert near_misses("xyz", ["add"]) == []


def test_the_help_answer() -> None:
    commands = build_commands(TASKS)
    typo = choose(commands, "ad milk", "mention")
    assert isinstance(typo, Unmatched)
    text = help_text(typo, "<@U0BOT> ")
    assert text.splitlines()[0] == "I don't know that command. Did you mean <@U0BOT> `add`?"
    assert "• <@U0BOT> `add {title} [due {due}]` — Add a task" in text
    assert '    e.g. <@U0BOT> `add "Write release notes" due friday`' in text
    assert "• <@U0BOT> `help` — this list" in text
    assert "`list" not in text  # a DM-only command isn't offered in a channel
    wrong = choose(commands, "done soon", "dm")
    assert isinstance(wrong, Unmatched)
    assert help_text(wrong).splitlines() == [
        "That doesn't fit `done`: id should be a number, not “soon”.",
        "• `done {id}`",
        "    e.g. `done 3`",
    ]
    slash = choose(commands, "", "slash", "/call")
    assert isinstance(slash, Unmatched)
    assert help_text(slash, "/call ").splitlines() == [
        "*Commands*",
        "• `/call {who}...`",
        "• `/call help` — this list",
    ]


def test_the_help_answer_escapes_what_slack_would_read_as_markup() -> None:
    commands = build_commands([{"name": "a", "pattern": "a", "description": "x < y & z"}])
    asked = choose(commands, "help", "dm")
    assert isinstance(asked, Unmatched)
    assert "x &lt; y &amp; z" in help_text(asked)
