"""Knowledge-base lookups: vendor and model spellings, product matching, search, laziness, speed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from krackwatch.advisories import KnowledgeBase, ProductStatus, SourceKind, fixed_in, user_data_dir
from krackwatch.advisories.kb import model_tokens


def test_nothing_is_read_before_the_first_lookup(tmp_path) -> None:
    kb = KnowledgeBase(tmp_path)
    assert kb._index is None
    assert kb.cve("13077") is not None
    assert kb._index is not None


def test_vendor_spellings_meet_on_one_key(kb) -> None:
    for spelling in ("Cisco", "Cisco Systems, Inc.", "CISCO SYSTEMS"):
        kinds = {s.kind for s in kb.vendor_statuses(spelling)}
        assert {SourceKind.CERT, SourceKind.COMMUNITY, SourceKind.VENDOR_FIX} <= kinds
    assert kb.vendor_statuses("No Such Vendor GmbH") == ()
    sony = [s for s in kb.vendor_statuses("Sony") if s.kind is SourceKind.CERT]
    assert sorted(s.status for s in sony) == ["Affected", "Unknown"]  # two CERT records, both kept


def test_statuses_are_dated_facts(kb) -> None:
    """CERT says Affected; the same vendor's fix records say fixed; both stay, each with its date."""
    statuses = kb.vendor_statuses("MikroTik")
    cert = next(s for s in statuses if s.kind is SourceKind.CERT)
    assert cert.status == "Not Affected" and cert.csaf_status is ProductStatus.KNOWN_NOT_AFFECTED
    fix = next(s for s in statuses if s.kind is SourceKind.VENDOR_FIX)
    assert fix.status == "fixed" and fix.date is not None


def test_model_spellings(kb) -> None:
    for spelling in ("EAP350v2", "EAP350V2", "eap350 v2", "EnGenius EAP350-v2"):
        status = kb.model_status("EnGenius", spelling)
        assert status is not None and status.model_key == "EAP350V2"
        assert status.status == "Available Now"
    assert kb.model_status("EnGenius", "EAP350") is None  # a different board
    assert kb.model_status("Cisco", "EAP350V2") is None


def test_product_matching_by_model_token(kb) -> None:
    (fix,) = kb.product_fixes("WatchGuard", "AP320")
    assert fix.fixed_version == "8.3.0-657"
    (fix,) = kb.product_fixes("DrayTek", "Vigor 2862")
    assert fix.fixed_version == "3.8.7"
    fixes = kb.product_fixes("Cisco Meraki", "MR33")
    assert [f.fixed_version for f in fixes] == ["MR 25.7"]
    assert [f.record_id for f in kb.product_fixes("hostap", "wpa_supplicant")] == ["fix-001"]
    assert kb.product_fixes("WatchGuard", "AP999") == ()


def test_model_tokens() -> None:
    assert {"AP120", "AP320", "AP322", "AP420"} <= model_tokens("AP120, AP320, AP322, AP420")
    assert "VIGOR2862" in model_tokens("Vigor2862 wireless series (wireless WAN / universal repeater modes)")
    assert "" not in model_tokens("(; /)")


@pytest.mark.parametrize(
    ("installed", "expected"),
    [("6.4.4.15", False), ("6.4.4.16", True), ("6.4.4.20", True), ("8.1.0.4", True), ("8.2.0.0", True),
     ("6.2.0.0", False), ("6.5.2.0", None), ("not a version", None)],
)
def test_fixed_in_branches(kb, installed: str, expected: bool | None) -> None:
    """ArubaOS lists one fixed release per branch: 6.3.1.25; 6.4.4.16; 6.5.1.9; 6.5.3.3; 6.5.4.2; 8.1.0.4."""
    (fix,) = kb.product_fixes("Aruba", "ArubaOS")
    assert fixed_in(fix, installed) is expected


def test_fixed_in_single_version(kb) -> None:
    (fix,) = kb.product_fixes("hostap", "wpa_supplicant")
    assert [fixed_in(fix, v) for v in ("2.6", "2.7", "2.10", "v2.9")] == [False, True, True, True]
    (draytek,) = kb.product_fixes("DrayTek", "Vigor2862")  # announced, not a confirmed fixed product
    assert fixed_in(draytek, "3.9.0") is None


def test_search(kb) -> None:
    kinds = {h.kind for h in kb.search("engenius")}
    assert {"vendor", "model", "document"} <= kinds
    assert [h.key for h in kb.search("13082") if h.kind == "cve"] == ["CVE-2017-13082"]
    assert kb.search("   ") == ()
    assert len(kb.search("a", limit=5)) == 5


def test_documents(kb) -> None:
    ids = [d.id for d in kb.documents()]
    assert ids == ["krackwatch-cve-catalog", "cert-vu228519", "krackinfo-responses", "vendor-fixes",
                   "engenius-2017-10-17"]
    assert kb.document("VENDOR-FIXES") is not None and kb.document("vendor-fixes.json") is not None
    assert kb.document("nope") is None


def test_user_data_dir(tmp_path) -> None:
    home = tmp_path / "home"
    assert user_data_dir({}, home) == home / ".local" / "share" / "krackwatch"
    assert user_data_dir({"XDG_DATA_HOME": "/xdg"}, home) == Path("/xdg/krackwatch")
    assert user_data_dir({"XDG_DATA_HOME": "relative"}, home) == home / ".local" / "share" / "krackwatch"
    assert user_data_dir({"KRACKWATCH_DATA_DIR": str(tmp_path), "XDG_DATA_HOME": "/xdg"}, home) == tmp_path


def test_lookups_are_fast(kb) -> None:
    """A large audit calls these per device: 100,000 mixed lookups must take well under a few seconds."""
    vendors = ["Cisco Systems, Inc.", "EnGenius", "TP-LINK TECHNOLOGIES CO.,LTD.", "Hikvision", "Apple"]
    models = ["EAP350 v2", "EWS360AP", "ENS500-AC", "AP320", "X1"]
    start = time.perf_counter()
    for i in range(20_000):
        vendor = vendors[i % 5]
        model = models[(i // 5) % 5]
        kb.vendor_statuses(vendor)
        kb.model_status(vendor, model)
        kb.product_fixes(vendor, model)
        kb.cve("13077")
        kb.model_status("EnGenius", f"EAP{i % 400}")
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize(
    ("installed", "expected"),
    [("6.40.4", True), ("6.40.3", False), ("6.39.3", True), ("6.39.2", False), ("6.41", True), ("6.42.1", True),
     ("5.26", False)],
)
def test_fixed_in_annotated_thresholds_and_mixed_depths(kb, installed: str, expected: bool | None) -> None:
    """MikroTik's record reads "6.39.3 (bugfix); 6.40.4 (current); 6.41rc": the parentheses annotate the
    thresholds, and the 6.40 branch is judged by 6.40.4, not by the major-only branch of 6.41rc."""
    (fix,) = [f for f in kb.product_fixes("MikroTik") if f.version and "6.40.4" in f.version]
    assert fixed_in(fix, installed) is expected
