"""Commands written out: a pattern's usage line, and a message built from typed arguments.

:func:`usage` is what the help answer shows (``add {title} [due {due}]``). :func:`format_command`
is the inverse of matching: arguments in, the message text as Slack would send it (``&``, ``<``
and ``>`` escaped), such that matching it gives the same arguments back (the property tests rely
on that). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slackbridge.commands.pattern import Arg, Group, Part, Pattern, Word

__all__ = ["format_command", "usage"]

_OPENERS = "\"“„«'‘‚"
_DOUBLE_CLOSERS = '"”“»'
_SINGLE_CLOSERS = "'’‘"


def _usage(parts: tuple[Part, ...]) -> str:
    shown: list[str] = []
    for part in parts:
        if isinstance(part, Word):
            shown.append(part.text)
        elif isinstance(part, Group):
            shown.append(f"[{_usage(part.parts)}]")
        else:
            name = "|".join(part.choices) if part.type == "choice" else part.name
            shown.append("{" + name + "}" + ("..." if part.repeat else ""))
    return " ".join(shown)


def usage(pattern: Pattern) -> str:
    """The pattern as the help answer shows it: argument names without their types."""
    return _usage(pattern.parts)


def _value(arg: Arg, value: Any) -> str:
    if arg.type == "user":
        return f"<@{value}>"
    if arg.type == "channel":
        return f"<#{value}>"
    if arg.type in ("word", "text") and isinstance(value, str):
        # Escaped as Slack escapes message text (the tokenizer undoes it).
        escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if value and not any(c.isspace() for c in value) and value[0] not in _OPENERS:
            return escaped
        return _quoted(escaped)
    return str(value)


def _quoted(value: str) -> str:
    """``value`` in quotes that read back as exactly ``value``: straight double quotes when it
    holds no double quote, else single ones when no single quote in it ends a word."""
    if not any(c in _DOUBLE_CLOSERS for c in value):
        return f'"{value}"'
    ends_word = any(
        c in _SINGLE_CLOSERS and (i + 1 == len(value) or value[i + 1].isspace())
        for i, c in enumerate(value)
    )
    if not ends_word:
        return f"'{value}'"
    raise ValueError(f"{value!r} holds both kinds of quotes: it can't be written as one value")


def _present(arg: Arg, arguments: Mapping[str, Any]) -> bool:
    value = arguments.get(arg.name)
    return value is not None and value != []


def _format(parts: tuple[Part, ...], arguments: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if isinstance(part, Word):
            out.append(part.text)
        elif isinstance(part, Group):
            if any(_present(a, arguments) for a in Pattern("", part.parts).arguments()):
                out.extend(_format(part.parts, arguments))
        elif part.repeat:
            out.extend(_value(part, v) for v in arguments[part.name])
        else:
            out.append(_value(part, arguments[part.name]))
    return out


def format_command(pattern: Pattern, arguments: Mapping[str, Any]) -> str:
    """The text that runs ``pattern`` with ``arguments`` (an optional group is written out
    when one of its arguments has a value). Raises ValueError for a text that holds both a
    double quote and a single quote ending a word (no quoting reads back as it)."""
    return " ".join(_format(pattern.parts, arguments))
