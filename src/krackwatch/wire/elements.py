"""802.11 elements (IEEE 802.11-2020 9.4.2): the generic TLV codec and typed codecs for the
elements KRACK analysis needs (SSID, DS Parameter Set, RSNE, WPA IE, MDE, FTE, CSA/ECSA, RSNXE,
vendor specific).

Every typed codec decodes an element's information field (after the Element ID and Length octets,
and after the Element ID Extension octet for id 255) and ``encode()`` gives back the same octets, so
``X.decode(d).encode() == d`` for every ``d`` that decodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import ClassVar, Self

from krackwatch.crypto.suites import AKM, Cipher, akm_or_int, cipher_or_int
from krackwatch.wire.errors import DecodeError, EncodeError

__all__ = [
    "CSA",
    "ECSA",
    "FTE",
    "MDE",
    "RSNE",
    "RSNXE",
    "WPAIE",
    "Element",
    "ElementExtID",
    "ElementID",
    "EncodeError",
    "FTSubelement",
    "FTSubelementID",
    "FtGtk",
    "FtIgtk",
    "NetworkInfo",
    "RSNCapability",
    "RSNXCapability",
    "VendorElement",
    "decode_elements",
    "ds_channel",
    "ds_element",
    "encode_elements",
    "find_element",
    "iter_elements",
    "network_info",
    "ssid",
    "ssid_element",
]


class ElementID(IntEnum):
    """Element IDs (IEEE 802.11-2020 Table 9-92), the ones the analysers look at or name."""

    SSID = 0
    SUPPORTED_RATES = 1
    DS_PARAMETER_SET = 3
    CF_PARAMETER_SET = 4
    TIM = 5
    IBSS_PARAMETER_SET = 6
    COUNTRY = 7
    REQUEST = 10
    BSS_LOAD = 11
    EDCA_PARAMETER_SET = 12
    CHALLENGE_TEXT = 16
    POWER_CONSTRAINT = 32
    POWER_CAPABILITY = 33
    TPC_REQUEST = 34
    TPC_REPORT = 35
    SUPPORTED_CHANNELS = 36
    CHANNEL_SWITCH_ANNOUNCEMENT = 37
    MEASUREMENT_REQUEST = 38
    MEASUREMENT_REPORT = 39
    QUIET = 40
    IBSS_DFS = 41
    ERP = 42
    HT_CAPABILITIES = 45
    QOS_CAPABILITY = 46
    RSN = 48
    EXTENDED_SUPPORTED_RATES = 50
    AP_CHANNEL_REPORT = 51
    NEIGHBOR_REPORT = 52
    MOBILITY_DOMAIN = 54
    FAST_BSS_TRANSITION = 55
    TIMEOUT_INTERVAL = 56
    RIC_DATA = 57
    SUPPORTED_OPERATING_CLASSES = 59
    EXTENDED_CHANNEL_SWITCH_ANNOUNCEMENT = 60
    HT_OPERATION = 61
    SECONDARY_CHANNEL_OFFSET = 62
    RM_ENABLED_CAPABILITIES = 70
    MULTIPLE_BSSID = 71
    BSS_COEXISTENCE_2040 = 72
    OVERLAPPING_BSS_SCAN_PARAMETERS = 74
    MANAGEMENT_MIC = 76
    LINK_IDENTIFIER = 101
    INTERWORKING = 107
    ADVERTISEMENT_PROTOCOL = 108
    ROAMING_CONSORTIUM = 111
    MESH_CONFIGURATION = 113
    MESH_ID = 114
    MESH_CHANNEL_SWITCH_PARAMETERS = 118
    EXTENDED_CAPABILITIES = 127
    VHT_CAPABILITIES = 191
    VHT_OPERATION = 192
    WIDE_BANDWIDTH_CHANNEL_SWITCH = 194
    TRANSMIT_POWER_ENVELOPE = 195
    CHANNEL_SWITCH_WRAPPER = 196
    OPERATING_MODE_NOTIFICATION = 199
    REDUCED_NEIGHBOR_REPORT = 201
    VENDOR_SPECIFIC = 221
    RSNX = 244
    EXTENSION = 255


class ElementExtID(IntEnum):
    """Element ID Extension values for id 255 (IEEE 802.11-2020 Table 9-92 and amendments)."""

    OWE_DH_PARAMETER = 32
    PASSWORD_IDENTIFIER = 33
    HE_CAPABILITIES = 35
    HE_OPERATION = 36
    OCI = 54
    REJECTED_GROUPS = 92
    ANTI_CLOGGING_TOKEN = 93
    EHT_OPERATION = 106
    MULTI_LINK = 107
    EHT_CAPABILITIES = 108


def _need(condition: bool, what: str, message: str) -> None:
    if not condition:
        raise EncodeError(f"{what}: {message}")


# --------------------------------------------------------------------------- generic elements


@dataclass(frozen=True, slots=True)
class Element:
    """One element: ``id``, information ``data`` and, for id 255, the Element ID Extension.

    For id 255 ``data`` excludes the extension octet. An id-255 element of length 0 (malformed, but
    seen) has ``ext_id`` None and empty data so that it still round-trips.
    """

    id: int
    data: bytes
    ext_id: int | None = None

    @property
    def length(self) -> int:
        """Value of the Length octet."""
        return len(self.data) + (1 if self.ext_id is not None else 0)

    def encode(self) -> bytes:
        _need(0 <= self.id <= 255, "element", f"id {self.id} out of range")
        if self.ext_id is not None:
            _need(self.id == 255, "element", "ext_id is only valid for element id 255")
            _need(0 <= self.ext_id <= 255, "element", f"ext_id {self.ext_id} out of range")
            _need(len(self.data) <= 254, "element", "information longer than 254 octets")
            return bytes((255, len(self.data) + 1, self.ext_id)) + self.data
        _need(self.id != 255 or not self.data, "element", "id 255 with data needs an ext_id")
        _need(len(self.data) <= 255, "element", "information longer than 255 octets")
        return bytes((self.id, len(self.data))) + self.data


def _iter_elements_at(buf: bytes, start: int, what: str = "element") -> Iterator[Element]:
    """Elements of ``buf[start:]``; DecodeError offsets are relative to ``buf``."""
    end = len(buf)
    pos = start
    while pos < end:
        if pos + 2 > end:
            raise DecodeError(what, "truncated element header (1 octet left)", pos)
        eid = buf[pos]
        stop = pos + 2 + buf[pos + 1]
        if stop > end:
            raise DecodeError(
                what, f"element {eid} length {buf[pos + 1]} runs {stop - end} octets past the end", pos
            )
        if eid == 255 and stop > pos + 2:
            yield Element(255, bytes(buf[pos + 3 : stop]), buf[pos + 2])
        else:
            yield Element(eid, bytes(buf[pos + 2 : stop]))
        pos = stop


def iter_elements(buf: bytes | bytearray | memoryview) -> Iterator[Element]:
    """Iterate over the elements of ``buf``; DecodeError (with offset) when a length runs past the end."""
    return _iter_elements_at(buf, 0)


def decode_elements(buf: bytes | bytearray | memoryview, start: int = 0) -> tuple[Element, ...]:
    """All elements of ``buf[start:]`` (offsets in errors relative to ``buf``)."""
    return tuple(_iter_elements_at(buf, start))


def encode_elements(elements: Iterable[Element]) -> bytes:
    return b"".join(e.encode() for e in elements)


def find_element(elements: Iterable[Element], eid: int, ext_id: int | None = None) -> Element | None:
    """First element with the given id (and extension id), or None."""
    for e in elements:
        if e.id == eid and (ext_id is None or e.ext_id == ext_id):
            return e
    return None


class _Typed:
    """Mixin for typed element codecs: ``from_element`` checks the id, ``element`` wraps."""

    __slots__ = ()
    ELEMENT_ID: ClassVar[int]
    EXT_ID: ClassVar[int | None] = None

    @classmethod
    def from_element(cls, element: Element) -> Self:
        if element.id != cls.ELEMENT_ID or element.ext_id != cls.EXT_ID:
            raise DecodeError(cls.__name__, f"element id {element.id}/{element.ext_id} is not {cls.__name__}")
        return cls.decode(element.data)  # type: ignore[attr-defined]

    def element(self) -> Element:
        return Element(self.ELEMENT_ID, self.encode(), self.EXT_ID)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- SSID, DS Parameter Set


def ssid(element: Element) -> bytes:
    """The SSID octets (0..32 of arbitrary bytes; never assume UTF-8)."""
    if element.id != ElementID.SSID:
        raise DecodeError("SSID", f"element id {element.id} is not SSID")
    if len(element.data) > 32:
        raise DecodeError("SSID", f"length {len(element.data)} exceeds 32", 1)
    return element.data


def ssid_element(value: bytes) -> Element:
    _need(len(value) <= 32, "SSID", "longer than 32 octets")
    return Element(ElementID.SSID, bytes(value))


def ds_channel(element: Element) -> int:
    """Current Channel of a DS Parameter Set element (9.4.2.4)."""
    if element.id != ElementID.DS_PARAMETER_SET:
        raise DecodeError("DS Parameter Set", f"element id {element.id} is not DS Parameter Set")
    if len(element.data) != 1:
        raise DecodeError("DS Parameter Set", f"length {len(element.data)}, expected 1", 1)
    return element.data[0]


def ds_element(channel: int) -> Element:
    _need(0 <= channel <= 255, "DS Parameter Set", f"channel {channel} out of range")
    return Element(ElementID.DS_PARAMETER_SET, bytes((channel,)))


# --------------------------------------------------------------------------- RSNE / WPA IE


class RSNCapability(IntFlag):
    """RSN Capabilities field bits (9.4.2.24.4). b2-3 and b4-5 are replay-counter count codes."""

    PREAUTH = 0x0001
    NO_PAIRWISE = 0x0002
    PTKSA_REPLAY_COUNTER_MASK = 0x000C
    GTKSA_REPLAY_COUNTER_MASK = 0x0030
    MFPR = 0x0040
    MFPC = 0x0080
    JOINT_MULTIBAND_RSNA = 0x0100
    PEERKEY = 0x0200
    SPP_AMSDU_CAPABLE = 0x0400
    SPP_AMSDU_REQUIRED = 0x0800
    PBAC = 0x1000
    EXTENDED_KEY_ID = 0x2000
    OCVC = 0x4000


# Replay-counter subfield code -> number of replay counters (9.4.2.24.4).
_REPLAY_COUNTERS = (1, 2, 4, 16)


def _suite(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 4], "big")


def _decode_suite_list(data: bytes, pos: int, what: str, field: str, conv) -> tuple[tuple, int]:
    n = len(data)
    if n - pos < 2:
        raise DecodeError(what, f"truncated {field} count", pos)
    count = data[pos] | (data[pos + 1] << 8)
    pos += 2
    if count * 4 > n - pos:
        raise DecodeError(what, f"{field} count {count} exceeds the {n - pos} octets left", pos - 2)
    items = tuple(conv(_suite(data, pos + 4 * i)) for i in range(count))
    return items, pos + 4 * count


def _encode_suite_list(items: tuple[int, ...]) -> bytes:
    out = bytearray(len(items).to_bytes(2, "little"))
    for s in items:
        out += int(s).to_bytes(4, "big")
    return bytes(out)


def _check_suite(value: int | None, what: str) -> None:
    _need(value is None or 0 <= int(value) <= 0xFFFFFFFF, what, f"suite selector {value} out of range")


def _check_field_order(what: str, fields: tuple, extra: bytes) -> None:
    """RSNE/WPA IE fields are optional only from the end: none absent before a present one (9.4.2.24.1)."""
    present = [f is not None for f in fields]
    last = max((i for i, p in enumerate(present) if p), default=-1)
    _need(all(present[: last + 1]), what, "a field is absent while a later field is present")
    _need(not extra or last == len(fields) - 1, what, "extra octets need every field present")


def _decode_suites(data: bytes, pos: int, what: str, group_name: str, caps_name: str) -> tuple:
    """The part RSNE and WPA IE share: group suite, pairwise list, AKM list, capabilities (each may end
    the element). Returns ``(group, pairwise, akms, capabilities, pos)``."""
    n = len(data)
    group = pairwise = akms = caps = None
    if pos < n:
        if n - pos < 4:
            raise DecodeError(what, f"truncated {group_name}", pos)
        group = cipher_or_int(_suite(data, pos))
        pos += 4
    if pos < n:
        pairwise, pos = _decode_suite_list(data, pos, what, "Pairwise Cipher Suite", cipher_or_int)
    if pos < n:
        akms, pos = _decode_suite_list(data, pos, what, "AKM Suite", akm_or_int)
    if pos < n:
        if n - pos < 2:
            raise DecodeError(what, f"truncated {caps_name}", pos)
        caps = data[pos] | (data[pos + 1] << 8)
        pos += 2
    return group, pairwise, akms, caps, pos


def _encode_suites(what: str, group, pairwise, akms, capabilities) -> bytes:
    """Encode the fields :func:`_decode_suites` reads (absent ones omitted)."""
    out = bytearray()
    if group is not None:
        _check_suite(group, what)
        out += int(group).to_bytes(4, "big")
    for suites in (pairwise, akms):
        if suites is not None:
            for suite in suites:
                _check_suite(suite, what)
            out += _encode_suite_list(suites)
    if capabilities is not None:
        _need(0 <= capabilities <= 0xFFFF, what, "capabilities out of range")
        out += capabilities.to_bytes(2, "little")
    return bytes(out)


@dataclass(frozen=True, slots=True)
class RSNE(_Typed):
    """RSN element (9.4.2.24). Every field after Version is optional and may be absent (None):
    real APs truncate the element after any field. Suites are ``krackwatch.crypto.suites`` values
    (unknown vendor suites stay ints). ``extra`` holds octets after the Group Management Cipher Suite.
    """

    ELEMENT_ID: ClassVar[int] = ElementID.RSN

    version: int = 1
    group_cipher: Cipher | int | None = Cipher.CCMP128
    pairwise_ciphers: tuple[Cipher | int, ...] | None = (Cipher.CCMP128,)
    akms: tuple[AKM | int, ...] | None = (AKM.PSK,)
    capabilities: int | None = 0
    pmkids: tuple[bytes, ...] | None = None
    group_mgmt_cipher: Cipher | int | None = None
    extra: bytes = b""

    @classmethod
    def decode(cls, data: bytes) -> RSNE:
        what = "RSNE"
        n = len(data)
        if n < 2:
            raise DecodeError(what, "shorter than the Version field", 0)
        version = data[0] | (data[1] << 8)
        pos = 2
        pmkids = gmc = None
        extra = b""
        group, pairwise, akms, caps, pos = _decode_suites(data, pos, what, "Group Data Cipher Suite",
                                                          "RSN Capabilities")
        if pos < n:
            if n - pos < 2:
                raise DecodeError(what, "truncated PMKID Count", pos)
            count = data[pos] | (data[pos + 1] << 8)
            pos += 2
            if count * 16 > n - pos:
                raise DecodeError(what, f"PMKID count {count} exceeds the {n - pos} octets left", pos - 2)
            pmkids = tuple(bytes(data[pos + 16 * i : pos + 16 * i + 16]) for i in range(count))
            pos += 16 * count
        if pos < n:
            if n - pos < 4:
                raise DecodeError(what, "truncated Group Management Cipher Suite", pos)
            gmc = cipher_or_int(_suite(data, pos))
            pos += 4
        if pos < n:
            extra = bytes(data[pos:])
        return cls(version, group, pairwise, akms, caps, pmkids, gmc, extra)

    def encode(self) -> bytes:
        what = "RSNE"
        _need(0 <= self.version <= 0xFFFF, what, "version out of range")
        out = bytearray(self.version.to_bytes(2, "little"))
        fields = (
            self.group_cipher,
            self.pairwise_ciphers,
            self.akms,
            self.capabilities,
            self.pmkids,
            self.group_mgmt_cipher,
        )
        _check_field_order(what, fields, self.extra)
        out += _encode_suites(what, self.group_cipher, self.pairwise_ciphers, self.akms, self.capabilities)
        if self.pmkids is not None:
            _need(all(len(p) == 16 for p in self.pmkids), what, "a PMKID is not 16 octets")
            out += len(self.pmkids).to_bytes(2, "little") + b"".join(self.pmkids)
        if self.group_mgmt_cipher is not None:
            _check_suite(self.group_mgmt_cipher, what)
            out += int(self.group_mgmt_cipher).to_bytes(4, "big")
        out += self.extra
        _need(len(out) <= 255, what, "longer than 255 octets")
        return bytes(out)

    @property
    def mfpr(self) -> bool:
        """Management Frame Protection Required."""
        return bool((self.capabilities or 0) & RSNCapability.MFPR)

    @property
    def mfpc(self) -> bool:
        """Management Frame Protection Capable."""
        return bool((self.capabilities or 0) & RSNCapability.MFPC)

    @property
    def ptksa_replay_counters(self) -> int:
        """Number of PTKSA replay counters (1, 2, 4 or 16) the device supports (one per TID class)."""
        return _REPLAY_COUNTERS[((self.capabilities or 0) >> 2) & 3]

    @property
    def gtksa_replay_counters(self) -> int:
        return _REPLAY_COUNTERS[((self.capabilities or 0) >> 4) & 3]

    @property
    def effective_group_cipher(self) -> Cipher | int:
        """Group cipher with the 9.4.2.24.1 default (CCMP-128) applied when absent."""
        return Cipher.CCMP128 if self.group_cipher is None else self.group_cipher

    @property
    def effective_pairwise_ciphers(self) -> tuple[Cipher | int, ...]:
        return (Cipher.CCMP128,) if self.pairwise_ciphers is None else self.pairwise_ciphers

    @property
    def effective_akms(self) -> tuple[AKM | int, ...]:
        """AKMs with the 9.4.2.24.1 default (00-0F-AC:1, 802.1X) applied when the list is absent."""
        return (AKM.IEEE8021X,) if self.akms is None else self.akms


WPA_IE_PREFIX = b"\x00\x50\xf2\x01"


@dataclass(frozen=True, slots=True)
class WPAIE(_Typed):
    """WPA1 information element: vendor specific 00-50-F2 type 1 with an RSNE-like body
    (version, group cipher, pairwise list, AKM list, optional capabilities). Decodes the vendor
    element's data including the OUI and type octets.
    """

    ELEMENT_ID: ClassVar[int] = ElementID.VENDOR_SPECIFIC

    version: int = 1
    group_cipher: Cipher | int | None = Cipher.WPA_TKIP
    pairwise_ciphers: tuple[Cipher | int, ...] | None = (Cipher.WPA_TKIP,)
    akms: tuple[AKM | int, ...] | None = (AKM.WPA_PSK,)
    capabilities: int | None = None
    extra: bytes = b""

    @classmethod
    def decode(cls, data: bytes) -> WPAIE:
        what = "WPA IE"
        n = len(data)
        if n < 6 or bytes(data[:4]) != WPA_IE_PREFIX:
            raise DecodeError(what, "not a 00-50-F2 type 1 element with a version", 0)
        version = data[4] | (data[5] << 8)
        pos = 6
        extra = b""
        group, pairwise, akms, caps, pos = _decode_suites(data, pos, what, "Group Cipher Suite",
                                                          "WPA Capabilities")
        if pos < n:
            extra = bytes(data[pos:])
        return cls(version, group, pairwise, akms, caps, extra)

    def encode(self) -> bytes:
        what = "WPA IE"
        _need(0 <= self.version <= 0xFFFF, what, "version out of range")
        out = bytearray(WPA_IE_PREFIX + self.version.to_bytes(2, "little"))
        fields = (self.group_cipher, self.pairwise_ciphers, self.akms, self.capabilities)
        _check_field_order(what, fields, self.extra)
        out += _encode_suites(what, self.group_cipher, self.pairwise_ciphers, self.akms, self.capabilities)
        out += self.extra
        _need(len(out) <= 255, what, "longer than 255 octets")
        return bytes(out)

    @property
    def effective_group_cipher(self) -> Cipher | int:
        """WPA1 defaults when absent: TKIP ciphers and 802.1X."""
        return Cipher.WPA_TKIP if self.group_cipher is None else self.group_cipher

    @property
    def effective_pairwise_ciphers(self) -> tuple[Cipher | int, ...]:
        return (Cipher.WPA_TKIP,) if self.pairwise_ciphers is None else self.pairwise_ciphers

    @property
    def effective_akms(self) -> tuple[AKM | int, ...]:
        return (AKM.WPA_IEEE8021X,) if self.akms is None else self.akms


# --------------------------------------------------------------------------- FT: MDE, FTE


@dataclass(frozen=True, slots=True)
class MDE(_Typed):
    """Mobility Domain element (9.4.2.46): MDID (2 opaque octets) and FT Capability and Policy."""

    ELEMENT_ID: ClassVar[int] = ElementID.MOBILITY_DOMAIN

    mdid: bytes
    ft_capability: int = 0

    @classmethod
    def decode(cls, data: bytes) -> MDE:
        if len(data) != 3:
            raise DecodeError("MDE", f"length {len(data)}, expected 3", 0)
        return cls(bytes(data[:2]), data[2])

    def encode(self) -> bytes:
        _need(len(self.mdid) == 2, "MDE", "MDID must be 2 octets")
        _need(0 <= self.ft_capability <= 255, "MDE", "FT capability out of range")
        return bytes(self.mdid) + bytes((self.ft_capability,))

    @property
    def over_ds(self) -> bool:
        """Fast BSS Transition over DS (b0)."""
        return bool(self.ft_capability & 0x01)

    @property
    def resource_request(self) -> bool:
        """Resource Request Protocol Capability (b1)."""
        return bool(self.ft_capability & 0x02)


class FTSubelementID(IntEnum):
    """FTE optional subelement IDs (9.4.2.47, Table 9-235)."""

    R1KH_ID = 1
    GTK = 2
    R0KH_ID = 3
    IGTK = 4
    OCI = 5
    BIGTK = 6


@dataclass(frozen=True, slots=True)
class FTSubelement:
    id: int
    data: bytes

    def encode(self) -> bytes:
        _need(0 <= self.id <= 255 and len(self.data) <= 255, "FTE subelement", "id or length out of range")
        return bytes((self.id, len(self.data))) + self.data


@dataclass(frozen=True, slots=True)
class FtGtk:
    """FTE GTK subelement: Key Info (key id b0-1), Key Length, RSC (LE), Wrapped Key."""

    key_info: int
    key_length: int
    rsc: int
    wrapped_key: bytes

    @property
    def key_id(self) -> int:
        return self.key_info & 0x3

    @classmethod
    def decode(cls, data: bytes) -> FtGtk:
        if len(data) < 11:
            raise DecodeError("FTE GTK subelement", f"length {len(data)} shorter than 11", 0)
        return cls(data[0] | (data[1] << 8), data[2], int.from_bytes(data[3:11], "little"), bytes(data[11:]))

    def encode(self) -> bytes:
        _need(0 <= self.key_info <= 0xFFFF and 0 <= self.key_length <= 255, "FTE GTK", "field out of range")
        _need(0 <= self.rsc < 1 << 64, "FTE GTK", "RSC out of range")
        return (
            self.key_info.to_bytes(2, "little")
            + bytes((self.key_length,))
            + self.rsc.to_bytes(8, "little")
            + self.wrapped_key
        )


@dataclass(frozen=True, slots=True)
class FtIgtk:
    """FTE IGTK (or BIGTK) subelement: Key ID (LE), IPN (6 octets LE), Key Length, Wrapped Key."""

    key_id: int
    ipn: int
    key_length: int
    wrapped_key: bytes

    @classmethod
    def decode(cls, data: bytes) -> FtIgtk:
        if len(data) < 9:
            raise DecodeError("FTE IGTK subelement", f"length {len(data)} shorter than 9", 0)
        return cls(data[0] | (data[1] << 8), int.from_bytes(data[2:8], "little"), data[8], bytes(data[9:]))

    def encode(self) -> bytes:
        _need(0 <= self.key_id <= 0xFFFF and 0 <= self.key_length <= 255, "FTE IGTK", "field out of range")
        _need(0 <= self.ipn < 1 << 48, "FTE IGTK", "IPN out of range")
        return (
            self.key_id.to_bytes(2, "little")
            + self.ipn.to_bytes(6, "little")
            + bytes((self.key_length,))
            + self.wrapped_key
        )


@dataclass(frozen=True, slots=True)
class FTE(_Typed):
    """Fast BSS Transition element (9.4.2.47): MIC Control, MIC, ANonce, SNonce, subelements.

    The MIC is 16 octets for most AKMs and 24 for the SHA-384 ones: pass ``mic_len`` to ``decode``
    (the element does not say; FT-SAE-EXT-KEY signals it in the MIC Length subfield).
    """

    ELEMENT_ID: ClassVar[int] = ElementID.FAST_BSS_TRANSITION

    mic_control: int
    mic: bytes
    anonce: bytes
    snonce: bytes
    subelements: tuple[FTSubelement, ...] = ()

    @classmethod
    def decode(cls, data: bytes, mic_len: int = 16) -> FTE:
        what = "FTE"
        fixed = 2 + mic_len + 64
        if len(data) < fixed:
            raise DecodeError(what, f"length {len(data)} shorter than {fixed} (MIC {mic_len})", 0)
        mic_control = data[0] | (data[1] << 8)
        mic = bytes(data[2 : 2 + mic_len])
        anonce = bytes(data[2 + mic_len : 34 + mic_len])
        snonce = bytes(data[34 + mic_len : fixed])
        subs = []
        pos = fixed
        n = len(data)
        while pos < n:
            if n - pos < 2:
                raise DecodeError(what, "truncated subelement header", pos)
            stop = pos + 2 + data[pos + 1]
            if stop > n:
                raise DecodeError(what, f"subelement {data[pos]} runs past the end", pos)
            subs.append(FTSubelement(data[pos], bytes(data[pos + 2 : stop])))
            pos = stop
        return cls(mic_control, mic, anonce, snonce, tuple(subs))

    @classmethod
    def from_element(cls, element: Element, mic_len: int = 16) -> FTE:
        if element.id != cls.ELEMENT_ID or element.ext_id is not None:
            raise DecodeError("FTE", f"element id {element.id} is not FTE")
        return cls.decode(element.data, mic_len)

    def encode(self) -> bytes:
        _need(0 <= self.mic_control <= 0xFFFF, "FTE", "MIC Control out of range")
        _need(len(self.anonce) == 32 and len(self.snonce) == 32, "FTE", "nonces must be 32 octets")
        out = (
            self.mic_control.to_bytes(2, "little")
            + self.mic
            + self.anonce
            + self.snonce
            + b"".join(s.encode() for s in self.subelements)
        )
        _need(len(out) <= 255, "FTE", "longer than 255 octets")
        return out

    @property
    def element_count(self) -> int:
        """Element Count subfield (octet 2 of MIC Control): elements covered by the MIC."""
        return self.mic_control >> 8

    @property
    def rsnxe_used(self) -> bool:
        return bool(self.mic_control & 0x01)

    @property
    def mic_length_subfield(self) -> int:
        """MIC Length subfield (b1-3): 0 = 16, 1 = 24, 2 = 32 octets (FT-SAE-EXT-KEY only)."""
        return (self.mic_control >> 1) & 0x7

    def _sub(self, sid: int) -> bytes | None:
        for s in self.subelements:
            if s.id == sid:
                return s.data
        return None

    @property
    def r1kh_id(self) -> bytes | None:
        return self._sub(FTSubelementID.R1KH_ID)

    @property
    def r0kh_id(self) -> bytes | None:
        return self._sub(FTSubelementID.R0KH_ID)

    @property
    def oci(self) -> bytes | None:
        return self._sub(FTSubelementID.OCI)

    @property
    def gtk(self) -> FtGtk | None:
        d = self._sub(FTSubelementID.GTK)
        return None if d is None else FtGtk.decode(d)

    @property
    def igtk(self) -> FtIgtk | None:
        d = self._sub(FTSubelementID.IGTK)
        return None if d is None else FtIgtk.decode(d)

    @property
    def bigtk(self) -> FtIgtk | None:
        d = self._sub(FTSubelementID.BIGTK)
        return None if d is None else FtIgtk.decode(d)


# --------------------------------------------------------------------------- channel switch


@dataclass(frozen=True, slots=True)
class CSA(_Typed):
    """Channel Switch Announcement element (9.4.2.18). Mode 1 = stop transmitting until the switch."""

    ELEMENT_ID: ClassVar[int] = ElementID.CHANNEL_SWITCH_ANNOUNCEMENT

    mode: int
    new_channel: int
    count: int

    @classmethod
    def decode(cls, data: bytes) -> CSA:
        if len(data) != 3:
            raise DecodeError("CSA", f"length {len(data)}, expected 3", 0)
        return cls(data[0], data[1], data[2])

    def encode(self) -> bytes:
        _need(all(0 <= v <= 255 for v in (self.mode, self.new_channel, self.count)), "CSA", "out of range")
        return bytes((self.mode, self.new_channel, self.count))


@dataclass(frozen=True, slots=True)
class ECSA(_Typed):
    """Extended Channel Switch Announcement element (9.4.2.52): adds the new operating class."""

    ELEMENT_ID: ClassVar[int] = ElementID.EXTENDED_CHANNEL_SWITCH_ANNOUNCEMENT

    mode: int
    new_operating_class: int
    new_channel: int
    count: int

    @classmethod
    def decode(cls, data: bytes) -> ECSA:
        if len(data) != 4:
            raise DecodeError("ECSA", f"length {len(data)}, expected 4", 0)
        return cls(data[0], data[1], data[2], data[3])

    def encode(self) -> bytes:
        values = (self.mode, self.new_operating_class, self.new_channel, self.count)
        _need(all(0 <= v <= 255 for v in values), "ECSA", "out of range")
        return bytes(values)


# --------------------------------------------------------------------------- RSNXE, vendor specific


class RSNXCapability(IntFlag):
    """Extended RSN Capabilities bits (9.4.2.241); b0-3 is the field length minus one."""

    FIELD_LENGTH_MASK = 0x000F
    PROTECTED_TWT = 0x0010
    SAE_H2E = 0x0020
    SAE_PK = 0x0040
    SECURE_LTF = 0x0100
    SECURE_RTT = 0x0200
    PROTECTED_ANNOUNCE = 0x0800


@dataclass(frozen=True, slots=True)
class RSNXE(_Typed):
    """RSN Extension element (9.4.2.241): a little-endian capability bit field of ``length`` octets."""

    ELEMENT_ID: ClassVar[int] = ElementID.RSNX

    capabilities: int
    length: int = 1

    @classmethod
    def decode(cls, data: bytes) -> RSNXE:
        if not data:
            raise DecodeError("RSNXE", "empty Extended RSN Capabilities field", 0)
        return cls(int.from_bytes(data, "little"), len(data))

    def encode(self) -> bytes:
        _need(1 <= self.length <= 255, "RSNXE", "length out of range")
        _need(0 <= self.capabilities < 1 << (8 * self.length), "RSNXE", "capabilities do not fit")
        return self.capabilities.to_bytes(self.length, "little")

    @property
    def sae_h2e(self) -> bool:
        """SAE hash-to-element supported."""
        return bool(self.capabilities & RSNXCapability.SAE_H2E)

    @property
    def sae_pk(self) -> bool:
        return bool(self.capabilities & RSNXCapability.SAE_PK)

    @property
    def protected_twt(self) -> bool:
        return bool(self.capabilities & RSNXCapability.PROTECTED_TWT)


@dataclass(frozen=True, slots=True)
class VendorElement(_Typed):
    """Vendor Specific element (9.4.2.25): OUI (24-bit int), the conventional type octet that
    follows it (None when the element is only an OUI) and the rest."""

    ELEMENT_ID: ClassVar[int] = ElementID.VENDOR_SPECIFIC

    oui: int
    oui_type: int | None
    data: bytes = b""

    @classmethod
    def decode(cls, data: bytes) -> VendorElement:
        if len(data) < 3:
            raise DecodeError("vendor element", f"length {len(data)} shorter than an OUI", 0)
        oui = int.from_bytes(data[:3], "big")
        if len(data) == 3:
            return cls(oui, None, b"")
        return cls(oui, data[3], bytes(data[4:]))

    def encode(self) -> bytes:
        _need(0 <= self.oui <= 0xFFFFFF, "vendor element", "OUI out of range")
        if self.oui_type is None:
            _need(not self.data, "vendor element", "data without a type octet")
            return self.oui.to_bytes(3, "big")
        _need(0 <= self.oui_type <= 255, "vendor element", "type out of range")
        return self.oui.to_bytes(3, "big") + bytes((self.oui_type,)) + self.data


# --------------------------------------------------------------------------- NetworkInfo


_SAE_AKMS = frozenset((AKM.SAE, AKM.FT_SAE))
_WPA3_ONLY = frozenset((AKM.SAE, AKM.FT_SAE, AKM.OWE))


def _dedupe(items) -> tuple:
    seen = []
    for i in items:
        if i not in seen:
            seen.append(i)
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """What a Beacon / Probe Response / (Re)Association Request says about a network's security.

    ``privacy`` is the Capability Information Privacy bit (None when not known) and only matters
    to tell WEP from open when neither RSNE nor WPA IE is present.
    """

    ssid: bytes | None
    channel: int | None
    rsn: RSNE | None
    wpa: WPAIE | None
    mde: MDE | None
    csa: CSA | ECSA | None
    rsnx: RSNXE | None = None
    privacy: bool | None = None

    @property
    def akms(self) -> tuple[AKM | int, ...]:
        """AKM suites of the RSNE then of the WPA IE (defaults applied for absent lists)."""
        out: list = []
        if self.rsn is not None:
            out += self.rsn.effective_akms
        if self.wpa is not None:
            out += self.wpa.effective_akms
        return _dedupe(out)

    @property
    def pairwise_ciphers(self) -> tuple[Cipher | int, ...]:
        out: list = []
        if self.rsn is not None:
            out += self.rsn.effective_pairwise_ciphers
        if self.wpa is not None:
            out += self.wpa.effective_pairwise_ciphers
        return _dedupe(out)

    @property
    def group_cipher(self) -> Cipher | int | None:
        if self.rsn is not None:
            return self.rsn.effective_group_cipher
        if self.wpa is not None:
            return self.wpa.effective_group_cipher
        return None

    @property
    def ft(self) -> bool:
        """FT (802.11r) in use: an MDE, or an FT AKM advertised."""
        return self.mde is not None or any(isinstance(a, AKM) and a.is_ft for a in self.akms)

    @property
    def pmf(self) -> str:
        """Management frame protection: "required", "capable" or "no" (from the RSNE)."""
        if self.rsn is None:
            return "no"
        if self.rsn.mfpr:
            return "required"
        if self.rsn.mfpc:
            return "capable"
        return "no"

    @property
    def security(self) -> str:
        """ "WPA3" (SAE only), "WPA2/WPA3" (SAE + other AKMs), "OWE", "WPA2", "WPA", "WPA/WPA2",
        "WEP", "open", or "unknown" (no RSNE/WPA IE and the Privacy bit is not known)."""
        if self.rsn is not None:
            akms = set(self.rsn.effective_akms)
            if akms and akms <= {AKM.OWE}:
                return "OWE"
            if akms & _SAE_AKMS:
                base = "WPA3" if akms <= _WPA3_ONLY else "WPA2/WPA3"
                return ("WPA/" + base) if self.wpa is not None else base
            return "WPA/WPA2" if self.wpa is not None else "WPA2"
        if self.wpa is not None:
            return "WPA"
        if self.privacy is None:
            return "unknown"
        return "WEP" if self.privacy else "open"


def network_info(elements: Iterable[Element], capability: int | None = None) -> NetworkInfo:
    """Collect SSID, channel, RSNE, WPA IE, MDE, CSA/ECSA and RSNXE (first of each) from elements.

    ``capability`` is the Capability Information field of the frame, when there is one (its Privacy
    bit, 0x0010, tells WEP from open). A garbled typed element raises DecodeError.
    """
    ssid_v = channel = rsn = wpa = mde = csa = rsnx = None
    for e in elements:
        eid = e.id
        if eid == ElementID.SSID and ssid_v is None:
            ssid_v = ssid(e)
        elif eid == ElementID.DS_PARAMETER_SET and channel is None:
            channel = ds_channel(e)
        elif eid == ElementID.RSN and rsn is None:
            rsn = RSNE.decode(e.data)
        elif eid == ElementID.VENDOR_SPECIFIC and wpa is None and e.data[:4] == WPA_IE_PREFIX:
            wpa = WPAIE.decode(e.data)
        elif eid == ElementID.MOBILITY_DOMAIN and mde is None:
            mde = MDE.decode(e.data)
        elif eid == ElementID.CHANNEL_SWITCH_ANNOUNCEMENT and csa is None:
            csa = CSA.decode(e.data)
        elif eid == ElementID.EXTENDED_CHANNEL_SWITCH_ANNOUNCEMENT and csa is None:
            csa = ECSA.decode(e.data)
        elif eid == ElementID.RSNX and rsnx is None:
            rsnx = RSNXE.decode(e.data)
    privacy = None if capability is None else bool(capability & 0x0010)
    return NetworkInfo(ssid_v, channel, rsn, wpa, mde, csa, rsnx, privacy)
