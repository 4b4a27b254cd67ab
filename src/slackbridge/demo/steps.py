"""Steps of the demo, printed as they finish: ``✓ title (0.42 s) detail`` or ``✗ title: reason``.

A step is an ``async with steps.step(title) as step:`` block; :class:`Failure` raised inside it
(or any other exception) marks it failed, prints why and ends the walkthrough with
:class:`StepFailed`. :func:`wait_until` polls for a condition with a deadline: no step waits a
fixed time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from rich.console import Console
from rich.markup import escape

__all__ = ["Failure", "Step", "StepFailed", "Steps", "wait_until"]

_T = TypeVar("_T")


class Failure(Exception):
    """A step did not work; the message says what was expected and what was seen."""


class StepFailed(Exception):
    """A step failed (it was already printed); ends the walkthrough."""

    def __init__(self, title: str, reason: str) -> None:
        super().__init__(f"{title}: {reason}")
        self.title = title
        self.reason = reason


@dataclass
class Step:
    """One running step; ``note`` adds a short detail to its line."""

    title: str
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)


@dataclass(frozen=True)
class StepResult:
    title: str
    ok: bool
    seconds: float
    detail: str


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Failure):
        return str(exc)
    text = str(exc) or "no message"
    return f"{type(exc).__name__}: {text}"


class Steps:
    """Runs and prints steps; ``results`` keeps every step for the summary."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.results: list[StepResult] = []
        self.started = time.monotonic()

    @asynccontextmanager
    async def step(self, title: str) -> AsyncIterator[Step]:
        current = Step(title)
        began = time.monotonic()
        try:
            yield current
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except StepFailed:
            raise
        except Exception as exc:
            seconds = time.monotonic() - began
            reason = _reason(exc)
            self.results.append(StepResult(title, False, seconds, reason))
            self.console.print(
                f"[bold red]✗[/] {escape(title)} [dim]({seconds:.2f} s)[/]\n"
                f"    [red]{escape(reason)}[/]",
                soft_wrap=True,
            )
            raise StepFailed(title, reason) from exc
        seconds = time.monotonic() - began
        detail = "; ".join(current.notes)
        self.results.append(StepResult(title, True, seconds, detail))
        suffix = f"  [dim]{escape(detail)}[/]" if detail else ""
        self.console.print(
            f"[bold green]✓[/] {escape(title)} [dim]({seconds:.2f} s)[/]{suffix}", soft_wrap=True
        )

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


async def wait_until(
    check: Callable[[], Awaitable[_T | None]],
    what: str,
    *,
    within: float = 10.0,
    interval: float = 0.05,
) -> _T:
    """Call ``check`` until it returns something other than None; that value is returned.

    After ``within`` seconds, raises :class:`Failure` naming what was awaited.
    """
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise Failure(f"{what} did not happen within {within:g} s")
        await asyncio.sleep(interval)
