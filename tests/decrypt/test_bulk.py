"""The compiled record loops (Accel.pcap_run / pcapng_run behind CaptureReader.bulk) against the Python loop.

analyse_capture with the C extension hands runs of records straight from the reader's buffer to the
compiled fast path. The truth is the pure-Python path (accelerate=False, checked against the peers by the
other tests here): summary and output must be byte-identical for every container layout the reader
understands -- classic pcap in both byte orders, micro- and nanoseconds, Kuznetzov's 24-octet record
headers; pcapng with several sections and byte orders, several interfaces with their own resolution and
offset, EPBs with comments or other options, SPBs and non-packet blocks in between -- at every buffer
boundary (CHUNK shrunk) and cut off at any octet. A spy proves the runs are not vacuous.
"""

from __future__ import annotations

import dataclasses
import io
import struct

import pytest
from decrypt import synth
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.decrypt import engine, run
from krackwatch.decrypt.run import analyse_capture
from krackwatch.wire import capture

if not engine.ACCELERATED:
    pytest.skip("krackwatch.decrypt._fastpath was not built (no compiler or OpenSSL headers)",
                allow_module_level=True)

_DEFAULT_CHUNK = capture.CHUNK


# --------------------------------------------------------------------------- hand-built containers
def _pcap(records, *, order: str = "<", nano: bool = False, kuznetzov: bool = False) -> bytes:
    """Classic pcap (draft-ietf-opsawg-pcap 4): file header, then (ts, frac, caplen, origlen) records."""
    magic = 0xA1B2CD34 if kuznetzov else (0xA1B23C4D if nano else 0xA1B2C3D4)
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, 127)]
    for ts, data in records:
        sec, rest = divmod(ts, 1_000_000_000)
        frac = rest if nano else rest // 1000
        out.append(struct.pack(order + "IIII", sec, frac, len(data), len(data) + 7))
        if kuznetzov:
            out.append(bytes(8))  # ifindex, protocol, pkt_type, pad
        out.append(data)
    return b"".join(out)


def _block(order: str, btype: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(order + "II", btype, n) + body + struct.pack(order + "I", n)


def _option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + bytes(-len(value) % 4)


def _shb(order: str) -> bytes:
    return _block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def _idb(order: str, *, tsresol: int | None = None, tsoffset: int | None = None) -> bytes:
    opts = b""
    if tsresol is not None:
        opts += _option(order, 9, bytes((tsresol,)))
    if tsoffset is not None:
        opts += _option(order, 14, struct.pack(order + "q", tsoffset))
    if opts:
        opts += _option(order, 0, b"")
    return _block(order, 1, struct.pack(order + "HHI", 127, 0, 0) + opts)


def _epb(order: str, ifid: int, ticks: int, data: bytes, opts: bytes = b"") -> bytes:
    body = struct.pack(order + "IIIII", ifid, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data) + 3)
    return _block(order, 6, body + data + bytes(-len(data) % 4) + opts)


