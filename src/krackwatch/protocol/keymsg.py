"""EAPOL-Key message plumbing shared by the supplicant and the authenticator: suite checks, the
Key Descriptor Version rule, RSNE building and comparison, MIC'd frame assembly, Key Data
encryption, and the front checks every received EAPOL-Key goes through (IEEE 802.11-2020 12.7.2).
"""

from __future__ import annotations

from dataclasses import dataclass

from krackwatch.crypto.keywrap import aes_key_wrap, decrypt_key_data
from krackwatch.crypto.mic import eapol_key_mic
from krackwatch.crypto.rc4 import rc4
from krackwatch.crypto.suites import AKM, Cipher
from krackwatch.protocol.commands import Dropped, DropReason
from krackwatch.protocol.errors import ProtocolError
from krackwatch.wire.eapol import (
    EapolKey,
    GtkKDE,
    IgtkKDE,
    KeyInfo,
    decode_eapol_key,
    iter_key_data,
    pad_key_data,
)
from krackwatch.wire.elements import RSNE, Element, ElementID, RSNCapability
from krackwatch.wire.errors import DecodeError

__all__ = [
    "MIC_LEN",
    "ZERO_NONCE",
    "KeyDataItems",
    "build_key",
    "check_suites",
    "descriptor_version",
    "encrypt_key_data",
    "front_checks",
    "parse_key_data",
    "rsn_element",
    "rsne_matches",
    "unwrap_key_data",
    "with_pmkid",
]

MIC_LEN = 16  # every supported AKM uses a 16-octet Key MIC (Table 12-8)
ZERO_NONCE = bytes(32)
ZERO_IV = bytes(16)
_ZERO_KEY_ID = bytes(8)
_MIC_END = 81 + MIC_LEN
_MIN_BODY = 77 + MIC_LEN + 2  # descriptor type .. Key Data Length with a 16-octet MIC

SUPPORTED_AKMS = frozenset(
    (AKM.PSK, AKM.PSK_SHA256, AKM.IEEE8021X, AKM.IEEE8021X_SHA256, AKM.FT_PSK, AKM.FT_IEEE8021X)
)
DATA_CIPHERS = frozenset((Cipher.CCMP128, Cipher.CCMP256, Cipher.GCMP128, Cipher.GCMP256, Cipher.TKIP))
MGMT_CIPHERS = frozenset((Cipher.BIP_CMAC128, Cipher.BIP_CMAC256, Cipher.BIP_GMAC128, Cipher.BIP_GMAC256))

# Plain ints for the per-frame paths (IntFlag arithmetic builds enum objects).
KI_PAIRWISE = int(KeyInfo.KEY_TYPE)
KI_INSTALL = int(KeyInfo.INSTALL)
KI_ACK = int(KeyInfo.ACK)
KI_MIC = int(KeyInfo.MIC)
KI_SECURE = int(KeyInfo.SECURE)
KI_ERROR = int(KeyInfo.ERROR)
KI_REQUEST = int(KeyInfo.REQUEST)
KI_ENCRYPTED = int(KeyInfo.ENCRYPTED_KEY_DATA)
KI_SMK = int(KeyInfo.SMK_MESSAGE)
KI_INDEX = int(KeyInfo.KEY_INDEX_MASK)


def check_suites(akm: AKM, pairwise: Cipher, group: Cipher, mgmt: Cipher | None = None) -> None:
    """Raise ProtocolError for suites the machines do not implement."""
    if akm not in SUPPORTED_AKMS:
        raise ProtocolError(f"AKM {akm!r} is not supported (supported: PSK, PSK-SHA256, 802.1X, FT)")
    if pairwise not in DATA_CIPHERS:
        raise ProtocolError(f"pairwise cipher {pairwise!r} is not supported")
    if group not in DATA_CIPHERS:
        raise ProtocolError(f"group cipher {group!r} is not supported")
    if mgmt is not None and mgmt not in MGMT_CIPHERS:
        raise ProtocolError(f"group management cipher {mgmt!r} is not a BIP suite")


def check_config(pmk: bytes, akm: AKM, ft: object | None, nonce_source: object) -> None:
    """The construction checks the authenticator and the supplicant share (ProtocolError on misuse)."""
    if not pmk:
        raise ProtocolError("empty PMK")
    if akm.is_ft != (ft is not None):
        raise ProtocolError("an FT AKM needs an FTConfig, and an FTConfig needs an FT AKM")
    if not callable(nonce_source):
        raise ProtocolError("nonce_source must be a callable returning n octets")


def check_addr(addr: bytes, what: str) -> bytes:
    if not isinstance(addr, (bytes, bytearray)) or len(addr) != 6:
        raise ProtocolError(f"{what} must be a 6-octet MAC address")
    return bytes(addr)


def descriptor_version(akm: AKM, pairwise: Cipher) -> int:
    """Key Descriptor Version a frame must carry (12.7.2 b.1; hostapd ``__wpa_send_eapol``):
    3 (AES-128-CMAC + AES key wrap) for the SHA-256 and FT AKMs, 1 (HMAC-MD5 + RC4) with a TKIP
    pairwise cipher, else 2 (HMAC-SHA1-128 + AES key wrap)."""
    if akm.uses_sha256_kdf:
        return 3
    return 1 if pairwise is Cipher.TKIP else 2


