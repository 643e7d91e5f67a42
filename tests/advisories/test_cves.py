"""The ten KRACK CVEs after the CSAF round trip: roles, features, per-cipher impact, CVSS arithmetic."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.advisories import KRACK_CVES, Direction, Effect, Feature, KeyKind, Role, cve_id
from krackwatch.crypto.suites import Cipher

# --- CVSS base scores recomputed from the vectors (FIRST CVSS v3.0 section 8.1, CVSS v2 section 3.2.1) ---------

_V3 = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "CIA": {"H": 0.56, "L": 0.22, "N": 0.0},
}


def cvss30_base(vector: str) -> float:
    m = dict(part.split(":") for part in vector.split("/")[1:])
    changed = m["S"] == "C"
    pr = {"N": 0.85, "L": 0.68 if changed else 0.62, "H": 0.5 if changed else 0.27}[m["PR"]]
    iss = 1 - (1 - _V3["CIA"][m["C"]]) * (1 - _V3["CIA"][m["I"]]) * (1 - _V3["CIA"][m["A"]])
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    exploit = 8.22 * _V3["AV"][m["AV"]] * _V3["AC"][m["AC"]] * pr * _V3["UI"][m["UI"]]
    if impact <= 0:
        return 0.0
    total = min(1.08 * (impact + exploit), 10) if changed else min(impact + exploit, 10)
    return math.ceil(round(total * 10, 6)) / 10


def cvss2_base(vector: str) -> float:
    m = dict(part.split(":") for part in vector.split("/"))
    cia = {"N": 0.0, "P": 0.275, "C": 0.660}
    impact = 10.41 * (1 - (1 - cia[m["C"]]) * (1 - cia[m["I"]]) * (1 - cia[m["A"]]))
    exploit = 20 * {"L": 0.395, "A": 0.646, "N": 1.0}[m["AV"]] * {"H": 0.35, "M": 0.61, "L": 0.71}[m["AC"]] \
        * {"M": 0.45, "S": 0.56, "N": 0.704}[m["Au"]]
    f = 0 if impact == 0 else 1.176
    return round((0.6 * impact + 0.4 * exploit - 1.5) * f, 1)


def severity(score: float) -> str:
    return "NONE" if score == 0 else "LOW" if score < 4 else "MEDIUM" if score < 7 else "HIGH" if score < 9 else "CRITICAL"


def test_cvss_scores_match_their_vectors(kb) -> None:
    for cve in kb.cves():
        assert cve.cvss_v3.score == cvss30_base(cve.cvss_v3.vector), cve.id
        assert cve.cvss_v3.severity == severity(cve.cvss_v3.score)
        assert cve.cvss_v2 is not None and cve.cvss_v2.score == cvss2_base(cve.cvss_v2.vector), cve.id


# --- roles, features, impact --------------------------------------------------------------------------------------


def test_only_13082_hits_access_points_and_needs_80211r(kb) -> None:
    assert [c.id for c in kb.cves() if c.role is Role.ACCESS_POINT] == ["CVE-2017-13082"]
    assert kb.cve("13082").feature is Feature.FT
    assert {c.id for c in kb.cves() if c.feature is Feature.PMF} == {"CVE-2017-13079", "CVE-2017-13081"}
    assert {c.id for c in kb.cves() if c.key is KeyKind.IGTK} == {"CVE-2017-13079", "CVE-2017-13081", "CVE-2017-13088"}


_PAIRWISE = {KeyKind.PTK_TK, KeyKind.STK, KeyKind.TPK}


def _sending(cve) -> tuple[Direction, Direction]:
    """(frames the reinstalling device sends, frames sent to it)."""
    if cve.key in (KeyKind.STK, KeyKind.TPK):
        return Direction.VICTIM_TO_PEER, Direction.PEER_TO_VICTIM
    if cve.role is Role.ACCESS_POINT:
        return Direction.AP_TO_CLIENT, Direction.CLIENT_TO_AP
    return Direction.CLIENT_TO_AP, Direction.AP_TO_CLIENT


@pytest.mark.parametrize("cve_name", KRACK_CVES)
def test_impact_follows_the_per_cipher_rules(kb, cve_name: str) -> None:
    """CCMP: decrypt + replay; TKIP: also forge in one direction; GCMP: forge both ways (CCS 2017 section 6.1)."""
    cve = kb.cve(cve_name)
    table = {(i.cipher, i.direction): i.effects for i in cve.impacts}
    if cve.key in _PAIRWISE:
        out, inn = _sending(cve)
        assert table == {
            (Cipher.CCMP128, out): Effect.DECRYPT,
            (Cipher.CCMP128, inn): Effect.REPLAY,
            (Cipher.TKIP, out): Effect.DECRYPT | Effect.FORGE,
            (Cipher.TKIP, inn): Effect.REPLAY,
            (Cipher.GCMP128, out): Effect.DECRYPT | Effect.FORGE,
            (Cipher.GCMP128, inn): Effect.REPLAY | Effect.FORGE,
        }
        # CVSS agrees: losing a pairwise key costs confidentiality.
        assert "/C:H/" in cve.cvss_v3.vector
    elif cve.key is KeyKind.GTK:
        assert table == {(c, Direction.AP_TO_GROUP): Effect.REPLAY for c in (Cipher.CCMP128, Cipher.TKIP, Cipher.GCMP128)}
        assert "/C:N/" in cve.cvss_v3.vector
    else:
        assert table == {(Cipher.BIP_CMAC128, Direction.AP_TO_GROUP_MGMT): Effect.REPLAY}
        assert "/C:N/" in cve.cvss_v3.vector


def test_impacts_for_any_cipher_variant(kb) -> None:
    cve = kb.cve("CVE-2017-13077")
    assert cve.impacts_for(Cipher.CCMP256) == cve.impacts_for(Cipher.CCMP128) == cve.impacts_for(Cipher.WPA_CCMP)
    assert cve.impacts_for(Cipher.WPA_TKIP) == cve.impacts_for(Cipher.TKIP)
    assert len(cve.impacts_for(Cipher.GCMP256)) == 2
    assert cve.impacts_for(Cipher.WEP40) == ()


def test_texts_are_our_own_and_complete(kb) -> None:
    for cve in kb.cves():
        assert cve.title and len(cve.description) > 100
        assert cve.key.value in cve.title or cve.key.name.split("_")[0] in cve.title
        assert "nvd.nist.gov" in " ".join(cve.references)


def test_peerkey_is_not_applicable_to_hostap(kb) -> None:
    assert kb.cve("13084").hostap_fixed_version is None
    assert all(c.hostap_fixed_version == "2.7" for c in kb.cves() if c.id != "CVE-2017-13084")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("CVE-2017-13077", "CVE-2017-13077"), (" cve-2017-13088 ", "CVE-2017-13088"), ("2017-13082", "CVE-2017-13082"),
     ("13086", "CVE-2017-13086"), ("CVE-2017-13083", None), ("13085", None), ("", None), ("wpa2", None)],
)
def test_cve_id_forms(kb, text: str, expected: str | None) -> None:
    assert cve_id(text) == expected
    assert (kb.cve(text).id if kb.cve(text) else None) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=7))
def test_effect_labels_round_trip(value: int) -> None:
    effect = Effect(value)
    assert Effect.parse(effect.label) == effect
