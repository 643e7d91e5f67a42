"""Evidence from the air: what passive analysis saw each station do, keyed by MAC address.

This is the merge point between a capture analysis and the fleet audit. The analysis (``krackwatch analyze``,
later) turns a capture into findings; the audit looks them up by the device's MAC address. An observed key
reinstallation outranks any advisory: the device is ``exposed`` whatever its vendor said.

Findings use the tri-state verdicts of DESIGN.md: ``vulnerable`` (reinstallation observed), ``not_vulnerable``
(the device was driven through the trigger and did not reinstall), ``inconclusive`` (capture too poor to tell).
Only ``vulnerable`` changes an audit verdict; the other two are kept as context in the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from krackwatch.advisories.kb import cve_id
from krackwatch.errors import KrackwatchError
from krackwatch.fleet.oui import normalize_mac

__all__ = ["Evidence", "EvidenceError", "Finding", "FindingVerdict"]


class EvidenceError(KrackwatchError):
    """A finding that cannot be used (bad MAC address, CVE that is not a KRACK CVE)."""


class FindingVerdict(StrEnum):
    """What one detector concluded about one station."""

    VULNERABLE = "vulnerable"
    NOT_VULNERABLE = "not_vulnerable"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class Finding:
    """One detector's conclusion about one station.

    ``rule`` names the detector (e.g. ``ptk-reinstall``); ``cves`` the KRACK CVEs it is evidence of;
    ``summary`` says in plain words what was seen; ``source`` where (a capture file name); ``frames`` the
    frame numbers that show it (1-based, as Wireshark counts).
    """

    rule: str
    cves: tuple[str, ...]
    verdict: FindingVerdict
    summary: str = ""
    source: str = ""
    frames: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """Findings per station MAC (lower-case colon form). Build with ``Evidence.of``."""

    by_mac: Mapping[str, tuple[Finding, ...]] = field(default_factory=lambda: MappingProxyType({}))
    seen: frozenset[str] = frozenset()  # stations heard on the air, with or without findings

    @classmethod
    def of(cls, items: Iterable[tuple[str, Finding]], seen: Iterable[str] = ()) -> Evidence:
        """Evidence from (MAC, finding) pairs and the MACs ``seen`` on the air; MACs in any common
        spelling, CVEs as ``cve_id`` accepts.

        Raises EvidenceError for a MAC that is not one or a CVE that is not a KRACK CVE.
        """
        grouped: dict[str, list[Finding]] = {}
        for mac, finding in items:
            norm = normalize_mac(mac)
            if norm is None:
                raise EvidenceError(f"evidence for {mac!r}: not a MAC address")
            cves = []
            for cve in finding.cves:
                canon = cve_id(cve)
                if canon is None:
                    raise EvidenceError(f"evidence for {norm} (rule {finding.rule!r}): {cve!r} is not a KRACK CVE")
                cves.append(canon)
            canon_cves = tuple(sorted(set(cves)))
            if canon_cves != finding.cves:
                finding = Finding(finding.rule, canon_cves, FindingVerdict(finding.verdict), finding.summary,
                                  finding.source, finding.frames)
            grouped.setdefault(norm, []).append(finding)
        heard = set()
        for mac in seen:
            norm = normalize_mac(mac)
            if norm is None:
                raise EvidenceError(f"station seen on the air {mac!r}: not a MAC address")
            heard.add(norm)
        return cls(MappingProxyType({mac: tuple(found) for mac, found in grouped.items()}),
                   frozenset(heard | grouped.keys()))

    def for_mac(self, mac: str | None) -> tuple[Finding, ...]:
        """Findings for a normalised MAC (empty when none or when ``mac`` is None)."""
        if mac is None:
            return ()
        return self.by_mac.get(mac, ())

    def macs(self) -> Iterator[str]:
        """Every station the evidence knows: with findings or only heard on the air."""
        return iter(self.seen | self.by_mac.keys())

    def __len__(self) -> int:
        return len(self.seen | self.by_mac.keys())

    def __bool__(self) -> bool:
        return bool(self.by_mac) or bool(self.seen)
