"""The lab's packet codecs: parsers take any octets and give a value or None, never raise; what the
builders produce parses back and carries valid Internet checksums (RFC 1071: a correct header sums
to 0xFFFF, i.e. its checksum over itself is 0)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.lab.packets import (
    Tcp,
    arp,
    checksum,
    dhcp,
    dns_query,
    dns_response,
    ip,
    ipv4,
    ipv6_dad_ns,
    ipv6_mld_report,
    parse_arp,
    parse_dhcp,
    parse_dns,
    parse_ipv4,
    parse_tcp,
    parse_udp,
    tcp,
    udp,
)

PARSERS = (parse_arp, parse_dhcp, parse_dns, parse_ipv4, parse_tcp, parse_udp)
A, B = ip("192.168.100.10"), ip("192.168.100.254")
MAC = bytes.fromhex("024b57001001")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_parsers_never_raise(data):
    for parse in PARSERS:
        parse(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 0xFFFF), st.integers(1, 0xFFFF), st.integers(1, 0xFFFF))
def test_udp_over_ipv4_round_trip_and_checksums(payload, ident, sport, dport):
    packet = ipv4(A, B, 17, udp(A, B, sport, dport, payload), ident=ident)
    assert checksum(packet[:20]) == 0
    parsed = parse_ipv4(packet)
    assert (parsed.src, parsed.dst, parsed.ident) == (A, B, ident)
    segment = parsed.payload
    pseudo = A + B + bytes((0, 17)) + len(segment).to_bytes(2, "big")
    assert checksum(pseudo + segment) == 0
    assert parse_udp(segment) == (sport, dport, payload)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.binary(max_size=100))
def test_tcp_round_trip_and_checksum(seq, ack, data):
    seg = Tcp(40000, 80, seq, ack, 0x18, 64240, data)
    raw = tcp(A, B, seg)
    pseudo = A + B + bytes((0, 6)) + len(raw).to_bytes(2, "big")
    assert checksum(pseudo + raw) == 0
    assert parse_tcp(raw) == seg


def test_dhcp_dns_arp_round_trips():
    msg = parse_dhcp(dhcp(1, 0x12345678, MAC, [(53, b"\x01"), (61, b"\x01" + MAC)]))
    assert (msg.xid, msg.chaddr, msg.type) == (0x12345678, MAC, 1)
    assert parse_dns(dns_query(7, "portal.lab")) == (7, False, "portal.lab")
    assert parse_dns(dns_response(7, "portal.lab", B)) == (7, True, "portal.lab")
    assert parse_arp(arp(1, MAC, A, bytes(6), B)) == (1, MAC, A, bytes(6), B)


def test_icmpv6_checksums():
    for packet in (ipv6_dad_ns(MAC), ipv6_mld_report(MAC)):
        src, dst = packet[8:24], packet[24:40]
        body = packet[40:]
        if packet[6] == 0:  # Hop-by-Hop options first (MLD)
            body = body[8:]
        pseudo = src + dst + len(body).to_bytes(4, "big") + b"\x00\x00\x00\x3a"
        assert checksum(pseudo + body) == 0
