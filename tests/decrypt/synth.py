"""Synthetic but standard-conformant 802.11 captures for the decryption tests.

An :class:`Air` records, frame by frame, what a scripted network puts on the air: beacons with an
RSNE, authentication and (re)association, the 4-way handshake with correct MICs and wrapped key data,
group key handshakes, PTK rekeys under the old PTK, FT (802.11r) initial association and an
over-the-air roam, protected data (QoS and not, both directions, Retry copies), group data under the
GTK, 4-address WDS data, protected unicast management frames (PMF) and static WEP.

Every frame is built with ``krackwatch.wire`` encoders and protected with ``krackwatch.crypto``; the
builder remembers, for every protected MPDU, the plaintext frame a correct decryptor must produce
(the same header with the Protected bit cleared, then the MSDU without MIC/ICV) and what tshark
should dissect in it. Those memories are the truth the interop tests compare against.

Layouts follow IEEE 802.11-2020: EAPOL-Key 12.7.2, 4-way handshake 12.7.6, group key handshake 12.7.7,
FT key hierarchy 12.7.1.7 and FT protocol 13.4-13.8, CCMP 12.5.3, GCMP 12.5.5, TKIP 12.5.2, WEP 12.3.2.
"""

from __future__ import annotations

import functools
import hashlib
import io
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from krackwatch.crypto import (
    AKM,
    CCMP,
    GCMP,
    PTK,
    TKIP,
    Cipher,
    aes_key_wrap,
    derive_ft_ptk,
    derive_pmk_r0,
    derive_pmk_r1,
    derive_ptk,
    eapol_key_mic,
    ft_mic,
    pbkdf2_psk,
    pmkid,
    rc4,
    wep_encrypt,
)
from krackwatch.decrypt import keys
from krackwatch.wire import (
    FTE,
    MDE,
    RSNE,
    AssocReqBody,
    AssocRespBody,
    AuthBody,
    BeaconBody,
    EapolKey,
    Element,
    ElementID,
    GtkKDE,
    IgtkKDE,
    KeyInfo,
    MacHeader,
    PcapngWriter,
    PcapWriter,
    PmkidKDE,
    Radiotap,
    ReasonBody,
    encode_radiotap,
    pad_key_data,
)
from krackwatch.wire.elements import FtGtk, FTSubelement, FTSubelementID, RSNCapability
from krackwatch.wire.llc import EtherType, snap_header
from krackwatch.wire.radiotap import Channel, RadiotapBit, RadiotapFlags, RadiotapItem

BROADCAST = b"\xff" * 6
LINKTYPE_RADIOTAP = 127
START_NS = 1_700_000_000 * 10**9


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def mac_text(addr: bytes) -> str:
    return ":".join(f"{b:02x}" for b in addr)


def _ip(dotted: str) -> bytes:
    return bytes(int(x) for x in dotted.split("."))


def nonce(label: str) -> bytes:
    """A fixed 32-octet nonce (deterministic captures are easier to debug)."""
    return hashlib.sha256(label.encode()).digest()


def key_bytes(label: str, n: int) -> bytes:
    return hashlib.sha512(label.encode()).digest()[:n]


# --------------------------------------------------------------------------- payloads tshark identifies


def _inet_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src: str, dst: str, ident: int, proto: int, payload: bytes) -> bytes:
    """An IPv4 datagram (no options, DF clear, TTL 64) with a correct header checksum."""
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0, _ip(src),
                       _ip(dst))
    return head[:10] + _inet_checksum(head).to_bytes(2, "big") + head[12:] + payload


def udp(src: str, dst: str, sport: int, dport: int, data: bytes) -> bytes:
    length = 8 + len(data)
    pseudo = _ip(src) + _ip(dst) + struct.pack("!BBH", 0, 17, length)
    seg = struct.pack("!HHHH", sport, dport, length, 0) + data
    csum = _inet_checksum(pseudo + seg) or 0xFFFF
    return seg[:6] + csum.to_bytes(2, "big") + seg[8:]


def icmp_echo(ident: int, seq: int, data: bytes, *, reply: bool = False) -> bytes:
    msg = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq) + data
    return msg[:2] + _inet_checksum(msg).to_bytes(2, "big") + msg[4:]


def arp(op: int, sha: bytes, spa: str, tha: bytes, tpa: str) -> bytes:
    """An Ethernet/IPv4 ARP packet (op 1 request, 2 reply)."""
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + _ip(spa) + tha + _ip(tpa)


@dataclass(frozen=True, slots=True)
class Msdu:
    """An LLC/SNAP-encapsulated MSDU and the row tshark should print for it (None: not IP/ARP)."""

    body: bytes
    row: tuple[str, ...] | None = None


def ip_msdu(src: str, dst: str, ident: int, *, icmp: bool = False, reply: bool = False) -> Msdu:
    """An IPv4 UDP (or ICMP echo request / reply) MSDU whose IP id tshark can match."""
    if icmp:
        echo = icmp_echo(0x4B57, ident, b"krackwatch synth " + bytes(16), reply=reply)
        inner = ipv4(src, dst, ident, 1, echo)
    else:
        inner = ipv4(src, dst, ident, 17, udp(src, dst, 40000 + ident % 1000, 9, b"synth %d" % ident))
    return Msdu(snap_header(EtherType.IPV4) + inner, ("ip", src, dst, f"0x{ident:04x}"))


def arp_msdu(op: int, sha: bytes, spa: str, tha: bytes, tpa: str) -> Msdu:
    return Msdu(snap_header(EtherType.ARP) + arp(op, sha, spa, tha, tpa), ("arp", spa, tpa))


# --------------------------------------------------------------------------- what the air carries


@dataclass(frozen=True, slots=True)
class Expect:
    """What a correct decryptor makes of one protected record."""

    frame: bytes  # the 802.11 frame with the Protected bit cleared and the plaintext body
    group: bool
    counted: bool  # False for a Retry copy of an MPDU already on the air
    row: tuple[str, ...] | None  # the IP/ARP row tshark should print, when it is such a frame


