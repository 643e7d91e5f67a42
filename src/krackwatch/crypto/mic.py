"""EAPOL-Key MIC computation and verification (802.11-2020 12.7.2, 12.7.3 Table 12-11)."""

from __future__ import annotations

import hashlib
import hmac

from krackwatch.crypto.cmac import aes_cmac
from krackwatch.crypto.errors import CryptoError, InvalidMIC
from krackwatch.crypto.ptk import suite_or_error
from krackwatch.crypto.suites import AKM

__all__ = ["eapol_key_mic", "verify_eapol_key_mic"]

_EAPOL_HEADER_LEN = 4


def _akm_defined_mic(kck: bytes, eapol: bytes, akm: AKM) -> bytes:
    # Descriptor version 0: the AKM selects the integrity algorithm (Table 12-11).
    if akm in (AKM.SAE, AKM.FT_SAE):
        return aes_cmac(kck, eapol)
    if akm is AKM.SUITE_B:
        return hmac.new(kck, eapol, hashlib.sha256).digest()[:16]
    if akm.uses_sha384:
        return hmac.new(kck, eapol, hashlib.sha384).digest()[:24]
    if akm is AKM.OWE:
        # The KCK length follows the DH group: 16 -> SHA-256, 24 -> SHA-384, 32 -> SHA-512.
        digest = {16: hashlib.sha256, 24: hashlib.sha384, 32: hashlib.sha512}.get(len(kck))
        if digest is None:
            raise CryptoError(f"OWE KCK of {len(kck)} octets matches no DH group")
        return hmac.new(kck, eapol, digest).digest()[: len(kck)]
    raise CryptoError(f"{akm.label} does not define an EAPOL-Key MIC for descriptor version 0")


def eapol_key_mic(kck: bytes, eapol: bytes, *, descriptor_version: int, akm: AKM | None = None) -> bytes:
    """MIC of an EAPOL-Key frame.

    ``eapol`` is the whole EAPOL PDU from the protocol-version octet (not the Key Descriptor alone:
    802.11i-2004's text was wrong there), with the MIC field zeroed and no trailing padding.
    Version 1: HMAC-MD5; 2: HMAC-SHA1-128; 3: AES-128-CMAC; 0: defined by ``akm``.
    """
    kck = bytes(kck)
    eapol = bytes(eapol)
    if descriptor_version in (1, 2, 3) and len(kck) != 16:
        raise CryptoError(f"descriptor version {descriptor_version} needs a 16-octet KCK, not {len(kck)}")
    if descriptor_version == 1:
        return hmac.new(kck, eapol, hashlib.md5).digest()
    if descriptor_version == 2:
        return hmac.new(kck, eapol, hashlib.sha1).digest()[:16]
    if descriptor_version == 3:
        return aes_cmac(kck, eapol)
    if descriptor_version == 0:
        if akm is None:
            raise CryptoError("descriptor version 0 needs the AKM to define the MIC")
        return _akm_defined_mic(kck, eapol, suite_or_error(akm)[0])
    raise CryptoError(f"unknown key descriptor version {descriptor_version}")


def verify_eapol_key_mic(
    kck: bytes,
    eapol: bytes,
    *,
    descriptor_version: int,
    akm: AKM | None = None,
    mic_offset: int = 81,
    mic_len: int = 16,
) -> None:
    """Check the Key MIC of a received EAPOL-Key frame; raises :class:`InvalidMIC` if it differs.

    ``eapol`` starts at the protocol-version octet and may carry trailing padding (it is cut to
    4 + the EAPOL body length). The MIC field is zeroed here; the comparison is constant-time.
    """
    view = memoryview(eapol)
    if len(view) < _EAPOL_HEADER_LEN:
        raise InvalidMIC("EAPOL frame shorter than its header")
    frame_len = _EAPOL_HEADER_LEN + int.from_bytes(view[2:4], "big")
    if frame_len > len(view):
        raise InvalidMIC(f"EAPOL frame truncated: body length says {frame_len} octets, have {len(view)}")
    mic_end = mic_offset + mic_len
    if mic_offset < _EAPOL_HEADER_LEN or mic_end > frame_len:
        raise InvalidMIC("EAPOL frame too short to hold the Key MIC field")
    received = bytes(view[mic_offset:mic_end])
    zeroed = b"".join((view[:mic_offset], bytes(mic_len), view[mic_end:frame_len]))
    computed = eapol_key_mic(kck, zeroed, descriptor_version=descriptor_version, akm=akm)
    if len(computed) != mic_len:
        raise CryptoError(f"the MIC algorithm gives {len(computed)} octets but the field holds {mic_len}")
    if not hmac.compare_digest(computed, received):
        raise InvalidMIC("EAPOL-Key MIC does not verify")
