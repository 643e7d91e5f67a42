"""PSK mapping, PRF-SHA1 and the 802.11 KDF against published vectors."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.crypto import kdf
from krackwatch.crypto.errors import CryptoError
from krackwatch.crypto.kdf import kdf_hash, kdf_sha256, pbkdf2_psk, prf_sha1

VECTORS = Path(__file__).resolve().parents[1] / "data" / "vectors"
PBKDF2 = json.loads((VECTORS / "pbkdf2_passphrase_psk.json").read_text())
PRF = json.loads((VECTORS / "prf_sha1.json").read_text())
KDF = json.loads((VECTORS / "kdf_sha256.json").read_text())


@pytest.mark.parametrize("vec", PBKDF2["ieee80211_vectors"], ids=lambda v: f"{v['ssid'][:12]}")
def test_psk_mapping_ieee_vectors(vec):
    assert pbkdf2_psk(vec["passphrase"], vec["ssid"]).hex() == vec["psk_hex"]


@pytest.mark.parametrize(
    "vec", PBKDF2["rfc6070_vectors"], ids=lambda v: f"{v['password'][:8]}-{v['iterations']}-{v['dk_len']}"
)
def test_rfc6070_vectors(vec):
    password = vec["password"].encode()
    salt = vec["salt"].encode()
    if vec["iterations"] == 4096 and vec["dk_len"] <= 32:
        # PBKDF2 output blocks do not depend on dkLen: our 32-octet PSK starts with the RFC value.
        assert pbkdf2_psk(password, salt)[: vec["dk_len"]].hex() == vec["dk_hex"]
    assert kdf.pbkdf2_sha1(password, salt, vec["iterations"], vec["dk_len"]).hex() == vec["dk_hex"]


@pytest.mark.parametrize("vec", PBKDF2["aircrack_ng_unit_test"], ids=lambda v: v["ssid"])
def test_binary_passphrase(vec):
    assert pbkdf2_psk(bytes.fromhex(vec["passphrase_hex"]), vec["ssid"]).hex() == vec["pmk_hex"]


def test_psk_is_cached():
    before = kdf._pbkdf2_cached.cache_info().hits
    first = pbkdf2_psk("cache-me-please", "krackwatch-cache")
    second = pbkdf2_psk(b"cache-me-please", b"krackwatch-cache")
    assert first == second
    assert kdf._pbkdf2_cached.cache_info().hits == before + 1


def test_psk_rejects_other_types():
    with pytest.raises(CryptoError):
        pbkdf2_psk(12345678, "ssid")  # type: ignore[arg-type]


@pytest.mark.parametrize("vec", PRF["vectors"], ids=lambda v: v["name"])
def test_prf_sha1(vec):
    out = prf_sha1(
        bytes.fromhex(vec["key_hex"]),
        vec["label_ascii"].encode(),
        bytes.fromhex(vec["data_hex"]),
        vec["output_bits"] // 8,
    )
    assert out.hex() == vec["output_hex"]


@pytest.mark.parametrize("vec", KDF["vectors"], ids=lambda v: v["name"])
def test_kdf_sha256(vec):
    out = kdf_sha256(
        vec["key_ascii"].encode(),
        vec["label_ascii"].encode(),
        vec["context_ascii"].encode(),
        vec["length_bits"],
    )
    assert out.hex() == vec["output_hex"]


@settings(max_examples=100, deadline=None)
@given(key=st.binary(max_size=40), data=st.binary(max_size=40), n=st.integers(0, 100))
def test_prf_prefix_property(key, data, n):
    # PRF blocks do not depend on the requested length: a shorter output is a prefix.
    assert prf_sha1(key, b"L", data, n) == prf_sha1(key, b"L", data, 100)[:n]


@settings(max_examples=100, deadline=None)
@given(bits=st.integers(1, 1024))
def test_kdf_length_in_bits(bits):
    out = kdf_hash("sha384", b"k", b"label", b"ctx", bits)
    assert len(out) == (bits + 7) // 8
    spare = len(out) * 8 - bits
    assert out[-1] & ((1 << spare) - 1) == 0


def test_kdf_block_is_hmac_of_counter_label_context_length():
    # 802.11-2020 12.7.1.7.2 written out with hashlib for one block.
    expected = hmac.new(b"key", b"\x01\x00" + b"lab" + b"ctx" + (256).to_bytes(2, "little"), hashlib.sha256)
    assert kdf_sha256(b"key", b"lab", b"ctx", 256) == expected.digest()


def test_kdf_rejects_bad_parameters():
    with pytest.raises(CryptoError):
        kdf_hash("md5", b"k", b"l", b"c", 128)
    with pytest.raises(CryptoError):
        kdf_hash("sha256", b"k", b"l", b"c", 0)
    with pytest.raises(CryptoError):
        prf_sha1(b"k", b"l", b"c", -1)
