"""GCMP against the 802.11ad and P802.11ac vectors, plus round-trip and tamper properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.crypto.errors import CryptoError, DecryptionError
from krackwatch.crypto.gcmp import GCMP, gcmp_aad, gcmp_header, gcmp_nonce, gcmp_pn

GCMP_VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "vectors" / "gcmp.json").read_text()
)
H = bytes.fromhex


@pytest.mark.parametrize("vec", GCMP_VECTORS["vectors"], ids=lambda v: v["name"])
def test_gcmp_vectors(vec):
    mpdu = H(vec["plaintext_mpdu_hex"])
    n = vec["header_len"]
    header, plaintext = mpdu[:n], mpdu[n:]
    pn = int(vec["pn_hex_PN5_to_PN0"], 16)
    cipher = GCMP(H(vec["tk_hex"]))
    body = cipher.encrypt(header, pn, 0, plaintext)
    expected = vec["expected"]
    if "encrypted_mpdu_hex" in expected:
        assert header + body == H(expected["encrypted_mpdu_hex"])
    else:
        assert body[8:-16].hex() == expected["encrypted_payload_hex"]
        assert body[-16:].hex() == expected["mic_hex"]
    assert cipher.decrypt(header, body) == plaintext
    assert gcmp_pn(body) == pn
    assert gcmp_nonce(header, pn) == header[10:16] + pn.to_bytes(6, "big")


def test_gcmp_aad_of_qos_vector():
    # 802.11ad M.11.1 mpdu #2 as printed by hostap: QoS Data, TID 3, Retry masked.
    vec = GCMP_VECTORS["vectors"][1]
    header = H(vec["plaintext_mpdu_hex"])[: vec["header_len"]]
    assert gcmp_aad(header).hex() == "88400fd2e128a57c5030f18444085030f184440800000300"


@st.composite
def qos_headers(draw):
    flags = draw(st.integers(0, 0xFF)) | 0x40
    header = bytes((0x88, flags)) + b"\x00\x00" + draw(st.binary(min_size=20, max_size=20))
    if flags & 0x03 == 0x03:
        header += draw(st.binary(min_size=6, max_size=6))
    return header + draw(st.binary(min_size=2, max_size=2)) + (bytes(4) if flags & 0x80 else b"")


KEYS = st.sampled_from([16, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n))


@settings(max_examples=200, deadline=None)
@given(tk=KEYS, header=qos_headers(), pn=st.integers(0, (1 << 48) - 1), plaintext=st.binary(max_size=200))
def test_gcmp_roundtrip(tk, header, pn, plaintext):
    cipher = GCMP(tk)
    body = cipher.encrypt(header, pn, 2, plaintext)
    assert body[:8] == gcmp_header(pn, 2)
    assert cipher.decrypt(header, body) == plaintext


@settings(max_examples=200, deadline=None)
@given(tk=KEYS, header=qos_headers(), plaintext=st.binary(max_size=64), data=st.data())
def test_gcmp_any_changed_body_octet_fails(tk, header, plaintext, data):
    cipher = GCMP(tk)
    body = bytearray(cipher.encrypt(header, 9, 0, plaintext))
    # Octets 2 (reserved) and 3 (Key ID/ExtIV) are not covered by the MIC (12.5.3.2); every other
    # octet is either PN (nonce), ciphertext or MIC.
    pos = data.draw(st.integers(0, len(body) - 1).filter(lambda i: i not in (2, 3)), label="pos")
    body[pos] ^= data.draw(st.integers(1, 255), label="xor")
    with pytest.raises(DecryptionError) as err:
        cipher.decrypt(header, bytes(body))
    assert err.value.reason == "gcmp-mic"


@settings(max_examples=200, deadline=None)
@given(header=st.binary(max_size=40), body=st.binary(max_size=48))
def test_gcmp_random_input_gives_typed_error(header, body):
    try:
        GCMP(b"\x00" * 16).decrypt(header, body)
    except DecryptionError:
        pass


def test_gcmp_key_length():
    with pytest.raises(CryptoError):
        GCMP(b"\x00" * 20)
