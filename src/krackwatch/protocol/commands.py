"""Commands the sans-IO handshake machines hand back to their driver (the lab, or a test).

A machine never sends, installs, sleeps or prints: every effect is one of these frozen values, in the
order the implementation it models would perform it. ``InstallKey`` is the observable for key
reinstallation; ``Dropped`` says why an input was rejected, in hostap's check order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from krackwatch.crypto.suites import Cipher

__all__ = [
    "CancelTimer",
    "Command",
    "Deauthenticate",
    "DropReason",
    "Dropped",
    "InstallKey",
    "KeyKind",
    "Log",
    "SendEAPOL",
    "SendMgmt",
    "SetTimer",
]


class KeyKind(StrEnum):
    """Which key an ``InstallKey`` loads into the driver."""

    PTK = "ptk"
    GTK = "gtk"
    IGTK = "igtk"


class DropReason(IntEnum):
    """Why an input was rejected. Values follow the order the checks run in, so when a frame has
    several faults the reason reported is the one with the lowest value that applies.

    The first three are driver-level checks (what reaches wpa_supplicant at all); SHORT .. KEY_DATA
    follow ``wpa_sm_rx_eapol`` (length, descriptor type, descriptor version vs AKM, replay counter,
    Ack/Request bits, MIC, key data decryption); the rest are raised while handling a message that
    passed them.
    """

    NO_KEY = 1  # a protected frame while no PTK is installed
    OLD_KEY = 2  # decrypted with a PTK that is no longer the installed one (encrypted-msg3 race)
    PLAINTEXT_AFTER_PTK = 3  # unprotected EAPOL-Key while a PTK is installed
    SHORT = 4  # shorter than an EAPOL-Key frame, or lengths inconsistent
    TYPE = 5  # EAPOL packet type is not EAPOL-Key
    DESCRIPTOR = 6  # Key Descriptor Type is not IEEE 802.11 (2)
    VERSION = 7  # Key Descriptor Version does not match the AKM and pairwise cipher
    REPLAY = 8  # Key Replay Counter not fresh (supplicant) / not one the authenticator used
    ACK_BITS = 9  # Ack, Request, SMK, Key Type or Key Index bits wrong for this receiver
    MIC = 10  # Key MIC (or FTE MIC) does not verify, or no key to verify it with
    KEY_DATA = 11  # Key Data does not decrypt or does not parse, or lacks a required KDE
    STATE = 12  # well-formed but not expected in the current state
    NONCE = 13  # ANonce / SNonce differs from the one of this handshake
    RSNE = 14  # RSNE (or MDE) differs from the one advertised / associated with
    RETRANSMISSION = 15  # a retransmitted msg 3 that this implementation refuses
    MGMT = 16  # a management frame that does not decode or is not for this machine
    TIMER = 17  # a timeout for a timer that is not armed (cancelled or superseded)


@dataclass(frozen=True, slots=True)
class SendEAPOL:
    """Send an EAPOL frame (``eapol`` starts at the protocol-version octet). ``protected``: the driver
    encrypts it under the PTK installed at the moment it handles this command (so a message queued
    before an ``InstallKey`` in the same list goes out under the previous key, or in plaintext)."""

    dst: bytes
    src: bytes
    eapol: bytes
    protected: bool


@dataclass(frozen=True, slots=True, repr=False)
class InstallKey:
    """Load a key into the driver; this resets the key's packet number / replay counter.

    ``key`` is the TK for a PTK (all-zero when the modelled bug installs a zero TK), else the GTK or
    IGTK. ``rsc`` is the sequence counter the key starts with: 0 for a PTK; for a receiver's group
    key the Key RSC / IPN when honoured, else 0; for an authenticator's group key the first transmit
    PN. ``peer`` is the other station of a pairwise key, the transmitting AP of a supplicant's group
    key, and None for the authenticator's own group keys.
    """

    kind: KeyKind
    key_id: int
    key: bytes
    rsc: int
    cipher: Cipher
    peer: bytes | None

    @property
    def zero(self) -> bool:
        """True for an all-zero key (wpa_supplicant 2.4-2.6 bug, CVE-2017-13077)."""
        return not any(self.key)

    def __repr__(self) -> str:  # key bytes are secrets: show their size only
        what = "zero" if self.zero else "key"
        peer = self.peer.hex(":") if self.peer is not None else None
        return (
            f"InstallKey({self.kind.value}, id={self.key_id}, <{len(self.key)}-octet {what}>, "
            f"rsc={self.rsc}, {self.cipher.label}, peer={peer})"
        )


@dataclass(frozen=True, slots=True)
class Deauthenticate:
    """Send a Deauthentication to ``peer`` with ``reason`` (a ``ReasonCode``) and drop its keys."""

    peer: bytes
    reason: int


@dataclass(frozen=True, slots=True)
class SetTimer:
    """Call the machine's ``timeout(name, now)`` at ``deadline`` (replaces a timer of that name)."""

    name: str
    deadline: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    name: str


@dataclass(frozen=True, slots=True)
class SendMgmt:
    """Send a management frame of ``subtype`` (``MgmtSubtype``) whose body (after the MAC header)
    is ``body``: FT Authentication and Reassociation Request/Response."""

    dst: bytes
    src: bytes
    subtype: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Log:
    message: str


@dataclass(frozen=True, slots=True)
class Dropped:
    """An input was rejected; ``detail`` is hostap's wording where it has one."""

    reason: DropReason
    detail: str


Command = SendEAPOL | InstallKey | Deauthenticate | SetTimer | CancelTimer | SendMgmt | Log | Dropped
