"""TKIP: 802.11i key-mixing vectors, the 802.11 M.6.3 MPDU, Michael and its inversion."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.crypto.errors import CryptoError, DecryptionError
from krackwatch.crypto.tkip import (
    TKIP,
    michael,
    michael_header,
    michael_recover_key,
    phase1,
    phase2,
    tkip_iv,
    tkip_tsc,
)

TKIP_VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "vectors" / "tkip.json").read_text()
)
MIXING = [v for v in TKIP_VECTORS["vectors"] if "p1k" in v]
MPDU = [v for v in TKIP_VECTORS["vectors"] if "plaintext_mpdu_hex" in v]
H = bytes.fromhex


@pytest.mark.parametrize("vec", MIXING, ids=lambda v: v["name"])
def test_key_mixing(vec):
    tk, ta = H(vec["tk_hex"]), H(vec["ta_hex"])
    p1k = phase1(tk, ta, int(vec["iv32_hex"], 16))
    assert p1k == tuple(int(w, 16) for w in vec["p1k"])
    assert phase2(tk, p1k, int(vec["iv16_hex"], 16)) == H(vec["rc4key_hex"])


@pytest.mark.parametrize("vec", MPDU, ids=lambda v: v["name"])
def test_mpdu_vector(vec):
    tk = H(vec["tk_hex"])
    mpdu = H(vec["plaintext_mpdu_hex"])
    n = vec["header_len"]
    header, msdu = mpdu[:n], mpdu[n:]
    tsc = int(vec["pn_hex_TSC5_to_TSC0"], 16)
    expected = vec["expected"]
    michael_key = tk[16:24]  # "michael_key_used": Authenticator -> Supplicant (FromDS frame)
    assert header[1] & 0x03 == 0x02
    assert (
        michael(michael_key, michael_header(header) + msdu).hex()
        == expected["michael_mic_hex_from_source_comment"]
    )
    assert tkip_iv(tsc, 0).hex() == expected["iv_extiv_hex_from_source_comment"]
    ttak = phase1(tk[:16], header[10:16], tsc >> 16)
    assert b"".join(w.to_bytes(2, "little") for w in ttak).hex() == expected["ttak_hex_hostap_output"]
    assert phase2(tk[:16], ttak, tsc & 0xFFFF).hex() == expected["rc4key_hex_hostap_output"]
    encrypted = H(expected["encrypted_mpdu_hex_hostap_output"])
    cipher = TKIP(tk)
    assert header + cipher.encrypt(header, tsc, 0, msdu, michael_key=michael_key) == encrypted
    assert cipher.decrypt(encrypted[:n], encrypted[n:], michael_key=michael_key) == msdu
    assert tkip_tsc(encrypted[n:]) == tsc
    with pytest.raises(DecryptionError) as err:  # the other direction's key must not verify
        cipher.decrypt(encrypted[:n], encrypted[n:], michael_key=tk[24:32])
    assert err.value.reason == "michael"


def _data_header(fc1: int, addrs: bytes, qos_tid: int | None = None, a4: bytes = b"") -> bytes:
    fc0 = 0x88 if qos_tid is not None else 0x08
    header = bytes((fc0, fc1)) + b"\x00\x00" + addrs + b"\x10\x00" + a4
    if qos_tid is not None:
        header += bytes((qos_tid, 0))
    return header


ADDRS = H("a1a1a1a1a1a1") + H("a2a2a2a2a2a2") + H("a3a3a3a3a3a3")
A4 = H("a4a4a4a4a4a4")


@pytest.mark.parametrize(
    ("fc1", "a4", "da", "sa"),
    [
        (0x40, b"", "a1", "a2"),
        (0x41, b"", "a3", "a2"),
        (0x42, b"", "a1", "a3"),
        (0x43, A4, "a3", "a4"),
    ],
)
def test_michael_header_addresses(fc1, a4, da, sa):
    # 802.11-2020 Table 9-30 address fields, DA and SA per ToDS/FromDS.
    header = _data_header(fc1, ADDRS, qos_tid=6, a4=a4)
    assert michael_header(header) == H(da * 6) + H(sa * 6) + b"\x06\x00\x00\x00"
    assert michael_header(_data_header(fc1, ADDRS, a4=a4))[12] == 0  # non-QoS: priority 0


@settings(max_examples=200, deadline=None)
@given(key=st.binary(min_size=8, max_size=8), data=st.binary(max_size=120))
def test_michael_recover_key_inverts_michael(key, data):
    assert michael_recover_key(data, michael(key, data)) == key


TK32 = st.binary(min_size=32, max_size=32)
HEADERS = st.builds(
    lambda fc1, addrs, tid: _data_header(fc1 | 0x40, addrs, tid, A4 if fc1 & 3 == 3 else b""),
    st.integers(0, 3) | st.just(0x08),
    st.binary(min_size=18, max_size=18),
    st.none() | st.integers(0, 15),
)


@settings(max_examples=150, deadline=None)
@given(
    tk=TK32,
    header=HEADERS,
    tsc=st.integers(0, (1 << 48) - 1),
    key_id=st.integers(0, 3),
    msdu=st.binary(max_size=200),
)
def test_tkip_roundtrip(tk, header, tsc, key_id, msdu):
    cipher = TKIP(tk)
    body = cipher.encrypt(header, tsc, key_id, msdu, michael_key=tk[24:32])
    assert tkip_tsc(body) == tsc and body[3] == 0x20 | key_id << 6
    assert body[1] == (body[0] | 0x20) & 0x7F  # WEPSeed[1]
    assert cipher.decrypt(header, body, michael_key=tk[24:32]) == msdu
    assert cipher.decrypt(header, body, michael_key=None) == msdu


@settings(max_examples=150, deadline=None)
@given(tk=TK32, header=HEADERS, msdu=st.binary(max_size=64), data=st.data())
def test_tkip_any_changed_body_octet_fails(tk, header, msdu, data):
    cipher = TKIP(tk)
    body = bytearray(cipher.encrypt(header, 0x1234567, 0, msdu, michael_key=tk[16:24]))
    # Octet 1 (WEPSeed) and the Key ID octet's low bits are not inputs to the keystream.
    pos = data.draw(st.integers(0, len(body) - 1).filter(lambda i: i not in (1, 3)), label="pos")
    body[pos] ^= data.draw(st.integers(1, 255), label="xor")
    with pytest.raises(DecryptionError) as err:
        cipher.decrypt(header, bytes(body), michael_key=tk[16:24])
    assert err.value.reason in ("icv", "michael")


def test_tkip_icv_collision_still_caught_by_michael():
    # A CRC-32 is linear: flip plaintext bits and fix the ICV (the chop-chop/Beck-Tews trick);
    # only Michael catches the forgery.
    tk = bytes(range(32))
    header = _data_header(0x42, ADDRS)
    cipher = TKIP(tk)
    body = bytearray(cipher.encrypt(header, 1, 0, b"hello world", michael_key=tk[16:24]))
    delta = bytearray(len(body) - 8 - 4)
    delta[0] = 0x01
    crc_delta = (zlib.crc32(bytes(delta)) ^ zlib.crc32(bytes(len(delta)))).to_bytes(4, "little")
    for i, d in enumerate(bytes(delta) + crc_delta):
        body[8 + i] ^= d
    assert cipher.decrypt(header, bytes(body), michael_key=None)[0] == ord("h") ^ 1
    with pytest.raises(DecryptionError) as err:
        cipher.decrypt(header, bytes(body), michael_key=tk[16:24])
    assert err.value.reason == "michael"


def test_fragments_are_not_michael_checked():
    tk = bytes(range(32))
    header = bytearray(_data_header(0x46, ADDRS))  # MoreFrag set
    cipher = TKIP(tk)
    body = cipher.encrypt(bytes(header), 3, 0, b"first fragment", michael_key=tk[16:24])
    out = cipher.decrypt(bytes(header), body, michael_key=b"\x00" * 8)
    assert out.startswith(b"first fragment") and len(out) == len(b"first fragment") + 8


def test_phase1_cache_is_used():
    tk = bytes(range(32))
    header = _data_header(0x42, ADDRS)
    cipher = TKIP(tk)
    for tsc in range(5):
        cipher.decrypt(header, cipher.encrypt(header, tsc, 0, b"x", michael_key=tk[16:24]), michael_key=None)
    assert len(cipher._p1k_cache) == 1
    assert "00" not in repr(cipher)


@settings(max_examples=200, deadline=None)
@given(header=st.binary(max_size=40), body=st.binary(max_size=40))
def test_tkip_random_input_gives_typed_error(header, body):
    try:
        TKIP(b"\x00" * 32).decrypt(header, body, michael_key=b"\x00" * 8)
    except DecryptionError:
        pass


def test_tkip_argument_checks():
    with pytest.raises(CryptoError):
        TKIP(b"\x00" * 16)
    with pytest.raises(CryptoError):
        michael(b"\x00" * 7, b"")
    with pytest.raises(CryptoError):
        michael_recover_key(b"", b"\x00" * 7)
    with pytest.raises(CryptoError):
        phase1(b"\x00" * 16, b"\x00" * 6, 1 << 32)
    with pytest.raises(CryptoError):
        tkip_iv(1 << 48, 0)
