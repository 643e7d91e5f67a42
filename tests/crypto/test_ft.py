"""FT key hierarchy against the hashcat FT-PSK vector, and FTE MIC structure."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.algorithms import AES
from cryptography.hazmat.primitives.cmac import CMAC

from krackwatch.crypto.errors import CryptoError, InvalidMIC
from krackwatch.crypto.ft import (
    derive_ft_ptk,
    derive_pmk_r0,
    derive_pmk_r1,
    ft_mic,
    ftie_with_zero_mic,
    verify_ft_mic,
)
from krackwatch.crypto.kdf import pbkdf2_psk
from krackwatch.crypto.mic import eapol_key_mic, verify_eapol_key_mic
from krackwatch.crypto.suites import AKM, Cipher

FT = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "vectors" / "ft_key_hierarchy.json").read_text()
)
H = bytes.fromhex


def _fields(vec):
    f = vec["hash_line"].split("*")
    assert f[:2] == ["WPA", "04"]
    mic, ap, sta, essid, anonce, eapol, _pair, mdid, r0kh, r1kh = (H(x) for x in f[2:12])
    return mic, ap, sta, essid, anonce, eapol, mdid, r0kh, r1kh


@pytest.mark.parametrize("vec", FT["vectors"], ids=lambda v: v["name"][:40])
def test_hashcat_ft_psk_chain(vec):
    mic, ap, sta, essid, anonce, eapol, mdid, r0kh, r1kh = _fields(vec)
    xxkey = pbkdf2_psk(vec["passphrase"], essid)  # FT-PSK: XXKey = PSK
    pmk_r0, pmk_r0_name = derive_pmk_r0(xxkey, essid, mdid, r0kh, sta, akm=AKM.FT_PSK)
    pmk_r1, pmk_r1_name = derive_pmk_r1(pmk_r0, pmk_r0_name, r1kh, sta, akm=AKM.FT_PSK)
    assert pmk_r1_name.hex() == vec["expected"]["pmk_r1_name_hex"]
    # The STA advertises PMKR1Name in the RSNE PMKID list of M2 (key data starts at offset 99).
    assert pmk_r1_name in eapol[99:]
    snonce = eapol[17:49]
    ptk = derive_ft_ptk(pmk_r1, snonce, anonce, ap, sta, akm=AKM.FT_PSK, cipher=Cipher.CCMP128)
    assert eapol_key_mic(ptk.kck, eapol, descriptor_version=vec["key_descriptor_version"]) == mic
    assert mic.hex() == vec["expected"]["key_mic_hex"]
    signed = eapol[:81] + mic + eapol[97:]
    verify_eapol_key_mic(ptk.kck, signed, descriptor_version=3)


def test_mdid_int_is_the_little_endian_field():
    vec = FT["vectors"][0]
    _, _, sta, essid, _, _, mdid, r0kh, _ = _fields(vec)
    xxkey = pbkdf2_psk(vec["passphrase"], essid)
    as_int = int.from_bytes(mdid, "little")
    assert derive_pmk_r0(xxkey, essid, as_int, r0kh, sta, akm=AKM.FT_PSK) == derive_pmk_r0(
        xxkey, essid, mdid, r0kh, sta, akm=AKM.FT_PSK
    )


def test_sha384_ft_sizes():
    r0, r0n = derive_pmk_r0(
        b"\x01" * 48, b"ssid", b"\x01\x02", b"r0kh", b"\x02" * 6, akm=AKM.FT_IEEE8021X_SHA384
    )
    assert len(r0) == 48 and len(r0n) == 16
    r1, r1n = derive_pmk_r1(r0, r0n, b"\x03" * 6, b"\x02" * 6, akm=AKM.FT_IEEE8021X_SHA384)
    assert len(r1) == 48 and len(r1n) == 16
    ptk = derive_ft_ptk(
        r1,
        b"\x04" * 32,
        b"\x05" * 32,
        b"\x03" * 6,
        b"\x02" * 6,
        akm=AKM.FT_IEEE8021X_SHA384,
        cipher=Cipher.GCMP256,
    )
    assert (len(ptk.kck), len(ptk.kek), len(ptk.tk)) == (24, 32, 32)


@pytest.mark.parametrize(
    "call",
    [
        lambda: derive_pmk_r0(b"\x01" * 32, b"s", b"\x01\x02", b"r0", b"\x02" * 6, akm=AKM.PSK),
        lambda: derive_pmk_r0(b"\x01" * 32, b"s" * 33, b"\x01\x02", b"r0", b"\x02" * 6, akm=AKM.FT_PSK),
        lambda: derive_pmk_r0(b"\x01" * 32, b"s", b"\x01", b"r0", b"\x02" * 6, akm=AKM.FT_PSK),
        lambda: derive_pmk_r0(b"\x01" * 32, b"s", b"\x01\x02", b"", b"\x02" * 6, akm=AKM.FT_PSK),
        lambda: derive_pmk_r1(b"\x01" * 31, b"\x00" * 16, b"\x03" * 6, b"\x02" * 6, akm=AKM.FT_PSK),
        lambda: derive_ft_ptk(
            b"\x01" * 32,
            b"\x04" * 32,
            b"\x05" * 32,
            b"\x03" * 6,
            b"\x02" * 6,
            akm=AKM.FT_PSK,
            cipher=Cipher.WEP40,
        ),
    ],
)
def test_ft_input_checks(call):
    with pytest.raises(CryptoError):
        call()


STA, AP = H("020000000100"), H("020000000000")
RSNE = H("30140100000fac040100000fac040100000fac040000")
MDE = H("3603010201")
FTE = bytes((55, 82)) + H("0003") + bytes(16) + b"\xaa" * 32 + b"\xbb" * 32


def test_ft_mic_is_cmac_over_the_standard_concatenation():
    # 13.8.4: AES-128-CMAC(KCK, STA || AP || seq || RSNE || MDE || FTE [|| RIC] [|| RSNXE]).
    kck = b"\x42" * 16
    ric, rsnxe = H("dd03000102"), H("f40120")
    mac = CMAC(AES(kck))
    mac.update(STA + AP + b"\x05" + RSNE + MDE + FTE + ric + rsnxe)
    assert ft_mic(kck, STA, AP, 5, RSNE, MDE, FTE, ric, rsnxe, akm=AKM.FT_PSK) == mac.finalize()


def test_ft_mic_sha384():
    kck = b"\x42" * 24
    fte = bytes((55, 90)) + H("0003") + bytes(24) + b"\xaa" * 32 + b"\xbb" * 32
    want = hmac.new(kck, STA + AP + b"\x06" + RSNE + MDE + fte, hashlib.sha384).digest()[:24]
    assert ft_mic(kck, STA, AP, 6, RSNE, MDE, fte, akm=AKM.FT_IEEE8021X_SHA384) == want


def test_verify_ft_mic_roundtrip_and_tamper():
    kck = b"\x42" * 16
    mic = ft_mic(kck, STA, AP, 5, RSNE, MDE, FTE, akm=AKM.FT_PSK)
    signed = FTE[:4] + mic + FTE[20:]
    assert ftie_with_zero_mic(signed) == FTE
    verify_ft_mic(kck, STA, AP, 5, RSNE, MDE, signed, akm=AKM.FT_PSK)
    with pytest.raises(InvalidMIC):
        verify_ft_mic(kck, STA, AP, 6, RSNE, MDE, signed, akm=AKM.FT_PSK)  # Reassociation Response seq
    tampered = signed[:-1] + bytes((signed[-1] ^ 1,))
    with pytest.raises(InvalidMIC):
        verify_ft_mic(kck, STA, AP, 5, RSNE, MDE, tampered, akm=AKM.FT_PSK)


def test_ft_mic_checks_kck_and_fte():
    with pytest.raises(CryptoError):
        ft_mic(b"\x00" * 24, STA, AP, 5, RSNE, MDE, FTE, akm=AKM.FT_PSK)
    with pytest.raises(CryptoError):
        ftie_with_zero_mic(FTE[:-1])
