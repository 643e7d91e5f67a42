"""The authenticator: hostapd's retransmission timers and retry limits, replay counter rules, input
checks and the AP knobs, as Playbook scripts and on the fake air."""

from __future__ import annotations

from dataclasses import replace

import pytest
from kwtest import CAPTURES
from protocol.playbook import (
    AP,
    STA,
    Drop,
    Installs,
    Playbook,
    Sends,
    Timer,
    eapol,
    handshake,
    method,
    nonces,
    timeout,
)

from krackwatch.crypto import pbkdf2_psk
from krackwatch.protocol import (
    GROUP_TIMER,
    PAIRWISE_TIMER,
    PRESETS,
    Authenticator,
    AuthenticatorState,
    CancelTimer,
    Deauthenticate,
    DropReason,
    EapolTimeouts,
    GroupState,
    KeyKind,
    SendEAPOL,
    Supplicant,
)
from krackwatch.wire import ReasonCode, decode_eapol_key, header_length, open_capture
from krackwatch.wire.linklayer import split_link

PMK = pbkdf2_psk("sesame", "lab")
HOSTAPD = PRESETS["hostapd-2.6"]


def make(profile=HOSTAPD, seed=4):
    ns = nonces(seed)
    gs = GroupState(nonce_source=ns)
    auth = Authenticator(profile, addr=AP, sta_addr=STA, pmk=PMK, group_state=gs, nonce_source=ns)
    sup = Supplicant(PRESETS["patched"], addr=STA, ap_addr=AP, pmk=PMK, nonce_source=ns)
    return auth, sup, gs


def rc(frame: bytes) -> int:
    return decode_eapol_key(frame).replay_counter


# --------------------------------------------------------------------------- timers and retries


def test_msg1_retransmitted_three_times_then_deauth():
    auth, _, _ = make()
    pb = (
        Playbook(auth)
        >> method("start", 0.0)
        << Sends(1, protected=False)
        << Timer(PAIRWISE_TIMER, 0.1)  # eapol_key_timeout_first
        >> timeout(PAIRWISE_TIMER, 0.1)
        << Sends(1)
        << Timer(PAIRWISE_TIMER, 1.1)  # eapol_key_timeout_subseq
        >> timeout(PAIRWISE_TIMER, 1.1)
        << Sends(1)
        << Timer(PAIRWISE_TIMER, 2.1)
        >> timeout(PAIRWISE_TIMER, 2.1)
        << Sends(1)
        << Timer(PAIRWISE_TIMER, 3.1)
        >> timeout(PAIRWISE_TIMER, 3.1)  # four unanswered: "PTKSTART: Retry limit 4 reached"
        << Deauthenticate(STA, ReasonCode.PREV_AUTH_NOT_VALID)
    )
    assert pb
    msg1s = [c.eapol for c in pb.actual if isinstance(c, SendEAPOL)]
    assert [rc(f) for f in msg1s] == [1, 2, 3, 4]
    assert len({decode_eapol_key(f).nonce for f in msg1s}) == 1  # same ANonce throughout
    assert auth.state is AuthenticatorState.DISCONNECTED


def test_msg3_retransmissions_and_deauth():
    auth, sup, _ = make()
    m1 = auth.start(0.0)[0].eapol
    m2 = sup.receive_eapol(m1, protected=False, now=0.0)[0].eapol
    pb = (
        Playbook(auth)
        >> eapol(m2, now=0.05)
        << Sends(3)
        << Timer(PAIRWISE_TIMER, 0.15)  # TimeoutCtr restarted in PTKCALCNEGOTIATING2
        >> timeout(PAIRWISE_TIMER, 0.15)
        << Sends(3)
        << Timer(PAIRWISE_TIMER, 1.15)
        >> timeout(PAIRWISE_TIMER, 1.15)
        << Sends(3)
        << Timer(PAIRWISE_TIMER, 2.15)
        >> timeout(PAIRWISE_TIMER, 2.15)
        << Sends(3)
        << Timer(PAIRWISE_TIMER, 3.15)
        >> timeout(PAIRWISE_TIMER, 3.15)
        << Deauthenticate(STA, 2)
    )
    assert pb
    assert [rc(c.eapol) for c in pb.actual if isinstance(c, SendEAPOL)] == [2, 3, 4, 5]


