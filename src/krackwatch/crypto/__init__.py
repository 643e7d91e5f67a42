"""krackwatch.crypto: 802.11i key hierarchy and frame ciphers (pure functions, key-holding classes).

Depends only on the standard library, ``cryptography`` and :mod:`krackwatch.errors`.
"""

from krackwatch.crypto.bip import bip_aad, bip_cmac_mic, verify_bip
from krackwatch.crypto.ccmp import CCMP, ccmp_aad, ccmp_header, ccmp_nonce, ccmp_pn
from krackwatch.crypto.cmac import aes_cmac
from krackwatch.crypto.errors import CryptoError, DecryptionError, InvalidMIC, KeyUnwrapError
from krackwatch.crypto.ft import derive_ft_ptk, derive_pmk_r0, derive_pmk_r1, ft_mic, verify_ft_mic
from krackwatch.crypto.gcmp import GCMP, gcmp_aad, gcmp_nonce, gcmp_pn
from krackwatch.crypto.kdf import kdf_hash, kdf_sha256, kdf_sha384, pbkdf2_psk, prf_sha1
from krackwatch.crypto.keywrap import aes_key_unwrap, aes_key_wrap, decrypt_key_data, rc4_decrypt_key_data
from krackwatch.crypto.mic import eapol_key_mic, verify_eapol_key_mic
from krackwatch.crypto.ptk import PTK, derive_ptk, pmkid
from krackwatch.crypto.rc4 import rc4
from krackwatch.crypto.suites import AKM, Cipher
from krackwatch.crypto.tkip import TKIP, michael, michael_header, michael_recover_key, tkip_tsc
from krackwatch.crypto.wep import wep_decrypt, wep_encrypt

__all__ = [
    "AKM",
    "CCMP",
    "GCMP",
    "PTK",
    "TKIP",
    "Cipher",
    "CryptoError",
    "DecryptionError",
    "InvalidMIC",
    "KeyUnwrapError",
    "aes_cmac",
    "aes_key_unwrap",
    "aes_key_wrap",
    "bip_aad",
    "bip_cmac_mic",
    "ccmp_aad",
    "ccmp_header",
    "ccmp_nonce",
    "ccmp_pn",
    "decrypt_key_data",
    "derive_ft_ptk",
    "derive_pmk_r0",
    "derive_pmk_r1",
    "derive_ptk",
    "eapol_key_mic",
    "ft_mic",
    "gcmp_aad",
    "gcmp_nonce",
    "gcmp_pn",
    "kdf_hash",
    "kdf_sha256",
    "kdf_sha384",
    "michael",
    "michael_header",
    "michael_recover_key",
    "pbkdf2_psk",
    "pmkid",
    "prf_sha1",
    "rc4",
    "rc4_decrypt_key_data",
    "tkip_tsc",
    "verify_bip",
    "verify_eapol_key_mic",
    "verify_ft_mic",
    "wep_decrypt",
    "wep_encrypt",
]
