"""Fast BSS Transition (802.11r) key hierarchy and FTE MIC (802.11-2020 12.7.1.7.3-5, 13.8.4).

XXKey is the PMK for FT-PSK and FT-SAE, and the second 256 bits of the MSK for FT-802.1X.
S0KH-ID and S1KH-ID are the STA address; R1KH-ID is a 6-octet identifier (often the BSSID).
"""

from __future__ import annotations

import hashlib
import hmac

from krackwatch.crypto.cmac import aes_cmac
from krackwatch.crypto.errors import CryptoError, InvalidMIC
from krackwatch.crypto.kdf import kdf_hash
from krackwatch.crypto.ptk import PTK, suite_or_error
from krackwatch.crypto.suites import AKM, Cipher

__all__ = [
    "derive_ft_ptk",
    "derive_pmk_r0",
    "derive_pmk_r1",
    "ft_mic",
    "ftie_with_zero_mic",
    "verify_ft_mic",
]

_FTE_ID = 55


def _ft_hash(akm: AKM) -> tuple[str, int]:
    """(hash name, Q in octets) of an FT AKM: SHA-384 only for FT-802.1X-SHA384."""
    akm = suite_or_error(akm)[0]
    if not akm.is_ft:
        raise CryptoError(f"{akm.label} is not an FT AKM")
    if akm.uses_sha384:
        return "sha384", 48
    return "sha256", 32


def _mdid_bytes(mdid: bytes | int) -> bytes:
    if isinstance(mdid, int):
        if not 0 <= mdid <= 0xFFFF:
            raise CryptoError("MDID out of range")
        return mdid.to_bytes(2, "little")  # the MDE carries it as a little-endian field
    if len(mdid) != 2:
        raise CryptoError(f"MDID must be 2 octets, not {len(mdid)}")
    return bytes(mdid)


def derive_pmk_r0(
    xxkey: bytes,
    ssid: str | bytes,
    mdid: bytes | int,
    r0kh_id: bytes,
    s0kh_id: bytes,
    *,
    akm: AKM,
) -> tuple[bytes, bytes]:
    """(PMK-R0, PMKR0Name) per 12.7.1.7.3.

    R0-Key-Data = KDF-Hash(XXKey, "FT-R0", SSIDlength || SSID || MDID || R0KHlength || R0KH-ID ||
    S0KH-ID); PMK-R0 is its first Q bits and PMKR0Name = Truncate-128(Hash("FT-R0N" || next 128 bits)).
    ``mdid`` is the 2-octet MDID as carried in the MDE (an int is encoded little-endian).
    """
    name, q = _ft_hash(akm)
    ssid_b = ssid.encode("utf-8") if isinstance(ssid, str) else bytes(ssid)
    if len(ssid_b) > 32:
        raise CryptoError("SSID longer than 32 octets")
    if not 1 <= len(r0kh_id) <= 48:
        raise CryptoError("R0KH-ID must be 1..48 octets")
    if len(s0kh_id) != 6:
        raise CryptoError("S0KH-ID must be a 6-octet MAC address")
    context = b"".join(
        (
            bytes((len(ssid_b),)),
            ssid_b,
            _mdid_bytes(mdid),
            bytes((len(r0kh_id),)),
            bytes(r0kh_id),
            bytes(s0kh_id),
        )
    )
    r0_key_data = kdf_hash(name, xxkey, b"FT-R0", context, (q + 16) * 8)
    pmk_r0 = r0_key_data[:q]
    salt = r0_key_data[q:]
    pmk_r0_name = hashlib.new(name, b"FT-R0N" + salt).digest()[:16]
    return pmk_r0, pmk_r0_name


def derive_pmk_r1(
    pmk_r0: bytes, pmk_r0_name: bytes, r1kh_id: bytes, s1kh_id: bytes, *, akm: AKM
) -> tuple[bytes, bytes]:
    """(PMK-R1, PMKR1Name) per 12.7.1.7.4; PMKR1Name is the PMKID an FT STA puts in its RSNE."""
    name, q = _ft_hash(akm)
    if len(pmk_r0) != q:
        raise CryptoError(f"PMK-R0 must be {q} octets for this AKM, not {len(pmk_r0)}")
    if len(pmk_r0_name) != 16:
        raise CryptoError("PMKR0Name must be 16 octets")
    if len(r1kh_id) != 6 or len(s1kh_id) != 6:
        raise CryptoError("R1KH-ID and S1KH-ID must be 6 octets")
    ids = bytes(r1kh_id) + bytes(s1kh_id)
    pmk_r1 = kdf_hash(name, pmk_r0, b"FT-R1", ids, q * 8)
    pmk_r1_name = hashlib.new(name, b"FT-R1N" + bytes(pmk_r0_name) + ids).digest()[:16]
    return pmk_r1, pmk_r1_name


