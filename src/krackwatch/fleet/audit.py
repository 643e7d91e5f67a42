"""A fleet audit: inventory entries in, one verdict per device out, streamed, with a running summary.

``Audit.records`` consumes inventory items (``iter_inventory`` output) lazily and yields an ``AuditRecord``
per device, so a million-device inventory is audited in constant memory: verdicts come from the cached
``RuleEngine``, the summary keeps counters only, and invalid rows are the only thing kept per entry (bad rows
are rare and the report lists them). Stations seen on the air (``Evidence``) that no inventory entry claims are
listed afterwards with the vendor of their MAC prefix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from krackwatch.advisories.kb import KnowledgeBase
from krackwatch.advisories.normalize import known_vendor_keys, vendor_display
from krackwatch.fleet import oui
from krackwatch.fleet.evidence import Evidence, Finding
from krackwatch.fleet.inventory import InvalidRow, InventoryItem, InventoryWarning, iter_inventory
from krackwatch.fleet.model import Device
from krackwatch.fleet.rules import EXPOSURE_ORDER, Exposure, RuleEngine, Severity, Verdict

__all__ = [
    "Audit",
    "AuditRecord",
    "AuditResult",
    "AuditSummary",
    "UnlistedStation",
    "audit_inventory",
    "device_key",
]

NO_SITE = "(no site)"
NO_VENDOR = "(unknown vendor)"


def device_key(device: Device) -> str:
    """A device's identity across audit runs: its MAC, else its site and name (case-folded)."""
    if device.mac:
        return f"mac:{device.mac}"
    return f"name:{device.site.casefold()}/{device.name.casefold()}"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One device and its verdict."""

    device: Device
    verdict: Verdict
    key: str


@dataclass(frozen=True, slots=True)
class UnlistedStation:
    """A station seen on the air that no inventory entry names; vendor from its MAC prefix (IEEE registry)."""

    mac: str
    vendor: str  # the IEEE registrant as registered, "" when none
    vendor_key: str
    oui_status: str  # registered | unregistered | randomised | group | unavailable
    findings: tuple[Finding, ...]


def _counts() -> dict[Exposure, int]:
    return dict.fromkeys(EXPOSURE_ORDER, 0)


@dataclass(slots=True)
class AuditSummary:
    """Counters over the devices of one audit (updated record by record)."""

    devices: int = 0
    by_verdict: dict[Exposure, int] = field(default_factory=_counts)
    by_severity: dict[Severity, int] = field(default_factory=lambda: dict.fromkeys(Severity, 0))
    findings_by_severity: dict[Severity, int] = field(default_factory=lambda: dict.fromkeys(Severity, 0))
    by_vendor: dict[str, dict[Exposure, int]] = field(default_factory=dict)
    by_site: dict[str, dict[Exposure, int]] = field(default_factory=dict)
    by_cve: dict[str, int] = field(default_factory=dict)
    invalid_rows: int = 0
    warnings: int = 0
    unlisted: int = 0
    _labels: dict[str, str] = field(default_factory=dict)

    def vendor_label(self, device: Device) -> str:
        key = device.vendor_key
        label = self._labels.get(key)
        if label is None:
            if not key:
                label = NO_VENDOR
            elif key in known_vendor_keys():
                label = vendor_display(key)
            else:
                label = device.vendor or key
            self._labels[key] = label
        return label

    def add(self, record: AuditRecord) -> None:
        verdict = record.verdict
        exposure = verdict.verdict
        self.devices += 1
        self.by_verdict[exposure] += 1
        self.by_severity[verdict.severity] += 1
        vendor = self.vendor_label(record.device)
        bucket = self.by_vendor.get(vendor)
        if bucket is None:
            bucket = self.by_vendor[vendor] = _counts()
        bucket[exposure] += 1
        site = record.device.site or NO_SITE
        bucket = self.by_site.get(site)
        if bucket is None:
            bucket = self.by_site[site] = _counts()
        bucket[exposure] += 1
        if exposure.is_finding:
            self.findings_by_severity[verdict.severity] += 1
            for cve in verdict.cves:
                self.by_cve[cve] = self.by_cve.get(cve, 0) + 1

    def findings_at_or_above(self, level: Severity) -> int:
        """Devices that are ``exposed`` or ``patch_available`` with severity ``level`` or worse."""
        return sum(n for sev, n in self.findings_by_severity.items() if sev >= level)

    @property
    def findings(self) -> int:
        return self.by_verdict[Exposure.EXPOSED] + self.by_verdict[Exposure.PATCH_AVAILABLE]

    def to_dict(self) -> dict[str, Any]:
        return {
            "devices": self.devices,
            "by_verdict": {k.value: v for k, v in self.by_verdict.items()},
            "by_severity": {k.label: v for k, v in self.by_severity.items()},
            "findings": self.findings,
            "by_cve": dict(sorted(self.by_cve.items())),
            "by_vendor": {name: {k.value: v for k, v in counts.items()}
                          for name, counts in sorted(self.by_vendor.items())},
            "by_site": {name: {k.value: v for k, v in counts.items()}
                        for name, counts in sorted(self.by_site.items())},
            "invalid_rows": self.invalid_rows,
            "warnings": self.warnings,
            "unlisted": self.unlisted,
        }


class Audit:
    """One audit run over a stream of inventory items. Iterate ``records`` once, then read the rest."""

    def __init__(self, kb: KnowledgeBase, evidence: Evidence | None = None, *,
                 engine: RuleEngine | None = None) -> None:
        self.engine = engine if engine is not None else RuleEngine(kb)
        self.evidence = evidence if evidence is not None else Evidence()
        self.summary = AuditSummary()
        self.invalid_rows: list[InvalidRow] = []
        self.warnings: list[InventoryWarning] = []
        self._matched: set[str] = set()
        self._done = False

    def records(self, items: Iterable[InventoryItem]) -> Iterator[AuditRecord]:
        """Verdicts for the devices among ``items``, in order; invalid rows and warnings are collected."""
        engine = self.engine
        evidence = self.evidence
        summary = self.summary
        has_evidence = bool(evidence)
        for item in items:
            if isinstance(item, Device):
                findings: tuple[Finding, ...] = ()
                if has_evidence and item.mac is not None:
                    findings = evidence.for_mac(item.mac)
                    if findings or item.mac in evidence.seen:
                        self._matched.add(item.mac)
                record = AuditRecord(item, engine.assess(item, findings), device_key(item))
                summary.add(record)
                yield record
            elif isinstance(item, InvalidRow):
                self.invalid_rows.append(item)
                summary.invalid_rows += 1
            else:
                self.warnings.append(item)
                summary.warnings += 1
        self._done = True
        summary.unlisted = len(self.unlisted())

    def unlisted(self) -> list[UnlistedStation]:
        """Stations heard on the air or with findings that no device of the inventory claimed (after
        ``records`` is exhausted), with the vendor their MAC prefix is registered to."""
        out = []
        for mac in sorted(self.evidence.macs()):
            if mac in self._matched:
                continue
            try:
                match = oui.lookup_normalized(mac)
                vendor, vkey, status = match.organization, match.vendor_key, match.status.value
            except oui.OuiDatabaseUnavailable:
                vendor, vkey, status = "", "", "unavailable"
            out.append(UnlistedStation(mac, vendor, vkey, status, self.evidence.for_mac(mac)))
        return out


@dataclass(frozen=True, slots=True)
class AuditResult:
    """A whole audit in memory (for small inventories, tests and the library API)."""

    records: list[AuditRecord]
    invalid_rows: list[InvalidRow]
    warnings: list[InventoryWarning]
    unlisted: list[UnlistedStation]
    summary: AuditSummary


def audit_inventory(path: str | Path, kb: KnowledgeBase, evidence: Evidence | None = None, *,
                    resolve_oui: bool = True) -> AuditResult:
    """Audit an inventory file and keep every record (use ``Audit`` directly to stream large ones)."""
    audit = Audit(kb, evidence)
    records = list(audit.records(iter_inventory(path, resolve_oui=resolve_oui)))
    return AuditResult(records, audit.invalid_rows, audit.warnings, audit.unlisted(), audit.summary)
