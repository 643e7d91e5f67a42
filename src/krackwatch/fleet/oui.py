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
    "is_group",
    "is_local",
    "lookup",
    "lookup_normalized",
    "normalize_mac",
    "registry_size",
    "vendor_key_for",
]

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
        seps = s[2::3]
        if seps == ":::::":
            h = s.replace(":", "")
        elif seps == "-----":
            h = s.replace("-", "")
        else:
            return None
    elif n == 14:
        if s[4] != "." or s[9] != ".":
            return None
        h = s.replace(".", "")
    elif n == 12:
        h = s
    else:
        return None
    # Exactly 12 hex digits: fromhex rejects other characters and would skip blanks (shortening the result).
    if len(h) != 12:
        return None
    try:
        if len(bytes.fromhex(h)) != 6:
            return None
    except ValueError:
        return None
    if n == 17 and seps == ":::::":
        return s
    return f"{h[0:2]}:{h[2:4]}:{h[4:6]}:{h[6:8]}:{h[8:10]}:{h[10:12]}"


def is_group(norm: str) -> bool:
    """I/G bit of a normalised MAC: a multicast/broadcast address, never a device's own."""
    return norm[1] in "13579bdf"


def is_local(norm: str) -> bool:
    """U/L bit of a normalised MAC: locally administered (randomised), so no IEEE registrant."""
    return norm[1] in "2367abef"


_lock = threading.Lock()
_ma_l: dict[int, str] | None = None
_iab: dict[int, str] | None = None
_IAB_PARENTS = frozenset({0x0050C2, 0x40D855})
_IAB_PARENT_TEXT = frozenset({"00:50:c2", "40:d8:55"})


def _registry_text(name: str) -> str:
    try:
        return resources.files("netaddr.eui").joinpath(name).read_text(encoding="utf-8", errors="replace")
    except (ImportError, OSError) as exc:
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
    if is_group(norm):
        return OuiMatch(norm, OuiStatus.GROUP)
    if is_local(norm):
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


_key_cache: dict[str, str] = {}
_KEY_CACHE_LIMIT = 1 << 16


def vendor_key_for(norm: str) -> str:
    """Vendor key of a normalised MAC ("" when randomised, group or unregistered); cached per prefix."""
    prefix = norm[:8]
    key = _key_cache.get(prefix)
    if key is not None:
        return key
    if is_local(norm) or is_group(norm):
        return ""
    match = lookup_normalized(norm)
    # IAB blocks share their parent's 24 bits: never cache under it. Bounded: at most one entry per OUI seen.
    if prefix not in _IAB_PARENT_TEXT and len(_key_cache) < _KEY_CACHE_LIMIT:
        _key_cache[prefix] = match.vendor_key
    return match.vendor_key
