"""Radiotap capture headers (link type 127): a byte-exact codec plus lean hot-path helpers.

Layout (radiotap.org): ``it_version`` u8 (0), ``it_pad`` u8, ``it_len`` u16 LE (whole header),
one or more ``it_present`` u32 LE words (bit 31 = another word follows), then the fields of the set
bits in bit order, each aligned to its natural alignment *relative to the start of the header*.
Bits 29 (back to the radiotap namespace) and 30 (vendor namespace) may be set in every presence
word; after either, bit numbering restarts at 0 in the next word. A vendor namespace field
(OUI[3], sub_namespace u8, skip_length u16 LE; alignment 2) is followed by ``skip_length`` octets
that only the vendor can interpret; they are kept raw. An unknown radiotap field (or the TLV list,
bit 28) ends decoding: everything from there to ``it_len`` is kept raw in ``Radiotap.remainder``.

``encode_radiotap(decode_radiotap(b)) == b[:it_len]`` holds for every well-formed header, including
non-zero alignment padding (kept per field) and trailing octets.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, fields
from enum import IntEnum, IntFlag

from krackwatch.wire.errors import DecodeError, EncodeError

__all__ = [
    "AmpduStatus",
    "Channel",
    "ChannelFlags",
    "Fhss",
    "He",
    "HeMu",
    "HeMuOtherUser",
    "Lsig",
    "Mcs",
    "Radiotap",
    "RadiotapBit",
    "RadiotapFlags",
    "RadiotapItem",
    "Timestamp",
    "VendorNamespace",
    "Vht",
    "XChannel",
    "decode_radiotap",
    "encode_radiotap",
    "radiotap_channel",
    "radiotap_flags",
    "radiotap_len",
    "radiotap_summary",
]


class RadiotapBit(IntEnum):
    """Presence bits of the radiotap namespace (radiotap.org "defined fields")."""

    TSFT = 0
    FLAGS = 1
    RATE = 2
    CHANNEL = 3
    FHSS = 4
    DBM_ANTSIGNAL = 5
    DBM_ANTNOISE = 6
    LOCK_QUALITY = 7
    TX_ATTENUATION = 8
    DB_TX_ATTENUATION = 9
    DBM_TX_POWER = 10
    ANTENNA = 11
    DB_ANTSIGNAL = 12
    DB_ANTNOISE = 13
    RX_FLAGS = 14
    TX_FLAGS = 15
    RTS_RETRIES = 16
    DATA_RETRIES = 17
    XCHANNEL = 18
    MCS = 19
    AMPDU_STATUS = 20
    VHT = 21
    TIMESTAMP = 22
    HE = 23
    HE_MU = 24
    HE_MU_OTHER_USER = 25
    ZERO_LENGTH_PSDU = 26
    LSIG = 27
    TLV = 28
    RADIOTAP_NAMESPACE = 29
    VENDOR_NAMESPACE = 30
    EXT = 31


class RadiotapFlags(IntFlag):
    """The Flags field (bit 1)."""

    CFP = 0x01
    SHORT_PREAMBLE = 0x02
    WEP = 0x04
    FRAGMENTATION = 0x08
    FCS_AT_END = 0x10  # the frame ends with its 4-octet FCS
    DATA_PAD = 0x20  # padding between the 802.11 header and the payload (32-bit alignment)
    BAD_FCS = 0x40
    SHORT_GI = 0x80


class ChannelFlags(IntFlag):
    """Flags of the Channel field (bit 3)."""

    TURBO = 0x0010
    CCK = 0x0020
    OFDM = 0x0040
    GHZ_2 = 0x0080
    GHZ_5 = 0x0100
    PASSIVE = 0x0200
    DYNAMIC = 0x0400
    GFSK = 0x0800
    GSM = 0x1000
    STATIC_TURBO = 0x2000
    HALF_RATE = 0x4000
    QUARTER_RATE = 0x8000


@dataclass(frozen=True, slots=True)
class Channel:
    """Channel field: centre frequency in MHz and channel flags."""

    freq: int
    flags: int


@dataclass(frozen=True, slots=True)
class Fhss:
    """FHSS field: hop set and hop pattern."""

    hop_set: int
    hop_pattern: int


@dataclass(frozen=True, slots=True)
class XChannel:
    """XChannel field (bit 18, FreeBSD/OpenBSD): flags, frequency (MHz), channel number, max power."""

    flags: int
    freq: int
    channel: int
    max_power: int


@dataclass(frozen=True, slots=True)
class Mcs:
    """MCS field (802.11n): which subfields are known, their flags, the MCS index."""

    known: int
    flags: int
    mcs: int


@dataclass(frozen=True, slots=True)
class AmpduStatus:
    """A-MPDU status field: reference number shared by the A-MPDU's subframes, flags, delimiter CRC."""

    reference: int
    flags: int
    delimiter_crc: int
    reserved: int


