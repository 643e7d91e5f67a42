"""Importing vendor CSAF files: valid, schema-invalid, not JSON, conflicting, replaced; fuzzed input."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from krackwatch.advisories import KnowledgeBase, ProductStatus, SourceKind, import_document, read_document
from krackwatch.errors import InputError, KrackwatchError


def _import(tmp_path, doc, write_json, name="advisory.json"):
    data_dir = tmp_path / "data"
    report = import_document(write_json(tmp_path / name, doc), data_dir)
    return report, KnowledgeBase(data_dir)


def test_valid_vendor_document_becomes_matchable(tmp_path, make_doc, write_json) -> None:
    doc = make_doc(products=[("P1", "1.2.3", "EAP1200H", "fixed"), ("P2", "1.2.2", "EAP1200H", "known_affected"),
                             ("P3", None, "EAP9999", "known_not_affected")])
    report, kb = _import(tmp_path, doc, write_json)
    assert report.document.id == "EXAMPLE-SA-2018-001" and report.document.kind is SourceKind.IMPORTED
    assert (report.statements, report.product_fixes, report.model_statuses) == (3, 2, 1)
    assert report.conflicts == ()
    stored = tmp_path / "data" / "advisories"
    assert [p.name for p in stored.iterdir()] == ["0001-EXAMPLE-SA-2018-001.json"]
    assert json.loads((stored / "0001-EXAMPLE-SA-2018-001.json").read_text()) == doc

    fixes = [f for f in kb.product_fixes("EnGenius", "EAP1200H") if f.document == "EXAMPLE-SA-2018-001"]
    assert {(f.version, f.csaf_status, f.fixed_version) for f in fixes} == {
        ("1.2.3", ProductStatus.FIXED, "1.2.3"), ("1.2.2", ProductStatus.KNOWN_AFFECTED, None)}
    assert all(f.cves == ("CVE-2017-13077",) and f.confidence == "vendor" for f in fixes)
    assert fixes[0].url == "https://vendor.example/download"
    new_model = kb.model_status("EnGenius", "EAP9999")
    assert new_model is not None and new_model.csaf_status is ProductStatus.KNOWN_NOT_AFFECTED
    assert any(s.kind is SourceKind.IMPORTED for s in kb.vendor_statuses("EnGenius"))
    assert "EXAMPLE-SA-2018-001" in [d.id for d in kb.documents()]
    # The bundled statement about EAP1200H is untouched: the imported ones name versions.
    assert kb.model_status("EnGenius", "EAP1200H").document == "engenius-2017-10-17"


def test_not_json_names_the_file_line_and_column(tmp_path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"document": {\n  "title": "x",\n  oops\n}', encoding="utf-8")
    with pytest.raises(InputError) as err:
        import_document(path, tmp_path / "data")
    assert err.value.path == str(path)
    assert "line 3 column 3" in err.value.describe()
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["document"]["tracking"].pop("id"), "$.document.tracking"),
        (lambda d: d["document"].__setitem__("csaf_version", "1.2"), "$.document.csaf_version"),
        (lambda d: d["vulnerabilities"][0].__setitem__("cve", "CVE-17-1"), "$.vulnerabilities[0].cve"),
        (lambda d: d["document"]["tracking"].__setitem__("current_release_date", "yesterday"),
         "$.document.tracking.current_release_date"),
    ],
)
def test_schema_invalid_names_the_json_path(tmp_path, make_doc, write_json, mutate, where) -> None:
    doc = make_doc()
    mutate(doc)
    path = write_json(tmp_path / "bad.json", doc)
    with pytest.raises(InputError) as err:
        import_document(path, tmp_path / "data")
    assert where in err.value.describe()
    assert err.value.describe().startswith(str(path))


def test_mandatory_tests_beyond_the_schema(tmp_path, make_doc, write_json) -> None:
    doc = make_doc()
    doc["vulnerabilities"][0]["product_status"]["fixed"].append("P404")
    with pytest.raises(InputError, match="6.1.1"):
        import_document(write_json(tmp_path / "a.json", doc), tmp_path / "data")
    doc = make_doc()
    doc["vulnerabilities"][0]["product_status"]["known_not_affected"] = ["P1"]
    with pytest.raises(InputError, match="6.1.6"):
        import_document(write_json(tmp_path / "b.json", doc), tmp_path / "data")


def test_recommended_may_accompany_another_status(tmp_path, make_doc, write_json) -> None:
    """CSAF 6.1.6 does not count "recommended"; alone it reads as fixed, beside another status it adds nothing."""
    doc = make_doc(products=[("P1", "2.0", "EAP1200H", "known_not_affected"), ("P2", "2.1", "EAP1200H", "fixed")])
    doc["vulnerabilities"][0]["product_status"]["recommended"] = ["P1", "P2"]
    doc["vulnerabilities"][0].pop("remediations")
    _, kb = _import(tmp_path, doc, write_json)
    fixes = {f.version: f.csaf_status for f in kb.product_fixes("EnGenius", "EAP1200H") if f.version}
    assert fixes == {"2.0": ProductStatus.KNOWN_NOT_AFFECTED, "2.1": ProductStatus.FIXED}


def test_documents_without_krack_statements_are_refused(tmp_path, make_doc, write_json) -> None:
    with pytest.raises(InputError, match="KRACK"):
        import_document(write_json(tmp_path / "a.json", make_doc(cve="CVE-2017-13083")), tmp_path / "data")


def test_later_document_wins_a_conflict(tmp_path, make_doc, write_json) -> None:
    """EnGenius said EAP1200H was in progress on 2017-10-17; a 2018 vendor document says the model is fixed."""
    doc = make_doc(products=[("M1", None, "EAP1200H", "fixed")], date="2018-01-15T00:00:00Z")
    report, kb = _import(tmp_path, doc, write_json)
    (conflict,) = report.conflicts
    assert conflict.product == "EAP1200H" and conflict.cves == ("CVE-2017-13077",)
    assert conflict.existing.document == "engenius-2017-10-17"
    assert conflict.existing.status is ProductStatus.KNOWN_AFFECTED
    assert conflict.incoming.status is ProductStatus.FIXED
    assert conflict.winner == "incoming"
    current = kb.model_status("EnGenius", "EAP1200H")
    assert current.document == "EXAMPLE-SA-2018-001" and current.csaf_status is ProductStatus.FIXED
    older = kb.model_statuses("EnGenius", "EAP1200H")[1]
    assert older.document == "engenius-2017-10-17" and older.superseded_by == "EXAMPLE-SA-2018-001"


def test_earlier_document_loses_a_conflict(tmp_path, make_doc, write_json) -> None:
    doc = make_doc(products=[("M1", None, "EAP1200H", "known_not_affected")], date="2017-09-01T00:00:00Z")
    report, kb = _import(tmp_path, doc, write_json)
    (conflict,) = report.conflicts
    assert conflict.winner == "existing"
    current = kb.model_status("EnGenius", "EAP1200H")
    assert current.document == "engenius-2017-10-17" and current.superseded_by is None
    assert kb.model_statuses("EnGenius", "EAP1200H")[1].superseded_by == "engenius-2017-10-17"


def test_equal_dates_keep_the_existing_statement(tmp_path, make_doc, write_json) -> None:
    doc = make_doc(products=[("M1", None, "EAP1200H", "fixed")], date="2017-10-17T00:00:00Z")
    report, kb = _import(tmp_path, doc, write_json)
    assert [c.winner for c in report.conflicts] == ["existing"]
    statuses = kb.model_statuses("EnGenius", "EAP1200H")
    assert [(m.document, m.superseded_by) for m in statuses] == [
        ("engenius-2017-10-17", None), ("EXAMPLE-SA-2018-001", "engenius-2017-10-17")]


def test_conflict_with_a_versioned_fix(tmp_path, make_doc, write_json) -> None:
    """A 2019 document calling wpa_supplicant 2.7 affected contradicts the bundled fix record (2018-12-02)."""
    doc = make_doc(vendor="hostap (w1.fi)", products=[("W", "2.7", "wpa_supplicant", "known_affected")],
                   date="2019-03-01T00:00:00Z", cve="CVE-2017-13082")
    report, kb = _import(tmp_path, doc, write_json)
    (conflict,) = report.conflicts
    assert (conflict.existing.document, conflict.winner, conflict.version) == ("vendor-fixes", "incoming", "2.7")
    fixes = kb.product_fixes("hostap", "wpa_supplicant")
    assert fixes[0].document == "EXAMPLE-SA-2018-001" and fixes[0].superseded_by is None
    bundled = next(f for f in fixes if f.record_id == "fix-001")
    assert bundled.superseded_by == "EXAMPLE-SA-2018-001"


def test_conflicts_between_imports(tmp_path, make_doc, write_json) -> None:
    data_dir = tmp_path / "data"
    first = make_doc("A-1", products=[("X", "5.0", "Cam9", "known_affected")], vendor="Acme Cams",
                     date="2018-01-01T00:00:00Z", namespace="https://acme.example")
    second = make_doc("B-1", products=[("Y", "5.0", "Cam9", "fixed")], vendor="ACME CAMS",
                      date="2018-02-01T00:00:00Z", namespace="https://other.example")
    assert import_document(write_json(tmp_path / "a.json", first), data_dir).conflicts == ()
    report = import_document(write_json(tmp_path / "b.json", second), data_dir)
    assert [(c.existing.document, c.winner) for c in report.conflicts] == [("A-1", "incoming")]
    kb = KnowledgeBase(data_dir)
    assert [f.document for f in kb.product_fixes("Acme Cams", "Cam9")] == ["B-1", "A-1"]


def test_reimport_replaces_and_older_release_is_refused(tmp_path, make_doc, write_json) -> None:
    data_dir = tmp_path / "data"
    v1 = make_doc(products=[("P", "1.0", "EAP1200H", "known_affected")], date="2018-01-15T00:00:00Z")
    v2 = make_doc(products=[("P", "1.0", "EAP1200H", "fixed")], date="2018-02-15T00:00:00Z", version="2")
    import_document(write_json(tmp_path / "v1.json", v1), data_dir)
    report = import_document(write_json(tmp_path / "v2.json", v2), data_dir)
    assert report.replaced is not None and report.conflicts == ()  # a document does not conflict with itself
    assert [p.name for p in (data_dir / "advisories").iterdir()] == ["0002-EXAMPLE-SA-2018-001.json"]
    with pytest.raises(InputError, match="newer"):
        import_document(write_json(tmp_path / "v1b.json", v1), data_dir)
    (fix,) = [f for f in KnowledgeBase(data_dir).product_fixes("EnGenius", "EAP1200H") if f.version == "1.0"]
    assert fix.csaf_status is ProductStatus.FIXED


def test_merged_export_includes_imports(tmp_path, make_doc, write_json) -> None:
    from krackwatch.advisories import export_merged
    from krackwatch.advisories.csaf import check_document

    data_dir = tmp_path / "data"
    import_document(write_json(tmp_path / "a.json", make_doc("SAME-ID", namespace="https://a.example")), data_dir)
    import_document(write_json(tmp_path / "b.json", make_doc("SAME-ID", namespace="https://b.example")), data_dir)
    merged = export_merged(KnowledgeBase(data_dir))
    check_document(merged, "merged")
    ids = json.dumps(merged["product_tree"])
    assert "SAME-ID#6:P1" in ids and "SAME-ID#7:P1" in ids
    (vuln,) = [v for v in merged["vulnerabilities"] if v.get("cve") == "CVE-2017-13077"]
    assert {"SAME-ID#6:P1", "SAME-ID#7:P1"} <= set(vuln["product_status"]["fixed"])


def test_bundled_document_cannot_be_imported(tmp_path, kb, write_json) -> None:
    with pytest.raises(InputError, match="bundled"):
        import_document(write_json(tmp_path / "c.json", kb.document("vendor-fixes").csaf), tmp_path / "data")


def test_group_ids_and_relationships(tmp_path, make_doc, write_json) -> None:
    """Firmware installed_on a camera model, referenced through a product group, matches as (vendor, model)."""
    doc = make_doc(products=[("FW", "5.5.0", "Camera firmware", "fixed")], vendor="Hikvision")
    tree = doc["product_tree"]
    tree["branches"][0]["branches"].append(
        {"category": "product_name", "name": "DS-2CD2142FWD-IWS", "product": {"name": "DS-2CD2142FWD-IWS",
                                                                             "product_id": "HW"}})
    tree["relationships"] = [{"category": "installed_on", "product_reference": "FW",
                              "relates_to_product_reference": "HW",
                              "full_product_name": {"name": "firmware 5.5.0 on DS-2CD2142FWD-IWS", "product_id": "C"}}]
    tree["product_groups"] = [{"group_id": "G", "product_ids": ["C", "FW"]}]
    vuln = doc["vulnerabilities"][0]
    vuln["product_status"] = {"fixed": ["C"]}
    vuln["remediations"] = [{"category": "vendor_fix", "details": "Update.", "group_ids": ["G"],
                             "url": "https://vendor.example/fw"}]
    _, kb = _import(tmp_path, doc, write_json)
    (fix,) = kb.product_fixes("Hikvision", "DS-2CD2142FWD-IWS")
    assert (fix.version, fix.csaf_status, fix.url) == ("5.5.0", ProductStatus.FIXED, "https://vendor.example/fw")


def test_stored_file_damaged_later_is_reported(tmp_path, make_doc, write_json) -> None:
    data_dir = tmp_path / "data"
    report = import_document(write_json(tmp_path / "a.json", make_doc()), data_dir)
    with open(report.stored_at, "w", encoding="utf-8") as fh:
        fh.write("{")
    with pytest.raises(InputError) as err:
        KnowledgeBase(data_dir).load()
    assert err.value.path == report.stored_at


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_random_bytes_give_a_typed_error(tmp_path, data: bytes) -> None:
    path = tmp_path / "fuzz.json"
    path.write_bytes(data)
    with pytest.raises(KrackwatchError):
        read_document(path)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["document", "product_tree", "vulnerabilities", "tracking", "product_status", "branches"]),
       _json)
@example("product_status", {"foo": 5})
@example("product_status", {"fixed": ["P1"], "recommended": ["P1"], "unknown": None})
def test_mangled_documents_give_a_typed_error_or_import(tmp_path, kb, make_doc, write_json, where, junk) -> None:
    """Replacing any part of a valid document with random JSON never escapes as another exception."""
    doc = make_doc()
    if where in ("document", "product_tree", "vulnerabilities"):
        doc[where] = junk
    elif where == "tracking":
        doc["document"]["tracking"] = junk
    elif where == "product_status":
        doc["vulnerabilities"][0]["product_status"] = junk
    else:
        doc["product_tree"]["branches"][0]["branches"] = junk
    with tempfile.TemporaryDirectory(dir=tmp_path) as scratch:
        path = write_json(Path(scratch) / "m.json", doc)
        try:
            import_document(path, Path(scratch) / "data", kb)
        except KrackwatchError:
            pass


def _dict_nodes(node, out):
    if isinstance(node, dict):
        out.append(node)
        for value in node.values():
            _dict_nodes(value, out)
    elif isinstance(node, list):
        for item in node:
            _dict_nodes(item, out)
    return out


_FIELDS = ["product_ids", "products", "group_ids", "product_status", "fixed", "known_affected", "branches",
           "product", "cve", "ids", "remediations", "threats", "scores", "relationships", "product_groups",
           "full_product_names", "model_numbers", "product_identification_helper", "date", "url"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
@example(data=None)
def test_extra_properties_anywhere(tmp_path, kb, make_doc, write_json, data) -> None:
    """The CSAF 2.0 schema lets unknown properties through; wherever they appear, the import either
    succeeds or raises a typed error."""
    doc = make_doc(products=[("P1", "1.0", "EAP1200H", "fixed"), ("P2", None, "EAP1300", "known_affected")])
    nodes = _dict_nodes(doc, [])
    if data is None:  # an explicit case: an unknown status list holding a number
        doc["vulnerabilities"][0]["product_status"]["unknown"] = 5
    else:
        for _ in range(data.draw(st.integers(1, 3))):
            node = data.draw(st.sampled_from(nodes))
            node[data.draw(st.sampled_from(_FIELDS))] = data.draw(_json)
    with tempfile.TemporaryDirectory(dir=tmp_path) as scratch:
        path = write_json(Path(scratch) / "x.json", doc)
        try:  # conflict detection against the bundled knowledge base reads every statement of the document
            import_document(path, Path(scratch) / "data", kb)
        except KrackwatchError:
            pass
