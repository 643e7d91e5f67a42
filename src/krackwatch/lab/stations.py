"""Simulated stations: a client (supplicant) and an access point (authenticator), each a thin driver
around the sans-IO machines of :mod:`krackwatch.protocol`.

The driver is the NIC: it transmits what the machines ask, installs keys (which restarts the key's
transmit packet number and receive replay counter: the effect a reinstallation has), decrypts and
replay-checks received frames, and bridges MSDUs to the hosts above it. The client's receive path is
split like real hardware: the NIC decrypts a frame when it arrives, with the keys installed at that
moment; the CPU handles EAPOL frames one at a time ``cpu_delay`` later. Two frames that arrive back to
back are therefore both decrypted (or passed in plaintext) before the first one's keys are installed
— the races of the KRACK paper 3.4 — and the supplicant is told so through ``decrypted_with``.

Every station keeps ground truth for the run's report: keys installed, frames accepted, drops.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from krackwatch.crypto import Cipher, DecryptionError
from krackwatch.crypto.errors import InvalidMIC
from krackwatch.lab.frames import (
    BEACON_MODE_TABLE,
    BROADCAST,
    FC_FROMDS,
    FC_TODS,
    RxKey,
    TxKey,
    beacon,
    check_mgmt_group,
    data_frame,
    is_group,
    mgmt_frame,
    protect_mgmt_group,
    rm_beacon_report,
    rm_beacon_request,
    rm_beacon_requests,
)
from krackwatch.lab.hosts import ClientHost, Network
from krackwatch.lab.packets import LLC_SNAP, EtherType
from krackwatch.lab.sim import Scheduler, Timer
from krackwatch.lab.world import World
from krackwatch.protocol.authenticator import Authenticator, AuthenticatorState, GroupState
from krackwatch.protocol.commands import (
    CancelTimer,
    Command,
    Deauthenticate,
    Dropped,
    InstallKey,
    KeyKind,
    Log,
    SendEAPOL,
    SendMgmt,
    SetTimer,
)
from krackwatch.protocol.ft import FTConfig, ft_element
from krackwatch.protocol.keymsg import rsn_element
from krackwatch.protocol.profile import Profile
from krackwatch.protocol.supplicant import Supplicant, SupplicantState
from krackwatch.wire.dot11 import AssocReqBody, AssocRespBody, AuthBody, MgmtSubtype, ReasonCode
from krackwatch.wire.elements import CSA, Element, ElementID, decode_elements, ssid_element
from krackwatch.wire.errors import DecodeError

__all__ = ["TU", "AccessPoint", "Client", "KeyEvent"]

TU = 1.024e-3


class _Sender(Protocol):
    def send(self, data: bytes, comment: str | None = None) -> None: ...

BEACON_INTERVAL = 100 * TU
_EAPOL_PREFIX = LLC_SNAP + b"\x88\x8e"
_CAPABILITY = 0x0411


@dataclass(frozen=True, slots=True)
class KeyEvent:
    """A key the station loaded into its NIC (ground truth)."""

    time: float
    kind: str
    key_id: int
    zero: bool
    reinstall: bool  # same key bytes as the key already in that slot


@dataclass(slots=True)
class Trace:
    """Ground truth a station collects while the run goes on."""

    keys: list[KeyEvent] = field(default_factory=list)
    accepted: list[tuple[float, bytes]] = field(default_factory=list)  # protected MPDUs accepted
    replays_dropped: int = 0
    drops: list[tuple[float, str]] = field(default_factory=list)  # the machine's Dropped reasons
    log: list[tuple[float, str]] = field(default_factory=list)


def _michael(cipher: Cipher, key: bytes, tx_from_ap: bool) -> bytes | None:
    """TKIP Michael key of one direction (802.11-2020 12.8.1): octets 16-23 protect frames the
    authenticator sends, 24-31 those the supplicant sends."""
    if cipher.canonical is not Cipher.TKIP:
        return None
    return key[16:24] if tx_from_ap else key[24:32]


class Client:
    """A client station: MLME (authentication, association, CSA, reconnection), NIC, supplicant and
    the :class:`ClientHost` above it."""

    def __init__(self, world: World, *, name: str, mac: bytes, profile: Profile, bssid: bytes, channel: int,
                 cpu_delay: float = 0.002, password: str = "hunter2", user: str = "alice",
                 ft: FTConfig | None = None, reconnect_delay: float = 0.05) -> None:
        self.world = world
        self.net = world.net
        self.name = name
        self.mac = mac
        self.profile = profile
        self.bssid = bssid
        self.ft = ft
        self.cpu_delay = cpu_delay
        self.reconnect_delay = reconnect_delay
        self.port = world.air.port(name, channel, self._on_air)
        self.sched = world.loop
        self.trace = Trace()
        self.host = ClientHost(mac, world.loop, world.rng(f"{name}/host"), self._send_msdu, lan=self.net.lan,
                               user=user, password=password)
        self.rsne = rsn_element(akm=self.net.akm, pairwise=self.net.pairwise, group=self.net.group, pmf=self.net.pmf)
        self.state = "idle"
        self.link_up = False
        self.sup: Supplicant | None = None
        self._seq = 0
        self._nonces = world.nonce_source(f"{name}/nonces")
        self.ptk_tx: TxKey | None = None
        self.ptk_rx: RxKey | None = None
        self.gtk_rx: dict[int, RxKey] = {}
        self.igtk_rx: dict[int, list] = {}  # key id -> [igtk, ipn]
        self._cpu: deque[tuple[bytes, bool, bytes | None]] = deque()
        self._cpu_busy = False
        self._switch: Timer | None = None
        self._retry: Timer | None = None
        self.sent: list[tuple[float, bytes]] = []  # host MSDUs sent (ground truth, kept when recording)
        self._rrm = world.rng(f"{name}/rrm")

    # ------------------------------------------------------------------ transmit
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFF
        return self._seq

    def _mgmt(self, subtype: int, dst: bytes, body: bytes, bssid: bytes | None = None) -> None:
        self.port.send(mgmt_frame(subtype, dst, self.mac, bssid or dst, self._next_seq(), body))

    def _send_msdu(self, dst: bytes, ethertype: int, payload: bytes) -> None:
        """Host traffic: protected under the PTK, dropped while the link is down."""
        if not self.link_up or self.ptk_tx is None:
            return
        hdr = data_frame(FC_TODS, self.bssid, self.mac, dst, self._next_seq(), b"")
        msdu = LLC_SNAP + ethertype.to_bytes(2, "big") + payload
        if self.world.air.record:
            self.sent.append((self.sched.now, msdu))
        self.port.send(self.ptk_tx.protect(hdr, msdu))

    # ------------------------------------------------------------------ MLME
    def connect(self, delay: float = 0.0) -> None:
        """Authenticate (open system) and associate with ``bssid`` on the current channel."""
        self.sched.at(self.sched.now + delay, self._authenticate)

    def _authenticate(self) -> None:
        self.state = "auth"
        self._mgmt(MgmtSubtype.AUTH, self.bssid, AuthBody(0, 1, 0).encode())
        self._arm_retry(self._authenticate)

    def _arm_retry(self, fn: Callable[[], None]) -> None:
        if self._retry is not None:
            self._retry.cancel()
        self._retry = self.sched.at(self.sched.now + 0.2, fn)

    def _associate(self) -> None:
        self.state = "assoc"
        elements = [ssid_element(self.net.ssid), Element(ElementID.SUPPORTED_RATES, b"\x82\x84\x8b\x96\x0c\x12\x18\x24"),
                    Element(ElementID.RSN, self.rsne[2:])]
        if self.ft is not None:
            elements.append(Element(ElementID.MOBILITY_DOMAIN, self.ft.mde[2:]))
        self._mgmt(MgmtSubtype.ASSOC_REQ, self.bssid, AssocReqBody(_CAPABILITY, 10, None, tuple(elements)).encode())
        self._arm_retry(self._associate)

    def _associated(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
        self.state = "associated"
        self._drop_keys()
        self.sup = Supplicant(
            self.profile, addr=self.mac, ap_addr=self.bssid, pmk=self.net.pmk, akm=self.net.akm,
            pairwise=self.net.pairwise, group=self.net.group, pmf=self.net.pmf, rsne=self.rsne, ft=self.ft,
            nonce_source=self._nonces,
        )

    def _drop_keys(self) -> None:
        self.ptk_tx = self.ptk_rx = None
        self.gtk_rx.clear()
        self.igtk_rx.clear()
        self._cpu.clear()

    def _disconnected(self, why: str) -> None:
        self.trace.log.append((self.sched.now, f"disconnected: {why}"))
        if self.link_up:
            self.link_up = False
            self.host.link_down()
        self.sup = None
        self._drop_keys()
        self.state = "idle"
        self.connect(self.reconnect_delay)

    def tune(self, channel: int) -> None:
        self.trace.log.append((self.sched.now, f"switched to channel {channel}"))
        self.port.tune(channel)

    def roam(self, target: bytes, channel: int) -> None:
        """FT over the air to ``target`` on ``channel`` (802.11r 13.5)."""
        if self.sup is None:
            return
        self.tune(channel)
        self._run(self.sup.ft_auth_request(target, self.sched.now))

    # ------------------------------------------------------------------ receive
    def _on_air(self, frame: bytes, channel: int) -> None:
        if len(frame) < 24:
            return
        fc0 = frame[0]
        ftype = fc0 & 0x0C
        a1 = frame[4:10]
        if a1 != self.mac and not a1[0] & 1:
            return
        if ftype == 0x00:
            self._on_mgmt(fc0 >> 4, frame)
        elif ftype == 0x08 and frame[10:16] == self.bssid and frame[1] & 0x03 == 0x02:
            self._on_data(frame)

    def _on_mgmt(self, subtype: int, frame: bytes) -> None:
        src = frame[10:16]
        body = frame[24:]
        if subtype == MgmtSubtype.BEACON:
            if src == self.bssid and self.state == "associated" and b"\x25\x03" in body:
                self._on_beacon(body)
            return
        if frame[4] & 1:
            if subtype in (MgmtSubtype.ACTION, MgmtSubtype.DEAUTH, MgmtSubtype.DISASSOC) and src == self.bssid:
                self._on_group_mgmt(subtype, frame)
            return
        if subtype == MgmtSubtype.AUTH and len(body) >= 6:
            alg, seq, status = struct.unpack_from("<HHH", body)
            if alg == 0 and seq == 2 and src == self.bssid and self.state == "auth" and status == 0:
                self._associate()
            elif alg == 2 and self.sup is not None:
                self._run(self.sup.receive_mgmt(subtype, body, src, self.sched.now))
        elif subtype == MgmtSubtype.ASSOC_RESP and len(body) >= 6:
            if src == self.bssid and self.state == "assoc" and body[2] | body[3] << 8 == 0:
                self._associated()
        elif subtype == MgmtSubtype.REASSOC_RESP and self.sup is not None:
            old = self.sup.ap_addr
            self._run(self.sup.receive_mgmt(subtype, body, src, self.sched.now))
            if self.sup is not None and self.sup.ap_addr != old:
                self.bssid = self.sup.ap_addr
                self.trace.log.append((self.sched.now, f"FT: reassociated with {self.bssid.hex(':')}"))
        elif subtype in (MgmtSubtype.DEAUTH, MgmtSubtype.DISASSOC) and src == self.bssid and self.state != "idle":
            if self.sup is not None:
                self._run(self.sup.receive_mgmt(subtype, body, src, self.sched.now))
            self._disconnected(f"{'deauthenticated' if subtype == MgmtSubtype.DEAUTH else 'disassociated'} "
                               f"(reason {body[0] | body[1] << 8 if len(body) >= 2 else '?'})")

    def _on_beacon(self, body: bytes) -> None:
        try:
            csas = [CSA.decode(e.data) for e in decode_elements(body, 12)
                    if e.id == ElementID.CHANNEL_SWITCH_ANNOUNCEMENT]
        except DecodeError:  # a malformed beacon is ignored, as a NIC does
            return
        for csa in csas:
            # Channel Switch Count N > 0: switch just before the Nth TBTT from now; 0: at once
            # (Channel Switch Announcement element, 802.11-2012 8.4.2.21).
            when = self.sched.now + csa.count * BEACON_INTERVAL
            if self._switch is None or not self._switch.alive or when < self._switch.when:
                if self._switch is not None:
                    self._switch.cancel()
                self.trace.log.append((self.sched.now, f"CSA to channel {csa.new_channel} (count {csa.count})"))
                self._switch = self.sched.at(when, lambda ch=csa.new_channel: self.tune(ch))

    def _on_group_mgmt(self, subtype: int, frame: bytes) -> None:
        """Group-addressed robust management frames: BIP-checked when an IGTK is installed (PMF)."""
        if not self.net.pmf or not self.igtk_rx:
            return
        body = frame[24:]
        if len(body) < 18 or body[-18] != ElementID.MANAGEMENT_MIC:
            return
        key_id = body[-16] | body[-15] << 8
        slot = self.igtk_rx.get(key_id)
        if slot is None:
            return
        try:
            ipn = check_mgmt_group(slot[0], frame)
        except InvalidMIC:
            return
        if ipn <= slot[1]:
            self.trace.replays_dropped += 1
            return
        slot[1] = ipn
        self.trace.accepted.append((self.sched.now, frame))
        if subtype == MgmtSubtype.ACTION:
            self._on_rm_request(body)

    def _on_rm_request(self, body: bytes) -> None:
        """An accepted Radio Measurement Request: Beacon requests in Beacon Table mode for this BSS (or any)
        are answered with a Beacon report from the scan table after the randomization delay (802.11-2020
        9.4.2.20.7); other requests are ignored -- a group-addressed request is never refused (rrm.c)."""
        parsed = rm_beacon_requests(body, len(body) - 18)  # the MME ends the body
        if parsed is None:
            return
        token, requests = parsed
        for meas_token, rand_tu, _dur, mode, bssid in requests:
            if mode != BEACON_MODE_TABLE or bssid not in (BROADCAST, self.bssid):
                continue
            delay = self.cpu_delay + self._rrm.randrange(rand_tu + 1) * TU
            report = rm_beacon_report(token, meas_token, self.port.channel, self.bssid, rcpi=120)
            self.sched.at(self.sched.now + delay, lambda r=report: self._send_robust_action(r))

    def _send_robust_action(self, body: bytes) -> None:
        """An individually addressed robust Action frame to the AP, protected under the PTK (management frame
        protection uses CCMP/GCMP; it is not defined for TKIP, so a TKIP link sends none)."""
        if not self.link_up or self.ptk_tx is None or self.ptk_tx.michael is not None:
            return
        hdr = mgmt_frame(MgmtSubtype.ACTION, self.bssid, self.mac, self.bssid, self._next_seq(), b"")
        self.port.send(self.ptk_tx.protect(hdr, body))
        self.trace.log.append((self.sched.now, f"radio measurement report (dialog token {body[2]})"))

    def _on_data(self, frame: bytes) -> None:
        group = bool(frame[4] & 1)
        if frame[1] & 0x40:
            if group:
                key = self.gtk_rx.get(frame[27] >> 6)
            else:
                key = self.ptk_rx
            if key is None:
                return
            try:
                msdu = key.open(frame)
            except DecryptionError:
                return
            pn = key.pn_of(frame)
            if pn <= key.rsc and (not group or self.profile.checks_broadcast_replays):
                self.trace.replays_dropped += 1
                return
            key.rsc = max(key.rsc, pn)
            self.trace.accepted.append((self.sched.now, frame))
            self._deliver(msdu, True, key.key, frame)
        else:
            body = frame[24:]
            if body.startswith(_EAPOL_PREFIX) and not group:
                # Plaintext EAPOL: the NIC notes whether a PTK was installed when it arrived.
                self._queue_eapol(body[8:], False, self.ptk_rx.key if self.ptk_rx else None)

    def _deliver(self, msdu: bytes, protected: bool, nic_key: bytes | None, frame: bytes) -> None:
        if len(msdu) < 8 or msdu[:6] != LLC_SNAP:
            return
        ethertype = msdu[6] << 8 | msdu[7]
        if ethertype == EtherType.EAPOL:
            if not frame[4] & 1:
                self._queue_eapol(msdu[8:], protected, nic_key)
            return
        if self.link_up:
            self.host.receive(frame[16:22], frame[4:10], ethertype, msdu[8:])

    # ------------------------------------------------------------------ CPU: EAPOL processing
    def _queue_eapol(self, eapol: bytes, protected: bool, nic_key: bytes | None) -> None:
        self._cpu.append((eapol, protected, nic_key))
        if not self._cpu_busy:
            self._cpu_busy = True
            self.sched.at(self.sched.now + self.cpu_delay, self._cpu_step)

    def _cpu_step(self) -> None:
        if not self._cpu or self.sup is None:
            self._cpu_busy = False
            self._cpu.clear()
            return
        eapol, protected, nic_key = self._cpu.popleft()
        current = self.ptk_rx.key if self.ptk_rx else None
        if protected:
            decrypted_with = "ptk" if nic_key == current else "old"
        else:
            decrypted_with = "old" if nic_key is None and current is not None else "none"
        self._run(self.sup.receive_eapol(eapol, protected=protected, decrypted_with=decrypted_with,
                                         now=self.sched.now))
        if self._cpu:
            self.sched.at(self.sched.now + self.cpu_delay, self._cpu_step)
        else:
            self._cpu_busy = False

    # ------------------------------------------------------------------ commands
    def _run(self, commands: list[Command]) -> None:
        now = self.sched.now
        for c in commands:
            if isinstance(c, SendEAPOL):
                msdu = _EAPOL_PREFIX + c.eapol
                hdr = data_frame(FC_TODS, self.bssid, self.mac, c.dst, self._next_seq(), b"")
                if c.protected and self.ptk_tx is not None:
                    self.port.send(self.ptk_tx.protect(hdr, msdu))
                else:
                    self.port.send(hdr + msdu)
            elif isinstance(c, InstallKey):
                self._install(c)
            elif isinstance(c, SendMgmt):
                self._mgmt(c.subtype, c.dst, c.body)
            elif isinstance(c, Deauthenticate):
                self._mgmt(MgmtSubtype.DEAUTH, c.peer, int(c.reason).to_bytes(2, "little"))
                self._disconnected(f"supplicant deauthenticated (reason {c.reason})")
                return
            elif isinstance(c, Dropped):
                self.trace.drops.append((now, f"{c.reason.name}: {c.detail}"))
            elif isinstance(c, Log):
                self.trace.log.append((now, c.message))
            elif isinstance(c, (SetTimer, CancelTimer)):
                pass  # the supplicant arms no timers
        sup = self.sup
        if sup is not None and not self.link_up and sup.state is SupplicantState.PTK_DONE and self.ptk_tx is not None:
            self.link_up = True
            self.trace.log.append((now, "4-way handshake completed"))
            self.host.link_up()

    def _install(self, c: InstallKey) -> None:
        now = self.sched.now
        if c.kind is KeyKind.PTK:
            reinstall = self.ptk_rx is not None and self.ptk_rx.key == c.key
            self.ptk_tx = TxKey(c.cipher, c.key, 0, michael=_michael(c.cipher, c.key, False))
            self.ptk_rx = RxKey(c.cipher, c.key, 0, rsc=c.rsc, michael=_michael(c.cipher, c.key, True))
        elif c.kind is KeyKind.GTK:
            old = self.gtk_rx.get(c.key_id)
            reinstall = old is not None and old.key == c.key
            self.gtk_rx[c.key_id] = RxKey(c.cipher, c.key, c.key_id, rsc=c.rsc, michael=_michael(c.cipher, c.key, True))
        else:
            old_i = self.igtk_rx.get(c.key_id)
            reinstall = old_i is not None and old_i[0] == c.key
            self.igtk_rx[c.key_id] = [c.key, c.rsc]
        self.trace.keys.append(KeyEvent(now, c.kind.value, c.key_id, c.zero, reinstall))


# --------------------------------------------------------------------------- access point


@dataclass(slots=True)
class _Sta:
    """What the AP keeps per station."""

    mac: bytes
    auth: Authenticator | None = None
    ptk_tx: TxKey | None = None
    ptk_rx: RxKey | None = None
    timers: dict[str, Timer] = field(default_factory=dict)
    connected: bool = False
    sta_rsne: bytes | None = None


class AccessPoint:
    """An access point: beacons, open authentication and association, one :class:`Authenticator`
    per station over a shared :class:`GroupState`, the NIC (keys, PNs, replay checks) and a bridge
    to the :class:`Network` behind it. With PMF it also sends a BIP-protected group-addressed robust
    management frame (a Radio Measurement Request) every ``bip_interval`` seconds."""

    def __init__(self, world: World, *, name: str, bssid: bytes, channel: int, profile: Profile,
                 network: Network | None = None, ft: FTConfig | None = None, bip_interval: float = 1.0,
                 beacons: bool = True, port: _Sender | None = None, sched: Scheduler | None = None) -> None:
        self.world = world
        self.net = world.net
        self.name = name
        self.bssid = bssid
        self.channel = channel
        self.profile = profile
        self.ft = ft
        self.network = network
        self.sched = sched if sched is not None else world.loop
        self.port = port if port is not None else world.air.port(name, channel, self.on_frame)
        self.trace = Trace()
        self.group = GroupState(cipher=self.net.group, nonce_source=world.nonce_source(f"{name}/group"),
                                pmf=self.net.pmf)
        self.rsne = rsn_element(akm=self.net.akm, pairwise=self.net.pairwise, group=self.net.group, pmf=self.net.pmf)
        self.stas: dict[bytes, _Sta] = {}
        self.gtk_tx: TxKey | None = None
        self.igtk_tx: list | None = None  # [igtk, key id, ipn]
        self._rm_token = 0
        self._nonces = world.nonce_source(f"{name}/nonces")
        self._seq = 0
        self._security = (Element(ElementID.RSN, self.rsne[2:]),) + (
            (Element(ElementID.MOBILITY_DOMAIN, ft.mde[2:]),) if ft is not None else ()
        )
        self.on_connected: list[Callable[[bytes], None]] = []
        if beacons:
            self.sched.at(self.sched.now + world.rng(f"{name}/tbtt").random() * BEACON_INTERVAL, self._beacon)
        if self.net.pmf:
            self.sched.at(self.sched.now + bip_interval, lambda: self._bip_loop(bip_interval))

    # ------------------------------------------------------------------ transmit
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFF
        return self._seq

    def _beacon(self) -> None:
        tsf = int(self.sched.now * 1e6)
        self.port.send(beacon(self.bssid, self.net.ssid, self.channel, tsf, self._next_seq(), self._security))
        self.sched.at(self.sched.now + BEACON_INTERVAL, self._beacon)

    def _mgmt(self, subtype: int, dst: bytes, body: bytes) -> None:
        self.port.send(mgmt_frame(subtype, dst, self.bssid, self.bssid, self._next_seq(), body))

    def send_msdu(self, dst: bytes, src: bytes, ethertype: int, payload: bytes) -> None:
        """Bridge an MSDU from the wired side: group-addressed under the GTK, unicast under the PTK."""
        msdu = LLC_SNAP + ethertype.to_bytes(2, "big") + payload
        hdr = data_frame(FC_FROMDS, dst, self.bssid, src, self._next_seq(), b"")
        if is_group(dst):
            if self.gtk_tx is None:
                return
            self.port.send(self.gtk_tx.protect(hdr, msdu))
            if self.group.tx_gtk_id == self.gtk_tx.key_id:
                self.group.tx_pn = self.gtk_tx.pn
            return
        sta = self.stas.get(dst)
        if sta is not None and sta.ptk_tx is not None:
            self.port.send(sta.ptk_tx.protect(hdr, msdu))

    def reset_group_pn(self) -> None:
        """Restart the group transmit PN (hostapd ``RESET_PN ff:ff:ff:ff:ff:ff``)."""
        if self.gtk_tx is not None:
            self.gtk_tx.pn = 0
            if self.group.tx_gtk_id == self.gtk_tx.key_id:
                self.group.tx_pn = 0

    def _bip_loop(self, interval: float) -> None:
        self.send_group_robust_action()
        self.sched.at(self.sched.now + interval, lambda: self._bip_loop(interval))

    def send_group_robust_action(self) -> bytes | None:
        """A broadcast Radio Measurement Request (category 5, robust) protected by BIP: a Beacon request in
        Beacon Table mode, which every associated client answers with a Radio Measurement Report."""
        if self.igtk_tx is None:
            return None
        igtk, key_id, ipn = self.igtk_tx
        ipn += 1
        self.igtk_tx[2] = ipn
        if self.group.tx_igtk_id == key_id:
            self.group.tx_ipn = ipn
        self._rm_token = self._rm_token % 255 + 1  # a nonzero dialog token per request (9.6.6.2)
        body = rm_beacon_request(self._rm_token, self.channel)
        frame = mgmt_frame(MgmtSubtype.ACTION, BROADCAST, self.bssid, self.bssid, self._next_seq(), body)
        frame = protect_mgmt_group(igtk, key_id, ipn, frame)
        self.port.send(frame)
        return frame

    # ------------------------------------------------------------------ controls
    def rekey_ptk(self, sta_mac: bytes) -> None:
        sta = self.stas.get(sta_mac)
        if sta is not None and sta.auth is not None:
            self._run(sta, sta.auth.rekey_ptk(self.sched.now))

    def rekey_gtk(self) -> None:
        """A new GTK (and IGTK) for everyone: the group key handshake with each station."""
        self.group.new_gtk()
        for sta in list(self.stas.values()):
            if sta.auth is not None and sta.connected:
                self._run(sta, sta.auth.rekey_gtk(self.sched.now))

    def run_commands(self, sta_mac: bytes, commands: list[Command]) -> None:
        """Carry out commands an authenticator returned outside the AP's own event handling (the
        krackattacks-scripts test controls: ``resend_m3`` ...)."""
        sta = self.stas.get(sta_mac)
        if sta is not None:
            self._run(sta, commands)

    # ------------------------------------------------------------------ receive
    def on_frame(self, frame: bytes, channel: int) -> None:
        """An MPDU heard on the AP's channel."""
        if len(frame) < 24:
            return
        fc0 = frame[0]
        if frame[4:10] != self.bssid:
            return
        ftype = fc0 & 0x0C
        if ftype == 0x00:
            self._on_mgmt(fc0 >> 4, frame)
        elif ftype == 0x08 and frame[1] & 0x03 == 0x01:
            self._on_data(frame)

    def _new_auth(self, sta: _Sta) -> Authenticator:
        return Authenticator(
            self.profile, addr=self.bssid, sta_addr=sta.mac, pmk=self.net.pmk, akm=self.net.akm,
            pairwise=self.net.pairwise, group_state=self.group, pmf=self.net.pmf, ft=self.ft,
            nonce_source=self._nonces, rsne=self.rsne, sta_rsne=sta.sta_rsne,
        )

    def _forget(self, sta: _Sta) -> None:
        for t in sta.timers.values():
            t.cancel()
        if sta.auth is not None:
            self._run(sta, sta.auth.receive_mgmt(MgmtSubtype.DEAUTH, b"\x03\x00", sta.mac, self.sched.now))
        self.stas.pop(sta.mac, None)

    def _on_mgmt(self, subtype: int, frame: bytes) -> None:
        src = frame[10:16]
        body = frame[24:]
        now = self.sched.now
        if subtype == MgmtSubtype.AUTH and len(body) >= 6:
            alg, seq = body[0] | body[1] << 8, body[2] | body[3] << 8
            if alg == 0 and seq == 1:
                old = self.stas.get(src)
                if old is not None:
                    self._forget(old)
                self.stas[src] = _Sta(src)
                self._mgmt(MgmtSubtype.AUTH, src, AuthBody(0, 2, 0).encode())
            elif alg == 2 and self.ft is not None:
                sta = self.stas.get(src)
                if sta is None:
                    sta = self.stas[src] = _Sta(src, sta_rsne=self.rsne)
                if sta.auth is None:
                    sta.auth = self._new_auth(sta)
                self._run(sta, sta.auth.receive_mgmt(subtype, body, src, now))
        elif subtype == MgmtSubtype.ASSOC_REQ:
            sta = self.stas.get(src)
            if sta is None:
                self._mgmt(MgmtSubtype.DEAUTH, src, int(ReasonCode.CLASS2_FRAME_FROM_NONAUTH_STA).to_bytes(2, "little"))
                return
            try:
                elements = decode_elements(body, 4)
            except DecodeError:  # a malformed request is ignored
                return
            rsne = next((e for e in elements if e.id == ElementID.RSN), None)
            sta.sta_rsne = rsne.encode() if rsne is not None else self.rsne
            resp = [Element(ElementID.SUPPORTED_RATES, b"\x82\x84\x8b\x96\x0c\x12\x18\x24")]
            if self.ft is not None:
                resp.append(Element(ElementID.MOBILITY_DOMAIN, self.ft.mde[2:]))
                resp.append(ft_element(anonce=bytes(32), snonce=bytes(32), r0kh_id=self.ft.r0kh_id,
                                       r1kh_id=self.ft.r1kh_id))
            self._mgmt(MgmtSubtype.ASSOC_RESP, src, AssocRespBody(_CAPABILITY, 0, 0xC001, tuple(resp)).encode())
            if sta.auth is not None:
                for t in sta.timers.values():
                    t.cancel()
                sta.timers.clear()
            sta.ptk_tx = sta.ptk_rx = None
            sta.connected = False
            sta.auth = self._new_auth(sta)
            self._run(sta, sta.auth.start(now))
        elif subtype == MgmtSubtype.REASSOC_REQ:
            sta = self.stas.get(src)
            if sta is not None and sta.auth is not None:
                self._run(sta, sta.auth.receive_mgmt(subtype, body, src, now))
        elif subtype in (MgmtSubtype.DEAUTH, MgmtSubtype.DISASSOC):
            sta = self.stas.get(src)
            if sta is not None:
                self._forget(sta)

    def _on_data(self, frame: bytes) -> None:
        sta = self.stas.get(frame[10:16])
        if sta is None:
            return
        if frame[1] & 0x40:
            key = sta.ptk_rx
            if key is None:
                return
            try:
                msdu = key.open(frame)
            except DecryptionError:
                return
            pn = key.pn_of(frame)
            if pn <= key.rsc:
                self.trace.replays_dropped += 1
                return
            key.rsc = pn
            self.trace.accepted.append((self.sched.now, frame))
            protected = True
        else:
            msdu = frame[24:]
            if not msdu.startswith(_EAPOL_PREFIX):
                return
            protected = False
        if len(msdu) < 8 or msdu[:6] != LLC_SNAP:
            return
        ethertype = msdu[6] << 8 | msdu[7]
        if ethertype == EtherType.EAPOL:
            if sta.auth is not None:
                self._run(sta, sta.auth.receive_eapol(msdu[8:], protected=protected, now=self.sched.now))
        elif protected and self.network is not None and sta.connected:
            dst = frame[16:22]
            if is_group(dst) or dst == self.net.lan.gateway_mac:
                self.network.receive(sta.mac, dst, ethertype, msdu[8:])

    # ------------------------------------------------------------------ commands
    def _timer(self, sta: _Sta, name: str, deadline: float) -> None:
        old = sta.timers.get(name)
        if old is not None:
            old.cancel()

        def fire() -> None:
            sta.timers.pop(name, None)
            if sta.auth is not None and self.stas.get(sta.mac) is sta:
                self._run(sta, sta.auth.timeout(name, deadline))

        sta.timers[name] = self.sched.at(deadline, fire)

    def _run(self, sta: _Sta, commands: list[Command]) -> None:
        now = self.sched.now
        for c in commands:
            if isinstance(c, SendEAPOL):
                msdu = _EAPOL_PREFIX + c.eapol
                hdr = data_frame(FC_FROMDS, c.dst, self.bssid, self.bssid, self._next_seq(), b"")
                if c.protected and sta.ptk_tx is not None:
                    self.port.send(sta.ptk_tx.protect(hdr, msdu))
                else:
                    self.port.send(hdr + msdu)
            elif isinstance(c, InstallKey):
                self._install(sta, c)
            elif isinstance(c, SetTimer):
                self._timer(sta, c.name, c.deadline)
            elif isinstance(c, CancelTimer):
                t = sta.timers.pop(c.name, None)
                if t is not None:
                    t.cancel()
            elif isinstance(c, SendMgmt):
                self.port.send(mgmt_frame(c.subtype, c.dst, c.src, c.src, self._next_seq(), c.body))
            elif isinstance(c, Deauthenticate):
                self._mgmt(MgmtSubtype.DEAUTH, c.peer, int(c.reason).to_bytes(2, "little"))
                sta.ptk_tx = sta.ptk_rx = None
                sta.connected = False
                for t in sta.timers.values():
                    t.cancel()
                sta.timers.clear()
                self.trace.log.append((now, f"deauthenticated {c.peer.hex(':')} (reason {c.reason})"))
            elif isinstance(c, Dropped):
                self.trace.drops.append((now, f"{c.reason.name}: {c.detail}"))
            elif isinstance(c, Log):
                self.trace.log.append((now, c.message))
        auth = sta.auth
        if auth is not None and not sta.connected and auth.state is AuthenticatorState.PTKINITDONE \
                and sta.ptk_tx is not None:
            sta.connected = True
            self.trace.log.append((now, f"{sta.mac.hex(':')} connected"))
            if self.network is not None:
                self.network.start_broadcasts()
            for cb in self.on_connected:
                cb(sta.mac)

    def _install(self, sta: _Sta, c: InstallKey) -> None:
        now = self.sched.now
        if c.kind is KeyKind.PTK:
            reinstall = sta.ptk_rx is not None and sta.ptk_rx.key == c.key
            sta.ptk_tx = TxKey(c.cipher, c.key, 0, michael=_michael(c.cipher, c.key, True))
            sta.ptk_rx = RxKey(c.cipher, c.key, 0, rsc=c.rsc, michael=_michael(c.cipher, c.key, False))
        elif c.kind is KeyKind.GTK:
            reinstall = self.gtk_tx is not None and self.gtk_tx.key == c.key
            self.gtk_tx = TxKey(c.cipher, c.key, c.key_id, pn=c.rsc, michael=_michael(c.cipher, c.key, True))
        else:
            reinstall = self.igtk_tx is not None and self.igtk_tx[0] == c.key
            self.igtk_tx = [c.key, c.key_id, c.rsc]
        self.trace.keys.append(KeyEvent(now, c.kind.value, c.key_id, c.zero, reinstall))
