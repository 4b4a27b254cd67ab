"""``slackbridge demo [NAME] [--scripted]``: the emulator, the gateway and an example product
(:data:`~slackbridge.demo.examples.EXAMPLES`; the Helpdesk by default) in one process.

One asyncio loop runs three uvicorn servers on 127.0.0.1 (gateway on the port base, emulator on
base + 1, the product on base + 2). The gateway's store is a fresh SQLite file in
``.slackbridge/demo/`` (emptied at start, removed at exit unless ``--keep-data`` or a scripted
step failed); every log line goes to ``demo.log`` there so the console shows only the demo.
Ctrl-C (or SIGTERM) stops the servers in reverse order.

Exit codes: 0 everything worked (or a person stopped the interactive demo), 1 a scripted step
failed, 2 the demo could not start (a port in use, bad options, an unknown example), 130
interrupted while scripted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from slackbridge.demo.examples import DEFAULT_EXAMPLE, EXAMPLES, Example
from slackbridge.demo.interactive import run_interactive
from slackbridge.demo.servers import PortUnavailable
from slackbridge.demo.stack import DemoConfig, DemoStack
from slackbridge.demo.startup import start_and_install
from slackbridge.demo.steps import StepFailed, Steps
from slackbridge.logs import RedactingFilter

__all__ = ["DEFAULT_DATA_DIR", "Walkthrough", "run_demo", "run_stack", "scripted_walkthrough"]

DEFAULT_DATA_DIR = Path(".slackbridge/demo")
_LOG_NAME = "demo.log"
#: What ``--scripted`` runs: the steps, against a stack whose ports are bound.
Walkthrough = Callable[[DemoStack, Steps], Coroutine[Any, Any, None]]


async def scripted_walkthrough(stack: DemoStack, steps: Steps) -> None:
    """``--scripted``: the common start-up and install, then the example's own steps."""
    await start_and_install(stack, steps)
    await stack.example.walkthrough(stack, steps)


def _fresh_data_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


