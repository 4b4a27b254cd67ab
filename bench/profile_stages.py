"""Where the gateway's CPU per event goes, by layer, from ``bench/ingress.py --profile FILE``.

The profile's timer is CPU time (``time.process_time``). Each function's *own* time (not its
callees') is added to the layer its file belongs to; own time is exact where cumulative time is
not (coroutines resumed by other tasks, SQLAlchemy's greenlets). cProfile itself slows every
call down, so read the shares, and apply them to the CPU per event measured without it.

    .venv/bin/python bench/profile_stages.py /tmp/gw.prof --events 12000 --measured 380
"""

from __future__ import annotations

import argparse
import pstats

#: Layer -> path fragments of its files (the first match wins, in this order).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("SQLite itself (statements, commits)", ("~:0(<method 'execute' of 'sqlite3", "sqlite3")),
    ("SQLAlchemy (statements, results, async adapter)", ("sqlalchemy/", "greenlet", "aiosqlite")),
    ("HTTP in (uvicorn, httptools)", ("uvicorn/", "httptools", "h11")),
    ("slackbridge: ingress", ("slackbridge/slack/inbound/",)),
    ("slackbridge: inbox worker and normalize", ("slackbridge/pipeline/", "slackbridge/domain/")),
    ("slackbridge: webhooks (sign, client, endpoints)", ("slackbridge/product/",)),
    ("slackbridge: store (queues, write path, repositories)", ("slackbridge/store/",)),
    ("slackbridge: other", ("slackbridge/",)),
    ("asyncio (event loop, tasks, streams)", ("asyncio/", "selectors")),
    ("JSON, crypto, hashing", ("orjson", "hmac", "hashlib", "cryptography", "_hashlib")),
]


def _layer(path: str, name: str) -> str:
    where = f"{path}:{name}"
    for layer, fragments in LAYERS:
        if any(fragment in where for fragment in fragments):
            return layer
    return "other (Python runtime, libraries)"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("stats", help="the file written by bench/ingress.py --profile")
    parser.add_argument("--events", type=int, required=True, help="events the gateway acked")
    parser.add_argument("--measured", type=float, help="CPU µs/event measured without cProfile")
    args = parser.parse_args()
    table = pstats.Stats(args.stats).stats  # type: ignore[attr-defined]
    own: dict[str, float] = {}
    for (path, _line, name), row in table.items():
        layer = _layer(path, name)
        own[layer] = own.get(layer, 0.0) + row[2]
    total = sum(own.values())
    print("| layer | share | profiled µs/event | measured µs/event |\n|---|---:|---:|---:|")
    for layer, seconds in sorted(own.items(), key=lambda kv: -kv[1]):
        share = seconds / total
        scaled = f"{share * args.measured:,.0f}" if args.measured else "n/a"
        print(f"| {layer} | {share:.0%} | {seconds / args.events * 1e6:,.0f} | {scaled} |")
    print(f"| all | 100% | {total / args.events * 1e6:,.0f} | {args.measured or 'n/a'} |")


if __name__ == "__main__":
    main()
