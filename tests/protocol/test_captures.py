"""The machines against real captured handshakes (independent truth: frames real devices sent).

* Fed the AP's real msg 1/3 and a nonce source returning the station's captured SNonce, the
  supplicant must produce the station's msg 2/4 byte for byte (so also their MICs).
* Fed the station's real msg 2/4, the authenticator must verify them and install the TK the
  aircrack-ng test vector gives.
* example-tptk-attack.pcapng (krackattacks-scripts against wpa_supplicant 2.6): the
  ``wpa_supplicant-2.6`` preset, fed the same frames, answers as the real client did, encrypted
  replies included, and installs the all-zero TK the capture shows it used afterwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from kwtest import CAPTURES, VECTORS, manifest_entry
from protocol.playbook import Drop, Installs, Playbook, Sends, eapol

from krackwatch.crypto import CCMP, Cipher, pbkdf2_psk
from krackwatch.protocol import PRESETS, Authenticator, DropReason, GroupState, KeyKind, SendEAPOL, Supplicant
from krackwatch.wire import (
    RSNE,
    HandshakeMessage,
    MgmtSubtype,
    classify,
    decode_eapol_key,
    decode_mgmt_body,
    header_length,
    open_capture,
)
from krackwatch.wire.errors import DecodeError
from krackwatch.wire.linklayer import FcsStatus, split_link

SNAP_EAPOL = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"


@dataclass
class Handshake:
    ap: bytes
    sta: bytes
    beacon_rsne: bytes | None
    frames: dict[HandshakeMessage, bytes] = field(default_factory=dict)


def handshakes(name: str) -> list[Handshake]:
    """Plaintext 4-way handshakes of a capture, in order (a new one starts at each msg 1 with a new
    ANonce), with the AP's beacon RSNE."""
    out: list[Handshake] = []
    rsne: dict[bytes, bytes] = {}
    with open_capture(CAPTURES / name) as reader:
        for rec in reader:
            try:
                info = split_link(rec.linktype, rec.data)
                end = len(rec.data) - (0 if info.fcs is FcsStatus.ABSENT else 4)
                f = rec.data[info.header_len : end]
                if info.fcs is FcsStatus.BAD or len(f) < 24 or f[1] & 0x40:
                    continue
                if f[0] == 0x80:  # beacon
                    body = decode_mgmt_body(MgmtSubtype.BEACON, f[24:])
                    for e in body.elements:
                        if e.id == 48:
                            rsne[f[16:22]] = e.encode()
                    continue
                if (f[0] >> 2) & 3 != 2:
                    continue
                hl = header_length(f)
            except DecodeError:  # damaged records are not handshakes
                continue
            if f[hl : hl + 8] != SNAP_EAPOL:
                continue
            data = f[hl + 8 :]
            msg = classify(decode_eapol_key(data))
            ta, ra = f[10:16], f[4:10]
            ap, sta = (ta, ra) if msg in (HandshakeMessage.M1, HandshakeMessage.M3) else (ra, ta)
            if msg is HandshakeMessage.M1:
                out.append(Handshake(ap, sta, rsne.get(ap)))
            if out:
                out[-1].frames.setdefault(msg, data)
    return out


def first_rsne(key_data: bytes) -> bytes:
    assert key_data[0] == 48
    return key_data[: 2 + key_data[1]]


CASES = [
    ("wpa2.eapol.cap", 0),
    ("wpa-Induction.pcap", 0),
    ("wpa2-psk-linksys.cap", 0),
    ("wpa2-psk-linksys.cap", 2),
]


@pytest.mark.parametrize(("name", "index"), CASES)
def test_supplicant_reproduces_the_stations_messages(name, index):
    entry = manifest_entry(name)
    hs = handshakes(name)[index]
    m1, m2 = hs.frames[HandshakeMessage.M1], hs.frames[HandshakeMessage.M2]
    k2 = decode_eapol_key(m2)
    ap_rsne = RSNE.decode(hs.beacon_rsne[2:])
    sup = Supplicant(
        PRESETS["wpa_supplicant-2.6"],
        addr=hs.sta,
        ap_addr=hs.ap,
        pmk=pbkdf2_psk(entry.passphrase, entry.ssid),
        group=ap_rsne.group_cipher,
        rsne=first_rsne(k2.key_data),
        ap_rsne=hs.beacon_rsne,
        nonce_source=lambda n: k2.nonce,
        eapol_version=k2.version,
        echo_key_length=k2.key_length != 0,
    )
    (reply,) = sup.receive_eapol(m1, protected=False, now=0.0)
    assert reply.eapol == m2
    if HandshakeMessage.M3 in hs.frames:
        cmds = sup.receive_eapol(hs.frames[HandshakeMessage.M3], protected=False, now=0.1)
        assert isinstance(cmds[0], SendEAPOL) and Installs(KeyKind.PTK, zero=False).matches(cmds[1])
        assert Installs(KeyKind.GTK).matches(cmds[2])
        if HandshakeMessage.M4 in hs.frames:
            assert cmds[0].eapol == hs.frames[HandshakeMessage.M4]


