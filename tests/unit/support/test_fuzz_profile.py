"""The suite's property tests are derandomized unless a deep run asks otherwise."""

from __future__ import annotations

from hypothesis import settings

from tests.support.fuzz import DEEP, examples


def test_a_plain_run_draws_the_same_examples_every_time() -> None:
    if DEEP:
        assert settings.default.derandomize is False
        assert examples(15) > 15
    else:
        assert settings.default.derandomize is True
        assert settings.default.database is None  # nothing replayed from an earlier run
        assert examples(15) == 15
