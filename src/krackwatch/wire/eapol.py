"""EAPOL (IEEE 802.1X-2020 11.3) and the EAPOL-Key frame of IEEE 802.11-2020 12.7.2, with
handshake-message classification (12.7.6 / 12.7.7) and Key Data KDEs (12.7.2, Table 12-9).

EAPOL-Key layout from the protocol-version octet (16-octet MIC; see research/protocol.md 5.7):
version 0, type 1, body length 2-3 (BE), descriptor type 4, Key Information 5-6 (BE), Key Length
7-8, Key Replay Counter 9-16 (BE), Key Nonce 17-48, EAPOL-Key IV 49-64, Key RSC 65-72 (LE PN),
reserved/Key ID 73-80, Key MIC 81.., Key Data Length, Key Data.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import IntEnum, IntFlag
from typing import ClassVar

from krackwatch.crypto.suites import RSN_OUI
from krackwatch.wire.elements import Element
from krackwatch.wire.errors import DecodeError, EncodeError

__all__ = [
    "KDE",
    "MIC_OFFSET",
    "BigtkKDE",
    "Eapol",
    "EapolKey",
    "EapolType",
    "GtkKDE",
    "HandshakeMessage",
    "IgtkKDE",
    "KDEType",
    "KeyData",
    "KeyDescriptor",
    "KeyDescriptorVersion",
    "KeyInfo",
    "MacAddrKDE",
    "PmkidKDE",
    "classify",
    "decode_eapol",
    "decode_eapol_key",
    "decode_kde",
    "decode_key_data",
    "encode_key_data",
    "iter_key_data",
    "pad_key_data",
]


class EapolType(IntEnum):
    """EAPOL Packet Type (IEEE 802.1X-2020 Table 11-3)."""

    EAP_PACKET = 0
    START = 1
    LOGOFF = 2
    KEY = 3
    ENCAPSULATED_ASF_ALERT = 4
    MKA = 5
    ANNOUNCEMENT_GENERIC = 6
    ANNOUNCEMENT_SPECIFIC = 7
    ANNOUNCEMENT_REQ = 8


@dataclass(frozen=True, slots=True)
class Eapol:
    """An EAPOL PDU. ``trailing`` holds octets after the Packet Body Length (frame padding)."""

    version: int
    type: int
    body: bytes
    trailing: bytes = b""

    def encode(self) -> bytes:
        if not (0 <= self.version <= 255 and 0 <= self.type <= 255 and len(self.body) <= 0xFFFF):
            raise EncodeError("EAPOL: version, type or body length out of range")
        return (
            bytes((self.version, self.type)) + len(self.body).to_bytes(2, "big") + self.body + self.trailing
        )


def decode_eapol(buf: bytes | bytearray | memoryview) -> Eapol:
    n = len(buf)
    if n < 4:
        raise DecodeError("EAPOL", f"{n} octets, shorter than the 4-octet header", 0)
    end = 4 + ((buf[2] << 8) | buf[3])
    if end > n:
        raise DecodeError("EAPOL", f"body length {end - 4} exceeds the {n - 4} octets present", 2)
    return Eapol(buf[0], buf[1], bytes(buf[4:end]), bytes(buf[end:]))


class KeyDescriptor(IntEnum):
    """EAPOL-Key Descriptor Type."""

    RC4 = 1
    RSN = 2
    WPA = 254


class KeyDescriptorVersion(IntEnum):
    """Key Descriptor Version (Key Information b0-2): the MIC and key-wrap algorithms."""

    AKM_DEFINED = 0
    HMAC_MD5_RC4 = 1
    HMAC_SHA1_AES = 2
    AES_CMAC_AES = 3


class KeyInfo(IntFlag):
    """Key Information field bits (12.7.2, Figure 12-33)."""

    VERSION_MASK = 0x0007
    KEY_TYPE = 0x0008
    KEY_INDEX_MASK = 0x0030
    INSTALL = 0x0040
    ACK = 0x0080
    MIC = 0x0100
    SECURE = 0x0200
    ERROR = 0x0400
    REQUEST = 0x0800
    ENCRYPTED_KEY_DATA = 0x1000
    SMK_MESSAGE = 0x2000


MIC_OFFSET = 81
_FIXED = 77  # descriptor type .. reserved (Key ID) field, i.e. the body before the MIC
_KI_TAIL = struct.Struct(">BHHQ")


@dataclass(frozen=True, slots=True)
class EapolKey:
    """An EAPOL-Key frame, from the protocol-version octet on.

    ``key_rsc`` is the integer of the little-endian 8-octet Key RSC (the GTK's PN/TSC);
    ``replay_counter`` the big-endian Key Replay Counter. ``mic`` has the AKM's MIC length.
    ``trailing`` keeps octets after the EAPOL body (padding of short frames).
    """

    version: int
    descriptor_type: int
    key_info: int
    key_length: int
    replay_counter: int
    nonce: bytes
    key_iv: bytes
    key_rsc: int
    key_id: bytes
    mic: bytes
    key_data: bytes
    trailing: bytes = b""

    # -- Key Information views
    @property
    def descriptor_version(self) -> int:
        return self.key_info & 0x0007

    @property
    def pairwise(self) -> bool:
        return bool(self.key_info & 0x0008)

    @property
    def key_index(self) -> int:
        """Key Index (b4-5): used by WPA1 group messages, reserved in RSN."""
        return (self.key_info >> 4) & 0x3

    @property
    def install(self) -> bool:
        return bool(self.key_info & 0x0040)

    @property
    def ack(self) -> bool:
        return bool(self.key_info & 0x0080)

    @property
    def mic_set(self) -> bool:
        return bool(self.key_info & 0x0100)

    @property
    def secure(self) -> bool:
        return bool(self.key_info & 0x0200)

    @property
    def error(self) -> bool:
        return bool(self.key_info & 0x0400)

    @property
    def request(self) -> bool:
        return bool(self.key_info & 0x0800)

    @property
    def encrypted_key_data(self) -> bool:
        return bool(self.key_info & 0x1000)

    @property
    def smk_message(self) -> bool:
        return bool(self.key_info & 0x2000)

    @property
    def mic_offset(self) -> int:
        """Offset of the Key MIC field from the protocol-version octet (81)."""
        return MIC_OFFSET

    @property
    def body_length(self) -> int:
        """EAPOL Packet Body Length this key encodes to."""
        return _FIXED + len(self.mic) + 2 + len(self.key_data)

    @property
    def zero_nonce(self) -> bool:
        return not any(self.nonce)

    @property
    def message(self) -> HandshakeMessage:
        return classify(self)

    def _encode(self, mic: bytes, trailing: bytes) -> bytes:
        if len(self.nonce) != 32 or len(self.key_iv) != 16 or len(self.key_id) != 8:
            raise EncodeError("EAPOL-Key: nonce, IV and Key ID must be 32, 16 and 8 octets")
        if not (
            0 <= self.version <= 255
            and 0 <= self.descriptor_type <= 255
            and 0 <= self.key_info <= 0xFFFF
            and 0 <= self.key_length <= 0xFFFF
            and 0 <= self.replay_counter < 1 << 64
            and 0 <= self.key_rsc < 1 << 64
            and len(self.key_data) <= 0xFFFF
        ):
            raise EncodeError("EAPOL-Key: a field is out of range")
        blen = self.body_length
        if blen > 0xFFFF:
            raise EncodeError("EAPOL-Key: body longer than 65535 octets")
        return b"".join(
            (
                bytes((self.version, EapolType.KEY)),
                blen.to_bytes(2, "big"),
                _KI_TAIL.pack(self.descriptor_type, self.key_info, self.key_length, self.replay_counter),
                self.nonce,
                self.key_iv,
                self.key_rsc.to_bytes(8, "little"),
                self.key_id,
                mic,
                len(self.key_data).to_bytes(2, "big"),
                self.key_data,
                trailing,
            )
        )

    def encode(self) -> bytes:
        """The frame, byte-exact with what was decoded (including ``trailing``)."""
        return self._encode(self.mic, self.trailing)

    def mic_zeroed_bytes(self) -> bytes:
        """What the Key MIC is computed over (12.7.2): the 4 + body-length octets of the EAPOL
        PDU from the protocol-version octet, with the MIC field zeroed; trailing padding excluded."""
        return self._encode(bytes(len(self.mic)), b"")

    def with_mic(self, mic: bytes) -> EapolKey:
        if len(mic) != len(self.mic):
            raise EncodeError(f"EAPOL-Key: MIC of {len(mic)} octets, this key has {len(self.mic)}")
        return replace(self, mic=bytes(mic))


def decode_eapol_key(buf: bytes | bytearray | memoryview, *, mic_len: int = 16) -> EapolKey:
    """Decode an EAPOL-Key frame starting at the protocol-version octet.

    ``mic_len`` is the AKM's Key MIC length (16; 24 for the SHA-384 AKMs; 0 for FILS). Raises
    DecodeError when the frame is short, not EAPOL-Key, not an RSN/WPA descriptor, or when the
    Key Data Length disagrees with the EAPOL body length.
    """
    what = "EAPOL-Key"
    n = len(buf)
    if n < 4:
        raise DecodeError(what, f"{n} octets, shorter than the EAPOL header", 0)
    if buf[1] != EapolType.KEY:
        raise DecodeError(what, f"EAPOL packet type {buf[1]} is not EAPOL-Key (3)", 1)
    blen = (buf[2] << 8) | buf[3]
    end = 4 + blen
    if end > n:
        raise DecodeError(what, f"body length {blen} exceeds the {n - 4} octets present", 2)
    kd_start = 4 + _FIXED + mic_len + 2
    if end < kd_start:
        raise DecodeError(
            what, f"body length {blen} shorter than a key descriptor with a {mic_len}-octet MIC", 2
        )
    if not isinstance(buf, bytes):
        buf = bytes(buf)
    desc, key_info, key_length, rc = _KI_TAIL.unpack_from(buf, 4)
    if desc != KeyDescriptor.RSN and desc != KeyDescriptor.WPA:
        raise DecodeError(what, f"descriptor type {desc} is not RSN (2) or WPA (254)", 4)
    mic_end = MIC_OFFSET + mic_len
    kdl = (buf[mic_end] << 8) | buf[mic_end + 1]
    if kd_start + kdl != end:
        raise DecodeError(
            what,
            f"Key Data Length {kdl} disagrees with body length {blen} ({end - kd_start} octets)",
            mic_end,
        )
    return EapolKey(
        buf[0],
        desc,
        key_info,
        key_length,
        rc,
        buf[17:49],
        buf[49:65],
        int.from_bytes(buf[65:73], "little"),
        buf[73:81],
        buf[MIC_OFFSET:mic_end],
        buf[kd_start:end],
        buf[end:],
    )


# --------------------------------------------------------------------------- classification


class HandshakeMessage(IntEnum):
    M1 = 1
    M2 = 2
    M3 = 3
    M4 = 4
    GROUP_M1 = 5
    GROUP_M2 = 6
    REQUEST = 7
    UNKNOWN = 8


def classify(key: EapolKey) -> HandshakeMessage:
    """Which 4-way / group key handshake message this is, from Key Information (12.7.6, 12.7.7).

    Pairwise: Ack without MIC is msg 1, Ack with MIC msg 3 (Install/Secure not required: WPA1 msg 3
    has no Secure). Without Ack, msg 2 carries the supplicant's RSNE / WPA IE as key data and msg 4
    none (12.7.6.3, 12.7.6.5); Secure cannot decide it because WPA1 msg 4 leaves it clear, and the
    nonce cannot either because some supplicants echo the SNonce in msg 4 (the rule hostapd's
    authenticator uses). Group: Ack + MIC is group msg 1, MIC without Ack group msg 2. Request
    frames (MIC failure reports, rekey requests) are REQUEST; SMK (PeerKey) frames UNKNOWN.
    """
    ki = key.key_info
    if ki & _REQUEST:
        return HandshakeMessage.REQUEST
    if ki & _SMK:
        return HandshakeMessage.UNKNOWN
    ack = ki & _ACK
    # AEAD AKMs (FILS) have no MIC field and protect the frame through Encrypted Key Data instead.
    authenticated = ki & _MIC or (not key.mic and ki & _ENCRYPTED)
    if ki & _PAIRWISE:
        if ack:
            return HandshakeMessage.M3 if authenticated else HandshakeMessage.M1
        if not authenticated:
            return HandshakeMessage.UNKNOWN
        return HandshakeMessage.M2 if key.key_data else HandshakeMessage.M4
    if not authenticated:
        return HandshakeMessage.UNKNOWN
    return HandshakeMessage.GROUP_M1 if ack else HandshakeMessage.GROUP_M2


# Plain-int masks for the hot path (IntFlag arithmetic builds enum objects).
_REQUEST = int(KeyInfo.REQUEST)
_SMK = int(KeyInfo.SMK_MESSAGE)
_ACK = int(KeyInfo.ACK)
_MIC = int(KeyInfo.MIC)
_ENCRYPTED = int(KeyInfo.ENCRYPTED_KEY_DATA)
_PAIRWISE = int(KeyInfo.KEY_TYPE)


# --------------------------------------------------------------------------- KDEs and Key Data


class KDEType(IntEnum):
    """KDE Data Types for OUI 00-0F-AC (12.7.2, Table 12-9)."""

    GTK = 1
    MAC_ADDRESS = 3
    PMKID = 4
    NONCE = 6
    LIFETIME = 7
    ERROR = 8
    IGTK = 9
    KEY_ID = 10
    MULTIBAND_GTK = 11
    MULTIBAND_KEY_ID = 12
    OCI = 13
    BIGTK = 14


_RSN_OUI_BYTES = RSN_OUI.to_bytes(3, "big")
# 0xDD items of Key Data with these OUIs are KDEs (IEEE 00-0F-AC, Wi-Fi Alliance 50-6F-9A); other
# 0xDD items (the WPA IE 00-50-F2 in WPA1 msg 3) are vendor-specific elements.
_KDE_OUIS = (_RSN_OUI_BYTES, b"\x50\x6f\x9a")


def _kde_bytes(kde_type: int, data: bytes, oui: int = RSN_OUI) -> bytes:
    if len(data) > 251:
        raise EncodeError("KDE: data longer than 251 octets")
    return bytes((0xDD, len(data) + 4)) + oui.to_bytes(3, "big") + bytes((kde_type,)) + data


@dataclass(frozen=True, slots=True)
class KDE:
    """A KDE this module has no typed class for (or with a non-00-0F-AC OUI)."""

    oui: int
    type: int
    data: bytes

    def encode(self) -> bytes:
        if not (0 <= self.oui <= 0xFFFFFF and 0 <= self.type <= 255):
            raise EncodeError("KDE: OUI or type out of range")
        return _kde_bytes(self.type, self.data, self.oui)


@dataclass(frozen=True, slots=True)
class GtkKDE:
    """GTK KDE: Key ID (b0-1), Tx (b2), reserved bits kept in ``reserved`` (2-octet LE field
    without b0-2), then the GTK (16 octets CCMP-128, 32 TKIP / 256-bit ciphers)."""

    KDE_TYPE: ClassVar[int] = KDEType.GTK

    key_id: int
    tx: bool
    gtk: bytes
    reserved: int = 0

    def encode(self) -> bytes:
        if not 0 <= self.key_id <= 3 or self.reserved & ~0xFFF8 or self.reserved < 0:
            raise EncodeError("GTK KDE: key id 0-3; reserved must not use b0-2")
        flags = self.key_id | (0x04 if self.tx else 0) | self.reserved
        return _kde_bytes(self.KDE_TYPE, flags.to_bytes(2, "little") + self.gtk)


@dataclass(frozen=True, slots=True)
class IgtkKDE:
    """IGTK KDE: Key ID (2 octets LE, 4 or 5), IPN (6 octets LE), IGTK."""

    KDE_TYPE: ClassVar[int] = KDEType.IGTK

    key_id: int
    ipn: int
    igtk: bytes

    def encode(self) -> bytes:
        if not (0 <= self.key_id <= 0xFFFF and 0 <= self.ipn < 1 << 48):
            raise EncodeError("IGTK KDE: key id or IPN out of range")
        return _kde_bytes(
            self.KDE_TYPE, self.key_id.to_bytes(2, "little") + self.ipn.to_bytes(6, "little") + self.igtk
        )


@dataclass(frozen=True, slots=True)
class BigtkKDE:
    """BIGTK KDE: Key ID (2 octets LE, 6 or 7), BIPN (6 octets LE), BIGTK."""

    KDE_TYPE: ClassVar[int] = KDEType.BIGTK

    key_id: int
    bipn: int
    bigtk: bytes

    def encode(self) -> bytes:
        if not (0 <= self.key_id <= 0xFFFF and 0 <= self.bipn < 1 << 48):
            raise EncodeError("BIGTK KDE: key id or BIPN out of range")
        return _kde_bytes(
            self.KDE_TYPE, self.key_id.to_bytes(2, "little") + self.bipn.to_bytes(6, "little") + self.bigtk
        )


@dataclass(frozen=True, slots=True)
class PmkidKDE:
    KDE_TYPE: ClassVar[int] = KDEType.PMKID

    pmkid: bytes

    def encode(self) -> bytes:
        if len(self.pmkid) != 16:
            raise EncodeError("PMKID KDE: PMKID must be 16 octets")
        return _kde_bytes(self.KDE_TYPE, self.pmkid)


@dataclass(frozen=True, slots=True)
class MacAddrKDE:
    KDE_TYPE: ClassVar[int] = KDEType.MAC_ADDRESS

    addr: bytes

    def encode(self) -> bytes:
        if len(self.addr) != 6:
            raise EncodeError("MAC address KDE: address must be 6 octets")
        return _kde_bytes(self.KDE_TYPE, self.addr)


AnyKDE = KDE | GtkKDE | IgtkKDE | BigtkKDE | PmkidKDE | MacAddrKDE


def decode_kde(element: Element) -> AnyKDE:
    """Typed KDE from a vendor-specific (0xDD) element whose data starts with an OUI and type."""
    what = "KDE"
    d = element.data
    if element.id != 0xDD or len(d) < 4:
        raise DecodeError(what, "not a 0xDD element with OUI and data type", 0)
    oui = int.from_bytes(d[:3], "big")
    t = d[3]
    body = d[4:]
    if oui != RSN_OUI:
        return KDE(oui, t, body)
    if t == KDEType.GTK:
        if len(body) < 2:
            raise DecodeError("GTK KDE", "shorter than its 2-octet header", 6)
        flags = body[0] | (body[1] << 8)
        return GtkKDE(flags & 0x3, bool(flags & 0x4), body[2:], flags & 0xFFF8)
    if t == KDEType.IGTK or t == KDEType.BIGTK:
        if len(body) < 8:
            raise DecodeError("IGTK KDE", "shorter than Key ID and IPN", 6)
        kid = body[0] | (body[1] << 8)
        pn = int.from_bytes(body[2:8], "little")
        return IgtkKDE(kid, pn, body[8:]) if t == KDEType.IGTK else BigtkKDE(kid, pn, body[8:])
    if t == KDEType.PMKID:
        if len(body) != 16:
            raise DecodeError("PMKID KDE", f"{len(body)} octets, expected 16", 6)
        return PmkidKDE(body)
    if t == KDEType.MAC_ADDRESS:
        if len(body) != 6:
            raise DecodeError("MAC address KDE", f"{len(body)} octets, expected 6", 6)
        return MacAddrKDE(body)
    return KDE(oui, t, body)


def _iter_key_data(key_data: bytes) -> Iterator[tuple[int, Element | AnyKDE]]:
    """(end offset, item) pairs; offsets in errors are relative to ``key_data``."""
    n = len(key_data)
    pos = 0
    while pos < n:
        eid = key_data[pos]
        # 12.7.2: AES-key-wrapped key data is padded with 0xDD then 0x00 octets.
        if eid == 0xDD and not any(key_data[pos + 1 :]):
            return
        if pos + 2 > n:
            raise DecodeError("key data", "truncated element header", pos)
        stop = pos + 2 + key_data[pos + 1]
        if stop > n:
            raise DecodeError("key data", f"element {eid} runs {stop - n} octets past the end", pos)
        el = Element(eid, bytes(key_data[pos + 2 : stop]))
        if eid == 0xDD and stop - pos >= 6 and key_data[pos + 2 : pos + 5] in _KDE_OUIS:
            try:
                yield stop, decode_kde(el)
            except DecodeError as exc:
                raise DecodeError(exc.what, exc.message, pos) from None
        else:
            if eid == 255 and stop > pos + 2:
                el = Element(255, bytes(key_data[pos + 3 : stop]), key_data[pos + 2])
            yield stop, el
        pos = stop


def iter_key_data(key_data: bytes | bytearray | memoryview) -> Iterator[Element | AnyKDE]:
    """Items of (decrypted) Key Data: elements (RSNE, RSNXE, WPA IE, MDE, FTE, ...) and KDEs
    (0xDD items with OUI 00-0F-AC or 50-6F-9A), stopping at the 0xDD 0x00.. padding."""
    for _, item in _iter_key_data(bytes(key_data)):
        yield item


def _item_bytes(item: Element | AnyKDE) -> bytes:
    return item.encode()


@dataclass(frozen=True, slots=True)
class KeyData:
    """Key Data split into items and the trailing padding (``dd 00 ..``), for byte-exact re-encoding."""

    items: tuple[Element | AnyKDE, ...]
    padding: bytes = b""

    def encode(self) -> bytes:
        return b"".join(_item_bytes(i) for i in self.items) + self.padding

    def first(self, kind: type) -> object | None:
        """First item of a given class (e.g. ``GtkKDE``), or None."""
        for i in self.items:
            if isinstance(i, kind):
                return i
        return None


def decode_key_data(key_data: bytes | bytearray | memoryview) -> KeyData:
    key_data = bytes(key_data)
    items = []
    end = 0
    for stop, item in _iter_key_data(key_data):
        items.append(item)
        end = stop
    return KeyData(tuple(items), key_data[end:])


def encode_key_data(items: Iterable[Element | AnyKDE], *, pad: bool = False) -> bytes:
    """Concatenate items; with ``pad`` apply the AES-key-wrap padding of 12.7.2."""
    data = b"".join(_item_bytes(i) for i in items)
    return pad_key_data(data) if pad else data


def pad_key_data(data: bytes) -> bytes:
    """Pad plaintext Key Data for AES key wrap (12.7.2): when shorter than 16 octets or not a
    multiple of 8, append 0xDD and then 0x00 octets up to a multiple of 8 (at least 16)."""
    if len(data) >= 16 and len(data) % 8 == 0:
        return data
    target = max(16, (len(data) + 1 + 7) // 8 * 8)
    return data + b"\xdd" + bytes(target - len(data) - 1)
