"""Each detector against synthetic captures with real crypto whose truth the builder knows (krack_synth.py):
which frames reuse which packet numbers, which plaintexts they carry, what was repeated or replayed."""

from __future__ import annotations

import io

import pytest
from decrypt import synth
from detect import krack_synth as ks

from krackwatch.detect import Analysis, CheckStatus, RuleKind, Verdict, analyse, select_rules
from krackwatch.wire import PcapngWriter, PcapWriter

STA = synth.mac_text(synth.STA)
AP1 = synth.mac_text(synth.AP1)
AP2 = synth.mac_text(synth.AP2)


def run(built: ks.Built, tmp_path, *, keys: bool, rules=None, name: str = "cap.pcapng") -> Analysis:
    path = tmp_path / name
    built.capture.write(path)
    return analyse([path], built.capture.keyring if keys else None, rules=rules)


def only(a: Analysis, rule: str, device: str | None = None):
    found = [f for f in a.findings if f.rule == rule and (device is None or f.device == device)]
    assert len(found) == 1, [(f.rule, f.device, f.verdict) for f in a.findings]
    return found[0]


def rules_of(a: Analysis) -> set[str]:
    return {f.rule for f in a.findings}


def roles(f, role: str) -> set[int]:
    return {e.frame for e in f.evidence if e.role == role}


# ------------------------------------------------------------------------------------------ 4-way handshake


@pytest.mark.parametrize("keys", [False, True], ids=["no-key", "key"])
def test_repeated_msg3_then_pn_restart_is_a_reinstallation(tmp_path, keys) -> None:
    b = ks.fourway("reinstall")
    a = run(b, tmp_path, keys=keys)
    f = only(a, "ptk-reinstall-4way")
    assert f.verdict == Verdict.VULNERABLE and f.device == STA and f.cves == ("CVE-2017-13077",)
    assert b.marks["m3-again"][0] in roles(f, "trigger")
    # The reuse pairs are the builder's: frame k after the trigger repeats the PN of frame k before it.
    reuse = only(a, "pairwise-nonce-reuse", STA)
    assert reuse.verdict == Verdict.VULNERABLE
    pairs = {(e.pn, e.frame) for e in reuse.evidence}
    for before, after in zip(b.marks["before"], b.marks["after"], strict=False):
        pn = 1 + b.marks["before"].index(before)
        assert (pn, before) in pairs and (pn, after) in pairs
    assert not any(f.verdict == Verdict.VULNERABLE for f in a.findings if f.device == AP1)


def test_keystream_reuse_is_confirmed_by_decryption(tmp_path) -> None:
    b = ks.fourway("reinstall")
    f = only(run(b, tmp_path, keys=True), "pairwise-nonce-reuse", STA)
    p = f.proof
    assert p is not None and p.equal
    first, second = p.frames
    # Independent truth: the builder's plaintexts of the two frames.
    p1, p2 = b.plaintexts[first], b.plaintexts[second]
    n = min(len(p1), len(p2))
    assert p.plaintext_xor == bytes(x ^ y for x, y in zip(p1[:n], p2[:n], strict=True))[:32].hex()
    assert p.ciphertext_xor == p.plaintext_xor


def test_patched_client_keeps_counting_and_is_cleared(tmp_path) -> None:
    b = ks.fourway("patched")
    for keys in (False, True):
        a = run(b, tmp_path, keys=keys)
        f = only(a, "ptk-reinstall-4way")
        assert f.verdict == Verdict.NOT_VULNERABLE, f.summary
        assert not [x for x in a.findings if x.verdict == Verdict.VULNERABLE]
    assert b.marks["m4-reply"][0] in roles(f, "answer")  # with keys the answer is the decrypted message 4


def test_no_answer_to_the_repeat_is_inconclusive_and_says_why(tmp_path) -> None:
    f = only(run(ks.fourway("unanswered"), tmp_path, keys=False), "ptk-reinstall-4way")
    assert f.verdict == Verdict.INCONCLUSIVE and f.missing


@pytest.mark.parametrize("keys", [False, True], ids=["no-key", "key"])
def test_all_zero_tk_found_without_a_passphrase(tmp_path, keys) -> None:
    b = ks.fourway("zero")
    a = run(b, tmp_path, keys=keys)
    z = only(a, "zero-tk")
    assert z.verdict == Verdict.VULNERABLE and z.device == STA
    assert set(b.marks["after"]) <= roles(z, "zero-tk")
    assert only(a, "ptk-reinstall-4way").verdict == Verdict.VULNERABLE
    # Frames under another key are not "reuse under one key".
    assert "pairwise-nonce-reuse" not in rules_of(a)


