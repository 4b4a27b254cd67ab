"""Helpdesk: an example product on slackbridge (every ticket is a bridged conversation).

Run it beside a slackbridge gateway::

    SLACKBRIDGE_API_URL=http://127.0.0.1:8000 \
    SLACKBRIDGE_API_KEY=sbk_... \
    HELPDESK_WEBHOOK_SECRET=whsec_... \
    python examples/helpdesk/app.py

and point the gateway's webhooks at it (``SLACKBRIDGE_WEBHOOK_URL=http://127.0.0.1:8002/webhooks/
slackbridge`` with the same ``SLACKBRIDGE_WEBHOOK_SECRET``). ``HELPDESK_HOST`` and
``HELPDESK_PORT`` (default 127.0.0.1:8002) say where it listens. See README.md next to this file;
the product itself is ``slackbridge.demo.helpdesk``.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from slackbridge.demo.helpdesk import WEBHOOK_PATH, create_helpdesk_app
from slackbridge.demo.product_common import listen_address

_REQUIRED = {
    "SLACKBRIDGE_API_URL": "the gateway's address, e.g. http://127.0.0.1:8000",
    "SLACKBRIDGE_API_KEY": "a product API key (slackbridge apikey create helpdesk)",
    "HELPDESK_WEBHOOK_SECRET": "the whsec_… secret the gateway signs webhooks with "
    "(its SLACKBRIDGE_WEBHOOK_SECRET)",
}


def main() -> int:
    address = listen_address("The Helpdesk", "HELPDESK", _REQUIRED)
    if address is None:
        return 2
    host, port = address
    app = create_helpdesk_app(
        os.environ["SLACKBRIDGE_API_URL"],
        os.environ["SLACKBRIDGE_API_KEY"],
        os.environ["HELPDESK_WEBHOOK_SECRET"],
    )
    print(f"Helpdesk on http://{host}:{port}/ (webhooks at {WEBHOOK_PATH})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
