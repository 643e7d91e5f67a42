"""krackwatch.detect: passive KRACK analysis of captures.

A capture-quality preflight, sessions keyed by (BSSID, STA, key epoch), PN streams per (transmitter,
receiver, key id, TID), and detectors as rules with metadata (:mod:`krackwatch.detect.rules`) whose findings
carry their evidence (:mod:`krackwatch.detect.findings`). Entry point: :func:`analyse`.
"""

from krackwatch.detect.analyzer import Analysis, Analyzer, analyse
from krackwatch.detect.findings import (
    Benign,
    Check,
    CheckStatus,
    Confidence,
    Finding,
    FrameRef,
    KeystreamProof,
    Preflight,
    RuleKind,
    Severity,
    Verdict,
)
from krackwatch.detect.rules import RULES, Rule, select_rules

__all__ = [
    "RULES",
    "Analysis",
    "Analyzer",
    "Benign",
    "Check",
    "CheckStatus",
    "Confidence",
    "Finding",
    "FrameRef",
    "KeystreamProof",
    "Preflight",
    "Rule",
    "RuleKind",
    "Severity",
    "Verdict",
    "analyse",
    "select_rules",
]