@dataclass(frozen=True, slots=True)
class Vht:
    """VHT field (802.11ac); ``mcs_nss`` holds the four per-user MCS/NSS octets."""

    known: int
    flags: int
    bandwidth: int
    mcs_nss: bytes
    coding: int
    group_id: int
    partial_aid: int


@dataclass(frozen=True, slots=True)
class Timestamp:
    """Timestamp field: value, accuracy, unit/sampling position, flags."""

    timestamp: int
    accuracy: int
    unit_position: int
    flags: int


@dataclass(frozen=True, slots=True)
class He:
    """HE field (802.11ax): the six data words as defined on radiotap.org."""

    data1: int
    data2: int
    data3: int
    data4: int
    data5: int
    data6: int


@dataclass(frozen=True, slots=True)
class HeMu:
    """HE-MU field: SIG-A/SIG-B common flags and the RU allocations of both content channels."""

    flags1: int
    flags2: int
    ru_channel1: bytes
    ru_channel2: bytes


@dataclass(frozen=True, slots=True)
class HeMuOtherUser:
    """HE-MU-other-user field: one HE-SIG-B user field, its position and what is known."""

    per_user_1: int
    per_user_2: int
    per_user_position: int
    per_user_known: int


@dataclass(frozen=True, slots=True)
class Lsig:
    """L-SIG field: two data words (rate, length and which are known)."""

    data1: int
    data2: int


@dataclass(frozen=True, slots=True)
class VendorNamespace:
    """A switch to a vendor namespace: OUI, sub-namespace and the vendor's data (kept raw)."""

    oui: int
    sub_namespace: int
    data: bytes


FieldValue = (
    int
    | Channel
    | Fhss
    | XChannel
    | Mcs
    | AmpduStatus
    | Vht
    | Timestamp
    | He
    | HeMu
    | HeMuOtherUser
    | Lsig
    | VendorNamespace
    | None
)


@dataclass(frozen=True, slots=True)
class RadiotapItem:
    """One present field in header order.

    ``bit`` is the radiotap bit (RADIOTAP_NAMESPACE items carry no value: they mark where a new
    radiotap namespace, e.g. the next antenna, begins). ``pad`` holds the alignment octets before
    the field only when they were not all zero, so that re-encoding is byte-exact.
    """

    bit: int
    value: FieldValue
    pad: bytes = b""


