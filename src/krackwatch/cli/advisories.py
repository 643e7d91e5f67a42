"""`krackwatch advisories list|show|import|export`: the KRACK advisory knowledge base on the command line.

Every string that comes from an advisory (vendor names, statuses, URLs, notes, file names) is shown through
`safe`, which strips control characters and escapes rich markup, so an imported document cannot restyle or
rewrite the terminal.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from krackwatch.advisories import (
    CVE,
    KnowledgeBase,
    SourceKind,
    cve_id,
    export_document,
    export_merged,
    import_document,
    user_data_dir,
)
from krackwatch.advisories.export import dumps
from krackwatch.advisories.model import IMPACT_CIPHERS, Direction, Effect
from krackwatch.advisories.normalize import normalize_vendor
from krackwatch.advisories.store import file_stem
from krackwatch.cli.app import EXIT_INPUT, EXIT_USAGE, OutputFormat, fail, stderr_console, stdout_console
from krackwatch.crypto.suites import Cipher
from krackwatch.errors import InputError, KrackwatchError

app = typer.Typer(
    name="advisories",
    help="The KRACK advisory knowledge base (CSAF 2.0): CVEs, vendor statuses, fixes, model tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)

FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]

# C0 and C1 control characters, DEL, and the Unicode bidirectional controls (CVE-2021-42574 "Trojan Source").
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = {c: None for c in (*range(0x20), *range(0x7F, 0xA0), *map(ord, _BIDI))}
_CONTROLS.update({ord("\t"): " ", ord("\n"): " ", ord("\r"): " "})


def clean(text: object) -> str:
    """Text without control characters (newlines and tabs become spaces)."""
    return str(text).translate(_CONTROLS)


def safe(text: object) -> str:
    """Text for a rich renderable: control characters stripped, markup escaped."""
    return escape(clean(text))


def _kb() -> KnowledgeBase:
    return KnowledgeBase(user_data_dir(os.environ))


@contextmanager
def _errors() -> Iterator[None]:
    """krackwatch errors as one clean line on stderr and exit code 3."""
    try:
        yield
    except InputError as exc:
        raise fail(clean(exc.describe()), EXIT_INPUT) from None
    except KrackwatchError as exc:
        raise fail(clean(str(exc)), EXIT_INPUT) from None


def _date(value: _dt.date | _dt.datetime | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    return value.isoformat()


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (Effect, Cipher)):
        return value.label
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _print_json(obj: Any) -> None:
    # ASCII only: a bidi control inside a vendor string must not reach the terminal raw.
    sys.stdout.write(json.dumps(_jsonable(obj), indent=2) + "\n")


# --- list ------------------------------------------------------------------------------------------------------


@app.command("list")
def list_(
    vendors: Annotated[bool, typer.Option("--vendors", help="List vendors with statement counts per source.")] = False,
    cves: Annotated[bool, typer.Option("--cves", help="List the ten KRACK CVEs.")] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """List the CSAF documents of the knowledge base (or its vendors, or its CVEs)."""
    if vendors and cves:
        raise fail("--vendors and --cves exclude each other", EXIT_USAGE)
    with _errors():
        kb = _kb().load()
    out = stdout_console()
    if cves:
        if fmt is OutputFormat.json:
            return _print_json(kb.cves())
        table = Table(title="KRACK CVEs (VU#228519)")
        for col in ("CVE", "reinstalled", "in", "patch", "needs", "CVSS v3"):
            table.add_column(col)
        for cve in kb.cves():
            table.add_row(cve.id, cve.key.value, cve.handshake.value, cve.role.value, cve.feature.value,
                          f"{cve.cvss_v3.score} {cve.cvss_v3.severity}")
        out.print(table)
        return None
    if vendors:
        summaries = kb.vendors()
        if fmt is OutputFormat.json:
            return _print_json(summaries)
        kinds = [k for k in SourceKind if k is not SourceKind.CATALOG]
        table = Table(title=f"{len(summaries)} vendors")
        table.add_column("vendor")
        table.add_column("key")
        for kind in kinds:
            table.add_column(kind.value, justify="right")
        for s in summaries:
            table.add_row(safe(s.name), safe(s.key), *[str(s.count(k) or "") for k in kinds])
        out.print(table)
        return None
    docs = kb.documents()
    if fmt is OutputFormat.json:
        return _print_json(docs)
    table = Table(title="Knowledge base documents (CSAF 2.0)")
    for col in ("document", "source", "title", "version", "released", "products", "vulns"):
        table.add_column(col)
    for d in docs:
        table.add_row(safe(d.id), d.kind.value + ("" if d.bundled else " (imported)"), safe(d.title),
                      safe(d.version), _date(d.current_release_date), str(d.products), str(d.vulnerabilities))
    out.print(table)
    return None


# --- show ------------------------------------------------------------------------------------------------------


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="A CVE (CVE-2017-13077, 13077), a document id, or a vendor name.")],
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Show a CVE, a vendor (every status with dates and URLs, fixes, model table) or a document."""
    with _errors():
        kb = _kb().load()
    key = cve_id(name)
    if key is not None:
        cve = kb.cve(key)
        assert cve is not None
        return _print_json(cve) if fmt is OutputFormat.json else _show_cve(cve)
    doc = kb.document(name)
    if doc is not None:
        if fmt is OutputFormat.json:
            return _print_json(doc.info)
        return _show_document(kb, doc.info.id)
    statuses = kb.vendor_statuses(name)
    if statuses:
        if fmt is OutputFormat.json:
            return _print_json({
                "vendor": normalize_vendor(name),
                "statuses": statuses,
                "product_fixes": kb.product_fixes(name),
                "models": kb.vendor_models(name),
                "modes": kb.mode_impacts(name),
            })
        return _show_vendor(kb, name)
    hits = kb.search(name, limit=8)
    hint = ""
    if hits:
        hint = "; did you mean: " + ", ".join(clean(h.key) if h.kind != "vendor" else clean(h.text) for h in hits)
    raise fail(f"no CVE, document or vendor named {clean(name)!r}{hint}", EXIT_USAGE)


