"""The compiled fast path (krackwatch.decrypt._fastpath) against the pure-Python path it replaces.

The truth is the Python path (itself checked against wlantest, airdecap-ng and tshark by the other tests in
this package): with the extension on and off, the summary and the output pcapng must be byte-identical on
every real capture and every synthetic scenario, frame by frame results must agree on mutated and random
records, and the extension must actually take the frames it is meant to take.
"""

from __future__ import annotations

import io
import os
import struct
import zlib

import pytest
from decrypt import synth
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kwtest import CAPTURES, manifest

from krackwatch.decrypt import engine, keys
from krackwatch.decrypt.engine import Decryptor, recompute_fcs
from krackwatch.decrypt.run import analyse_capture
from krackwatch.wire.capture import PcapngWriter

if os.environ.get("CI", "").lower() == "true":
    assert engine.ACCELERATED, "CI builds the C extension (libssl-dev is installed): it must be importable"
if not engine.ACCELERATED:
    pytest.skip("krackwatch.decrypt._fastpath was not built (no compiler or OpenSSL headers)",
                allow_module_level=True)

from krackwatch.decrypt import _fastpath

ENTRIES = {e.filename: e for e in manifest()}
CAPTURE_FILES = sorted(p.name for p in CAPTURES.iterdir() if p.suffix in (".pcap", ".pcapng", ".cap"))
SCENARIOS = list(synth.SCENARIOS)


def _ring(name: str) -> keys.KeyRing | None:
    e = ENTRIES.get(name)
    if e is None or not e.passphrase:
        return None
    return keys.KeyRing.of([keys.passphrase(e.passphrase, e.ssid)])


def _both(source, ring) -> tuple:
    """(summary, output bytes) with the compiled path, then without."""
    out = []
    for accelerate in (True, False):
        buf = io.BytesIO()
        summary = analyse_capture(source, ring, output=buf, accelerate=accelerate)
        out.append((summary, buf.getvalue()))
    return out


@pytest.mark.parametrize("name", CAPTURE_FILES)
def test_real_captures_identical(name):
    (fast, fast_out), (slow, slow_out) = _both(CAPTURES / name, _ring(name))
    assert fast == slow
    assert fast_out == slow_out


