"""Soak: slackbridge with a product attached, paced for a long while; memory, disk and log.

``slackbridge serve`` (SQLite, a webhook endpoint configured) delivers to the same bare product
as bench/ingress.py (its own process, answers 200 at once) while signed message events arrive at
``--rate`` per second over ``--channels`` channels for ``--minutes``. Every ``--every`` seconds it
samples the gateway's resident memory (RSS), the size of the database files (the file, its
write-ahead log) and the backlog (from ``/readyz``). At the end it checks: RSS grew less than 10%
from the end of the warm-up (the first fifth of the run) to the end; every acked event reached the
product; the log has no error and no ``database is locked``. The database is bounded by retention
(``SLACKBRIDGE_RETENTION_DAYS``, 7 days by default, so a 10-minute run can only show that the
write-ahead log stays bounded and the file grows with the rows kept, not that rows are purged;
``--retention-days`` shortens it to see purging).

With ``--record`` the result is written as the "## Soak" section of bench/RESULTS.md.

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 400] [--channels 64] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _support import free_port, load_line, machine, read_response, record_section
from ingress import (
    PRODUCT_APP,
    Scenario,
    _arrivals,
    _load,
    _process,
    _slackbridge_env,
    _uvicorn,
    _wait_ready,
)

RESULTS = Path(__file__).with_name("RESULTS.md")
RSS_LIMIT = 0.10


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _size_mib(path: Path) -> float:
    return path.stat().st_size / 2**20 if path.exists() else 0.0


async def _readyz(port: int) -> dict[str, object]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        _status, body = await read_response(reader)
    finally:
        writer.close()
    found: dict[str, object] = json.loads(body)
    return found


async def _main(args: argparse.Namespace) -> tuple[list[dict[str, float]], int, int, str]:
    with tempfile.TemporaryDirectory(prefix="slackbridge-soak-") as tmp:
        work = Path(tmp)
        (work / "product_bench_app.py").write_text(PRODUCT_APP)
        pyenv = {**os.environ, "PYTHONPATH": str(work)}
        ours_port, product_port = free_port(), free_port()
        env = _slackbridge_env(work, product_port, "sqlite", "")
        env["SLACKBRIDGE_RETENTION_DAYS"] = str(args.retention_days)
        cmd = [sys.executable, "-m", "slackbridge.cli", "serve", "--port", str(ours_port)]
        db = work / "slackbridge" / "slackbridge.db"
        wal = db.with_name(db.name + "-wal")
        samples: list[dict[str, float]] = []
        with (
            _process(_uvicorn("product_bench_app", product_port), pyenv, work / "p.log") as pp,
            _process(cmd, env, work / "slackbridge.log") as ours,
        ):
            await _wait_ready(product_port, pp, work / "p.log")
            await _wait_ready(ours_port, ours, work / "slackbridge.log")
            seconds = args.minutes * 60
            run = uuid.uuid4().hex[:10]
            scenario = Scenario("soak", args.channels, args.rate, int(args.rate * seconds), seconds)
            load = asyncio.create_task(_load(ours_port, scenario, run, 32))
            started = time.monotonic()
            arrived: list[tuple[int, int, float]] = []
            while not load.done():
                await asyncio.wait({load}, timeout=args.every)
                ready = await _readyz(ours_port)
                checks = ready.get("checks", {})
                queues = checks.get("queues", {}) if isinstance(checks, dict) else {}
                backlog = queues.get("backlog", {}) if isinstance(queues, dict) else {}
                depth = sum(q.get("depth", 0) for q in backlog.values())
                samples.append(
                    {
                        "t": time.monotonic() - started,
                        "rss": _rss_mib(ours.pid),
                        "db": _size_mib(db),
                        "wal": _size_mib(wal),
                        "backlog": float(depth),
                    }
                )
                s = samples[-1]
                print(
                    f"{s['t']:6.0f}s rss {s['rss']:.1f} MiB, db {s['db']:.1f} MiB, "
                    f"wal {s['wal']:.1f} MiB, backlog {depth}",
                    flush=True,
                )
            sent, _seconds, _statuses = load.result()
            acked = sum(1 for s in sent if s.acked is not None)
            arrived = await _arrivals(product_port, run, acked, 60)
            delivered = len({n for _c, n, _t in arrived})
            log = (work / "slackbridge.log").read_text(errors="replace")
    return samples, acked, delivered, log


def _verdict(
    samples: list[dict[str, float]], acked: int, delivered: int, log: str
) -> list[tuple[str, bool]]:
    warm = samples[max(0, len(samples) // 5 - 1)]["rss"] if samples else float("nan")
    end = samples[-1]["rss"] if samples else float("nan")
    growth = (end - warm) / warm if warm else float("nan")
    wal_max = max((s["wal"] for s in samples), default=0.0)
    return [
        (
            f"RSS growth after warm-up under 10% ({warm:.1f} → {end:.1f} MiB, {growth:+.1%})",
            growth < RSS_LIMIT,
        ),
        (f"every acked event delivered ({delivered} of {acked})", delivered == acked),
        (f"write-ahead log bounded (at most {wal_max:.1f} MiB)", wal_max < 64),
        (
            "no error and no `database is locked` in the log",
            "database is locked" not in log and "ERROR" not in log and "Traceback" not in log,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=400.0, help="events/s offered")
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--every", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--retention-days", type=float, default=7.0)
    parser.add_argument("--record", action="store_true", help=f"write the result to {RESULTS}")
    args = parser.parse_args()
    samples, acked, delivered, log = asyncio.run(_main(args))
    verdicts = _verdict(samples, acked, delivered, log)
    for text, ok in verdicts:
        print(f"{'met' if ok else 'NOT met'}: {text}")
    if args.record:
        rows = "\n".join(
            f"| {s['t']:.0f} | {s['rss']:.1f} | {s['db']:.1f} | {s['wal']:.1f} "
            f"| {s['backlog']:.0f} |"
            for s in samples
        )
        checks = "\n".join(f"- {text}: {'met' if ok else '**NOT met**'}" for text, ok in verdicts)
        record_section(
            RESULTS,
            "## Soak",
            "## Soak\n\n"
            f"`slackbridge serve` (SQLite) with the product of the ingress bench attached, "
            f"{args.rate:,.0f} signed message events/s over {args.channels} channels for "
            f"{args.minutes:g} minutes (about 70% of the flat-out rate measured in the ingress "
            "bench with a product attached), sampled every "
            f"{args.every:g} s. Run with `.venv/bin/python bench/soak.py --record`.\n\n"
            "| seconds | gateway RSS MiB | database MiB | WAL MiB | backlog rows |\n"
            "|---:|---:|---:|---:|---:|\n"
            f"{rows}\n\n{checks}\n\n"
            f"Machine: {machine()} ({load_line('at the end')}). "
            f"Recorded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n",
        )
    return 0 if all(ok for _t, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
