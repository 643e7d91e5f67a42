"""`krackwatch assess` and `krackwatch history` as a user runs them: real processes in a private data
directory, exit codes per DESIGN.md, stdout data and stderr summaries, the lazily opened report file."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "src" / "krackwatch" / "data" / "demo" / "inventory.csv"
INV = Path(__file__).resolve().parents[1] / "data" / "inventories"
HEADER = ["name", "vendor", "model", "firmware", "mac", "site", "role", "ft"]


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "kwdata"


def run(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "KRACKWATCH_DATA_DIR": str(home), **(env or {})}
    for name in ("KRACKWATCH_DB", "KRACKWATCH_FORMAT", "KRACKWATCH_INVENTORY", "KRACKWATCH_FAIL_ON"):
        if env is None or name not in env:
            full_env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "krackwatch", *args], capture_output=True, text=True, check=False,
                          env=full_env, timeout=300)


def inventory(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def demo_rows() -> list[dict[str, str]]:
    with open(DEMO, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_demo_runs_with_no_other_input(home) -> None:
    proc = run(home, "assess", "--demo")
    assert proc.returncode == 1, proc.stderr  # the demo site has exposed devices
    for row in demo_rows():
        assert row["name"] in proc.stdout
    assert "exposed" in proc.stdout and "patch available" in proc.stdout
    assert proc.stderr.startswith(f"krackwatch: {len(demo_rows())} devices:") and "stored as run #1" in proc.stderr
    assert (home / "krackwatch.db").is_file()


def test_json_output_is_the_public_contract(home) -> None:
    proc = run(home, "assess", "--demo", "--format", "json", "--no-store")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    names = [d["name"] for d in doc["devices"]]
    assert names == [r["name"] for r in demo_rows()]
    for d in doc["devices"]:
        assert {"name", "vendor", "model", "role", "verdict", "cves", "severity", "reason", "remediation"} <= set(d)
    assert doc["invalid_rows"] == [] and doc["run"]["id"] is None
    assert not (home / "krackwatch.db").exists()


@pytest.mark.parametrize(("fail_on", "code"), [("low", 1), ("critical", 1), ("never", 0)])
def test_fail_on_levels(home, fail_on: str, code: int) -> None:
    # The demo's guest AP allows TKIP with 802.11r on: patch_available at critical severity.
    proc = run(home, "assess", "--demo", "--no-store", "--format", "csv", "--fail-on", fail_on)
    assert proc.returncode == code, proc.stderr


def test_fail_on_counts_only_findings_at_the_level(home, tmp_path) -> None:
    # One patch_available phone (medium) and one unknown camera: high -> clean; medium -> findings.
    path = inventory(tmp_path / "f.csv", [
        ["phone", "Apple", "iPhone 6s", "iOS 11.0.3", "", "HQ", "phone", ""],
        ["cam", "Hikvision", "DS-2CD2412F-IW", "V5.4.5", "", "HQ", "camera", ""],
    ])
    assert run(home, "assess", "-i", str(path), "--no-store", "--fail-on", "high").returncode == 0
    assert run(home, "assess", "-i", str(path), "--no-store", "--fail-on", "medium").returncode == 1
    proc = run(home, "assess", "-i", str(path), "--no-store", "--fail-on", "high", "--fail-on-unknown")
    assert proc.returncode == 4


def test_clean_fleet_exits_zero(home, tmp_path) -> None:
    path = inventory(tmp_path / "clean.csv", [
        ["phone", "Apple", "iPhone 8", "iOS 11.2.1", "", "HQ", "phone", ""],
        ["ap", "EnGenius", "EWS360AP", "3.0", "", "HQ", "access-point", "no"],
    ])
    proc = run(home, "assess", "--inventory", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert [d["verdict"] for d in json.loads(proc.stdout)["devices"]] == ["fixed", "mitigated"]


def test_env_var_twins(home, tmp_path) -> None:
    db = tmp_path / "other.db"
    proc = run(home, "assess", env={"KRACKWATCH_INVENTORY": str(DEMO), "KRACKWATCH_FORMAT": "json",
                                    "KRACKWATCH_FAIL_ON": "never", "KRACKWATCH_DB": f"sqlite:///{db}"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["run"]["id"] == 1
    assert db.is_file() and not (home / "krackwatch.db").exists()


def test_usage_and_input_errors(home, tmp_path) -> None:
    assert run(home, "assess").returncode == 2
    assert run(home, "assess", "--demo", "-i", str(DEMO)).returncode == 2
    missing = run(home, "assess", "-i", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "r.html"))
    assert missing.returncode == 3 and "Traceback" not in missing.stderr
    assert "nope.csv" in missing.stderr
    assert not (tmp_path / "r.html").exists()  # opened lazily: no empty report after a failure
    not_inv = run(home, "assess", "-i", str(INV / "not_inventory.csv"))
    assert not_inv.returncode == 3
    all_bad = inventory(tmp_path / "bad.csv", [["", "x", "y", "", "", "", "toaster", ""]])
    proc = run(home, "assess", "-i", str(all_bad), "--no-store", "--format", "json")
    assert proc.returncode == 3 and "no valid device" in proc.stderr
    assert json.loads(proc.stdout)["invalid_rows"][0]["line"] == 2
    bad_db = run(home, "assess", "--demo", "--db", "mysql://x/y")
    assert bad_db.returncode == 3 and "unsupported database" in bad_db.stderr
    assert run(home, "assess", "--demo", "--db", "sqlite:///x.db", "--no-store").returncode == 3


def test_report_file_and_attacker_names(home, tmp_path) -> None:
    path = tmp_path / "evil.csv"
    path.write_text("name,vendor,model,role\n\"<script>alert(1)</script>\",Acme,X1,camera\n"
                    "\"=cmd|' /C calc'!A0\",Acme,X1,camera\n\"\x1b[2Jwipe\",Acme,X1,camera\n", encoding="utf-8")
    out = tmp_path / "report.html"
    proc = run(home, "assess", "-i", str(path), "-f", "html", "-o", str(out), "--no-store")
    assert proc.returncode == 0, proc.stderr  # unknown only
    page = out.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert proc.stdout == ""
    table = run(home, "assess", "-i", str(path), "--no-store")
    assert "\x1b" not in table.stdout and "\\x1b[2Jwipe" in table.stdout
    csv_out = run(home, "assess", "-i", str(path), "--no-store", "-f", "csv").stdout
    assert "'=cmd|' /C calc'!A0" in csv_out and "\x1b" not in csv_out


def test_history_reports_what_changed(home, tmp_path) -> None:
    first = inventory(tmp_path / "a.csv", [
        ["ap-1", "EnGenius", "ECB1750", "2.0", "88:dc:96:00:00:01", "HQ", "access-point", "no"],
        ["phone", "Apple", "iPhone 6s", "iOS 11.0.3", "a4:c3:61:00:00:02", "HQ", "phone", ""],
        ["cam", "Hikvision", "DS-2CD2412F-IW", "V5.4.5", "c0:56:e3:00:00:03", "Yard", "camera", ""],
    ])
    second = inventory(tmp_path / "b.csv", [
        ["ap-1", "EnGenius", "EWS500AP", "2.0", "88:dc:96:00:00:01", "HQ", "access-point", "yes"],
        ["phone", "Apple", "iPhone 6s", "iOS 11.2", "a4:c3:61:00:00:02", "HQ", "phone", ""],
        ["laptop", "Apple", "MacBook Pro", "macOS 10.13.2", "8c:85:90:00:00:04", "HQ", "laptop", ""],
    ])
    none_yet = run(home, "history", "--format", "json")
    assert none_yet.returncode == 0 and "fewer than two" in none_yet.stderr
    for path in (first, second):
        assert run(home, "assess", "-i", str(path), "-f", "json", "--fail-on", "never").returncode == 0
    proc = run(home, "history", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["from"]["id"], doc["to"]["id"]) == (1, 2)
    assert [(c["name"], c["before"], c["after"]) for c in doc["newly_exposed"]] == [("ap-1", "mitigated", "exposed")]
    assert [(c["name"], c["before"], c["after"]) for c in doc["newly_fixed"]] == [
        ("phone", "patch_available", "fixed")]
    assert [c["name"] for c in doc["added"]] == ["laptop"] and [c["name"] for c in doc["gone"]] == ["cam"]
    table = run(home, "history")
    assert "Newly exposed: 1" in table.stdout and "ap-1" in table.stdout
    assert "1 newly exposed, 1 newly fixed" in table.stderr
    listed = json.loads(run(home, "history", "--list", "--format", "json").stdout)
    assert [r["id"] for r in listed["runs"]] == [2, 1]
    since = json.loads(run(home, "history", "--since", "2", "--format", "json").stdout)
    assert since["newly_exposed"] == [] and since["added"] == []
    assert run(home, "history", "--since", "99").returncode == 3


# ---------------------------------------------------------------------------------------- evidence from the air
DEMO_CAPTURE = DEMO.with_name("demo-capture.pcapng")
CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"


def test_demo_capture_shows_the_lab_handset_reinstalling(home) -> None:
    """--demo brings a lab capture; the handset it shows reinstalling is exposed whatever its advisory says."""
    proc = run(home, "assess", "--demo", "--format", "json", "--no-store")
    assert proc.returncode == 1, proc.stderr
    devices = {d["name"]: d for d in json.loads(proc.stdout)["devices"]}
    handset = devices["lab-android-01"]
    assert handset["verdict"] == "exposed"
    assert "observed on the air" in handset["reason"] and "demo-capture.pcapng" in handset["reason"]
    assert "CVE-2017-13077" in handset["cves"]
    # Only the device the capture incriminates is decided by evidence.
    assert sum("observed on the air" in d["reason"] for d in devices.values()) == 1
    assert "2 stations on the air (1 seen reinstalling keys)" in proc.stderr


def test_demo_capture_is_reproducible_from_the_lab(tmp_path) -> None:
    """The bundled capture is exactly what the documented lab command produces (data/demo/README.md)."""
    out = tmp_path / "again.pcapng"
    proc = subprocess.run(
        [sys.executable, "-m", "krackwatch", "lab", "run", "fourway", "--profile", "android-6.0.1", "--seed", "1",
         "--ap-mac", "88:dc:96:4a:10:02", "--client-mac", "64:1b:2f:20:00:04", "-o", str(out)],
        capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == DEMO_CAPTURE.read_bytes()


def test_capture_stations_missing_from_inventory_are_listed_with_oui_vendor(home, tmp_path) -> None:
    """A real capture (wpa-Induction: AP 00:0c:41:82:b2:55, STA 00:0d:93:82:36:3a) against an inventory that
    lists neither: both come back as unlisted with the vendor their IEEE prefix is registered to."""
    inv = inventory(tmp_path / "inv.csv", [["cam", "Axis Communications", "M1065-LW", "8.40.1",
                                            "ac:cc:8e:10:00:04", "HQ", "camera", ""]])
    proc = run(home, "assess", "-i", str(inv), "--capture", str(CAPTURES / "wpa-Induction.pcap"),
               "--format", "json", "--no-store")
    assert proc.returncode in (0, 1), proc.stderr
    unlisted = {u["mac"]: u for u in json.loads(proc.stdout)["unlisted"]}
    assert set(unlisted) == {"00:0c:41:82:b2:55", "00:0d:93:82:36:3a"}
    from krackwatch.fleet import oui

    for mac, u in unlisted.items():
        assert u["vendor"] == oui.lookup(mac).organization and u["vendor"]
    # A real, benign capture makes nobody exposed on evidence.
    assert not any("observed on the air" in d["reason"] for d in json.loads(proc.stdout)["devices"])


def test_bad_capture_is_an_input_error(home, tmp_path) -> None:
    bogus = tmp_path / "not.pcap"
    bogus.write_text("not a capture")
    proc = run(home, "assess", "--demo", "--capture", str(bogus), "--no-store")
    assert proc.returncode == 3 and "Traceback" not in proc.stderr and "not.pcap" in proc.stderr
