"""docs/webhooks.md documents every webhook type, and its verification snippets work."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from slackbridge.domain.events import WEBHOOK_TYPES
from slackbridge.product.signing import generate_secret, sign_headers

DOC = Path(__file__).parents[3] / "docs" / "webhooks.md"
_SECTION = re.compile(r"^### `([a-z_.]+)`\n(.*?)(?=^### |^## |\Z)", re.S | re.M)
_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def _sections() -> dict[str, str]:
    return dict(_SECTION.findall(DOC.read_text()))


def _blocks(language: str) -> list[str]:
    return [code for lang, code in _BLOCK.findall(DOC.read_text()) if lang == language]


def test_every_webhook_type_is_documented_with_an_example() -> None:
    sections = _sections()
    assert set(sections) == set(WEBHOOK_TYPES)
    for type_, text in sections.items():
        (example,) = [code for lang, code in _BLOCK.findall(text) if lang == "json"]
        body = orjson.loads(example)
        assert body["type"] == type_
        assert set(body) == {"type", "timestamp", "data"}
        assert "team_id" in body["data"]["workspace"]


def _signed(secret: str, payload: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    body = orjson.dumps(payload)
    return sign_headers(secret, "msg_doc_example", int(time.time()), body), body


@pytest.mark.parametrize("index", [0, 1])
def test_the_python_snippets_verify_and_refuse(index: int) -> None:
    code = _blocks("python")[index]
    secret = re.search(r'SECRET = "(whsec_[^"]+)"', code)
    assert secret is not None
    namespace: dict[str, Any] = {}
    exec(compile(code, f"webhooks.md python #{index}", "exec"), namespace)
    payload = {"type": "reaction.added", "timestamp": "2026-11-21T11:30:08.000Z", "data": {}}
    headers, body = _signed(secret.group(1), payload)
    namespace["handle"](headers, body)
    with pytest.raises(PermissionError):
        namespace["handle"](headers, body.replace(b"added", b"removed"))
    with pytest.raises(PermissionError):
        namespace["handle"](_signed(generate_secret(), payload)[0], body)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_node_snippet_verifies_and_refuses(tmp_path: Path) -> None:
    (code,) = _blocks("javascript")
    (tmp_path / "receiver.js").write_text(code)
    secret = generate_secret()
    payload = {
        "type": "message.posted",
        "timestamp": "2026-11-21T11:30:08.000Z",
        "data": {"t": "é"},
    }
    headers, body = _signed(secret, payload)
    stale = sign_headers(secret, "msg_old", int(time.time()) - 600, body)
    script = f"""
const {{ verifyWebhook }} = require("./receiver.js");
const body = Buffer.from({orjson.dumps(body.decode()).decode()}, "utf8");
const secret = {orjson.dumps(secret).decode()};
const check = (headers, raw) => {{
  try {{ return verifyWebhook(secret, headers, raw).type; }} catch (e) {{ return "refused"; }}
}};
console.log(JSON.stringify([
  check({orjson.dumps(headers).decode()}, body),
  check({orjson.dumps(headers).decode()}, Buffer.concat([body, Buffer.from(" ")])),
  check({orjson.dumps(stale).decode()}, body),
  check({{}}, body),
]));
"""
    (tmp_path / "check.js").write_text(script)
    done = subprocess.run(
        ["node", "check.js"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout) == ["message.posted", "refused", "refused", "refused"]
