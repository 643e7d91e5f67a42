"""The upper-layer packets the lab's stations exchange: ARP, IPv4 (UDP, TCP, ICMP), DHCP, DNS, HTTP,
and the IPv6 link-up messages (MLDv2 report, Neighbor Solicitation for DAD).

Only what the simulated hosts need, byte-correct (checksums included) so that tshark dissects every
packet cleanly. Layouts: ARP RFC 826, IPv4 RFC 791, UDP RFC 768, TCP RFC 9293, ICMP RFC 792, DHCP
RFC 2131/2132, DNS RFC 1035, IPv6 RFC 8200, ICMPv6 RFC 4443/4861, MLDv2 RFC 3810.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "DHCP_MAGIC",
    "DhcpMessage",
    "DhcpType",
    "EtherType",
    "Ipv4",
    "Tcp",
    "TcpFlags",
    "arp",
    "checksum",
    "dhcp",
    "dns_query",
    "dns_response",
    "eui64_link_local",
    "icmp_echo",
    "ip",
    "ip_text",
    "ipv4",
    "ipv6_dad_ns",
    "ipv6_mld_report",
    "llc",
    "parse_arp",
    "parse_dhcp",
    "parse_dns",
    "parse_ipv4",
    "parse_tcp",
    "parse_udp",
    "tcp",
    "udp",
]

LLC_SNAP = b"\xaa\xaa\x03\x00\x00\x00"


class EtherType(IntEnum):
    IPV4 = 0x0800
    ARP = 0x0806
    IPV6 = 0x86DD
    EAPOL = 0x888E


def llc(ethertype: int, payload: bytes) -> bytes:
    """An MSDU: RFC 1042 LLC/SNAP header, then the payload."""
    return LLC_SNAP + ethertype.to_bytes(2, "big") + payload


def ip(text: str) -> bytes:
    return bytes(int(x) for x in text.split("."))


def ip_text(addr: bytes) -> str:
    return ".".join(str(b) for b in addr)


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


# --------------------------------------------------------------------------- ARP


def arp(op: int, sha: bytes, spa: bytes, tha: bytes, tpa: bytes) -> bytes:
    """Ethernet/IPv4 ARP (op 1 request, 2 reply)."""
    return struct.pack("!HHBBH6s4s6s4s", 1, EtherType.IPV4, 6, 4, op, sha, spa, tha, tpa)


def parse_arp(b: bytes) -> tuple[int, bytes, bytes, bytes, bytes] | None:
    """(op, sha, spa, tha, tpa) or None."""
    if len(b) < 28 or b[:6] != b"\x00\x01\x08\x00\x06\x04":
        return None
    op, sha, spa, tha, tpa = struct.unpack_from("!H6s4s6s4s", b, 6)
    return op, sha, spa, tha, tpa


# --------------------------------------------------------------------------- IPv4, UDP, TCP, ICMP

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17


def ipv4(src: bytes, dst: bytes, proto: int, payload: bytes, *, ident: int = 0, ttl: int = 64,
         df: bool = True) -> bytes:
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000 if df else 0, ttl, proto, 0,
                       src, dst)
    return head[:10] + checksum(head).to_bytes(2, "big") + head[12:] + payload


@dataclass(frozen=True, slots=True)
class Ipv4:
    src: bytes
    dst: bytes
    proto: int
    ident: int
    payload: bytes


def parse_ipv4(b: bytes) -> Ipv4 | None:
    if len(b) < 20 or b[0] >> 4 != 4:
        return None
    ihl = (b[0] & 15) * 4
    total = (b[2] << 8) | b[3]
    if ihl < 20 or total < ihl or total > len(b):
        return None
    return Ipv4(b[12:16], b[16:20], b[9], (b[4] << 8) | b[5], b[ihl:total])


def _pseudo(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    return src + dst + struct.pack("!BBH", 0, proto, length)


def udp(src: bytes, dst: bytes, sport: int, dport: int, data: bytes) -> bytes:
    """A UDP datagram with its checksum over the IPv4 pseudo-header."""
    length = 8 + len(data)
    seg = struct.pack("!HHHH", sport, dport, length, 0) + data
    csum = checksum(_pseudo(src, dst, PROTO_UDP, length) + seg) or 0xFFFF
    return seg[:6] + csum.to_bytes(2, "big") + seg[8:]


def parse_udp(b: bytes) -> tuple[int, int, bytes] | None:
    """(sport, dport, data) or None."""
    if len(b) < 8:
        return None
    sport, dport, length = struct.unpack_from("!HHH", b)
    if length < 8 or length > len(b):
        return None
    return sport, dport, b[8:length]


class TcpFlags(IntEnum):
    FIN = 0x01
    SYN = 0x02
    RST = 0x04
    PSH = 0x08
    ACK = 0x10


@dataclass(frozen=True, slots=True)
class Tcp:
    sport: int
    dport: int
    seq: int
    ack: int
    flags: int
    window: int
    data: bytes


def tcp(src: bytes, dst: bytes, seg: Tcp) -> bytes:
    head = struct.pack("!HHIIBBHHH", seg.sport, seg.dport, seg.seq, seg.ack, 5 << 4, seg.flags, seg.window, 0, 0)
    body = head + seg.data
    csum = checksum(_pseudo(src, dst, PROTO_TCP, len(body)) + body)
    return body[:16] + csum.to_bytes(2, "big") + body[18:]


def parse_tcp(b: bytes) -> Tcp | None:
    if len(b) < 20:
        return None
    sport, dport, seq, ack, off, flags, window = struct.unpack_from("!HHIIBBH", b)
    hl = (off >> 4) * 4
    if hl < 20 or hl > len(b):
        return None
    return Tcp(sport, dport, seq, ack, flags, window, b[hl:])


def icmp_echo(ident: int, seq: int, data: bytes, *, reply: bool = False) -> bytes:
    msg = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq) + data
    return msg[:2] + checksum(msg).to_bytes(2, "big") + msg[4:]


# --------------------------------------------------------------------------- DHCP (RFC 2131/2132)

DHCP_MAGIC = b"\x63\x82\x53\x63"
DHCP_CLIENT_PORT = 68
DHCP_SERVER_PORT = 67


class DhcpType(IntEnum):
    DISCOVER = 1
    OFFER = 2
    REQUEST = 3
    DECLINE = 4
    ACK = 5
    NAK = 6
    RELEASE = 7


@dataclass(frozen=True, slots=True)
class DhcpMessage:
    op: int
    xid: int
    chaddr: bytes
    ciaddr: bytes
    yiaddr: bytes
    siaddr: bytes
    options: dict[int, bytes]

    @property
    def type(self) -> int | None:
        v = self.options.get(53)
        return v[0] if v else None


def dhcp(op: int, xid: int, chaddr: bytes, options: list[tuple[int, bytes]], *, yiaddr: bytes = bytes(4),
         siaddr: bytes = bytes(4), ciaddr: bytes = bytes(4), flags: int = 0, pad_to: int = 300) -> bytes:
    """A BOOTP message with DHCP options, padded (with zero octets) to ``pad_to`` octets as most
    clients do (RFC 1542 2.1 minimum of 300)."""
    fixed = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", op, 1, 6, 0, xid, 0, flags, ciaddr, yiaddr, siaddr,
                        bytes(4), chaddr.ljust(16, b"\x00"), bytes(64), bytes(128))
    opts = b"".join(bytes((code, len(value))) + value for code, value in options) + b"\xff"
    msg = fixed + DHCP_MAGIC + opts
    return msg.ljust(pad_to, b"\x00")


def parse_dhcp(b: bytes) -> DhcpMessage | None:
    if len(b) < 240 or b[236:240] != DHCP_MAGIC:
        return None
    op, _htype, _hlen, _hops, xid = struct.unpack_from("!BBBBI", b)
    ciaddr, yiaddr, siaddr = b[12:16], b[16:20], b[20:24]
    options: dict[int, bytes] = {}
    pos = 240
    while pos < len(b):
        code = b[pos]
        if code == 0:
            pos += 1
            continue
        if code == 255 or pos + 1 >= len(b):
            break
        n = b[pos + 1]
        options[code] = b[pos + 2 : pos + 2 + n]
        pos += 2 + n
    return DhcpMessage(op, xid, b[28:34], ciaddr, yiaddr, siaddr, options)


# --------------------------------------------------------------------------- DNS (RFC 1035)


def _qname(name: str) -> bytes:
    return b"".join(bytes((len(p),)) + p.encode() for p in name.split(".")) + b"\x00"


def dns_query(ident: int, name: str) -> bytes:
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + _qname(name) + struct.pack("!HH", 1, 1)


def dns_response(ident: int, name: str, addr: bytes, ttl: int = 300) -> bytes:
    question = _qname(name) + struct.pack("!HH", 1, 1)
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, ttl, 4) + addr
    return struct.pack("!HHHHHH", ident, 0x8180, 1, 1, 0, 0) + question + answer


def parse_dns(b: bytes) -> tuple[int, bool, str] | None:
    """(id, is_response, first question name) or None."""
    if len(b) < 12:
        return None
    ident, flags, qd = struct.unpack_from("!HHH", b)
    if qd < 1:
        return None
    pos, labels = 12, []
    while pos < len(b) and b[pos]:
        n = b[pos]
        labels.append(b[pos + 1 : pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    return ident, bool(flags & 0x8000), ".".join(labels)


# --------------------------------------------------------------------------- IPv6 link-up messages


def eui64_link_local(mac: bytes) -> bytes:
    """fe80::/64 address with the modified EUI-64 interface identifier of ``mac`` (RFC 4291 App. A)."""
    return b"\xfe\x80" + bytes(6) + bytes((mac[0] ^ 0x02,)) + mac[1:3] + b"\xff\xfe" + mac[3:6]


def _solicited_node(addr: bytes) -> bytes:
    return b"\xff\x02" + bytes(9) + b"\x01\xff" + addr[13:16]


def _ipv6(src: bytes, dst: bytes, next_header: int, payload: bytes, hop_limit: int = 255) -> bytes:
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), next_header, hop_limit, src, dst) + payload


def _icmpv6(src: bytes, dst: bytes, msg: bytes) -> bytes:
    pseudo = src + dst + struct.pack("!IxxxB", len(msg), 58)
    return msg[:2] + checksum(pseudo + msg).to_bytes(2, "big") + msg[4:]


def ipv6_dad_ns(mac: bytes) -> bytes:
    """Neighbor Solicitation for Duplicate Address Detection of the EUI-64 link-local address
    (RFC 4862 5.4.2: source ::, destination the solicited-node multicast address, no options)."""
    target = eui64_link_local(mac)
    src, dst = bytes(16), _solicited_node(target)
    msg = struct.pack("!BBHI", 135, 0, 0, 0) + target
    return _ipv6(src, dst, 58, _icmpv6(src, dst, msg))


def ipv6_mld_report(mac: bytes) -> bytes:
    """MLDv2 report (RFC 3810) joining the solicited-node group of the link-local address, sent from ::
    with a Hop-by-Hop Router Alert option, as stacks do before DAD."""
    group = _solicited_node(eui64_link_local(mac))
    src, dst = bytes(16), b"\xff\x02" + bytes(13) + b"\x16"
    record = struct.pack("!BBH16s", 4, 0, 0, group)  # CHANGE_TO_EXCLUDE_MODE, no sources
    msg = struct.pack("!BBHHH", 143, 0, 0, 0, 1) + record
    hbh = bytes((58, 0)) + b"\x05\x02\x00\x00" + b"\x01\x00"  # Router Alert (MLD), PadN
    pseudo = src + dst + struct.pack("!IxxxB", len(msg), 58)
    msg = msg[:2] + checksum(pseudo + msg).to_bytes(2, "big") + msg[4:]
    return _ipv6(src, dst, 0, hbh + msg, hop_limit=1)