@contextlib.contextmanager
def _log_to_file(path: Path) -> Iterator[None]:
    """Send every log record (redacted) to ``path`` instead of the console, for the run."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    )
    saved = (root.level, list(root.handlers))
    for old in saved[1]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    quiet = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    kept = [(lg, list(lg.handlers), lg.propagate) for lg in quiet]
    for lg in quiet:
        lg.handlers.clear()
        lg.propagate = True
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(saved[0])
        for old in saved[1]:
            root.addHandler(old)
        for lg, handlers, propagate in kept:
            lg.handlers[:] = handlers
            lg.propagate = propagate


async def _until_stopped(work: asyncio.Task[None], stop: asyncio.Event) -> bool:
    """Wait for ``work`` or ``stop``; True when stopped first (``work`` is then cancelled)."""
    waiter = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({work, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if work.done():
        return False
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await work
    return True


async def _drive(
    stack: DemoStack,
    scripted: bool,
    console: Console,
    err_console: Console,
    walkthrough: Walkthrough,
) -> tuple[int, bool]:
    """Run the walkthrough (or serve for a person); ``(exit code, keep the data dir)``."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    steps = Steps(console)
    log_path = str(stack.config.data_dir / _LOG_NAME)
    if scripted:
        console.print(
            f"[bold]slackbridge demo {stack.example.name} --scripted[/]: the whole walkthrough "
            f"of {escape(stack.example.title)}, step by step"
        )
        work = asyncio.create_task(walkthrough(stack, steps))
    else:
        console.print(
            f"[bold]slackbridge demo {stack.example.name}[/]: starting the emulator, the "
            f"gateway and {escape(stack.example.title)}"
        )
        work = asyncio.create_task(run_interactive(stack, steps, stop, log_path))
    stopped = False
    try:
        stopped = await _until_stopped(work, stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if stopped:
            console.print("[dim]Stopping…[/]")
        await stack.aclose()
    if stopped:
        if scripted:
            err_console.print("[yellow]Interrupted.[/]")
            return 130, False
        console.print("Stopped.")
        return 0, False
    failure = work.exception()
    if isinstance(failure, StepFailed):
        err_console.print(
            f"[bold red]Demo failed[/] at step “{escape(failure.title)}” after "
            f"{steps.elapsed:.1f} s: {escape(failure.reason)}"
        )
        err_console.print(f"The gateway's log is in {log_path}.")
        return 1, True
    if failure is not None:
        logging.getLogger("slackbridge.demo").error("the demo crashed", exc_info=failure)
        err_console.print(f"[bold red]The demo crashed:[/] {escape(repr(failure))}")
        err_console.print(f"Details are in {log_path}.")
        return 1, True
    if not scripted:
        console.print("Stopped.")
        return 0, False
    passed = sum(1 for r in steps.results if r.ok)
    noun = "step" if passed == 1 else "steps"
    console.print(f"[bold green]All {passed} {noun} passed[/] in {steps.elapsed:.1f} s.")
    return 0, False


async def run_stack(
    config: DemoConfig,
    *,
    scripted: bool,
    keep_data: bool,
    console: Console,
    err_console: Console,
    example: Example | None = None,
    walkthrough: Walkthrough = scripted_walkthrough,
) -> int:
    """Take the ports, prepare the data dir and run the demo of ``example`` (the Helpdesk by
    default) in the running loop; the exit code. ``walkthrough`` is what ``--scripted`` does
    (tests pass a shorter one)."""
    stack = DemoStack(config, example or EXAMPLES[DEFAULT_EXAMPLE])
    try:
        stack.bind_ports()  # first: a port in use must not cost the previous run's data
    except PortUnavailable as exc:
        err_console.print(f"[bold red]Error:[/] {escape(str(exc))}.")
        err_console.print(
            f"Stop the program using it, or move the demo with [bold]--port-base N[/] (it uses "
            f"N, N+1 and N+2; now {config.port_base}–{config.port_base + 2})."
        )
        return 2
    data_dir = config.data_dir
    try:
        _fresh_data_dir(data_dir)
    except OSError as exc:
        await stack.aclose()
        err_console.print(f"[bold red]Error:[/] cannot prepare {data_dir}: {exc.strerror or exc}")
        return 2
    keep = keep_data
    try:
        with _log_to_file(data_dir / _LOG_NAME):
            code, keep_for_inspection = await _drive(
                stack, scripted, console, err_console, walkthrough
            )
        keep = keep or keep_for_inspection
    finally:
        if keep:
            console.print(f"[dim]Data kept in {data_dir}/ (log: {data_dir / _LOG_NAME}).[/]")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    return code


def run_demo(
    name: str = DEFAULT_EXAMPLE,
    *,
    scripted: bool,
    port_base: int,
    keep_data: bool,
    console: Console,
    err_console: Console,
    data_dir: Path = DEFAULT_DATA_DIR,
) -> int:
    """Run the demo of the example ``name`` (see the module docstring); the process exit code."""
    example = EXAMPLES.get(name.strip().lower())
    if example is None:
        names = ", ".join(f"[bold]{escape(n)}[/]" for n in EXAMPLES)
        err_console.print(f"[bold red]Error:[/] there is no example called “{escape(name)}”.")
        err_console.print(
            f"The demo has these: {names}. Run, e.g., "
            f"[bold]slackbridge demo {next(iter(EXAMPLES))} --scripted[/]."
        )
        return 2
    if not 1024 <= port_base <= 65533:
        err_console.print("[bold red]Error:[/] --port-base must be between 1024 and 65533.")
        return 2
    config = DemoConfig(port_base=port_base, data_dir=data_dir)
    return asyncio.run(
        run_stack(
            config,
            scripted=scripted,
            keep_data=keep_data,
            console=console,
            err_console=err_console,
            example=example,
        )
    )
