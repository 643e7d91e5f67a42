"""EAPOL-Key Key Data encryption: RFC 3394 AES key wrap and the legacy RC4 scheme (802.11-2020 12.7.2)."""

from __future__ import annotations

from cryptography.hazmat.primitives import keywrap as _kw

from krackwatch.crypto.errors import CryptoError, KeyUnwrapError
from krackwatch.crypto.rc4 import rc4
from krackwatch.crypto.suites import AKM

__all__ = ["aes_key_unwrap", "aes_key_wrap", "decrypt_key_data", "rc4_decrypt_key_data"]

_RC4_DISCARD = 256


def aes_key_wrap(kek: bytes, plaintext: bytes) -> bytes:
    """RFC 3394 wrap; ``plaintext`` must be at least 16 octets and a multiple of 8."""
    if len(kek) not in (16, 24, 32):
        raise CryptoError(f"KEK must be 16, 24 or 32 octets, not {len(kek)}")
    if len(plaintext) < 16 or len(plaintext) % 8:
        raise CryptoError("key wrap input must be a multiple of 8 octets, at least 16")
    return _kw.aes_key_wrap(bytes(kek), bytes(plaintext))


def aes_key_unwrap(kek: bytes, wrapped: bytes) -> bytes:
    """RFC 3394 unwrap; raises :class:`KeyUnwrapError` when the integrity check value differs."""
    if len(kek) not in (16, 24, 32):
        raise CryptoError(f"KEK must be 16, 24 or 32 octets, not {len(kek)}")
    if len(wrapped) < 24 or len(wrapped) % 8:
        raise KeyUnwrapError(f"wrapped key data of {len(wrapped)} octets is not a multiple of 8, at least 24")
    try:
        return _kw.aes_key_unwrap(bytes(kek), bytes(wrapped))
    except _kw.InvalidUnwrap as exc:
        raise KeyUnwrapError(
            "AES key unwrap integrity check failed (wrong KEK or corrupted key data)"
        ) from exc


def rc4_decrypt_key_data(kek: bytes, key_iv: bytes, data: bytes) -> bytes:
    """Key Data of descriptor version 1: RC4 keyed with EAPOL-Key IV || KEK, first 256 octets dropped."""
    if len(key_iv) != 16:
        raise CryptoError(f"EAPOL-Key IV must be 16 octets, not {len(key_iv)}")
    return rc4(bytes(key_iv) + bytes(kek), data, skip=_RC4_DISCARD)


def decrypt_key_data(
    kek: bytes, key_iv: bytes, data: bytes, *, descriptor_version: int, akm: AKM | None = None
) -> bytes:
    """Decrypt EAPOL-Key Key Data by Key Descriptor Version (802.11-2020 12.7.2 b.1).

    Version 1 uses RC4, versions 2 and 3 and the AKM-defined version 0 use AES key wrap. The result
    keeps its padding (``dd 00 ...``) for the KDE parser to stop at.
    """
    if descriptor_version == 1:
        return rc4_decrypt_key_data(kek, key_iv, data)
    if descriptor_version in (2, 3):
        return aes_key_unwrap(kek, data)
    if descriptor_version == 0:
        if akm is None:
            raise CryptoError("descriptor version 0 needs the AKM to define the key data cipher")
        return aes_key_unwrap(kek, data)
    raise CryptoError(f"unknown key descriptor version {descriptor_version}")