# bit -> (alignment, struct, value type or None for a plain integer)
_SPEC: dict[int, tuple[int, struct.Struct, type | None]] = {
    RadiotapBit.TSFT: (8, struct.Struct("<Q"), None),
    RadiotapBit.FLAGS: (1, struct.Struct("<B"), None),
    RadiotapBit.RATE: (1, struct.Struct("<B"), None),
    RadiotapBit.CHANNEL: (2, struct.Struct("<HH"), Channel),
    RadiotapBit.FHSS: (2, struct.Struct("<BB"), Fhss),
    RadiotapBit.DBM_ANTSIGNAL: (1, struct.Struct("<b"), None),
    RadiotapBit.DBM_ANTNOISE: (1, struct.Struct("<b"), None),
    RadiotapBit.LOCK_QUALITY: (2, struct.Struct("<H"), None),
    RadiotapBit.TX_ATTENUATION: (2, struct.Struct("<H"), None),
    RadiotapBit.DB_TX_ATTENUATION: (2, struct.Struct("<H"), None),
    RadiotapBit.DBM_TX_POWER: (1, struct.Struct("<b"), None),
    RadiotapBit.ANTENNA: (1, struct.Struct("<B"), None),
    RadiotapBit.DB_ANTSIGNAL: (1, struct.Struct("<B"), None),
    RadiotapBit.DB_ANTNOISE: (1, struct.Struct("<B"), None),
    RadiotapBit.RX_FLAGS: (2, struct.Struct("<H"), None),
    RadiotapBit.TX_FLAGS: (2, struct.Struct("<H"), None),
    RadiotapBit.RTS_RETRIES: (1, struct.Struct("<B"), None),
    RadiotapBit.DATA_RETRIES: (1, struct.Struct("<B"), None),
    RadiotapBit.XCHANNEL: (4, struct.Struct("<IHBB"), XChannel),
    RadiotapBit.MCS: (1, struct.Struct("<BBB"), Mcs),
    RadiotapBit.AMPDU_STATUS: (4, struct.Struct("<IHBB"), AmpduStatus),
    RadiotapBit.VHT: (2, struct.Struct("<HBB4sBBH"), Vht),
    RadiotapBit.TIMESTAMP: (8, struct.Struct("<QHBB"), Timestamp),
    RadiotapBit.HE: (2, struct.Struct("<6H"), He),
    RadiotapBit.HE_MU: (2, struct.Struct("<HH4s4s"), HeMu),
    RadiotapBit.HE_MU_OTHER_USER: (2, struct.Struct("<HHBB"), HeMuOtherUser),
    RadiotapBit.ZERO_LENGTH_PSDU: (1, struct.Struct("<B"), None),
    RadiotapBit.LSIG: (2, struct.Struct("<HH"), Lsig),
}
_FIELD_NAMES = {cls: tuple(f.name for f in fields(cls)) for _a, _s, cls in _SPEC.values() if cls is not None}
_BITS = {bit: RadiotapBit(bit) for bit in _SPEC}
_VENDOR = struct.Struct("<3sBH")
_STOP = -1  # layout marker: an unknown radiotap field; the rest of the header is opaque
_HEADER = struct.Struct("<BBH")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class Radiotap:
    """A decoded radiotap header.

    ``items`` lists every present field in header order (fields repeat when the header has several
    radiotap namespaces, e.g. one per antenna); the properties give the first occurrence.
    ``remainder`` is whatever follows the last decoded field up to ``length`` (TLVs, fields this
    codec does not know, trailing padding). ``encode_radiotap`` recomputes ``length``.
    """

    version: int
    pad: int
    length: int
    present: tuple[int, ...]
    items: tuple[RadiotapItem, ...]
    remainder: bytes = b""

    def get(self, bit: int) -> FieldValue:
        """The first value of field ``bit``, or None when absent."""
        for item in self.items:
            if item.bit == bit:
                return item.value
        return None

    def get_all(self, bit: int) -> tuple[FieldValue, ...]:
        """Every value of field ``bit``, in header order."""
        return tuple(item.value for item in self.items if item.bit == bit)

    @property
    def tsft(self) -> int | None:
        return self.get(RadiotapBit.TSFT)  # type: ignore[return-value]

    @property
    def flags(self) -> int | None:
        return self.get(RadiotapBit.FLAGS)  # type: ignore[return-value]

    @property
    def fcs_at_end(self) -> bool:
        return bool((self.flags or 0) & RadiotapFlags.FCS_AT_END)

    @property
    def bad_fcs(self) -> bool:
        return bool((self.flags or 0) & RadiotapFlags.BAD_FCS)

    @property
    def data_pad(self) -> bool:
        return bool((self.flags or 0) & RadiotapFlags.DATA_PAD)

    @property
    def rate(self) -> int | None:
        """Legacy rate in units of 500 kb/s."""
        return self.get(RadiotapBit.RATE)  # type: ignore[return-value]

    @property
    def channel(self) -> Channel | None:
        return self.get(RadiotapBit.CHANNEL)  # type: ignore[return-value]

    @property
    def freq(self) -> int | None:
        """Channel frequency in MHz (Channel field, else XChannel); None when absent or 0."""
        chan = self.channel
        if chan is not None and chan.freq:
            return chan.freq
        xchan = self.xchannel
        if xchan is not None and xchan.freq:
            return xchan.freq
        return None

    @property
    def fhss(self) -> Fhss | None:
        return self.get(RadiotapBit.FHSS)  # type: ignore[return-value]

    @property
    def dbm_antsignal(self) -> int | None:
        return self.get(RadiotapBit.DBM_ANTSIGNAL)  # type: ignore[return-value]

    @property
    def dbm_antnoise(self) -> int | None:
        return self.get(RadiotapBit.DBM_ANTNOISE)  # type: ignore[return-value]

    @property
    def lock_quality(self) -> int | None:
        return self.get(RadiotapBit.LOCK_QUALITY)  # type: ignore[return-value]

    @property
    def tx_attenuation(self) -> int | None:
        return self.get(RadiotapBit.TX_ATTENUATION)  # type: ignore[return-value]

    @property
    def db_tx_attenuation(self) -> int | None:
        return self.get(RadiotapBit.DB_TX_ATTENUATION)  # type: ignore[return-value]

    @property
    def dbm_tx_power(self) -> int | None:
        return self.get(RadiotapBit.DBM_TX_POWER)  # type: ignore[return-value]

    @property
    def antenna(self) -> int | None:
        return self.get(RadiotapBit.ANTENNA)  # type: ignore[return-value]

    @property
    def db_antsignal(self) -> int | None:
        return self.get(RadiotapBit.DB_ANTSIGNAL)  # type: ignore[return-value]

    @property
    def db_antnoise(self) -> int | None:
        return self.get(RadiotapBit.DB_ANTNOISE)  # type: ignore[return-value]

    @property
    def rx_flags(self) -> int | None:
        return self.get(RadiotapBit.RX_FLAGS)  # type: ignore[return-value]

    @property
    def tx_flags(self) -> int | None:
        return self.get(RadiotapBit.TX_FLAGS)  # type: ignore[return-value]

    @property
    def rts_retries(self) -> int | None:
        return self.get(RadiotapBit.RTS_RETRIES)  # type: ignore[return-value]

    @property
    def data_retries(self) -> int | None:
        return self.get(RadiotapBit.DATA_RETRIES)  # type: ignore[return-value]

    @property
    def xchannel(self) -> XChannel | None:
        return self.get(RadiotapBit.XCHANNEL)  # type: ignore[return-value]

    @property
    def mcs(self) -> Mcs | None:
        return self.get(RadiotapBit.MCS)  # type: ignore[return-value]

    @property
    def ampdu_status(self) -> AmpduStatus | None:
        return self.get(RadiotapBit.AMPDU_STATUS)  # type: ignore[return-value]

    @property
    def vht(self) -> Vht | None:
        return self.get(RadiotapBit.VHT)  # type: ignore[return-value]

    @property
    def timestamp(self) -> Timestamp | None:
        return self.get(RadiotapBit.TIMESTAMP)  # type: ignore[return-value]

    @property
    def he(self) -> He | None:
        return self.get(RadiotapBit.HE)  # type: ignore[return-value]

    @property
    def he_mu(self) -> HeMu | None:
        return self.get(RadiotapBit.HE_MU)  # type: ignore[return-value]

    @property
    def he_mu_other_users(self) -> tuple[HeMuOtherUser, ...]:
        return self.get_all(RadiotapBit.HE_MU_OTHER_USER)  # type: ignore[return-value]

    @property
    def zero_length_psdu(self) -> int | None:
        return self.get(RadiotapBit.ZERO_LENGTH_PSDU)  # type: ignore[return-value]

    @property
    def lsig(self) -> Lsig | None:
        return self.get(RadiotapBit.LSIG)  # type: ignore[return-value]

    @property
    def vendor_namespaces(self) -> tuple[VendorNamespace, ...]:
        return self.get_all(RadiotapBit.VENDOR_NAMESPACE)  # type: ignore[return-value]

    def antenna_signals(self) -> tuple[tuple[int | None, int], ...]:
        """(antenna, dBm signal) per radiotap namespace that carries a dBm antenna signal.

        The first namespace usually holds the combined signal (antenna None unless given)."""
        out: list[tuple[int | None, int]] = []
        antenna: int | None = None
        signal: int | None = None
        for item in self.items:
            if item.bit in (RadiotapBit.RADIOTAP_NAMESPACE, RadiotapBit.VENDOR_NAMESPACE):
                if signal is not None:
                    out.append((antenna, signal))
                antenna = signal = None
            elif item.bit == RadiotapBit.ANTENNA:
                antenna = item.value  # type: ignore[assignment]
            elif item.bit == RadiotapBit.DBM_ANTSIGNAL:
                signal = item.value  # type: ignore[assignment]
        if signal is not None:
            out.append((antenna, signal))
        return tuple(out)


