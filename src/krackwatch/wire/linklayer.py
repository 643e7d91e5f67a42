"""Link-layer headers in front of captured 802.11 frames, and where the FCS is.

``split_link`` finds the 802.11 frame inside a captured record of any supported link type:
radiotap (127), Prism (119, or AVS inside 119), AVS (163), PPI (192) and bare 802.11 (105). It
reports the header length, the FCS status, the channel frequency and the signal, reading only what
it needs (this runs for every frame of multi-GB captures).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

from krackwatch.errors import InputError
from krackwatch.wire.errors import DecodeError
from krackwatch.wire.radiotap import radiotap_summary

__all__ = [
    "FCS_MODES",
    "FcsStatus",
    "LinkInfo",
    "LinkType",
    "UnsupportedLinkType",
    "channel_to_freq",
    "dot11_payload",
    "split_link",
]


class LinkType(IntEnum):
    """pcap/pcapng LINKTYPE_ values this toolkit knows (tcpdump.org link-layer header types)."""

    ETHERNET = 1
    IEEE802_11 = 105
    IEEE802_11_PRISM = 119
    IEEE802_11_RADIOTAP = 127
    IEEE802_11_AVS = 163
    PPI = 192


class UnsupportedLinkType(InputError):
    """The capture's link type does not carry 802.11 frames (or not in a way we decode)."""


class FcsStatus(IntEnum):
    """Whether the record ends with the 802.11 FCS and whether it matched."""

    ABSENT = 0
    VALID = 1
    BAD = 2
    UNCHECKED = 3  # present by the capture header's word, CRC not computed (fcs_mode="flag")


FCS_MODES = ("auto", "yes", "no", "flag")


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """Where the 802.11 frame sits in a record: ``data[header_len : len(data) - (4 if FCS)]``.

    ``data_pad`` is the radiotap Flags "data pad" bit: the 802.11 header is padded to a multiple of
    four octets before the body."""

    header_len: int
    fcs: FcsStatus
    freq: int | None
    signal_dbm: int | None
    data_pad: bool = False


_U32_LE = struct.Struct("<I")
_U32_BE = struct.Struct(">I")
_PPI_HEADER = struct.Struct("<BBHI")
_PPI_FIELD = struct.Struct("<HH")
# 802.11-Common field: TSF u64, flags u16, rate u16, frequency u16, channel flags u16,
# FHSS hop set u8, hop pattern u8, dBm antenna signal s8, dBm antenna noise s8.
_PPI_COMMON = struct.Struct("<QHHHHBBbb")
_AVS_FIELDS = struct.Struct(">IIQQIIIIIIii")  # version .. ssi_noise (first 56 octets)
_PRISM_ITEM_LE = struct.Struct("<IHHI")
_PRISM_ITEM_BE = struct.Struct(">IHHI")

PRISM_HEADER_LEN = 144
_PRISM_MSGCODES = (0x00000044, 0x00000041)
_AVS_MAGICS = (0x80211001, 0x80211002)
_PRISM_CHANNEL_DIDS = (0x00030044, 0x00003041)  # wlan-ng and the "home.martin.cc" numbering
_PRISM_RSSI_DIDS = (0x00040044, 0x00004041)
_AVS_SSI_DBM = 2

_RT_FCS = 0x10
_RT_DATA_PAD = 0x20
_RT_BAD_FCS = 0x40
_PPI_FLAG_ALIGN = 0x01
_PPI_COMMON_TYPE = 2
_PPI_FCS_PRESENT = 0x0001
_PPI_FCS_BAD = 0x0004


def channel_to_freq(channel: int) -> int | None:
    """Centre frequency (MHz) of a 2.4 GHz or 5 GHz channel number, as Prism/AVS headers give them."""
    if channel == 14:
        return 2484
    if 1 <= channel <= 13:
        return 2407 + 5 * channel
    if 15 <= channel <= 196:
        return 5000 + 5 * channel
    return None


# Each header parser returns (header_len, fcs_flag, bad_flag, freq, signal, data_pad), where
# fcs_flag is True/False when the header says whether an FCS is present and None when it does not say.
_Parsed = tuple[int, bool | None, bool, int | None, int | None, bool]


def _radiotap(data: bytes, off: int) -> _Parsed:
    buf = memoryview(data)[off:] if off else data
    length, flags, freq, signal = radiotap_summary(buf)
    if flags is None:
        return off + length, None, False, freq, signal, False
    return (
        off + length,
        bool(flags & _RT_FCS),
        bool(flags & _RT_BAD_FCS),
        freq,
        signal,
        bool(flags & _RT_DATA_PAD),
    )


