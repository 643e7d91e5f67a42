"""Exposure rules: one device, the advisory knowledge base and what was seen on the air -> one verdict.

Which CVEs can reach a device follows its role (the side of the handshakes it runs):

* Supplicant side (stations, cameras, DVRs, phones, laptops, IoT, client bridges, WDS stations, and the
  link ends of WDS bridges, repeaters and mesh nodes): CVE-2017-13077, -13078, -13080 (PTK/GTK in the 4-way
  and group-key handshakes), -13087 (GTK in WNM-Sleep Mode Response) and, unless the inventory says PMF
  (802.11w) is off, the IGTK variants -13079, -13081, -13088 (an IGTK exists only when PMF is negotiated).
  CVE-2017-13086 (TDLS TPK) only when the inventory has a ``tdls`` column saying yes: TDLS is an opt-in
  direct-link feature of some phones and laptops. CVE-2017-13084 (PeerKey STK) never: PeerKey was
  practically undeployed, hostap rates it not applicable and removed it in 2.7.
* Authenticator side (access points, WDS bridges, repeaters, mesh nodes): CVE-2017-13082 (FT reassociation,
  802.11r) unless the inventory says 802.11r is off. An AP in AP mode with 802.11r off is reached by no KRACK
  CVE at all: verdict ``mitigated`` (the firmware may still be affected in other modes; its clients must be
  patched).

Status resolution, first match wins (statements are dated facts, never claims about today):

1. Evidence from the air: an observed reinstallation makes the device ``exposed`` whatever the advisories say.
2. The vendor's per-model table (EnGenius 2017-10-17, or an imported CSAF model statement): fixed ->
   ``fixed``; affected with a vendor fix ("Available Now") -> ``patch_available`` (the table names no
   firmware version, so the device's firmware cannot prove the fix); affected without a fix ("In Progress")
   -> ``exposed``; not affected -> ``not_affected``.
3. Vendor fix records that concern the device (model named in the record, or the firmware names the
   product, e.g. "iOS 11.2" against Apple's iOS record, "RouterOS 6.40.4" against MikroTik's RouterOS
   record; firmware products of platform vendors are looked up at that vendor: Android security patch
   levels at the AOSP bulletin, iOS/macOS at Apple, RouterOS at MikroTik, wpa_supplicant/hostapd at hostap):
   firmware at or after every fixed version -> ``fixed``; older than one -> ``patch_available``; firmware
   that cannot be compared -> ``patch_available`` (a fix exists, installing it cannot be confirmed); only
   "planned"/"in progress" records -> ``exposed``.
4. Vendor-wide statements (CERT/CC VU#228519 record, then the community vendor-response list): "Not
   Affected" -> ``not_affected``; "Affected" with a link to the vendor's statement -> ``patch_available``
   (the reason says that the status is as of its date); "Affected" without any link -> ``exposed``.
5. Nothing -> ``unknown``.

Severity is the CVSS v3.0 base score (NVD) of the worst CVE the verdict is about, on the CVSS v3 qualitative
scale (0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0-10.0 critical). A listed cipher under which one of
those CVEs also lets an attacker forge frames (TKIP, GCMP: the impact tables of the CVE catalog) raises it one
step; WEP makes it critical (WEP keys are recovered passively, no KRACK needed). Only ``exposed``,
``patch_available`` and ``unknown`` carry a severity; the other verdicts are ``none``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from itertools import pairwise

from krackwatch.advisories.kb import KnowledgeBase, fixed_in
from krackwatch.advisories.model import (
    CVE,
    Effect,
    ModelStatus,
    ProductFix,
    ProductStatus,
    RemediationCategory,
    SourceKind,
    VendorStatus,
)
from krackwatch.advisories.normalize import known_vendor_keys, parse_version, vendor_display, vendor_family
from krackwatch.crypto.suites import Cipher
from krackwatch.fleet.evidence import Finding, FindingVerdict
from krackwatch.fleet.model import Device, Role

__all__ = [
    "AP_CVES",
    "CLIENT_CVES",
    "Exposure",
    "Remediation",
    "RemediationKind",
    "RuleEngine",
    "Severity",
    "StatusSource",
    "Verdict",
    "applicable_cves",
    "assess_device",
]

# ----------------------------------------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------------------------------------


class Exposure(StrEnum):
    """A device's KRACK verdict."""

    EXPOSED = "exposed"  # reinstallation observed, or affected with no known fix
    PATCH_AVAILABLE = "patch_available"  # affected; a vendor fix exists that the device may lack
    FIXED = "fixed"  # the firmware is at or after the vendor's fixed version (or the model is listed fixed)
    NOT_AFFECTED = "not_affected"  # the vendor (or CERT/CC on its word) says it is not affected
    MITIGATED = "mitigated"  # its configuration keeps every KRACK CVE out (AP mode, 802.11r off)
    UNKNOWN = "unknown"  # no statement covers it

    @property
    def is_finding(self) -> bool:
        """Needs action: exit code 1 material."""
        return self in (Exposure.EXPOSED, Exposure.PATCH_AVAILABLE)


