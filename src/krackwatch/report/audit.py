"""Renderers of a fleet audit: table, json, csv, html, markdown, sarif, cyclonedx-json.

Every renderer is a streaming writer: ``begin(meta)``, ``device(record)`` per audited device, ``end(tail)``.
JSON, CSV, SARIF and CycloneDX write as records arrive; HTML and Markdown put the summary first, so they spool
the device rows to a temporary file (memory stays flat) and write the page at the end; the terminal table keeps
its rows (it is meant for people, not million-device fleets).

Every string from an inventory or an advisory is attacker-controlled and is made safe for its format: HTML by
Jinja2 autoescaping (plus only http/https links), Markdown by entity and punctuation escaping, CSV by
neutralising spreadsheet formulas (a leading apostrophe before ``= + - @``, TAB or CR), the terminal by
``report.text`` (control characters shown as escapes, rich markup neutralised), JSON formats by ASCII-only
encoding. Control characters are shown as escapes in every text format.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from importlib import resources
from typing import Any, TextIO

from krackwatch.advisories.kb import KnowledgeBase
from krackwatch.fleet.audit import AuditRecord, AuditSummary, UnlistedStation
from krackwatch.fleet.evidence import Finding
from krackwatch.fleet.inventory import InvalidRow, InventoryWarning, to_cyclonedx
from krackwatch.fleet.model import CIPHERS
from krackwatch.fleet.rules import EXPOSURE_ORDER, Exposure
from krackwatch.report.text import printable, terminal

__all__ = [
    "CSV_COLUMNS",
    "SARIF_SCHEMA",
    "VERDICT_COLORS",
    "VERDICT_LABELS",
    "WRITERS",
    "AuditFormat",
    "AuditWriter",
    "ReportMeta",
    "ReportTail",
    "csv_cell",
    "device_dict",
    "md",
    "md_url",
    "render_audit",
    "safe_href",
    "writer_for",
]

SCHEMA = "https://krackwatch.invalid/schema/assess/1"  # a name, not a location
JSON_SCHEMA_VERSION = 1


class AuditFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"
    markdown = "markdown"
    sarif = "sarif"
    cyclonedx_json = "cyclonedx-json"


@dataclass(frozen=True, slots=True)
class ReportMeta:
    """What the report says about the run."""

    started_at: _dt.datetime
    tool_version: str
    inventory: str  # as shown: the path given, or "demo inventory"
    inventory_format: str
    kb_documents: tuple[str, ...]
    run_id: int | None = None
    database: str | None = None


@dataclass(frozen=True, slots=True)
class ReportTail:
    """What is known only after the last device."""

    summary: AuditSummary
    invalid_rows: Sequence[InvalidRow]
    warnings: Sequence[InventoryWarning]
    unlisted: Sequence[UnlistedStation]
    finished_at: _dt.datetime


VERDICT_LABELS = {
    Exposure.EXPOSED: "exposed",
    Exposure.PATCH_AVAILABLE: "patch available",
    Exposure.UNKNOWN: "unknown",
    Exposure.MITIGATED: "mitigated",
    Exposure.NOT_AFFECTED: "not affected",
    Exposure.FIXED: "fixed",
}
VERDICT_COLORS = {
    Exposure.EXPOSED: "#b3261e",
    Exposure.PATCH_AVAILABLE: "#c56a00",
    Exposure.UNKNOWN: "#6b7280",
    Exposure.MITIGATED: "#1f6fb2",
    Exposure.NOT_AFFECTED: "#2e7d32",
    Exposure.FIXED: "#0f766e",
}


# ----------------------------------------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------------------------------------


def safe_href(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL without control characters or blanks, else None (never a link)."""
    if not url:
        return None
    lowered = url.strip().lower()
    if not lowered.startswith(("https://", "http://")):
        return None
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        return None
    return url


def _ciphers(ciphers: frozenset[str]) -> list[str]:
    return [c for c in CIPHERS if c in ciphers]


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {"rule": f.rule, "cves": list(f.cves), "verdict": f.verdict.value, "summary": f.summary,
            "source": f.source, "frames": list(f.frames)}


