"""LLC / SNAP: RFC 1042 and bridge-tunnel encapsulation (IEEE 802.2, IEEE 802.1H), against the
plaintext MPDU of the TKIP M.6.3 vector and hand-built PDUs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.wire.elements import EncodeError
from krackwatch.wire.errors import DecodeError
from krackwatch.wire.llc import LLC, LLC_SNAP_EAPOL, EtherType, decode_llc, ethertype_of, snap_header

VECTORS = Path(__file__).resolve().parents[1] / "data" / "vectors"


def test_eapol_snap_constant():
    llc = decode_llc(LLC_SNAP_EAPOL + b"\x02\x03")
    assert (llc.dsap, llc.ssap, llc.control, llc.oui) == (0xAA, 0xAA, 0x03, 0)
    assert llc.ethertype == EtherType.EAPOL == 0x888E
    assert llc.payload_offset == 8 and llc.is_snap
    assert llc.encode() == LLC_SNAP_EAPOL == snap_header(EtherType.EAPOL)
    assert ethertype_of(LLC_SNAP_EAPOL) == EtherType.EAPOL


def test_ipv4_msdu_of_the_tkip_vector():
    tkip = json.loads((VECTORS / "tkip.json").read_text())["vectors"][-1]
    mpdu = bytes.fromhex(tkip["plaintext_mpdu_hex"])
    body = mpdu[int(tkip["header_len"]) :]
    assert ethertype_of(body) == EtherType.IPV4
    llc = decode_llc(body)
    assert llc.ethertype == EtherType.IPV4 and body[llc.payload_offset] >> 4 == 4  # IPv4 version nibble


def test_bridge_tunnel_and_other_snap_ouis():
    bt = snap_header(EtherType.IPX, bridge_tunnel=True)
    assert bt == bytes.fromhex("aaaa030000f88137") and ethertype_of(bt) == EtherType.IPX
    assert decode_llc(bt).oui == 0x0000F8
    cisco = bytes.fromhex("aaaa0300000c2000")  # CDP: SNAP with a vendor OUI, not an EtherType
    assert ethertype_of(cisco) is None
    llc = decode_llc(cisco)
    assert llc.oui == 0x00000C and llc.ethertype == 0x2000 and llc.encode() == cisco


def test_non_snap_llc_control_lengths():
    stp = decode_llc(bytes.fromhex("424203000000"))  # STP BPDU: U-format UI, 1-octet control
    assert (stp.dsap, stp.ssap, stp.control, stp.oui) == (0x42, 0x42, 0x03, None)
    assert stp.payload_offset == 3 and stp.encode() == bytes.fromhex("424203")
    i_format = decode_llc(bytes.fromhex("f0f00a0b99"))  # I-format: 2-octet control
    assert i_format.control == 0x0B0A and i_format.payload_offset == 4
    assert i_format.encode() == bytes.fromhex("f0f00a0b")
    assert ethertype_of(bytes.fromhex("424203000000")) is None


def test_truncated_headers_raise():
    for raw, offset in ((b"\xaa\xaa", 0), (b"\xf0\xf0\x0a", 2), (b"\xaa\xaa\x03\x00\x00\x00\x88", 3)):
        with pytest.raises(DecodeError) as exc:
            decode_llc(raw)
        assert exc.value.offset == offset
    assert ethertype_of(b"\xaa\xaa\x03") is None


def test_encode_validation():
    with pytest.raises(EncodeError):
        LLC(0xAA, 0xAA, 3, None, 0x0800).encode()
    with pytest.raises(EncodeError):
        LLC(0xAA, 0xAA, 0x1FF, control_len=1).encode()
    with pytest.raises(EncodeError):
        snap_header(0x10000)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=12))
def test_random_bodies_decode_or_raise_and_round_trip(body):
    try:
        llc = decode_llc(body)
    except DecodeError:
        return
    assert llc.encode() + body[llc.payload_offset :] == body
    et = ethertype_of(body)
    if et is not None:
        assert llc.ethertype == et and llc.oui in (0, 0x0000F8)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 0xFFFF), st.booleans(), st.binary(max_size=8))
def test_snap_headers_round_trip(ethertype, bt, payload):
    body = snap_header(ethertype, bridge_tunnel=bt) + payload
    assert ethertype_of(body) == ethertype
    assert decode_llc(body) == LLC(0xAA, 0xAA, 3, 0x0000F8 if bt else 0, ethertype)
