"""Errors the store raises for conditions callers are expected to handle."""

from __future__ import annotations

__all__ = ["ConflictError", "NotFoundError", "RefreshConflict", "StoreError"]


class StoreError(Exception):
    """Base of the store's own errors."""


class NotFoundError(StoreError, LookupError):
    """The row asked for does not exist."""


class ConflictError(StoreError):
    """The write contradicts what is already stored."""


class RefreshConflict(ConflictError):
    """The token changed while it was being refreshed (another process refreshed it first)."""
