"""A message's text split into tokens: words, quoted strings and Slack's ``<…>`` references.

Slack sends message text with ``&``, ``<`` and ``>`` escaped and with mentions and links as
``<@U123>``, ``<@U123|alice>``, ``<#C123|general>``, ``<https://…|label>``; each of those is one
token. A quoted string is one token whatever it holds: straight quotes ``"…"`` and ``'…'`` and
the typographic ones Slack's clients (and phones) put in, ``“…”`` and ``‘…’``. A single quote
opens a string only at the start of a word and closes one only at the end of a word, so that
apostrophes (``don't``, ``don’t``) stay part of their word. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Token", "TokenizeError", "tokenize", "unescape"]

TokenKind = Literal["word", "quoted", "user", "channel", "link", "special"]

_DOUBLE_OPEN = '"“„«'
_DOUBLE_CLOSE = '"”“»'
_SINGLE_OPEN = "'‘‚"
_SINGLE_CLOSE = "'’‘"
_REF = re.compile(r"<([^<>\s][^<>]*)>")
_USER_ID = re.compile(r"^@([UW][A-Z0-9]+)(?:\|([^>]*))?$")
_CHANNEL_ID = re.compile(r"^#([CGD][A-Z0-9]+)(?:\|([^>]*))?$")


class TokenizeError(ValueError):
    """The text can't be split (an unclosed quote); ``position`` is where the problem starts."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``value`` is what it means (a quote's contents, a mention's id, a word
    unescaped), ``start``/``end`` its span in the text (for rest-of-text arguments)."""

    kind: TokenKind
    value: str
    start: int
    end: int
    label: str | None = None  # a mention's or link's display part, when Slack sent one


def unescape(text: str) -> str:
    """Undo Slack's escaping of ``&``, ``<`` and ``>`` in message text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _reference(body: str, start: int, end: int) -> Token:
    user = _USER_ID.match(body)
    if user:
        return Token("user", user.group(1), start, end, user.group(2))
    channel = _CHANNEL_ID.match(body)
    if channel:
        return Token("channel", channel.group(1), start, end, channel.group(2))
    if body.startswith(("!", "@", "#")):
        # <!here>, <!subteam^S123>, a mention of something else: kept as written.
        return Token("special", body, start, end)
    target, _, label = body.partition("|")
    return Token("link", unescape(target), start, end, unescape(label) or None)


def _quoted(text: str, start: int) -> Token:
    opener = text[start]
    double = opener in _DOUBLE_OPEN
    closers = _DOUBLE_CLOSE if double else _SINGLE_CLOSE
    at = start + 1
    while at < len(text):
        if text[at] in closers and (double or at + 1 == len(text) or text[at + 1].isspace()):
            return Token("quoted", unescape(text[start + 1 : at]), start, at + 1)
        at += 1
    raise TokenizeError(f"the quote opened here ({opener}) is never closed", start)


def _opens_quote(text: str, at: int) -> bool:
    char = text[at]
    if char in _DOUBLE_OPEN:
        return True
    # A single quote opens a string only when a closing one ends a later word.
    if char not in _SINGLE_OPEN:
        return False
    return any(
        text[i] in _SINGLE_CLOSE and (i + 1 == len(text) or text[i + 1].isspace())
        for i in range(at + 1, len(text))
    )


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` in order. Raises :class:`TokenizeError` for an unclosed quote."""
    tokens: list[Token] = []
    at, size = 0, len(text)
    while at < size:
        if text[at].isspace():
            at += 1
            continue
        if text[at] == "<":
            ref = _REF.match(text, at)
            if ref:
                tokens.append(_reference(ref.group(1), at, ref.end()))
                at = ref.end()
                continue
        if _opens_quote(text, at):
            token = _quoted(text, at)
            tokens.append(token)
            at = token.end
            continue
        end = at
        while end < size and not text[end].isspace() and not _starts_reference(text, end, at):
            end += 1
        tokens.append(Token("word", unescape(text[at:end]), at, end))
        at = end
    return tokens


def _starts_reference(text: str, at: int, word_start: int) -> bool:
    """A ``<…>`` right after a word's characters ("cc<@U1>") starts a token of its own."""
    return at > word_start and text[at] == "<" and _REF.match(text, at) is not None
