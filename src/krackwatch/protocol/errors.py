"""Errors of :mod:`krackwatch.protocol`: misuse of a machine's API (bad construction arguments).

Frames never raise: a rejected frame is a ``Dropped`` command.
"""

from __future__ import annotations

from krackwatch.errors import KrackwatchError


class ProtocolError(KrackwatchError):
    """A machine was built or called with arguments it cannot work with (unsupported suite, address
    of the wrong length, inconsistent flags)."""
