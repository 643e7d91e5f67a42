"""Render an analysis (``krackwatch analyze``): table, versioned JSON, JSON Lines, SARIF 2.1.0, Markdown.

One model (:class:`krackwatch.detect.Analysis`) in, one renderer per :class:`AnalyzeFormat` member out
(:data:`RENDERERS`; a test holds that every member has one). SSIDs and every other string that came off the
air are attacker-controlled: the table escapes terminal control and rich markup, Markdown escapes its own
syntax, JSON and SARIF leave escaping to the JSON encoder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from krackwatch.detect import Analysis, Check, Finding, FrameRef, RuleKind, Severity, Verdict
from krackwatch.detect.rules import RULES
from krackwatch.report.text import printable

__all__ = [
    "ANALYZE_SCHEMA",
    "RENDERERS",
    "SARIF_SCHEMA",
    "AnalyzeFormat",
    "analysis_dict",
    "finding_dict",
    "preflight_dict",
    "render",
    "summary_counts",
]

ANALYZE_SCHEMA = "krackwatch.analyze/1"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_INFO_URI = "https://www.krackattacks.com/"


class AnalyzeFormat(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    sarif = "sarif"
    markdown = "markdown"


def _iso(ts_ns: int | None) -> str | None:
    if ts_ns is None:
        return None
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).isoformat(timespec="microseconds")


def _ref_dict(r: FrameRef, captures: tuple[str, ...]) -> dict[str, Any]:
    return {
        "frame": r.frame,
        "capture": captures[r.capture] if r.capture < len(captures) else None,
        "capture_frame": r.capture_frame,
        "offset": r.offset,
        "time": _iso(r.ts_ns),
        "time_ns": r.ts_ns,
        "role": r.role,
        "pn": r.pn,
        "seq": r.seq,
        "retry": r.retry,
        "tid": r.tid,
        "freq_mhz": r.freq,
        "note": r.note,
    }


def finding_dict(f: Finding, captures: tuple[str, ...] = ()) -> dict[str, Any]:
    """A finding as JSON: the contract's fields first, then the rest of its evidence."""
    return {
        "rule": f.rule,
        "title": f.title,
        "cves": list(f.cves),
        "verdict": f.verdict.value,
        "severity": f.severity.label,
        "confidence": f.confidence.label,
        "transmitter": f.transmitter,
        "receiver": f.receiver,
        "bssid": f.bssid,
        "frames": list(f.frames),
        "evidence": [_ref_dict(r, captures) for r in f.evidence],
        "kind": f.kind.value,
        "device": f.device,
        "ssid": f.ssid,
        "summary": f.summary,
        "first_seen": _iso(f.first_ts_ns),
        "last_seen": _iso(f.last_ts_ns),
        "counts": dict(f.counts),
        "details": dict(f.details),
        "benign_explanations": [{"explanation": b.explanation, "ruled_out": b.ruled_out, "why": b.why}
                                for b in f.benign],
        "missing": list(f.missing),
        "depends_on": list(f.depends_on),
        "keystream_proof": None if f.proof is None else {
            "frames": list(f.proof.frames), "length": f.proof.length, "ciphertext_xor": f.proof.ciphertext_xor,
            "plaintext_xor": f.proof.plaintext_xor, "equal": f.proof.equal},
    }


def _check_dict(c: Check) -> dict[str, Any]:
    return {"name": c.name, "status": c.status.value, "summary": c.summary, "details": dict(c.details),
            "affects": list(c.affects)}


def preflight_dict(a: Analysis) -> dict[str, Any]:
    pf = a.preflight
    return {
        "captures": list(pf.captures),
        "frames": pf.frames,
        "linktypes": dict(pf.linktypes),
        "channels_mhz": list(pf.channels),
        "first": _iso(pf.first_ts_ns),
        "last": _iso(pf.last_ts_ns),
        "checks": [_check_dict(c) for c in pf.checks],
    }


def summary_counts(a: Analysis) -> dict[str, int]:
    out = {v.value: 0 for v in Verdict}
    for f in a.findings:
        out[f.verdict.value] += 1
    out["attacks"] = sum(1 for f in a.findings if f.kind == RuleKind.ATTACK and f.verdict != Verdict.NOT_VULNERABLE)
    out["findings"] = len(a.findings)
    return out


def analysis_dict(a: Analysis, *, tool_version: str = "") -> dict[str, Any]:
    return {
        "schema": ANALYZE_SCHEMA,
        "tool": {"name": "krackwatch", "version": tool_version},
        "captures": list(a.captures),
        "keys_given": a.keys_given,
        "rules": list(a.rules),
        "summary": summary_counts(a),
        "counts": dict(a.counts),
        "errors": list(a.errors),
        "findings": [finding_dict(f, a.captures) for f in a.findings],
        "preflight": preflight_dict(a),
    }


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# ------------------------------------------------------------------------------------------------ JSON


