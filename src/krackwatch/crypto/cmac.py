"""AES-CMAC (NIST SP 800-38B / RFC 4493), the MIC of BIP, EAPOL-Key version 3 and FT."""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers.algorithms import AES
from cryptography.hazmat.primitives.cmac import CMAC

from krackwatch.crypto.errors import CryptoError

__all__ = ["aes_cmac"]


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC of ``data`` under a 16- or 32-octet key (16-octet tag)."""
    if len(key) not in (16, 32):
        raise CryptoError(f"AES-CMAC key must be 16 or 32 octets, not {len(key)}")
    mac = CMAC(AES(bytes(key)))
    mac.update(data)
    return mac.finalize()
