"""Device roles: which handshake side each runs, and the spellings accepted for them."""

from __future__ import annotations

import dataclasses

import pytest

from krackwatch.fleet.model import Device, Role, VendorSource, make_device, parse_role

# Which side of the 4-way/group-key handshake each role runs (IEEE 802.11 12.7: the supplicant is the STA,
# the authenticator the AP). Repeaters and mesh nodes run both; a WDS bridge authenticates its peer and is
# authenticated by it (EnGenius lists "WDS bridge" mode as exposed to the client-side KRACK CVEs).
EXPECTED_SIDES = {
    Role.ACCESS_POINT: (False, True),
    Role.STATION: (True, False),
    Role.CLIENT_BRIDGE: (True, False),
    Role.WDS_BRIDGE: (True, True),
    Role.WDS_STATION: (True, False),
    Role.REPEATER: (True, True),
    Role.MESH: (True, True),
    Role.CAMERA: (True, False),
    Role.DVR: (True, False),
    Role.PHONE: (True, False),
    Role.LAPTOP: (True, False),
    Role.IOT: (True, False),
}


def test_the_twelve_roles_of_the_inventory_format() -> None:
    assert [r.value for r in Role] == [
        "access-point", "station", "client-bridge", "wds-bridge", "wds-station", "repeater", "mesh",
        "camera", "dvr", "phone", "laptop", "iot",
    ]


@pytest.mark.parametrize("role", list(Role))
def test_handshake_sides(role: Role) -> None:
    assert (role.is_client_side, role.is_authenticator_side) == EXPECTED_SIDES[role]


@pytest.mark.parametrize(("text", "role"), [
    ("access-point", Role.ACCESS_POINT), ("AP", Role.ACCESS_POINT), ("Access Point", Role.ACCESS_POINT),
    ("access_point", Role.ACCESS_POINT), ("router", Role.ACCESS_POINT),
    ("STA", Role.STATION), ("client", Role.STATION), ("Wi-Fi client", Role.STATION),
    ("client bridge", Role.CLIENT_BRIDGE), ("Client-Bridge", Role.CLIENT_BRIDGE),
    ("station bridge", Role.CLIENT_BRIDGE),
    ("WDS", Role.WDS_BRIDGE), ("wds bridge", Role.WDS_BRIDGE), ("WDS station", Role.WDS_STATION),
    ("extender", Role.REPEATER), ("Range Extender", Role.REPEATER), ("mesh node", Role.MESH),
    ("ipcam", Role.CAMERA), ("IP Camera", Role.CAMERA), ("NVR", Role.DVR), ("dvr", Role.DVR),
    ("smartphone", Role.PHONE), ("tablet", Role.PHONE), ("notebook", Role.LAPTOP), ("PC", Role.LAPTOP),
    ("IoT", Role.IOT), ("printer", Role.IOT), ("  camera  ", Role.CAMERA),
])
def test_role_synonyms(text: str, role: Role) -> None:
    assert parse_role(text) is role


@pytest.mark.parametrize("text", ["toaster", "", "a p", "access", "wds-brdge", "fridge"])
def test_unknown_roles(text: str) -> None:
    assert parse_role(text) is None


def test_make_device_builds_the_same_value_as_the_constructor() -> None:
    args = ("cam", "Axis", "axis", "M1065-LW", "M1065LW", "8.40.1", "00:40:8c:00:00:01", "HQ", Role.CAMERA,
            None, frozenset({"CCMP"}), True, (("owner", "sec"),), 7, VendorSource.INVENTORY)
    assert len(args) == len(dataclasses.fields(Device))
    fast, slow = make_device(*args), Device(*args)
    assert fast == slow
    assert hash(fast) == hash(slow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.name = "other"  # type: ignore[misc]