def render_json(a: Analysis, out: TextIO, *, tool_version: str = "", **_: Any) -> None:
    out.write(json.dumps(analysis_dict(a, tool_version=tool_version), indent=2, ensure_ascii=False) + "\n")


def render_jsonl(a: Analysis, out: TextIO, *, tool_version: str = "", **_: Any) -> None:
    """One JSON object per line: the run, the preflight, each finding, the summary (``type`` tells which)."""
    out.write(_dumps({"type": "run", "schema": ANALYZE_SCHEMA, "tool": {"name": "krackwatch", "version": tool_version},
                      "captures": list(a.captures), "keys_given": a.keys_given, "rules": list(a.rules)}) + "\n")
    out.write(_dumps({"type": "preflight", **preflight_dict(a)}) + "\n")
    out.writelines(_dumps({"type": "finding", **finding_dict(f, a.captures)}) + "\n" for f in a.findings)
    out.write(_dumps({"type": "summary", **summary_counts(a), "counts": dict(a.counts),
                      "errors": list(a.errors)}) + "\n")


# ------------------------------------------------------------------------------------------------ SARIF


def _artifact_uri(path: str) -> str:
    p = Path(path)
    if p.is_absolute():
        return p.as_uri()
    return quote(path.replace("\\", "/"), safe="/:._-~")


_SEVERITY_SCORE = {Severity.INFO: 0.0, Severity.LOW: 3.0, Severity.MEDIUM: 5.5, Severity.HIGH: 8.0,
                   Severity.CRITICAL: 9.5}


def _sarif_level(f: Finding) -> tuple[str, str]:
    """(kind, level): SARIF wants level "none" unless kind is "fail"."""
    if f.verdict == Verdict.NOT_VULNERABLE:
        return "pass", "none"
    if f.verdict == Verdict.VULNERABLE or f.kind == RuleKind.ATTACK:
        if f.severity >= Severity.HIGH:
            return "fail", "error"
        return "fail", "warning" if f.severity == Severity.MEDIUM else "note"
    return "review", "none"


def _location(r: FrameRef, a: Analysis, text: str | None = None) -> dict[str, Any]:
    loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": _artifact_uri(a.captures[r.capture]),
                                                                      "index": r.capture}}}
    if r.offset is not None:
        loc["physicalLocation"]["region"] = {"byteOffset": r.offset}
    loc["message"] = {"text": text or f"frame {r.frame} ({r.role})"}
    return loc


def render_sarif(a: Analysis, out: TextIO, *, tool_version: str = "", **_: Any) -> None:
    rules = list(RULES.values())
    index = {r.id: i for i, r in enumerate(rules)}
    driver = {
        "name": "krackwatch",
        "version": tool_version or "0",
        "semanticVersion": tool_version or "0.0.0",
        "informationUri": _INFO_URI,
        "rules": [{
            "id": r.id,
            "name": "".join(w.capitalize() for w in r.id.split("-")),
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": r.description},
            "help": {"text": "Benign explanations to weigh: " + "; ".join(r.benign)},
            "helpUri": _INFO_URI,
            "defaultConfiguration": {"enabled": r.default_on,
                                     "level": "error" if r.severity >= Severity.HIGH else (
                                         "warning" if r.severity == Severity.MEDIUM else "note")},
            "properties": {"tags": ["security", "KRACK", r.kind.value, *r.cves], "cves": list(r.cves),
                           "kind": r.kind.value, "severity": r.severity.label,
                           "security-severity": f"{_SEVERITY_SCORE[r.severity]:.1f}"},
        } for r in rules],
    }
    results = []
    for f in a.findings:
        kind, level = _sarif_level(f)
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "kind": kind,
            "level": level,
            "message": {"text": f"{f.verdict.value}: {f.summary}"},
            "partialFingerprints": {"krackwatchFinding/v1": f"{f.rule}|{f.device}|{f.receiver}"},
            "properties": {
                "verdict": f.verdict.value, "severity": f.severity.label, "confidence": f.confidence.label,
                "cves": list(f.cves), "kind": f.kind.value, "device": f.device, "transmitter": f.transmitter,
                "receiver": f.receiver, "bssid": f.bssid, "ssid": f.ssid, "frames": list(f.frames),
                "counts": dict(f.counts), "details": dict(f.details),
                "benign_explanations": [{"explanation": b.explanation, "ruled_out": b.ruled_out, "why": b.why}
                                        for b in f.benign],
                "missing": list(f.missing), "depends_on": list(f.depends_on),
                "security-severity": f"{_SEVERITY_SCORE[f.severity]:.1f}",
            },
        }
        if f.proof is not None:
            result["properties"]["keystream_proof"] = {
                "frames": list(f.proof.frames), "length": f.proof.length,
                "ciphertext_xor": f.proof.ciphertext_xor, "plaintext_xor": f.proof.plaintext_xor,
                "equal": f.proof.equal}
        if f.evidence:
            result["locations"] = [_location(f.evidence[0], a, _ref_text(f.evidence[0]))]
            if len(f.evidence) > 1:
                result["relatedLocations"] = [dict(_location(r, a, _ref_text(r)), id=i)
                                              for i, r in enumerate(f.evidence[1:], 1)]
        if f.device:
            result.setdefault("locations", [{}])
            result["locations"][0]["logicalLocations"] = [{"name": f.device, "kind": "device",
                                                           "fullyQualifiedName": f"{f.bssid or '-'}/{f.device}"}]
        results.append(result)
    notes = [{"level": "error" if c.status.value == "fail" else "warning",
              "message": {"text": f"preflight {c.name}: {c.summary}"}}
             for c in a.preflight.checks if c.status.value != "pass"]
    notes += [{"level": "error", "message": {"text": e}} for e in a.errors]
    run = {
        "tool": {"driver": driver},
        "artifacts": [{"location": {"uri": _artifact_uri(c)}, "roles": ["analysisTarget"]} for c in a.captures],
        "results": results,
        "invocations": [{"executionSuccessful": not a.errors, "toolExecutionNotifications": notes}],
        "properties": {"schema": ANALYZE_SCHEMA, "preflight": preflight_dict(a), "summary": summary_counts(a),
                       "keys_given": a.keys_given},
    }
    out.write(json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=1,
                         ensure_ascii=False) + "\n")


