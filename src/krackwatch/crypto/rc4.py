"""RC4 (ARC4) keystream cipher, used by WEP, TKIP and EAPOL-Key descriptor version 1."""

from __future__ import annotations

import warnings

from cryptography.hazmat.primitives.ciphers import Cipher

from krackwatch.crypto.errors import CryptoError

try:  # cryptography >= 43 keeps the broken ciphers in "decrepit"
    from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
except ImportError:  # pragma: no cover - older cryptography
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from cryptography.hazmat.primitives.ciphers.algorithms import ARC4  # type: ignore[no-redef]

__all__ = ["rc4"]

_NATIVE_KEY_BITS = frozenset(ARC4.key_sizes)


def _rc4_python(key: bytes, data: bytes, skip: int) -> bytes:
    """Plain RC4 for key lengths the library refuses (it only takes a few fixed sizes)."""
    s = list(range(256))
    j = 0
    klen = len(key)
    for i in range(256):
        j = (j + s[i] + key[i % klen]) & 0xFF
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray(len(data))
    for n in range(skip + len(data)):
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        if n >= skip:
            out[n - skip] = data[n - skip] ^ s[(s[i] + s[j]) & 0xFF]
    return bytes(out)


def rc4(key: bytes, data: bytes, skip: int = 0) -> bytes:
    """XOR ``data`` with the RC4 keystream of ``key`` after discarding ``skip`` keystream octets."""
    if not 1 <= len(key) <= 256:
        raise CryptoError(f"RC4 key must be 1..256 octets, not {len(key)}")
    if skip < 0:
        raise CryptoError("RC4 skip must not be negative")
    if len(key) * 8 not in _NATIVE_KEY_BITS:
        return _rc4_python(bytes(key), bytes(data), skip)
    enc = Cipher(ARC4(bytes(key)), mode=None).encryptor()
    if skip:
        enc.update(bytes(skip))
    return enc.update(data)
