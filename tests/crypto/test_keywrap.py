"""RFC 3394 key wrap vectors, integrity failures, RC4 key data and dispatch by descriptor version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.crypto.errors import CryptoError, KeyUnwrapError
from krackwatch.crypto.keywrap import aes_key_unwrap, aes_key_wrap, decrypt_key_data, rc4_decrypt_key_data
from krackwatch.crypto.rc4 import rc4
from krackwatch.crypto.suites import AKM

KW = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "vectors" / "aes_keywrap_rfc3394.json").read_text()
)
H = bytes.fromhex


@pytest.mark.parametrize("vec", KW["vectors"], ids=lambda v: v["name"])
def test_rfc3394_vectors(vec):
    kek, plain, wrapped = H(vec["kek_hex"]), H(vec["key_data_hex"]), H(vec["ciphertext_hex"])
    assert aes_key_wrap(kek, plain) == wrapped
    assert aes_key_unwrap(kek, wrapped) == plain


@settings(max_examples=100, deadline=None)
@given(
    kek=st.sampled_from([16, 24, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
    blocks=st.integers(2, 40).flatmap(lambda n: st.binary(min_size=8 * n, max_size=8 * n)),
)
def test_wrap_roundtrip(kek, blocks):
    assert aes_key_unwrap(kek, aes_key_wrap(kek, blocks)) == blocks


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_unwrap_detects_any_change(data):
    vec = KW["vectors"][0]
    wrapped = bytearray(H(vec["ciphertext_hex"]))
    pos = data.draw(st.integers(0, len(wrapped) - 1))
    wrapped[pos] ^= data.draw(st.integers(1, 255))
    with pytest.raises(KeyUnwrapError):
        aes_key_unwrap(H(vec["kek_hex"]), bytes(wrapped))


@settings(max_examples=100, deadline=None)
@given(junk=st.binary(max_size=64))
def test_unwrap_random_bytes_raise_typed_error(junk):
    try:
        aes_key_unwrap(b"\x00" * 16, junk)
    except KeyUnwrapError:
        pass


def test_wrap_input_checks():
    with pytest.raises(CryptoError):
        aes_key_wrap(b"\x00" * 16, b"\x00" * 12)
    with pytest.raises(CryptoError):
        aes_key_wrap(b"\x00" * 15, b"\x00" * 16)
    with pytest.raises(KeyUnwrapError):
        aes_key_unwrap(b"\x00" * 16, b"\x00" * 20)


def test_rc4_key_data_discards_256_octets():
    kek, iv, data = b"\x01" * 16, b"\x02" * 16, b"\x03" * 40
    assert rc4_decrypt_key_data(kek, iv, data) == rc4(iv + kek, data, skip=256)
    assert rc4_decrypt_key_data(kek, iv, data) != rc4(iv + kek, data)


def test_decrypt_key_data_dispatch():
    vec = KW["vectors"][0]
    kek, plain, wrapped = H(vec["kek_hex"]), H(vec["key_data_hex"]), H(vec["ciphertext_hex"])
    for version in (2, 3):
        assert decrypt_key_data(kek, bytes(16), wrapped, descriptor_version=version) == plain
    assert decrypt_key_data(kek, bytes(16), wrapped, descriptor_version=0, akm=AKM.SAE) == plain
    iv = b"\x09" * 16
    assert decrypt_key_data(kek, iv, b"abc", descriptor_version=1) == rc4_decrypt_key_data(kek, iv, b"abc")
    with pytest.raises(CryptoError):
        decrypt_key_data(kek, iv, wrapped, descriptor_version=0)
    with pytest.raises(CryptoError):
        decrypt_key_data(kek, iv, wrapped, descriptor_version=5)
