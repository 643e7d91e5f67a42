"""Streaming WPA/WPA2 decryption: follow every handshake, derive keys, decrypt frames.

One :class:`Decryptor` is fed records in capture order. It learns SSIDs and suites from beacons, probe
responses and association frames; pairs 4-way handshake messages by replay counter and nonce; derives a
PTK for every new handshake, rekey or FT reassociation and verifies it with the message MICs; learns GTKs
from message 3 and group message 1; and decrypts unicast and group data and protected management frames.

The per-frame path is kept lean: the frame control field, addresses and security header are read with
slices, and only handshake and management frames are decoded into dataclasses.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from zlib import crc32 as _crc32

from krackwatch.crypto.ccmp import CCMP
from krackwatch.crypto.errors import CryptoError, DecryptionError
from krackwatch.crypto.ft import derive_ft_ptk, derive_pmk_r0, derive_pmk_r1, verify_ft_mic
from krackwatch.crypto.gcmp import GCMP
from krackwatch.crypto.kdf import pbkdf2_psk
from krackwatch.crypto.keywrap import decrypt_key_data
from krackwatch.crypto.mic import verify_eapol_key_mic
from krackwatch.crypto.ptk import PTK, derive_ptk
from krackwatch.crypto.suites import AKM, Cipher
from krackwatch.crypto.tkip import TKIP
from krackwatch.crypto.wep import wep_decrypt
from krackwatch.decrypt.keys import KeyRing
from krackwatch.decrypt.state import (
    FTContext,
    KeySlot,
    Link,
    MicStatus,
    Network,
    PendingPTK,
    mac_str,
    pair_key,
)
from krackwatch.wire import dot11, eapol, elements
from krackwatch.wire.errors import DecodeError
from krackwatch.wire.linklayer import FcsStatus, UnsupportedLinkType, split_link
from krackwatch.wire.radiotap import radiotap_summary

try:  # the compiled fast path (setup.py builds it when a compiler and OpenSSL headers are there)
    from krackwatch.decrypt import _fastpath
except ImportError:
    _fastpath = None

ACCELERATED = _fastpath is not None

LLC_EAPOL = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"
_AEAD_CIPHERS = frozenset((Cipher.CCMP128, Cipher.CCMP256, Cipher.GCMP128, Cipher.GCMP256))
_PROTECTED = 0x40
_RETRY = 0x08


class Outcome(StrEnum):
    """What happened to one frame."""

    PLAINTEXT = "plaintext"  # not protected: nothing to decrypt
    DECRYPTED = "decrypted"
    DUPLICATE = "duplicate"  # a Retry copy of a frame already decrypted (decrypted again, not counted)
    NO_KEY = "no_key"
    FAILED = "decrypt_failed"  # keys known, none authenticates the frame
    FCS_BAD = "fcs_bad"
    MALFORMED = "malformed"
    NOT_80211 = "not_80211"


@dataclass(frozen=True, slots=True)
class FrameResult:
    outcome: Outcome
    frame: bytes | None = None  # the decrypted 802.11 frame (Protected bit cleared), when decrypted
    reason: str | None = None
    group: bool = False
    link_header: int = 0  # octets of link-layer header before the 802.11 frame
    fcs: bool = False  # the record ends with an FCS


@dataclass(frozen=True, slots=True)
class HandshakeSummary:
    anonce: str
    messages: tuple[str, ...]
    frames: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LinkSummary:
    bssid: str
    sta: str
    ssid: str | None
    akm: str | None
    pairwise: str | None
    group: str | None
    messages: dict[str, int]
    handshakes: tuple[HandshakeSummary, ...]
    mic: str
    counts: dict[str, int]
    notes: tuple[str, ...]


@dataclass(slots=True)
class _Handshake:
    anonce: bytes | None
    messages: list[str] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    m1_rcs: set[int] = field(default_factory=set)
    m3_rcs: set[int] = field(default_factory=set)


def _cipher_engine(cipher: Cipher, key: bytes) -> object:
    c = cipher.canonical
    if c in (Cipher.CCMP128, Cipher.CCMP256):
        return CCMP(key)
    if c in (Cipher.GCMP128, Cipher.GCMP256):
        return GCMP(key)
    if c == Cipher.TKIP:
        return TKIP(key)
    if c in (Cipher.WEP40, Cipher.WEP104):
        return key
    raise CryptoError(f"unsupported cipher {cipher!r}")


def _cipher_for_tk(tk_len: int) -> tuple[Cipher, ...]:
    return (Cipher.CCMP128, Cipher.GCMP128) if tk_len == 16 else (Cipher.TKIP, Cipher.CCMP256, Cipher.GCMP256)


class Decryptor:
    """Feed it records in capture order with :meth:`process`; ask it for :meth:`links` at the end."""

    def __init__(self, keys: KeyRing | None = None, *, fcs_mode: str = "auto", decrypt: bool = True,
                 accelerate: bool = False) -> None:
        """``accelerate`` hands the hot path to the compiled module when it is built: same results, but
        the counters (``outcomes``, ``decrypted_*``, link counts) are only up to date after :meth:`sync`,
        and frames written through :attr:`fast_epb` do not set ``last_slot``."""
        self.keys = keys or KeyRing()
        self.fcs_mode = fcs_mode
        self.decrypt_enabled = decrypt
        self.networks: dict[bytes, Network] = {}
        self.links: dict[bytes, Link] = {}
        self.frame_no = 0
        self.outcomes: Counter[str] = Counter()
        self.decrypted_unicast = 0
        self.decrypted_group = 0
        self.michael_failures = 0
        self._handshakes: dict[bytes, list[_Handshake]] = {}
        self._user_tks: list[KeySlot] | None = None
        self._last_seq: dict[tuple[bytes, int], int] = {}
        # Hot path: (A1 || A2) -> (decrypt callable, link, group, key slot) of the key that last worked for
        # that address pair. Cleared whenever a key is installed, so it never outlives the key it caches.
        self._fast: dict[bytes, tuple[object, Link | None, bool, KeySlot]] = {}
        # Observers (krackwatch.detect): the key slot that decrypted the last DECRYPTED/DUPLICATE frame, and
        # a callback for every group key delivered (kind "GTK"/"IGTK", link, key id, key, IPN or None), also
        # when it equals the key already in use (a reinstallation attempt is exactly that).
        self.last_slot: KeySlot | None = None
        self.on_group_key: Callable[[str, Link, int, bytes, int | None], None] | None = None
        self._plain = FrameResult(Outcome.PLAINTEXT)
        self._hl = 0
        self._has_fcs = False
        # Compiled twin of _fast (same keys, same invalidation) that also owns the duplicate table.
        self._c = _fastpath.Accel() if accelerate and _fastpath is not None and fcs_mode == "auto" else None
        # epb(linktype, data, interface, ts_ns, caplen, origlen) -> a finished pcapng EPB of the record
        # decrypted, or None (then call process()); analyse_capture's writer loop only.
        self.fast_epb: Callable[[int, bytes, int, int, int, int], bytes | None] | None = (
            self._c.epb if self._c is not None else None)

    # ------------------------------------------------------------------ per frame
    def process(self, linktype: int, data: bytes) -> FrameResult:
        """Handle one captured record; return what happened to it."""
        self.frame_no += 1
        c = self._c
        if c is not None:
            self.frame_no += c.take_skipped()
            if self._fast:
                hit = c.decrypt(linktype, data)
                if hit is not None:
                    self.last_slot = hit[4]
                    return FrameResult(Outcome.DUPLICATE if hit[5] else Outcome.DECRYPTED, hit[0], None,
                                       hit[3], hit[1], hit[2])
        if self._fast and self.fcs_mode == "auto":
            result = self._fast_path(linktype, data)
            if result is not None:
                self.outcomes[result.outcome] += 1
                return result
        try:
            info = split_link(linktype, data, fcs_mode=self.fcs_mode)
        except UnsupportedLinkType:
            return self._count(FrameResult(Outcome.NOT_80211, reason="not an 802.11 link type"))
        except DecodeError as exc:
            return self._count(FrameResult(Outcome.MALFORMED, reason=str(exc)))
        hl, fcs, freq = info.header_len, info.fcs, info.freq
        if fcs == FcsStatus.BAD:
            return self._count(FrameResult(Outcome.FCS_BAD, reason="bad FCS", link_header=hl, fcs=True))
        self._hl = hl
        if fcs == FcsStatus.ABSENT:
            self._has_fcs = False
            frame = data[hl:]
        else:
            self._has_fcs = True
            frame = data[hl:-4]
        try:
            result = self._frame(frame, freq)
        except DecodeError as exc:
            result = FrameResult(Outcome.MALFORMED, reason=str(exc))
        self.outcomes[result.outcome] += 1
        return result

    def _fast_path(self, linktype: int, data: bytes) -> FrameResult | None:
        """Protected data under a key that already worked for this address pair: the bulk of a capture.

        Does what the full path does for such a frame (FCS check as ``fcs_mode="auto"``, decryption,
        duplicate detection) without building intermediate objects; returns None to hand anything
        else (other link types, a malformed radiotap header, bad FCS, a key that no longer fits)
        to the full path.
        """
        n = len(data)
        if linktype == 127:
            # The full path's own radiotap reading, so a header it calls malformed is never decrypted here.
            try:
                hl, flags, _freq, _signal = radiotap_summary(data)
            except DecodeError:
                return None
            if flags is None:
                flags = 0
        elif linktype == 105:
            hl = 0
            flags = 0
        else:
            return None
        if n < hl + 32:
            return None
        fc0 = data[hl]
        fc1 = data[hl + 1]
        if (fc0 & 0x0C) != 0x08 or not fc1 & _PROTECTED:
            return None
        fast = self._fast.get(data[hl + 4:hl + 16])
        if fast is None:
            return None
        crc_ok = _crc32(memoryview(data)[hl:n - 4]) == int.from_bytes(data[n - 4:], "little")
        if crc_ok:
            frame = data[hl:n - 4]
        elif flags & 0x10:
            return None  # flagged FCS that does not verify: the full path reports it
        else:
            frame = data[hl:]
        try:
            hlen = dot11.header_length(frame)
            plaintext = fast[0](frame, hlen)
        except DecodeError:
            return None  # no known header layout (e.g. protocol version != 0): the full path reports it
        except DecryptionError:
            return None  # the cached key no longer fits: the full path tries every key
        self._hl = hl
        self._has_fcs = crc_ok
        self.last_slot = fast[3]
        return self._decrypted(frame, hlen, fc1, plaintext, fast[2], fast[1], False)

    def _clear_fast(self) -> None:
        """A key was installed: forget every cached key (Python's and the compiled path's)."""
        self._fast.clear()
        if self._c is not None:
            self._c.clear()

    def sync(self) -> None:
        """Fold the counts of the frames the compiled path handled into this object's counters."""
        c = self._c
        if c is None:
            return
        self.frame_no += c.take_skipped()
        unicast, group, duplicates, tallies = c.take()
        if unicast or group:
            self.outcomes[Outcome.DECRYPTED] += unicast + group
            self.decrypted_unicast += unicast
            self.decrypted_group += group
        if duplicates:
            self.outcomes[Outcome.DUPLICATE] += duplicates
        for link, decrypted, dup in tallies:
            if decrypted:
                link.counts[Outcome.DECRYPTED] += decrypted
            if dup:
                link.counts[Outcome.DUPLICATE] += dup

    def _count(self, result: FrameResult) -> FrameResult:
        self.outcomes[result.outcome] += 1
        return result

    def _frame(self, frame: bytes, freq: int | None) -> FrameResult:
        if len(frame) < 10:
            return FrameResult(Outcome.MALFORMED, reason="frame shorter than any 802.11 header")
        fc0 = frame[0]
        ftype = (fc0 >> 2) & 3
        if ftype == 1 or ftype == 3:
            return self._plain
        if len(frame) < 24:
            return FrameResult(Outcome.MALFORMED, reason="802.11 header truncated")
        fc1 = frame[1]
        if ftype == 0:
            if fc1 & _PROTECTED:
                return self._protected(frame, dot11.header_length(frame), fc1, mgmt=True)
            self._management(frame, fc0 >> 4, freq)
            return self._plain
        hlen = dot11.header_length(frame)
        if len(frame) < hlen:
            return FrameResult(Outcome.MALFORMED, reason="802.11 header truncated")
        self._note_station(frame, fc1)
        if fc1 & _PROTECTED:
            return self._protected(frame, hlen, fc1, mgmt=False)
        if frame[hlen:hlen + 8] == LLC_EAPOL:
            self._eapol(frame[10:16], frame[4:10], frame[hlen + 8:])
        return self._plain

    def _note_station(self, frame: bytes, fc1: int) -> None:
        ds = fc1 & 3
        if ds == 1:
            bssid, sta = frame[4:10], frame[10:16]
        elif ds == 2:
            bssid, sta = frame[10:16], frame[4:10]
        else:
            return
        if sta[0] & 1:
            return
        net = self.networks.get(bssid)
        if net is None:
            net = self.networks[bssid] = Network(bssid)
        net.stations.add(sta)

    # ------------------------------------------------------------------ decryption
    def _protected(self, frame: bytes, hlen: int, fc1: int, *, mgmt: bool) -> FrameResult:
        a1 = frame[4:10]
        a2 = frame[10:16]
        group = bool(a1[0] & 1)
        header = frame[:hlen]
        body = frame[hlen:]
        if len(body) < 8:
            return FrameResult(Outcome.MALFORMED, reason="protected frame too short for a security header",
                               group=group)
        if not self.decrypt_enabled:
            return FrameResult(Outcome.NO_KEY, reason="decryption not requested", group=group)
        ext_iv = body[3] & 0x20
        key_id = body[3] >> 6
        link = None
        if group:
            net = self.networks.get(a2)
            slots = net.gtks.get(key_id, []) if net is not None else []
            if not ext_iv:
                slots = slots + self._wep_slots()
        else:
            link = self.links.get(pair_key(a1, a2))
            slots = list(link.ptks) if link is not None else []
            if link is not None and link.pending:
                slots.extend(self._pending_slots(link))
            if not ext_iv:
                slots.extend(self._wep_slots())
            elif self.keys.tks:
                slots.extend(self._tk_slots())
        if not slots:
            reason = f"no GTK known for key id {key_id}" if group else "no PTK known for this link"
            if link is not None:
                link.counts[Outcome.NO_KEY] += 1
            return FrameResult(Outcome.NO_KEY, reason=reason, group=group)

        plaintext = None
        used: KeySlot | None = None
        failure = "MIC check failed under every known key"
        for slot in slots:
            try:
                plaintext = self._decrypt_with(slot, header, body, a2, link)
            except DecryptionError as exc:
                failure = f"{exc.reason or 'MIC'} check failed under every known key"
                continue
            used = slot
            break
        if plaintext is None or used is None:
            if link is not None:
                link.counts[Outcome.FAILED] += 1
            return FrameResult(Outcome.FAILED, reason=failure, group=group)

        if link is not None and used.label == "pending":
            self._promote_pending(link, used)
        if not mgmt and used.cipher.canonical in _AEAD_CIPHERS:
            self._fast[frame[4:16]] = (used.engine.decrypt_frame, link, group, used)
            if self._c is not None:
                self._c.add(frame[4:16], isinstance(used.engine, GCMP), used.key, link, group, used)
        self.last_slot = used
        return self._decrypted(frame, hlen, fc1, plaintext, group, link, mgmt)

    def _decrypted(self, frame: bytes, hlen: int, fc1: int, plaintext: bytes, group: bool, link: Link | None,
                   mgmt: bool) -> FrameResult:
        """Count a decrypted MPDU once (a Retry copy of the last one counted is a duplicate)."""
        new_frame = bytes((frame[0], fc1 & 0xBF)) + frame[2:hlen] + plaintext
        seq = frame[22] | (frame[23] << 8)
        # QoS Control ends the header, unless the Order bit (+HTC) appends an HT Control field (9.2.4.7).
        tid = (frame[hlen - 6 if fc1 & 0x80 else hlen - 2] & 0x0F) if (not mgmt and frame[0] & 0x80) else 16
        slot_key = (frame[4:16], tid)
        if self._c is not None:  # the compiled path owns the duplicate table
            duplicate = self._c.duplicate(slot_key[0], tid, seq, fc1 & _RETRY)
        else:
            duplicate = fc1 & _RETRY and self._last_seq.get(slot_key) == seq
        if duplicate:
            outcome = Outcome.DUPLICATE
        else:
            outcome = Outcome.DECRYPTED
            if self._c is None:
                self._last_seq[slot_key] = seq
            if group:
                self.decrypted_group += 1
            else:
                self.decrypted_unicast += 1
        if link is not None:
            link.counts[outcome] += 1
        if not mgmt and plaintext.startswith(LLC_EAPOL):
            self._eapol(frame[10:16], frame[4:10], plaintext[8:])
        return FrameResult(outcome, new_frame, None, group, self._hl, self._has_fcs)

    def _decrypt_with(self, slot: KeySlot, header: bytes, body: bytes, ta: bytes, link: Link | None) -> bytes:
        engine = slot.engine
        c = slot.cipher.canonical
        if c == Cipher.TKIP:
            tkip_key = slot.key
            if link is not None and link.aa is not None:
                mic_key = tkip_key[16:24] if ta == link.aa else tkip_key[24:32]
            else:
                mic_key = tkip_key[16:24]
            more_frag = header[1] & 0x04 or (header[22] & 0x0F)
            try:
                return engine.decrypt(header, body, michael_key=None if more_frag else mic_key)
            except DecryptionError as exc:
                if exc.reason != "michael":
                    raise
                self.michael_failures += 1
                return engine.decrypt(header, body, michael_key=None)
        if c in (Cipher.WEP40, Cipher.WEP104):
            return wep_decrypt(slot.key, body)
        return engine.decrypt(header, body)

    def _wep_slots(self) -> list[KeySlot]:
        return [
            KeySlot(Cipher.WEP104 if len(k.key) != 5 else Cipher.WEP40, k.key, k.key, label="WEP")
            for k in self.keys.wep_keys
        ]

    def _tk_slots(self) -> list[KeySlot]:
        if self._user_tks is None:
            self._user_tks = [
                KeySlot(c, t.tk, _cipher_engine(c, t.tk), label="user TK")
                for t in self.keys.tks
                for c in _cipher_for_tk(len(t.tk))
            ]
        return self._user_tks

    def _pending_slots(self, link: Link) -> list[KeySlot]:
        out = []
        for p in link.pending:
            if p.slot is None:
                p.slot = KeySlot(p.cipher, p.ptk.tk, _cipher_engine(p.cipher, p.ptk.tk), label="pending")
            out.append(p.slot)
        return out

    def _promote_pending(self, link: Link, slot: KeySlot) -> None:
        for p in list(link.pending):
            if p.ptk.tk == slot.key:
                self._install_ptk(link, p)
                link.notes.append(f"frame {self.frame_no}: PTK taken into use by data (message 4 not seen)")
                return

    # ------------------------------------------------------------------ management
    def _network(self, bssid: bytes) -> Network:
        net = self.networks.get(bssid)
        if net is None:
            net = self.networks[bssid] = Network(bssid)
        return net

    def _management(self, frame: bytes, subtype: int, freq: int | None) -> None:
        if subtype in (dot11.MgmtSubtype.BEACON, dot11.MgmtSubtype.PROBE_RESP):
            bssid = frame[16:22]
            net = self._network(bssid)
            if subtype == dot11.MgmtSubtype.BEACON:
                net.beacons += 1
                # Beacons repeat ten times a second; their elements rarely change. Parse a few.
                if net.ssid is not None and net.beacons > 3 and net.beacons % 64:
                    return
            try:
                body = dot11.decode_mgmt_body(subtype, frame[dot11.header_length(frame):])
            except DecodeError:
                return
            self._learn_network(net, body, freq)
            return
        if subtype in (dot11.MgmtSubtype.ASSOC_REQ, dot11.MgmtSubtype.REASSOC_REQ, dot11.MgmtSubtype.ASSOC_RESP, dot11.MgmtSubtype.REASSOC_RESP, dot11.MgmtSubtype.AUTH):
            try:
                body = dot11.decode_mgmt_body(subtype, frame[dot11.header_length(frame):])
            except DecodeError:
                return
            a1, a2, a3 = frame[4:10], frame[10:16], frame[16:22]
            if subtype in (dot11.MgmtSubtype.ASSOC_REQ, dot11.MgmtSubtype.REASSOC_REQ):
                self._association_request(a2, a1, body, subtype == dot11.MgmtSubtype.REASSOC_REQ)
            elif subtype == dot11.MgmtSubtype.AUTH:
                self._authentication(a1, a2, a3, body)
            else:
                self._association_response(a2, a1, body)

    def _learn_network(self, net: Network, body, freq: int | None) -> None:
        try:
            info = body.network
        except DecodeError:
            return
        if info.ssid is not None and info.ssid.strip(b"\x00"):
            net.ssid = info.ssid
        elif net.ssid is None and info.ssid is not None and not info.ssid.strip(b"\x00"):
            pass  # hidden SSID: learnt later from a probe response or association request
        if info.channel is not None:
            net.channel = info.channel
        if freq:
            net.freq = freq
        net.security = info.security
        net.akms = tuple(info.akms)
        net.pairwise = tuple(info.pairwise_ciphers)
        net.group = info.group_cipher
        net.ft = info.ft
        net.pmf = info.pmf

    def _link(self, a: bytes, b: bytes) -> Link:
        key = pair_key(a, b)
        link = self.links.get(key)
        if link is None:
            link = self.links[key] = Link(min(a, b), max(a, b))
        return link

    def _association_request(self, sta: bytes, ap: bytes, body, reassoc: bool) -> None:
        try:
            info = body.network
        except DecodeError:
            return
        link = self._link(sta, ap)
        link.aa, link.spa = ap, sta
        net = self._network(ap)
        net.stations.add(sta)
        if info.ssid and info.ssid.strip(b"\x00"):
            link.ssid = info.ssid
            if net.ssid is None:
                net.ssid = info.ssid
        self._learn_suites(link, info)
        if reassoc and link.ft.anonce is not None and info.ft:
            self._verify_ft_reassoc(link, body)

    def _association_response(self, ap: bytes, sta: bytes, body) -> None:
        try:
            info = elements.network_info(body.elements)
        except DecodeError:
            return
        link = self._link(sta, ap)
        link.aa, link.spa = ap, sta
        self._learn_ft(link, body.elements)
        if getattr(body, "status", 0) == 0 and link.ft.anonce is not None:
            # FT reassociation response: the GTK/IGTK arrive in FTE subelements, wrapped with the KEK.
            self._ft_group_keys(link, body.elements)
        if info.rsn is not None and link.group is None:
            link.group = info.group_cipher

    def _authentication(self, a1: bytes, a2: bytes, a3: bytes, body) -> None:
        if getattr(body, "algorithm", None) != 2:  # FT authentication (12.5.2.3 / 13.5)
            return
        seq = body.seq
        if seq == 1:
            sta, ap = a2, a1
        elif seq == 2:
            sta, ap = a1, a2
        else:
            return
        link = self._link(sta, ap)
        link.aa, link.spa = ap, sta
        try:
            info = elements.network_info(body.elements)
        except DecodeError:
            return
        self._learn_suites(link, info)
        self._learn_ft(link, body.elements)
        if seq == 2 and getattr(body, "status", 0) == 0:
            fte = self._fte(body.elements, link)
            if fte is not None:
                link.ft.anonce, link.ft.snonce = fte.anonce, fte.snonce
                link.messages["FT-Auth"] += 1
                link.handshakes += 1
                self._derive_ft(link, fte.anonce, fte.snonce, m2=None)

    def _learn_suites(self, link: Link, info) -> None:
        akms = [a for a in info.akms if isinstance(a, AKM)]
        if akms and (link.akm is None or len(akms) == 1):
            link.akm = akms[0]
        pw = [c for c in info.pairwise_ciphers if isinstance(c, Cipher)]
        if len(pw) == 1:
            link.pairwise = pw[0].canonical
        if isinstance(info.group_cipher, Cipher):
            link.group = info.group_cipher.canonical
        if info.mde is not None:
            link.ft.mdid = info.mde.mdid

    def _fte(self, elems, link: Link):
        mic_len = link.akm.mic_len if link.akm is not None else 16
        for e in elems:
            if e.id == elements.ElementID.FAST_BSS_TRANSITION:
                try:
                    return elements.FTE.decode(e.data, mic_len)
                except DecodeError:
                    return None
        return None

    def _learn_ft(self, link: Link, elems) -> None:
        for e in elems:
            if e.id == elements.ElementID.MOBILITY_DOMAIN:
                try:
                    link.ft.mdid = elements.MDE.decode(e.data).mdid
                except DecodeError:
                    pass
        fte = self._fte(elems, link)
        if fte is not None:
            if fte.r0kh_id:
                link.ft.r0kh_id = fte.r0kh_id
            if fte.r1kh_id:
                link.ft.r1kh_id = fte.r1kh_id

    # ------------------------------------------------------------------ keys
    def _ssids(self, link: Link) -> list[bytes]:
        """SSIDs a link may belong to: its own (from the (re)association request) and its BSS's (beacons)."""
        net = self.networks.get(link.aa) if link.aa is not None else None
        return list(dict.fromkeys(s for s in (link.ssid, net.ssid if net else None) if s))

    def _pmk_candidates(self, link: Link) -> list[tuple[bytes, bytes | None]]:
        """(PMK, SSID) pairs to try for a link: every passphrase under its own SSID and under the SSIDs known
        for the link (the SSID salts the PMK), and every PMK given directly (SSID None: not bound to one)."""
        ssids = self._ssids(link)
        out: list[tuple[bytes, bytes | None]] = []
        for p in self.keys.passphrases:
            for s in ([p.ssid] if p.ssid is not None else []) + ssids:
                cand = (pbkdf2_psk(p.passphrase, s), s)
                if cand not in out:
                    out.append(cand)
        for k in self.keys.pmks:
            if (k.pmk, None) not in out:
                out.append((k.pmk, None))
        return out

    def _akm(self, link: Link, descriptor_version: int) -> AKM:
        if link.akm is not None:
            return link.akm
        if descriptor_version == 3:
            return AKM.PSK_SHA256
        return AKM.PSK

    def _pairwise(self, link: Link, descriptor_version: int) -> Cipher:
        if link.pairwise is not None:
            return link.pairwise
        return Cipher.TKIP if descriptor_version == 1 else Cipher.CCMP128

    def _derive(self, link: Link, anonce: bytes, snonce: bytes, m2: bytes, dv: int, mic_len: int) -> bool:
        """Derive the PTK of one handshake under every candidate PMK; keep the one M2's MIC proves."""
        if link.aa is None or link.spa is None:
            return False
        for p in link.pending:
            if p.anonce == anonce and p.snonce == snonce:
                return True
        if link.akm is not None and link.akm.is_ft:
            return self._derive_ft(link, anonce, snonce, m2=(m2, dv, mic_len))
        pmks = list(dict.fromkeys(pmk for pmk, _ in self._pmk_candidates(link)))
        if not pmks:
            return False
        akm = self._akm(link, dv)
        cipher = self._pairwise(link, dv)
        link.mic_checked += 1
        for pmk in pmks:
            ptk = derive_ptk(pmk, link.aa, link.spa, anonce, snonce, akm=akm, cipher=cipher)
            try:
                verify_eapol_key_mic(ptk.kck, m2, descriptor_version=dv, akm=akm, mic_len=mic_len)
            except CryptoError:
                continue
            link.pending.insert(0, PendingPTK(anonce, snonce, ptk, cipher))
            del link.pending[4:]
            link.mic_verified += 1
            return True
        link.mic_failed += 1
        return False

    def _derive_ft(self, link: Link, anonce: bytes, snonce: bytes, m2) -> bool:
        """FT PTK via PMK-R0 and PMK-R1 (12.7.1.7): from the 4-way handshake (``m2`` = (M2, descriptor
        version, MIC length), kept only if M2's MIC verifies) or from FT authentication (``m2`` None: every
        candidate is kept pending until the Reassociation Request's FTE MIC picks one)."""
        ft = link.ft
        if link.aa is None or link.spa is None or ft.mdid is None or not ft.r0kh_id or not ft.r1kh_id:
            link.notes.append(f"frame {self.frame_no}: FT parameters (MDID, R0KH-ID, R1KH-ID) not seen yet")
            return False
        # XXKey is the PMK (FT-PSK), bound to the SSID PMK-R0 is derived under (12.7.1.7.3).
        ssids = self._ssids(link)
        pairs = list(dict.fromkeys(
            (pmk, ssid) for pmk, bound in self._pmk_candidates(link) for ssid in ([bound] if bound else ssids)
        ))
        if not pairs:
            return False
        akm = link.akm if link.akm is not None and link.akm.is_ft else AKM.FT_PSK
        cipher = link.pairwise or Cipher.CCMP128
        if m2 is not None:
            link.mic_checked += 1
        for pmk, ssid in pairs:
            pmk_r0, r0name = derive_pmk_r0(pmk, ssid, ft.mdid, ft.r0kh_id, link.spa, akm=akm)
            pmk_r1, _ = derive_pmk_r1(pmk_r0, r0name, ft.r1kh_id, link.spa, akm=akm)
            ptk = derive_ft_ptk(pmk_r1, snonce, anonce, link.aa, link.spa, akm=akm, cipher=cipher)
            if m2 is not None:
                data, dv, mic_len = m2
                try:
                    verify_eapol_key_mic(ptk.kck, data, descriptor_version=dv, akm=akm, mic_len=mic_len)
                except CryptoError:
                    continue
                link.mic_verified += 1
            elif any(p.ptk == ptk for p in link.pending):
                continue
            link.pending.insert(0, PendingPTK(anonce, snonce, ptk, cipher))
            del link.pending[6:]
            if m2 is not None:
                return True
        if m2 is not None:
            link.mic_failed += 1
            return False
        return True

    def _verify_ft_reassoc(self, link: Link, body) -> None:
        """Check the FTE MIC of an FT Reassociation Request (seq 5, 13.8.4) against the pending FT PTKs."""
        rsne = mde = fte_elem = None
        for e in body.elements:
            if e.id == elements.ElementID.RSN:
                rsne = e
            elif e.id == elements.ElementID.MOBILITY_DOMAIN:
                mde = e
            elif e.id == elements.ElementID.FAST_BSS_TRANSITION:
                fte_elem = e
        if rsne is None or mde is None or fte_elem is None:
            return
        link.messages["FT-Reassoc"] += 1
        # The request names the SSID: derive again in case FT authentication came before we knew it (the
        # target AP's beacons are often not in the capture, e.g. when it is filtered on the station).
        if link.ft.snonce is not None:
            self._derive_ft(link, link.ft.anonce, link.ft.snonce, m2=None)
        akm = link.akm if link.akm is not None and link.akm.is_ft else AKM.FT_PSK
        rsne_raw, mde_raw = elements.encode_elements([rsne]), elements.encode_elements([mde])
        fte_raw = elements.encode_elements([fte_elem])
        for p in list(link.pending):
            try:
                verify_ft_mic(p.ptk.kck, link.spa, link.aa, 5, rsne_raw, mde_raw, fte_raw, akm=akm)
            except CryptoError:
                continue
            link.mic_checked += 1
            link.mic_verified += 1
            self._install_ptk(link, p)
            return
        if link.pending and self._pmk_candidates(link):
            link.mic_checked += 1
            link.mic_failed += 1

    def _ft_group_keys(self, link: Link, elems) -> None:
        fte = self._fte(elems, link)
        ptk = link.current_ptk
        if fte is None or ptk is None:
            return
        try:
            gtk = fte.gtk
        except DecodeError:
            return
        if gtk is None:
            return
        try:
            plain = decrypt_key_data(ptk.kek, bytes(16), gtk.wrapped_key, descriptor_version=3, akm=link.akm)
        except CryptoError:
            link.notes.append(f"frame {self.frame_no}: FT GTK subelement does not unwrap")
            return
        self._observe_group_key("GTK", link, gtk.key_id, plain[: gtk.key_length], None)
        self._install_gtk(link, gtk.key_id, plain[: gtk.key_length])

    def _install_ptk(self, link: Link, pending: PendingPTK) -> None:
        if pending in link.pending:
            link.pending.remove(pending)
        if link.ptk_objs and link.ptk_objs[0].tk == pending.ptk.tk:
            return
        self._clear_fast()
        slot = KeySlot(pending.cipher, pending.ptk.tk, _cipher_engine(pending.cipher, pending.ptk.tk))
        link.ptks.insert(0, slot)
        link.ptk_objs.insert(0, pending.ptk)
        del link.ptks[3:]
        del link.ptk_objs[3:]

    def _install_gtk(self, link: Link, key_id: int, gtk: bytes) -> None:
        if link.aa is None or not gtk:
            return
        net = self._network(link.aa)
        cipher = link.group or (net.group if isinstance(net.group, Cipher) else None)
        if cipher is None or cipher.canonical.tk_len not in (len(gtk), 0):
            cipher = {16: Cipher.CCMP128, 32: Cipher.TKIP, 5: Cipher.WEP40, 13: Cipher.WEP104}.get(len(gtk))
            if cipher is None:
                return
        cipher = cipher.canonical
        slots = net.gtks.setdefault(key_id, [])
        if slots and slots[0].key == gtk:
            return
        self._clear_fast()
        slots.insert(0, KeySlot(cipher, gtk, _cipher_engine(cipher, gtk), key_id=key_id, label="GTK"))
        del slots[2:]

    # ------------------------------------------------------------------ EAPOL
    def _hs_for(self, link_key: bytes, anonce: bytes | None) -> _Handshake:
        lst = self._handshakes.setdefault(link_key, [])
        if anonce is not None:
            for hs in reversed(lst):
                if hs.anonce == anonce:
                    return hs
            for hs in reversed(lst):
                if hs.anonce is None:
                    hs.anonce = anonce
                    return hs
        elif lst:
            return lst[-1]
        hs = _Handshake(anonce)
        lst.append(hs)
        return hs

    def _eapol(self, ta: bytes, ra: bytes, data: bytes) -> None:
        """One EAPOL frame from ``ta`` to ``ra`` (plaintext, or decrypted from a protected frame)."""
        if len(data) < 4 or data[1] != 3:
            return
        link = self._link(ta, ra)
        mic_len = link.akm.mic_len if link.akm is not None else 16
        try:
            key = eapol.decode_eapol_key(data, mic_len=mic_len)
        except DecodeError as exc:
            link.notes.append(f"frame {self.frame_no}: malformed EAPOL-Key ({exc})")
            return
        msg = eapol.classify(key)
        if msg in (eapol.HandshakeMessage.UNKNOWN, eapol.HandshakeMessage.REQUEST):
            link.messages[msg.name] += 1
            return
        name = {eapol.HandshakeMessage.GROUP_M1: "G1", eapol.HandshakeMessage.GROUP_M2: "G2"}.get(msg, msg.name)
        link.messages[name] += 1
        dv = key.key_info & 0x07
        if link.descriptor_version is None and dv:
            link.descriptor_version = dv
        from_auth = msg in (eapol.HandshakeMessage.M1, eapol.HandshakeMessage.M3, eapol.HandshakeMessage.GROUP_M1)
        if from_auth:
            link.aa, link.spa = ta, ra
        else:
            link.aa, link.spa = ra, ta
        self._network(link.aa).stations.add(link.spa)
        eapol_len = 4 + int.from_bytes(data[2:4], "big")
        raw = data[:eapol_len]
        lk = pair_key(ta, ra)
        rc = key.replay_counter

        if msg == eapol.HandshakeMessage.M1:
            link.m1_anonce[rc] = key.nonce
            if len(link.m1_anonce) > 16:
                link.m1_anonce.pop(next(iter(link.m1_anonce)))
            hs = self._hs_for(lk, key.nonce)
            hs.m1_rcs.add(rc)
            self._hs_add(hs, "M1")
        elif msg == eapol.HandshakeMessage.M2:
            self._learn_key_data_suites(link, key.key_data)
            anonce = link.m1_anonce.get(rc)
            hs = self._hs_for(lk, anonce)
            self._hs_add(hs, "M2")
            link.m2_seen.insert(0, (rc, key.nonce, raw, dv))
            del link.m2_seen[4:]
            if anonce is not None and self.decrypt_enabled:
                self._derive(link, anonce, key.nonce, raw, dv, mic_len)
        elif msg == eapol.HandshakeMessage.M3:
            hs = self._hs_for(lk, key.nonce)
            hs.m3_rcs.add(rc)
            self._hs_add(hs, "M3")
            if self.decrypt_enabled:
                self._m3(link, key, raw, dv, mic_len)
        elif msg == eapol.HandshakeMessage.M4:
            lst = self._handshakes.get(lk) or []
            hs = next((h for h in reversed(lst) if rc in h.m3_rcs), None) or self._hs_for(lk, None)
            self._hs_add(hs, "M4")
            if self.decrypt_enabled:
                self._m4(link, raw, dv, mic_len)
        elif msg == eapol.HandshakeMessage.GROUP_M1 and self.decrypt_enabled:
            self._group_m1(link, key, raw, dv, mic_len)

    def _hs_add(self, hs: _Handshake, name: str) -> None:
        hs.messages.append(name)
        hs.frames.append(self.frame_no)

    def _learn_key_data_suites(self, link: Link, key_data: bytes) -> None:
        try:
            items = list(eapol.iter_key_data(key_data))
        except DecodeError:
            return
        elems = [i for i in items if isinstance(i, elements.Element)]
        if not elems:
            return
        info = elements.network_info(elems)
        self._learn_suites(link, info)
        self._learn_ft(link, elems)

    def _m3(self, link: Link, key, raw: bytes, dv: int, mic_len: int) -> None:
        anonce = key.nonce
        # M1 may be missing: take the ANonce from M3 and the SNonce from the latest M2.
        if not any(p.anonce == anonce for p in link.pending) and link.m2_seen:
            _, snonce, m2raw, m2dv = link.m2_seen[0]
            self._derive(link, anonce, snonce, m2raw, m2dv, mic_len)
        candidates = [p for p in link.pending if p.anonce == anonce]
        candidates += [PendingPTK(anonce, b"", p, link.pairwise or Cipher.CCMP128) for p in link.ptk_objs]
        akm = self._akm(link, dv)
        for cand in candidates:
            try:
                verify_eapol_key_mic(cand.ptk.kck, raw, descriptor_version=dv, akm=akm, mic_len=mic_len)
            except CryptoError:
                continue
            if cand.snonce:
                self._install_ptk(link, cand)
            self._m3_key_data(link, key, cand.ptk, dv)
            return
        if candidates:
            link.notes.append(f"frame {self.frame_no}: message 3 MIC does not verify")

    def _m3_key_data(self, link: Link, key, ptk: PTK, dv: int) -> None:
        if not key.key_data:
            return
        data = key.key_data
        if key.key_info & eapol.KeyInfo.ENCRYPTED_KEY_DATA or key.descriptor_type == 2:
            if not key.key_info & eapol.KeyInfo.ENCRYPTED_KEY_DATA:
                return
            try:
                data = decrypt_key_data(ptk.kek, key.key_iv, data, descriptor_version=dv, akm=link.akm)
            except CryptoError:
                link.notes.append(f"frame {self.frame_no}: message 3 key data does not unwrap")
                return
        try:
            items = list(eapol.iter_key_data(data))
        except DecodeError:
            return
        self._take_kdes(link, items)

    def _take_kdes(self, link: Link, items) -> None:
        elems = [i for i in items if isinstance(i, elements.Element)]
        if elems:
            info = elements.network_info(elems)
            if isinstance(info.group_cipher, Cipher):
                link.group = info.group_cipher.canonical
        for item in items:
            if isinstance(item, eapol.GtkKDE):
                self._observe_group_key("GTK", link, item.key_id, item.gtk, None)
                self._install_gtk(link, item.key_id, item.gtk)
            elif isinstance(item, eapol.IgtkKDE) and link.aa is not None:
                self._observe_group_key("IGTK", link, item.key_id, item.igtk, item.ipn)
                self._network(link.aa).igtks[item.key_id] = item.igtk

    def _observe_group_key(self, kind: str, link: Link, key_id: int, key: bytes, ipn: int | None) -> None:
        if self.on_group_key is not None:
            self.on_group_key(kind, link, key_id, key, ipn)

    def _m4(self, link: Link, raw: bytes, dv: int, mic_len: int) -> None:
        akm = self._akm(link, dv)
        for p in list(link.pending):
            try:
                verify_eapol_key_mic(p.ptk.kck, raw, descriptor_version=dv, akm=akm, mic_len=mic_len)
            except CryptoError:
                continue
            self._install_ptk(link, p)
            return

    def _group_m1(self, link: Link, key, raw: bytes, dv: int, mic_len: int) -> None:
        akm = self._akm(link, dv)
        for ptk in list(link.ptk_objs) + [p.ptk for p in link.pending]:
            try:
                verify_eapol_key_mic(ptk.kck, raw, descriptor_version=dv, akm=akm, mic_len=mic_len)
            except CryptoError:
                continue
            try:
                data = decrypt_key_data(ptk.kek, key.key_iv, key.key_data, descriptor_version=dv, akm=link.akm)
            except CryptoError:
                link.notes.append(f"frame {self.frame_no}: group message 1 key data does not decrypt")
                return
            if key.descriptor_type == 254:
                # WPA1: the key data is the bare GTK; its index is in Key Information bits 4-5.
                gtk_len = key.key_length or len(data)
                self._observe_group_key("GTK", link, (key.key_info >> 4) & 0x03, data[:gtk_len], None)
                self._install_gtk(link, (key.key_info >> 4) & 0x03, data[:gtk_len])
            else:
                try:
                    items = list(eapol.iter_key_data(data))
                except DecodeError:
                    return
                self._take_kdes(link, items)
            return

    # ------------------------------------------------------------------ results
    def link_summaries(self) -> list[LinkSummary]:
        self.sync()
        have_keys = bool(self.keys.passphrases or self.keys.pmks)
        out = []
        for lk, link in self.links.items():
            if not link.messages and not link.counts:
                continue
            bssid = link.aa or link.addr_a
            sta = link.spa or link.addr_b
            net = self.networks.get(bssid)
            ssid = link.ssid or (net.ssid if net else None)
            hss = tuple(
                HandshakeSummary(hs.anonce.hex() if hs.anonce else "", tuple(hs.messages), tuple(hs.frames))
                for hs in self._handshakes.get(lk, [])
            )
            status = link.mic_status(have_keys)
            out.append(
                LinkSummary(
                    bssid=mac_str(bssid),
                    sta=mac_str(sta),
                    ssid=ssid.decode("utf-8", "replace") if ssid is not None else None,
                    akm=link.akm.label if link.akm is not None else None,
                    pairwise=link.pairwise.label if link.pairwise is not None else None,
                    group=link.group.label if link.group is not None else None,
                    messages=dict(sorted(link.messages.items())),
                    handshakes=hss,
                    mic=status.value,
                    counts={str(k): v for k, v in sorted(link.counts.items())},
                    notes=tuple(link.notes[:20]),
                )
            )
        out.sort(key=lambda s: (s.bssid, s.sta))
        return out


def recompute_fcs(frame: bytes) -> bytes:
    """FCS (CRC-32, little-endian) of an 802.11 frame."""
    return (zlib.crc32(frame) & 0xFFFFFFFF).to_bytes(4, "little")


__all__ = [
    "ACCELERATED",
    "Decryptor",
    "FTContext",
    "FrameResult",
    "LinkSummary",
    "MicStatus",
    "Outcome",
    "recompute_fcs",
]
