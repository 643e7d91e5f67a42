"""Importing a vendor's CSAF document: validate it, report conflicts, keep it in the user's data directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from krackwatch.advisories.csaf import check_document, load_json, product_statements
from krackwatch.advisories.kb import KnowledgeBase, records_of
from krackwatch.advisories.model import ImportReport
from krackwatch.advisories.store import LoadedDocument, describe, file_stem, imports_dir, load_bundled
from krackwatch.errors import InputError

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


def read_document(path: Path) -> LoadedDocument:
    """Read and check a CSAF file: JSON (line/column on error), CSAF 2.0 schema and mandatory tests."""
    return _read(path)[1]


def _read(path: Path) -> tuple[bytes, LoadedDocument]:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise InputError(f"too large for a CSAF document ({size} bytes, limit {MAX_DOCUMENT_BYTES})", path=name)
        data = path.read_bytes()
    except IsADirectoryError:
        raise InputError("is a directory, not a CSAF file", path=name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from None
    if not data.strip():
        raise InputError("empty file", path=name)
    csaf = load_json(data, name)
    check_document(csaf, name)
    return data, LoadedDocument(describe(csaf, bundled=False, path=name), csaf)


def _sequence(name: str) -> int:
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else 0


def import_document(path: Path, data_dir: Path, kb: KnowledgeBase | None = None) -> ImportReport:
    """Import a CSAF 2.0 file so that its products become matchable; returns what changed and what conflicts.

    A conflict is a product (vendor, product, version) that this document and a loaded one give different
    statuses for the same CVE; the statement of the document with the later
    ``document.tracking.current_release_date`` wins (on equal dates the existing one stays). Importing a
    newer release of an already imported document (same publisher namespace and tracking id) replaces it.
    """
    data, doc = _read(path)
    if not product_statements(doc.csaf, read_records=False):
        raise InputError(
            "gives no product status for a KRACK vulnerability (CVE-2017-13077 to -13088 or VU#228519)", path=str(path)
        )
    if any(b.key == doc.key for b in load_bundled()):
        raise InputError(f"is the bundled document {doc.info.id!r}; nothing to import", path=str(path))
    kb = kb if kb is not None else KnowledgeBase(data_dir)
    previous = next((d for d in kb.loaded_documents() if not d.info.bundled and d.key == doc.key), None)
    if previous is not None and previous.info.current_release_date > doc.info.current_release_date:
        raise InputError(
            f"an import of document {doc.info.id!r} released {previous.info.current_release_date.isoformat()} "
            f"is newer than this one ({doc.info.current_release_date.isoformat()}): {previous.info.path}",
            path=str(path),
        )
    conflicts = kb.conflicts_with(doc)
    folder = imports_dir(data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        seq = 1 + max((_sequence(p.name) for p in folder.glob("*.json")), default=0)
        target = folder / f"{seq:04d}-{file_stem(doc.info.id)}.json"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".import-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if previous is not None:
            Path(previous.info.path).unlink(missing_ok=True)
    except OSError as exc:
        raise InputError(f"cannot store the imported document: {exc.strerror or exc}", path=str(folder)) from None
    statuses, fixes, models = records_of(doc)
    return ImportReport(
        document=doc.info,
        stored_at=str(target),
        statements=len(statuses),
        product_fixes=len(fixes),
        model_statuses=len(models),
        replaced=previous.info.path if previous is not None else None,
        conflicts=conflicts,
    )
