"""Calls: an example calling service on slackbridge (``/call`` in Slack rings the people there).

Run it beside a slackbridge gateway::

    SLACKBRIDGE_API_URL=http://127.0.0.1:8000 \
    SLACKBRIDGE_API_KEY=sbk_... \
    CALLS_WEBHOOK_SECRET=whsec_... \
    python examples/calls/app.py

and point the gateway's webhooks at it (``SLACKBRIDGE_WEBHOOK_URL=http://127.0.0.1:8002/webhooks/
slackbridge`` with the same ``SLACKBRIDGE_WEBHOOK_SECRET``). Optional: ``CALLS_HOST`` and
``CALLS_PORT`` (default 127.0.0.1:8002), ``CALLS_PUBLIC_URL`` (where people's browsers reach it;
default ``http://CALLS_HOST:CALLS_PORT``), ``CALLS_REF`` (the account ref of its Add to Slack
links, default ``calls``) and ``CALLS_ACCOUNTS`` (a JSON file: ``[{"id", "name", "email"}, …]``;
default: the demo's people). See README.md next to this file; the product itself is
``slackbridge.demo.calls``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import uvicorn

from slackbridge.demo.calls import WEBHOOK_PATH, Account, create_calls_app
from slackbridge.demo.calls.config import DEMO_ACCOUNTS
from slackbridge.demo.product_common import listen_address

_REQUIRED = {
    "SLACKBRIDGE_API_URL": "the gateway's address, e.g. http://127.0.0.1:8000",
    "SLACKBRIDGE_API_KEY": "a product API key (slackbridge apikey create calls)",
    "CALLS_WEBHOOK_SECRET": "the whsec_… secret the gateway signs webhooks with "
    "(its SLACKBRIDGE_WEBHOOK_SECRET)",
}


def _accounts(path: str | None) -> list[Account]:
    """The accounts file, or the demo's people; raises ValueError saying what is wrong."""
    if not path:
        return list(DEMO_ACCOUNTS)
    try:
        entries = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"CALLS_ACCOUNTS: cannot read {path}: {exc}") from exc
    if not isinstance(entries, list):
        raise ValueError("CALLS_ACCOUNTS: the file must hold a JSON list")
    accounts = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) and entry[k] for k in ("id", "name", "email")
        ):
            raise ValueError(f"CALLS_ACCOUNTS: entry {n} needs id, name and email (strings)")
        accounts.append(Account(entry["id"], entry["name"], entry["email"]))
    return accounts


def main() -> int:
    address = listen_address("Calls", "CALLS", _REQUIRED)
    if address is None:
        return 2
    host, port = address
    try:
        accounts = _accounts(os.environ.get("CALLS_ACCOUNTS"))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    public_url = os.environ.get("CALLS_PUBLIC_URL") or f"http://{host}:{port}"
    app = create_calls_app(
        os.environ["SLACKBRIDGE_API_URL"],
        os.environ["SLACKBRIDGE_API_KEY"],
        os.environ["CALLS_WEBHOOK_SECRET"],
        accounts,
        public_url=public_url,
        account_ref=os.environ.get("CALLS_REF") or "calls",
    )
    print(f"Calls on {public_url}/ (webhooks at {WEBHOOK_PATH})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
