"""Synthetic captures with the KRACK patterns the detectors judge, built with real crypto on top of the
decryption tests' builder (``tests/decrypt/synth.py``): a repeated message 3 after which the client restarts
its packet numbers (reinstallation), keeps counting (patched) or switches to an all-zero TK; a forged message
1 between two message 3 (TPTK); a group key re-delivered with a Key RSC going back and a replayed broadcast
ARP request the client answers or ignores; a replayed FT Reassociation Request after which the AP restarts its
packet numbers; a cloned BSSID, CSA beacons, message 4 heard only on another channel; weak configurations.

Each builder returns a :class:`Built`: the capture and the frame numbers (1-based) of the frames a test
asserts on, as the builder knows them -- the independent truth the detector's findings are checked against.
The protocol facts used are cited where they are subtle (IEEE 802.11-2020 clause numbers).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from decrypt import synth
from decrypt.synth import (
    AP1,
    AP2,
    BROADCAST,
    GW,
    GW_IP,
    STA,
    Air,
    Bss,
    Capture,
    Link,
    arp_msdu,
    descriptor_version,
    ip_msdu,
    nonce,
)

from krackwatch.crypto import AKM, PTK, Cipher, pbkdf2_psk
from krackwatch.decrypt import keys
from krackwatch.wire import BeaconBody, Element, ElementID, KeyInfo
from krackwatch.wire.elements import WPAIE

PASSPHRASE = synth.PASSPHRASE
STA_IP = "10.20.0.2"


@dataclass
class Built:
    capture: Capture
    marks: dict[str, list[int]] = field(default_factory=dict)  # name -> frame numbers (1-based)
    plaintexts: dict[int, bytes] = field(default_factory=dict)  # frame number -> MSDU the builder protected

    def mark(self, name: str, air: Air) -> int:
        n = len(air.records)
        self.marks.setdefault(name, []).append(n)
        return n


class KrackAir(Air):
    """The builder's air with a clock that can jump (``wait``) and a channel per frame (``freq``)."""

    def __init__(self, name: str, *, fcs: bool = False) -> None:
        super().__init__(name, fcs=fcs)
        self.offset_us = 0
        self.freq = 2437

    def wait(self, seconds: float) -> None:
        self.offset_us += int(seconds * 1_000_000)

    def emit(self, frame: bytes, expect=None, *, fcs_of: bytes | None = None) -> None:
        ts_us = len(self.records) * 200 + self.offset_us
        data = synth.radiotap(fcs=self.fcs, freq=self.freq) + frame
        if self.fcs:
            data += zlib.crc32(fcs_of if fcs_of is not None else frame).to_bytes(4, "little")
        self.records.append((synth.START_NS + ts_us * 1000, data))
        self.expected.append(expect)

    def re_emit(self, n: int) -> None:
        """The record numbered ``n`` again, byte for byte (radio header included)."""
        ts_us = len(self.records) * 200 + self.offset_us
        self.records.append((synth.START_NS + ts_us * 1000, self.records[n - 1][1]))
        self.expected.append(None)


def _network(name: str, *, pairwise: Cipher = Cipher.CCMP128, fcs: bool = False, akm: AKM = AKM.PSK,
             **bss_kw) -> tuple[KrackAir, Bss, Link]:
    ssid = f"krack-{name}".encode()
    bss = Bss(AP1, ssid, akm, pairwise, pairwise, **bss_kw)
    air = KrackAir(name, fcs=fcs)
    air.beacon(bss, 2)
    air.open_auth(bss, STA)
    air.associate(bss, STA)
    return air, bss, Link(bss, STA, pbkdf2_psk(PASSPHRASE.encode(), ssid))


def _finish(air: KrackAir, bss: Bss) -> Capture:
    ring = keys.KeyRing.of([keys.passphrase(PASSPHRASE, bss.ssid)])
    return air.finish(ring, (("wpa-pwd", f"{PASSPHRASE}:{bss.ssid.decode()}"),))


def _traffic(air: KrackAir, link: Link, built: Built, ids: synth.Ids, n: int, *, mark: str,
             from_ap: bool = False) -> None:
    for _ in range(n):
        msdu = ip_msdu(STA_IP, GW_IP, ids()) if not from_ap else ip_msdu(GW_IP, STA_IP, ids())
        air.data(link, msdu, from_ap=from_ap, peer=GW)
        built.plaintexts[built.mark(mark, air)] = msdu.body