@dataclass(frozen=True, slots=True)
class Capture:
    """A finished synthetic capture: records, truths, and the keys to decrypt it."""

    name: str
    records: list[tuple[int, bytes]]  # (timestamp ns, radiotap + 802.11 frame [+ FCS])
    expected: list[Expect | None]  # per record; None for unprotected records
    fcs: bool
    keyring: keys.KeyRing
    tshark_keys: tuple[tuple[str, str], ...]  # (type, value) rows of Wireshark's 80211_keys UAT
    pcapng: bool = True
    # (BSSID, STA) as "aa:bb:.." -> per 4-way handshake: (ANonce hex, messages captured, their frame numbers)
    handshakes: dict[tuple[str, str], list[tuple[str, tuple[str, ...], tuple[int, ...]]]] = field(
        default_factory=dict)

    @property
    def unicast(self) -> int:
        return sum(1 for e in self.expected if e is not None and e.counted and not e.group)

    @property
    def group(self) -> int:
        return sum(1 for e in self.expected if e is not None and e.counted and e.group)

    def rows(self) -> set[tuple[str, ...]]:
        """(frame number, "ip", src, dst, id) or (frame number, "arp", sender, target) of every protected
        IP/ARP frame, Retry copies included (tshark dissects those too)."""
        return {(str(i), *e.row) for i, e in enumerate(self.expected, 1) if e is not None and e.row}

    def group_frames(self) -> set[int]:
        """Frame numbers (1-based) of the group-addressed protected frames."""
        return {i for i, e in enumerate(self.expected, 1) if e is not None and e.group}

    def encode(self) -> bytes:
        buf = io.BytesIO()
        if self.pcapng:
            w = PcapngWriter(buf, comment=f"krackwatch synthetic capture: {self.name}")
            iface = w.add_interface(LINKTYPE_RADIOTAP)
            for ts, data in self.records:
                w.write(iface, ts, data)
        else:
            w = PcapWriter(buf, LINKTYPE_RADIOTAP)
            for ts, data in self.records:
                w.write(ts, data)
        return buf.getvalue()

    def write(self, path) -> None:
        with open(path, "wb") as f:
            f.write(self.encode())


def radiotap(*, fcs: bool, tsft: int | None = None, freq: int = 2437) -> bytes:
    """Radiotap header with [TSFT,] Flags, Rate and Channel (2.4 GHz OFDM)."""
    present = (1 << RadiotapBit.FLAGS) | (1 << RadiotapBit.RATE) | (1 << RadiotapBit.CHANNEL)
    items = (
        RadiotapItem(RadiotapBit.FLAGS, int(RadiotapFlags.FCS_AT_END) if fcs else 0),
        RadiotapItem(RadiotapBit.RATE, 12),  # 6 Mb/s in 500 kb/s units
        RadiotapItem(RadiotapBit.CHANNEL, Channel(freq, 0x00C0)),  # 2 GHz, OFDM
    )
    if tsft is not None:
        present |= 1 << RadiotapBit.TSFT
        items = (RadiotapItem(RadiotapBit.TSFT, tsft), *items)
    return encode_radiotap(Radiotap(0, 0, 0, (present,), items))


def cleared(header: bytes) -> bytes:
    """A MAC header with the Protected bit cleared, as a decryptor writes it out."""
    return header[:1] + bytes((header[1] & 0xBF,)) + header[2:]


RATES = Element(ElementID.SUPPORTED_RATES, bytes.fromhex("8c129824b048606c"))  # OFDM 6-54 Mb/s


# --------------------------------------------------------------------------- networks and links


def descriptor_version(akm: AKM, pairwise: Cipher) -> int:
    """Key Descriptor Version (12.7.2 b.1): 1 HMAC-MD5/RC4 for TKIP, 3 AES-CMAC for AKMs 3-6, else 2."""
    if akm in (AKM.FT_IEEE8021X, AKM.FT_PSK, AKM.IEEE8021X_SHA256, AKM.PSK_SHA256):
        return 3
    return 1 if pairwise == Cipher.TKIP else 2


def _cipher(cipher: Cipher, key: bytes):
    if cipher in (Cipher.CCMP128, Cipher.CCMP256):
        return CCMP(key)
    if cipher in (Cipher.GCMP128, Cipher.GCMP256):
        return GCMP(key)
    if cipher == Cipher.TKIP:
        return TKIP(key)
    raise ValueError(cipher)


@dataclass(slots=True)
class Bss:
    """An AP (or the authenticator bridge of a WDS link) and its group keys.

    ``akm`` None means a pre-RSNA network (static WEP, ``wep_key``).
    """

    bssid: bytes
    ssid: bytes
    akm: AKM | None = AKM.PSK
    pairwise: Cipher = Cipher.CCMP128
    group: Cipher = Cipher.CCMP128
    pmf: bool = False
    mgmt_group: Cipher = Cipher.BIP_CMAC128  # group management cipher (IGTK) when ``pmf``
    mdid: bytes | None = None  # FT: Mobility Domain Identifier
    r0kh_id: bytes | None = None
    offered: tuple[Cipher, ...] = ()  # pairwise suites the AP advertises, when more than the one negotiated
    wep_key: bytes | None = None
    hidden: bool = False  # beacons carry an empty SSID; only the association request names it
    channel: int = 6
    gtk: bytes = b""
    gtk_id: int = 1
    group_pn: int = 0  # last PN/TSC sent under the GTK
    gtk_captured: bool = False  # a captured frame (M3, group M1, FT Reassociation Response) carried the GTK
    igtk: bytes = b""
    igtk_id: int = 4
    ipn: int = 0
    wep_iv: int = 0x100

    def __post_init__(self) -> None:
        if self.akm is not None and not self.gtk:
            self.gtk = key_bytes(f"GTK {self.bssid.hex()} 1", self.group.tk_len)
        if self.pmf and not self.igtk:
            self.igtk = key_bytes(f"IGTK {self.bssid.hex()}", self.mgmt_group.tk_len)

    @property
    def r1kh_id(self) -> bytes:
        return self.bssid  # 12.7.1.7.1: a 6-octet R1KH-ID, commonly the BSSID

    @property
    def capabilities(self) -> int:
        caps = 0
        if self.pmf:
            caps |= RSNCapability.MFPC | RSNCapability.MFPR
        return caps

    def rsne(self, pmkid: bytes | None = None, *, sta: bool = False) -> RSNE:
        """The AP's RSNE (every offered pairwise suite) or, with ``sta``, the station's (the negotiated one),
        optionally naming one PMKID (FT: PMKR0Name / PMKR1Name)."""
        gmc = self.mgmt_group if self.pmf else None
        pmkids = (pmkid,) if pmkid is not None else (() if gmc is not None else None)
        pairwise = (self.pairwise,) if sta or not self.offered else self.offered
        return RSNE(1, self.group, pairwise, (self.akm,), self.capabilities, pmkids, gmc)

    def mde(self) -> MDE:
        return MDE(self.mdid, 0x00)  # FT over the air, no resource request

    def group_engine(self):
        return _cipher(self.group, self.gtk)

    def new_gtk(self, tag: str) -> None:
        """The authenticator draws a new GTK for the other key slot (12.7.7: key ids alternate 1/2)."""
        self.gtk_id = 2 if self.gtk_id == 1 else 1
        self.gtk = key_bytes(f"GTK {self.bssid.hex()} {tag}", self.group.tk_len)
        self.group_pn = 0
        self.gtk_captured = False


