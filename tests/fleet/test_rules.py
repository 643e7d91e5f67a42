"""Exposure rules against independent truth: the sourced advisory CSVs (tools/kb_sources: the EnGenius table and
mode statements of 2017-10-17, CERT/CC vendor records, vendor fix versions), the CVE catalog's roles and impact
tables, and properties that must hold for any device."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.advisories import KRACK_CVES, KnowledgeBase, bundled_knowledge_base
from krackwatch.advisories import Role as CveRole
from krackwatch.advisories.model import Feature
from krackwatch.advisories.normalize import model_key, normalize_vendor
from krackwatch.fleet.evidence import Evidence, EvidenceError, Finding, FindingVerdict
from krackwatch.fleet.model import Device, Role
from krackwatch.fleet.rules import (
    AP_CVES,
    CLIENT_CVES,
    Exposure,
    RemediationKind,
    RuleEngine,
    Severity,
    StatusSource,
    applicable_cves,
    assess_device,
)

SOURCES = Path(__file__).resolve().parents[2] / "tools" / "kb_sources"


def rows(name: str) -> list[dict[str, str]]:
    with open(SOURCES / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return bundled_knowledge_base().load()


def device(vendor: str = "EnGenius", model: str = "ECB1750", firmware: str = "", role: Role = Role.ACCESS_POINT,
           *, ft: bool | None = None, pmf: bool | None = None, ciphers: tuple[str, ...] = ("CCMP",),
           attributes: tuple[tuple[str, str], ...] = (), mac: str | None = None, name: str = "dev") -> Device:
    return Device(name=name, vendor=vendor, vendor_key=normalize_vendor(vendor) if vendor else "", model=model,
                  model_key=model_key(model, vendor or None) if model else "", firmware=firmware, mac=mac, site="",
                  role=role, ft=ft, ciphers=frozenset(ciphers), pmf=pmf, attributes=attributes)


# --------------------------------------------------------------------------------------------------------
# Which CVEs reach a device
# --------------------------------------------------------------------------------------------------------


def test_cve_sets_follow_the_catalog_roles(kb) -> None:
    for cve in CLIENT_CVES:
        assert kb.cve(cve).role is CveRole.CLIENT
    for cve in AP_CVES:
        assert kb.cve(cve).role is CveRole.ACCESS_POINT and kb.cve(cve).feature is Feature.FT
    # Every KRACK CVE is either assigned by role or documented as opt-in (TDLS) / never (PeerKey).
    assert set(CLIENT_CVES) | set(AP_CVES) | {"CVE-2017-13084", "CVE-2017-13086"} == set(KRACK_CVES)


@pytest.mark.parametrize("role", list(Role))
def test_mode_decides_exposure(role: Role) -> None:
    on = set(applicable_cves(device(role=role, ft=True)))
    off = set(applicable_cves(device(role=role, ft=False)))
    assert ("CVE-2017-13082" in on) is role.is_authenticator_side
    assert "CVE-2017-13082" not in off
    assert (set(CLIENT_CVES) <= on) is role.is_client_side
    assert "CVE-2017-13084" not in on


def test_ap_mode_without_80211r_is_hit_by_nothing_and_mitigated(kb) -> None:
    # EnGenius: "no direct impact on any EnGenius APs operating in access point mode" (engenius_mode_impact.csv).
    modes = {r["mode_key"]: r for r in rows("engenius_mode_impact.csv")}
    assert modes["access_point"]["engenius_statement"] == "not_affected_directly"
    v = assess_device(device(role=Role.ACCESS_POINT, ft=False), kb)
    assert v.verdict is Exposure.MITIGATED and v.cves == () and v.severity is Severity.NONE
    assert v.source is StatusSource.ROLE
    assert RemediationKind.PATCH_CLIENTS in {r.kind for r in v.remediation}


def test_client_bridge_gets_the_supplicant_cves_of_the_engenius_mode_table() -> None:
    table = {r["mode_key"]: r for r in rows("engenius_mode_impact.csv")}
    bridge = next(r for m, r in table.items() if "client" in m and "bridge" in m)
    listed = {c.strip() for c in bridge["relevant_cves_inferred"].split(";")}
    assert set(applicable_cves(device(role=Role.CLIENT_BRIDGE))) == listed


def test_pmf_off_drops_the_igtk_cves_and_tdls_adds_13086() -> None:
    igtk = {"CVE-2017-13079", "CVE-2017-13081", "CVE-2017-13088"}
    assert igtk <= set(applicable_cves(device(role=Role.PHONE, pmf=None)))
    assert not igtk & set(applicable_cves(device(role=Role.PHONE, pmf=False)))
    assert "CVE-2017-13086" not in applicable_cves(device(role=Role.PHONE))
    assert "CVE-2017-13086" in applicable_cves(device(role=Role.PHONE, attributes=(("TDLS", "yes"),)))


# --------------------------------------------------------------------------------------------------------
# Status resolution
# --------------------------------------------------------------------------------------------------------


def _engenius_latest() -> dict[str, str]:
    """Model -> status of its last row in the advisory's table (the trailing block updates earlier rows)."""
    latest: dict[str, str] = {}
    for r in rows("engenius_models.csv"):
        latest[r["model_key"]] = r["status_raw"].strip()
    return latest


