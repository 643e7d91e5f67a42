"""A small audited fleet with attacker-controlled names, rendered by the report tests."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from krackwatch.advisories import bundled_knowledge_base
from krackwatch.fleet.audit import AuditResult, audit_inventory
from krackwatch.fleet.evidence import Evidence, Finding, FindingVerdict
from krackwatch.report.audit import ReportMeta, ReportTail

SCRIPT = "<script>alert(1)</script>"
FORMULA = "=cmd|' /C calc'!A0"
ANSI = "\x1b[31mred\x1b[0m-cam"
MARKUP = "[bold red]loud[/bold red]"

ROWS = [
    # name, vendor, model, firmware, mac, site, role, ft, ciphers
    [SCRIPT, "EnGenius", "ECB1750", "2.0", "88:dc:96:00:00:01", "HQ", "access-point", "yes", "CCMP"],
    [FORMULA, "Hikvision", "DS-2CD2412F-IW", "V5.4.5", "c0:56:e3:00:00:02", "@SUM(1+1)", "camera", "", "WEP"],
    [ANSI, "Apple", "iPhone 8", "iOS 11.2.1", "a4:c3:61:00:00:03", "HQ", "phone", "", "CCMP"],
    [MARKUP, "EnGenius", "EWS360AP", "3.0", "88:dc:96:00:00:04", "Yard | <b>", "access-point", "no", "CCMP"],
    ["plain-bridge", "EnGenius", "EAP1200H", "1.0", "88:dc:96:00:00:05", "Yard", "repeater", "", "CCMP;TKIP"],
    ["", "EnGenius", "ECB1750", "", "", "", "toaster", "", ""],  # invalid: no name, bad role
]


@dataclass(frozen=True)
class Fleet:
    path: Path
    result: AuditResult
    meta: ReportMeta
    tail: ReportTail


@pytest.fixture
def fleet(tmp_path) -> Fleet:
    path = tmp_path / "evil fleet.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "vendor", "model", "firmware", "mac", "site", "role", "ft", "ciphers"])
        w.writerows(ROWS)
    evidence = Evidence.of([
        ("88:dc:96:00:00:05", Finding("ptk-reinstall", ("CVE-2017-13077",), FindingVerdict.VULNERABLE,
                                      f"PN reset {SCRIPT}", "lab.pcapng", (7,))),
        ("b8:27:eb:00:00:09", Finding("gtk-reinstall", ("CVE-2017-13080",), FindingVerdict.VULNERABLE,
                                      "group PN replayed")),
    ])
    kb = bundled_knowledge_base()
    result = audit_inventory(path, kb, evidence)
    started = dt.datetime(2018, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    meta = ReportMeta(started_at=started, tool_version="9.9", inventory=str(path), inventory_format="csv",
                      kb_documents=tuple(f"{d.id}@{d.version}" for d in kb.documents()), run_id=7)
    tail = ReportTail(result.summary, result.invalid_rows, result.warnings, result.unlisted,
                      started + dt.timedelta(seconds=1))
    return Fleet(path, result, meta, tail)
