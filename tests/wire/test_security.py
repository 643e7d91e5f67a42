"""CCMP / GCMP / TKIP / WEP headers against the published encrypted MPDUs in tests/data/vectors
(whose PNs are given PN5..PN0) and the layouts of IEEE 802.11-2020 12.5."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.wire.dot11 import decode_dot11
from krackwatch.wire.elements import EncodeError
from krackwatch.wire.errors import DecodeError
from krackwatch.wire.security import (
    CcmpHeader,
    GcmpHeader,
    TkipHeader,
    WepHeader,
    ccmp_pn,
    decode_ccmp_header,
    decode_tkip_header,
    decode_wep_header,
    has_ext_iv,
    key_id_of,
    tkip_tsc,
)

VECTORS = Path(__file__).resolve().parents[1] / "data" / "vectors"


def _vectors(family: str) -> list[dict]:
    return json.loads((VECTORS / f"{family}.json").read_text())["vectors"]


def _encrypted(v: dict) -> bytes:
    e = v["expected"]
    return bytes.fromhex(e.get("encrypted_mpdu_hex") or e["encrypted_mpdu_hex_hostap_output"])


@pytest.mark.parametrize("v", [v for v in _vectors("ccmp")], ids=lambda v: v["name"][:40])
def test_ccmp_vector_headers(v):
    frame = decode_dot11(_encrypted(v))
    assert frame.header.protected
    hdr = decode_ccmp_header(frame.body)
    assert hdr.pn == int(v["pn_hex_PN5_to_PN0"], 16)
    assert hdr.key_id == 0 and hdr.reserved == 0
    assert hdr.encode() == frame.body[:8]
    assert ccmp_pn(frame.body) == hdr.pn and key_id_of(frame.body) == 0 and has_ext_iv(frame.body)


def test_gcmp256_vector_header():
    v = next(v for v in _vectors("gcmp") if "GCMP-256" in v["name"])
    frame = decode_dot11(_encrypted(v))
    hdr = GcmpHeader.decode(frame.body)
    assert hdr.pn == int(v["pn_hex_PN5_to_PN0"], 16) == 0x00895F5F2B08
    assert hdr.encode() == frame.body[:8]


def test_ccmp_header_bytes_from_the_freebsd_vectors():
    # protocol.md 6: MPDU 1 (PN 0xB5039776E70C, key 0) and MPDU 2 (PN 0x31F3CBBA97EA, key 2).
    assert CcmpHeader(0xB5039776E70C, 0).encode() == bytes.fromhex("0ce70020769703b5")
    assert CcmpHeader.decode(bytes.fromhex("ea9700a0bacbf331")) == CcmpHeader(0x31F3CBBA97EA, 2)


def test_tkip_m63_header():
    v = next(v for v in _vectors("tkip") if "M.6.3" in v["name"])
    frame = decode_dot11(_encrypted(v))
    raw = bytes.fromhex(v["expected"]["iv_extiv_hex_from_source_comment"])
    assert frame.body[:8] == raw
    hdr = decode_tkip_header(frame.body)
    assert hdr.tsc == int(v["pn_hex_TSC5_to_TSC0"], 16) == 1
    assert hdr.key_id == 0 and hdr.wep_seed_valid and hdr.encode() == raw
    assert tkip_tsc(frame.body) == 1 and TkipHeader.for_tsc(1) == hdr


def test_tkip_wep_seed_rule():
    # 12.5.2.2: WEPSeed[1] = (TSC1 | 0x20) & 0x7F
    h = TkipHeader.for_tsc(0x12345678ABCD, key_id=1)
    raw = h.encode()
    assert raw[0] == 0xAB and raw[1] == (0xAB | 0x20) & 0x7F and raw[2] == 0xCD
    assert raw[3] == 0x60 and raw[4:] == bytes.fromhex("78563412")
    assert TkipHeader.decode(raw) == h
    odd = TkipHeader.decode(bytes((0xAB, 0x00)) + raw[2:])
    assert not odd.wep_seed_valid and odd.encode() == bytes((0xAB, 0x00)) + raw[2:]


def test_wep_header():
    h = decode_wep_header(bytes.fromhex("0102038012"))
    assert h == WepHeader(b"\x01\x02\x03", 2) and h.encode() == bytes.fromhex("01020380")
    assert not has_ext_iv(bytes.fromhex("01020380"))
    with pytest.raises(DecodeError):
        decode_wep_header(bytes.fromhex("010203a0"))  # ExtIV set: not WEP
    with pytest.raises(DecodeError):
        decode_ccmp_header(bytes.fromhex("0102008000000000"))  # ExtIV clear: not CCMP


def test_short_bodies_raise_typed_errors():
    for fn in (ccmp_pn, tkip_tsc, decode_ccmp_header, decode_tkip_header):
        with pytest.raises(DecodeError):
            fn(bytes(7))
    for fn in (key_id_of, has_ext_iv, decode_wep_header):
        with pytest.raises(DecodeError):
            fn(bytes(3))


def test_encode_validation():
    with pytest.raises(EncodeError):
        CcmpHeader(1 << 48, 0).encode()
    with pytest.raises(EncodeError):
        CcmpHeader(1, 4).encode()
    with pytest.raises(EncodeError):
        WepHeader(b"\x00\x00", 0).encode()


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=12))
def test_random_bytes_to_every_header_decoder(body):
    for cls in (CcmpHeader, TkipHeader, WepHeader):
        try:
            h = cls.decode(body)
        except DecodeError:
            continue
        assert h.encode() == body[: cls.LENGTH]
    if len(body) >= 8 and has_ext_iv(body):
        assert CcmpHeader.decode(body).pn == ccmp_pn(body)
        assert TkipHeader.decode(body).tsc == tkip_tsc(body)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, (1 << 48) - 1), st.integers(0, 3))
def test_pn_round_trips(pn, key_id):
    raw = CcmpHeader(pn, key_id).encode()
    assert ccmp_pn(raw) == pn and key_id_of(raw) == key_id and raw[2] == 0 and raw[3] & 0x3F == 0x20
    assert TkipHeader.decode(TkipHeader.for_tsc(pn, key_id).encode()).tsc == pn
