"""krackattacks-style active tests against simulated devices. Expected verdicts come from the sources,
not from our runs: Table 1 of the KRACK paper (4-way and Group columns), the krackattacks.com addendum
(wpa_supplicant 2.6 installs an all-zero TK after a forged message 1), "Release the Kraken" 6.4 (a
client honouring the Key RSC passes --gtkinit), and hostapd 0e3bd7ac6 (FT fix in 2.7)."""

from __future__ import annotations

import io

import pytest

from krackwatch.lab import ActiveVerdict, run_ap_test, run_client_test, write_pcapng
from krackwatch.lab.active import ApTester
from krackwatch.lab.attacks import AP2_MAC, VICTIM_MAC
from krackwatch.lab.radio import Radio
from krackwatch.wire.capture import open_capture

V, OK, INC = ActiveVerdict.VULNERABLE, ActiveVerdict.NOT_VULNERABLE, ActiveVerdict.INCONCLUSIVE


@pytest.mark.parametrize(("profile", "test", "expected"), [
    ("wpa_supplicant-2.3", "fourway", V),  # Table 1: 4-way vulnerable
    ("mediatek", "fourway", V),
    ("ios-10.3.1", "fourway", OK),  # Table 1: 4-way not vulnerable (msg 3 retransmissions refused)
    ("windows-10", "fourway", OK),
    ("windows-10", "group", V),  # Table 1: Group vulnerable
    ("openbsd-6.1-rum", "group", V),
    ("wpa_supplicant-2.6", "tptk", V),  # addendum: forged msg 1 -> all-zero TK
    ("wpa_supplicant-2.3", "gtkinit", OK),  # installs the GTK with the Key RSC
])
def test_client_verdicts_follow_the_sources(profile, test, expected):
    report, _ = run_client_test(profile, test=test, record=False)
    assert report.verdict is expected, report.to_dict()
    assert report.evidence


@pytest.mark.parametrize("test", ["fourway", "tptk", "tptk-rand", "group", "gtkinit", "replay-broadcast"])
def test_patched_client_passes_every_test(test):
    report, _ = run_client_test("patched", test=test, record=False)
    assert report.verdict is OK, report.to_dict()


def test_all_zero_key_evidence():
    report, _ = run_client_test("wpa_supplicant-2.6", test="tptk", record=False)
    assert any("all-zero key" in e for e in report.evidence)


def test_iv_reuse_evidence_names_the_reused_iv():
    report, _ = run_client_test("wpa_supplicant-2.3", test="fourway", record=False)
    assert any("IV reuse detected" in e for e in report.evidence)


def test_too_little_time_is_inconclusive():
    report, _ = run_client_test("patched", test="fourway", record=False, time_limit=6.0)
    assert report.verdict is INC and "inconclusive" in report.message


@pytest.mark.parametrize(("profile", "expected"), [("hostapd-2.6", V), ("hostapd-2.7", OK), ("patched", OK)])
def test_ap_ft_verdicts(profile, expected):
    report, _ = run_ap_test(profile, record=False)
    assert report.verdict is expected, report.to_dict()


def test_profiles_of_the_wrong_role_are_refused():
    with pytest.raises(ValueError):
        run_client_test("hostapd-2.6")
    with pytest.raises(ValueError):
        run_ap_test("mediatek")


class CaptureRadio:
    """A Radio that plays back a capture file (what a monitor interface would have heard)."""

    channel = 6

    def __init__(self, frames: list[tuple[float, bytes]]) -> None:
        self.frames = frames
        self.pos = 0
        self.clock = 0.0
        self.sent: list[bytes] = []

    def now(self) -> float:
        return self.clock

    def send(self, frame: bytes) -> None:
        self.sent.append(frame)

    def receive(self, until: float):
        if self.pos < len(self.frames) and self.frames[self.pos][0] <= until:
            item = self.frames[self.pos]
            self.pos += 1
            self.clock = max(self.clock, item[0])
            return item
        self.clock = until if self.pos < len(self.frames) else max(self.clock, until)
        return None


def test_ft_test_logic_runs_on_any_radio():
    """The same test logic, fed through the Radio interface from a capture file instead of the simulation,
    reaches the same verdict: nothing in it depends on the simulator."""
    report, frames = run_ap_test("hostapd-2.6", record=True)
    buf = io.BytesIO()
    write_pcapng(list(frames), buf)
    buf.seek(0)
    heard = []
    with open_capture(buf) as reader:
        for rec in reader:
            data = rec.data
            rt_len = data[2] | data[3] << 8
            if data[10:12] == (2437).to_bytes(2, "little"):  # radiotap Channel field: channel 6 only
                heard.append((rec.ts_ns, data[rt_len:]))
    t0 = heard[0][0]
    heard = [((t - t0) / 1e9, f) for t, f in heard]
    radio: Radio = CaptureRadio(heard)
    replayed = ApTester(radio, client=VICTIM_MAC, ap=AP2_MAC, time_limit=heard[-1][0] + 1).run()
    assert report.verdict is V and replayed.verdict is V
    assert radio.sent  # it injected its own replays
