"""WEP against the P802.11i/D7.0 vector, plus round-trip and ICV properties."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.crypto.errors import CryptoError, DecryptionError
from krackwatch.crypto.wep import wep_decrypt, wep_encrypt, wep_key_id

WEP = json.loads((Path(__file__).resolve().parents[1] / "data" / "vectors" / "wep.json").read_text())
H = bytes.fromhex


@pytest.mark.parametrize("vec", WEP["vectors"], ids=lambda v: v["name"])
def test_wep_vector(vec):
    n = vec["header_len"]
    mpdu, encrypted = H(vec["plaintext_mpdu_hex"]), H(vec["expected"]["encrypted_mpdu_hex"])
    key = H(vec["key_hex"])
    body = wep_encrypt(key, H(vec["iv_hex"]), vec["key_id"], mpdu[n:])
    assert mpdu[:n] + body == encrypted
    assert body[-4:].hex() == vec["expected"]["icv_hex"]
    assert zlib.crc32(mpdu[n:]).to_bytes(4, "little").hex() == vec["expected"]["plaintext_crc32_hex"]
    assert wep_decrypt(key, encrypted[n:]) == mpdu[n:]
    assert wep_key_id(encrypted[n:]) == vec["key_id"]


KEYS = st.sampled_from([5, 13, 16]).flatmap(lambda n: st.binary(min_size=n, max_size=n))


@settings(max_examples=200, deadline=None)
@given(key=KEYS, iv=st.binary(min_size=3, max_size=3), key_id=st.integers(0, 3), data=st.binary(max_size=200))
def test_wep_roundtrip(key, iv, key_id, data):
    body = wep_encrypt(key, iv, key_id, data)
    assert body[:3] == iv and wep_key_id(body) == key_id
    assert wep_decrypt(key, body) == data


@settings(max_examples=200, deadline=None)
@given(key=KEYS, data=st.binary(max_size=64), pick=st.data())
def test_wep_any_changed_octet_fails(key, data, pick):
    body = bytearray(wep_encrypt(key, b"\x01\x02\x03", 0, data))
    pos = pick.draw(st.integers(0, len(body) - 1).filter(lambda i: i != 3), label="pos")
    body[pos] ^= pick.draw(st.integers(1, 255), label="xor")
    with pytest.raises(DecryptionError) as err:
        wep_decrypt(key, bytes(body))
    assert err.value.reason == "icv"


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=40))
def test_wep_random_input_gives_typed_error(body):
    try:
        wep_decrypt(b"12345", body)
    except DecryptionError:
        pass


def test_wep_argument_checks():
    with pytest.raises(CryptoError):
        wep_encrypt(b"12345", b"\x00\x00", 0, b"")
    with pytest.raises(CryptoError):
        wep_encrypt(b"", b"\x00\x00\x00", 0, b"")
    with pytest.raises(DecryptionError) as err:
        wep_decrypt(b"12345", b"\x00\x00\x00\x20" + bytes(8))
    assert err.value.reason == "ext-iv"
