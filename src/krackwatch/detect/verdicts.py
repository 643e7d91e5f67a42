"""From what the scan kept to findings: one drawer per rule.

The reinstallation rules share one judgement (:func:`evaluate`): after a trigger (a repeated message 3, a
replayed FT Reassociation Request) the transmitter whose packet numbers tell the reaction is watched until the
next trigger or key epoch. A PN that goes back in that window is a reinstallation (``vulnerable``); packet
numbers that keep counting after the device answered the trigger mean it did not reinstall
(``not_vulnerable``); too few frames, or no sign it received the trigger, leave it ``inconclusive`` -- with
what is missing said. Negative verdicts that depend on a failed preflight check become ``inconclusive``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from krackwatch.detect.findings import (
    Benign,
    Confidence,
    Finding,
    FrameRef,
    KeystreamProof,
    Preflight,
    Verdict,
)
from krackwatch.detect.rules import RULES, cve
from krackwatch.detect.tracker import Entry, Event, Message, Session, Stream, Trigger, mac_str
from krackwatch.errors import KrackwatchError
from krackwatch.wire.errors import DecodeError
from krackwatch.wire.linklayer import channel_to_freq, split_link

if TYPE_CHECKING:
    from krackwatch.detect.analyzer import Analyzer

__all__ = ["Evaluation", "draw_findings", "evaluate"]

_MAX_PAIRS = 6
_PAIR_WINDOW = 5_000_000_000  # ns: both directions restarting within this is one new key
_LATE_GRACE = 2_000_000_000  # ns: frames under the old key may trail a new one this long
# Encrypted message 4 (EAPOL-Key without key data, 16-octet MIC, LLC/SNAP): 107 octets of MSDU plus the
# security header and trailer of CCMP-128 (8 + 8), GCMP / CCMP-256 (8 + 16) or TKIP (8 + 8 + 4).
_M4_BODIES = frozenset((107 + 16, 107 + 24, 107 + 20))
_REINSTALL_KINDS = ("reuse", "restart", "identical", "zero-tk")


@dataclass(slots=True)
class Evaluation:
    """How a device reacted to one trigger."""

    verdict: Verdict
    confidence: Confidence
    events: list[Event] = field(default_factory=list)
    after: int = 0
    reply: str = ""  # how its answer to the trigger was recognised
    missing: list[str] = field(default_factory=list)
    summary: str = ""


class _Ctx:
    def __init__(self, az: Analyzer, pf: Preflight) -> None:
        self.az = az
        self.pf = pf
        self.keys = az.keys is not None

    def hl(self, rec) -> int:
        try:
            return split_link(rec.linktype, rec.data, fcs_mode="no").header_len
        except (DecodeError, KrackwatchError):
            return 0

    def ref_entry(self, e: Entry, role: str, note: str = "") -> FrameRef:
        pn, slot, gno, rec, hl, _end, _body = e
        data = rec.data
        cap, capno = self.az.locate(gno)
        return FrameRef(gno, rec.ts_ns, role, cap, capno, rec.offset, pn, (data[hl + 22] | (data[hl + 23] << 8)) >> 4,
                        bool(data[hl + 1] & 0x08), slot if slot < 16 else None, self.az.freq_of(rec), note)

    def ref_rec(self, gno: int, rec, role: str, note: str = "", pn: int | None = None) -> FrameRef:
        hl = self.hl(rec)
        data = rec.data
        cap, capno = self.az.locate(gno)
        seq = retry = None
        if len(data) >= hl + 24:
            seq = (data[hl + 22] | (data[hl + 23] << 8)) >> 4
            retry = bool(data[hl + 1] & 0x08)
        return FrameRef(gno, rec.ts_ns, role, cap, capno, rec.offset, pn, seq, retry, None, self.az.freq_of(rec), note)

    def ref_msg(self, m: Message, role: str, note: str = "") -> FrameRef:
        text = f"{m.name} replay counter {m.rc}" + (f", Key RSC {m.rsc}" if m.name in ("M3", "G1") else "")
        if m.name in ("M1", "M3"):
            text += f", ANonce {m.nonce[:4].hex()}..."
        if m.protected:
            text += " (decrypted)"
        return self.ref_rec(m.gno, m.rec, role, (text + ("; " + note if note else "")))

    def ssid(self, bssid: bytes | None) -> str | None:
        bss = self.az.bsses.get(bssid) if bssid else None
        if bss is None or bss.ssid is None:
            return None
        return bss.ssid.decode("utf-8", "replace")


def _finding(rule: str, verdict: Verdict, confidence: Confidence, summary: str, **kw) -> Finding:
    r = RULES[rule]
    kw.setdefault("cves", r.cves)
    return Finding(rule, r.title, tuple(kw.pop("cves")), r.kind, verdict, r.severity, confidence, summary, **kw)


def _verified(e: Entry | None) -> bool:
    """The frame's integrity is established: a valid FCS was captured with it, or a key decrypted it."""
    if e is None:
        return False
    return e[6] is not None or e[5] < len(e[3].data)


def _body_len(e: Entry) -> int:
    data = e[3].data
    hl = e[4]
    from krackwatch.detect.analyzer import _DHL

    return e[5] - (hl + _DHL[data[hl] | (data[hl + 1] << 8)])


def _proof(e: Event) -> KeystreamProof | None:
    if e.proof is None or e.orig is None:
        return None
    n, cx, px, equal = e.proof
    return KeystreamProof((e.orig[2], e.cur[2]), n, cx, px, equal)


def _fmt_s(ns: int) -> str:
    return f"{ns / 1e9:.3f} s"


# ---------------------------------------------------------------------------------------------- evaluation


def evaluate(ctx: _Ctx, t: Trigger) -> Evaluation:
    """The watched device's reaction to a trigger (see the module docstring)."""
    az = ctx.az
    st = az.streams.get(t.watch_key)
    events = [e for e in t.events if e.kind in _REINSTALL_KINDS]
    who = "AP" if t.kind == "ft-reassoc" else "client"
    if events:
        strong = any((e.proof is not None and e.proof[3]) or e.kind == "zero-tk" or
                     (e.kind == "reuse" and _verified(e.cur) and _verified(e.orig)) for e in events)
        kinds = sorted({e.kind for e in events})
        return Evaluation(Verdict.VULNERABLE, Confidence.HIGH if strong else Confidence.MEDIUM, events,
                          summary=f"its packet numbers went back after the trigger ({', '.join(kinds)})")
    after = 0
    if st is not None:
        end_total = t.end_total if t.end_total is not None else st.total
        after = max(0, end_total - (t.base_total or 0))
    ev = Evaluation(Verdict.INCONCLUSIVE, Confidence.LOW, after=after)
    if t.kind == "ft-reassoc":
        if after >= 2:
            ev.verdict, ev.confidence = Verdict.NOT_VULNERABLE, Confidence.MEDIUM
            ev.summary = f"the AP sent {after} protected frames to the client after it, with rising packet numbers"
            if any(e[6] is not None for e in t.after):
                ev.confidence = Confidence.HIGH
        else:
            ev.missing.append(f"protected frames from the AP to the client after the replayed request "
                              f"({after} seen; 2 needed)")
        return ev
    # msg3 (and the TPTK / msg4-blocked patterns built on it): the client's answer comes first.
    n_before = None
    if t.answered is not None:
        n_before = sum(1 for e in t.after if e[2] <= t.answered.gno)
        ev.reply = f"message 4 (frame {t.answered.gno}{', decrypted' if t.answered.protected else ''})"
    else:
        for i, e in enumerate(t.after[:2]):
            if _body_len(e) in _M4_BODIES and e[6] is None:
                n_before = i + 1
                ev.reply = f"an encrypted frame of message 4's size (frame {e[2]})"
                break
    if n_before is not None:
        rest = after - n_before
        if rest >= 1:
            ev.verdict = Verdict.NOT_VULNERABLE
            decrypted = any(e[6] is not None for e in t.after[n_before:])
            ev.confidence = Confidence.HIGH if (decrypted and t.answered is not None) else (
                Confidence.MEDIUM if t.answered is not None or rest >= 2 else Confidence.LOW)
            ev.summary = (f"the {who} answered with {ev.reply} and then kept counting its packet numbers "
                          f"({rest} frame{'s' if rest != 1 else ''} after its answer)")
        else:
            ev.missing.append(f"a protected frame from the {who} after its answer ({ev.reply}) to the repeated "
                              "message 3: packet numbers restart only after it")
            ev.summary = _silence(ctx, t, n_before)
    elif after >= 3:
        ev.verdict, ev.confidence = Verdict.NOT_VULNERABLE, Confidence.LOW
        ev.summary = f"the {who} sent {after} protected frames after it with rising packet numbers"
        ev.missing.append("its message 4 answering the repeated message 3 (to be sure it received it)")
    else:
        ev.missing.append(f"message 4 answering the repeated message 3 and frames after it ({after} protected "
                          f"frames from the {who} seen after the trigger)")
    return ev


