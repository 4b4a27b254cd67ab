"""The pattern language: parsing, and clear errors pointing at the bad part."""

from __future__ import annotations

import pytest

from slackbridge.commands.pattern import Arg, Group, PatternError, Word, parse_pattern
from slackbridge.commands.render import usage


def test_words_arguments_groups_and_repeats_are_parsed() -> None:
    pattern = parse_pattern("Add {title:text} [due {due:date}]")
    assert pattern.parts == (
        Word("add"),
        Arg("title", "text"),
        Group((Word("due"), Arg("due", "date"))),
    )
    assert pattern.keyword == "add"
    assert [a.name for a in pattern.arguments()] == ["title", "due"]
    assert parse_pattern("{who:user}...").parts == (Arg("who", "user", repeat=True),)
    assert parse_pattern("{w}").parts == (Arg("w", "word"),)
    assert parse_pattern("{who:user}...").keyword is None
    level = parse_pattern("prio {level:low|Normal|high}").parts[1]
    assert level == Arg("level", "choice", choices=("low", "normal", "high"))
    assert usage(parse_pattern("add {title:text} [due {due:date}] {tags:word}...")) == (
        "add {title} [due {due}] {tags}..."
    )


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ("", "the pattern is empty", 1),
        ("add {title", "this { is never closed with }", 5),
        ("add {title:txt}", "unknown argument type 'txt'", 12),
        ("add {Title}", "argument name 'Title' must start with a lower-case letter", 6),
        ("add {a} {a:number}", "argument 'a' appears twice", 9),
        ("add [due {due:date}", "this [ is never closed with ]", 5),
        ("add due]", "] without a [ before it", 8),
        ("add []", "an optional group [ ] needs something inside", 5),
        ("add }", "} without a { before it", 5),
        ('add "x"', "can't be used here", 5),
        ("note {body:rest} now", "rest argument 'body' takes everything that follows", 6),
        ("note {body:rest}...", "a rest argument takes all that follows already", 6),
        ("/tasks add {x}", "a pattern doesn't include the slash command", 1),
        ("add {a{b}}", "arguments can't be nested", 5),
        ("prio {l:low|low}", "unknown argument type 'low|low'", 9),
    ],
)
def test_bad_patterns_say_what_and_where(source: str, message: str, column: int) -> None:
    with pytest.raises(PatternError) as caught:
        parse_pattern(source)
    assert message in caught.value.message
    assert caught.value.position + 1 == column
    assert f"at column {column}" in str(caught.value)
    assert caught.value.pointer().splitlines()[1] == " " * (column - 1) + "^"


def test_rest_may_end_an_optional_group_at_the_end() -> None:
    pattern = parse_pattern("note [{body:rest}]")
    assert pattern.arguments() == [Arg("body", "rest")]