#: Verdicts from worst to best (for sorting and charts).
EXPOSURE_ORDER: tuple[Exposure, ...] = (
    Exposure.EXPOSED, Exposure.PATCH_AVAILABLE, Exposure.UNKNOWN, Exposure.MITIGATED, Exposure.NOT_AFFECTED,
    Exposure.FIXED,
)


class Severity(IntEnum):
    """CVSS v3 qualitative severity rating (FIRST CVSS v3.0 specification, section 5)."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_score(cls, score: float) -> Severity:
        if score <= 0.0:
            return cls.NONE
        if score < 4.0:
            return cls.LOW
        if score < 7.0:
            return cls.MEDIUM
        if score < 9.0:
            return cls.HIGH
        return cls.CRITICAL

    @classmethod
    def parse(cls, text: str) -> Severity:
        """'high' -> HIGH; raises ValueError for other words."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"{text!r} is not one of {', '.join(s.label for s in cls)}") from None


class RemediationKind(StrEnum):
    UPDATE_FIRMWARE = "update_firmware"
    DISABLE_FT = "disable_80211r"
    WIRED_BACKHAUL = "wired_backhaul"
    STOP_LEGACY_CIPHERS = "stop_wep_tkip"
    TLS_VPN = "tls_vpn"
    ASK_VENDOR = "ask_vendor"
    PATCH_CLIENTS = "patch_clients"


@dataclass(frozen=True, slots=True)
class Remediation:
    """One thing to do; ``url`` is the vendor's page when known."""

    kind: RemediationKind
    text: str
    url: str | None = None


