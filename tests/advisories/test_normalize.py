"""Vendor, model and version normalisation.

Truth used here: company identities (which spellings name the same company, from the advisory sources and the
IEEE registry), EnGenius's own model table, dpkg's version ordering, and algebraic properties.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.advisories.normalize import (
    Version,
    known_vendor_keys,
    model_key,
    normalize_vendor,
    parse_version,
    split_hw_revision,
    vendor_display,
    vendor_family,
    version_at_least,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "inventories"


def _advisory_vendor_names() -> list[str]:
    lines = (DATA / "advisory_vendor_names.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return [row[0] for row in rows[1:]]


# --------------------------------------------------------------------------------------------------------
# Vendors
# --------------------------------------------------------------------------------------------------------

# Spellings of one company, as they occur in CERT/CC and krackinfo vendor lists, vendor advisories, the IEEE
# MA-L registry and the task's examples. Every group must collapse to one key; different groups must not meet.
SAME_COMPANY: tuple[tuple[str, ...], ...] = (
    ("HP", "HP Inc.", "HP Inc"),
    ("Hewlett Packard Enterprise", "HPE", "Hewlett Packard Enterprise / Aruba", "HPN Supply Chain"),
    ("Hewlett Packard", "Hewlett-Packard", "Hewlett-Packard Company"),
    ("Apple", "Apple Inc.", "Apple, Inc."),
    ("Cisco", "Cisco Systems", "Cisco Systems, Inc", "Cisco Systems Inc"),
    ("Ubiquiti", "Ubiquiti Networks", "Ubiquiti Inc"),
    ("TP-Link", "TPLINK", "TP-LINK", "TP-LINK TECHNOLOGIES CO.,LTD.", "TP-Link Corporation Limited"),
    ("D-Link", "D-Link Systems, Inc.", "D-LINK SYSTEMS, INC.", "D-Link International", "D-Link Corporation"),
    ("Hikvision", "Hangzhou Hikvision", "Hangzhou Hikvision Digital Technology Co.,Ltd."),
    ("Dahua", "Zhejiang Dahua Technology Co., Ltd.", "ZHEJIANG DAHUA TECHNOLOGYCO.,LTD"),
    ("Axis Communications", "Axis Communications AB", "Axis"),
    ("EnGenius", "EnGenius Technologies", "EnGenius Networks", "EnGenius Technologies, Inc."),
    ("MikroTik", "Mikrotik", "Mikrotikls SIA", "Mikrot\u012bkls SIA", "Routerboard.com"),
    ("Raspberry Pi Foundation", "Raspberry Pi Trading Ltd", "Raspberry Pi (Trading) Ltd",
     "Raspbian (Raspberry Pi)", "Raspberry Pi (Raspbian)"),
    ("Espressif", "Espressif Systems", "Espressif Inc."),
    ("Google", "Google, Inc.", "Google LLC"),
    ("Samsung", "Samsung Electronics", "Samsung Mobile", "Samsung Electronics Co.,Ltd"),
    ("Microsoft", "Microsoft Corporation", "Microsoft Corp."),
    ("Intel", "Intel Corporation", "Intel Corporate"),
    ("Broadcom", "Broadcom Limited", "Broadcom / Cypress"),
    ("Qualcomm", "Qualcomm Atheros", "QUALCOMM Incorporated", "Atheros Communications, Inc.",
     "Qualcomm Inc."),
    ("Realtek", "REALTEK SEMICONDUCTOR CORP."),
    ("MediaTek", "MediaTek Inc.", "Mediatek Corp.", "Ralink Technology, Corp."),
    ("Netgear", "Netgear, Inc.", "NETGEAR"),
    ("Linksys", "Cisco-Linksys, LLC", "The Linksys Group, Inc."),
    ("Belkin", "Belkin, Inc.", "Belkin International Inc.", "Belkin, Linksys, and Wemo"),
    ("ASUS", "Asus", "ASUSTeK", "AsusTek Computer Inc.", "ASUSTek COMPUTER INC."),
    ("Aruba", "Aruba Networks", "Aruba (HPE)", "Aruba Networks, an HPE company",
     "Aruba, a Hewlett Packard Enterprise Company"),
    ("Ruckus", "Ruckus Wireless"),
    ("Fortinet", "FortiNet", "Fortinet, Inc."),
    ("Juniper", "Juniper Networks"),
    ("Meraki", "Cisco Meraki"),
    ("Zyxel", "ZyXEL", "Zyxel Communications Corporation"),
    ("Huawei", "Huawei Technologies", "HUAWEI TECHNOLOGIES CO.,LTD"),
    ("Xiaomi", "Xiaomi Communications Co Ltd", "Beijing Xiaomi Mobile Software Co., Ltd"),
    ("Sonos", "Sonos, Inc."),
    ("Amazon", "Amazon Technologies Inc.", "Amazon.com, LLC"),
    ("Android", "Android Open Source Project", "Google (Android)"),
    ("OpenBSD",),
    ("FreeBSD", "FreeBSD Project"),
    ("Debian", "Debian GNU/Linux", "Debian LTS"),
    ("Ubuntu", "Ubuntu (Canonical)", "Canonical", "Canonical Ltd."),
    ("Red Hat", "Red Hat, Inc."),
    ("hostap (w1.fi)", "HostAP", "w1.fi", "wpa_supplicant", "hostapd"),
    ("LEDE", "LEDE Project", "LEDE / OpenWrt", "OpenWrt"),
    ("Turris Omnia", "Turris (CZ.NIC)", "CZ.NIC Turris"),
    ("Internet Systems Consortium", "Internet Systems Consortium - DHCP", "ISC-DHCP"),
    ("Nest", "Nest Labs", "Nest Labs Inc."),
    ("pfSense", "pfSENSE", "pfSense (Netgate)"),
    ("SonicWall", "Sonicwall", "SonicWALL"),
    ("Juniper Systems",),
    ("Check Point Software Technologies", "Check Point"),
    ("Checkpoint Systems, Inc.",),
    ("Axon (TASER)", "Taser International Inc."),
    ("Axon Networks Inc.",),
    ("Cypress Semiconductor", "CYPRESS SEMICONDUCTOR"),
    ("Cypress Technology CO., LTD.",),
    ("Toshiba Memory Corporation",),
    ("Toshiba Commerce Solutions",),
    ("Toshiba Electronic Devices & Storage Corporation",),
    ("Dell", "Dell Inc."),
    ("Dell EMC",),
    ("Sierra Wireless",),
)


@pytest.mark.parametrize("group", SAME_COMPANY, ids=lambda g: g[0])
def test_spellings_of_one_company_meet(group: tuple[str, ...]) -> None:
    keys = {normalize_vendor(name) for name in group}
    assert len(keys) == 1, {name: normalize_vendor(name) for name in group}
    assert keys != {""}


def test_different_companies_stay_apart() -> None:
    keys = [normalize_vendor(group[0]) for group in SAME_COMPANY]
    assert len(set(keys)) == len(keys), sorted(k for k in keys if keys.count(k) > 1)


def test_hp_inc_and_hpe_are_different_companies_and_pre_split_hp_points_to_both() -> None:
    hp, hpe, old = normalize_vendor("HP Inc."), normalize_vendor("HPE"), normalize_vendor("Hewlett Packard")
    assert len({hp, hpe, old}) == 3
    assert set(vendor_family(old)) == {old, hp, hpe}
    assert vendor_family(hp) == (hp,)


def test_brand_families_name_the_parent_advisory_vendor() -> None:
    assert normalize_vendor("Cisco") in vendor_family(normalize_vendor("Cisco Meraki"))
    assert normalize_vendor("Hewlett Packard Enterprise") in vendor_family(normalize_vendor("Aruba Networks"))
    assert normalize_vendor("Belkin") in vendor_family(normalize_vendor("Linksys"))
    assert normalize_vendor("EnGenius") in vendor_family(normalize_vendor("Senao International Co., Ltd."))


@pytest.mark.parametrize("placeholder", ["", "   ", "Unknown", "N/A", "n/a", "-", "none", "?"])
def test_placeholders_mean_no_vendor(placeholder: str) -> None:
    assert normalize_vendor(placeholder) == ""


def test_every_advisory_vendor_gets_a_stable_displayable_key() -> None:
    names = _advisory_vendor_names()
    assert len(names) > 250
    keys = known_vendor_keys()
    for name in names:
        key = normalize_vendor(name)
        assert key, name
        assert key.isascii() and key.isalnum() and key == key.lower(), (name, key)
        assert normalize_vendor(key) == key
        # The alias table was derived from these files: each one is in it, with a display name.
        assert key in keys, name
        assert normalize_vendor(vendor_display(key)) == key, name


def test_the_advisory_lists_collapse_their_duplicate_spellings() -> None:
    names = _advisory_vendor_names()
    # 296 spellings in the three files; each company in SAME_COMPANY appears under several of them.
    keys = {normalize_vendor(n) for n in names}
    assert len(keys) < len(names) - 50


def test_display_names() -> None:
    assert vendor_display(normalize_vendor("TPLINK")) == "TP-Link"
    assert vendor_display(normalize_vendor("Ubiquiti Inc")) == "Ubiquiti"
    assert vendor_display("someunknownvendor") == "someunknownvendor"


def test_oui_registrant_names_meet_advisory_names() -> None:
    netaddr = pytest.importorskip("netaddr")
    # (MAC from a device of the vendor, how the advisories spell that vendor)
    pairs = [
        ("b8:27:eb:00:00:01", "Raspbian (Raspberry Pi)"),
        ("dc:a6:32:00:00:01", "Raspberry Pi (Raspbian)"),
        ("00:0c:42:00:00:01", "MikroTik"),
        ("88:dc:96:00:00:01", "EnGenius"),
        ("f0:9f:c2:00:00:01", "Ubiquiti Networks"),
        ("0c:75:d2:00:00:01", "Hikvision"),
        ("3c:5a:b4:00:00:01", "Google"),
        ("a4:c3:61:00:00:01", "Apple"),
        ("00:0b:86:00:00:01", "Aruba Networks"),
        ("e0:55:3d:00:00:01", "Cisco Meraki"),
    ]
    for mac, advisory in pairs:
        org = netaddr.EUI(mac).oui.registration().org
        assert normalize_vendor(org) == normalize_vendor(advisory), (mac, org, advisory)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_normalize_vendor_is_idempotent(name: str) -> None:
    key = normalize_vendor(name)
    assert normalize_vendor(key) == key


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([g[0] for g in SAME_COMPANY]),
       st.sampled_from(["", " Inc.", ", Inc", " Corporation", " Co., Ltd.", " GmbH", " LLC", " S.A."]))
def test_corporate_suffixes_do_not_change_the_key(name: str, suffix: str) -> None:
    assert normalize_vendor(name + suffix) == normalize_vendor(name)
    assert normalize_vendor(name.upper() + suffix) == normalize_vendor(name)


# --------------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------------

# The `model` column of EnGenius's KRACK "Model Security Patch Status" table (shared engenius_models.csv),
# in order; EAP350v2/EAP350V2, EAP300v2, ESR300, ESR350 and ESR600 appear twice there.
ENGENIUS_MODELS = (
    "EWS360AP", "EAP1200H", "EAP1300", "EAP1300EXT", "EAP150v2", "EAP1750H", "EAP2200", "EAP300v2",
    "EAP350v2", "EAP600", "EAP900H", "ECB1200", "ECB1750", "EMR3000", "ENH1750EXT", "ENH202v2", "ENH220EXT",
    "ENH500v2",
    "ENH710EXT", "ENH900EXT", "ENS1200", "ENS1750", "ENS202", "ENS202EXT", "ENS500", "ENS500-AC", "ENS500EXT",
    "ENS500EXT-AC", "ENS620EXT", "EnStation2", "EnStation5", "EnStation5-AC", "EnStationAC", "EPG5000",
    "ESR1200", "ESR1750", "ESR300", "ESR300H", "ESR350", "ESR350H", "ESR600", "ESR600H", "ESR750H", "ESR900",
    "EWS1025CAM", "EWS210AP", "EWS300AP", "EWS310AP", "EWS320AP", "EWS350AP", "EWS370AP", "EWS371AP",
    "EWS500AP", "EWS510AP", "EWS550AP", "EWS650AP", "EWS660AP", "EWS860AP", "EWS870AP", "EWS871AP",
    "EAP350V2", "EAP300v2", "ESR300", "ESR350", "ESR600",
)


def test_engenius_table_models_stay_distinct_and_duplicates_meet() -> None:
    keys = [model_key(m) for m in ENGENIUS_MODELS]
    assert len(ENGENIUS_MODELS) == 65
    assert len(set(keys)) == 60  # the advisory's 60 distinct models
    assert model_key("EAP350v2") == model_key("EAP350V2")


@pytest.mark.parametrize("spelling", [
    "ENS620EXT", "ens620ext", "ENS 620 EXT", "ENS-620-EXT", "ENS_620_EXT", "EnGenius ENS620EXT",
    "EnGenius Networks ENS620EXT", " ens620ext ",
])
def test_model_spellings_meet(spelling: str) -> None:
    assert model_key(spelling) == "ENS620EXT"


@pytest.mark.parametrize("spelling", ["EAP350 v2", "EAP350V2", "eap350-v2", "EAP350 Rev.2", "EAP350 rev 2",
                                      "EAP350 hw v2.0", "EAP350 (v2)", "EAP350 Ver. 2"])
def test_hardware_revision_is_kept_but_spelled_one_way(spelling: str) -> None:
    assert model_key(spelling) == model_key("EAP350v2")
    assert model_key(spelling) != model_key("EAP350")
    assert split_hw_revision(model_key(spelling)) == (model_key("EAP350"), "2")


def test_vendor_prefix_is_stripped_only_before_a_model_number() -> None:
    assert model_key("TP-Link Archer C7 v2") == model_key("Archer C7 v2")
    assert model_key("Netgear R7000", "Netgear") == model_key("R7000")
    assert model_key("Acme X100", "Acme Corp") == "X100"  # the given vendor, even if not in the table
    assert model_key("Apple TV") == "APPLETV"  # no digits after the vendor name: "TV" alone names nothing
    assert model_key("Nest Learning Thermostat") == "NESTLEARNINGTHERMOSTAT"


def test_model_numbers_that_look_like_revisions_are_left_alone() -> None:
    assert model_key("Netgear R7000") == "R7000"
    assert split_hw_revision("R7000") == ("R7000", None)
    assert split_hw_revision("ENSTATION5AC") == ("ENSTATION5AC", None)
    assert model_key("") == ""


# --------------------------------------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "product", "release", "pre"), [
    ("2.4", "", (2, 4), None),
    ("v1.2.3", "", (1, 2, 3), None),
    ("V1.2.3", "", (1, 2, 3), None),
    ("wpa_supplicant 2.4", "wpasupplicant", (2, 4), None),
    ("6.40.4", "", (6, 40, 4), None),
    ("RouterOS 6.40.4", "routeros", (6, 40, 4), None),
    ("1.0.0.1234", "", (1, 0, 0, 1234), None),
    ("V5.4.5 build 170721", "", (5, 4, 5), None),
    ("2.0.0_rc1", "", (2, 0, 0), ("rc", 1)),
    ("6.41rc", "", (6, 41), ("rc", 0)),
    ("10.12.6 (16G1036)", "", (10, 12, 6), None),
    ("firmware 7.7.9", "", (7, 7, 9), None),
    ("wpa_supplicant-2.6-5.el7_4.1", "wpasupplicant", (2, 6), None),
    ("iOS 11.1", "ios", (11, 1), None),
])
def test_parse_version_forms(text: str, product: str, release: tuple[int, ...], pre: object) -> None:
    v = parse_version(text)
    assert v.known
    assert v.product == product
    assert v.release == release
    assert v.pre == pre
    assert str(v) == text


@pytest.mark.parametrize("text", ["", "   ", "unknown", "n/a", "latest", "x" * 2000, "1" * 40, "build é"])
def test_unparseable_text_is_unknown_not_an_error(text: str) -> None:
    v = parse_version(text)
    assert not v.known
    assert version_at_least(v, "1.0") is None
    assert version_at_least("1.0", v) is None


@pytest.mark.parametrize(("older", "newer"), [
    ("2.4", "2.4.1"),
    ("2.6", "2.7"),
    ("2.9", "2.10"),
    ("v1.2.3", "1.2.4"),
    ("6.39.3", "6.40.4"),
    ("6.40.4", "6.41rc"),  # RouterOS: the 6.41 release candidate is newer than 6.40.4...
    ("6.41rc", "6.41"),  # ...and older than 6.41 itself
    ("2.0.0_rc1", "2.0.0_rc2"),
    ("2.0.0_rc2", "2.0.0"),
    ("2.0.0-beta3", "2.0.0-rc1"),
    ("2.0.0-alpha", "2.0.0-beta"),
    ("V5.4.5 build 170721", "V5.4.5 build 170801"),
    ("V5.4.5 build 170801", "V5.4.6 build 170101"),
    ("10.12.6", "10.12.6 (16G1036)"),
    ("10.12.6 (16G29)", "10.12.6 (16G1036)"),
    ("1.0.0.1234", "1.0.0.1235"),
    ("1.0.2", "1.0.2k"),
    ("1.0.2j", "1.0.2k"),
    ("unknown", "0.0.1"),  # unknown sorts first so the order stays total
])
def test_version_order(older: str, newer: str) -> None:
    a, b = parse_version(older), parse_version(newer)
    assert a < b and b > a and a != b
    if a.known:
        assert version_at_least(b, a) is True
        assert version_at_least(a, b) is False


@pytest.mark.parametrize(("a", "b"), [("2.4", "2.4.0"), ("v1.2.3", "1.2.3"), ("wpa_supplicant 2.4", "2.4"),
                                      ("1.0", "1.0.0.0"), ("V5.4.5", "v5.4.5")])
def test_equal_versions(a: str, b: str) -> None:
    assert parse_version(a) == parse_version(b)
    assert hash(parse_version(a)) == hash(parse_version(b))
    assert version_at_least(a, b) is True


def test_version_at_least_refuses_to_compare_different_products() -> None:
    assert version_at_least("iOS 11.1", "macOS 10.13.1") is None
    assert version_at_least("wpa_supplicant 2.6", "2.7") is False  # a bare threshold applies to any product
    assert version_at_least("wpasupplicant 2.7", "wpa_supplicant 2.7") is True
    assert version_at_least("RouterOS 6.40.4", "RouterOS 6.40.4") is True
    assert version_at_least(parse_version("Firmware 7.7.9"), "7.7.9") is True


# Debian/Ubuntu package versions from the advisories (DSA-3999, DLA-1150, DLA-1573, USN-3455) and some
# dpkg corner cases; dpkg itself is the judge of their order.
DEBIAN_VERSIONS = [
    "2.3-1+deb8u5", "2.3-1+deb8u4", "2:2.4-1+deb9u1", "2:2.4-1", "2.4-1+deb9u1", "1.0-3+deb7u5", "1.0-3",
    "20161130-4~deb8u1", "20161130-4", "20161130-3", "2.4-0ubuntu6.2", "2.4-0ubuntu6", "2.4-0ubuntu9.1",
    "2.1-0ubuntu1.5", "1:2.1-0ubuntu1.5", "1.0~rc1", "1.0", "1.0-1", "1.0+b1", "3.2.96-2", "3.2.96-1",
]


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg as the reference")
def test_debian_versions_order_like_dpkg() -> None:
    for a in DEBIAN_VERSIONS:
        for b in DEBIAN_VERSIONS:
            if a >= b:
                continue
            va, vb = parse_version(a), parse_version(b)
            if subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0:
                assert va < vb, (a, b)
            elif subprocess.run(["dpkg", "--compare-versions", a, "gt", b], check=False).returncode == 0:
                assert va > vb, (a, b)
            else:
                assert va == vb, (a, b)


_version_text = st.one_of(
    st.text(max_size=24),
    st.from_regex(r"\A(v|V|wpa_supplicant |RouterOS |\d:)?\d{1,3}(\.\d{1,3}){0,4}"
                  r"([-_~.]?(rc|beta|alpha|b|p|k)?\d{0,3})?( build \d{1,6}| \(\d{1,2}[A-Z]\d{1,4}\))?\Z"),
)


@settings(max_examples=300, deadline=None)
@given(_version_text, _version_text, _version_text)
def test_parse_version_is_a_total_order(a: str, b: str, c: str) -> None:
    va, vb, vc = parse_version(a), parse_version(b), parse_version(c)
    assert isinstance(va, Version)
    # Exactly one of <, ==, > holds (totality, and == agrees with hash).
    assert (va < vb) + (va == vb) + (va > vb) == 1
    if va == vb:
        assert hash(va) == hash(vb)
    # Antisymmetry and transitivity.
    if va <= vb <= va:
        assert va == vb
    if va <= vb <= vc:
        assert va <= vc
    if va < vb < vc:
        assert va < vc
    assert sorted([va, vb, vc]) == sorted([vc, vb, va])
