"""Live chat: website visitors talk to a team that answers from Slack (the conversation bridge).

Run it beside a slackbridge gateway::

    SLACKBRIDGE_API_URL=http://127.0.0.1:8000 \
    SLACKBRIDGE_API_KEY=sbk_... \
    LIVECHAT_WEBHOOK_SECRET=whsec_... \
    LIVECHAT_SLACK_CLIENT_ID=... LIVECHAT_SLACK_CLIENT_SECRET=... \
    python examples/livechat/app.py

and point the gateway's webhooks at it (``SLACKBRIDGE_WEBHOOK_URL=http://127.0.0.1:8002/webhooks/
slackbridge`` with the same ``SLACKBRIDGE_WEBHOOK_SECRET``). The console's Sign in with Slack
needs the Slack app's client id and secret (``LIVECHAT_SLACK_CLIENT_ID``,
``LIVECHAT_SLACK_CLIENT_SECRET``) and where Slack is (``LIVECHAT_SLACK_URL``, default
https://slack.com, and ``LIVECHAT_SLACK_API_URL``, default https://slack.com/api/); without
them the console says sign-in is not configured. ``LIVECHAT_HOST`` and ``LIVECHAT_PORT``
(default 127.0.0.1:8002) say where it listens. See README.md next to this file; the product
itself is ``slackbridge.demo.livechat``.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from slackbridge.demo.livechat.app import WEBHOOK_PATH, SlackOidc, create_livechat_app
from slackbridge.demo.product_common import listen_address

_REQUIRED = {
    "SLACKBRIDGE_API_URL": "the gateway's address, e.g. http://127.0.0.1:8000",
    "SLACKBRIDGE_API_KEY": "a product API key (slackbridge apikey create livechat)",
    "LIVECHAT_WEBHOOK_SECRET": "the whsec_… secret the gateway signs webhooks with "
    "(its SLACKBRIDGE_WEBHOOK_SECRET)",
}


def main() -> int:
    address = listen_address("The live chat", "LIVECHAT", _REQUIRED)
    if address is None:
        return 2
    client_id = os.environ.get("LIVECHAT_SLACK_CLIENT_ID")
    client_secret = os.environ.get("LIVECHAT_SLACK_CLIENT_SECRET")
    if bool(client_id) != bool(client_secret):
        print(
            "LIVECHAT_SLACK_CLIENT_ID and LIVECHAT_SLACK_CLIENT_SECRET go together "
            "(the Slack app's credentials, for the console's Sign in with Slack)",
            file=sys.stderr,
        )
        return 2
    oidc = None
    if client_id and client_secret:
        oidc = SlackOidc(
            os.environ.get("LIVECHAT_SLACK_URL", "https://slack.com"),
            os.environ.get("LIVECHAT_SLACK_API_URL", "https://slack.com/api/"),
            client_id,
            client_secret,
        )
    host, port = address
    app = create_livechat_app(
        os.environ["SLACKBRIDGE_API_URL"],
        os.environ["SLACKBRIDGE_API_KEY"],
        os.environ["LIVECHAT_WEBHOOK_SECRET"],
        oidc=oidc,
    )
    print(f"Live chat on http://{host}:{port}/ (webhooks at {WEBHOOK_PATH})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
