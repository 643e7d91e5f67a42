"""What the decryptor knows about networks, links and handshakes while it reads a capture.

A *link* is a pair of MAC addresses that share a pairwise key: an AP and its station, or two WDS peers.
Links are keyed by the unordered address pair so that 3-address and 4-address (WDS) frames, in either
direction, find the same keys. The authenticator of a link is the sender of message 1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from krackwatch.crypto.ptk import PTK
from krackwatch.crypto.suites import AKM, Cipher


def mac_str(addr: bytes | None) -> str:
    if addr is None:
        return "-"
    return ":".join(f"{b:02x}" for b in addr)


def pair_key(a: bytes, b: bytes) -> bytes:
    """Order-independent key of an address pair."""
    return a + b if a <= b else b + a


class MicStatus(StrEnum):
    """Whether a link's handshake proves the key given right or wrong."""

    VERIFIED = "verified"
    WRONG_KEY = "wrong passphrase"
    INCOMPLETE = "incomplete handshake"
    NO_KEY = "no key given"
    NO_HANDSHAKE = "no handshake"


@dataclass(slots=True)
class KeySlot:
    """One installed temporal key and its cipher object (CCMP/GCMP/TKIP/WEP)."""

    cipher: Cipher
    key: bytes = field(repr=False)
    engine: object = field(repr=False)
    key_id: int = 0
    label: str = "TK"


@dataclass(slots=True)
class Network:
    """A BSS as announced by beacons / probe responses, plus the group keys learnt for it."""

    bssid: bytes
    ssid: bytes | None = None
    channel: int | None = None
    freq: int | None = None
    security: str | None = None
    akms: tuple[AKM | int, ...] = ()
    pairwise: tuple[Cipher | int, ...] = ()
    group: Cipher | int | None = None
    ft: bool = False
    pmf: str = "no"
    beacons: int = 0
    # Group keys by key id; the previous key of an id is kept for frames in flight during a rekey.
    gtks: dict[int, list[KeySlot]] = field(default_factory=dict)
    igtks: dict[int, bytes] = field(default_factory=dict, repr=False)
    stations: set[bytes] = field(default_factory=set)


@dataclass(slots=True)
class PendingPTK:
    """A PTK derived from M1/M2 whose M2 MIC verified; it becomes current on M3/M4 or first use."""

    anonce: bytes
    snonce: bytes
    ptk: PTK
    cipher: Cipher
    slot: KeySlot | None = field(default=None, repr=False)


@dataclass(slots=True)
class FTContext:
    """802.11r parameters of a link, learnt from MDE/FTE in association, auth and EAPOL frames."""

    mdid: bytes | None = None
    r0kh_id: bytes | None = None
    r1kh_id: bytes | None = None
    snonce: bytes | None = None
    anonce: bytes | None = None


@dataclass(slots=True)
class Link:
    """Pairwise state of one (authenticator, supplicant) pair."""

    addr_a: bytes
    addr_b: bytes
    aa: bytes | None = None  # authenticator (BSSID for infrastructure links)
    spa: bytes | None = None  # supplicant
    akm: AKM | None = None
    pairwise: Cipher | None = None
    group: Cipher | None = None
    descriptor_version: int | None = None
    ssid: bytes | None = None  # from the (re)association request when sent
    messages: Counter = field(default_factory=Counter)
    handshakes: int = 0
    m1_anonce: dict[int, bytes] = field(default_factory=dict, repr=False)  # replay counter -> ANonce
    m2_seen: list[tuple[int, bytes, bytes, int]] = field(default_factory=list, repr=False)
    pending: list[PendingPTK] = field(default_factory=list, repr=False)
    ptks: list[KeySlot] = field(default_factory=list, repr=False)  # newest first
    ptk_objs: list[PTK] = field(default_factory=list, repr=False)
    mic_checked: int = 0
    mic_failed: int = 0
    mic_verified: int = 0
    ft: FTContext = field(default_factory=FTContext)
    counts: Counter = field(default_factory=Counter)
    last_seq: dict[tuple[bytes, int], int] = field(default_factory=dict, repr=False)
    notes: list[str] = field(default_factory=list)

    @property
    def current_ptk(self) -> PTK | None:
        return self.ptk_objs[0] if self.ptk_objs else None

    def mic_status(self, have_keys: bool) -> MicStatus:
        if self.mic_verified:
            return MicStatus.VERIFIED
        if self.mic_failed:
            return MicStatus.WRONG_KEY
        if not any(self.messages.get(m, 0) for m in ("M1", "M2", "M3", "M4")):
            return MicStatus.NO_HANDSHAKE
        if not have_keys:
            return MicStatus.NO_KEY
        return MicStatus.INCOMPLETE