def _layout(present: tuple[int, ...]) -> Iterator[int]:
    """Field bits in header order as the presence words announce them; _STOP at an unknown field."""
    radiotap_ns = True
    base = 0
    for word in present:
        if radiotap_ns:
            bits = word & 0x1FFFFFFF
            while bits:
                low = bits & -bits
                bit = base + low.bit_length() - 1
                if bit not in _SPEC:
                    yield _STOP
                    return
                yield _BITS[bit]
                bits ^= low
        # bits 0..28 of a vendor namespace word describe data inside the vendor's skip_length
        switched = False
        if word & 0x20000000:
            yield RadiotapBit.RADIOTAP_NAMESPACE
            radiotap_ns = True
            switched = True
        if word & 0x40000000:
            yield RadiotapBit.VENDOR_NAMESPACE
            radiotap_ns = False
            switched = True
        base = 0 if switched else base + 32


def _present_words(buf: bytes, length: int) -> tuple[int, ...]:
    words = []
    off = 4
    while True:
        if off + 4 > length:
            raise DecodeError("radiotap", "presence bitmap runs past the header length", off)
        word = _U32.unpack_from(buf, off)[0]
        words.append(word)
        off += 4
        if not word & 0x80000000:
            return tuple(words)


def _check_header(buf: bytes) -> int:
    if len(buf) < 8:
        raise DecodeError("radiotap", f"{len(buf)} octets cannot hold a radiotap header (8 at least)", 0)
    version, _pad, length = _HEADER.unpack_from(buf, 0)
    if version != 0:
        raise DecodeError("radiotap", f"unsupported version {version}", 0)
    if length < 8:
        raise DecodeError("radiotap", f"header length {length} is below the 8-octet minimum", 2)
    if length > len(buf):
        raise DecodeError("radiotap", f"header length {length} exceeds the {len(buf)} octets captured", 2)
    return length


