"""`krackwatch lab` as a user runs it: real processes, JSON contracts, captures, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from krackwatch.wire.capture import open_capture


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "krackwatch", "lab", *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def test_list_json():
    proc = run("list", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    names = [s["name"] for s in doc["scenarios"]]
    assert names == ["fourway", "tptk", "tptk-rand", "group", "igtk", "ft", "replay-broadcast"]
    assert {"vulnerable", "not_vulnerable", "not_applicable"} == set(doc["verdicts"])
    assert len(doc["profiles"]) == 17


def test_run_json_and_capture(tmp_path):
    cap = tmp_path / "run.pcapng"
    proc = run("run", "fourway", "--profile", "wpa_supplicant-2.3", "--seed", "4", "-o", str(cap), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ssid"] == "krackwatch-lab" and doc["passphrase"]
    assert doc["verdict"] == "vulnerable"
    assert doc["recovered"]["http_password"] == doc["ground_truth"]["victim_password"]
    with open_capture(cap) as reader:
        records = list(reader)
        assert reader.format == "pcapng"
    assert len(records) == doc["frames"] and {r.linktype for r in records} == {127}


def test_run_table_prints_the_password():
    proc = run("run", "fourway", "--profile", "android-6.0.1")
    assert proc.returncode == 0, proc.stderr
    assert "recovered HTTP password:" in proc.stdout and "vulnerable" in proc.stdout


def test_matrix_json_contract():
    proc = run("matrix", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"rows"} and len(doc["rows"]) == 17 * 7
    for row in doc["rows"]:
        assert set(row) == {"profile", "scenario", "verdict"}
        assert row["verdict"] in ("vulnerable", "not_vulnerable", "not_applicable")


def test_active_tests_json():
    proc = run("test-client", "--profile", "wpa_supplicant-2.3", "--test", "fourway", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["verdict"] == "vulnerable" and doc["evidence"]
    proc = run("test-ap", "--profile", "hostapd-2.7", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["verdict"] == "not_vulnerable"


def test_errors_are_one_line_exit_3():
    for args in (("run", "fourway", "--profile", "nope"), ("run", "nope", "--profile", "patched"),
                 ("test-ap", "--profile", "mediatek"), ("test-client", "--profile", "patched", "--test", "x")):
        proc = run(*args)
        assert proc.returncode == 3, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stderr.startswith("krackwatch: error:")


def test_run_with_given_addresses(tmp_path):
    """--ap-mac/--client-mac stage the attack between real devices' addresses (as the assess demo does)."""
    from krackwatch.wire.capture import open_capture

    out = tmp_path / "c.pcapng"
    proc = subprocess.run(
        [sys.executable, "-m", "krackwatch", "lab", "run", "fourway", "--profile", "android-6.0.1",
         "--ap-mac", "88:dc:96:4a:10:02", "--client-mac", "64:1B:2F:20:00:04", "-o", str(out), "--format", "json"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["ap"], doc["client"], doc["verdict"]) == ("88:dc:96:4a:10:02", "64:1b:2f:20:00:04", "vulnerable")
    addrs = set()
    for rec in open_capture(out):
        hl = rec.data[2] | rec.data[3] << 8
        addrs.add(rec.data[hl + 10:hl + 16].hex(":"))
    assert {"88:dc:96:4a:10:02", "64:1b:2f:20:00:04"} <= addrs
    assert not any(a.startswith("02:4b:57") for a in addrs)


def test_run_rejects_group_address():
    proc = subprocess.run([sys.executable, "-m", "krackwatch", "lab", "run", "fourway", "--profile", "patched",
                           "--ap-mac", "ff:ff:ff:ff:ff:ff"], capture_output=True, text=True, check=False)
    assert proc.returncode == 3 and "group address" in proc.stderr and "Traceback" not in proc.stderr
