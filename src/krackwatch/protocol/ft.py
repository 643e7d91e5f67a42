"""Fast BSS Transition (802.11r) pieces both machines share: the mobility-domain configuration,
the cached PMK-R0/PMK-R1 hierarchy, and FTE building and MIC sealing (IEEE 802.11-2020 12.7.1.7,
13.8)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from krackwatch.crypto.ft import derive_pmk_r0, derive_pmk_r1, ft_mic
from krackwatch.crypto.suites import AKM
from krackwatch.protocol.errors import ProtocolError
from krackwatch.wire.elements import FTE, Element, ElementID, FTSubelement, FTSubelementID

__all__ = ["FTConfig", "FTReassocSeq", "ft_element", "ft_elements", "pmk_r1", "seal_fte"]

_ZERO_MIC = bytes(16)


class FTReassocSeq:
    """Transaction sequence numbers of the FTE MIC (13.8.4): 5 in the Reassociation Request, 6 in
    the Reassociation Response."""

    REQUEST = 5
    RESPONSE = 6


@dataclass(frozen=True, slots=True)
class FTConfig:
    """A mobility domain as one AP's authenticator (or a station associated to it) sees it.

    ``r1kh_id`` is this AP's R1KH-ID (often its BSSID); ``r0kh_id`` the R0KH-ID (1-48 octets, often
    the NAS identifier); ``ssid`` binds PMK-R0 to the ESS. XXKey is the PMK (FT-PSK) or the second
    256 bits of the MSK (FT-802.1X): pass it as the machine's ``pmk``.
    """

    mdid: bytes
    r0kh_id: bytes
    r1kh_id: bytes
    ssid: bytes
    ft_capability: int = 0

    def __post_init__(self) -> None:
        if len(self.mdid) != 2:
            raise ProtocolError("MDID must be 2 octets")
        if not 1 <= len(self.r0kh_id) <= 48:
            raise ProtocolError("R0KH-ID must be 1..48 octets")
        if len(self.r1kh_id) != 6:
            raise ProtocolError("R1KH-ID must be 6 octets")
        if len(self.ssid) > 32:
            raise ProtocolError("SSID longer than 32 octets")
        if not 0 <= self.ft_capability <= 255:
            raise ProtocolError("FT capability must fit in one octet")

    @property
    def mde(self) -> bytes:
        """The Mobility Domain element, ID and Length included."""
        return bytes((ElementID.MOBILITY_DOMAIN, 3)) + self.mdid + bytes((self.ft_capability,))


@lru_cache(maxsize=256)
def _r0(xxkey: bytes, ssid: bytes, mdid: bytes, r0kh_id: bytes, spa: bytes, akm: AKM) -> tuple[bytes, bytes]:
    return derive_pmk_r0(xxkey, ssid, mdid, r0kh_id, spa, akm=akm)


@lru_cache(maxsize=256)
def pmk_r1(
    xxkey: bytes, ssid: bytes, mdid: bytes, r0kh_id: bytes, r1kh_id: bytes, spa: bytes, akm: AKM
) -> tuple[bytes, bytes, bytes]:
    """(PMK-R1, PMKR1Name, PMKR0Name) of a station in a mobility domain (12.7.1.7.3-4); cached."""
    r0, r0_name = _r0(xxkey, ssid, mdid, r0kh_id, spa, akm)
    r1, r1_name = derive_pmk_r1(r0, r0_name, r1kh_id, spa, akm=akm)
    return r1, r1_name, r0_name


def ft_element(
    *,
    anonce: bytes,
    snonce: bytes,
    r0kh_id: bytes,
    r1kh_id: bytes | None,
    mic: bytes = _ZERO_MIC,
    element_count: int = 0,
    subelements: tuple[FTSubelement, ...] = (),
) -> Element:
    """An FTE with R1KH-ID (when given) and R0KH-ID subelements, then ``subelements`` (GTK, IGTK)."""
    subs = []
    if r1kh_id is not None:
        subs.append(FTSubelement(FTSubelementID.R1KH_ID, r1kh_id))
    subs.append(FTSubelement(FTSubelementID.R0KH_ID, r0kh_id))
    subs.extend(subelements)
    fte = FTE(element_count << 8, mic, anonce, snonce, tuple(subs))
    return Element(ElementID.FAST_BSS_TRANSITION, fte.encode())


def seal_fte(
    fte: Element, *, kck: bytes, sta: bytes, ap: bytes, seq: int, rsne: bytes, mde: bytes, akm: AKM
) -> Element:
    """``fte`` with its Element Count set to 3 (RSNE, MDE, FTE) and its MIC computed (13.8.4)."""
    data = bytearray(fte.data)
    data[1] = 3
    data[2:18] = _ZERO_MIC
    zeroed = bytes((ElementID.FAST_BSS_TRANSITION, len(data))) + bytes(data)
    data[2:18] = ft_mic(kck, sta, ap, seq, rsne, mde, zeroed, akm=akm)
    return Element(ElementID.FAST_BSS_TRANSITION, bytes(data))


def ft_elements(elements: tuple[Element, ...]) -> tuple[Element | None, Element | None, Element | None]:
    """(RSNE, MDE, FTE) of a frame's elements, the first of each."""
    rsne = mde = fte = None
    for e in elements:
        if e.id == ElementID.RSN and rsne is None:
            rsne = e
        elif e.id == ElementID.MOBILITY_DOMAIN and mde is None:
            mde = e
        elif e.id == ElementID.FAST_BSS_TRANSITION and fte is None:
            fte = e
    return rsne, mde, fte