def _silence(ctx: _Ctx, t: Trigger, n_before: int) -> str:
    """When the client falls silent after answering: does the AP keep sending it protected frames? (Then the
    client no longer decrypts them -- consistent with a key the AP does not have, not proof of it.)"""
    sess = t.session
    if sess.sta is None or sess.bssid is None or n_before == 0 or len(t.after) < n_before:
        return ""
    last = t.after[n_before - 1][2]
    reverse = ctx.az.streams.get(sess.sta + sess.bssid)
    if reverse is None:
        return ""
    later = sorted({e[2] for e in reverse.entries() if e[2] > last})
    if len(later) < 2:
        return ""
    return (f"after its answer the client sent nothing more while the AP sent it {len(later)} protected frames "
            f"(frames {', '.join(map(str, later[:6]))}) -- consistent with a client that lost the PTK (an all-zero "
            "TK, say), but no proof")


def _combine(evals: list[tuple[Trigger, Evaluation]]) -> tuple[Verdict, Confidence, list[str]]:
    vul = [e for _, e in evals if e.verdict == Verdict.VULNERABLE]
    if vul:
        return Verdict.VULNERABLE, max(e.confidence for e in vul), []
    ok = [e for _, e in evals if e.verdict == Verdict.NOT_VULNERABLE]
    missing = [m for _, e in evals for m in e.missing]
    if ok:
        return Verdict.NOT_VULNERABLE, max(e.confidence for e in ok), []
    return Verdict.INCONCLUSIVE, Confidence.LOW, list(dict.fromkeys(missing))


def _trigger_refs(ctx: _Ctx, t: Trigger, e: Evaluation) -> list[FrameRef]:
    refs: list[FrameRef] = []
    if t.previous is not None:
        refs.append(ctx.ref_msg(t.previous, "original", "the message it repeats"))
    m = t.details.get("message_obj")
    if isinstance(m, Message):
        refs.append(ctx.ref_msg(m, "trigger"))
    else:
        refs.append(ctx.ref_rec(t.gno, t.rec, "trigger", _trigger_text(t)))
        prev = t.details.get("previous_rec")
        if prev is not None:
            refs.insert(0, ctx.ref_rec(int(t.details["previous"]), prev, "original", "the request it repeats"))
    if t.answered is not None:
        refs.append(ctx.ref_msg(t.answered, "answer"))
    for ev in e.events[:_MAX_PAIRS]:
        if ev.orig is not None:
            refs.append(ctx.ref_entry(ev.orig, "original", "first frame with this PN"))
        refs.append(ctx.ref_entry(ev.cur, "reuse" if ev.kind != "zero-tk" else "zero-tk", _event_text(ev)))
    if not e.events:
        for a in t.after[:4]:
            refs.append(ctx.ref_entry(a, "after", "decrypted" if a[6] is not None else ""))
    return refs


def _trigger_text(t: Trigger) -> str:
    if t.kind == "ft-reassoc":
        return "Reassociation Request repeated with the same FTE, no FT Authentication in between"
    return t.kind


def _event_text(ev: Event) -> str:
    if ev.kind == "zero-tk":
        return f"decrypts under an all-zero {ev.note} key"
    if ev.kind == "reuse":
        return "same PN, different ciphertext" + (", same key (decrypted)" if ev.same_key else "")
    if ev.kind == "identical":
        return "same PN, same sequence number and ciphertext, Retry clear or long after"
    return "PN below the highest already used (the frame with this PN was not kept)"


# ---------------------------------------------------------------------------------------------- drawers


def _trigger_of(sess: Session | None) -> dict[int, Trigger]:
    out: dict[int, Trigger] = {}
    if sess is None:
        return out
    for t in sess.triggers:
        for e in t.events:
            out[id(e)] = t
    return out


def _reuse_benign(ctx: _Ctx, evs: list[Event], contextual: bool, confirmed: bool) -> tuple[Benign, ...]:
    retx = all(e.kind != "identical" or not e.cur[3].data[e.cur[4] + 1] & 0x08 for e in evs)
    out = [
        Benign("a MAC retransmission (Retry set, same sequence number and ciphertext, within 1 s)", retx,
               "each frame differs from the earlier one with its PN, or has Retry clear, or came over 1 s later"
               if retx else "some repeats are byte-identical"),
        Benign("the same transmission captured twice or relayed on another channel", True,
               "same interface and channel, or more than 0.25 s apart"),
    ]
    if confirmed:
        out.append(Benign("a new key (rekey or new association)", True,
                          "both frames decrypt under the same temporal key"))
    elif contextual:
        out.append(Benign("a new key (rekey or new association)", True,
                          "no new handshake between the frames: the PN went back right after a reinstallation "
                          "trigger"))
    else:
        out.append(Benign("a new key whose handshake is not in the capture or travelled encrypted", False,
                          "give the passphrase to tell (both frames then decrypt under one key, or not)"))
    unverified = [e for e in evs if not (_verified(e.cur) and (e.orig is None or _verified(e.orig)))]
    out.append(Benign("a bit error in a frame whose FCS was not captured", not unverified,
                      "every frame involved had a valid FCS or decrypted" if not unverified else
                      f"{len(unverified)} of the frames had no FCS to check"))
    return tuple(out)


