"""The gateway's front page: a person opening the gateway's address learns what runs there,
its version and health, and where to go next; and every server has an icon."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import httpx

from slackbridge import __version__
from slackbridge.landing import FAVICON_SVG, favicon_data_url
from slackbridge.server import Gateway, create_app
from slackbridge.settings import Settings
from tests.support.servers import serve_asgi


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, public_url="http://127.0.0.1:1", apps=[], webhooks=[])


async def test_the_front_page_shows_version_health_and_links_that_work(tmp_path: Path) -> None:
    async with (
        serve_asgi(create_app(_settings(tmp_path))) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        page = await client.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert f'<span id="version">{__version__}</span>' in page.text
        assert re.search(r'id="health">(healthy|running)<', page.text), page.text
        links = re.findall(r'href="([^"]+)"', page.text)
        for path in ("/healthz", "/readyz", "/metrics", "/slack/install", "/api/v1/openapi.json"):
            assert path in links, path
        for link in links:
            # Offline: nothing from another host; every local link leads somewhere.
            assert link.startswith(("/", "data:image/svg+xml,")), link
            if link.startswith("/"):
                assert (await client.get(link)).status_code != 404, link
        assert "docs/quickstart.md" in page.text and "docs/api.md" in page.text
        # Accounts get signed install links from the API; a ref typed by hand is refused.
        assert "POST /api/v1/workspaces/install-url" in page.text
        unsigned = await client.get("/slack/install", params={"ref": "account-1"})
        assert unsigned.status_code == 403

        icon = await client.get("/favicon.ico")
        assert icon.status_code == 200
        assert icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.text == FAVICON_SVG


async def test_the_front_page_names_a_failing_component(tmp_path: Path) -> None:
    started: list[Gateway] = []
    app = create_app(_settings(tmp_path), parts=(), on_ready=started.append)
    async with serve_asgi(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        started[0].health.report("worker:sender", False, "Slack <unreachable>")
        started[0].health.report("worker:inbox", True, "")
        page = (await client.get("/")).text
    assert 'id="health">degraded<' in page
    assert "1 of 2 components" in page
    assert "<code>worker:sender</code>: Slack &lt;unreachable&gt;" in page


def test_the_icon_is_an_inline_svg_data_url() -> None:
    url = favicon_data_url()
    assert url.startswith("data:image/svg+xml,")
    assert "#" not in url  # a raw # would end a data URL early
    assert unquote(url.removeprefix("data:image/svg+xml,")) == FAVICON_SVG
