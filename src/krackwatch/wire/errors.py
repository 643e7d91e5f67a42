"""Typed decoding errors: every codec either returns a value or raises DecodeError."""

from __future__ import annotations

from krackwatch.errors import KrackwatchError


class DecodeError(KrackwatchError):
    """Bytes that do not form a valid structure; ``offset`` is relative to the buffer decoded."""

    def __init__(self, what: str, message: str, offset: int | None = None) -> None:
        self.what = what
        self.message = message
        self.offset = offset
        at = f" at offset {offset}" if offset is not None else ""
        super().__init__(f"{what}: {message}{at}")


class EncodeError(KrackwatchError, ValueError):
    """A value cannot be encoded: a field is out of range or inconsistent with another field."""
