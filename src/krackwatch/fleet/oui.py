"""MAC address prefix -> vendor, offline, from the IEEE registry files that the ``netaddr`` package ships.

``netaddr/eui/oui.txt`` is the IEEE MA-L (24-bit OUI) registry and ``iab.txt`` the IAB registry (36-bit blocks
inside 00-50-C2 and 40-D8-55). Both are parsed once, lazily, into dicts keyed by the prefix as an int.

A set "U/L" bit (0x02 of the first octet, IEEE 802-2014 8.2) marks a locally administered address: modern
phones and laptops randomise their MAC per network this way, and such an address names no vendor. The I/G bit
(0x01) marks a group address, which is never a device's own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

from krackwatch.advisories.normalize import normalize_vendor
from krackwatch.errors import KrackwatchError

__all__ = [
    "OuiDatabaseUnavailable",
    "OuiMatch",
    "OuiStatus",
    "lookup",
    "lookup_normalized",
    "normalize_mac",
    "registry_size",
]

_HEX = "0123456789abcdef"


class OuiDatabaseUnavailable(KrackwatchError):
    """The offline IEEE registry (shipped with the ``netaddr`` package) cannot be read."""


class OuiStatus(StrEnum):
    """Outcome of a lookup."""

    REGISTERED = "registered"
    UNREGISTERED = "unregistered"
    RANDOMISED = "randomised"  # locally administered: randomised, no vendor
    GROUP = "group"  # multicast/broadcast: not a device address


@dataclass(frozen=True, slots=True)
class OuiMatch:
    """Result of ``lookup``: the registrant as IEEE spells it and its normalised vendor key."""

    mac: str
    status: OuiStatus
    organization: str = ""
    vendor_key: str = ""
    prefix_bits: int = 0

    @property
    def has_vendor(self) -> bool:
        return self.status == OuiStatus.REGISTERED


def normalize_mac(text: str) -> str | None:
    """'AA-BB-CC-DD-EE-FF', 'aabb.ccdd.eeff', 'aabbccddeeff' -> 'aa:bb:cc:dd:ee:ff'; None if not a MAC."""
    s = text.strip().lower()
    n = len(s)
    if n == 17:
        sep = s[2]
        if sep not in ":-" or s[5] != sep or s[8] != sep or s[11] != sep or s[14] != sep:
            return None
        h = s[0:2] + s[3:5] + s[6:8] + s[9:11] + s[12:14] + s[15:17]
    elif n == 14:
        if s[4] != "." or s[9] != ".":
            return None
        h = s[0:4] + s[5:9] + s[10:14]
    elif n == 12:
        h = s
    else:
        return None
    if h.strip(_HEX):
        return None
    return f"{h[0:2]}:{h[2:4]}:{h[4:6]}:{h[6:8]}:{h[8:10]}:{h[10:12]}"


_lock = threading.Lock()
_ma_l: dict[int, str] | None = None
_iab: dict[int, str] | None = None
_IAB_PARENTS = frozenset({0x0050C2, 0x40D855})


def _registry_text(name: str) -> str:
    try:
        return resources.files("netaddr.eui").joinpath(name).read_text(encoding="utf-8", errors="replace")
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise OuiDatabaseUnavailable(
            f"cannot read the IEEE registry {name!r} from the netaddr package ({exc}); install 'netaddr'"
        ) from exc


def _parse_ma_l(text: str) -> dict[int, str]:
    # Lines look like "B827EB     (base 16)\t\tRaspberry Pi Foundation".
    table: dict[int, str] = {}
    for line in text.splitlines():
        mark = line.find("(base 16)")
        if mark < 0:
            continue
        prefix = line[:mark].strip()
        if len(prefix) != 6:
            continue
        try:
            value = int(prefix, 16)
        except ValueError:
            continue
        table.setdefault(value, line[mark + 9:].strip())
    return table


def _parse_iab(text: str) -> dict[int, str]:
    # "(hex)" line gives the 24-bit parent "00-50-C2"; the next "(base 16)" line the block "F71000-F71FFF".
    table: dict[int, str] = {}
    parent = -1
    for line in text.splitlines():
        hex_mark = line.find("(hex)")
        if hex_mark >= 0:
            try:
                parent = int(line[:hex_mark].strip().replace("-", ""), 16)
            except ValueError:
                parent = -1
            continue
        mark = line.find("(base 16)")
        if mark < 0 or parent < 0:
            continue
        block = line[:mark].strip().split("-")[0]
        if len(block) != 6:
            continue
        try:
            low = int(block[:3], 16)
        except ValueError:
            continue
        table.setdefault((parent << 12) | low, line[mark + 9:].strip())
    return table


def _tables() -> tuple[dict[int, str], dict[int, str]]:
    global _ma_l, _iab
    if _ma_l is None or _iab is None:
        with _lock:
            if _ma_l is None or _iab is None:
                ma_l = _parse_ma_l(_registry_text("oui.txt"))
                try:
                    iab = _parse_iab(_registry_text("iab.txt"))
                except OuiDatabaseUnavailable:
                    iab = {}
                _ma_l, _iab = ma_l, iab
    return _ma_l, _iab


def registry_size() -> tuple[int, int]:
    """(MA-L entries, IAB entries) loaded; forces the lazy load."""
    ma_l, iab = _tables()
    return len(ma_l), len(iab)


def lookup(mac: str) -> OuiMatch:
    """Vendor of a MAC address by longest registered prefix (36-bit IAB block, else 24-bit OUI).

    Raises ``ValueError`` for text that is not a MAC address and ``OuiDatabaseUnavailable`` when the
    registry cannot be read.
    """
    norm = normalize_mac(mac)
    if norm is None:
        raise ValueError(f"not a MAC address: {mac!r}")
    return lookup_normalized(norm)


def lookup_normalized(norm: str) -> OuiMatch:
    """``lookup`` for a MAC already in ``normalize_mac`` form (skips re-validation on hot paths)."""
    first = int(norm[0:2], 16)
    if first & 0x01:
        return OuiMatch(norm, OuiStatus.GROUP)
    if first & 0x02:
        return OuiMatch(norm, OuiStatus.RANDOMISED)
    ma_l, iab = _tables()
    value = int(norm.replace(":", ""), 16)
    oui = value >> 24
    if oui in _IAB_PARENTS:
        org = iab.get(value >> 12)
        if org is not None:
            return OuiMatch(norm, OuiStatus.REGISTERED, org, normalize_vendor(org), 36)
    org = ma_l.get(oui)
    if org is None:
        return OuiMatch(norm, OuiStatus.UNREGISTERED)
    return OuiMatch(norm, OuiStatus.REGISTERED, org, normalize_vendor(org), 24)
