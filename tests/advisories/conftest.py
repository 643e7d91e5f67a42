"""Fixtures for the advisory knowledge-base tests: the source CSVs and hand-made vendor CSAF files."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from krackwatch.advisories import KnowledgeBase, bundled_knowledge_base

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "tools" / "kb_sources"


def read_csv(name: str) -> list[dict[str, str]]:
    with open(SOURCES / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return bundled_knowledge_base().load()


def vendor_doc(
    doc_id: str = "EXAMPLE-SA-2018-001",
    *,
    date: str = "2018-01-15T00:00:00Z",
    vendor: str = "EnGenius",
    products: list[tuple[str, str | None, str, str]] | None = None,
    cve: str = "CVE-2017-13077",
    namespace: str = "https://vendor.example",
    version: str = "1",
) -> dict[str, Any]:
    """A minimal vendor CSAF 2.0 security advisory. ``products``: (product id, version or None, model,
    CSAF status) rows under one vendor branch."""
    if products is None:
        products = [("P1", "1.2.3", "EAP1200H", "fixed")]
    models: dict[str, list[dict[str, Any]]] = {}
    status: dict[str, list[str]] = {}
    for pid, ver, model, st in products:
        leaf = {"name": f"{vendor} {model}" + (f" {ver}" if ver else ""), "product_id": pid}
        if ver is None:
            models.setdefault(model, []).append({"category": "product_name", "name": model, "product": leaf})
        else:
            models.setdefault(model, []).append({"category": "product_version", "name": ver, "product": leaf})
        status.setdefault(st, []).append(pid)
    branches = []
    for model, leaves in models.items():
        if leaves[0]["category"] == "product_name":
            branches.append(leaves[0])
        else:
            branches.append({"category": "product_name", "name": model, "branches": leaves})
    affected = status.get("known_affected", []) + status.get("fixed", [])
    return {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "publisher": {"category": "vendor", "name": vendor, "namespace": namespace},
            "title": f"{vendor} KRACK update",
            "tracking": {
                "current_release_date": date,
                "id": doc_id,
                "initial_release_date": date,
                "revision_history": [{"date": date, "number": version, "summary": "Initial."}],
                "status": "final",
                "version": version,
            },
            "references": [{"category": "self", "summary": "this advisory", "url": f"{namespace}/{doc_id}"}],
        },
        "product_tree": {"branches": [{"category": "vendor", "name": vendor, "branches": branches}]},
        "vulnerabilities": [
            {
                "cve": cve,
                "notes": [{"category": "description", "text": "Key reinstallation."}],
                "product_status": status,
                **(
                    {"remediations": [{"category": "vendor_fix", "details": "Update.", "product_ids": affected,
                                        "url": f"{namespace}/download"}]}
                    if affected else {}
                ),
            }
        ],
    }


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def source_rows():
    """``source_rows("cert_vendors.csv")``: the rows of a build input, the independent truth for counts."""
    return read_csv


@pytest.fixture
def make_doc():
    return vendor_doc


@pytest.fixture
def write_json():
    return write
