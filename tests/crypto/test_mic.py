"""EAPOL-Key MIC: aircrack-ng and hashcat vectors, padding, tampering, AKM-defined versions."""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.crypto.errors import CryptoError, InvalidMIC
from krackwatch.crypto.kdf import pbkdf2_psk
from krackwatch.crypto.mic import eapol_key_mic, verify_eapol_key_mic
from krackwatch.crypto.ptk import derive_ptk
from krackwatch.crypto.suites import AKM, Cipher

EAPOL = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "vectors" / "eapol_key_mic.json").read_text()
)
H = bytes.fromhex
CALC_PTK = next(v for v in EAPOL["vectors"] if "test-calc-ptk" in v["name"])
CALC_MIC = next(v for v in EAPOL["vectors"] if "test-calc-mic" in v["name"])
HCCAPX = next(v for v in EAPOL["vectors"] if "hccapx_hex" in v)


def _with_mic(eapol: bytes, mic: bytes, offset: int = 81) -> bytes:
    return eapol[:offset] + mic + eapol[offset + len(mic) :]


def _kck(vec) -> bytes:
    return derive_ptk(
        H(vec["pmk_hex"]),
        H(vec["aa_bssid"]),
        H(vec["spa_sta"]),
        H(vec["anonce_hex"]),
        H(vec["snonce_hex"]),
        akm=AKM.PSK,
        cipher=Cipher.CCMP128,
    ).kck


def test_calc_ptk_m2_mic_v2():
    eapol = H(CALC_PTK["eapol_m2_hex_with_mic_field_zeroed"])
    assert len(eapol) == CALC_PTK["eapol_len"]
    mic = eapol_key_mic(_kck(CALC_PTK), eapol, descriptor_version=CALC_PTK["key_descriptor_version"])
    assert mic.hex() == CALC_PTK["expected"]["key_mic_hex"]
    verify_eapol_key_mic(_kck(CALC_PTK), _with_mic(eapol, mic), descriptor_version=2)


def test_calc_mic_hmac_md5_v1():
    eapol = H(CALC_MIC["eapol_m2_hex_with_mic_field_zeroed"])
    assert (
        eapol_key_mic(_kck(CALC_MIC), eapol, descriptor_version=1).hex()
        == CALC_MIC["expected"]["mic_keyver1_hmac_md5_hex"]
    )


def test_calc_mic_hmac_sha1_v2_is_truncated_digest():
    eapol = H(CALC_MIC["eapol_m2_hex_with_mic_field_zeroed"])
    full20 = CALC_MIC["expected"]["mic_keyver2_hmac_sha1_full20_hex"]
    assert eapol_key_mic(_kck(CALC_MIC), eapol, descriptor_version=2).hex() == full20[:32]


def _parse_hccapx(raw: bytes) -> dict:
    # hccapx v4 layout (hashcat): signature, version, message_pair, essid_len, essid[32], keyver,
    # keymic[16], mac_ap[6], nonce_ap[32], mac_sta[6], nonce_sta[32], eapol_len(LE16), eapol[256].
    sig, version, pair, essid_len = struct.unpack_from("<4sIBB", raw, 0)
    assert sig == b"HCPX" and version == 4
    essid = raw[10 : 10 + essid_len]
    keyver = raw[42]
    keymic = raw[43:59]
    mac_ap, nonce_ap = raw[59:65], raw[65:97]
    mac_sta, nonce_sta = raw[97:103], raw[103:135]
    (eapol_len,) = struct.unpack_from("<H", raw, 135)
    return {
        "message_pair": pair,
        "ssid": essid.decode(),
        "keyver": keyver,
        "keymic": keymic,
        "mac_ap": mac_ap,
        "nonce_ap": nonce_ap,
        "mac_sta": mac_sta,
        "nonce_sta": nonce_sta,
        "eapol": raw[137 : 137 + eapol_len],
    }