def _m3_again(air: KrackAir, link: Link, tag: str, *, rc: int | None = None) -> None:
    """The authenticator's message 3 again for the handshake ``tag`` (same ANonce, next replay counter, the
    same GTK and Key RSC 0) -- what it sends when message 4 does not arrive (12.7.6.4)."""
    bss = link.bss
    dv = descriptor_version(bss.akm, bss.pairwise)
    pair = dv | KeyInfo.KEY_TYPE
    ptk = link.ptk
    if rc is None:
        link.replay_counter += 1
        rc = link.replay_counter
    plain = bss.rsne().element().encode() + air._group_kdes(bss)
    info = pair | KeyInfo.INSTALL | KeyInfo.ACK | KeyInfo.MIC | KeyInfo.SECURE | KeyInfo.ENCRYPTED_KEY_DATA
    iv, data = air._wrap(ptk, dv, plain, f"M3 IV {tag} again {rc}")
    key = air._key(info, key_length=bss.pairwise.tk_len, rc=rc, nonce_=nonce(f"ANonce {tag}"), key_iv=iv,
                   key_data=data)
    air._eapol(link, key, ptk.kck, from_ap=True, protect=False)


def _m4(air: KrackAir, link: Link, rc: int, *, protect: bool) -> None:
    dv = descriptor_version(link.bss.akm, link.bss.pairwise)
    key = air._key(dv | KeyInfo.KEY_TYPE | KeyInfo.MIC | KeyInfo.SECURE, rc=rc, version=1)
    air._eapol(link, key, link.ptk.kck, from_ap=False, protect=protect)


def _forged_m1(air: KrackAir, link: Link, anonce: bytes, rc: int) -> None:
    dv = descriptor_version(link.bss.akm, link.bss.pairwise)
    key = air._key(dv | KeyInfo.KEY_TYPE | KeyInfo.ACK, key_length=link.bss.pairwise.tk_len, rc=rc,
                   nonce_=anonce)
    air._eapol(link, key, b"", from_ap=True, protect=False)


# ------------------------------------------------------------------------------------------ 4-way handshake


def fourway(kind: str, *, pairwise: Cipher = Cipher.CCMP128, fcs: bool = False) -> Built:
    """A handshake and traffic, then the AP repeats message 3 and the client answers with message 4
    encrypted under the PTK in use. ``kind``: ``reinstall`` (the client installs the same PTK again: its PN
    restarts at 1, 12.5.3.4.4), ``patched`` (it keeps counting), ``zero`` (it installs an all-zero TK),
    ``tptk`` (a forged message 1 with the same ANonce and the repeated message 3's replay counter comes
    first, then the all-zero TK of wpa_supplicant 2.6), ``tptk-patched`` (the same, client keeps counting),
    ``unanswered`` (nothing from the client after the repeat)."""
    air, bss, link = _network(f"fourway-{kind}", pairwise=pairwise, fcs=fcs)
    built = Built(_finish(air, bss))
    ids = synth.Ids()
    air.four_way(link, "hs1")
    built.marks["handshake"] = [len(air.records) - 3, len(air.records) - 2, len(air.records) - 1,
                                len(air.records)]
    _traffic(air, link, built, ids, 5, mark="before")
    _traffic(air, link, built, ids, 2, mark="ap-before", from_ap=True)
    air.wait(1.0)
    if kind.startswith("tptk"):
        rc = link.replay_counter + 1
        _forged_m1(air, link, nonce("ANonce hs1"), rc)
        built.mark("forged-m1", air)
        _m3_again(air, link, "hs1", rc=rc)
        link.replay_counter = rc
    else:
        _m3_again(air, link, "hs1")
    built.mark("m3-again", air)
    if kind != "unanswered":
        _m4(air, link, link.replay_counter, protect=True)
        built.mark("m4-reply", air)
        if kind in ("reinstall",):
            link.pn[STA] = 0  # the same PTK installed again: the transmit PN starts over
        elif kind in ("zero", "tptk"):
            ptk = link.ptk
            link.install(PTK(ptk.kck, ptk.kek, bytes(len(ptk.tk))))
        _traffic(air, link, built, ids, 4, mark="after")
    built.capture = _finish(air, bss)
    return built


def rekey(*, protect: bool) -> Built:
    """Two complete handshakes with fresh nonces (a PTK rekey, encrypted under the old PTK with ``protect``):
    the PN restarts at 1 under a new key -- not a reinstallation."""
    air, bss, link = _network(f"rekey-{'enc' if protect else 'plain'}")
    built = Built(_finish(air, bss))
    ids = synth.Ids()
    air.four_way(link, "hs1")
    _traffic(air, link, built, ids, 4, mark="before")
    air.wait(1.0)
    air.four_way(link, "hs2", protect=protect)
    _traffic(air, link, built, ids, 4, mark="after")
    built.capture = _finish(air, bss)
    return built