def _pcapng_variety(records) -> bytes:
    """Two sections (little-, then big-endian); interfaces with ns, us, 2^-20 s resolution and an offset;
    EPBs with a comment, with an epb_flags option, an SPB, name resolution and statistics blocks."""
    out = []
    half = len(records) // 2
    for sec_no, (order, part) in enumerate((("<", records[:half]), (">", records[half:]))):
        out.append(_shb(order))
        out.append(_idb(order, tsresol=9))
        out.append(_idb(order))  # microseconds (the default)
        out.append(_idb(order, tsresol=0x80 | 20, tsoffset=3))
        for i, (ts, data) in enumerate(part):
            ifid = (i // 3) % 3
            ticks = ts if ifid == 0 else ts // 1000 if ifid == 1 else ((ts - 3_000_000_000) << 20) // 10**9
            opts = b""
            if i % 7 == 3:
                opts = _option(order, 1, f"record {i} of section {sec_no}".encode()) + _option(order, 0, b"")
            elif i % 7 == 5:
                opts = _option(order, 2, struct.pack(order + "I", 1)) + _option(order, 0, b"")
            out.append(_epb(order, ifid, ticks, data, opts))
            if i == 4:
                out.append(_block(order, 4, _option(order, 0, b"")))  # NRB, nothing in it
            if i == 6:
                out.append(_block(order, 5, struct.pack(order + "III", 0, 0, 0)))  # ISB
        if sec_no == 0 and part:
            out.append(_block(order, 3, struct.pack(order + "I", len(part[0][1])) + part[0][1]))  # SPB
    return b"".join(out)


def _records(name: str = "psk-ccmp128"):
    """The scenario's records plus its protected data repeated under rising sequence numbers (the same PN
    again is a replay the decryptor still decrypts; what matters here is that many records go through C)."""
    cap = synth.scenario(name)
    recs = list(cap.records)
    ts = recs[-1][0]
    protected = [d for (_, d), e in zip(cap.records, cap.expected) if e is not None]
    for d in protected * 3:
        ts += 1000
        recs.append((ts, d))
    return cap, recs


LAYOUTS = {
    "pcap-le-us": lambda r: _pcap(r),
    "pcap-be-ns": lambda r: _pcap(r, order=">", nano=True),
    "pcap-kuznetzov": lambda r: _pcap(r, kuznetzov=True),
    "pcapng-variety": _pcapng_variety,
}


class _Counting(run._Bulk):
    taken = 0

    def _taken(self, n, lo, hi, blob):
        _Counting.taken += n
        super()._taken(n, lo, hi, blob)


def _summary_key(s: run.CaptureSummary):
    err = s.error
    return (dataclasses.replace(s, error=None), None if err is None else (str(err), err.offset))


def _run(data: bytes, ring, *, accelerate: bool, output: bool):
    buf = io.BytesIO() if output else None
    s = analyse_capture(io.BytesIO(data), ring, output=buf, accelerate=accelerate)
    return _summary_key(s), (buf.getvalue() if buf is not None else None)


@pytest.fixture
def spy(monkeypatch):
    monkeypatch.setattr(run, "_Bulk", _Counting)
    _Counting.taken = 0
    return _Counting


@pytest.mark.parametrize("output", [True, False], ids=["output", "count-only"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("chunk", [_DEFAULT_CHUNK, 200, 61])
def test_layouts_identical(layout, chunk, output, spy, monkeypatch):
    monkeypatch.setattr(capture, "CHUNK", chunk)
    cap, recs = _records()
    data = LAYOUTS[layout](recs)
    fast = _run(data, cap.keyring, accelerate=True, output=output)
    slow = _run(data, cap.keyring, accelerate=False, output=output)
    assert fast == slow
    assert fast[0][0].frames == len(recs) + (layout == "pcapng-variety")  # the SPB copy
    if chunk == _DEFAULT_CHUNK:  # (tiny chunks hold a record or two between refills)
        assert spy.taken >= len(recs) // 3  # C took runs of records, not one here and there


@pytest.mark.parametrize("name", ["psk-gcmp256", "group-rekey", "ptk-rekey", "wds"])
def test_scenarios_pcap_identical(name, spy):
    cap, recs = _records(name)
    for data in (_pcap(recs, nano=True), _pcapng_variety(recs)):
        assert _run(data, cap.keyring, accelerate=True, output=True) == _run(
            data, cap.keyring, accelerate=False, output=True)
    assert spy.taken > 0


_CUTS = {layout: LAYOUTS[layout](_records()[1]) for layout in LAYOUTS}


@settings(max_examples=60, deadline=None)
@given(layout=st.sampled_from(sorted(LAYOUTS)), where=st.floats(0.0, 1.0), chunk=st.sampled_from([97, 4096]))
def test_truncated_anywhere_identical(layout, where, chunk):
    """A capture cut at any octet: the same records, output and error (text and offset) either way."""
    data = _CUTS[layout]
    cut = data[: max(24 if layout.startswith("pcap-") else 28, int(len(data) * where))]
    ring = synth.scenario("psk-ccmp128").keyring
    old = capture.CHUNK
    capture.CHUNK = chunk
    try:
        assert _run(cut, ring, accelerate=True, output=True) == _run(cut, ring, accelerate=False, output=True)
    finally:
        capture.CHUNK = old


def test_progress_reported_during_runs(spy):
    cap, recs = _records()
    data = _pcap(recs * 40)
    seen = []
    analyse_capture(io.BytesIO(data), cap.keyring, output=io.BytesIO(), progress=lambda p, t: seen.append(p))
    assert spy.taken > 1000
    assert len(seen) >= 2 and seen[-1] == len(data)


def test_timestamps_beyond_64_bits_stay_on_python_path(spy):
    """An interface whose ticks * mul overflows 64 bits (2^-60 s resolution with a large count): the C loop
    refuses those records, the Python loop's integers handle them; results identical."""
    cap, recs = _records()
    order = "<"
    out = [_shb(order), _idb(order, tsresol=0x80 | 60)]
    for ts, d in recs:
        out.append(_epb(order, 0, ((ts << 60) // 10**9) & (2**64 - 1) | (1 << 63), d))
    data = b"".join(out)
    assert _run(data, cap.keyring, accelerate=True, output=True) == _run(
        data, cap.keyring, accelerate=False, output=True)


def test_run_api_declines_what_it_cannot_read():
    """Direct calls: a buffer that is not bytes, a position past the end, or an interface left to Python
    take nothing and hand the position back unchanged."""
    from krackwatch.decrypt import _fastpath

    _cap, recs = _records()
    data = _pcap(recs)
    a = _fastpath.Accel()
    assert a.pcap_run(bytearray(data), 24, False, 1000, 16, 127, 0) == (24, 0, None, None, b"")
    assert a.pcap_run(data, len(data) + 5, False, 1000, 16, 127, 0) == (len(data) + 5, 0, None, None, b"")
    assert a.pcap_run(data, 24, False, 1000, 16, 127, 0) == (24, 0, None, None, b"")  # no key cached yet
    ng = _shb("<") + _idb("<") + _epb("<", 0, 5, recs[0][1])
    start = len(_shb("<") + _idb("<"))
    assert a.pcapng_run(ng, start, False, ((127, 1000, 1, 0, -1),), True) == (start, 0, None, None, b"", None)
    with pytest.raises(ValueError):
        a.pcap_run(data, 24, False, 7, 16, 127, 0)  # a fraction unit pcap does not have
