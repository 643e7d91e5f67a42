"""The knowledge base: CSAF documents in, indexed CVEs, vendor statuses, product fixes and model statuses out.

Loaded lazily on the first lookup and indexed once, so per-device lookups in a large audit are a vendor-name
normalisation (cached) and a dictionary access. Statements about the same product that contradict each other
are resolved by ``document.tracking.current_release_date``: the later document wins, the other record stays
visible with ``superseded_by`` set.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from krackwatch.advisories.csaf import (
    CsafProduct,
    ProductStatements,
    parse_record,
    product_statements,
    record_value,
    record_values,
)
from krackwatch.advisories.model import (
    CVE,
    IMPACT_CIPHERS,
    KRACK_CVES,
    KRACK_VU,
    Conflict,
    CvssScore,
    Direction,
    DocumentInfo,
    Effect,
    Feature,
    Handshake,
    Impact,
    KeyKind,
    ModeImpact,
    ModelStatus,
    ProductFix,
    ProductStatus,
    RemediationCategory,
    Role,
    SearchHit,
    SourceKind,
    StatementRef,
    VendorStatus,
    VendorSummary,
)
from krackwatch.advisories.normalize import model_key, normalize_vendor, parse_version, vendor_display
from krackwatch.advisories.store import DOC_CATALOG, LoadedDocument, load_bundled, load_imported
from krackwatch.errors import InputError

_ALL_CVES = frozenset(KRACK_CVES)
_KIND_ORDER = {kind: i for i, kind in enumerate(SourceKind)}
_PIECE_SEPARATORS = str.maketrans({c: "," for c in ";/()[]"})
_NO_VENDOR = "\0"  # lookup key for names that carry no vendor ("unknown"): matches nothing


def cve_id(text: str) -> str | None:
    """Canonical KRACK CVE id for "CVE-2017-13077", "cve-2017-13077", "2017-13077" or "13077"; else None."""
    t = text.strip().upper()
    if t.isdigit():
        t = f"CVE-2017-{t}"
    elif not t.startswith("CVE-"):
        t = f"CVE-{t}"
    return t if t in _ALL_CVES else None


def _date(text: str) -> _dt.date | None:
    try:
        return _dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _expand(vulns: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for v in vulns:
        if v == KRACK_VU:
            out |= _ALL_CVES
        else:
            out.add(v)
    return frozenset(out)


@functools.lru_cache(maxsize=65536)
def model_tokens(text: str, vendor: str | None = None) -> frozenset[str]:
    """Model keys a product text names: the whole text, each comma/slash separated piece, and each word
    holding both letters and digits ("AP120, AP320" -> AP120AP320, AP120, AP320)."""
    keys = {model_key(text, vendor)}
    for piece in text.translate(_PIECE_SEPARATORS).split(","):
        piece = piece.strip()
        if piece:
            keys.add(model_key(piece, vendor))
            for word in piece.split():
                if any(c.isdigit() for c in word) and any(c.isalpha() for c in word) and "." not in word:
                    keys.add(model_key(word, vendor))
    keys.discard("")
    return frozenset(keys)


@dataclass(slots=True)
class _Record:
    """A product-level record and what conflict resolution needs to know about it."""

    identity: tuple[str, str, str]  # (vendor key, product key, version key)
    cves: frozenset[str]
    status: ProductStatus
    doc_key: tuple[str, str]  # (publisher namespace, tracking id)
    date: _dt.datetime
    order: int
    value: ProductFix | ModelStatus
    models: tuple[str, ...] = ()  # model numbers from product_identification_helper

    @property
    def document(self) -> str:
        return self.doc_key[1]


@dataclass(slots=True)
class _Index:
    documents: tuple[LoadedDocument, ...]
    cves: dict[str, CVE] = field(default_factory=dict)
    statuses: dict[str, list[VendorStatus]] = field(default_factory=dict)
    fixes_by_vendor: dict[str, list[ProductFix]] = field(default_factory=dict)
    fixes: dict[tuple[str, str], list[ProductFix]] = field(default_factory=dict)
    models: dict[tuple[str, str], list[ModelStatus]] = field(default_factory=dict)
    models_by_vendor: dict[str, list[ModelStatus]] = field(default_factory=dict)
    modes: dict[str, list[ModeImpact]] = field(default_factory=dict)
    names: dict[str, dict[str, None]] = field(default_factory=dict)
    search: list[tuple[str, SearchHit]] = field(default_factory=list)
    records: list[_Record] = field(default_factory=list)


class KnowledgeBase:
    """CVEs, vendor statuses, product fixes and model statuses from the bundled and imported CSAF documents.

    ``KnowledgeBase()`` is the bundled knowledge base; pass ``data_dir`` to add the documents imported into
    that directory. Nothing is read until the first lookup.
    """

    def __init__(self, data_dir: Path | None = None, *, documents: Sequence[LoadedDocument] | None = None) -> None:
        self._data_dir = data_dir
        self._documents = tuple(documents) if documents is not None else None
        self._index: _Index | None = None

    @property
    def data_dir(self) -> Path | None:
        return self._data_dir

    # --- loading -----------------------------------------------------------------------------------------

    def _get(self) -> _Index:
        if self._index is None:
            docs = self._documents
            if docs is None:
                docs = load_bundled() + load_imported(self._data_dir)
            self._index = _build(docs)
        return self._index

    def load(self) -> KnowledgeBase:
        """Read and index everything now (lookups do it on demand); returns self."""
        self._get()
        return self

    # --- lookups -----------------------------------------------------------------------------------------

    def cve(self, cve: str) -> CVE | None:
        """A KRACK CVE by id ("CVE-2017-13077", "2017-13077" or "13077"); None for anything else."""
        key = cve_id(cve)
        return self._get().cves.get(key) if key else None

    def cves(self) -> tuple[CVE, ...]:
        return tuple(self._get().cves.values())

    def vendor_statuses(self, vendor: str) -> tuple[VendorStatus, ...]:
        """Every dated statement about a vendor, by source family then newest first."""
        return tuple(self._get().statuses.get(normalize_vendor(vendor) or _NO_VENDOR, ()))

    def product_fixes(self, vendor: str, product: str | None = None) -> tuple[ProductFix, ...]:
        """Fix records of a vendor, or of one of its products (matched by model key: the whole product
        text, or a model named in it). Current records first, newest first."""
        index = self._get()
        vkey = normalize_vendor(vendor) or _NO_VENDOR
        if product is None:
            return tuple(index.fixes_by_vendor.get(vkey, ()))
        found: dict[int, ProductFix] = {}
        for key in model_tokens(product, vendor):
            for fix in index.fixes.get((vkey, key), ()):
                found.setdefault(id(fix), fix)
        return tuple(sorted(found.values(), key=_fix_order))

    def model_status(self, vendor: str, model: str) -> ModelStatus | None:
        """The current status of a hardware model (the statement of the latest document), or None."""
        statuses = self._get().models.get((normalize_vendor(vendor) or _NO_VENDOR, model_key(model, vendor)))
        return statuses[0] if statuses else None

    def model_statuses(self, vendor: str, model: str) -> tuple[ModelStatus, ...]:
        """All statements about a model, current first."""
        return tuple(self._get().models.get((normalize_vendor(vendor) or _NO_VENDOR, model_key(model, vendor)), ()))

    def vendor_models(self, vendor: str) -> tuple[ModelStatus, ...]:
        """Every model statement of a vendor, by model key, current first."""
        return tuple(self._get().models_by_vendor.get(normalize_vendor(vendor) or _NO_VENDOR, ()))

    def mode_impacts(self, vendor: str) -> tuple[ModeImpact, ...]:
        return tuple(self._get().modes.get(normalize_vendor(vendor), ()))

    def vendors(self) -> tuple[VendorSummary, ...]:
        """Every vendor with a statement, with counts per source family, sorted by key."""
        index = self._get()
        out = []
        for key in sorted(index.statuses):
            counts: dict[SourceKind, int] = {}
            for status in index.statuses[key]:
                counts[status.kind] = counts.get(status.kind, 0) + 1
            aliases = tuple(index.names.get(key, ()))
            name = vendor_display(key)
            if name == key and aliases:
                name = aliases[0]
            out.append(VendorSummary(key, name, aliases, tuple(sorted(counts.items(), key=lambda kv: _KIND_ORDER[kv[0]]))))
        return tuple(out)

    def search(self, text: str, limit: int = 50) -> tuple[SearchHit, ...]:
        """Case-insensitive substring search over CVEs, vendors, products, models and documents."""
        needle = " ".join(text.split()).casefold()
        if not needle:
            return ()
        hits = []
        for haystack, hit in self._get().search:
            if needle in haystack:
                hits.append(hit)
                if len(hits) >= limit:
                    break
        return tuple(hits)

    def documents(self) -> tuple[DocumentInfo, ...]:
        return tuple(d.info for d in self._get().documents)

    def document(self, name: str) -> LoadedDocument | None:
        """A loaded document by tracking id (case-insensitive) or file name."""
        wanted = name.strip().casefold().removesuffix(".json")
        for doc in self._get().documents:
            if doc.info.id.casefold() == wanted or Path(doc.info.path).stem.casefold() == wanted:
                return doc
        return None

    def loaded_documents(self) -> tuple[LoadedDocument, ...]:
        return self._get().documents

    def conflicts_with(self, doc: LoadedDocument) -> tuple[Conflict, ...]:
        """How `doc`'s product statements contradict the loaded ones (a document never conflicts with an
        earlier version of itself, which it replaces)."""
        index = self._get()
        incoming = _document_records(doc, order=len(index.documents), bundled=False).records
        existing: dict[tuple[str, str, str], list[_Record]] = {}
        for rec in index.records:
            if rec.doc_key != doc.key:
                existing.setdefault(rec.identity, []).append(rec)
        out = []
        for new in incoming:
            for old in existing.get(new.identity, ()):
                overlap = new.cves & old.cves
                if not overlap or new.status is old.status:
                    continue
                winner = "incoming" if new.date > old.date else "existing"
                out.append(
                    Conflict(
                        vendor=new.value.vendor,
                        product=_product_of(new.value),
                        version=new.value.version if isinstance(new.value, ProductFix) else None,
                        cves=tuple(sorted(overlap)),
                        existing=StatementRef(old.document, old.date, old.status, _product_of(old.value)),
                        incoming=StatementRef(new.document, new.date, new.status, _product_of(new.value)),
                        winner=winner,
                    )
                )
        return tuple(out)


def _product_of(value: ProductFix | ModelStatus) -> str:
    if isinstance(value, ModelStatus):
        return value.model
    return value.product + (f" {value.version}" if value.version else "")


def _fix_order(fix: ProductFix) -> tuple:
    return (fix.superseded_by is not None, -(fix.date.toordinal() if fix.date else 0), fix.record_id)


def records_of(doc: LoadedDocument) -> tuple[tuple[VendorStatus, ...], tuple[ProductFix, ...], tuple[ModelStatus, ...]]:
    """The vendor statuses, product fixes and model statuses one document yields on its own."""
    recs = _document_records(doc, order=0, bundled=doc.info.bundled)
    fixes = tuple(r.value for r in recs.records if isinstance(r.value, ProductFix))
    models = tuple(r.value for r in recs.records if isinstance(r.value, ModelStatus))
    return tuple(recs.statuses), fixes, models


@functools.cache
def bundled_knowledge_base() -> KnowledgeBase:
    """The shared knowledge base of the bundled documents only (loaded on first use)."""
    return KnowledgeBase()


# --- building the index ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _DocRecords:
    statuses: list[VendorStatus] = field(default_factory=list)
    records: list[_Record] = field(default_factory=list)
    modes: list[ModeImpact] = field(default_factory=list)


def _build(documents: Sequence[LoadedDocument]) -> _Index:
    index = _Index(tuple(documents))
    ids: set[tuple[str, str]] = set()
    for order, doc in enumerate(documents):
        if doc.key in ids:
            raise InputError(f"document {doc.info.id!r} is loaded twice", path=doc.info.path)
        ids.add(doc.key)
        if doc.info.bundled and doc.info.id == DOC_CATALOG:
            for cve in _cves_from_catalog(doc.csaf):
                index.cves[cve.id] = cve
        recs = _document_records(doc, order=order, bundled=doc.info.bundled)
        for status in recs.statuses:
            vkey = normalize_vendor(status.vendor)
            index.statuses.setdefault(vkey, []).append(status)
            index.names.setdefault(vkey, {})[status.vendor] = None
        index.records.extend(recs.records)
        for mode in recs.modes:
            index.modes.setdefault(normalize_vendor(mode.vendor), []).append(mode)
    if len(index.cves) != len(KRACK_CVES):
        raise InputError(f"the CVE catalog holds {len(index.cves)} of the {len(KRACK_CVES)} KRACK CVEs")
    _resolve(index.records)
    for rec in index.records:
        value = rec.value
        vkey = rec.identity[0]
        if isinstance(value, ProductFix):
            index.fixes_by_vendor.setdefault(vkey, []).append(value)
            for key in model_tokens(value.product, value.vendor):
                index.fixes.setdefault((vkey, key), []).append(value)
        else:
            index.models_by_vendor.setdefault(vkey, []).append(value)
            keys = {value.model_key} | {model_key(m, value.vendor) for m in rec.models}
            for key in keys - {""}:
                index.models.setdefault((vkey, key), []).append(value)
    for bucket in index.fixes_by_vendor.values():
        bucket.sort(key=_fix_order)
    for bucket in index.fixes.values():
        bucket.sort(key=_fix_order)
    for bucket in index.models.values():
        bucket.sort(key=lambda m: (m.superseded_by is not None, -(m.date.toordinal() if m.date else 0)))
    for bucket in index.models_by_vendor.values():
        bucket.sort(key=lambda m: (m.model_key, m.superseded_by is not None, -(m.date.toordinal() if m.date else 0)))
    for bucket in index.statuses.values():
        bucket.sort(key=lambda s: (_KIND_ORDER[s.kind], -(s.date.toordinal() if s.date else 0), s.record_id))
    index.search = _search_entries(index)
    return index


def _resolve(records: list[_Record]) -> None:
    """Mark records contradicted by a later document's statement about the same product as superseded."""
    groups: dict[tuple[str, str, str], list[_Record]] = {}
    for rec in records:
        groups.setdefault(rec.identity, []).append(rec)
    for group in groups.values():
        if len({r.document for r in group}) < 2:
            continue
        # Later release date last; on equal dates the earlier-loaded statement (bundled, then by import
        # order) counts as the later one, so that the existing statement stays, as import reports it.
        group.sort(key=lambda r: (r.date, -r.order))
        for i, rec in enumerate(group):
            winner = None
            for later in group[i + 1:]:
                if later.doc_key != rec.doc_key and later.status is not rec.status and later.cves & rec.cves:
                    winner = later.document
            if winner is not None:
                rec.value = replace(rec.value, superseded_by=winner)


