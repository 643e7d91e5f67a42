"""Passive KRACK analysis of captures: one streaming pass, then verdicts.

:class:`Analyzer` reads records in order. Protected unicast data go through a lean hot path that reads the
link header, FCS, addresses, TID and PN with slices, table lookups and ``struct`` and updates one
:class:`~krackwatch.detect.tracker.Stream`; only a PN that does not increase, the first frames of a key epoch
and frames a trigger is waiting for leave it (group data take a short function of their own). Handshake, management and WEP frames take the slow paths,
where the reinstallation triggers and attack patterns are recognised. With keys, every record also goes
through a :class:`~krackwatch.decrypt.engine.Decryptor` (composed, not re-implemented): it follows the
handshakes and derives the keys; its decryption tells which key a frame was sent under and gives the
plaintexts that confirm keystream reuse. Verdicts are drawn at the end (:mod:`krackwatch.detect.verdicts`).

Retransmission vs reuse (DESIGN.md, research 4.5 rule 1): a frame whose PN is not above the highest one on
its TID is a retransmission only when it repeats a kept frame byte for byte (same PN, sequence number and
ciphertext) with the Retry bit set within a second; the same frame on another interface or channel within a
quarter second is a copy (two capture interfaces, or a man-in-the-middle relaying it); anything else is an
event the rules judge -- including the same frame without Retry or long after, which a reinstalling device
produces when it resends the same plaintext.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from krackwatch.crypto.ccmp import CCMP
from krackwatch.crypto.errors import CryptoError
from krackwatch.crypto.gcmp import GCMP
from krackwatch.crypto.suites import AKM, Cipher
from krackwatch.crypto.tkip import TKIP
from krackwatch.decrypt.engine import Decryptor, Outcome
from krackwatch.decrypt.keys import KeyRing
from krackwatch.detect.findings import Finding, Preflight
from krackwatch.detect.preflight import CaptureStats, build_preflight
from krackwatch.detect.rules import select_rules
from krackwatch.detect.tracker import (
    HEAD,
    RING,
    RING_MASK,
    SLOT_MGMT,
    SLOT_NONQOS,
    BssState,
    Entry,
    Event,
    Message,
    Session,
    Stream,
    Trigger,
    pair_key,
)
from krackwatch.errors import InputError
from krackwatch.wire import dot11, elements
from krackwatch.wire.capture import CaptureReader, Record, open_capture
from krackwatch.wire.eapol import HandshakeMessage, classify, decode_eapol_key
from krackwatch.wire.errors import DecodeError
from krackwatch.wire.linklayer import FcsStatus, LinkType, UnsupportedLinkType, channel_to_freq, split_link
from krackwatch.wire.radiotap import radiotap_summary

__all__ = ["Analysis", "Analyzer", "analyse"]

ProgressFn = Callable[[int, int | None], None]

LLC_EAPOL = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"
SNAP = b"\xaa\xaa\x03\x00\x00\x00"
SEC = 1_000_000_000
RETRY_WINDOW = SEC  # a Retry copy must follow its original within this
COPY_WINDOW = SEC // 4  # the same frame on another interface/channel within this is a copy
ANSWER_WINDOW = SEC // 10  # an ARP reply to a (replayed) request comes within this
ZERO_TRIES = 2  # first frames of a key epoch tried under an all-zero TK
TU_NS = 1_024_000
# A Radio Measurement Report answers its request after the randomization interval and the measurement
# duration the request names (802.11-2020 9.4.2.20); this much more covers processing and channel access.
REPORT_GRACE = SEC // 2
_PN = struct.Struct("<H2xI")
_U32 = struct.Struct("<I")
_KID = (b"", b"\x01", b"\x02", b"\x03")
_MSG_NAMES = {
    HandshakeMessage.M1: "M1", HandshakeMessage.M2: "M2", HandshakeMessage.M3: "M3", HandshakeMessage.M4: "M4",
    HandshakeMessage.GROUP_M1: "G1", HandshakeMessage.GROUP_M2: "G2",
}
_PN_TRIGGERS = ("msg3", "ft-reassoc")  # triggers judged by the reacting transmitter's packet numbers


def _data_header_len(fc: int) -> int:
    """Header length of a PV0 data frame from its Frame Control (0 for anything else)."""
    if fc & 0x3 or (fc >> 2) & 3 != 2:
        return 0
    flags = fc >> 8
    n = 30 if flags & 0x03 == 0x03 else 24
    if fc & 0x80:  # QoS subtypes
        n += 2
        if flags & 0x80:
            n += 4  # +HTC (9.2.4.7)
    return n


_DHL = bytes(_data_header_len(fc) for fc in range(65536))
# Hot-path tables by Frame Control: header length of a *protected* data frame (0 for every other frame), and
# how far before the body the QoS Control field starts (0: no QoS Control; 6 when an HT Control follows it).
_PDHL = bytes(_DHL[fc] if fc & 0x4000 else 0 for fc in range(65536))
_QOFF = bytes((6 if fc & 0x8000 else 2) if _DHL[fc] and fc & 0x80 else 0 for fc in range(65536))


@dataclass(frozen=True, slots=True)
class Analysis:
    """The result of analysing captures: preflight, findings, and what was run."""

    captures: tuple[str, ...]
    preflight: Preflight
    findings: tuple[Finding, ...]
    rules: tuple[str, ...]
    keys_given: bool
    frames: int
    errors: tuple[str, ...] = ()
    counts: tuple[tuple[str, int], ...] = ()
    stations: tuple[str, ...] = ()  # unicast addresses seen in a link or as a BSSID (aa:bb:cc:dd:ee:ff)


class Analyzer:
    """Feed captures with :meth:`scan`; draw the verdicts with :meth:`conclude`."""

    def __init__(self, keys: KeyRing | None = None, *, rules: Iterable[str] | None = None,
                 fcs_mode: str = "auto") -> None:
        self.keys = keys if keys else None
        self.rules = frozenset(rules) if rules is not None else select_rules()
        self.fcs_mode = fcs_mode
        self.dec: Decryptor | None = None
        if self.keys is not None:
            self.dec = Decryptor(self.keys, fcs_mode=fcs_mode)
            self.dec.on_group_key = self._on_group_key
        self.streams: dict[bytes, Stream] = {}
        self.gstreams: dict[bytes, Stream] = {}
        self.sessions: dict[bytes, Session] = {}
        self.bsses: dict[bytes, BssState] = {}
        self.bip: dict[bytes, list] = {}
        self.stats = CaptureStats()
        self.gno = 0
        self.captures: list[str] = []
        self.cap_starts: list[int] = []  # global number of each capture's first record, minus one
        self.errors: list[str] = []
        self._keys_now: list[tuple[str, bytes, int, bytes, int | None]] = []
        self._noflag_fcs: dict[tuple[int, int], list[int]] = {}
        self._fcs_decided: dict[tuple[int, int], bool] = {}  # (capture, interface) -> records carry an FCS
        self._mgmt_recent: dict[bytes, int] = {}
        self._zero: dict[str, object] = {}
        # Replayed group ARP requests: [bss, event, requested IP, requester IP, answered (None: not yet; False:
        # the next genuine request came first), answers [(gno, record, station)], station owning the IP].
        self.replay_watch: list[list] = []
        self.ip_owner: dict[bytes, bytes] = {}  # IPv4 address -> station that answers ARP requests for it
        # Frames heard twice (relayed to another channel, or two interfaces): transmitter -> [count, first
        # frequency, second frequency, first copy, second copy, first interface, second interface].
        self.relay_pairs: dict[bytes, list] = {}
        # The IGTK's observable (verdicts._igtk): group-addressed Radio Measurement Requests under BIP, which
        # every client answers with a Radio Measurement Report under its PTK. AP -> [(ts, dialog token, report
        # window ns, gno, record)] of genuine requests; replays [AP, ts, token, window, gno, record, original
        # ts, original gno, original record]; (client + AP) -> [(ts, token, gno, record)] of decrypted
        # reports, and [(ts, gno, record)] of protected Action frames that could not be read (no key).
        self.rm_requests: dict[bytes, list] = {}
        self.rm_replays: list[list] = []
        self.rm_reports: dict[bytes, list] = {}
        self.rm_unread: dict[bytes, list] = {}

    # ------------------------------------------------------------------ driving
    def analyse(self, sources: Iterable[str | os.PathLike], progress: ProgressFn | None = None) -> Analysis:
        """Scan every capture in order (one continuous analysis) and conclude."""
        sources = list(sources)
        sizes = []
        for s in sources:
            try:
                sizes.append(os.path.getsize(s))
            except OSError:
                sizes.append(None)
        total = sum(sizes) if all(x is not None for x in sizes) else None
        done = 0
        for i, src in enumerate(sources):
            with open_capture(src) as reader:
                base = done

                def tick(pos: int, _size: int | None, base: int = base) -> None:
                    if progress is not None:
                        progress(base + pos, total)

                self.scan(reader, os.fspath(src), tick if progress is not None else None)
            done += sizes[i] or 0
        return self.conclude()

    def scan(self, reader: CaptureReader, name: str, progress: ProgressFn | None = None) -> None:
        """Read one opened capture to its end (or to the damage that stops it)."""
        cap = len(self.captures)
        self.captures.append(name)
        self.cap_starts.append(self.gno)
        self.stats.format_of[name] = reader.format
        if self.dec is not None:
            self._scan_keyed(reader, cap, progress)
        else:
            self._scan_fast(reader, cap, progress)
        if reader.error is not None:
            self.errors.append(reader.error.describe())

    # ------------------------------------------------------------------ the hot loop (no keys)
    def _scan_fast(self, reader: CaptureReader, cap: int, progress: ProgressFn | None) -> None:
        streams = self.streams
        get_stream = streams.get
        new_stream = self._new_stream
        suspect = self._suspect
        head_frame = self._head_frame
        watched = self._watched
        prehook = self._prehook
        slow_link = self._slow_link
        other = self._other_frame
        group_frame = self._group_frame
        wep_frame = self._wep_frame
        crc32 = zlib.crc32
        unpack_pn = _PN.unpack_from
        unpack_u32 = _U32.unpack_from
        pdhl = _PDHL
        qoff = _QOFF
        stats = self.stats
        linktypes = stats.linktypes
        mode = self.fcs_mode
        auto = mode == "auto"
        gno = self.gno
        decided = self._fcs_decided
        last_if = -1
        last_fcs = None
        protected = bad_fcs = fcs_frames = 0
        cur_lt = None
        lt_count = 0
        next_tick = gno + 1  # the first record is sampled, then every 8192nd
        first_ts = last_ts = None
        rec = None
        try:
            for rec in reader:
                gno += 1
                data = rec.data
                lt = rec.linktype
                if lt != cur_lt:
                    if cur_lt is not None:
                        linktypes[cur_lt] = linktypes.get(cur_lt, 0) + lt_count
                    cur_lt, lt_count = lt, 0
                lt_count += 1
                n = len(data)
                if lt == 127 and auto and n >= 8 and not data[0]:
                    hl = data[2] | (data[3] << 8)
                    p0 = data[4]
                    if p0 & 2:
                        off = 8
                        while data[off - 1] & 0x80 and off < hl:
                            off += 4
                        if p0 & 1:
                            off = ((off + 7) & ~7) + 8
                        flags = data[off] if off < hl else 0
                        if flags & 0x10:
                            fcs_frames += 1
                            if n - hl < 4 or crc32(memoryview(data)[hl:n - 4]) != unpack_u32(data, n - 4)[0]:
                                bad_fcs += 1
                                continue
                            end = n - 4
                        else:
                            end = n
                    else:
                        fcs = decided.get((cap, rec.interface))
                        if fcs is None:
                            r = slow_link(rec, cap, gno)
                            if r is None:
                                continue
                            hl, end = r
                            if end < n:
                                fcs_frames += 1
                        elif fcs:
                            fcs_frames += 1
                            if n - hl < 4 or crc32(memoryview(data)[hl:n - 4]) != unpack_u32(data, n - 4)[0]:
                                bad_fcs += 1
                                continue
                            end = n - 4
                        else:
                            end = n
                elif lt == 105 and auto:
                    hl = 0
                    iface = rec.interface
                    if iface != last_if:
                        last_if = iface
                        last_fcs = decided.get((cap, iface))
                    if last_fcs is None:
                        r = slow_link(rec, cap, gno)
                        last_fcs = decided.get((cap, iface))
                        if r is None:
                            if self._last_bad:
                                bad_fcs += 1
                                fcs_frames += 1
                            continue
                        end = r[1]
                        if end < n:
                            fcs_frames += 1
                    elif last_fcs:
                        fcs_frames += 1
                        if n < 4 or crc32(memoryview(data)[:n - 4]) != unpack_u32(data, n - 4)[0]:
                            bad_fcs += 1
                            continue
                        end = n - 4
                    else:
                        end = n
                else:
                    r = slow_link(rec, cap, gno)
                    if r is None:
                        if self._last_bad:
                            bad_fcs += 1
                            fcs_frames += 1
                        continue
                    hl, end = r
                    if end < n:
                        fcs_frames += 1
                if gno >= next_tick:
                    next_tick = gno + 8192
                    ts = rec.ts_ns
                    if first_ts is None or ts < first_ts:
                        first_ts = ts
                    if last_ts is None or ts > last_ts:
                        last_ts = ts
                    self.stats.sample_freq(self, rec)
                    if progress is not None:
                        progress(reader.position, reader.size)
                if end - hl < 24:
                    other(rec, cap, gno, hl, end)
                    continue
                fc = data[hl] | (data[hl + 1] << 8)
                hlen = pdhl[fc]
                if not hlen:  # anything but a protected PV0 data frame
                    other(rec, cap, gno, hl, end)
                    continue
                protected += 1
                b = hl + hlen
                if end - b < 16:
                    stats.malformed += 1
                    continue
                kb = data[b + 3]
                if not kb & 0x20:
                    wep_frame(rec, gno, hl, b, end)
                    continue
                if data[hl + 4] & 1:
                    group_frame(rec, gno, hl, b, end, None)
                    continue
                key = data[hl + 4:hl + 16]
                if kb & 0xC0:
                    key += _KID[kb >> 6]
                st = get_stream(key)
                if st is None:
                    st = new_stream(key, rec, gno, hl, b)
                if st.hook:
                    prehook(st, rec)
                q = qoff[fc]
                slot = data[b - q] & 0x0F if q else SLOT_NONQOS
                if st.tkip:
                    pn = data[b + 2] | (data[b] << 8) | (unpack_u32(data, b + 4)[0] << 16)
                else:
                    lo, hi = unpack_pn(data, b)
                    pn = lo | (hi << 16)
                mx = st.maxpn
                if pn > mx[slot]:
                    if st.n < HEAD:
                        head_frame(st, pn, slot, gno, rec, hl, end, None)
                    else:
                        mx[slot] = pn
                        ri = st.ri
                        st.ring[ri] = (pn, slot, gno, rec, hl, end, None)
                        st.ri = (ri + 1) & RING_MASK
                        st.n += 1
                        if st.hook:
                            watched(st, pn, slot, gno, rec, hl, end, None)
                else:
                    suspect(st, pn, slot, gno, rec, hl, end, None)
        finally:
            if cur_lt is not None:
                linktypes[cur_lt] = linktypes.get(cur_lt, 0) + lt_count
            stats.frames += gno - self.gno
            stats.protected += protected
            stats.fcs_frames += fcs_frames
            stats.bad_fcs += bad_fcs
            stats.note_ts(first_ts)
            stats.note_ts(last_ts)
            if rec is not None:
                stats.note_ts(rec.ts_ns)
            self.gno = gno
            if progress is not None:
                progress(reader.position, reader.size)

    # ------------------------------------------------------------------ keyed loop
    def _scan_keyed(self, reader: CaptureReader, cap: int, progress: ProgressFn | None) -> None:
        """Every record through the Decryptor first, then through the same per-frame logic with what it
        learnt: which key decrypted a frame (its key epoch) and the plaintext."""
        dec = self.dec
        assert dec is not None
        process = dec.process
        stats = self.stats
        gno = self.gno
        next_tick = gno + 4096
        decrypted = DECRYPTED = Outcome.DECRYPTED
        DUPLICATE = Outcome.DUPLICATE
        try:
            for rec in reader:
                gno += 1
                if self._keys_now:
                    self._keys_now = []
                dec.frame_no = gno - 1
                res = process(rec.linktype, rec.data)
                if res.outcome in (DECRYPTED, DUPLICATE):
                    stats.decrypted += 1
                lt = rec.linktype
                stats.linktypes[lt] = stats.linktypes.get(lt, 0) + 1
                r = self._slow_link(rec, cap, gno)
                if r is None:
                    if self._last_bad:
                        stats.bad_fcs += 1
                        stats.fcs_frames += 1
                    continue
                hl, end = r
                data = rec.data
                if end < len(data):
                    stats.fcs_frames += 1
                stats.note_ts(rec.ts_ns)
                if gno >= next_tick:
                    next_tick = gno + 4096
                    stats.sample_freq(self, rec)
                    if progress is not None:
                        progress(reader.position, reader.size)
                if end - hl < 24:
                    self._other_frame(rec, cap, gno, hl, end)
                    continue
                fc0, fc1 = data[hl], data[hl + 1]
                plain = res.frame if res.outcome in (decrypted, DUPLICATE) else None
                if fc0 & 0x0C != 0x08 or not fc1 & 0x40:
                    if fc0 & 0x0C == 0x00 and fc1 & 0x40:
                        # Undecrypted too: its PN counts, and it may be under an all-zero TK.
                        self._protected_mgmt(rec, gno, hl, end, plain)
                    else:
                        self._other_frame(rec, cap, gno, hl, end)
                    continue
                stats.protected += 1
                hlen = _DHL[fc0 | (fc1 << 8)]
                b = hl + hlen
                if not hlen or end - b < 16:
                    stats.malformed += 1
                    continue
                kb = data[b + 3]
                if not kb & 0x20:
                    self._wep_frame(rec, gno, hl, b, end)
                    continue
                body = plain[hlen:] if plain is not None else None
                if data[hl + 4] & 1:
                    self._group_frame(rec, gno, hl, b, end, body)
                else:
                    self._unicast_keyed(rec, gno, hl, b, end, kb, body)
                if body is not None and body.startswith(LLC_EAPOL):
                    self._eapol(data[hl + 10:hl + 16], data[hl + 4:hl + 10], body[8:], gno, rec, hl, True)
        finally:
            stats.frames += gno - self.gno
            self.gno = gno
            if progress is not None:
                progress(reader.position, reader.size)

    def _unicast_keyed(self, rec: Record, gno: int, hl: int, b: int, end: int, kb: int, body: bytes | None) -> None:
        data = rec.data
        fc0, fc1 = data[hl], data[hl + 1]
        key = data[hl + 4:hl + 16]
        if kb & 0xC0:
            key += _KID[kb >> 6]
        st = self.streams.get(key)
        if st is None:
            st = self._new_stream(key, rec, gno, hl, b)
        if body is not None:
            tk = self.dec.last_slot.key if self.dec.last_slot is not None else None
            if st.tk is None:
                if st.n:  # frames before were under a key we do not have: this one starts a key epoch
                    st.new_epoch(rec.ts_ns, keep_late=False)
                st.tk = tk
                st.gen = st.session.gen
            elif tk != st.tk:
                st.new_epoch(rec.ts_ns, keep_late=False)
                st.tk = tk
                st.gen = st.session.gen
            self._answer_check(st, rec, gno, body)
        elif st.tk is None and st.gen != st.session.gen:
            self._rollover(st, rec)
        slot = (data[b - 6 if fc1 & 0x80 else b - 2] & 0x0F) if fc0 & 0x80 else SLOT_NONQOS
        pn = self._pn(st, data, b)
        if pn > st.maxpn[slot]:
            if st.n < HEAD:
                self._head_frame(st, pn, slot, gno, rec, hl, end, body)
            else:
                st.maxpn[slot] = pn
                st.ring[st.ri] = (pn, slot, gno, rec, hl, end, body)
                st.ri = (st.ri + 1) & RING_MASK
                st.n += 1
                if st.watch is not None:
                    self._watched(st, pn, slot, gno, rec, hl, end, body)
                if body is None and st.zero_hits:
                    self._try_zero(st, rec, gno, hl, end, pn, slot, force=True)
        else:
            self._suspect(st, pn, slot, gno, rec, hl, end, body)

    # ------------------------------------------------------------------ link layer (slow path)
    _last_bad = False

    def _slow_link(self, rec: Record, cap: int, gno: int) -> tuple[int, int] | None:
        """(802.11 start, 802.11 end) of a record through split_link; None for a bad FCS (``_last_bad``)
        or a record that is not 802.11."""
        self._last_bad = False
        data = rec.data
        lt = rec.linktype
        mode = self.fcs_mode
        try:
            if mode == "auto" and lt in (LinkType.IEEE802_11, LinkType.IEEE802_11_RADIOTAP):
                info = split_link(lt, data, fcs_mode="flag")
                if info.fcs == FcsStatus.ABSENT:
                    return info.header_len, self._probe_fcs(rec, cap, info.header_len)
                if info.fcs == FcsStatus.BAD:
                    self._last_bad = True
                    return None
                hl = info.header_len
                n = len(data)
                if n - hl < 4 or zlib.crc32(memoryview(data)[hl:n - 4]) != _U32.unpack_from(data, n - 4)[0]:
                    self._last_bad = True
                    return None
                return hl, n - 4
            info = split_link(lt, data, fcs_mode=mode)
        except UnsupportedLinkType:
            self.stats.unsupported[lt] = self.stats.unsupported.get(lt, 0) + 1
            return None
        except DecodeError:
            self.stats.malformed += 1
            return None
        if info.fcs == FcsStatus.BAD:
            self._last_bad = True
            return None
        if info.freq:
            self.stats.freqs[info.freq] = self.stats.freqs.get(info.freq, 0) + 1
        end = len(data) - 4 if info.fcs in (FcsStatus.VALID, FcsStatus.UNCHECKED) else len(data)
        return info.header_len, end

    def _probe_fcs(self, rec: Record, cap: int, hl: int) -> int:
        """End of the 802.11 frame in a record whose header says nothing about an FCS: the first frames of
        each interface decide whether its records carry one (their last four octets are their CRC)."""
        data = rec.data
        n = len(data)
        key = (cap, rec.interface)
        probe = self._noflag_fcs.get(key)
        if probe is None:
            probe = self._noflag_fcs[key] = [0, 0]
        decided = self._fcs_decided.get(key)
        if decided is False:
            return n
        ok = n - hl >= 8 and zlib.crc32(memoryview(data)[hl:n - 4]) == _U32.unpack_from(data, n - 4)[0]
        if decided is None:
            probe[0] += 1
            probe[1] += ok
            if probe[0] >= 16:  # decided: the interface's records end with an FCS when nine in ten did
                self._fcs_decided[key] = probe[1] * 10 >= probe[0] * 9
            return n - 4 if ok else n
        if not ok:
            self._last_bad = True
        return n - 4

    def location(self, rec: Record) -> tuple[int, int | None]:
        """Where a record was heard: its capture interface and channel frequency. Two copies of one frame
        heard in two places are one transmission relayed (or captured twice), not two transmissions."""
        return rec.interface, self.freq_of(rec)

    def freq_of(self, rec: Record) -> int | None:
        """Channel frequency of a record from its radio header (slow path: management frames and evidence)."""
        if rec.linktype == LinkType.IEEE802_11_RADIOTAP:
            try:
                return radiotap_summary(rec.data)[2]
            except DecodeError:
                return None
        try:
            return split_link(rec.linktype, rec.data, fcs_mode="no").freq
        except (DecodeError, InputError):
            return None

    # ------------------------------------------------------------------ streams
    def _session(self, a: bytes, b: bytes) -> Session:
        k = pair_key(a, b)
        s = self.sessions.get(k)
        if s is None:
            s = self.sessions[k] = Session(k, min(a, b), max(a, b), first_gno=self.gno)
        return s

    def _bss(self, bssid: bytes) -> BssState:
        s = self.bsses.get(bssid)
        if s is None:
            s = self.bsses[bssid] = BssState(bssid)
        return s

    def _new_stream(self, key: bytes, rec: Record, gno: int, hl: int, b: int) -> Stream:
        data = rec.data
        ra, ta = data[hl + 4:hl + 10], data[hl + 10:hl + 16]
        st = Stream(key, ta, ra, data[b + 3] >> 6, False)
        sess = self._session(ta, ra)
        ds = data[hl + 1] & 3
        if sess.bssid is None:
            if ds == 1:
                sess.bssid, sess.sta = ra, ta
            elif ds == 2:
                sess.bssid, sess.sta = ta, ra
        st.session = sess
        st.gen = sess.gen
        sess.streams.append(st)
        st.first_gno = gno
        bssid = sess.bssid
        bss = self.bsses.get(bssid) if bssid is not None else None
        st.bss = bss
        self._choose_cipher(st, data, b, bss)
        self.streams[key] = st
        # A trigger seen before the reacting transmitter sent anything protected waits for it.
        for t in sess.triggers[-2:]:
            if t.watch_key == key and t.end_gno is None and t.base_total is None:
                t.base_total = 0
                st.watch = t
                st.hook = True
        return st

    def _choose_cipher(self, st: Stream, data: bytes, b: int, bss: BssState | None) -> None:
        """TKIP or CCMP/GCMP header: from the negotiated suites when known, else from the header itself
        (TKIP's WEPSeed octet is (TSC1 | 0x20) & 0x7F; CCMP/GCMP's third octet is reserved, zero)."""
        suites = ()
        if bss is not None:
            suites = (bss.group_cipher,) if st.group else bss.pairwise
        if suites and all(s == "TKIP" for s in suites if s):
            st.tkip = True
        elif suites and "TKIP" not in suites:
            st.tkip = False
        else:
            st.tkip = data[b + 2] != 0 and data[b + 1] == ((data[b] | 0x20) & 0x7F)
        st.cipher = "TKIP" if st.tkip else None

    def _pn(self, st: Stream, data: bytes, b: int) -> int:
        if st.tkip:
            return data[b + 2] | (data[b] << 8) | (_U32.unpack_from(data, b + 4)[0] << 16)
        lo, hi = _PN.unpack_from(data, b)
        return lo | (hi << 16)

    def _rollover(self, st: Stream, rec: Record) -> None:
        """The session has a new key epoch (a fresh handshake): start this stream's anew."""
        st.new_epoch(rec.ts_ns, keep_late=True)
        st.gen = st.session.gen

    def _prehook(self, st: Stream, rec: Record) -> None:
        """A stream flagged in the hot path: its session changed key epoch, or a trigger watches it."""
        if st.gen != st.session.gen:
            self._rollover(st, rec)
        st.hook = st.watch is not None

    def _store(self, st: Stream, entry: Entry) -> None:
        st.maxpn[entry[1]] = entry[0]
        st.ring[st.ri] = entry
        st.ri = (st.ri + 1) & RING_MASK
        st.n += 1
        if st.n <= HEAD:
            st.head.append(entry)

    def _head_frame(self, st: Stream, pn: int, slot: int, gno: int, rec: Record, hl: int, end: int,
                    body: bytes | None) -> None:
        """One of the first frames of a key epoch: late frames of the previous key, hardware decryption,
        reuse against the epoch before a restart, and the all-zero TK."""
        ts = rec.ts_ns
        data = rec.data
        pm = st.prev_max
        if pm is not None:
            if ts > st.prev_until:
                st.prev_max = None
            elif pn > pm[slot] >= 0:
                pm[slot] = pn  # the old key's frames still trickle in (queued before the new key)
                return
        entry = (pn, slot, gno, rec, hl, end, body)
        self._store(st, entry)
        b = hl + _DHL[data[hl] | (data[hl + 1] << 8)]
        if data[b + 8:b + 14] == SNAP and body is None:
            st.hw_decrypted += 1
            self.stats.hw_decrypted[st.ta] = self.stats.hw_decrypted.get(st.ta, 0) + 1
        zero = False
        if body is None and not st.group and (st.zero_hits or st.zero_tries < ZERO_TRIES):
            zero = self._try_zero(st, rec, gno, hl, end, pn, slot, force=bool(st.zero_hits))
        if st.prev_head and not zero:
            for e in st.prev_head:
                if e[0] == pn and e[1] == slot:
                    kind = self._compare(st, e, entry)
                    if kind in ("reuse", "identical"):
                        self._record(st, kind, e, entry)
                    break
        if st.watch is not None:
            self._watched(st, pn, slot, gno, rec, hl, end, body)

    def _watched(self, st: Stream, pn: int, slot: int, gno: int, rec: Record, hl: int, end: int,
                 body: bytes | None) -> None:
        t = st.watch
        if t is None:
            return
        if t.end_gno is not None or len(t.after) >= 4:
            st.watch = None
            return
        t.after.append((pn, slot, gno, rec, hl, end, body))

    def _suspect(self, st: Stream, pn: int, slot: int, gno: int, rec: Record, hl: int, end: int,
                 body: bytes | None) -> None:
        """A PN at or below the highest on its slot: a retransmission, a copy, a replay (the same frame
        again: the transmitter's counter is untouched, keep tracking), or the transmitter restarting its PN
        (a reuse against the kept frame with that PN, or below it with no such frame kept)."""
        data = rec.data
        orig = None
        for e in st.entries():
            if e[0] == pn and e[1] == slot:
                orig = e
                break
        entry = (pn, slot, gno, rec, hl, end, body)
        if orig is None:
            pm = st.prev_max
            if pm is not None and rec.ts_ns <= st.prev_until and pn <= pm[slot]:
                return  # a late frame of the previous key, below its highest PN: the Retry copy of one
            if data[hl + 1] & 0x08:
                st.unverified_retries += 1
                return
            kind = "restart"
        else:
            kind = self._compare(st, orig, entry)
            if kind in ("retransmission", "copy"):
                return
            if kind == "identical":
                self._record(st, kind, orig, entry)
                return
        if body is None and not st.group and self._try_zero(st, rec, gno, hl, end, pn, slot, force=True):
            st.restart()  # a key of its own (all zero), counting from its own start
            self._store(st, entry)
            return
        self._record(st, kind, orig, entry)
        st.restarts.append((gno, rec.ts_ns))
        del st.restarts[:-32]
        st.restart()
        self._store(st, entry)

    def _compare(self, st: Stream, orig: Entry, entry: Entry) -> str:
        """How a frame relates to an earlier one with the same PN on the same slot: ``retransmission``,
        ``copy`` (another interface or channel moments later), ``identical`` or ``reuse``."""
        rec, hl, end = entry[3], entry[4], entry[5]
        data = rec.data
        o_rec, ohl, oend = orig[3], orig[4], orig[5]
        od = o_rec.data
        b = hl + (_DHL[data[hl] | (data[hl + 1] << 8)] if data[hl] & 0x0C == 0x08 else 24)
        ob = ohl + (_DHL[od[ohl] | (od[ohl + 1] << 8)] if od[ohl] & 0x0C == 0x08 else 24)
        if data[b:end] != od[ob:oend] or data[hl + 22:hl + 24] != od[ohl + 22:ohl + 24]:
            return "reuse"
        dt = abs(rec.ts_ns - o_rec.ts_ns)
        if data[hl + 1] & 0x08 and dt <= RETRY_WINDOW:
            st.retransmissions += 1
            return "retransmission"
        if dt <= COPY_WINDOW and self.location(rec) != self.location(o_rec):
            st.relays += 1
            self._note_copy(st, orig, entry)
            st.ring[st.ri] = entry
            st.ri = (st.ri + 1) & RING_MASK
            return "copy"
        return "identical"

    def _record(self, st: Stream, kind: str, orig: Entry | None, entry: Entry) -> None:
        ev = Event(kind, st, entry[0], entry[1], entry, orig, epoch=st.epoch)
        body = entry[6]
        if orig is not None:
            if body is not None and orig[6] is not None:
                rec, hl, end = entry[3], entry[4], entry[5]
                o_rec, ohl, oend = orig[3], orig[4], orig[5]
                data, od = rec.data, o_rec.data
                b = hl + (_DHL[data[hl] | (data[hl + 1] << 8)] if data[hl] & 0x0C == 0x08 else 24)
                ob = ohl + (_DHL[od[ohl] | (od[ohl + 1] << 8)] if od[ohl] & 0x0C == 0x08 else 24)
                ev.same_key = True
                ev.proof = self._proof(data[b + 8:end], od[ob + 8:oend], body, orig[6])
            elif body is not None or orig[6] is not None:
                ev.same_key = False
        self._event(st, ev)
        if st.group and kind == "identical":
            self._group_replay(st, ev)

    @staticmethod
    def _proof(c1: bytes, c2: bytes, p1: bytes, p2: bytes) -> tuple[int, str, str, bool]:
        """XOR of the two ciphertexts and of the two plaintexts over their common length (the MIC/ICV that
        ends each ciphertext is not part of the keystream comparison)."""
        n = min(len(p1), len(p2), len(c1), len(c2))
        cx = bytes(a ^ b for a, b in zip(c1[:n], c2[:n], strict=True))
        px = bytes(a ^ b for a, b in zip(p1[:n], p2[:n], strict=True))
        return n, cx[:32].hex(), px[:32].hex(), cx == px

    def _event(self, st: Stream, ev: Event) -> None:
        st.add_event(ev)
        self.stats.events += 1
        sess = st.session
        if sess is None or not sess.triggers:
            return
        gno = ev.cur[2]
        for t in reversed(sess.triggers[-4:]):
            if t.kind not in _PN_TRIGGERS:
                continue
            if t.watch_key == st.key and t.gno < gno and (t.end_gno is None or gno <= t.end_gno):
                if len(t.events) < 8:
                    t.events.append(ev)
                break

    def _note_copy(self, st: Stream, orig: Entry, entry: Entry) -> None:
        rp = self.relay_pairs.get(st.ta)
        if rp is None:
            fa, fb = self.freq_of(orig[3]), self.freq_of(entry[3])
            self.relay_pairs[st.ta] = [1, fa, fb, orig, entry, orig[3].interface, entry[3].interface]
        else:
            rp[0] += 1

    # ------------------------------------------------------------------ all-zero TK
    def _zero_engine(self, name: str):
        eng = self._zero.get(name)
        if eng is None:
            eng = self._zero[name] = {
                "CCMP-128": lambda: CCMP(bytes(16)), "GCMP-128": lambda: GCMP(bytes(16)),
                "CCMP-256": lambda: CCMP(bytes(32)), "GCMP-256": lambda: GCMP(bytes(32)),
                "TKIP": lambda: TKIP(bytes(32)),
            }[name]()
        return eng

    def _zero_ciphers(self, st: Stream) -> tuple[str, ...]:
        if st.tkip:
            return ("TKIP",)
        bss = st.bss or (self.bsses.get(st.session.bssid) if st.session and st.session.bssid else None)
        known = tuple(c for c in (bss.pairwise if bss else ()) if c in ("CCMP-128", "GCMP-128", "CCMP-256",
                                                                        "GCMP-256"))
        return known or ("CCMP-128", "GCMP-128")

    def _try_zero(self, st: Stream, rec: Record, gno: int, hl: int, end: int, pn: int, slot: int, *,
                  force: bool = False) -> bool:
        """Does the frame authenticate under an all-zero TK (research 4.5 rule 3)? Records the event."""
        if "zero-tk" not in self.rules or (not force and st.zero_tries >= ZERO_TRIES):
            return False
        st.zero_tries += 1
        self.stats.zero_tries += 1
        hit = self._zero_decrypt(st, rec.data[hl:end])
        if hit is not None:
            name, plain = hit
            st.zero_hits += 1
            if self.replay_watch:
                self._answer_check(st, rec, gno, plain)
            entry = (pn, slot, gno, rec, hl, end, plain)
            self._event(st, Event("zero-tk", st, pn, slot, entry, None, epoch=st.epoch, note=name))
            return True
        return False

    def _zero_decrypt(self, st: Stream, frame: bytes) -> tuple[str, bytes] | None:
        """(cipher, plaintext) of an MPDU that authenticates under an all-zero TK, else None."""
        hlen = _DHL[frame[0] | (frame[1] << 8)] if frame[0] & 0x0C == 0x08 else 24
        for name in self._zero_ciphers(st):
            eng = self._zero_engine(name)
            try:
                if name == "TKIP":
                    return name, eng.decrypt(frame[:hlen], frame[hlen:], michael_key=bytes(8))
                return name, eng.decrypt_frame(frame, hlen)
            except (CryptoError, ValueError):
                continue
        return None

    # ------------------------------------------------------------------ group frames
    def _group_frame(self, rec: Record, gno: int, hl: int, b: int, end: int, body: bytes | None) -> None:
        data = rec.data
        fc0, fc1 = data[hl], data[hl + 1]
        ta = data[hl + 10:hl + 16]
        kid = data[b + 3] >> 6
        key = ta + _KID[kid] if kid else ta + b"\x00"
        st = self.gstreams.get(key)
        bss = self._bss(ta)
        if st is None:
            st = Stream(key, ta, b"\xff" * 6, kid, True)
            st.bss = bss
            st.first_gno = gno
            self._choose_cipher(st, data, b, bss)
            self.gstreams[key] = st
        if body is not None:
            tk = self.dec.last_slot.key if self.dec is not None and self.dec.last_slot is not None else None
            if st.tk is None:
                st.tk = tk
            elif tk != st.tk:
                st.new_epoch(rec.ts_ns, keep_late=False)
                st.tk = tk
        slot = (data[b - 6 if fc1 & 0x80 else b - 2] & 0x0F) if fc0 & 0x80 else SLOT_NONQOS
        pn = self._pn(st, data, b)
        if pn > st.maxpn[slot]:
            entry = (pn, slot, gno, rec, hl, end, body)
            self._store(st, entry)
            if body is not None and self.replay_watch:
                self._genuine_broadcast(bss, body)
        else:
            self._suspect(st, pn, slot, gno, rec, hl, end, body)

    def _group_replay(self, st: Stream, ev: Event) -> None:
        """A group frame replayed: when its plaintext is an ARP request, watch for the stations' answers."""
        body = ev.cur[6]
        if body is None:
            return
        arp = _arp(body)
        if arp is None or arp[0] != 1:
            return
        _op, _sender_mac, sender_ip, target_ip = arp
        self.replay_watch.append([st.bss, ev, target_ip, sender_ip, None, [], self.ip_owner.get(target_ip)])
        del self.replay_watch[:-32]

    def _genuine_broadcast(self, bss: BssState, body: bytes) -> None:
        arp = _arp(body)
        if arp is None or arp[0] != 1:
            return
        for w in self.replay_watch:
            if w[0] is bss and w[2] == arp[3] and w[4] is None:
                w[4] = False  # the next genuine request for that address came first: no answer to the replay

    def _answer_check(self, st: Stream, rec: Record, gno: int, body: bytes) -> None:
        """A station's unicast frame (decrypted): is it the ARP reply to a replayed broadcast request?"""
        if st.group:
            return
        arp = _arp(body)
        if arp is None or arp[0] != 2:
            return
        _op, _mac, sender_ip, target_ip = arp
        if st.session is not None and st.ta == st.session.sta:
            self.ip_owner[sender_ip] = st.ta
            if len(self.ip_owner) > 4096:
                self.ip_owner.pop(next(iter(self.ip_owner)))
        for w in self.replay_watch:
            if w[4] is None and w[2] == sender_ip and w[3] == target_ip and \
                    0 <= rec.ts_ns - w[1].cur[3].ts_ns <= 2 * SEC:
                w[4] = True
                w[5].append((gno, rec, st.ta))

    # ------------------------------------------------------------------ WEP, management, EAPOL
    def _wep_frame(self, rec: Record, gno: int, hl: int, b: int, end: int) -> None:
        data = rec.data
        if data[b:b + 6] == SNAP:
            # Protected bit set, no security header, plaintext SNAP: decrypted by the capturing NIC with
            # the IV stripped -- no PN to track (research 1.5).
            ta = data[hl + 10:hl + 16]
            self.stats.hw_decrypted_noiv[ta] = self.stats.hw_decrypted_noiv.get(ta, 0) + 1
            return
        fc1 = data[hl + 1]
        bssid = data[hl + 4:hl + 10] if fc1 & 3 == 1 else (data[hl + 10:hl + 16] if fc1 & 3 == 2 else None)
        if bssid is None:
            return
        bss = self._bss(bssid)
        bss.wep_frames += 1
        if bss.wep_sample is None:
            bss.wep_sample = (gno, rec)

    def _other_frame(self, rec: Record, cap: int, gno: int, hl: int, end: int) -> None:
        """Unprotected data (EAPOL), management and protected management frames."""
        data = rec.data
        if end - hl < 10:
            self.stats.malformed += 1
            return
        fc0 = data[hl]
        ftype = fc0 & 0x0C
        if ftype == 0x08:
            hlen = _DHL[fc0 | (data[hl + 1] << 8)]
            if hlen and data[hl + hlen:hl + hlen + 8] == LLC_EAPOL:
                self._eapol(data[hl + 10:hl + 16], data[hl + 4:hl + 10], data[hl + hlen + 8:end], gno, rec, hl,
                            False)
            return
        if ftype != 0x00 or end - hl < 24:
            return
        if data[hl + 1] & 0x40:
            if self.dec is None:
                self._protected_mgmt(rec, gno, hl, end, None)
            return
        self._mgmt(rec, gno, hl, end, fc0 >> 4)

    def _protected_mgmt(self, rec: Record, gno: int, hl: int, end: int, plain: bytes | None) -> None:
        """A robust unicast management frame under the PTK: PNs on the management slot."""
        data = rec.data
        if data[hl + 4] & 1 or end - hl < 24 + 16:
            return
        b = hl + (28 if data[hl + 1] & 0x80 else 24)
        if not data[b + 3] & 0x20:
            return
        key = data[hl + 4:hl + 16] + _KID[data[b + 3] >> 6] if data[b + 3] & 0xC0 else data[hl + 4:hl + 16]
        st = self.streams.get(key)
        if st is None:
            st = self._new_stream(key, rec, gno, hl, b)
        body = plain[b - hl:] if plain is not None else None
        if body is None and st.tk is None and st.gen != st.session.gen:
            self._rollover(st, rec)
        pn = self._pn(st, data, b)
        if pn > st.maxpn[SLOT_MGMT]:
            self._store(st, (pn, SLOT_MGMT, gno, rec, hl, end, body))
        else:
            dups = st.retransmissions + st.relays + st.unverified_retries
            self._suspect(st, pn, SLOT_MGMT, gno, rec, hl, end, body)
            if st.retransmissions + st.relays + st.unverified_retries != dups:
                return  # a retransmission or a copy of a frame already counted
        if data[hl] >> 4 == 13 and st.ra in self.rm_requests:
            if body is None and st.zero_hits:  # a client that installed an all-zero TK sends its reports under it
                hit = self._zero_decrypt(st, data[hl:end])
                body = hit[1] if hit is not None else None
            self._robust_action(st, rec, gno, body)

    def _robust_action(self, st: Stream, rec: Record, gno: int, body: bytes | None) -> None:
        """A client's protected Action frame to an AP that sends group Radio Measurement Requests: keep the
        Radio Measurement Reports (category 5, action 1) with their dialog tokens."""
        key = st.ta + st.ra
        if body is None:
            unread = self.rm_unread.get(key)
            if unread is None:
                unread = self.rm_unread[key] = []
            unread.append((rec.ts_ns, gno, rec))
            del unread[:-256]
        elif len(body) >= 3 and body[0] == 5 and body[1] == 1:
            reports = self.rm_reports.get(key)
            if reports is None:
                reports = self.rm_reports[key] = []
            reports.append((rec.ts_ns, body[2], gno, rec))
            del reports[:-256]

    def _mgmt(self, rec: Record, gno: int, hl: int, end: int, subtype: int) -> None:
        data = rec.data
        if subtype in (8, 5):  # beacon, probe response
            self._beacon(rec, gno, hl, end, subtype == 8)
            return
        a1, a2, a3 = data[hl + 4:hl + 10], data[hl + 10:hl + 16], data[hl + 16:hl + 22]
        if a1[0] & 1:
            if subtype in (10, 12, 13, 14):
                self._bip(rec, gno, hl, end, a2)
            return
        if self._mgmt_copy(rec, hl, end):
            return
        if subtype in (0, 2):  # (re)association request
            self._assoc_request(rec, gno, hl, end, a2, a1, subtype == 2)
        elif subtype == 11:
            self._auth(rec, gno, hl, end, a1, a2)
        elif subtype in (10, 12):  # disassociation, deauthentication: the keys are gone
            sess = self.sessions.get(pair_key(a1, a2))
            if sess is not None:
                self._new_key_epoch(sess, gno)
        elif subtype == 13 and end - hl > 26 and data[hl + 24] == 0 and data[hl + 25] == 4:
            self._csa_action(rec, gno, hl, end, a3)

    def _mgmt_copy(self, rec: Record, hl: int, end: int) -> bool:
        """A unicast management frame seen moments ago (a MAC retransmission, or a copy relayed to another
        channel or captured twice) is one transmission, not two; a repeat later is processed (a replay)."""
        data = rec.data
        key = bytes((data[hl], data[hl + 1] & 0xF7)) + data[hl + 2:end]
        ts = rec.ts_ns
        seen = self._mgmt_recent.get(key)
        self._mgmt_recent[key] = ts
        if len(self._mgmt_recent) > 256:
            self._mgmt_recent.pop(next(iter(self._mgmt_recent)))
        if seen is None:
            return False
        dt = abs(ts - seen)
        return dt <= COPY_WINDOW or (bool(data[hl + 1] & 0x08) and dt <= RETRY_WINDOW)

    def _beacon(self, rec: Record, gno: int, hl: int, end: int, beacon: bool) -> None:
        data = rec.data
        bssid = data[hl + 16:hl + 22]
        bss = self._bss(bssid)
        bss.beacons += 1
        ds = csa = None
        pos = hl + 36
        while pos + 2 <= end:
            eid, ln = data[pos], data[pos + 1]
            if eid == 3 and ln >= 1:
                ds = data[pos + 2]
            elif eid == 37 and ln >= 3 and pos + 5 <= end:
                csa = (data[pos + 2], data[pos + 3], data[pos + 4])
            elif eid == 60 and ln >= 4 and pos + 6 <= end:
                csa = (data[pos + 2], data[pos + 4], data[pos + 5])
            pos += 2 + ln
        freq = self.freq_of(rec)
        if freq:
            bss.freqs[freq] = bss.freqs.get(freq, 0) + 1
            self.stats.freqs[freq] = self.stats.freqs.get(freq, 0) + 1
        if ds is not None:
            slot = bss.ds_channels.get(ds)
            if slot is None:
                bss.ds_channels[ds] = [1, gno, rec, freq]
            else:
                slot[0] += 1
            announced = channel_to_freq(ds)
            if freq and announced and abs(freq - announced) > 10 and len(bss.far) < 8:
                bss.far.append((gno, rec, ds, freq))
        if csa is not None and beacon and len(bss.csa) < 16:
            bss.csa.append((gno, rec, csa[1], csa[2], freq))
        if bss.beacons <= 2 or bss.beacons % 256 == 0 or csa is not None:
            self._learn_network(bss, rec, gno, hl, end)

    def _learn_network(self, bss: BssState, rec: Record, gno: int, hl: int, end: int) -> None:
        data = rec.data
        try:
            body = dot11.decode_mgmt_body(dot11.MgmtSubtype.BEACON, data[hl + 24:end])
            info = body.network
        except DecodeError:
            return
        if info.ssid is not None and info.ssid.strip(b"\x00"):
            bss.ssid = info.ssid
        bss.security = info.security
        bss.sample = bss.sample or (gno, rec)
        pairwise = tuple(dict.fromkeys(c.label for c in info.pairwise_ciphers if isinstance(c, Cipher)))
        group = info.group_cipher.label if isinstance(info.group_cipher, Cipher) else None
        bss.pairwise = pairwise
        bss.group_cipher = group
        bss.tkip = "TKIP" in pairwise or group == "TKIP"
        bss.wpa1 = info.wpa is not None
        bss.rsn = info.rsn is not None
        bss.wep = info.security == "WEP" or group in ("WEP-40", "WEP-104")
        bss.ft = info.ft
        bss.pmf = info.pmf

    def _csa_action(self, rec: Record, gno: int, hl: int, end: int, bssid: bytes) -> None:
        data = rec.data
        pos = hl + 26
        while pos + 5 <= end:
            if data[pos] == 37 and data[pos + 1] >= 3:
                bss = self._bss(bssid)
                if len(bss.csa) < 16:
                    bss.csa.append((gno, rec, data[pos + 3], data[pos + 4], self.freq_of(rec)))
                return
            pos += 2 + data[pos + 1]

    def _bip(self, rec: Record, gno: int, hl: int, end: int, ta: bytes) -> None:
        """Group-addressed robust management frame with a Management MIC element: track the IPN."""
        data = rec.data
        for mme_len in (16, 24):
            s = end - 2 - mme_len
            if s > hl + 24 and data[s] == 76 and data[s + 1] == mme_len:
                break
        else:
            return
        kid = data[s + 2] | (data[s + 3] << 8)
        ipn = int.from_bytes(data[s + 4:s + 10], "little")
        key = ta + kid.to_bytes(2, "little")
        st = self.bip.get(key)
        if st is None:
            st = self.bip[key] = [-1, [], [], ta, kid]
        if ipn > st[0]:
            st[0] = ipn
            st[1].append((ipn, gno, rec, hl, end))
            del st[1][:-RING]
            rq = _rm_request(data, hl + 24, s)
            if rq is not None:
                reqs = self.rm_requests.get(ta)
                if reqs is None:
                    reqs = self.rm_requests[ta] = []
                reqs.append((rec.ts_ns, rq[0], rq[1], gno, rec))
                del reqs[:-64]
            return
        orig = next((e for e in reversed(st[1]) if e[0] == ipn), None)
        kind = "restart"
        if orig is not None:
            od = orig[2].data
            same = data[hl + 24:end] == od[orig[3] + 24:orig[4]]
            dt = abs(rec.ts_ns - orig[2].ts_ns)
            if same and data[hl + 1] & 0x08 and dt <= RETRY_WINDOW:
                return
            if same and dt <= COPY_WINDOW and self.location(rec) != self.location(orig[2]):
                st[1].append((ipn, gno, rec, hl, end))
                del st[1][:-RING]
                return
            kind = "identical" if same else "reuse"
            if same and len(self.rm_replays) < 32:
                rq = _rm_request(data, hl + 24, s)
                if rq is not None:
                    self.rm_replays.append([ta, rec.ts_ns, rq[0], rq[1], gno, rec, orig[2].ts_ns, orig[1], orig[2]])
        if len(st[2]) < 16:
            st[2].append((kind, ipn, gno, rec, orig))

    def _assoc_request(self, rec: Record, gno: int, hl: int, end: int, sta: bytes, ap: bytes,
                       reassoc: bool) -> None:
        data = rec.data
        sess = self._session(sta, ap)
        sess.bssid, sess.sta = ap, sta
        sess.sta_loc = self.location(rec)
        try:
            body = dot11.decode_mgmt_body(2 if reassoc else 0, data[hl + 24:end])
            info = body.network
        except DecodeError:
            return
        akms = [a for a in info.akms if isinstance(a, AKM)]
        if akms:
            sess.akm = akms[0]
        fte = next((e for e in body.elements if e.id == elements.ElementID.FAST_BSS_TRANSITION), None)
        retry = bool(data[hl + 1] & 0x08)
        if reassoc and fte is not None and info.rsn is not None:
            sess.ft_reassocs += 1
            prev = sess.ft_req
            if prev is not None and prev[0] == fte.data and not sess.ft_auth_since:
                p_rec = prev[3]
                same_sc = data[hl + 22:hl + 24] == p_rec.data[prev[2] + 22:prev[2] + 24]
                dt = abs(rec.ts_ns - p_rec.ts_ns)
                if same_sc and (retry and dt <= RETRY_WINDOW or dt <= COPY_WINDOW):
                    return  # a MAC retransmission or a copy of the same request
                self._trigger(sess, "ft-reassoc", gno, rec, watch=(ap, sta),
                              details={"previous": prev[1], "previous_ts": p_rec.ts_ns, "previous_rec": p_rec})
                return
            sess.ft_req = (fte.data, gno, hl, rec)
            sess.ft_auth_since = False
        self._new_key_epoch(sess, gno)

    def _auth(self, rec: Record, gno: int, hl: int, end: int, a1: bytes, a2: bytes) -> None:
        data = rec.data
        if end - hl < 30:
            return
        alg = data[hl + 24] | (data[hl + 25] << 8)
        sess = self._session(a1, a2)
        if sess.sta is not None and a2 == sess.sta:
            sess.sta_loc = self.location(rec)
        if alg == 2:  # FT authentication: a new FT instance with fresh nonces
            sess.ft_auth_since = True

    def _new_key_epoch(self, sess: Session, gno: int) -> None:
        sess.close_trigger(gno, self._trigger_total)
        sess.gen += 1
        for st in sess.streams:
            st.hook = True
        sess.m3s = []
        sess.m1_since_m3 = []
        sess.m4_since_m3 = []
        sess.installed = False

    # ------------------------------------------------------------------ EAPOL-Key
    def _on_group_key(self, kind: str, link, key_id: int, key: bytes, ipn: int | None) -> None:
        self._keys_now.append((kind, link.aa or b"", key_id, key, ipn))

    def _eapol(self, ta: bytes, ra: bytes, payload: bytes, gno: int, rec: Record, hl: int, protected: bool) -> None:
        sess = self._session(ta, ra)
        mic_len = 16
        if sess.akm is not None:
            try:
                mic_len = AKM(sess.akm).mic_len
            except ValueError:
                mic_len = 16
        try:
            key = decode_eapol_key(payload, mic_len=mic_len)
        except DecodeError:
            return
        msg = classify(key)
        name = _MSG_NAMES.get(msg)
        if name is None:
            return
        data = rec.data
        retry = bool(data[hl + 1] & 0x08)
        ts = rec.ts_ns
        loc = self.location(rec)
        from_auth = name in ("M1", "M3", "G1")
        dedupe = (name, key.replay_counter, key.nonce, key.mic, ta)
        seen = sess.recent.get(dedupe)
        if seen is not None:
            parked = sess.parked.pop(dedupe, None)
            if parked is not None and loc == sess.sta_loc:
                # The copy that reaches the client: a man-in-the-middle relayed (or held and released) what
                # the AP sent on its own channel. The client receives the message now.
                m = self._message(name, key, gno, rec, retry, protected, ta)
                m.key_ids, m.ipn = parked.key_ids, parked.ipn
                self._deliver(sess, m, ta, ra)
                return
            if parked is not None:
                sess.parked[dedupe] = parked
            dt = abs(ts - seen[1])
            if retry and dt <= RETRY_WINDOW or dt <= COPY_WINDOW:
                return  # a MAC retransmission, or the same frame captured again / relayed
            if len(sess.replayed_eapol) < 8:
                sess.replayed_eapol.append(self._message(name, key, gno, rec, retry, protected, ta))
            return
        if len(sess.recent) > 64:
            sess.recent.pop(next(iter(sess.recent)))
        sess.recent[dedupe] = (gno, ts, loc)
        m = self._message(name, key, gno, rec, retry, protected, ta)
        if self._keys_now:
            m.key_ids = tuple((k, kid, kb) for k, _aa, kid, kb, _ipn in self._keys_now)
            m.ipn = next((ipn for k, _aa, _kid, _kb, ipn in self._keys_now if k == "IGTK"), None)
        self._sent(sess, m)
        if from_auth and sess.sta_loc is not None and loc != sess.sta_loc:
            # Heard on another channel than the client's: it reaches the client only if relayed there.
            sess.parked[dedupe] = m
            if len(sess.parked) > 16:
                sess.parked.pop(next(iter(sess.parked)))
            return
        if not from_auth:
            sess.sta_loc = loc
        self._deliver(sess, m, ta, ra)

    def _deliver(self, sess: Session, m: Message, ta: bytes, ra: bytes) -> None:
        """Process a handshake message as received by its addressee."""
        if m.name in ("M1", "M3", "G1"):
            sess.bssid, sess.sta = ta, ra
        else:
            sess.bssid, sess.sta = ra, ta
        getattr(self, "_msg_" + m.name)(sess, m)

    def _sent(self, sess: Session, m: Message) -> None:
        """Every message as transmitted (first copy), delivered or not: the AP retransmitting message 3
        after the client sent message 4 means message 4 did not reach it."""
        sess.count(m.name)
        if m.name == "M4":
            sess.m4_pending.append(m)
            del sess.m4_pending[:-4]
        elif m.name == "M3":
            if sess.m4_pending and sess.last_m3_sent is not None and sess.last_m3_sent.nonce == m.nonce \
                    and m.rc > sess.last_m3_sent.rc:
                sess.m4_then_m3.append((sess.m4_pending[-1], m))
                del sess.m4_then_m3[:-16]
            sess.last_m3_sent = m
            sess.m4_pending = []

    def _message(self, name, key, gno, rec, retry, protected, sender) -> Message:
        return Message(name, key.replay_counter, key.nonce, key.key_rsc, gno, rec, retry, protected,
                       self.freq_of(rec), len(key.key_data), key.mic, sender)

    def _msg_M1(self, sess: Session, m: Message) -> None:
        sess.last_m1 = m
        if sess.m3s:
            sess.m1_since_m3.append(m)
            del sess.m1_since_m3[:-8]

    def _msg_M2(self, sess: Session, m: Message) -> None:
        sess.last_m2 = m
        m1 = sess.last_m1
        if m1 is not None and m1.rc == m.rc and (m1.nonce != sess.anonce or m.nonce != sess.snonce):
            sess.pending = (m1.nonce, m.nonce)

    def _msg_M3(self, sess: Session, m: Message) -> None:
        a = m.nonce
        if a not in sess.confirmed:
            self._fresh_m3(sess, m)
            return
        m2 = sess.last_m2
        prev = sess.m3s[-1] if sess.m3s else None
        if prev is not None and m2 is not None and m2.gno > prev.gno and m.rc == m2.rc + 1 \
                and m2.nonce != sess.snonce and not any(m1.rc == m.rc for m1 in sess.m1_since_m3):
            # A rekey that reuses the ANonce (hostapd before 0adc9b28b): message 3 answers a new message 2.
            self._fresh_m3(sess, m)
            return
        # The same ANonce again: a retransmitted (or replayed) message 3 -- the reinstallation trigger.
        between = list(sess.m1_since_m3)
        t = self._trigger(sess, "msg3", m.gno, m.rec, watch=(sess.sta, sess.bssid), message=m,
                          details={"anonce": a.hex(), "rc": m.rc, "rsc": m.rsc})
        t.previous = prev
        t.m1_between = between
        if between:
            sess.tptk.append((prev, between[-1], m))
        self._group_key_delivery(sess, m)
        sess.m3s.append(m)
        del sess.m3s[:-8]
        sess.m1_since_m3 = []
        sess.m4_since_m3 = []

    def _fresh_m3(self, sess: Session, m: Message) -> None:
        self._new_key_epoch(sess, m.gno)
        sess.anonce = m.nonce
        sess.snonce = sess.pending[1] if sess.pending is not None and sess.pending[0] == m.nonce else (
            sess.last_m2.nonce if sess.last_m2 is not None else None)
        sess.pending = None
        if len(sess.confirmed) > 32:
            sess.confirmed.pop(next(iter(sess.confirmed)))
        sess.confirmed[m.nonce] = m.gno
        sess.m3s = [m]
        self._group_key_delivery(sess, m)

    def _acknowledged(self, sess: Session, m: Message) -> None:
        for d in sess.delivered.values():
            if d[2] == m.rc and d[1] == sess.gen:
                d[3] = True

    def _msg_M4(self, sess: Session, m: Message) -> None:
        self._acknowledged(sess, m)
        sess.installed = True
        sess.m4_since_m3.append(m)
        del sess.m4_since_m3[:-8]
        if sess.pending is not None and not sess.m3s:
            # Message 3 of a new handshake was not captured: message 4 shows the new key is in use.
            self._new_key_epoch(sess, m.gno)
            sess.anonce, sess.snonce = sess.pending
            sess.pending = None
        t = next((t for t in reversed(sess.triggers) if t.kind == "msg3"), None)
        if t is not None and t.answered is None and t.details.get("rc") == m.rc:
            t.answered = m

    def _msg_G1(self, sess: Session, m: Message) -> None:
        self._group_key_delivery(sess, m)

    def _msg_G2(self, sess: Session, m: Message) -> None:
        self._acknowledged(sess, m)
        if sess.triggers:
            t = sess.triggers[-1]
            if t.kind == "gtk" and t.answered is None:
                t.answered = m

    def _group_key_delivery(self, sess: Session, m: Message) -> None:
        """Message 3 / group message 1 handing over a group key: compare it with the key in use and its
        Key RSC (IGTK: IPN) with the packet numbers the AP has already sent under it."""
        if sess.bssid is None or not m.key_ids:
            return
        bss = self._bss(sess.bssid)
        for kind, kid, key in m.key_ids:
            # A re-delivery is the key this client already got in this key epoch; a fresh handshake (new
            # association, new PTK) hands it over anew and resets the client's state anyway.
            # Only a delivery the client acknowledged (message 4 / group message 2 with its replay counter)
            # can have been installed; a retransmission after an unanswered one is the first install.
            prev = sess.delivered.get((kind, kid))
            again = prev is not None and prev[0] == key and prev[1] == sess.gen and prev[3]
            if not again:
                sess.delivered[(kind, kid)] = [key, sess.gen, m.rc, False]
            if kind == "GTK":
                bss.gtk[kid] = key
                if not again:
                    continue
                st = self.gstreams.get(sess.bssid + (_KID[kid] if kid else b"\x00"))
                sent = max(st.maxpn) if st is not None else -1
                if m.rsc < sent and len(bss.group_triggers) < 32:
                    t = self._trigger(sess, "gtk", m.gno, m.rec, watch=(sess.sta, sess.bssid), message=m,
                                      details={"key_id": kid, "rsc": m.rsc, "sent": sent, "message": m.name})
                    bss.group_triggers.append(t)
            elif kind == "IGTK":
                bss.igtk[kid] = key
                if not again:
                    continue
                bipst = self.bip.get(sess.bssid + kid.to_bytes(2, "little"))
                sent = bipst[0] if bipst is not None else -1
                if m.ipn is not None and m.ipn < sent and len(bss.group_triggers) < 32:
                    t = self._trigger(sess, "igtk", m.gno, m.rec, watch=(sess.sta, sess.bssid), message=m,
                                      details={"key_id": kid, "ipn": m.ipn, "sent": sent, "message": m.name})
                    bss.group_triggers.append(t)

    def _trigger(self, sess: Session, kind: str, gno: int, rec: Record, *, watch: tuple[bytes | None, bytes | None],
                 message: Message | None = None, details: dict | None = None) -> Trigger:
        """Open a trigger's window and start watching the transmitter whose PNs tell the reaction."""
        ta, ra = watch
        t = Trigger(kind, sess, gno, rec, self.freq_of(rec), details=dict(details or {}))
        if message is not None:
            t.details["message_obj"] = message
        if ta is not None and ra is not None and kind in _PN_TRIGGERS:
            t.watch_key = ra + ta
            st = self.streams.get(t.watch_key)
            if st is not None:
                t.base_total = st.total
                st.watch = t
                st.hook = True
        if kind in ("msg3", "ft-reassoc"):
            sess.add_trigger(t)  # closes the window of the one before
        elif len(sess.triggers) < 32:
            sess.triggers.append(t)
        return t

    def _trigger_total(self, t: Trigger) -> int | None:
        st = self.streams.get(t.watch_key)
        return st.total if st is not None else None

    # ------------------------------------------------------------------ conclusion
    def conclude(self) -> Analysis:
        """Close open trigger windows, run the preflight, and draw every enabled rule's verdicts."""
        from krackwatch.detect.verdicts import draw_findings

        last_ts = self.stats.last_ts or 0
        for w in self.replay_watch:
            # ARP replies leave within milliseconds: a station that answers requests for its address and sent
            # nothing for a replayed one within ANSWER_WINDOW ignored it (the capture must run that long).
            if w[4] is None and w[6] is not None and last_ts - w[1].cur[3].ts_ns >= ANSWER_WINDOW:
                w[4] = False
        for sess in self.sessions.values():
            for t in sess.triggers:
                if t.end_gno is None:
                    t.end_gno = self.gno + 1
                if t.end_total is None:
                    t.end_total = self._trigger_total(t)
        for k, v in self.stats.unsupported.items():
            left = self.stats.linktypes.get(k, 0) - v
            if left > 0:
                self.stats.linktypes[k] = left
            else:
                self.stats.linktypes.pop(k, None)
        if self.stats.frames and not self.stats.linktypes and self.stats.unsupported:
            names = ", ".join(str(k) for k in self.stats.unsupported)
            raise InputError(f"no 802.11 frames: unsupported link type {names} (capture in monitor mode, "
                             "radiotap link type 127)", path=self.captures[0] if self.captures else None)
        preflight = build_preflight(self)
        findings = draw_findings(self, preflight)
        counts = (("frames", self.stats.frames), ("protected", self.stats.protected),
                  ("decrypted", self.stats.decrypted),
                  ("retransmissions", sum(s.retransmissions for s in self._all_streams())),
                  ("copies", sum(s.relays for s in self._all_streams())),
                  ("pn_events", self.stats.events), ("zero_tk_tries", self.stats.zero_tries))
        seen = {mac for sess in self.sessions.values() for mac in (sess.a, sess.b)} | set(self.bsses)
        stations = tuple(sorted(m.hex(":") for m in seen if len(m) == 6 and not m[0] & 1))
        return Analysis(tuple(self.captures), preflight, tuple(findings), tuple(sorted(self.rules)),
                        self.keys is not None, self.stats.frames, tuple(self.errors), counts, stations)

    def _all_streams(self):
        yield from self.streams.values()
        yield from self.gstreams.values()

    def locate(self, gno: int) -> tuple[int, int]:
        """(capture index, frame number inside it) of a global frame number."""
        cap = 0
        for i, start in enumerate(self.cap_starts):
            if gno > start:
                cap = i
        return cap, gno - self.cap_starts[cap]


