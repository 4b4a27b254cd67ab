"""Reading Web API arguments: booleans, lists, JSON, timestamps and cursors."""

from __future__ import annotations

from typing import Any

import pytest

from slackbridge.emulator.webapi.args import (
    as_bool,
    as_json,
    as_list,
    decode_cursor,
    encode_cursor,
    page,
    valid_ts,
)
from slackbridge.emulator.webapi.registry import CallContext, SlackError


def _ctx(**args: Any) -> CallContext:
    return CallContext(state=None, args=args, token=None, request=None)  # type: ignore[arg-type]


def test_as_bool_and_list_and_json() -> None:
    assert [as_bool(v) for v in ("true", "1", True, 1, "false", "0", "", None)] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert as_list("U1, U2,,") == ["U1", "U2"] and as_list(["U1"]) == ["U1"]
    assert as_json('[{"type": "x"}]') == [{"type": "x"}] and as_json([1]) == [1]
    with pytest.raises(SlackError) as exc:
        as_json("{", error="invalid_blocks_format")
    assert exc.value.error == "invalid_blocks_format"


def test_valid_ts() -> None:
    assert valid_ts("1700000000.000100") and valid_ts("1700000000")
    assert not valid_ts("0") and not valid_ts("abc") and not valid_ts("1.2.3")


def test_cursor_round_trip_and_errors() -> None:
    cursor = encode_cursor("users", "5")
    assert decode_cursor(cursor, "users") == "5"
    for bad in ("%%%", encode_cursor("other", "5"), encode_cursor("users", "")):
        with pytest.raises(SlackError, match="invalid_cursor"):
            decode_cursor(bad, "users")


def test_page_walks_to_the_end() -> None:
    items = list(range(5))
    chunk, cursor = page(_ctx(limit="2"), items, kind="k", default_limit=100)
    assert chunk == [0, 1]
    chunk, cursor = page(_ctx(limit="2", cursor=cursor), items, kind="k", default_limit=100)
    assert chunk == [2, 3]
    chunk, cursor = page(_ctx(limit="2", cursor=cursor), items, kind="k", default_limit=100)
    assert chunk == [4] and cursor == ""
    everything, end = page(_ctx(), items, kind="k", default_limit=100)
    assert everything == items and end == ""
    capped, _ = page(_ctx(limit="5000"), list(range(2000)), kind="k", default_limit=10)
    assert len(capped) == 1000
    with pytest.raises(SlackError, match="invalid_arguments"):
        page(_ctx(limit="many"), items, kind="k", default_limit=10)
