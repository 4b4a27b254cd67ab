"""Properties: a command written out from its arguments matches back to the same arguments,
and no message makes matching crash."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from slackbridge.commands.match import Failure, Parsed, match_pattern
from slackbridge.commands.pattern import parse_pattern
from slackbridge.commands.render import format_command

TODAY = date(2026, 12, 2)
PATTERN = parse_pattern(
    "task {title:text} [due {due:date}] [prio {level:low|high}] [for {who:user}...] "
    "[in {where:channel}] [est {hours:number}] [tag {tag:word}]"
)
_LITERALS = {"task", "due", "prio", "for", "in", "est", "tag"}

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=8)
_plain_word = _word.filter(lambda w: w not in _LITERALS)
_title = (
    st.lists(st.text(alphabet="abcdefgh ’é!?\"“”'‘<>&@#", min_size=1, max_size=6), min_size=1)
    .map(" ".join)
    .map(str.strip)
    .filter(bool)
)
_id = st.from_regex(r"U[A-Z0-9]{8}", fullmatch=True)


@st.composite
def _arguments(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "title": draw(_title),
        "due": draw(
            st.none() | st.integers(0, 400).map(lambda d: (TODAY + timedelta(d)).isoformat())
        ),
        "level": draw(st.none() | st.sampled_from(["low", "high"])),
        "who": draw(st.lists(_id, max_size=3)),
        "where": draw(st.none() | st.from_regex(r"C[A-Z0-9]{8}", fullmatch=True)),
        "hours": draw(
            st.none() | st.integers(-1000, 1000) | st.floats(0.5, 99.5).map(lambda f: round(f, 2))
        ),
        "tag": draw(st.none() | _plain_word),
    }


@given(_arguments())
def test_formatting_then_matching_gives_the_arguments_back(arguments: dict[str, Any]) -> None:
    try:
        text = format_command(PATTERN, arguments)
    except ValueError:
        assume(False)  # a title with both kinds of quotes: nothing can quote it
        raise
    found = match_pattern(PATTERN, text, TODAY)
    assert isinstance(found, Parsed), (text, found)
    expected = dict(arguments)
    if isinstance(expected["hours"], float) and expected["hours"].is_integer():
        expected["hours"] = int(expected["hours"])
    assert found.arguments == expected


@given(st.text(max_size=60))
def test_any_message_matches_or_fails_with_a_reason(text: str) -> None:
    found = match_pattern(PATTERN, text, TODAY)
    if isinstance(found, Failure):
        assert found.reason and 0 <= found.at <= len(text)
    else:
        assert set(found.arguments) == {a.name for a in PATTERN.arguments()}


def test_values_are_quoted_and_escaped_as_slack_would_send_them() -> None:
    pattern = parse_pattern("say {what:text}")
    assert format_command(pattern, {"what": "hi"}) == "say hi"
    assert format_command(pattern, {"what": "a <b> & c"}) == 'say "a &lt;b&gt; &amp; c"'
    assert format_command(pattern, {"what": 'the "best" one'}) == "say 'the \"best\" one'"
    with pytest.raises(ValueError, match="both kinds of quotes"):
        format_command(pattern, {"what": "it's \"x\" isn' t"})
