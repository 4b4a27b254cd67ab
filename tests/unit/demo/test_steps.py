"""The demo's step reporter: ✓ with timing and notes, ✗ with the reason, polling with a deadline."""

from __future__ import annotations

import io
import time

import pytest
from rich.console import Console

from slackbridge.demo.steps import Failure, StepFailed, Steps, wait_until


def _steps() -> tuple[Steps, io.StringIO]:
    out = io.StringIO()
    return Steps(Console(file=out, width=200, color_system=None)), out


async def test_a_step_that_works_prints_a_check_its_time_and_notes() -> None:
    steps, out = _steps()
    async with steps.step("Do a thing") as step:
        step.note("detail one")
        step.note("detail two")

    line = out.getvalue().strip()
    assert line.startswith("✓ Do a thing (")
    assert line.endswith(" s)  detail one; detail two")
    assert [(r.title, r.ok) for r in steps.results] == [("Do a thing", True)]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (Failure("the ticket never came"), "the ticket never came"),
        (KeyError("ts"), "KeyError: 'ts'"),
    ],
)
async def test_a_failing_step_prints_a_cross_and_the_reason(error: Exception, reason: str) -> None:
    steps, out = _steps()
    with pytest.raises(StepFailed) as failed:
        async with steps.step("Wait for the ticket"):
            raise error

    assert (failed.value.title, failed.value.reason) == ("Wait for the ticket", reason)
    text = out.getvalue()
    assert text.startswith("✗ Wait for the ticket (")
    assert reason in text
    assert [(r.ok, r.detail) for r in steps.results] == [(False, reason)]


async def test_wait_until_returns_the_first_value() -> None:
    calls = 0

    async def third_time() -> str | None:
        nonlocal calls
        calls += 1
        return "ready" if calls == 3 else None

    assert await wait_until(third_time, "readiness", within=5, interval=0.001) == "ready"
    assert calls == 3


async def test_wait_until_gives_up_at_its_deadline() -> None:
    async def never() -> None:
        return None

    started = time.monotonic()
    with pytest.raises(Failure, match=r"the reply did not happen within 0.2 s"):
        await wait_until(never, "the reply", within=0.2, interval=0.01)
    assert 0.2 <= time.monotonic() - started < 2
