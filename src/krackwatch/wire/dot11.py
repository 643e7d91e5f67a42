"""802.11 MAC frames (IEEE 802.11-2020 clause 9.2-9.3): header codec, header length fast path,
and management frame bodies.

Frames here are MPDUs without the FCS (the link layer strips it). All fields are little-endian.
``encode_dot11(decode_dot11(b)) == b`` for every frame that decodes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum, IntFlag

from krackwatch.wire.elements import (
    CSA,
    ECSA,
    Element,
    EncodeError,
    NetworkInfo,
    decode_elements,
    encode_elements,
    network_info,
)
from krackwatch.wire.errors import DecodeError

__all__ = [
    "FC",
    "ActionBody",
    "ActionCategory",
    "AssocReqBody",
    "AssocRespBody",
    "AtimBody",
    "AuthAlgorithm",
    "AuthBody",
    "BeaconBody",
    "CtrlSubtype",
    "DataSubtype",
    "Dot11Frame",
    "ExtSubtype",
    "FrameType",
    "MacHeader",
    "MgmtBody",
    "MgmtSubtype",
    "ProbeReqBody",
    "ReasonBody",
    "ReasonCode",
    "StatusCode",
    "TimingAdvBody",
    "decode_dot11",
    "decode_header",
    "decode_mgmt_body",
    "encode_dot11",
    "header_length",
]


class FrameType(IntEnum):
    MGMT = 0
    CTRL = 1
    DATA = 2
    EXT = 3


class MgmtSubtype(IntEnum):
    ASSOC_REQ = 0
    ASSOC_RESP = 1
    REASSOC_REQ = 2
    REASSOC_RESP = 3
    PROBE_REQ = 4
    PROBE_RESP = 5
    TIMING_ADV = 6
    BEACON = 8
    ATIM = 9
    DISASSOC = 10
    AUTH = 11
    DEAUTH = 12
    ACTION = 13
    ACTION_NOACK = 14


class CtrlSubtype(IntEnum):
    TRIGGER = 2
    TACK = 3
    BEAMFORMING_REPORT_POLL = 4
    NDP_ANNOUNCEMENT = 5
    CONTROL_FRAME_EXTENSION = 6
    CONTROL_WRAPPER = 7
    BLOCK_ACK_REQ = 8
    BLOCK_ACK = 9
    PS_POLL = 10
    RTS = 11
    CTS = 12
    ACK = 13
    CF_END = 14
    CF_END_ACK = 15


class DataSubtype(IntEnum):
    DATA = 0
    DATA_CF_ACK = 1
    DATA_CF_POLL = 2
    DATA_CF_ACK_POLL = 3
    NULL = 4
    CF_ACK = 5
    CF_POLL = 6
    CF_ACK_POLL = 7
    QOS_DATA = 8
    QOS_DATA_CF_ACK = 9
    QOS_DATA_CF_POLL = 10
    QOS_DATA_CF_ACK_POLL = 11
    QOS_NULL = 12
    QOS_CF_POLL = 14
    QOS_CF_ACK_POLL = 15


class ExtSubtype(IntEnum):
    DMG_BEACON = 0
    S1G_BEACON = 1


class FC(IntFlag):
    """Flags octet of Frame Control (the high octet of ``MacHeader.fc``)."""

    TO_DS = 0x01
    FROM_DS = 0x02
    MORE_FRAG = 0x04
    RETRY = 0x08
    PWR_MGT = 0x10
    MORE_DATA = 0x20
    PROTECTED = 0x40
    ORDER = 0x80


# --------------------------------------------------------------------------- header layouts

# Control frame header lengths by subtype (9.3.1): CTS and ACK carry only RA; the others RA and TA
# (PS-Poll: BSSID and TA; CF-End: RA and BSSID). The Control Wrapper (9.3.1.9) carries RA, the
# Carried Frame Control and an HT Control field; the carried frame's remaining fields are its body.
# Subtypes 0-1 are reserved: their layout is unknown, so they do not decode.
_CTRL_LEN = (0, 0, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 10, 10, 16, 16)


def _compute_len(fc: int) -> int:
    """Header length for a Frame Control value, 0 when the layout is unknown."""
    if fc & 0x3:
        return 0  # protocol version other than PV0 (PV1 frames have another header format)
    ftype = (fc >> 2) & 3
    sub = (fc >> 4) & 0xF
    flags = fc >> 8
    if ftype == 0:
        # +HTC: management frames with Order = 1 carry an HT Control field (9.2.4.1.10).
        return 28 if flags & 0x80 else 24
    if ftype == 2:
        n = 30 if flags & 0x03 == 0x03 else 24
        if sub & 0x8:
            n += 2
            if flags & 0x80:
                n += 4  # QoS data with Order = 1: HT Control present (+HTC)
        return n
    if ftype == 1:
        return _CTRL_LEN[sub]
    # Extension frames (DMG Beacon, S1G Beacon): FC, Duration, one address; the rest is body.
    return 10 if sub <= 1 else 0


def _header_length_table() -> bytes:
    """``_compute_len`` for all 65,536 Frame Control values, indexed by the little-endian FC.

    The length depends on the first FC octet and only on ToDS/FromDS/Order of the second, so eight rows of
    256 are computed and tiled (import time matters: every command loads this module).
    """
    rows: dict[int, bytes] = {}
    out = []
    for fc1 in range(256):
        key = fc1 & 0x83
        row = rows.get(key)
        if row is None:
            row = rows[key] = bytes(_compute_len(fc0 | (key << 8)) for fc0 in range(256))
        out.append(row)
    return b"".join(out)


_HDR_LEN = _header_length_table()
_FRAME_TYPES = tuple(FrameType)
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")


def _bad_fc(fc: int) -> DecodeError:
    if fc & 0x3:
        return DecodeError("802.11 header", f"protocol version {fc & 3} is not supported", 0)
    return DecodeError(
        "802.11 header", f"reserved type/subtype {(fc >> 2) & 3}/{(fc >> 4) & 0xF} has no known layout", 0
    )


def header_length(buf: bytes | bytearray | memoryview) -> int:
    """MAC header length in octets from the Frame Control field (table lookup; hot path).

    Raises DecodeError when the buffer is shorter than the header or the FC has no known layout.
    """
    try:
        hl = _HDR_LEN[buf[0] | (buf[1] << 8)]
    except IndexError:
        raise DecodeError("802.11 header", "shorter than Frame Control", len(buf)) from None
    if hl == 0:
        raise _bad_fc(buf[0] | (buf[1] << 8))
    if len(buf) < hl:
        raise DecodeError("802.11 header", f"{len(buf)} octets, the header needs {hl}", len(buf))
    return hl


@dataclass(frozen=True, slots=True)
class MacHeader:
    """A MAC header. ``fc`` is the 16-bit Frame Control (octet 0 = version/type/subtype, octet 1 =
    flags); addresses are 6-octet bytes; absent fields are None. ``carried_fc`` is only used by
    the Control Wrapper frame."""

    fc: int
    duration: int
    addr1: bytes
    addr2: bytes | None = None
    addr3: bytes | None = None
    seq_ctrl: int | None = None
    addr4: bytes | None = None
    qos_ctrl: int | None = None
    ht_control: int | None = None
    carried_fc: int | None = None

    # -- Frame Control views
    @property
    def version(self) -> int:
        return self.fc & 0x3

    @property
    def type(self) -> FrameType:
        return _FRAME_TYPES[(self.fc >> 2) & 3]

    @property
    def subtype(self) -> int:
        return (self.fc >> 4) & 0xF

    @property
    def flags(self) -> FC:
        return FC(self.fc >> 8)

    @property
    def to_ds(self) -> bool:
        return bool(self.fc & 0x0100)

    @property
    def from_ds(self) -> bool:
        return bool(self.fc & 0x0200)

    @property
    def more_frag(self) -> bool:
        return bool(self.fc & 0x0400)

    @property
    def retry(self) -> bool:
        return bool(self.fc & 0x0800)

    @property
    def pwr_mgt(self) -> bool:
        return bool(self.fc & 0x1000)

    @property
    def more_data(self) -> bool:
        return bool(self.fc & 0x2000)

    @property
    def protected(self) -> bool:
        return bool(self.fc & 0x4000)

    @property
    def order(self) -> bool:
        return bool(self.fc & 0x8000)

    # -- QoS / sequence views
    @property
    def is_qos(self) -> bool:
        return self.qos_ctrl is not None

    @property
    def tid(self) -> int:
        """Traffic identifier (QoS Control b0-3); 0 for non-QoS frames."""
        return 0 if self.qos_ctrl is None else self.qos_ctrl & 0xF

    @property
    def amsdu(self) -> bool:
        """A-MSDU Present (QoS Control b7)."""
        return self.qos_ctrl is not None and bool(self.qos_ctrl & 0x80)

    @property
    def seq(self) -> int | None:
        """Sequence number (Sequence Control b4-15); None for frames without Sequence Control."""
        return None if self.seq_ctrl is None else self.seq_ctrl >> 4

    @property
    def frag(self) -> int | None:
        return None if self.seq_ctrl is None else self.seq_ctrl & 0xF

    @property
    def length(self) -> int:
        """Header length in octets."""
        n = 10
        if self.addr2 is not None:
            n += 6
        if self.addr3 is not None:
            n += 8  # Address 3 and Sequence Control always come together
        if self.addr4 is not None:
            n += 6
        if self.qos_ctrl is not None:
            n += 2
        if self.carried_fc is not None:
            n += 2
        if self.ht_control is not None:
            n += 4
        return n

    # -- address roles (9.3.2.1, Table 9-30 "Address field contents")
    @property
    def ra(self) -> bytes:
        return self.addr1

    @property
    def ta(self) -> bytes | None:
        if (self.fc & 0xC) == 0xC:  # extension frames: the single address is the transmitter
            return self.addr1
        return self.addr2

    @property
    def da(self) -> bytes | None:
        ftype = (self.fc >> 2) & 3
        if ftype == 0:
            return self.addr1
        if ftype != 2:
            return None
        ds = (self.fc >> 8) & 3
        if ds == 0:
            return self.addr1
        if self.amsdu:
            return None  # DA is in each A-MSDU subframe header
        return self.addr1 if ds == 2 else self.addr3

    @property
    def sa(self) -> bytes | None:
        ftype = (self.fc >> 2) & 3
        if ftype == 0:
            return self.addr2
        if ftype == 3:
            return self.addr1 if (self.fc >> 4) & 0xF == ExtSubtype.S1G_BEACON else None
        if ftype != 2:
            return None
        ds = (self.fc >> 8) & 3
        if ds == 0:
            return self.addr2
        if self.amsdu:
            return None
        if ds == 1:
            return self.addr2
        if ds == 2:
            return self.addr3
        return self.addr4

    @property
    def bssid(self) -> bytes | None:
        """BSSID per the DS bits; None for 4-address (WDS/mesh) MSDUs and most control frames."""
        ftype = (self.fc >> 2) & 3
        if ftype == 0:
            return self.addr3
        if ftype == 1:
            sub = (self.fc >> 4) & 0xF
            if sub == CtrlSubtype.PS_POLL:
                return self.addr1
            if sub == CtrlSubtype.CF_END or sub == CtrlSubtype.CF_END_ACK:
                return self.addr2
            return None
        if ftype == 3:
            return self.addr1 if (self.fc >> 4) & 0xF == ExtSubtype.DMG_BEACON else None
        ds = (self.fc >> 8) & 3
        if ds == 0:
            return self.addr3
        if self.amsdu:
            return self.addr3  # A-MSDU case: Address 3 holds the BSSID
        if ds == 1:
            return self.addr1
        if ds == 2:
            return self.addr2
        return None

    def encode(self) -> bytes:
        expected = _HDR_LEN[self.fc] if 0 <= self.fc <= 0xFFFF else 0
        if expected == 0:
            raise EncodeError(f"802.11 header: frame control 0x{self.fc:04x} has no known layout")
        if self.length != expected or not _fields_match(self):
            raise EncodeError(f"802.11 header: fields present do not match frame control 0x{self.fc:04x}")
        try:
            out = bytearray(_U16.pack(self.fc))
            out += _U16.pack(self.duration)
            _addr(out, self.addr1)
            if self.carried_fc is not None:
                out += _U16.pack(self.carried_fc)
                out += _U32.pack(self.ht_control)
                return bytes(out)
            if self.addr2 is not None:
                _addr(out, self.addr2)
            if self.addr3 is not None:
                _addr(out, self.addr3)
                out += _U16.pack(self.seq_ctrl)
            if self.addr4 is not None:
                _addr(out, self.addr4)
            if self.qos_ctrl is not None:
                out += _U16.pack(self.qos_ctrl)
            if self.ht_control is not None:
                out += _U32.pack(self.ht_control)
        except struct.error as exc:
            raise EncodeError(f"802.11 header: {exc}") from None
        return bytes(out)


def _addr(out: bytearray, a: bytes) -> None:
    if len(a) != 6:
        raise EncodeError("802.11 header: addresses must be 6 octets")
    out += a


def _fields_match(h: MacHeader) -> bool:
    """Presence of each optional field agrees with the layout the Frame Control implies."""
    fc = h.fc
    ftype = (fc >> 2) & 3
    if (h.addr3 is None) != (h.seq_ctrl is None):
        return False
    if ftype == 1:
        if (fc >> 4) & 0xF == CtrlSubtype.CONTROL_WRAPPER:
            return (
                h.addr2 is None and h.addr3 is None and h.carried_fc is not None and h.ht_control is not None
            )
        return h.addr3 is None and h.carried_fc is None and h.ht_control is None
    if ftype == 3:
        return h.addr2 is None and h.addr3 is None and h.carried_fc is None and h.ht_control is None
    if h.addr2 is None or h.addr3 is None or h.carried_fc is not None:
        return False
    if ftype == 0:
        return h.addr4 is None and h.qos_ctrl is None and (h.ht_control is not None) == bool(fc & 0x8000)
    qos = bool(fc & 0x80)
    return (
        (h.addr4 is not None) == ((fc >> 8) & 3 == 3)
        and (h.qos_ctrl is not None) == qos
        and (h.ht_control is not None) == (qos and bool(fc & 0x8000))
    )


# A frozen dataclass's __init__ pays one object.__setattr__ per field; the decoder (hot path) fills
# the slots directly through their descriptors instead, which builds the same value in half the time.
_SLOT_SETTERS = tuple(MacHeader.__dict__[name].__set__ for name in MacHeader.__slots__)
_new = object.__new__
_HEAD24 = struct.Struct("<HH6s6s6sH")


def _header(fc, dur, a1, a2=None, a3=None, sc=None, a4=None, qos=None, htc=None, cfc=None) -> MacHeader:
    h = _new(MacHeader)
    s_fc, s_dur, s_a1, s_a2, s_a3, s_sc, s_a4, s_qos, s_htc, s_cfc = _SLOT_SETTERS
    s_fc(h, fc)
    s_dur(h, dur)
    s_a1(h, a1)
    s_a2(h, a2)
    s_a3(h, a3)
    s_sc(h, sc)
    s_a4(h, a4)
    s_qos(h, qos)
    s_htc(h, htc)
    s_cfc(h, cfc)
    return h


def _decode_header(buf: bytes, fc: int, hl: int) -> MacHeader:
    ftype = (fc >> 2) & 3
    if ftype == 0 or ftype == 2:
        _, dur, a1, a2, a3, sc = _HEAD24.unpack_from(buf)
        if hl == 24:
            return _header(fc, dur, a1, a2, a3, sc)
        a4 = qos = htc = None
        pos = 24
        if ftype == 2:
            if fc & 0x0300 == 0x0300:
                a4 = buf[24:30]
                pos = 30
            if fc & 0x80:
                qos = buf[pos] | (buf[pos + 1] << 8)
                pos += 2
        if pos < hl:
            htc = _U32.unpack_from(buf, pos)[0]
        return _header(fc, dur, a1, a2, a3, sc, a4, qos, htc)
    dur = buf[2] | (buf[3] << 8)
    if ftype == 1:
        if hl == 10:
            return _header(fc, dur, buf[4:10])
        if (fc >> 4) & 0xF == CtrlSubtype.CONTROL_WRAPPER:
            cfc = buf[10] | (buf[11] << 8)
            return _header(fc, dur, buf[4:10], htc=_U32.unpack_from(buf, 12)[0], cfc=cfc)
        return _header(fc, dur, buf[4:10], buf[10:16])
    return _header(fc, dur, buf[4:10])


def decode_header(buf: bytes | bytearray | memoryview) -> MacHeader:
    """Decode the MAC header at the start of ``buf`` (DecodeError if short or of unknown layout)."""
    hl = header_length(buf)
    head = buf[:hl]
    if not isinstance(head, bytes):
        head = bytes(head)
    return _decode_header(head, head[0] | (head[1] << 8), hl)


@dataclass(frozen=True, slots=True)
class Dot11Frame:
    """An MPDU without FCS: header and the frame body (still encrypted if Protected)."""

    header: MacHeader
    body: bytes

    def encode(self) -> bytes:
        return self.header.encode() + self.body


_SET_FRAME_HEADER = Dot11Frame.__dict__["header"].__set__
_SET_FRAME_BODY = Dot11Frame.__dict__["body"].__set__


def decode_dot11(buf: bytes | bytearray | memoryview) -> Dot11Frame:
    """Split an MPDU (without FCS) into its decoded header and raw body."""
    if not isinstance(buf, bytes):
        buf = bytes(buf)
    try:
        fc = buf[0] | (buf[1] << 8)
    except IndexError:
        raise DecodeError("802.11 header", "shorter than Frame Control", len(buf)) from None
    hl = _HDR_LEN[fc]
    if hl == 0 or len(buf) < hl:
        header_length(buf)  # raises the precise DecodeError
    frame = _new(Dot11Frame)
    _SET_FRAME_HEADER(frame, _decode_header(buf, fc, hl))
    _SET_FRAME_BODY(frame, buf[hl:])
    return frame


def encode_dot11(frame: Dot11Frame) -> bytes:
    return frame.header.encode() + frame.body


# --------------------------------------------------------------------------- codes


class ReasonCode(IntEnum):
    """Reason codes (9.4.1.7, Table 9-49), the ones relevant to handshakes."""

    UNSPECIFIED = 1
    PREV_AUTH_NOT_VALID = 2
    DEAUTH_LEAVING = 3
    DISASSOC_INACTIVITY = 4
    DISASSOC_AP_BUSY = 5
    CLASS2_FRAME_FROM_NONAUTH_STA = 6
    CLASS3_FRAME_FROM_NONASSOC_STA = 7
    DISASSOC_STA_HAS_LEFT = 8
    STA_REQ_ASSOC_WITHOUT_AUTH = 9
    INVALID_IE = 13
    MICHAEL_MIC_FAILURE = 14
    FOURWAY_HANDSHAKE_TIMEOUT = 15
    GROUP_KEY_UPDATE_TIMEOUT = 16
    IE_IN_4WAY_DIFFERS = 17
    GROUP_CIPHER_NOT_VALID = 18
    PAIRWISE_CIPHER_NOT_VALID = 19
    AKMP_NOT_VALID = 20
    UNSUPPORTED_RSN_IE_VERSION = 21
    INVALID_RSN_IE_CAPAB = 22
    IEEE_802_1X_AUTH_FAILED = 23
    CIPHER_SUITE_REJECTED = 24


class StatusCode(IntEnum):
    """Status codes (9.4.1.9, Table 9-50), a subset."""

    SUCCESS = 0
    UNSPECIFIED_FAILURE = 1
    CAPS_UNSUPPORTED = 10
    REASSOC_NO_ASSOC = 11
    ASSOC_DENIED_UNSPEC = 12
    NOT_SUPPORTED_AUTH_ALG = 13
    UNKNOWN_AUTH_TRANSACTION = 14
    CHALLENGE_FAIL = 15
    AUTH_TIMEOUT = 16
    AP_UNABLE_TO_HANDLE_NEW_STA = 17
    ASSOC_REJECTED_TEMPORARILY = 30
    ROBUST_MGMT_FRAME_POLICY_VIOLATION = 31
    INVALID_IE = 40
    GROUP_CIPHER_NOT_VALID = 41
    PAIRWISE_CIPHER_NOT_VALID = 42
    AKMP_NOT_VALID = 43
    UNSUPPORTED_RSN_IE_VERSION = 44
    INVALID_RSN_IE_CAPAB = 45
    CIPHER_REJECTED_PER_POLICY = 46
    INVALID_PMKID = 53
    INVALID_MDIE = 54
    INVALID_FTIE = 55
    ANTI_CLOGGING_TOKEN_REQ = 76
    FINITE_CYCLIC_GROUP_NOT_SUPPORTED = 77


class AuthAlgorithm(IntEnum):
    """Authentication Algorithm Number (9.4.1.1)."""

    OPEN = 0
    SHARED_KEY = 1
    FT = 2
    SAE = 3
    FILS_SK = 4
    FILS_SK_PFS = 5
    FILS_PK = 6
    PASN = 7
    VENDOR = 0xFFFF


class ActionCategory(IntEnum):
    """Action frame categories (9.4.1.11, Table 9-51)."""

    SPECTRUM_MGMT = 0
    QOS = 1
    DLS = 2
    BLOCK_ACK = 3
    PUBLIC = 4
    RADIO_MEASUREMENT = 5
    FAST_BSS_TRANSITION = 6
    HT = 7
    SA_QUERY = 8
    PROTECTED_DUAL_OF_PUBLIC = 9
    WNM = 10
    UNPROTECTED_WNM = 11
    TDLS = 12
    MESH = 13
    MULTIHOP = 14
    SELF_PROTECTED = 15
    DMG = 16
    WMM = 17
    FST = 18
    ROBUST_AV_STREAMING = 19
    UNPROTECTED_DMG = 20
    VHT = 21
    VENDOR_PROTECTED = 126
    VENDOR = 127


# Action codes the analysers name: Spectrum management / Public CSA, WNM-Sleep Mode (CVE-2017-13087).
SPECTRUM_CSA_ACTION = 4
PUBLIC_ECSA_ACTION = 4
WNM_SLEEP_MODE_REQ = 16
WNM_SLEEP_MODE_RESP = 17


# --------------------------------------------------------------------------- management bodies


def _need_len(body: bytes, n: int, what: str) -> None:
    if len(body) < n:
        raise DecodeError(what, f"{len(body)} octets, fixed fields need {n}", len(body))


def _u16(b: bytes, pos: int) -> int:
    return b[pos] | (b[pos + 1] << 8)


def _p16(v: int, what: str) -> bytes:
    if not 0 <= v <= 0xFFFF:
        raise EncodeError(f"{what}: 16-bit field out of range ({v})")
    return v.to_bytes(2, "little")


@dataclass(frozen=True, slots=True)
class BeaconBody:
    """Beacon / Probe Response body (9.3.3.2, 9.3.3.10): Timestamp, Beacon Interval (TU),
    Capability Information, elements."""

    timestamp: int
    beacon_interval: int
    capability: int
    elements: tuple[Element, ...] = ()

    @property
    def network(self) -> NetworkInfo:
        return network_info(self.elements, self.capability)

    def encode(self) -> bytes:
        if not 0 <= self.timestamp < 1 << 64:
            raise EncodeError("beacon: timestamp out of range")
        return (
            self.timestamp.to_bytes(8, "little")
            + _p16(self.beacon_interval, "beacon interval")
            + _p16(self.capability, "capability")
            + encode_elements(self.elements)
        )


@dataclass(frozen=True, slots=True)
class TimingAdvBody:
    """Timing Advertisement body (9.3.3.15): Timestamp, Capability Information, elements."""

    timestamp: int
    capability: int
    elements: tuple[Element, ...] = ()

    def encode(self) -> bytes:
        if not 0 <= self.timestamp < 1 << 64:
            raise EncodeError("timing advertisement: timestamp out of range")
        return (
            self.timestamp.to_bytes(8, "little")
            + _p16(self.capability, "capability")
            + encode_elements(self.elements)
        )


@dataclass(frozen=True, slots=True)
class ProbeReqBody:
    elements: tuple[Element, ...] = ()

    @property
    def network(self) -> NetworkInfo:
        return network_info(self.elements)

    def encode(self) -> bytes:
        return encode_elements(self.elements)


@dataclass(frozen=True, slots=True)
class AssocReqBody:
    """(Re)Association Request body: Capability, Listen Interval, Current AP address (only in
    Reassociation Request), elements (the STA's RSNE; for FT also MDE and FTE)."""

    capability: int
    listen_interval: int
    current_ap: bytes | None
    elements: tuple[Element, ...] = ()

    @property
    def network(self) -> NetworkInfo:
        return network_info(self.elements, self.capability)

    def encode(self) -> bytes:
        out = _p16(self.capability, "capability") + _p16(self.listen_interval, "listen interval")
        if self.current_ap is not None:
            if len(self.current_ap) != 6:
                raise EncodeError("reassociation request: current AP address must be 6 octets")
            out += self.current_ap
        return out + encode_elements(self.elements)


@dataclass(frozen=True, slots=True)
class AssocRespBody:
    """(Re)Association Response body: Capability, Status Code, AID field (b14-15 set, 9.4.1.8)."""

    capability: int
    status: int
    aid_field: int
    elements: tuple[Element, ...] = ()

    @property
    def aid(self) -> int:
        return self.aid_field & 0x3FFF

    def encode(self) -> bytes:
        return (
            _p16(self.capability, "capability")
            + _p16(self.status, "status")
            + _p16(self.aid_field, "AID")
            + encode_elements(self.elements)
        )


# Algorithms whose Authentication frames carry only elements after the status code; SAE and the
# FILS public-key variants carry algorithm-specific fields first (9.3.3.11, Table 9-36).
_AUTH_WITH_ELEMENTS = frozenset(
    (
        AuthAlgorithm.OPEN,
        AuthAlgorithm.SHARED_KEY,
        AuthAlgorithm.FT,
        AuthAlgorithm.FILS_SK,
        AuthAlgorithm.PASN,
    )
)


@dataclass(frozen=True, slots=True)
class AuthBody:
    """Authentication body: algorithm, transaction sequence, status, then elements (open, shared
    key challenge text, FT's RSNE/MDE/FTE, FILS-SK, PASN) or, for the others (SAE ...), the
    algorithm-specific fields kept raw in ``extra``."""

    algorithm: int
    seq: int
    status: int
    elements: tuple[Element, ...] = ()
    extra: bytes = b""

    def encode(self) -> bytes:
        if self.elements and self.extra:
            raise EncodeError("authentication: either elements or raw extra fields, not both")
        return (
            _p16(self.algorithm, "algorithm")
            + _p16(self.seq, "transaction sequence")
            + _p16(self.status, "status")
            + (encode_elements(self.elements) if self.elements else self.extra)
        )


@dataclass(frozen=True, slots=True)
class ReasonBody:
    """Deauthentication / Disassociation body: Reason Code, then optional elements (vendor
    specific, MME for group-addressed frames under BIP)."""

    reason: int
    elements: tuple[Element, ...] = ()

    def encode(self) -> bytes:
        return _p16(self.reason, "reason") + encode_elements(self.elements)


_VENDOR_CATEGORIES = (ActionCategory.VENDOR, ActionCategory.VENDOR_PROTECTED)


@dataclass(frozen=True, slots=True)
class ActionBody:
    """Action / Action No Ack body: Category, Action code (None for the vendor-specific
    categories, where the OUI follows the category) and the raw rest."""

    category: int
    action: int | None
    rest: bytes = b""

    @property
    def elements(self) -> tuple[Element, ...] | None:
        """Elements of the channel-switch action frames (None for other actions)."""
        if self.category == ActionCategory.SPECTRUM_MGMT and self.action == SPECTRUM_CSA_ACTION:
            return decode_elements(self.rest)
        if self.category == ActionCategory.PUBLIC and self.action == PUBLIC_ECSA_ACTION:
            if len(self.rest) < 4:
                raise DecodeError("ECSA action", "shorter than its 4 fixed fields", 2 + len(self.rest))
            return decode_elements(self.rest, 4)
        return None

    @property
    def csa(self) -> CSA | ECSA | None:
        """The announced channel switch of a CSA (spectrum management) or ECSA (public) action."""
        if self.category == ActionCategory.SPECTRUM_MGMT and self.action == SPECTRUM_CSA_ACTION:
            for e in self.elements or ():
                if e.id == CSA.ELEMENT_ID:
                    return CSA.decode(e.data)
            return None
        if self.category == ActionCategory.PUBLIC and self.action == PUBLIC_ECSA_ACTION:
            if len(self.rest) < 4:
                raise DecodeError("ECSA action", "shorter than its 4 fixed fields", 2 + len(self.rest))
            return ECSA.decode(self.rest[:4])
        return None

    def encode(self) -> bytes:
        if not 0 <= self.category <= 255:
            raise EncodeError("action: category out of range")
        if self.action is None:
            return bytes((self.category,)) + self.rest
        if not 0 <= self.action <= 255:
            raise EncodeError("action: action code out of range")
        return bytes((self.category, self.action)) + self.rest


@dataclass(frozen=True, slots=True)
class AtimBody:
    """ATIM frames have an empty body (9.3.3.9)."""

    def encode(self) -> bytes:
        return b""


MgmtBody = (
    BeaconBody
    | TimingAdvBody
    | ProbeReqBody
    | AssocReqBody
    | AssocRespBody
    | AuthBody
    | ReasonBody
    | ActionBody
    | AtimBody
)


def _beacon(body: bytes) -> BeaconBody:
    _need_len(body, 12, "beacon/probe response")
    return BeaconBody(
        int.from_bytes(body[:8], "little"), _u16(body, 8), _u16(body, 10), decode_elements(body, 12)
    )


def _timing_adv(body: bytes) -> TimingAdvBody:
    _need_len(body, 10, "timing advertisement")
    return TimingAdvBody(int.from_bytes(body[:8], "little"), _u16(body, 8), decode_elements(body, 10))


def _probe_req(body: bytes) -> ProbeReqBody:
    return ProbeReqBody(decode_elements(body))


def _assoc_req(body: bytes) -> AssocReqBody:
    _need_len(body, 4, "association request")
    return AssocReqBody(_u16(body, 0), _u16(body, 2), None, decode_elements(body, 4))


def _reassoc_req(body: bytes) -> AssocReqBody:
    _need_len(body, 10, "reassociation request")
    return AssocReqBody(_u16(body, 0), _u16(body, 2), body[4:10], decode_elements(body, 10))


def _assoc_resp(body: bytes) -> AssocRespBody:
    _need_len(body, 6, "(re)association response")
    return AssocRespBody(_u16(body, 0), _u16(body, 2), _u16(body, 4), decode_elements(body, 6))


def _auth(body: bytes) -> AuthBody:
    _need_len(body, 6, "authentication")
    alg = _u16(body, 0)
    if alg in _AUTH_WITH_ELEMENTS:
        return AuthBody(alg, _u16(body, 2), _u16(body, 4), decode_elements(body, 6))
    return AuthBody(alg, _u16(body, 2), _u16(body, 4), (), body[6:])


def _reason(body: bytes) -> ReasonBody:
    _need_len(body, 2, "deauthentication/disassociation")
    return ReasonBody(_u16(body, 0), decode_elements(body, 2))


def _action(body: bytes) -> ActionBody:
    _need_len(body, 1, "action")
    if body[0] in _VENDOR_CATEGORIES:
        return ActionBody(body[0], None, body[1:])
    _need_len(body, 2, "action")
    return ActionBody(body[0], body[1], body[2:])


def _atim(body: bytes) -> AtimBody:
    if body:
        raise DecodeError("ATIM", f"body of {len(body)} octets, expected none", 0)
    return AtimBody()


_MGMT_DECODERS = {
    MgmtSubtype.ASSOC_REQ: _assoc_req,
    MgmtSubtype.ASSOC_RESP: _assoc_resp,
    MgmtSubtype.REASSOC_REQ: _reassoc_req,
    MgmtSubtype.REASSOC_RESP: _assoc_resp,
    MgmtSubtype.PROBE_REQ: _probe_req,
    MgmtSubtype.PROBE_RESP: _beacon,
    MgmtSubtype.TIMING_ADV: _timing_adv,
    MgmtSubtype.BEACON: _beacon,
    MgmtSubtype.ATIM: _atim,
    MgmtSubtype.DISASSOC: _reason,
    MgmtSubtype.AUTH: _auth,
    MgmtSubtype.DEAUTH: _reason,
    MgmtSubtype.ACTION: _action,
    MgmtSubtype.ACTION_NOACK: _action,
}


def decode_mgmt_body(subtype: int, body: bytes | bytearray | memoryview) -> MgmtBody:
    """Decode the (unprotected) body of a management frame of the given subtype.

    DecodeError (offset relative to the body) for reserved subtypes, short fixed fields and
    elements running past the end. Bodies of Protected frames are ciphertext: decrypt first.
    """
    decoder = _MGMT_DECODERS.get(subtype)
    if decoder is None:
        raise DecodeError("management body", f"reserved management subtype {subtype}", 0)
    return decoder(bytes(body))
