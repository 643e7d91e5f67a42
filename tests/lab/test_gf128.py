"""GF(2^128) and the forbidden attack, checked against NIST SP 800-38D and pyca/cryptography's AES-GCM."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.lab.gf128 import (
    forbidden_attack_poly,
    from_block,
    gf_inv,
    gf_mul,
    ghash,
    poly_roots,
    recover_hash_key,
    to_block,
)

blocks = st.binary(min_size=16, max_size=16)


def reference_mul(x: bytes, y: bytes) -> bytes:
    """SP 800-38D 6.3 Algorithm 1, bit by bit, on blocks as the standard writes them."""
    r = 0xE1 << 120
    xi, v, z = int.from_bytes(x, "big"), int.from_bytes(y, "big"), 0
    for i in range(127, -1, -1):
        if (xi >> i) & 1:
            z ^= v
        v = (v >> 1) ^ r if v & 1 else v >> 1
    return z.to_bytes(16, "big")


def aes_block(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


@settings(max_examples=200, deadline=None)
@given(blocks, blocks)
def test_multiplication_matches_the_standards_algorithm(x, y):
    assert to_block(gf_mul(from_block(x), from_block(y))) == reference_mul(x, y)


@settings(max_examples=100, deadline=None)
@given(blocks)
def test_inverse(x):
    a = from_block(x)
    if a == 0:
        with pytest.raises(ZeroDivisionError):
            gf_inv(a)
    else:
        assert gf_mul(a, gf_inv(a)) == 1


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.binary(min_size=12, max_size=12), st.binary(max_size=40),
       st.binary(max_size=80))
def test_ghash_gives_the_aes_gcm_tag(key, nonce, aad, plaintext):
    """tag = GHASH_H(A, C) xor E_K(J0) with H = E_K(0) and J0 = IV || 0^31 || 1 (96-bit IV)."""
    out = AESGCM(key).encrypt(nonce, plaintext, aad)
    ct, tag = out[:-16], out[-16:]
    h = from_block(aes_block(key, bytes(16)))
    ek_j0 = from_block(aes_block(key, nonce + b"\x00\x00\x00\x01"))
    assert to_block(ghash(h, aad, ct) ^ ek_j0) == tag


def test_roots_of_a_planted_polynomial():
    roots = [from_block(os.urandom(16)) for _ in range(5)]
    poly = [1]
    for r in roots:  # multiply by (X + r)
        nxt = [0] * (len(poly) + 1)
        for i, c in enumerate(poly):
            nxt[i + 1] ^= c
            nxt[i] ^= gf_mul(c, r)
        poly = nxt
    assert poly_roots(poly) == sorted(roots)


@pytest.mark.parametrize("lengths", [(36, 36), (107, 107), (52, 90)])
def test_forbidden_attack_recovers_the_hash_key(lengths):
    """Two messages under one nonce: H is a root of the tag-difference polynomial; a second nonce-reusing
    pair pins it down. Truth: H = AES_K(0^128)."""
    key = os.urandom(16)
    g = AESGCM(key)
    aad = os.urandom(22)
    pairs = []
    for _ in range(2):
        nonce = os.urandom(12)
        a, b = g.encrypt(nonce, os.urandom(lengths[0]), aad), g.encrypt(nonce, os.urandom(lengths[1]), aad)
        pairs.append((aad, a[:-16], a[-16:], aad, b[:-16], b[-16:]))
    h = from_block(aes_block(key, bytes(16)))
    assert h in poly_roots(forbidden_attack_poly(*pairs[0]))
    assert recover_hash_key(pairs) == h


def test_one_pair_is_not_enough_or_unique():
    key = os.urandom(16)
    g = AESGCM(key)
    nonce = os.urandom(12)
    a, b = g.encrypt(nonce, os.urandom(40), b""), g.encrypt(nonce, os.urandom(40), b"")
    got = recover_hash_key([(b"", a[:-16], a[-16:], b"", b[:-16], b[-16:])])
    assert got is None or got == from_block(aes_block(key, bytes(16)))
