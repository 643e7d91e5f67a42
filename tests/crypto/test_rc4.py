"""RC4: our fallback for odd key sizes against the library implementation."""

from __future__ import annotations

import importlib

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
from cryptography.hazmat.primitives.ciphers import Cipher
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.crypto.errors import CryptoError
from krackwatch.crypto.rc4 import rc4

rc4_module = importlib.import_module("krackwatch.crypto.rc4")


@settings(max_examples=100, deadline=None)
@given(
    key=st.sampled_from([5, 7, 8, 10, 16, 20, 24, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
    data=st.binary(max_size=300),
    skip=st.integers(0, 300),
)
def test_python_rc4_matches_library(key, data, skip):
    enc = Cipher(ARC4(key), mode=None).encryptor()
    expected = enc.update(bytes(skip) + data)[skip:]
    assert rc4_module._rc4_python(key, data, skip) == expected
    assert rc4(key, data, skip) == expected


@settings(max_examples=50, deadline=None)
@given(key=st.binary(min_size=1, max_size=64), data=st.binary(max_size=100))
def test_rc4_is_an_involution(key, data):
    assert rc4(key, rc4(key, data)) == data


def test_rc4_argument_checks():
    with pytest.raises(CryptoError):
        rc4(b"", b"x")
    with pytest.raises(CryptoError):
        rc4(b"\x00" * 257, b"x")
    with pytest.raises(CryptoError):
        rc4(b"key", b"x", skip=-1)