def test_every_engenius_model_follows_its_row_in_the_advisory(kb) -> None:
    expected = {"Available Now": Exposure.PATCH_AVAILABLE, "Available through automatic update":
                Exposure.PATCH_AVAILABLE, "In Progress": Exposure.EXPOSED}
    latest = _engenius_latest()
    assert len(latest) == 60
    for model, status in latest.items():
        v = assess_device(device(model=model, role=Role.CLIENT_BRIDGE, firmware="1.0.0"), kb)
        assert v.verdict is expected[status], (model, status, v.reason)
        assert v.source is StatusSource.MODEL_TABLE
        assert f"'{status}'" in v.reason and "2017-10-17" in v.reason


def test_reason_cites_status_date_and_source(kb) -> None:
    v = assess_device(device(model="ECB1750", role=Role.ACCESS_POINT, ft=True), kb)
    assert v.verdict is Exposure.PATCH_AVAILABLE
    assert v.cves == ("CVE-2017-13082",)
    assert "EnGenius listed the firmware fix for ECB1750 as 'Available Now' on 2017-10-17" in v.reason
    assert "https://www.engeniusnetworks.eu/faq" in v.reason
    kinds = [r.kind for r in v.remediation]
    assert kinds[0] is RemediationKind.UPDATE_FIRMWARE and v.remediation[0].url.startswith("https://")
    assert RemediationKind.DISABLE_FT in kinds and RemediationKind.TLS_VPN in kinds


def test_unstated_80211r_is_assumed_on_and_said_so(kb) -> None:
    v = assess_device(device(model="EWS500AP", role=Role.ACCESS_POINT, ft=None), kb)
    assert v.verdict is Exposure.EXPOSED and "CVE-2017-13082" in v.cves
    assert "not stated" in v.reason


@pytest.mark.parametrize(("firmware", "verdict"), [
    ("wpa_supplicant 2.6", Exposure.PATCH_AVAILABLE), ("wpa_supplicant 2.7", Exposure.FIXED),
    ("wpa_supplicant v2.10", Exposure.FIXED),
])
def test_firmware_is_held_against_the_fixed_version(kb, firmware: str, verdict: Exposure) -> None:
    # vendor_fixes.csv: hostap fixed the nine applicable CVEs in wpa_supplicant 2.7 (ChangeLog of 2018-12-02).
    fix = next(r for r in rows("vendor_fixes.csv") if r["vendor"].startswith("hostap") and r["product"] ==
               "wpa_supplicant")
    assert fix["fixed_version"] == "2.7"
    v = assess_device(device(vendor="Acme Embedded", model="Gizmo 9", firmware=firmware, role=Role.IOT), kb)
    assert v.verdict is verdict, v.reason
    assert v.source is StatusSource.VENDOR_FIX
    assert "wpa_supplicant" in v.reason


