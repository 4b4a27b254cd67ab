"""docs/quickstart.md and the Helpdesk example's README stay true to the demo and the example."""

from __future__ import annotations

import inspect
import re
import time
from pathlib import Path
from typing import Any

from slackbridge.cli_demo import demo_command
from slackbridge.demo.examples import EXAMPLES
from slackbridge.demo.helpdesk import WEBHOOK_PATH
from slackbridge.demo.stack import DemoConfig, DemoUrls
from slackbridge.demo.walkthrough import HELPDESK_APP
from slackbridge.emulator.seed import DEFAULT_CONFIGURATION_TOKEN
from slackbridge.product.signing import generate_secret, sign_headers
from tests.acceptance.test_demo import STEPS

ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = (ROOT / "docs" / "quickstart.md").read_text()
EXAMPLE = (ROOT / "examples" / "helpdesk" / "README.md").read_text()
APP = (ROOT / "examples" / "helpdesk" / "app.py").read_text()


def test_the_sample_output_shows_every_scripted_step() -> None:
    for title in STEPS:
        assert f"✓ {title} (" in QUICKSTART, title
    assert f"All {len(STEPS)} steps passed" in QUICKSTART


def test_every_demo_option_is_documented() -> None:
    options = {
        p.default.param_decls[0]
        for p in inspect.signature(demo_command).parameters.values()
        if p.default.param_decls
    }
    assert options == {"--scripted", "--port-base", "--keep-data"}
    for option in options:
        assert re.search(rf"^\| `{option}[ `]", QUICKSTART, re.M), option


def test_every_example_is_named() -> None:
    for name in EXAMPLES:
        assert f"slackbridge demo {name}" in QUICKSTART, name


def test_addresses_and_tokens_match_the_code() -> None:
    urls = DemoUrls.of(DemoConfig())
    for url in (urls.gateway, urls.emulator + "/", urls.product + "/", urls.install, urls.webhook):
        assert url in QUICKSTART, url
    assert DEFAULT_CONFIGURATION_TOKEN in QUICKSTART
    assert DEFAULT_CONFIGURATION_TOKEN in EXAMPLE
    assert WEBHOOK_PATH in EXAMPLE
    assert f'"slash_commands": {HELPDESK_APP.slash_commands}'.replace("'", '"') in QUICKSTART


def test_the_example_readme_lists_every_setting_app_py_reads() -> None:
    read = set(re.findall(r'"((?:SLACKBRIDGE|HELPDESK)_[A-Z_]+)"', APP))
    # listen_address(title, PREFIX, ...) reads PREFIX_HOST and PREFIX_PORT.
    for prefix in re.findall(r'listen_address\([^,]+,\s*"([A-Z]+)"', APP):
        read |= {f"{prefix}_HOST", f"{prefix}_PORT"}
    assert read == {
        "SLACKBRIDGE_API_URL",
        "SLACKBRIDGE_API_KEY",
        "HELPDESK_WEBHOOK_SECRET",
        "HELPDESK_HOST",
        "HELPDESK_PORT",
    }
    for name in read:
        assert f"`{name}`" in EXAMPLE, name
        assert f"`{name}`" in QUICKSTART, name


# A command (slackbridge, or a Python that must import slackbridge) at a command position: the
# start of a line, after env assignments, a pipe, `&&` or `$(`.
_BARE_COMMAND = re.compile(
    r"(?:^|\$\(|\|\s*|&&\s*)(?:[A-Z_]+=\S*\s+)*(slackbridge|python3?|pip|pytest)\b", re.M
)


def _shell_snippets(text: str) -> list[str]:
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)
    # Inline commands that start with a setting, e.g. `SLACKBRIDGE_DATA_DIR=… slackbridge …`.
    inline = re.findall(r"`((?:[A-Z_]+=\S+\s+)+[^`]+)`", text)
    return [*blocks, *inline]


def test_commands_after_make_demo_run_without_activating_the_virtualenv() -> None:
    """`make demo` installs into .venv, not onto PATH: every command the page gives to copy
    calls .venv/bin/…, and the page says how to activate the virtualenv instead."""
    snippets = _shell_snippets(QUICKSTART)
    assert any(".venv/bin/slackbridge" in s for s in snippets)
    for snippet in snippets:
        bare = [m.group(0).strip() for m in _BARE_COMMAND.finditer(snippet)]
        assert not bare, f"{bare} needs .venv/bin/ in:\n{snippet}"
    assert ". .venv/bin/activate" in QUICKSTART


def _own_product_section() -> str:
    start = QUICKSTART.index("## 5. Connect your own product")
    return QUICKSTART[start : QUICKSTART.index("\n## ", start + 1)]


def test_the_own_product_receiver_verifies_and_refuses() -> None:
    """The receiver of "Connect your own product" accepts what the gateway signs, and refuses
    another secret, a changed body, a stale timestamp and missing headers."""
    (code,) = re.findall(r"^```python\n(.*?)^```", _own_product_section(), re.S | re.M)
    namespace: dict[str, Any] = {"__name__": "receiver"}
    exec(compile(code, "quickstart.md receiver", "exec"), namespace)
    secret = generate_secret()
    namespace["SECRET"] = secret
    verify = namespace["verify"]
    body = b'{"type": "message.posted", "timestamp": "2026-11-21T11:30:08.000Z", "data": {}}'
    now = int(time.time())
    headers = sign_headers(secret, "msg_quickstart", now, body)
    assert verify(headers, body)["type"] == "message.posted"
    rotating = sign_headers([generate_secret(), secret], "msg_quickstart", now, body)
    assert verify(rotating, body)["type"] == "message.posted"
    assert verify(headers, body.replace(b"posted", b"deleted")) is None
    assert verify(sign_headers(generate_secret(), "msg_quickstart", now, body), body) is None
    assert verify(sign_headers(secret, "msg_quickstart", now - 600, body), body) is None
    assert verify({}, body) is None


def test_the_own_product_section_uses_the_emulators_fixed_values() -> None:
    section = _own_product_section()
    assert DEFAULT_CONFIGURATION_TOKEN in section
    assert "SLACKBRIDGE_PUBLIC_URL" in section
