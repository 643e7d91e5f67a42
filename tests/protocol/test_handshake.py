"""Complete handshakes between the machines, cross-checked against the passive decryptor
(``krackwatch.decrypt``, an independent consumer of the same frames: it must verify every MIC and
learn the same keys the machines install)."""

from __future__ import annotations

import pytest
from protocol.playbook import AP, STA, Sends, dot11_frames, handshake, message, nonces

from krackwatch.crypto import AKM, Cipher, derive_ptk, pbkdf2_psk, pmkid
from krackwatch.decrypt.engine import Decryptor
from krackwatch.decrypt.keys import KeyRing, Pmk
from krackwatch.decrypt.state import pair_key
from krackwatch.protocol import (
    PRESETS,
    Authenticator,
    AuthenticatorState,
    GroupKeyState,
    GroupState,
    GtkInstall,
    KeyKind,
    SendEAPOL,
    Supplicant,
    SupplicantState,
)
from krackwatch.wire import PmkidKDE, decode_eapol_key, iter_key_data

PMK = pbkdf2_psk("correct horse", "krackwatch-lab")
PATCHED = PRESETS["patched"]


def pair(
    *,
    akm=AKM.PSK,
    pairwise=Cipher.CCMP128,
    group=Cipher.CCMP128,
    pmf=False,
    profile=PATCHED,
    ap_profile=None,
    seed=7,
    pmk=PMK,
):
    ns = nonces(seed)
    gs = GroupState(cipher=group, nonce_source=ns, pmf=pmf)
    auth = Authenticator(
        ap_profile or PATCHED,
        addr=AP,
        sta_addr=STA,
        pmk=pmk,
        akm=akm,
        pairwise=pairwise,
        group_state=gs,
        pmf=pmf,
        nonce_source=ns,
    )
    sup = Supplicant(
        profile,
        addr=STA,
        ap_addr=AP,
        pmk=pmk,
        akm=akm,
        pairwise=pairwise,
        group=group,
        pmf=pmf,
        nonce_source=ns,
    )
    return auth, sup, gs


def decryptor_view(air, pmk=PMK):
    dec = Decryptor(KeyRing(pmks=(Pmk(pmk),)))
    for frame in dot11_frames(air.carried, [AP]):
        dec.process(105, frame)
    link = dec.links[pair_key(AP, STA)]
    return dec, link


CIPHERS = [
    (AKM.PSK, Cipher.CCMP128, Cipher.CCMP128, 2),
    (AKM.PSK, Cipher.TKIP, Cipher.TKIP, 1),
    (AKM.PSK, Cipher.CCMP128, Cipher.TKIP, 2),
    (AKM.PSK, Cipher.GCMP128, Cipher.GCMP128, 2),
    (AKM.PSK, Cipher.GCMP256, Cipher.GCMP256, 2),
    (AKM.PSK, Cipher.CCMP256, Cipher.CCMP256, 2),
    (AKM.PSK_SHA256, Cipher.CCMP128, Cipher.CCMP128, 3),
    (AKM.IEEE8021X, Cipher.CCMP128, Cipher.CCMP128, 2),
]


@pytest.mark.parametrize(
    ("akm", "pairwise", "group", "dv"), CIPHERS, ids=lambda v: getattr(v, "name", str(v))
)
def test_four_way_handshake_and_decryptor_agrees(akm, pairwise, group, dv):
    auth, sup, gs = pair(akm=akm, pairwise=pairwise, group=group)
    air = handshake(auth, sup)
    assert auth.state is AuthenticatorState.PTKINITDONE
    assert sup.state is SupplicantState.PTK_DONE
    # Four messages, in order, with the descriptor version the AKM and cipher call for.
    frames = [c.eapol for c in air.carried]
    assert [message(f).value for f in frames] == [1, 2, 3, 4]
    assert {decode_eapol_key(f).descriptor_version for f in frames} == {dv}
    # Both sides install the same TK, derived independently of the machines from the nonces.
    expected = derive_ptk(PMK, AP, STA, auth.anonce, sup.snonce, akm=akm, cipher=pairwise)
    (ap_ptk,) = air.installs("ap", KeyKind.PTK)
    (sta_ptk,) = air.installs("sta", KeyKind.PTK)
    assert ap_ptk.key == sta_ptk.key == expected.tk
    assert ap_ptk.cipher is sta_ptk.cipher is pairwise
    (sta_gtk,) = air.installs("sta", KeyKind.GTK)
    assert sta_gtk.key == gs.gtk and sta_gtk.key_id == gs.gtk_id and len(sta_gtk.key) == group.tk_len
    # The decryptor verifies the MICs with nothing but the PMK and learns the same PTK and GTK.
    dec, link = decryptor_view(air)
    assert link.mic_verified >= 1 and link.mic_failed == 0
    assert link.current_ptk.tk == expected.tk
    assert dec.networks[AP].gtks[gs.gtk_id][0].key == gs.gtk