def _ref_text(r: FrameRef) -> str:
    parts = [f"frame {r.frame}", r.role]
    if r.pn is not None:
        parts.append(f"PN {r.pn}")
    if r.note:
        parts.append(r.note)
    return ": ".join((parts[0], ", ".join(parts[1:])))


# ------------------------------------------------------------------------------------------------ Markdown

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]#!|<>~"})


def _md(value: object) -> str:
    """Text safe inside Markdown (tables included): control characters shown, inline syntax escaped, and a
    leading list or numbered-list marker too (``-``, ``+``, ``12.``)."""
    text = printable("" if value is None else str(value)).translate(_MD_SPECIAL)
    if text[:1] in ("-", "+"):
        return "\\" + text
    digits = len(text) - len(text.lstrip("0123456789"))
    if digits and text[digits:digits + 1] in (".", ")"):
        return text[:digits] + "\\" + text[digits:]
    return text


def _refs_line(f: Finding, limit: int = 8) -> str:
    frames = list(f.frames)
    text = ", ".join(str(n) for n in frames[:limit])
    return text + (f" (+{len(frames) - limit})" if len(frames) > limit else "")


def render_markdown(a: Analysis, out: TextIO, *, tool_version: str = "", **_: Any) -> None:
    counts = summary_counts(a)
    w = out.write
    w("# krackwatch analysis\n\n")
    w(f"- Captures: {', '.join(_md(c) for c in a.captures)}\n")
    w(f"- Frames: {a.frames}; keys given: {'yes' if a.keys_given else 'no'}; krackwatch {_md(tool_version)}\n")
    w(f"- Findings: {counts['findings']} ({counts['vulnerable']} vulnerable, {counts['not_vulnerable']} not "
      f"vulnerable, {counts['inconclusive']} inconclusive; {counts['attacks']} attack observations)\n")
    for e in a.errors:
        w(f"- Error: {_md(e)}\n")
    w("\n## Preflight\n\n| check | status | result |\n|---|---|---|\n")
    for c in a.preflight.checks:
        w(f"| {_md(c.name)} | {c.status.value} | {_md(c.summary)} |\n")
    w(f"\n## Findings ({len(a.findings)})\n\n")
    if not a.findings:
        w("No finding.\n")
        return
    w("| # | rule | verdict | severity | confidence | device | frames |\n|---|---|---|---|---|---|---|\n")
    for i, f in enumerate(a.findings, 1):
        w(f"| {i} | {_md(f.rule)} | {f.verdict.value} | {f.severity.label} | {f.confidence.label} | "
          f"{_md(f.device or '-')} | {_md(_refs_line(f))} |\n")
    for i, f in enumerate(a.findings, 1):
        w(f"\n### {i}. {_md(f.title)} ({_md(f.rule)})\n\n")
        w(f"**{f.verdict.value}** -- severity {f.severity.label}, confidence {f.confidence.label}"
          + (f", {', '.join(f.cves)}" if f.cves else "") + "\n\n")
        w(f"{_md(f.summary)}\n\n")
        who = [("device", f.device), ("transmitter", f.transmitter), ("receiver", f.receiver), ("BSSID", f.bssid),
               ("SSID", f.ssid)]
        w("- " + "; ".join(f"{k}: {_md(v)}" for k, v in who if v) + "\n")
        if f.counts:
            w("- counts: " + ", ".join(f"{_md(k)} {v}" for k, v in f.counts) + "\n")
        if f.details:
            w("- details: " + ", ".join(f"{_md(k)} {_md(v)}" for k, v in f.details) + "\n")
        if f.proof is not None:
            p = f.proof
            w(f"- keystream proof (frames {p.frames[0]} and {p.frames[1]}, {p.length} octets): C1 XOR C2 = "
              f"`{p.ciphertext_xor}`..., P1 XOR P2 = `{p.plaintext_xor}`... -- "
              f"{'equal' if p.equal else 'NOT equal'}\n")
        if f.evidence:
            w("\n| frame | time (UTC) | role | PN | seq | retry | MHz | note |\n|---|---|---|---|---|---|---|---|\n")
            for r in f.evidence:
                w(f"| {r.frame} | {_md(_iso(r.ts_ns))} | {_md(r.role)} | {'' if r.pn is None else r.pn} | "
                  f"{'' if r.seq is None else r.seq} | {'' if r.retry is None else ('yes' if r.retry else 'no')} | "
                  f"{'' if r.freq is None else r.freq} | {_md(r.note)} |\n")
        if f.benign:
            w("\nBenign explanations:\n\n")
            for b in f.benign:
                w(f"- {'ruled out' if b.ruled_out else 'possible'}: {_md(b.explanation)}"
                  + (f" -- {_md(b.why)}" if b.why else "") + "\n")
        if f.missing:
            w("\nMissing for a firmer verdict:\n\n" + "".join(f"- {_md(m)}\n" for m in f.missing))
        if f.depends_on:
            w(f"\nDepends on failed preflight checks: {', '.join(_md(d) for d in f.depends_on)}\n")


