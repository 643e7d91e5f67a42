"""The supplicant's input checks (hostap's ``wpa_sm_rx_eapol`` order), replay counter rules and
every client knob of the profile in isolation, as Playbook scripts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from protocol.playbook import AP, STA, Drop, Installs, Playbook, Sends, eapol, nonces

from krackwatch.crypto import Cipher, eapol_key_mic, pbkdf2_psk
from krackwatch.protocol import (
    PRESETS,
    Authenticator,
    Deauthenticate,
    DropReason,
    GroupState,
    KeyKind,
    Log,
    ProtocolError,
    Supplicant,
    SupplicantState,
    ZeroTk,
)
from krackwatch.wire import ReasonCode

PMK = pbkdf2_psk("sesame", "lab")
PATCHED = PRESETS["patched"]
STANDARD = PRESETS["ieee80211-2016"]


class Rig:
    """An authenticator that produces real frames, and a supplicant under test."""

    def __init__(self, profile=PATCHED, *, pmf=False, seed=5, **sup_kwargs):
        ns = nonces(seed)
        self.group = GroupState(nonce_source=ns, pmf=pmf)
        self.auth = Authenticator(
            PATCHED, addr=AP, sta_addr=STA, pmk=PMK, group_state=self.group, pmf=pmf, nonce_source=ns
        )
        self.sup = Supplicant(profile, addr=STA, ap_addr=AP, pmk=PMK, pmf=pmf, nonce_source=ns, **sup_kwargs)

    def m1(self) -> bytes:
        return self.auth.start(0.0)[0].eapol

    def complete(self):
        """Run a full handshake; return (msg1, msg3) as the AP sent them."""
        m1 = self.m1()
        m2 = self.sup.receive_eapol(m1, protected=False, now=0.0)[0].eapol
        m3 = self.auth.receive_eapol(m2, protected=False, now=0.0)[0].eapol
        m4 = self.sup.receive_eapol(m3, protected=False, now=0.0)[0].eapol
        self.auth.receive_eapol(m4, protected=False, now=0.0)
        return m1, m3

    def resend_m3(self, **kw) -> bytes:
        return self.auth.resend_m3(1.0, **kw)[0].eapol


def remic(frame: bytes, kck: bytes, dv: int = 2) -> bytes:
    zeroed = frame[:81] + bytes(16) + frame[97:]
    return frame[:81] + eapol_key_mic(kck, zeroed, descriptor_version=dv) + frame[97:]


def with_rc(frame: bytes, rc: int) -> bytes:
    return frame[:9] + rc.to_bytes(8, "big") + frame[17:]


def with_ki(frame: bytes, ki: int) -> bytes:
    return frame[:5] + ki.to_bytes(2, "big") + frame[7:]


def with_nonce(frame: bytes, nonce: bytes) -> bytes:
    return frame[:17] + nonce + frame[49:]


# --------------------------------------------------------------------------- the normal script


def test_initial_handshake_script():
    rig = Rig()
    m1 = rig.m1()
    pb = Playbook(rig.sup) >> eapol(m1) << Sends(2, protected=False)
    assert pb
    m2 = pb.actual[0].eapol
    m3 = rig.auth.receive_eapol(m2, protected=False, now=0.0)[0].eapol
    assert (
        Playbook(rig.sup)
        >> eapol(m3)
        << Sends(4, protected=False)  # msg 4 goes out before the PTK is installed
        << Installs(KeyKind.PTK, zero=False)
        << Installs(KeyKind.GTK, key=rig.group.gtk, rsc=0)
    )
    assert rig.sup.state is SupplicantState.PTK_DONE is SupplicantState.COMPLETED


def test_retransmitted_msg1_reuses_snonce_and_new_msg1_after_msg3_renews_it():
    rig = Rig()
    m1 = rig.m1()
    first = rig.sup.receive_eapol(m1, protected=False, now=0)[0].eapol
    again = rig.sup.receive_eapol(rig.auth.resend_m1(0.1)[0].eapol, protected=False, now=0.1)[0].eapol
    assert first[17:49] == again[17:49]  # same SNonce for a retransmitted msg 1
    rig2 = Rig()
    rig2.complete()
    sn = rig2.sup.snonce
    rig2.sup.receive_eapol(rig2.auth.resend_m1(1.0)[0].eapol, protected=True, now=1.0)
    assert rig2.sup.snonce != sn


# --------------------------------------------------------------------------- check order


def test_each_front_check():
    rig = Rig()
    m1 = rig.m1()
    cases = [
        (b"\x01\x03", DropReason.SHORT),
        (m1[:50], DropReason.SHORT),
        (m1[:1] + b"\x00" + m1[2:], DropReason.TYPE),
        (m1[:4] + b"\xfe" + m1[5:], DropReason.DESCRIPTOR),
        (with_ki(m1, 0x0089), DropReason.VERSION),  # HMAC-MD5/RC4 with a CCMP pairwise cipher
        (with_ki(m1, 0x000A), DropReason.ACK_BITS),  # no Ack
        (with_ki(m1, 0x088A), DropReason.ACK_BITS),  # Request
        (with_ki(m1, 0x009A), DropReason.ACK_BITS),  # pairwise with a key index
        (with_ki(m1, 0x0082), DropReason.ACK_BITS),  # group without MIC
        (with_ki(m1, 0x208A), DropReason.ACK_BITS),  # SMK
    ]
    for frame, reason in cases:
        assert Playbook(rig.sup) >> eapol(frame) << Drop(reason), reason
    assert rig.sup.state is SupplicantState.PTK_INIT


def test_mic_and_replay_counter_rules():
    rig = Rig()
    _, m3 = rig.complete()
    # The same msg 3 again: its counter did not increase.
    assert Playbook(rig.sup) >> eapol(m3) << Drop(DropReason.REPLAY)
    # A corrupted MIC with a high counter is dropped and does not advance the counter ...
    retrans = rig.resend_m3()
    bad = with_rc(retrans[:90] + bytes([retrans[90] ^ 1]) + retrans[91:], 100)
    assert Playbook(rig.sup) >> eapol(bad) << Drop(DropReason.MIC)
    assert rig.sup.rx_replay_counter == 2
    # ... so the genuine retransmission (counter 3) is still accepted.
    assert Playbook(rig.sup) >> eapol(retrans) << Sends(4)  # patched: nothing reinstalled
    assert rig.sup.rx_replay_counter == 3


def test_msg1_does_not_advance_the_replay_counter():
    # A msg 1 has no MIC, so its counter is not trusted (this is what the TPTK attacks rely on).
    rig = Rig()
    m1 = with_rc(rig.m1(), 10)
    m2 = rig.sup.receive_eapol(m1, protected=False, now=0)[0].eapol
    rig.auth._pending.append(10)  # let the AP accept the reply to the doctored msg 1
    m3 = rig.auth.receive_eapol(m2, protected=False, now=0)[0].eapol
    assert int.from_bytes(m3[9:17], "big") == 2 and rig.sup.rx_replay_counter is None
    assert Playbook(rig.sup) >> eapol(m3) << Sends(4) << Installs(KeyKind.PTK) << Installs(KeyKind.GTK)


def test_earliest_failing_check_is_reported():
    rig = Rig()
    _, m3 = rig.complete()
    replayed_bad_version = with_ki(m3, (m3[5] << 8 | m3[6]) & ~7 | 1)
    assert Playbook(rig.sup) >> eapol(replayed_bad_version) << Drop(DropReason.VERSION)
    replayed_bad_mic = m3[:85] + bytes([m3[85] ^ 0xFF]) + m3[86:]
    assert Playbook(rig.sup) >> eapol(replayed_bad_mic) << Drop(DropReason.REPLAY)
    no_ack_bad_mic = with_rc(with_ki(replayed_bad_mic, 0x134A), 9)
    assert Playbook(rig.sup) >> eapol(no_ack_bad_mic) << Drop(DropReason.ACK_BITS)


def test_key_data_that_does_not_unwrap_is_dropped_after_the_mic():
    rig = Rig()
    rig.complete()
    frame = rig.resend_m3()
    garbage = frame[:99] + bytes(len(frame) - 99)
    assert Playbook(rig.sup) >> eapol(remic(garbage, rig.sup.ptk.kck)) << Drop(DropReason.KEY_DATA)
    assert rig.sup.rx_replay_counter == 3  # the MIC verified, so the counter moved


def test_anonce_mismatch_after_a_forged_msg1_with_random_anonce():
    # A MitM cannot change msg 3's ANonce without breaking its MIC: a forged msg 1 with a random
    # ANonce makes the real retransmitted msg 3 fail the ANonce check (tptk-rand needs a test AP).
    rig = Rig(PRESETS["wpa_supplicant-2.6"])
    m1, _ = rig.complete()
    forged = with_rc(with_nonce(m1, b"\x42" * 32), 3)
    assert Playbook(rig.sup) >> eapol(forged) << Sends(2, protected=True)
    rig.auth._pending.append(rig.auth.replay_counter + 1)
    rig.auth.replay_counter += 1  # the forged msg 1 consumed counter 3 on the air
    assert Playbook(rig.sup) >> eapol(rig.resend_m3()) << Drop(DropReason.NONCE)


def test_rsne_mismatch_deauthenticates():
    rig = Rig(ap_rsne=bytes.fromhex("30140100000fac040100000fac040100000fac020c00"))
    m1 = rig.m1()
    m2 = rig.sup.receive_eapol(m1, protected=False, now=0)[0].eapol
    m3 = rig.auth.receive_eapol(m2, protected=False, now=0)[0].eapol
    assert (
        Playbook(rig.sup)
        >> eapol(m3)
        << Drop(DropReason.RSNE)
        << Deauthenticate(AP, ReasonCode.IE_IN_4WAY_DIFFERS)
        >> eapol(m1)
        << Drop(DropReason.STATE)
    )
    assert rig.sup.state is SupplicantState.DISCONNECTED


def test_unexpected_group_message_content():
    rig = Rig()
    rig.complete()
    g1 = rig.auth.resend_group_m1(1.0)[0].eapol
    plain = with_ki(g1, (g1[5] << 8 | g1[6]) & ~0x1000)  # clear Encrypted Key Data
    assert (
        Playbook(rig.sup) >> eapol(remic(plain, rig.sup.ptk.kck), protected=True) << Drop(DropReason.KEY_DATA)
    )


def test_deauthentication_from_the_ap():
    rig = Rig()
    rig.complete()
    assert rig.sup.receive_mgmt(12, b"\x02\x00", AP, 1.0) == [Log("deauthenticated by the AP; keys dropped")]
    assert rig.sup.state is SupplicantState.DISCONNECTED and rig.sup.installed == {}
    assert rig.sup.receive_mgmt(12, b"\x02\x00", AP, 1.0)[0].reason is DropReason.STATE


def test_timeout_on_the_supplicant_is_stale():
    assert Playbook(Rig().sup) >> _timeout("x") << Drop(DropReason.TIMER)


def _timeout(name):
    from protocol.playbook import timeout

    return timeout(name, 1.0)


# --------------------------------------------------------------------------- delivery knobs


@pytest.mark.parametrize(
    ("knob", "protected", "decrypted_with"),
    [
        ("accepts_plaintext_eapol_after_ptk", False, None),
        ("quick_plaintext_race", False, "old"),
        ("encrypted_msg3_race", True, "old"),
    ],
)
@pytest.mark.parametrize("value", [True, False])
def test_delivery_knobs(knob, protected, decrypted_with, value):
    rig = Rig(replace(STANDARD, **{knob: value}))
    rig.complete()
    pb = Playbook(rig.sup) >> eapol(rig.resend_m3(), protected=protected, decrypted_with=decrypted_with)
    if value:
        pb << Sends(4, protected=True) << Installs(KeyKind.PTK) << Installs(KeyKind.GTK)
    else:
        expected = {False: DropReason.PLAINTEXT_AFTER_PTK, True: DropReason.OLD_KEY}[protected]
        pb << Drop(expected)
    assert pb


def test_delivery_model_consistency():
    rig = Rig()
    m1 = rig.m1()
    assert Playbook(rig.sup) >> eapol(m1, protected=True) << Drop(DropReason.NO_KEY)
    with pytest.raises(ProtocolError):
        rig.sup.receive_eapol(m1, protected=False, decrypted_with="ptk", now=0)
    with pytest.raises(ProtocolError):
        rig.sup.receive_eapol(m1, protected=True, decrypted_with="none", now=0)
    with pytest.raises(ProtocolError):
        rig.sup.receive_eapol(m1, protected=True, decrypted_with="tptk", now=0)
    # Before any PTK is installed a queued plaintext frame is just a plaintext frame.
    assert Playbook(rig.sup) >> eapol(m1, decrypted_with="old") << Sends(2)


# --------------------------------------------------------------------------- reinstallation knobs


@pytest.mark.parametrize("value", [True, False])
def test_accepts_retransmitted_msg3(value):
    rig = Rig(replace(STANDARD, accepts_retransmitted_msg3=value))
    rig.complete()
    pb = Playbook(rig.sup) >> eapol(rig.resend_m3(), protected=True)
    if value:
        pb << Sends(4) << Installs(KeyKind.PTK) << Installs(KeyKind.GTK)
    else:
        pb << Drop(DropReason.RETRANSMISSION)
    assert pb


@pytest.mark.parametrize("value", [True, False])
def test_reinstalls_ptk(value):
    rig = Rig(replace(PATCHED, reinstalls_ptk=value))
    rig.complete()
    tk = rig.sup.installed[KeyKind.PTK].key
    pb = (
        Playbook(rig.sup, ignore_log=False)
        >> eapol(rig.resend_m3(), protected=True)
        << Sends(4, protected=True)
    )
    if value:
        pb << Installs(KeyKind.PTK, key=tk)
    else:
        pb << Log("WPA: Do not re-install same PTK to the driver")
    pb << Log  # the in-use GTK is not reinstalled either (patched)
    assert pb


def test_zero_tk_on_retransmitted_msg3():
    rig = Rig(replace(STANDARD, zero_tk=ZeroTk.ON_RETRANSMITTED_MSG3))
    rig.complete()
    assert rig.sup.installed[KeyKind.PTK].zero is False
    for _ in range(2):
        assert (
            Playbook(rig.sup)
            >> eapol(rig.resend_m3(), protected=True)
            << Sends(4)
            << Installs(KeyKind.PTK, zero=True)
            << Installs(KeyKind.GTK)
        )


def test_zero_tk_after_forged_msg1():
    rig = Rig(replace(PATCHED, reinstalls_ptk=False, zero_tk=ZeroTk.AFTER_FORGED_MSG1))
    m1, _ = rig.complete()
    # A plain retransmission installs nothing ...
    assert Playbook(rig.sup) >> eapol(rig.resend_m3(), protected=True) << Sends(4)
    # ... but after a (forged) msg 1 the retransmitted msg 3 fails the new TPTK, verifies with the
    # PTK, and installs the cleared TK (wpa_supplicant 2.6, example-tptk-attack.pcapng).
    rig.auth.replay_counter += 1
    forged = with_rc(m1, rig.auth.replay_counter)
    assert Playbook(rig.sup) >> eapol(forged) << Sends(2, protected=True)
    assert (
        Playbook(rig.sup)
        >> eapol(rig.resend_m3(), protected=True)
        << Sends(4)
        << Installs(KeyKind.PTK, zero=True)
    )
    # Only once: tk_to_set is cleared by the install.
    assert Playbook(rig.sup, ignore_log=True) >> eapol(rig.resend_m3(), protected=True) << Sends(4)


def test_zero_tk_never_with_forged_msg1_reinstalls_real_key():
    rig = Rig(STANDARD)
    m1, _ = rig.complete()
    tk = rig.sup.installed[KeyKind.PTK].key
    rig.auth.replay_counter += 1
    rig.sup.receive_eapol(with_rc(m1, rig.auth.replay_counter), protected=True, now=1)
    assert (
        Playbook(rig.sup)
        >> eapol(rig.resend_m3(), protected=True)
        << Sends(4)
        << Installs(KeyKind.PTK, key=tk)
        << Installs(KeyKind.GTK)
    )


@pytest.mark.parametrize("value", [True, False])
def test_reinstalls_gtk(value):
    rig = Rig(replace(PATCHED, reinstalls_gtk=value))
    rig.complete()
    g1 = rig.auth.resend_group_m1(1.0)[0].eapol  # the in-use GTK again (group key handshake)
    pb = Playbook(rig.sup) >> eapol(g1, protected=True)
    if value:
        pb << Installs(KeyKind.GTK, key=rig.group.gtk, rsc=0)
    pb << Sends("G2", protected=True)
    assert pb
    # A new GTK is always installed.
    rig.group.new_gtk()
    g1 = rig.auth.resend_group_m1(2.0)[0].eapol
    assert (
        Playbook(rig.sup)
        >> eapol(g1, protected=True)
        << Installs(KeyKind.GTK, key=rig.group.gtk)
        << Sends("G2")
    )


@pytest.mark.parametrize("value", [True, False])
def test_reinstalls_igtk(value):
    rig = Rig(replace(PATCHED, reinstalls_gtk=True, reinstalls_igtk=value), pmf=True)
    rig.complete()
    g1 = rig.auth.resend_group_m1(1.0)[0].eapol
    pb = Playbook(rig.sup) >> eapol(g1, protected=True) << Installs(KeyKind.GTK)
    if value:
        pb << Installs(KeyKind.IGTK, key=rig.group.igtk, rsc=0)
    pb << Sends("G2")
    assert pb


@pytest.mark.parametrize("value", [True, False])
def test_honours_key_rsc(value):
    from krackwatch.protocol import MAX_RSC

    rig = Rig(replace(PATCHED, honours_key_rsc=value), pmf=True)
    rig.complete()
    rig.group.new_gtk()
    rig.group._ipn[rig.group.igtk_id] = 77  # the IPN of the new IGTK the AP reports
    g1 = rig.auth.resend_group_m1(1.0, max_rsc=True)[0].eapol
    assert (
        Playbook(rig.sup)
        >> eapol(g1, protected=True)
        << Installs(KeyKind.GTK, rsc=MAX_RSC if value else 0)
        << Installs(KeyKind.IGTK, rsc=0)  # RESEND_GROUP_M1 clears the IPN
        << Sends("G2")
    )
    g1 = rig.auth.rekey_gtk(2.0)[0].eapol
    rig.sup.installed.clear()  # forget the keys so that the same ones install again
    assert (
        Playbook(rig.sup)
        >> eapol(g1, protected=True)
        << Installs(KeyKind.GTK)
        << Installs(KeyKind.IGTK, rsc=77 if value else 0)
        << Sends("G2")
    )


def test_checks_broadcast_replays_is_for_the_receive_path_only():
    # The knob is consulted by the lab's data path: the handshake machines behave the same.
    outputs = []
    for value in (True, False):
        rig = Rig(replace(STANDARD, checks_broadcast_replays=value))
        rig.complete()
        outputs.append([rig.sup.receive_eapol(rig.resend_m3(), protected=True, now=1), rig.sup.installed])
    assert outputs[0] == outputs[1]


def test_group_cipher_mismatch_is_an_rsne_mismatch():
    # The station believes the group cipher is CCMP, the AP uses TKIP: the RSNE of msg 2 differs
    # from the one the AP expects, which deauthenticates (hostapd "WPA IE ... did not match").
    ns = nonces(9)
    gs = GroupState(cipher=Cipher.TKIP, nonce_source=ns)
    auth = Authenticator(PATCHED, addr=AP, sta_addr=STA, pmk=PMK, group_state=gs, nonce_source=ns)
    sup = Supplicant(PATCHED, addr=STA, ap_addr=AP, pmk=PMK, group=Cipher.CCMP128, nonce_source=ns)
    m2 = sup.receive_eapol(auth.start(0)[0].eapol, protected=False, now=0)[0].eapol
    assert (
        Playbook(auth)
        >> eapol(m2)
        << Drop(DropReason.RSNE)
        << Deauthenticate(STA, ReasonCode.IE_IN_4WAY_DIFFERS)
        << _cancel("eapol-pairwise")
    )


def _cancel(name):
    from krackwatch.protocol import CancelTimer

    return CancelTimer(name)
