"""802.11 frames the lab's stations put on the air, and the link-layer keys that protect them.

Headers are packed directly (``struct``) on the hot path; management bodies use ``krackwatch.wire``
codecs. A :class:`TxKey` encrypts MSDUs with its own packet number (PN/TSC) that (re)starts when the
key is (re)installed — the counter a key reinstallation resets. An :class:`RxKey` decrypts and keeps
the receive replay counter (RSC). Data frames are non-QoS (priority 0), so one replay counter per key
and direction covers them (802.11-2020 12.5.3.4.4).
"""

from __future__ import annotations

import struct

from krackwatch.crypto import CCMP, GCMP, TKIP, Cipher
from krackwatch.crypto.bip import bip_cmac_mic, verify_bip
from krackwatch.wire.dot11 import MgmtSubtype
from krackwatch.wire.elements import CSA, Element, ElementID, ds_element, encode_elements, ssid_element

__all__ = [
    "BROADCAST",
    "RxKey",
    "TxKey",
    "beacon",
    "check_mgmt_group",
    "data_frame",
    "is_group",
    "mgmt_frame",
    "protect_mgmt_group",
]

BROADCAST = b"\xff" * 6
_HDR = struct.Struct("<HH6s6s6sH")
FC_DATA = 0x0008
FC_PROTECTED = 0x4000
FC_TODS = 0x0100
FC_FROMDS = 0x0200
LLC_EAPOL = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"
# Supported Rates of an ERP/OFDM AP: 1, 2, 5.5, 11 (basic), 6, 9, 12, 18 Mbit/s.
RATES = Element(ElementID.SUPPORTED_RATES, bytes((0x82, 0x84, 0x8B, 0x96, 0x0C, 0x12, 0x18, 0x24)))


def is_group(addr: bytes) -> bool:
    return bool(addr[0] & 1)


def mgmt_frame(subtype: int, a1: bytes, a2: bytes, a3: bytes, seq: int, body: bytes) -> bytes:
    """A management MPDU (no FCS)."""
    return _HDR.pack(subtype << 4, 0 if is_group(a1) else 314, a1, a2, a3, (seq & 0xFFF) << 4) + body


def data_frame(flags: int, a1: bytes, a2: bytes, a3: bytes, seq: int, body: bytes) -> bytes:
    """A non-QoS Data MPDU; ``flags`` are the FC flag bits (ToDS/FromDS/Protected) shifted by 8."""
    return _HDR.pack(FC_DATA | flags, 0 if is_group(a1) else 314, a1, a2, a3, (seq & 0xFFF) << 4) + body


def beacon(bssid: bytes, ssid: bytes, channel: int, tsf: int, seq: int, security: tuple[Element, ...],
           *, csa: CSA | None = None, interval_tu: int = 100) -> bytes:
    """A Beacon: SSID, rates, DS Parameter Set, TIM, then the security elements (RSNE, MDE), and a
    Channel Switch Announcement when given (9.4.2.18)."""
    elements = [ssid_element(ssid), RATES, ds_element(channel),
                Element(ElementID.TIM, b"\x00\x01\x00\x00")]
    if csa is not None:
        elements.append(csa.element())
    elements.extend(security)
    capability = 0x0411  # ESS, Privacy, Short Slot Time
    body = struct.pack("<QHH", tsf, interval_tu, capability) + encode_elements(elements)
    return mgmt_frame(MgmtSubtype.BEACON, BROADCAST, bssid, bssid, seq, body)


def _engine(cipher: Cipher, key: bytes):
    c = cipher.canonical
    if c in (Cipher.CCMP128, Cipher.CCMP256):
        return CCMP(key)
    if c in (Cipher.GCMP128, Cipher.GCMP256):
        return GCMP(key)
    if c is Cipher.TKIP:
        return TKIP(key)
    raise ValueError(f"the lab does not protect data with {cipher.label}")


class TxKey:
    """A transmit key: cipher engine, key ID and the packet number of the last MPDU sent."""

    __slots__ = ("cipher", "engine", "key", "key_id", "michael", "pn")

    def __init__(self, cipher: Cipher, key: bytes, key_id: int, *, pn: int = 0, michael: bytes | None = None):
        self.cipher = cipher
        self.key = key
        self.key_id = key_id
        self.engine = _engine(cipher, key)
        self.pn = pn
        self.michael = michael

    def protect(self, header: bytes, msdu: bytes) -> bytes:
        """The protected MPDU: ``header`` with the Protected bit set, then the cipher's body."""
        self.pn += 1
        header = header[:1] + bytes((header[1] | 0x40,)) + header[2:]
        if self.michael is not None:
            return header + self.engine.encrypt(header, self.pn, self.key_id, msdu, michael_key=self.michael)
        return header + self.engine.encrypt(header, self.pn, self.key_id, msdu)


class RxKey:
    """A receive key and its replay counter (the highest PN accepted so far)."""

    __slots__ = ("cipher", "engine", "key", "key_id", "michael", "rsc")

    def __init__(self, cipher: Cipher, key: bytes, key_id: int, *, rsc: int = 0, michael: bytes | None = None):
        self.cipher = cipher
        self.key = key
        self.key_id = key_id
        self.engine = _engine(cipher, key)
        self.rsc = rsc
        self.michael = michael

    def pn_of(self, frame: bytes, hlen: int = 24) -> int:
        b = frame[hlen:]
        if self.michael is not None:  # TKIP: TSC1 WEPSeed TSC0 KeyID TSC2..TSC5
            return b[2] | (b[0] << 8) | int.from_bytes(b[4:8], "little") << 16
        return b[0] | (b[1] << 8) | int.from_bytes(b[4:8], "little") << 16

    def open(self, frame: bytes, hlen: int = 24) -> bytes:
        """The plaintext MSDU; raises DecryptionError. Does not touch the replay counter."""
        header, body = frame[:hlen], frame[hlen:]
        if self.michael is not None:
            return self.engine.decrypt(header, body, michael_key=self.michael)
        return self.engine.decrypt(header, body)


def protect_mgmt_group(igtk: bytes, key_id: int, ipn: int, frame: bytes) -> bytes:
    """Append a BIP-CMAC-128 Management MIC element (802.11-2020 12.5.4) to a group-addressed
    management frame."""
    header, body = frame[:24], frame[24:]
    mme_head = bytes((ElementID.MANAGEMENT_MIC, 16)) + key_id.to_bytes(2, "little") + ipn.to_bytes(6, "little")
    mic = bip_cmac_mic(igtk, header, body + mme_head + bytes(8))
    return frame + mme_head + mic


def check_mgmt_group(igtk: bytes, frame: bytes) -> int:
    """Verify the MME of a BIP-protected group management frame; returns its IPN (raises InvalidMIC)."""
    header, body = frame[:24], frame[24:]
    verify_bip(igtk, header, body)
    return int.from_bytes(body[-12:-6], "little")