def rsn_element(
    *,
    akm: AKM,
    pairwise: Cipher,
    group: Cipher,
    pmf: bool = False,
    mgmt_cipher: Cipher = Cipher.BIP_CMAC128,
    capabilities: int | None = None,
    pmkids: tuple[bytes, ...] | None = None,
) -> bytes:
    """An RSNE (ID and Length included) for one AKM and one pairwise cipher. With PMF the MFPC bit
    is set; the Group Management Cipher Suite is written only when it is not BIP-CMAC-128, its
    default (9.4.2.24.1), as hostapd does."""
    caps = capabilities if capabilities is not None else (int(RSNCapability.MFPC) if pmf else 0)
    gmc = mgmt_cipher if pmf and mgmt_cipher is not Cipher.BIP_CMAC128 else None
    if gmc is not None and pmkids is None:
        pmkids = ()
    body = RSNE(1, group, (pairwise,), (akm,), caps, pmkids, gmc).encode()
    return bytes((ElementID.RSN, len(body))) + body


def with_pmkid(rsne: bytes, pmkid: bytes) -> bytes:
    """The RSNE ``rsne`` (element bytes) with its PMKID List set to ``pmkid`` (FT: PMKR0Name in FT
    authentication, PMKR1Name in the 4-way handshake and reassociation, 12.7.6.3, 13.8.2-13.8.5)."""
    r = RSNE.decode(rsne[2:])
    body = RSNE(
        r.version,
        r.effective_group_cipher,
        r.effective_pairwise_ciphers,
        r.effective_akms,
        r.capabilities or 0,
        (pmkid,),
        r.group_mgmt_cipher,
        r.extra,
    ).encode()
    return bytes((ElementID.RSN, len(body))) + body


def _rsne_key(data: bytes) -> tuple:
    r = RSNE.decode(data)
    return (
        r.version,
        r.group_cipher,
        r.pairwise_ciphers,
        r.akms,
        r.capabilities or 0,
        r.group_mgmt_cipher,
        r.extra,
    )


def rsne_matches(expected: bytes, got: Element) -> bool:
    """Whether a received RSNE equals ``expected`` (element bytes) apart from the PMKID list, which
    FT fills with PMKR1Name in the 4-way handshake (12.7.6.3/12.7.6.4)."""
    if got.id == expected[0] and got.data == expected[2:]:
        return True
    try:
        return _rsne_key(expected[2:]) == _rsne_key(got.data)
    except DecodeError:
        return False


def build_key(
    *,
    eapol_version: int,
    key_info: int,
    key_length: int,
    replay_counter: int,
    nonce: bytes = ZERO_NONCE,
    key_iv: bytes = ZERO_IV,
    key_rsc: int = 0,
    key_data: bytes = b"",
    kck: bytes | None = None,
    dv: int = 2,
    akm: AKM | None = None,
) -> bytes:
    """An EAPOL-Key frame (from the protocol-version octet); with ``kck`` its Key MIC is filled in."""
    key = EapolKey(
        eapol_version,
        2,
        key_info,
        key_length,
        replay_counter,
        nonce,
        key_iv,
        key_rsc,
        _ZERO_KEY_ID,
        bytes(MIC_LEN),
        key_data,
    )
    raw = key.mic_zeroed_bytes()
    if kck is None:
        return raw
    mic = eapol_key_mic(kck, raw, descriptor_version=dv, akm=akm)
    return raw[:81] + mic + raw[_MIC_END:]


def encrypt_key_data(kek: bytes, plaintext: bytes, dv: int, key_iv: bytes) -> bytes:
    """Key Data encryption (12.7.2 j): RC4 keyed with EAPOL-Key IV || KEK after 256 discarded octets
    for version 1, AES key wrap of the 0xDD-padded plaintext otherwise."""
    if dv == 1:
        return rc4(key_iv + kek, plaintext, skip=256)
    return aes_key_wrap(kek, pad_key_data(plaintext))


def unwrap_key_data(kek: bytes, key: EapolKey, dv: int, akm: AKM) -> bytes:
    return decrypt_key_data(kek, key.key_iv, key.key_data, descriptor_version=dv, akm=akm)


def front_checks(eapol: bytes) -> EapolKey | Dropped:
    """Length, packet type and descriptor type checks, then decoding (``wpa_sm_rx_eapol`` order)."""
    n = len(eapol)
    if n < 4:
        return Dropped(DropReason.SHORT, f"EAPOL frame of {n} octets is too short to be a WPA EAPOL-Key")
    if eapol[1] != 3:
        return Dropped(DropReason.TYPE, f"EAPOL frame (type {eapol[1]}) discarded, not a Key frame")
    blen = (eapol[2] << 8) | eapol[3]
    if blen < _MIN_BODY or 4 + blen > n:
        return Dropped(DropReason.SHORT, f"EAPOL frame payload size {blen} invalid (frame {n} octets)")
    if eapol[4] != 2:
        return Dropped(DropReason.DESCRIPTOR, f"EAPOL-Key type ({eapol[4]}) unknown, discarded")
    try:
        return decode_eapol_key(eapol, mic_len=MIC_LEN)
    except DecodeError as exc:
        return Dropped(DropReason.SHORT, str(exc))


@dataclass(slots=True)
class KeyDataItems:
    """What a (decrypted) Key Data field carries that the handshakes use."""

    rsne: Element | None = None
    mde: Element | None = None
    fte: Element | None = None
    gtk: GtkKDE | None = None
    igtk: IgtkKDE | None = None


def parse_key_data(data: bytes) -> KeyDataItems:
    """Pick the RSNE, MDE, FTE, GTK and IGTK KDEs out of Key Data; DecodeError when malformed."""
    out = KeyDataItems()
    for item in iter_key_data(data):
        if isinstance(item, Element):
            if item.id == ElementID.RSN and out.rsne is None:
                out.rsne = item
            elif item.id == ElementID.MOBILITY_DOMAIN and out.mde is None:
                out.mde = item
            elif item.id == ElementID.FAST_BSS_TRANSITION and out.fte is None:
                out.fte = item
        elif isinstance(item, GtkKDE):
            out.gtk = item
        elif isinstance(item, IgtkKDE):
            out.igtk = item
    return out
