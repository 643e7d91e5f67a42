"""Key material the user gives us, and Wireshark's ``80211_keys`` string forms.

Wireshark writes keys as ``wpa-pwd:PASSPHRASE[:SSID]``, ``wpa-psk:HEXPMK`` and ``tk:HEXTK``; passphrase and
SSID are percent-escaped (``%3a`` for ``:``), so that a colon inside either survives.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field

from krackwatch.errors import InputError


@dataclass(frozen=True, slots=True)
class Passphrase:
    """A WPA/WPA2-Personal passphrase, for one SSID or (``ssid=None``) for every SSID seen."""

    passphrase: bytes = field(repr=False)
    ssid: bytes | None = None


@dataclass(frozen=True, slots=True)
class Pmk:
    """A PMK (the PSK itself, or an 802.1X MSK-derived PMK from WPA2-Enterprise)."""

    pmk: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class TemporalKey:
    """A TK taken directly (e.g. from a driver dump); tried on frames no handshake explains."""

    tk: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class WepKey:
    key: bytes = field(repr=False)


KeySpec = Passphrase | Pmk | TemporalKey | WepKey


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Everything the user gave, grouped by kind."""

    passphrases: tuple[Passphrase, ...] = ()
    pmks: tuple[Pmk, ...] = ()
    tks: tuple[TemporalKey, ...] = ()
    wep_keys: tuple[WepKey, ...] = ()

    @classmethod
    def of(cls, specs: list[KeySpec] | tuple[KeySpec, ...]) -> KeyRing:
        return cls(
            passphrases=tuple(s for s in specs if isinstance(s, Passphrase)),
            pmks=tuple(s for s in specs if isinstance(s, Pmk)),
            tks=tuple(s for s in specs if isinstance(s, TemporalKey)),
            wep_keys=tuple(s for s in specs if isinstance(s, WepKey)),
        )

    def __bool__(self) -> bool:
        return bool(self.passphrases or self.pmks or self.tks or self.wep_keys)


def parse_hex(text: str, what: str, lengths: tuple[int, ...]) -> bytes:
    """Hex (colons, dashes and spaces allowed) of one of the given octet lengths."""
    cleaned = text.strip().replace(":", "").replace("-", "").replace(" ", "")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        value = bytes.fromhex(cleaned)
    except ValueError:
        raise InputError(f"{what} {text!r} is not hexadecimal") from None
    if len(value) not in lengths:
        want = " or ".join(str(n) for n in lengths)
        raise InputError(f"{what} must be {want} octets ({len(value)} given)")
    return value


def passphrase(text: str, ssid: str | bytes | None) -> Passphrase:
    raw = text.encode("utf-8")
    if not 8 <= len(raw) <= 63:
        raise InputError(f"a WPA passphrase has 8 to 63 characters ({len(raw)} given)")
    if isinstance(ssid, str):
        ssid = ssid.encode("utf-8")
    if ssid is not None and len(ssid) > 32:
        raise InputError(f"an SSID has at most 32 octets ({len(ssid)} given)")
    return Passphrase(raw, ssid)


def pmk(text: str) -> Pmk:
    return Pmk(parse_hex(text, "PMK", (32, 48)))


def temporal_key(text: str) -> TemporalKey:
    return TemporalKey(parse_hex(text, "TK", (16, 32)))


def wep_key(text: str) -> WepKey:
    return WepKey(parse_hex(text, "WEP key", (5, 13, 16)))


def parse_wireshark_key(text: str) -> KeySpec:
    """Parse ``wpa-pwd:PASS[:SSID]``, ``wpa-psk:HEX``, ``tk:HEX`` or ``wep:HEX`` (Wireshark's forms)."""
    kind, sep, rest = text.partition(":")
    if not sep:
        raise InputError(f"key {text!r} is not of the form wpa-pwd:PASS:SSID, wpa-psk:HEX or tk:HEX")
    kind = kind.strip().lower()
    if kind == "wpa-pwd":
        # Split before unescaping: an escaped %3a belongs to the passphrase or SSID.
        pwd, sep, ssid = rest.partition(":")
        pwd_bytes = urllib.parse.unquote_to_bytes(pwd)
        ssid_bytes = urllib.parse.unquote_to_bytes(ssid) if sep else None
        try:
            pwd_text = pwd_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("the passphrase in a wpa-pwd key is not valid UTF-8") from None
        return passphrase(pwd_text, ssid_bytes)
    if kind == "wpa-psk":
        return pmk(rest)
    if kind == "tk":
        return temporal_key(rest)
    if kind == "wep":
        return wep_key(rest)
    raise InputError(f"unknown key type {kind!r} (expected wpa-pwd, wpa-psk, tk or wep)")