def _document_records(doc: LoadedDocument, *, order: int, bundled: bool) -> _DocRecords:
    info = doc.info
    out = _DocRecords()
    if bundled and info.kind is SourceKind.CATALOG:
        return out
    doc_date = info.current_release_date
    for ps in product_statements(doc.csaf, read_records=bundled):
        vendor = ps.product.vendor or info.publisher
        if bundled:
            _bundled_records(doc, ps, vendor, doc_date, order, out)
        else:
            _imported_records(doc, ps, vendor, doc_date, order, out)
    if bundled and info.kind is SourceKind.ENGENIUS:
        out.modes.extend(_modes(doc.csaf))
    return out


def _listed(vulns: Sequence[str]) -> tuple[str, ...]:
    """The CVEs a statement names; empty when it is about VU#228519 as a whole."""
    return () if KRACK_VU in vulns else tuple(sorted(vulns))


def _remediation(ps: ProductStatements) -> RemediationCategory | None:
    """The remediation that says whether a fix exists (a mitigation does not)."""
    return next((r.category for r in ps.remediations if r.category is not RemediationCategory.MITIGATION), None)


def _identity(vendor: str, product: str, version: str | None) -> tuple[str, str, str]:
    return normalize_vendor(vendor), model_key(product, vendor), " ".join((version or "").split()).casefold()