class StatusSource(StrEnum):
    """Which step of the resolution decided the verdict."""

    EVIDENCE = "evidence"
    ROLE = "role"
    MODEL_TABLE = "model_table"
    VENDOR_FIX = "vendor_fix"
    VENDOR_STATUS = "vendor_status"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What krackwatch concludes about one device, and why.

    ``cves`` are the KRACK CVEs the verdict speaks about: those that can reach the device in its role (or
    those observed on the air), for ``fixed`` the ones the vendor's fix names. ``score`` is the highest
    CVSS v3 base score among them (None when the verdict carries no severity).
    """

    verdict: Exposure
    cves: tuple[str, ...]
    severity: Severity
    score: float | None
    reason: str
    remediation: tuple[Remediation, ...]
    source: StatusSource
    evidence: tuple[Finding, ...] = ()


# ----------------------------------------------------------------------------------------------------------
# Which CVEs reach a device
# ----------------------------------------------------------------------------------------------------------


def _cve(n: int) -> str:
    return f"CVE-2017-{n}"


#: Supplicant-side CVEs krackwatch assigns to every client-side role (the IGTK ones need PMF).
CLIENT_CVES: tuple[str, ...] = tuple(_cve(n) for n in (13077, 13078, 13079, 13080, 13081, 13087, 13088))
IGTK_CVES = frozenset(_cve(n) for n in (13079, 13081, 13088))
TDLS_CVE = _cve(13086)
#: The authenticator-side CVE: FT (802.11r) reassociation.
AP_CVES: tuple[str, ...] = (_cve(13082),)

_TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "on", "enabled", "enable"})
_TDLS_LABELS = frozenset({"tdls", "802.11z", "80211z"})


def _tdls(device: Device) -> bool:
    for label, value in device.attributes:
        if label.strip().casefold() in _TDLS_LABELS and value.strip().casefold() in _TRUE_WORDS:
            return True
    return False


def applicable_cves(device: Device) -> tuple[str, ...]:
    """The KRACK CVEs that can reach ``device`` in its role and configuration, sorted."""
    out: list[str] = []
    role = device.role
    if role.is_client_side:
        if device.pmf is False:
            out.extend(c for c in CLIENT_CVES if c not in IGTK_CVES)
        else:
            out.extend(CLIENT_CVES)
        if _tdls(device):
            out.append(TDLS_CVE)
    if role.is_authenticator_side and device.ft is not False:
        out.extend(AP_CVES)
    return tuple(sorted(out))


# ----------------------------------------------------------------------------------------------------------
# Status resolution
# ----------------------------------------------------------------------------------------------------------

# Firmware products that belong to a platform vendor whatever the device's maker (parse_version product key).
_PLATFORM_VENDORS: dict[str, str] = {
    "android": "android",
    "ios": "apple",
    "ipados": "apple",
    "macos": "apple",
    "osx": "apple",
    "watchos": "apple",
    "tvos": "apple",
    "routeros": "mikrotik",
    "wpasupplicant": "hostap",
    "hostapd": "hostap",
    "windows": "microsoft",
}

_SOURCE_LABEL = {
    SourceKind.CERT: "CERT/CC (VU#228519 vendor record)",
    SourceKind.COMMUNITY: "the community vendor-response list (kristate/krackinfo)",
    SourceKind.VENDOR_FIX: "the vendor's advisory",
    SourceKind.ENGENIUS: "EnGenius's advisory",
    SourceKind.IMPORTED: "an imported advisory",
}


@dataclass(frozen=True, slots=True)
class _Status:
    exposure: Exposure
    reason: str
    source: StatusSource
    url: str | None = None
    fixed_cves: tuple[str, ...] = ()


def _date(value: _dt.date | None) -> str:
    return value.isoformat() if value is not None else "an undated statement"


def _quote(text: str) -> str:
    return f"'{text}'"


def _firmware_phrase(firmware: str) -> str:
    return f"firmware {_quote(firmware)}" if firmware else "the firmware version (not given)"


def _http(url: str | None) -> str | None:
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _first_url(urls: Sequence[str]) -> str | None:
    for url in urls:
        if _http(url):
            return url
    return None


def _cves_text(cves: Sequence[str]) -> str:
    return ", ".join(cves) if cves else "all KRACK CVEs (VU#228519)"


def _model_table_status(status: ModelStatus, firmware: str) -> _Status:
    said = (f"{status.vendor} listed the firmware fix for {status.model} as {_quote(status.status)} on "
            f"{_date(status.date)} (source: {status.source or status.document})")
    if status.note:
        said += f"; {status.note}"
    url = _http(status.source)
    csaf = status.csaf_status
    if csaf is ProductStatus.FIXED:
        return _Status(Exposure.FIXED, f"{said}, which marks the model fixed.", StatusSource.MODEL_TABLE, url,
                       status.cves)
    if csaf is ProductStatus.KNOWN_NOT_AFFECTED:
        return _Status(Exposure.NOT_AFFECTED, f"{said}: not affected.", StatusSource.MODEL_TABLE, url)
    if csaf is ProductStatus.KNOWN_AFFECTED and status.remediation is RemediationCategory.VENDOR_FIX:
        return _Status(
            Exposure.PATCH_AVAILABLE,
            f"{said}. The table names no firmware version, so {_firmware_phrase(firmware)} cannot prove the "
            "fix is installed: install the vendor's current firmware.",
            StatusSource.MODEL_TABLE, url,
        )
    if csaf is ProductStatus.KNOWN_AFFECTED:
        return _Status(
            Exposure.EXPOSED,
            f"{said}: affected, with no fix at that date; krackwatch knows no later statement, so treat the "
            "device as unpatched until firmware with the fix is confirmed.",
            StatusSource.MODEL_TABLE, url,
        )
    return _Status(Exposure.UNKNOWN, f"{said}: still under investigation then.", StatusSource.MODEL_TABLE, url)


# Outcomes of holding one fix record against the device's firmware.
_FIXED, _BELOW, _CANNOT_COMPARE, _NO_FIX, _NOT_AFFECTED = range(5)
_MAX_LISTED = 3  # fix records quoted in a reason


def _patch_level_date(text: str) -> _dt.date | None:
    """The first ISO date (YYYY-MM-DD) in ``text``, as Android security patch levels are written."""
    n = len(text)
    for i in range(n - 9):
        chunk = text[i:i + 10]
        if (chunk[4] == "-" and chunk[7] == "-" and chunk[:4].isdigit() and chunk[5:7].isdigit()
                and chunk[8:10].isdigit() and (i == 0 or not text[i - 1].isdigit())
                and (i + 10 == n or not text[i + 10].isdigit())):
            try:
                return _dt.date.fromisoformat(chunk)
            except ValueError:
                continue
    return None


def _fix_outcome(fix: ProductFix, firmware: str) -> int:
    csaf = fix.csaf_status
    if csaf is ProductStatus.FIXED and fix.version:
        if "patch level" in fix.version.casefold():
            need = _patch_level_date(fix.version)
            have = _patch_level_date(firmware)
            if need is not None and have is not None:
                return _FIXED if have >= need else _BELOW
            return _CANNOT_COMPARE
        if not firmware:
            return _CANNOT_COMPARE
        result = fixed_in(fix, firmware)
        if result is None:
            return _CANNOT_COMPARE
        return _FIXED if result else _BELOW
    if csaf is ProductStatus.FIXED:
        return _CANNOT_COMPARE
    same_version = (fix.version is not None and firmware != ""
                    and parse_version(fix.version).known and parse_version(fix.version) == parse_version(firmware))
    if csaf is ProductStatus.KNOWN_NOT_AFFECTED:
        return _NOT_AFFECTED if fix.version is None or same_version else -1
    if csaf is ProductStatus.KNOWN_AFFECTED:
        if fix.version is not None and not same_version:
            return -1  # a statement about another version
        return _CANNOT_COMPARE if fix.remediation is RemediationCategory.VENDOR_FIX else _NO_FIX
    return -1  # under investigation: says nothing


def _fix_words(product: str) -> frozenset[str]:
    words: list[str] = []
    word: list[str] = []
    for ch in product.casefold():
        if ch.isalnum():
            word.append(ch)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    out = set(words)
    for a, b in pairwise(words):
        out.add(a + b)  # "wpa supplicant" -> "wpasupplicant"
    return frozenset(out)


def _describe_fix(fix: ProductFix) -> str:
    where = fix.advisory_id or fix.url or fix.document
    text = f"{fix.vendor}'s record for {_quote(fix.product)}"
    if fix.fixed_version or fix.version:
        text += f" (fixed in {_quote(fix.fixed_version or fix.version or '')}"
    else:
        text += f" (status {_quote(fix.status)}"
    text += f", {_date(fix.date)}, {where}"
    if fix.confidence in ("low", "medium"):
        text += f", {fix.confidence} confidence"
    if fix.cves:
        text += f"; names {_cves_text(fix.cves)}"
    return text + ")"


def _fix_status(fixes: Sequence[ProductFix], device: Device, cves: Sequence[str]) -> _Status | None:
    wanted = set(cves)
    outcomes: list[tuple[int, ProductFix]] = []
    for fix in fixes:
        if fix.superseded_by is not None:
            continue
        if fix.cves and not wanted.intersection(fix.cves):
            continue
        outcome = _fix_outcome(fix, device.firmware)
        if outcome >= 0:
            outcomes.append((outcome, fix))
    if not outcomes:
        return None
    kinds = {o for o, _ in outcomes}
    fw = _firmware_phrase(device.firmware)

    def url_of(selected: Iterable[ProductFix]) -> str | None:
        return next((u for f in selected if (u := _http(f.url))), None)

    def listed(selected: Sequence[ProductFix]) -> str:
        shown = "; ".join(_describe_fix(f) for f in selected[:_MAX_LISTED])
        if len(selected) > _MAX_LISTED:
            shown += f"; and {len(selected) - _MAX_LISTED} more records of the same vendor"
        return shown

    # Records whose fixed version could be held against the firmware decide; the others are usually other
    # branches or product lines that the firmware text merely shares a word with ("macOS Sierra" for 10.13).
    if _FIXED in kinds and _BELOW not in kinds:
        chosen = [f for o, f in outcomes if o == _FIXED]
        covered = sorted(wanted.intersection(c for f in chosen for c in f.cves)) if any(f.cves for f in chosen) \
            else sorted(wanted)
        return _Status(Exposure.FIXED, f"{fw[0].upper()}{fw[1:]} is at or after the fixed version of "
                       f"{listed(chosen)}.", StatusSource.VENDOR_FIX, url_of(chosen), tuple(covered))
    if _BELOW in kinds:
        chosen = [f for o, f in outcomes if o == _BELOW]
        return _Status(Exposure.PATCH_AVAILABLE, f"{fw[0].upper()}{fw[1:]} is older than the fixed version of "
                       f"{listed(chosen)}: update it.", StatusSource.VENDOR_FIX, url_of(chosen))
    if _CANNOT_COMPARE in kinds:
        chosen = [f for o, f in outcomes if o == _CANNOT_COMPARE]
        return _Status(Exposure.PATCH_AVAILABLE, f"A fix exists per {listed(chosen)}, but krackwatch cannot tell "
                       f"whether {fw} includes it: check and update.", StatusSource.VENDOR_FIX, url_of(chosen))
    if _NO_FIX in kinds:
        chosen = [f for o, f in outcomes if o == _NO_FIX]
        return _Status(Exposure.EXPOSED, f"Affected with no released fix per {listed(chosen)}; krackwatch knows "
                       "no later statement.", StatusSource.VENDOR_FIX, url_of(chosen))
    chosen = [f for o, f in outcomes if o == _NOT_AFFECTED]
    return _Status(Exposure.NOT_AFFECTED, f"Not affected per {listed(chosen)}.", StatusSource.VENDOR_FIX,
                   url_of(chosen))


def _is_cert_page(url: str) -> bool:
    return "kb.cert.org/" in url.casefold()


def _status_text(status: VendorStatus) -> str:
    text = (f"{_SOURCE_LABEL.get(status.kind, status.kind.value)} recorded {status.vendor} as "
            f"{_quote(status.status)} on {_date(status.date)}")
    record = next((u for u in status.urls if _is_cert_page(u)), "") if status.kind is SourceKind.CERT else ""
    if status.record_id:
        text += f" (record {status.record_id}{', ' + record if record else ''})"
    return text


def _vendor_link(status: VendorStatus) -> str | None:
    """The first link to the vendor's own statement (not the CERT/CC record page)."""
    return next((u for u in status.urls if _http(u) and not _is_cert_page(u)), None)


