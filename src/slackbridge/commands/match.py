"""One pattern against one message: the typed arguments, or where and why it doesn't fit.

The search tries the readings of a message in a fixed order and takes the first that uses every
token: an optional group is tried present before absent, a ``text`` argument takes a quoted
string as a whole or else as few words as the rest of the pattern lets it (in a first pass
never one of the pattern's literal words), a repeated argument as many values as it can. So
``add buy milk due friday`` against ``add {title:text} [due {due:date}]`` gives ``title="buy
milk"``, ``due=<friday>``, while ``add pay due`` gives ``title="pay due"``. When nothing fits,
the failure reported is the one of the first pass that got furthest into the message (the most
useful to show the person). Pure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from slackbridge.commands.command import Command
from slackbridge.commands.pattern import Arg, Group, Part, Pattern, Word
from slackbridge.commands.tokens import Token, TokenizeError, tokenize, unescape
from slackbridge.commands.values import Value, convert, expected

__all__ = ["Failure", "Parsed", "match_command", "match_pattern"]

# Readings tried before giving up on one message (a pattern of many text arguments against a
# long message could otherwise try very many ways to split it).
_MAX_STEPS = 20_000
# A day used when no date is given (checking examples): any day reads the same words.
_SOME_DAY = date(2026, 1, 1)


@dataclass(frozen=True, slots=True)
class Parsed:
    """The message fits: every argument of the pattern by name (None, or ``[]`` for a
    repeated one, when an optional group left it out)."""

    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Failure:
    """The message doesn't fit: ``reason`` for a person, ``at`` the character where it went
    wrong, ``progress`` how many tokens fitted before that."""

    reason: str
    at: int
    progress: int


class _Search:
    def __init__(
        self, text: str, tokens: list[Token], today: date, literals: frozenset[str]
    ) -> None:
        self.text = text
        self.tokens = tokens
        self.today = today
        # Strict reading: unquoted text never takes in one of the pattern's literal words.
        self.literals = literals
        self.steps = 0
        self.failure: Failure | None = None

    def shown(self, index: int) -> str:
        token = self.tokens[index]
        return f"“{self.text[token.start : token.end]}”"

    def fail(self, index: int, reason: str) -> None:
        if self.failure is None or index > self.failure.progress:
            at = self.tokens[index].start if index < len(self.tokens) else len(self.text)
            self.failure = Failure(reason, at, index)

    def span(self, start: int, end: int) -> str:
        """The text of tokens ``start`` up to ``end`` as typed (a quoted one alone: inside)."""
        if end - start == 1 and self.tokens[start].kind == "quoted":
            return self.tokens[start].value
        return unescape(self.text[self.tokens[start].start : self.tokens[end - 1].end])

    def seq(self, parts: tuple[Part, ...], i: int, args: dict[str, Any]) -> Iterator[int]:
        if not parts:
            yield i
            return
        for j in self.part(parts[0], i, args):
            yield from self.seq(parts[1:], j, args)

    def part(self, part: Part, i: int, args: dict[str, Any]) -> Iterator[int]:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            return
        if isinstance(part, Word):
            yield from self.word(part, i)
        elif isinstance(part, Group):
            names = [a.name for a in Pattern("", part.parts).arguments()]
            yield from self.seq(part.parts, i, args)
            for name in names:
                args.pop(name, None)
            yield i
        else:
            yield from self.arg(part, i, args)

    def word(self, word: Word, i: int) -> Iterator[int]:
        token = self.tokens[i] if i < len(self.tokens) else None
        if token is not None and token.kind == "word" and token.value.lower() == word.text:
            yield i + 1
        elif token is None:
            self.fail(i, f"“{word.text}” is missing")
        else:
            self.fail(i, f"expected “{word.text}” here, not {self.shown(i)}")

    def arg(self, arg: Arg, i: int, args: dict[str, Any]) -> Iterator[int]:
        size = len(self.tokens)
        if i >= size:
            self.fail(i, f"{arg.name} is missing: {expected(arg)}")
            return
        if arg.type == "rest" or (arg.type == "text" and not arg.repeat):
            if arg.type == "rest" or self.tokens[i].kind == "quoted":
                ends: range | list[int] = [size if arg.type == "rest" else i + 1]
            else:
                stop = next(
                    (
                        k
                        for k in range(i + 1, size)
                        if self.tokens[k].kind == "word"
                        and self.tokens[k].value.lower() in self.literals
                    ),
                    size,
                )
                ends = range(i + 1, stop + 1)
            for end in ends:
                args[arg.name] = self.span(i, end)
                yield end
            args.pop(arg.name, None)
            return
        values: list[Value] = []
        for index in range(i, size if arg.repeat else i + 1):
            value = convert(arg, self.tokens[index], self.today)
            if value is None:
                if not values:
                    self.fail(
                        index, f"{arg.name} should be {expected(arg)}, not {self.shown(index)}"
                    )
                break
            values.append(value)
        for count in range(len(values), 0, -1):
            args[arg.name] = values[:count] if arg.repeat else values[0]
            yield i + count
        args.pop(arg.name, None)


def _literals(parts: tuple[Part, ...]) -> frozenset[str]:
    found: set[str] = set()
    for part in parts:
        if isinstance(part, Word):
            found.add(part.text)
        elif isinstance(part, Group):
            found |= _literals(part.parts)
    return frozenset(found)


def _search(pattern: Pattern, search: _Search) -> Parsed | None:
    args: dict[str, Any] = {}
    size = len(search.tokens)
    for end in search.seq(pattern.parts, 0, args):
        if end == size:
            complete: dict[str, Any] = {
                a.name: ([] if a.repeat else None) for a in pattern.arguments()
            }
            complete.update(args)
            return Parsed(complete)
        search.fail(end, f"{search.shown(end)} was not expected here")
    return None


def match_pattern(pattern: Pattern, text: str, today: date | None = None) -> Parsed | Failure:
    """``text`` (what follows the slash command or the bot's mention) against ``pattern``;
    dates are read as seen from ``today``.

    Two readings: first the strict one, where unquoted text stops before any of the pattern's
    literal words; then, if that fails, one where it may take them in (``add pay due``). A
    failure is reported from the strict reading, which says more ("due should be a date")."""
    try:
        tokens = tokenize(text)
    except TokenizeError as exc:
        return Failure(str(exc), exc.position, 0)
    day = today or _SOME_DAY
    strict = _Search(text, tokens, day, _literals(pattern.parts))
    found = _search(pattern, strict) or _search(pattern, _Search(text, tokens, day, frozenset()))
    if found is not None:
        return found
    if strict.steps > _MAX_STEPS:
        return Failure("the message is too long to read as this command", 0, 0)
    assert strict.failure is not None
    return strict.failure


def match_command(command: Command, text: str, today: date | None = None) -> Failure | None:
    """None when ``text`` fits ``command`` (used to check declared examples), else why not."""
    found = match_pattern(command.pattern, text, today)
    return found if isinstance(found, Failure) else None