@dataclass(slots=True)
class Link:
    """Pairwise state shared by an authenticator (``bss``) and a supplicant (``sta``)."""

    bss: Bss
    sta: bytes
    pmk: bytes
    ptk: PTK | None = None
    engine: object = None
    pn: dict[bytes, int] = field(default_factory=dict)  # transmitter -> last PN/TSC under this PTK
    replay_counter: int = 0
    # FT: key names and the FTE elements that the 4-way handshake repeats
    pmk_r0: bytes = b""
    pmk_r0_name: bytes = b""
    pmk_r1_name: bytes = b""
    fte: FTE | None = None

    @property
    def cipher(self) -> Cipher:
        return self.bss.pairwise

    def install(self, ptk: PTK) -> None:
        self.ptk = ptk
        self.engine = _cipher(self.cipher, ptk.tk)
        self.pn = {}

    def next_pn(self, ta: bytes) -> int:
        self.pn[ta] = self.pn.get(ta, 0) + 1
        return self.pn[ta]


# --------------------------------------------------------------------------- the recorder


class Air:
    """Builds a capture frame by frame; see the module docstring."""

    def __init__(self, name: str, *, fcs: bool = False, tsft: bool = False) -> None:
        self.name = name
        self.fcs = fcs
        self.tsft = tsft
        self.records: list[tuple[int, bytes]] = []
        self.expected: list[Expect | None] = []
        self.handshakes: dict[tuple[str, str], list[tuple[str, tuple[str, ...], tuple[int, ...]]]] = {}
        self._seq: dict[bytes, int] = {}

    # -- low level
    def _seq_ctrl(self, ta: bytes) -> int:
        n = self._seq.get(ta, 0)
        self._seq[ta] = (n + 1) & 0xFFF
        return n << 4

    def emit(self, frame: bytes, expect: Expect | None = None, *, fcs_of: bytes | None = None) -> None:
        """Record one frame; ``fcs_of`` appends the FCS of another frame (a frame damaged on the air)."""
        ts_us = len(self.records) * 200
        data = radiotap(fcs=self.fcs, tsft=ts_us if self.tsft else None) + frame
        if self.fcs:
            data += zlib.crc32(fcs_of if fcs_of is not None else frame).to_bytes(4, "little")
        self.records.append((START_NS + ts_us * 1000, data))
        self.expected.append(expect)

    def damaged(self, frame: bytes, at: int = -12) -> None:
        """``frame`` with one bit flipped on the air: the FCS (of the original) no longer matches."""
        broken = bytearray(frame)
        broken[at] ^= 0x04
        self.emit(bytes(broken), None, fcs_of=frame)

    def emit_with_retry(self, frame: bytes, expect: Expect, retry: bool) -> tuple[bytes, Expect]:
        """Emit a protected MPDU and, with ``retry``, a true retransmission right after it."""
        self.emit(frame, expect)
        if retry:
            self.retransmit(frame, expect)
        return frame, expect

    def retransmit(self, frame: bytes, expect: Expect) -> None:
        """The same MPDU again with Retry set (same sequence number and PN): not a new MPDU."""
        def retry(f: bytes) -> bytes:
            return f[:1] + bytes((f[1] | 0x08,)) + f[2:]

        self.emit(retry(frame), Expect(retry(expect.frame), expect.group, False, expect.row))

    def finish(self, keyring: keys.KeyRing, tshark_keys: tuple[tuple[str, str], ...], *,
               pcapng: bool = True) -> Capture:
        return Capture(self.name, self.records, self.expected, self.fcs, keyring, tshark_keys, pcapng,
                       self.handshakes)

    @staticmethod
    def _mgmt_header(subtype: int, ra: bytes, ta: bytes, bssid: bytes, seq: int, *,
                     protected: bool = False) -> MacHeader:
        flags = 0x40 if protected else 0
        return MacHeader((subtype << 4) | (flags << 8), 0x013A if ra != BROADCAST else 0, ra, ta, bssid, seq)

    def mgmt(self, subtype: int, ra: bytes, ta: bytes, bssid: bytes, body: bytes) -> bytes:
        frame = self._mgmt_header(subtype, ra, ta, bssid, self._seq_ctrl(ta)).encode() + body
        self.emit(frame)
        return frame

    # -- management exchanges
    def beacon(self, bss: Bss, count: int = 1) -> None:
        ssid = Element(ElementID.SSID, b"" if bss.hidden else bss.ssid)
        elems = [ssid, RATES, Element(ElementID.DS_PARAMETER_SET, bytes((bss.channel,)))]
        if bss.akm is not None:
            elems.append(bss.rsne().element())
        if bss.mdid is not None:
            elems.append(bss.mde().element())
        capability = 0x0001 | (0x0010 if bss.akm is not None or bss.wep_key else 0)  # ESS | Privacy
        for i in range(count):
            body = BeaconBody(0x1000 + i * 102_400, 100, capability, tuple(elems)).encode()
            self.mgmt(8, BROADCAST, bss.bssid, bss.bssid, body)

    def open_auth(self, bss: Bss, sta: bytes) -> None:
        self.mgmt(11, bss.bssid, sta, bss.bssid, AuthBody(0, 1, 0).encode())
        self.mgmt(11, sta, bss.bssid, bss.bssid, AuthBody(0, 2, 0).encode())

    def shared_key_auth(self, bss: Bss, sta: bytes) -> None:
        """WEP Shared Key authentication (12.3.3.3): the station returns the challenge under WEP (seq 3)."""
        challenge = Element(ElementID.CHALLENGE_TEXT, key_bytes(f"challenge {sta.hex()}", 64) * 2)
        self.mgmt(11, bss.bssid, sta, bss.bssid, AuthBody(1, 1, 0).encode())
        self.mgmt(11, sta, bss.bssid, bss.bssid, AuthBody(1, 2, 0, (challenge,)).encode())
        body = AuthBody(1, 3, 0, (challenge,)).encode()
        header = self._mgmt_header(11, bss.bssid, sta, bss.bssid, self._seq_ctrl(sta), protected=True)
        header = header.encode()
        bss.wep_iv += 1
        enc = wep_encrypt(bss.wep_key, bss.wep_iv.to_bytes(3, "big"), 0, body)
        self.emit(header + enc, Expect(cleared(header) + body, False, True, None))
        self.mgmt(11, sta, bss.bssid, bss.bssid, AuthBody(1, 4, 0).encode())

    def associate(self, bss: Bss, sta: bytes, *, link: Link | None = None) -> None:
        """(Association Request, Response); FT initial mobility domain association adds MDE (+ FTE)."""
        req = [Element(ElementID.SSID, bss.ssid), RATES]
        resp = [RATES]
        if bss.akm is not None:
            req.append(bss.rsne(sta=True).element())
        if bss.mdid is not None:
            req.append(bss.mde().element())
            # 13.4: the response carries the MDE and an FTE naming R0KH-ID and R1KH-ID.
            fte = FTE(0, bytes(16), bytes(32), bytes(32), (
                FTSubelement(FTSubelementID.R1KH_ID, bss.r1kh_id),
                FTSubelement(FTSubelementID.R0KH_ID, bss.r0kh_id),
            ))
            if link is not None:
                link.fte = fte
            resp += [bss.mde().element(), fte.element()]
        self.mgmt(0, bss.bssid, sta, bss.bssid, AssocReqBody(0x0431, 10, None, tuple(req)).encode())
        self.mgmt(1, sta, bss.bssid, bss.bssid, AssocRespBody(0x0431, 0, 0xC001, tuple(resp)).encode())

    # -- data
    def _data_header(self, *, ra: bytes, ta: bytes, ds: int, a3: bytes, a4: bytes | None, tid: int | None,
                     protected: bool, htc: int | None = None) -> MacHeader:
        """Data (``tid`` None) or QoS Data header; ``htc`` adds an HT Control field (+HTC, Order bit set)."""
        fc0 = 0x08 | (0x80 if tid is not None else 0)
        flags = ds | (0x40 if protected else 0) | (0x80 if htc is not None else 0)
        return MacHeader(fc0 | (flags << 8), 0x002C, ra, ta, a3, self._seq_ctrl(ta), a4, tid, htc)

    def data(self, link: Link, msdu: Msdu, *, from_ap: bool, tid: int | None = None, retry: bool = False,
             peer: bytes | None = None, wds: tuple[bytes, bytes] | None = None, htc: int | None = None,
             damaged: bool = False) -> tuple[bytes, Expect]:
        """Pairwise-protected data, AP->STA (FromDS) or STA->AP (ToDS); returns (frame, expectation).

        ``peer`` is the other end beyond the AP (A3). ``wds`` = (DA, SA) sends a 4-address frame
        (ToDS and FromDS, A1 = RA, A2 = TA, A3 = DA, A4 = SA) instead. ``damaged`` records the frame
        with a bit error (see :meth:`damaged`).
        """
        bss = link.bss
        ra, ta = (link.sta, bss.bssid) if from_ap else (bss.bssid, link.sta)
        if wds is not None:
            ds, a3, a4 = 3, wds[0], wds[1]
        else:
            ds, a3, a4 = (2 if from_ap else 1), peer or bss.bssid, None
        header = self._data_header(ra=ra, ta=ta, ds=ds, a3=a3, a4=a4, tid=tid, protected=True, htc=htc)
        return self._protect_pairwise(link, header, msdu, from_ap=from_ap, retry=retry, damaged=damaged)

    def _protect_pairwise(self, link: Link, header: MacHeader, msdu: Msdu, *, from_ap: bool,
                          retry: bool = False, damaged: bool = False) -> tuple[bytes, Expect]:
        hdr = header.encode()
        ta = header.addr2
        pn = link.next_pn(ta)
        if link.cipher == Cipher.TKIP:
            body = link.engine.encrypt(hdr, pn, 0, msdu.body,
                                       michael_key=link.ptk.michael_key(from_authenticator=from_ap))
        else:
            body = link.engine.encrypt(hdr, pn, 0, msdu.body)
        expect = Expect(cleared(hdr) + msdu.body, False, True, msdu.row)
        if damaged:
            self.damaged(hdr + body)
            return hdr + body, expect
        return self.emit_with_retry(hdr + body, expect, retry)

    def stranger(self, link: Link, msdu: Msdu) -> None:
        """Protected data from a station whose handshake is not on the air: nobody can decrypt it."""
        bss = link.bss
        link.install(derive_ptk(link.pmk, bss.bssid, link.sta, nonce("stranger A"), nonce("stranger S"),
                                akm=bss.akm, cipher=bss.pairwise))
        header = self._data_header(ra=bss.bssid, ta=link.sta, ds=1, a3=bss.bssid, a4=None, tid=None,
                                   protected=True)
        self._protect_pairwise(link, header, msdu, from_ap=False)
        self.expected[-1] = None

    def plain_data(self, *, ra: bytes, ta: bytes, ds: int, a3: bytes, body: bytes) -> None:
        header = self._data_header(ra=ra, ta=ta, ds=ds, a3=a3, a4=None, tid=None, protected=False)
        self.emit(header.encode() + body)

    def group_data(self, bss: Bss, msdu: Msdu, *, sa: bytes, da: bytes = BROADCAST) -> None:
        """Group-addressed data from the AP (FromDS, A1 = DA, A2 = BSSID, A3 = SA) under the GTK.

        Group-addressed frames are not acknowledged, so they have no Retry copies (10.3.2.11). Nobody can
        decrypt them before a captured frame has delivered the GTK.
        """
        header = self._data_header(ra=da, ta=bss.bssid, ds=2, a3=sa, a4=None, tid=None, protected=True)
        header = header.encode()
        bss.group_pn += 1
        engine = bss.group_engine()
        if bss.group == Cipher.TKIP:
            # 12.5.2.3.2: group frames use the authenticator-to-supplicant Michael key (GTK octets 16-23).
            body = engine.encrypt(header, bss.group_pn, bss.gtk_id, msdu.body, michael_key=bss.gtk[16:24])
        else:
            body = engine.encrypt(header, bss.group_pn, bss.gtk_id, msdu.body)
        expect = Expect(cleared(header) + msdu.body, True, True, msdu.row)
        self.emit(header + body, expect if bss.gtk_captured else None)

    def wep_data(self, bss: Bss, sta: bytes, msdu: Msdu, *, from_ap: bool, group: bool = False,
                 peer: bytes | None = None, retry: bool = False) -> None:
        """Static-WEP data (12.3.2): IV || KeyID octet || RC4(IV || key)(MSDU || ICV)."""
        ra, ta = (BROADCAST if group else sta, bss.bssid) if from_ap else (bss.bssid, sta)
        header = self._data_header(ra=ra, ta=ta, ds=2 if from_ap else 1, a3=peer or bss.bssid, a4=None,
                                   tid=None, protected=True)
        hdr = header.encode()
        bss.wep_iv += 1
        body = wep_encrypt(bss.wep_key, bss.wep_iv.to_bytes(3, "big"), 0, msdu.body)
        self.emit_with_retry(hdr + body, Expect(cleared(hdr) + msdu.body, group, True, msdu.row), retry)

    def protected_mgmt(self, link: Link, subtype: int, body: bytes, *, from_ap: bool) -> None:
        """A robust unicast management frame under the PTK (12.5.3.3.4: nonce Management flag set)."""
        bss = link.bss
        ra, ta = (link.sta, bss.bssid) if from_ap else (bss.bssid, link.sta)
        header = self._mgmt_header(subtype, ra, ta, bss.bssid, self._seq_ctrl(ta), protected=True).encode()
        enc = link.engine.encrypt(header, link.next_pn(ta), 0, body)
        self.emit(header + enc, Expect(cleared(header) + body, False, True, None))

    # -- EAPOL
    def _eapol(self, link: Link, key: EapolKey, kck: bytes, *, from_ap: bool, protect: bool,
               tid: int | None = None, lost: bool = False) -> None:
        """Send one EAPOL-Key frame (MIC computed when the MIC bit is set), in the clear or under the PTK.

        ``lost``: sent (sequence number and PN used up) but not captured.
        """
        if key.key_info & KeyInfo.MIC:
            mic = eapol_key_mic(kck, key.mic_zeroed_bytes(), descriptor_version=key.key_info & 7)
            key = key.with_mic(mic)
        msdu = Msdu(snap_header(EtherType.EAPOL) + key.encode(), None)
        bss = link.bss
        ra, ta = (link.sta, bss.bssid) if from_ap else (bss.bssid, link.sta)
        header = self._data_header(ra=ra, ta=ta, ds=2 if from_ap else 1, a3=bss.bssid, a4=None, tid=tid,
                                   protected=protect)
        if lost:
            if protect:
                link.next_pn(ta)
        elif protect:
            self._protect_pairwise(link, header, msdu, from_ap=from_ap)
        else:
            self.emit(header.encode() + msdu.body)

    @staticmethod
    def _key(key_info: int, *, key_length: int = 0, rc: int, nonce_: bytes = bytes(32),
             key_iv: bytes = bytes(16), rsc: int = 0, key_data: bytes = b"", version: int = 2) -> EapolKey:
        # Descriptor Type 2 (RSN), Key ID field zero, MIC zero until computed.
        return EapolKey(version, 2, key_info, key_length, rc, nonce_, key_iv, rsc, bytes(8), bytes(16),
                        key_data)

    @staticmethod
    def _wrap(ptk: PTK, dv: int, plain: bytes, iv_label: str) -> tuple[bytes, bytes]:
        """(EAPOL-Key IV, encrypted Key Data): RC4 for version 1, AES key wrap otherwise (12.7.2)."""
        if dv == 1:
            iv = key_bytes(iv_label, 16)
            return iv, rc4(iv + ptk.kek, plain, skip=256)
        return bytes(16), aes_key_wrap(ptk.kek, pad_key_data(plain))

    def _group_kdes(self, bss: Bss) -> bytes:
        out = GtkKDE(bss.gtk_id, False, bss.gtk).encode()
        if bss.pmf:
            out += IgtkKDE(bss.igtk_id, bss.ipn, bss.igtk).encode()
        return out

    def four_way(self, link: Link, tag: str, **options) -> PTK:
        """A complete 4-way handshake; see :meth:`four_way_steps` for the options."""
        for _ in self.four_way_steps(link, tag, **options):
            pass
        return link.ptk

    def four_way_steps(self, link: Link, tag: str, *, protect: bool = False, eapol_tid: int | None = None,
                       m1_twice: bool = False, m3_twice: bool = False,
                       lost: tuple[str, ...] = ()) -> Iterator[None]:
        """The 4-way handshake (12.7.6), one message per step, so that two can be interleaved.

        ``protect`` sends it under the current PTK (a PTK rekey); ``eapol_tid`` sends EAPOL as QoS Data;
        ``m1_twice`` / ``m3_twice`` make the authenticator retransmit M1 / M3 with the next replay counter
        (same ANonce), as it does when no reply comes; ``lost`` names messages sent but not captured.
        For FT AKMs this is the FT initial mobility domain association (12.7.6.2-5, 13.4): M1 names
        PMKR1Name, M2 and M3 repeat RSNE[PMKR1Name], MDE and FTE, and the PTK comes from PMK-R1.
        """
        bss = link.bss
        dv = descriptor_version(bss.akm, bss.pairwise)
        anonce, snonce = nonce(f"ANonce {tag}"), nonce(f"SNonce {tag}")
        tk_len = bss.pairwise.tk_len
        ft = bss.akm.is_ft
        if ft:
            link.pmk_r0, link.pmk_r0_name = derive_pmk_r0(link.pmk, bss.ssid, bss.mdid, bss.r0kh_id, link.sta,
                                                          akm=bss.akm)
            pmk_r1, link.pmk_r1_name = derive_pmk_r1(link.pmk_r0, link.pmk_r0_name, bss.r1kh_id, link.sta,
                                                     akm=bss.akm)
            ptk = derive_ft_ptk(pmk_r1, snonce, anonce, bss.bssid, link.sta, akm=bss.akm, cipher=bss.pairwise)
        else:
            ptk = derive_ptk(link.pmk, bss.bssid, link.sta, anonce, snonce, akm=bss.akm, cipher=bss.pairwise)
        pair = dv | KeyInfo.KEY_TYPE
        messages: list[str] = []
        frames: list[int] = []

        def send(msg: str, key: EapolKey, kck: bytes, from_ap: bool) -> None:
            self._eapol(link, key, kck, from_ap=from_ap, protect=protect, tid=eapol_tid, lost=msg in lost)
            if msg not in lost:
                messages.append(msg)
                frames.append(len(self.records))

        if ft:
            m1_data = PmkidKDE(link.pmk_r1_name).encode()
        else:
            m1_data = PmkidKDE(pmkid(link.pmk, bss.bssid, link.sta, akm=bss.akm)).encode()
        for _ in range(2 if m1_twice else 1):
            link.replay_counter += 1
            send("M1", self._key(pair | KeyInfo.ACK, key_length=tk_len, rc=link.replay_counter, nonce_=anonce,
                                 key_data=m1_data), b"", True)
            yield
        sta_ies = bss.rsne(link.pmk_r1_name if ft else None, sta=True).element().encode()
        if ft:
            sta_ies += bss.mde().element().encode() + link.fte.element().encode()
        send("M2", self._key(pair | KeyInfo.MIC, rc=link.replay_counter, nonce_=snonce, key_data=sta_ies,
                             version=1), ptk.kck, False)
        yield
        plain = bss.rsne(link.pmk_r1_name if ft else None).element().encode() + self._group_kdes(bss)
        if ft:
            tie = Element(ElementID.TIMEOUT_INTERVAL, b"\x02" + (3600).to_bytes(4, "little"))  # key lifetime
            plain += bss.mde().element().encode() + link.fte.element().encode() + tie.encode()
        m3_info = pair | KeyInfo.INSTALL | KeyInfo.ACK | KeyInfo.MIC | KeyInfo.SECURE
        m3_info |= KeyInfo.ENCRYPTED_KEY_DATA
        for i in range(2 if m3_twice else 1):
            link.replay_counter += 1
            iv, data = self._wrap(ptk, dv, plain, f"M3 IV {tag} {i}")
            send("M3", self._key(m3_info, key_length=tk_len, rc=link.replay_counter, nonce_=anonce, key_iv=iv,
                                 rsc=bss.group_pn, key_data=data), ptk.kck, True)
            bss.gtk_captured |= "M3" not in lost
            yield
        send("M4", self._key(pair | KeyInfo.MIC | KeyInfo.SECURE, rc=link.replay_counter, version=1), ptk.kck,
             False)
        link.install(ptk)
        key = (mac_text(bss.bssid), mac_text(link.sta))
        self.handshakes.setdefault(key, []).append((anonce.hex(), tuple(messages), tuple(frames)))
        yield

    def interleave(self, *steps: Iterator[None]) -> None:
        """Run handshakes step by step in turn (several stations associating at once)."""
        pending = list(steps)
        while pending:
            for it in list(pending):
                if next(it, StopIteration) is StopIteration:
                    pending.remove(it)

    def group_key_handshake(self, link: Link, tag: str) -> None:
        """Group key handshake (12.7.7) under the PTK, delivering the BSS's current GTK (see Bss.new_gtk)."""
        bss = link.bss
        dv = descriptor_version(bss.akm, bss.pairwise)
        link.replay_counter += 1
        iv, data = self._wrap(link.ptk, dv, self._group_kdes(bss), f"G1 IV {tag}")
        info = dv | KeyInfo.ACK | KeyInfo.MIC | KeyInfo.SECURE | KeyInfo.ENCRYPTED_KEY_DATA
        self._eapol(link, self._key(info, rc=link.replay_counter, key_iv=iv, key_data=data), link.ptk.kck,
                    from_ap=True, protect=True)
        bss.gtk_captured = True
        self._eapol(link, self._key(dv | KeyInfo.MIC | KeyInfo.SECURE, rc=link.replay_counter, version=1),
                    link.ptk.kck, from_ap=False, protect=True)

    # -- FT over-the-air roam (13.5.2, 13.8)
    def ft_roam(self, link: Link, target: Bss, tag: str) -> Link:
        """FT Authentication (seq 1/2), then Reassociation with FTE MICs and the wrapped GTK; returns the
        station's link with ``target``."""
        sta = link.sta
        akm = target.akm
        new = Link(target, sta, link.pmk, pmk_r0=link.pmk_r0, pmk_r0_name=link.pmk_r0_name)
        pmk_r1, new.pmk_r1_name = derive_pmk_r1(link.pmk_r0, link.pmk_r0_name, target.r1kh_id, sta, akm=akm)
        anonce, snonce = nonce(f"FT ANonce {tag}"), nonce(f"FT SNonce {tag}")
        ptk = derive_ft_ptk(pmk_r1, snonce, anonce, target.bssid, sta, akm=akm, cipher=target.pairwise)
        r0 = FTSubelement(FTSubelementID.R0KH_ID, target.r0kh_id)
        r1 = FTSubelement(FTSubelementID.R1KH_ID, target.r1kh_id)
        mde = target.mde().element()

        # FT Authentication (13.5.2): RSNE[PMKR0Name], MDE, FTE (SNonce, R0KH-ID; then ANonce, R1KH-ID too).
        auth1 = (target.rsne(link.pmk_r0_name, sta=True).element(), mde,
                 FTE(0, bytes(16), bytes(32), snonce, (r0,)).element())
        self.mgmt(11, target.bssid, sta, target.bssid, AuthBody(2, 1, 0, auth1).encode())
        auth2 = (target.rsne(link.pmk_r0_name).element(), mde,
                 FTE(0, bytes(16), anonce, snonce, (r1, r0)).element())
        self.mgmt(11, sta, target.bssid, target.bssid, AuthBody(2, 2, 0, auth2).encode())

        # Reassociation (13.8.4): RSNE[PMKR1Name], MDE, FTE with a MIC under the new KCK (seq 5 / 6).
        sta_rsne = target.rsne(new.pmk_r1_name, sta=True).element()
        ap_rsne = target.rsne(new.pmk_r1_name).element()

        def signed(seq: int, rsne: Element, subs: tuple[FTSubelement, ...]) -> Element:
            unsigned = FTE(3 << 8, bytes(16), anonce, snonce, subs)  # Element Count 3: RSNE, MDE, FTE
            mic = ft_mic(ptk.kck, sta, target.bssid, seq, rsne.encode(), mde.encode(),
                         unsigned.element().encode(), akm=akm)
            return FTE(3 << 8, mic, anonce, snonce, subs).element()

        req = (Element(ElementID.SSID, target.ssid), sta_rsne, mde, signed(5, sta_rsne, (r1, r0)))
        self.mgmt(2, target.bssid, sta, target.bssid, AssocReqBody(0x0431, 10, link.bss.bssid, req).encode())
        # FTE GTK subelement (9.4.2.47): Key Info (key id), Key Length, RSC, GTK wrapped with the KEK.
        wrapped = aes_key_wrap(ptk.kek, pad_key_data(target.gtk))
        gtk = FtGtk(target.gtk_id, len(target.gtk), target.group_pn, wrapped)
        subs = (r1, FTSubelement(FTSubelementID.GTK, gtk.encode()), r0)
        resp = (ap_rsne, mde, signed(6, ap_rsne, subs))
        self.mgmt(3, sta, target.bssid, target.bssid, AssocRespBody(0x0431, 0, 0xC002, resp).encode())
        target.gtk_captured = True
        new.install(ptk)
        new.fte = FTE(0, bytes(16), bytes(32), bytes(32), (r1, r0))  # what a later 4-way (rekey) repeats
        return new