def _finding_text(f: Finding) -> str:
    text = f"{f.rule}: {f.verdict.value}"
    if f.summary:
        text += f" ({f.summary})"
    if f.cves:
        text += " " + ", ".join(f.cves)
    return text


def device_dict(record: AuditRecord) -> dict[str, Any]:
    """The JSON object of one audited device (the ``devices`` entries of ``--format json``)."""
    d = record.device
    v = record.verdict
    return {
        "name": d.name,
        "vendor": d.vendor,
        "model": d.model,
        "role": d.role.value,
        "verdict": v.verdict.value,
        "cves": list(v.cves),
        "severity": v.severity.label,
        "reason": v.reason,
        "remediation": [{"kind": r.kind.value, "text": r.text, "url": r.url} for r in v.remediation],
        "score": v.score,
        "firmware": d.firmware,
        "mac": d.mac,
        "site": d.site,
        "ft": d.ft,
        "pmf": d.pmf,
        "ciphers": _ciphers(d.ciphers),
        "vendor_key": d.vendor_key,
        "vendor_source": d.vendor_source.value,
        "source": v.source.value,
        "evidence": [_finding_dict(f) for f in v.evidence],
        "attributes": dict(d.attributes),
        "line": d.source_line,
        "key": record.key,
    }


def _meta_dict(meta: ReportMeta) -> dict[str, Any]:
    return {
        "id": meta.run_id,
        "started_at": meta.started_at.isoformat(),
        "inventory": meta.inventory,
        "inventory_format": meta.inventory_format,
        "knowledge_base": list(meta.kb_documents),
        "database": meta.database,
    }


def _unlisted_dict(u: UnlistedStation) -> dict[str, Any]:
    return {"mac": u.mac, "vendor": u.vendor, "vendor_key": u.vendor_key, "oui_status": u.oui_status,
            "findings": [_finding_dict(f) for f in u.findings]}


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=True)


class AuditWriter(ABC):
    """Base of the renderers: ``begin``, ``device`` per record, ``end``."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.meta: ReportMeta | None = None

    def begin(self, meta: ReportMeta) -> None:
        self.meta = meta

    @abstractmethod
    def device(self, record: AuditRecord) -> None:
        """Render one audited device."""

    @abstractmethod
    def end(self, tail: ReportTail) -> None:
        """Render the totals, invalid rows and unlisted stations, and finish the document."""


# ----------------------------------------------------------------------------------------------------------
# JSON
# ----------------------------------------------------------------------------------------------------------


class JsonWriter(AuditWriter):
    """``{"schema", "tool", "run", "devices": [...], "invalid_rows", "warnings", "unlisted", "summary"}``."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self._count = 0

    def _head(self) -> None:
        assert self.meta is not None
        self.out.write('{\n  "schema": ' + _dumps(SCHEMA) + ',\n  "schema_version": '
                       + str(JSON_SCHEMA_VERSION) + ',\n  "tool": ' + _dumps({"name": "krackwatch", "version":
                                                                             self.meta.tool_version})
                       + ',\n  "run": ' + _dumps(_meta_dict(self.meta)) + ',\n  "devices": [')

    def device(self, record: AuditRecord) -> None:
        if self._count == 0:
            self._head()
            self.out.write("\n    ")
        else:
            self.out.write(",\n    ")
        self.out.write(_dumps(device_dict(record)))
        self._count += 1

    def end(self, tail: ReportTail) -> None:
        if self._count == 0:
            self._head()
            self.out.write("],\n")
        else:
            self.out.write("\n  ],\n")
        parts = {
            "invalid_rows": [{"line": r.line, "reason": r.reason, "where": r.where} for r in tail.invalid_rows],
            "warnings": [{"line": w.line, "message": w.message, "where": w.where} for w in tail.warnings],
            "unlisted": [_unlisted_dict(u) for u in tail.unlisted],
            "summary": tail.summary.to_dict(),
            "finished_at": tail.finished_at.isoformat(),
        }
        self.out.write(",\n".join(f"  {_dumps(k)}: {_dumps(v)}" for k, v in parts.items()))
        self.out.write("\n}\n")


