"""Ground truth from the lab: every scenario run against every profile it applies to leaves a capture, and the
passive analysis of that capture (with the lab's passphrase, as an analyst who holds the network key) must
reach the verdict the run proved -- the lab decides from the victim station's own record of what it accepted,
never from what detect sees.

Vulnerable runs must be caught with the scenario's CVE on the attacked device; runs the attack failed against
must clear the device (a ``not_vulnerable`` verdict) and never call it vulnerable. That holds for ``igtk`` too:
the replayed BIP-protected frame is a group-addressed Radio Measurement Request, which a client answers with a
Radio Measurement Report under its PTK -- a second report with the replayed request's dialog token shows it
accepted the replay, silence while it answers genuine requests shows it dropped it.
"""

from __future__ import annotations

from krackwatch.decrypt import keys
from krackwatch.detect import RuleKind, Verdict, analyse
from krackwatch.lab import SCENARIOS, run_scenario, write_pcapng
from krackwatch.protocol.profile import PRESETS

# scenario -> the rule whose verdict about the attacked device answers it
DECIDING_RULE = {
    "fourway": "ptk-reinstall-4way",
    "tptk": "ptk-reinstall-4way",
    "tptk-rand": "ptk-reinstall-4way",
    "group": "gtk-reinstall",
    "igtk": "igtk-reinstall",
    "ft": "ft-reassoc-replay",
    "replay-broadcast": "group-replay",
}


def _runs():
    for s in SCENARIOS:
        for p in PRESETS:
            yield s, p


def test_every_scenario_and_profile(tmp_path) -> None:
    assert set(DECIDING_RULE) == set(SCENARIOS)
    checked = mismatches = 0
    problems = []
    for scenario, profile in _runs():
        r = run_scenario(scenario, profile, seed=1)
        if r.verdict.value == "not_applicable":
            continue
        truth = r.to_dict()
        victim = truth["victim"]
        path = tmp_path / f"{scenario}-{profile}.pcapng"
        with open(path, "wb") as f:
            write_pcapng(r.frames, f)
        ring = keys.KeyRing.of([keys.passphrase(truth["passphrase"], truth["ssid"])])
        a = analyse([path], ring)
        about = [f for f in a.findings if f.device == victim]
        vulnerable = [f for f in about if f.verdict == Verdict.VULNERABLE
                      and (f.kind == RuleKind.REINSTALLATION or f.rule == DECIDING_RULE[scenario])]
        deciding = [f for f in about if f.rule == DECIDING_RULE[scenario]]
        checked += 1
        why = f"{scenario} x {profile} (lab: {truth['verdict']}): " + \
            "; ".join(f"{f.rule}={f.verdict.value}" for f in about)
        if truth["verdict"] == "vulnerable":
            # caught with the scenario's CVE (fourway against wpa_supplicant 2.6 is the GTK part, 13078)
            want = set(truth["cves"]) or {c for f in deciding for c in f.cves} or {""}
            ok = any(set(f.cves) & want or (not f.cves and not truth["cves"]) for f in vulnerable)
            if scenario != "fourway":
                ok = ok and any(f.verdict == Verdict.VULNERABLE for f in deciding)
        else:
            ok = not vulnerable and any(f.verdict == Verdict.NOT_VULNERABLE for f in deciding)
        if not ok:
            mismatches += 1
            problems.append(why)
    assert checked >= 90  # 17 profiles x 7 scenarios, minus the ones a profile cannot take part in
    assert not problems, "\n".join(problems)


def test_detect_does_not_import_lab() -> None:
    """The layering rule: detect and lab never import each other (only this test uses both)."""
    import ast
    from pathlib import Path

    from krackwatch import detect

    for path in Path(detect.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("krackwatch.lab", "krackwatch.fleet", "krackwatch.report",
                                            "krackwatch.cli")), f"{path.name} imports {name}"


def test_plaintext_msg3_attacks_are_judged_without_the_key(tmp_path) -> None:
    """The plaintext message 3 attacks (retransmission, quick race) leave the client's own packet numbers on the
    air: every attempt is judged without any key, by the lab's per-attempt ground truth."""
    checked = 0
    problems = []
    for profile in PRESETS:
        r = run_scenario("fourway", profile, seed=1)
        if r.verdict.value == "not_applicable":
            continue
        victim = r.to_dict()["victim"]
        for attempt in r.attempts:
            if "plaintext" not in attempt.outcome.variant:
                continue  # the encrypted race needs the key: its handshake travels encrypted
            path = tmp_path / "c.pcapng"
            with open(path, "wb") as f:
                write_pcapng(attempt.frames, f)
            a = analyse([path])
            verdicts = {f.verdict for f in a.findings if f.device == victim and f.kind == RuleKind.REINSTALLATION}
            ptk = [f for f in a.findings if f.rule == "ptk-reinstall-4way" and f.device == victim]
            broke_ptk = attempt.truth["victim_reinstalls"] > 0 and "group-addressed" not in " ".join(
                attempt.outcome.achieved)
            checked += 1
            if broke_ptk and Verdict.VULNERABLE not in verdicts:
                problems.append(f"{profile} {attempt.outcome.variant}: missed ({verdicts})")
            if not attempt.outcome.success and (Verdict.VULNERABLE in verdicts
                                                or not any(f.verdict == Verdict.NOT_VULNERABLE for f in ptk)):
                problems.append(f"{profile} {attempt.outcome.variant}: not cleared ({verdicts})")
    assert checked >= 20
    assert not problems, "\n".join(problems)