# --------------------------------------------------------------------------- scenarios

AP1, AP2 = mac("02:00:00:00:01:00"), mac("02:00:00:00:01:01")
STA, STA2, STRANGER = mac("02:00:00:00:02:00"), mac("02:00:00:00:02:01"), mac("02:00:00:00:02:99")
GW = mac("02:00:00:00:09:00")  # a wired host behind the AP
GW_IP = "10.20.0.254"
PASSPHRASE = "synthetic passphrase"


class Ids:
    """Distinct IPv4 identification values across a capture, so that tshark rows are unique."""

    def __init__(self, start: int = 0x1000) -> None:
        self.n = start

    def __call__(self) -> int:
        self.n += 1
        return self.n


def traffic(air: Air, link: Link, ids: Ids, sta_ip: str, *, rounds: int = 2) -> None:
    """ARP and IPv4 (UDP, ICMP) both ways, QoS (several TIDs) and non-QoS, one Retry copy per round,
    then a broadcast ARP under the GTK."""
    air.data(link, arp_msdu(1, link.sta, sta_ip, bytes(6), GW_IP), from_ap=False, peer=BROADCAST)
    air.data(link, arp_msdu(2, GW, GW_IP, link.sta, sta_ip), from_ap=True, peer=GW)
    for r in range(rounds):
        air.data(link, ip_msdu(sta_ip, GW_IP, ids()), from_ap=False, peer=GW, tid=0)
        air.data(link, ip_msdu(GW_IP, sta_ip, ids()), from_ap=True, peer=GW, tid=5 if r else None, retry=True)
        air.data(link, ip_msdu(sta_ip, GW_IP, ids(), icmp=True), from_ap=False, peer=GW, retry=r == 1)
        air.data(link, ip_msdu(GW_IP, sta_ip, ids(), icmp=True, reply=True), from_ap=True, peer=GW, tid=6)
    # A +HTC QoS frame on TID 1 whose HT Control field's third octet reads 5, a frame on TID 5, then the
    # retransmission of the first (block-ack retries come after other traffic).
    first = air.data(link, ip_msdu(sta_ip, GW_IP, ids()), from_ap=False, peer=GW, tid=1, htc=0x00050000)
    air.data(link, ip_msdu(sta_ip, GW_IP, ids()), from_ap=False, peer=GW, tid=5)
    air.retransmit(*first)
    air.group_data(link.bss, arp_msdu(1, GW, GW_IP, bytes(6), f"10.20.0.{100 + ids() % 100}"), sa=GW)


