"""Exporting the knowledge base as CSAF 2.0: one loaded document as it is, or all of them merged into one."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from krackwatch.advisories.csaf import known_statuses
from krackwatch.advisories.kb import KnowledgeBase
from krackwatch.advisories.store import KB_PUBLISHER, LoadedDocument
from krackwatch.errors import KrackwatchError

MERGED_ID = "krackwatch-kb"
_TLP_ORDER = ("WHITE", "GREEN", "AMBER", "RED")


class UnknownDocument(KrackwatchError):
    """No loaded document has the requested name."""


def dumps(csaf: dict[str, Any]) -> str:
    """Deterministic JSON text of a CSAF document (ASCII, so that no control character reaches a terminal)."""
    return json.dumps(csaf, indent=2) + "\n"


def export_document(kb: KnowledgeBase, name: str) -> dict[str, Any]:
    """A copy of one loaded document (by tracking id or file name)."""
    doc = kb.document(name)
    if doc is None:
        known = ", ".join(d.id for d in kb.documents())
        raise UnknownDocument(f"no document named {name!r} (known: {known})")
    return copy.deepcopy(doc.csaf)


def export_merged(kb: KnowledgeBase) -> dict[str, Any]:
    """Every loaded document merged into one CSAF 2.0 document.

    Product ids and group ids are prefixed with their document's tracking id, so statements of different
    documents about the same product stay side by side (each with its own dates in the notes); vulnerabilities
    with the same CVE (or the same ids) are merged into one item.
    """
    return merge(kb.loaded_documents())


def merge(documents: Sequence[LoadedDocument]) -> dict[str, Any]:
    if not documents:
        raise KrackwatchError("nothing to merge")
    initial = min(d.info.initial_release_date for d in documents)
    current = max(d.info.current_release_date for d in documents)
    sources = "; ".join(f"{d.info.id} (version {d.info.version}, {_iso(d.info.current_release_date)})" for d in documents)
    notes = [{"category": "summary", "title": "Summary",
              "text": f"The krackwatch knowledge base: {len(documents)} CSAF documents merged. Product ids are "
              "prefixed with the id of the document that makes the statement; each source's notes follow, "
              "marked with its id."}]
    references: list[dict[str, Any]] = []
    tree: dict[str, list] = {}
    vulns: dict[str, dict[str, Any]] = {}
    tlp = None
    repeated = {i for i, n in Counter(d.info.id for d in documents).items() if n > 1}
    for n, doc in enumerate(documents, 1):
        csaf, doc_id = doc.csaf, doc.info.id
        if doc_id in repeated:  # same tracking id from two publishers: keep product ids apart
            doc_id = f"{doc_id}#{n}"
        document = csaf["document"]
        label = document.get("distribution", {}).get("tlp", {}).get("label")
        if label is not None and (tlp is None or _TLP_ORDER.index(label) > _TLP_ORDER.index(tlp)):
            tlp = label
        notes.append({"category": "general", "title": f"[{doc_id}] source document",
                      "text": f"{document['title']}. Publisher: {document['publisher']['name']}. Initial release "
                      f"{_iso(doc.info.initial_release_date)}, current release {_iso(doc.info.current_release_date)}, "
                      f"version {doc.info.version}."})
        notes.extend(_tagged_notes(document.get("notes", ()), doc_id))
        references.extend(_external(document.get("references", ())))
        pid = _prefixer(doc_id)
        _merge_tree(tree, csaf.get("product_tree", {}), pid)
        for vuln in csaf.get("vulnerabilities", ()):
            _merge_vulnerability(vulns, vuln, doc_id, pid)
    document: dict[str, Any] = {
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",
        "lang": "en",
        "notes": notes,
        "publisher": dict(KB_PUBLISHER),
        "references": _dedupe(references),
        "title": "krackwatch KRACK knowledge base (merged CSAF documents)",
        "tracking": {
            "current_release_date": _iso(current),
            "generator": {"engine": {"name": "krackwatch advisories export"}},
            "id": MERGED_ID,
            "initial_release_date": _iso(initial),
            "revision_history": [{"date": _iso(current), "number": "1", "summary": f"Merged from: {sources}."}],
            "status": "final",
            "version": "1",
        },
    }
    if tlp is not None:
        document["distribution"] = {"tlp": {"label": tlp, "url": "https://www.first.org/tlp/"}}
    out: dict[str, Any] = {"document": document}
    if tree:
        out["product_tree"] = tree
    if vulns:
        out["vulnerabilities"] = list(vulns.values())
    return out


def _iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _prefixer(doc_id: str) -> Callable[[str], str]:
    return lambda pid: f"{doc_id}:{pid}"


def _tagged_notes(notes, doc_id: str) -> list[dict[str, Any]]:
    out = []
    for note in notes:
        note = dict(note)
        note["title"] = f"[{doc_id}] {note.get('title', note['category'])}"
        out.append(note)
    return out


def _external(refs) -> list[dict[str, Any]]:
    out = []
    for item in refs:
        item = dict(item)
        item["category"] = "external"  # a source's "self" link is not the merged document's
        out.append(item)
    return out


def _dedupe(refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for item in refs:
        key = (item["url"], item["summary"])
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _rename_products(value: Any, pid: Callable[[str], str]) -> Any:
    """Deep copy of a product-tree node with every product_id prefixed."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("product_id", "product_reference", "relates_to_product_reference", "group_id"):
                out[key] = pid(item)
            elif key in ("product_ids", "group_ids") and isinstance(item, list):
                out[key] = [pid(i) for i in item]
            else:
                out[key] = _rename_products(item, pid)
        return out
    if isinstance(value, list):
        return [_rename_products(item, pid) for item in value]
    return value


def _merge_tree(tree: dict[str, list], source: dict[str, Any], pid: Callable[[str], str]) -> None:
    for key in ("branches", "full_product_names", "relationships", "product_groups"):
        if key in source:
            tree.setdefault(key, []).extend(_rename_products(source[key], pid))


def _vuln_key(vuln: dict[str, Any]) -> str:
    if "cve" in vuln:
        return vuln["cve"].upper()
    return "|".join(sorted(f"{i['system_name']}={i['text']}" for i in vuln.get("ids", ()))) or json.dumps(vuln)


def _merge_vulnerability(vulns: dict[str, dict[str, Any]], vuln: dict[str, Any], doc_id: str,
                         pid: Callable[[str], str]) -> None:
    key = _vuln_key(vuln)
    target = vulns.get(key)
    renamed = {k: _rename_products(v, pid) for k, v in vuln.items() if k not in ("notes", "references")}
    for item in renamed.get("scores", ()):
        item["products"] = [pid(p) for p in item["products"]]
    if "product_status" in vuln:
        renamed["product_status"] = {k: [pid(p) for p in ids] for k, ids in known_statuses(vuln)}
    if "notes" in vuln:
        renamed["notes"] = _tagged_notes(vuln["notes"], doc_id)
    if "references" in vuln:
        renamed["references"] = _external(vuln["references"])
    if target is None:
        vulns[key] = renamed
        return
    for field, value in renamed.items():
        if field == "product_status":
            status = target.setdefault("product_status", {})
            for group, ids in value.items():
                status.setdefault(group, []).extend(ids)
        elif field == "ids":
            have = target.setdefault("ids", [])
            have.extend(i for i in value if i not in have)
        elif field == "references":
            target["references"] = _dedupe(target.get("references", []) + value)
        elif isinstance(value, list):
            target.setdefault(field, []).extend(value)
        else:
            target.setdefault(field, value)  # title, cve, cwe, dates: the first document's
