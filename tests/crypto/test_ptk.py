"""PMK -> PTK and PMKID against 802.11 Annex J, iwd, hostap, aircrack-ng and hashcat vectors."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from krackwatch.crypto import ptk as ptk_module
from krackwatch.crypto.errors import CryptoError
from krackwatch.crypto.kdf import pbkdf2_psk, prf_sha1
from krackwatch.crypto.ptk import PTK, derive_ptk, pmkid
from krackwatch.crypto.suites import AKM, Cipher

DATA = Path(__file__).resolve().parents[1] / "data"
PTK_VECTORS = json.loads((DATA / "vectors" / "ptk_derivation.json").read_text())
EAPOL = json.loads((DATA / "vectors" / "eapol_key_mic.json").read_text())["vectors"]
CIPHERS = {"CCMP-128": Cipher.CCMP128, "TKIP": Cipher.TKIP}
H = bytes.fromhex


@pytest.mark.parametrize("vec", PTK_VECTORS["vectors"], ids=lambda v: v["name"])
def test_ptk_vectors(vec):
    ptk = derive_ptk(
        H(vec["pmk_hex"]),
        H(vec["aa_hex"]),
        H(vec["spa_hex"]),
        H(vec["anonce_hex"]),
        H(vec["snonce_hex"]),
        akm=AKM[vec["akm"]],
        cipher=CIPHERS[vec["cipher"]],
        kdk_len=vec.get("kdk_len", 0),
    )
    for part in ("kck", "kek", "tk", "kdk"):
        if f"{part}_hex" in vec["expected"]:
            assert getattr(ptk, part).hex() == vec["expected"][f"{part}_hex"], part


AIRCRACK = [v for v in EAPOL if "ptk_prf80_hex" in v.get("expected", {})]


@pytest.mark.parametrize("vec", AIRCRACK, ids=lambda v: v["name"][:40])
def test_aircrack_ptk(vec):
    pmk = H(vec["pmk_hex"])
    if "passphrase" in vec:
        assert pbkdf2_psk(vec["passphrase"], vec["ssid"]) == pmk
    aa, spa = H(vec["aa_bssid"]), H(vec["spa_sta"])
    anonce, snonce = H(vec["anonce_hex"]), H(vec["snonce_hex"])
    prf80 = H(vec["expected"]["ptk_prf80_hex"])
    context = min(aa, spa) + max(aa, spa) + min(anonce, snonce) + max(anonce, snonce)
    assert prf_sha1(pmk, b"Pairwise key expansion", context, 80) == prf80
    tkip = derive_ptk(pmk, aa, spa, anonce, snonce, akm=AKM.PSK, cipher=Cipher.TKIP)
    ccmp = derive_ptk(pmk, aa, spa, anonce, snonce, akm=AKM.PSK, cipher=Cipher.CCMP128)
    assert tkip.kck + tkip.kek + tkip.tk == prf80[:64]
    assert ccmp.kck + ccmp.kek + ccmp.tk == prf80[:48]
    for part in ("kck", "kek", "tk"):
        if f"{part}_hex" in vec["expected"]:
            assert getattr(ccmp, part).hex() == vec["expected"][f"{part}_hex"]


def test_ptk_symmetric_in_roles():
    # Min/Max ordering: swapping AA/SPA and the nonces gives the same PTK.
    vec = PTK_VECTORS["vectors"][0]
    args = [H(vec[k]) for k in ("pmk_hex", "aa_hex", "spa_hex", "anonce_hex", "snonce_hex")]
    a = derive_ptk(*args, akm=AKM.PSK, cipher=Cipher.CCMP128)
    b = derive_ptk(args[0], args[2], args[1], args[4], args[3], akm=AKM.PSK, cipher=Cipher.CCMP128)
    assert a == b


def test_wpa1_akm_uses_prf_sha1():
    vec = PTK_VECTORS["vectors"][1]
    args = [H(vec[k]) for k in ("pmk_hex", "aa_hex", "spa_hex", "anonce_hex", "snonce_hex")]
    assert derive_ptk(*args, akm=AKM.WPA_PSK, cipher=Cipher.WPA_TKIP).tk.hex() == vec["expected"]["tk_hex"]


def test_tkip_key_parts_and_repr_hides_secrets():
    tk = bytes(range(32))
    ptk = PTK(kck=b"\xaa" * 16, kek=b"\xbb" * 16, tk=tk)
    assert ptk.tkip_tk == tk[:16]
    assert ptk.michael_auth_to_supp == tk[16:24]
    assert ptk.michael_supp_to_auth == tk[24:32]
    assert ptk.michael_key(from_authenticator=True) == tk[16:24]
    assert ptk.michael_key(from_authenticator=False) == tk[24:32]
    text = repr(ptk) + str(ptk)
    assert "aa" not in text and "bb" not in text and "0001" not in text and "16 octets" in text


def test_derive_ptk_is_cached():
    vec = PTK_VECTORS["vectors"][2]
    args = [H(vec[k]) for k in ("pmk_hex", "aa_hex", "spa_hex", "anonce_hex", "snonce_hex")]
    derive_ptk(*args, akm=AKM.PSK, cipher=Cipher.TKIP)
    hits = ptk_module._derive_ptk_cached.cache_info().hits
    derive_ptk(*args, akm=AKM.PSK, cipher=Cipher.TKIP)
    assert ptk_module._derive_ptk_cached.cache_info().hits == hits + 1


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"akm": AKM.FT_PSK, "cipher": Cipher.CCMP128}, "FT"),
        ({"akm": AKM.TDLS, "cipher": Cipher.CCMP128}, "TDLS"),
        ({"akm": AKM.PSK, "cipher": Cipher.WEP104}, "WEP"),
        ({"akm": AKM.PSK, "cipher": Cipher.USE_GROUP}, "no TK"),
    ],
)
def test_derive_ptk_refuses(kwargs, why):
    with pytest.raises(CryptoError):
        derive_ptk(b"\x01" * 32, b"\x02" * 6, b"\x03" * 6, b"\x04" * 32, b"\x05" * 32, **kwargs)


def test_derive_ptk_checks_lengths():
    with pytest.raises(CryptoError):
        derive_ptk(
            b"\x01" * 32,
            b"\x02" * 5,
            b"\x03" * 6,
            b"\x04" * 32,
            b"\x05" * 32,
            akm=AKM.PSK,
            cipher=Cipher.CCMP128,
        )
    with pytest.raises(CryptoError):
        derive_ptk(
            b"\x01" * 32,
            b"\x02" * 6,
            b"\x03" * 6,
            b"\x04" * 31,
            b"\x05" * 32,
            akm=AKM.PSK,
            cipher=Cipher.CCMP128,
        )


def test_suite_b_192_key_sizes():
    ptk = derive_ptk(
        b"\x01" * 48,
        b"\x02" * 6,
        b"\x03" * 6,
        b"\x04" * 32,
        b"\x05" * 32,
        akm=AKM.SUITE_B_192,
        cipher=Cipher.GCMP256,
    )
    assert (len(ptk.kck), len(ptk.kek), len(ptk.tk)) == (24, 32, 32)


HASHCAT_PMKID = [v for v in EAPOL if v.get("hash_line", "").startswith("WPA*01*")]


@pytest.mark.parametrize("vec", HASHCAT_PMKID, ids=lambda v: v["name"])
def test_pmkid_hashcat_line(vec):
    fields = vec["hash_line"].split("*")
    want, ap, sta, essid = (H(f) for f in fields[2:6])
    pmk = pbkdf2_psk(vec["passphrase"], essid)
    assert essid.decode() == vec["ssid"]
    assert pmk.hex() == vec["expected"]["pmk_hex_computed"]
    assert pmkid(pmk, ap, sta) == want == H(vec["expected"]["pmkid_hex"])


def _manifest(name: str) -> dict[str, str]:
    lines = (DATA / "captures" / "MANIFEST.tsv").read_text().splitlines()
    head = lines[0].split("\t")
    for line in lines[1:]:
        row = dict(zip(head, line.split("\t"), strict=False))
        if row["filename"] == name:
            return row
    raise KeyError(name)


def test_pmkid_real_capture_matches_aircrack():
    """test-pmkid.pcap: the PMKID KDE in its M1 equals HMAC-SHA1-128 of the passphrase's PMK, and
    equals the PMKID line aircrack-ng's test suite expects (MANIFEST)."""
    row = _manifest("test-pmkid.pcap")
    raw = (DATA / "captures" / "test-pmkid.pcap").read_bytes()
    at = raw.find(b"\xdd\x14\x00\x0f\xac\x04")  # PMKID KDE
    assert at > 0
    in_frame = raw[at + 6 : at + 22]
    want, ap, sta, essid = row["contents"].split("PMKID line ")[1].split()[0].split("*")
    assert in_frame.hex() == want
    pmk = pbkdf2_psk(row["passphrase"], H(essid))
    assert H(essid).decode() == row["ssid"]
    assert pmkid(pmk, H(ap), H(sta)) == in_frame