def _psk_keys(ssid: bytes) -> tuple[keys.KeyRing, tuple[tuple[str, str], ...]]:
    ring = keys.KeyRing.of([keys.passphrase(PASSPHRASE, ssid)])
    return ring, (("wpa-pwd", f"{PASSPHRASE}:{ssid.decode()}"),)


def psk_network(name: str, *, akm: AKM = AKM.PSK, pairwise: Cipher = Cipher.CCMP128,
                group: Cipher | None = None, offered: tuple[Cipher, ...] = (), pmf: bool = False,
                mgmt_group: Cipher = Cipher.BIP_CMAC128, fcs: bool = False, tsft: bool = False,
                pcapng: bool = True, hidden: bool = False, stations: int = 1, handshake: dict | None = None,
                ptk_rekey: bool = False, group_rekey: bool = False) -> Capture:
    """Beacons, open authentication, association, 4-way handshake(s) and traffic on one PSK network.

    ``handshake`` holds :meth:`Air.four_way_steps` options for the first station's handshake; with two
    stations the two handshakes are interleaved message by message. A hidden SSID is given to
    krackwatch without the SSID, which it must learn from the association request.
    """
    ssid = f"synth-{name}".encode()
    bss = Bss(AP1, ssid, akm, pairwise, group or pairwise, pmf=pmf, mgmt_group=mgmt_group, offered=offered,
              hidden=hidden)
    pmk = pbkdf2_psk(PASSPHRASE.encode(), ssid)
    air = Air(name, fcs=fcs, tsft=tsft)
    ids = Ids()
    air.beacon(bss, 2)
    # Broadcast traffic from before any captured handshake: no key for it yet, for anybody.
    air.group_data(bss, arp_msdu(1, GW, GW_IP, bytes(6), "10.20.0.1"), sa=GW)
    links = [(Link(bss, sta, pmk), f"10.20.0.{2 + i}") for i, sta in enumerate((STA, STA2)[:stations])]
    for link, _ in links:
        air.open_auth(bss, link.sta)
        air.associate(bss, link.sta)
    options = [handshake or {}] + [{}] * (stations - 1)
    air.interleave(*(air.four_way_steps(link, f"{name} {link.sta.hex()} 1", **opts)
                     for (link, _), opts in zip(links, options, strict=True)))
    for link, ip in links:
        traffic(air, link, ids, ip)
    # A station whose handshake was not captured: nobody can decrypt its frame, and it is not counted.
    air.stranger(Link(bss, STRANGER, key_bytes("stranger PMK", 32)), ip_msdu("10.20.0.9", GW_IP, ids()))
    if fcs:
        # A data frame hit by a bit error: its FCS fails, so it is neither decrypted nor counted.
        air.data(links[0][0], ip_msdu(GW_IP, links[0][1], ids()), from_ap=True, peer=GW, damaged=True)
    if pmf:
        # SA Query Request/Response (robust Action frames, category 8) under the PTK.
        air.protected_mgmt(links[0][0], 13, bytes((8, 0)) + b"\x4b\x57", from_ap=True)
        air.protected_mgmt(links[0][0], 13, bytes((8, 1)) + b"\x4b\x57", from_ap=False)
    if group_rekey:
        for rekey in ("G2", "G3"):
            bss.new_gtk(f"{name} {rekey}")
            for link, _ in links:
                air.group_key_handshake(link, f"{name} {link.sta.hex()} {rekey}")
            for link, ip in links:
                traffic(air, link, ids, ip, rounds=1)
    if ptk_rekey:
        # Two rekeys under the old PTK; the capture misses messages 3 and 4 of the second, so its PTK
        # comes from messages 1 and 2 alone and is proven by the data that follows.
        link, ip = links[0]
        for rekey in (2, 3):
            air.four_way(link, f"{name} {rekey}", protect=True, lost=("M3", "M4") if rekey == 3 else ())
            traffic(air, link, ids, ip, rounds=rekey - 1)
    if pmf:
        air.protected_mgmt(links[0][0], 12, ReasonBody(3).encode(), from_ap=True)  # Deauthentication
    ring, tkeys = _psk_keys(ssid)
    if hidden:
        ring = keys.KeyRing.of([keys.passphrase(PASSPHRASE, None)])
    return air.finish(ring, tkeys, pcapng=pcapng)


