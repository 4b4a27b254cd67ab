"""Helpers shared by the benchmark scripts in bench/ (not a benchmark itself).

The scripts are run as ``.venv/bin/python bench/<name>.py``, which puts bench/ on ``sys.path``,
so they import this module as ``_support``. Everything here is bounded to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

__all__ = [
    "LoadRun",
    "cpu_model",
    "cpu_seconds",
    "free_port",
    "keepalive_load",
    "load_line",
    "machine",
    "percentile",
    "postgres_cpu_seconds",
    "read_response",
    "record_section",
    "spawn",
]


def percentile(latencies: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``latencies`` (seconds), in milliseconds.

    NaN when there are no latencies.
    """
    if not latencies:
        return float("nan")
    ordered = sorted(latencies)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index] * 1000


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for a child process to bind)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds used so far by process ``pid`` (Linux /proc), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float | None:
    """User + system CPU seconds used so far by this machine's PostgreSQL server: every
    ``postgres`` process's own, and its exited children's (a backend that has ended is
    counted in the server's main process). None when no server runs here (it is elsewhere)."""
    total = 0
    found = False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name, fields = text.split("(", 1)[1].rsplit(")", 1)
        if name != "postgres":
            continue
        after = fields.split()
        # utime, stime, cutime, cstime: fields 14 to 17.
        total += sum(int(value) for value in after[11:15])
        found = True
    return total / os.sysconf("SC_CLK_TCK") if found else None


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo when there is one), or ``"unknown CPU"``."""
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return cpu or "unknown CPU"


def machine() -> str:
    """One line describing the machine: cores, CPU model, Python version and OS release."""
    return (
        f"nproc {os.cpu_count()}, {cpu_model()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def load_line(when: str) -> str:
    """``"load average X (1 min), Y (5 min) <when>"``, or ``"load average unknown"``."""
    with contextlib.suppress(OSError, AttributeError):
        one, five, _ = os.getloadavg()
        return f"load average {one:.2f} (1 min), {five:.2f} (5 min) {when}"
    return "load average unknown"


def record_section(results: Path, heading: str, section: str) -> None:
    """Replace the ``heading`` section of the Markdown file ``results`` with ``section`` (or
    append it), keeping every other ``## `` section as it is."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    results.write_text(text.rstrip("\n") + "\n")


@contextlib.contextmanager
def spawn(
    cmd: list[str],
    log: IO[bytes],
    *,
    env: dict[str, str] | None = None,
    stdout_to_log: bool = True,
    grace: float = 10.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` as a child process for the ``with`` block, then stop it and wait for it.

    stderr goes to ``log`` (a file, never a pipe: a pipe nobody reads could fill up and stall
    the server), and so does stdout when ``stdout_to_log``, else it is discarded. On exit the
    child gets SIGTERM and ``grace`` seconds to finish, then SIGKILL.
    """
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=log if stdout_to_log else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if stdout_to_log else log,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one HTTP/1.1 response (Content-Length or chunked body); its status and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        body += (await reader.readexactly(size + 2))[:size]
        if size == 0:
            return status, body


@dataclass
class LoadRun:
    """What :func:`keepalive_load` saw: one latency (seconds) per accepted response."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0


async def keepalive_load(
    port: int,
    *,
    requests: int,
    seconds: float,
    concurrency: int,
    request_for: Callable[[int, int], bytes],
    accept: Callable[[int, bytes], bool],
) -> LoadRun:
    """Send up to ``requests`` requests for at most ``seconds`` to 127.0.0.1:``port`` over
    ``concurrency`` keep-alive HTTP/1.1 connections, one request in flight on each.

    A minimal client on asyncio streams, so that the load generator spends little CPU.
    ``request_for(worker, n)`` gives the raw bytes of the ``n``-th request (0-based) sent by
    connection ``worker``; ``accept(status, body)`` says whether a response counts as a success
    (its latency is kept) or an error.
    """
    run = LoadRun()
    issued = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def worker(w: int) -> None:
        nonlocal issued
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while issued < requests and time.perf_counter() < deadline:
                n = issued
                issued += 1
                t0 = time.perf_counter()
                writer.write(request_for(w, n))
                status, body = await read_response(reader)
                elapsed = time.perf_counter() - t0
                if accept(status, body):
                    run.latencies.append(elapsed)
                else:
                    run.errors += 1
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    run.seconds = time.perf_counter() - start
    return run
