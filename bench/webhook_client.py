"""Benchmark: CPU per delivered webhook, httpx against slackbridge's own webhook client.

Delivery runs on the gateway's event loop, beside the ingress, so the client's CPU per request
is taken from Slack's acks. This posts ``--requests`` signed-sized JSON bodies (about the size
of a ``message.posted`` webhook) to the bench's product (a bare ASGI app under uvicorn in its
own process, answering 200 at once) from ``--concurrency`` tasks in this process, first with an
``httpx.AsyncClient`` (as the gateway used to), then with
:class:`slackbridge.product.webhook_client.WebhookClient`, and reports this process's CPU time
per request (``time.process_time``: the load on the machine doesn't change it much) and
requests/s. With ``--record`` it writes the "## Webhook client" section of bench/RESULTS.md.

    .venv/bin/python bench/webhook_client.py [--requests 5000] [--concurrency 16] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from _support import free_port, load_line, machine, record_section
from ingress import PRODUCT_APP, _process, _uvicorn, _wait_ready

from slackbridge.product.webhook_client import WebhookClient

RESULTS = Path(__file__).with_name("RESULTS.md")
BODY = b'{"type":"message.posted","timestamp":1,"data":{"text":"' + b"x" * 900 + b'"}}'
HEADERS = {
    "content-type": "application/json",
    "user-agent": "slackbridge-bench",
    "webhook-id": "msg_2bWq9c1yVZ8m3nQpT5rL7xK0aD",
    "webhook-timestamp": "1700000000",
    "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
}


async def _run(
    post: Callable[[], Awaitable[int]], requests: int, concurrency: int
) -> tuple[float, float]:
    """(CPU µs per request, requests/s) for ``requests`` calls of ``post``."""
    left = requests

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            status = await post()
            if status != 200:
                raise SystemExit(f"the product answered {status}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / requests * 1e6, requests / wall


async def _main(args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory(prefix="slackbridge-bench-") as tmp:
        work = Path(tmp)
        (work / "product_bench_app.py").write_text(PRODUCT_APP)
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(work)}
        with _process(_uvicorn("product_bench_app", port), env, work / "p.log") as proc:
            await _wait_ready(port, proc, work / "p.log")
            url = f"http://127.0.0.1:{port}/webhooks"
            results: dict[str, tuple[float, float]] = {}
            async with httpx.AsyncClient(timeout=10.0) as http:

                async def with_httpx() -> int:
                    answer = await http.post(url, content=BODY, headers=HEADERS)
                    return answer.status_code

                await _run(with_httpx, 500, args.concurrency)  # warm-up
                results["httpx.AsyncClient"] = await _run(
                    with_httpx, args.requests, args.concurrency
                )
            client = WebhookClient()

            async def with_own() -> int:
                answer = await client.post(url, BODY, HEADERS, timeout=10.0)
                return answer.status_code

            await _run(with_own, 500, args.concurrency)
            results["slackbridge WebhookClient"] = await _run(
                with_own, args.requests, args.concurrency
            )
            await client.aclose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--record", action="store_true", help=f"write the result to {RESULTS}")
    args = parser.parse_args()
    results = asyncio.run(_main(args))
    rows = "\n".join(
        f"| {name} | {args.requests} | {cpu:,.0f} | {rate:,.0f} |"
        for name, (cpu, rate) in results.items()
    )
    print(rows)
    if args.record:
        record_section(
            RESULTS,
            "## Webhook client",
            "## Webhook client\n\n"
            f"CPU per delivered webhook: {args.requests:,} POSTs of a 1 KB JSON body with "
            "Standard Webhooks headers from one process, "
            f"{args.concurrency} at a time, to the ingress bench's product (its own process, "
            "answers 200 at once), with each client. CPU is the sending process's "
            "(`time.process_time`). The gateway delivers with the client that costs less: "
            "`slackbridge.product.webhook_client.WebhookClient`. Run with "
            "`.venv/bin/python bench/webhook_client.py --record`.\n\n"
            "| client | requests | CPU µs/request | requests/s |\n|---|---:|---:|---:|\n"
            f"{rows}\n\n"
            f"Machine: {machine()} ({load_line('at the end')}). "
            f"Recorded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