def _show_cve(cve: CVE) -> None:
    out = stdout_console()
    out.print(f"[bold]{cve.id}[/bold]: {safe(cve.title)}")
    facts = Table(show_header=False, box=None)
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("key reinstalled", cve.key.value)
    facts.add_row("handshake", cve.handshake.value)
    facts.add_row("device to patch", cve.role.value)
    facts.add_row("needs", cve.feature.value)
    facts.add_row("CVSS v3", f"{cve.cvss_v3.score} {cve.cvss_v3.severity} ({safe(cve.cvss_v3.vector)})")
    if cve.cvss_v2 is not None:
        facts.add_row("CVSS v2", f"{cve.cvss_v2.score} ({safe(cve.cvss_v2.vector)})")
    facts.add_row("CWE", safe(", ".join(cve.cwes)))
    facts.add_row("hostap", safe(cve.hostap_fixed_version or "no fix: " + cve.hostap_note))
    facts.add_row("NVD published", _date(cve.published))
    out.print(facts)
    out.print(safe(cve.description))
    directions = [d for d in Direction if any(i.direction is d for i in cve.impacts)]
    impact = Table(title="What an attacker gains after the reinstallation")
    impact.add_column("cipher")
    for d in directions:
        impact.add_column(d.label)
    for family, cipher in IMPACT_CIPHERS.items():
        rows = {i.direction: i.effects.label for i in cve.impacts if i.cipher == cipher}
        if rows:
            impact.add_row(family, *[rows.get(d, "-") for d in directions])
    out.print(impact)
    for url in cve.references:
        out.print(f"  {safe(url)}")


def _show_vendor(kb: KnowledgeBase, vendor: str) -> None:
    out = stdout_console()
    statuses = kb.vendor_statuses(vendor)
    out.print(f"[bold]{safe(statuses[0].vendor)}[/bold] (key {safe(normalize_vendor(vendor))}): "
              f"{len(statuses)} statements. A status is what the source said on its date, not a verdict about today.")
    table = Table(title="Statements")
    for col in ("source", "status", "CSAF", "date", "record", "about", "URLs"):
        table.add_column(col, overflow="fold")
    for s in statuses:
        extra = "; ".join(f"{k} {v}" for k, v in s.other_dates)
        about = s.subject + (f" [{s.note}]" if s.note else "")
        table.add_row(s.kind.value, safe(s.status), s.csaf_status.value,
                      _date(s.date) + (f" ({safe(extra)})" if extra else ""),
                      safe(s.record_id) + f" ({safe(s.document)})", safe(about), safe("\n".join(s.urls)))
    out.print(table)
    fixes = kb.product_fixes(vendor)
    if fixes:
        table = Table(title="Product fixes")
        for col in ("product", "fixed version", "status", "CVEs", "date", "confidence", "advisory / URL"):
            table.add_column(col, overflow="fold")
        for f in fixes:
            status = f.status + (f" (superseded by {f.superseded_by})" if f.superseded_by else "")
            cves = ", ".join(c.removeprefix("CVE-2017-") for c in f.cves) or "all"
            table.add_row(safe(f.product), safe(f.fixed_version or "-"), safe(status), cves, _date(f.date),
                          safe(f.confidence), safe(" ".join(x for x in (f.advisory_id, f.url) if x)))
        out.print(table)
    models = kb.vendor_models(vendor)
    if models:
        table = Table(title="Models")
        for col in ("model", "status", "CSAF", "remediation", "date", "source"):
            table.add_column(col, overflow="fold")
        for m in models:
            status = m.status + (f" (superseded by {m.superseded_by})" if m.superseded_by else "")
            table.add_row(safe(m.model), safe(status), m.csaf_status.value,
                          m.remediation.value if m.remediation else "-", _date(m.date), safe(m.source))
        out.print(table)
    modes = kb.mode_impacts(vendor)
    if modes:
        table = Table(title="Operating modes (vendor statement; CVEs inferred)")
        for col in ("mode", "statement", "CVEs", "action"):
            table.add_column(col, overflow="fold")
        for mode in modes:
            table.add_row(safe(mode.mode), safe(mode.statement), safe(mode.cves), safe(mode.action))
        out.print(table)


