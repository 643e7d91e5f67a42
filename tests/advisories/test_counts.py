"""Counts and per-row facts of the loaded knowledge base, checked against the source CSVs themselves."""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter

from krackwatch.advisories import KRACK_CVES, ProductStatus, SourceKind
from krackwatch.advisories.normalize import model_key


def _statuses(kb, kind: SourceKind):
    seen = {}
    for vendor in kb.vendors():
        for status in kb.vendor_statuses(vendor.key):
            if status.kind is kind:
                seen[(status.document, status.record_id)] = status
    return list(seen.values())


def _urls(*fields: str) -> set[str]:
    return {u for f in fields for u in f.replace(" ; ", " ").split() if u.startswith("http")}


def test_the_issue_numbers_are_what_the_files_say(source_rows) -> None:
    """The numbers quoted in the issue, verified from the files (not from our own output)."""
    assert len(source_rows("cert_vendors.csv")) == 183
    assert len(source_rows("krackinfo_vendor_responses.csv")) == 136
    assert len(source_rows("vendor_fixes.csv")) == 115
    engenius = source_rows("engenius_models.csv")
    assert len(engenius) == 65 and len({r["model"].strip().upper() for r in engenius}) == 60
    assert [r["cve"] for r in source_rows("cve_catalog.csv")] == list(KRACK_CVES)
    assert "CVE-2017-13083" not in KRACK_CVES and "CVE-2017-13085" not in KRACK_CVES


def test_cve_catalog(kb, source_rows) -> None:
    rows = {r["cve"]: r for r in source_rows("cve_catalog.csv")}
    assert sorted(c.id for c in kb.cves()) == sorted(rows)
    for cve in kb.cves():
        row = rows[cve.id]
        assert cve.cvss_v3.vector == row["nvd_cvss3_vector"]
        assert cve.cvss_v3.score == float(row["nvd_cvss3_score"])
        assert cve.cvss_v3.severity == row["nvd_cvss3_severity"]
        assert cve.cvss_v2 is not None and cve.cvss_v2.vector == row["nvd_cvss2_vector"]
        assert cve.cvss_v2.score == float(row["nvd_cvss2_score"])
        assert cve.cwes[0] == row["cwe_nvd"]
        assert (row["cwe_certcc"] in cve.cwes) == bool(row["cwe_certcc"])
        assert cve.published == dt.date.fromisoformat(row["nvd_published"])
        assert cve.hostap_note == row["hostap_fixed_in"]
        assert (cve.hostap_fixed_version is None) == row["hostap_fixed_in"].startswith("not applicable")
        assert _urls(row["source"]) <= set(cve.references)


def test_cert_vendor_records(kb, source_rows) -> None:
    rows = source_rows("cert_vendors.csv")
    statuses = {s.record_id: s for s in _statuses(kb, SourceKind.CERT)}
    assert len(statuses) == len(rows) == 183
    assert Counter(s.status for s in statuses.values()) == Counter(r["status"] for r in rows)
    mapping = {"Affected": ProductStatus.KNOWN_AFFECTED, "Not Affected": ProductStatus.KNOWN_NOT_AFFECTED,
               "Unknown": ProductStatus.UNDER_INVESTIGATION}
    for row in rows:
        s = statuses[row["cert_vendor_record_id"]]
        assert s.vendor == row["vendor"]
        assert s.status == row["status"] and s.csaf_status is mapping[row["status"]]
        assert s.date == dt.date.fromisoformat(row["date"])
        assert _urls(row["cert_vendor_record_url"], row["url"], row["other_urls"]) <= set(s.urls)
        other = dict(s.other_dates)
        assert other.get("notified", "") == row["date_notified"]
        assert other.get("responded", "") == row["date_responded"]
        assert s.note == row["notes"]
    # CERT "Affected" stays a dated fact: no CERT record claims a fix.
    assert not any(s.csaf_status is ProductStatus.FIXED for s in statuses.values())