def _avs(data: bytes, off: int) -> _Parsed:
    avail = len(data) - off
    if avail < 8:
        raise DecodeError("AVS", f"{avail} octets cannot hold an AVS header", off)
    hlen = _U32_BE.unpack_from(data, off + 4)[0]
    if hlen < 8 or hlen > avail:
        raise DecodeError("AVS", f"header length {hlen} outside 8..{avail}", off + 4)
    freq = signal = None
    if hlen >= _AVS_FIELDS.size:
        fields = _AVS_FIELDS.unpack_from(data, off)
        freq = channel_to_freq(fields[5])
        if fields[9] == _AVS_SSI_DBM:
            signal = fields[10]
    return off + hlen, None, False, freq, signal, False


def _prism(data: bytes, off: int) -> _Parsed:
    avail = len(data) - off
    if avail >= 4 and _U32_BE.unpack_from(data, off)[0] in _AVS_MAGICS:
        return _avs(data, off)
    if avail < PRISM_HEADER_LEN:
        raise DecodeError(
            "Prism", f"record of {avail} octets is shorter than the 144-octet Prism header", off
        )
    # The header is in the capturing host's byte order; the message code tells which.
    if _U32_LE.unpack_from(data, off)[0] in _PRISM_MSGCODES:
        item = _PRISM_ITEM_LE
    elif _U32_BE.unpack_from(data, off)[0] in _PRISM_MSGCODES:
        item = _PRISM_ITEM_BE
    else:
        code = _U32_LE.unpack_from(data, off)[0]
        raise DecodeError("Prism", f"unknown message code 0x{code:08x} (neither Prism nor AVS)", off)
    freq = signal = None
    # msgcode u32, msglen u32, devname[16], then ten items: did u32, status u16, len u16, data u32.
    # Status 0 means the item holds data; Wireshark takes the RSSI item as the dBm signal.
    for pos in range(off + 24, off + PRISM_HEADER_LEN, 12):
        did, status, _length, value = item.unpack_from(data, pos)
        if status:
            continue
        if did in _PRISM_CHANNEL_DIDS:
            freq = channel_to_freq(value)
        elif did in _PRISM_RSSI_DIDS:
            signal = value - (1 << 32) if value >= 1 << 31 else value
    return off + PRISM_HEADER_LEN, None, False, freq, signal, False


def _ppi(data: bytes, off: int, depth: int) -> _Parsed:
    avail = len(data) - off
    if avail < 8:
        raise DecodeError("PPI", f"{avail} octets cannot hold a PPI header", off)
    version, flags, hlen, dlt = _PPI_HEADER.unpack_from(data, off)
    if version != 0:
        raise DecodeError("PPI", f"unsupported version {version}", off)
    if hlen < 8 or hlen > avail:
        raise DecodeError("PPI", f"header length {hlen} outside 8..{avail}", off + 2)
    fcs_flag: bool | None = None
    bad = False
    freq = signal = None
    pos = off + 8
    end = off + hlen
    while pos < end:
        if pos + 4 > end:
            raise DecodeError("PPI", "field header runs past the PPI header", pos)
        ftype, flen = _PPI_FIELD.unpack_from(data, pos)
        if pos + 4 + flen > end:
            raise DecodeError("PPI", f"field {ftype} ({flen} octets) runs past the PPI header", pos)
        if ftype == _PPI_COMMON_TYPE:
            if flen != _PPI_COMMON.size:
                raise DecodeError("PPI", f"802.11-Common field has length {flen}, not 20", pos)
            _tsf, cflags, _rate, cfreq, _chflags, _hs, _hp, csignal, _noise = _PPI_COMMON.unpack_from(
                data, pos + 4
            )
            fcs_flag = bool(cflags & _PPI_FCS_PRESENT)
            bad = bool(cflags & _PPI_FCS_BAD)
            freq = cfreq or None
            signal = None if csignal == -128 else csignal  # 0x80 marks "no value"
        pos += 4 + flen
        if flags & _PPI_FLAG_ALIGN:
            pos += -(pos - off) % 4
    if dlt == LinkType.IEEE802_11:
        return end, fcs_flag, bad, freq, signal, False
    if depth or dlt not in (LinkType.IEEE802_11_RADIOTAP, LinkType.IEEE802_11_PRISM, LinkType.IEEE802_11_AVS):
        raise UnsupportedLinkType(f"PPI encapsulates link type {dlt}, not 802.11")
    inner = _header(dlt, data, end, depth + 1)
    return (
        inner[0],
        inner[1] if inner[1] is not None else fcs_flag,
        inner[2] or bad,
        inner[3] if inner[3] is not None else freq,
        inner[4] if inner[4] is not None else signal,
        inner[5],
    )


def _header(linktype: int, data: bytes, off: int = 0, depth: int = 0) -> _Parsed:
    if linktype == LinkType.IEEE802_11_RADIOTAP:  # (split_link handles radiotap and bare 802.11 inline)
        return _radiotap(data, off)
    if linktype == LinkType.IEEE802_11:
        return off, None, False, None, None, False
    if linktype == LinkType.IEEE802_11_PRISM:
        return _prism(data, off)
    if linktype == LinkType.IEEE802_11_AVS:
        return _avs(data, off)
    if linktype == LinkType.PPI:
        return _ppi(data, off, depth)
    if linktype == LinkType.ETHERNET:
        raise UnsupportedLinkType(
            "link type 1 (Ethernet) carries no 802.11 headers; capture in monitor mode (radiotap, link type 127)"
        )
    raise UnsupportedLinkType(f"link type {linktype} is not an 802.11 link type")


