"""Errors raised by :mod:`krackwatch.crypto`.

Verification never returns a bool: a failed check raises one of these.
"""

from __future__ import annotations

from krackwatch.errors import KrackwatchError


class CryptoError(KrackwatchError):
    """A cryptographic operation could not be carried out (bad key length, unsupported suite...)."""


class InvalidMIC(CryptoError):
    """A message integrity code (EAPOL-Key MIC, BIP MIC, FT MIC) did not verify."""


class DecryptionError(CryptoError):
    """A protected MPDU could not be decrypted.

    ``reason`` is a short machine-readable tag: ``"short"`` (too few octets), ``"ext-iv"`` (ExtIV
    bit wrong for the cipher), ``"ccmp-mic"``, ``"gcmp-mic"``, ``"icv"``, ``"michael"``,
    ``"header"`` (MAC header shorter than its Frame Control implies).
    """

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or reason)


class KeyUnwrapError(CryptoError):
    """RFC 3394 AES key unwrap failed its integrity check, or the input had an invalid length."""