def _bundled_records(doc: LoadedDocument, ps: ProductStatements, vendor: str, doc_date: _dt.datetime,
                     order: int, out: _DocRecords) -> None:
    info, key = doc.info, doc.key
    rec = ps.record
    status, vulns = ps.statuses[0]
    urls = record_values(rec, "url")
    date = _date(record_value(rec, "date"))
    record_id = record_value(rec, "record", ps.product.product_id)
    published = record_value(rec, "status", status.value)
    kind = info.kind
    other_dates: tuple[tuple[str, str], ...] = ()
    subject = ""
    if kind is SourceKind.CERT:
        other_dates = tuple((k, v) for k, v in rec if k in ("notified", "responded"))
    elif kind is SourceKind.COMMUNITY:
        other_dates = tuple((k, v) for k, v in rec if k in ("last checked", "cert notified (as recorded)"))
    else:
        subject = ps.product.product or ps.product.name
    out.statuses.append(
        VendorStatus(vendor, published, status, date, urls, record_id, kind, info.id, subject,
                     record_value(rec, "note"), other_dates)
    )
    remediation = _remediation(ps)
    if kind is SourceKind.VENDOR_FIX:
        listed = tuple(sorted(record_value(rec, "cves").split()))
        fix = ProductFix(
            vendor=vendor,
            product=ps.product.product or ps.product.name,
            fixed_version=record_value(rec, "fixed version") or None,
            cves=listed,
            status=published,
            csaf_status=status,
            advisory_id=record_value(rec, "advisory") or None,
            url=urls[0] if urls else None,
            date=date,
            confidence=record_value(rec, "confidence"),
            document=info.id,
            record_id=record_id,
            version=ps.product.version,
            remediation=remediation,
            note=record_value(rec, "note"),
        )
        out.records.append(_Record(_identity(vendor, fix.product, fix.version), _expand(listed or (KRACK_VU,)),
                                   status, key, doc_date, order, fix))
    elif kind is SourceKind.ENGENIUS:
        model = ps.product.product or ps.product.name
        note = ""
        if record_value(rec, "earlier status"):
            note = (f"row {record_value(rec, 'earlier row')} of the same table said "
                    f"{record_value(rec, 'earlier status')}; the later row {record_value(rec, 'row')} is used")
        status_value = ModelStatus(
            vendor=vendor,
            model=model,
            model_key=model_key(model, vendor),
            status=published,
            csaf_status=status,
            remediation=remediation,
            date=date,
            source=urls[0] if urls else "",
            document=info.id,
            record_id=record_id,
            cves=_listed(vulns),
            note=note,
        )
        out.records.append(_Record(_identity(vendor, model, None), _expand(vulns), status, key, doc_date,
                                   order, status_value, ps.product.model_numbers))


