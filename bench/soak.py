"""Soak: slackbridge with a product attached, paced for a long while; memory, disk and log.

``slackbridge serve`` (SQLite, a webhook endpoint configured) delivers to the same bare product
as bench/ingress.py (its own process, answers 200 at once) while signed message events arrive at
``--rate`` per second over ``--channels`` channels for ``--minutes``; the rate is by default 70%
of the flat-out deliveries per second recorded in bench/RESULTS.md ("## Ingress", 64 channels).
Every ``--every`` seconds it samples the gateway's resident memory (RSS), the size of the
database files (the file, its write-ahead log), the backlog (from ``/readyz``) and, afterwards,
the acks' latency in that window. Retention runs as it does in production, on a short clock:
settled rows older than ``--retention-seconds`` (120) are purged every ``--retention-every``
seconds (30), so the run shows the database file levelling off as the purges free pages that
new rows reuse. At the end it checks: RSS grew less than 10% from the end of the warm-up (the
first fifth of the run) to the end; the database file grew less than 20% over the second half;
every acked event reached the product; no request was answered otherwise than 200; the log has
no error and no ``database is locked``.

With ``--record`` the result is written as the "## Soak" section of bench/RESULTS.md.

    .venv/bin/python bench/soak.py [--minutes 10] [--rate R] [--channels 64] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _support import (
    free_port,
    load_line,
    machine,
    percentile,
    read_response,
    record_section,
)
from ingress import (
    PRODUCT_APP,
    Scenario,
    Sent,
    _arrivals,
    _load,
    _process,
    _slackbridge_env,
    _uvicorn,
    _wait_ready,
)

from slackbridge.store.wal_checkpoint import WAL_TRUNCATE_PAGES

RESULTS = Path(__file__).with_name("RESULTS.md")
RSS_LIMIT = 0.10
DB_LIMIT = 0.20  # growth of the database file over the second half of the run
# The log's size past which the gateway's checkpointer empties it (SQLite's default 4 KiB pages);
# below, it restarts the log in place, and the file keeps its size.
WAL_EMPTIED_MIB = WAL_TRUNCATE_PAGES * 4096 / 2**20
SHARE = 0.70  # of the recorded flat-out deliveries per second


def recorded_capacity(results: Path = RESULTS) -> float | None:
    """The deliveries per second recorded flat out over 64 channels in "## Ingress" (SQLite)."""
    text = results.read_text() if results.exists() else ""
    section = re.search(r"^## Ingress\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if section is None:
        return None
    column: int | None = None
    for line in section.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if "delivered/s" in cells:
            column = cells.index("delivered/s")
        elif (
            column is not None
            and cells[:1] == ["slackbridge"]
            and len(cells) > column
            and cells[1].startswith("flat out, 64")
        ):
            return float(cells[column].replace(",", ""))
    return None


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
        env["SLACKBRIDGE_RETENTION_DAYS"] = str(args.retention_seconds / 86400)
        env["SLACKBRIDGE_RETENTION_EVERY_SECONDS"] = str(args.retention_every)
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
            started, wall = time.monotonic(), time.time()
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
            sent, _seconds, statuses, _cpu = load.result()
            acked = sum(1 for s in sent if s.acked is not None)
            _ack_windows(samples, sent, wall)
            non_200 = sum(n for status, n in statuses.items() if status != 200)
            samples[-1]["non_200"] = float(non_200)
            arrived = await _arrivals(product_port, run, acked, 60)
            delivered = len({n for _c, n, _t in arrived})
            log = (work / "slackbridge.log").read_text(errors="replace")
    return samples, acked, delivered, log


def _ack_windows(samples: list[dict[str, float]], sent: list[Sent], wall: float) -> None:
    """Each sample's ack p99 (ms) over the requests sent since the sample before it."""
    since = 0.0
    for sample in samples:
        window = [
            s.acked - s.sent
            for s in sent
            if s.acked is not None and since <= s.sent - wall < sample["t"]
        ]
        sample["ack_p99"] = percentile(window, 99)
        since = sample["t"]