@pytest.mark.parametrize(("patch", "verdict"), [
    ("2017-10-05", Exposure.PATCH_AVAILABLE), ("2017-11-05", Exposure.PATCH_AVAILABLE),
    ("2017-11-06", Exposure.FIXED), ("2018-01-01", Exposure.FIXED),
])
def test_android_security_patch_level(kb, patch: str, verdict: Exposure) -> None:
    # Android bulletin 2017-11-01: the fixes are in patch level 2017-11-06; 2017-11-05 is not enough.
    fw = f"Android 8.0, security patch level {patch}"
    v = assess_device(device(vendor="Samsung", model="Galaxy S8", firmware=fw, role=Role.PHONE), kb)
    assert v.verdict is verdict, v.reason
    assert "2017-11-06" in v.reason


def test_ios_versions(kb) -> None:
    old = assess_device(device(vendor="Apple", model="iPhone 6s", firmware="iOS 11.0.3", role=Role.PHONE), kb)
    new = assess_device(device(vendor="Apple", model="iPhone 8", firmware="iOS 11.2.1", role=Role.PHONE), kb)
    assert old.verdict is Exposure.PATCH_AVAILABLE and new.verdict is Exposure.FIXED
    assert new.cves == ("CVE-2017-13080",)  # the CVE Apple's iOS records name
    assert new.severity is Severity.NONE and new.score is None


def test_cert_not_affected_vendors(kb) -> None:
    names = [r["vendor"] for r in rows("cert_vendors.csv") if r["status"] == "Not Affected"]
    assert len(names) == 9
    for name in names:
        v = assess_device(device(vendor=name, model="Model X1", role=Role.STATION), kb)
        assert v.verdict is Exposure.NOT_AFFECTED, (name, v.reason)
        assert "Not Affected" in v.reason and "not a statement about this device today" in v.reason


def test_cert_affected_with_a_vendor_link_is_a_dated_patch_available(kb) -> None:
    row = next(r for r in rows("cert_vendors.csv") if r["vendor"].startswith("Nest"))
    assert row["status"] == "Affected" and row["url"].startswith("http")
    v = assess_device(device(vendor="Nest Labs", model="Learning Thermostat", role=Role.IOT), kb)
    assert v.verdict is Exposure.PATCH_AVAILABLE
    assert row["date"] in v.reason and row["url"] in v.reason
    assert "not a statement about this device today" in v.reason
    assert v.remediation[0].url == row["url"]


def test_vendor_without_any_advisory_is_unknown(kb) -> None:
    # The research notes: no KRACK advisory for Hikvision, Axis or Dahua in CERT/CC or elsewhere.
    for vendor in ("Hikvision", "Axis Communications", "Dahua"):
        v = assess_device(device(vendor=vendor, model="IPC-1", firmware="V5.4.5", role=Role.CAMERA), kb)
        assert v.verdict is Exposure.UNKNOWN and v.source is StatusSource.NONE
        assert v.remediation[0].kind is RemediationKind.ASK_VENDOR
    v = assess_device(device(vendor="", model="", role=Role.IOT), kb)
    assert v.verdict is Exposure.UNKNOWN and "Vendor not known" in v.reason


