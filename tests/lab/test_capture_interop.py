"""Lab captures as other tools see them: tshark dissects every frame without a malformed or error
expert note (checksums validated), and decrypting with the lab passphrase, tshark and krackwatch's
passive decryptor both find exactly the victim's plaintext (the MSDUs its stack sent)."""

from __future__ import annotations

import io
import subprocess

import pytest
from kwtest import tool

from krackwatch.decrypt import keys
from krackwatch.decrypt.run import analyse_capture
from krackwatch.lab import run_scenario, write_pcapng
from krackwatch.lab.attacks import VICTIM_MAC
from krackwatch.lab.packets import parse_ipv4
from krackwatch.wire.capture import open_capture

pytestmark = pytest.mark.interop

RUNS = [("fourway", "wpa_supplicant-2.3", "ccmp"), ("fourway", "wpa_supplicant-2.3", "tkip"),
        ("group", "windows-10", "ccmp"), ("ft", "hostapd-2.6", "ccmp"), ("tptk", "wpa_supplicant-2.6", "ccmp")]


@pytest.fixture(scope="module", params=RUNS, ids=lambda r: "-".join(r))
def run(request, tmp_path_factory):
    scenario, profile, cipher = request.param
    result = run_scenario(scenario, profile, seed=3, cipher=cipher)
    path = tmp_path_factory.mktemp("lab") / f"{scenario}-{profile}-{cipher}.pcapng"
    with open(path, "wb") as f:
        write_pcapng(list(result.frames), f)
    return result, path


def zero_tk(result) -> bool:
    """The victim installed an all-zero TK: its later frames need that key too (a Wireshark tk: key)."""
    return bool(result.decisive.truth.get("victim_zero_tk_installs"))


def tshark(path, *args: str, zero: bool = False) -> str:
    cmd = [tool("tshark"), "-r", str(path), "-n", "-o", "wlan.enable_decryption:TRUE",
           "-o", 'uat:80211_keys:"wpa-pwd","correct horse battery staple:krackwatch-lab"']
    if zero:
        cmd += ["-o", f'uat:80211_keys:"tk","{"00" * 16}"']
    cmd += args
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=300).stdout


def victim_ipv4(result) -> set[tuple[str, str, str]]:
    out = set()
    for msdu in result.decisive.victim_sent:
        if msdu[6:8] == b"\x08\x00":
            pkt = parse_ipv4(msdu[8:])
            out.add((".".join(map(str, pkt.src)), ".".join(map(str, pkt.dst)), f"0x{pkt.ident:04x}"))
    return out


def test_no_malformed_frames(run):
    _, path = run
    bad = tshark(path, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                 "-o", "tcp.check_checksum:TRUE", "-Y", "_ws.malformed || _ws.expert.severity >= error",
                 "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message")
    assert bad.strip() == ""


def test_tshark_decrypts_the_victims_traffic(run):
    result, path = run
    truth = victim_ipv4(result)
    assert truth, "the victim sent no IPv4 traffic"
    rows = tshark(path, "-Y", f"ip && wlan.ta == {VICTIM_MAC.hex(':')}", "-T", "fields",
                  "-e", "ip.src", "-e", "ip.dst", "-e", "ip.id", zero=zero_tk(result))
    seen = {tuple(line.split("\t")) for line in rows.splitlines() if line.strip()}
    assert truth <= seen
    forms = tshark(path, "-Y", "http.request.method == POST", "-T", "fields", "-e", "http.file_data",
                   zero=zero_tk(result))
    password = result.decisive.truth["victim_password"]
    assert f"password={password}" in forms


def test_krackwatch_decrypt_finds_the_victims_msdus(run):
    result, path = run
    out = io.BytesIO()
    ring = [keys.passphrase("correct horse battery staple", "krackwatch-lab")]
    if zero_tk(result):
        ring.append(keys.TemporalKey(bytes(16)))
    summary = analyse_capture(path, keys.KeyRing.of(ring), output=out)
    assert summary.outcomes.get("decrypted", 0) > 0
    out.seek(0)
    found = set()
    with open_capture(out) as reader:
        for rec in reader:
            data = rec.data
            frame = data[data[2] | data[3] << 8:]
            if frame[0] & 0x0C == 0x08 and frame[10:16] == VICTIM_MAC and not frame[1] & 0x40:
                found.add(frame[24:])
    assert set(result.decisive.victim_sent) <= found


def test_active_test_captures_are_not_malformed(tmp_path):
    from krackwatch.lab import run_ap_test, run_client_test

    for name, (_, frames) in (("client", run_client_test("wpa_supplicant-2.6", test="tptk")),
                              ("group", run_client_test("windows-10", test="group")),
                              ("ap", run_ap_test("hostapd-2.6"))):
        path = tmp_path / f"{name}.pcapng"
        with open(path, "wb") as f:
            write_pcapng(list(frames), f)
        bad = tshark(path, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                     "-o", "tcp.check_checksum:TRUE", "-Y", "_ws.malformed || _ws.expert.severity >= error",
                     "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message", zero=True)
        assert bad.strip() == "", name
