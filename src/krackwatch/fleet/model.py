"""Values of the fleet inventory: device roles and devices.

A device's role says which side of the 802.11 handshakes it runs: the supplicant (Wi-Fi client, hit by nine of
the ten KRACK CVEs) or the authenticator (access point, hit by CVE-2017-13082 when 802.11r FT is on).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

__all__ = ["CIPHERS", "Device", "Role", "VendorSource", "make_device", "parse_role"]

# Pairwise/group ciphers an inventory may list (IEEE 802.11-2020 12.5: CCMP, GCMP, TKIP, WEP).
CIPHERS = ("CCMP", "GCMP", "TKIP", "WEP")


class Role(StrEnum):
    """What a device does on Wi-Fi. Cameras, DVRs, phones, laptops and IoT are Wi-Fi clients."""

    ACCESS_POINT = "access-point"
    STATION = "station"
    CLIENT_BRIDGE = "client-bridge"
    WDS_BRIDGE = "wds-bridge"
    WDS_STATION = "wds-station"
    REPEATER = "repeater"
    MESH = "mesh"
    CAMERA = "camera"
    DVR = "dvr"
    PHONE = "phone"
    LAPTOP = "laptop"
    IOT = "iot"

    @property
    def is_client_side(self) -> bool:
        """Runs the supplicant side of the 4-way/group-key handshakes (CVE-2017-13077..81, 84, 86..88).

        A WDS bridge counts on both sides: its link peers each authenticate the other, and EnGenius's KRACK
        advisory lists "WDS bridge" mode as potentially affected by the client-side issues.
        """
        return self not in _AUTHENTICATOR_ONLY

    @property
    def is_authenticator_side(self) -> bool:
        """Runs the authenticator side (AP), exposed to CVE-2017-13082 when 802.11r FT is enabled."""
        return self in _AUTHENTICATOR_ROLES


_AUTHENTICATOR_ONLY = frozenset({Role.ACCESS_POINT})
_AUTHENTICATOR_ROLES = frozenset({Role.ACCESS_POINT, Role.WDS_BRIDGE, Role.REPEATER, Role.MESH})

# Accepted spellings, compared after lower-casing and turning '_', '-' and runs of blanks into one space.
# A home "router" is treated as an access point; NVRs as DVRs; tablets as phones; desktops and PCs as laptops
# (all Wi-Fi clients with the same exposure); printers, TVs, speakers and sensors as IoT.
_ROLE_SYNONYMS: dict[str, Role] = {
    "access point": Role.ACCESS_POINT, "ap": Role.ACCESS_POINT, "accesspoint": Role.ACCESS_POINT,
    "wap": Role.ACCESS_POINT, "wireless access point": Role.ACCESS_POINT, "router": Role.ACCESS_POINT,
    "wireless router": Role.ACCESS_POINT, "wifi router": Role.ACCESS_POINT, "wi fi router": Role.ACCESS_POINT,
    "base station": Role.ACCESS_POINT, "authenticator": Role.ACCESS_POINT,
    "station": Role.STATION, "sta": Role.STATION, "client": Role.STATION, "wifi client": Role.STATION,
    "wi fi client": Role.STATION, "wireless client": Role.STATION, "supplicant": Role.STATION,
    "client bridge": Role.CLIENT_BRIDGE, "clientbridge": Role.CLIENT_BRIDGE,
    "bridge client": Role.CLIENT_BRIDGE, "station bridge": Role.CLIENT_BRIDGE, "cb": Role.CLIENT_BRIDGE,
    "wds bridge": Role.WDS_BRIDGE, "wds": Role.WDS_BRIDGE, "wds ap": Role.WDS_BRIDGE,
    "wds station": Role.WDS_STATION, "wds client": Role.WDS_STATION, "wds sta": Role.WDS_STATION,
    "repeater": Role.REPEATER, "extender": Role.REPEATER, "range extender": Role.REPEATER,
    "universal repeater": Role.REPEATER, "wireless repeater": Role.REPEATER, "wifi extender": Role.REPEATER,
    "mesh": Role.MESH, "mesh node": Role.MESH, "mesh point": Role.MESH, "mesh ap": Role.MESH,
    "camera": Role.CAMERA, "ipcam": Role.CAMERA, "ip camera": Role.CAMERA, "ip cam": Role.CAMERA,
    "cam": Role.CAMERA, "cctv": Role.CAMERA, "webcam": Role.CAMERA, "security camera": Role.CAMERA,
    "dvr": Role.DVR, "nvr": Role.DVR, "recorder": Role.DVR, "video recorder": Role.DVR,
    "network video recorder": Role.DVR, "digital video recorder": Role.DVR,
    "phone": Role.PHONE, "smartphone": Role.PHONE, "mobile": Role.PHONE, "mobile phone": Role.PHONE,
    "handset": Role.PHONE, "cellphone": Role.PHONE, "tablet": Role.PHONE,
    "laptop": Role.LAPTOP, "notebook": Role.LAPTOP, "pc": Role.LAPTOP, "desktop": Role.LAPTOP,
    "computer": Role.LAPTOP, "workstation": Role.LAPTOP,
    "iot": Role.IOT, "internet of things": Role.IOT, "embedded": Role.IOT, "sensor": Role.IOT,
    "printer": Role.IOT, "smart tv": Role.IOT, "tv": Role.IOT, "speaker": Role.IOT,
    "smart speaker": Role.IOT, "thermostat": Role.IOT, "smart plug": Role.IOT,
}
for _role in Role:
    _ROLE_SYNONYMS[_role.value.replace("-", " ")] = _role


def parse_role(text: str) -> Role | None:
    """The Role a spelling names ("AP", "Access Point", "client_bridge", "NVR"...), None if none."""
    role = _ROLE_CACHE.get(text)
    if role is not None:
        return role
    key = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
    role = _ROLE_SYNONYMS.get(key)
    if role is not None and len(_ROLE_CACHE) < 4096:
        _ROLE_CACHE[text] = role
    return role


_ROLE_CACHE: dict[str, Role] = {}


class VendorSource(StrEnum):
    """Where ``Device.vendor_key`` came from."""

    INVENTORY = "inventory"  # the vendor column/field
    OUI = "oui"  # the IEEE registrant of the MAC address prefix (vendor column empty)
    UNKNOWN = "unknown"  # neither: no vendor given and no usable MAC


@dataclass(frozen=True, slots=True)
class Device:
    """One inventory entry, validated and normalised.

    ``vendor``/``model``/``firmware`` are as given; ``vendor_key``/``model_key`` are the normalised forms used
    for matching. ``mac`` is lower-case colon form or None; ``ft``/``pmf`` are None when not stated.
    ``attributes`` keeps the other columns (non-empty only) in file order. ``source_line`` is the physical
    line the entry starts on (1-based; 0 when the source has no lines).
    """

    name: str
    vendor: str
    vendor_key: str
    model: str
    model_key: str
    firmware: str
    mac: str | None
    site: str
    role: Role
    ft: bool | None
    ciphers: frozenset[str]
    pmf: bool | None
    attributes: tuple[tuple[str, str], ...] = ()
    source_line: int = 0
    vendor_source: VendorSource = VendorSource.INVENTORY


def _setters() -> tuple[object, ...]:
    names = [f.name for f in fields(Device)]
    if tuple(names) != Device.__slots__:
        raise AssertionError("Device slots and fields disagree")
    return tuple(getattr(Device, name).__set__ for name in names)


(_s_name, _s_vendor, _s_vendor_key, _s_model, _s_model_key, _s_firmware, _s_mac, _s_site, _s_role, _s_ft,
 _s_ciphers, _s_pmf, _s_attributes, _s_source_line, _s_vendor_source) = _setters()
_new = object.__new__


def make_device(
    name: str,
    vendor: str,
    vendor_key: str,
    model: str,
    model_key: str,
    firmware: str,
    mac: str | None,
    site: str,
    role: Role,
    ft: bool | None,
    ciphers: frozenset[str],
    pmf: bool | None,
    attributes: tuple[tuple[str, str], ...],
    source_line: int,
    vendor_source: VendorSource,
) -> Device:
    """``Device(...)`` for the import hot path: fills the slots directly (about twice as fast as the
    frozen dataclass ``__init__``, which routes every field through ``object.__setattr__``)."""
    d = _new(Device)
    _s_name(d, name)  # type: ignore[operator]
    _s_vendor(d, vendor)  # type: ignore[operator]
    _s_vendor_key(d, vendor_key)  # type: ignore[operator]
    _s_model(d, model)  # type: ignore[operator]
    _s_model_key(d, model_key)  # type: ignore[operator]
    _s_firmware(d, firmware)  # type: ignore[operator]
    _s_mac(d, mac)  # type: ignore[operator]
    _s_site(d, site)  # type: ignore[operator]
    _s_role(d, role)  # type: ignore[operator]
    _s_ft(d, ft)  # type: ignore[operator]
    _s_ciphers(d, ciphers)  # type: ignore[operator]
    _s_pmf(d, pmf)  # type: ignore[operator]
    _s_attributes(d, attributes)  # type: ignore[operator]
    _s_source_line(d, source_line)  # type: ignore[operator]
    _s_vendor_source(d, vendor_source)  # type: ignore[operator]
    return d