def silent_reuse(*, identical_after: float | None = None) -> Built:
    """Traffic, then the client's PN restarts with no trigger and no handshake (``restart``); with
    ``identical_after`` instead an earlier frame of the client reappears byte for byte that many seconds
    later (a replay), Retry clear."""
    air, bss, link = _network("silent")
    built = Built(_finish(air, bss))
    ids = synth.Ids()
    air.four_way(link, "hs1")
    _traffic(air, link, built, ids, 4, mark="before")
    if identical_after is None:
        link.pn[STA] = 0
        _traffic(air, link, built, ids, 3, mark="after")
    else:
        air.wait(identical_after)
        air.re_emit(built.marks["before"][1])
        built.mark("replay", air)
        _traffic(air, link, built, ids, 2, mark="after")
    built.capture = _finish(air, bss)
    return built


def retransmissions() -> Built:
    """True MAC retransmissions (Retry set, same sequence number and ciphertext, right after) in both
    directions: never an event."""
    air, bss, link = _network("retry")
    built = Built(_finish(air, bss))
    ids = synth.Ids()
    air.four_way(link, "hs1")
    for i in range(4):
        air.data(link, ip_msdu(STA_IP, GW_IP, ids()), from_ap=False, peer=GW, tid=i % 2 or None, retry=True)
        air.data(link, ip_msdu(GW_IP, STA_IP, ids()), from_ap=True, peer=GW, retry=i == 2)
    built.capture = _finish(air, bss)
    return built


# ------------------------------------------------------------------------------------------ group key


def group(answer_replay: bool) -> Built:
    """The AP asks by broadcast ARP for the client's address and the client answers; the group key in use is
    handed over again (group message 1, Key RSC 0 below the group PNs already sent); the broadcast is
    replayed byte for byte; the client answers the replay (it reinstalled the GTK) or not."""
    air, bss, link = _network(f"group-{'vuln' if answer_replay else 'ok'}")
    built = Built(_finish(air, bss))
    ids = synth.Ids()
    air.four_way(link, "hs1")
    _traffic(air, link, built, ids, 2, mark="before")
    for _ in range(3):
        air.group_data(bss, arp_msdu(1, GW, GW_IP, bytes(6), STA_IP), sa=GW)
        built.mark("broadcast", air)
        air.data(link, arp_msdu(2, STA, STA_IP, GW, GW_IP), from_ap=False, peer=GW)
        built.mark("arp-reply", air)
        air.wait(0.5)
    air.group_key_handshake(link, "G again")  # same GTK: bss.new_gtk() not called; Key RSC 0
    built.mark("g1-again", air)
    air.wait(0.05)
    air.re_emit(built.marks["broadcast"][1])
    built.mark("replay", air)
    if answer_replay:
        air.data(link, arp_msdu(2, STA, STA_IP, GW, GW_IP), from_ap=False, peer=GW)
        built.mark("answer", air)
    air.wait(0.3)
    _traffic(air, link, built, ids, 2, mark="after")
    built.capture = _finish(air, bss)
    return built


# ------------------------------------------------------------------------------------------ FT


def ft(vulnerable: bool) -> Built:
    """FT-PSK: initial association with AP1, FT roam to AP2, AP2 sends data; the Reassociation Request is
    replayed byte for byte a second later (no FT Authentication in between); AP2's PN restarts (it installed
    the PTK again, as hostapd before 0e3bd7ac6) or keeps counting."""
    ssid = b"krack-ft"
    mdid, r0kh = b"\x4b\x57", b"ap1.r0kh.krack.example"
    bss1 = Bss(AP1, ssid, AKM.FT_PSK, mdid=mdid, r0kh_id=r0kh)
    bss2 = Bss(AP2, ssid, AKM.FT_PSK, mdid=mdid, r0kh_id=r0kh, channel=6)
    air = KrackAir("ft")
    link = Link(bss1, STA, pbkdf2_psk(PASSPHRASE.encode(), ssid))
    air.beacon(bss1)
    air.beacon(bss2)
    air.open_auth(bss1, STA)
    air.associate(bss1, STA, link=link)
    air.four_way(link, "ft initial")
    built = Built(_finish(air, bss1))
    ids = synth.Ids()
    _traffic(air, link, built, ids, 2, mark="ap1")
    before = len(air.records)
    link2 = air.ft_roam(link, bss2, "roam")
    reassoc = next(i for i in range(before + 1, len(air.records) + 1)
                   if air.records[i - 1][1][len(synth.radiotap(fcs=False)):][0] == 0x20)
    built.marks["reassoc"] = [reassoc]
    _traffic(air, link2, built, ids, 3, mark="ap2-before", from_ap=True)
    air.wait(1.0)
    air.re_emit(reassoc)
    built.mark("replayed-reassoc", air)
    if vulnerable:
        link2.pn[AP2] = 0
    _traffic(air, link2, built, ids, 3, mark="ap2-after", from_ap=True)
    built.capture = air.finish(keys.KeyRing.of([keys.passphrase(PASSPHRASE, None)]), ())
    return built


