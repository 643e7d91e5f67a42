"""Key derivation: passphrase -> PSK, the SHA-1 PRF and the 802.11 KDF.

IEEE 802.11-2020 J.4 (PSK mapping), 12.7.1.2 (PRF-n with HMAC-SHA-1) and 12.7.1.7.2 (KDF-Hash-Length).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from krackwatch.crypto.errors import CryptoError

__all__ = [
    "kdf_hash",
    "kdf_sha256",
    "kdf_sha384",
    "kdf_sha512",
    "pbkdf2_psk",
    "pbkdf2_sha1",
    "prf_sha1",
]

_PSK_ITERATIONS = 4096
_PSK_LEN = 32
_DIGEST_LEN = {"sha256": 32, "sha384": 48, "sha512": 64}


def _as_bytes(value: str | bytes, what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise CryptoError(f"{what} must be str or bytes, not {type(value).__name__}")


def pbkdf2_sha1(password: bytes, salt: bytes, iterations: int, length: int) -> bytes:
    """PBKDF2 with HMAC-SHA1 (RFC 8018), the primitive under the PSK mapping."""
    if iterations < 1 or length < 1:
        raise CryptoError("PBKDF2 needs at least one iteration and one output octet")
    return hashlib.pbkdf2_hmac("sha1", bytes(password), bytes(salt), iterations, length)


@lru_cache(maxsize=256)
def _pbkdf2_cached(passphrase: bytes, ssid: bytes) -> bytes:
    return pbkdf2_sha1(passphrase, ssid, _PSK_ITERATIONS, _PSK_LEN)


def pbkdf2_psk(passphrase: str | bytes, ssid: str | bytes) -> bytes:
    """PMK (32 octets) = PBKDF2-HMAC-SHA1(passphrase, SSID, 4096) (802.11-2020 J.4.1).

    Strings are encoded as UTF-8. Results are cached: the same network is derived again and again.
    """
    return _pbkdf2_cached(_as_bytes(passphrase, "passphrase"), _as_bytes(ssid, "SSID"))


def prf_sha1(key: bytes, label: bytes, data: bytes, length: int) -> bytes:
    """PRF-(8*length) of 802.11-2020 12.7.1.2: HMAC-SHA1(K, label || 0 || data || i), i = 0, 1, ...

    ``length`` is in octets (48 for PRF-384, 64 for PRF-512).
    """
    if length < 0:
        raise CryptoError("PRF output length must not be negative")
    base = hmac.new(bytes(key), digestmod=hashlib.sha1)
    base.update(bytes(label) + b"\x00" + bytes(data))
    out = bytearray()
    counter = 0
    while len(out) < length:
        block = base.copy()
        block.update(bytes((counter,)))
        out += block.digest()
        counter += 1
    return bytes(out[:length])


def kdf_hash(hash_name: str, key: bytes, label: bytes, context: bytes, length_bits: int) -> bytes:
    """KDF-Hash-Length of 802.11-2020 12.7.1.7.2.

    Each block is HMAC-Hash(K, i || label || context || Length) with i counting from 1 and both i
    and Length (in bits) encoded as 16-bit little-endian integers. Returns ceil(Length/8) octets;
    when Length is not a multiple of 8 the unused low-order bits of the last octet are zero.
    """
    digest_len = _DIGEST_LEN.get(hash_name)
    if digest_len is None:
        raise CryptoError(f"unsupported KDF hash {hash_name!r}")
    if not 0 < length_bits <= 0xFFFF:
        raise CryptoError(f"KDF length {length_bits} bits out of range")
    tail = bytes(label) + bytes(context) + length_bits.to_bytes(2, "little")
    base = hmac.new(bytes(key), digestmod=hash_name)
    n_octets = (length_bits + 7) // 8
    out = bytearray()
    counter = 1
    while len(out) < n_octets:
        block = base.copy()
        block.update(counter.to_bytes(2, "little") + tail)
        out += block.digest()
        counter += 1
    del out[n_octets:]
    spare = n_octets * 8 - length_bits
    if spare:
        out[-1] &= (0xFF << spare) & 0xFF
    return bytes(out)


def kdf_sha256(key: bytes, label: bytes, context: bytes, length_bits: int) -> bytes:
    """KDF-SHA-256 (802.11-2020 12.7.1.7.2)."""
    return kdf_hash("sha256", key, label, context, length_bits)


def kdf_sha384(key: bytes, label: bytes, context: bytes, length_bits: int) -> bytes:
    """KDF-SHA-384 (802.11-2020 12.7.1.7.2), used by the 192-bit AKMs."""
    return kdf_hash("sha384", key, label, context, length_bits)


def kdf_sha512(key: bytes, label: bytes, context: bytes, length_bits: int) -> bytes:
    """KDF-SHA-512 (802.11-2020 12.7.1.7.2), used by OWE with group 21."""
    return kdf_hash("sha512", key, label, context, length_bits)