def _pairwise_reuse(ctx: _Ctx) -> list[Finding]:
    out = []
    for st in ctx.az.streams.values():
        evs = [e for e in st.events if e.kind in ("reuse", "restart", "identical")]
        if not evs:
            continue
        trig = _trigger_of(st.session)
        core = [e for e in evs if not (e.kind == "identical" and id(e) not in trig)]
        contextual = [e for e in core if id(e) in trig]
        confirmed = [e for e in core if e.proof is not None and e.proof[3]]
        # A new key restarts both directions at once; a reinstallation restarts only the side that reinstalls
        # while the other keeps counting under the old key.
        reverse = ctx.az.streams.get(st.ta + st.ra)
        paired, one_sided = [], []
        for e in core:
            if e in contextual or e in confirmed:
                continue
            ts = e.cur[3].ts_ns
            if reverse is not None and any(abs(rts - ts) <= _PAIR_WINDOW for _g, rts in reverse.restarts):
                paired.append(e)
            elif reverse is not None and (reverse.last_ts or 0) > ts + _LATE_GRACE and not any(
                    rts > ts for _g, rts in reverse.restarts):
                one_sided.append(e)
        core = [e for e in core if e not in paired]
        if not core:
            continue
        kinds = {t.kind for t in (trig[id(e)] for e in contextual)}
        cves = tuple(sorted({cve(13082) if k == "ft-reassoc" else cve(13077) for k in kinds})) or RULES[
            "pairwise-nonce-reuse"].cves
        missing: list[str] = []
        if confirmed:
            verdict, conf = Verdict.VULNERABLE, Confidence.HIGH
            summary = (f"{mac_str(st.ta)} reused {len(core)} packet number(s) towards {mac_str(st.ra)} under one key: "
                       "decrypted, the plaintexts XOR to the XOR of the ciphertexts (keystream reuse)")
        elif one_sided and not contextual:
            verdict, conf = Verdict.VULNERABLE, Confidence.MEDIUM
            summary = (f"{mac_str(st.ta)}'s packet numbers towards {mac_str(st.ra)} went back {len(one_sided)} time(s) "
                       f"while {mac_str(st.ra)} kept counting under the old key: {mac_str(st.ta)} reinstalled its key "
                       "(a new key restarts both directions)")
            missing.append("the reinstallation trigger (it travelled encrypted, or was not captured), or the "
                           "passphrase to show the keystream reuse")
        elif contextual:
            verdict = Verdict.VULNERABLE
            strong = any(e.kind == "reuse" and _verified(e.cur) and _verified(e.orig) for e in contextual)
            conf = Confidence.HIGH if strong else Confidence.MEDIUM
            summary = (f"{mac_str(st.ta)} reused {len(core)} packet number(s) towards {mac_str(st.ra)} right after "
                       f"a reinstallation trigger ({', '.join(sorted(kinds))})")
            if not ctx.keys:
                missing.append("the passphrase, to decrypt both frames and show the keystream reuse")
        else:
            verdict, conf = Verdict.INCONCLUSIVE, Confidence.LOW
            summary = (f"{mac_str(st.ta)}'s packet numbers towards {mac_str(st.ra)} went back {len(core)} time(s) "
                       "with no reinstallation trigger and no new handshake in the capture")
            if ctx.keys:
                missing.append("a key that decrypts both frames (the later frames did not decrypt under the "
                               "earlier frames' key: likely a new key)")
            else:
                missing.append("the passphrase: both frames decrypting under one key would prove keystream reuse")
        refs = []
        proof = None
        for e in (confirmed or contextual or core)[:_MAX_PAIRS]:
            if e.orig is not None:
                refs.append(ctx.ref_entry(e.orig, "original", "first frame with this PN"))
            refs.append(ctx.ref_entry(e.cur, "reuse", _event_text(e)))
            if proof is None:
                proof = _proof(e)
        counts = (("events", st.n_events), ("reuse", sum(e.kind == "reuse" for e in evs)),
                  ("restart", sum(e.kind == "restart" for e in evs)),
                  ("identical", sum(e.kind == "identical" for e in evs)),
                  ("retransmissions", st.retransmissions), ("copies", st.relays),
                  ("retry_copies_of_unkept_frames", st.unverified_retries))
        benign = _reuse_benign(ctx, core, bool(contextual), bool(confirmed))
        if one_sided and not (contextual or confirmed):
            benign = tuple(Benign(b.explanation, True, f"{mac_str(st.ra)} kept counting under the old key after it")
                           if "new key" in b.explanation else b for b in benign)
        out.append(_finding(
            "pairwise-nonce-reuse", verdict, conf, summary, cves=cves, device=mac_str(st.ta),
            transmitter=mac_str(st.ta), receiver=mac_str(st.ra), bssid=mac_str(st.session.bssid),
            ssid=ctx.ssid(st.session.bssid), evidence=tuple(refs), counts=counts,
            details=(("key_id", str(st.kid)), ("cipher", st.cipher or "CCMP/GCMP")),
            benign=benign, missing=tuple(missing), proof=proof))
    return out


def _unicast_replay(ctx: _Ctx) -> list[Finding]:
    out = []
    for st in ctx.az.streams.values():
        trig = _trigger_of(st.session)
        evs = [e for e in st.events if e.kind == "identical" and id(e) not in trig]
        if not evs:
            continue
        refs = []
        for e in evs[:_MAX_PAIRS]:
            refs.append(ctx.ref_entry(e.orig, "original"))
            refs.append(ctx.ref_entry(e.cur, "replay", f"identical frame {_fmt_s(e.cur[3].ts_ns - e.orig[3].ts_ns)} "
                                                       "later, Retry clear or beyond the retransmission window"))
        out.append(_finding(
            "unicast-replay", Verdict.INCONCLUSIVE, Confidence.MEDIUM,
            f"{len(evs)} protected frame(s) from {mac_str(st.ta)} to {mac_str(st.ra)} appeared again byte for byte: "
            "a third party replaying them (whether the receiver accepted them is not visible), or a transmitter "
            "that reinstalled its key resending the same plaintext",
            device=mac_str(st.ra), transmitter=mac_str(st.ta), receiver=mac_str(st.ra),
            bssid=mac_str(st.session.bssid), ssid=ctx.ssid(st.session.bssid), evidence=tuple(refs),
            counts=(("replayed", len(evs)),),
            benign=(Benign("a MAC retransmission", True, "Retry clear, or more than 1 s after the original"),
                    Benign("the same transmission captured twice", True, "same interface and channel"),),
            missing=("a reaction of the receiver to the replayed frame",)))
    for sess in ctx.az.sessions.values():
        if not sess.replayed_eapol:
            continue
        ms = sess.replayed_eapol
        first = ms[0]
        receiver = sess.sta if first.sender == sess.bssid else sess.bssid
        names = ", ".join(sorted({m.name for m in ms}))
        out.append(_finding(
            "unicast-replay", Verdict.INCONCLUSIVE, Confidence.MEDIUM,
            f"{len(ms)} EAPOL-Key message(s) ({names}) between {mac_str(sess.bssid)} and {mac_str(sess.sta)} "
            "appeared again byte for byte over a second later (what Kismet's NONCEREUSE alert caught): a replayed "
            "handshake message, which a compliant receiver drops for its old replay counter",
            device=mac_str(receiver), transmitter=mac_str(first.sender), receiver=mac_str(receiver),
            bssid=mac_str(sess.bssid), ssid=ctx.ssid(sess.bssid),
            evidence=tuple(ctx.ref_msg(m, "replay", "the same EAPOL-Key frame again") for m in ms[:_MAX_PAIRS]),
            counts=(("replayed_eapol", len(ms)),),
            benign=(Benign("a MAC retransmission or a relayed copy", True,
                           "Retry clear or over 1 s after the first copy, same place"),),
            missing=("a reaction of the receiver (a new message 2/4 answering it)",)))
    return out


