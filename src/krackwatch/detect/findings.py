"""What passive analysis concludes: findings with evidence, and the capture-quality preflight.

A :class:`Finding` is one rule's verdict about one device (and, for pairwise rules, its peer): tri-state
(``vulnerable``, ``not_vulnerable``, ``inconclusive``), with the frames that show it, the benign explanations
that were considered (ruled out or still possible) and what is missing for a firmer verdict. Frame numbers
count from 1 across all captures analysed, in the order given (as ``mergecap -a`` would number them); each
:class:`FrameRef` also names its capture file and its number inside that file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from krackwatch.errors import InputError

__all__ = [
    "Benign",
    "Check",
    "CheckStatus",
    "Confidence",
    "Finding",
    "FrameRef",
    "KeystreamProof",
    "Preflight",
    "RuleKind",
    "Severity",
    "Verdict",
]


class Verdict(StrEnum):
    """Tri-state verdict of one rule about one device (DESIGN.md "Detection")."""

    VULNERABLE = "vulnerable"
    NOT_VULNERABLE = "not_vulnerable"
    INCONCLUSIVE = "inconclusive"


class Severity(IntEnum):
    """How bad it is when the verdict is ``vulnerable`` (or, for attack rules, when the attack is seen)."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise InputError(f"unknown severity {text!r}; use one of {', '.join(s.label for s in cls)}") from None


class Confidence(IntEnum):
    """How sure the evidence makes the verdict: ``high`` = confirmed (decryption, or ciphertext that cannot
    be a retransmission), ``medium`` = consistent but another reading remains, ``low`` = a hint."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class RuleKind(StrEnum):
    """What a rule judges: a device that reinstalls keys, an attack on the air, or a weak configuration."""

    REINSTALLATION = "reinstallation"
    ATTACK = "attack"
    CONFIGURATION = "configuration"


@dataclass(frozen=True, slots=True)
class FrameRef:
    """One frame of the evidence. ``role`` says what it shows (``original``, ``reuse``, ``trigger``, ...);
    ``pn`` is the CCMP/GCMP PN or TKIP TSC when the frame is protected; ``freq`` the channel centre
    frequency (MHz) when the capture records it; ``offset`` the record's byte offset in its file."""

    frame: int
    ts_ns: int
    role: str
    capture: int = 0
    capture_frame: int = 0
    offset: int | None = None
    pn: int | None = None
    seq: int | None = None
    retry: bool | None = None
    tid: int | None = None
    freq: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class KeystreamProof:
    """Keystream reuse confirmed with the key: both frames decrypt under the same temporal key with the same
    nonce, and plaintext XOR plaintext equals ciphertext XOR ciphertext over their common length."""

    frames: tuple[int, int]
    length: int
    ciphertext_xor: str  # hex of the first octets (at most 32) of C1 XOR C2
    plaintext_xor: str  # hex of the same octets of P1 XOR P2
    equal: bool  # over the whole common length, not only the octets shown


@dataclass(frozen=True, slots=True)
class Benign:
    """A harmless reading of the evidence, and whether this finding's frames rule it out."""

    explanation: str
    ruled_out: bool
    why: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's conclusion about one device. ``device`` is the MAC address the verdict is about (the
    station that reinstalls, the AP that is cloned or misconfigured); ``transmitter``/``receiver`` name the
    link the evidence travels on; ``counts`` and ``details`` are small name/value tables."""

    rule: str
    title: str
    cves: tuple[str, ...]
    kind: RuleKind
    verdict: Verdict
    severity: Severity
    confidence: Confidence
    summary: str
    device: str | None = None
    transmitter: str | None = None
    receiver: str | None = None
    bssid: str | None = None
    ssid: str | None = None
    evidence: tuple[FrameRef, ...] = ()
    counts: tuple[tuple[str, int], ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    benign: tuple[Benign, ...] = ()
    missing: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    proof: KeystreamProof | None = None

    @property
    def frames(self) -> tuple[int, ...]:
        """Frame numbers of the evidence, ascending, each once."""
        return tuple(sorted({e.frame for e in self.evidence}))

    @property
    def first_ts_ns(self) -> int | None:
        return min((e.ts_ns for e in self.evidence), default=None)

    @property
    def last_ts_ns(self) -> int | None:
        return max((e.ts_ns for e in self.evidence), default=None)

    def at_or_above(self, severity: Severity) -> bool:
        """Counts for ``--fail-on``: a vulnerable verdict, or an attack seen on the air, of this severity."""
        if self.severity < severity:
            return False
        return self.verdict == Verdict.VULNERABLE or (self.kind == RuleKind.ATTACK
                                                      and self.verdict != Verdict.NOT_VULNERABLE)


class CheckStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    """One preflight check: a name rules can depend on, its status, a sentence, and a small table."""

    name: str
    status: CheckStatus
    summary: str
    details: tuple[tuple[str, str], ...] = ()
    affects: tuple[str, ...] = ()  # MAC addresses it fails for (empty: the whole capture)


@dataclass(frozen=True, slots=True)
class Preflight:
    """Capture quality, checked before any verdict is trusted."""

    checks: tuple[Check, ...]
    captures: tuple[str, ...]
    frames: int
    linktypes: tuple[tuple[str, int], ...]
    channels: tuple[int, ...]  # centre frequencies (MHz) seen in radio headers
    first_ts_ns: int | None
    last_ts_ns: int | None

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def failed_for(self, name: str, *macs: str | None) -> bool:
        """Whether check ``name`` failed for the whole capture or for one of ``macs``."""
        c = self.check(name)
        if c is None or c.status != CheckStatus.FAIL:
            return False
        return not c.affects or any(m in c.affects for m in macs if m)
