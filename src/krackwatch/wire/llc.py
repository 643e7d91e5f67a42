"""IEEE 802.2 LLC and SNAP headers that start the body of 802.11 data frames.

802.11 carries MSDUs with an RFC 1042 encapsulation (``AA AA 03 00-00-00`` + EtherType) or, for
EtherTypes 0x80F3 (AARP) and 0x8137 (IPX), bridge-tunnel encapsulation (OUI 00-00-F8)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from krackwatch.wire.errors import DecodeError, EncodeError

__all__ = [
    "BRIDGE_TUNNEL_OUI",
    "LLC",
    "LLC_SNAP_EAPOL",
    "RFC1042_HEADER",
    "EtherType",
    "decode_llc",
    "ethertype_of",
    "snap_header",
]

LLC_SNAP_EAPOL = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"
RFC1042_HEADER = b"\xaa\xaa\x03\x00\x00\x00"
BRIDGE_TUNNEL_HEADER = b"\xaa\xaa\x03\x00\x00\xf8"
BRIDGE_TUNNEL_OUI = 0x0000F8
SNAP_SAP = 0xAA


class EtherType(IntEnum):
    IPV4 = 0x0800
    ARP = 0x0806
    VLAN = 0x8100
    IPX = 0x8137
    IPV6 = 0x86DD
    EAPOL = 0x888E
    PREAUTH = 0x88C7
    TDLS = 0x890D


@dataclass(frozen=True, slots=True)
class LLC:
    """An LLC header (DSAP, SSAP, Control of 1 or 2 octets) with, when DSAP = SSAP = 0xAA and
    Control = UI (0x03), the SNAP OUI and protocol (EtherType for OUI 00-00-00 / 00-00-F8).
    ``payload_offset`` is where the payload starts in the decoded body."""

    dsap: int
    ssap: int
    control: int
    oui: int | None = None
    ethertype: int | None = None
    control_len: int = 1

    @property
    def payload_offset(self) -> int:
        return 2 + self.control_len + (5 if self.oui is not None else 0)

    @property
    def is_snap(self) -> bool:
        return self.oui is not None

    def encode(self) -> bytes:
        """The header octets (the payload follows at ``payload_offset``)."""
        if not (0 <= self.dsap <= 255 and 0 <= self.ssap <= 255):
            raise EncodeError("LLC: SAP out of range")
        if self.control_len not in (1, 2) or not 0 <= self.control < 1 << (8 * self.control_len):
            raise EncodeError("LLC: control field out of range")
        out = bytes((self.dsap, self.ssap)) + self.control.to_bytes(self.control_len, "little")
        if self.oui is None:
            if self.ethertype is not None:
                raise EncodeError("LLC: ethertype without a SNAP OUI")
            return out
        if self.ethertype is None or not 0 <= self.ethertype <= 0xFFFF or not 0 <= self.oui <= 0xFFFFFF:
            raise EncodeError("LLC: SNAP needs an OUI and a 16-bit protocol id")
        return out + self.oui.to_bytes(3, "big") + self.ethertype.to_bytes(2, "big")


def decode_llc(body: bytes | bytearray | memoryview) -> LLC:
    """Decode the LLC (+SNAP) header at the start of ``body``.

    The Control field is one octet for U-format PDUs (low bits 11) and two for I/S-format
    (IEEE 802.2 clause 3.3.2). SNAP is recognised for DSAP = SSAP = 0xAA with Control UI.
    """
    n = len(body)
    if n < 3:
        raise DecodeError("LLC", "shorter than DSAP, SSAP and Control", 0)
    dsap, ssap, c0 = body[0], body[1], body[2]
    if c0 & 0x03 == 0x03:
        control, clen = c0, 1
    else:
        if n < 4:
            raise DecodeError("LLC", "truncated 2-octet Control field", 2)
        control, clen = c0 | (body[3] << 8), 2
    if dsap == SNAP_SAP and ssap == SNAP_SAP and clen == 1 and control == 0x03:
        if n < 8:
            raise DecodeError("LLC", "truncated SNAP header", 3)
        return LLC(dsap, ssap, control, int.from_bytes(body[3:6], "big"), (body[6] << 8) | body[7], 1)
    return LLC(dsap, ssap, control, None, None, clen)


def ethertype_of(body: bytes | bytearray | memoryview) -> int | None:
    """EtherType of an RFC 1042 / bridge-tunnel encapsulated MSDU, else None (fast path)."""
    if len(body) < 8:
        return None
    head = bytes(body[:6])
    if head in (RFC1042_HEADER, BRIDGE_TUNNEL_HEADER):
        return (body[6] << 8) | body[7]
    return None


def snap_header(ethertype: int, *, bridge_tunnel: bool = False) -> bytes:
    """LLC/SNAP header for an EtherType (RFC 1042, or 802.1H bridge tunnel)."""
    if not 0 <= ethertype <= 0xFFFF:
        raise EncodeError("SNAP: ethertype out of range")
    return (BRIDGE_TUNNEL_HEADER if bridge_tunnel else RFC1042_HEADER) + ethertype.to_bytes(2, "big")
