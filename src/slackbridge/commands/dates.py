"""Dates as people type them in a command: ``today``, ``tomorrow``, ``friday``, ``2026-12-24``.

Resolved against a given moment and time zone (the person's, when known): pure, the clock is
passed in, so the same message always means the same date, however late it is processed.
A weekday means the next such day, today included (``friday`` on a Friday is today);
``next friday`` is not understood, ``2026-12-24`` always is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DATE_WORDS", "local_today", "parse_date", "zone"]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SHORT = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_RELATIVE = {"today": 0, "tomorrow": 1, "tmrw": 1, "yesterday": -1}

#: Every word :func:`parse_date` understands (for near-miss hints and the docs).
DATE_WORDS: tuple[str, ...] = (*_RELATIVE, *_WEEKDAYS, *_SHORT)


def zone(name: str | None) -> tzinfo:
    """The time zone called ``name`` (Slack's ``tz``, e.g. ``Europe/Berlin``); UTC when
    unknown or not given."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_today(now: float, tz: tzinfo) -> date:
    """The calendar date at ``now`` (a Unix time) in ``tz``."""
    return datetime.fromtimestamp(now, tz).date()


def parse_date(word: str, today: date) -> date | None:
    """The date ``word`` means, seen from ``today``; None when it isn't a date."""
    lowered = word.strip().lower().rstrip(".,")
    if lowered in _RELATIVE:
        return today + timedelta(days=_RELATIVE[lowered])
    weekday = _WEEKDAYS.index(lowered) if lowered in _WEEKDAYS else _SHORT.get(lowered)
    if weekday is not None:
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    if len(lowered) == 10 and lowered[4] == "-" and lowered[7] == "-":
        try:
            return date.fromisoformat(lowered)
        except ValueError:
            return None
    return None
