"""Values of the advisory knowledge base: CVEs, dated vendor statements, product fixes, model statuses.

Every status here is a dated fact from a named source, not a verdict about today: CERT/CC's "Affected"
says the vendor's products were affected when the record was written, not that they are unpatched now.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import IntFlag, StrEnum

from krackwatch.crypto.suites import Cipher

#: The CERT/CC case that covers all ten KRACK CVEs.
KRACK_VU = "VU#228519"

#: The ten KRACK CVEs (CVE-2017-13083 and -13085 are not KRACK: 13083 is an unrelated Rufus bug).
KRACK_CVES: tuple[str, ...] = tuple(
    f"CVE-2017-{n}" for n in (13077, 13078, 13079, 13080, 13081, 13082, 13084, 13086, 13087, 13088)
)


class SourceKind(StrEnum):
    """Which source family a statement comes from."""

    CATALOG = "catalog"  # krackwatch's CVE catalog (NVD scores, hostap fix)
    CERT = "cert"  # CERT/CC vendor records of VU#228519
    COMMUNITY = "community"  # the kristate/krackinfo vendor-response list
    VENDOR_FIX = "vendor_fix"  # fixed versions per vendor and product
    ENGENIUS = "engenius"  # the EnGenius per-model table of 2017-10-17
    IMPORTED = "imported"  # a CSAF document the user imported


class ProductStatus(StrEnum):
    """The CSAF 2.0 product status groups krackwatch keeps (first_/last_ variants fold into these)."""

    KNOWN_AFFECTED = "known_affected"
    FIXED = "fixed"
    KNOWN_NOT_AFFECTED = "known_not_affected"
    UNDER_INVESTIGATION = "under_investigation"


class RemediationCategory(StrEnum):
    """CSAF 2.0 remediation categories."""

    MITIGATION = "mitigation"
    NO_FIX_PLANNED = "no_fix_planned"
    NONE_AVAILABLE = "none_available"
    VENDOR_FIX = "vendor_fix"
    WORKAROUND = "workaround"


class Handshake(StrEnum):
    FOUR_WAY = "4-way handshake"
    GROUP_KEY = "group key handshake"
    FT = "FT (802.11r) reassociation"
    PEERKEY = "PeerKey handshake"
    TDLS = "TDLS handshake"
    WNM_SLEEP = "WNM sleep mode response"


class KeyKind(StrEnum):
    PTK_TK = "PTK-TK"  # pairwise temporal key
    GTK = "GTK"  # group temporal key
    IGTK = "IGTK"  # integrity group temporal key (802.11w)
    STK = "STK"  # station-to-station link key (PeerKey)
    TPK = "TPK"  # TDLS peer key


class Role(StrEnum):
    """The device that reinstalls the key, i.e. the one that must be patched."""

    CLIENT = "client"  # supplicant
    ACCESS_POINT = "access point"  # authenticator


class Feature(StrEnum):
    """What a device must support or use for the CVE to apply."""

    BASE = "WPA/WPA2 (always)"
    PMF = "802.11w (PMF)"
    FT = "802.11r (FT)"
    PEERKEY = "PeerKey (STSL)"
    TDLS = "802.11z (TDLS)"
    WNM_SLEEP = "802.11v (WNM sleep mode)"


class Direction(StrEnum):
    """Frame direction an impact applies to (victim = the device that reinstalls the key)."""

    CLIENT_TO_AP = "client-to-AP"
    AP_TO_CLIENT = "AP-to-client"
    AP_TO_GROUP = "AP-to-group"  # group-addressed data frames (GTK)
    AP_TO_GROUP_MGMT = "AP-to-group-mgmt"  # group-addressed robust management frames (IGTK/BIP)
    VICTIM_TO_PEER = "victim-to-peer"  # direct link (PeerKey, TDLS): frames the victim sends
    PEER_TO_VICTIM = "peer-to-victim"

    @property
    def label(self) -> str:
        return _DIRECTION_LABEL[self]


_DIRECTION_LABEL = {
    Direction.CLIENT_TO_AP: "client → AP",
    Direction.AP_TO_CLIENT: "AP → client",
    Direction.AP_TO_GROUP: "AP → group (data)",
    Direction.AP_TO_GROUP_MGMT: "AP → group (mgmt)",
    Direction.VICTIM_TO_PEER: "victim → peer",
    Direction.PEER_TO_VICTIM: "peer → victim",
}


class Effect(IntFlag):
    """What an attacker gains on frames of one direction after the key is reinstalled."""

    NONE = 0
    REPLAY = 1
    DECRYPT = 2
    FORGE = 4

    @property
    def label(self) -> str:
        names = [name for flag, name in _EFFECT_NAMES if flag & self]
        return ", ".join(names) if names else "none"

    @classmethod
    def parse(cls, text: str) -> Effect:
        """Inverse of `label` ("replay, decrypt" -> REPLAY|DECRYPT); raises ValueError on other words."""
        value = cls.NONE
        for word in text.split(","):
            word = word.strip()
            if not word or word == "none":
                continue
            value |= _EFFECT_BY_NAME[word]
        return value


_EFFECT_NAMES = ((Effect.REPLAY, "replay"), (Effect.DECRYPT, "decrypt"), (Effect.FORGE, "forge"))
_EFFECT_BY_NAME = {name: flag for flag, name in _EFFECT_NAMES}

#: Cipher families the impact tables are written for; 256-bit and WPA1 variants behave like these.
IMPACT_CIPHERS: dict[str, Cipher] = {
    "CCMP": Cipher.CCMP128,
    "TKIP": Cipher.TKIP,
    "GCMP": Cipher.GCMP128,
    "BIP": Cipher.BIP_CMAC128,
}
_FAMILY = {
    Cipher.CCMP128: Cipher.CCMP128,
    Cipher.CCMP256: Cipher.CCMP128,
    Cipher.TKIP: Cipher.TKIP,
    Cipher.GCMP128: Cipher.GCMP128,
    Cipher.GCMP256: Cipher.GCMP128,
    Cipher.BIP_CMAC128: Cipher.BIP_CMAC128,
    Cipher.BIP_CMAC256: Cipher.BIP_CMAC128,
    Cipher.BIP_GMAC128: Cipher.BIP_CMAC128,
    Cipher.BIP_GMAC256: Cipher.BIP_CMAC128,
}


def cipher_family(cipher: Cipher) -> Cipher | None:
    """The representative cipher of `cipher`'s family (CCMP-256 -> CCMP-128, WPA TKIP -> TKIP)."""
    return _FAMILY.get(cipher.canonical)


