"""Near misses: which declared command someone probably meant (``ad`` → ``add``).

The distance is the optimal string alignment distance (insertions, deletions, substitutions and
swaps of two neighbouring letters each count one), so a typo, a letter left out and two letters
swapped are all one step away. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["edit_distance", "near_misses"]


def edit_distance(a: str, b: str) -> int:
    """The number of single-letter edits (or neighbour swaps) that turn ``a`` into ``b``."""
    if a == b:
        return 0
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _allowed(word: str) -> int:
    """How far a word may be from a keyword to count as a near miss: one edit for short words,
    two from six letters on (more would suggest unrelated words)."""
    return 1 if len(word) < 6 else 2


def near_misses(word: str, keywords: Iterable[str], limit: int = 3) -> list[str]:
    """The keywords ``word`` is a near miss of, nearest first (ties in the given order)."""
    lowered = word.lower()
    scored: list[tuple[int, int, str]] = []
    for order, keyword in enumerate(dict.fromkeys(keywords)):
        if keyword == lowered:
            continue
        distance = edit_distance(lowered, keyword)
        if distance <= _allowed(keyword) or (len(lowered) >= 3 and keyword.startswith(lowered)):
            scored.append((distance, order, keyword))
    return [keyword for _, _, keyword in sorted(scored)[:limit]]
