"""Hostile input and bounded memory: random or mutated frames give findings or a typed error, never another
exception, and what the analysis keeps per station does not grow with the capture."""

from __future__ import annotations

import io
import struct

from decrypt import synth
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kwtest import CAPTURES

from krackwatch.decrypt import keys
from krackwatch.detect import Analyzer
from krackwatch.detect.tracker import HEAD, MAX_EVENTS, RING
from krackwatch.errors import KrackwatchError
from krackwatch.wire import PcapngWriter, open_capture

TPTK_RECORDS = [r.data for r in open_capture(CAPTURES / "example-tptk-attack.pcapng")]
RADIOTAP = synth.radiotap(fcs=False)


def _analyse(records: list[tuple[int, bytes]], linktype: int = 127, ring=None):
    buf = io.BytesIO()
    w = PcapngWriter(buf)
    iface = w.add_interface(linktype)
    for ts, data in records:
        w.write(iface, ts, data)
    buf.seek(0)
    az = Analyzer(ring)
    try:
        with open_capture(buf) as reader:
            az.scan(reader, "memory")
        return az, az.conclude()
    except KrackwatchError:
        return az, None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(min_size=0, max_size=120), min_size=1, max_size=12),
       st.sampled_from([105, 127, 119, 163, 192, 1]))
def test_random_frames_never_crash(frames, linktype) -> None:
    _analyse([(10**18 + i * 1000, (RADIOTAP if linktype == 127 else b"") + f) for i, f in enumerate(frames)],
             linktype)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(TPTK_RECORDS) - 1), st.integers(0, 400), st.integers(0, 255)),
                min_size=1, max_size=20),
       st.booleans())
def test_mutated_real_capture_never_crashes(mutations, with_key) -> None:
    """The TPTK example with bytes overwritten here and there (handshakes, CCMP headers, radiotap), with and
    without the passphrase (so that decryption and EAPOL parsing of damaged frames run too)."""
    records = [bytearray(r) for r in TPTK_RECORDS]
    for idx, pos, value in mutations:
        rec = records[idx]
        if pos < len(rec):
            rec[pos] = value
        else:
            rec.extend(bytes((value,)))
    ring = keys.KeyRing.of([keys.passphrase("password", "simulnet")]) if with_key else None
    _analyse([(10**18 + i * 1000, bytes(r)) for i, r in enumerate(records)], ring=ring)


def _ccmp_data(ta: bytes, ra: bytes, pn: int, seq: int, payload: bytes) -> bytes:
    header = struct.pack("<BBH6s6s6sH", 0x08, 0x41, 0, ra, ta, ra, seq << 4)
    iv = bytes((pn & 0xFF, (pn >> 8) & 0xFF, 0, 0x20)) + (pn >> 16).to_bytes(4, "little")
    return header + iv + payload + bytes(8)


def test_memory_is_bounded_by_stations_not_by_frames() -> None:
    """One station whose PN goes back a thousand times, another sending ten thousand frames: each keeps at
    most HEAD + RING frames and MAX_EVENTS events, however long the capture."""
    ap, sta, sta2 = bytes.fromhex("02aa00000001"), bytes.fromhex("02aa00000002"), bytes.fromhex("02aa00000003")
    records = []
    ts = 10**18
    for i in range(1000):
        for pn in (1, 2):  # restart to 1 every other frame: an event each time
            ts += 1_000_000
            records.append((ts, RADIOTAP + _ccmp_data(sta, ap, pn, i * 2 + pn, bytes([i & 0xFF]) * 40)))
    for i in range(10_000):
        ts += 100_000
        records.append((ts, RADIOTAP + _ccmp_data(sta2, ap, i + 1, i & 0xFFF, bytes(40))))
    az, analysis = _analyse(records)
    assert analysis is not None
    busy = az.streams[ap + sta]
    quiet = az.streams[ap + sta2]
    for s in (busy, quiet):
        assert len(s.head) <= HEAD and len(s.ring) == RING and len(s.prev_head) <= HEAD
        assert len(s.events) <= MAX_EVENTS
    assert busy.n_events >= 999 and quiet.n_events == 0
    assert quiet.total == 10_000
    (f,) = [f for f in analysis.findings if f.rule == "pairwise-nonce-reuse"]
    assert dict(f.counts)["events"] == busy.n_events  # counted in full, kept in part