def decode_radiotap(buf: bytes | bytearray | memoryview) -> Radiotap:
    """Decode the radiotap header at the start of ``buf`` (the 802.11 frame may follow)."""
    buf = bytes(buf[:65535]) if not isinstance(buf, bytes) else buf
    length = _check_header(buf)
    version, pad, _ = _HEADER.unpack_from(buf, 0)
    present = _present_words(buf, length)
    pos = 4 + 4 * len(present)
    items: list[RadiotapItem] = []
    for bit in _layout(present):
        if bit == _STOP:
            break
        if bit == RadiotapBit.RADIOTAP_NAMESPACE:
            items.append(RadiotapItem(bit, None))
            continue
        if bit == RadiotapBit.VENDOR_NAMESPACE:
            align, size = 2, 6
        else:
            align, spec, _cls = _SPEC[bit]
            size = spec.size
        start = (pos + align - 1) & -align
        if start + size > length:
            name = RadiotapBit(bit).name if bit < 32 else str(bit)
            raise DecodeError("radiotap", f"field {name} runs past the header length {length}", pos)
        padding = buf[pos:start]
        padding = padding if padding.strip(b"\0") else b""
        if bit == RadiotapBit.VENDOR_NAMESPACE:
            oui, sub_ns, skip = _VENDOR.unpack_from(buf, start)
            end = start + 6 + skip
            if end > length:
                raise DecodeError(
                    "radiotap", f"vendor namespace data ({skip} octets) runs past the header", start
                )
            value: FieldValue = VendorNamespace(int.from_bytes(oui, "big"), sub_ns, buf[start + 6 : end])
        else:
            raw = spec.unpack_from(buf, start)
            value = raw[0] if _cls is None else _cls(*raw)
            end = start + size
        items.append(RadiotapItem(bit, value, padding))
        pos = end
    return Radiotap(version, pad, length, present, tuple(items), buf[pos:length])