def test_tptk_attack_pattern(tmp_path) -> None:
    b = ks.fourway("tptk")
    a = run(b, tmp_path, keys=False)
    f = only(a, "tptk-attack")
    assert f.kind == RuleKind.ATTACK and f.verdict == Verdict.VULNERABLE
    assert b.marks["forged-m1"][0] in f.frames and b.marks["m3-again"][0] in f.frames
    assert dict(f.details)["variant"] == "TPTK"
    assert "replay counter" in f.summary  # the forged message 1 shares the repeated message 3's
    assert "zero-tk" in rules_of(a)


def test_fresh_handshakes_restart_pns_without_a_finding(tmp_path) -> None:
    a = run(ks.rekey(protect=False), tmp_path, keys=False)
    assert not [f for f in a.findings if f.kind == RuleKind.REINSTALLATION]


def test_encrypted_rekey_needs_the_key_to_be_cleared(tmp_path) -> None:
    b = ks.rekey(protect=True)
    blind = only(run(b, tmp_path, keys=False), "pairwise-nonce-reuse")
    assert blind.verdict == Verdict.INCONCLUSIVE  # the handshake travelled encrypted: a new key is possible
    assert any(not x.ruled_out and "new key" in x.explanation for x in blind.benign)
    assert not run(b, tmp_path, keys=True).findings  # with the key: a new PTK, no reuse


def test_pn_restart_without_trigger(tmp_path) -> None:
    b = ks.silent_reuse()
    assert only(run(b, tmp_path, keys=False), "pairwise-nonce-reuse").verdict == Verdict.INCONCLUSIVE
    f = only(run(b, tmp_path, keys=True), "pairwise-nonce-reuse")
    assert f.verdict == Verdict.VULNERABLE and f.proof is not None and f.proof.equal


def test_replayed_frame_is_an_attack_not_a_reuse(tmp_path) -> None:
    b = ks.silent_reuse(identical_after=2.0)
    a = run(b, tmp_path, keys=False)
    f = only(a, "unicast-replay")
    assert b.marks["replay"][0] in roles(f, "replay") and f.verdict == Verdict.INCONCLUSIVE
    assert "pairwise-nonce-reuse" not in rules_of(a)


def test_mac_retransmissions_are_not_events(tmp_path) -> None:
    a = run(ks.retransmissions(), tmp_path, keys=False)
    assert not a.findings
    assert dict(a.counts)["retransmissions"] == 5  # the builder set Retry on five copies


# ------------------------------------------------------------------------------------------ group key


def test_group_key_reinstallation_seen_through_the_clients_answer(tmp_path) -> None:
    b = ks.group(answer_replay=True)
    f = only(run(b, tmp_path, keys=True), "gtk-reinstall")
    assert f.verdict == Verdict.VULNERABLE and f.device == STA and f.cves == ("CVE-2017-13080",)
    assert b.marks["replay"][0] in roles(f, "replay") and b.marks["answer"][0] in roles(f, "answer")
    assert dict(f.details)["key_rsc"] == "0"


def test_client_ignoring_the_replay_is_cleared(tmp_path) -> None:
    b = ks.group(answer_replay=False)
    a = run(b, tmp_path, keys=True)
    assert only(a, "gtk-reinstall").verdict == Verdict.NOT_VULNERABLE
    blind = run(b, tmp_path, keys=False)  # the replay is still seen; the re-delivery is encrypted
    g = only(blind, "group-replay")
    assert g.kind == RuleKind.ATTACK and b.marks["replay"][0] in roles(g, "replay")
    assert "gtk-reinstall" not in rules_of(blind)


# ------------------------------------------------------------------------------------------ FT


@pytest.mark.parametrize("vulnerable", [True, False], ids=["hostapd-2.6-like", "patched"])
def test_ft_reassociation_replay(tmp_path, vulnerable) -> None:
    b = ks.ft(vulnerable)
    a = run(b, tmp_path, keys=True)
    f = only(a, "ft-reassoc-replay")
    assert f.device == AP2 and f.cves == ("CVE-2017-13082",)
    assert f.verdict == (Verdict.VULNERABLE if vulnerable else Verdict.NOT_VULNERABLE)
    assert b.marks["replayed-reassoc"][0] in roles(f, "trigger") and b.marks["reassoc"][0] in roles(f, "original")
    assert only(a, "ft-enabled", AP2).verdict == f.verdict  # the capture itself answers the configuration question
    assert only(a, "ft-enabled", AP1).verdict == Verdict.INCONCLUSIVE


# ------------------------------------------------------------------------------------------ attacks, config