def _rm_request(data: bytes, b: int, end: int) -> tuple[int, int] | None:
    """(dialog token, report window in ns) of a Radio Measurement Request action body (9.6.6.2) at
    ``data[b:end]``: the longest randomization interval plus measurement duration among its Channel Load,
    Noise Histogram, Beacon and Frame requests (9.4.2.20.4-9.4.2.20.7: all begin Operating Class, Channel,
    Randomization Interval, Measurement Duration; a Beacon Table request measures nothing), plus
    REPORT_GRACE. None for any other frame."""
    if end - b < 5 or data[b] != 5 or data[b + 1] != 0:
        return None
    window = 0
    pos = b + 5
    while pos + 2 <= end:
        eid, n = data[pos], data[pos + 1]
        if pos + 2 + n > end:
            break
        if eid == 38 and n >= 9 and data[pos + 4] in (3, 4, 5, 6):
            rand = data[pos + 7] | (data[pos + 8] << 8)
            dur = data[pos + 9] | (data[pos + 10] << 8)
            if data[pos + 4] == 5 and n >= 10 and data[pos + 11] == 2:
                dur = 0
            window = max(window, (rand + dur) * TU_NS)
        pos += 2 + n
    return data[b + 2], window + REPORT_GRACE


def _arp(body: bytes) -> tuple[int, bytes, bytes, bytes] | None:
    """(op, sender MAC, sender IP, target IP) of an LLC/SNAP-encapsulated IPv4 ARP packet."""
    if len(body) < 36 or body[:8] != b"\xaa\xaa\x03\x00\x00\x00\x08\x06":
        return None
    a = body[8:]
    if a[2:4] != b"\x08\x00" or a[4] != 6 or a[5] != 4:
        return None
    return a[7], a[8:14], a[14:18], a[24:28]


def analyse(sources: Iterable[str | os.PathLike], keys: KeyRing | None = None, *,
            rules: Iterable[str] | None = None, fcs_mode: str = "auto",
            progress: ProgressFn | None = None) -> Analysis:
    """Analyse captures (in order, as one) and return the preflight and findings."""
    return Analyzer(keys, rules=rules, fcs_mode=fcs_mode).analyse(sources, progress)