def _pack(bit: int, value: FieldValue) -> bytes:
    if bit == RadiotapBit.VENDOR_NAMESPACE:
        if not isinstance(value, VendorNamespace):
            raise EncodeError(f"radiotap: vendor namespace item needs a VendorNamespace, not {value!r}")
        if not (0 <= value.oui < 1 << 24 and 0 <= value.sub_namespace < 256 and len(value.data) < 65536):
            raise EncodeError("radiotap: vendor namespace OUI, sub-namespace or data out of range")
        return _VENDOR.pack(value.oui.to_bytes(3, "big"), value.sub_namespace, len(value.data)) + value.data
    _align, spec, cls = _SPEC[bit]
    try:
        if cls is None:
            return spec.pack(value)
        if not isinstance(value, cls):
            raise EncodeError(
                f"radiotap: field {RadiotapBit(bit).name} needs a {cls.__name__}, not {value!r}"
            )
        return spec.pack(*(getattr(value, name) for name in _FIELD_NAMES[cls]))
    except struct.error as exc:
        raise EncodeError(
            f"radiotap: field {RadiotapBit(bit).name} value {value!r} out of range: {exc}"
        ) from exc


def encode_radiotap(rt: Radiotap) -> bytes:
    """Encode ``rt``; items must match the layout its presence words announce (length is recomputed)."""
    if not rt.present:
        raise EncodeError("radiotap: at least one presence word is needed")
    for i, word in enumerate(rt.present):
        if not 0 <= word < 1 << 32:
            raise EncodeError(f"radiotap: presence word {i} out of range")
        if bool(word & 0x80000000) != (i < len(rt.present) - 1):
            raise EncodeError("radiotap: bit 31 must be set in every presence word but the last")
    out = bytearray(4 + 4 * len(rt.present))
    for i, word in enumerate(rt.present):
        _U32.pack_into(out, 4 + 4 * i, word)
    items = iter(rt.items)
    for bit in _layout(rt.present):
        if bit == _STOP:
            break
        item = next(items, None)
        if item is None or item.bit != bit:
            raise EncodeError(f"radiotap: presence words announce field {bit} but the items give {item!r}")
        if bit == RadiotapBit.RADIOTAP_NAMESPACE:
            continue
        align = 2 if bit == RadiotapBit.VENDOR_NAMESPACE else _SPEC[bit][0]
        gap = -len(out) % align
        if item.pad and len(item.pad) != gap:
            raise EncodeError(f"radiotap: {len(item.pad)} padding octets given where alignment needs {gap}")
        out += item.pad or bytes(gap)
        out += _pack(bit, item.value)
    if next(items, None) is not None:
        raise EncodeError("radiotap: more items than the presence words announce")
    out += rt.remainder
    if len(out) > 65535:
        raise EncodeError("radiotap: header longer than 65535 octets")
    if not (0 <= rt.version < 256 and 0 <= rt.pad < 256):
        raise EncodeError("radiotap: version or pad out of range")
    _HEADER.pack_into(out, 0, rt.version, rt.pad, len(out))
    return bytes(out)


