"""The help answer the gateway gives itself: the commands with examples, and why a message
didn't fit or which command was probably meant.

Written in Slack's mrkdwn, with ``&``, ``<`` and ``>`` escaped as Slack requires. ``prefix`` is
how the commands are run from where the person asked: ``/tasks `` for a slash command,
``<@U…> `` (the bot's mention, which Slack shows as its name) for a mention, nothing in a DM.
Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from slackbridge.commands.choose import Unmatched
from slackbridge.commands.command import Command
from slackbridge.commands.render import usage

__all__ = ["help_text"]

_MAX_EXAMPLES = 2


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(prefix: str, text: str) -> str:
    # The prefix may be a mention (<@U…>): kept outside the code span so that Slack renders it.
    mention = prefix.startswith("<@")
    shown = _escape(text) if mention else _escape(prefix + text)
    return f"{prefix}`{shown}`" if mention else f"`{shown}`"


def _describe(command: Command, prefix: str) -> list[str]:
    line = "• " + _code(prefix, usage(command.pattern))
    if command.description:
        line += " — " + _escape(command.description)
    lines = [line]
    lines.extend(
        "    e.g. " + _code(prefix, example) for example in command.examples[:_MAX_EXAMPLES]
    )
    return lines


def _listing(commands: Sequence[Command], prefix: str) -> list[str]:
    lines: list[str] = []
    for command in commands:
        lines.extend(_describe(command, prefix))
    lines.append("• " + _code(prefix, "help") + " — this list")
    return lines


def help_text(unmatched: Unmatched, prefix: str = "") -> str:
    """The whole help answer for ``unmatched``."""
    said: list[str] = []
    if unmatched.kind == "malformed":
        (first, *_rest) = unmatched.topic
        problem = _escape(unmatched.problem or "it doesn't fit")
        said.append(
            f"That doesn't fit `{_escape(first.pattern.keyword or first.name)}`: {problem}."
        )
        for command in unmatched.topic:
            said.extend(_describe(command, prefix))
        return "\n".join(said)
    if unmatched.kind == "help" and unmatched.topic:
        for command in unmatched.topic:
            said.extend(_describe(command, prefix))
        return "\n".join(said)
    if unmatched.kind == "unknown":
        if unmatched.suggestions:
            options = " or ".join(_code(prefix, s) for s in unmatched.suggestions)
            said.append(f"I don't know that command. Did you mean {options}?")
        else:
            said.append("I don't know that command.")
    said.append("*Commands*" if unmatched.kind == "help" else "Here is what I can do:")
    said.extend(_listing(unmatched.available, prefix))
    return "\n".join(said)
