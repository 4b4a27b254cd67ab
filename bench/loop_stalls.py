"""What holds the gateway's event loop: a loop-lag sampler with stacks, for ``bench/ingress.py
--stalls FILE``.

Run as the gateway's entry point (``python bench/loop_stalls.py FILE serve ...``): it starts
``slackbridge`` as usual and, once the workers run, a *heartbeat* on the event loop (a callback
every millisecond) and a *watcher* thread. The heartbeat records how late each beat was (the
loop's lag: how long an ack that became ready just then would have waited) and the gateway
thread's CPU over the gap (a gap with little CPU is the loop waiting for a core or for the GIL,
not running something long). While the loop is late by more than :data:`_STALL`, the watcher
samples the loop thread's stack every :data:`_SAMPLE` seconds: what it runs during stalls.

SIGUSR2 writes the report so far to FILE (the lag histogram, the CPU share of the long gaps,
the stacks most often sampled during stalls) and resets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

_BEAT = 0.001
_STALL = 0.004
_SAMPLE = 0.0005
_EDGES_MS = (1, 2, 4, 8, 16, 32, 64)


class _Sampler:
    def __init__(self, path: str) -> None:
        self.path = path
        self.last = time.perf_counter()
        self.loop_thread = threading.get_ident()
        self.lags: list[tuple[float, float]] = []  # (lag s, loop-thread CPU s over the gap)
        self.stacks: Counter[str] = Counter()
        self.samples = 0
        self.started = time.perf_counter()
        self._cpu = time.thread_time()
        self._stop = False
        self._lock = threading.Lock()

    def beat(self, loop: asyncio.AbstractEventLoop) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gap = now - self.last
        if gap > _BEAT * 1.5:
            self.lags.append((gap - _BEAT, cpu - self._cpu))
        self.last, self._cpu = now, cpu
        if not self._stop:
            loop.call_later(_BEAT, self.beat, loop)

    def watch(self) -> None:
        while not self._stop:
            time.sleep(_SAMPLE)
            if time.perf_counter() - self.last > _STALL + _BEAT:
                frame = sys._current_frames().get(self.loop_thread)
                if frame is None:
                    continue
                lines = [
                    f"{f.filename.split('site-packages/')[-1].split('src/')[-1]}:{f.lineno}"
                    f" {f.name}"
                    for f in traceback.extract_stack(frame)[-14:]
                ]
                with self._lock:
                    self.stacks["\n    ".join(lines)] += 1
                    self.samples += 1

    def dump(self, *_args: Any) -> None:
        with self._lock:
            lags, stacks, samples = self.lags, self.stacks, self.samples
            self.lags, self.stacks, self.samples = [], Counter(), 0
        wall = time.perf_counter() - self.started
        self.started = time.perf_counter()
        out = [f"=== over {wall:.1f}s: {len(lags)} late beats"]
        for edge in _EDGES_MS:
            over = [(lag, cpu) for lag, cpu in lags if lag * 1000 > edge]
            total = sum(lag for lag, _ in over)
            cpu = sum(c for _, c in over)
            out.append(
                f"  late > {edge:>2} ms: {len(over):6d} gaps, {total * 1000:8.0f} ms in all,"
                f" loop thread on CPU {cpu / total if total else 0:.0%} of it"
            )
        worst = sorted(lags, reverse=True)[:10]
        out.append(
            "  worst: " + ", ".join(f"{lag * 1000:.1f} ms (cpu {c * 1000:.1f})" for lag, c in worst)
        )
        out.append(
            f"\n{samples} stack samples during stalls > {_STALL * 1000:.0f} ms; the most frequent:"
        )
        for stack, n in stacks.most_common(25):
            out.append(f"\n{n} ({n / max(samples, 1):.0%}):\n    {stack}")
        with open(self.path, "a") as f:
            f.write("\n".join(out) + "\n")


def main() -> None:
    path = sys.argv[1]
    import slackbridge.server as server

    original = server._running
    current: list[_Sampler] = []
    # Installed at once: the port answers before the app's start-up has run.
    signal.signal(signal.SIGUSR2, lambda *_: current and current[0].dump())

    @contextlib.asynccontextmanager
    async def running(*args: Any) -> AsyncIterator[None]:
        async with original(*args):
            sampler = _Sampler(path)
            loop = asyncio.get_running_loop()
            loop.call_soon(sampler.beat, loop)
            threading.Thread(target=sampler.watch, daemon=True).start()
            current.append(sampler)
            yield

    server._running = running  # type: ignore[assignment]
    from slackbridge.cli import main as cli_main

    sys.argv = ["slackbridge", *sys.argv[2:]]
    cli_main()


if __name__ == "__main__":
    main()
