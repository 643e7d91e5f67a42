"""The bundled CSAF documents: schema-valid (offline), consistent, reproducible from the sourced CSVs."""

from __future__ import annotations

import ast
import copy
import hashlib
import importlib.util
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from krackwatch.advisories import export_merged
from krackwatch.advisories.csaf import check_document, schema_errors
from krackwatch.advisories.store import BUNDLED, bundled_dir, load_bundled
from krackwatch.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "krackwatch" / "data" / "advisories"
SCHEMAS = DATA / "schemas"


def _independent_validator() -> Draft202012Validator:
    """Built here from the schema files, not through krackwatch's own helper."""
    load = lambda name: json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    registry = Registry().with_resources(
        (f"https://www.first.org/cvss/{n}", Resource.from_contents(load(n)))
        for n in ("cvss-v2.0.json", "cvss-v3.0.json", "cvss-v3.1.json")
    )
    return Draft202012Validator(load("csaf_json_schema.json"), registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def _docs():
    return [json.loads((DATA / f"{name}.json").read_text(encoding="utf-8")) for name in BUNDLED]


@pytest.mark.parametrize("name", list(BUNDLED))
def test_bundled_document_is_schema_valid(name: str) -> None:
    doc = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    errors = [f"{e.json_path}: {e.message[:200]}" for e in _independent_validator().iter_errors(doc)]
    assert errors == []
    assert schema_errors(doc) == []
    assert doc["document"]["tracking"]["id"] == name
    check_document(doc, name)  # mandatory tests 6.1.1, 6.1.2, 6.1.6


def _product_ids(node) -> list[str]:
    out = []
    if isinstance(node, dict):
        if "product_id" in node:
            out.append(node["product_id"])
        for value in node.values():
            out.extend(_product_ids(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(_product_ids(item))
    return out


@pytest.mark.parametrize("doc", _docs(), ids=list(BUNDLED))
def test_bundled_document_conventions(doc) -> None:
    """CSAF rules the schema cannot check, plus what the knowledge base relies on."""
    tracking = doc["document"]["tracking"]
    assert tracking["revision_history"][-1]["number"] == tracking["version"]  # CSAF 6.1.16
    assert tracking["initial_release_date"] <= tracking["current_release_date"]
    defined = _product_ids(doc["product_tree"])
    assert len(defined) == len(set(defined))
    for vuln in doc["vulnerabilities"]:
        assert vuln["notes"] and vuln["product_status"]  # csaf_security_advisory profile (6.1.27.5/6)
        for score in vuln.get("scores", ()):
            v3 = score["cvss_v3"]
            assert v3["vectorString"].startswith(f"CVSS:{v3['version']}/")  # CSAF 6.1.8-like consistency
        for branch in _branches(doc["product_tree"]["branches"]):
            if branch["category"] == "product_version":  # CSAF 6.1.31: no ranges in product_version
                assert not any(w in branch["name"] for w in ("<", ">", " after", " before", " prior"))


def _branches(branches):
    for branch in branches:
        yield branch
        yield from _branches(branch.get("branches", ()))


def test_every_source_url_is_a_reference(source_rows) -> None:
    """'Keep every source URL': each URL of each CSV row is among its document's references."""
    docs = dict(zip(BUNDLED, _docs()))

    def refs(name: str) -> set[str]:
        return {r["url"] for r in docs[name]["document"]["references"]}

    def urls(*fields: str) -> set[str]:
        return {u for f in fields for u in f.replace(" ; ", " ").split() if u.startswith("http")}

    for row in source_rows("cert_vendors.csv"):
        assert urls(row["url"], row["other_urls"], row["source"], row["cert_vendor_record_url"]) <= refs("cert-vu228519")
    for row in source_rows("krackinfo_vendor_responses.csv"):
        assert urls(row["response_url"], row["other_urls"]) <= refs("krackinfo-responses")
    for row in source_rows("vendor_fixes.csv"):
        assert urls(row["url"], row["source"]) <= refs("vendor-fixes")
    for row in source_rows("engenius_models.csv"):
        assert urls(row["source_url"]) <= refs("engenius-2017-10-17")


def test_validator_rejects_broken_documents() -> None:
    """The validator really runs the schema, the CVSS sub-schemas and the date-time format."""
    good = json.loads((DATA / "krackwatch-cve-catalog.json").read_text(encoding="utf-8"))
    bad = copy.deepcopy(good)
    bad["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"] = 11
    assert any("scores[0].cvss_v3" in e for e in schema_errors(bad))
    bad = copy.deepcopy(good)
    bad["vulnerabilities"][0]["scores"][0]["cvss_v2"]["baseScore"] = 17
    assert any("maximum" in e for e in schema_errors(bad))
    bad = copy.deepcopy(good)
    bad["document"]["tracking"]["current_release_date"] = "2018-12-02"
    assert any("date-time" in e for e in schema_errors(bad))
    bad = copy.deepcopy(good)
    del bad["document"]["publisher"]
    with pytest.raises(InputError, match=r"\$\.document"):
        check_document(bad, "x.json")
    bad = copy.deepcopy(good)
    bad["vulnerabilities"][0]["product_status"]["known_affected"].append("NO-SUCH-PRODUCT")
    with pytest.raises(InputError, match="6.1.1"):
        check_document(bad, "x.json")
    bad = copy.deepcopy(good)
    bad["vulnerabilities"][0]["product_status"]["fixed"].append(bad["vulnerabilities"][0]["product_status"]["known_affected"][0])
    with pytest.raises(InputError, match="6.1.6"):
        check_document(bad, "x.json")


def test_merged_export_is_schema_valid(kb) -> None:
    merged = export_merged(kb)
    assert [e.message for e in _independent_validator().iter_errors(merged)] == []
    check_document(merged, "merged")
    assert len(_product_ids(merged["product_tree"])) == sum(d.products for d in kb.documents())
    cves = [v["cve"] for v in merged["vulnerabilities"] if "cve" in v]
    assert len(cves) == len(set(cves)) == 10


def _build_module():
    spec = importlib.util.spec_from_file_location("build_kb", ROOT / "tools" / "build_kb.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_build_is_deterministic_and_committed_data_is_current() -> None:
    build = _build_module()
    first = build.build_all()
    assert first == build.build_all()
    for name, data in first.items():
        assert (DATA / name).read_bytes() == data, f"{name} is out of date: run python tools/build_kb.py"
    assert sorted(first) == sorted(f"{n}.json" for n in BUNDLED)


def _provenance_hashes(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.split("|")]
        for cell in cells:
            if len(cell) == 64 and all(c in "0123456789abcdef" for c in cell):
                out[cells[1]] = cell
    return out


def test_build_inputs_match_their_provenance() -> None:
    hashes = _provenance_hashes(ROOT / "tools" / "kb_sources" / "PROVENANCE.md")
    files = sorted(p.name for p in (ROOT / "tools" / "kb_sources").iterdir() if p.name != "PROVENANCE.md")
    assert sorted(hashes) == files
    for name, digest in hashes.items():
        assert hashlib.sha256((ROOT / "tools" / "kb_sources" / name).read_bytes()).hexdigest() == digest


def test_runtime_schemas_match_their_provenance() -> None:
    hashes = _provenance_hashes(DATA / "PROVENANCE.md")
    assert sorted(hashes) == sorted(p.name for p in SCHEMAS.iterdir())
    for name, digest in hashes.items():
        assert hashlib.sha256((SCHEMAS / name).read_bytes()).hexdigest() == digest


def test_bundled_documents_load_from_package_data() -> None:
    docs = load_bundled()
    assert [d.info.id for d in docs] == list(BUNDLED)
    assert all(d.info.bundled for d in docs)
    assert (bundled_dir() / "schemas" / "csaf_json_schema.json").is_file()


def test_advisories_imports_only_lower_layers() -> None:
    """advisories sits above crypto/wire/protocol/decrypt/lab/detect and below fleet/report/cli."""
    forbidden = ("krackwatch.fleet", "krackwatch.report", "krackwatch.cli", "krackwatch.web")
    for path in (ROOT / "src" / "krackwatch" / "advisories").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("print", "exit"):
                raise AssertionError(f"{path.name} prints or exits")
