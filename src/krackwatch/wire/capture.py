"""Streaming pcap / pcapng reader and writers.

The reader is the hot loop of every analysis: it slices records out of multi-megabyte chunks with
``struct.unpack_from`` and builds one :class:`Record` per packet, nothing else. It understands
classic pcap (microsecond, nanosecond and Kuznetzov's modified magic, either byte order) and pcapng
(several sections with their own byte order, several interfaces with their own link type,
``if_tsresol`` and ``if_tsoffset``; EPB, SPB and the obsolete PB; other blocks skipped), optionally
gzip-, bzip2- or xz-compressed. Damage stops iteration cleanly: every record before it has been
yielded and ``reader.error`` says where and what.

pcap: draft-ietf-opsawg-pcap; pcapng: draft-ietf-opsawg-pcapng (block and option codes below).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import math
import os
import stat
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO, Protocol, Self

from krackwatch.errors import InputError
from krackwatch.wire.errors import EncodeError
from krackwatch.wire.linklayer import LinkType

__all__ = [
    "MAX_CAPLEN",
    "BulkConsumer",
    "CaptureError",
    "CaptureReader",
    "Interface",
    "LinkType",
    "PcapWriter",
    "PcapngWriter",
    "Record",
    "open_capture",
]

CHUNK = 4 << 20  # bytes read from the file at a time
MAX_CAPLEN = 256 << 10  # a record longer than this is damage (Wireshark's limit for 802.11 too)
MAX_BLOCK = 64 << 20  # largest pcapng block of any kind we are willing to buffer

_PCAP_MAGICS = {
    # magic read little-endian -> (byte order, fraction unit in ns, record header size)
    0xA1B2C3D4: ("<", 1000, 16),
    0xA1B23C4D: ("<", 1, 16),
    0xA1B2CD34: ("<", 1000, 24),  # Kuznetzov's modified pcap: 8 more octets per record header
    0xD4C3B2A1: (">", 1000, 16),
    0x4D3CB2A1: (">", 1, 16),
    0x34CDB2A1: (">", 1000, 24),
}
_SHB = 0x0A0D0D0A  # a palindrome: the same in both byte orders
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_IDB, _PB, _SPB, _EPB = 1, 2, 3, 6
_OPT_ENDOFOPT, _OPT_COMMENT = 0, 1
_IF_NAME, _IF_TSRESOL, _IF_FCSLEN, _IF_TSOFFSET = 2, 9, 13, 14
_SHB_USERAPPL = 4
# magic -> (name, decompressing reader); the readers are closed by CaptureReader.close()
_COMPRESSED = {
    b"\x1f\x8b": ("gzip", lambda f: gzip.GzipFile(fileobj=f, mode="rb")),
    b"BZh": ("bzip2", lambda f: bz2.BZ2File(f, mode="rb")),
    b"\xfd7zXZ\x00": ("xz", lambda f: lzma.LZMAFile(f, mode="rb")),  # noqa: SIM115
}
_UNSUPPORTED_COMPRESSION = {b"\x28\xb5\x2f\xfd": "zstd", b"\x04\x22\x4d\x18": "lz4"}
_READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError)
_NS = 1_000_000_000


class CaptureError(InputError):
    """A capture that cannot be read (from here on): names the file and the byte offset."""


@dataclass(frozen=True, slots=True)
class Interface:
    """One capture interface (the single pcap one, or a pcapng IDB).

    ``index`` is global across pcapng sections; ``tsresol`` is in ticks per second; ``fcs_len`` is
    what the file says about trailing FCS octets (pcap FCS bits or ``if_fcslen``), None if silent.
    """

    index: int
    linktype: int
    snaplen: int
    tsresol: int
    name: str | None
    section: int
    fcs_len: int | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """One captured packet.

    ``number`` counts from 1 as Wireshark does; ``interface`` is the global interface index;
    ``ts_ns`` is nanoseconds since the epoch; ``offset`` is the position of the record (pcap record
    header or pcapng block) in the (decompressed) file.
    """

    number: int
    interface: int
    linktype: int
    ts_ns: int
    caplen: int
    origlen: int
    data: bytes
    comments: tuple[str, ...]
    offset: int


@dataclass(slots=True)
class _RecordBuilder:
    # Same slots in the same order as Record. The frozen dataclass __init__ stores each field with
    # object.__setattr__ (about 1.4 us per record); building this mutable twin and retyping it
    # costs a third of that. Records therefore leave the reader as genuine, immutable Record objects.
    number: int
    interface: int
    linktype: int
    ts_ns: int
    caplen: int
    origlen: int
    data: bytes
    comments: tuple[str, ...]
    offset: int


if Record.__slots__ != _RecordBuilder.__slots__:  # identical layouts are what make retyping legal
    raise ImportError("Record and _RecordBuilder must declare the same slots in the same order")


class BulkConsumer(Protocol):
    """Takes runs of records straight from the reader's buffer, before they become :class:`Record` objects.

    The reader calls it at each record boundary with the buffer, the position and the record layout; it
    consumes zero or more complete records from ``buf[pos:]`` (never past the end of ``buf``) and returns
    the new position and how many it took. Those records are not yielded; the next one is (after any
    refill, damage check or non-packet block, which stay with the reader). A pcapng interface is
    ``(global index, linktype, mul, div, offset_ns)``, its timestamps being ``ticks * mul // div +
    offset_ns``; the tuple covers the current section's interfaces in local id order.
    """

    def pcap(self, buf: bytes, pos: int, big_endian: bool, unit: int, header_size: int,
             linktype: int) -> tuple[int, int]: ...

    def pcapng(self, buf: bytes, pos: int, big_endian: bool,
               interfaces: tuple[tuple[int, int, int, int, int], ...]) -> tuple[int, int]: ...


class _CountingReader(io.RawIOBase):
    """Raw input that remembers how many bytes were consumed (for progress) and can replay a prefix."""

    def __init__(self, raw: BinaryIO, prefix: bytes = b"") -> None:
        super().__init__()
        self._raw = raw
        self._prefix = prefix
        self.consumed = len(prefix)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        if self._prefix:
            n = min(len(b), len(self._prefix))
            b[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._raw.read(len(b))
        if not data:
            return 0
        n = len(data)
        b[:n] = data
        self.consumed += n
        return n


def _tsresol_from_option(value: int) -> int:
    # if_tsresol: MSB clear -> 10^-v seconds per tick, MSB set -> 2^-(v & 0x7f) (pcapng 4.2).
    return 1 << (value & 0x7F) if value & 0x80 else 10**value


class CaptureReader:
    """Iterate the records of an opened capture (see :func:`open_capture`); a context manager."""

    format: str  # "pcap" or "pcapng"
    compression: str | None  # "gzip", "bzip2", "xz" or None
    interfaces: list[Interface]  # grows as interface description blocks are read
    error: CaptureError | None  # set when damage ended the iteration (after every good record)
    size: int | None  # size of the underlying file from where reading started, when known
    bulk: BulkConsumer | None  # set before iterating to let it take runs of records (see BulkConsumer)

    def __init__(
        self,
        stream: BinaryIO,
        *,
        path: str | None,
        size: int | None,
        counter: _CountingReader | None,
        closers: list,
        head: bytes,
        compression: str | None,
    ) -> None:
        self._stream = stream
        self._read = getattr(stream, "read1", stream.read) if compression else stream.read
        self._path = path
        self.size = size
        self._counter = counter
        self._closers = closers
        self._consumed = len(head)  # plain files: bytes read so far
        self.compression = compression
        self.interfaces = []
        self.error = None
        self.bulk = None
        self._buf = head
        if head[:4] == b"\n\r\r\n":
            self.format = "pcapng"
            self._check_first_section()
            self._gen = self._pcapng()
        else:
            self.format = "pcap"
            self._setup_pcap()
            self._gen = self._pcap()

    # ------------------------------------------------------------------ public
    @property
    def position(self) -> int:
        """Bytes of the underlying (possibly compressed) file consumed so far (chunk granularity)."""
        if self._counter is not None:
            return self._counter.consumed
        return self._consumed

    def __iter__(self) -> Iterator[Record]:
        return self._gen

    def close(self) -> None:
        """Release the file (only files that :func:`open_capture` opened itself are closed)."""
        self._gen.close()
        while self._closers:
            closer = self._closers.pop()
            try:
                closer()
            except _READ_ERRORS:
                pass

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ input
    def _fail(self, message: str, offset: int) -> None:
        self.error = CaptureError(message, path=self._path, offset=offset)

    def _refill(self, tail: bytes, need: int) -> bytes:
        """``tail`` followed by more input: at least ``need`` bytes unless the input ends first."""
        if len(tail) >= need:
            return tail
        parts = [tail]
        have = len(tail)
        read = self._read
        while have < need:
            chunk = read(max(CHUNK, need - have))
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
            self._consumed += len(chunk)
        return b"".join(parts)

    # ------------------------------------------------------------------ pcap
    def _setup_pcap(self) -> None:
        head = self._buf = self._refill(self._buf, 24)
        magic = int.from_bytes(head[:4], "little")
        order, unit, rec_hdr = _PCAP_MAGICS[magic]
        if len(head) < 24:
            raise CaptureError(
                f"pcap file header truncated ({len(head)} of 24 octets)", path=self._path, offset=0
            )
        major, minor, _zone, _sigfigs, snaplen, network = struct.unpack_from(order + "HHiIII", head, 4)
        if major != 2:
            raise CaptureError(f"unsupported pcap version {major}.{minor}", path=self._path, offset=4)
        # The link-type word's upper bits may say how many FCS octets each packet carries (pcap draft 5).
        fcs_len = ((network >> 28) & 0xF) * 2 if network & 0x04000000 else None
        linktype = network & 0xFFFF
        self._pcap_params = (order, unit, rec_hdr, linktype)
        self.interfaces.append(Interface(0, linktype, snaplen, _NS // unit, None, 0, fcs_len))

    def _pcap(self) -> Iterator[Record]:
        order, unit, rec_hdr, linktype = self._pcap_params
        unpack = struct.Struct(order + "IIII").unpack_from
        sec_ns = _NS
        buf = self._buf
        self._buf = b""
        base = 0  # file offset of buf[0]
        pos = 24
        buflen = len(buf)
        limit = buflen - rec_hdr  # a record header starting after this is not complete in buf
        number = 0
        builder = _RecordBuilder
        record_cls = Record
        no_comments: tuple[str, ...] = ()
        bulk = self.bulk.pcap if self.bulk is not None else None
        big = order == ">"
        try:
            while True:
                if pos > limit:
                    base += pos
                    buf = self._refill(buf[pos:], rec_hdr)
                    pos = 0
                    buflen = len(buf)
                    limit = buflen - rec_hdr
                    if buflen == 0:
                        return
                    if buflen < rec_hdr:
                        self._fail(
                            f"record {number + 1}: header truncated ({buflen} of {rec_hdr} octets)", base
                        )
                        return
                if bulk is not None:
                    pos, taken = bulk(buf, pos, big, unit, rec_hdr, linktype)
                    if taken:
                        number += taken
                        if pos > limit:
                            continue
                sec, frac, caplen, origlen = unpack(buf, pos)
                start = pos + rec_hdr
                end = start + caplen
                if end > buflen or caplen > MAX_CAPLEN:
                    if caplen > MAX_CAPLEN:
                        self._fail(
                            f"record {number + 1}: captured length {caplen} exceeds {MAX_CAPLEN} (corrupt)",
                            base + pos,
                        )
                        return
                    base += pos
                    buf = self._refill(buf[pos:], rec_hdr + caplen)
                    start -= pos
                    end -= pos
                    pos = 0
                    buflen = len(buf)
                    limit = buflen - rec_hdr
                    if end > buflen:
                        self._fail(
                            f"record {number + 1}: data truncated ({buflen - start} of {caplen} octets)", base
                        )
                        return
                number += 1
                rec = builder(
                    number,
                    0,
                    linktype,
                    sec * sec_ns + frac * unit,
                    caplen,
                    origlen,
                    buf[start:end],
                    no_comments,
                    base + pos,
                )
                rec.__class__ = record_cls
                yield rec  # type: ignore[misc]
                pos = end
        except _READ_ERRORS as exc:
            self._fail(f"read error after record {number}: {exc}", base + pos)

    # ------------------------------------------------------------------ pcapng
    def _check_first_section(self) -> None:
        """Validate the first Section Header Block now, so a damaged file header fails at open."""
        buf = self._buf = self._refill(self._buf, 28)
        if len(buf) < 28:
            raise CaptureError(f"section header truncated ({len(buf)} octets)", path=self._path, offset=0)
        magic = int.from_bytes(buf[8:12], "little")
        if magic not in (_BYTE_ORDER_MAGIC, 0x4D3C2B1A):
            raise CaptureError(f"unknown pcapng byte-order magic 0x{magic:08x}", path=self._path, offset=8)
        order = "<" if magic == _BYTE_ORDER_MAGIC else ">"
        blen, _magic, major, minor = struct.unpack_from(order + "IIHH", buf, 4)
        if blen < 28 or blen & 3 or blen > MAX_BLOCK:
            raise CaptureError(f"section header with invalid length {blen}", path=self._path, offset=4)
        buf = self._buf = self._refill(buf, blen)
        if len(buf) < blen:
            raise CaptureError(
                f"section header truncated ({len(buf)} of {blen} octets)", path=self._path, offset=0
            )
        if struct.unpack_from(order + "I", buf, blen - 4)[0] != blen:
            raise CaptureError("section header length mismatch", path=self._path, offset=0)
        if major != 1:
            raise CaptureError(f"unsupported pcapng version {major}.{minor}", path=self._path, offset=12)

    def _pcapng(self) -> Iterator[Record]:
        buf = self._buf
        self._buf = b""
        base = 0
        pos = 0
        buflen = len(buf)
        number = 0
        section = -1
        order = "<"
        # block type, total length and, for an EPB, interface id, timestamp high/low, caplen, origlen
        head = struct.Struct("<IIIIIII").unpack_from
        u32 = struct.Struct("<I").unpack_from
        # per section: local interface id -> (global index, linktype, mul, div, offset_ns, snaplen)
        ifaces: list[tuple[int, int, int, int, int, int]] = []
        last_ifid = -1  # the interface whose parameters are unpacked in gidx, linktype, mul, div, off_ns
        gidx = linktype = mul = div = off_ns = 0
        builder = _RecordBuilder
        record_cls = Record
        no_comments: tuple[str, ...] = ()
        epb_type, pb_type, max_caplen = _EPB, _PB, MAX_CAPLEN
        bulk = self.bulk.pcapng if self.bulk is not None else None
        layout: tuple[tuple[int, int, int, int, int], ...] = ()  # ifaces as BulkConsumer describes them
        try:
            while True:
                if bulk is not None and section >= 0 and pos + 28 <= buflen:
                    pos, taken = bulk(buf, pos, order == ">", layout)
                    number += taken
                if pos + 28 > buflen:
                    base += pos
                    buf = self._refill(buf[pos:], 28)
                    pos = 0
                    buflen = len(buf)
                    if buflen == 0:
                        return
                    if buflen < 12:
                        self._fail(f"block header truncated ({buflen} of 12 octets)", base)
                        return
                    if buflen < 28:  # only a short block can end here; zeros stand in for absent fields
                        btype, blen, ifid, tsh, tsl, caplen, origlen = head(buf + bytes(16), 0)
                    else:
                        btype, blen, ifid, tsh, tsl, caplen, origlen = head(buf, 0)
                else:
                    btype, blen, ifid, tsh, tsl, caplen, origlen = head(buf, pos)
                end = pos + blen
                if end > buflen or blen < 12 or blen & 3 or btype == _SHB or section < 0:
                    if btype == _SHB:  # a new section may switch the byte order
                        magic = int.from_bytes(buf[pos + 8 : pos + 12], "little")
                        if magic == _BYTE_ORDER_MAGIC:
                            order = "<"
                        elif magic == 0x4D3C2B1A:
                            order = ">"
                        else:
                            self._fail(
                                f"section header with unknown byte-order magic 0x{magic:08x}", base + pos
                            )
                            return
                        head = struct.Struct(order + "IIIIIII").unpack_from
                        u32 = struct.Struct(order + "I").unpack_from
                        blen = u32(buf, pos + 4)[0]
                        end = pos + blen
                    elif section < 0:
                        self._fail("file does not start with a section header block", base + pos)
                        return
                    if blen < 12 or blen & 3:
                        self._fail(f"block type 0x{btype:08x}: invalid block length {blen}", base + pos)
                        return
                    if blen > MAX_BLOCK:
                        self._fail(
                            f"block type 0x{btype:08x}: block length {blen} is implausible", base + pos
                        )
                        return
                    if end > buflen:
                        base += pos
                        buf = self._refill(buf[pos:], blen)
                        pos = 0
                        end = blen
                        buflen = len(buf)
                        if end > buflen:
                            self._fail(
                                f"block type 0x{btype:08x} truncated ({buflen} of {blen} octets before end of file)",
                                base,
                            )
                            return
                tail = end - 4
                if u32(buf, tail)[0] != blen:
                    self._fail(
                        f"block type 0x{btype:08x}: length mismatch (leading {blen}, trailing {u32(buf, tail)[0]})",
                        base + pos,
                    )
                    return
                if btype == epb_type or btype == pb_type:
                    if btype == pb_type:  # u16 interface id, u16 drop count where the EPB has a u32 id
                        ifid = ifid & 0xFFFF if order == "<" else ifid >> 16
                    start = pos + 28
                    dend = start + caplen
                    if dend > tail or caplen > max_caplen or ifid != last_ifid:
                        if dend > tail or caplen > max_caplen:
                            self._fail(
                                f"record {number + 1}: captured length {caplen} does not fit its {blen}-octet block",
                                base + pos,
                            )
                            return
                        if ifid >= len(ifaces):
                            self._fail(
                                f"record {number + 1}: interface {ifid} not defined ({len(ifaces)} in this section)",
                                base + pos,
                            )
                            return
                        last_ifid = ifid
                        gidx, linktype, mul, div, off_ns, _snap = ifaces[ifid]
                    ts = (tsh << 32 | tsl) * mul
                    if div != 1:
                        ts //= div
                    opt = (dend + 3) & ~3
                    comments = self._comments(buf, opt, tail, order) if opt < tail else no_comments
                    number += 1
                    rec = builder(
                        number,
                        gidx,
                        linktype,
                        ts + off_ns,
                        caplen,
                        origlen,
                        buf[start:dend],
                        comments,
                        base + pos,
                    )
                    rec.__class__ = record_cls
                    yield rec  # type: ignore[misc]
                elif btype == _SPB:
                    if blen < 16:
                        self._fail(f"simple packet block too short ({blen} octets)", base + pos)
                        return
                    if not ifaces:
                        self._fail("simple packet block before any interface description", base + pos)
                        return
                    gidx, linktype, _mul, _div, _off, snaplen = ifaces[0]
                    origlen = ifid  # the SPB's first body word is the original packet length
                    caplen = min(origlen, snaplen) if snaplen else origlen
                    if caplen > MAX_CAPLEN or caplen > blen - 16:
                        self._fail(
                            f"record {number + 1}: packet of {caplen} octets does not fit its {blen}-octet block",
                            base + pos,
                        )
                        return
                    number += 1
                    rec = builder(
                        number,
                        gidx,
                        linktype,
                        0,
                        caplen,
                        origlen,
                        buf[pos + 12 : pos + 12 + caplen],
                        no_comments,
                        base + pos,
                    )
                    rec.__class__ = record_cls
                    yield rec  # type: ignore[misc]
                elif btype == _IDB:
                    if blen < 20:
                        self._fail(f"interface description block too short ({blen} octets)", base + pos)
                        return
                    ifaces.append(self._interface(buf, pos, end, order, section))
                    layout = tuple(i[:5] for i in ifaces)
                elif btype == _SHB:
                    if blen < 28:
                        self._fail(f"section header block too short ({blen} octets)", base + pos)
                        return
                    major, minor = struct.unpack_from(order + "HH", buf, pos + 12)
                    if major != 1:
                        self._fail(f"unsupported pcapng version {major}.{minor}", base + pos)
                        return
                    section += 1
                    ifaces = []
                    layout = ()
                    last_ifid = -1
                # everything else (NRB, ISB, DSB, custom, journal ...) carries no packets: skipped
                pos = end
        except _READ_ERRORS as exc:
            self._fail(f"read error after record {number}: {exc}", base + pos)

    def _interface(
        self, buf: bytes, pos: int, end: int, order: str, section: int
    ) -> tuple[int, int, int, int, int, int]:
        linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", buf, pos + 8)
        tsresol = 1_000_000
        tsoffset = 0
        name = None
        fcs_len = None
        for code, value in _options(buf, pos + 16, end - 4, order):
            if code == _IF_TSRESOL and len(value) >= 1:
                tsresol = _tsresol_from_option(value[0])
            elif code == _IF_TSOFFSET and len(value) >= 8:
                tsoffset = struct.unpack_from(order + "q", value)[0]
            elif code == _IF_NAME:
                name = value.decode("utf-8", "replace")
            elif code == _IF_FCSLEN and len(value) >= 1:
                fcs_len = value[0]
        index = len(self.interfaces)
        self.interfaces.append(Interface(index, linktype, snaplen, tsresol, name, section, fcs_len))
        g = math.gcd(_NS, tsresol)
        return index, linktype, _NS // g, tsresol // g, tsoffset * _NS, snaplen

    @staticmethod
    def _comments(buf: bytes, start: int, end: int, order: str) -> tuple[str, ...]:
        found = [
            value.decode("utf-8", "replace")
            for code, value in _options(buf, start, end, order)
            if code == _OPT_COMMENT
        ]
        return tuple(found)


_OPTION_HEADER = {"<": struct.Struct("<HH").unpack_from, ">": struct.Struct(">HH").unpack_from}


def _options(buf: bytes, start: int, end: int, order: str) -> Iterator[tuple[int, bytes]]:
    """(code, value) of each option in buf[start:end]; stops quietly at opt_endofopt or malformed data."""
    unpack = _OPTION_HEADER[order]
    pos = start
    while pos + 4 <= end:
        code, length = unpack(buf, pos)
        if code == _OPT_ENDOFOPT:
            return
        vend = pos + 4 + length
        if vend > end:
            return
        yield code, buf[pos + 4 : vend]
        pos = (vend + 3) & ~3


def _describe(source: object) -> str | None:
    if isinstance(source, (str, os.PathLike)):
        return os.fsdecode(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else None


def _read_at_least(read, n: int) -> bytes:  # type: ignore[no-untyped-def]
    parts = []
    have = 0
    while have < n:
        chunk = read(max(CHUNK, n - have))
        if not chunk:
            break
        parts.append(chunk)
        have += len(chunk)
    return b"".join(parts)


def open_capture(source: str | os.PathLike | BinaryIO) -> CaptureReader:
    """Open a pcap or pcapng capture (plain, gzip, bzip2 or xz) for streaming.

    Raises CaptureError at once for an unreadable path, an empty file, a file that is not a
    capture, or a damaged file header; damage further on ends iteration and sets ``reader.error``.
    """
    path = _describe(source)
    closers: list = []
    if isinstance(source, (str, os.PathLike)):
        try:
            raw: BinaryIO = open(source, "rb", buffering=0)  # noqa: SIM115 - closed by the reader
        except OSError as exc:
            raise CaptureError(f"cannot open capture: {exc.strerror or exc}", path=path) from None
        closers.append(raw.close)
        try:
            st = os.fstat(raw.fileno())
            size: int | None = st.st_size if stat.S_ISREG(st.st_mode) else None  # a FIFO has no size
        except OSError:
            size = None
    else:
        raw = source
        size = None
        try:
            st = os.fstat(raw.fileno())
            if stat.S_ISREG(st.st_mode):
                size = st.st_size - raw.tell()
        except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
            try:
                if raw.seekable():
                    here = raw.tell()
                    size = raw.seek(0, io.SEEK_END) - here
                    raw.seek(here)
            except (OSError, AttributeError, ValueError):
                size = None
    try:
        try:
            head = _read_at_least(raw.read, 8)
        except OSError as exc:
            raise CaptureError(f"cannot read capture: {exc.strerror or exc}", path=path) from None
        if not head:
            raise CaptureError("empty file", path=path)
        stream = raw
        counter = None
        compression = None
        for magic, (name, opener) in _COMPRESSED.items():
            if head.startswith(magic):
                compression = name
                counter = _CountingReader(raw, head)
                stream = opener(counter)
                closers.append(stream.close)
                try:
                    head = _read_at_least(getattr(stream, "read1", stream.read), 4)
                except _READ_ERRORS as exc:
                    raise CaptureError(f"corrupt {name} data: {exc}", path=path, offset=0) from None
                if not head:
                    raise CaptureError(f"empty file ({name}-compressed)", path=path)
                break
        for magic, name in _UNSUPPORTED_COMPRESSION.items():
            if head.startswith(magic):
                raise CaptureError(f"{name}-compressed capture: decompress it first", path=path)
        if len(head) >= 4 and (head[:4] == b"\n\r\r\n" or int.from_bytes(head[:4], "little") in _PCAP_MAGICS):
            try:
                return CaptureReader(
                    stream,
                    path=path,
                    size=size,
                    counter=counter,
                    closers=closers,
                    head=head,
                    compression=compression,
                )
            except _READ_ERRORS as exc:
                raise CaptureError(f"cannot read the file header: {exc}", path=path, offset=0) from None
        raise CaptureError(
            f"not a pcap or pcapng capture (starts with {head[:4].hex(' ')})", path=path, offset=0
        )
    except BaseException:
        for closer in reversed(closers):
            try:
                closer()
            except _READ_ERRORS:
                pass
        raise


# --------------------------------------------------------------------------- writers
class _Writer:
    _fileobj: BinaryIO

    def flush(self) -> None:
        """Flush the underlying file object."""
        flush = getattr(self._fileobj, "flush", None)
        if flush is not None:
            flush()

    def close(self) -> None:
        """Flush; the file object belongs to the caller and stays open."""
        self.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _byteorder(byteorder: str) -> str:
    if byteorder == "little":
        return "<"
    if byteorder == "big":
        return ">"
    raise EncodeError(f"byteorder must be 'little' or 'big', not {byteorder!r}")


class PcapWriter(_Writer):
    """Write a classic pcap file (one link type); nanosecond timestamps unless told otherwise."""

    def __init__(
        self,
        fileobj: BinaryIO,
        linktype: int,
        *,
        nanosecond: bool = True,
        snaplen: int = 262144,
        byteorder: str = "little",
    ) -> None:
        self._fileobj = fileobj
        self._order = _byteorder(byteorder)
        if not 0 <= linktype <= 0xFFFF or not 0 < snaplen < 1 << 32:
            raise EncodeError("pcap: link type or snaplen out of range")
        self._nanosecond = nanosecond
        self.snaplen = snaplen
        self.linktype = linktype
        self._record = struct.Struct(self._order + "IIII")
        magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
        fileobj.write(struct.pack(self._order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))

    def write(self, ts_ns: int, data: bytes, origlen: int | None = None) -> None:
        """Append one record (timestamps are truncated to microseconds in a microsecond file)."""
        if len(data) > self.snaplen:
            raise EncodeError(f"pcap: {len(data)}-octet record exceeds snaplen {self.snaplen}")
        origlen = len(data) if origlen is None else origlen
        if origlen < len(data) or origlen >= 1 << 32:
            raise EncodeError(f"pcap: original length {origlen} is smaller than the data or too large")
        sec, frac = divmod(ts_ns, _NS)
        if not self._nanosecond:
            frac //= 1000
        if not 0 <= sec < 1 << 32:
            raise EncodeError(f"pcap: timestamp {ts_ns} ns outside 1970..2106")
        self._fileobj.write(self._record.pack(sec, frac, len(data), origlen))
        self._fileobj.write(data)


def _option(order: str, code: int, value: bytes) -> bytes:
    if len(value) > 0xFFFF:
        raise EncodeError(f"pcapng: option {code} longer than 65535 octets")
    return struct.pack(order + "HH", code, len(value)) + value + bytes(-len(value) % 4)


def _block(order: str, btype: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack(order + "II", btype, total) + body + struct.pack(order + "I", total)


def _tsresol_option(tsresol: int) -> int:
    if tsresol > 0:
        exp10 = round(math.log10(tsresol))
        if 10**exp10 == tsresol and exp10 < 128:
            return exp10
        if tsresol & (tsresol - 1) == 0 and tsresol.bit_length() - 1 < 128:
            return 0x80 | (tsresol.bit_length() - 1)
    raise EncodeError(f"pcapng: if_tsresol must be a power of 10 or of 2, not {tsresol}")


_PADDING = (b"", b"\x00", b"\x00\x00", b"\x00\x00\x00")  # by pad length


class PcapngWriter(_Writer):
    """Write a pcapng file: one section, interfaces added as needed, EPBs with optional comments."""

    def __init__(
        self,
        fileobj: BinaryIO,
        *,
        application: str = "krackwatch",
        comment: str | None = None,
        byteorder: str = "little",
    ) -> None:
        self._fileobj = fileobj
        self._order = order = _byteorder(byteorder)
        self._interfaces: list[tuple[int, int]] = []  # (tsresol, snaplen)
        self._epb = struct.Struct(order + "IIIIIII")
        self._u32 = struct.Struct(order + "I")
        options = b""
        if comment:
            options += _option(order, _OPT_COMMENT, comment.encode())
        if application:
            options += _option(order, _SHB_USERAPPL, application.encode())
        if options:
            options += bytes(4)
        body = struct.pack(order + "IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1) + options
        fileobj.write(_block(order, _SHB, body))

    def add_interface(
        self, linktype: int, *, snaplen: int = 262144, tsresol: int = 1_000_000_000, name: str | None = None
    ) -> int:
        """Write an IDB; returns the interface id to pass to :meth:`write`."""
        order = self._order
        if not 0 <= linktype <= 0xFFFF or not 0 <= snaplen < 1 << 32:
            raise EncodeError("pcapng: link type or snaplen out of range")
        options = b""
        if name:
            options += _option(order, _IF_NAME, name.encode())
        if tsresol != 1_000_000:
            options += _option(order, _IF_TSRESOL, bytes([_tsresol_option(tsresol)]))
        if options:
            options += bytes(4)
        self._fileobj.write(_block(order, _IDB, struct.pack(order + "HHI", linktype, 0, snaplen) + options))
        self._interfaces.append((tsresol, snaplen))
        return len(self._interfaces) - 1

    def write(
        self,
        interface: int,
        ts_ns: int,
        data: bytes,
        *,
        origlen: int | None = None,
        comments: tuple[str, ...] | list[str] = (),
    ) -> None:
        """Append an Enhanced Packet Block (timestamp rounded down to the interface's resolution)."""
        try:
            tsresol, snaplen = self._interfaces[interface]
        except (IndexError, TypeError):
            raise EncodeError(f"pcapng: interface {interface} was not added") from None
        if interface < 0:
            raise EncodeError(f"pcapng: interface {interface} was not added")
        n = len(data)
        if snaplen and n > snaplen:
            raise EncodeError(f"pcapng: {n}-octet record exceeds snaplen {snaplen}")
        if origlen is None:
            origlen = n
        elif origlen < n or origlen >= 1 << 32:
            raise EncodeError(f"pcapng: original length {origlen} is smaller than the data or too large")
        ticks = ts_ns if tsresol == _NS else ts_ns * tsresol // _NS
        if not 0 <= ticks < 1 << 64:
            raise EncodeError(f"pcapng: timestamp {ts_ns} ns not representable")
        pad = _PADDING[-n % 4]
        if comments:
            order = self._order
            options = b"".join(_option(order, _OPT_COMMENT, c.encode()) for c in comments) + bytes(4)
            total = 32 + n + len(pad) + len(options)
        else:
            options = b""
            total = 32 + n + len(pad)
        self._fileobj.write(
            b"".join((
                self._epb.pack(_EPB, total, interface, ticks >> 32, ticks & 0xFFFFFFFF, n, origlen),
                data,
                pad,
                options,
                self._u32.pack(total),
            ))
        )