def test_community_responses(kb, source_rows) -> None:
    rows = source_rows("krackinfo_vendor_responses.csv")
    statuses = {s.record_id: s for s in _statuses(kb, SourceKind.COMMUNITY)}
    assert len(statuses) == len(rows) == 136
    for n, row in enumerate(rows, 1):
        s = statuses[f"krackinfo-{n:03d}"]
        assert s.vendor == html.unescape(row["vendor"])
        assert s.status == (row["patch_matrix"] or row["response_type"])
        assert s.date == dt.date.fromisoformat(row["last_updated"])
        assert _urls(row["response_url"], row["other_urls"]) <= set(s.urls)
        assert dict(s.other_dates)["last checked"] == row["last_checked"]
        expected = ProductStatus.KNOWN_AFFECTED if ("patch_available" in row["patch_matrix"]
                                                   or "in_development" in row["patch_matrix"]) \
            else ProductStatus.UNDER_INVESTIGATION
        assert s.csaf_status is expected
    linked = sum(1 for r in rows if r["response_type"] == "link")
    assert sum(1 for s in statuses.values() if s.urls and s.status != "no_known_official_response") == linked


def test_vendor_fix_records(kb, source_rows) -> None:
    rows = source_rows("vendor_fixes.csv")
    fixes = {}
    for vendor in {r["vendor"] for r in rows}:
        for fix in kb.product_fixes(vendor):
            fixes[fix.record_id] = fix
    assert len(fixes) == len(rows) == 115
    assert len(_statuses(kb, SourceKind.VENDOR_FIX)) == 115
    assert len({f.vendor for f in fixes.values()}) == len({r["vendor"] for r in rows})
    for n, row in enumerate(rows, 1):
        fix = fixes[f"fix-{n:03d}"]
        assert (fix.vendor, fix.product) == (row["vendor"], row["product"])
        assert (fix.fixed_version or "") == row["fixed_version"]
        assert fix.status == row["status"] and fix.confidence == row["confidence"]
        assert (fix.advisory_id or "") == row["advisory_id"]
        assert fix.date == (dt.date.fromisoformat(row["date"]) if row["date"] else None)
        assert fix.url == (min(_urls(row["url"])) if row["url"] else None)
        assert set(fix.cves) == {c for c in row["cves"].split(";") if c in KRACK_CVES}
        # Only a record with a named fixed version may call the product fixed.
        if fix.csaf_status is ProductStatus.FIXED:
            assert row["status"] == "fixed" and fix.version == row["fixed_version"]
        if row["status"] != "fixed":
            assert fix.csaf_status is not ProductStatus.FIXED


def test_engenius_models_later_row_wins(kb, source_rows) -> None:
    rows = source_rows("engenius_models.csv")
    latest: dict[str, dict[str, str]] = {}
    for row in rows:  # the trailing block restates five models: the later row is the newer status
        latest[model_key(row["model"], "EnGenius")] = row
    assert len(latest) == 60
    models = {}
    for row in rows:
        status = kb.model_status("EnGenius", row["model"])
        assert status is not None
        models[status.model_key] = status
    assert len(models) == len(latest) == 60
    for key, row in latest.items():
        assert models[key].status == row["status_raw"]
        assert models[key].date == dt.date.fromisoformat(row["advisory_date"])
        assert models[key].source == row["source_url"]
        # No firmware versions in the advisory, so no model can be "fixed" in CSAF terms.
        assert models[key].csaf_status is ProductStatus.KNOWN_AFFECTED
    counts = Counter(m.status for m in models.values())
    assert counts == Counter(r["status_raw"] for r in latest.values())
    assert counts == {"Available Now": 39, "In Progress": 20, "Available through automatic update": 1}
    assert len(_statuses(kb, SourceKind.ENGENIUS)) == 60
    assert {m.model_key for m in kb.vendor_models("EnGenius")} == set(latest)
    duplicated = [k for k, n in Counter(model_key(r["model"], "EnGenius") for r in rows).items() if n > 1]
    assert len(duplicated) == 5
    assert all("In Progress" in models[k].note for k in duplicated)


def test_engenius_modes(kb, source_rows) -> None:
    rows = source_rows("engenius_mode_impact.csv")
    modes = kb.mode_impacts("EnGenius")
    assert [m.mode for m in modes] == [r["mode_as_in_advisory"] for r in rows]
    assert [m.statement for m in modes] == [r["engenius_statement"] for r in rows]
