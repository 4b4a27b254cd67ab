"""One token as an argument of a given type: the typed value, or why it isn't one.

Values are plain JSON: ``word``, ``text``, ``rest`` and choices are strings, ``number`` an int
(or a float when it has a fraction), ``date`` an ISO date string (``2026-12-24``), ``user`` and
``channel`` the Slack id. Pure.
"""

from __future__ import annotations

import re
from datetime import date

from slackbridge.commands.dates import parse_date
from slackbridge.commands.pattern import Arg
from slackbridge.commands.tokens import Token

__all__ = ["Value", "convert", "expected"]

Value = str | int | float

_NUMBER = re.compile(r"#?(-?\d+(?:\.\d+)?)\Z")


def expected(arg: Arg) -> str:
    """What ``arg`` wants, said plainly (for the help answer of a malformed command)."""
    if arg.type == "choice":
        return "one of " + ", ".join(arg.choices)
    return {
        "word": "a word",
        "text": "some text",
        "rest": "some text",
        "number": "a number",
        "date": "a date (today, tomorrow, friday, 2026-12-24)",
        "user": "a user (@someone)",
        "channel": "a channel (#somewhere)",
    }[arg.type]


def convert(arg: Arg, token: Token, today: date) -> Value | None:
    """``token`` as a value of ``arg``'s type, or None when it isn't one.

    ``text`` and ``rest`` span several tokens and are put together by the matcher; here one
    token of them is its value.
    """
    kind = arg.type
    if kind in ("user", "channel"):
        return token.value if token.kind == kind else None
    if token.kind not in ("word", "quoted") and kind not in ("text", "rest", "word"):
        return None
    if kind in ("word", "text", "rest"):
        if token.kind in ("user", "channel", "special"):
            # A mention where a word is wanted: kept as Slack wrote it, so it still reads.
            return _as_written(token)
        return token.value
    if kind == "choice":
        lowered = token.value.lower()
        return lowered if lowered in arg.choices else None
    if kind == "number":
        found = _NUMBER.match(token.value.strip())
        if not found:
            return None
        text = found.group(1)
        return float(text) if "." in text else int(text)
    if kind == "date":
        when = parse_date(token.value, today)
        return when.isoformat() if when is not None else None
    raise AssertionError(f"unhandled argument type {kind}")


def _as_written(token: Token) -> str:
    if token.kind == "user":
        return f"<@{token.value}>"
    if token.kind == "channel":
        return f"<#{token.value}>"
    return f"<{token.value}>"