def test_imported_model_statement_outranks_the_bundled_table(tmp_path) -> None:
    import json

    from krackwatch.advisories import import_document, read_document  # noqa: F401

    doc = {
        "document": {
            "category": "csaf_security_advisory", "csaf_version": "2.0", "title": "EnGenius KRACK update",
            "publisher": {"category": "vendor", "name": "EnGenius", "namespace": "https://vendor.example"},
            "tracking": {"current_release_date": "2018-02-01T00:00:00Z", "id": "EG-2018-1",
                         "initial_release_date": "2018-02-01T00:00:00Z", "status": "final", "version": "1",
                         "revision_history": [{"date": "2018-02-01T00:00:00Z", "number": "1", "summary": "x"}]},
        },
        "product_tree": {"branches": [{"category": "vendor", "name": "EnGenius", "branches": [
            {"category": "product_name", "name": "EAP1200H", "product": {"name": "EnGenius EAP1200H",
                                                                          "product_id": "P1"}}]}]},
        "vulnerabilities": [{"cve": "CVE-2017-13077", "product_status": {"fixed": ["P1"]}}],
    }
    path = tmp_path / "eg.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    import_document(path, tmp_path / "data")
    kb = KnowledgeBase(tmp_path / "data").load()
    v = assess_device(device(model="EAP1200H", role=Role.CLIENT_BRIDGE), kb)
    assert v.verdict is Exposure.FIXED, v.reason
    assert "2018-02-01" in v.reason


# --------------------------------------------------------------------------------------------------------
# Severity and remediation
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("score", "severity"), [(0.0, Severity.NONE), (0.1, Severity.LOW), (3.9, Severity.LOW),
                                                 (4.0, Severity.MEDIUM), (6.9, Severity.MEDIUM),
                                                 (7.0, Severity.HIGH), (8.9, Severity.HIGH),
                                                 (9.0, Severity.CRITICAL), (10.0, Severity.CRITICAL)])
def test_cvss_v3_qualitative_scale(score: float, severity: Severity) -> None:
    assert Severity.from_score(score) is severity


def test_severity_is_the_worst_cvss_and_legacy_ciphers_raise_it(kb) -> None:
    base = device(vendor="Hikvision", model="DS-2CD2412F-IW", role=Role.CAMERA)
    v = assess_device(base, kb)
    assert v.score == max(kb.cve(c).cvss_v3.score for c in v.cves) == 6.8
    assert v.severity is Severity.MEDIUM
    tkip = assess_device(replace(base, ciphers=frozenset({"CCMP", "TKIP"})), kb)
    assert tkip.severity is Severity.HIGH and "TKIP" in tkip.reason
    wep = assess_device(replace(base, ciphers=frozenset({"WEP"})), kb)
    assert wep.severity is Severity.CRITICAL and "WEP" in wep.reason
    assert RemediationKind.STOP_LEGACY_CIPHERS in {r.kind for r in wep.remediation}
    ap = assess_device(device(model="EWS500AP", role=Role.ACCESS_POINT, ft=True, ciphers=("TKIP",)), kb)
    assert ap.score == 8.1 and ap.severity is Severity.CRITICAL


def test_bridges_are_told_to_go_wired(kb) -> None:
    for role in (Role.CLIENT_BRIDGE, Role.WDS_BRIDGE, Role.WDS_STATION, Role.REPEATER, Role.MESH):
        v = assess_device(device(model="ENS620EXT", role=role), kb)
        assert RemediationKind.WIRED_BACKHAUL in {r.kind for r in v.remediation}
    v = assess_device(device(model="ENS620EXT", role=Role.STATION), kb)
    assert RemediationKind.WIRED_BACKHAUL not in {r.kind for r in v.remediation}


# --------------------------------------------------------------------------------------------------------
# Evidence
# --------------------------------------------------------------------------------------------------------

REINSTALL = Finding("ptk-reinstall", ("13077",), FindingVerdict.VULNERABLE, "PN reset after a retransmitted msg3",
                    "lab.pcapng", (120, 124))


