"""The crypto package on real captures: handshake MICs, key data, and decryption counts that match
what the peer tools report in ``tests/data/captures/MANIFEST.tsv``.

A tiny pcap/pcapng/radiotap walker lives here so these tests depend on nothing but the crypto
package (the wire layer has its own tests).
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from krackwatch.crypto import (
    AKM,
    CCMP,
    TKIP,
    Cipher,
    DecryptionError,
    InvalidMIC,
    decrypt_key_data,
    derive_ptk,
    pbkdf2_psk,
    verify_eapol_key_mic,
)
from krackwatch.crypto.ptk import PTK

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"
SNAP_EAPOL = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"


def _manifest() -> dict[str, dict[str, str]]:
    lines = (CAPTURES / "MANIFEST.tsv").read_text().splitlines()
    head = lines[0].split("\t")
    return {
        row["filename"]: row for row in (dict(zip(head, ln.split("\t"), strict=False)) for ln in lines[1:])
    }


MANIFEST = _manifest()


def _frames(path: Path) -> Iterator[bytes]:
    """802.11 frames (radiotap and FCS removed) of a pcap or pcapng file."""
    data = path.read_bytes()
    records: list[tuple[int, bytes]] = []
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        pos, endian, link_types = 0, "<", []
        while pos + 12 <= len(data):
            if data[pos : pos + 4] == b"\x0a\x0d\x0d\x0a":
                endian = "<" if data[pos + 8 : pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
                link_types = []
            block_type, block_len = struct.unpack_from(endian + "II", data, pos)
            if block_type == 1:  # Interface Description Block
                link_types.append(struct.unpack_from(endian + "H", data, pos + 8)[0])
            elif block_type == 6:  # Enhanced Packet Block
                iface, _, _, caplen = struct.unpack_from(endian + "IIII", data, pos + 8)
                records.append((link_types[iface], data[pos + 28 : pos + 28 + caplen]))
            pos += block_len
    else:
        endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        link_type = struct.unpack_from(endian + "I", data, 20)[0]
        pos = 24
        while pos + 16 <= len(data):
            caplen = struct.unpack_from(endian + "I", data, pos + 8)[0]
            records.append((link_type, data[pos + 16 : pos + 16 + caplen]))
            pos += 16 + caplen
    for link_type, pkt in records:
        if link_type == 127:  # radiotap: walk the present words to the Flags field (FCS bit 0x10)
            length = struct.unpack_from("<H", pkt, 2)[0]
            off = 4
            present = struct.unpack_from("<I", pkt, off)[0]
            while struct.unpack_from("<I", pkt, off)[0] & 0x80000000:
                off += 4
            off += 4
            if present & 0x01:  # TSFT, 8 octets aligned to 8
                off = ((off + 7) & ~7) + 8
            has_fcs = bool(present & 0x02) and bool(pkt[off] & 0x10)
            pkt = pkt[length:]
            if has_fcs:
                pkt = pkt[:-4]
        elif link_type != 105:
            continue
        yield pkt


def _header_len(frame: bytes) -> int:
    fc0, fc1 = frame[0], frame[1]
    n = 24
    if fc0 & 0x0C == 0x08:
        n += 6 if fc1 & 0x03 == 0x03 else 0
        if fc0 & 0x80:
            n += 2 + (4 if fc1 & 0x80 else 0)
    return n


@dataclass
class Walk:
    """What a passphrase unlocks in a capture."""

    pmk: bytes
    anonce: dict[tuple[bytes, bytes], bytes] = field(default_factory=dict)
    ptks: dict[tuple[bytes, bytes], PTK] = field(default_factory=dict)
    pending: dict[tuple[bytes, bytes], PTK] = field(default_factory=dict)
    gtks: dict[tuple[bytes, int], bytes] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    handshakes: list[PTK] = field(default_factory=list)
    eapol_payloads: list[bytes] = field(default_factory=list)

    def _check(self, ap: bytes, sta: bytes, e: bytes, version: int) -> PTK:
        """The PTK (installed, or pending from an encrypted message 2) whose KCK verifies ``e``."""
        for ptk in (self.ptks.get((ap, sta)), self.pending.get((ap, sta))):
            if ptk is not None:
                try:
                    verify_eapol_key_mic(ptk.kck, e, descriptor_version=version)
                    return ptk
                except InvalidMIC:
                    continue
        raise InvalidMIC("no known PTK verifies this EAPOL-Key frame")

    def _gtk_from_kdes(self, ap: bytes, plain: bytes) -> None:
        i = 0
        while i + 2 <= len(plain) and plain[i] in (0x30, 0xDD) and plain[i + 1]:
            if plain[i + 2 : i + 6] == b"\x00\x0f\xac\x01":  # GTK KDE, KeyID in the low 2 bits
                self.gtks[(ap, plain[i + 6] & 0x03)] = plain[i + 8 : i + 2 + plain[i + 1]]
            i += 2 + plain[i + 1]

    def eapol(self, ap: bytes, sta: bytes, e: bytes, *, protected: bool = False) -> None:
        info = int.from_bytes(e[5:7], "big")
        version = info & 0x07
        pairwise, install, ack, mic = info & 0x08, info & 0x40, info & 0x80, info & 0x100
        key_data = e[99 : 99 + int.from_bytes(e[97:99], "big")]
        wpa1 = e[4] == 254
        if pairwise and ack and not mic:  # message 1
            self.anonce[(ap, sta)] = e[17:49]
            return
        if pairwise and mic and not ack and key_data:  # message 2: derive and check the PTK
            cipher = Cipher.TKIP if version == 1 else Cipher.CCMP128
            ptk = derive_ptk(
                self.pmk,
                ap,
                sta,
                self.anonce[(ap, sta)],
                e[17:49],
                akm=AKM.WPA_PSK if wpa1 else AKM.PSK,
                cipher=cipher,
            )
            verify_eapol_key_mic(ptk.kck, e, descriptor_version=version)
            self.counts["M2"] += 1
            if protected:  # a rekey (or a TPTK): not in use until its message 4
                self.pending[(ap, sta)] = ptk
            else:
                self.ptks[(ap, sta)] = ptk
                self.handshakes.append(ptk)
            return
        ptk = self._check(ap, sta, e, version)
        if not ack:  # message 4 or group message 2
            self.counts["M4" if pairwise else "G2"] += 1
            return
        if pairwise:  # message 3: RSN encrypts its key data (GTK KDE); WPA1 sends a plain WPA IE
            self.counts["M3"] += 1
            assert install
            if info & 0x1000:
                self._gtk_from_kdes(
                    ap, decrypt_key_data(ptk.kek, e[49:65], key_data, descriptor_version=version)
                )
            return
        self.counts["G1"] += 1
        plain = decrypt_key_data(ptk.kek, e[49:65], key_data, descriptor_version=version)
        if wpa1:  # the whole RC4-decrypted key data is the GTK
            self.gtks[(ap, (info >> 4) & 0x03)] = plain[: int.from_bytes(e[7:9], "big")]
        else:
            self._gtk_from_kdes(ap, plain)

    def frame(self, frame: bytes) -> None:
        if len(frame) < 24 or frame[0] & 0x0C != 0x08:
            return
        ds = frame[1] & 0x03
        if ds == 2:
            ap, sta = frame[10:16], frame[4:10]
        elif ds == 1:
            ap, sta = frame[4:10], frame[10:16]
        else:
            return
        n = _header_len(frame)
        header, body = frame[:n], frame[n:]
        if not frame[1] & 0x40:
            if body[:8] == SNAP_EAPOL and body[9] == 3:
                self.eapol(ap, sta, body[8:])
            return
        tkip = body[1] == (body[0] | 0x20) & 0x7F and body[2] != 0
        if ds == 2 and frame[4] & 0x01:  # group addressed from the AP: GTK
            gtk = self.gtks.get((ap, body[3] >> 6))
            if gtk is None:
                self.counts["group-no-key"] += 1
                return
            kind = "gtk"
            engine, mk = (TKIP(gtk), gtk[16:24]) if len(gtk) == 32 else (CCMP(gtk), None)
        else:
            ptk = self.ptks.get((ap, sta))
            if ptk is None:
                self.counts["pairwise-no-key"] += 1
                return
            kind = "tk"
            if tkip and len(ptk.tk) == 32:
                engine, mk = TKIP(ptk.tk), ptk.michael_key(from_authenticator=ds == 2)
            else:
                engine, mk = CCMP(ptk.tk[:16]), None
        try:
            plain = engine.decrypt(header, body, michael_key=mk) if mk else engine.decrypt(header, body)
        except DecryptionError as exc:
            self.counts[f"{kind}-{exc.reason}"] += 1
            return
        self.counts[kind] += 1
        if plain[:8] == SNAP_EAPOL:  # encrypted EAPOL (rekeys, group key handshake)
            self.eapol_payloads.append(plain)
            self.eapol(ap, sta, plain[8:], protected=True)


def walk(name: str, passphrase: str | None = None, ssid: str | None = None) -> Walk:
    row = MANIFEST[name]
    result = Walk(pmk=pbkdf2_psk(passphrase or row["passphrase"], ssid or row["ssid"]))
    for frame in _frames(CAPTURES / name):
        result.frame(frame)
    return result


def test_wpa2_eapol_handshake_matches_tshark_kck():
    w = walk("wpa2.eapol.cap")
    assert (w.counts["M2"], w.counts["M3"], w.counts["M4"]) == (1, 1, 1)
    kck = w.handshakes[0].kck.hex()
    assert f"tshark KCK on M3 = {kck}" in MANIFEST["wpa2.eapol.cap"]["oracle_summary"]
    assert w.gtks, "message 3 key data must unwrap into a GTK KDE"


def test_wrong_passphrase_fails_the_m2_mic():
    with pytest.raises(InvalidMIC):
        walk("wpa2.eapol.cap", passphrase="12345679")


def test_tptk_attack_capture():
    # MANIFEST: "6 protected, 6 decrypted (TK)" (tshark), airdecap-ng 6, wlantest 6.
    row = MANIFEST["example-tptk-attack.pcapng"]
    assert "6 protected, 6 decrypted (TK)" in row["oracle_summary"]
    w = walk("example-tptk-attack.pcapng")
    assert w.counts["tk"] == 6 and sum(v for k, v in w.counts.items() if k.startswith("tk-")) == 0
    # The protected frames are EAPOL (encrypted M2/M4 and the group message 1 retries).
    assert len(w.eapol_payloads) == 6
    # MANIFEST: "... M3(rc2) M1(rc3, same ANonce) M3(rc3, same ANonce) M4(rc2), then the STA sends
    # M2/M4 again ENCRYPTED under the new TK (PN 1,2), later 4 encrypted group-key M1 retries".
    assert "later 4 encrypted group-key M1 retries" in row["contents"]
    assert (w.counts["M2"], w.counts["M3"], w.counts["M4"], w.counts["G1"]) == (2, 2, 2, 4)


@pytest.mark.parametrize(
    ("name", "tk", "gtk", "quote"),
    [
        # tshark decrypts 203 with the TK; wlantest decrypts the 73 TKIP group frames tshark skips.
        ("wpa-Induction.pcap", 203, 73, ("203 decrypted with TK", "73 GTK(TKIP) decrypted")),
        ("wpa2-psk-linksys.cap", 29, 1, ("29 TK + 1 GTK decrypted",)),
        ("wpa-psk-linksys.cap", 55, 4, ("55 TK + 4 GTK decrypted",)),
    ],
)
def test_decryption_counts_match_peer_tools(name, tk, gtk, quote):
    for phrase in quote:
        assert phrase in MANIFEST[name]["oracle_summary"]
    w = walk(name)
    assert (w.counts["tk"], w.counts["gtk"]) == (tk, gtk)
    failures = {k: v for k, v in w.counts.items() if k.startswith(("tk-", "gtk-"))}
    assert failures == {}


def test_three_handshakes_give_three_ptks():
    # MANIFEST: "3 complete 4-way handshakes (... 3 distinct ANonces => 3 PTKs ...)".
    w = walk("wpa2-psk-linksys.cap")
    assert len({p.tk for p in w.handshakes}) == 3


def test_wpa1_uses_hmac_md5_and_rc4_key_data():
    # wpa-psk-linksys.cap: descriptor 254, key version 1; the group key arrives RC4-encrypted
    # inside TKIP-protected EAPOL frames.
    w = walk("wpa-psk-linksys.cap")
    assert (w.counts["M2"], w.counts["M3"], w.counts["M4"]) == (1, 1, 1)
    assert w.counts["G1"] >= 1
    assert all(len(g) == 32 for g in w.gtks.values())
