"""Names of noisy-mode channels, from the product's template. Pure.

A template holds ``{key}`` (the conversation's key) and ``{n}`` (a counter) placeholders, for
example ``conv-{n}`` (the default) or ``support-{key}``. Slack channel names are at most 80
characters of lowercase letters, digits, hyphens and underscores; everything else in the result
becomes a hyphen. When Slack answers ``name_taken`` the next candidate is tried: ``n + 1`` when
the template counts, else the name with ``-2``, ``-3``, … appended.
"""

from __future__ import annotations

import re

__all__ = [
    "DEFAULT_TEMPLATE",
    "MAX_NAME",
    "NameTemplateError",
    "candidate_names",
    "channel_name",
    "check_template",
]

DEFAULT_TEMPLATE = "conv-{n}"
MAX_NAME = 80
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_KNOWN = frozenset({"key", "n"})
_INVALID = re.compile(r"[^a-z0-9_-]+")
_HYPHENS = re.compile(r"-{2,}")


class NameTemplateError(ValueError):
    """The template can't make channel names; the message says why."""


def check_template(template: str) -> None:
    """Raise :class:`NameTemplateError` for an unknown placeholder or a stray brace, or a
    template that makes an empty name."""
    for match in _PLACEHOLDER.finditer(template):
        if match.group(1) not in _KNOWN:
            raise NameTemplateError(
                f"unknown placeholder {{{match.group(1)}}} in {template!r}; use {{key}} and {{n}}"
            )
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        raise NameTemplateError(f"unbalanced brace in {template!r}")
    if not _clean(_PLACEHOLDER.sub("x", template)):
        raise NameTemplateError(f"{template!r} makes no usable channel name")


def _clean(name: str) -> str:
    return _HYPHENS.sub("-", _INVALID.sub("-", name.lower())).strip("-")


def channel_name(template: str, key: str, n: int) -> str:
    """The channel name ``template`` makes for ``key`` and counter ``n`` (Slack-valid)."""
    raw = template.replace("{key}", key).replace("{n}", str(n))
    name = _clean(raw)
    if len(name) > MAX_NAME:
        # Keep the end: the counter (and a key's distinguishing tail) live there.
        name = name[-MAX_NAME:].lstrip("-_") or name[:MAX_NAME]
    return name or f"conv-{n}"


def candidate_names(template: str, key: str, *, start: int = 1, count: int = 10) -> list[str]:
    """The names to try in order (``name_taken`` moves on to the next): ``n`` counting up from
    ``start`` when the template has ``{n}``, else ``-2``, ``-3``, … appended."""
    if "{n}" in template:
        candidates = [channel_name(template, key, n) for n in range(start, start + count)]
    else:
        base = channel_name(template, key, start)
        candidates = [base] + [
            base[: MAX_NAME - len(f"-{i}")] + f"-{i}" for i in range(2, count + 1)
        ]
    return list(dict.fromkeys(candidates))