# --------------------------------------------------------------------------- hot path
# Offsets (relative to the data start) of Flags, Channel and dBm antenna signal given bits 0..5 of
# the first presence word and the data start modulo 8 (always 0 or 4: presence words are u32),
# indexed by mask << 1 | (start >> 2 & 1); -1 marks an absent field.
def _quick_offsets(mask: int, start: int) -> tuple[int, int, int, int]:
    pos = start
    found = {1: -1, 3: -1, 5: -1}
    for bit in range(6):
        if mask >> bit & 1:
            align, spec, _cls = _SPEC[bit]
            pos = (pos + align - 1) & -align
            if bit in found:
                found[bit] = pos - start
            pos += spec.size
    return found[1], found[3], found[5], pos - start


_QUICK = [_quick_offsets(index >> 1, (index & 1) * 4) for index in range(128)]
_FIXED = struct.Struct("<BBHI")


def radiotap_len(buf: bytes | bytearray | memoryview) -> int:
    """``it_len`` of the radiotap header at the start of ``buf``, checked against ``len(buf)``."""
    return _check_header(buf)  # type: ignore[arg-type]


def radiotap_summary(buf: bytes | bytearray | memoryview) -> tuple[int, int | None, int | None, int | None]:
    """(header length, Flags or None, channel MHz or None, dBm antenna signal or None) without a dataclass.

    Only the first presence word's Flags/Channel/antenna-signal fields are read, which is where
    every driver puts them. A zero channel frequency is reported as None (unknown)."""
    n = len(buf)
    if n < 8:
        raise DecodeError("radiotap", f"{n} octets cannot hold a radiotap header (8 at least)", 0)
    version, _pad, length, word0 = _FIXED.unpack_from(buf, 0)
    if version or length < 8 or length > n:
        if version:
            raise DecodeError("radiotap", f"unsupported version {version}", 0)
        raise DecodeError("radiotap", f"header length {length} outside 8..{n}", 2)
    start = 8
    if word0 & 0x80000000:
        word = word0
        while word & 0x80000000:
            if start + 4 > length:
                raise DecodeError("radiotap", "presence bitmap runs past the header length", start)
            word = _U32.unpack_from(buf, start)[0]
            start += 4
    flags_off, chan_off, sig_off, end = _QUICK[(word0 & 0x3F) << 1 | (start >> 2 & 1)]
    if start + end > length:
        raise DecodeError("radiotap", f"fields run past the header length {length}", start)
    flags = buf[start + flags_off] if flags_off >= 0 else None
    freq = None
    if chan_off >= 0:
        at = start + chan_off
        freq = buf[at] | buf[at + 1] << 8 or None
    signal = None
    if sig_off >= 0:
        signal = buf[start + sig_off]
        if signal > 127:
            signal -= 256
    return length, flags, freq, signal


def radiotap_flags(buf: bytes | bytearray | memoryview) -> int | None:
    """The Flags field of the header at the start of ``buf``, or None when absent."""
    return radiotap_summary(buf)[1]


def radiotap_channel(buf: bytes | bytearray | memoryview) -> int | None:
    """The Channel field's frequency in MHz, or None when absent (or 0)."""
    return radiotap_summary(buf)[2]
