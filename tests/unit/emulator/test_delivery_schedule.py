from __future__ import annotations

import pytest

from slackbridge.emulator import create_app
from slackbridge.emulator.delivery import RETRY_DELAYS, retry_delay
from slackbridge.emulator.seed import build_state, reset_state


def test_slacks_retry_schedule() -> None:
    assert RETRY_DELAYS == (0.0, 60.0, 300.0)
    assert [retry_delay(n) for n in (1, 2, 3)] == [0.0, 60.0, 300.0]
    assert retry_delay(4) is None
    assert retry_delay(0) is None


@pytest.mark.parametrize("speed", [10.0, 100.0])
def test_retry_schedule_scales_with_speed(speed: float) -> None:
    assert retry_delay(2, speed) == pytest.approx(60.0 / speed)
    assert retry_delay(3, speed) == pytest.approx(300.0 / speed)


def test_answer_timeout_is_slacks_3_seconds_scaled_unless_set() -> None:
    state = build_state(speed=10)
    assert state.answer_timeout() == pytest.approx(0.3)
    state.ack_timeout = 7.5
    assert state.answer_timeout() == 7.5
    reset_state(state)  # a setting, like speed: a reset keeps it
    assert state.ack_timeout == 7.5
    app = create_app(build_state(), ack_timeout=2.0)
    assert app.state.emulator.answer_timeout() == 2.0
