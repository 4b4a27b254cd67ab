"""Which ``response_url`` values the gateway will POST to (pure).

The gateway must not become a way to POST anywhere, so a response_url is accepted only when it has
the exact shape of one Slack hands out: ``https://hooks.slack.com/commands/T…/<digits>/<secret>``
(or ``/actions/…``), or, when the gateway is pointed at another Slack (the emulator), that Slack's
own scheme and host with the emulator's ``/_emulator/response/T…/<digits>/<secret>``. Parsing never
raises: a URL that can't be parsed is just not a response_url.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["ResponseUrlRule", "response_url_problem", "response_url_rules"]

_SECRET_TAIL = r"/[TE][A-Z0-9]+/\d+/[A-Za-z0-9_-]+"
_SLACK_PATH = re.compile(rf"/(?:commands|actions){_SECRET_TAIL}")
_EMULATOR_PATH = re.compile(rf"/_emulator/response{_SECRET_TAIL}")


@dataclass(frozen=True, slots=True)
class ResponseUrlRule:
    """One place response URLs come from: scheme, ``host[:port]`` and the path shape."""

    scheme: str
    netloc: str
    path: re.Pattern[str]


def response_url_rules(slack_urls: tuple[str, ...]) -> tuple[ResponseUrlRule, ...]:
    """Slack's own rule, plus one for each configured Slack base URL that is not Slack's."""
    rules = [ResponseUrlRule("https", "hooks.slack.com", _SLACK_PATH)]
    for url in slack_urls:
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        netloc = parts.netloc.lower()
        host = (parts.hostname or "").lower()
        if not netloc or host == "slack.com" or host.endswith(".slack.com"):
            continue
        rules.append(ResponseUrlRule(parts.scheme.lower(), netloc, _EMULATOR_PATH))
    return tuple(dict.fromkeys(rules))


def response_url_problem(url: str, rules: tuple[ResponseUrlRule, ...]) -> str | None:
    """Why ``url`` is not an acceptable response_url, or None when it is."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it validates the port ("http://h:x" raises here)
    except ValueError:
        return "the response_url is not a valid URL"
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    if parts.username is not None or parts.password is not None:
        return "a response_url carries no credentials"
    if parts.query or parts.fragment:
        return "a response_url has no query string or fragment"
    for rule in rules:
        if netloc != rule.netloc:
            continue
        if scheme != rule.scheme:
            return f"response_urls on {netloc} use {rule.scheme}"
        if not rule.path.fullmatch(parts.path):
            return f"{parts.path or '/'} is not the path of a Slack response_url"
        return None
    return f"{netloc or 'that URL'} is not a Slack response_url host"