_CERT_CAVEAT = ("That is the vendor's status as of that date, not a statement about this device today: "
                "CERT/CC does not change it when patches ship.")
_DATED = "That is a dated statement, not a verdict about today."


def _vendor_status(statuses: Sequence[VendorStatus], device: Device, other_fixes: int) -> _Status | None:
    vendor_wide = [s for s in statuses if s.kind in (SourceKind.CERT, SourceKind.COMMUNITY)]
    if not vendor_wide:
        return None
    fw = _firmware_phrase(device.firmware)
    others = (f" The vendor's {other_fixes} fix record{'s name' if other_fixes != 1 else ' names'} other "
              "products." if other_fixes else "")
    affected_without_link: VendorStatus | None = None
    for status in vendor_wide:
        caveat = _CERT_CAVEAT if status.kind is SourceKind.CERT else _DATED
        if status.csaf_status is ProductStatus.KNOWN_NOT_AFFECTED and affected_without_link is None:
            return _Status(Exposure.NOT_AFFECTED,
                           f"{_status_text(status)}, on the vendor's own word. {caveat}{others}",
                           StatusSource.VENDOR_STATUS, _vendor_link(status))
        if status.csaf_status is ProductStatus.KNOWN_AFFECTED:
            link = _vendor_link(status)
            if link:
                lead = ""
                if affected_without_link is not None and affected_without_link is not status:
                    lead = f"{_status_text(affected_without_link)}; "
                return _Status(
                    Exposure.PATCH_AVAILABLE,
                    f"{lead}{_status_text(status)}, linking the vendor's statement {link}. {caveat} Check that "
                    f"{fw} includes the vendor's KRACK fix.{others}",
                    StatusSource.VENDOR_STATUS, link,
                )
            if affected_without_link is None:
                affected_without_link = status
    if affected_without_link is not None:
        status = affected_without_link
        caveat = _CERT_CAVEAT if status.kind is SourceKind.CERT else _DATED
        return _Status(Exposure.EXPOSED,
                       f"{_status_text(status)} and no source links a fix. {caveat}{others}",
                       StatusSource.VENDOR_STATUS, None)
    said = "; ".join(_status_text(s) for s in vendor_wide)
    url = next((u for s in vendor_wide if (u := _vendor_link(s))), None)
    where = f" The vendor's statement: {url}." if url else ""
    return _Status(Exposure.UNKNOWN, f"No verdict in the knowledge base: {said}.{where}{others}",
                   StatusSource.VENDOR_STATUS, url)


