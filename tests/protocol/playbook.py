"""Test helpers for the handshake machines.

* :class:`Playbook`: a script in the style of mitmproxy's ``tutils.Playbook``:
  ``assert Playbook(machine) >> eapol(m1) << Sends(2) << NOTHING_ELSE``; inputs and expected commands
  alternate, ``Log`` commands are ignored unless asked for.
* :class:`Air`: an authenticator and a supplicant joined by a fake link with a simple NIC model
  (a protected frame reaches the peer only if both have the same TK installed), timers on a
  virtual clock, and hooks to drop, hold or duplicate frames.
* :func:`dot11_frames`: the frames an Air carried, as 802.11 MPDUs (protected ones encrypted under
  the sender's TK) for the passive decryptor.
"""

from __future__ import annotations

import random
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from krackwatch.crypto import CCMP, GCMP, TKIP, Cipher
from krackwatch.protocol import (
    Authenticator,
    CancelTimer,
    Command,
    Deauthenticate,
    Dropped,
    DropReason,
    InstallKey,
    KeyKind,
    Log,
    SendEAPOL,
    SendMgmt,
    SetTimer,
    Supplicant,
)
from krackwatch.wire import HandshakeMessage, classify, decode_eapol_key

AP = bytes.fromhex("020000000000")
STA = bytes.fromhex("020000000100")
AP2 = bytes.fromhex("020000000200")
SNAP_EAPOL = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"


def nonces(seed: int = 1) -> Callable[[int], bytes]:
    """A seeded nonce source (what the lab passes)."""
    rng = random.Random(seed)
    return rng.randbytes


def message(eapol: bytes) -> HandshakeMessage:
    return classify(decode_eapol_key(eapol))


# --------------------------------------------------------------------------- matchers


class Matcher(ABC):
    @abstractmethod
    def matches(self, cmd: Command) -> bool:
        """Whether ``cmd`` is what this step of the playbook expects."""


@dataclass
class Sends(Matcher):
    """A SendEAPOL of handshake message ``msg`` (1-4, or "G1"/"G2"), optionally checking protection."""

    msg: int | str
    protected: bool | None = None

    def matches(self, cmd: Command) -> bool:
        if not isinstance(cmd, SendEAPOL):
            return False
        want = {
            1: HandshakeMessage.M1,
            2: HandshakeMessage.M2,
            3: HandshakeMessage.M3,
            4: HandshakeMessage.M4,
            "G1": HandshakeMessage.GROUP_M1,
            "G2": HandshakeMessage.GROUP_M2,
        }[self.msg]
        return message(cmd.eapol) == want and (self.protected is None or cmd.protected == self.protected)


@dataclass
class Installs(Matcher):
    kind: KeyKind
    zero: bool | None = None
    key: bytes | None = None
    rsc: int | None = None

    def matches(self, cmd: Command) -> bool:
        return (
            isinstance(cmd, InstallKey)
            and cmd.kind is self.kind
            and (self.zero is None or cmd.zero == self.zero)
            and (self.key is None or cmd.key == self.key)
            and (self.rsc is None or cmd.rsc == self.rsc)
        )


@dataclass
class Drop(Matcher):
    reason: DropReason

    def matches(self, cmd: Command) -> bool:
        return isinstance(cmd, Dropped) and cmd.reason is self.reason


@dataclass
class Timer(Matcher):
    name: str
    deadline: float

    def matches(self, cmd: Command) -> bool:
        return (
            isinstance(cmd, SetTimer) and cmd.name == self.name and abs(cmd.deadline - self.deadline) < 1e-9
        )


class _Type(Matcher):
    def __init__(self, cls: type) -> None:
        self.cls = cls

    def matches(self, cmd: Command) -> bool:
        return isinstance(cmd, self.cls)

    def __repr__(self) -> str:
        return f"any {self.cls.__name__}"


def _as_matcher(expected: object) -> Matcher:
    if isinstance(expected, Matcher):
        return expected
    if isinstance(expected, type):
        return _Type(expected)
    return _Equal(expected)


@dataclass
class _Equal(Matcher):
    value: object

    def matches(self, cmd: Command) -> bool:
        return cmd == self.value


# --------------------------------------------------------------------------- inputs


@dataclass
class Input:
    """One input to a machine: ``call(machine)`` returns its commands."""

    label: str
    call: Callable[[object], list[Command]]

    def __repr__(self) -> str:
        return f">> {self.label}"


def eapol(
    frame: bytes, *, protected: bool = False, decrypted_with: str | None = None, now: float = 0.0
) -> Input:
    def call(m):
        if isinstance(m, Supplicant):
            return m.receive_eapol(frame, protected=protected, decrypted_with=decrypted_with, now=now)
        return m.receive_eapol(frame, protected=protected, now=now)

    try:
        name = message(frame).name
    except Exception:  # noqa: BLE001 - a label only
        name = f"{len(frame)} octets"
    return Input(f"eapol {name} protected={protected} {decrypted_with or ''}".strip(), call)


