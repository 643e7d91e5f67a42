"""The decryptor's fast paths (Python's ``_fast_path`` and, when built, the compiled one) against its full path.

Once a key has worked for an address pair, later frames of that pair take a shortcut that does not build
the radiotap and 802.11 objects. The shortcut must not change any answer: the truth is the full path (the
same Decryptor with its key cache emptied before every record, so each record is split by
``split_link`` and decoded in full). Radiotap headers here range over what drivers write (several
presence words, namespaces, TSFT/Flags/Channel in any combination, FCS flagged or not) and what they must
not (short or overlong it_len, fields or presence words running past it, version 1).
"""

from __future__ import annotations

import struct
import zlib

from decrypt import synth
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.decrypt import engine
from krackwatch.decrypt.engine import Decryptor


def _primed(accelerate: bool) -> tuple[Decryptor, list[bytes]]:
    """A decryptor fed the whole scenario, and the bare 802.11 frames (no FCS) its key cache covers."""
    cap = synth.scenario("psk-ccmp128")
    dec = Decryptor(cap.keyring, accelerate=accelerate)
    frames = []
    for (_, data), exp in zip(cap.records, cap.expected):
        res = dec.process(127, data)
        if exp is not None and res.frame is not None:
            hl = res.link_header
            frames.append(data[hl:-4] if res.fcs else data[hl:])
    frames = [f for f in frames if f[4:16] in dec._fast]
    assert frames
    return dec, frames


# Field sizes and alignments of presence bits 0-5 (radiotap.org: TSFT, Flags, Rate, Channel, FHSS, dBm signal;
# FHSS aligned to 2 as Linux's radiotap parser has it).
_FIELDS = [(8, 8), (1, 1), (1, 1), (4, 2), (2, 2), (1, 1)]


@st.composite
def _radiotap(draw, frame: bytes) -> bytes:
    """A radiotap header for ``frame`` (which gets a good, bad or no FCS) -- well-formed or not."""
    fcs = draw(st.sampled_from(["none", "good", "bad"]))
    if fcs == "good":
        frame += struct.pack("<I", zlib.crc32(frame))
    elif fcs == "bad":
        frame += struct.pack("<I", zlib.crc32(frame) ^ 1)
    w0 = draw(st.one_of(st.sampled_from([0x02, 0x03, 0x0B, 0x0F, 0x2E, 0x2F, 0xA000402F, 0x8000000A,
                                         0x20000002, 0x40000002]), st.integers(0, 0xFFFFFFFF)))
    words = [w0]
    while words[-1] & 0x80000000 and len(words) < 5:
        nxt = draw(st.one_of(st.sampled_from([0x00000820, 0xA0000820, 0x80000000]), st.integers(0, 0xFFFFFFFF)))
        if len(words) == 4:
            nxt &= 0x7FFFFFFF
        words.append(nxt)
    head = bytearray(struct.pack(f"<BBH{len(words)}I", 0, 0, 0, *words))
    flags = draw(st.sampled_from([0x00, 0x10, 0x02, 0x50, 0x12, 0x20]))
    pos = len(head)
    for bit, (size, align) in enumerate(_FIELDS):
        if w0 >> bit & 1:
            pad = -pos % align
            head += bytes(pad)
            head += bytes((flags,)) if bit == 1 else draw(st.binary(min_size=size, max_size=size))
            pos += pad + size
    head += draw(st.binary(max_size=12))  # fields of later bits or namespaces, opaque here
    kind = draw(st.sampled_from(["ok"] * 6 + ["short", "long", "cut", "version"]))
    length = len(head)
    if kind == "short":
        length = draw(st.integers(0, len(head)))
    elif kind == "long":
        length = len(head) + len(frame) + draw(st.integers(1, 8))
    elif kind == "cut":
        frame = frame[: draw(st.integers(0, len(frame)))]
    elif kind == "version":
        head[0] = 1
    struct.pack_into("<H", head, 2, length & 0xFFFF)
    return bytes(head) + frame


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_fast_paths_answer_as_the_full_path(data):
    fast, frames = _primed(False)
    full, _ = _primed(False)
    compiled = _primed(True)[0] if engine.ACCELERATED else None
    for _ in range(data.draw(st.integers(1, 6))):
        record = data.draw(_radiotap(data.draw(st.sampled_from(frames))))
        full._fast.clear()  # every record through split_link and the full decode
        want = full.process(127, record)
        assert fast.process(127, record) == want
        if compiled is not None:
            assert compiled.process(127, record) == want
    assert fast.link_summaries() == full.link_summaries()
    assert (fast.outcomes, fast.decrypted_unicast) == (full.outcomes, full.decrypted_unicast)
    if compiled is not None:
        compiled.sync()
        assert (compiled.outcomes, compiled.decrypted_unicast) == (full.outcomes, full.decrypted_unicast)


def test_extended_presence_words_take_the_fast_path():
    """A header such as Linux mac80211 writes (three presence words, radiotap and vendor namespaces) is
    handled by the fast paths, not only by the full one."""
    dec, frames = _primed(False)
    words = (0xA000402F, 0xA0000820, 0x00000820)
    head = struct.pack("<BBH3I", 0, 0, 0, *words)
    head += bytes(-len(head) % 8) + bytes(8)  # TSFT
    head += bytes((0x10,)) + b"\x02" + struct.pack("<HH", 2437, 0x00A0) + b"\xd0"  # Flags(FCS) Rate Channel sig
    head = head[:2] + struct.pack("<H", len(head) + 2) + head[4:] + b"\x00\x00"
    frame = frames[-1]
    record = head + frame + struct.pack("<I", zlib.crc32(frame))
    assert dec._fast_path(127, record) is not None
    if engine.ACCELERATED:
        c, _ = _primed(True)
        assert c._c.decrypt(127, record) is not None
