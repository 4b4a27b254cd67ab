"""Structured logging with secrets redacted.

Every record passes through :class:`RedactingFilter`, which masks anything shaped like a Slack
token (``xoxb-…``, ``xoxp-…``, ``xoxe…``, ``xapp-…``), a webhook secret (``whsec_…``), a bearer
header or a URL's password, so that no secret reaches a log line even when an exception message or
a third-party library prints one. ``SLACKBRIDGE_LOG_JSON=true`` switches to one JSON object a line.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import orjson

__all__ = ["RedactingFilter", "configure_logging", "redact"]

_PATTERNS = [
    re.compile(r"\bxox[a-z]?[.-][A-Za-z0-9.-]*[A-Za-z0-9]"),  # xoxb-, xoxp-, xoxe.xoxb-, xoxe-1-
    re.compile(r"\bxapp-[A-Za-z0-9-]+"),
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:client_secret|signing_secret|refresh_token|token|code|state)=)[^&\s\"']+"),
    re.compile(r"(://[^:/@\s]+:)[^@/\s]+(@)"),
    # Secrets as JSON or dict-repr fields, e.g. a library's debug dump of a request or answer.
    re.compile(
        r"(?i)([\"'](?:client_secret|signing_secret|verification_token|refresh_token|access_token"
        r"|bot_access_token|app_token|token|code|state|secret|password)[\"']\s*:\s*[\"'])"
        r"[^\"']+([\"'])"
    ),
    # The secret last part of an incoming-webhook URL (/services/T…/B…/<secret>).
    re.compile(r"(/services/T[A-Z0-9]+/B[A-Z0-9]+/)[A-Za-z0-9]+"),
]
_MASK = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every secret-shaped substring masked."""
    for pattern in _PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: m.group(1) + _MASK + m.group(2), text)
        elif pattern.groups == 1:
            text = pattern.sub(lambda m: m.group(1) + _MASK, text)
        else:
            text = pattern.sub(_MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Renders each record's message once, redacted, so handlers never see the raw arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.msg = redact(message)
        record.args = None
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update({k: redact(str(v)) if isinstance(v, str) else v for k, v in extra.items()})
        if record.exc_text:
            entry["exc"] = record.exc_text
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO", *, json: bool = False) -> None:
    """Set up the root logger once: redaction on every handler, text or JSON lines to stderr."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if json:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    for old in list(root.handlers):
        if getattr(old, "_slackbridge", False):
            root.removeHandler(old)
    handler._slackbridge = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    # uvicorn's own loggers propagate to the root and so pass through the same redaction.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