def _show_document(kb: KnowledgeBase, doc_id: str) -> None:
    out = stdout_console()
    doc = kb.document(doc_id)
    assert doc is not None
    info, document = doc.info, doc.csaf["document"]
    out.print(f"[bold]{safe(info.id)}[/bold]: {safe(info.title)}")
    facts = Table(show_header=False, box=None)
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    facts.add_row("publisher", f"{safe(info.publisher)} ({safe(info.publisher_category)}, {safe(info.publisher_namespace)})")
    facts.add_row("version", safe(info.version))
    facts.add_row("released", f"{_date(info.initial_release_date)}, current {_date(info.current_release_date)}")
    facts.add_row("products", str(info.products))
    facts.add_row("vulnerabilities", str(info.vulnerabilities))
    facts.add_row("references", str(len(document.get("references", ()))))
    facts.add_row("file", safe(info.path) + (" (bundled)" if info.bundled else " (imported)"))
    out.print(facts)
    for note in document.get("notes", ()):
        out.print(f"[bold]{safe(note.get('title', note['category']))}[/bold]: {safe(note['text'])}")


# --- import / export -----------------------------------------------------------------------------------------------


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A vendor's CSAF 2.0 JSON file.", show_default=False)],
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Validate a CSAF 2.0 file and add its products to the knowledge base (in the user data directory)."""
    data_dir = user_data_dir(os.environ)
    with _errors():
        report = import_document(file, data_dir, KnowledgeBase(data_dir))
    if fmt is OutputFormat.json:
        return _print_json(report)
    out = stdout_console()
    info = report.document
    out.print(f"imported [bold]{safe(info.id)}[/bold] ({safe(info.title)}), released "
              f"{_date(info.current_release_date)}: {report.statements} statements, {report.product_fixes} "
              f"product fixes, {report.model_statuses} model statuses; stored as {safe(report.stored_at)}")
    if report.replaced:
        out.print(f"replaced the earlier import {safe(report.replaced)}")
    if report.conflicts:
        table = Table(title=f"{len(report.conflicts)} conflicts (the later document release wins)")
        for col in ("vendor", "product", "CVEs", "existing", "imported", "winner"):
            table.add_column(col, overflow="fold")
        for c in report.conflicts:
            cves = ", ".join(x.removeprefix("CVE-2017-") for x in c.cves)
            table.add_row(
                safe(c.vendor), safe(c.product), cves,
                f"{c.existing.status.value} ({safe(c.existing.document)}, {_date(c.existing.date)})",
                f"{c.incoming.status.value} ({safe(c.incoming.document)}, {_date(c.incoming.date)})",
                "imported" if c.winner == "incoming" else "existing",
            )
        out.print(table)
    return None


@app.command()
def export(
    document: Annotated[str | None, typer.Option("--document", "-d", help="Export only this document.")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here instead of stdout; an existing directory gets one file "
                     "per document (unless --document is given)."),
    ] = None,
) -> None:
    """Write the knowledge base as CSAF 2.0 JSON: all documents merged into one, or one document."""
    with _errors():
        kb = _kb().load()
        if output is not None and output.is_dir() and document is None:
            for doc in kb.loaded_documents():
                target = output / f"{file_stem(doc.info.id)}.json"
                _write(target, dumps(doc.csaf))
                stderr_console().print(f"wrote {safe(target)}")
            return
        csaf = export_document(kb, document) if document is not None else export_merged(kb)
        text = dumps(csaf)
        if output is None:
            sys.stdout.write(text)
        else:
            _write(output, text)
    return


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None


__all__ = ["app", "clean", "safe"]
