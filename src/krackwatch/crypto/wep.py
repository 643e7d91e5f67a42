"""WEP encapsulation (802.11-2020 12.3.2): IV (3) || KeyID octet || RC4(IV || key)(data || ICV)."""

from __future__ import annotations

import hmac
import zlib

from krackwatch.crypto.errors import CryptoError, DecryptionError
from krackwatch.crypto.rc4 import rc4

__all__ = ["wep_decrypt", "wep_encrypt", "wep_key_id"]


def wep_key_id(body: bytes) -> int:
    """Key ID (0..3) from the fourth octet of a WEP body."""
    if len(body) < 4:
        raise DecryptionError("short", "body shorter than the 4-octet WEP IV")
    return body[3] >> 6


def wep_decrypt(key: bytes, body: bytes) -> bytes:
    """Plaintext of a WEP body (ICV removed); raises :class:`DecryptionError` with reason "icv"."""
    if not key:
        raise CryptoError("empty WEP key")
    if len(body) < 8:
        raise DecryptionError("short", f"WEP body of {len(body)} octets")
    if body[3] & 0x20:
        raise DecryptionError("ext-iv", "ExtIV set: this is TKIP/CCMP/GCMP, not WEP")
    plain = rc4(bytes(body[:3]) + bytes(key), body[4:])
    if not hmac.compare_digest(zlib.crc32(plain[:-4]).to_bytes(4, "little"), plain[-4:]):
        raise DecryptionError("icv", "WEP ICV does not verify")
    return plain[:-4]


def wep_encrypt(key: bytes, iv: bytes, key_id: int, plaintext: bytes) -> bytes:
    """WEP body for ``plaintext`` under ``key`` (5 or 13 octets usually) and a 3-octet IV."""
    if not key:
        raise CryptoError("empty WEP key")
    if len(iv) != 3:
        raise CryptoError(f"WEP IV must be 3 octets, not {len(iv)}")
    if not 0 <= key_id <= 3:
        raise CryptoError(f"key ID {key_id} is not 0..3")
    data = bytes(plaintext)
    data += zlib.crc32(data).to_bytes(4, "little")
    return bytes(iv) + bytes((key_id << 6,)) + rc4(bytes(iv) + bytes(key), data)
