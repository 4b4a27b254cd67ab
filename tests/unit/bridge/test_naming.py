"""Noisy channel names from templates: Slack-valid, counted on name_taken, templates checked."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slackbridge.bridge.naming import (
    MAX_NAME,
    NameTemplateError,
    candidate_names,
    channel_name,
    check_template,
)

_VALID = re.compile(r"^[a-z0-9_-]{1,80}$")


def test_default_template_counts() -> None:
    assert channel_name("conv-{n}", "T-1", 7) == "conv-7"
    assert candidate_names("conv-{n}", "k", start=7, count=3) == ["conv-7", "conv-8", "conv-9"]


def test_key_is_cleaned_into_a_slack_name() -> None:
    assert channel_name("support-{key}", "Ticket #42: Printer!", 1) == "support-ticket-42-printer"


def test_without_a_counter_suffixes_follow() -> None:
    assert candidate_names("case-{key}", "A", count=3) == ["case-a", "case-a-2", "case-a-3"]


def test_long_names_keep_their_end() -> None:
    name = channel_name("{key}-{n}", "x" * 200, 12345)
    assert len(name) == MAX_NAME and name.endswith("-12345")


@pytest.mark.parametrize("template", ["{oops}", "conv-{n", "conv-}", "{n}{", "!!!"])
def test_bad_templates_are_refused(template: str) -> None:
    with pytest.raises(NameTemplateError):
        check_template(template)


@given(st.text(max_size=300), st.text(max_size=60), st.integers(min_value=1, max_value=10**9))
def test_every_name_is_slack_valid_and_candidates_are_distinct(
    key: str, prefix: str, n: int
) -> None:
    template = prefix + "{key}-{n}"
    names = candidate_names(template, key, start=n, count=5)
    assert all(_VALID.match(name) for name in names)
    assert len(set(names)) == len(names)
    plain = candidate_names(prefix + "{key}", key, count=5)
    assert all(_VALID.match(name) for name in plain) and len(set(plain)) == 5