def _imported_records(doc: LoadedDocument, ps: ProductStatements, vendor: str, doc_date: _dt.datetime,
                      order: int, out: _DocRecords) -> None:
    info = doc.info
    product: CsafProduct = ps.product
    name = product.product or product.name
    urls = tuple(dict.fromkeys(r.url for r in ps.remediations if r.url)) or _self_urls(doc.csaf)
    date = ps.date or doc_date.date()
    remediation = _remediation(ps)
    confidence = "vendor" if info.publisher_category == "vendor" else "third_party"
    for status, vulns in ps.statuses:
        expanded = _expand(vulns)
        cves = _listed(vulns)
        out.statuses.append(
            VendorStatus(vendor, status.value, status, date, urls, product.product_id, SourceKind.IMPORTED, info.id,
                         product.name)
        )
        if product.version is not None:
            fix = ProductFix(
                vendor=vendor,
                product=name,
                fixed_version=product.version if status is ProductStatus.FIXED else None,
                cves=cves,
                status=status.value,
                csaf_status=status,
                advisory_id=info.id,
                url=urls[0] if urls else None,
                date=date,
                confidence=confidence,
                document=info.id,
                record_id=product.product_id,
                version=product.version,
                remediation=remediation,
            )
            out.records.append(_Record(_identity(vendor, name, product.version), expanded, status, doc.key,
                                       doc_date, order, fix))
        else:
            value = ModelStatus(
                vendor=vendor,
                model=name,
                model_key=model_key(name, vendor),
                status=status.value,
                csaf_status=status,
                remediation=remediation,
                date=date,
                source=urls[0] if urls else "",
                document=info.id,
                record_id=product.product_id,
                cves=cves,
            )
            out.records.append(_Record(_identity(vendor, name, None), expanded, status, doc.key, doc_date, order,
                                       value, product.model_numbers))