def test_custom_retry_count_timeouts_and_reason():
    profile = replace(HOSTAPD, eapol_retries=2, timeouts=EapolTimeouts(0.2, 0.7, 0.5), deauth_reason=15)
    auth, _, _ = make(profile)
    assert (
        Playbook(auth)
        >> method("start", 1.0)
        << Sends(1)
        << Timer(PAIRWISE_TIMER, 1.2)
        >> timeout(PAIRWISE_TIMER, 1.2)
        << Sends(1)
        << Timer(PAIRWISE_TIMER, 1.7)
        >> timeout(PAIRWISE_TIMER, 1.7)
        << Deauthenticate(STA, 15)
    )


def _capture_group_schedule() -> tuple[list[float], float]:
    """Times of the AP's protected group msg 1 retries and of its Deauthentication in the real
    example-tptk-attack.pcapng (frames 195, 201, 213, 225 and 237)."""
    times: dict[int, float] = {}
    with open_capture(CAPTURES / "example-tptk-attack.pcapng") as reader:
        for rec in reader:
            if rec.number in (195, 201, 213, 225, 237):
                times[rec.number] = rec.ts_ns / 1e9
                info = split_link(rec.linktype, rec.data)
                frame = rec.data[info.header_len :]
                if rec.number == 237:
                    assert frame[0] == 0xC0  # Deauthentication
                    reason = frame[header_length(frame)] | frame[header_length(frame) + 1] << 8
                    assert reason == 2
    start = times[195]
    return [times[n] - start for n in (195, 201, 213, 225)], times[237] - start


def test_group_retries_match_the_real_capture():
    observed, deauth_at = _capture_group_schedule()
    auth, sup, _ = make()
    air = handshake(auth, sup)
    air.policy = lambda a, c: "drop" if c.src == STA else "deliver"  # group msg 2 never arrives
    start = 10.0
    air.now = start
    air.run(auth.rekey_gtk(start), "ap")
    air.advance(start + 10)
    g1_times = [c.time - start for c in air.carried if c.src == AP and c.time >= start]
    assert len(g1_times) == 4
    assert g1_times == pytest.approx(observed, abs=0.02)  # 0, +0.5, +1.0, +1.0 as hostapd does
    ((when, deauth),) = air.deauths()
    assert deauth.reason == ReasonCode.PREV_AUTH_NOT_VALID
    assert when - start == pytest.approx(deauth_at, abs=0.02)  # at the fourth timeout
    assert auth.state is AuthenticatorState.DISCONNECTED


def test_stale_and_early_timeouts():
    auth, sup, _ = make()
    air = handshake(auth, sup)
    assert not air.timers
    assert Playbook(auth) >> timeout(PAIRWISE_TIMER, 5.0) << Drop(DropReason.TIMER)
    auth2, _, _ = make()
    auth2.start(0.0)
    assert Playbook(auth2) >> timeout(PAIRWISE_TIMER, 0.05) << Drop(DropReason.TIMER)
    assert Playbook(auth2) >> timeout(GROUP_TIMER, 0.5) << Drop(DropReason.TIMER)


def test_msg4_cancels_the_timer_and_installs():
    auth, sup, gs = make()
    m2 = sup.receive_eapol(auth.start(0.0)[0].eapol, protected=False, now=0)[0].eapol
    m3 = auth.receive_eapol(m2, protected=False, now=0.01)[0].eapol
    m4 = sup.receive_eapol(m3, protected=False, now=0.02)[0].eapol
    assert (
        Playbook(auth)
        >> eapol(m4, now=0.03)
        << CancelTimer(PAIRWISE_TIMER)
        << Installs(KeyKind.PTK, key=sup.installed[KeyKind.PTK].key)
        << Installs(KeyKind.GTK, key=gs.gtk)  # the first station: the AP starts using its GTK
    )


# --------------------------------------------------------------------------- replay counters


@pytest.mark.parametrize("pending", [True, False])
def test_msg4_for_an_earlier_msg3(pending):
    # The AP retransmitted msg 3 (counter 3); a msg 4 answering the first msg 3 (counter 2) is
    # accepted by hostapd (any pending counter) and refused by an AP accepting only the latest.
    auth, sup, _ = make(replace(HOSTAPD, accepts_pending_replay_counters=pending))
    m2 = sup.receive_eapol(auth.start(0.0)[0].eapol, protected=False, now=0)[0].eapol
    m3 = auth.receive_eapol(m2, protected=False, now=0.01)[0].eapol
    auth.timeout(PAIRWISE_TIMER, 0.11)
    m4_old = sup.receive_eapol(m3, protected=False, now=0.12)[0].eapol
    assert rc(m4_old) == 2 and auth.replay_counter == 3
    pb = Playbook(auth) >> eapol(m4_old, now=0.2)
    if pending:
        pb << CancelTimer(PAIRWISE_TIMER) << Installs(KeyKind.PTK) << Installs(KeyKind.GTK)
    else:
        pb << Drop(DropReason.REPLAY)
    assert pb


