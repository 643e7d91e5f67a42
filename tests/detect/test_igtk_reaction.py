"""The IGTK rule judges a client by its reaction to a replayed BIP-protected Radio Measurement Request: a
second Radio Measurement Report with the replayed request's dialog token (accepted), or none while it answers
genuine requests (dropped). Captures come from the lab, whose stations' own records are the truth; these tests
cut or edit the captures to check what the verdict rests on."""

from __future__ import annotations

from functools import cache

from krackwatch.decrypt import keys
from krackwatch.detect import Verdict, analyse
from krackwatch.lab import run_scenario, write_pcapng


@cache
def _group_attempt(profile: str):
    """The group key handshake attempt (AP installs immediately) of the igtk scenario, and its ground truth."""
    r = run_scenario("igtk", profile, seed=1)
    truth = r.to_dict()
    return r.attempts[0], truth


def _igtk(tmp_path, frames, truth, *, keyed: bool = True):
    path = tmp_path / "c.pcapng"
    with open(path, "wb") as f:
        write_pcapng(frames, f)
    ring = keys.KeyRing.of([keys.passphrase(truth["passphrase"], truth["ssid"])]) if keyed else None
    a = analyse([path], ring)
    found = [f for f in a.findings if f.rule == "igtk-reinstall" and f.device == truth["victim"]]
    assert len(found) == 1, found
    return found[0]


def _replay_time(attempt) -> float:
    return next(f.time for f in attempt.frames if f.comment and "replays" in f.comment)


def test_accepting_client_is_caught_and_patched_one_cleared(tmp_path) -> None:
    for profile, want in (("wpa_supplicant-2.6", Verdict.VULNERABLE), ("patched", Verdict.NOT_VULNERABLE)):
        attempt, truth = _group_attempt(profile)
        assert bool(attempt.outcome.replays_accepted) is (want == Verdict.VULNERABLE)  # the stations' truth
        f = _igtk(tmp_path, attempt.frames, truth)
        assert f.verdict == want, f.summary
        assert f.cves == ("CVE-2017-13081",)  # re-delivered by group message 1
        roles = {e.role for e in f.evidence}
        assert {"trigger", "original", "replay", "answer"} <= roles


def test_the_report_to_the_replay_is_the_evidence(tmp_path) -> None:
    """Remove the accepting client's frames after the replay: the same capture then shows a client that did not
    answer it, and nothing may call it vulnerable."""
    attempt, truth = _group_attempt("wpa_supplicant-2.6")
    t = _replay_time(attempt)
    victim = bytes.fromhex(truth["victim"].replace(":", ""))
    kept = tuple(f for f in attempt.frames if not (f.time > t and f.data[10:16] == victim))
    assert len(kept) < len(attempt.frames)
    f = _igtk(tmp_path, kept, truth)
    assert f.verdict == Verdict.NOT_VULNERABLE, f.summary


def test_capture_ending_before_the_report_window_is_inconclusive(tmp_path) -> None:
    attempt, truth = _group_attempt("patched")
    t = _replay_time(attempt)
    cut = tuple(f for f in attempt.frames if f.time <= t + 0.1)
    f = _igtk(tmp_path, cut, truth)
    assert f.verdict == Verdict.INCONCLUSIVE
    assert any("capture" in m for m in f.missing), f.missing


def test_without_the_passphrase_reports_cannot_be_read(tmp_path) -> None:
    for profile in ("wpa_supplicant-2.6", "patched"):
        attempt, truth = _group_attempt(profile)
        f = _igtk(tmp_path, attempt.frames, truth, keyed=False)
        assert f.verdict == Verdict.INCONCLUSIVE, f.summary
        assert any("passphrase" in m for m in f.missing), f.missing


def test_all_zero_tk_reports_are_read_without_any_key(tmp_path) -> None:
    """wpa_supplicant 2.4 installs an all-zero TK with the retransmitted message 3: its reports travel under that
    key, which the analysis tries on its own (the 4-way attempt of the igtk scenario)."""
    r = run_scenario("igtk", "wpa_supplicant-2.4", seed=1)
    attempt = next(a for a in r.attempts if a.outcome.variant.startswith("4-way"))
    assert attempt.outcome.replays_accepted and attempt.truth["victim_zero_tk_installs"]
    truth = r.to_dict()
    keyless = _igtk(tmp_path, attempt.frames, truth, keyed=False)
    assert keyless.verdict == Verdict.VULNERABLE, keyless.summary
    assert "CVE-2017-13079" in keyless.cves  # message 3's key data is encrypted: which handshake is not visible
    keyed = _igtk(tmp_path, attempt.frames, truth)
    assert keyed.verdict == Verdict.VULNERABLE and keyed.cves == ("CVE-2017-13079",)  # re-delivered by message 3
