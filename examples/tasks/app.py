"""Tasks: a team task tracker on slackbridge's declared commands.

Run it beside a slackbridge gateway::

    SLACKBRIDGE_API_URL=http://127.0.0.1:8000 \
    SLACKBRIDGE_API_KEY=sbk_... \
    TASKS_WEBHOOK_SECRET=whsec_... \
    python examples/tasks/app.py

and point the gateway's webhooks at it (``SLACKBRIDGE_WEBHOOK_URL=http://127.0.0.1:8002/webhooks/
slackbridge`` with the same ``SLACKBRIDGE_WEBHOOK_SECRET``). ``TASKS_HOST`` and
``TASKS_PORT`` (default 127.0.0.1:8002) say where it listens. See README.md next to this file;
the product itself is ``slackbridge.demo.tasks``.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from slackbridge.demo.product_common import listen_address
from slackbridge.demo.tasks.app import WEBHOOK_PATH, create_tasks_app

_REQUIRED = {
    "SLACKBRIDGE_API_URL": "the gateway's address, e.g. http://127.0.0.1:8000",
    "SLACKBRIDGE_API_KEY": "a product API key (slackbridge apikey create tasks --scope admin)",
    "TASKS_WEBHOOK_SECRET": "the whsec_… secret the gateway signs webhooks with "
    "(its SLACKBRIDGE_WEBHOOK_SECRET)",
}


def main() -> int:
    address = listen_address("The task bot", "TASKS", _REQUIRED)
    if address is None:
        return 2
    host, port = address
    app = create_tasks_app(
        os.environ["SLACKBRIDGE_API_URL"],
        os.environ["SLACKBRIDGE_API_KEY"],
        os.environ["TASKS_WEBHOOK_SECRET"],
    )
    print(f"Tasks on http://{host}:{port}/ (webhooks at {WEBHOOK_PATH})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