def test_only_the_last_four_counters_stay_pending():
    auth, sup, _ = make(replace(HOSTAPD, eapol_retries=6))
    m1 = auth.start(0.0)[0].eapol
    m2 = sup.receive_eapol(m1, protected=False, now=0)[0].eapol  # answers counter 1
    now = 0.1
    for _ in range(4):  # msg 1 with counters 2..5: counter 1 falls out of the window
        auth.timeout(PAIRWISE_TIMER, now)
        now += 1.0
    assert Playbook(auth) >> eapol(m2, now=now) << Drop(DropReason.REPLAY)


def test_accepted_reply_invalidates_pending_counters():
    auth, sup, _ = make()
    m2 = sup.receive_eapol(auth.start(0.0)[0].eapol, protected=False, now=0)[0].eapol
    auth.receive_eapol(m2, protected=False, now=0.01)
    assert Playbook(auth) >> eapol(m2, now=0.02) << Drop(DropReason.REPLAY)


# --------------------------------------------------------------------------- checks


def test_authenticator_checks():
    auth, sup, _ = make()
    m1 = auth.start(0.0)[0].eapol
    m2 = sup.receive_eapol(m1, protected=False, now=0)[0].eapol
    cases = [
        (m2[:40], DropReason.SHORT),
        (m2[:1] + b"\x01" + m2[2:], DropReason.TYPE),
        (m2[:4] + b"\x01" + m2[5:], DropReason.DESCRIPTOR),
        (m2[:6] + bytes([m2[6] & ~7 | 3]) + m2[7:], DropReason.VERSION),
        (m2[:9] + (7).to_bytes(8, "big") + m2[17:], DropReason.REPLAY),
        (m2[:6] + bytes([m2[6] | 0x80]) + m2[7:], DropReason.ACK_BITS),  # Ack from a station
        (m2[:81] + bytes(16) + m2[97:], DropReason.MIC),
    ]
    for frame, reason in cases:
        assert Playbook(auth) >> eapol(frame) << Drop(reason), reason
    # A msg 4 (no key data) while msg 2 is awaited is out of state (checked before its MIC).
    msg4_shaped = m2[:2] + (95).to_bytes(2, "big") + m2[4:97] + b"\x00\x00"
    assert Playbook(auth) >> eapol(msg4_shaped) << Drop(DropReason.STATE)
    assert auth.state is AuthenticatorState.PTKSTART


def test_before_start_and_after_disconnect():
    auth, sup, _ = make()
    assert Playbook(auth) >> eapol(b"\x01\x03\x00\x00") << Drop(DropReason.STATE)
    assert Playbook(auth) >> method("rekey_ptk", 0.0) << Drop(DropReason.STATE)
    assert Playbook(auth) >> method("rekey_gtk", 0.0) << Drop(DropReason.STATE)
    assert Playbook(auth) >> method("resend_m3", 0.0) << Drop(DropReason.STATE)
    handshake(auth, sup)
    cmds = auth.receive_mgmt(12, b"\x03\x00", STA, 1.0)
    assert auth.state is AuthenticatorState.DISCONNECTED and STA not in auth.group.stations
    assert Playbook(auth) >> method("start", 2.0) << Drop(DropReason.STATE)
    assert cmds[-1].message.startswith("station left")


def test_group_msg2_outside_a_group_handshake():
    auth, sup, _ = make()
    air = handshake(auth, sup)
    air.run(auth.rekey_gtk(1.0), "ap")
    g2 = air.carried[-1].eapol
    assert Playbook(auth) >> eapol(g2, protected=True) << Drop(DropReason.REPLAY)


# --------------------------------------------------------------------------- AP knobs


@pytest.mark.parametrize("fresh", [True, False])
def test_fresh_anonce_on_rekey(fresh):
    auth, sup, _ = make(replace(HOSTAPD, fresh_anonce_on_rekey=fresh))
    air = handshake(auth, sup)
    first = auth.anonce
    cmds = auth.rekey_ptk(1.0)
    msg1 = decode_eapol_key(cmds[0].eapol)
    assert (msg1.nonce != first) is fresh
    # Without the fix TimeoutCtr carries over from the first handshake: the rekey's first msg 1
    # counts as a retransmission (1 s timeout) rather than a first transmission (100 ms).
    assert cmds[1] == (type(cmds[1])(PAIRWISE_TIMER, 1.1) if fresh else type(cmds[1])(PAIRWISE_TIMER, 2.0))
    assert air  # the handshake before completed