def ieee8021x_network() -> Capture:
    """AKM 1 (802.1X): EAP-Success in the clear, then the 4-way handshake under a PMK from the EAP method."""
    name = "8021x-pmk"
    ssid = b"synth-8021x"
    bss = Bss(AP1, ssid, AKM.IEEE8021X)
    pmk = key_bytes("802.1X MSK-derived PMK", 32)
    air = Air(name)
    link = Link(bss, STA, pmk)
    air.beacon(bss)
    air.open_auth(bss, STA)
    air.associate(bss, STA)
    # EAPOL version 2, type EAP-Packet, carrying EAP Success (code 3, identifier 7, length 4).
    eap_success = snap_header(EtherType.EAPOL) + bytes.fromhex("0200000403070004")
    air.plain_data(ra=STA, ta=AP1, ds=2, a3=AP1, body=eap_success)
    air.four_way(link, "8021x")
    traffic(air, link, Ids(), "10.20.0.2")
    return air.finish(keys.KeyRing.of([keys.Pmk(pmk)]), (("wpa-psk", pmk.hex()),))


def ft_network() -> Capture:
    """AKM 4 (FT-PSK): FT initial mobility domain association with AP1, FT roam to AP2, a PTK rekey and a
    group rekey there (PTK again from PMK-R1), FT roam back to AP1 (whose GTK changed meanwhile, so only
    the Reassociation Response's GTK subelement can give it).

    AP2's beacons are not in the capture (as with a capture filtered on the station's address), and
    krackwatch gets the passphrase without the SSID: FT authentication with AP2 comes before anything of
    AP2's names the SSID, which only the Reassociation Request then carries (PMK-R0 depends on it).
    """
    name = "ft-psk-roam"
    ssid = b"synth-ft"
    mdid, r0kh = b"\x4b\x57", b"ap1.r0kh.synth.example"
    bss1 = Bss(AP1, ssid, AKM.FT_PSK, mdid=mdid, r0kh_id=r0kh)
    bss2 = Bss(AP2, ssid, AKM.FT_PSK, mdid=mdid, r0kh_id=r0kh, channel=11)
    air = Air(name, fcs=True)
    link = Link(bss1, STA, pbkdf2_psk(PASSPHRASE.encode(), ssid))
    ids = Ids()
    air.beacon(bss1)
    air.open_auth(bss1, STA)
    air.associate(bss1, STA, link=link)
    air.four_way(link, "ft initial")
    traffic(air, link, ids, "10.20.0.2")
    link2 = air.ft_roam(link, bss2, "roam 1")
    traffic(air, link2, ids, "10.20.0.2")
    air.four_way(link2, "ft rekey", protect=True)
    bss2.new_gtk("ft G2")
    air.group_key_handshake(link2, "ft G2")
    traffic(air, link2, ids, "10.20.0.2", rounds=1)
    bss1.new_gtk("while away")
    link3 = air.ft_roam(link2, bss1, "roam 2")
    traffic(air, link3, ids, "10.20.0.2", rounds=1)
    _, tkeys = _psk_keys(ssid)
    return air.finish(keys.KeyRing.of([keys.passphrase(PASSPHRASE, None)]), tkeys)