def _verdict(
    samples: list[dict[str, float]], acked: int, delivered: int, log: str
) -> list[tuple[str, bool]]:
    warm = samples[max(0, len(samples) // 5 - 1)]["rss"] if samples else float("nan")
    end = samples[-1]["rss"] if samples else float("nan")
    growth = (end - warm) / warm if warm else float("nan")
    wal_max = max((s["wal"] for s in samples), default=0.0)
    half = samples[len(samples) // 2]["db"] if samples else float("nan")
    db_end = samples[-1]["db"] if samples else float("nan")
    db_growth = (db_end - half) / half if half else float("nan")
    non_200 = int(samples[-1].get("non_200", 0)) if samples else 0
    return [
        (
            f"database file bounded by retention (second half: {half:.1f} → {db_end:.1f} MiB, "
            f"{db_growth:+.1%}; under 20%)",
            db_growth < DB_LIMIT,
        ),
        (f"every request answered 200 ({non_200} otherwise)", non_200 == 0),
        (
            f"RSS growth after warm-up under 10% ({warm:.1f} → {end:.1f} MiB, {growth:+.1%})",
            growth < RSS_LIMIT,
        ),
        (f"every acked event delivered ({delivered} of {acked})", delivered == acked),
        (
            f"write-ahead log bounded (at most {wal_max:.1f} MiB; the checkpointer empties it "
            f"past {WAL_EMPTIED_MIB:.0f} MiB)",
            wal_max < WAL_EMPTIED_MIB * 1.25,
        ),
        (
            "no error and no `database is locked` in the log",
            "database is locked" not in log and "ERROR" not in log and "Traceback" not in log,
        ),
    ]


def main() -> int:
    capacity = recorded_capacity()
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=round(SHARE * capacity) if capacity else 400.0,
        help="events/s offered (default: 70%% of the recorded flat-out deliveries per second)",
    )
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--retention-seconds", type=float, default=120.0)
    parser.add_argument("--retention-every", type=float, default=30.0)
    parser.add_argument("--record", action="store_true", help=f"write the result to {RESULTS}")
    args = parser.parse_args()
    samples, acked, delivered, log = asyncio.run(_main(args))
    verdicts = _verdict(samples, acked, delivered, log)
    print("ack p99 ms per window: " + ", ".join(f"{s['ack_p99']:.1f}" for s in samples))
    for text, ok in verdicts:
        print(f"{'met' if ok else 'NOT met'}: {text}")
    if args.record:
        _record(args, capacity, samples, acked, verdicts)
    return 0 if all(ok for _t, ok in verdicts) else 1


def _record(
    args: argparse.Namespace,
    capacity: float | None,
    samples: list[dict[str, float]],
    acked: int,
    verdicts: list[tuple[str, bool]],
) -> None:
    rows = "\n".join(
        f"| {s['t']:.0f} | {s['rss']:.1f} | {s['db']:.1f} | {s['wal']:.1f} "
        f"| {s['backlog']:.0f} | {s['ack_p99']:.1f} |"
        for s in samples
    )
    checks = "\n".join(f"- {text}: {'met' if ok else '**NOT met**'}" for text, ok in verdicts)
    share = (
        f"{args.rate / capacity:.0%} of the {capacity:,.0f} deliveries/s recorded flat out over "
        '64 channels in "## Ingress"'
        if capacity
        else "no flat-out figure recorded to compare with"
    )
    backlog = max((s["backlog"] for s in samples), default=0.0)
    record_section(
        RESULTS,
        "## Soak",
        "## Soak\n\n"
        "`slackbridge serve` (SQLite) with the product of the ingress bench attached, "
        f"{args.rate:,.0f} signed message events/s over {args.channels} channels for "
        f"{args.minutes:g} minutes ({share}), sampled every {args.every:g} s. Retention on a "
        f"short clock: settled rows older than {args.retention_seconds:g} s purged every "
        f"{args.retention_every:g} s (in production 7 days, every hour; the purge deletes in "
        "chunks of about 2 ms each either way). Ack p99: the requests sent since the sample "
        "before. "
        "Run with `.venv/bin/python bench/soak.py --record`.\n\n"
        "| seconds | gateway RSS MiB | database MiB | WAL MiB | backlog rows | ack p99 ms |\n"
        "|---:|---:|---:|---:|---:|---:|\n"
        f"{rows}\n\n{checks}\n\n"
        f"{acked:,} events acked; the backlog peaked at {backlog:,.0f} rows. "
        f"Machine: {machine()} ({load_line('at the end')}). "
        f"Recorded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n",
    )


if __name__ == "__main__":
    sys.exit(main())
