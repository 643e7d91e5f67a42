"""Make attacker-controlled strings (SSIDs, vendor and device names) safe for terminals and markup."""

from __future__ import annotations

from rich.markup import escape as _rich_escape

_CONTROL = {c: f"\\x{c:02x}" for c in list(range(0x20)) + [0x7F]}
_CONTROL.update({c: f"\\u{c:04x}" for c in range(0x80, 0xA0)})
# Bidirectional overrides can reorder what a terminal shows; make them visible.
_CONTROL.update({c: f"\\u{c:04x}" for c in (0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
                                           0x2066, 0x2067, 0x2068, 0x2069)})


def printable(value: str | bytes | None, *, empty: str = "") -> str:
    """Text with control and bidi characters shown as escapes; bytes decoded as UTF-8 where valid."""
    if value is None:
        return empty
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            value = "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in value)
    return value.translate(_CONTROL)


def terminal(value: str | bytes | None, *, empty: str = "") -> str:
    """Safe for a rich console: control characters escaped and rich markup neutralised."""
    return _rich_escape(printable(value, empty=empty))
