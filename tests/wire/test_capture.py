"""Capture reader/writers against the shared real captures, tshark, the pcap/pcapng drafts and damage."""

from __future__ import annotations

import bz2
import csv
import dataclasses
import gzip
import io
import lzma
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krackwatch.errors import InputError
from krackwatch.wire.capture import (
    MAX_CAPLEN,
    CaptureError,
    Interface,
    PcapngWriter,
    PcapWriter,
    Record,
    open_capture,
)
from krackwatch.wire.elements import EncodeError

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"
TSHARK = shutil.which("tshark")
EDITCAP = shutil.which("editcap")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed (apt-get install tshark)")
needs_editcap = pytest.mark.skipif(EDITCAP is None, reason="editcap not installed (apt-get install tshark)")


def _manifest() -> dict[str, dict[str, str]]:
    with open(CAPTURES / "MANIFEST.tsv", newline="") as fh:
        return {row["filename"]: row for row in csv.DictReader(fh, delimiter="\t")}


MANIFEST = _manifest()
CAPTURE_FILES = sorted(MANIFEST)


def _tshark_frames(name: str) -> int:
    """Frame count that the manifest records from tshark ("tshark: N frames")."""
    m = re.search(r"tshark: (\d+) frames?", MANIFEST[name]["oracle_summary"])
    assert m, name
    return int(m.group(1))


def _read(source) -> tuple[list[Record], object]:
    with open_capture(source) as reader:
        records = list(reader)
    return records, reader


