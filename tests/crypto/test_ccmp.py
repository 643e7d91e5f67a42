"""CCMP against 802.11 Annex M / P802.11ac vectors, plus AAD masking and tamper properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.crypto.ccmp import CCMP, ccmp_aad, ccmp_header, ccmp_nonce, ccmp_pn
from krackwatch.crypto.errors import CryptoError, DecryptionError

CCMP_VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "vectors" / "ccmp.json").read_text()
)
H = bytes.fromhex


def _split(vec):
    mpdu = H(vec["plaintext_mpdu_hex"])
    n = vec["header_len"]
    return H(vec["tk_hex"]), int(vec["pn_hex_PN5_to_PN0"], 16), mpdu[:n], mpdu[n:]


@pytest.mark.parametrize("vec", CCMP_VECTORS["vectors"], ids=lambda v: v["name"])
def test_ccmp_vectors(vec):
    tk, pn, header, plaintext = _split(vec)
    expected = vec["expected"]
    if "aad_hex" in expected:
        assert ccmp_aad(header).hex() == expected["aad_hex"]
        assert ccmp_nonce(header, pn).hex() == expected["nonce_hex"]
    encrypted = H(expected["encrypted_mpdu_hex"])
    n = vec["header_len"]
    tx_header, body = encrypted[:n], encrypted[n:]
    # The transmitted header differs from the plaintext one at most in the Protected bit.
    assert tx_header[0] == header[0] and tx_header[2:] == header[2:]
    assert tx_header[1] | 0x40 == header[1] | 0x40
    key_id = body[3] >> 6
    cipher = CCMP(tk)
    assert cipher.encrypt(header, pn, key_id, plaintext) == body
    assert cipher.decrypt(tx_header, body) == plaintext
    assert ccmp_pn(body) == pn
    if "mic_hex" in expected:
        assert body[-cipher.mic_len :].hex() == expected["mic_hex"]


def test_ccmp_header_layout():
    # 802.11-2020 Figure 12-16: PN0 PN1 Rsvd KeyID-octet PN2..PN5, ExtIV bit 5 of octet 3.
    assert ccmp_header(0xB5039776E70C, 0).hex() == "0ce70020769703b5"
    assert ccmp_header(1, 3)[3] == 0xE0
    with pytest.raises(CryptoError):
        ccmp_header(1 << 48, 0)
    with pytest.raises(CryptoError):
        ccmp_header(1, 4)


# --- headers for property tests ------------------------------------------------------------------


@st.composite
def mac_headers(draw):
    """Random Data (QoS or not, 3 or 4 addresses, +HTC) and Management headers."""
    kind = draw(st.sampled_from(["data", "qos", "mgmt"]))
    flags = draw(st.integers(0, 0xFF)) | 0x40
    addrs = draw(st.binary(min_size=18, max_size=18))
    sc = draw(st.binary(min_size=2, max_size=2))
    if kind == "mgmt":
        fc0 = draw(st.sampled_from([0xA0, 0xC0, 0xD0]))
        flags &= ~0x03
        return bytes((fc0, flags)) + b"\x00\x00" + addrs + sc + (bytes(4) if flags & 0x80 else b"")
    fc0 = 0x88 if kind == "qos" else 0x08
    header = bytes((fc0, flags)) + b"\x00\x00" + addrs + sc
    if flags & 0x03 == 0x03:
        header += draw(st.binary(min_size=6, max_size=6))
    if kind == "qos":
        header += draw(st.binary(min_size=2, max_size=2))
        if flags & 0x80:
            header += draw(st.binary(min_size=4, max_size=4))
    return header


KEYS = st.sampled_from([16, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n))


@settings(max_examples=200, deadline=None)
@given(
    tk=KEYS,
    header=mac_headers(),
    pn=st.integers(0, (1 << 48) - 1),
    key_id=st.integers(0, 3),
    plaintext=st.binary(max_size=200),
)
def test_ccmp_roundtrip(tk, header, pn, key_id, plaintext):
    cipher = CCMP(tk)
    body = cipher.encrypt(header, pn, key_id, plaintext)
    assert len(body) == 8 + len(plaintext) + cipher.mic_len
    assert ccmp_pn(body) == pn and body[3] >> 6 == key_id
    assert cipher.decrypt(header, body) == plaintext


@settings(max_examples=200, deadline=None)
@given(tk=KEYS, header=mac_headers(), plaintext=st.binary(max_size=64), data=st.data())
def test_ccmp_any_changed_body_octet_fails(tk, header, plaintext, data):
    cipher = CCMP(tk)
    body = bytearray(cipher.encrypt(header, 77, 1, plaintext))
    # Octets 2 (reserved) and 3 (Key ID/ExtIV) are not covered by the MIC (12.5.3.2); every other
    # octet is either PN (nonce), ciphertext or MIC.
    pos = data.draw(st.integers(0, len(body) - 1).filter(lambda i: i not in (2, 3)), label="pos")
    body[pos] ^= data.draw(st.integers(1, 255), label="xor")
    with pytest.raises(DecryptionError) as err:
        cipher.decrypt(header, bytes(body))
    assert err.value.reason == "ccmp-mic"


@settings(max_examples=100, deadline=None)
@given(tk=KEYS, header=mac_headers(), plaintext=st.binary(max_size=64))
def test_ccmp_masked_fields_do_not_matter(tk, header, plaintext):
    # Retry, PwrMgt, MoreData and the sequence number are outside the AAD (12.5.3.3.3): a
    # retransmission with a new sequence number and the Retry bit still decrypts.
    cipher = CCMP(tk)
    body = cipher.encrypt(header, 5, 0, plaintext)
    resent = bytearray(header)
    resent[1] ^= 0x38
    resent[22] ^= 0xF0
    resent[23] ^= 0xFF
    assert cipher.decrypt(bytes(resent), body) == plaintext


@settings(max_examples=100, deadline=None)
@given(tk=KEYS, header=mac_headers(), plaintext=st.binary(max_size=64), data=st.data())
def test_ccmp_protected_header_fields_matter(tk, header, plaintext, data):
    cipher = CCMP(tk)
    body = cipher.encrypt(header, 5, 0, plaintext)
    changed = bytearray(header)
    pos = data.draw(st.sampled_from([4, 9, 10, 15, 16, 21]), label="address octet")  # A1, A2, A3
    changed[pos] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(changed), body)


@settings(max_examples=200, deadline=None)
@given(header=st.binary(max_size=40), body=st.binary(max_size=40))
def test_ccmp_random_input_gives_typed_error(header, body):
    try:
        CCMP(b"\x00" * 16).decrypt(header, body)
    except DecryptionError:
        pass


def test_ccmp_reasons():
    cipher = CCMP(b"\x00" * 16)
    header = bytes.fromhex("0841") + bytes(22)
    with pytest.raises(DecryptionError) as err:
        cipher.decrypt(header, bytes(15))
    assert err.value.reason == "short"
    with pytest.raises(DecryptionError) as err:
        cipher.decrypt(header, bytes(30))
    assert err.value.reason == "ext-iv"
    with pytest.raises(DecryptionError) as err:
        cipher.decrypt(header[:20], bytes(3) + b"\x20" + bytes(30))
    assert err.value.reason == "header"
    with pytest.raises(CryptoError):
        CCMP(b"\x00" * 24)
    assert "00" not in repr(cipher)


@settings(max_examples=300, deadline=None)
@given(tk=KEYS, header=mac_headers(), pn=st.integers(0, 2**48 - 1), plaintext=st.binary(max_size=64),
       flip=st.integers(0, 200))
def test_decrypt_frame_equals_decrypt(tk, header, pn, plaintext, flip):
    """The hot-path whole-frame decryption gives the same plaintext and the same failures."""
    c = CCMP(tk)
    frame = bytearray(header + c.encrypt(header, pn, 0, plaintext))
    if flip < len(frame):
        frame[flip] ^= 0x01
    frame = bytes(frame)
    try:
        want = c.decrypt(frame[: len(header)], frame[len(header):])
    except DecryptionError as exc:
        with pytest.raises(DecryptionError) as got:
            c.decrypt_frame(frame, len(header))
        assert got.value.reason == exc.reason
    else:
        assert c.decrypt_frame(frame, len(header)) == want
