"""AES-CMAC (SP 800-38B) and BIP-CMAC against 802.11 M.9.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.crypto.bip import aes_cmac, bip_aad, bip_cmac_mic, bip_ipn, verify_bip
from krackwatch.crypto.errors import CryptoError, InvalidMIC

BIP = json.loads((Path(__file__).resolve().parents[1] / "data" / "vectors" / "bip_cmac.json").read_text())
CMAC_VECTORS = [v for v in BIP["vectors"] if "tag_hex" in v]
BIP_VECTORS = [v for v in BIP["vectors"] if "igtk_hex" in v]
H = bytes.fromhex


@pytest.mark.parametrize("vec", CMAC_VECTORS, ids=lambda v: v["name"])
def test_aes_cmac(vec):
    assert aes_cmac(H(vec["key_hex"]), H(vec["msg_hex"])).hex() == vec["tag_hex"]


def _mme(key_id: int, ipn: int, mic: bytes) -> bytes:
    return bytes((76, 8 + len(mic))) + key_id.to_bytes(2, "little") + ipn.to_bytes(6, "little") + mic


@pytest.mark.parametrize("vec", BIP_VECTORS, ids=lambda v: v["name"])
def test_bip_vector(vec):
    igtk = H(vec["igtk_hex"])
    frame = H(vec["plaintext_frame_hex"])
    header, body = frame[:24], frame[24:]
    zeroed = body + _mme(vec["key_id"], vec["ipn"], bytes(8))
    expected = vec["expected"]
    assert (bip_aad(header) + zeroed).hex() == expected["aad_and_masked_body_hex"]
    mic = bip_cmac_mic(igtk, header, zeroed)
    assert mic.hex() == expected["mmie_mic_hex"]
    protected = H(expected["protected_mpdu_hex"])
    assert header + zeroed[:-8] + mic == protected
    verify_bip(igtk, protected[:24], protected[24:])
    assert bip_ipn(protected[24:]) == vec["ipn"]


@settings(max_examples=100, deadline=None)
@given(pick=st.data())
def test_bip_detects_changes(pick):
    vec = BIP_VECTORS[0]
    protected = bytearray(H(vec["expected"]["protected_mpdu_hex"]))
    # Everything but Duration (2-3), Sequence Control (22-23) and the masked FC bits is covered.
    pos = pick.draw(st.sampled_from([0, *range(4, 22), *range(24, len(protected))]), label="pos")
    protected[pos] ^= 0x01 if pos != 1 else 0x40
    with pytest.raises(InvalidMIC):
        verify_bip(H(vec["igtk_hex"]), bytes(protected[:24]), bytes(protected[24:]))


def test_bip_masked_fields_and_cmac256():
    vec = BIP_VECTORS[0]
    protected = bytearray(H(vec["expected"]["protected_mpdu_hex"]))
    protected[1] |= 0x08  # Retry is masked in the AAD
    protected[22] ^= 0xF0  # Sequence Control is not in the AAD
    verify_bip(H(vec["igtk_hex"]), bytes(protected[:24]), bytes(protected[24:]))
    igtk256 = bytes(range(32))
    header, body = bytes(protected[:24]), bytes(protected[24:26])
    zeroed = body + _mme(4, 9, bytes(16))
    mic = bip_cmac_mic(igtk256, header, zeroed)
    assert mic == aes_cmac(igtk256, bip_aad(header) + zeroed)
    verify_bip(igtk256, header, zeroed[:-16] + mic)
    with pytest.raises(InvalidMIC):
        verify_bip(igtk256, header, zeroed[:-8] + mic[:8])  # a CMAC-128-sized MME
    with pytest.raises(CryptoError):
        bip_cmac_mic(b"\x00" * 24, header, zeroed)
