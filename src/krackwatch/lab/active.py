"""Active tests as krackattacks-scripts runs them, against one device, through a :class:`Radio`.

``ClientTester`` is ``krack-test-client.py``: the tester is the AP (its own authenticator with the
modified hostapd's test controls: ``RESEND_M1``/``RESEND_M3``/``RESEND_GROUP_M1``, ``RESET_PN``,
``RENEW_GTK``), a DHCP server and a broadcast ARP sender. Every two seconds it retransmits a
handshake message and sends a broadcast ARP request at a reset group PN, and watches what the client
sends: the same packet number twice (a different sequence number, at least a second apart: not a
retransmission), frames that decrypt under an all-zero TK, and ARP replies to the broadcast sender
(research 1.3-1.6). ``ApTester`` is ``krack-ft-test.py``: it replays a client's FT Reassociation
Request every second and watches the AP's packet numbers (1.7).

Verdicts are tri-state. krackattacks-scripts' rules decide ``vulnerable`` and ``not_vulnerable``
(five 5-second intervals of increasing IVs; five silent intervals of four ARP requests); when the
time limit comes first, or the device never got far enough to be tested, the verdict is
``inconclusive`` and says what was missing. The FT script has no "patched" verdict; here the AP is
``not_vulnerable`` once five replays drew no IV reuse while it kept transmitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from krackwatch.crypto import AKM, Cipher, DecryptionError
from krackwatch.lab.crack import pn_of, zero_tk_plaintext
from krackwatch.lab.frames import BROADCAST
from krackwatch.lab.hosts import Network
from krackwatch.lab.packets import EtherType, arp, parse_arp
from krackwatch.lab.radio import Radio, RadioClock, RadioPort
from krackwatch.lab.sim import AirFrame
from krackwatch.lab.stations import AccessPoint
from krackwatch.lab.world import NetConfig, World
from krackwatch.protocol.profile import Profile, Role, get_profile
from krackwatch.wire.elements import iter_elements
from krackwatch.wire.errors import DecodeError

__all__ = ["CLIENT_TESTS", "ActiveReport", "ActiveVerdict", "ApTester", "ClientTester", "run_ap_test", "run_client_test"]

CLIENT_TESTS = ("fourway", "tptk", "tptk-rand", "group", "gtkinit", "replay-broadcast")
HANDSHAKE_TRANSMIT_INTERVAL = 2.0
PATCHED_IV_INTERVAL = 2 * HANDSHAKE_TRANSMIT_INTERVAL + 1
PATCHED_INTERVALS = 5
CANARIES_NEEDED = 5
ARP_REQUESTS_PER_INTERVAL = 4


class ActiveVerdict(StrEnum):
    VULNERABLE = "vulnerable"
    NOT_VULNERABLE = "not_vulnerable"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class ActiveReport:
    """The outcome of one active test, with the evidence behind it."""

    test: str
    device: str
    verdict: ActiveVerdict
    message: str
    evidence: tuple[str, ...]
    duration: float

    def to_dict(self) -> dict:
        return {"test": self.test, "device": self.device, "verdict": self.verdict.value, "message": self.message,
                "evidence": list(self.evidence), "duration_s": round(self.duration, 3)}


class _IvCollection:
    """krackattacks-scripts ``IvCollection``: IV -> (time, sequence number) of the last frame."""

    def __init__(self) -> None:
        self.ivs: dict[int, tuple[float, int]] = {}

    def reused(self, iv: int, seq: int, t: float) -> tuple[float, int] | None:
        """The earlier use when this frame reuses an IV and is not a retransmission (other sequence
        number, at least a second later); records the frame either way."""
        prev = self.ivs.get(iv)
        self.ivs[iv] = (t, seq)
        if prev is not None and prev[1] != seq and t >= prev[0] + 1.0:
            return prev
        return None


class ClientTester:
    """``krack-test-client.py`` (see the module docstring). ``test`` is one of :data:`CLIENT_TESTS`."""

    def __init__(self, radio: Radio, world: World, *, bssid: bytes, test: str = "fourway",
                 time_limit: float = 90.0) -> None:
        if test not in CLIENT_TESTS:
            raise ValueError(f"unknown client test {test!r}")
        self.radio = radio
        self.test = test
        self.time_limit = time_limit
        self.clock = RadioClock(radio)
        self.bssid = bssid
        net = world.net
        self.lan = net.lan
        self.ap = AccessPoint(world, name="tester", bssid=bssid, channel=radio.channel,
                              profile=get_profile("hostapd-2.7"), port=RadioPort(radio), sched=self.clock)
        self.network = Network(self.clock, world.rng("tester/network"), self.ap.send_msdu, lan=net.lan,
                               broadcasts=False)
        self.ap.network = self.network
        self.cipher = net.pairwise
        self.client: bytes | None = None
        self.evidence: list[str] = []
        self.pairwise = "unknown"  # 4-way PTK verdict: unknown / vulnerable / patched
        self.broadcast = "unknown"
        self.ivs = _IvCollection()
        self.max_iv = 0
        self.iv_interval_start: float | None = None
        self.iv_intervals = 0
        self.canaries = -1  # the first replies answer requests that are still valid
        self.last_canary = -10.0
        self.requests = 0
        self.closed_at = 0  # request count at which the last broadcast interval was closed
        self.replies_this_interval = 0
        self.patched_intervals = -1
        self.zero_frames = 0

    # ------------------------------------------------------------------ the main loop
    def run(self) -> ActiveReport:
        t0 = self.radio.now()
        deadline = t0 + self.time_limit
        next_action = t0 + HANDSHAKE_TRANSMIT_INTERVAL
        while self.radio.now() < deadline and not self._decided():
            wake = min(x for x in (self.clock.next_deadline(), next_action, deadline) if x is not None)
            got = self.radio.receive(wake)
            if got is not None:
                t, frame = got
                self.ap.on_frame(frame, self.radio.channel)
                self._monitor(t, frame)
            self.clock.run_due()
            if self.radio.now() >= next_action:
                self._interval()
                next_action += HANDSHAKE_TRANSMIT_INTERVAL
        verdict, message = self._conclude()
        return ActiveReport(self.test, self.client.hex(":") if self.client else "", verdict, message,
                            tuple(self.evidence), self.radio.now() - t0)

    def _wants_pairwise(self) -> bool:
        return self.test in ("fourway", "tptk", "tptk-rand")

    def _wants_broadcast(self) -> bool:
        return self.test in ("fourway", "group", "gtkinit", "replay-broadcast")

    def _decided(self) -> bool:
        if "vulnerable" in (self.pairwise, self.broadcast):
            return True
        pw = self.pairwise == "patched" or not self._wants_pairwise()
        bc = self.broadcast == "patched" or not self._wants_broadcast()
        return pw and bc

    # ------------------------------------------------------------------ every two seconds
    def _interval(self) -> None:
        sta = self.ap.stas.get(self.client) if self.client else None
        if sta is None or not sta.connected or sta.auth is None:
            return
        now = self.radio.now()
        mac = sta.mac
        if self.test == "gtkinit":
            # RENEW_GTK: a new GTK on the AP only, used from PN 0, without a group key handshake.
            self.ap.group.new_gtk()
            self.ap.run_commands(mac, self.ap.group.install_tx())
        else:
            self.ap.reset_group_pn()  # RESET_PN ff:ff:ff:ff:ff:ff
        if self._wants_pairwise() and self.pairwise != "vulnerable":
            if self.test in ("tptk", "tptk-rand"):
                self.ap.run_commands(mac, sta.auth.resend_m1(now, change_anonce=self.test == "tptk-rand"))
            self.ap.run_commands(mac, sta.auth.resend_m3(now))
        if self._wants_broadcast() and self.broadcast != "vulnerable":
            self._close_broadcast_interval()
            client_ip = self.network.leases.get(mac)
            if client_ip is not None:
                if self.test in ("group", "gtkinit"):
                    self.ap.run_commands(mac, sta.auth.resend_group_m1(now, max_rsc=self.test == "gtkinit"))
                self.clock.at(now + 1.0, lambda: self._broadcast_request(client_ip))

    def _broadcast_request(self, client_ip: bytes) -> None:
        self.network.send(BROADCAST, self.lan.gateway_mac, EtherType.ARP,
                          arp(1, self.lan.gateway_mac, self.lan.broadcast_sender_ip, bytes(6), client_ip))
        self.requests += 1

    def _close_broadcast_interval(self) -> None:
        if self.requests and self.requests % ARP_REQUESTS_PER_INTERVAL == 0 and self.requests != self.closed_at:
            self.closed_at = self.requests
            if self.replies_this_interval == 0:
                self.patched_intervals += 1
                if self.patched_intervals >= PATCHED_INTERVALS and self.broadcast == "unknown":
                    self.broadcast = "patched"
            self.replies_this_interval = 0

    # ------------------------------------------------------------------ what the client sends
    def _monitor(self, t: float, frame: bytes) -> None:
        if len(frame) < 34 or frame[0] & 0x0C != 0x08 or frame[1] & 0x43 != 0x41 or frame[4:10] != self.bssid:
            return
        client = frame[10:16]
        sta = self.ap.stas.get(client)
        if sta is None:
            return
        if self.client is None:
            self.client = client
        pn = pn_of(frame, self.cipher)
        seq = (frame[22] | frame[23] << 8) >> 4
        plain = zero_tk_plaintext(frame, self.cipher)
        if plain is not None:
            self.zero_frames += 1
            if self.pairwise != "vulnerable":
                self.pairwise = "vulnerable"
                self.evidence.append(
                    f"{client.hex(':')}: usage of all-zero key detected (IV={pn}, seq={seq}). Client (re)installs "
                    "an all-zero key in the 4-way handshake (this is very bad).")
        elif sta.ptk_rx is not None:
            # Frames with a reused IV are dropped by the NIC: decrypt them here (GET_TK).
            try:
                plain = sta.ptk_rx.open(frame)
            except DecryptionError:
                plain = None
        if self._wants_pairwise() and self.pairwise == "unknown":
            prev = self.ivs.reused(pn, seq, t)
            if prev is not None:
                self.pairwise = "vulnerable"
                self.evidence.append(
                    f"{client.hex(':')}: IV reuse detected (IV={pn}, seq={seq}; first seen at {prev[0]:.3f}s with "
                    f"seq={prev[1]}). Client reinstalls the pairwise key in the 4-way handshake (this is bad)")
            elif pn > self.max_iv:
                self.max_iv = pn
                if self.iv_interval_start is None:
                    self.iv_interval_start = t
                elif t - self.iv_interval_start >= PATCHED_IV_INTERVAL:
                    self.iv_intervals += 1
                    self.iv_interval_start = t
                    if self.iv_intervals >= PATCHED_INTERVALS:
                        self.pairwise = "patched"
        if plain is not None and len(plain) >= 36 and plain[6:8] == b"\x08\x06":
            a = parse_arp(plain[8:])
            if a is not None and a[0] == 2 and a[4] == self.lan.broadcast_sender_ip:
                self.replies_this_interval += 1
                if t - self.last_canary >= 1.0:
                    self.last_canary = t
                    self.canaries += 1
                    if self.canaries >= CANARIES_NEEDED and self.broadcast == "unknown":
                        self.broadcast = "vulnerable"
                        self.evidence.append(
                            f"received {self.canaries + 1} unique replies to replayed broadcast ARP requests")

    # ------------------------------------------------------------------ verdict
    def _conclude(self) -> tuple[ActiveVerdict, str]:
        hs = "group key" if self.test in ("group", "gtkinit") else "4-way"
        if self.pairwise == "vulnerable" or self.broadcast == "vulnerable":
            if self.broadcast != "vulnerable":
                return ActiveVerdict.VULNERABLE, "Client reinstalls the pairwise key in the 4-way handshake (this is bad)"
            return ActiveVerdict.VULNERABLE, {
                "gtkinit": f"Client always installs the group key in the {hs} handshake with a zero replay "
                           "counter (this is bad).",
                "replay-broadcast": "Client accepts replayed broadcast frames (this is bad).",
            }.get(self.test, f"Client reinstalls the group key in the {hs} handshake (this is bad). "
                             "Or client accepts replayed broadcast frames (see --replay-broadcast).")
        if self._decided():
            messages = []
            if self._wants_pairwise():
                attack = {"fourway": "standard", "tptk": "TPTK", "tptk-rand": "TPTK-RAND"}[self.test]
                messages.append("client DOESN'T reinstall the pairwise key in the 4-way handshake (this is good) "
                                f"(used {attack} attack).")
                self.evidence.append(f"{self.iv_intervals} intervals of {PATCHED_IV_INTERVAL:.0f} s with increasing "
                                     f"IVs (highest IV {self.max_iv})")
            if self._wants_broadcast():
                messages.append({
                    "gtkinit": f"Client installs the group key in the {hs} handshake with the given replay counter "
                               "(this is good)",
                    "replay-broadcast": "Client DOESN'T accept replayed broadcast frames (this is good)",
                }.get(self.test, f"Client DOESN'T reinstall the group key in the {hs} handshake (this is good)"))
                self.evidence.append(f"{self.patched_intervals} intervals of {ARP_REQUESTS_PER_INTERVAL} replayed "
                                     f"broadcast ARP requests without a reply ({self.requests} requests)")
            return ActiveVerdict.NOT_VULNERABLE, " ".join(messages)
        missing = []
        if self.client is None:
            missing.append("no client connected")
        elif not self.network.leases:
            missing.append("the client never got a DHCP lease")
        if self._wants_pairwise() and self.pairwise == "unknown":
            missing.append(f"only {self.iv_intervals} of {PATCHED_INTERVALS} intervals with increasing IVs "
                           "(the client must keep sending, e.g. ping the gateway)")
        if self._wants_broadcast() and self.broadcast == "unknown":
            missing.append(f"{max(self.canaries, 0)} replies and {max(self.patched_intervals, 0)} silent "
                           f"intervals (need {CANARIES_NEEDED} or {PATCHED_INTERVALS})")
        return ActiveVerdict.INCONCLUSIVE, "inconclusive: " + "; ".join(missing)


class ApTester:
    """``krack-ft-test.py`` (see the module docstring): watches for the client's FT Reassociation
    Request on the AP's channel, replays it every second, and looks for IV reuse in the AP's frames."""

    def __init__(self, radio: Radio, *, client: bytes, ap: bytes, cipher: Cipher = Cipher.CCMP128,
                 time_limit: float = 20.0, replays_needed: int = 5) -> None:
        self.radio = radio
        self.cipher = cipher
        self.client = client
        self.ap = ap
        self.time_limit = time_limit
        self.replays_needed = replays_needed
        self.evidence: list[str] = []
        self.reassoc: bytes | None = None
        self.next_replay: float | None = None
        self.replays = 0
        self.ivs = _IvCollection()
        self.first_replay: float | None = None
        self.ap_frames_after = 0
        self.vulnerable = False

    def run(self) -> ActiveReport:
        t0 = self.radio.now()
        deadline = t0 + self.time_limit
        while self.radio.now() < deadline and not self.vulnerable:
            wake = min(x for x in (self.next_replay, deadline) if x is not None)
            got = self.radio.receive(wake)
            if got is not None:
                self._monitor(*got)
            if self.next_replay is not None and self.radio.now() >= self.next_replay and self.reassoc is not None:
                self.radio.send(self.reassoc)
                self.replays += 1
                if self.first_replay is None:
                    self.first_replay = self.radio.now()
                self.next_replay = self.radio.now() + 1.0
                if self.replays >= self.replays_needed and self.ap_frames_after >= self.replays_needed:
                    break
        verdict, message = self._conclude()
        return ActiveReport("ft", self.ap.hex(":"), verdict, message, tuple(self.evidence), self.radio.now() - t0)

    def _monitor(self, t: float, frame: bytes) -> None:
        if len(frame) < 24:
            return
        fc0, a1, a2 = frame[0], frame[4:10], frame[10:16]
        subtype = fc0 >> 4
        if fc0 & 0x0C == 0x00 and self.client in (a1, a2):
            if subtype == 2 and a2 == self.client:  # Reassociation Request
                body = frame[34:]
                if b"\x30" in body and b"\x37" in body and self._has_ft(body):
                    if self.reassoc is None:
                        self.evidence.append("Detected FT reassociation frame")
                    self.reassoc = frame
                    self.next_replay = t + 1.0
                else:
                    self.evidence.append("Reassociation frame does not appear to be an FT one")
                    self.reassoc = None
            elif subtype in (0, 11):  # Association Request / Authentication: a new connection
                self.reassoc = None
                self.next_replay = None
        elif fc0 & 0x0C == 0x08 and frame[1] & 0x43 == 0x42 and a1 == self.client and a2 == self.ap:
            pn = pn_of(frame, self.cipher)
            seq = (frame[22] | frame[23] << 8) >> 4
            if self.first_replay is not None:
                self.ap_frames_after += 1
            prev = self.ivs.reused(pn, seq, t)
            if prev is not None and not self.vulnerable:
                self.vulnerable = True
                self.evidence.append(f"IV reuse detected (IV={pn}, seq={seq}). AP is vulnerable!")

    @staticmethod
    def _has_ft(body: bytes) -> bool:
        try:
            ids = {e.id for e in iter_elements(body)}
        except DecodeError:
            return False
        return 48 in ids and 55 in ids

    def _conclude(self) -> tuple[ActiveVerdict, str]:
        if self.vulnerable:
            return ActiveVerdict.VULNERABLE, (
                "AP reinstalls the pairwise key on a replayed FT Reassociation Request (this is bad)")
        if self.reassoc is None and not self.replays:
            return ActiveVerdict.INCONCLUSIVE, (
                "inconclusive: no FT Reassociation Request from the client was seen (roam to the AP)")
        if self.replays >= self.replays_needed and self.ap_frames_after >= self.replays_needed:
            self.evidence.append(f"{self.replays} replayed Reassociation Requests, {self.ap_frames_after} AP frames "
                                 "after them, no IV reuse")
            return ActiveVerdict.NOT_VULNERABLE, (
                "AP DOESN'T reinstall the pairwise key on replayed FT Reassociation Requests (this is good)")
        return ActiveVerdict.INCONCLUSIVE, (f"inconclusive: {self.replays} replays and {self.ap_frames_after} AP data "
                                            f"frames after them (need {self.replays_needed} of each; the client must "
                                            "keep traffic flowing)")


TESTER_MAC = bytes.fromhex("024b5700fa57")
DEVICE_MAC = bytes.fromhex("024b57001001")


def run_client_test(profile: str | Profile, *, test: str = "fourway", seed: int = 1, cipher: Cipher = Cipher.CCMP128,
                record: bool = True, time_limit: float = 90.0) -> tuple[ActiveReport, tuple[AirFrame, ...]]:
    """Run ``ClientTester`` on a :class:`SimulatedRadio` against a simulated client with ``profile``."""
    from krackwatch.lab.attacks import lab_password
    from krackwatch.lab.radio import SimulatedRadio
    from krackwatch.lab.stations import Client

    prof = get_profile(profile) if isinstance(profile, str) else profile
    if prof.role is Role.AP:
        raise ValueError(f"{prof.name} models an access point; test-client needs a client profile")
    world = World(seed, NetConfig(pairwise=cipher, group=cipher), record=record)
    radio = SimulatedRadio(world, name="tester", channel=1)
    device = Client(world, name="device", mac=DEVICE_MAC, profile=prof, bssid=TESTER_MAC, channel=1,
                    password=lab_password(seed))
    device.connect(0.1)
    report = ClientTester(radio, world, bssid=TESTER_MAC, test=test, time_limit=time_limit).run()
    return report, tuple(world.air.frames)


def run_ap_test(profile: str | Profile, *, seed: int = 1, record: bool = True,
            time_limit: float = 20.0) -> tuple[ActiveReport, tuple[AirFrame, ...]]:
    """Run ``ApTester`` against two simulated APs with ``profile`` (FT, one mobility domain) while a
    reference client roams from the first to the second."""
    from krackwatch.lab.attacks import AP2_MAC, FT_TARGET_CHANNEL, FtLab
    from krackwatch.lab.radio import SimulatedRadio

    prof = get_profile(profile) if isinstance(profile, str) else profile
    if prof.role is Role.CLIENT:
        raise ValueError(f"{prof.name} models a client; test-ap needs an access point profile")
    lab = FtLab(seed=seed, net=NetConfig(akm=AKM.FT_PSK), ap_profile=prof, client_profile=get_profile("patched"),
                record=record)
    radio = SimulatedRadio(lab.world, name="tester", channel=FT_TARGET_CHANNEL)
    lab.victim.connect(0.05)
    lab.world.loop.at(1.5, lambda: lab.victim.roam(AP2_MAC, FT_TARGET_CHANNEL))
    report = ApTester(radio, client=DEVICE_MAC, ap=AP2_MAC, time_limit=time_limit).run()
    return report, tuple(lab.world.air.frames)
