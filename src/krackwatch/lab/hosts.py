"""What runs above the link layer: the victim's traffic and the network behind the AP.

:class:`ClientHost` behaves like a laptop or phone joining a WLAN: on link-up it sends an MLDv2 report
and a DAD Neighbor Solicitation, starts DHCP (retrying every ``dhcp_retry`` seconds), and once it has a lease resolves the gateway (ARP), looks up the login
portal (DNS), logs in over HTTP with a form carrying its password, then pings the gateway. It answers
ARP requests for its address (which is how a replayed broadcast ARP request shows up as a reply) and
echo requests. :class:`Network` is the wired side: gateway, DHCP server, DNS server, the HTTP login
portal, and a gateway that periodically asks for every leased address by broadcast ARP.

All randomness comes from the ``random.Random`` each host is given, so a seed fixes every octet.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from krackwatch.lab.packets import (
    DHCP_CLIENT_PORT,
    DHCP_SERVER_PORT,
    PROTO_ICMP,
    PROTO_TCP,
    PROTO_UDP,
    DhcpType,
    EtherType,
    Tcp,
    TcpFlags,
    arp,
    dhcp,
    dns_query,
    dns_response,
    icmp_echo,
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
from krackwatch.lab.sim import Scheduler, Timer

__all__ = ["ClientHost", "LanConfig", "Network", "SendFn"]

# send(dst MAC, ethertype, payload): the station bridges it onto the air.
SendFn = Callable[[bytes, int, bytes], None]
BROADCAST = b"\xff" * 6
ZERO_IP = bytes(4)
ALL_ONES_IP = b"\xff" * 4


@dataclass(frozen=True, slots=True)
class LanConfig:
    """Addressing of the lab LAN (the test network of krackattacks-scripts: 192.168.100.0/24)."""

    gateway_ip: bytes = ip("192.168.100.254")
    gateway_mac: bytes = bytes.fromhex("024b5700fffe")
    broadcast_sender_ip: bytes = ip("192.168.100.253")
    netmask: bytes = ip("255.255.255.0")
    pool_start: int = 10
    portal_name: str = "portal.lab"
    lease_time: int = 3600
    broadcast_interval: float = 0.5
    dhcp_retry: float = 0.3
    ping_interval: float = 0.5


@dataclass(slots=True)
class HostLog:
    """What a host did, for the run's report (ground truth, never used by the attacker)."""

    events: list[tuple[float, str]] = field(default_factory=list)

    def add(self, now: float, what: str) -> None:
        self.events.append((now, what))


def _http_login(user: str, password: str, name: str) -> bytes:
    form = f"user={user}&password={password}".encode()
    return (
        b"POST /login HTTP/1.1\r\nHost: " + name.encode()
        + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
        + str(len(form)).encode() + b"\r\n\r\n" + form
    )


