"""Inventory import benchmark: generate a large CSV inventory, then time parsing + normalisation.

    python benchmarks/inventory_bench.py [--rows 1000000] [--seed 7] [--keep DIR]

Each measurement runs in a fresh child process so its peak RSS (``resource.getrusage``) is its own:

* ``stream``: ``iter_inventory`` over every row (constant memory), plus ``parse_version`` of each firmware;
* ``load``: ``load_inventory`` (all Devices kept in a list, duplicate tracking), as an audit would use it.

The generated fleet mixes vendor spellings (advisory and IEEE registrant forms), model spellings, firmware
formats, MAC formats (a third without vendor, resolved by OUI), role synonyms and about 0.1% bad rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VENDORS = (
    ("EnGenius Technologies, Inc.", ("ENS620EXT", "EAP1300EXT", "ECB1750", "EAP350 v2", "ews360ap"),
     "88dc96"),
    ("Ubiquiti Networks", ("UAP-AC-PRO", "UAP-AC-Mesh", "NanoStation M5"), "f09fc2"),
    ("Hangzhou Hikvision Digital Technology Co.,Ltd.", ("DS-2CD2412F-IW", "DS-2CD2042WD-I"), "0c75d2"),
    ("Zhejiang Dahua Technology Co., Ltd.", ("IPC-HFW1320S-W", "NVR4104-W"), "3ce36b"),
    ("MikroTik", ("RB951Ui-2HnD", "hAP ac2", "cAP ac"), "000c42"),
    ("Routerboard.com", ("RB951Ui-2HnD",), "4c5e0c"),
    ("Cisco Systems, Inc", ("AIR-AP1832I-E-K9", "AIR-CAP3702I"), "00000c"),
    ("Cisco Meraki", ("MR33", "MR74"), "e0553d"),
    ("TP-LINK TECHNOLOGIES CO.,LTD.", ("Archer C7 v2", "TL-WR841N v9"), "50c7bf"),
    ("Raspberry Pi Foundation", ("Raspberry Pi 3 Model B",), "b827eb"),
    ("Espressif Inc.", ("ESP8266", "ESP32-WROOM"), "240ac4"),
    ("Apple, Inc.", ("iPhone 8", "MacBookPro14,1"), "a4c361"),
    ("Samsung Electronics Co.,Ltd", ("SM-G930F", "SM-T580"), "8425db"),
    ("Aruba, a Hewlett Packard Enterprise Company", ("AP-305", "IAP-215"), "000b86"),
)
FIRMWARE = ("3.9.3.7537", "V5.4.5 build 170721", "wpa_supplicant 2.4", "RouterOS 6.40.4", "2.0.0_rc1",
            "10.12.6 (16G1036)", "1.0.0.1234", "v1.2.3", "6.41rc", "")
ROLES = ("access-point", "AP", "station", "client bridge", "wds", "repeater", "mesh", "ipcam", "NVR",
         "phone", "laptop", "iot")
CIPHERS = ("CCMP", "CCMP;TKIP", "WEP", "", "ccmp-128")
BOOLS = ("yes", "no", "")


def generate(path: Path, rows: int, seed: int) -> int:
    """Write the inventory; returns the number of rows meant to be bad."""
    rng = random.Random(seed)
    bad = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "Vendor", "Model", "Firmware", "MAC", "Site", "Role", "FT", "Ciphers", "PMF",
                    "Owner", "Asset Tag"])
        for i in range(rows):
            vendor, models, oui = VENDORS[rng.randrange(len(VENDORS))]
            low = rng.getrandbits(24)
            mac = f"{oui}{low:06x}"
            style = i % 3
            if style == 0:
                mac = ":".join(mac[j:j + 2] for j in range(0, 12, 2))
            elif style == 1:
                mac = "-".join(mac[j:j + 2] for j in range(0, 12, 2)).upper()
            if i % 3 == 2:
                vendor = ""  # resolved from the MAC prefix
            role = ROLES[rng.randrange(len(ROLES))]
            if i % 1000 == 999:
                role = "toaster"
                bad += 1
            w.writerow([f"dev-{i:07d}", vendor, models[rng.randrange(len(models))],
                        FIRMWARE[rng.randrange(len(FIRMWARE))], mac, f"site-{i % 97}", role,
                        BOOLS[i % 3], CIPHERS[i % 5], BOOLS[(i // 3) % 3], f"team-{i % 13}",
                        f"A-{i:07d}"])
    return bad


def _child(mode: str, path: str) -> None:
    from krackwatch.advisories.normalize import parse_version
    from krackwatch.fleet import Device, InvalidRow, iter_inventory, load_inventory
    from krackwatch.fleet.oui import registry_size

    registry_size()  # the OUI registry loads once, outside the timed part (as it would in a long run)
    t0 = time.perf_counter()
    devices = invalid = versions = 0
    if mode == "stream":
        for item in iter_inventory(path):
            if isinstance(item, Device):
                devices += 1
                if parse_version(item.firmware).known:
                    versions += 1
            elif isinstance(item, InvalidRow):
                invalid += 1
    else:
        result = load_inventory(path)
        devices = len(result.devices)
        invalid = len(result.invalid_rows)
        versions = sum(1 for d in result.devices if parse_version(d.firmware).known)
    elapsed = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"mode": mode, "devices": devices, "invalid": invalid, "versions_known": versions,
                      "seconds": elapsed, "peak_rss_mib": peak_kib / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, help="write the CSV here and keep it")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = (args.keep or Path(tmp)) / "inventory.csv"
        t0 = time.perf_counter()
        bad = generate(path, args.rows, args.seed)
        gen = time.perf_counter() - t0
        size = path.stat().st_size
        print(f"generated {args.rows:,} rows ({size / 2**20:.1f} MiB, {bad:,} bad) in {gen:.1f} s")
        probe = "import resource, krackwatch.fleet; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        baseline = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
        baseline_mib = int(baseline.stdout) / 1024
        print(f"baseline RSS (interpreter + krackwatch.fleet imported): {baseline_mib:.0f} MiB")
        for mode in ("stream", "load"):
            out = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], check=True,
                                 capture_output=True, text=True)
            r = json.loads(out.stdout)
            rate = (r["devices"] + r["invalid"]) / r["seconds"]
            print(f"{mode:6}: {r['devices']:,} devices + {r['invalid']:,} invalid rows"
                  f" in {r['seconds']:.2f} s"
                  f" = {rate:,.0f} rows/s ({size / 2**20 / r['seconds']:.1f} MiB/s);"
                  f" peak RSS {r['peak_rss_mib']:.0f} MiB; firmware versions parsed: {r['versions_known']:,}")
            if r["invalid"] != bad:
                raise SystemExit(f"expected {bad} invalid rows, got {r['invalid']}")


if __name__ == "__main__":
    main()