def test_clone_and_csa(tmp_path) -> None:
    b = ks.clone_csa()
    a = run(b, tmp_path, keys=False)
    clone = only(a, "bssid-clone")
    assert clone.device == AP1 and clone.confidence.label == "high"
    assert b.marks["clone"][0] in clone.frames
    csa = only(a, "csa-beacons")
    assert set(csa.frames) == set(b.marks["csa"]) and csa.confidence.label == "high"


def test_csa_alone_is_a_weak_hint(tmp_path) -> None:
    a = run(ks.clone_csa(clone=False), tmp_path, keys=False)
    assert "bssid-clone" not in rules_of(a)
    assert only(a, "csa-beacons").confidence.label == "medium"  # the count 2 then 1 pair of the PoC


def test_msg4_heard_only_on_another_channel(tmp_path) -> None:
    b = ks.msg4_elsewhere()
    f = only(run(b, tmp_path, keys=False), "msg4-blocked")
    assert f.confidence.label == "high" and {b.marks["m4"][0], b.marks["m3-again"][0]} <= set(f.frames)


def test_weak_configurations(tmp_path) -> None:
    a = run(ks.wpa1_tkip(), tmp_path, keys=False)
    assert only(a, "weak-wpa1").verdict == Verdict.VULNERABLE
    assert only(a, "weak-tkip").verdict == Verdict.VULNERABLE
    wep = synth.wep_network(40)
    wep.write(tmp_path / "wep.pcapng")
    f = only(analyse([tmp_path / "wep.pcapng"]), "weak-wep")
    assert f.verdict == Verdict.VULNERABLE and "WEP-protected frames" in f.summary


# ------------------------------------------------------------------------------------------ preflight


def test_hardware_decrypted_capture_cannot_clear(tmp_path) -> None:
    a = run(ks.hardware_decrypted(), tmp_path, keys=False)
    check = a.preflight.check("hardware_decryption")
    assert check.status == CheckStatus.FAIL and STA in check.affects
    f = only(a, "ptk-reinstall-4way")
    assert f.verdict == Verdict.INCONCLUSIVE and "hardware_decryption" in f.depends_on  # would be not_vulnerable


def test_frames_with_a_bad_fcs_are_left_out(tmp_path) -> None:
    air, bss, link = ks._network("fcs", fcs=True)
    built = ks.Built(ks._finish(air, bss))
    air.four_way(link, "hs1")
    ids = synth.Ids()
    ks._traffic(air, link, built, ids, 4, mark="before")
    first = air.records[built.marks["before"][0] - 1][1]
    frame = first[len(synth.radiotap(fcs=True)):-4]
    air.damaged(frame, at=30)  # the first frame again, a bit flipped: its PN now looks reused
    ks._traffic(air, link, built, ids, 2, mark="after")
    built.capture = ks._finish(air, bss)
    a = run(built, tmp_path, keys=False)
    assert not a.findings
    fcs = a.preflight.check("fcs")
    assert fcs.status == CheckStatus.PASS and dict(fcs.details)["bad_fcs"] == "1"


def test_rules_can_be_switched(tmp_path) -> None:
    b = ks.fourway("zero")
    assert "zero-tk" not in rules_of(run(b, tmp_path, keys=False, rules=select_rules(disable=["zero-tk"])))
    a = run(ks.fourway("patched"), tmp_path, keys=False, rules=select_rules(["msg3-retransmission"]))
    assert only(a, "msg3-retransmission").severity.label == "info"


def test_captures_in_several_files_are_one_analysis(tmp_path) -> None:
    """Split one capture into a pcap and a pcapng file: the same findings, numbered across both files."""
    b = ks.fourway("reinstall")
    whole = run(b, tmp_path, keys=False)
    records = b.capture.records
    cut = b.marks["m3-again"][0] - 1  # the trigger opens the second file
    first, second = io.BytesIO(), io.BytesIO()
    w = PcapWriter(first, 127)
    for ts, data in records[:cut]:
        w.write(ts, data)
    w2 = PcapngWriter(second)
    iface = w2.add_interface(127)
    for ts, data in records[cut:]:
        w2.write(iface, ts, data)
    (tmp_path / "a.pcap").write_bytes(first.getvalue())
    (tmp_path / "b.pcapng").write_bytes(second.getvalue())
    split = analyse([tmp_path / "a.pcap", tmp_path / "b.pcapng"])
    assert [(f.rule, f.verdict, f.frames) for f in split.findings] == \
        [(f.rule, f.verdict, f.frames) for f in whole.findings]
    trig = next(e for f in split.findings for e in f.evidence if e.role == "trigger")
    assert (trig.capture, trig.capture_frame) == (1, 1) and trig.frame == cut + 1
