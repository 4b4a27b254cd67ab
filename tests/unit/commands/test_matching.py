"""Messages against patterns: every argument type, quotes, mentions, optional parts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from slackbridge.commands.dates import local_today, parse_date, zone
from slackbridge.commands.match import Failure, Parsed, match_pattern
from slackbridge.commands.pattern import parse_pattern
from slackbridge.commands.tokens import TokenizeError, tokenize

WEDNESDAY = date(2026, 12, 2)


def _args(pattern: str, text: str, today: date = WEDNESDAY) -> dict[str, Any]:
    found = match_pattern(parse_pattern(pattern), text, today)
    assert isinstance(found, Parsed), found
    return found.arguments


def _failure(pattern: str, text: str) -> Failure:
    found = match_pattern(parse_pattern(pattern), text, WEDNESDAY)
    assert isinstance(found, Failure), found
    return found


def test_tokens_words_quotes_and_references() -> None:
    tokens = tokenize("add “Write notes” <@U1|alice> <#C2|general> <https://x.test|x> &lt;3 it’s")
    assert [(t.kind, t.value) for t in tokens] == [
        ("word", "add"),
        ("quoted", "Write notes"),
        ("user", "U1"),
        ("channel", "C2"),
        ("link", "https://x.test"),
        ("word", "<3"),
        ("word", "it’s"),
    ]
    assert tokens[2].label == "alice"
    assert [t.value for t in tokenize("cc<@U9>")] == ["cc", "U9"]
    with pytest.raises(TokenizeError) as caught:
        tokenize('add "never closed')
    assert caught.value.position == 4


@pytest.mark.parametrize(
    "text",
    [
        'add "Write release notes"',
        "add “Write release notes”",
        "add „Write release notes“",
        "add 'Write release notes'",
        "add ‘Write release notes’",
        "add Write release notes",
    ],
)
def test_text_in_any_quotes_or_none(text: str) -> None:
    assert _args("add {title:text}", text) == {"title": "Write release notes"}


def test_apostrophes_stay_inside_words_and_single_quoted_strings() -> None:
    assert _args("add {title:text}", "add ‘don’t panic’") == {"title": "don’t panic"}
    assert _args("add {title:text}", "add don't panic") == {"title": "don't panic"}
    assert _args("add {title:word}", "add 'tis") == {"title": "'tis"}


def test_text_stops_at_the_next_literal_and_optional_groups_may_be_left_out() -> None:
    pattern = "add {title:text} [due {due:date}]"
    assert _args(pattern, "add buy milk due friday") == {"title": "buy milk", "due": "2026-12-04"}
    assert _args(pattern, "ADD buy milk") == {"title": "buy milk", "due": None}
    assert _args(pattern, "add pay due") == {"title": "pay due", "due": None}
    assert _args(pattern, 'add "due friday" due today') == {
        "title": "due friday",
        "due": "2026-12-02",
    }


def test_numbers() -> None:
    assert _args("done {id:number}", "done 3") == {"id": 3}
    assert _args("done {id:number}", "done #3") == {"id": 3}
    assert _args("move {by:number}", "move -2.5") == {"by": -2.5}
    assert "id should be a number, not “three”" in _failure("done {id:number}", "done three").reason


def test_dates_resolve_against_the_given_day() -> None:
    cases = {
        "today": "2026-12-02",
        "tomorrow": "2026-12-03",
        "yesterday": "2026-12-01",
        "friday": "2026-12-04",
        "Fri": "2026-12-04",
        "wednesday": "2026-12-02",  # today counts
        "tuesday": "2026-12-08",
        "2026-12-24": "2026-12-24",
    }
    for word, expected in cases.items():
        assert _args("due {when:date}", f"due {word}") == {"when": expected}
    assert parse_date("2026-02-30", WEDNESDAY) is None
    assert parse_date("someday", WEDNESDAY) is None
    assert "should be a date" in _failure("due {when:date}", "due someday").reason


def test_the_day_is_the_persons_own() -> None:
    late_evening_utc = 1_796_248_800.0  # 2026-12-02 22:00 UTC
    assert local_today(late_evening_utc, zone(None)) == date(2026, 12, 2)
    assert local_today(late_evening_utc, zone("Europe/Berlin")) == date(2026, 12, 2)
    assert local_today(late_evening_utc, zone("Asia/Tokyo")) == date(2026, 12, 3)
    assert zone("Not/AZone") == zone(None)


def test_user_and_channel_mentions_resolve_to_ids() -> None:
    assert _args("call {who:user}...", "call <@U1> <@U2|bob>") == {"who": ["U1", "U2"]}
    assert _args("post {to:channel}", "post <#C0GEN|general>") == {"to": "C0GEN"}
    assert _args("post {to:channel}", "post <#G0STF>") == {"to": "G0STF"}
    assert "who should be a user" in _failure("call {who:user}...", "call bob").reason
    assert "to should be a channel" in _failure("post {to:channel}", "post <@U1>").reason


def test_words_choices_rest_and_optional_repeats() -> None:
    assert _args("prio {level:low|high}", "prio HIGH") == {"level": "high"}
    assert "level should be one of low, high" in _failure("prio {level:low|high}", "prio x").reason
    assert _args("note {body:rest}", "note  it's   *fine* &amp; <@U1> ") == {
        "body": "it's   *fine* & <@U1>"
    }
    assert _args("tag {tags:word}...", "tag a b c") == {"tags": ["a", "b", "c"]}
    assert _args("list [{who:user}...]", "list") == {"who": []}
    assert _args("say {w:word}", "say <@U1>") == {"w": "<@U1>"}


def test_failures_report_the_furthest_point() -> None:
    pattern = "add {title:text} [due {due:date}] for {who:user}"
    failure = _failure(pattern, "add x due friday for bob")
    assert failure.reason == "who should be a user (@someone), not “bob”"
    assert failure.at == len("add x due friday for ")
    assert _failure("done {id:number}", "done").reason == "id is missing: a number"
    assert _failure("done {id:number}", "done 3 4").reason == "“4” was not expected here"
    assert _failure("list", "lists").reason == "expected “list” here, not “lists”"


def test_a_huge_message_against_an_ambiguous_pattern_gives_up_cleanly() -> None:
    pattern = "{a:text} {b:text} {c:text} {d:text} end"
    found = match_pattern(parse_pattern(pattern), " ".join(["w"] * 300), WEDNESDAY)
    assert isinstance(found, Failure)