# ------------------------------------------------------------------------------------------ attacks, config


def _beacon_frame(bss: Bss, channel: int, extra: tuple[Element, ...] = ()) -> bytes:
    elems = (Element(ElementID.SSID, bss.ssid), synth.RATES, Element(ElementID.DS_PARAMETER_SET, bytes((channel,))),
             bss.rsne().element(), *extra)
    body = BeaconBody(0x1000, 100, 0x0011, elems).encode()
    return Air._mgmt_header(8, BROADCAST, bss.bssid, bss.bssid, 0).encode() + body


def clone_csa(*, clone: bool = True, csa: bool = True) -> Built:
    """Beacons of one BSSID on channel 6; a spoofed pair with a CSA to channel 1 (count 2, then 1); a copy of
    the AP beaconing on channel 1 (DS Parameter Set 1)."""
    air, bss, _link = _network("clone")
    built = Built(_finish(air, bss))
    for _ in range(3):
        air.emit(_beacon_frame(bss, 6))
    if csa:
        for count in (2, 1):
            air.emit(_beacon_frame(bss, 6, (Element(ElementID.CHANNEL_SWITCH_ANNOUNCEMENT, bytes((1, 1, count))),)))
            built.mark("csa", air)
    if clone:
        air.freq = 2412
        for _ in range(3):
            air.emit(_beacon_frame(bss, 1))
            built.mark("clone", air)
        air.freq = 2437
    built.capture = _finish(air, bss)
    return built


def msg4_elsewhere() -> Built:
    """A channel man-in-the-middle: the AP's message 3 on channel 6 and relayed to channel 1, the client's
    message 4 heard only on channel 1, the AP retransmitting message 3 anyway."""
    air, bss, link = _network("msg4")
    built = Built(_finish(air, bss))
    steps = air.four_way_steps(link, "hs1", lost=())
    air.freq = 2412
    next(steps)  # M1 (on the client's channel, as relayed)
    next(steps)  # M2
    air.freq = 2437
    next(steps)  # M3 from the AP on its channel
    built.mark("m3", air)
    air.freq = 2412
    air.re_emit(len(air.records))  # relayed to the client
    air.records[-1] = (air.records[-1][0], synth.radiotap(fcs=False, freq=2412) + air.records[-1][1][
        len(synth.radiotap(fcs=False)):])
    next(steps)  # M4, heard on channel 1 only (the man-in-the-middle does not forward it)
    built.mark("m4", air)
    next(steps, None)
    air.wait(1.0)
    air.freq = 2437
    _m3_again(air, link, "hs1")
    built.mark("m3-again", air)
    built.capture = _finish(air, bss)
    return built


def wpa1_tkip() -> Built:
    """A WPA (version 1) network with TKIP: beacons carry the WPA IE (00-50-F2:1)."""
    bss = Bss(AP1, b"krack-wpa1", AKM.PSK, Cipher.TKIP, Cipher.TKIP)
    air = KrackAir("wpa1")
    wpa = Element(ElementID.VENDOR_SPECIFIC, WPAIE().encode())
    elems = (Element(ElementID.SSID, bss.ssid), synth.RATES, Element(ElementID.DS_PARAMETER_SET, b"\x06"), wpa)
    air.emit(Air._mgmt_header(8, BROADCAST, AP1, AP1, 0).encode() + BeaconBody(0x1000, 100, 0x0011, elems).encode())
    return Built(_finish(air, bss))


def hardware_decrypted() -> Built:
    """A patched client's repeated message 3, captured by a NIC that decrypted the frames but kept the CCMP
    header (plaintext LLC/SNAP right behind it): the capture cannot clear the client."""
    built = fourway("patched")
    records = built.capture.records
    rt = len(synth.radiotap(fcs=False))
    for n in built.marks["after"] + built.marks["before"]:
        data = records[n - 1][1]
        frame = data[rt:]
        hlen = 24 + (2 if frame[0] & 0x80 else 0)
        body = built.plaintexts[n]
        records[n - 1] = (records[n - 1][0], data[:rt] + frame[:hlen + 8] + body + bytes(8))
    return built