def _tshark(path: Path | str, *fields: str, extra: tuple[str, ...] = ()) -> list[list[str]]:
    cmd = [TSHARK, "-n", "-r", str(path), *extra, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


# ----------------------------------------------------------------------------------------------- real files
@pytest.mark.parametrize("name", CAPTURE_FILES)
def test_real_capture_frame_counts_match_manifest(name: str) -> None:
    records, reader = _read(CAPTURES / name)
    assert reader.error is None
    assert len(records) == _tshark_frames(name)
    assert [r.number for r in records] == list(range(1, len(records) + 1))
    fmt = MANIFEST[name]["file_format"]
    assert reader.format == ("pcapng" if fmt.startswith("pcapng") else "pcap")
    expected_lt = int(MANIFEST[name]["link_type"].split()[0])
    assert {r.linktype for r in records} == {expected_lt}
    for r in records:
        assert type(r) is Record
        assert r.caplen == len(r.data) <= r.origlen
    # a plain file is consumed completely
    assert reader.position == reader.size == (CAPTURES / name).stat().st_size


def test_two_interface_pcapng() -> None:
    records, reader = _read(CAPTURES / "210411_win10_radiotap.pcapng")
    assert [i.index for i in reader.interfaces] == [0, 1]
    assert all(i.linktype == 127 and i.section == 0 for i in reader.interfaces)
    assert [r.interface for r in records] == [0, 1]  # "1 packet each"
    assert reader.interfaces[0].name and reader.interfaces[0].name.startswith("\\Device\\NPF_")


def test_prism_record_is_read_even_if_too_short_for_its_header() -> None:
    records, reader = _read(CAPTURES / "wpaclean_crash.pcap")
    assert reader.error is None
    assert len(records) == 1 and records[0].caplen == 17 and records[0].linktype == 119


@needs_tshark
@pytest.mark.interop
@pytest.mark.parametrize("name", CAPTURE_FILES)
def test_real_capture_matches_tshark_per_frame(name: str) -> None:
    records, _ = _read(CAPTURES / name)
    rows = _tshark(
        CAPTURES / name,
        "frame.number",
        "frame.time_epoch",
        "frame.len",
        "frame.cap_len",
        "frame.interface_id",
    )
    assert len(rows) == len(records)
    for rec, (number, epoch, flen, clen, ifid) in zip(records, rows, strict=True):
        sec, _, frac = epoch.partition(".")
        assert rec.number == int(number)
        assert rec.ts_ns == int(sec) * 1_000_000_000 + int(frac.ljust(9, "0"))
        assert (rec.origlen, rec.caplen) == (int(flen), int(clen))
        assert rec.interface == int(ifid or 0)


# ----------------------------------------------------------------------------------------- record value
def test_records_are_frozen_values() -> None:
    records, _ = _read(CAPTURES / "wpa2.eapol.cap")
    rec = records[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.number = 7  # type: ignore[misc]
    same = Record(*(getattr(rec, f.name) for f in dataclasses.fields(Record)))
    assert rec == same and hash(rec) == hash(same)
    assert dataclasses.replace(rec, number=9).number == 9


# ------------------------------------------------------------------------------------------ round trips
def _same_packets(a: list[Record], b: list[Record]) -> None:
    assert [(r.ts_ns, r.data, r.origlen, r.linktype, r.comments) for r in a] == [
        (r.ts_ns, r.data, r.origlen, r.linktype, r.comments) for r in b
    ]


@pytest.mark.parametrize("byteorder", ["little", "big"])
@pytest.mark.parametrize("nanosecond", [True, False])
@pytest.mark.parametrize("name", ["wpa-Induction.pcap", "example-tptk-attack.pcapng", "test-pmkid.pcap"])
def test_pcap_writer_round_trip(name: str, nanosecond: bool, byteorder: str) -> None:
    original, _ = _read(CAPTURES / name)
    buf = io.BytesIO()
    with PcapWriter(buf, original[0].linktype, nanosecond=nanosecond, byteorder=byteorder) as w:
        for r in original:
            w.write(r.ts_ns, r.data, r.origlen)
    raw = buf.getvalue()
    magic = raw[:4] if byteorder == "big" else raw[3::-1]
    assert magic == (bytes.fromhex("a1b23c4d") if nanosecond else bytes.fromhex("a1b2c3d4"))
    again, reader = _read(io.BytesIO(raw))
    assert reader.error is None and reader.format == "pcap"
    assert reader.interfaces[0].tsresol == (10**9 if nanosecond else 10**6)
    _same_packets(original, again)  # the originals have microsecond timestamps: nothing is lost


@pytest.mark.parametrize("byteorder", ["little", "big"])
@pytest.mark.parametrize("tsresol", [10**9, 10**6, 10**7, 1 << 30])
def test_pcapng_writer_round_trip(tsresol: int, byteorder: str) -> None:
    original, _ = _read(CAPTURES / "wpa-Induction.pcap")
    buf = io.BytesIO()
    with PcapngWriter(buf, byteorder=byteorder, comment="round trip") as w:
        iface = w.add_interface(127, tsresol=tsresol, name="wlan0mon")
        for i, r in enumerate(original):
            w.write(iface, r.ts_ns, r.data, origlen=r.origlen, comments=(f"frame {i}",) * (i % 3))
    again, reader = _read(io.BytesIO(buf.getvalue()))
    assert reader.error is None and reader.format == "pcapng"
    assert reader.interfaces == [Interface(0, 127, 262144, tsresol, "wlan0mon", 0)]
    # timestamps are rounded down to the resolution: microseconds survive 10^9, 10^6, 10^7; not 2^30
    expected = [
        dataclasses.replace(
            r, ts_ns=(r.ts_ns * tsresol // 10**9) * 10**9 // tsresol, comments=(f"frame {i}",) * (i % 3)
        )
        for i, r in enumerate(original)
    ]
    _same_packets(expected, again)
    if tsresol in (10**9, 10**6, 10**7):
        assert [r.ts_ns for r in again] == [r.ts_ns for r in original]


def test_pcapng_multi_section_and_interfaces() -> None:
    first = io.BytesIO()
    w = PcapngWriter(first, comment="section one")
    a = w.add_interface(105, tsresol=10**6)
    w.write(a, 1_500_000_000_123_456_000, b"\x08\x00" + bytes(22), comments=("hello", "wörld"))
    second = io.BytesIO()
    w = PcapngWriter(second, byteorder="big")
    w.add_interface(127)
    b = w.add_interface(105, tsresol=1 << 20)
    w.write(b, 1_600_000_000_999_999_999, b"\x80\x00" + bytes(40))
    records, reader = _read(io.BytesIO(first.getvalue() + second.getvalue()))
    assert reader.error is None
    assert [(i.index, i.linktype, i.section, i.tsresol) for i in reader.interfaces] == [
        (0, 105, 0, 10**6),
        (1, 127, 1, 10**9),
        (2, 105, 1, 1 << 20),
    ]
    assert [r.interface for r in records] == [0, 2]
    assert records[0].comments == ("hello", "wörld")
    # 2^20 ticks per second: floor(t * 2^20 / 1e9) ticks, floor back to nanoseconds
    ticks = 1_600_000_000_999_999_999 * (1 << 20) // 10**9
    assert records[1].ts_ns == ticks * 10**9 // (1 << 20)


# ------------------------------------------------------------------------------- hand-made pcapng blocks
def _block(order: str, btype: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    return struct.pack(order + "II", btype, len(body) + 12) + body + struct.pack(order + "I", len(body) + 12)


def _opt(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + bytes(-len(value) % 4)


def _shb(order: str = "<") -> bytes:
    return _block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def _idb(order: str, linktype: int, snaplen: int, *options: bytes) -> bytes:
    opts = b"".join(options) + (_opt(order, 0, b"") if options else b"")
    return _block(order, 1, struct.pack(order + "HHI", linktype, 0, snaplen) + opts)


def _epb(
    order: str, ifid: int, ticks: int, data: bytes, origlen: int | None = None, *options: bytes
) -> bytes:
    body = struct.pack(
        order + "IIIII",
        ifid,
        ticks >> 32,
        ticks & 0xFFFFFFFF,
        len(data),
        len(data) if origlen is None else origlen,
    )
    opts = b"".join(options) + (_opt(order, 0, b"") if options else b"")
    return _block(order, 6, body + data + bytes(-len(data) % 4) + opts)


def _handmade(
    order: str, custom: bool = True
) -> tuple[bytes, list[tuple[int, int, bytes, int, tuple[str, ...]]]]:
    """A pcapng exercising SPB, PB, if_tsresol (2^-k), if_tsoffset, NRB/ISB/custom blocks, comments.

    Returns the file and, per packet, the values the pcapng draft says a reader must produce:
    (interface, ts_ns, data, origlen, comments)."""
    f = _shb(order)
    f += _idb(order, 105, 64)  # IDB 0: snaplen 64 -> SPBs are cut to 64 octets
    f += _idb(
        order, 127, 0, _opt(order, 9, bytes([0x80 | 10])), _opt(order, 14, struct.pack(order + "q", 100))
    )
    f += _block(order, 4, _opt(order, 1, b"\x0a\x00\x00\x01name\x00") + _opt(order, 0, b""))  # NRB
    spb_data = bytes(range(100))
    f += _block(order, 3, struct.pack(order + "I", 100) + spb_data[:64])  # SPB, original 100 octets
    pkt = bytes(range(37))
    f += _epb(
        order,
        1,
        5 * 1024 + 512,
        pkt,
        40,
        _opt(order, 1, b"first"),
        _opt(order, 2, b"\x00\x00\x00\x01"),
        _opt(order, 1, b"zweite Anmerkung"),
    )
    f += _block(order, 5, struct.pack(order + "III", 0, 0, 0))  # ISB
    if custom:  # a custom block (PEN 32379): no packet; tshark lists it as a record of its own
        f += _block(order, 0x00000BAD, b"\x00\x00\x7e\x2b" + b"custom")
    # obsolete Packet Block: u16 interface id, u16 drops, ts (default resolution 10^-6), lengths
    pb = struct.pack(order + "HHIIII", 0, 3, 0, 2_000_000, 5, 9) + b"abcde"
    f += _block(order, 2, pb)
    expected = [
        (0, 0, spb_data[:64], 100, ()),
        # 2^-10 s ticks: 5.5 s, plus the 100 s if_tsoffset
        (1, 5_500_000_000 + 100 * 10**9, pkt, 40, ("first", "zweite Anmerkung")),
        (0, 2_000_000_000, b"abcde", 9, ()),
    ]
    return f, expected


@pytest.mark.parametrize("order", ["<", ">"])
def test_handmade_pcapng_blocks(order: str) -> None:
    raw, expected = _handmade(order)
    records, reader = _read(io.BytesIO(raw))
    assert reader.error is None
    assert [(r.interface, r.ts_ns, r.data, r.origlen, r.comments) for r in records] == expected
    assert reader.interfaces[1].tsresol == 1024
    assert [r.linktype for r in records] == [105, 127, 105]


@needs_tshark
@pytest.mark.interop
@pytest.mark.parametrize("order", ["<", ">"])
def test_handmade_pcapng_blocks_match_tshark(order: str, tmp_path: Path) -> None:
    raw, _ = _handmade(order, custom=False)
    path = tmp_path / "handmade.pcapng"
    path.write_bytes(raw)
    records, _ = _read(path)
    rows = _tshark(
        path, "frame.time_epoch", "frame.len", "frame.cap_len", "frame.interface_id", "frame.comment"
    )
    assert len(rows) == len(records)
    for rec, (epoch, flen, clen, ifid, comment) in zip(records, rows, strict=True):
        sec, _, frac = epoch.partition(".")
        if rec.ts_ns:  # tshark prints no time for an SPB
            assert rec.ts_ns == int(sec) * 10**9 + int(frac.ljust(9, "0"))
        assert (rec.origlen, rec.caplen, rec.interface) == (int(flen), int(clen), int(ifid or 0))
        assert ",".join(rec.comments) == comment


def test_kuznetzov_modified_pcap() -> None:
    # magic a1b2cd34: record headers carry ifindex u32, protocol u16, pkt_type u8, pad u8 after the lengths
    hdr = struct.pack("<IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 65535, 105)
    recs = b""
    for i, data in enumerate([b"\x08\x00" + bytes(22), b"\xd4\x00" + bytes(8)]):
        recs += struct.pack("<IIIIIHBB", 1000 + i, 250, len(data), len(data), 3, 0x0800, 0, 0) + data
    records, reader = _read(io.BytesIO(hdr + recs))
    assert reader.error is None
    assert [(r.ts_ns, len(r.data)) for r in records] == [(1000_000_250_000, 24), (1001_000_250_000, 10)]


def test_pcap_fcs_bits_in_linktype_word() -> None:
    # pcap draft: bit 26 says the FCS length field (bits 28-31, in 16-bit units) is valid
    network = 105 | 1 << 26 | 2 << 28
    raw = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, network)
    _records, reader = _read(io.BytesIO(raw))
    assert reader.interfaces[0].linktype == 105 and reader.interfaces[0].fcs_len == 4


# -------------------------------------------------------------------------------------------- compression
@pytest.mark.parametrize(
    "compress,label", [(gzip.compress, "gzip"), (bz2.compress, "bzip2"), (lzma.compress, "xz")]
)
@pytest.mark.parametrize("name", ["wpa-Induction.pcap", "example-tptk-attack.pcapng"])
def test_compressed_capture(name: str, compress, label: str, tmp_path: Path) -> None:
    plain, _ = _read(CAPTURES / name)
    packed = compress((CAPTURES / name).read_bytes())
    path = tmp_path / (name + ".z")
    path.write_bytes(packed)
    records, reader = _read(path)
    assert reader.error is None and reader.compression == label
    assert records == plain  # offsets are positions in the decompressed stream, as in the plain file
    assert reader.position == reader.size == len(packed)


def test_gzip_truncations_yield_prefixes() -> None:
    plain, _ = _read(CAPTURES / "wpa-Induction.pcap")
    packed = gzip.compress((CAPTURES / "wpa-Induction.pcap").read_bytes())
    for cut in list(range(0, 200, 7)) + list(range(200, len(packed), 997)):
        available = len(zlib.decompressobj(31).decompress(packed[:cut]))  # what any gzip reader can recover
        if available < 24:
            with pytest.raises(CaptureError):
                open_capture(io.BytesIO(packed[:cut]))
            continue
        records, reader = _read(io.BytesIO(packed[:cut]))
        assert records == [r for r in plain if r.offset + 16 + r.caplen <= available]
        assert isinstance(reader.error, CaptureError) and reader.error.offset is not None


# ------------------------------------------------------------------------------------------ errors at open
def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="cannot open capture: No such file") as info:
        open_capture(tmp_path / "missing.pcap")
    assert info.value.path == str(tmp_path / "missing.pcap")
    with pytest.raises(CaptureError, match="cannot open capture"):
        open_capture(tmp_path)
    (tmp_path / "empty.pcap").write_bytes(b"")
    with pytest.raises(CaptureError, match="empty file"):
        open_capture(tmp_path / "empty.pcap")
    (tmp_path / "text.pcap").write_bytes(b"hello, this is not a capture\n")
    with pytest.raises(CaptureError, match="not a pcap or pcapng capture"):
        open_capture(tmp_path / "text.pcap")
    (tmp_path / "z.pcap").write_bytes(bytes.fromhex("28b52ffd") + bytes(20))
    with pytest.raises(CaptureError, match="zstd"):
        open_capture(tmp_path / "z.pcap")
    (tmp_path / "empty.gz").write_bytes(gzip.compress(b""))
    with pytest.raises(CaptureError, match="empty file"):
        open_capture(tmp_path / "empty.gz")
    assert issubclass(CaptureError, InputError)


def test_damaged_file_headers_fail_at_open() -> None:
    with pytest.raises(CaptureError, match="unsupported pcap version"):
        open_capture(io.BytesIO(struct.pack("<IHHiIII", 0xA1B2C3D4, 3, 0, 0, 0, 65535, 105)))
    with pytest.raises(CaptureError, match="section header"):
        open_capture(io.BytesIO(_shb()[:20]))
    bad_version = bytearray(_shb())
    bad_version[12] = 2
    with pytest.raises(CaptureError, match="unsupported pcapng version 2"):
        open_capture(io.BytesIO(bytes(bad_version)))


def test_unseekable_stream() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
            chunk = self._data.read(min(len(b), 1000))  # a pipe hands out small pieces
            b[: len(chunk)] = chunk
            return len(chunk)

    plain, _ = _read(CAPTURES / "example-tptk-attack.pcapng")
    records, reader = _read(Pipe((CAPTURES / "example-tptk-attack.pcapng").read_bytes()))
    assert records == plain and reader.size is None and reader.error is None


# --------------------------------------------------------------------------------------- damage mid-file
def _pcap(records: list[tuple[int, bytes]], *, caplen_override: dict[int, int] | None = None) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105)
    for i, (ts, data) in enumerate(records):
        caplen = (caplen_override or {}).get(i, len(data))
        out += struct.pack("<IIII", ts, 0, caplen, len(data)) + data
    return out


def test_oversized_caplen_stops_reading_with_offset() -> None:
    raw = _pcap([(1, b"a" * 30), (2, b"b" * 30), (3, b"c" * 30)], caplen_override={1: MAX_CAPLEN + 1})
    records, reader = _read(io.BytesIO(raw))
    assert [r.data for r in records] == [b"a" * 30]
    assert reader.error is not None and reader.error.offset == 24 + 16 + 30
    assert "262145" in reader.error.message


def test_pcapng_length_mismatch_and_unknown_interface() -> None:
    good = _epb("<", 0, 1, b"x" * 10)
    broken = bytearray(_epb("<", 0, 2, b"y" * 10))
    broken[-4:] = struct.pack("<I", len(broken) + 4)
    raw = _shb() + _idb("<", 105, 0) + good + bytes(broken) + good
    records, reader = _read(io.BytesIO(raw))
    assert len(records) == 1 and reader.error is not None
    assert reader.error.offset == len(_shb() + _idb("<", 105, 0) + good)
    assert "length mismatch" in reader.error.message

    raw = _shb() + _idb("<", 105, 0) + good + _epb("<", 5, 3, b"z")
    records, reader = _read(io.BytesIO(raw))
    assert len(records) == 1 and "interface 5 not defined" in reader.error.message


def _boundaries(raw: bytes) -> tuple[int, list[int]]:
    """(length of the file header, offsets where a record/block starts or the file ends), by a plain walk."""
    if raw[:4] == b"\n\r\r\n":
        first, pos = 0, 0
        marks = []
        while pos < len(raw):
            marks.append(pos)
            pos += struct.unpack_from("<I", raw, pos + 4)[0]
        first = marks[1]  # the section header must be complete to open the file
    else:
        first = pos = 24
        marks = []
        while pos < len(raw):
            marks.append(pos)
            pos += 16 + struct.unpack_from("<I", raw, pos + 8)[0]
    return first, marks + [len(raw)]


@pytest.mark.parametrize("name", ["wpa2.eapol.cap", "test-pmkid.pcap", "210411_win10_radiotap.pcapng"])
def test_every_truncation_yields_a_prefix_and_an_offset(name: str) -> None:
    raw = (CAPTURES / name).read_bytes()
    full, _ = _read(io.BytesIO(raw))
    header, marks = _boundaries(raw)
    for cut in range(len(raw) + 1):
        if cut < header:
            with pytest.raises(CaptureError):
                open_capture(io.BytesIO(raw[:cut]))
            continue
        records, reader = _read(io.BytesIO(raw[:cut]))
        assert records == [r for r in full if r.offset < cut][: len(records)]
        damaged = max(m for m in marks if m <= cut)
        if cut in marks:
            assert reader.error is None, (cut, reader.error)
            assert records == [r for r in full if r.offset < cut]
        else:
            assert isinstance(reader.error, CaptureError)
            assert reader.error.offset == damaged, (cut, reader.error)  # names the damaged record/block
            assert records == [r for r in full if r.offset < damaged]


# -------------------------------------------------------------------------------------------- hypothesis
def _never_crashes(raw: bytes) -> None:
    try:
        reader = open_capture(io.BytesIO(raw))
    except CaptureError as exc:
        assert exc.message
        return
    with reader:
        for rec in reader:
            assert isinstance(rec, Record) and rec.caplen == len(rec.data)
    assert reader.error is None or isinstance(reader.error, CaptureError)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(raw: bytes) -> None:
    _never_crashes(raw)


_PREFIXES = [
    struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 127),
    struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 105),
    _shb(),
    _shb(">"),
    _shb() + _idb("<", 127, 0),
    gzip.compress(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 127))[:-8],
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_PREFIXES), st.binary(max_size=400))
def test_valid_header_then_random_bytes_never_crash(prefix: bytes, tail: bytes) -> None:
    _never_crashes(prefix + tail)


