"""URLs as they may be shown: without the credentials and tokens they often carry.

A webhook URL may hold a password (``https://user:pw@host/…``) or a token in its query string
(``…?token=…``). Wherever slackbridge shows a URL (``/readyz``, logs, CLI output, error messages
stored with deliveries) it shows :func:`redact_url`'s form instead: scheme, host, port and path
stay (enough to tell endpoints apart), userinfo, query and fragment become ``***``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["redact_in_text", "redact_url"]

_MASK = "***"


def redact_url(url: str) -> str:
    """``https://user:pw@host/path?token=x`` → ``https://***@host/path?***``.

    A string that does not parse as a URL is masked whole: it may be anything.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return _MASK
    _userinfo, at, hostport = parts.netloc.rpartition("@")
    shown = f"{parts.scheme}:" if parts.scheme else ""
    if parts.netloc:
        shown += "//" + (f"{_MASK}@" if at else "") + hostport
    shown += parts.path
    if parts.query:
        shown += f"?{_MASK}"
    if parts.fragment:
        shown += f"#{_MASK}"
    return shown


def redact_in_text(text: str, url: str) -> str:
    """``text`` (an error message, say) with ``url`` and each of its secret parts redacted."""
    if not url:
        return text
    text = text.replace(url, redact_url(url))
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    userinfo = parts.netloc.rpartition("@")[0]
    for secret in (userinfo, parts.query, parts.fragment):
        if secret:
            text = text.replace(secret, _MASK)
    return text
