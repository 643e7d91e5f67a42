"""Where the CSAF documents live: bundled package data and the user's imported documents."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from krackwatch.advisories.csaf import check_document, load_json, parse_datetime
from krackwatch.advisories.model import DocumentInfo, SourceKind
from krackwatch.errors import InputError

#: Publisher of the bundled documents. A URN, not a URL, until the project has a home page.
KB_NAMESPACE = "urn:krackwatch:kb"
KB_PUBLISHER = {"category": "other", "name": "krackwatch knowledge base", "namespace": KB_NAMESPACE}

DOC_CATALOG = "krackwatch-cve-catalog"
DOC_CERT = "cert-vu228519"
DOC_COMMUNITY = "krackinfo-responses"
DOC_VENDOR_FIXES = "vendor-fixes"
DOC_ENGENIUS = "engenius-2017-10-17"

BUNDLED: dict[str, SourceKind] = {
    DOC_CATALOG: SourceKind.CATALOG,
    DOC_CERT: SourceKind.CERT,
    DOC_COMMUNITY: SourceKind.COMMUNITY,
    DOC_VENDOR_FIXES: SourceKind.VENDOR_FIX,
    DOC_ENGENIUS: SourceKind.ENGENIUS,
}

IMPORTS_SUBDIR = "advisories"
_FILE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """A CSAF document and what krackwatch knows about it. ``csaf`` is shared: treat it as read-only."""

    info: DocumentInfo
    csaf: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        """(publisher namespace, tracking id): what identifies a CSAF document across versions."""
        return self.info.publisher_namespace, self.info.id


def user_data_dir(environ: Mapping[str, str], home: Path | None = None) -> Path:
    """krackwatch's data directory: $KRACKWATCH_DATA_DIR, else $XDG_DATA_HOME/krackwatch, else
    ~/.local/share/krackwatch (XDG Base Directory rules: a relative XDG_DATA_HOME is ignored)."""
    explicit = environ.get("KRACKWATCH_DATA_DIR", "")
    if explicit:
        return Path(explicit)
    xdg = environ.get("XDG_DATA_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "krackwatch"
    return (home if home is not None else Path.home()) / ".local" / "share" / "krackwatch"


def file_stem(doc_id: str) -> str:
    """A file name for a document id: no path separators, no leading dots, at most 80 characters."""
    stem = "".join(c if c in _FILE_NAME_CHARS else "_" for c in doc_id)[:80].strip("._")
    return stem or "document"


def imports_dir(data_dir: Path) -> Path:
    return data_dir / IMPORTS_SUBDIR


def bundled_dir() -> resources.abc.Traversable:
    return resources.files("krackwatch") / "data" / "advisories"


def describe(csaf: Mapping[str, Any], *, bundled: bool, path: str) -> DocumentInfo:
    """DocumentInfo of a schema-valid CSAF document."""
    document = csaf["document"]
    tracking = document["tracking"]
    tree = csaf.get("product_tree", {})
    products = _count_products(tree.get("branches", ())) + len(tree.get("full_product_names", ()))
    products += len(tree.get("relationships", ()))
    kind = BUNDLED.get(tracking["id"], SourceKind.IMPORTED) if bundled else SourceKind.IMPORTED
    return DocumentInfo(
        id=tracking["id"],
        title=document["title"],
        kind=kind,
        publisher=document["publisher"]["name"],
        publisher_namespace=document["publisher"]["namespace"],
        publisher_category=document["publisher"]["category"],
        version=tracking["version"],
        initial_release_date=parse_datetime(tracking["initial_release_date"]),
        current_release_date=parse_datetime(tracking["current_release_date"]),
        products=products,
        vulnerabilities=len(csaf.get("vulnerabilities", ())),
        bundled=bundled,
        path=path,
    )


def _count_products(branches) -> int:
    return sum(("product" in b) + _count_products(b.get("branches", ())) for b in branches)


@functools.cache
def load_bundled() -> tuple[LoadedDocument, ...]:
    """The bundled documents, in BUNDLED order (validated by the test suite, not at every start)."""
    base = bundled_dir()
    out = []
    for name in BUNDLED:
        entry = base / f"{name}.json"
        csaf = load_json(entry.read_bytes(), str(entry))
        out.append(LoadedDocument(describe(csaf, bundled=True, path=f"{name}.json"), csaf))
    return tuple(out)


def load_imported(data_dir: Path | None, *, validate: bool = True) -> tuple[LoadedDocument, ...]:
    """Documents imported earlier, in import order (their file names start with a sequence number)."""
    if data_dir is None:
        return ()
    folder = imports_dir(data_dir)
    if not folder.is_dir():
        return ()
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read an imported advisory: {exc.strerror}", path=str(path)) from None
        csaf = load_json(data, str(path))
        if validate:
            check_document(csaf, str(path))
        out.append(LoadedDocument(describe(csaf, bundled=False, path=str(path)), csaf))
    return tuple(out)