def derive_ft_ptk(
    pmk_r1: bytes, snonce: bytes, anonce: bytes, bssid: bytes, sta: bytes, *, akm: AKM, cipher: Cipher
) -> PTK:
    """PTK = KDF-Hash-PTKLen(PMK-R1, "FT-PTK", SNonce || ANonce || BSSID || STA-ADDR) (12.7.1.7.5)."""
    name, q = _ft_hash(akm)
    cipher = suite_or_error(cipher=cipher)[1]
    if len(pmk_r1) != q:
        raise CryptoError(f"PMK-R1 must be {q} octets for this AKM, not {len(pmk_r1)}")
    if len(snonce) != 32 or len(anonce) != 32:
        raise CryptoError("SNonce and ANonce must be 32 octets")
    if len(bssid) != 6 or len(sta) != 6:
        raise CryptoError("BSSID and STA address must be 6 octets")
    tk_len = cipher.tk_len
    if tk_len == 0 or cipher.canonical in (Cipher.WEP40, Cipher.WEP104):
        raise CryptoError(f"{cipher.label} is not a pairwise cipher with a PTK-derived TK")
    kck_len, kek_len = (24, 32) if name == "sha384" else (16, 16)
    context = bytes(snonce) + bytes(anonce) + bytes(bssid) + bytes(sta)
    raw = kdf_hash(name, pmk_r1, b"FT-PTK", context, (kck_len + kek_len + tk_len) * 8)
    return PTK(kck=raw[:kck_len], kek=raw[kck_len : kck_len + kek_len], tk=raw[kck_len + kek_len :])


def ft_mic(
    kck: bytes,
    sta: bytes,
    ap: bytes,
    seq: int,
    rsne: bytes,
    mde: bytes,
    ftie_mic_zeroed: bytes,
    ric: bytes = b"",
    rsnxe: bytes = b"",
    *,
    akm: AKM,
) -> bytes:
    """FTE MIC (13.8.4) over STA || AP || seq || RSNE || MDE || FTE || RIC || RSNXE.

    Elements are passed whole (ID and Length included); the FTE's MIC field must be zero.
    ``seq`` is 5 for a Reassociation Request, 6 for a Reassociation Response (3/4 for FT
    Authentication/Action frames). AES-128-CMAC for 16-octet KCKs, HMAC-SHA-384-192 for
    FT-802.1X-SHA384.
    """
    name, _ = _ft_hash(akm)
    if len(sta) != 6 or len(ap) != 6:
        raise CryptoError("STA and AP addresses must be 6 octets")
    if not 0 <= seq <= 0xFF:
        raise CryptoError("transaction sequence number must fit in one octet")
    data = b"".join(
        (
            bytes(sta),
            bytes(ap),
            bytes((seq,)),
            bytes(rsne),
            bytes(mde),
            bytes(ftie_mic_zeroed),
            bytes(ric),
            bytes(rsnxe),
        )
    )
    if name == "sha384":
        if len(kck) != 24:
            raise CryptoError(f"FT-802.1X-SHA384 needs a 24-octet KCK, not {len(kck)}")
        return hmac.new(bytes(kck), data, hashlib.sha384).digest()[:24]
    if len(kck) != 16:
        raise CryptoError(f"this FT AKM needs a 16-octet KCK, not {len(kck)}")
    return aes_cmac(kck, data)


def ftie_with_zero_mic(fte: bytes, mic_len: int = 16) -> bytes:
    """A copy of an FTE (element ID 55 and Length included) with its MIC field zeroed."""
    if len(fte) < 4 + mic_len or fte[0] != _FTE_ID or fte[1] != len(fte) - 2:
        raise CryptoError("not a complete Fast BSS Transition element")
    return bytes(fte[:4]) + bytes(mic_len) + bytes(fte[4 + mic_len :])


def verify_ft_mic(
    kck: bytes,
    sta: bytes,
    ap: bytes,
    seq: int,
    rsne: bytes,
    mde: bytes,
    fte: bytes,
    ric: bytes = b"",
    rsnxe: bytes = b"",
    *,
    akm: AKM,
) -> None:
    """Check the MIC carried in ``fte``; raises :class:`InvalidMIC` (constant-time compare)."""
    mic_len = 24 if _ft_hash(akm)[0] == "sha384" else 16
    zeroed = ftie_with_zero_mic(fte, mic_len)
    computed = ft_mic(kck, sta, ap, seq, rsne, mde, zeroed, ric, rsnxe, akm=akm)
    if not hmac.compare_digest(computed, bytes(fte[4 : 4 + mic_len])):
        raise InvalidMIC("FTE MIC does not verify")