def test_authenticator_accepts_the_stations_messages():
    vector = json.loads((VECTORS / "eapol_key_mic.json").read_text())["vectors"][0]
    hs = handshakes("wpa2.eapol.cap")[0]
    anonce = bytes.fromhex(vector["anonce_hex"])
    m2, m4 = hs.frames[HandshakeMessage.M2], hs.frames[HandshakeMessage.M4]
    rsne = first_rsne(decode_eapol_key(m2).key_data)
    gs = GroupState(nonce_source=lambda n: bytes(n))
    auth = Authenticator(
        PRESETS["hostapd-2.6"],
        addr=hs.ap,
        sta_addr=hs.sta,
        pmk=bytes.fromhex(vector["pmk_hex"]),
        group_state=gs,
        nonce_source=lambda n: anonce if n == 32 else bytes(n),
        rsne=hs.beacon_rsne,
        sta_rsne=rsne,
        eapol_version=1,
    )
    (m1, _) = auth.start(0.0)
    assert m1.eapol == hs.frames[HandshakeMessage.M1]  # the AP's msg 1, byte for byte
    assert Playbook(auth) >> eapol(m2) << Sends(3) << object
    tk = bytes.fromhex(vector["expected"]["tk_hex"])
    assert Playbook(auth) >> eapol(m4) << object << Installs(KeyKind.PTK, key=tk) << Installs(KeyKind.GTK)


def _with_anonce(m1: bytes, anonce: bytes) -> bytes:
    return m1[:17] + anonce + m1[49:]


def test_partial_handshake_whose_msg1_belongs_to_another_exchange():
    # testm1m2m3.pcap: msg 1 carries another ANonce than msg 3 ("crackable from M2/M3" only). The
    # supplicant derives its TPTK from msg 1, so the real msg 3 fails its MIC; with msg 3's ANonce
    # in msg 1, the station's msg 2 comes out byte for byte and msg 3 verifies.
    entry = manifest_entry("testm1m2m3.pcap")
    hs = handshakes("testm1m2m3.pcap")[0]
    m1, m2, m3 = (hs.frames[m] for m in (HandshakeMessage.M1, HandshakeMessage.M2, HandshakeMessage.M3))
    k2, k3 = decode_eapol_key(m2), decode_eapol_key(m3)
    assert decode_eapol_key(m1).nonce != k3.nonce

    def supplicant():
        return Supplicant(
            PRESETS["wpa_supplicant-2.6"],
            addr=hs.sta,
            ap_addr=hs.ap,
            pmk=pbkdf2_psk(entry.passphrase, entry.ssid),
            rsne=first_rsne(k2.key_data),
            ap_rsne=hs.beacon_rsne,
            nonce_source=lambda n: k2.nonce,
        )

    sup = supplicant()
    sup.receive_eapol(m1, protected=False, now=0)
    assert Playbook(sup) >> eapol(m3) << Drop(DropReason.MIC)
    sup = supplicant()
    assert sup.receive_eapol(_with_anonce(m1, k3.nonce), protected=False, now=0)[0].eapol == m2
    assert Playbook(sup) >> eapol(m3) << Sends(4) << Installs(KeyKind.PTK) << Installs(KeyKind.GTK)


@pytest.mark.parametrize(
    ("name", "index", "msg"),
    [("testm1m2m3.pcap", 0, HandshakeMessage.M3), ("wpa2-psk-linksys.cap", 0, HandshakeMessage.M1)],
)
def test_authenticator_verifies_other_stations(name, index, msg):
    entry = manifest_entry(name)
    hs = handshakes(name)[index]
    k1 = decode_eapol_key(hs.frames[msg])  # the ANonce the station answered
    m2 = hs.frames[HandshakeMessage.M2]
    gs = GroupState(nonce_source=lambda n: bytes(n))
    auth = Authenticator(
        PRESETS["hostapd-2.7"],
        addr=hs.ap,
        sta_addr=hs.sta,
        pmk=pbkdf2_psk(entry.passphrase, entry.ssid),
        group_state=gs,
        nonce_source=lambda n: k1.nonce if n == 32 else bytes(n),
        sta_rsne=first_rsne(decode_eapol_key(m2).key_data),
        eapol_version=k1.version,
    )
    auth.start(0.0)
    assert Playbook(auth) >> eapol(m2) << Sends(3) << object


# --------------------------------------------------------------------------- the TPTK attack capture