class ClientHost:
    """The victim's IP stack and applications (see the module docstring)."""

    def __init__(self, mac: bytes, sched: Scheduler, rng: random.Random, send: SendFn, *,
                 lan: LanConfig, user: str, password: str) -> None:
        self.mac = mac
        self.sched = sched
        self.rng = rng
        self.send = send
        self.lan = lan
        self.user = user
        self.password = password
        self.log = HostLog()
        self.ip: bytes | None = None
        self.logged_in = False
        self.login_sent = 0
        self.arp_replies_sent: list[tuple[float, bytes]] = []
        self._timers: list[Timer] = []
        self._xid = 0
        self._offered: bytes | None = None
        self._server_id = lan.gateway_ip
        self._dns_id = 0
        self._tcp: tuple[int, int, int] | None = None  # (sport, next seq, next ack)
        self._ip_id = rng.randrange(1, 0xFFFF)
        self._ping_seq = 0
        self._ping_id = rng.randrange(1, 0xFFFF)
        self._gateway_known = False

    # ------------------------------------------------------------------ timers
    def _later(self, delay: float, fn: Callable[[], None]) -> None:
        self._timers.append(self.sched.at(self.sched.now + delay, fn))

    def link_up(self) -> None:
        """The 4-way handshake completed (from this station's point of view)."""
        now = self.sched.now
        self.log.add(now, "link up")
        self._cancel()
        if self.ip is not None:  # already configured: carry on pinging
            self._later(0.05, self._ping)
            return
        self._xid = self.rng.getrandbits(32)
        self._later(0.010, lambda: self._v6(ipv6_mld_report(self.mac), b"\x33\x33\x00\x00\x00\x16"))
        self._later(0.020, lambda: self._v6(ipv6_dad_ns(self.mac), b"\x33\x33\xff" + self.mac[3:]))
        self._later(0.030, self._discover)

    def link_down(self) -> None:
        self.log.add(self.sched.now, "link down")
        self._cancel()
        self.ip = None
        self._tcp = None
        self._offered = None
        self._gateway_known = False

    def _cancel(self) -> None:
        for t in self._timers:
            t.cancel()
        self._timers.clear()

    # ------------------------------------------------------------------ senders
    def _v6(self, packet: bytes, dst: bytes) -> None:
        self.send(dst, EtherType.IPV6, packet)

    def _next_id(self) -> int:
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        return self._ip_id

    def _ip_send(self, dst_mac: bytes, dst_ip: bytes, proto: int, payload: bytes) -> None:
        assert self.ip is not None
        self.send(dst_mac, EtherType.IPV4, ipv4(self.ip, dst_ip, proto, payload, ident=self._next_id()))

    @staticmethod
    def dhcp_discover_options(mac: bytes) -> list[tuple[int, bytes]]:
        """The options of this client's DHCP Discover, in order (its DHCP fingerprint)."""
        return [(53, bytes((DhcpType.DISCOVER,))), (61, b"\x01" + mac), (12, b"krackwatch-victim"),
                (55, bytes((1, 3, 6, 15, 28, 51, 58, 59)))]

    def _dhcp_options(self, kind: DhcpType) -> list[tuple[int, bytes]]:
        if kind == DhcpType.DISCOVER or self._offered is None:
            return self.dhcp_discover_options(self.mac)
        return [(53, bytes((kind,))), (61, b"\x01" + self.mac), (50, self._offered), (54, self._server_id),
                (12, b"krackwatch-victim"), (55, bytes((1, 3, 6, 15, 28, 51, 58, 59)))]

    def _dhcp_send(self, kind: DhcpType) -> None:
        msg = dhcp(1, self._xid, self.mac, self._dhcp_options(kind))
        self.send(BROADCAST, EtherType.IPV4,
                  ipv4(ZERO_IP, ALL_ONES_IP, PROTO_UDP, udp(ZERO_IP, ALL_ONES_IP, DHCP_CLIENT_PORT,
                                                            DHCP_SERVER_PORT, msg), ident=0, ttl=128, df=False))

    def _discover(self) -> None:
        if self.ip is not None:
            return
        kind = DhcpType.REQUEST if self._offered is not None else DhcpType.DISCOVER
        self._dhcp_send(kind)
        self._later(self.lan.dhcp_retry, self._discover)

    def _arp_gateway(self) -> None:
        assert self.ip is not None
        self.send(BROADCAST, EtherType.ARP, arp(1, self.mac, self.ip, bytes(6), self.lan.gateway_ip))
        self._later(1.0, lambda: None if self._gateway_known else self._arp_gateway())

    def _dns(self) -> None:
        self._dns_id = self.rng.getrandbits(16)
        sport = self.rng.randrange(32768, 61000)
        self._ip_send(self.lan.gateway_mac, self.lan.gateway_ip, PROTO_UDP,
                      udp(self.ip, self.lan.gateway_ip, sport, 53, dns_query(self._dns_id, self.lan.portal_name)))

    def _tcp_send(self, flags: int, data: bytes = b"") -> None:
        assert self._tcp is not None and self.ip is not None
        sport, seq, ack = self._tcp
        seg = Tcp(sport, 80, seq, ack, flags, 64240, data)
        self._ip_send(self.lan.gateway_mac, self.lan.gateway_ip, PROTO_TCP, tcp(self.ip, self.lan.gateway_ip, seg))
        advance = len(data) + (1 if flags & (TcpFlags.SYN | TcpFlags.FIN) else 0)
        self._tcp = (sport, (seq + advance) & 0xFFFFFFFF, ack)

    def _connect(self) -> None:
        self._tcp = (self.rng.randrange(32768, 61000), self.rng.getrandbits(32), 0)
        self._tcp_send(TcpFlags.SYN)

    def _ping(self) -> None:
        if self.ip is None:
            return
        self._ping_seq += 1
        payload = bytes(range(0x10, 0x30))
        self._ip_send(self.lan.gateway_mac, self.lan.gateway_ip, PROTO_ICMP,
                      icmp_echo(self._ping_id, self._ping_seq, payload))
        self._later(self.lan.ping_interval, self._ping)

    # ------------------------------------------------------------------ receive
    def receive(self, src: bytes, dst: bytes, ethertype: int, payload: bytes) -> None:
        if ethertype == EtherType.ARP:
            self._on_arp(payload)
        elif ethertype == EtherType.IPV4:
            pkt = parse_ipv4(payload)
            if pkt is None:
                return
            if pkt.proto == PROTO_UDP:
                u = parse_udp(pkt.payload)
                if u is None:
                    return
                if u[1] == DHCP_CLIENT_PORT:
                    self._on_dhcp(u[2])
                elif u[0] == 53:
                    self._on_dns(u[2])
            elif pkt.proto == PROTO_TCP and self.ip is not None and pkt.dst == self.ip:
                seg = parse_tcp(pkt.payload)
                if seg is not None:
                    self._on_tcp(seg)
            elif pkt.proto == PROTO_ICMP and self.ip is not None and pkt.dst == self.ip:
                m = pkt.payload
                if len(m) >= 8 and m[0] == 8:
                    ident, seq = int.from_bytes(m[4:6], "big"), int.from_bytes(m[6:8], "big")
                    self._ip_send(src, pkt.src, PROTO_ICMP, icmp_echo(ident, seq, m[8:], reply=True))

    def _on_arp(self, payload: bytes) -> None:
        a = parse_arp(payload)
        if a is None or self.ip is None:
            return
        op, sha, spa, _tha, tpa = a
        if op == 1 and tpa == self.ip:
            self.send(sha, EtherType.ARP, arp(2, self.mac, self.ip, sha, spa))
            self.arp_replies_sent.append((self.sched.now, spa))
        elif op == 2 and spa == self.lan.gateway_ip and not self._gateway_known:
            self._gateway_known = True
            self.log.add(self.sched.now, "gateway resolved")
            self._dns()

    def _on_dhcp(self, data: bytes) -> None:
        msg = parse_dhcp(data)
        if msg is None or msg.op != 2 or msg.xid != self._xid or msg.chaddr != self.mac:
            return
        if msg.type == DhcpType.OFFER and self._offered is None:
            self._offered = msg.yiaddr
            self._server_id = msg.options.get(54, self.lan.gateway_ip)
            self._dhcp_send(DhcpType.REQUEST)
        elif msg.type == DhcpType.ACK and self.ip is None:
            self.ip = msg.yiaddr
            self.log.add(self.sched.now, f"DHCP lease {'.'.join(map(str, self.ip))}")
            self._later(0.005, self._arp_gateway)

    def _on_dns(self, data: bytes) -> None:
        d = parse_dns(data)
        if d is None or not d[1] or d[0] != self._dns_id or self._tcp is not None:
            return
        self._later(0.002, self._connect)

    def _on_tcp(self, seg: Tcp) -> None:
        if self._tcp is None or seg.dport != self._tcp[0]:
            return
        sport, seq, _ack = self._tcp
        if seg.flags & TcpFlags.SYN and seg.flags & TcpFlags.ACK:
            self._tcp = (sport, seq, (seg.seq + 1) & 0xFFFFFFFF)
            self._tcp_send(TcpFlags.ACK)
            self._tcp_send(TcpFlags.PSH | TcpFlags.ACK, _http_login(self.user, self.password, self.lan.portal_name))
            self.login_sent += 1
            self.log.add(self.sched.now, "HTTP login sent")
        elif seg.data:
            self._tcp = (sport, seq, (seg.seq + len(seg.data)) & 0xFFFFFFFF)
            self._tcp_send(TcpFlags.ACK)
            if seg.data.startswith(b"HTTP/1.1 200") and not self.logged_in:
                self.logged_in = True
                self.log.add(self.sched.now, "HTTP login accepted")
                self._later(0.1, self._ping)


