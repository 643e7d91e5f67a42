"""CCMP-128 / CCMP-256 MPDU encapsulation (802.11-2020 12.5.3).

``header`` is the MAC header as transmitted (with A4, QoS Control and HT Control when present) and
``body`` everything after it: the 8-octet CCMP header, the ciphertext and the MIC (no FCS).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from krackwatch.crypto._mpdu import aad_and_priority, pn_be, pn_from_body, pn_header
from krackwatch.crypto.errors import CryptoError, DecryptionError

__all__ = ["CCMP", "ccmp_aad", "ccmp_header", "ccmp_nonce", "ccmp_pn"]


def ccmp_aad(header: bytes) -> bytes:
    """CCMP AAD (12.5.3.3.3): masked FC (Protected forced to 1) || A1 || A2 || A3 || masked SC
    [|| A4] [|| QC reduced to the TID]."""
    return aad_and_priority(header, True)[0]


def ccmp_nonce(header: bytes, pn: int) -> bytes:
    """CCMP nonce (12.5.3.3.4): flags (priority, Management bit) || A2 || PN5..PN0."""
    if not 0 <= pn < 1 << 48:
        raise CryptoError(f"PN {pn} does not fit in 48 bits")
    flags = aad_and_priority(header, True)[1]
    return bytes((flags,)) + bytes(header[10:16]) + pn_be(pn)


def ccmp_header(pn: int, key_id: int) -> bytes:
    """The 8-octet CCMP header with ExtIV set."""
    return pn_header(pn, key_id)


def ccmp_pn(body: bytes) -> int:
    """The 48-bit PN of a CCMP-protected body."""
    return pn_from_body(body)


class CCMP:
    """A CCMP temporal key: 16 octets select CCMP-128 (8-octet MIC), 32 octets CCMP-256 (16-octet MIC).

    Build once per key and reuse: the AES key schedule is set up here, not per frame.
    """

    __slots__ = ("_aead", "_min_len", "mic_len")

    def __init__(self, tk: bytes) -> None:
        if len(tk) == 16:
            self.mic_len = 8
        elif len(tk) == 32:
            self.mic_len = 16
        else:
            raise CryptoError(f"CCMP TK must be 16 or 32 octets, not {len(tk)}")
        self._aead = AESCCM(bytes(tk), tag_length=self.mic_len)
        self._min_len = 8 + self.mic_len

    def __repr__(self) -> str:
        return f"CCMP(<{'128' if self.mic_len == 8 else '256'}-bit key>)"

    def decrypt(self, header: bytes, body: bytes) -> bytes:
        """Plaintext of a protected MPDU; raises :class:`DecryptionError` (``reason`` "ccmp-mic"...)."""
        if len(body) < self._min_len:
            raise DecryptionError("short", f"CCMP body of {len(body)} octets")
        if not body[3] & 0x20:
            raise DecryptionError("ext-iv", "CCMP header without the ExtIV bit")
        aad, flags = aad_and_priority(header, True)
        nonce = (
            bytes((flags,)) + header[10:16] + bytes((body[7], body[6], body[5], body[4], body[1], body[0]))
        )
        try:
            return self._aead.decrypt(nonce, body[8:], aad)
        except InvalidTag:
            raise DecryptionError("ccmp-mic", "CCMP MIC does not verify") from None

    def decrypt_frame(self, frame: bytes, hlen: int) -> bytes:
        """Plaintext of a whole protected frame whose MAC header is ``hlen`` octets (hot path).

        Three-address data frames (QoS or not) build AAD and nonce inline; anything else goes through
        :meth:`decrypt`. Same result and errors as ``decrypt(frame[:hlen], frame[hlen:])``.
        """
        fc0 = frame[0]
        fc1 = frame[1]
        if (fc0 & 0x0C) != 0x08 or (fc1 & 0x03) == 0x03 or len(frame) < hlen + self._min_len \
                or not frame[hlen + 3] & 0x20:
            return self.decrypt(frame[:hlen], frame[hlen:])
        if fc0 & 0x80:  # QoS Data: Order masked, QC reduced to the TID (12.5.3.3.3)
            tid = frame[24] & 0x0F
            aad = bytes((fc0 & 0x8F, (fc1 & 0x47) | 0x40)) + frame[4:22] + bytes((frame[22] & 0x0F, 0, tid, 0))
        else:
            tid = 0
            aad = bytes((fc0 & 0x8F, (fc1 & 0xC7) | 0x40)) + frame[4:22] + bytes((frame[22] & 0x0F, 0))
        p = hlen
        nonce = bytes((tid,)) + frame[10:16] + bytes(
            (frame[p + 7], frame[p + 6], frame[p + 5], frame[p + 4], frame[p + 1], frame[p])
        )
        try:
            return self._aead.decrypt(nonce, frame[p + 8:], aad)
        except InvalidTag:
            raise DecryptionError("ccmp-mic", "CCMP MIC does not verify") from None

    def encrypt(self, header: bytes, pn: int, key_id: int, plaintext: bytes) -> bytes:
        """Protected body (CCMP header || ciphertext || MIC) for ``plaintext`` sent with ``header``."""
        head = pn_header(pn, key_id)
        aad, flags = aad_and_priority(header, True)
        nonce = bytes((flags,)) + header[10:16] + pn_be(pn)
        return head + self._aead.encrypt(nonce, bytes(plaintext), aad)
