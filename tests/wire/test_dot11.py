"""802.11 MAC header and management body codecs against published MPDUs (CCMP/GCMP/TKIP/BIP test
vectors of IEEE 802.11 Annex J/M as carried in tests/data/vectors) and hand-built frames that follow
the layouts of IEEE 802.11-2020 9.3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.wire.dot11 import (
    FC,
    ActionBody,
    ActionCategory,
    AssocReqBody,
    AssocRespBody,
    AtimBody,
    AuthAlgorithm,
    AuthBody,
    BeaconBody,
    CtrlSubtype,
    DataSubtype,
    Dot11Frame,
    FrameType,
    MacHeader,
    MgmtSubtype,
    ProbeReqBody,
    ReasonBody,
    decode_dot11,
    decode_header,
    decode_mgmt_body,
    encode_dot11,
    header_length,
)
from krackwatch.wire.elements import CSA, ECSA, FTE, MDE, RSNE, Element, ElementID, EncodeError
from krackwatch.wire.errors import DecodeError

VECTORS = Path(__file__).resolve().parents[1] / "data" / "vectors"


def _vector(family: str, name_part: str) -> dict:
    data = json.loads((VECTORS / f"{family}.json").read_text())
    return next(v for v in data["vectors"] if name_part in v["name"])


A = bytes.fromhex("020000000001")
B = bytes.fromhex("020000000002")
C = bytes.fromhex("020000000003")
D = bytes.fromhex("020000000004")


# --------------------------------------------------------------------------- published MPDUs


def test_ccmp_m64_mpdu_header_matches_its_aad_and_nonce():
    v = _vector("ccmp", "M.6.4 CCMP test vector")
    mpdu = bytes.fromhex(v["plaintext_mpdu_hex"])
    aad = bytes.fromhex(v["expected"]["aad_hex"])
    nonce = bytes.fromhex(v["expected"]["nonce_hex"])
    h = decode_header(mpdu)
    assert h.length == header_length(mpdu) == v["header_len"] == 24
    assert h.type is FrameType.DATA and h.subtype == DataSubtype.DATA
    # The AAD carries A1 || A2 || A3 after the masked FC; the nonce carries A2 after the flags.
    assert h.addr1 + h.addr2 + h.addr3 == aad[2:20]
    assert h.ta == nonce[1:7]
    # Masked SC in the AAD keeps only the fragment number.
    assert h.frag == int.from_bytes(aad[20:22], "little") & 0xF
    assert h.protected and h.retry and not h.to_ds and not h.from_ds
    assert h.flags == FC.PROTECTED | FC.RETRY
    assert not h.is_qos and h.tid == 0
    assert h.bssid == h.addr3 and h.da == h.addr1 and h.sa == h.addr2
    frame = decode_dot11(mpdu)
    assert encode_dot11(frame) == mpdu == frame.encode()


def test_ccmp_mfp_deauth_vector_plain_and_protected():
    v = _vector("ccmp", "M.9.2")
    plain = decode_dot11(bytes.fromhex(v["plaintext_mpdu_hex"]))
    assert plain.header.type is FrameType.MGMT and plain.header.subtype == MgmtSubtype.DEAUTH
    assert not plain.header.protected
    body = decode_mgmt_body(plain.header.subtype, plain.body)
    assert body == ReasonBody(2, ())  # reason 2 (as tshark and the source name it: prev auth invalid)
    enc = bytes.fromhex(v["expected"]["encrypted_mpdu_hex"])
    prot = decode_dot11(enc)
    assert prot.header.protected and prot.header.length == v["header_len"]
    assert encode_dot11(prot) == enc
    # AAD = masked FC || A1 || A2 || A3 || masked SC
    aad = bytes.fromhex(v["expected"]["aad_hex"])
    assert prot.header.addr1 + prot.header.addr2 + prot.header.addr3 == aad[2:20]


def test_bip_broadcast_deauth_carries_an_mme():
    v = _vector("bip_cmac", "M.9.1")
    frame = decode_dot11(bytes.fromhex(v["expected"]["protected_mpdu_hex"]))
    assert frame.header.addr1 == b"\xff" * 6
    body = decode_mgmt_body(frame.header.subtype, frame.body)
    assert isinstance(body, ReasonBody)
    (mme,) = body.elements
    assert mme.id == ElementID.MANAGEMENT_MIC and len(mme.data) == 16
    assert int.from_bytes(mme.data[:2], "little") == v["key_id"]
    assert int.from_bytes(mme.data[2:8], "little") == v["ipn"]
    assert mme.data[8:].hex() == v["expected"]["mmie_mic_hex"]
    assert body.encode() == frame.body


def test_gcmp_qos_mpdu_tid_and_order_free_header():
    v = _vector("gcmp", "mpdu #2")
    mpdu = bytes.fromhex(v["plaintext_mpdu_hex"])
    h = decode_header(mpdu)
    assert h.length == int(v["header_len"]) == 26
    assert h.is_qos and h.subtype == DataSubtype.QOS_DATA
    assert h.qos_ctrl is not None and h.tid == 3 and h.ht_control is None


def test_freebsd_ccmp_mpdu2_non_qos_order_set_has_no_ht_control():
    # 802.11i D7.0 I.7.4 MPDU 2 (protocol.md 6): non-QoS data with Order = 1 -> no HT Control.
    raw = bytes.fromhex("38c06a51ea100c846850eec1762c88deaf2ee9f46a07e0cc")
    h = decode_header(raw)
    assert h.order and h.protected and h.subtype == DataSubtype.DATA_CF_ACK_POLL
    assert h.length == 24 and h.ht_control is None
    assert h.encode() == raw


def test_freebsd_ccmp_mpdu6_qos_from_ds():
    raw = bytes.fromhex("8852e11f5af28430fdabbff943b9f9a6ab1d98c7fe7350713d6a")
    h = decode_header(raw)
    assert h.from_ds and not h.to_ds and h.pwr_mgt and h.protected
    assert h.tid == 13  # the vector's nonce priority octet is 0x0d
    assert h.bssid == h.addr2 == bytes.fromhex("bff943b9f9a6")
    assert h.da == h.addr1 and h.sa == h.addr3
    assert h.encode() == raw


def test_tkip_m63_mpdu_header():
    v = _vector("tkip", "M.6.3")
    mpdu = bytes.fromhex(v["plaintext_mpdu_hex"])
    frame = decode_dot11(mpdu)
    h = frame.header
    assert h.length == int(v["header_len"]) and h.from_ds and not h.to_ds
    # The vector says FromDS: Michael key TK[16:24], DA = A1, SA = A3.
    assert h.da == h.addr1 and h.sa == h.addr3 and h.bssid == h.addr2
    assert frame.body.startswith(b"\xaa\xaa\x03\x00\x00\x00\x08\x00")


# --------------------------------------------------------------------------- address roles


def _data_header(flags: int, *, qos: int | None = None) -> MacHeader:
    fc = (0x88 if qos is not None else 0x08) | (flags << 8)
    return MacHeader(fc, 0, A, B, C, 0x10, D if flags & 3 == 3 else None, qos)


@pytest.mark.parametrize(
    ("ds", "da", "sa", "bssid"),
    [
        (0, A, B, C),  # IBSS / TDLS direct: A1 = DA, A2 = SA, A3 = BSSID
        (FC.TO_DS, C, B, A),  # STA -> AP: A1 = BSSID, A2 = SA, A3 = DA
        (FC.FROM_DS, A, C, B),  # AP -> STA: A1 = DA, A2 = BSSID, A3 = SA
        (FC.TO_DS | FC.FROM_DS, C, D, None),  # WDS / mesh: A3 = DA, A4 = SA
    ],
)
def test_address_roles_follow_table_9_30(ds, da, sa, bssid):
    h = _data_header(ds)
    assert (h.ra, h.ta, h.da, h.sa, h.bssid) == (A, B, da, sa, bssid)
    assert decode_header(h.encode()) == h


@pytest.mark.parametrize("ds", [FC.TO_DS, FC.FROM_DS, FC.TO_DS | FC.FROM_DS])
def test_amsdu_moves_da_sa_into_subframes_and_a3_is_bssid(ds):
    h = _data_header(ds, qos=0x0085)  # TID 5, A-MSDU present
    assert h.amsdu and h.tid == 5
    assert h.da is None and h.sa is None and h.bssid == C


def test_four_address_qos_htc_header_length():
    fc = 0x88 | ((FC.TO_DS | FC.FROM_DS | FC.ORDER) << 8)
    h = MacHeader(fc, 0x1234, A, B, C, 0x5670, D, 0x0007, 0xDEADBEEF)
    raw = h.encode()
    assert len(raw) == h.length == 24 + 6 + 2 + 4 == header_length(raw + b"body")
    assert decode_header(raw) == h and h.seq == 0x567 and h.frag == 0


def test_management_frame_with_order_carries_ht_control():
    fc = (MgmtSubtype.ACTION << 4) | (FC.ORDER << 8)
    h = MacHeader(fc, 0, A, B, C, 0, ht_control=0x01020304)
    raw = h.encode()
    assert len(raw) == 28 and header_length(raw) == 28 and decode_header(raw) == h


def test_encode_rejects_fields_that_disagree_with_frame_control():
    with pytest.raises(EncodeError):
        MacHeader(0x0088, 0, A, B, C, 0).encode()  # QoS subtype without QoS Control
    with pytest.raises(EncodeError):
        MacHeader(0x0008, 0, A, B, C, 0, qos_ctrl=1).encode()
    with pytest.raises(EncodeError):
        MacHeader(0x0108 | 0x0200, 0, A, B, C, 0).encode()  # ToDS+FromDS without Address 4
    with pytest.raises(EncodeError):
        MacHeader(0x0008, 0, A[:5], B, C, 0).encode()
    with pytest.raises(EncodeError):
        MacHeader(0x0001, 0, A).encode()  # protocol version 1
    with pytest.raises(EncodeError):
        MacHeader(0x0008, 0x10000, A, B, C, 0).encode()  # Duration does not fit 16 bits


# --------------------------------------------------------------------------- control frames


def _ctrl(sub: int) -> int:
    return 0x04 | (sub << 4)


@pytest.mark.parametrize(
    ("sub", "length", "has_ta"),
    [
        (CtrlSubtype.TRIGGER, 16, True),
        (CtrlSubtype.BEAMFORMING_REPORT_POLL, 16, True),
        (CtrlSubtype.NDP_ANNOUNCEMENT, 16, True),
        (CtrlSubtype.BLOCK_ACK_REQ, 16, True),
        (CtrlSubtype.BLOCK_ACK, 16, True),
        (CtrlSubtype.PS_POLL, 16, True),
        (CtrlSubtype.RTS, 16, True),
        (CtrlSubtype.CTS, 10, False),
        (CtrlSubtype.ACK, 10, False),
        (CtrlSubtype.CF_END, 16, True),
        (CtrlSubtype.CF_END_ACK, 16, True),
    ],
)
def test_control_frames_have_the_right_addresses(sub, length, has_ta):
    raw = _ctrl(sub).to_bytes(2, "little") + b"\x2c\x01" + A + (B if has_ta else b"") + b"\x04\x00\x10\x00"
    frame = decode_dot11(raw)
    h = frame.header
    assert h.type is FrameType.CTRL and h.subtype == sub
    assert h.length == length == header_length(raw)
    assert h.ra == A and h.ta == (B if has_ta else None)
    assert h.seq is None and h.addr3 is None
    assert encode_dot11(frame) == raw
    assert frame.body == raw[length:]


def test_ps_poll_and_cf_end_bssid():
    ps = decode_header(
        _ctrl(CtrlSubtype.PS_POLL).to_bytes(2, "little") + (0xC001).to_bytes(2, "little") + A + B
    )
    assert ps.bssid == A and ps.duration & 0x3FFF == 1  # Duration/ID carries the AID
    cf = decode_header(_ctrl(CtrlSubtype.CF_END).to_bytes(2, "little") + b"\x00\x00" + A + B)
    assert cf.bssid == B


def test_control_wrapper_carries_fc_and_ht_control():
    # 9.3.1.9: FC, Duration, Address 1, Carried Frame Control, HT Control, then the carried frame's
    # fields after its Address 1 (here an RTS: TA).
    carried = _ctrl(CtrlSubtype.RTS)
    raw = _ctrl(CtrlSubtype.CONTROL_WRAPPER).to_bytes(2, "little") + b"\x10\x00" + A
    raw += carried.to_bytes(2, "little") + (0x11223344).to_bytes(4, "little") + B
    frame = decode_dot11(raw)
    assert frame.header.length == 16
    assert frame.header.carried_fc == carried and frame.header.ht_control == 0x11223344
    assert frame.body == B and encode_dot11(frame) == raw


def test_reserved_layouts_and_short_buffers_raise_with_offsets():
    with pytest.raises(DecodeError):
        decode_dot11(_ctrl(1).to_bytes(2, "little") + bytes(30))  # reserved control subtype
    with pytest.raises(DecodeError) as exc:
        decode_dot11(b"\x08\x00" + bytes(10))
    assert exc.value.offset == 12
    with pytest.raises(DecodeError):
        decode_header(b"\x08")
    with pytest.raises(DecodeError):
        header_length(b"")
    with pytest.raises(DecodeError):
        decode_dot11(b"\x0a\x00" + bytes(30))  # protocol version 2


# --------------------------------------------------------------------------- management bodies


def _elements(*els: Element) -> bytes:
    return b"".join(e.encode() for e in els)


def test_beacon_body_fields_and_network_info():
    rsne = RSNE()  # CCMP / CCMP / PSK
    els = (Element(0, b"\xffnot-utf8\x00"), Element(3, b"\x06"), rsne.element())
    body = (
        (0x0102030405060708).to_bytes(8, "little")
        + (100).to_bytes(2, "little")
        + b"\x11\x04"
        + _elements(*els)
    )
    b = decode_mgmt_body(MgmtSubtype.BEACON, body)
    assert isinstance(b, BeaconBody)
    assert (b.timestamp, b.beacon_interval, b.capability) == (0x0102030405060708, 100, 0x0411)
    assert b.elements == els and b.encode() == body
    info = b.network
    assert info.ssid == b"\xffnot-utf8\x00" and info.channel == 6 and info.security == "WPA2"
    assert decode_mgmt_body(MgmtSubtype.PROBE_RESP, body) == b


def test_probe_request_and_atim():
    body = _elements(Element(0, b""), Element(1, b"\x82\x84"))
    p = decode_mgmt_body(MgmtSubtype.PROBE_REQ, body)
    assert isinstance(p, ProbeReqBody) and p.network.ssid == b"" and p.encode() == body
    assert decode_mgmt_body(MgmtSubtype.ATIM, b"") == AtimBody()
    with pytest.raises(DecodeError):
        decode_mgmt_body(MgmtSubtype.ATIM, b"\x00")


def test_association_and_reassociation_requests():
    els = _elements(Element(0, b"net"), RSNE(capabilities=0x00C0).element())
    assoc = b"\x31\x04\x0a\x00" + els
    a = decode_mgmt_body(MgmtSubtype.ASSOC_REQ, assoc)
    assert isinstance(a, AssocReqBody)
    assert (a.capability, a.listen_interval, a.current_ap) == (0x0431, 10, None)
    assert a.network.pmf == "required" and a.encode() == assoc
    reassoc = b"\x31\x04\x0a\x00" + C + els
    r = decode_mgmt_body(MgmtSubtype.REASSOC_REQ, reassoc)
    assert r.current_ap == C and r.elements == a.elements and r.encode() == reassoc


def test_association_response_aid():
    body = b"\x11\x04\x00\x00\x05\xc0" + _elements(Element(1, b"\x82"))
    r = decode_mgmt_body(MgmtSubtype.ASSOC_RESP, body)
    assert isinstance(r, AssocRespBody)
    assert r.status == 0 and r.aid == 5 and r.aid_field == 0xC005 and r.encode() == body


def test_ft_authentication_carries_rsne_mde_fte():
    fte = FTE(0, bytes(16), bytes(range(32)), bytes(range(32, 64)))
    els = (
        RSNE(akms=(0x000FAC04,), pmkids=(bytes(16),)).element(),
        MDE(b"\xa1\xb2", 1).element(),
        fte.element(),
    )
    body = b"\x02\x00\x01\x00\x00\x00" + _elements(*els)
    a = decode_mgmt_body(MgmtSubtype.AUTH, body)
    assert isinstance(a, AuthBody)
    assert (a.algorithm, a.seq, a.status) == (AuthAlgorithm.FT, 1, 0)
    assert a.elements == els and a.encode() == body
    info = MDE.from_element(a.elements[1])
    assert info.mdid == b"\xa1\xb2" and info.over_ds
    assert FTE.from_element(a.elements[2]).anonce == bytes(range(32))


def test_sae_authentication_keeps_fields_raw():
    body = b"\x03\x00\x01\x00\x00\x00" + b"\x13\x00" + bytes(range(96))  # group 19, scalar, element
    a = decode_mgmt_body(MgmtSubtype.AUTH, body)
    assert a.algorithm == AuthAlgorithm.SAE and a.elements == () and a.extra == body[6:]
    assert a.encode() == body


def test_disassociation_reason():
    d = decode_mgmt_body(MgmtSubtype.DISASSOC, b"\x08\x00")
    assert d == ReasonBody(8) and d.encode() == b"\x08\x00"


def test_csa_action_frames():
    csa_el = CSA(1, 11, 2).element()
    body = b"\x00\x04" + csa_el.encode()
    a = decode_mgmt_body(MgmtSubtype.ACTION, body)
    assert isinstance(a, ActionBody)
    assert a.category == ActionCategory.SPECTRUM_MGMT and a.action == 4
    assert a.elements == (csa_el,) and a.csa == CSA(1, 11, 2) and a.encode() == body
    ecsa = decode_mgmt_body(MgmtSubtype.ACTION_NOACK, b"\x04\x04\x01\x51\x24\x05")
    assert ecsa.csa == ECSA(1, 0x51, 0x24, 5) and ecsa.elements == ()
    other = decode_mgmt_body(MgmtSubtype.ACTION, b"\x0a\x11\x01\x00")
    assert other.category == ActionCategory.WNM and other.action == 17 and other.csa is None
    vendor = decode_mgmt_body(MgmtSubtype.ACTION, b"\x7f\x00\x10\x18\x01\x02")
    assert vendor.action is None and vendor.rest == b"\x00\x10\x18\x01\x02"
    assert vendor.encode() == b"\x7f\x00\x10\x18\x01\x02"


def test_garbled_bodies_raise_with_offsets():
    with pytest.raises(DecodeError) as exc:
        decode_mgmt_body(MgmtSubtype.BEACON, bytes(12) + b"\x00\x05abc")
    assert exc.value.offset == 12
    with pytest.raises(DecodeError):
        decode_mgmt_body(MgmtSubtype.BEACON, bytes(11))
    with pytest.raises(DecodeError):
        decode_mgmt_body(MgmtSubtype.AUTH, b"\x00\x00\x01")
    with pytest.raises(DecodeError):
        decode_mgmt_body(7, b"")  # reserved subtype
    with pytest.raises(DecodeError):
        decode_mgmt_body(MgmtSubtype.ACTION, b"\x00")


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_decode_to_a_frame_or_decode_error_and_round_trip(raw):
    try:
        frame = decode_dot11(raw)
    except DecodeError:
        return
    assert encode_dot11(frame) == raw
    assert frame.header.length == header_length(raw) == len(raw) - len(frame.body)
    assert decode_header(raw) == frame.header


@settings(max_examples=200, deadline=None)
@given(
    ftype=st.sampled_from([0, 1, 2, 3]),
    subtype=st.integers(0, 15),
    flags=st.integers(0, 255),
    rest=st.binary(min_size=36, max_size=40),
)
def test_every_known_layout_round_trips(ftype, subtype, flags, rest):
    fc = (ftype << 2) | (subtype << 4) | (flags << 8)
    raw = fc.to_bytes(2, "little") + rest
    try:
        frame = decode_dot11(raw)
    except DecodeError:
        # only reserved control (0, 1) and extension (2..15) subtypes have no layout
        assert (ftype == 1 and subtype < 2) or (ftype == 3 and subtype > 1)
        return
    h = frame.header
    assert h.type == ftype and h.subtype == subtype and h.fc == fc
    assert Dot11Frame(h, frame.body).encode() == raw
    if ftype == 2:
        assert (h.addr4 is not None) == (flags & 3 == 3)
        assert h.is_qos == bool(subtype & 8)
        assert (h.ht_control is not None) == bool(subtype & 8 and flags & 0x80)


_MGMT_SUBTYPES = [s for s in MgmtSubtype]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_MGMT_SUBTYPES), st.binary(max_size=80))
def test_random_management_bodies_decode_or_raise_and_round_trip(subtype, body):
    try:
        value = decode_mgmt_body(subtype, body)
    except DecodeError:
        return
    assert value.encode() == body


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([MgmtSubtype.BEACON, MgmtSubtype.PROBE_RESP]),
    st.integers(0, 2**64 - 1),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.lists(st.tuples(st.integers(0, 254), st.binary(max_size=20)), max_size=6),
)
def test_generated_beacons_round_trip(subtype, ts, interval, cap, els):
    value = BeaconBody(ts, interval, cap, tuple(Element(i, d) for i, d in els))
    assert decode_mgmt_body(subtype, value.encode()) == value


def test_header_length_table_matches_the_rule_for_every_fc():
    """The tiled lookup table equals the per-value computation for all 65,536 Frame Control values."""
    from krackwatch.wire.dot11 import _HDR_LEN, _compute_len

    assert len(_HDR_LEN) == 65536
    assert all(_HDR_LEN[fc] == _compute_len(fc) for fc in range(65536))
