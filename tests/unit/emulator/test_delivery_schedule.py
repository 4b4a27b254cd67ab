from __future__ import annotations

import pytest

from slackbridge.emulator.delivery import RETRY_DELAYS, retry_delay


def test_slacks_retry_schedule() -> None:
    assert RETRY_DELAYS == (0.0, 60.0, 300.0)
    assert [retry_delay(n) for n in (1, 2, 3)] == [0.0, 60.0, 300.0]
    assert retry_delay(4) is None
    assert retry_delay(0) is None


@pytest.mark.parametrize("speed", [10.0, 100.0])
def test_retry_schedule_scales_with_speed(speed: float) -> None:
    assert retry_delay(2, speed) == pytest.approx(60.0 / speed)
    assert retry_delay(3, speed) == pytest.approx(300.0 / speed)