def test_given_pmk_akm_sends_pmkid_in_msg1():
    auth, sup, _ = pair(akm=AKM.IEEE8021X, pmk=bytes(range(32)))
    air = handshake(auth, sup)
    m1 = decode_eapol_key(air.carried[0].eapol)
    (kde,) = list(iter_key_data(m1.key_data))
    assert kde == PmkidKDE(pmkid(bytes(range(32)), AP, STA))
    assert sup.state is SupplicantState.PTK_DONE


def test_psk_msg1_has_no_key_data():
    auth, sup, _ = pair()
    air = handshake(auth, sup)
    assert decode_eapol_key(air.carried[0].eapol).key_data == b""


def test_pmf_delivers_igtk_in_msg3_and_group_handshake():
    auth, sup, gs = pair(pmf=True)
    air = handshake(auth, sup)
    (igtk,) = air.installs("sta", KeyKind.IGTK)
    assert igtk.key == gs.igtk and igtk.key_id == 4 and igtk.cipher is Cipher.BIP_CMAC128
    # The AP transmits with GTK 1 and IGTK 4 from the first completed handshake.
    assert {(i.kind, i.key_id) for i in air.installs("ap") if i.peer is None} == {
        (KeyKind.GTK, 1),
        (KeyKind.IGTK, 4),
    }
    gs.new_gtk()
    air.run(auth.rekey_gtk(air.now), "ap")
    assert [(i.kind, i.key_id) for i in air.installs("sta")[-2:]] == [(KeyKind.GTK, 2), (KeyKind.IGTK, 5)]
    assert air.installs("sta", KeyKind.IGTK)[-1].key == gs.igtk
    _, link = decryptor_view(air)
    assert link.mic_failed == 0


def test_group_key_handshake_is_protected_and_delayed_install():
    auth, sup, gs = pair()
    air = handshake(auth, sup)
    old = gs.gtk
    gs.new_gtk()
    air.run(auth.rekey_gtk(air.now), "ap")
    g1, g2 = air.carried[-2:]
    assert (message(g1.eapol).name, message(g2.eapol).name) == ("GROUP_M1", "GROUP_M2")
    assert g1.protected and g2.protected
    assert decode_eapol_key(g1.eapol).key_rsc == 0  # the new key has not been used yet
    assert air.installs("sta", KeyKind.GTK)[-1].key == gs.gtk != old
    # Delayed (hostapd): the AP switches to the new GTK once the only station acknowledged it.
    ap_group = [i for i in air.installs("ap", KeyKind.GTK)]
    assert [i.key for i in ap_group] == [old, gs.gtk]
    assert auth.group_key_state is GroupKeyState.IDLE
    dec, link = decryptor_view(air)
    assert link.mic_failed == 0 and dec.networks[AP].gtks[2][0].key == gs.gtk


def test_group_msg1_carries_the_pn_of_the_transmit_gtk():
    # The standard's supplicant reinstalls the in-use GTK, so each group msg 1 shows in InstallKey.
    auth, sup, gs = pair(profile=PRESETS["ieee80211-2016"])
    air = handshake(auth, sup)
    gs.tx_pn = 0x1234
    air.run(auth.resend_group_m1(air.now), "ap")  # RESEND_GROUP_M1: RSC 0 by design
    assert decode_eapol_key(air.carried[-2].eapol).key_rsc == 0
    assert air.installs("sta", KeyKind.GTK)[-1].rsc == 0
    air.run(auth.rekey_gtk(air.now), "ap")  # same GTK: the RSC is its PN
    assert decode_eapol_key(air.carried[-2].eapol).key_rsc == 0x1234
    assert air.installs("sta", KeyKind.GTK)[-1].rsc == 0x1234