def _platform_fixes(kb: KnowledgeBase, firmware: str, family: Sequence[str]) -> list[ProductFix]:
    """Fix records whose product the firmware text names: of the device's own vendor ("RouterOS 6.41" against
    MikroTik's RouterOS record) and of platform vendors ("Android 8.0, security patch level ..." against the
    AOSP bulletin whoever made the phone; "iOS 11.2" against Apple)."""
    if not firmware:
        return []
    words = _fix_words(firmware)
    product = parse_version(firmware).product
    if product:
        words = words | {product}
    owners: dict[str, None] = dict.fromkeys(family)
    for word in words:
        vendor = _PLATFORM_VENDORS.get(word)
        if vendor is not None:
            owners.setdefault(vendor, None)
    found: list[ProductFix] = []
    for owner in owners:
        platform = owner not in family
        for fix in kb.product_fixes(owner):
            names = _fix_words(fix.product)
            if platform:
                if any(w in names for w in words if _PLATFORM_VENDORS.get(w) == owner):
                    found.append(fix)
            elif product and product in names:
                found.append(fix)
    return found


def _resolve(device: Device, kb: KnowledgeBase, cves: tuple[str, ...]) -> _Status:
    vkey = device.vendor_key
    if not vkey:
        why = ("the inventory names no vendor and the MAC address gives none (randomised, unregistered or "
               "missing)")
        return _Status(Exposure.UNKNOWN, f"Vendor not known: {why}.", StatusSource.NONE)
    family = vendor_family(vkey) or (vkey,)
    if device.model:
        for key in family:
            status = kb.model_status(key, device.model)
            if status is not None and status.superseded_by is None:
                return _model_table_status(status, device.firmware)
    fixes: dict[int, ProductFix] = {}
    vendor_fix_count = 0
    for key in family:
        vendor_fix_count += len(kb.product_fixes(key))
        if device.model:
            for fix in kb.product_fixes(key, device.model):
                fixes.setdefault(id(fix), fix)
    for fix in _platform_fixes(kb, device.firmware, family):
        fixes.setdefault(id(fix), fix)
    found = _fix_status(list(fixes.values()), device, cves)
    if found is not None:
        return found
    for key in family:
        statuses = kb.vendor_statuses(key)
        if statuses:
            status = _vendor_status(statuses, device, vendor_fix_count)
            if status is not None:
                return status
    name = _vendor_name(device)
    return _Status(
        Exposure.UNKNOWN,
        f"No advisory in the knowledge base names {name}: ask the vendor whether "
        f"{_firmware_phrase(device.firmware)} includes the KRACK fixes (released from October 2017).",
        StatusSource.NONE,
    )


