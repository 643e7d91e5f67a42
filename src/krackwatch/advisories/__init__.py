"""The KRACK advisory knowledge base: the ten CVEs, dated vendor statuses, product fixes and model statuses.

Stored as CSAF 2.0 documents in package data (built by ``tools/build_kb.py`` from the sourced CSVs) plus any
CSAF documents the user imported. ``KnowledgeBase`` loads lazily and indexes once::

    kb = KnowledgeBase()                    # bundled documents only
    kb.cve("13082").role                    # Role.ACCESS_POINT
    kb.vendor_statuses("Cisco Systems")     # CERT/CC, community, vendor-fix statements with dates and URLs
    kb.model_status("EnGenius", "EAP350 v2")
"""

from krackwatch.advisories.export import export_document, export_merged
from krackwatch.advisories.importer import import_document, read_document
from krackwatch.advisories.kb import KnowledgeBase, bundled_knowledge_base, cve_id, fixed_in
from krackwatch.advisories.model import (
    CVE,
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
    ImportReport,
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
from krackwatch.advisories.store import user_data_dir

__all__ = [
    "CVE",
    "KRACK_CVES",
    "KRACK_VU",
    "Conflict",
    "CvssScore",
    "Direction",
    "DocumentInfo",
    "Effect",
    "Feature",
    "Handshake",
    "Impact",
    "ImportReport",
    "KeyKind",
    "KnowledgeBase",
    "ModeImpact",
    "ModelStatus",
    "ProductFix",
    "ProductStatus",
    "RemediationCategory",
    "Role",
    "SearchHit",
    "SourceKind",
    "StatementRef",
    "VendorStatus",
    "VendorSummary",
    "bundled_knowledge_base",
    "cve_id",
    "export_document",
    "export_merged",
    "fixed_in",
    "import_document",
    "read_document",
    "user_data_dir",
]
