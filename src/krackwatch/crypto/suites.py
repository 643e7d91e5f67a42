"""Cipher and AKM suite selectors (IEEE 802.11-2020 9.4.2.24.2/3, Tables 9-149 and 9-151).

A suite selector is OUI (3 octets) + type (1 octet). We keep selectors as 32-bit integers
``(OUI << 8) | type`` so that WPA1's 00-50-F2 suites and RSN's 00-0F-AC suites never collide.
"""

from __future__ import annotations

from enum import IntEnum

RSN_OUI = 0x000FAC
WPA_OUI = 0x0050F2


def selector(oui: int, suite_type: int) -> int:
    return (oui << 8) | suite_type


class Cipher(IntEnum):
    """Cipher suites, RSN and WPA1, as 32-bit selectors."""

    USE_GROUP = selector(RSN_OUI, 0)
    WEP40 = selector(RSN_OUI, 1)
    TKIP = selector(RSN_OUI, 2)
    CCMP128 = selector(RSN_OUI, 4)
    WEP104 = selector(RSN_OUI, 5)
    BIP_CMAC128 = selector(RSN_OUI, 6)
    GROUP_NOT_ALLOWED = selector(RSN_OUI, 7)
    GCMP128 = selector(RSN_OUI, 8)
    GCMP256 = selector(RSN_OUI, 9)
    CCMP256 = selector(RSN_OUI, 10)
    BIP_GMAC128 = selector(RSN_OUI, 11)
    BIP_GMAC256 = selector(RSN_OUI, 12)
    BIP_CMAC256 = selector(RSN_OUI, 13)
    WPA_WEP40 = selector(WPA_OUI, 1)
    WPA_TKIP = selector(WPA_OUI, 2)
    WPA_CCMP = selector(WPA_OUI, 4)
    WPA_WEP104 = selector(WPA_OUI, 5)

    @property
    def canonical(self) -> Cipher:
        """The RSN equivalent of a WPA1 selector (WPA_TKIP -> TKIP)."""
        if (self.value >> 8) == WPA_OUI:
            return Cipher(selector(RSN_OUI, self.value & 0xFF))
        return self

    @property
    def tk_len(self) -> int:
        """Temporal key length in octets (Table 12-4)."""
        return _TK_LEN.get(self.canonical, 0)

    @property
    def label(self) -> str:
        return _CIPHER_LABEL.get(self.canonical, self.name)


_TK_LEN = {
    Cipher.WEP40: 5,
    Cipher.WEP104: 13,
    Cipher.TKIP: 32,
    Cipher.CCMP128: 16,
    Cipher.CCMP256: 32,
    Cipher.GCMP128: 16,
    Cipher.GCMP256: 32,
    Cipher.BIP_CMAC128: 16,
    Cipher.BIP_CMAC256: 32,
    Cipher.BIP_GMAC128: 16,
    Cipher.BIP_GMAC256: 32,
}

_CIPHER_LABEL = {
    Cipher.WEP40: "WEP-40",
    Cipher.WEP104: "WEP-104",
    Cipher.TKIP: "TKIP",
    Cipher.CCMP128: "CCMP-128",
    Cipher.CCMP256: "CCMP-256",
    Cipher.GCMP128: "GCMP-128",
    Cipher.GCMP256: "GCMP-256",
    Cipher.BIP_CMAC128: "BIP-CMAC-128",
    Cipher.BIP_CMAC256: "BIP-CMAC-256",
    Cipher.BIP_GMAC128: "BIP-GMAC-128",
    Cipher.BIP_GMAC256: "BIP-GMAC-256",
    Cipher.USE_GROUP: "use-group",
    Cipher.GROUP_NOT_ALLOWED: "group-not-allowed",
}


class AKM(IntEnum):
    """Authentication and key management suites as 32-bit selectors."""

    IEEE8021X = selector(RSN_OUI, 1)
    PSK = selector(RSN_OUI, 2)
    FT_IEEE8021X = selector(RSN_OUI, 3)
    FT_PSK = selector(RSN_OUI, 4)
    IEEE8021X_SHA256 = selector(RSN_OUI, 5)
    PSK_SHA256 = selector(RSN_OUI, 6)
    TDLS = selector(RSN_OUI, 7)
    SAE = selector(RSN_OUI, 8)
    FT_SAE = selector(RSN_OUI, 9)
    SUITE_B = selector(RSN_OUI, 11)
    SUITE_B_192 = selector(RSN_OUI, 12)
    FT_IEEE8021X_SHA384 = selector(RSN_OUI, 13)
    OWE = selector(RSN_OUI, 18)
    WPA_IEEE8021X = selector(WPA_OUI, 1)
    WPA_PSK = selector(WPA_OUI, 2)

    @property
    def is_ft(self) -> bool:
        return self in (AKM.FT_IEEE8021X, AKM.FT_PSK, AKM.FT_SAE, AKM.FT_IEEE8021X_SHA384)

    @property
    def is_psk(self) -> bool:
        return self in (AKM.PSK, AKM.FT_PSK, AKM.PSK_SHA256, AKM.WPA_PSK)

    @property
    def uses_sha256_kdf(self) -> bool:
        """PTK derived with the SHA-256 KDF (12.7.1.7.2) instead of PRF-SHA1."""
        return self in (
            AKM.FT_IEEE8021X,
            AKM.FT_PSK,
            AKM.IEEE8021X_SHA256,
            AKM.PSK_SHA256,
            AKM.SAE,
            AKM.FT_SAE,
            AKM.SUITE_B,
            AKM.OWE,
        )

    @property
    def uses_sha384(self) -> bool:
        return self in (AKM.SUITE_B_192, AKM.FT_IEEE8021X_SHA384)

    @property
    def mic_len(self) -> int:
        """EAPOL-Key MIC length in octets (Table 12-8)."""
        return 24 if self.uses_sha384 else 16

    @property
    def label(self) -> str:
        return _AKM_LABEL.get(self, self.name)


_AKM_LABEL = {
    AKM.IEEE8021X: "802.1X",
    AKM.PSK: "PSK",
    AKM.FT_IEEE8021X: "FT-802.1X",
    AKM.FT_PSK: "FT-PSK",
    AKM.IEEE8021X_SHA256: "802.1X-SHA256",
    AKM.PSK_SHA256: "PSK-SHA256",
    AKM.TDLS: "TDLS",
    AKM.SAE: "SAE",
    AKM.FT_SAE: "FT-SAE",
    AKM.SUITE_B: "Suite-B",
    AKM.SUITE_B_192: "Suite-B-192",
    AKM.FT_IEEE8021X_SHA384: "FT-802.1X-SHA384",
    AKM.OWE: "OWE",
    AKM.WPA_IEEE8021X: "WPA-802.1X",
    AKM.WPA_PSK: "WPA-PSK",
}


def cipher_or_int(value: int) -> Cipher | int:
    """Map a selector to a Cipher when known, else keep the integer (vendor suites)."""
    try:
        return Cipher(value)
    except ValueError:
        return value


def akm_or_int(value: int) -> AKM | int:
    try:
        return AKM(value)
    except ValueError:
        return value
