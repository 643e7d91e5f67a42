"""Error types shared by every layer.

Each layer raises a subclass; only the CLI turns them into one line and an exit code.
"""

from __future__ import annotations


class KrackwatchError(Exception):
    """Base of every error krackwatch raises on purpose."""


class InputError(KrackwatchError):
    """Something the user gave us is unusable: names the file and, when known, the byte offset."""

    def __init__(self, message: str, *, path: str | None = None, offset: int | None = None) -> None:
        self.message = message
        self.path = path
        self.offset = offset
        super().__init__(self.describe())

    def describe(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}: "
        if self.offset is not None:
            where += f"at byte offset {self.offset}: "
        return where + self.message