@dataclass(frozen=True, slots=True)
class Impact:
    """Effect on one frame direction when one cipher protects the reinstalled key."""

    cipher: Cipher
    direction: Direction
    effects: Effect


@dataclass(frozen=True, slots=True)
class CvssScore:
    """A CVSS base score as published (NVD)."""

    version: str  # "3.0", "3.1" or "2.0"
    vector: str
    score: float
    severity: str  # empty for CVSS v2


@dataclass(frozen=True, slots=True)
class CVE:
    """One KRACK CVE: what is reinstalled where, what it takes, and what an attacker gets."""

    id: str
    title: str
    description: str
    handshake: Handshake
    key: KeyKind
    role: Role
    feature: Feature
    impacts: tuple[Impact, ...]
    cvss_v3: CvssScore
    cvss_v2: CvssScore | None
    cwes: tuple[str, ...]
    hostap_fixed_version: str | None  # None: hostap rates the CVE not applicable
    hostap_note: str
    published: _dt.date | None
    references: tuple[str, ...] = ()

    def impacts_for(self, cipher: Cipher) -> tuple[Impact, ...]:
        """Impacts when `cipher` protects the reinstalled key (any variant of the family)."""
        family = cipher_family(cipher)
        return tuple(i for i in self.impacts if i.cipher == family)


@dataclass(frozen=True, slots=True)
class VendorStatus:
    """One dated statement about a vendor, as its source published it."""

    vendor: str
    status: str  # as published ("Affected", "patch_available", "Available Now", "fixed", ...)
    csaf_status: ProductStatus
    date: _dt.date | None
    urls: tuple[str, ...]
    record_id: str
    kind: SourceKind
    document: str
    subject: str = ""  # what the statement is about (a product or model; empty: the vendor as a whole)
    note: str = ""
    other_dates: tuple[tuple[str, str], ...] = ()  # (label, date as recorded), e.g. ("notified", ...)


@dataclass(frozen=True, slots=True)
class ProductFix:
    """A vendor's statement about one product (line): fixed version, or that no fix is known yet."""

    vendor: str
    product: str
    fixed_version: str | None  # as published; may name several branches ("8.0.152.0; 8.2.164.0")
    cves: tuple[str, ...]  # empty: the source does not itemise CVEs (all of VU#228519)
    status: str  # as published
    csaf_status: ProductStatus
    advisory_id: str | None
    url: str | None
    date: _dt.date | None
    confidence: str  # high | medium | low (bundled); vendor | third_party (imported)
    document: str
    record_id: str
    version: str | None = None  # the product version the statement names, when it names one
    remediation: RemediationCategory | None = None
    note: str = ""
    superseded_by: str | None = None  # document whose later statement contradicts this one


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """Patch status of one hardware model (no firmware version stated)."""

    vendor: str
    model: str
    model_key: str
    status: str  # as published ("Available Now", "In Progress", ...)
    csaf_status: ProductStatus
    remediation: RemediationCategory | None
    date: _dt.date | None
    source: str  # URL of the statement
    document: str
    record_id: str
    cves: tuple[str, ...] = ()
    note: str = ""
    superseded_by: str | None = None


@dataclass(frozen=True, slots=True)
class ModeImpact:
    """How a vendor says an operating mode is affected (EnGenius advisory)."""

    vendor: str
    mode: str
    statement: str
    role: str
    cves: str  # as in the source; the mapping is krackwatch's inference
    action: str


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """A CSAF document the knowledge base was loaded from."""

    id: str
    title: str
    kind: SourceKind
    publisher: str
    publisher_namespace: str
    publisher_category: str
    version: str
    initial_release_date: _dt.datetime
    current_release_date: _dt.datetime
    products: int
    vulnerabilities: int
    bundled: bool
    path: str


@dataclass(frozen=True, slots=True)
class StatementRef:
    """One side of a conflict: who said what, when."""

    document: str
    date: _dt.datetime
    status: ProductStatus
    product: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two documents disagree about the same product and CVEs; the later release date wins."""

    vendor: str
    product: str
    version: str | None
    cves: tuple[str, ...]
    existing: StatementRef
    incoming: StatementRef
    winner: str  # "existing" or "incoming"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What `import_document` did."""

    document: DocumentInfo
    stored_at: str
    statements: int
    product_fixes: int
    model_statuses: int
    replaced: str | None  # path of an earlier import of the same document, now replaced
    conflicts: tuple[Conflict, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class VendorSummary:
    """A vendor and how many statements each source family holds about it."""

    key: str
    name: str
    aliases: tuple[str, ...]
    counts: tuple[tuple[SourceKind, int], ...]

    def count(self, kind: SourceKind) -> int:
        return dict(self.counts).get(kind, 0)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A search result: what matched and a one-line description."""

    kind: str  # cve | vendor | product | model | document
    key: str
    text: str