def test_pmkid_sha256_variant_differs_from_sha1():
    pmk, aa, spa = b"\x11" * 32, b"\x22" * 6, b"\x33" * 6
    expected = hmac.new(pmk, b"PMK Name" + aa + spa, hashlib.sha256).digest()[:16]
    assert pmkid(pmk, aa, spa, akm=AKM.PSK_SHA256) == expected
    assert pmkid(pmk, aa, spa) != pmkid(pmk, aa, spa, akm=AKM.PSK_SHA256)


@pytest.mark.parametrize("akm", [AKM.FT_PSK, AKM.SAE])
def test_pmkid_refuses_akms_with_other_pmkids(akm):
    with pytest.raises(CryptoError):
        pmkid(b"\x11" * 32, b"\x22" * 6, b"\x33" * 6, akm=akm)


def test_unknown_selectors_raise_crypto_error():
    with pytest.raises(CryptoError):
        derive_ptk(
            b"\x01" * 32,
            b"\x02" * 6,
            b"\x03" * 6,
            b"\x04" * 32,
            b"\x05" * 32,
            akm=0x00ABCD01,
            cipher=Cipher.CCMP128,
        )
    with pytest.raises(CryptoError):
        pmkid(b"\x01" * 32, b"\x02" * 6, b"\x03" * 6, akm=0x000FAC63)