# ----------------------------------------------------------------------------------------------------------
# CSV
# ----------------------------------------------------------------------------------------------------------

_FORMULA_STARTS = frozenset("=+-@\t\r")
CSV_COLUMNS = ("name", "vendor", "model", "firmware", "mac", "site", "role", "verdict", "severity", "score", "cves",
               "reason", "remediation", "links", "line")


def csv_cell(value: object) -> str:
    """A CSV cell that no spreadsheet runs as a formula, with control characters shown as escapes."""
    text = "" if value is None else str(value)
    i = 0
    while i < len(text) and text[i] == "'":
        i += 1
    if i < len(text) and text[i] in _FORMULA_STARTS:
        text = "'" + text
    return printable(text)


class CsvWriter(AuditWriter):
    """One row per device (RFC 4180, CRLF line ends)."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        import csv

        self._w = csv.writer(out, lineterminator="\r\n")
        self._w.writerow(CSV_COLUMNS)

    def device(self, record: AuditRecord) -> None:
        d = record.device
        v = record.verdict
        links = [r.url for r in v.remediation if r.url]
        self._w.writerow([csv_cell(x) for x in (
            d.name, d.vendor, d.model, d.firmware, d.mac or "", d.site, d.role.value, v.verdict.value,
            v.severity.label, "" if v.score is None else v.score, " ".join(v.cves), v.reason,
            " | ".join(r.text for r in v.remediation), " ".join(dict.fromkeys(links)), d.source_line,
        )])

    def end(self, tail: ReportTail) -> None:
        self.out.flush()


# ----------------------------------------------------------------------------------------------------------
# Terminal table
# ----------------------------------------------------------------------------------------------------------

_VERDICT_STYLE = {
    Exposure.EXPOSED: "bold red",
    Exposure.PATCH_AVAILABLE: "yellow",
    Exposure.UNKNOWN: "dim",
    Exposure.MITIGATED: "blue",
    Exposure.NOT_AFFECTED: "green",
    Exposure.FIXED: "green",
}


def _short_cves(cves: Sequence[str]) -> str:
    return " ".join(c.removeprefix("CVE-2017-") for c in cves)


class TableWriter(AuditWriter):
    """For people at a terminal: a table of devices, then each distinct reason once with its devices."""

    def __init__(self, out: TextIO, *, color: bool = False, width: int | None = None) -> None:
        super().__init__(out)
        from rich.console import Console

        self._console = Console(file=out, no_color=not color, force_terminal=color, highlight=False,
                                width=width, soft_wrap=False, emoji=False)
        self._rows: list[tuple[str, ...]] = []
        self._styles: list[str] = []
        self._reasons: dict[tuple[Exposure, str], list[str]] = {}

    def device(self, record: AuditRecord) -> None:
        d = record.device
        v = record.verdict
        name = terminal(d.name)
        self._rows.append((
            name, terminal(d.vendor), terminal(d.model), terminal(d.firmware), terminal(d.site),
            d.role.value, VERDICT_LABELS[v.verdict], v.severity.label if v.severity else "", _short_cves(v.cves),
        ))
        self._styles.append(_VERDICT_STYLE[v.verdict])
        self._reasons.setdefault((v.verdict, v.reason), []).append(name)

    def end(self, tail: ReportTail) -> None:
        from rich.table import Table

        assert self.meta is not None
        table = Table(title=f"KRACK exposure: {terminal(self.meta.inventory)}")
        for col in ("device", "vendor", "model", "firmware", "site", "role", "verdict", "severity", "CVE-2017-"):
            table.add_column(col, overflow="fold")
        for row, style in zip(self._rows, self._styles, strict=True):
            cells = list(row)
            cells[6] = f"[{style}]{cells[6]}[/]"
            table.add_row(*cells)
        console = self._console
        console.print(table)
        console.print()
        for exposure in EXPOSURE_ORDER:
            for (verdict, reason), names in self._reasons.items():
                if verdict is not exposure:
                    continue
                shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
                console.print(f"[{_VERDICT_STYLE[verdict]}]{VERDICT_LABELS[verdict]}[/]: [bold]{shown}[/]")
                console.print(f"  {terminal(reason)}")
        summary = tail.summary
        counts = ", ".join(f"{n} {VERDICT_LABELS[e]}" for e, n in summary.by_verdict.items() if n)
        console.print()
        console.print(f"{summary.devices} devices: {counts or 'none'}", markup=False)
        for row in tail.invalid_rows:
            console.print(f"invalid {terminal(row.describe())}")
        for u in tail.unlisted:
            console.print(f"seen on the air, not in the inventory: {u.mac} "
                          f"({terminal(u.vendor) or 'vendor unknown'}): "
                          f"{terminal('; '.join(_finding_text(f) for f in u.findings))}")


# ----------------------------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------------------------

_MD_ESCAPES = {c: "\\" + c for c in "\\`*_[]|~"}
_MD_ESCAPES.update({"<": "&lt;", ">": "&gt;", "&": "&amp;"})
_MD_TABLE = str.maketrans(_MD_ESCAPES)
_MD_URL = str.maketrans({"<": "%3C", ">": "%3E", "|": "%7C", "\\": "%5C", "`": "%60"})


def md(value: object) -> str:
    """Text safe in a Markdown table cell: no raw HTML, no emphasis/link/code markup, no cell breaks, no line
    breaks, no control characters."""
    return printable("" if value is None else str(value).replace("\n", " ").replace("\r", " ")).translate(_MD_TABLE)


def md_url(url: str) -> str:
    """An http(s) URL (``safe_href``) as a Markdown link destination in angle brackets."""
    return url.translate(_MD_URL)


def _spool() -> Any:
    return tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+", encoding="utf-8", newline="")


class MarkdownWriter(AuditWriter):
    """A summary, then one table row per device (GitHub-flavoured Markdown)."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self._rows = _spool()

    def device(self, record: AuditRecord) -> None:
        d = record.device
        v = record.verdict
        fixes = "<br>".join(
            (f"[{md(r.text)}](<{md_url(href)}>)" if (href := safe_href(r.url)) else md(r.text)) for r in v.remediation
        )
        self._rows.write("| " + " | ".join((
            md(d.name), md(d.vendor), md(d.model), md(d.firmware), md(d.site), md(d.role.value),
            f"**{md(VERDICT_LABELS[v.verdict])}**", md(v.severity.label), md(", ".join(v.cves)), md(v.reason), fixes,
        )) + " |\n")

    def end(self, tail: ReportTail) -> None:
        assert self.meta is not None
        out = self.out
        summary = tail.summary
        out.write(f"# KRACK exposure audit: {md(self.meta.inventory)}\n\n")
        out.write(f"{summary.devices} devices audited on {md(self.meta.started_at.isoformat(timespec='seconds'))}"
                  f" with krackwatch {md(self.meta.tool_version)}")
        if self.meta.run_id:
            out.write(f" (run \\#{self.meta.run_id})")
        out.write(". Advisory statuses are dated facts: each reason names its source and date.\n\n")
        out.write("| verdict | devices |\n|---|---:|\n")
        for exposure, n in summary.by_verdict.items():
            out.write(f"| {md(VERDICT_LABELS[exposure])} | {n} |\n")
        out.write(f"| invalid rows | {summary.invalid_rows} |\n\n")
        out.write("## Devices\n\n| device | vendor | model | firmware | site | role | verdict | severity | CVEs "
                  "| reason | remediation |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
        self._rows.seek(0)
        shutil.copyfileobj(self._rows, out)
        self._rows.close()
        if tail.unlisted:
            out.write("\n## Seen on the air, not in the inventory\n\n| MAC | vendor | findings |\n|---|---|---|\n")
            for u in tail.unlisted:
                out.write(f"| {md(u.mac)} | {md(u.vendor)} | {md('; '.join(_finding_text(f) for f in u.findings))} |\n")
        if tail.invalid_rows:
            out.write("\n## Inventory rows that were not audited\n\n| line | reason |\n|---:|---|\n")
            for row in tail.invalid_rows:
                out.write(f"| {row.line} | {md(row.reason)} |\n")


# ----------------------------------------------------------------------------------------------------------
# HTML
# ----------------------------------------------------------------------------------------------------------

ROWS_MARKER = "<!--krackwatch:rows-->"


def _load_template(name: str) -> str:
    return (resources.files("krackwatch.report") / "templates" / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _html_templates() -> tuple[Any, Any, Any, str]:
    """(page template, macros module, stylesheet, its CSP hash)."""
    from jinja2 import Environment, FunctionLoader
    from markupsafe import Markup

    css = _load_template("audit.css")
    env = Environment(loader=FunctionLoader(_load_template), autoescape=True, keep_trailing_newline=True)
    env.globals["verdict_labels"] = {e.value: label for e, label in VERDICT_LABELS.items()}
    page = env.get_template("audit.html.j2")
    macros = env.get_template("audit_macros.html.j2").module
    style_hash = "sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return page, macros, Markup(css), style_hash  # the stylesheet is ours, not data: it must not be escaped


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _chart(title: str, groups: Iterable[tuple[str, dict[Exposure, int]]], limit: int = 12, *,
           ordered: bool = False) -> dict[str, Any]:
    """Geometry of a horizontal stacked bar chart (one bar per group, segments per verdict); groups sorted by
    size unless ``ordered``."""
    items = list(groups) if ordered else sorted(groups, key=lambda kv: (-sum(kv[1].values()), kv[0]))
    if len(items) > limit:
        rest: dict[Exposure, int] = dict.fromkeys(EXPOSURE_ORDER, 0)
        for _, counts in items[limit - 1:]:
            for k, n in counts.items():
                rest[k] += n
        items = [*items[: limit - 1], (f"{len(items) - limit + 1} others", rest)]
    label_width, bar_width, row = 190, 300, 22
    top = max((sum(c.values()) for _, c in items), default=0) or 1
    bars = []
    for i, (label, counts) in enumerate(items):
        x = float(label_width)
        segments = []
        for exposure in EXPOSURE_ORDER:
            n = counts.get(exposure, 0)
            if not n:
                continue
            w = round(bar_width * n / top, 2)
            segments.append({"x": round(x, 2), "width": w, "count": n, "verdict": exposure.value,
                             "color": VERDICT_COLORS[exposure]})
            x += w
        bars.append({"label": printable(label), "short": printable(_short(label)), "y": i * row,
                     "total": sum(counts.values()), "segments": segments, "end": round(x, 2)})
    return {"title": title, "bars": bars, "width": label_width + bar_width + 50, "height": max(row, len(bars) * row),
            "label_width": label_width}


def _row_context(record: AuditRecord) -> dict[str, Any]:
    d = record.device
    v = record.verdict
    return {
        "name": printable(d.name), "vendor": printable(d.vendor), "model": printable(d.model),
        "firmware": printable(d.firmware), "mac": d.mac or "", "site": printable(d.site), "role": d.role.value,
        "verdict": v.verdict.value, "severity": v.severity.label, "score": v.score, "cves": v.cves,
        "reason": printable(v.reason),
        "remediation": [{"text": printable(r.text), "href": safe_href(r.url)} for r in v.remediation],
    }


class HtmlWriter(AuditWriter):
    """One self-contained page: no scripts, no external resources, CSP allows only its own stylesheet."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self._template, macros, self._css, self._hash = _html_templates()
        self._row = macros.device_row
        self._rows = _spool()

    def device(self, record: AuditRecord) -> None:
        self._rows.write(str(self._row(_row_context(record))))

    def end(self, tail: ReportTail) -> None:
        assert self.meta is not None
        summary = tail.summary
        by_verdict = [(e.value, summary.by_verdict[e]) for e in EXPOSURE_ORDER]
        page = self._template.render(
            meta=self.meta,
            css=self._css,
            style_hash=self._hash,
            started=self.meta.started_at.isoformat(timespec="seconds"),
            finished=tail.finished_at.isoformat(timespec="seconds"),
            summary=summary,
            by_verdict=by_verdict,
            verdict_chart=_chart("Devices by verdict", [(VERDICT_LABELS[e], {e: n}) for e, n in
                                                        summary.by_verdict.items() if n], ordered=True),
            vendor_chart=_chart("Exposure by vendor", summary.by_vendor.items()),
            site_chart=_chart("Exposure by site", summary.by_site.items()),
            unlisted=[{"mac": u.mac, "vendor": printable(u.vendor) or "(not registered)",
                       "findings": [printable(_finding_text(f)) for f in u.findings]} for u in tail.unlisted],
            invalid_rows=[{"line": r.line, "where": printable(r.where), "reason": printable(r.reason)}
                          for r in tail.invalid_rows],
            warnings=[printable(w.describe()) for w in tail.warnings],
        )
        head, marker, foot = page.partition(ROWS_MARKER)
        if not marker:
            raise AssertionError("the HTML template lost its rows marker")
        self.out.write(head)
        self._rows.seek(0)
        shutil.copyfileobj(self._rows, self.out)
        self._rows.close()
        self.out.write(foot)


# ----------------------------------------------------------------------------------------------------------
# SARIF 2.1.0
# ----------------------------------------------------------------------------------------------------------

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_SARIF_RULES = (
    ("KRACK001", Exposure.EXPOSED, "error", "Device exposed to KRACK",
     "An observed key reinstallation, or an affected device with no vendor fix."),
    ("KRACK002", Exposure.PATCH_AVAILABLE, "warning", "KRACK fix available",
     "The device is affected and its vendor published a fix that it may lack."),
    ("KRACK003", Exposure.UNKNOWN, "note", "KRACK status unknown",
     "No advisory covers the device: ask its vendor."),
)
_SARIF_BY_EXPOSURE = {e: (i, rule, level) for i, (rule, e, level, _, _) in enumerate(_SARIF_RULES)}


def _artifact_uri(label: str) -> str:
    from urllib.parse import quote

    return quote(label.replace("\\", "/"), safe="/:._-~")


class SarifWriter(AuditWriter):
    """SARIF 2.1.0: one result per device that is exposed, has a patch available or is unknown."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self._count = 0

    def begin(self, meta: ReportMeta) -> None:
        super().begin(meta)
        rules = [{
            "id": rule,
            "name": exposure.value,
            "shortDescription": {"text": short},
            "fullDescription": {"text": full},
            "helpUri": "https://www.krackattacks.com/",
            "defaultConfiguration": {"level": level},
            "properties": {"tags": ["security", "KRACK", "CVE-2017-13077..13088"]},
        } for rule, exposure, level, short, full in _SARIF_RULES]
        head = {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
        }
        tool = {"driver": {"name": "krackwatch", "version": meta.tool_version, "semanticVersion": meta.tool_version,
                           "informationUri": "https://www.krackattacks.com/", "rules": rules}}
        self.out.write(_dumps(head)[:-1] + ', "runs": [{"tool": ' + _dumps(tool) + ', "results": [')

    def device(self, record: AuditRecord) -> None:
        v = record.verdict
        found = _SARIF_BY_EXPOSURE.get(v.verdict)
        if found is None:
            return
        assert self.meta is not None
        index, rule, level = found
        d = record.device
        location: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": {"uri": _artifact_uri(self.meta.inventory)}},
            "logicalLocations": [{"name": d.name, "kind": "device",
                                  "fullyQualifiedName": f"{d.site}/{d.name}" if d.site else d.name}],
        }
        if d.source_line > 0:
            location["physicalLocation"]["region"] = {"startLine": d.source_line}
        result = {
            "ruleId": rule,
            "ruleIndex": index,
            "level": level,
            "message": {"text": f"{d.name} ({d.vendor or 'unknown vendor'} {d.model}): {v.verdict.value}. {v.reason}"},
            "locations": [location],
            "partialFingerprints": {"krackwatchDevice/v1": record.key},
            "properties": {
                "verdict": v.verdict.value, "severity": v.severity.label, "cves": list(v.cves),
                "security-severity": f"{v.score:.1f}" if v.score is not None else "0.0",
                "remediation": [r.text + (f" ({r.url})" if r.url else "") for r in v.remediation],
            },
        }
        self.out.write(("" if self._count == 0 else ",") + "\n" + _dumps(result))
        self._count += 1

    def end(self, tail: ReportTail) -> None:
        assert self.meta is not None
        invocation = {
            "executionSuccessful": True,
            "startTimeUtc": self.meta.started_at.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endTimeUtc": tail.finished_at.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "toolExecutionNotifications": [
                {"level": "warning", "message": {"text": f"inventory {r.describe()}"}} for r in tail.invalid_rows
            ],
        }
        props = {"summary": tail.summary.to_dict(), "unlisted": [_unlisted_dict(u) for u in tail.unlisted]}
        self.out.write('\n], "invocations": [' + _dumps(invocation) + '], "properties": ' + _dumps(props) + "}]}\n")