def timeout(name: str, now: float) -> Input:
    return Input(f"timeout {name} @{now}", lambda m: m.timeout(name, now))


def method(name: str, *args, **kwargs) -> Input:
    return Input(f"{name}{args}", lambda m: getattr(m, name)(*args, **kwargs))


class Playbook:
    """``Playbook(machine) >> input << expected << ...``; ``assert pb`` runs it."""

    def __init__(self, machine: object, *, ignore_log: bool = True) -> None:
        self.machine = machine
        self.ignore_log = ignore_log
        self.steps: list[tuple[str, object]] = []
        self.actual: list[Command] = []

    def __rshift__(self, inp: Input) -> Playbook:
        self.steps.append(("in", inp))
        return self

    def __lshift__(self, expected: object) -> Playbook:
        self.steps.append(("out", expected))
        return self

    def __bool__(self) -> bool:
        transcript: list[str] = []
        pending: list[Command] = []
        for kind, item in self.steps:
            if kind == "in":
                if pending:
                    self._fail(transcript, f"unexpected commands before {item!r}: {pending}")
                cmds = item.call(self.machine)
                if self.ignore_log:
                    cmds = [c for c in cmds if not isinstance(c, Log)]
                self.actual.extend(cmds)
                pending = list(cmds)
                transcript.append(repr(item))
            else:
                matcher = _as_matcher(item)
                if not pending:
                    self._fail(transcript, f"expected {matcher!r}, got nothing more")
                got = pending.pop(0)
                if not matcher.matches(got):
                    self._fail(transcript, f"expected {matcher!r}, got {got!r}")
                transcript.append(f"<< {got!r}")
        if pending:
            self._fail(transcript, f"unexpected trailing commands: {pending}")
        return True

    @staticmethod
    def _fail(transcript: list[str], message: str) -> None:
        raise AssertionError("\n".join([*transcript, "!! " + message]))


# --------------------------------------------------------------------------- the air


@dataclass
class Carried:
    """A frame that went over the air."""

    time: float
    src: bytes
    dst: bytes
    eapol: bytes | None = None
    mgmt: tuple[int, bytes] | None = None
    protected: bool = False
    tk: bytes | None = None  # the sender's TK when protected
    cipher: Cipher | None = None


Policy = Callable[["Air", SendEAPOL | SendMgmt], str]  # "deliver", "drop" or "hold"