# ------------------------------------------------------------------------------------------------ table

_VERDICT_STYLE = {Verdict.VULNERABLE: "bold red", Verdict.NOT_VULNERABLE: "green", Verdict.INCONCLUSIVE: "yellow"}
_STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}


def table_renderable(a: Analysis) -> Group:
    counts = summary_counts(a)
    head = Text(f"{a.frames} frames from {', '.join(printable(c) for c in a.captures)}; keys given: "
                f"{'yes' if a.keys_given else 'no'}; {counts['findings']} findings: {counts['vulnerable']} vulnerable, "
                f"{counts['not_vulnerable']} not vulnerable, {counts['inconclusive']} inconclusive")
    pre = Table(title="Preflight", show_lines=False)
    pre.add_column("check")
    pre.add_column("status")
    pre.add_column("result", overflow="fold")
    for c in a.preflight.checks:
        pre.add_row(c.name, Text(c.status.value, style=_STATUS_STYLE.get(c.status.value, "")),
                    Text(printable(c.summary)))
    parts: list[Any] = [head, pre]
    if a.findings:
        t = Table(title="Findings", show_lines=True)
        for col in ("rule", "verdict", "severity", "device", "frames", "summary"):
            t.add_column(col, overflow="fold")
        for f in a.findings:
            dev = printable(f.device or "-") + (f"\n{printable(f.ssid)}" if f.ssid else "")
            t.add_row(
                Text(f.rule),
                Text(f.verdict.value, style=_VERDICT_STYLE[f.verdict]),
                Text(f"{f.severity.label}\n{f.confidence.label} confidence"),
                Text(dev),
                Text(_refs_line(f, 6)),
                Text(printable(f.summary) + (f"\nmissing: {printable('; '.join(f.missing))}" if f.missing else "")),
            )
        parts.append(t)
    else:
        parts.append(Text("No finding."))
    for e in a.errors:
        parts.append(Text(f"error: {printable(e)}", style="bold red"))
    return Group(*parts)


def render_table(a: Analysis, out: TextIO, *, color: bool = False, width: int | None = None, **_: Any) -> None:
    console = Console(file=out, no_color=not color, color_system="auto" if color else None, highlight=False,
                      soft_wrap=False, width=width or 120, force_terminal=color)
    console.print(table_renderable(a))


RENDERERS: dict[AnalyzeFormat, Callable[..., None]] = {
    AnalyzeFormat.table: render_table,
    AnalyzeFormat.json: render_json,
    AnalyzeFormat.jsonl: render_jsonl,
    AnalyzeFormat.sarif: render_sarif,
    AnalyzeFormat.markdown: render_markdown,
}


def render(fmt: AnalyzeFormat, a: Analysis, out: TextIO, *, tool_version: str = "", color: bool = False,
           width: int | None = None) -> None:
    """Write ``a`` to ``out`` in ``fmt``."""
    RENDERERS[AnalyzeFormat(fmt)](a, out, tool_version=tool_version, color=color, width=width)

