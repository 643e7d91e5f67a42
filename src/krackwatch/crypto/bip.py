"""BIP-CMAC-128/256 for group-addressed robust management frames (802.11-2020 12.5.4).

The body ends with the Management MIC element (MME): ID 76, length 16 (BIP-CMAC-128: Key ID 2,
IPN 6, MIC 8) or 24 (BIP-CMAC-256: MIC 16).
"""

from __future__ import annotations

import hmac

from krackwatch.crypto.cmac import aes_cmac
from krackwatch.crypto.errors import CryptoError, InvalidMIC

__all__ = ["aes_cmac", "bip_aad", "bip_cmac_mic", "bip_ipn", "verify_bip"]

_MME_ID = 76


def bip_aad(header: bytes) -> bytes:
    """BIP AAD (12.5.4.5.3): FC with Retry, PwrMgt and MoreData masked to 0 || A1 || A2 || A3."""
    if len(header) < 22:
        raise CryptoError(f"management header of {len(header)} octets is too short")
    return bytes((header[0], header[1] & 0xC7)) + bytes(header[4:22])


def _mic_len(igtk: bytes) -> int:
    if len(igtk) == 16:
        return 8
    if len(igtk) == 32:
        return 16
    raise CryptoError(f"BIP-CMAC IGTK must be 16 or 32 octets, not {len(igtk)}")


def bip_cmac_mic(igtk: bytes, header: bytes, body_with_mme_mic_zeroed: bytes) -> bytes:
    """MIC of BIP-CMAC-128 (8 octets, 16-octet IGTK) or BIP-CMAC-256 (16 octets, 32-octet IGTK)."""
    mic_len = _mic_len(igtk)
    return aes_cmac(igtk, bip_aad(header) + bytes(body_with_mme_mic_zeroed))[:mic_len]


def _mme_start(body: bytes, mic_len: int) -> int:
    mme_len = 8 + mic_len
    start = len(body) - 2 - mme_len
    if start < 0 or body[start] != _MME_ID or body[start + 1] != mme_len:
        raise InvalidMIC("frame body does not end with a Management MIC element of the expected size")
    return start


def bip_ipn(body: bytes, *, mic_len: int = 8) -> int:
    """The IPN (48-bit, little-endian) of the MME ending ``body``."""
    start = _mme_start(body, mic_len)
    return int.from_bytes(body[start + 4 : start + 10], "little")


def verify_bip(igtk: bytes, header: bytes, body: bytes) -> None:
    """Check the MME MIC of a group-addressed management frame; raises :class:`InvalidMIC`."""
    mic_len = _mic_len(igtk)
    start = _mme_start(body, mic_len)
    mic_at = len(body) - mic_len
    received = bytes(body[mic_at:])
    computed = bip_cmac_mic(igtk, header, bytes(body[:mic_at]) + bytes(mic_len))
    if not hmac.compare_digest(computed, received):
        raise InvalidMIC(f"BIP MIC does not verify (MME at body offset {start})")