def test_hccapx_wpa1_hmac_md5():
    rec = _parse_hccapx(H(HCCAPX["hccapx_hex"]))
    parsed = HCCAPX["parsed"]
    assert rec["ssid"] == parsed["ssid"] and rec["keyver"] == parsed["keyver"] == 1
    assert rec["eapol"].hex() == parsed["eapol_hex"] and len(rec["eapol"]) == parsed["eapol_len"]
    pmk = pbkdf2_psk(HCCAPX["passphrase"], rec["ssid"])
    ptk = derive_ptk(
        pmk,
        rec["mac_ap"],
        rec["mac_sta"],
        rec["nonce_ap"],
        rec["nonce_sta"],
        akm=AKM.WPA_PSK,
        cipher=Cipher.WPA_TKIP,
    )
    assert eapol_key_mic(ptk.kck, rec["eapol"], descriptor_version=1) == rec["keymic"]
    verify_eapol_key_mic(ptk.kck, _with_mic(rec["eapol"], rec["keymic"]), descriptor_version=1)


def test_verify_ignores_trailing_padding():
    eapol = H(CALC_PTK["eapol_m2_hex_with_mic_field_zeroed"])
    signed = _with_mic(eapol, H(CALC_PTK["expected"]["key_mic_hex"]))
    verify_eapol_key_mic(_kck(CALC_PTK), signed + b"\x00" * 7 + b"\xff", descriptor_version=2)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_verify_rejects_any_flipped_bit(data):
    eapol = H(CALC_PTK["eapol_m2_hex_with_mic_field_zeroed"])
    signed = bytearray(_with_mic(eapol, H(CALC_PTK["expected"]["key_mic_hex"])))
    pos = data.draw(st.integers(0, len(signed) - 1), label="pos")
    bit = data.draw(st.integers(0, 7), label="bit")
    signed[pos] ^= 1 << bit  # in the length field too: the frame then reads short or long
    with pytest.raises(InvalidMIC):
        verify_eapol_key_mic(_kck(CALC_PTK), bytes(signed), descriptor_version=2)


def test_verify_rejects_truncated_frames():
    eapol = _with_mic(
        H(CALC_PTK["eapol_m2_hex_with_mic_field_zeroed"]), H(CALC_PTK["expected"]["key_mic_hex"])
    )
    for cut in (0, 3, 50, 90, len(eapol) - 1):
        with pytest.raises(InvalidMIC):
            verify_eapol_key_mic(_kck(CALC_PTK), eapol[:cut], descriptor_version=2)


@settings(max_examples=100, deadline=None)
@given(kck=st.binary(min_size=16, max_size=16), body=st.binary(min_size=95, max_size=300))
def test_v1_v2_are_the_standard_hmacs(kck, body):
    assert eapol_key_mic(kck, body, descriptor_version=1) == hmac.new(kck, body, hashlib.md5).digest()
    assert eapol_key_mic(kck, body, descriptor_version=2) == hmac.new(kck, body, hashlib.sha1).digest()[:16]


def test_akm_defined_versions():
    kck16, kck24, frame = b"\x01" * 16, b"\x02" * 24, b"\x00" * 121
    # SAE uses AES-128-CMAC, the same algorithm as descriptor version 3.
    assert eapol_key_mic(kck16, frame, descriptor_version=0, akm=AKM.SAE) == eapol_key_mic(
        kck16, frame, descriptor_version=3
    )
    assert (
        eapol_key_mic(kck16, frame, descriptor_version=0, akm=AKM.SUITE_B)
        == hmac.new(kck16, frame, hashlib.sha256).digest()[:16]
    )
    mic = eapol_key_mic(kck24, frame, descriptor_version=0, akm=AKM.SUITE_B_192)
    assert mic == hmac.new(kck24, frame, hashlib.sha384).digest()[:24]
    body = bytearray(frame)
    body[2:4] = (len(frame) - 4 + 8).to_bytes(2, "big")  # 24-octet MIC frames are 8 octets longer
    body += bytes(8)
    signed = bytes(body)
    mic = eapol_key_mic(kck24, signed, descriptor_version=0, akm=AKM.SUITE_B_192)
    verify_eapol_key_mic(kck24, _with_mic(signed, mic), descriptor_version=0, akm=AKM.SUITE_B_192, mic_len=24)


@pytest.mark.parametrize(
    ("kck", "version", "akm"),
    [(b"\x01" * 16, 0, None), (b"\x01" * 16, 0, AKM.PSK), (b"\x01" * 16, 4, None), (b"\x01" * 24, 2, None)],
)
def test_mic_configuration_errors(kck, version, akm):
    with pytest.raises(CryptoError):
        eapol_key_mic(kck, b"\x00" * 99, descriptor_version=version, akm=akm)
    assert not issubclass(CryptoError, InvalidMIC)
