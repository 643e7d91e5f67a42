"""Pairwise key hierarchy: PMK -> PTK (KCK, KEK, TK) and the PMKID (802.11-2020 12.7.1.3)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from krackwatch.crypto.errors import CryptoError
from krackwatch.crypto.kdf import kdf_hash, prf_sha1
from krackwatch.crypto.suites import AKM, Cipher

__all__ = ["PTK", "akm_key_lengths", "derive_ptk", "pmkid", "suite_or_error"]

_PAIRWISE_LABEL = b"Pairwise key expansion"
_PMK_NAME_LABEL = b"PMK Name"
_OWE_HASH_BY_PMK_LEN = {32: "sha256", 48: "sha384", 64: "sha512"}


@dataclass(frozen=True, slots=True, repr=False)
class PTK:
    """Pairwise transient key split into its parts; ``kdk`` is empty unless a KDK was asked for."""

    kck: bytes
    kek: bytes
    tk: bytes
    kdk: bytes = b""

    def __repr__(self) -> str:  # key bytes are secrets: show only their sizes
        extra = f", kdk=<{len(self.kdk)} octets>" if self.kdk else ""
        return (
            f"PTK(kck=<{len(self.kck)} octets>, kek=<{len(self.kek)} octets>, "
            f"tk=<{len(self.tk)} octets>{extra})"
        )

    @property
    def tkip_tk(self) -> bytes:
        """The 128-bit TKIP temporal encryption key (TK octets 0..15)."""
        return self.tk[:16]

    @property
    def michael_auth_to_supp(self) -> bytes:
        """Michael key for frames the Authenticator sends (TK octets 16..23, 802.11-2020 12.8.1)."""
        return self.tk[16:24]

    @property
    def michael_supp_to_auth(self) -> bytes:
        """Michael key for frames the Supplicant sends (TK octets 24..31)."""
        return self.tk[24:32]

    def michael_key(self, *, from_authenticator: bool) -> bytes:
        """The TKIP Michael key for one direction of this pairwise key."""
        return self.michael_auth_to_supp if from_authenticator else self.michael_supp_to_auth


def suite_or_error(
    akm: AKM | int | None = None, cipher: Cipher | int | None = None
) -> tuple[AKM | None, Cipher | None]:
    """Coerce selectors to :class:`AKM`/:class:`Cipher`, raising :class:`CryptoError` for unknown ones."""
    try:
        return (None if akm is None else AKM(akm)), (None if cipher is None else Cipher(cipher))
    except ValueError as exc:
        raise CryptoError(f"unsupported suite selector: {exc}") from None


def akm_key_lengths(akm: AKM, pmk_len: int = 32) -> tuple[str, int, int]:
    """(hash, KCK length, KEK length) of an AKM per 802.11-2020 Table 12-11.

    ``hash`` is ``"sha1"`` for the PRF-SHA1 AKMs and the KDF hash otherwise. OWE picks its hash from
    the PMK length (which follows the DH group, 12.7.1.3).
    """
    if akm is AKM.OWE:
        name = _OWE_HASH_BY_PMK_LEN.get(pmk_len)
        if name is None:
            raise CryptoError(f"OWE PMK of {pmk_len} octets matches no DH group")
        return name, {"sha256": 16, "sha384": 24, "sha512": 32}[name], 16 if name == "sha256" else 32
    if akm.uses_sha384:
        return "sha384", 24, 32
    if akm.uses_sha256_kdf:
        return "sha256", 16, 16
    if akm is AKM.TDLS:
        raise CryptoError("TDLS derives a TPK, not a PTK (802.11-2020 12.7.8.5)")
    return "sha1", 16, 16


@lru_cache(maxsize=1024)
def _derive_ptk_cached(
    pmk: bytes, aa: bytes, spa: bytes, anonce: bytes, snonce: bytes, akm: AKM, cipher: Cipher, kdk_len: int
) -> PTK:
    hash_name, kck_len, kek_len = akm_key_lengths(akm, len(pmk))
    tk_len = cipher.tk_len
    total = kck_len + kek_len + tk_len + kdk_len
    # Min/Max are octet-string comparisons (802.11-2020 12.7.1.3).
    context = min(aa, spa) + max(aa, spa) + min(anonce, snonce) + max(anonce, snonce)
    if hash_name == "sha1":
        raw = prf_sha1(pmk, _PAIRWISE_LABEL, context, total)
    else:
        raw = kdf_hash(hash_name, pmk, _PAIRWISE_LABEL, context, total * 8)
    kek_end = kck_len + kek_len
    tk_end = kek_end + tk_len
    return PTK(kck=raw[:kck_len], kek=raw[kck_len:kek_end], tk=raw[kek_end:tk_end], kdk=raw[tk_end:])


def derive_ptk(
    pmk: bytes,
    aa: bytes,
    spa: bytes,
    anonce: bytes,
    snonce: bytes,
    *,
    akm: AKM,
    cipher: Cipher,
    kdk_len: int = 0,
) -> PTK:
    """Derive the PTK of a 4-way handshake (802.11-2020 12.7.1.3).

    PRF-SHA1 for AKM 00-0F-AC:1/2 and WPA1, KDF-SHA-256/384 for the SHA-2 AKMs, KCK/KEK sizes per
    AKM, TK size per pairwise cipher. FT AKMs derive their PTK from PMK-R1 instead: use
    :func:`krackwatch.crypto.ft.derive_ft_ptk`. ``kdk_len`` appends a KDK (802.11az) of that many
    octets, which also changes the KDF output length and so every other key. Results are cached.
    """
    akm, cipher = suite_or_error(akm, cipher)
    if akm.is_ft:
        raise CryptoError(f"{akm.label} derives its PTK from PMK-R1: use krackwatch.crypto.ft.derive_ft_ptk")
    if len(aa) != 6 or len(spa) != 6:
        raise CryptoError("AA and SPA must be 6-octet MAC addresses")
    if len(anonce) != 32 or len(snonce) != 32:
        raise CryptoError("ANonce and SNonce must be 32 octets")
    if cipher.tk_len == 0 or cipher.canonical in (Cipher.WEP40, Cipher.WEP104):
        raise CryptoError(f"{cipher.label} is not a pairwise cipher with a PTK-derived TK")
    if not pmk:
        raise CryptoError("empty PMK")
    if kdk_len < 0:
        raise CryptoError("KDK length must not be negative")
    return _derive_ptk_cached(
        bytes(pmk), bytes(aa), bytes(spa), bytes(anonce), bytes(snonce), akm, cipher, kdk_len
    )


def pmkid(pmk: bytes, aa: bytes, spa: bytes, *, akm: AKM = AKM.PSK) -> bytes:
    """PMKID = Truncate-128(HMAC-Hash(PMK, "PMK Name" || AA || SPA)) (802.11-2020 12.7.1.3).

    HMAC-SHA-1 for AKM 1/2 and WPA1, HMAC-SHA-256 for the SHA-256 AKMs, HMAC-SHA-384 for the
    192-bit AKMs. SAE's PMKID comes from the SAE exchange and FT's is PMKR1Name
    (:func:`krackwatch.crypto.ft.derive_pmk_r1`), so both are refused here.
    """
    akm, _ = suite_or_error(akm)
    if akm.is_ft:
        raise CryptoError(f"the PMKID of {akm.label} is PMKR1Name: use krackwatch.crypto.ft.derive_pmk_r1")
    if akm is AKM.SAE:
        raise CryptoError("the SAE PMKID is derived in the SAE exchange, not from the PMK")
    if len(aa) != 6 or len(spa) != 6:
        raise CryptoError("AA and SPA must be 6-octet MAC addresses")
    if akm is AKM.OWE:
        digest = _OWE_HASH_BY_PMK_LEN.get(len(pmk))
        if digest is None:
            raise CryptoError(f"OWE PMK of {len(pmk)} octets matches no DH group")
    elif akm.uses_sha384:
        digest = "sha384"
    elif akm.uses_sha256_kdf:
        digest = "sha256"
    else:
        digest = "sha1"
    return hmac.new(bytes(pmk), _PMK_NAME_LABEL + bytes(aa) + bytes(spa), getattr(hashlib, digest)).digest()[
        :16
    ]
