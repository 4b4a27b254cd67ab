"""The demo's Slack apps for the examples that need more than one app or a redirect URL of
their own: the live chat's console callback joins its app's redirect URLs, and Comments'
gateway serves both environments' apps."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from slackbridge.demo.examples import EXAMPLES
from slackbridge.demo.stack import DemoConfig, DemoStack


def test_the_live_chat_app_lists_the_console_callback(tmp_path: Path) -> None:
    stack = DemoStack(DemoConfig(port_base=9100, data_dir=tmp_path), EXAMPLES["livechat"])
    assert stack.app.redirect_urls == ["http://127.0.0.1:9102/console/callback"]
    assert EXAMPLES["livechat"].app.redirect_urls == []  # the example's own config is untouched


def test_the_comments_gateway_serves_both_environments_apps(tmp_path: Path) -> None:
    stack = DemoStack(DemoConfig(port_base=9100, data_dir=tmp_path), EXAMPLES["comments"])
    stack.emulator_state = SimpleNamespace(configuration_token="xoxe.xoxp-1-test")
    settings = stack.gateway_settings("whsec_" + "A" * 32)
    assert [(a.name, a.display_name) for a in settings.apps] == [
        ("comments", "Comments (prod)"),
        ("comments-dev", "Comments (dev)"),
    ]
    assert stack.app is EXAMPLES["comments"].app