class Network:
    """The wired side of the AP: gateway, DHCP, DNS, HTTP portal, and periodic broadcast ARP."""

    def __init__(self, sched: Scheduler, rng: random.Random, send: Callable[[bytes, bytes, int, bytes], None], *,
                 lan: LanConfig, broadcasts: bool = True) -> None:
        # send(dst MAC, src MAC, ethertype, payload)
        self.sched = sched
        self.rng = rng
        self.send = send
        self.lan = lan
        self.log = HostLog()
        self.leases: dict[bytes, bytes] = {}  # client MAC -> IP
        self.logins: list[tuple[float, bytes, bytes]] = []  # (time, client MAC, form body)
        self.received: list[tuple[float, bytes, int, bytes]] = []  # every MSDU from a station
        self._tcp: dict[tuple[bytes, int], tuple[int, int]] = {}
        self._ip_id = rng.randrange(1, 0xFFFF)
        self._broadcasting = not broadcasts  # False: start_broadcasts() does nothing
        self.broadcasts_sent = 0

    def _gw(self, dst_mac: bytes, ethertype: int, payload: bytes, src_mac: bytes | None = None) -> None:
        self.send(dst_mac, src_mac or self.lan.gateway_mac, ethertype, payload)

    def _ip(self, dst_mac: bytes, src_ip: bytes, dst_ip: bytes, proto: int, payload: bytes) -> None:
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        self._gw(dst_mac, EtherType.IPV4, ipv4(src_ip, dst_ip, proto, payload, ident=self._ip_id))

    def start_broadcasts(self) -> None:
        """Every ``broadcast_interval``: the gateway asks by broadcast ARP for each leased address."""
        if not self._broadcasting:
            self._broadcasting = True
            self.sched.at(self.sched.now + self.lan.broadcast_interval, self._broadcast)

    def _broadcast(self) -> None:
        for client_ip in list(self.leases.values()):
            self._gw(BROADCAST, EtherType.ARP,
                     arp(1, self.lan.gateway_mac, self.lan.broadcast_sender_ip, bytes(6), client_ip))
            self.broadcasts_sent += 1
        self.sched.at(self.sched.now + self.lan.broadcast_interval, self._broadcast)

    def receive(self, src: bytes, dst: bytes, ethertype: int, payload: bytes) -> None:
        """An MSDU a station sent (bridged by the AP)."""
        self.received.append((self.sched.now, src, ethertype, payload))
        if ethertype == EtherType.ARP:
            a = parse_arp(payload)
            if a and a[0] == 1 and a[4] in (self.lan.gateway_ip, self.lan.broadcast_sender_ip):
                self._gw(a[1], EtherType.ARP, arp(2, self.lan.gateway_mac, a[4], a[1], a[2]))
            return
        if ethertype != EtherType.IPV4:
            return
        pkt = parse_ipv4(payload)
        if pkt is None:
            return
        if pkt.proto == PROTO_UDP:
            u = parse_udp(pkt.payload)
            if u is None:
                return
            if u[1] == DHCP_SERVER_PORT:
                self._on_dhcp(src, u[2])
            elif u[1] == 53 and pkt.dst == self.lan.gateway_ip:
                d = parse_dns(u[2])
                if d is not None and not d[1]:
                    answer = dns_response(d[0], d[2], self.lan.gateway_ip)
                    self._ip(src, self.lan.gateway_ip, pkt.src, PROTO_UDP,
                             udp(self.lan.gateway_ip, pkt.src, 53, u[0], answer))
        elif pkt.proto == PROTO_ICMP and pkt.dst == self.lan.gateway_ip:
            m = pkt.payload
            if len(m) >= 8 and m[0] == 8:
                ident, seq = int.from_bytes(m[4:6], "big"), int.from_bytes(m[6:8], "big")
                self._ip(src, self.lan.gateway_ip, pkt.src, PROTO_ICMP, icmp_echo(ident, seq, m[8:], reply=True))
        elif pkt.proto == PROTO_TCP and pkt.dst == self.lan.gateway_ip:
            seg = parse_tcp(pkt.payload)
            if seg is not None and seg.dport == 80:
                self._on_tcp(src, pkt.src, seg)

    def _on_dhcp(self, src: bytes, data: bytes) -> None:
        msg = parse_dhcp(data)
        if msg is None or msg.op != 1:
            return
        lease = self.leases.get(msg.chaddr)
        if lease is None:
            lease = self.lan.gateway_ip[:3] + bytes((self.lan.pool_start + len(self.leases),))
        kind = msg.type
        if kind == DhcpType.DISCOVER:
            reply = DhcpType.OFFER
        elif kind == DhcpType.REQUEST:
            reply = DhcpType.ACK
            self.leases[msg.chaddr] = lease
            self.log.add(self.sched.now, f"lease {'.'.join(map(str, lease))} to {msg.chaddr.hex(':')}")
        else:
            return
        opts = [(53, bytes((reply,))), (54, self.lan.gateway_ip), (51, self.lan.lease_time.to_bytes(4, "big")),
                (1, self.lan.netmask), (3, self.lan.gateway_ip), (6, self.lan.gateway_ip)]
        body = dhcp(2, msg.xid, msg.chaddr, opts, yiaddr=lease, siaddr=self.lan.gateway_ip)
        self._ip(msg.chaddr, self.lan.gateway_ip, lease, PROTO_UDP,
                 udp(self.lan.gateway_ip, lease, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, body))

    def _on_tcp(self, mac: bytes, client_ip: bytes, seg: Tcp) -> None:
        key = (client_ip, seg.sport)
        gw = self.lan.gateway_ip

        def out(flags: int, seq: int, ack: int, data: bytes = b"") -> None:
            self._ip(mac, gw, client_ip, PROTO_TCP, tcp(gw, client_ip, Tcp(80, seg.sport, seq, ack, flags, 65160,
                                                                              data)))

        if seg.flags & TcpFlags.SYN:
            isn = self.rng.getrandbits(32)
            self._tcp[key] = ((isn + 1) & 0xFFFFFFFF, (seg.seq + 1) & 0xFFFFFFFF)
            out(TcpFlags.SYN | TcpFlags.ACK, isn, (seg.seq + 1) & 0xFFFFFFFF)
            return
        state = self._tcp.get(key)
        if state is None or not seg.data or seg.seq != state[1]:
            return
        seq, ack = state[0], (seg.seq + len(seg.data)) & 0xFFFFFFFF
        body = seg.data.split(b"\r\n\r\n", 1)[-1]
        self.logins.append((self.sched.now, mac, body))
        cookie = self.rng.getrandbits(64).to_bytes(8, "big").hex()
        response = (b"HTTP/1.1 200 OK\r\nSet-Cookie: session=" + cookie.encode()
                    + b"; HttpOnly\r\nContent-Length: 9\r\n\r\nWelcome!\n")
        out(TcpFlags.PSH | TcpFlags.ACK, seq, ack, response)
        self._tcp[key] = ((seq + len(response)) & 0xFFFFFFFF, ack)
