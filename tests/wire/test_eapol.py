"""EAPOL-Key codec and handshake classification.

Truth: the EAPOL-Key frames and MICs of tests/data/vectors/eapol_key_mic.json (aircrack-ng and
hashcat test data), the real captures in tests/data/captures with the per-message counts tshark gives
in MANIFEST.tsv, and the per-frame facts of example-tptk-attack.pcapng in research/protocol.md 1.8
(key_info values, replay counters, KCK/KEK that wlantest and tshark confirmed)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.wire.capture import open_capture
from krackwatch.wire.dot11 import FrameType, decode_dot11
from krackwatch.wire.eapol import (
    KDE,
    MIC_OFFSET,
    BigtkKDE,
    Eapol,
    EapolKey,
    EapolType,
    GtkKDE,
    HandshakeMessage,
    IgtkKDE,
    KeyData,
    KeyDescriptor,
    KeyInfo,
    MacAddrKDE,
    PmkidKDE,
    classify,
    decode_eapol,
    decode_eapol_key,
    decode_kde,
    decode_key_data,
    encode_key_data,
    iter_key_data,
    pad_key_data,
)
from krackwatch.wire.elements import RSNE, WPAIE, Element, EncodeError
from krackwatch.wire.errors import DecodeError
from krackwatch.wire.linklayer import FcsStatus, split_link
from krackwatch.wire.llc import LLC_SNAP_EAPOL

DATA = Path(__file__).resolve().parents[1] / "data"
M = HandshakeMessage


def _mic_vectors() -> list[dict]:
    return json.loads((DATA / "vectors" / "eapol_key_mic.json").read_text())["vectors"]


def _eapol_keys(capture: str) -> list[tuple[int, object, EapolKey]]:
    """(frame number, MAC header, key) of every cleartext EAPOL-Key frame of a capture."""
    out = []
    with open_capture(DATA / "captures" / capture) as reader:
        for rec in reader:
            info = split_link(rec.linktype, rec.data)
            if info.fcs == FcsStatus.BAD:
                continue  # corrupted on the air (wpa-Induction.pcap has 13)
            end = len(rec.data) - (4 if info.fcs != FcsStatus.ABSENT else 0)
            frame = decode_dot11(rec.data[info.header_len : end])
            h = frame.header
            if h.type is FrameType.DATA and not h.protected and frame.body.startswith(LLC_SNAP_EAPOL):
                out.append((rec.number, h, decode_eapol_key(frame.body[8:])))
    return out


# --------------------------------------------------------------------------- vectors


def test_wpa2_m2_vector_fields_and_mic():
    v = _mic_vectors()[0]
    raw = bytes.fromhex(v["eapol_m2_hex_with_mic_field_zeroed"])
    key = decode_eapol_key(raw)
    assert len(raw) == v["eapol_len"] == 4 + key.body_length
    assert (key.version, key.descriptor_type) == (1, KeyDescriptor.RSN)
    assert key.descriptor_version == v["key_descriptor_version"] == 2
    assert key.key_info == 0x010A and key.pairwise and key.mic_set and not key.ack and not key.secure
    assert key.key_length == 16 and key.replay_counter == 1 and key.key_rsc == 0
    assert key.nonce.hex() == v["snonce_hex"]
    assert RSNE.decode(key.key_data[2:]).akms is not None
    assert classify(key) is M.M2 and key.message is M.M2
    assert key.encode() == raw == key.mic_zeroed_bytes()
    # The MIC is HMAC-SHA1-128 with the KCK over exactly mic_zeroed_bytes().
    kck = bytes.fromhex(v["expected"]["kck_hex"])
    mic = bytes.fromhex(v["expected"]["key_mic_hex"])
    assert hmac.new(kck, key.mic_zeroed_bytes(), hashlib.sha1).digest()[:16] == mic
    signed = key.with_mic(mic)
    assert signed.encode()[MIC_OFFSET : MIC_OFFSET + 16] == mic
    assert signed.mic_zeroed_bytes() == raw and signed.mic_offset == 81


def test_mic_vector_for_both_descriptor_versions():
    v = _mic_vectors()[1]
    key = decode_eapol_key(bytes.fromhex(v["eapol_m2_hex_with_mic_field_zeroed"]))
    kck = bytes.fromhex(v["expected"]["ptk_prf80_hex"])[:16]
    data = key.mic_zeroed_bytes()
    assert hmac.new(kck, data, hashlib.md5).hexdigest() == v["expected"]["mic_keyver1_hmac_md5_hex"]
    assert hmac.new(kck, data, hashlib.sha1).hexdigest() == v["expected"]["mic_keyver2_hmac_sha1_full20_hex"]


def test_wpa1_hccapx_m2():
    v = next(v for v in _mic_vectors() if "hccapx" in v["name"])
    p = v["parsed"]
    raw = bytes.fromhex(p["eapol_hex"])
    key = decode_eapol_key(raw)
    assert len(raw) == p["eapol_len"]
    assert key.descriptor_type == KeyDescriptor.WPA and key.descriptor_version == p["keyver"] == 1
    assert key.key_length == 32 and key.replay_counter == 1
    # hashcat's self-test record stores the nonce that this EAPOL copy carries as "nonce_ap"
    assert key.nonce.hex() == p["nonce_ap_hex"] != p["nonce_sta_hex"]
    assert classify(key) is M.M2 and key.encode() == raw
    (item,) = iter_key_data(key.key_data)
    assert isinstance(item, Element) and WPAIE.from_element(item).akms is not None
    # the hccapx stores the MIC separately: the EAPOL copy has it zeroed
    assert key.mic == bytes(16) and len(key.with_mic(bytes.fromhex(p["keymic_hex"])).encode()) == len(raw)


# --------------------------------------------------------------------------- classification


@pytest.mark.parametrize(
    ("key_info", "key_data", "expected"),
    [
        (0x008A, b"", M.M1),  # protocol.md 5.7 typical RSN values
        (0x010A, b"\x30\x00", M.M2),
        (0x13CA, b"\x00" * 8, M.M3),
        (0x030A, b"", M.M4),
        (0x1382, b"\x00" * 8, M.GROUP_M1),
        (0x0302, b"", M.GROUP_M2),
        (0x0089, b"", M.M1),  # WPA1 (descriptor version 1)
        (0x01C9, b"\xdd\x00", M.M3),  # WPA1 msg 3: Install, Ack, MIC, no Secure
        (0x0109, b"", M.M4),  # WPA1 msg 4: no Secure
        (0x0391, b"\x00" * 32, M.GROUP_M1),  # WPA1 group msg 1, key index 1
        (0x0311, b"", M.GROUP_M2),
        (0x0F0A, b"", M.REQUEST),  # MIC failure report: Request | Error | Secure | MIC
        (0x0902, b"", M.REQUEST),
        (0x2000 | 0x010A, b"", M.UNKNOWN),  # SMK message
        (0x000A, b"", M.UNKNOWN),  # pairwise, neither Ack nor MIC
        (0x0082, b"", M.UNKNOWN),  # group Ack without MIC
    ],
)
def test_classify_by_key_info(key_info, key_data, expected):
    key = EapolKey(2, 2, key_info, 0, 1, bytes(32), bytes(16), 0, bytes(8), bytes(16), key_data)
    assert classify(key) is expected


def test_fils_style_aead_keys_count_encrypted_key_data_as_authentication():
    key = EapolKey(2, 2, 0x1008 | 0x0200, 0, 1, bytes(32), bytes(16), 0, bytes(8), b"", b"")
    assert classify(key) is M.M4
    raw = key.encode()
    assert decode_eapol_key(raw, mic_len=0) == key


# Per-message counts of cleartext EAPOL-Key frames, as tshark reports them in MANIFEST.tsv.
MANIFEST_COUNTS = {
    "wpa2-psk-linksys.cap": {M.M1: 3, M.M2: 3, M.M3: 3, M.M4: 3},
    "wpa-psk-linksys.cap": {M.M1: 1, M.M2: 1, M.M3: 1, M.M4: 1},
    "wpa2.eapol.cap": {M.M1: 1, M.M2: 1, M.M3: 1, M.M4: 1},
    "wpa-Induction.pcap": {M.M1: 1, M.M2: 1, M.M3: 1, M.M4: 1},
    "testm1m2m3.pcap": {M.M1: 1, M.M2: 1, M.M3: 1},
    "test-pmkid.pcap": {M.M1: 1},
    "example-tptk-attack.pcapng": {M.M1: 2, M.M2: 1, M.M3: 2, M.M4: 1},
}


@pytest.mark.parametrize("capture", sorted(MANIFEST_COUNTS))
def test_classification_matches_tshark_counts(capture):
    keys = _eapol_keys(capture)
    assert Counter(classify(k) for _, _, k in keys) == MANIFEST_COUNTS[capture]
    for _, _, key in keys:
        assert key.encode().startswith(key.mic_zeroed_bytes()[:MIC_OFFSET])


def test_wpa2_linksys_handshakes_are_ordered_m1_to_m4_three_times():
    seq = [classify(k) for _, _, k in _eapol_keys("wpa2-psk-linksys.cap")]
    assert seq == [M.M1, M.M2, M.M3, M.M4] * 3


def test_wpa1_linksys_handshake():
    keys = {classify(k): k for _, _, k in _eapol_keys("wpa-psk-linksys.cap")}
    assert all(k.descriptor_type == KeyDescriptor.WPA and k.descriptor_version == 1 for k in keys.values())
    assert not keys[M.M4].secure and not keys[M.M3].secure and keys[M.M3].install
    # WPA1 msg 3 carries the AP's WPA IE in cleartext key data (no KDEs, no GTK).
    (wpa_ie,) = iter_key_data(keys[M.M3].key_data)
    assert isinstance(wpa_ie, Element) and WPAIE.from_element(wpa_ie).group_cipher is not None
    assert keys[M.M3].nonce == keys[M.M1].nonce


def test_tptk_attack_frames_match_protocol_notes():
    keys = {n: (h, k) for n, h, k in _eapol_keys("example-tptk-attack.pcapng")}
    assert sorted(keys) == [93, 95, 97, 99, 101, 103]
    expect = {
        93: (M.M1, 0x008A, 1),
        95: (M.M2, 0x010A, 1),
        97: (M.M3, 0x13CA, 2),
        99: (M.M1, 0x008A, 3),
        101: (M.M3, 0x13CA, 3),
        103: (M.M4, 0x030A, 2),
    }
    for n, (msg, key_info, rc) in expect.items():
        h, key = keys[n]
        assert (classify(key), key.key_info, key.replay_counter) == (msg, key_info, rc), n
        assert h.is_qos and h.tid == 7  # hwsim with WMM sends EAPOL as QoS data, TID 7
    assert keys[99][1].nonce == keys[93][1].nonce  # forged msg 1 reuses the ANonce
    assert keys[97][1].key_length == 16 and keys[97][1].key_rsc == 0 and len(keys[97][1].key_data) == 80
    assert len(keys[95][1].key_data) == 22 and keys[103][1].zero_nonce
    # MICs verify with the KCK wlantest/tshark derived (HMAC-SHA1-128, descriptor version 2).
    kck = bytes.fromhex("135b54061627acf561e131967e5000cf")
    for n in (95, 97, 101, 103):
        key = keys[n][1]
        assert hmac.compare_digest(hmac.new(kck, key.mic_zeroed_bytes(), hashlib.sha1).digest()[:16], key.mic)


def test_tptk_msg3_key_data_unwraps_to_rsne_gtk_kde_and_padding():
    key = next(k for n, _, k in _eapol_keys("example-tptk-attack.pcapng") if n == 97)
    assert key.encrypted_key_data
    kek = bytes.fromhex("c8dd21a23d0ab4dafa9854c7207d317f")
    plain = aes_key_unwrap(kek, key.key_data)
    kd = decode_key_data(plain)
    rsne, gtk = kd.items
    assert rsne.encode().hex() == "30180100000fac020200000fac04000fac020100000fac020c00"
    assert isinstance(gtk, GtkKDE) and gtk.key_id == 2 and not gtk.tx and len(gtk.gtk) == 32
    assert kd.padding == bytes.fromhex("dd0000000000")
    assert kd.encode() == plain and kd.first(GtkKDE) is gtk
    assert list(iter_key_data(plain)) == list(kd.items)


def test_wpa2_eapol_mics_verify_with_the_kck_tshark_derived():
    kck = bytes.fromhex("ea0e404633c802450302868ccaa749de")  # MANIFEST: tshark KCK on M3
    keys = {classify(k): k for _, _, k in _eapol_keys("wpa2.eapol.cap")}
    for msg in (M.M2, M.M3, M.M4):
        key = keys[msg]
        assert hmac.new(kck, key.mic_zeroed_bytes(), hashlib.sha1).digest()[:16] == key.mic


def test_pmkid_kde_of_the_pmkid_capture():
    ((_, _, key),) = _eapol_keys("test-pmkid.pcap")
    items = list(iter_key_data(key.key_data))
    pmkid = next(i for i in items if isinstance(i, PmkidKDE))
    # aircrack-ng test-aircrack-ng-0018 hash line: PMKID*AP*STA*ESSID
    assert pmkid.pmkid.hex() == "c2ea9449c142e84a0479041702526532"
    assert decode_key_data(key.key_data).encode() == key.key_data


# --------------------------------------------------------------------------- EAPOL / errors


def test_plain_eapol_and_trailing_padding():
    start = decode_eapol(b"\x01\x01\x00\x00" + bytes(4))
    assert start == Eapol(
        1, EapolType.START, b"", bytes(4)
    ) and start.encode() == b"\x01\x01\x00\x00" + bytes(4)
    v = _mic_vectors()[0]
    raw = bytes.fromhex(v["eapol_m2_hex_with_mic_field_zeroed"])
    padded = decode_eapol_key(raw + bytes(6))
    assert padded.trailing == bytes(6) and padded.encode() == raw + bytes(6)
    assert padded.mic_zeroed_bytes() == raw
    with pytest.raises(DecodeError):
        decode_eapol(b"\x01\x00\x00\x10\x00")


def test_eapol_key_errors_carry_offsets():
    raw = bytes.fromhex(_mic_vectors()[0]["eapol_m2_hex_with_mic_field_zeroed"])
    cases = [
        (raw[:3], 0),
        (raw[:1] + b"\x00" + raw[2:], 1),  # EAP packet, not EAPOL-Key
        (raw[:-1], 2),  # body length beyond the buffer
        (raw[:4] + b"\x01" + raw[5:], 4),  # RC4 descriptor
        (raw[:97] + b"\x00\x17" + raw[99:], 97),  # Key Data Length disagrees
        (raw[:2] + (90).to_bytes(2, "big") + raw[4:94], 2),  # body too short for a descriptor
    ]
    for data, offset in cases:
        with pytest.raises(DecodeError) as exc:
            decode_eapol_key(data)
        assert exc.value.offset == offset


def test_encode_and_with_mic_validation():
    key = EapolKey(2, 2, 0x008A, 16, 1, bytes(32), bytes(16), 0, bytes(8), bytes(16), b"")
    with pytest.raises(EncodeError):
        key.with_mic(bytes(24))
    with pytest.raises(EncodeError):
        EapolKey(2, 2, 0x008A, 16, 1, bytes(31), bytes(16), 0, bytes(8), bytes(16), b"").encode()
    assert key.replay_counter == 1 and KeyInfo(key.key_info) & KeyInfo.ACK


def test_sha384_akms_use_a_24_octet_mic():
    key = EapolKey(
        2, 2, 0x010A, 0, 9, bytes(32), bytes(16), 0, bytes(8), bytes(range(24)), b"\x30\x02\x01\x00"
    )
    raw = key.encode()
    assert len(raw) == 4 + 77 + 24 + 2 + 4
    assert decode_eapol_key(raw, mic_len=24) == key
    with pytest.raises(DecodeError):
        decode_eapol_key(raw)  # read with a 16-octet MIC the Key Data Length is garbage


# --------------------------------------------------------------------------- KDEs


def test_kdes_by_hand():
    gtk = GtkKDE(1, True, bytes(range(16)))
    assert gtk.encode() == bytes.fromhex("dd16000fac010500") + bytes(range(16))
    igtk = IgtkKDE(4, 0x010203040506, bytes(16))
    assert igtk.encode() == bytes.fromhex("dd1c000fac090400060504030201") + bytes(16)
    bigtk = BigtkKDE(6, 1, bytes(16))
    mac = MacAddrKDE(bytes.fromhex("020000000100"))
    pmkid = PmkidKDE(bytes(range(16)))
    other = KDE(0x506F9A, 0x12, b"\x01")
    items = (Element(48, RSNE().encode()), gtk, igtk, bigtk, mac, pmkid, other)
    raw = encode_key_data(items)
    assert tuple(iter_key_data(raw)) == items
    padded = encode_key_data(items, pad=True)
    assert len(padded) % 8 == 0 and decode_key_data(padded) == KeyData(items, padded[len(raw) :])
    assert decode_kde(Element(0xDD, bytes.fromhex("000fac0a0100"))) == KDE(0x000FAC, 10, b"\x01\x00")


def test_gtk_kde_reserved_bits_survive():
    raw = bytes.fromhex("dd16000fac01f1ff") + bytes(16)
    (kde,) = iter_key_data(raw)
    assert kde.key_id == 1 and not kde.tx and kde.reserved == 0xFFF0 and kde.encode() == raw


def test_bad_kdes_raise_with_offsets():
    with pytest.raises(DecodeError) as exc:
        list(iter_key_data(bytes.fromhex("dd16000fac010500") + bytes(15)))
    assert exc.value.offset == 0
    with pytest.raises(DecodeError) as exc:
        list(iter_key_data(RSNE().element().encode() + bytes.fromhex("dd07000fac04") + bytes(5)))
    assert exc.value.offset == 22


def test_pad_key_data():
    assert pad_key_data(b"") == b"\xdd" + bytes(15)
    assert pad_key_data(bytes(16)) == bytes(16)
    assert pad_key_data(bytes(22)) == bytes(22) + b"\xdd\x00"
    assert pad_key_data(bytes(24)) == bytes(24)


# --------------------------------------------------------------------------- properties


@st.composite
def _keys(draw):
    mic_len = draw(st.sampled_from([0, 16, 24]))
    return mic_len, EapolKey(
        draw(st.integers(0, 255)),
        draw(st.sampled_from([2, 254])),
        draw(st.integers(0, 0xFFFF)),
        draw(st.integers(0, 0xFFFF)),
        draw(st.integers(0, 2**64 - 1)),
        draw(st.binary(min_size=32, max_size=32)),
        draw(st.binary(min_size=16, max_size=16)),
        draw(st.integers(0, 2**64 - 1)),
        draw(st.binary(min_size=8, max_size=8)),
        draw(st.binary(min_size=mic_len, max_size=mic_len)),
        draw(st.binary(max_size=60)),
        draw(st.binary(max_size=6)),
    )


@settings(max_examples=200, deadline=None)
@given(_keys())
def test_generated_keys_round_trip(mk):
    mic_len, key = mk
    raw = key.encode()
    assert decode_eapol_key(raw, mic_len=mic_len) == key
    zeroed = key.mic_zeroed_bytes()
    assert len(zeroed) == 4 + key.body_length and zeroed[MIC_OFFSET : MIC_OFFSET + mic_len] == bytes(mic_len)
    assert classify(key) in HandshakeMessage


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=140), st.sampled_from([0, 16, 24]))
def test_random_bytes_to_eapol_decoders(raw, mic_len):
    try:
        key = decode_eapol_key(raw, mic_len=mic_len)
    except DecodeError:
        pass
    else:
        assert key.encode() == raw
    try:
        e = decode_eapol(raw)
    except DecodeError:
        pass
    else:
        assert e.encode() == raw


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_random_key_data(raw):
    try:
        kd = decode_key_data(raw)
    except DecodeError:
        return
    assert kd.encode() == raw
    assert tuple(iter_key_data(raw)) == kd.items