# ----------------------------------------------------------------------------------------------------------
# Severity and remediation
# ----------------------------------------------------------------------------------------------------------

_CIPHER_FAMILY = {"TKIP": Cipher.TKIP, "GCMP": Cipher.GCMP128}


def _severity(kb: KnowledgeBase, cves: tuple[str, ...], ciphers: frozenset[str]) -> tuple[Severity, float | None, str]:
    records: list[CVE] = [c for c in (kb.cve(x) for x in cves) if c is not None]
    if not records:
        return Severity.NONE, None, ""
    score = max(c.cvss_v3.score for c in records)
    base = Severity.from_score(score)
    severity = base
    note = ""
    if "WEP" in ciphers:
        severity = Severity.CRITICAL
        note = "WEP in use makes it critical: WEP keys are recovered passively, no KRACK needed"
    else:
        raisers = []
        for name, cipher in _CIPHER_FAMILY.items():
            if name not in ciphers:
                continue
            for cve in records:
                ccmp = Effect.NONE
                for impact in cve.impacts_for(Cipher.CCMP128):
                    ccmp |= impact.effects
                if any(Effect.FORGE in i.effects and Effect.FORGE not in ccmp for i in cve.impacts_for(cipher)):
                    raisers.append(name)
                    break
        if raisers:
            severity = Severity(min(int(base) + 1, int(Severity.CRITICAL)))
            note = (f"{' and '.join(raisers)} in use raises it from {base.label}: with "
                    f"{'it' if len(raisers) == 1 else 'them'} a reinstalled key also lets an attacker forge frames")
    return severity, score, note


def _vendor_name(device: Device) -> str:
    key = device.vendor_key
    if key and key in known_vendor_keys():
        return vendor_display(key)
    return device.vendor or key or "the vendor"