# ----------------------------------------------------------------------------------------------------------
# CycloneDX 1.6
# ----------------------------------------------------------------------------------------------------------

_CDX_STATE = {
    Exposure.EXPOSED: "affected",
    Exposure.PATCH_AVAILABLE: "affected",
    Exposure.UNKNOWN: "unknown",
    Exposure.FIXED: "unaffected",
    Exposure.NOT_AFFECTED: "unaffected",
    Exposure.MITIGATED: "unaffected",
}
class CycloneDxWriter(AuditWriter):
    """The inventory as CycloneDX 1.6 devices (``fleet.inventory.to_cyclonedx``), verdicts as properties, and
    one ``vulnerabilities`` entry per KRACK CVE whose ``affects`` lists the devices by verdict."""

    def __init__(self, out: TextIO, kb: KnowledgeBase | None = None) -> None:
        super().__init__(out)
        self._kb = kb
        self._count = 0
        self._serial = ""
        # Per CVE and CycloneDX status: device indexes (compact: 4 bytes each).
        self._affects: dict[str, dict[str, array]] = {}

    def begin(self, meta: ReportMeta) -> None:
        super().begin(meta)
        self._serial = uuid.uuid5(
            uuid.NAMESPACE_URL, f"urn:krackwatch:assess:{meta.started_at.isoformat()}:{meta.inventory}").urn
        head = {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "serialNumber": self._serial,
            "version": 1,
            "metadata": {
                "timestamp": meta.started_at.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tools": {"components": [{"type": "application", "name": "krackwatch", "version": meta.tool_version}]},
                "properties": [{"name": "krackwatch:inventory", "value": meta.inventory}]
                + ([{"name": "krackwatch:run", "value": str(meta.run_id)}] if meta.run_id else []),
            },
        }
        self.out.write(_dumps(head)[:-1] + ', "components": [')

    def device(self, record: AuditRecord) -> None:
        self._count += 1
        index = self._count
        d = record.device
        v = record.verdict
        comp = to_cyclonedx([d], serial_number=self._serial)["components"][0]
        comp["bom-ref"] = f"krackwatch-device-{index}"
        props = comp.setdefault("properties", [])
        props.extend([
            {"name": "krackwatch:verdict", "value": v.verdict.value},
            {"name": "krackwatch:severity", "value": v.severity.label},
            {"name": "krackwatch:reason", "value": v.reason},
        ])
        if v.cves:
            props.append({"name": "krackwatch:cves", "value": " ".join(v.cves)})
        for r in v.remediation:
            props.append({"name": f"krackwatch:remediation:{r.kind.value}",
                          "value": r.text + (f" ({r.url})" if r.url else "")})
        state = _CDX_STATE[v.verdict]
        cves = v.cves
        for cve in cves:
            self._affects.setdefault(cve, {}).setdefault(state, array("I")).append(index)
        self.out.write(("" if index == 1 else ",") + "\n" + _dumps(comp))

    def _vulnerability(self, cve_id: str, states: dict[str, array]) -> dict[str, Any]:
        vuln: dict[str, Any] = {"bom-ref": f"krackwatch-{cve_id}", "id": cve_id,
                                "source": {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{cve_id}"}}
        cve = self._kb.cve(cve_id) if self._kb is not None else None
        if cve is not None:
            rating: dict[str, Any] = {"source": {"name": "NVD"}, "score": cve.cvss_v3.score,
                                      "method": "CVSSv31" if cve.cvss_v3.version == "3.1" else "CVSSv3",
                                      "vector": cve.cvss_v3.vector}
            if cve.cvss_v3.severity:
                rating["severity"] = cve.cvss_v3.severity.lower()
            vuln["ratings"] = [rating]
            vuln["cwes"] = [int(c.split("-")[1]) for c in cve.cwes if c.startswith("CWE-") and c[4:].isdigit()]
            vuln["description"] = cve.title
            if cve.published:
                vuln["published"] = f"{cve.published.isoformat()}T00:00:00Z"
        affects = []
        for state in ("affected", "unknown", "unaffected"):
            for index in states.get(state, ()):
                affects.append({"ref": f"krackwatch-device-{index}", "versions": [{"range": "vers:generic/*",
                                                                                     "status": state}]})
        vuln["affects"] = affects
        return vuln

    def end(self, tail: ReportTail) -> None:
        self.out.write("\n]")
        vulns = [self._vulnerability(c, s) for c, s in sorted(self._affects.items())]
        self.out.write(', "vulnerabilities": [' + ",\n".join(_dumps(v) for v in vulns) + "]}\n")


# ----------------------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------------------

WRITERS: dict[AuditFormat, type[AuditWriter]] = {
    AuditFormat.table: TableWriter,
    AuditFormat.json: JsonWriter,
    AuditFormat.csv: CsvWriter,
    AuditFormat.html: HtmlWriter,
    AuditFormat.markdown: MarkdownWriter,
    AuditFormat.sarif: SarifWriter,
    AuditFormat.cyclonedx_json: CycloneDxWriter,
}


def writer_for(fmt: AuditFormat, out: TextIO, *, kb: KnowledgeBase | None = None, color: bool = False,
               width: int | None = None) -> AuditWriter:
    """The renderer of ``fmt`` writing to ``out``."""
    if fmt is AuditFormat.table:
        return TableWriter(out, color=color, width=width)
    if fmt is AuditFormat.cyclonedx_json:
        return CycloneDxWriter(out, kb)
    return WRITERS[fmt](out)


def render_audit(fmt: AuditFormat, out: TextIO, meta: ReportMeta, records: Iterable[AuditRecord],
                 tail: ReportTail | None = None, *, kb: KnowledgeBase | None = None,
                 summary: AuditSummary | None = None, invalid_rows: Sequence[InvalidRow] = (),
                 warnings: Sequence[InventoryWarning] = (), unlisted: Sequence[UnlistedStation] = (),
                 width: int | None = None) -> None:
    """Render a whole audit in one call. ``tail`` may be omitted: the summary is then counted here."""
    writer = writer_for(fmt, out, kb=kb, width=width)
    writer.begin(meta)
    counted = AuditSummary() if summary is None and tail is None else None
    for record in records:
        if counted is not None:
            counted.add(record)
        writer.device(record)
    if tail is None:
        final = summary if summary is not None else counted
        assert final is not None
        final.invalid_rows = final.invalid_rows or len(invalid_rows)
        final.unlisted = final.unlisted or len(unlisted)
        tail = ReportTail(final, invalid_rows, warnings, unlisted, _dt.datetime.now(_dt.UTC))
    writer.end(tail)

