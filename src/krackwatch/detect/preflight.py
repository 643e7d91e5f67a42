"""Capture-quality preflight: can this capture support a verdict at all?

Checks (each a name rules depend on):

* ``linktype`` -- the records carry 802.11 frames (radiotap, Prism, AVS, PPI or bare 802.11);
* ``fcs`` -- the FCS is captured and valid (frames with a bad FCS are left out of every rule; without an
  FCS a bit error cannot be told from a PN anomaly);
* ``hardware_decryption`` -- protected frames that carry plaintext (the capturing NIC decrypted them, and
  may also have dropped the frames it took for replays: exactly the ones reuse detection needs);
* ``handshakes`` -- which 4-way handshake messages were captured per (BSSID, STA): key epochs and
  reinstallation triggers come from them;
* ``channels`` -- the channels heard, and channels announced (CSA, cloned BSSIDs) that were not captured;
* ``keys`` (with keys only) -- whether the keys given verify any handshake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from krackwatch.detect.findings import Check, CheckStatus, Preflight
from krackwatch.detect.tracker import mac_str
from krackwatch.wire.capture import Record
from krackwatch.wire.linklayer import LinkType, channel_to_freq

if TYPE_CHECKING:
    from krackwatch.detect.analyzer import Analyzer

__all__ = ["CaptureStats", "build_preflight"]

_LT_NAMES = {lt.value: lt.name for lt in LinkType}


class CaptureStats:
    """Counters the scan keeps for the preflight."""

    __slots__ = (
        "bad_fcs",
        "decrypted",
        "events",
        "fcs_frames",
        "first_ts",
        "format_of",
        "frames",
        "freqs",
        "hw_decrypted",
        "hw_decrypted_noiv",
        "last_ts",
        "linktypes",
        "malformed",
        "protected",
        "unsupported",
        "zero_tries",
    )

    def __init__(self) -> None:
        self.frames = 0
        self.protected = 0
        self.decrypted = 0
        self.fcs_frames = 0
        self.bad_fcs = 0
        self.malformed = 0
        self.linktypes: dict[int, int] = {}
        self.unsupported: dict[int, int] = {}
        self.freqs: dict[int, int] = {}
        self.hw_decrypted: dict[bytes, int] = {}
        self.hw_decrypted_noiv: dict[bytes, int] = {}
        self.events = 0
        self.zero_tries = 0
        self.first_ts: int | None = None
        self.last_ts: int | None = None
        self.format_of: dict[str, str] = {}

    def note_ts(self, ts: int | None) -> None:
        if ts is None:
            return
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts

    def sample_freq(self, analyzer: Analyzer, rec: Record) -> None:
        """Channels heard: sampled on data frames (every beacon is counted by the beacon path)."""
        self.note_ts(rec.ts_ns)
        f = analyzer.freq_of(rec)
        if f:
            self.freqs[f] = self.freqs.get(f, 0) + 1


def _pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f}%" if b else "0%"


def build_preflight(az: Analyzer) -> Preflight:
    s = az.stats
    checks = [_linktype(s), _fcs(s), _hw(s), _handshakes(az), _channels(az)]
    if az.keys is not None:
        checks.append(_keys(az))
    freqs = tuple(sorted(f for f in s.freqs if f))
    return Preflight(
        checks=tuple(checks),
        captures=tuple(az.captures),
        frames=s.frames,
        linktypes=tuple((_LT_NAMES.get(k, f"LINKTYPE_{k}"), v) for k, v in sorted(s.linktypes.items())),
        channels=freqs,
        first_ts_ns=s.first_ts,
        last_ts_ns=s.last_ts,
    )


def _linktype(s: CaptureStats) -> Check:
    names = ", ".join(f"{_LT_NAMES.get(k, k)} ({v})" for k, v in sorted(s.linktypes.items())) or "none"
    details = tuple((_LT_NAMES.get(k, f"LINKTYPE_{k}"), str(v)) for k, v in sorted(s.linktypes.items()))
    if s.unsupported:
        bad = ", ".join(f"{_LT_NAMES.get(k, f'LINKTYPE_{k}')} ({v})" for k, v in sorted(s.unsupported.items()))
        return Check("linktype", CheckStatus.WARN, f"802.11 records: {names}; skipped, not 802.11: {bad}", details)
    if s.malformed:
        return Check("linktype", CheckStatus.WARN,
                     f"802.11 records: {names}; {s.malformed} records too short or malformed were skipped", details)
    return Check("linktype", CheckStatus.PASS, f"802.11 records: {names}", details)


def _fcs(s: CaptureStats) -> Check:
    details = (("with_fcs", str(s.fcs_frames)), ("bad_fcs", str(s.bad_fcs)))
    if not s.fcs_frames:
        return Check("fcs", CheckStatus.WARN,
                     "no FCS captured: frame integrity cannot be checked (a bit error could imitate a PN anomaly; "
                     "most drivers drop corrupted frames unless asked to keep them)", details)
    ratio = s.bad_fcs / s.fcs_frames
    text = (f"FCS present on {s.fcs_frames} of {s.frames} frames; {s.bad_fcs} with a bad FCS "
            f"({_pct(s.bad_fcs, s.fcs_frames)}) left out of every rule")
    if ratio >= 0.5 and s.fcs_frames >= 20:
        return Check("fcs", CheckStatus.FAIL, text + ": the capture is too damaged to trust", details)
    if ratio >= 0.2:
        if s.fcs_frames < 20:
            return Check("fcs", CheckStatus.WARN, text, details)
        return Check("fcs", CheckStatus.WARN, text + ": poor reception, frames may be missing", details)
    return Check("fcs", CheckStatus.PASS, text, details)


def _hw(s: CaptureStats) -> Check:
    kept = {mac_str(k): v for k, v in s.hw_decrypted.items()}
    noiv = {mac_str(k): v for k, v in s.hw_decrypted_noiv.items()}
    if not kept and not noiv:
        return Check("hardware_decryption", CheckStatus.PASS,
                     "protected frames carry ciphertext (no sign of decryption by the capturing NIC)")
    macs = tuple(sorted(set(kept) | set(noiv)))
    parts = []
    if kept:
        parts.append(f"plaintext LLC/SNAP behind the CCMP/TKIP header from {', '.join(sorted(kept))}")
    if noiv:
        parts.append(f"plaintext LLC/SNAP with the security header stripped from {', '.join(sorted(noiv))}")
    details = tuple((m, str(kept.get(m, 0) + noiv.get(m, 0))) for m in macs)
    return Check("hardware_decryption", CheckStatus.FAIL,
                 "the capturing NIC decrypted frames (" + "; ".join(parts) + "): it may have dropped the frames "
                 "it took for replays, and ciphertexts cannot be compared; capture with a monitor interface "
                 "that passes the encrypted frames", details, macs)


def _handshakes(az: Analyzer) -> Check:
    incomplete = []
    none = []
    complete = 0
    for sess in az.sessions.values():
        counts = sess.counts
        pair = f"{mac_str(sess.bssid or sess.a)}/{mac_str(sess.sta or sess.b)}"
        if not any(counts.get(m) for m in ("M1", "M2", "M3", "M4")):
            if sess.ft_reassocs:
                complete += 1  # keys from FT authentication and reassociation (802.11r), no 4-way handshake
                continue
            has_data = any(st.session is sess for st in az.streams.values())
            if has_data:
                none.append(pair)
            continue
        missing = [m for m in ("M1", "M2", "M3", "M4") if not counts.get(m)]
        if missing:
            incomplete.append((pair, "missing " + "+".join(missing)))
        else:
            complete += 1
    details = tuple(incomplete) + tuple((p, "no handshake captured") for p in none)
    if not incomplete and not none:
        if complete:
            return Check("handshakes", CheckStatus.PASS,
                         f"{complete} (BSSID, STA) pairs with complete handshakes (4-way or FT)", details)
        return Check("handshakes", CheckStatus.PASS, "no protected unicast traffic and no handshake to follow")
    parts = []
    if complete:
        parts.append(f"{complete} complete")
    if incomplete:
        parts.append(f"{len(incomplete)} incomplete")
    if none:
        parts.append(f"{len(none)} with protected traffic but no captured handshake (key epochs unknown: a PN "
                     "restart there cannot be placed after a fresh handshake or a repeated message 3)")
    affects = tuple(p.split("/")[1] for p, _ in details)
    return Check("handshakes", CheckStatus.WARN, "(BSSID, STA) pairs: " + "; ".join(parts), details, affects)


def _channels(az: Analyzer) -> Check:
    heard = sorted(f for f in az.stats.freqs if f)
    text = ", ".join(str(f) for f in heard) or "unknown (no radio header with a channel)"
    missing = []
    for bss in az.bsses.values():
        for _gno, _rec, ch, _count, _freq in bss.csa:
            f = channel_to_freq(ch)
            if f and heard and f not in heard:
                missing.append(f"channel {ch} ({f} MHz), announced by {mac_str(bss.bssid)}'s CSA")
    details = (("heard_mhz", " ".join(str(f) for f in heard)),)
    if missing:
        return Check("channels", CheckStatus.WARN,
                     f"heard {text} MHz; not captured: {'; '.join(sorted(set(missing)))} -- a man-in-the-middle "
                     "there is invisible", details)
    return Check("channels", CheckStatus.PASS, f"heard {text} MHz", details)


def _keys(az: Analyzer) -> Check:
    dec = az.dec
    assert dec is not None
    verified = [lk for lk in dec.links.values() if lk.mic_verified]
    wrong = [lk for lk in dec.links.values() if lk.mic_failed and not lk.mic_verified]
    details = (("verified_links", str(len(verified))), ("wrong_key_links", str(len(wrong))),
               ("decrypted_frames", str(az.stats.decrypted)))
    if not verified and not az.stats.decrypted:
        why = "wrong passphrase/key" if wrong else "no complete handshake for the keys given"
        return Check("keys", CheckStatus.FAIL,
                     f"the keys given decrypt nothing ({why}): reuse cannot be confirmed by decryption", details,
                     tuple(sorted(mac_str(lk.spa or lk.addr_b) for lk in wrong)))
    if wrong:
        return Check("keys", CheckStatus.WARN,
                     f"keys verified for {len(verified)} links, wrong for {len(wrong)}", details,
                     tuple(sorted(mac_str(lk.spa or lk.addr_b) for lk in wrong)))
    return Check("keys", CheckStatus.PASS,
                 f"keys verified for {len(verified)} links; {az.stats.decrypted} frames decrypted", details)