def _remediation(device: Device, exposure: Exposure, url: str | None, cves: Sequence[str]) -> tuple[Remediation, ...]:
    out: list[Remediation] = []
    acting = exposure in (Exposure.EXPOSED, Exposure.PATCH_AVAILABLE, Exposure.UNKNOWN)
    vendor = _vendor_name(device)
    if exposure is Exposure.PATCH_AVAILABLE or (exposure is Exposure.EXPOSED and url):
        out.append(Remediation(RemediationKind.UPDATE_FIRMWARE,
                               f"Update the firmware to {vendor}'s release with the KRACK fixes.", url))
    elif exposure in (Exposure.EXPOSED, Exposure.UNKNOWN):
        out.append(Remediation(RemediationKind.ASK_VENDOR,
                               f"Ask {vendor} for firmware with the KRACK fixes (or confirm the installed one has "
                               "them).", url))
    elif exposure is Exposure.MITIGATED and url:
        out.append(Remediation(RemediationKind.UPDATE_FIRMWARE,
                               f"Install {vendor}'s fixed firmware before using client, bridge or mesh modes or "
                               "802.11r.", url))
    if acting and device.role.is_authenticator_side and _cve(13082) in cves:
        out.append(Remediation(RemediationKind.DISABLE_FT,
                               "Disable 802.11r (fast roaming) until the access point and its clients are patched."))
    if acting and device.role in (Role.CLIENT_BRIDGE, Role.WDS_BRIDGE, Role.WDS_STATION, Role.REPEATER, Role.MESH):
        out.append(Remediation(RemediationKind.WIRED_BACKHAUL,
                               "Move this bridge/WDS/mesh link to a wired connection or carry it over a VPN."))
    if "WEP" in device.ciphers or "TKIP" in device.ciphers:
        legacy = " and ".join(c for c in ("WEP", "TKIP") if c in device.ciphers)
        out.append(Remediation(RemediationKind.STOP_LEGACY_CIPHERS,
                               f"Stop using {legacy}: use WPA2 with CCMP (AES) only."))
    if acting:
        out.append(Remediation(RemediationKind.TLS_VPN,
                               "Keep sensitive traffic behind TLS or a VPN until the device is patched."))
    if exposure is Exposure.MITIGATED:
        out.append(Remediation(RemediationKind.PATCH_CLIENTS,
                               "Patch the Wi-Fi clients of this access point: they are the ones KRACK reaches."))
    return tuple(out)


# ----------------------------------------------------------------------------------------------------------
# The rule
# ----------------------------------------------------------------------------------------------------------


def _role_phrase(device: Device) -> str:
    ft = {True: "802.11r on", False: "802.11r off", None: "802.11r not stated"}[device.ft]
    return f"{device.role.value} ({ft})" if device.role.is_authenticator_side else device.role.value


_Resolver = Callable[[Device, KnowledgeBase, tuple[str, ...]], _Status]
_Rater = Callable[[KnowledgeBase, tuple[str, ...], frozenset[str]], tuple[Severity, float | None, str]]


