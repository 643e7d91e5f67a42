"""MAC prefix -> vendor, checked against netaddr's own reader of the same IEEE registry files."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.advisories.normalize import normalize_vendor
from krackwatch.fleet import oui


@pytest.mark.parametrize(("text", "norm"), [
    ("AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff"),
    ("aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee:ff"),
    ("AABB.CCDD.EEFF", "aa:bb:cc:dd:ee:ff"),
    ("aabbccddeeff", "aa:bb:cc:dd:ee:ff"),
    (" 00:0c:42:01:02:03 ", "00:0c:42:01:02:03"),
])
def test_normalize_mac_forms(text: str, norm: str) -> None:
    assert oui.normalize_mac(text) == norm


@pytest.mark.parametrize("text", [
    "", "zz:zz:zz:zz:zz:zz", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "aa:bb-cc:dd:ee:ff", "aabb.ccdd-eeff",
    "aa bb cc dd ee f", "0x:bb:cc:dd:ee:ff", "+a:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:f\u0660", "a_bbccddeeff",
])
def test_normalize_mac_rejects(text: str) -> None:
    assert oui.normalize_mac(text) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=6, max_size=6), st.sampled_from([":", "-", ".", ""]), st.booleans())
def test_normalize_mac_round_trip(raw: bytes, sep: str, upper: bool) -> None:
    h = raw.hex()
    if sep == ".":
        text = ".".join(h[i:i + 4] for i in range(0, 12, 4))
    else:
        text = sep.join(h[i:i + 2] for i in range(0, 12, 2))
    text = text.upper() if upper else text
    norm = oui.normalize_mac(text)
    assert norm == ":".join(f"{b:02x}" for b in raw)
    assert oui.is_group(norm) == bool(raw[0] & 0x01)
    assert oui.is_local(norm) == bool(raw[0] & 0x02)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_normalize_mac_never_raises(text: str) -> None:
    norm = oui.normalize_mac(text)
    assert norm is None or (len(norm) == 17 and bytes.fromhex(norm.replace(":", "")))


def test_randomised_and_group_addresses_name_no_vendor() -> None:
    local = oui.lookup("da:a1:19:12:34:56")  # U/L bit set: how phones randomise per network
    assert local.status is oui.OuiStatus.RANDOMISED and not local.has_vendor and local.vendor_key == ""
    group = oui.lookup("01:00:5e:00:00:fb")
    assert group.status is oui.OuiStatus.GROUP and not group.has_vendor
    assert oui.vendor_key_for("da:a1:19:12:34:56") == ""
    with pytest.raises(ValueError):
        oui.lookup("not a mac")


def test_registered_prefixes_agree_with_netaddr() -> None:
    netaddr = pytest.importorskip("netaddr")
    ma_l, iab = oui.registry_size()
    assert ma_l > 30000 and iab > 4000
    rng = random.Random(2017)
    checked = 0
    while checked < 400:
        value = rng.getrandbits(48) & ~(0x03 << 40)  # universally administered, individual
        mac = ":".join(f"{(value >> s) & 0xFF:02x}" for s in range(40, -8, -8))
        eui = netaddr.EUI(mac)
        try:
            expected = eui.iab.registration().org if eui.is_iab() else eui.oui.registration().org
        except netaddr.NotRegisteredError:
            assert oui.lookup(mac).status is oui.OuiStatus.UNREGISTERED
            continue
        got = oui.lookup(mac)
        assert got.status is oui.OuiStatus.REGISTERED, mac
        assert got.organization == expected.strip(), mac
        assert got.vendor_key == normalize_vendor(expected)
        assert oui.vendor_key_for(mac) == got.vendor_key
        checked += 1


@pytest.mark.parametrize(("mac", "org", "bits"), [
    ("b8:27:eb:12:34:56", "Raspberry Pi Foundation", 24),
    ("00:0c:42:aa:bb:cc", "Routerboard.com", 24),
    ("88:dc:96:00:00:01", "EnGenius Technologies, Inc.", 24),
    ("00:50:c2:f7:10:01", "RF Code", 36),  # IAB block 00-50-C2-F71 inside the IEEE-owned 00-50-C2
])
def test_known_registrations(mac: str, org: str, bits: int) -> None:
    netaddr = pytest.importorskip("netaddr")
    got = oui.lookup(mac)
    assert (got.organization, got.prefix_bits) == (org, bits)
    eui = netaddr.EUI(mac)
    assert org == (eui.iab if eui.is_iab() else eui.oui).registration().org


def test_iab_blocks_are_not_cached_under_their_parent_prefix() -> None:
    pytest.importorskip("netaddr")
    first = oui.vendor_key_for("00:50:c2:f7:10:01")  # RF Code
    second = oui.vendor_key_for("00:50:c2:9c:c0:01")  # Hirotech inc.
    assert first == normalize_vendor("RF Code")
    assert second == normalize_vendor("Hirotech inc.")
    assert first != second