@dataclass
class Air:
    """Delivers what an authenticator and a supplicant send each other, in order, on a virtual clock."""

    auth: Authenticator
    sup: Supplicant
    now: float = 0.0
    policy: Policy | None = None
    carried: list[Carried] = field(default_factory=list)
    held: list[SendEAPOL | SendMgmt] = field(default_factory=list)
    timers: dict[str, float] = field(default_factory=dict)
    commands: dict[str, list[Command]] = field(default_factory=lambda: {"ap": [], "sta": []})
    tk: dict[str, bytes | None] = field(default_factory=lambda: {"ap": None, "sta": None})
    extra_aps: dict[bytes, Authenticator] = field(default_factory=dict)
    log: list[tuple[float, str, Command]] = field(default_factory=list)  # (time, side, command)

    def side(self, addr: bytes) -> str:
        return "sta" if addr == self.sup.addr else "ap"

    def machine_for(self, addr: bytes):
        if addr == self.sup.addr:
            return self.sup
        return self.extra_aps.get(addr, self.auth) if addr != self.auth.addr else self.auth

    def installs(self, side: str, kind: KeyKind | None = None) -> list[InstallKey]:
        return [
            c for c in self.commands[side] if isinstance(c, InstallKey) and (kind is None or c.kind is kind)
        ]

    def drops(self, side: str) -> list[Dropped]:
        return [c for c in self.commands[side] if isinstance(c, Dropped)]

    def sent(self, side: str) -> list[SendEAPOL]:
        return [c for c in self.commands[side] if isinstance(c, SendEAPOL)]

    def run(self, cmds: Iterable[Command], sender: str) -> None:
        queue: list[tuple[str, Command]] = [(sender, c) for c in cmds]
        while queue:
            who, cmd = queue.pop(0)
            self.commands[who].append(cmd)
            self.log.append((self.now, who, cmd))
            if isinstance(cmd, InstallKey) and cmd.kind is KeyKind.PTK:
                self.tk[who] = cmd.key
            elif isinstance(cmd, SetTimer) and who == "ap":
                self.timers[cmd.name] = cmd.deadline
            elif isinstance(cmd, CancelTimer) and who == "ap":
                self.timers.pop(cmd.name, None)
            elif isinstance(cmd, (SendEAPOL, SendMgmt)):
                action = self.policy(self, cmd) if self.policy else "deliver"
                if action == "hold":
                    self.held.append(cmd)
                    continue
                if action == "drop":
                    continue
                queue.extend(self._deliver(cmd, who))

    def release(self, index: int = 0, **delivery) -> None:
        """Deliver a held frame now (``delivery`` overrides protected / decrypted_with)."""
        cmd = self.held.pop(index)
        sender = self.side(cmd.src)
        for c in self._deliver(cmd, sender, **delivery):
            self.run([c[1]], c[0])

    def _deliver(self, cmd, sender: str, **override) -> list[tuple[str, Command]]:
        receiver = "sta" if sender == "ap" else "ap"
        target = self.machine_for(cmd.dst)
        if isinstance(cmd, SendMgmt):
            self.carried.append(Carried(self.now, cmd.src, cmd.dst, mgmt=(cmd.subtype, cmd.body)))
            out = target.receive_mgmt(cmd.subtype, cmd.body, cmd.src, self.now)
            return [(receiver, c) for c in out]
        protected = override.get("protected", cmd.protected)
        # The NIC decrypts only if it holds the key the sender used.
        if (
            protected
            and "decrypted_with" not in override
            and (self.tk[sender] is None or self.tk[sender] != self.tk[receiver])
        ):
            return []
        cipher = self.auth.pairwise
        self.carried.append(
            Carried(
                self.now,
                cmd.src,
                cmd.dst,
                eapol=cmd.eapol,
                protected=protected,
                tk=self.tk[sender] if protected else None,
                cipher=cipher,
            )
        )
        if target is self.sup:
            out = self.sup.receive_eapol(
                cmd.eapol, protected=protected, decrypted_with=override.get("decrypted_with"), now=self.now
            )
        else:
            out = target.receive_eapol(cmd.eapol, protected=protected, now=self.now)
        return [(receiver, c) for c in out]

    def start(self) -> None:
        self.run(self.auth.start(self.now), "ap")

    def advance(self, until: float) -> None:
        """Fire due timers in deadline order up to ``until``."""
        while True:
            due = [(d, n) for n, d in self.timers.items() if d <= until + 1e-9]
            if not due:
                break
            deadline, name = min(due)
            del self.timers[name]
            self.now = deadline
            self.run(self.auth.timeout(name, deadline), "ap")
        self.now = max(self.now, until)

    def deauths(self) -> list[tuple[float, Deauthenticate]]:
        return [(t, c) for t, who, c in self.log if who == "ap" and isinstance(c, Deauthenticate)]


def handshake(auth: Authenticator, sup: Supplicant, **kwargs) -> Air:
    air = Air(auth, sup, **kwargs)
    air.start()
    return air


# --------------------------------------------------------------------------- 802.11 frames


def _header(fc0: int, fc1: int, a1: bytes, a2: bytes, a3: bytes, seq: int) -> bytes:
    return struct.pack("<BBH", fc0, fc1, 0) + a1 + a2 + a3 + struct.pack("<H", (seq & 0xFFF) << 4)


def dot11_frames(carried: Iterable[Carried], bssids: Iterable[bytes]) -> list[bytes]:
    """802.11 MPDUs (link type 105, no FCS) for what an Air carried; EAPOL in data frames (protected
    ones encrypted with the sender's TK, PN counting from 1 per key and direction)."""
    aps = set(bssids)
    pns: dict[tuple[bytes, bytes], int] = {}
    out = []
    for seq, c in enumerate(carried):
        from_ap = c.src in aps
        bssid = c.src if from_ap else c.dst
        if c.mgmt is not None:
            subtype, body = c.mgmt
            out.append(_header(subtype << 4, 0, c.dst, c.src, bssid, seq) + body)
            continue
        if from_ap:
            fc1, a1, a2, a3 = 0x02, c.dst, c.src, c.src
        else:
            fc1, a1, a2, a3 = 0x01, c.dst, c.src, c.dst
        payload = SNAP_EAPOL + c.eapol
        if not c.protected:
            out.append(_header(0x08, fc1, a1, a2, a3, seq) + payload)
            continue
        hdr = _header(0x08, fc1 | 0x40, a1, a2, a3, seq)
        pn = pns.get((c.tk, c.src), 0) + 1
        pns[(c.tk, c.src)] = pn
        if c.cipher in (Cipher.GCMP128, Cipher.GCMP256):
            body = GCMP(c.tk).encrypt(hdr, pn, 0, payload)
        elif c.cipher is Cipher.TKIP:
            mic_key = c.tk[16:24] if from_ap else c.tk[24:32]
            body = TKIP(c.tk).encrypt(hdr, pn, 0, payload, michael_key=mic_key)
        else:
            body = CCMP(c.tk).encrypt(hdr, pn, 0, payload)
        out.append(hdr + body)
    return out