def test_immediate_gtk_install_happens_at_rekey_start():
    from dataclasses import replace

    auth, sup, gs = pair(ap_profile=replace(PATCHED, gtk_install=GtkInstall.IMMEDIATE))
    air = handshake(auth, sup)
    gs.new_gtk()
    cmds = auth.rekey_gtk(air.now)
    assert cmds[0].key == gs.gtk and cmds[0].peer is None  # installed before group msg 1 goes out
    assert Sends("G1").matches(cmds[1])


def test_delayed_install_waits_for_every_station():
    ns = nonces(3)
    gs = GroupState(nonce_source=ns)
    sta2 = bytes.fromhex("020000000101")
    a1 = Authenticator(PATCHED, addr=AP, sta_addr=STA, pmk=PMK, group_state=gs, nonce_source=ns)
    a2 = Authenticator(PATCHED, addr=AP, sta_addr=sta2, pmk=PMK, group_state=gs, nonce_source=ns)
    s1 = Supplicant(PATCHED, addr=STA, ap_addr=AP, pmk=PMK, nonce_source=ns)
    s2 = Supplicant(PATCHED, addr=sta2, ap_addr=AP, pmk=PMK, nonce_source=ns)
    air1, air2 = handshake(a1, s1), handshake(a2, s2)
    assert gs.stations == {STA, sta2}
    gs.new_gtk()
    air1.run(a1.rekey_gtk(1.0), "ap")
    assert gs.tx_gtk_id == 1 and gs.awaiting == {sta2}
    air2.run(a2.rekey_gtk(1.0), "ap")
    assert gs.tx_gtk_id == 2 and not gs.awaiting
    assert air2.installs("ap", KeyKind.GTK)[-1].key == gs.gtk


@pytest.mark.parametrize("fresh", [True, False])
def test_ptk_rekey_runs_under_the_old_ptk(fresh):
    from dataclasses import replace

    auth, sup, _ = pair(ap_profile=replace(PATCHED, fresh_anonce_on_rekey=fresh))
    air = handshake(auth, sup)
    first_anonce, first_tk = auth.anonce, air.tk["sta"]
    n = len(air.carried)
    air.run(auth.rekey_ptk(1.0), "ap")
    rekey = air.carried[n:]
    assert [message(c.eapol).value for c in rekey] == [1, 2, 3, 4]
    assert all(c.protected for c in rekey)  # every rekey message travels under the old PTK
    assert (auth.anonce != first_anonce) is fresh
    assert air.tk["sta"] == air.tk["ap"] != first_tk  # new SNonce: a new PTK either way
    _, link = decryptor_view(air)
    assert link.mic_failed == 0 and link.current_ptk.tk == air.tk["sta"]


def test_supplicant_request_triggers_rekey():
    from krackwatch.crypto import eapol_key_mic
    from krackwatch.wire import EapolKey

    auth, sup, _ = pair()
    handshake(auth, sup)
    req = EapolKey(
        1, 2, 0x0800 | 0x0100 | 0x0008 | 2, 0, 5, bytes(32), bytes(16), 0, bytes(8), bytes(16), b""
    )
    raw = req.encode()
    raw = raw[:81] + eapol_key_mic(sup.ptk.kck, raw, descriptor_version=2) + raw[97:]
    cmds = auth.receive_eapol(raw, protected=True, now=2.0)
    assert any(Sends(1, protected=True).matches(c) for c in cmds)
    assert auth.state is AuthenticatorState.PTKSTART
    # The same request again is a replay.
    assert auth.receive_eapol(raw, protected=True, now=2.1)[0].reason.name == "REPLAY"


def test_commands_are_values():
    auth, _, _ = pair()
    (m1, _) = auth.start(0.0)
    assert isinstance(m1, SendEAPOL) and hash(m1) == hash(SendEAPOL(m1.dst, m1.src, m1.eapol, m1.protected))
    with pytest.raises(AttributeError):
        m1.protected = True  # frozen
    air = handshake(*pair()[:2])
    text = repr(air.installs("sta", KeyKind.PTK)[0])
    assert "16-octet key" in text and air.tk["sta"].hex() not in text  # secrets stay out of reprs