def wds_network() -> Capture:
    """Two bridges: B associates to A (3-address handshake), then 4-address data between hosts behind them."""
    name = "wds"
    ssid = b"synth-wds"
    bridge_a, bridge_b = mac("02:00:00:00:0a:00"), mac("02:00:00:00:0b:00")
    host_a, host_b = mac("02:00:00:00:0a:01"), mac("02:00:00:00:0b:01")
    bss = Bss(bridge_a, ssid, AKM.PSK)
    air = Air(name)
    link = Link(bss, bridge_b, pbkdf2_psk(PASSPHRASE.encode(), ssid))
    ids = Ids()
    air.beacon(bss)
    air.open_auth(bss, bridge_b)
    air.associate(bss, bridge_b)
    ptk = air.four_way(link, "wds")
    for r in range(3):
        air.data(link, ip_msdu("10.30.0.2", "10.30.0.1", ids()), from_ap=False, wds=(host_a, host_b),
                 tid=0 if r else None, retry=r == 1)
        air.data(link, ip_msdu("10.30.0.1", "10.30.0.2", ids(), icmp=True, reply=True), from_ap=True,
                 wds=(host_b, host_a), tid=3 if r else None)
        air.data(link, arp_msdu(1, host_a, "10.30.0.1", bytes(6), f"10.30.0.{10 + r}"), from_ap=True,
                 wds=(BROADCAST, host_a))
    air.group_data(bss, arp_msdu(1, host_a, "10.30.0.1", bytes(6), "10.30.0.99"), sa=host_a)
    ring, tkeys = _psk_keys(ssid)
    # tshark 4.0 derives the PTK from the handshake but does not apply it to 4-address frames (see the
    # interop test); given the TK as well it decrypts them, so its oracle gets both keys.
    return air.finish(ring, tkeys + (("tk", ptk.tk.hex()),))


