"""The streaming audit against hand-made inventories (tests/data/inventories, read by eye: see its README), the
loader's own accounting, hand-made evidence, and the IEEE registry for stations missing from the inventory."""

from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

import pytest

from krackwatch.advisories import bundled_knowledge_base
from krackwatch.fleet import load_inventory
from krackwatch.fleet.audit import NO_SITE, Audit, audit_inventory, device_key
from krackwatch.fleet.evidence import Evidence, Finding, FindingVerdict
from krackwatch.fleet.inventory import iter_inventory
from krackwatch.fleet.rules import EXPOSURE_ORDER, Exposure, StatusSource

INV = Path(__file__).resolve().parents[1] / "data" / "inventories"
DEMO = Path(__file__).resolve().parents[2] / "src" / "krackwatch" / "data" / "demo" / "inventory.csv"


@pytest.fixture(scope="module")
def kb():
    return bundled_knowledge_base().load()


def test_mixed_inventory_accounts_for_every_entry(kb) -> None:
    loaded = load_inventory(INV / "mixed.csv")
    result = audit_inventory(INV / "mixed.csv", kb)
    assert [r.device for r in result.records] == loaded.devices
    assert result.invalid_rows == loaded.invalid_rows
    # README: bad rows on lines 4, 6, 7, 9, 13.
    assert [r.line for r in result.invalid_rows] == [4, 6, 7, 9, 13]
    s = result.summary
    assert s.devices == len(loaded.devices) == sum(s.by_verdict.values())
    assert s.invalid_rows == 5
    assert sum(sum(c.values()) for c in s.by_vendor.values()) == s.devices
    assert sum(sum(c.values()) for c in s.by_site.values()) == s.devices
    assert s.findings == s.by_verdict[Exposure.EXPOSED] + s.by_verdict[Exposure.PATCH_AVAILABLE]


def test_device_key_prefers_mac() -> None:
    result = audit_inventory(INV / "mixed.csv", bundled_knowledge_base())
    for rec in result.records:
        if rec.device.mac:
            assert rec.key == f"mac:{rec.device.mac}"
        else:
            assert rec.key.startswith("name:") and rec.device.name.casefold() in rec.key
        assert device_key(rec.device) == rec.key


def test_evidence_merges_by_mac_and_lists_unlisted_stations(kb) -> None:
    with open(DEMO, newline="", encoding="utf-8") as fh:
        demo = list(csv.DictReader(fh))
    lab = next(r for r in demo if r["name"] == "lab-android-01")
    reinstall = Finding("ptk-reinstall", ("CVE-2017-13077",), FindingVerdict.VULNERABLE,
                        "PN reset after retransmitted msg3", "lab.pcapng", (42,))
    stranger = Finding("gtk-reinstall", ("CVE-2017-13080",), FindingVerdict.VULNERABLE, "group PN replayed")
    evidence = Evidence.of([(lab["mac"].upper(), reinstall), ("B8:27:EB:99:88:77", stranger),
                            ("02:00:00:00:01:00", stranger)])
    result = audit_inventory(DEMO, kb, evidence)
    by_name = {r.device.name: r for r in result.records}
    hit = by_name["lab-android-01"]
    assert hit.verdict.verdict is Exposure.EXPOSED and hit.verdict.source is StatusSource.EVIDENCE
    others = [r for r in result.records if r.device.name != "lab-android-01"]
    assert all(r.verdict.source is not StatusSource.EVIDENCE for r in others)
    # Unlisted: a Raspberry Pi Foundation prefix (IEEE MA-L B8-27-EB) and a locally administered address.
    assert [u.mac for u in result.unlisted] == ["02:00:00:00:01:00", "b8:27:eb:99:88:77"]
    local, pi = result.unlisted
    assert local.oui_status == "randomised" and local.vendor == ""
    assert pi.vendor == "Raspberry Pi Foundation" and pi.vendor_key == "raspberrypi"
    assert pi.findings == (stranger,)
    assert result.summary.unlisted == 2


def test_demo_inventory_is_about_forty_real_looking_devices(kb) -> None:
    from krackwatch.fleet import oui

    result = audit_inventory(DEMO, kb)
    assert not result.invalid_rows and not result.warnings
    assert 35 <= result.summary.devices <= 45
    roles = {r.device.role.value for r in result.records}
    assert {"access-point", "client-bridge", "wds-bridge", "mesh", "repeater", "camera", "dvr", "phone", "laptop",
            "iot"} <= roles
    engenius = [r for r in result.records if r.device.vendor_key == "engenius"]
    assert any(r.device.ft for r in engenius) and len({r.device.role for r in engenius}) >= 5
    assert any("Raspberry Pi" in r.device.model for r in result.records)
    for rec in result.records:
        match = oui.lookup(rec.device.mac)
        assert match.has_vendor, rec.device.name  # globally administered, registered prefixes only
    # Every verdict occurs, so the demo shows the whole vocabulary.
    assert all(result.summary.by_verdict[e] for e in EXPOSURE_ORDER)


def test_audit_streams_in_constant_memory(kb, tmp_path) -> None:
    path = tmp_path / "big.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "vendor", "model", "firmware", "mac", "site", "role", "ft"])
        for i in range(30000):
            w.writerow([f"d{i}", "EnGenius", ("ECB1750", "EAP1200H", "ENS620EXT")[i % 3], f"1.0.{i % 7}",
                        f"88:dc:96:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}", f"s{i % 50}",
                        ("access-point", "client-bridge", "repeater")[i % 3], ("yes", "no")[i % 2]])
    audit = Audit(kb)
    tracemalloc.start()
    count = 0
    peak_after_warmup = 0
    for i, _ in enumerate(audit.records(iter_inventory(path))):
        count += 1
        if i == 2000:
            tracemalloc.reset_peak()
    _, peak_after_warmup = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 30000 and audit.summary.devices == 30000
    assert peak_after_warmup < 4 * 1024 * 1024  # flat: no per-device accumulation
    assert audit.engine.misses <= 3 * 7 * 2 and audit.engine.hits == 30000 - audit.engine.misses
    assert NO_SITE not in audit.summary.by_site