_FCS_ABSENT, _FCS_VALID, _FCS_BAD, _FCS_UNCHECKED = (
    FcsStatus.ABSENT,
    FcsStatus.VALID,
    FcsStatus.BAD,
    FcsStatus.UNCHECKED,
)
_RADIOTAP, _DOT11 = int(LinkType.IEEE802_11_RADIOTAP), int(LinkType.IEEE802_11)
# LinkInfo values repeat from frame to frame (same header length, channel, a handful of signal
# levels): sharing the immutable instances spares building a frozen dataclass per frame.
_INFO_CACHE: dict[tuple[int, FcsStatus, int | None, int | None, bool], LinkInfo] = {}
_INFO_CACHE_MAX = 4096


def _crc_ok(data: bytes, start: int, n: int) -> bool:
    # 802.11 FCS: CRC-32 (the IEEE 802.3 polynomial) over the MAC frame, sent least significant octet first.
    return zlib.crc32(memoryview(data)[start : n - 4]) == _U32_LE.unpack_from(data, n - 4)[0]


def _too_short(n: int, hlen: int) -> DecodeError:
    return DecodeError("FCS", f"an FCS is expected but only {n - hlen} octets follow the header", hlen)


def split_link(linktype: int, data: bytes, *, fcs_mode: str = "auto") -> LinkInfo:
    """Locate the 802.11 frame in one captured record.

    ``fcs_mode``: "auto" lets the CRC decide (flagged FCS -> VALID or BAD; unflagged -> VALID only
    if the last four octets are a CRC of the rest, else ABSENT); "yes" treats an FCS as present and
    checks it; "no" never sees one; "flag" believes the capture header only (UNCHECKED, or BAD when
    the header marks it bad). Raises DecodeError for a short/inconsistent header and
    UnsupportedLinkType for link types that do not carry 802.11.
    """
    if linktype == _RADIOTAP:
        hlen, flags, freq, signal = radiotap_summary(data)
        if flags is None:
            fcs_flag, bad, data_pad = None, False, False
        else:
            fcs_flag, bad, data_pad = (
                bool(flags & _RT_FCS),
                bool(flags & _RT_BAD_FCS),
                bool(flags & _RT_DATA_PAD),
            )
    elif linktype == _DOT11:
        hlen, fcs_flag, bad, freq, signal, data_pad = 0, None, False, None, None, False
    else:
        hlen, fcs_flag, bad, freq, signal, data_pad = _header(linktype, data)
    n = len(data)
    if fcs_mode == "auto":
        if fcs_flag:
            if n - hlen < 4:
                raise _too_short(n, hlen)
            fcs = _FCS_VALID if _crc_ok(data, hlen, n) else _FCS_BAD
        elif n - hlen >= 4 and _crc_ok(data, hlen, n):
            fcs = _FCS_VALID
        else:
            fcs = _FCS_ABSENT
    elif fcs_mode == "flag":
        if fcs_flag:
            if n - hlen < 4:
                raise _too_short(n, hlen)
            fcs = _FCS_BAD if bad else _FCS_UNCHECKED
        else:
            fcs = _FCS_ABSENT
    elif fcs_mode == "yes":
        if n - hlen < 4:
            raise _too_short(n, hlen)
        fcs = _FCS_VALID if _crc_ok(data, hlen, n) else _FCS_BAD
    elif fcs_mode == "no":
        fcs = _FCS_ABSENT
    else:
        raise InputError(f"fcs_mode must be one of {', '.join(FCS_MODES)}, not {fcs_mode!r}")
    key = (hlen, fcs, freq, signal, data_pad)
    info = _INFO_CACHE.get(key)
    if info is None:
        if len(_INFO_CACHE) >= _INFO_CACHE_MAX:
            _INFO_CACHE.clear()
        info = _INFO_CACHE[key] = LinkInfo(hlen, fcs, freq, signal, data_pad)
    return info


def dot11_payload(linktype: int, data: bytes, fcs_mode: str = "auto") -> tuple[LinkInfo, memoryview | bytes]:
    """``split_link`` plus the 802.11 frame itself (``data`` unchanged when there is nothing to strip,
    else a memoryview slice, so no copy is made)."""
    info = split_link(linktype, data, fcs_mode=fcs_mode)
    end = len(data) - 4 if info.fcs != _FCS_ABSENT else len(data)
    if info.header_len == 0 and end == len(data):
        return info, data
    return info, memoryview(data)[info.header_len : end]
