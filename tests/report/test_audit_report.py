"""Every report format of an audit: the public JSON contract, schema validity (SARIF 2.1.0 and CycloneDX 1.6,
offline copies in tests/data/schemas), and that attacker-controlled strings (a script tag, a spreadsheet
formula, an ANSI escape, rich markup) come out inert in each format."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft4Validator, Draft7Validator, FormatChecker
from referencing import Registry, Resource

from krackwatch.advisories import KRACK_CVES, bundled_knowledge_base
from krackwatch.fleet.audit import AuditRecord
from krackwatch.fleet.rules import Exposure, Remediation, RemediationKind
from krackwatch.report.audit import WRITERS, AuditFormat, csv_cell, md, render_audit, safe_href

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "schemas"
# The names conftest.py gives the devices (repeated here: conftest is not importable under importlib mode).
SCRIPT = "<script>alert(1)</script>"
FORMULA = "=cmd|' /C calc'!A0"
ANSI = "\x1b[31mred\x1b[0m-cam"
MARKUP = "[bold red]loud[/bold red]"


def render(fmt: AuditFormat, fleet, records=None) -> str:
    out = io.StringIO()
    render_audit(fmt, out, fleet.meta, records if records is not None else fleet.result.records, fleet.tail,
                 kb=bundled_knowledge_base(), width=200)
    return out.getvalue()


def test_every_format_has_a_renderer(fleet) -> None:
    assert set(WRITERS) == set(AuditFormat)
    for fmt in AuditFormat:
        text = render(fmt, fleet)
        assert text.strip(), fmt
        assert "\x1b" not in text, fmt  # no raw ANSI escape reaches any output


def test_empty_audit_renders_in_every_format(fleet) -> None:
    for fmt in AuditFormat:
        text = render(fmt, fleet, records=[])
        if fmt in (AuditFormat.json, AuditFormat.sarif, AuditFormat.cyclonedx_json):
            json.loads(text)


# --------------------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------------------


def test_json_contract(fleet) -> None:
    doc = json.loads(render(AuditFormat.json, fleet))
    assert doc["schema_version"] == 1 and doc["run"]["id"] == 7
    devices = doc["devices"]
    assert len(devices) == len(fleet.result.records) == 5
    for d in devices:
        assert {"name", "vendor", "model", "role", "verdict", "cves", "severity", "reason", "remediation"} <= set(d)
        assert d["verdict"] in {e.value for e in Exposure}
        assert set(d["cves"]) <= set(KRACK_CVES)
        assert all({"kind", "text", "url"} == set(r) for r in d["remediation"])
    assert [d["name"] for d in devices] == [SCRIPT, FORMULA, ANSI, MARKUP, "plain-bridge"]  # data kept verbatim
    assert doc["invalid_rows"] == [{"line": 7, "reason": doc["invalid_rows"][0]["reason"], "where": ""}]
    assert "missing name" in doc["invalid_rows"][0]["reason"]
    assert [u["mac"] for u in doc["unlisted"]] == ["b8:27:eb:00:00:09"]
    assert doc["unlisted"][0]["vendor"] == "Raspberry Pi Foundation"
    assert doc["summary"]["devices"] == 5 and sum(doc["summary"]["by_verdict"].values()) == 5
    by_name = {d["name"]: d for d in devices}
    assert by_name["plain-bridge"]["verdict"] == "exposed" and by_name["plain-bridge"]["source"] == "evidence"


def test_json_is_ascii(fleet) -> None:
    assert render(AuditFormat.json, fleet).isascii()


# --------------------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1", "@SUM(A1)", "\t=x", "'=x", "''+x"])
def test_csv_cells_never_start_a_formula(value: str) -> None:
    assert csv_cell(value).startswith("'")


def test_csv_output(fleet) -> None:
    text = render(AuditFormat.csv, fleet)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == 5
    for row in rows:
        for cell in row.values():
            assert not cell or cell[0] not in "=+-@\t\r", cell
    names = [r["name"] for r in rows]
    assert names[0] == SCRIPT and names[1] == "'" + FORMULA and names[2] == "\\x1b[31mred\\x1b[0m-cam"
    assert rows[1]["site"] == "'@SUM(1+1)"
    assert text.endswith("\r\n")


# --------------------------------------------------------------------------------------------------------
# Markdown and terminal
# --------------------------------------------------------------------------------------------------------


def test_markdown_output(fleet) -> None:
    text = render(AuditFormat.markdown, fleet)
    assert "<script" not in text and "&lt;script&gt;" in text
    assert "<b>" not in text and "Yard \\| &lt;b&gt;" in text
    assert "\\[bold red\\]" in text
    for line in text.splitlines():
        if line.startswith("| ") and "reason" not in line:
            assert line.count(" | ") >= 1
    assert md("a|b\nc") == "a\\|b c"


def test_table_output_keeps_markup_literal(fleet) -> None:
    text = render(AuditFormat.table, fleet)
    assert MARKUP in text  # shown, not interpreted
    assert "\\x1b[31mred" in text
    assert "5 devices:" in text and "b8:27:eb:00:00:09" in text


# --------------------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------------------


def test_html_is_self_contained_and_escaped(fleet) -> None:
    page = render(AuditFormat.html, fleet)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "=cmd|&#39; /C calc&#39;!A0" in page
    assert "\\x1b[31mred" in page and "\x1b" not in page
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1)
    assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
    style = re.search(r"<style>(.*?)</style>", page, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    # Nothing is fetched: no external stylesheets, images or scripts.
    assert not re.search(r'\b(src|srcset)=', page)
    assert not re.search(r'<link\b', page)
    assert page.count("<svg") == 3 and page.count('<tr class="row-') == 5
    assert "Raspberry Pi Foundation" in page


def test_only_http_links_become_links(fleet) -> None:
    record = fleet.result.records[0]
    evil = replace(record.verdict, remediation=(
        Remediation(RemediationKind.UPDATE_FIRMWARE, "update", "javascript:alert(1)"),
        Remediation(RemediationKind.ASK_VENDOR, "ask", 'https://vendor.example/"onmouseover="alert(1)'),
    ))
    page = render(AuditFormat.html, fleet, records=[AuditRecord(record.device, evil, record.key)])
    assert "javascript:" not in page
    assert 'href="https://vendor.example/&#34;onmouseover=&#34;alert(1)"' in page
    assert safe_href("JavaScript:alert(1)") is None and safe_href("https://a b") is None
    assert safe_href("https://x.example/p?q=1") == "https://x.example/p?q=1"
    markdown = render(AuditFormat.markdown, fleet, records=[AuditRecord(record.device, evil, record.key)])
    assert "javascript" not in markdown.lower()
    assert "](<https://vendor.example/\"onmouseover=\"alert(1)>)" in markdown


# --------------------------------------------------------------------------------------------------------
# SARIF and CycloneDX
# --------------------------------------------------------------------------------------------------------


def _load(name: str):
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def test_sarif_validates_and_points_at_inventory_lines(fleet) -> None:
    doc = json.loads(render(AuditFormat.sarif, fleet))
    errors = list(Draft4Validator(_load("sarif-schema-2.1.0.json"), registry=Registry()).iter_errors(doc))
    assert errors == []
    results = doc["runs"][0]["results"]
    expected = [r for r in fleet.result.records if r.verdict.verdict in
                (Exposure.EXPOSED, Exposure.PATCH_AVAILABLE, Exposure.UNKNOWN)]
    assert len(results) == len(expected)
    for result, record in zip(results, expected, strict=True):
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] == record.device.source_line
        assert result["properties"]["verdict"] == record.verdict.verdict.value
    assert urlsplit(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]).path.endswith(
        "evil%20fleet.csv")
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == 1 and "line 7" in notes[0]["message"]["text"]


def test_cyclonedx_validates_and_carries_verdicts(fleet) -> None:
    doc = json.loads(render(AuditFormat.cyclonedx_json, fleet))
    fmt = FormatChecker()
    if "uri" not in fmt.checkers:
        fmt.checks("uri")(lambda s: not isinstance(s, str) or bool(urlsplit(s).scheme))
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in map(_load, ("spdx.schema.json", "jsf-0.82.schema.json")))
    errors = list(Draft7Validator(_load("bom-1.6.schema.json"), registry=registry, format_checker=fmt)
                  .iter_errors(doc))
    assert errors == []
    comps = doc["components"]
    assert len(comps) == 5 and all(c["type"] == "device" for c in comps)
    for comp, record in zip(comps, fleet.result.records, strict=True):
        props = {p["name"]: p["value"] for p in comp["properties"]}
        assert props["krackwatch:verdict"] == record.verdict.verdict.value
        assert comp["name"] == record.device.name
    refs = {c["bom-ref"] for c in comps}
    vulns = doc["vulnerabilities"]
    assert {v["id"] for v in vulns} <= set(KRACK_CVES)
    for v in vulns:
        assert {a["ref"] for a in v["affects"]} <= refs
        assert v["ratings"][0]["score"] == bundled_knowledge_base().cve(v["id"]).cvss_v3.score


# --------------------------------------------------------------------------------------------------------
# Escaping properties
# --------------------------------------------------------------------------------------------------------

from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_escapers_on_any_text(text: str) -> None:
    cell = csv_cell(text)
    assert not cell or cell[0] not in "=+-@\t\r"
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in cell)
    out = md(text)
    assert "<" not in out and ">" not in out and "\n" not in out
    assert not any(ord(c) < 0x20 for c in out)
    # Every pipe is escaped, so a cell never splits.
    assert all(out[i - 1] == "\\" for i, c in enumerate(out) if c == "|")
    href = safe_href(text)
    assert href is None or href.lower().startswith(("http://", "https://"))