def _zero_tk(ctx: _Ctx) -> list[Finding]:
    """One finding per (AP, client) pair whose frames authenticate under an all-zero TK; the verdict is about
    the client (the supplicant installs the key; an AP-side address sending under it is a man-in-the-middle
    talking to that client with the key it installed, or an AP that installed it too)."""
    out = []
    by_pair: dict[bytes, list[Stream]] = {}
    for st in ctx.az.streams.values():
        if st.zero_hits and st.session is not None:
            by_pair.setdefault(st.session.key, []).append(st)
    for streams in by_pair.values():
        sess = streams[0].session
        sta = sess.sta or streams[0].ta
        refs: list[FrameRef] = []
        trig = _trigger_of(sess)
        kinds: set[str] = set()
        parts = []
        cipher = ""
        for st in sorted(streams, key=lambda s: s.ta != sta):
            evs = [e for e in st.events if e.kind == "zero-tk"]
            if not evs:
                continue
            cipher = cipher or evs[0].note
            kinds |= {trig[id(e)].kind for e in evs if id(e) in trig}
            parts.append(f"{st.zero_hits} frame(s) {'from' if st.ta == sta else 'towards'} the client")
            refs += [ctx.ref_entry(e.cur, "zero-tk", f"{mac_str(st.ta)} -> {mac_str(st.ra)}: {_event_text(e)}")
                     for e in evs[:_MAX_PAIRS // len(streams) + 1]]
        for t in {id(trig[id(e)]): trig[id(e)] for st in streams for e in st.events if id(e) in trig}.values():
            m = t.details.get("message_obj")
            if isinstance(m, Message):
                refs.insert(0, ctx.ref_msg(m, "trigger"))
        where = f", right after a {', '.join(sorted(kinds))} trigger" if kinds else ""
        out.append(_finding(
            "zero-tk", Verdict.VULNERABLE, Confidence.HIGH,
            f"frames between {mac_str(sess.bssid)} and {mac_str(sta)} authenticate under an all-zero {cipher} "
            f"temporal key ({'; '.join(parts)}){where}: the client installed it; anyone can decrypt and forge "
            "this traffic",
            device=mac_str(sta), transmitter=mac_str(streams[0].ta), receiver=mac_str(streams[0].ra),
            bssid=mac_str(sess.bssid), ssid=ctx.ssid(sess.bssid), evidence=tuple(refs),
            counts=tuple((f"from_{mac_str(st.ta)}", st.zero_hits) for st in streams), details=(("cipher", cipher),),
            benign=(Benign("a MIC collision under the zero key", True,
                           "the MIC (CCMP/GCMP) or Michael MIC and ICV (TKIP) verified"),)))
    return out


def _msg3_triggers(sess: Session) -> list[Trigger]:
    return [t for t in sess.triggers if t.kind == "msg3"]


def _ptk_4way(ctx: _Ctx) -> list[Finding]:
    out = []
    for sess in ctx.az.sessions.values():
        ts = _msg3_triggers(sess)
        if not ts:
            continue
        evals = [(t, evaluate(ctx, t)) for t in ts]
        verdict, conf, missing = _combine(evals)
        chosen = next((te for te in evals if te[1].verdict == verdict), evals[0])
        refs = _trigger_refs(ctx, *chosen)
        n = len(ts)
        base = (f"message 3 was repeated {n} time(s) with the same ANonce after {mac_str(sess.sta)} had installed "
                "the PTK")
        text = {Verdict.VULNERABLE: f"{base}; {chosen[1].summary}: the client reinstalls the PTK",
                Verdict.NOT_VULNERABLE: f"{base}; {chosen[1].summary}: it does not reinstall the PTK",
                Verdict.INCONCLUSIVE: f"{base}; its reaction cannot be told from this capture"}[verdict]
        if verdict == Verdict.INCONCLUSIVE and chosen[1].summary:
            text += f" ({chosen[1].summary})"
        out.append(_finding(
            "ptk-reinstall-4way", verdict, conf, text, device=mac_str(sess.sta), transmitter=mac_str(sess.sta),
            receiver=mac_str(sess.bssid), bssid=mac_str(sess.bssid), ssid=ctx.ssid(sess.bssid),
            evidence=tuple(refs), counts=(("triggers", sess.n_triggers),
                                          ("vulnerable", sum(e.verdict == Verdict.VULNERABLE for _, e in evals)),
                                          ("not_vulnerable",
                                           sum(e.verdict == Verdict.NOT_VULNERABLE for _, e in evals))),
            benign=(Benign("a new key (PTK rekey)", True, "message 3 carried the same ANonce and answered no new "
                                                          "message 2"),
                    Benign("the client never received the repeated message 3", verdict != Verdict.INCONCLUSIVE,
                           chosen[1].reply or "no answer seen")),
            missing=tuple(missing)))
    return out


def _ft(ctx: _Ctx) -> list[Finding]:
    out = []
    for sess in ctx.az.sessions.values():
        ts = [t for t in sess.triggers if t.kind == "ft-reassoc"]
        if not ts:
            continue
        evals = [(t, evaluate(ctx, t)) for t in ts]
        verdict, conf, missing = _combine(evals)
        chosen = next((te for te in evals if te[1].verdict == verdict), evals[0])
        ap = mac_str(sess.bssid)
        base = f"{mac_str(sess.sta)}'s FT Reassociation Request reached {ap} again {len(ts)} time(s) unchanged"
        text = {Verdict.VULNERABLE: f"{base}; {chosen[1].summary}: the AP reinstalls the PTK",
                Verdict.NOT_VULNERABLE: f"{base}; {chosen[1].summary}: it does not reinstall the PTK",
                Verdict.INCONCLUSIVE: f"{base}; the AP's reaction cannot be told from this capture"}[verdict]
        out.append(_finding(
            "ft-reassoc-replay", verdict, conf, text, device=ap, transmitter=ap, receiver=mac_str(sess.sta),
            bssid=ap, ssid=ctx.ssid(sess.bssid), evidence=tuple(_trigger_refs(ctx, *chosen)),
            counts=(("replayed_requests", len(ts)),),
            benign=(Benign("a MAC retransmission of the request", True,
                           "different sequence number, or Retry clear and over 0.25 s later"),
                    Benign("a new FT instance", True, "same FTE (ANonce, SNonce, MIC), no FT Authentication between")),
            missing=tuple(missing)))
    return out


def _tptk(ctx: _Ctx) -> list[Finding]:
    out = []
    for sess in ctx.az.sessions.values():
        if not sess.tptk:
            continue
        triggers = {id(t.details.get("message_obj")): t for t in _msg3_triggers(sess)}
        m3a, m1, m3b = sess.tptk[0]
        rand = m1.nonce != m3b.nonce
        same_rc = m1.rc == m3b.rc
        t = triggers.get(id(m3b))
        e = evaluate(ctx, t) if t is not None else Evaluation(Verdict.INCONCLUSIVE, Confidence.LOW)
        conf = Confidence.HIGH if same_rc or rand else Confidence.MEDIUM
        why = []
        if same_rc:
            why.append(f"message 1 and the repeated message 3 share replay counter {m1.rc} (a genuine "
                       "authenticator never reuses one)")
        if rand:
            why.append("message 1 carries a new ANonce, yet message 3 keeps the old one")
        variant = "TPTK-RAND" if rand else "TPTK"
        outcome = {Verdict.VULNERABLE: f"the attack worked: {e.summary}",
                   Verdict.NOT_VULNERABLE: f"the client resisted: {e.summary}",
                   Verdict.INCONCLUSIVE: "the client's reaction is not visible"
                   + (f" ({e.summary})" if e.summary else "")}[e.verdict]
        refs = [ctx.ref_msg(m3a, "original", "message 3"), ctx.ref_msg(m1, "attack", "message 1 after message 3"),
                ctx.ref_msg(m3b, "trigger", "message 3 repeated with its old ANonce")]
        if t is not None:
            refs += [r for r in _trigger_refs(ctx, t, e) if r.role in ("answer", "reuse", "zero-tk", "after")]
        out.append(_finding(
            "tptk-attack", e.verdict, conf,
            f"{variant} attack on {mac_str(sess.sta)}: a message 1 arrived between two message 3 of one handshake"
            + (f" ({'; '.join(why)})" if why else "") + f"; {outcome}",
            device=mac_str(sess.sta), transmitter=mac_str(sess.bssid), receiver=mac_str(sess.sta),
            bssid=mac_str(sess.bssid), ssid=ctx.ssid(sess.bssid), evidence=tuple(refs),
            counts=(("patterns", len(sess.tptk)),), details=(("variant", variant),),
            benign=(Benign("a PTK rekey by an AP reusing its ANonce", same_rc or rand,
                           "; ".join(why) if why else "replay counters are consistent with a rekey"),),
            missing=tuple(e.missing)))
    return out


def _msg4_blocked(ctx: _Ctx) -> list[Finding]:
    out = []
    for sess in ctx.az.sessions.values():
        pairs = sess.m4_then_m3
        if not pairs:
            continue
        other_channel = [(m4, m3) for m4, m3 in pairs
                         if m4.freq and m3.freq and m4.freq != m3.freq or
                         (not (m4.freq and m3.freq) and m4.rec.interface != m3.rec.interface)]
        if len(pairs) < 2 and not other_channel:
            continue  # one retransmission after a lost message 4 is routine
        conf = Confidence.HIGH if other_channel else Confidence.MEDIUM
        # The attack's outcome: how the client reacted to every message 3 that reached it.
        evals = [(t, evaluate(ctx, t)) for t in _msg3_triggers(sess)]
        verdict, _c, missing = _combine(evals) if evals else (
            Verdict.INCONCLUSIVE, Confidence.LOW, ["a repeated message 3 reaching the client"])
        refs = []
        for m4, m3 in (other_channel or pairs)[:4]:
            refs.append(ctx.ref_msg(m4, "answer", "message 4 sent by the client"))
            refs.append(ctx.ref_msg(m3, "trigger", "message 3 retransmitted by the AP anyway"))
        where = (f"; message 4 was heard only on another channel than the AP's message 3 "
                 f"({other_channel[0][0].freq or 'interface ' + str(other_channel[0][0].rec.interface)} vs "
                 f"{other_channel[0][1].freq or 'interface ' + str(other_channel[0][1].rec.interface)})"
                 if other_channel else "")
        out.append(_finding(
            "msg4-blocked", verdict, conf,
            f"{mac_str(sess.sta)} answered message 3 with message 4 {len(pairs)} time(s), yet {mac_str(sess.bssid)} "
            f"kept retransmitting message 3{where}",
            device=mac_str(sess.sta), transmitter=mac_str(sess.sta), receiver=mac_str(sess.bssid),
            bssid=mac_str(sess.bssid), ssid=ctx.ssid(sess.bssid), evidence=tuple(refs),
            counts=(("message4_then_message3", len(pairs)),),
            benign=(Benign("message 4 lost on the air", bool(other_channel) or len(pairs) >= 3,
                           "message 4 was transmitted on another channel" if other_channel else
                           f"lost {len(pairs)} times in a row"),),
            missing=tuple(missing)))
    return out


def _msg3_retransmission(ctx: _Ctx) -> list[Finding]:
    out = []
    for sess in ctx.az.sessions.values():
        ts = _msg3_triggers(sess)
        if not ts:
            continue
        evals = [(t, evaluate(ctx, t)) for t in ts]
        verdict, conf, missing = _combine(evals)
        refs = []
        for t, _e in evals[:4]:
            m = t.details.get("message_obj")
            if isinstance(m, Message):
                refs.append(ctx.ref_msg(m, "trigger"))
        out.append(_finding(
            "msg3-retransmission", verdict, conf,
            f"{mac_str(sess.bssid)} sent message 3 again {len(ts)} time(s) with the same ANonce to {mac_str(sess.sta)}",
            device=mac_str(sess.sta), transmitter=mac_str(sess.bssid), receiver=mac_str(sess.sta),
            bssid=mac_str(sess.bssid), ssid=ctx.ssid(sess.bssid), evidence=tuple(refs),
            counts=(("retransmissions", sess.n_triggers),),
            benign=(Benign("message 4 lost on the air", False, "routine; see ptk-reinstall-4way for the client"),),
            missing=tuple(missing)))
    return out


def _gtk(ctx: _Ctx) -> list[Finding]:
    out = []
    az = ctx.az
    done: set[bytes] = set()
    for bss in az.bsses.values():
        for t in bss.group_triggers:
            if t.kind != "gtk":
                continue
            sess = t.session
            sta = sess.sta
            if sta is None or (bss.bssid + sta) in done:
                continue
            done.add(bss.bssid + sta)
            m = t.details.get("message_obj")
            later = [w for w in az.replay_watch if w[0] is bss and w[1].cur[2] > t.gno]
            answered = [w for w in later if w[4] is True and any(a[2] == sta for a in w[5])]
            ignored = [w for w in later if w[4] is False and w[6] in (sta, None)]
            refs = [ctx.ref_msg(m, "trigger", f"re-delivers the GTK in use (key id {t.details['key_id']}) with Key "
                                              f"RSC {t.details['rsc']} below PN {t.details['sent']} already sent")]
            missing: list[str] = []
            if answered:
                w = answered[0]
                verdict, conf = Verdict.VULNERABLE, Confidence.HIGH
                refs += [ctx.ref_entry(w[1].orig, "original", "broadcast ARP request"),
                         ctx.ref_entry(w[1].cur, "replay", "the same frame replayed"),
                         ctx.ref_rec(w[5][0][0], w[5][0][1], "answer", "the client's ARP reply to the replay")]
                summary = (f"{mac_str(sta)} accepted a replayed broadcast after the group key was re-delivered with an "
                           "old Key RSC: it reinstalled the GTK")
            elif ignored:
                w = ignored[0]
                verdict, conf = Verdict.NOT_VULNERABLE, Confidence.MEDIUM
                refs += [ctx.ref_entry(w[1].cur, "replay", "replayed broadcast ARP request, not answered")]
                summary = (f"{mac_str(sta)} did not answer a replayed broadcast after the group key was re-delivered "
                           "with an old Key RSC: it did not reinstall the GTK")
            else:
                verdict, conf = Verdict.INCONCLUSIVE, Confidence.LOW
                summary = (f"the group key in use was re-delivered to {mac_str(sta)} with a Key RSC going back "
                           "(a group key reinstallation attempt); no replayed broadcast shows the client's reaction")
                missing.append("a replayed broadcast ARP request for the client's address after the re-delivery "
                               "(its answer or silence tells)")
            out.append(_finding(
                "gtk-reinstall", verdict, conf, summary,
                cves=(cve(13078),) if isinstance(m, Message) and m.name == "M3" else (cve(13080),),
                device=mac_str(sta), transmitter=mac_str(bss.bssid), receiver=mac_str(sta), bssid=mac_str(bss.bssid),
                ssid=ctx.ssid(bss.bssid), evidence=tuple(refs),
                details=(("key_id", str(t.details["key_id"])), ("key_rsc", str(t.details["rsc"])),
                         ("highest_group_pn_sent", str(t.details["sent"]))),
                benign=(Benign("a retransmission of the message after a lost reply", True,
                               "its Key RSC is below packet numbers the AP had already used"),
                        Benign("the client answered a new broadcast, not the replay", True,
                               "an answer counts only before the next genuine request for its address")),
                missing=tuple(missing)))
    return out


def _group_replay(ctx: _Ctx) -> list[Finding]:
    out = []
    az = ctx.az
    gtk_victims = {(t.session.sta) for bss in az.bsses.values() for t in bss.group_triggers if t.kind == "gtk"}
    for st in az.gstreams.values():
        evs = [e for e in st.events if e.kind in ("identical", "reuse", "restart")]
        if not evs:
            continue
        replays = [e for e in evs if e.kind == "identical"]
        reuse = [e for e in evs if e.kind != "identical"]
        refs = []
        for e in (replays + reuse)[:_MAX_PAIRS]:
            if e.orig is not None:
                refs.append(ctx.ref_entry(e.orig, "original"))
            refs.append(ctx.ref_entry(e.cur, "replay" if e.kind == "identical" else "reuse", _event_text(e)))
        confirmed = [e for e in reuse if e.proof is not None and e.proof[3]]
        if confirmed:
            verdict, conf = Verdict.VULNERABLE, Confidence.HIGH
            summary = f"{mac_str(st.ta)} reused group packet numbers under one group key (keystream reuse, decrypted)"
        elif reuse and not replays:
            verdict, conf = Verdict.INCONCLUSIVE, Confidence.LOW
            summary = (f"{mac_str(st.ta)}'s group packet numbers (key id {st.kid}) went back with different "
                       "ciphertext: group keystream reuse, or a new group key under the same key id")
        else:
            verdict, conf = Verdict.INCONCLUSIVE, Confidence.HIGH
            summary = (f"{len(replays)} group-addressed frame(s) of {mac_str(st.ta)} were replayed byte for byte "
                       "(a broadcast replay, the second half of a group key reinstallation attack)")
        out.append(_finding(
            "group-replay", verdict, conf, summary, device=mac_str(st.ta), transmitter=mac_str(st.ta),
            receiver="ff:ff:ff:ff:ff:ff", bssid=mac_str(st.ta), ssid=ctx.ssid(st.ta), evidence=tuple(refs),
            counts=(("replayed", len(replays)), ("reused", len(reuse)), ("copies", st.relays)),
            details=(("key_id", str(st.kid)),),
            benign=(Benign("the same transmission captured twice", True,
                           "same interface and channel, or more than 0.25 s apart"),
                    Benign("a new group key under the same key id", bool(confirmed),
                           "both decrypt under one GTK" if confirmed else "possible without the GTK")),
            missing=() if confirmed or replays else ("the passphrase (to learn the GTK and decrypt both frames)",)))
    # Stations answering a replayed broadcast with no group key re-delivery before: no replay check at all;
    # stations that answer requests for their address but ignored the replayed one: they check replays.
    seen: set[bytes] = set()
    for w in az.replay_watch:
        owner = w[6]
        if w[4] is False and owner is not None and owner not in gtk_victims and owner not in seen:
            seen.add(owner)
            out.append(_finding(
                "group-replay", Verdict.NOT_VULNERABLE, Confidence.MEDIUM,
                f"{mac_str(owner)} answers ARP requests for its address but ignored a replayed one: it drops "
                "replayed broadcast frames",
                cves=(), device=mac_str(owner), transmitter=mac_str(w[1].stream.ta), receiver=mac_str(owner),
                bssid=mac_str(w[0].bssid), ssid=ctx.ssid(w[0].bssid),
                evidence=(ctx.ref_entry(w[1].orig, "original", "broadcast ARP request"),
                          ctx.ref_entry(w[1].cur, "replay", "the same frame replayed, not answered before the "
                                                            "next genuine request")),
                benign=(Benign("the station was not listening (asleep, out of range)", False,
                               "possible; a reply to the genuine requests before and after shows it was there"),)))
            continue
        if w[4] is not True:
            continue
        for gno, rec, sta in w[5]:
            if sta in gtk_victims or sta in seen:
                continue
            seen.add(sta)
            out.append(_finding(
                "group-replay", Verdict.VULNERABLE, Confidence.HIGH,
                f"{mac_str(sta)} answered a replayed broadcast ARP request with no group key reinstallation before "
                "it: it accepts replayed broadcast frames (no replay check)",
                cves=(), device=mac_str(sta), transmitter=mac_str(w[1].stream.ta), receiver=mac_str(sta),
                bssid=mac_str(w[0].bssid), ssid=ctx.ssid(w[0].bssid),
                evidence=(ctx.ref_entry(w[1].orig, "original", "broadcast ARP request"),
                          ctx.ref_entry(w[1].cur, "replay", "the same frame replayed"),
                          ctx.ref_rec(gno, rec, "answer", "the station's ARP reply to the replay")),
                benign=(Benign("the station answered a new request", True,
                               "its answer came before the next genuine request for its address"),)))
    return out


def _igtk(ctx: _Ctx) -> list[Finding]:
    out = []
    az = ctx.az
    for _maxipn, _kept, events, ta, kid in az.bip.values():
        if not events:
            continue
        refs = []
        for kind, ipn, gno, rec, orig in events[:_MAX_PAIRS]:
            if orig is not None:
                refs.append(ctx.ref_rec(orig[1], orig[2], "original", f"IPN {ipn}"))
            refs.append(ctx.ref_rec(gno, rec, "replay" if kind == "identical" else "reuse",
                                    f"IPN {ipn} again ({kind})"))
        replays = sum(1 for ev in events if ev[0] == "identical")
        out.append(_finding(
            "igtk-reinstall", Verdict.INCONCLUSIVE, Confidence.MEDIUM,
            f"BIP-protected group management frames of {mac_str(ta)} (IGTK key id {kid}) repeated an IPN "
            f"{len(events)} time(s) ({replays} byte-identical replays)",
            device=mac_str(ta), transmitter=mac_str(ta), receiver="ff:ff:ff:ff:ff:ff", bssid=mac_str(ta),
            ssid=ctx.ssid(ta), evidence=tuple(refs), counts=(("events", len(events)), ("replays", replays)),
            benign=(Benign("the same transmission captured twice", True, "same interface and channel"),),
            missing=(("a station's reaction to the replayed frame (see the igtk-reinstall finding about each "
                      "client: a replayed Radio Measurement Request it answers, or ignores)"),)))
    # One verdict per client: the IGTK re-deliveries it got, and how it reacted to replayed requests.
    clients: dict[tuple[bytes, bytes], list[Trigger]] = {}
    for bss in az.bsses.values():
        for t in bss.group_triggers:
            if t.kind == "igtk" and t.session.sta is not None:
                clients.setdefault((bss.bssid, t.session.sta), []).append(t)
    replayed = {r[0] for r in az.rm_replays}
    for key in (*az.rm_reports, *az.rm_unread):
        if key[6:] in replayed:
            clients.setdefault((key[6:], key[:6]), [])
    for (ap, sta), triggers in clients.items():
        out.append(_igtk_client(ctx, ap, sta, triggers))
    return out


def _igtk_client(ctx: _Ctx, ap: bytes, sta: bytes, triggers: list[Trigger]) -> Finding:
    """The IGTK verdict about one client. Accepting a replayed BIP frame is invisible unless the frame asks
    for an answer: a group-addressed Radio Measurement Request does (every associated client answers it with
    a Radio Measurement Report carrying the request's dialog token, 9.6.6). A report with the dialog token of
    a replayed request, beyond the one answering the original, within the request's report window, means the
    client accepted the replay: its IPN replay check had been reset (``vulnerable``). No such report while
    it answers genuine requests, over a capture that covers the window: it dropped the replay
    (``not_vulnerable``)."""
    az = ctx.az
    reports = az.rm_reports.get(sta + ap, [])
    unread = az.rm_unread.get(sta + ap, [])
    requests = az.rm_requests.get(ap, [])
    last_ts = az.stats.last_ts or 0
    answered = [(g, x) for g in requests for x in reports if x[1] == g[1] and g[0] <= x[0] <= g[0] + g[2]]
    accepted: list[tuple[list, list]] = []
    cleared: list[list] = []
    missing: list[str] = []
    for rp in (r for r in az.rm_replays if r[0] == ap):
        _ap, ts, token, window, _gno, _rec, o_ts, _ogno, _orec = rp
        mine = [x for x in reports if x[1] == token and x[0] > o_ts]
        pre = [x for x in mine if x[0] <= ts]
        post = [x for x in mine if ts < x[0] <= ts + window]
        if post and (pre or len(post) >= 2 or ts - o_ts > window):
            accepted.append((rp, post))
        elif post:
            missing.append("a report that can only answer the replay (the one seen may answer the original "
                           "request, sent moments before)")
        elif any(ts < u[0] <= ts + window for u in unread):
            missing.append(("the passphrase, to read" if not ctx.keys else "the key of") + " the protected Action "
                           "frames the client sent after the replay (one may be its report to the replay)")
        elif last_ts < ts + window:
            missing.append(f"the capture to run {window / 1e9:.2f} s past the replayed request (it ends "
                           f"{max(0, last_ts - ts) / 1e9:.3f} s after it)")
        elif not answered:
            missing.append("the passphrase, to read the client's protected Action frames (its Radio Measurement "
                           "Reports)" if unread and not ctx.keys else
                           "a Radio Measurement Report of the client to a genuine request (it may not answer "
                           "group-addressed requests at all)")
        else:
            cleared.append(rp)

    def trigger_before(gno: int) -> Trigger | None:
        return next((t for t in reversed(triggers) if t.gno < gno), None)

    refs: list[FrameRef] = []
    details = []
    if accepted:
        rp, post = accepted[0]
        t = trigger_before(rp[4])
        verdict = Verdict.VULNERABLE
        conf = Confidence.HIGH if t is not None else Confidence.MEDIUM
        summary = (f"{mac_str(sta)} answered a replayed Radio Measurement Request of {mac_str(ap)} (dialog token "
                   f"{rp[2]}) with a Radio Measurement Report {(post[0][0] - rp[1]) / 1e6:.0f} ms later, on top of "
                   "its answer to the original: it accepted a BIP frame whose IPN it had already seen")
        summary += (": it reinstalled the IGTK re-delivered with an IPN going back" if t is not None else
                    "; no IGTK re-delivery in the capture (it travelled unseen, or the client has no BIP replay "
                    "check at all)")
        refs += [ctx.ref_rec(rp[7], rp[8], "original", f"Radio Measurement Request, dialog token {rp[2]}"),
                 ctx.ref_rec(rp[4], rp[5], "replay", "the same BIP frame replayed"),
                 ctx.ref_rec(post[0][2], post[0][3], "answer", "the client's Radio Measurement Report to the replay "
                                                               "(decrypted)")]
    elif cleared:
        rp = cleared[0]
        t = trigger_before(rp[4])
        after = any(g[0] > rp[1] for g, _x in answered)
        verdict, conf = Verdict.NOT_VULNERABLE, Confidence.HIGH if after else Confidence.MEDIUM
        summary = (f"{mac_str(sta)} answers {mac_str(ap)}'s Radio Measurement Requests but sent no report to a "
                   f"replayed one (dialog token {rp[2]}) within {rp[3] / 1e9:.2f} s: it dropped the replayed BIP "
                   "frame" + (" after the IGTK was re-delivered with an IPN going back: it did not reinstall it"
                              if t is not None else ""))
        refs += [ctx.ref_rec(rp[7], rp[8], "original", f"Radio Measurement Request, dialog token {rp[2]}"),
                 ctx.ref_rec(rp[4], rp[5], "replay", "the same BIP frame replayed, not answered")]
        _g, x = answered[-1]
        refs.append(ctx.ref_rec(x[2], x[3], "answer", f"the client's report to a genuine request (dialog token "
                                                      f"{x[1]})"))
    else:
        t = triggers[-1] if triggers else None
        verdict, conf = Verdict.INCONCLUSIVE, Confidence.MEDIUM if t is not None else Confidence.LOW
        if t is not None:
            summary = (f"the IGTK in use was re-delivered to {mac_str(sta)} with IPN {t.details['ipn']} below "
                       f"{t.details['sent']} already used (an IGTK reinstallation attempt); the client's reaction "
                       "cannot be told from this capture")
        else:
            summary = (f"a Radio Measurement Request of {mac_str(ap)} was replayed; {mac_str(sta)}'s reaction "
                       "cannot be told from this capture")
        if not az.rm_replays or all(r[0] != ap for r in az.rm_replays):
            missing.append("a replayed BIP-protected Radio Measurement Request after the re-delivery (the "
                           "client's report to it, or its silence, tells)")
    if t is not None:
        m = t.details.get("message_obj")
        if isinstance(m, Message):
            refs.insert(0, ctx.ref_msg(m, "trigger", f"re-delivers the IGTK in use (key id {t.details['key_id']}) "
                                                     f"with IPN {t.details['ipn']}"))
        cves = (cve(13079),) if isinstance(m, Message) and m.name == "M3" else (cve(13081),)
        details = [("key_id", str(t.details["key_id"])), ("ipn", str(t.details["ipn"])),
                   ("highest_ipn_sent", str(t.details["sent"]))]
    else:
        cves = RULES["igtk-reinstall"].cves
    return _finding(
        "igtk-reinstall", verdict, conf, summary, cves=cves, device=mac_str(sta), transmitter=mac_str(ap),
        receiver=mac_str(sta), bssid=mac_str(ap), ssid=ctx.ssid(ap), evidence=tuple(refs), details=tuple(details),
        counts=(("replayed_requests", sum(1 for r in az.rm_replays if r[0] == ap)),
                ("reports", len(reports)), ("unread_action_frames", len(unread))),
        benign=(Benign("the report answers the original request, not the replay", True,
                       "a report counts for the replay only beyond the one answering the original"),
                Benign("the client was not listening (asleep, out of range)", bool(accepted) or verdict ==
                       Verdict.INCONCLUSIVE or any(g[0] > cleared[0][1] for g, _x in answered),
                       "it answered a genuine request after the replay" if not accepted else
                       "it answered the replay itself")),
        missing=tuple(dict.fromkeys(missing)) if verdict == Verdict.INCONCLUSIVE else ())


def _clone(ctx: _Ctx) -> list[Finding]:
    out = []
    az = ctx.az
    for bss in az.bsses.values():
        multi = len(bss.ds_channels) >= 2
        if not multi and not bss.far:
            continue
        refs = []
        for ch, (count, gno, rec, freq) in sorted(bss.ds_channels.items()):
            refs.append(ctx.ref_rec(gno, rec, "beacon", f"announces channel {ch} ({count} beacons)"))
        for gno, rec, ch, freq in bss.far[:3]:
            refs.append(ctx.ref_rec(gno, rec, "beacon", f"announces channel {ch}, heard at {freq} MHz"))
        relayed = [(ta, rp) for ta, rp in az.relay_pairs.items()
                   if ta == bss.bssid or (az.sessions.get(min(ta, bss.bssid) + max(ta, bss.bssid)) is not None)]
        counts = [("channels", len(bss.ds_channels)), ("far_beacons", len(bss.far))]
        text = ""
        if relayed:
            n = sum(rp[0] for _, rp in relayed)
            counts.append(("relayed_frames", n))
            rp = relayed[0][1]
            refs.append(ctx.ref_entry(rp[3], "original", "frame"))
            refs.append(ctx.ref_entry(rp[4], "relay", "the same frame again on another channel/interface"))
            text = f"; {n} frames of its link(s) were relayed between channels"
        chans = ", ".join(str(c) for c in sorted(bss.ds_channels))
        adjacent = not multi and all(abs(f - (channel_to_freq(ch) or f)) <= 25 for _g, _r, ch, f in bss.far)
        conf = Confidence.HIGH if multi or relayed else (Confidence.LOW if adjacent else Confidence.MEDIUM)
        out.append(_finding(
            "bssid-clone", Verdict.INCONCLUSIVE, conf,
            (f"beacons of {mac_str(bss.bssid)} announce channels {chans}" if multi else
             f"beacons of {mac_str(bss.bssid)} are heard far from the channel they announce") + text
            + ": a clone of the AP on another channel (channel-based man-in-the-middle)",
            device=mac_str(bss.bssid), transmitter=mac_str(bss.bssid), bssid=mac_str(bss.bssid),
            ssid=ctx.ssid(bss.bssid), evidence=tuple(refs), counts=tuple(counts),
            benign=(Benign("adjacent-channel reception in 2.4 GHz", multi or not adjacent,
                           "two different channels are announced" if multi else "heard more than 25 MHz away"),
                    Benign("the AP moved to another channel", not bss.csa or multi,
                           "both channels are announced side by side")),
            missing=("reinstallation evidence against a client of this BSS (see the other findings)",)))
    return out


def _csa(ctx: _Ctx) -> list[Finding]:
    out = []
    for bss in ctx.az.bsses.values():
        if not bss.csa:
            continue
        targets = sorted({c[2] for c in bss.csa})
        cloned = any(t in bss.ds_channels for t in targets) and len(bss.ds_channels) >= 2
        pair = any(c[3] >= 2 for c in bss.csa) and any(c[3] == 1 for c in bss.csa)
        conf = Confidence.HIGH if cloned else (Confidence.MEDIUM if pair else Confidence.LOW)
        refs = [ctx.ref_rec(gno, rec, "csa", f"switch to channel {ch}, count {count}") for gno, rec, ch, count, _f
                in bss.csa[:4]]
        out.append(_finding(
            "csa-beacons", Verdict.INCONCLUSIVE, conf,
            f"{len(bss.csa)} channel switch announcement(s) for {mac_str(bss.bssid)} to channel(s) "
            f"{', '.join(map(str, targets))}" + ("; the same BSSID also beacons there (cloned)" if cloned else ""),
            device=mac_str(bss.bssid), transmitter=mac_str(bss.bssid), bssid=mac_str(bss.bssid),
            ssid=ctx.ssid(bss.bssid), evidence=tuple(refs), counts=(("announcements", len(bss.csa)),),
            benign=(Benign("a genuine channel switch (DFS)", cloned,
                           "the BSSID keeps beaconing on its old channel while a copy beacons on the new one"
                           if cloned else "cannot be excluded"),),
            missing=() if cloned else ("beacons of the same BSSID on the announced channel (a clone)",)))
    return out


def _weak(ctx: _Ctx, rule: str) -> list[Finding]:
    out = []
    for bss in ctx.az.bsses.values():
        sample = bss.sample or bss.wep_sample
        if rule == "weak-wep":
            hit = bss.wep or bss.wep_frames
            text = (f"{mac_str(bss.bssid)} uses WEP" + (f" ({bss.wep_frames} WEP-protected frames)"
                                                        if bss.wep_frames else " (announced)"))
        elif rule == "weak-tkip":
            hit = bss.tkip
            text = (f"{mac_str(bss.bssid)} offers TKIP (pairwise: {', '.join(bss.pairwise) or '-'}; "
                    f"group: {bss.group_cipher or '-'})")
        elif rule == "weak-wpa1":
            hit = bss.wpa1
            text = f"{mac_str(bss.bssid)} announces WPA (version 1)"
        else:
            hit = bss.ft
            text = (f"{mac_str(bss.bssid)} announces 802.11r (FT): its FT implementation must carry the 2017 fix "
                    "(hostapd 0e3bd7ac6) or it reinstalls the PTK on a replayed Reassociation Request")
        if not hit or sample is None:
            continue
        verdict = Verdict.VULNERABLE
        conf = Confidence.HIGH
        missing: tuple[str, ...] = ()
        if rule == "ft-enabled":
            verdict, conf = Verdict.INCONCLUSIVE, Confidence.LOW
            missing = (("an FT Reassociation Request replayed to this AP in the capture (ft-reassoc-replay), or "
                        "`krackwatch lab test-ap` against the same implementation"),)
            replays = [t for sess in ctx.az.sessions.values() if sess.bssid == bss.bssid
                       for t in sess.triggers if t.kind == "ft-reassoc"]
            if replays:
                # The capture holds the answer: a replayed Reassociation Request reached this AP.
                verdict, conf, _missing = _combine([(t, evaluate(ctx, t)) for t in replays])
                missing = tuple(_missing)
                text += f"; a replayed Reassociation Request in this capture shows it is {verdict.value}"
        out.append(_finding(
            rule, verdict, conf, text, device=mac_str(bss.bssid), transmitter=mac_str(bss.bssid),
            bssid=mac_str(bss.bssid), ssid=ctx.ssid(bss.bssid),
            evidence=(ctx.ref_rec(sample[0], sample[1], "beacon" if bss.sample else "frame"),),
            details=(("security", bss.security or "-"), ("pairwise", ",".join(bss.pairwise) or "-"),
                     ("group", bss.group_cipher or "-"), ("pmf", bss.pmf)),
            missing=missing))
    return out


_DRAWERS = (
    ("pairwise-nonce-reuse", _pairwise_reuse),
    ("ptk-reinstall-4way", _ptk_4way),
    ("zero-tk", _zero_tk),
    ("gtk-reinstall", _gtk),
    ("group-replay", _group_replay),
    ("igtk-reinstall", _igtk),
    ("ft-reassoc-replay", _ft),
    ("tptk-attack", _tptk),
    ("msg4-blocked", _msg4_blocked),
    ("bssid-clone", _clone),
    ("csa-beacons", _csa),
    ("msg3-retransmission", _msg3_retransmission),
    ("unicast-replay", _unicast_replay),
    ("weak-wep", lambda c: _weak(c, "weak-wep")),
    ("weak-tkip", lambda c: _weak(c, "weak-tkip")),
    ("weak-wpa1", lambda c: _weak(c, "weak-wpa1")),
    ("ft-enabled", lambda c: _weak(c, "ft-enabled")),
)


def _apply_preflight(pf: Preflight, f: Finding) -> Finding:
    """A negative verdict resting on a failed check becomes inconclusive; a positive one keeps its evidence
    but says what it rests on."""
    failed = tuple(c for c in RULES[f.rule].depends_on if pf.failed_for(c, f.device, f.transmitter))
    if not failed:
        return f
    if f.verdict == Verdict.NOT_VULNERABLE:
        return replace(f, verdict=Verdict.INCONCLUSIVE, confidence=Confidence.LOW, depends_on=failed,
                       summary=f.summary + f" -- but preflight check(s) {', '.join(failed)} failed, so this cannot "
                                           "clear the device",
                       missing=f.missing + tuple(f"a capture passing the {c} check" for c in failed))
    return replace(f, depends_on=failed, confidence=min(f.confidence, Confidence.MEDIUM))


def draw_findings(az: Analyzer, pf: Preflight) -> list[Finding]:
    ctx = _Ctx(az, pf)
    out: list[Finding] = []
    for rule, drawer in _DRAWERS:
        if rule in az.rules:
            out.extend(_apply_preflight(pf, f) for f in drawer(ctx))
    order = {r: i for i, r in enumerate(RULES)}
    out.sort(key=lambda f: (order[f.rule], f.device or "", f.receiver or "", f.frames[:1]))
    return out