_SMALL = [(CAPTURES / n).read_bytes() for n in ("wpa2.eapol.cap", "210411_win10_radiotap.pcapng")]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(_SMALL),
    st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=6),
    st.integers(0, 1 << 16),
)
def test_corrupted_real_captures_never_crash(raw: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(raw)
    for where, value in flips:
        data[where % len(data)] = value
    _never_crashes(bytes(data[: max(1, cut % (len(data) + 1))]))


# ----------------------------------------------------------------------------------------------- writers
def test_writer_refuses_what_it_cannot_encode() -> None:
    w = PcapngWriter(io.BytesIO())
    with pytest.raises(EncodeError):
        w.write(0, 0, b"x")  # no interface yet
    i = w.add_interface(105, snaplen=8)
    with pytest.raises(EncodeError):
        w.write(i, 0, b"x" * 9)
    with pytest.raises(EncodeError):
        w.write(i, -1, b"x")
    with pytest.raises(EncodeError):
        w.add_interface(105, tsresol=3000)
    with pytest.raises(EncodeError):
        PcapWriter(io.BytesIO(), 105).write(1 << 62, b"x")
    with pytest.raises(EncodeError):
        PcapWriter(io.BytesIO(), 105, snaplen=4).write(0, b"12345")


def test_microsecond_pcap_truncates_nanoseconds() -> None:
    buf = io.BytesIO()
    PcapWriter(buf, 105, nanosecond=False).write(1_234_567_891_999, b"x")
    records, _ = _read(io.BytesIO(buf.getvalue()))
    assert records[0].ts_ns == 1_234_567_891_000


@needs_tshark
@needs_editcap
@pytest.mark.interop
@pytest.mark.parametrize("byteorder", ["little", "big"])
def test_tshark_reads_our_pcapng(byteorder: str, tmp_path: Path) -> None:
    original, _ = _read(CAPTURES / "example-tptk-attack.pcapng")
    path = tmp_path / "ours.pcapng"
    with open(path, "wb") as fh, PcapngWriter(fh, byteorder=byteorder, comment="krackwatch test") as w:
        a = w.add_interface(127, name="mon0")
        b = w.add_interface(127, tsresol=10**6)
        for r in original:
            w.write(
                a if r.number % 2 else b,
                r.ts_ns,
                r.data,
                origlen=r.origlen,
                comments=(f"n={r.number}", "second") if r.number % 5 == 0 else (),
            )
    rows = _tshark(
        path, "frame.number", "frame.time_epoch", "frame.len", "frame.interface_id", "frame.comment"
    )
    assert len(rows) == len(original)
    for r, (number, epoch, flen, ifid, comment) in zip(original, rows, strict=True):
        sec, _, frac = epoch.partition(".")
        assert int(sec) * 10**9 + int(frac.ljust(9, "0")) == r.ts_ns
        assert int(flen) == r.origlen and int(ifid) == (0 if r.number % 2 else 1)
        assert comment == (f"n={r.number},second" if r.number % 5 == 0 else "")
    # the bytes survive too: let editcap rewrite it as pcap and compare with the original capture
    converted = tmp_path / "converted.pcap"
    subprocess.run([EDITCAP, "-F", "pcap", str(path), str(converted)], check=True, capture_output=True)
    again, _ = _read(converted)
    assert [r.data for r in again] == [r.data for r in original]


@needs_tshark
@pytest.mark.interop
@pytest.mark.parametrize("nanosecond", [True, False])
@pytest.mark.parametrize("byteorder", ["little", "big"])
def test_tshark_reads_our_pcap(nanosecond: bool, byteorder: str, tmp_path: Path) -> None:
    original, _ = _read(CAPTURES / "wpa-Induction.pcap")
    path = tmp_path / "ours.pcap"
    with open(path, "wb") as fh, PcapWriter(fh, 127, nanosecond=nanosecond, byteorder=byteorder) as w:
        for r in original:
            w.write(r.ts_ns, r.data)
    rows = _tshark(path, "frame.time_epoch", "frame.len", "radiotap.length")
    assert len(rows) == 1093
    for r, (epoch, flen, rtlen) in zip(original, rows, strict=True):
        sec, _, frac = epoch.partition(".")
        assert int(sec) * 10**9 + int(frac.ljust(9, "0")) == r.ts_ns
        assert int(flen) == len(r.data) and int(rtlen) == r.data[2] | r.data[3] << 8


@needs_tshark
@pytest.mark.interop
def test_tshark_agrees_on_multi_section_files(tmp_path: Path) -> None:
    parts = []
    for order in ("little", "big", "little"):
        buf = io.BytesIO()
        w = PcapngWriter(buf, byteorder=order)
        w.add_interface(105)
        j = w.add_interface(105, tsresol=10**6)
        for k in range(3):
            w.write(j if k % 2 else 0, 1_700_000_000_000_000_000 + k * 1000, bytes([0x08, 0, k]) + bytes(21))
        parts.append(buf.getvalue())
    path = tmp_path / "sections.pcapng"
    path.write_bytes(b"".join(parts))
    records, reader = _read(path)
    rows = _tshark(path, "frame.interface_id", "frame.time_epoch")
    assert len(rows) == len(records) == 9
    first_of_section = {}
    for iface in reader.interfaces:
        first_of_section.setdefault(iface.section, iface.index)
    for rec, (ifid, _epoch) in zip(records, rows, strict=True):
        # tshark 4.0 numbers interfaces within their section; ours are global
        section = reader.interfaces[rec.interface].section
        assert rec.interface - first_of_section[section] == int(ifid)
    assert [reader.interfaces[r.interface].section for r in records] == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_open_capture_accepts_paths_and_file_objects(tmp_path: Path) -> None:
    name = CAPTURES / "wpa2.eapol.cap"
    by_path, _ = _read(str(name))
    by_pathlike, _ = _read(name)
    with open(name, "rb") as fh:
        by_file, reader = _read(fh)
        assert not fh.closed  # the caller's file stays open
    assert by_path == by_pathlike == by_file
    assert reader.size == os.path.getsize(name)