class _Spy:
    """Counts the records the compiled object decrypted (to prove the comparisons are not vacuous)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.hits = 0

    def decrypt(self, linktype, data):
        hit = self.inner.decrypt(linktype, data)
        self.hits += hit is not None
        return hit

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenarios_identical(name, tmp_path):
    cap = synth.scenario(name)
    path = tmp_path / "in.pcapng"
    cap.write(path)
    (fast, fast_out), (slow, slow_out) = _both(path, cap.keyring)
    assert fast == slow
    assert fast_out == slow_out
    # Frame by frame through Decryptor.process: same results, and CCMP/GCMP data really went through C.
    a, b = Decryptor(cap.keyring, accelerate=True), Decryptor(cap.keyring)
    spy = a._c = _Spy(a._c)
    for _, data in cap.records:
        assert a.process(127, data) == b.process(127, data)
    assert a.link_summaries() == b.link_summaries()
    assert (a.outcomes, a.decrypted_unicast, a.decrypted_group) == (b.outcomes, b.decrypted_unicast,
                                                                    b.decrypted_group)
    if name.startswith(("psk-ccmp", "psk-gcmp", "group-rekey", "ptk-rekey", "8021x", "ft-")):
        assert spy.hits > 0


def test_real_capture_goes_through_c():
    e = ENTRIES["wpa2-psk-linksys.cap"]
    from krackwatch.wire.capture import open_capture

    a = Decryptor(_ring(e.filename), accelerate=True)
    spy = a._c = _Spy(a._c)
    with open_capture(e.path) as r:
        for rec in r:
            a.process(rec.linktype, rec.data)
    assert spy.hits > 10


# --------------------------------------------------------------------------- mutated and random records
def _epb_python(dec: Decryptor, linktype: int, data: bytes, ts: int) -> bytes:
    """What analyse_capture writes for one decrypted record on the Python path (b"" when not decrypted)."""
    res = dec.process(linktype, data)
    if res.frame is None:
        return b""
    out = data[: res.link_header] + res.frame
    if res.fcs:
        out += recompute_fcs(res.frame)
    buf = io.BytesIO()
    w = PcapngWriter(buf, application="", comment=None)
    iface = w.add_interface(linktype, snaplen=262144)
    start = len(buf.getvalue())
    w.write(iface, ts, out, origlen=len(out))
    return buf.getvalue()[start:]


def _primed(name: str) -> tuple[Decryptor, Decryptor, list[bytes]]:
    """Two decryptors (C on, C off) fed the scenario up to its first protected data frame that C takes;
    and the protected records that follow (the material to mutate)."""
    cap = synth.scenario(name)
    a, b = Decryptor(cap.keyring, accelerate=True), Decryptor(cap.keyring)
    rest = []
    for i, (_, data) in enumerate(cap.records):
        if a._fast and cap.expected[i] is not None:
            rest = [d for (_, d), e in zip(cap.records[i:], cap.expected[i:]) if e is not None]
            break
        assert a.process(127, data) == b.process(127, data)
    assert rest
    return a, b, rest


_MUTABLE = ["psk-ccmp128", "psk-ccmp256", "psk-gcmp128", "psk-gcmp256"]


@pytest.mark.parametrize("name", _MUTABLE)
def test_unmutated_stream_goes_through_c(name):
    a, b, rest = _primed(name)
    taken = 0
    for i, data in enumerate(rest):
        want = _epb_python(b, 127, data, i)
        got = a.fast_epb(127, data, 0, i, len(data), len(data))
        taken += got is not None
        assert (got if got is not None else _epb_python(a, 127, data, i)) == want
    assert taken >= len(rest) // 2


@st.composite
def _mutations(draw):
    ops = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["same", "flip", "set", "cut", "grow", "retry", "fc", "random", "rtap"]))
        ops.append((kind, draw(st.integers(0, 1 << 16)), draw(st.integers(0, 255)),
                    draw(st.binary(max_size=80))))
    return ops


def _mutate(data: bytes, kind: str, pos: int, val: int, blob: bytes) -> bytes:
    b = bytearray(data)
    hl = b[2] | (b[3] << 8) if len(b) > 4 else 0
    if kind == "flip":
        b[pos % len(b)] ^= 1 << (val % 8)
    elif kind == "set":
        b[pos % len(b)] = val
    elif kind == "cut":
        del b[pos % len(b):]
    elif kind == "grow":
        b += blob
    elif kind == "retry" and len(b) > hl + 1:
        b[hl + 1] |= 0x08
    elif kind == "fc" and len(b) > hl + 1:
        b[hl + (pos & 1)] ^= val
    elif kind == "random":
        return blob
    elif kind == "rtap":
        b[pos % min(len(b), 24)] = val
    return bytes(b)


@pytest.mark.parametrize("name", _MUTABLE)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_mutations())
def test_mutated_records_identical(name, ops):
    a, b, rest = _primed(name)
    ts = 1_700_000_000_000_000_000
    for i, (kind, pos, val, blob) in enumerate(ops):
        data = rest[(pos + i) % len(rest)]
        if kind != "same":
            data = _mutate(data, kind, pos, val, blob)
        for linktype in (127, 105) if kind == "random" else (127,):
            ts += 1
            try:
                want = _epb_python(b, linktype, data, ts)
            except Exception as exc:  # noqa: BLE001 -- the Python path's own behaviour on garbage
                with pytest.raises(type(exc)):
                    if a.fast_epb(linktype, data, 0, ts, len(data), len(data)) is None:
                        a.process(linktype, data)
                continue
            got = a.fast_epb(linktype, data, 0, ts, len(data), len(data))
            if got is None:
                got = _epb_python(a, linktype, data, ts)
            assert got == want
    a.sync()
    assert a.link_summaries() == b.link_summaries()
    assert (a.outcomes, a.decrypted_unicast, a.decrypted_group) == (b.outcomes, b.decrypted_unicast,
                                                                    b.decrypted_group)
    assert a.frame_no == b.frame_no


@st.composite
def _crafted(draw, pairs):
    """A record protected under a key both decryptors have cached, with arbitrary header flags, QoS TID,
    +HTC, 4 addresses, sequence control, payload (EAPOL or not), FCS (good, bad, none) and radiotap."""
    pair, slot = draw(st.sampled_from(pairs))
    # Small value sets make (pair, TID, sequence control) collide, so Retry copies and TIDs that differ in
    # bit 3 only exercise the duplicate table; the wide draws cover the rest of the header.
    subtype = draw(st.one_of(st.sampled_from([0, 8]), st.integers(0, 15)))
    fc0 = 0x08 | (subtype << 4) | (3 if draw(st.integers(0, 30)) == 0 else 0)
    fc1 = draw(st.one_of(st.sampled_from([0x40, 0x48, 0x41, 0x4A, 0xC8]), st.integers(0, 255))) | 0x40
    header = bytes((fc0 & 0xFC, fc1)) + bytes(2) + pair + draw(st.binary(min_size=6, max_size=6))
    header += struct.pack("<H", draw(st.sampled_from([0x10, 0x20, 0x11, 0xFFFF])))
    if fc1 & 3 == 3:
        header += draw(st.binary(min_size=6, max_size=6))
    if fc0 & 0x80:
        qc = draw(st.one_of(st.sampled_from([0x01, 0x09, 0x07, 0x0F, 0x8F]), st.integers(0, 255)))
        header += bytes((qc, draw(st.integers(0, 255))))
        if fc1 & 0x80:
            header += draw(st.binary(min_size=4, max_size=4))
    payload = draw(st.sampled_from([b"", b"\xaa\xaa\x03\x00\x00\x00\x88\x8e", b"\xaa\xaa\x03"]))
    payload += draw(st.binary(max_size=64))
    body = slot.engine.encrypt(header, draw(st.integers(0, (1 << 48) - 1)), draw(st.integers(0, 3)), payload)
    frame = bytes((fc0, fc1)) + header[2:] + body
    fcs = draw(st.sampled_from(["none", "good", "bad"]))
    if fcs == "good":
        frame += struct.pack("<I", zlib.crc32(frame))
    elif fcs == "bad":
        frame += struct.pack("<I", zlib.crc32(frame) ^ 0x80)
    if draw(st.booleans()):
        return 105, frame
    present = draw(st.sampled_from([0, 1, 2, 3, 0x0B, 0x20000002, 0x80000002]))
    flags = draw(st.sampled_from([0, 0x10, 0x50, 0x02]))
    fields = b""
    if present & 1:
        fields += bytes(8)
    if present & 2:
        fields += bytes((flags,))
    fields += bytes(draw(st.sampled_from([0, 1, 3, 9])))
    version = 0 if draw(st.integers(0, 20)) else 1
    rtap = bytes((version, 0)) + struct.pack("<HI", 8 + len(fields), present) + fields
    return 127, rtap + frame


@pytest.mark.parametrize("name", _MUTABLE + ["group-rekey"])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_crafted_records_identical(name, data):
    a, b, _ = _primed(name)
    pairs = sorted(((k, v[3]) for k, v in b._fast.items()), key=lambda kv: kv[0])
    assert pairs and sorted(a._fast) == [k for k, _ in pairs]
    ts = 10**18
    previous: list[tuple[int, bytes]] = []
    for _ in range(data.draw(st.integers(1, 12))):
        if previous and data.draw(st.integers(0, 3)) == 0:  # a Retry copy of an earlier record
            linktype, rec = data.draw(st.sampled_from(previous))
        else:
            linktype, rec = data.draw(_crafted(pairs))
            previous.append((linktype, rec))
        ts += 1
        want = _epb_python(b, linktype, rec, ts)
        got = a.fast_epb(linktype, rec, 0, ts, len(rec), len(rec))
        if got is None:
            got = _epb_python(a, linktype, rec, ts)
        assert got == want
    assert a.link_summaries() == b.link_summaries()
    assert (a.outcomes, a.decrypted_unicast, a.decrypted_group) == (b.outcomes, b.decrypted_unicast,
                                                                    b.decrypted_group)


def test_epb_layout_and_fcs():
    """A decrypted record with an FCS: the EPB carries the recomputed FCS; the interface, timestamp and
    original length fields are where pcapng (draft-ietf-opsawg-pcapng 4.3) puts them."""
    cap = synth.scenario("psk-ccmp128")
    assert cap.fcs
    a, b, rest = _primed("psk-ccmp128")
    ts = (5 << 32) + 7
    for data in rest:
        block = a.fast_epb(127, data, 3, ts, len(data), len(data) + 100)
        if block is not None:
            break
        b.process(127, data)
        a.process(127, data)
    assert block is not None
    btype, total, iface, hi, lo, caplen, origlen = struct.unpack_from("<7I", block)
    assert (btype, total, iface, hi, lo) == (6, len(block), 3, 5, 7)
    assert origlen == caplen + 100 and total == 32 + caplen + (-caplen % 4)
    record = block[28:28 + caplen]
    hl = record[2] | (record[3] << 8)
    frame, fcs = record[hl:-4], record[-4:]
    assert fcs == struct.pack("<I", zlib.crc32(frame))
    assert not frame[1] & 0x40
    assert b.process(127, data).frame == frame


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_crc32_is_the_802_3_crc(data):
    assert _fastpath.crc32(data) == zlib.crc32(data)


def test_invalidation_on_key_install():
    """A key installed (here: a second handshake, ptk-rekey) clears the compiled cache as the Python one."""
    cap = synth.scenario("ptk-rekey")
    a = Decryptor(cap.keyring, accelerate=True)
    spy = a._c = _Spy(a._c)
    cleared = []
    orig = a._clear_fast

    def clear() -> None:
        cleared.append(a.frame_no)
        orig()

    a._clear_fast = clear
    for _, data in cap.records:
        a.process(127, data)
    assert len(cleared) >= 2 and spy.hits > 0
