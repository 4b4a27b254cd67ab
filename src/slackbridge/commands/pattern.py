"""The pattern language: what a command looks like, with named, typed arguments.

::

    add {title:text} [due {due:date}]
    done {id:number}
    call {who:user}...
    priority {id:number} {level:low|normal|high}
    note {body:rest}

A pattern is a sequence of parts separated by spaces:

* a literal word (``add``, ``due``): matched case-insensitively;
* an argument ``{name}`` or ``{name:type}`` (type ``word`` when left out; see
  :data:`ARG_TYPES`), or ``{name:a|b|c}``, one of the listed words; a trailing ``...`` makes it
  take one or more values (a list);
* an optional group ``[ … ]`` of any of these, which may be left out as a whole.

Pure: :func:`parse_pattern` raises :class:`PatternError` with the column of the bad part.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "ARG_TYPES",
    "Arg",
    "Group",
    "Part",
    "Pattern",
    "PatternError",
    "Word",
    "parse_pattern",
]

#: Every argument type, with what it accepts (docs/commands.md says the same at length).
ARG_TYPES: dict[str, str] = {
    "word": "one word (or one quoted string)",
    "text": "a quoted string, or unquoted words up to the pattern's next literal word",
    "rest": "everything that follows, as typed (must come last)",
    "number": "a number: 3, -2, 4.5 (a leading # is allowed: #3)",
    "date": "today, tomorrow, a weekday (friday, fri), or YYYY-MM-DD",
    "user": "a user mention <@U…>, resolved to the user's id",
    "channel": "a channel mention <#C…|name>, resolved to the channel's id",
}

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_LITERAL = re.compile(r"[^\s{}\[\]<>\"“”‘’']+")
_CHOICE = re.compile(r"[a-z0-9][a-z0-9_.-]*\Z")


class PatternError(ValueError):
    """A pattern that can't be parsed: ``message`` says what, ``position`` (0-based) where."""

    def __init__(self, message: str, pattern: str, position: int) -> None:
        self.message = message
        self.pattern = pattern
        self.position = max(0, min(position, len(pattern)))
        super().__init__(f"{message} (at column {self.position + 1} of {pattern!r})")

    def pointer(self) -> str:
        """The pattern with a caret under the bad part, for a terminal or a log."""
        return f"{self.pattern}\n{' ' * self.position}^"


@dataclass(frozen=True, slots=True)
class Word:
    """A literal word of the pattern (kept lower-case)."""

    text: str


@dataclass(frozen=True, slots=True)
class Arg:
    """An argument: ``type`` is one of :data:`ARG_TYPES`, or ``choice`` with ``choices``."""

    name: str
    type: str
    repeat: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    """An optional group: all of ``parts``, or none of them."""

    parts: tuple[Part, ...]


Part = Word | Arg | Group


@dataclass(frozen=True, slots=True)
class Pattern:
    """A parsed pattern: its source text and its parts."""

    source: str
    parts: tuple[Part, ...]

    def arguments(self) -> list[Arg]:
        """Every argument, in order (those inside optional groups too)."""
        return list(_args(self.parts))

    @property
    def keyword(self) -> str | None:
        """The literal word the pattern starts with (what people type first), if any."""
        first = self.parts[0] if self.parts else None
        return first.text if isinstance(first, Word) else None


def _args(parts: tuple[Part, ...]) -> Iterator[Arg]:
    for part in parts:
        if isinstance(part, Arg):
            yield part
        elif isinstance(part, Group):
            yield from _args(part.parts)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.at = 0
        self.names: set[str] = set()

    def fail(self, message: str, position: int | None = None) -> PatternError:
        return PatternError(message, self.source, self.at if position is None else position)

    def skip_space(self) -> None:
        while self.at < len(self.source) and self.source[self.at].isspace():
            self.at += 1

    def parts(self, closing: str | None) -> tuple[Part, ...]:
        parts: list[Part] = []
        opened = self.at - 1
        while True:
            self.skip_space()
            if self.at >= len(self.source):
                if closing is not None:
                    raise self.fail("this [ is never closed with ]", opened)
                return tuple(parts)
            char = self.source[self.at]
            if char == "]":
                if closing is None:
                    raise self.fail("] without a [ before it")
                self.at += 1
                return tuple(parts)
            if char == "[":
                start = self.at
                self.at += 1
                inner = self.parts("]")
                if not inner:
                    raise self.fail("an optional group [ ] needs something inside", start)
                parts.append(Group(inner))
            elif char == "{":
                parts.append(self.argument())
            elif char == "}":
                raise self.fail("} without a { before it")
            else:
                parts.append(self.word())

    def word(self) -> Word:
        found = _LITERAL.match(self.source, self.at)
        if not found:
            raise self.fail(
                f"{self.source[self.at]!r} can't be used here: literal words are letters, "
                "digits and punctuation other than quotes, braces and brackets"
            )
        self.at = found.end()
        return Word(found.group(0).lower())

    def argument(self) -> Arg:
        start = self.at
        close = self.source.find("}", start)
        if close < 0:
            raise self.fail("this { is never closed with }", start)
        body = self.source[start + 1 : close]
        if "{" in body:
            raise self.fail("arguments can't be nested: close this { first", start)
        name, _, type_ = (piece.strip() for piece in body.partition(":"))
        if not _NAME.match(name):
            raise self.fail(
                f"argument name {name!r} must start with a lower-case letter and hold only "
                "lower-case letters, digits and _",
                start + 1,
            )
        if name in self.names:
            raise self.fail(f"argument {name!r} appears twice; give each a name of its own", start)
        self.names.add(name)
        self.at = close + 1
        repeat = self.source.startswith("...", self.at)
        if repeat:
            self.at += 3
        type_position = start + 1 + body.index(":") + 1 if ":" in body else start + 1
        arg = _typed(name, type_ or "word", repeat)
        if arg is None:
            known = ", ".join(ARG_TYPES)
            raise self.fail(
                f"unknown argument type {type_!r}: use one of {known}, or choices a|b|c",
                type_position,
            )
        if arg.type == "rest" and repeat:
            raise self.fail("a rest argument takes all that follows already; drop the ...", start)
        return arg


def _typed(name: str, type_: str, repeat: bool) -> Arg | None:
    if type_ in ARG_TYPES:
        return Arg(name, type_, repeat)
    if "|" in type_:
        choices = tuple(c.strip().lower() for c in type_.split("|"))
        if len(set(choices)) == len(choices) and all(_CHOICE.match(c) for c in choices):
            return Arg(name, "choice", repeat, choices)
    return None


def _check_rest_is_last(parser: _Parser, parts: tuple[Part, ...], last: bool) -> None:
    for index, part in enumerate(parts):
        is_last = last and index == len(parts) - 1
        if isinstance(part, Arg) and part.type == "rest" and not is_last:
            position = parser.source.find("{" + part.name)
            raise parser.fail(
                f"rest argument {part.name!r} takes everything that follows, so it must be last",
                position,
            )
        if isinstance(part, Group):
            _check_rest_is_last(parser, part.parts, is_last)


def parse_pattern(source: str) -> Pattern:
    """Parse ``source``; raises :class:`PatternError` pointing at the first bad part."""
    if not source.strip():
        raise PatternError("the pattern is empty", source, 0)
    if source.lstrip().startswith("/"):
        raise PatternError(
            'a pattern doesn\'t include the slash command: declare `slash = "/name"` '
            "and write what follows it",
            source,
            len(source) - len(source.lstrip()),
        )
    parser = _Parser(source)
    parts = parser.parts(None)
    _check_rest_is_last(parser, parts, True)
    return Pattern(source, parts)
