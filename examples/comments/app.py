"""Code comments: a code-review page whose comments are discussed in Slack (the conversation
bridge), in two environments, each its own Slack app on one gateway.

Run it beside a slackbridge gateway that serves both apps (``comments`` and ``comments-dev``)::

    SLACKBRIDGE_API_URL=http://127.0.0.1:8000 \
    SLACKBRIDGE_API_KEY=sbk_... \
    COMMENTS_WEBHOOK_SECRET=whsec_... \
    python examples/comments/app.py

and point the gateway's webhooks at it (``SLACKBRIDGE_WEBHOOK_URL=http://127.0.0.1:8002/webhooks/
slackbridge`` with the same ``SLACKBRIDGE_WEBHOOK_SECRET``). ``COMMENTS_HOST`` and
``COMMENTS_PORT`` (default 127.0.0.1:8002) say where it listens; ``COMMENTS_PUBLIC_URL`` (default
``http://HOST:PORT``) is where people reach it, for the View comment buttons. See README.md next
to this file; the product itself is ``slackbridge.demo.comments``.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from slackbridge.demo.comments.app import WEBHOOK_PATH, create_comments_app
from slackbridge.demo.product_common import listen_address

_REQUIRED = {
    "SLACKBRIDGE_API_URL": "the gateway's address, e.g. http://127.0.0.1:8000",
    "SLACKBRIDGE_API_KEY": "a product API key (slackbridge apikey create comments)",
    "COMMENTS_WEBHOOK_SECRET": "the whsec_… secret the gateway signs webhooks with "
    "(its SLACKBRIDGE_WEBHOOK_SECRET)",
}


def main() -> int:
    address = listen_address("Comments", "COMMENTS", _REQUIRED)
    if address is None:
        return 2
    host, port = address
    public = os.environ.get("COMMENTS_PUBLIC_URL", f"http://{host}:{port}")
    if not public.startswith(("http://", "https://")):
        print(f"COMMENTS_PUBLIC_URL must be an http(s) URL, not {public!r}", file=sys.stderr)
        return 2
    app = create_comments_app(
        os.environ["SLACKBRIDGE_API_URL"],
        os.environ["SLACKBRIDGE_API_KEY"],
        os.environ["COMMENTS_WEBHOOK_SECRET"],
        public,
    )
    print(f"Comments on {public}/ (webhooks at {WEBHOOK_PATH})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
