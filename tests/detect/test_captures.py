"""Real captures (tests/data/captures, MANIFEST.tsv): nothing in them is a key reinstallation -- the linksys
WPA2 capture restarts its PNs after each of its three handshakes, which per-key tracking must not flag --
while the krackattacks-scripts TPTK example is reported as the attack it is (research/protocol.md 1.8)."""

from __future__ import annotations

import pytest
from kwtest import CAPTURES, manifest, manifest_entry

from krackwatch.decrypt import keys
from krackwatch.detect import CheckStatus, RuleKind, Verdict, analyse, select_rules

ENTRIES = [e for e in manifest() if e.filename != "wpaclean_crash.pcap"]
TPTK = "example-tptk-attack.pcapng"


def keyring(entry):
    if not entry.passphrase:
        return None
    return keys.KeyRing.of([keys.passphrase(entry.passphrase, entry.ssid)])


@pytest.mark.parametrize("with_keys", [False, True], ids=["no-key", "key"])
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.filename for e in ENTRIES])
def test_no_reinstallation_in_real_captures(entry, with_keys) -> None:
    a = analyse([entry.path], keyring(entry) if with_keys else None, rules=select_rules(["all"]))
    assert a.frames == entry.tshark_frames()
    vulnerable = [f for f in a.findings if f.kind == RuleKind.REINSTALLATION and f.verdict == Verdict.VULNERABLE]
    assert not vulnerable, [(f.rule, f.summary) for f in vulnerable]
    if entry.filename != TPTK:
        assert not [f for f in a.findings if f.kind != RuleKind.CONFIGURATION and f.rule != "msg3-retransmission"], \
            [(f.rule, f.verdict, f.summary) for f in a.findings]


def test_linksys_three_handshakes_are_three_keys() -> None:
    entry = manifest_entry("wpa2-psk-linksys.cap")
    for ring in (None, keyring(entry)):
        a = analyse([entry.path], ring)
        assert not [f for f in a.findings if f.rule == "pairwise-nonce-reuse"]
        assert dict(a.counts)["retransmissions"] >= 3  # frames 282-284: Retry copies of frame 281
        assert a.preflight.check("handshakes").status == CheckStatus.PASS


@pytest.mark.parametrize("with_keys", [False, True], ids=["no-key", "key"])
def test_tptk_example_reports_the_attack(with_keys) -> None:
    entry = manifest_entry(TPTK)
    a = analyse([entry.path], keyring(entry) if with_keys else None)
    (f,) = [f for f in a.findings if f.rule == "tptk-attack"]
    # research 1.8: frame 97 message 3 (RC 2), 99 the forged message 1 (same ANonce, RC 3), 101 message 3 again
    # (RC 3); the client's encrypted replies 105/107 come before it could show a restarted PN.
    assert {97, 99, 101} <= set(f.frames)
    roles = {e.frame: e.role for e in f.evidence}
    assert roles[99] == "attack" and roles[101] == "trigger"
    assert f.device == "02:00:00:00:01:00" and f.confidence.label == "high"
    assert dict(f.details)["variant"] == "TPTK" and f.cves == ("CVE-2017-13077",)
    assert f.verdict == Verdict.INCONCLUSIVE and f.missing  # nothing from the client after its last answer
    assert f.at_or_above(f.severity)  # an attack on the air fails the run
    if with_keys:
        assert 107 in {e.frame for e in f.evidence if e.role == "answer"}  # the decrypted message 4 (RC 3)
    assert a.preflight.check("handshakes").status == CheckStatus.PASS


def test_damaged_prism_record_is_skipped() -> None:
    a = analyse([CAPTURES / "wpaclean_crash.pcap"])
    assert a.frames == 1 and not a.findings
    assert a.preflight.check("linktype").status == CheckStatus.WARN
