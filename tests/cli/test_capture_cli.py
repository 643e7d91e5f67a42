"""`krackwatch info` and `krackwatch decrypt` as a user runs them: real processes, exit codes, one-line errors."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pytest
from kwtest import CAPTURES, manifest, manifest_entry


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "krackwatch", *args], capture_output=True, text=True, env=full_env, timeout=300,
        check=False,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0]


@pytest.mark.parametrize("entry", [e for e in manifest() if e.filename != "wpaclean_crash.pcap"],
                         ids=lambda e: e.filename)
def test_info_json_frames_equal_tshark_count(entry):
    proc = run("info", str(entry.path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["frames"] == entry.tshark_frames()


def test_info_lists_network_and_handshake():
    e = manifest_entry("wpa-Induction.pcap")
    doc = json.loads(run("info", str(e.path), "--format", "json").stdout)
    (net,) = [n for n in doc["networks"] if n["bssid"] == e.bssid]
    assert net["ssid"] == "Coherer"
    # RSNE and WPA IE both present (MANIFEST: pairwise CCMP, group TKIP).
    assert net["security"] == "WPA/WPA2" and net["group"] == "TKIP"
    assert net["pairwise"][0] == "CCMP-128" and len(set(net["pairwise"])) == len(net["pairwise"])
    assert "PSK" in net["akms"]
    (hs,) = doc["handshakes"]
    assert hs["messages"] == {"M1": 1, "M2": 1, "M3": 1, "M4": 1}
    assert hs["sta"] == "00:0d:93:82:36:3a"


def test_info_two_interfaces():
    doc = json.loads(run("info", str(CAPTURES / "210411_win10_radiotap.pcapng"), "--format", "json").stdout)
    assert doc["interfaces"] == 2 and doc["frames"] == 2


def test_info_table_is_readable():
    proc = run("info", str(CAPTURES / "wpa2-psk-linksys.cap"))
    assert proc.returncode == 0
    assert "linksys" in proc.stdout and "00:0b:86:c2:a4:85" in proc.stdout


def test_decrypt_json_summary():
    e = manifest_entry("wpa2-psk-linksys.cap")
    proc = run("decrypt", str(e.path), "--passphrase", e.passphrase, "--ssid", e.ssid, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["decrypted_unicast"], doc["decrypted_group"]) == e.expected_counts()
    (link,) = [link for link in doc["links"] if link["messages"]]
    assert link["mic"] == "verified"
    assert link["messages"]["M1"] == 3


def test_decrypt_key_string_and_env_var():
    e = manifest_entry("wpa2-psk-linksys.cap")
    a = json.loads(run("decrypt", str(e.path), "--key", f"wpa-pwd:{e.passphrase}:{e.ssid}", "-f", "json").stdout)
    b = json.loads(run("decrypt", str(e.path), "-f", "json",
                       env={"KRACKWATCH_PASSPHRASE": e.passphrase}).stdout)
    assert a["decrypted_unicast"] == b["decrypted_unicast"] == e.expected_counts()[0]


def test_wrong_passphrase_one_line_exit_3():
    e = manifest_entry("wpa2-psk-linksys.cap")
    proc = run("decrypt", str(e.path), "--passphrase", "wrongpassword", "--format", "json")
    assert_one_line_error(proc, 3, "wrong passphrase")
    assert json.loads(proc.stdout)["links"][0]["mic"] == "wrong passphrase"


def test_not_a_capture(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello, this is not a capture\n")
    assert_one_line_error(run("decrypt", str(f), "-p", "password1"), 3, "notes.txt")
    assert_one_line_error(run("info", str(f)), 3, "notes.txt")


def test_empty_file(tmp_path):
    f = tmp_path / "empty.pcap"
    f.write_bytes(b"")
    assert_one_line_error(run("info", str(f)), 3, "empty")


def test_unreadable_path(tmp_path):
    assert_one_line_error(run("info", str(tmp_path / "missing.pcap")), 3, "missing.pcap")
    assert_one_line_error(run("info", str(tmp_path)), 3)


def test_unsupported_link_type(tmp_path):
    # A valid pcap whose link type is raw IPv4 (228): nothing krackwatch can read as 802.11.
    import struct

    f = tmp_path / "raw.pcap"
    f.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 228) + struct.pack("<IIII", 0, 0, 4, 4) + b"\x45\x00\x00\x04")
    assert_one_line_error(run("decrypt", str(f), "-p", "password1"), 3, "link type")


def test_no_key_is_usage_error():
    proc = run("decrypt", str(CAPTURES / "wpa2.eapol.cap"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_truncated_capture_keeps_frames_and_names_offset(tmp_path):
    e = manifest_entry("wpa2-psk-linksys.cap")
    data = e.path.read_bytes()
    cut = tmp_path / "cut.cap"
    cut.write_bytes(data[: len(data) - 37])
    proc = run("info", str(cut), "--format", "json")
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr and "offset" in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["frames"] == e.tshark_frames() - 1


def test_gzip_capture(tmp_path):
    e = manifest_entry("wpa2-psk-linksys.cap")
    gz = tmp_path / "c.cap.gz"
    gz.write_bytes(gzip.compress(e.path.read_bytes()))
    doc = json.loads(run("decrypt", str(gz), "-p", e.passphrase, "-f", "json").stdout)
    assert (doc["decrypted_unicast"], doc["decrypted_group"]) == e.expected_counts()


def test_hostile_ssid_is_escaped_in_table(tmp_path):
    """An SSID with terminal escape sequences and rich markup must not reach the terminal raw."""
    from krackwatch.wire.capture import PcapWriter

    ssid = b"\x1b[31mEVIL[/]\x07"
    body = bytes(8) + b"\x64\x00\x11\x04" + bytes([0, len(ssid)]) + ssid + b"\x03\x01\x06"
    frame = b"\x80\x00\x00\x00" + b"\xff" * 6 + bytes.fromhex("020000000001") * 2 + b"\x00\x00" + body
    f = tmp_path / "evil.pcap"
    with open(f, "wb") as fh:
        PcapWriter(fh, 105).write(0, frame)
    proc = run("info", str(f))
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "\\x1b[31mEVIL[/]\\x07" in proc.stdout


def test_bad_option_value_is_usage_error():
    proc = run("info", str(CAPTURES / "wpa2.eapol.cap"), "--format", "yaml")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