def _self_urls(csaf: dict[str, Any]) -> tuple[str, ...]:
    refs = csaf["document"].get("references", ())
    return tuple(r["url"] for r in refs if r.get("category") == "self")


def _modes(csaf: dict[str, Any]) -> list[ModeImpact]:
    out = []
    for vuln in csaf.get("vulnerabilities", ()):
        for threat in vuln.get("threats", ()):
            _, pairs = parse_record(threat["details"])
            mode = record_value(pairs, "mode")
            if mode and "product_ids" not in threat:
                out.append(ModeImpact("EnGenius", record_value(pairs, "as in advisory", mode),
                                      record_value(pairs, "statement"), record_value(pairs, "role (inferred)"),
                                      record_value(pairs, "cves (inferred)"), record_value(pairs, "action")))
    return out


def _cves_from_catalog(csaf: dict[str, Any]) -> list[CVE]:
    out = []
    for vuln in csaf["vulnerabilities"]:
        notes = {n.get("title"): n["text"] for n in vuln.get("notes", ())}
        _, facts = parse_record(notes["krackwatch facts"])
        impacts = []
        for threat in vuln.get("threats", ()):
            if "product_ids" in threat:
                continue
            _, pairs = parse_record(threat["details"])
            cipher = IMPACT_CIPHERS[record_value(pairs, "cipher")]
            for key, value in pairs:
                if key != "cipher":
                    impacts.append(Impact(cipher, Direction(key), Effect.parse(value)))
        v3 = v2 = None
        for score in vuln.get("scores", ()):
            if "cvss_v3" in score and v3 is None:
                s = score["cvss_v3"]
                v3 = CvssScore(s["version"], s["vectorString"], float(s["baseScore"]), s["baseSeverity"])
            if "cvss_v2" in score and v2 is None:
                s = score["cvss_v2"]
                v2 = CvssScore(s["version"], s["vectorString"], float(s["baseScore"]), "")
        if v3 is None:
            raise InputError(f"{vuln['cve']} has no CVSS v3 score in the catalog")
        out.append(
            CVE(
                id=vuln["cve"],
                title=vuln["title"],
                description=notes["What goes wrong"],
                handshake=Handshake(record_value(facts, "handshake")),
                key=KeyKind(record_value(facts, "key")),
                role=Role(record_value(facts, "role")),
                feature=Feature(record_value(facts, "feature")),
                impacts=tuple(impacts),
                cvss_v3=v3,
                cvss_v2=v2,
                cwes=record_values(facts, "cwe"),
                hostap_fixed_version=record_value(facts, "hostap fixed version") or None,
                hostap_note=record_value(facts, "hostap note"),
                published=_date(record_value(facts, "nvd published")),
                references=tuple(r["url"] for r in vuln.get("references", ())),
            )
        )
    return out


