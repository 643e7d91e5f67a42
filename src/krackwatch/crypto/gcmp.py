"""GCMP-128 / GCMP-256 MPDU encapsulation (802.11-2020 12.5.5).

Same header, PN and AAD masking as CCMP; the nonce is A2 || PN5..PN0 (12 octets, no flags) and the
MIC is 16 octets. The Frame Control's Protected bit is taken as transmitted (it is always 1 on the
air); forcing it to 1 would break the published 802.11ad vector #1, whose header has it clear.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from krackwatch.crypto._mpdu import aad_and_priority, pn_be, pn_from_body, pn_header
from krackwatch.crypto.errors import CryptoError, DecryptionError

__all__ = ["GCMP", "gcmp_aad", "gcmp_header", "gcmp_nonce", "gcmp_pn"]

_MIC_LEN = 16


def gcmp_aad(header: bytes) -> bytes:
    """GCMP AAD (12.5.5.3.3): CCMP masking with the Protected bit left as transmitted."""
    return aad_and_priority(header, False)[0]


def gcmp_nonce(header: bytes, pn: int) -> bytes:
    """GCMP nonce (12.5.5.3.4): A2 || PN5..PN0."""
    if len(header) < 16:
        raise DecryptionError("header", "MAC header too short for A2")
    if not 0 <= pn < 1 << 48:
        raise CryptoError(f"PN {pn} does not fit in 48 bits")
    return bytes(header[10:16]) + pn_be(pn)


def gcmp_header(pn: int, key_id: int) -> bytes:
    """The 8-octet GCMP header (same layout as CCMP's)."""
    return pn_header(pn, key_id)


def gcmp_pn(body: bytes) -> int:
    """The 48-bit PN of a GCMP-protected body."""
    return pn_from_body(body)


class GCMP:
    """A GCMP temporal key: 16 octets select GCMP-128, 32 octets GCMP-256. Build once per key."""

    __slots__ = ("_aead", "key_bits")

    mic_len = _MIC_LEN

    def __init__(self, tk: bytes) -> None:
        if len(tk) not in (16, 32):
            raise CryptoError(f"GCMP TK must be 16 or 32 octets, not {len(tk)}")
        self.key_bits = len(tk) * 8
        self._aead = AESGCM(bytes(tk))

    def __repr__(self) -> str:
        return f"GCMP(<{self.key_bits}-bit key>)"

    def decrypt(self, header: bytes, body: bytes) -> bytes:
        """Plaintext of a protected MPDU; raises :class:`DecryptionError` (``reason`` "gcmp-mic"...)."""
        if len(body) < 8 + _MIC_LEN:
            raise DecryptionError("short", f"GCMP body of {len(body)} octets")
        if not body[3] & 0x20:
            raise DecryptionError("ext-iv", "GCMP header without the ExtIV bit")
        aad = aad_and_priority(header, False)[0]
        nonce = bytes(header[10:16]) + bytes((body[7], body[6], body[5], body[4], body[1], body[0]))
        try:
            return self._aead.decrypt(nonce, body[8:], aad)
        except InvalidTag:
            raise DecryptionError("gcmp-mic", "GCMP MIC does not verify") from None

    def decrypt_frame(self, frame: bytes, hlen: int) -> bytes:
        """Plaintext of a whole protected frame whose MAC header is ``hlen`` octets (hot path).

        Same result and errors as ``decrypt(frame[:hlen], frame[hlen:])``.
        """
        return self.decrypt(frame[:hlen], frame[hlen:])

    def encrypt(self, header: bytes, pn: int, key_id: int, plaintext: bytes) -> bytes:
        """Protected body (GCMP header || ciphertext || MIC)."""
        head = pn_header(pn, key_id)
        aad = aad_and_priority(header, False)[0]
        nonce = bytes(header[10:16]) + pn_be(pn)
        return head + self._aead.encrypt(nonce, bytes(plaintext), aad)