TPTK = "example-tptk-attack.pcapng"
TPTK_TK = bytes.fromhex("d2b727bdae1cfadb24308a1ef0bdbc49")  # research/protocol.md 1.8


def _tptk_frames() -> dict[int, bytes]:
    out = {}
    with open_capture(CAPTURES / TPTK) as reader:
        for rec in reader:
            if 93 <= rec.number <= 107:
                info = split_link(rec.linktype, rec.data)
                end = len(rec.data) - (0 if info.fcs is FcsStatus.ABSENT else 4)
                out[rec.number] = rec.data[info.header_len : end]
    return out


def _eapol_of(frame: bytes) -> bytes:
    hl = header_length(frame)
    body = CCMP(TPTK_TK).decrypt_frame(frame, hl) if frame[1] & 0x40 else frame[hl:]
    assert body[:8] == SNAP_EAPOL
    return body[8:]


def test_wpa_supplicant_26_preset_replays_the_tptk_capture():
    entry = manifest_entry(TPTK)
    frames = _tptk_frames()
    e = {n: _eapol_of(f) for n, f in frames.items() if n in (93, 95, 97, 99, 101, 103, 105, 107)}
    ap, sta = frames[93][10:16], frames[93][4:10]
    snonces = iter([decode_eapol_key(e[95]).nonce, decode_eapol_key(e[105]).nonce])
    m3 = e[97]
    ap_rsne = first_rsne(bytes.fromhex("30180100000fac020200000fac04000fac020100000fac020c00"))
    sup = Supplicant(
        PRESETS["wpa_supplicant-2.6"],
        addr=sta,
        ap_addr=ap,
        pmk=pbkdf2_psk(entry.passphrase, entry.ssid),
        group=Cipher.TKIP,
        rsne=first_rsne(decode_eapol_key(e[95]).key_data),
        ap_rsne=ap_rsne,
        nonce_source=lambda n: next(snonces),
    )
    # msg 1 -> msg 2 (frame 95); msg 3 -> plaintext msg 4 (frame 103) and the real TK.
    assert sup.receive_eapol(e[93], protected=False, now=0)[0].eapol == e[95]
    cmds = sup.receive_eapol(m3, protected=False, now=0)
    assert cmds[0] == SendEAPOL(ap, sta, e[103], False)
    assert Installs(KeyKind.PTK, key=TPTK_TK).matches(cmds[1])
    gtk = cmds[2]
    assert Installs(KeyKind.GTK).matches(gtk) and len(gtk.key) == 32 and gtk.key_id == 2
    # The forged msg 1 (frame 99, same ANonce, plaintext) is accepted: a new SNonce, and the msg 2
    # goes out encrypted under the installed TK (frame 105).
    assert sup.receive_eapol(e[99], protected=False, now=1) == [SendEAPOL(ap, sta, e[105], True)]
    # The retransmitted msg 3 (frame 101) fails the new TPTK, verifies with the PTK, is answered
    # with an encrypted msg 4 (frame 107) and installs the cleared, all-zero TK; the in-use GTK is
    # reinstalled too (CVE-2017-13078).
    cmds = sup.receive_eapol(e[101], protected=False, now=2)
    assert cmds[0] == SendEAPOL(ap, sta, e[107], True)
    assert Installs(KeyKind.PTK, zero=True).matches(cmds[1])
    assert Installs(KeyKind.GTK, key=gtk.key).matches(cmds[2])


@pytest.mark.parametrize(
    ("preset", "zero"), [("wpa_supplicant-2.4", True), ("wpa_supplicant-2.3", False), ("patched", None)]
)
def test_other_presets_on_the_tptk_capture(preset, zero):
    entry = manifest_entry(TPTK)
    frames = _tptk_frames()
    e = {n: _eapol_of(f) for n, f in frames.items() if n in (93, 95, 97, 99, 101, 105)}
    ap, sta = frames[93][10:16], frames[93][4:10]
    snonces = iter([decode_eapol_key(e[95]).nonce, decode_eapol_key(e[105]).nonce])
    ap_rsne = bytes.fromhex("30180100000fac020200000fac04000fac020100000fac020c00")
    sup = Supplicant(
        PRESETS[preset],
        addr=sta,
        ap_addr=ap,
        pmk=pbkdf2_psk(entry.passphrase, entry.ssid),
        group=Cipher.TKIP,
        rsne=first_rsne(decode_eapol_key(e[95]).key_data),
        ap_rsne=ap_rsne,
        nonce_source=lambda n: next(snonces),
    )
    for n in (93, 97, 99):
        sup.receive_eapol(e[n], protected=False, now=0)
    ptk = [c for c in sup.receive_eapol(e[101], protected=False, now=1) if Installs(KeyKind.PTK).matches(c)]
    if zero is None:
        assert ptk == []
    else:
        assert len(ptk) == 1 and ptk[0].zero is zero
