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
    "BEACON_MODE_TABLE",
    "BROADCAST",
    "RxKey",
    "TxKey",
    "beacon",
    "check_mgmt_group",
    "data_frame",
    "is_group",
    "mgmt_frame",
    "protect_mgmt_group",
    "rm_beacon_report",
    "rm_beacon_request",
    "rm_beacon_requests",
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
    """Verify the MME of a BIP-protected group management frame; returns its IPN (raises InvalidMIC).
    MME (9.4.2.54): Element ID, Length 16, Key ID (2), IPN (6), MIC (8) at the end of the body."""
    header, body = frame[:24], frame[24:]
    verify_bip(igtk, header, body)
    return int.from_bytes(body[-14:-8], "little")


# Radio Measurement action frames (802.11-2020 9.6.6): category 5 is a robust Action category (Table 9-51),
# so under PMF a group-addressed request carries BIP and an individually addressed report travels under the
# PTK. A Beacon request in Beacon Table mode asks for the receiver's scan table: answered at once, no
# measurement (9.4.2.20.7). wpa_supplicant answers group-addressed requests too; it only withholds the
# "refused"/"incapable" reports for them (rrm.c).
RM_CATEGORY = 5
RM_REQUEST = 0
RM_REPORT = 1
MEASURE_BEACON = 5
BEACON_MODE_TABLE = 2
OP_CLASS_24GHZ = 81  # global operating class of 2.4 GHz channels 1-13 (Table E-4)
_BEACON_REQ = struct.Struct("<BBHHB6s")
_BEACON_REP = struct.Struct("<BBQHBBB6sBI")


def rm_beacon_request(dialog_token: int, channel: int, *, rand_tu: int = 0, duration_tu: int = 0,
                      mode: int = BEACON_MODE_TABLE, bssid: bytes = BROADCAST) -> bytes:
    """Action body of a Radio Measurement Request (9.6.6.2) with one Beacon request (measurement token =
    dialog token), Number of Repetitions 0."""
    req = _BEACON_REQ.pack(OP_CLASS_24GHZ, channel, rand_tu, duration_tu, mode, bssid)
    elem = bytes((ElementID.MEASUREMENT_REQUEST, 3 + len(req), dialog_token, 0, MEASURE_BEACON)) + req
    return bytes((RM_CATEGORY, RM_REQUEST, dialog_token, 0, 0)) + elem


def rm_beacon_requests(body: bytes, end: int) -> tuple[int, list[tuple[int, int, int, int, bytes]]] | None:
    """(dialog token, [(measurement token, randomization interval TU, duration TU, mode, BSSID)]) of the
    Beacon requests in a Radio Measurement Request action body (up to ``end``); None for anything else."""
    if len(body) < 5 or body[0] != RM_CATEGORY or body[1] != RM_REQUEST:
        return None
    out = []
    pos = 5
    while pos + 2 <= end:
        eid, n = body[pos], body[pos + 1]
        if pos + 2 + n > end:
            break
        if eid == ElementID.MEASUREMENT_REQUEST and n >= 3 + _BEACON_REQ.size and body[pos + 4] == MEASURE_BEACON:
            _op, _ch, rand, dur, mode, bssid = _BEACON_REQ.unpack_from(body, pos + 5)
            out.append((body[pos + 2], rand, dur, mode, bssid))
        pos += 2 + n
    return body[2], out


def rm_beacon_report(dialog_token: int, measurement_token: int, channel: int, bssid: bytes, *, rcpi: int,
                     start_tsf: int = 0, duration_tu: int = 0, parent_tsf: int = 0) -> bytes:
    """Action body of a Radio Measurement Report (9.6.6.3) with one Beacon report (9.4.2.21.7) about
    ``bssid``: Reported Frame Information = ERP PHY (condensed PHY type 6), beacon; RSNI 255 (unknown)."""
    rep = _BEACON_REP.pack(OP_CLASS_24GHZ, channel, start_tsf, duration_tu, 6, rcpi, 255, bssid, 0, parent_tsf)
    elem = bytes((ElementID.MEASUREMENT_REPORT, 3 + len(rep), measurement_token, 0, MEASURE_BEACON)) + rep
    return bytes((RM_CATEGORY, RM_REPORT, dialog_token)) + elem