def _search_entries(index: _Index) -> list[tuple[str, SearchHit]]:
    out: list[tuple[str, SearchHit]] = []

    def add(kind: str, key: str, text: str, *extra: str) -> None:
        out.append((" ".join((key, text, *extra)).casefold(), SearchHit(kind, key, text)))

    for cve in index.cves.values():
        add("cve", cve.id, cve.title, cve.key.value, cve.handshake.value, cve.feature.value)
    for doc in index.documents:
        add("document", doc.info.id, doc.info.title)
    for summary_key, names in index.names.items():
        add("vendor", summary_key, ", ".join(names), vendor_display(summary_key))
    seen: set[int] = set()
    for bucket in index.fixes_by_vendor.values():
        for fix in bucket:
            if id(fix) not in seen:
                seen.add(id(fix))
                add("product", f"{fix.document}:{fix.record_id}",
                    f"{fix.vendor} {fix.product}: {fix.status}" + (f" ({fix.fixed_version})" if fix.fixed_version else ""),
                    fix.advisory_id or "")
    for bucket in index.models.values():
        for status in bucket:
            if id(status) not in seen:
                seen.add(id(status))
                add("model", f"{status.document}:{status.record_id}", f"{status.vendor} {status.model}: {status.status}")
    return out


_ANNOTATION = re.compile(r"\([^)]*\)")


def fixed_in(fix: ProductFix, installed: str) -> bool | None:
    """Whether `installed` is at or after the fixed version `fix` names: True, False, or None (cannot tell).

    A fixed version may list one threshold per release branch ("6.3.1.25; 6.4.4.16; 8.1.0.4"): the installed
    version is held against the highest threshold of its own branch; on a branch with no threshold it counts
    as fixed above every threshold, unfixed below every threshold, and unknown in between.
    """
    if fix.csaf_status is not ProductStatus.FIXED or not fix.version:
        return None
    have = parse_version(installed)
    if not have.known:
        return None
    parts = fix.version.replace(" or ", ";").replace(" / ", ";").split(";")
    # "6.40.4 (current)": the parenthesis annotates the threshold, it is not part of the version.
    thresholds = [parse_version(_ANNOTATION.sub("", part)) for part in parts]
    thresholds = [t for t in thresholds if t.known and (not t.product or not have.product or t.product == have.product)]
    if not thresholds:
        return None
    # A threshold's branch is its version without the last component: 6.4.4.16 -> 6.4.4, 2.7 -> 2.
    same_branch = [t for t in thresholds if have.release[: len(t.release) - 1] == t.release[:-1]]
    if same_branch:
        # The most specific branch decides: with "6.40.4; 6.41rc", 6.40.x is judged by 6.40.4, not by the
        # major-only branch of 6.41rc.
        depth = max(len(t.release) for t in same_branch)
        return have >= max(t for t in same_branch if len(t.release) == depth)
    if have > max(thresholds):
        return True
    if have < min(thresholds):
        return False
    return None