def wep_network(bits: int) -> Capture:
    """Static WEP-40 (open system authentication) / WEP-104 (shared key authentication, whose third frame
    is WEP-protected): unicast both ways and a broadcast."""
    name = f"wep-{bits}"
    ssid = f"synth-wep{bits}".encode()
    cipher = Cipher.WEP40 if bits == 40 else Cipher.WEP104
    key = key_bytes(f"WEP {bits}", cipher.tk_len)
    bss = Bss(AP1, ssid, None, cipher, cipher, wep_key=key)
    air = Air(name, fcs=bits == 104)
    ids = Ids()
    air.beacon(bss)
    if bits == 40:
        air.open_auth(bss, STA)
    else:
        air.shared_key_auth(bss, STA)
    air.associate(bss, STA)
    air.wep_data(bss, STA, arp_msdu(1, STA, "10.20.0.2", bytes(6), GW_IP), from_ap=False, peer=BROADCAST)
    air.wep_data(bss, STA, arp_msdu(2, GW, GW_IP, STA, "10.20.0.2"), from_ap=True, peer=GW)
    for _ in range(3):
        air.wep_data(bss, STA, ip_msdu("10.20.0.2", GW_IP, ids()), from_ap=False, peer=GW)
        reply = ip_msdu(GW_IP, "10.20.0.2", ids(), icmp=True, reply=True)
        air.wep_data(bss, STA, reply, from_ap=True, peer=GW, retry=True)
    air.wep_data(bss, STA, arp_msdu(1, GW, GW_IP, bytes(6), "10.20.0.50"), from_ap=True, group=True, peer=GW)
    return air.finish(keys.KeyRing.of([keys.WepKey(key)]), (("wep", key.hex()),), pcapng=bits == 40)


SCENARIOS: dict[str, Callable[[], Capture]] = {
    # The AP retransmits message 3 (message 4 was lost on the air); FCS kept in the records.
    "psk-ccmp128": lambda: psk_network("psk-ccmp128", fcs=True, handshake={"m3_twice": True}),
    "psk-tkip": lambda: psk_network("psk-tkip", pairwise=Cipher.TKIP, pcapng=False, group_rekey=True),
    "psk-sha256-pmf": lambda: psk_network("psk-sha256-pmf", akm=AKM.PSK_SHA256, pmf=True),
    "ft-psk-roam": ft_network,
    "8021x-pmk": ieee8021x_network,
    "psk-gcmp128": lambda: psk_network("psk-gcmp128", pairwise=Cipher.GCMP128, hidden=True),
    # The capture missed message 4: the first data frames prove the PTK. PMF with BIP-GMAC-256.
    "psk-gcmp256": lambda: psk_network("psk-gcmp256", pairwise=Cipher.GCMP256, pmf=True,
                                       mgmt_group=Cipher.BIP_GMAC256, handshake={"lost": ("M4",)}),
    # The AP offers CCMP-128 and CCMP-256, the station picks CCMP-256, the group cipher is CCMP-128;
    # EAPOL goes as QoS Data on TID 7 (as Linux sends it).
    "psk-ccmp256": lambda: psk_network("psk-ccmp256", pairwise=Cipher.CCMP256, group=Cipher.CCMP128,
                                       offered=(Cipher.CCMP128, Cipher.CCMP256), fcs=True, tsft=True,
                                       handshake={"eapol_tid": 7}),
    "wds": wds_network,
    "wep-40": lambda: wep_network(40),
    "wep-104": lambda: wep_network(104),
    # Two stations whose handshakes interleave (the first one's message 1 is retransmitted), two rekeys.
    "group-rekey": lambda: psk_network("group-rekey", stations=2, group_rekey=True,
                                       handshake={"m1_twice": True}),
    "ptk-rekey": lambda: psk_network("ptk-rekey", ptk_rekey=True, pcapng=False),
}


@functools.cache
def scenario(name: str) -> Capture:
    """``SCENARIOS[name]()``, built once per test session (the captures are deterministic; treat as read-only)."""
    return SCENARIOS[name]()
