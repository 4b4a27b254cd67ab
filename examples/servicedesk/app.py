"""Service desk: people write to the bot in Slack, agents answer from the desk.

Run it beside a slackbridge gateway::

    SLACKBRIDGE_API_URL=http://127.0.0.1:8000 \
    SLACKBRIDGE_API_KEY=sbk_... \
    SERVICEDESK_WEBHOOK_SECRET=whsec_... \
    python examples/servicedesk/app.py

and point the gateway's webhooks at it (``SLACKBRIDGE_WEBHOOK_URL=http://127.0.0.1:8002/webhooks/
slackbridge`` with the same ``SLACKBRIDGE_WEBHOOK_SECRET``). ``SERVICEDESK_HOST`` and
``SERVICEDESK_PORT`` (default 127.0.0.1:8002) say where it listens, ``SERVICEDESK_IDLE_SECONDS``
(default 900) when a quiet session closes. See README.md next to this file; the product itself
is ``slackbridge.demo.servicedesk``.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from slackbridge.demo.product_common import listen_address
from slackbridge.demo.servicedesk.app import WEBHOOK_PATH, create_servicedesk_app
from slackbridge.demo.servicedesk.sessions import DEFAULT_IDLE_SECONDS

_REQUIRED = {
    "SLACKBRIDGE_API_URL": "the gateway's address, e.g. http://127.0.0.1:8000",
    "SLACKBRIDGE_API_KEY": "a product API key (slackbridge apikey create servicedesk)",
    "SERVICEDESK_WEBHOOK_SECRET": "the whsec_… secret the gateway signs webhooks with "
    "(its SLACKBRIDGE_WEBHOOK_SECRET)",
}


def main() -> int:
    address = listen_address("The service desk", "SERVICEDESK", _REQUIRED)
    if address is None:
        return 2
    idle_text = os.environ.get("SERVICEDESK_IDLE_SECONDS", f"{DEFAULT_IDLE_SECONDS:g}")
    try:
        idle = float(idle_text)
    except ValueError:
        idle = 0.0
    if idle < 1:
        print(
            f"SERVICEDESK_IDLE_SECONDS must be a number of seconds (1 or more), not {idle_text!r}",
            file=sys.stderr,
        )
        return 2
    host, port = address
    app = create_servicedesk_app(
        os.environ["SLACKBRIDGE_API_URL"],
        os.environ["SLACKBRIDGE_API_KEY"],
        os.environ["SERVICEDESK_WEBHOOK_SECRET"],
        idle_seconds=idle,
    )
    print(f"Service desk on http://{host}:{port}/ (webhooks at {WEBHOOK_PATH})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
