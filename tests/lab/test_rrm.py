"""The lab's IGTK observable: BIP-protected group Radio Measurement Requests and the clients' reports."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.crypto.errors import InvalidMIC
from krackwatch.lab.attacks import GroupKeyAttack, Lab
from krackwatch.lab.frames import (
    BROADCAST,
    check_mgmt_group,
    mgmt_frame,
    protect_mgmt_group,
    rm_beacon_report,
    rm_beacon_request,
    rm_beacon_requests,
)
from krackwatch.lab.world import NetConfig
from krackwatch.protocol.profile import GtkInstall, get_profile

AP = bytes.fromhex("024b57000001")


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.integers(0, 4095), st.integers(1, (1 << 48) - 1),
       st.integers(1, 255))
def test_bip_check_returns_the_ipn_it_was_protected_with(igtk, key_id, ipn, token) -> None:
    frame = protect_mgmt_group(igtk, key_id, ipn, mgmt_frame(13, BROADCAST, AP, AP, 7, rm_beacon_request(token, 6)))
    assert check_mgmt_group(igtk, frame) == ipn
    tampered = frame[:-1] + bytes((frame[-1] ^ 1,))
    try:
        check_mgmt_group(igtk, tampered)
    except InvalidMIC:
        pass
    else:
        raise AssertionError("a modified MIC verified")


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 255), st.integers(1, 13), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 2))
def test_beacon_request_fields_read_back(token, channel, rand_tu, duration_tu, mode) -> None:
    body = rm_beacon_request(token, channel, rand_tu=rand_tu, duration_tu=duration_tu, mode=mode)
    assert body[:2] == b"\x05\x00"  # Radio Measurement category, Radio Measurement Request
    assert rm_beacon_requests(body, len(body)) == (token, [(token, rand_tu, duration_tu, mode, BROADCAST)])
    report = rm_beacon_report(token, token, channel, AP, rcpi=120)
    assert report[:3] == bytes((5, 1, token))
    assert rm_beacon_requests(report, len(report)) is None  # a report is not a request


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_request_parser_takes_any_bytes(data) -> None:
    out = rm_beacon_requests(data, len(data))
    assert out is None or isinstance(out[0], int)


def _reports(profile: str) -> tuple[list[int], int]:
    """The dialog tokens of the victim's Radio Measurement Reports (its own log) in a group key handshake
    attack on a PMF network, and how many replays it accepted."""
    net = replace(NetConfig(), pmf=True)
    ap = replace(get_profile("hostapd-2.7"), gtk_install=GtkInstall.IMMEDIATE)
    lab = Lab(seed=1, net=net, victim_profile=get_profile(profile), ap_profile=ap, gtk_rekey_after=0.8)
    outcome = GroupKeyAttack(lab, replay_kind="group-mgmt").run()
    assert outcome.replays_sent == 1
    tokens = [int(m.rsplit(" ", 1)[1].rstrip(")")) for _, m in lab.victim.trace.log
              if m.startswith("radio measurement report")]
    return tokens, outcome.replays_accepted


def test_clients_answer_requests_and_only_a_reinstalling_one_answers_the_replay() -> None:
    """Ground truth from the stations: a client answers the AP's group requests; the client that reinstalls
    the IGTK answers the replayed request a second time, the patched one answers no request twice."""
    for profile, vulnerable in (("wpa_supplicant-2.6", True), ("patched", False)):
        tokens, accepted = _reports(profile)
        assert tokens, "the client answered no request"
        assert bool(accepted) is vulnerable
        assert (len(tokens) != len(set(tokens))) is vulnerable, tokens
