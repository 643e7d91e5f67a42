"""Security headers at the start of a protected 802.11 frame body: CCMP/GCMP (12.5.3.2, 12.5.5.2),
TKIP (12.5.2.2) and WEP (12.5.1.2).

The fourth octet tells them apart: ExtIV (0x20) is set for CCMP, GCMP and TKIP, clear for WEP;
the top two bits are the Key ID in all of them. PN/TSC are 48-bit counters, octet 0 least significant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from krackwatch.wire.errors import DecodeError, EncodeError

__all__ = [
    "EXT_IV",
    "CcmpHeader",
    "GcmpHeader",
    "TkipHeader",
    "WepHeader",
    "ccmp_pn",
    "decode_ccmp_header",
    "decode_tkip_header",
    "decode_wep_header",
    "has_ext_iv",
    "key_id_of",
    "tkip_tsc",
]

EXT_IV = 0x20
_PN_MAX = (1 << 48) - 1


def _short(what: str, need: int, have: int) -> DecodeError:
    return DecodeError(what, f"{have} octets, the header needs {need}", have)


@dataclass(frozen=True, slots=True)
class CcmpHeader:
    """CCMP / GCMP header: PN (48-bit) and Key ID. ``reserved`` keeps the reserved octet (low 8
    bits) and the reserved bits b0-4 of the Key ID octet (bits 8-12) so that decoding is lossless;
    both are 0 in conforming frames (wlantest flags non-zero ones)."""

    LENGTH: ClassVar[int] = 8

    pn: int
    key_id: int
    reserved: int = 0

    @classmethod
    def decode(cls, body: bytes | bytearray | memoryview) -> CcmpHeader:
        if len(body) < 8:
            raise _short("CCMP header", 8, len(body))
        k = body[3]
        if not k & EXT_IV:
            raise DecodeError("CCMP header", "ExtIV bit clear (a WEP header, not CCMP/GCMP)", 3)
        pn = body[0] | (body[1] << 8) | (int.from_bytes(body[4:8], "little") << 16)
        return cls(pn, k >> 6, body[2] | ((k & 0x1F) << 8))

    def encode(self) -> bytes:
        if not 0 <= self.pn <= _PN_MAX or not 0 <= self.key_id <= 3 or not 0 <= self.reserved <= 0x1FFF:
            raise EncodeError("CCMP header: PN, key id or reserved bits out of range")
        pn = self.pn
        return bytes(
            (
                pn & 0xFF,
                (pn >> 8) & 0xFF,
                self.reserved & 0xFF,
                (self.key_id << 6) | EXT_IV | (self.reserved >> 8),
            )
        ) + (pn >> 16).to_bytes(4, "little")


GcmpHeader = CcmpHeader
"""GCMP uses the CCMP header layout (12.5.5.2)."""


@dataclass(frozen=True, slots=True)
class TkipHeader:
    """TKIP IV/Extended IV: TSC (48-bit), Key ID, and the WEPSeed[1] octet as sent.

    Octets: TSC1, WEPSeed[1], TSC0, KeyID octet, TSC2..TSC5. A conforming sender sets WEPSeed[1]
    to (TSC1 | 0x20) & 0x7F (12.5.2.2, avoids weak RC4 keys); ``reserved`` keeps KeyID-octet b0-4.
    """

    LENGTH: ClassVar[int] = 8

    tsc: int
    key_id: int
    wep_seed: int
    reserved: int = 0

    @classmethod
    def decode(cls, body: bytes | bytearray | memoryview) -> TkipHeader:
        if len(body) < 8:
            raise _short("TKIP header", 8, len(body))
        k = body[3]
        if not k & EXT_IV:
            raise DecodeError("TKIP header", "ExtIV bit clear (a WEP header, not TKIP)", 3)
        tsc = body[2] | (body[0] << 8) | (int.from_bytes(body[4:8], "little") << 16)
        return cls(tsc, k >> 6, body[1], k & 0x1F)

    @classmethod
    def for_tsc(cls, tsc: int, key_id: int = 0) -> TkipHeader:
        """Header with the standard WEPSeed[1] for this TSC."""
        return cls(tsc, key_id, (((tsc >> 8) & 0xFF) | 0x20) & 0x7F)

    @property
    def wep_seed_valid(self) -> bool:
        return self.wep_seed == ((((self.tsc >> 8) & 0xFF) | 0x20) & 0x7F)

    def encode(self) -> bytes:
        if (
            not 0 <= self.tsc <= _PN_MAX
            or not 0 <= self.key_id <= 3
            or not 0 <= self.wep_seed <= 255
            or not 0 <= self.reserved <= 0x1F
        ):
            raise EncodeError("TKIP header: TSC, key id, WEPSeed or reserved bits out of range")
        tsc = self.tsc
        return bytes(
            ((tsc >> 8) & 0xFF, self.wep_seed, tsc & 0xFF, (self.key_id << 6) | EXT_IV | self.reserved)
        ) + (tsc >> 16).to_bytes(4, "little")


@dataclass(frozen=True, slots=True)
class WepHeader:
    """WEP IV header: 3-octet IV, then an octet with Pad (b0-4), ExtIV (b5, clear) and Key ID (b6-7)."""

    LENGTH: ClassVar[int] = 4

    iv: bytes
    key_id: int
    pad: int = 0

    @classmethod
    def decode(cls, body: bytes | bytearray | memoryview) -> WepHeader:
        if len(body) < 4:
            raise _short("WEP header", 4, len(body))
        k = body[3]
        if k & EXT_IV:
            raise DecodeError("WEP header", "ExtIV bit set (a TKIP/CCMP/GCMP header, not WEP)", 3)
        return cls(bytes(body[:3]), k >> 6, k & 0x1F)

    def encode(self) -> bytes:
        if len(self.iv) != 3 or not 0 <= self.key_id <= 3 or not 0 <= self.pad <= 0x1F:
            raise EncodeError("WEP header: IV must be 3 octets, key id 0-3, pad 0-31")
        return bytes(self.iv) + bytes(((self.key_id << 6) | self.pad,))


decode_ccmp_header = CcmpHeader.decode
decode_tkip_header = TkipHeader.decode
decode_wep_header = WepHeader.decode


# --------------------------------------------------------------------------- fast helpers


def ccmp_pn(body: bytes | bytearray | memoryview) -> int:
    """PN of a CCMP/GCMP header at the start of ``body`` (no ExtIV check; hot path)."""
    if len(body) < 8:
        raise _short("CCMP header", 8, len(body))
    return body[0] | (body[1] << 8) | (int.from_bytes(body[4:8], "little") << 16)


def tkip_tsc(body: bytes | bytearray | memoryview) -> int:
    """TSC of a TKIP header at the start of ``body`` (TSC0 is octet 2, TSC1 octet 0)."""
    if len(body) < 8:
        raise _short("TKIP header", 8, len(body))
    return body[2] | (body[0] << 8) | (int.from_bytes(body[4:8], "little") << 16)


def key_id_of(body: bytes | bytearray | memoryview) -> int:
    """Key ID (0-3) from the fourth octet of any of the security headers."""
    if len(body) < 4:
        raise _short("security header", 4, len(body))
    return body[3] >> 6


def has_ext_iv(body: bytes | bytearray | memoryview) -> bool:
    """True for CCMP/GCMP/TKIP (Extended IV present), False for WEP."""
    if len(body) < 4:
        raise _short("security header", 4, len(body))
    return bool(body[3] & EXT_IV)