def test_observed_reinstallation_beats_a_fixed_advisory(kb) -> None:
    fixed = device(vendor="Apple", model="iPhone 8", firmware="iOS 11.2.1", role=Role.PHONE, mac="a4:c3:61:00:00:01")
    assert assess_device(fixed, kb).verdict is Exposure.FIXED
    evidence = Evidence.of([("A4-C3-61-00-00-01", REINSTALL)])
    v = assess_device(fixed, kb, evidence.for_mac(fixed.mac))
    assert v.verdict is Exposure.EXPOSED and v.source is StatusSource.EVIDENCE
    assert v.cves == ("CVE-2017-13077",) and v.severity is Severity.MEDIUM
    assert "observed" in v.reason and "lab.pcapng" in v.reason and "120" in v.reason
    assert "iOS 11.2" in v.reason  # the advisory status stays visible
    assert v.evidence[0].cves == ("CVE-2017-13077",)


def test_non_vulnerable_findings_do_not_change_the_verdict(kb) -> None:
    dev = device(vendor="Apple", model="iPhone 6s", firmware="iOS 11.0.3", role=Role.PHONE, mac="a4:c3:61:00:00:02")
    quiet = Finding("ptk-reinstall", ("CVE-2017-13077",), FindingVerdict.NOT_VULNERABLE, "no PN reset")
    v = assess_device(dev, kb, (quiet,))
    assert v.verdict is Exposure.PATCH_AVAILABLE and "no PN reset" in v.reason


def test_evidence_rejects_bad_macs_and_non_krack_cves() -> None:
    with pytest.raises(EvidenceError):
        Evidence.of([("not-a-mac", REINSTALL)])
    with pytest.raises(EvidenceError):
        Evidence.of([("00:11:22:33:44:55", replace(REINSTALL, cves=("CVE-2017-13083",)))])
    assert not Evidence() and len(Evidence.of([("00:11:22:33:44:55", REINSTALL)])) == 1


# --------------------------------------------------------------------------------------------------------
# Cache and properties
# --------------------------------------------------------------------------------------------------------


def test_engine_cache_shares_equal_inputs_only(kb) -> None:
    engine = RuleEngine(kb)
    a = engine.assess(device(model="ECB1750", firmware="1.0", name="a"))
    b = engine.assess(device(model="ECB1750", firmware="1.0", name="b"))
    c = engine.assess(device(model="ECB1750", firmware="1.0", ft=False))
    assert a is b and c is not a and engine.hits == 1 and engine.misses == 2
    assert c.verdict is Exposure.MITIGATED


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(vendor=st.sampled_from(["EnGenius", "Apple", "Samsung", "Hikvision", "MikroTik", "Cisco", "Sonos", "",
                                "Acme"]) | _text,
       model=st.sampled_from(["ECB1750", "EAP1200H", "iPhone 8", "MR33", "ESP32", ""]) | _text,
       firmware=st.sampled_from(["", "iOS 11.2", "RouterOS 6.41", "wpa_supplicant 2.6",
                                 "Android 8.0, security patch level 2017-12-01"]) | _text,
       role=st.sampled_from(list(Role)), ft=st.sampled_from([None, True, False]),
       pmf=st.sampled_from([None, True, False]),
       ciphers=st.sets(st.sampled_from(["CCMP", "GCMP", "TKIP", "WEP"])))
def test_any_device_gets_a_consistent_verdict(kb, vendor, model, firmware, role, ft, pmf, ciphers) -> None:
    dev = device(vendor=vendor, model=model, firmware=firmware, role=role, ft=ft, pmf=pmf, ciphers=tuple(ciphers))
    v = assess_device(dev, kb)
    assert set(v.cves) <= set(KRACK_CVES)
    assert v.reason
    if v.verdict in (Exposure.FIXED, Exposure.NOT_AFFECTED, Exposure.MITIGATED):
        assert v.severity is Severity.NONE and v.score is None
    else:
        assert v.severity >= Severity.LOW and v.score is not None
        assert v.remediation
    if not applicable_cves(dev):
        assert v.verdict is Exposure.MITIGATED
    for r in v.remediation:
        assert r.url is None or r.url.startswith(("http://", "https://"))