def assess_device(device: Device, kb: KnowledgeBase, findings: Sequence[Finding] = (), *,
                  _resolve: _Resolver = _resolve, _severity: _Rater = _severity) -> Verdict:
    """The verdict for one device; ``findings`` are what the air showed about its MAC (see fleet.evidence)."""
    cves = applicable_cves(device)
    observed = [f for f in findings if f.verdict is FindingVerdict.VULNERABLE]
    context = [f for f in findings if f.verdict is not FindingVerdict.VULNERABLE]
    status = _resolve(device, kb, cves) if cves or observed else None
    if observed:
        seen = tuple(sorted({c for f in observed for c in f.cves})) or cves
        what = "; ".join(
            f"{f.summary or f.rule} ({'rule ' + f.rule}{', ' + f.source if f.source else ''}"
            f"{', frames ' + ', '.join(map(str, f.frames[:5])) if f.frames else ''})"
            for f in observed
        )
        advisory = status.reason if status is not None else ""
        reason = (f"Key reinstallation observed on the air: {what}. Evidence outranks advisories"
                  + (f"; the advisory status was: {advisory}" if advisory else ".")
                  )
        severity, score, note = _severity(kb, seen, device.ciphers)
        if note:
            reason += f" Severity: {note}."
        url = status.url if status is not None else None
        return Verdict(Exposure.EXPOSED, seen, severity, score, reason,
                       _remediation(device, Exposure.EXPOSED, url, seen), StatusSource.EVIDENCE, tuple(findings))
    if not cves:
        reason = (f"As {_role_phrase(device)} no KRACK CVE reaches this device: an authenticator is hit only "
                  "through 802.11r FT (CVE-2017-13082), the other CVEs hit the supplicant side.")
        advisory = _resolve(device, kb, (*AP_CVES, *CLIENT_CVES))
        reason += f" For other modes: {advisory.reason}"
        url = advisory.url if advisory.exposure in (Exposure.PATCH_AVAILABLE, Exposure.EXPOSED) else None
        return Verdict(Exposure.MITIGATED, (), Severity.NONE, None, reason,
                       _remediation(device, Exposure.MITIGATED, url, ()), StatusSource.ROLE, tuple(findings))
    assert status is not None
    exposure = status.exposure
    reason = status.reason
    verdict_cves: tuple[str, ...] = cves
    if exposure is Exposure.FIXED and status.fixed_cves:
        verdict_cves = tuple(sorted(set(status.fixed_cves) & set(cves))) or cves
    if device.role.is_authenticator_side and device.ft is None:
        reason += " 802.11r is not stated in the inventory, so CVE-2017-13082 is assumed to apply."
    if context:
        reason += " Also seen on the air: " + "; ".join(
            f"{f.summary or f.rule} ({f.verdict.value}{', ' + f.source if f.source else ''})" for f in context
        ) + "."
    if exposure in (Exposure.EXPOSED, Exposure.PATCH_AVAILABLE, Exposure.UNKNOWN):
        severity, score, note = _severity(kb, verdict_cves, device.ciphers)
        if note:
            reason += f" Severity: {note}."
    else:
        severity, score = Severity.NONE, None
    return Verdict(exposure, verdict_cves, severity, score, reason,
                   _remediation(device, exposure, status.url, verdict_cves), status.source, tuple(findings))


class RuleEngine:
    """``assess_device`` with bounded caches, so that a fleet costs what its distinct devices cost.

    Two levels: the advisory status (the expensive part: knowledge-base lookups, version comparisons, the
    reason text) is cached per (vendor, model, firmware, CVEs); whole verdicts per everything the rules read
    (adding role, 802.11r, PMF, ciphers, TDLS). A fleet repeats a few hundred vendor/model/firmware
    combinations over thousands of devices.
    """

    __slots__ = ("_cache", "_kb", "_limit", "_ratings", "_statuses", "hits", "misses")

    def __init__(self, kb: KnowledgeBase, *, cache_size: int = 1 << 16) -> None:
        self._kb = kb.load()
        self._cache: dict[tuple, Verdict] = {}
        self._statuses: dict[tuple, _Status] = {}
        self._ratings: dict[tuple, tuple[Severity, float | None, str]] = {}
        self._limit = cache_size
        self.hits = 0
        self.misses = 0

    @property
    def kb(self) -> KnowledgeBase:
        return self._kb

    def _status(self, device: Device, kb: KnowledgeBase, cves: tuple[str, ...]) -> _Status:
        key = (device.vendor_key, device.vendor, device.model, device.firmware, cves)
        status = self._statuses.get(key)
        if status is None:
            status = _resolve(device, kb, cves)
            if len(self._statuses) >= self._limit:
                self._statuses.clear()
            self._statuses[key] = status
        return status

    def _rating(self, kb: KnowledgeBase, cves: tuple[str, ...],
                ciphers: frozenset[str]) -> tuple[Severity, float | None, str]:
        key = (cves, ciphers)
        rating = self._ratings.get(key)
        if rating is None:
            rating = self._ratings[key] = _severity(kb, cves, ciphers)  # at most 2^10 x 2^4 keys
        return rating

    def assess(self, device: Device, findings: Sequence[Finding] = ()) -> Verdict:
        if findings:
            return assess_device(device, self._kb, findings, _resolve=self._status, _severity=self._rating)
        key = (device.vendor_key, device.vendor, device.model, device.firmware, device.role, device.ft, device.pmf,
               device.ciphers, bool(device.attributes) and _tdls(device))
        verdict = self._cache.get(key)
        if verdict is not None:
            self.hits += 1
            return verdict
        self.misses += 1
        verdict = assess_device(device, self._kb, _resolve=self._status, _severity=self._rating)
        if len(self._cache) >= self._limit:
            self._cache.clear()
        self._cache[key] = verdict
        return verdict
