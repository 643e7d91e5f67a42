"""Profiles: the preset names, and every client preset's knobs against the semantics of Table 1 of
the KRACK paper (transcribed in research/protocol.md 2.1): the table's behaviour columns map onto
knobs one to one. Attack results (the 4-way / Group columns) are derived by the lab, not here."""

from __future__ import annotations

import inspect
from dataclasses import fields, replace

import pytest
from protocol.playbook import AP, STA, Air, nonces

from krackwatch.errors import InputError
from krackwatch.protocol import (
    PRESETS,
    Authenticator,
    GroupState,
    GtkInstall,
    Profile,
    Role,
    Supplicant,
    ZeroTk,
    authenticator,
    get_profile,
    supplicant,
)
from krackwatch.protocol.profile import _AP_KNOBS, _CLIENT_KNOBS, _KNOB_NAMES

ISSUE_NAMES = [
    "ieee80211-2016",
    "patched",
    "wpa_supplicant-2.3",
    "wpa_supplicant-2.4",
    "wpa_supplicant-2.5",
    "wpa_supplicant-2.6",
    "android-6.0.1",
    "osx-10.9.5",
    "macos-10.12",
    "ios-10.3.1",
    "windows-7",
    "windows-10",
    "openbsd-6.1-rum",
    "openbsd-6.1-iwn",
    "mediatek",
    "hostapd-2.6",
    "hostapd-2.7",
]

Y, N, NA = True, False, None
# Implementation: (Re.Msg3, Pt.EAPOL, Quick Pt., Quick Ct., 4-way, Group, footnote)
TABLE1 = {
    "osx-10.9.5": (Y, N, N, Y, Y, Y, ""),
    "macos-10.12": (Y, N, N, Y, Y, Y, ""),
    "ios-10.3.1": (N, NA, NA, NA, N, Y, "c"),
    "wpa_supplicant-2.3": (Y, Y, Y, Y, Y, Y, ""),
    "wpa_supplicant-2.4": (Y, Y, Y, Y, Y, Y, "a"),
    "wpa_supplicant-2.5": (Y, Y, Y, Y, Y, Y, "a"),
    "wpa_supplicant-2.6": (Y, Y, Y, Y, Y, Y, "b"),
    "android-6.0.1": (Y, N, Y, Y, Y, Y, "a"),
    "openbsd-6.1-rum": (Y, N, N, N, N, Y, ""),
    "openbsd-6.1-iwn": (Y, N, N, Y, Y, Y, ""),
    "windows-7": (N, NA, NA, NA, N, Y, "c"),
    "windows-10": (N, NA, NA, NA, N, Y, "c"),
    "mediatek": (Y, Y, Y, Y, Y, Y, ""),
}


def test_preset_names_are_exactly_the_issues():
    assert list(PRESETS) == ISSUE_NAMES
    assert all(PRESETS[n].name == n for n in PRESETS)


def test_get_profile():
    assert get_profile("patched") is PRESETS["patched"]
    with pytest.raises(InputError) as exc:
        get_profile("wpa_supplicant-2.7")
    assert all(name in str(exc.value) for name in ISSUE_NAMES)


def test_profiles_are_frozen_and_validated():
    p = PRESETS["patched"]
    with pytest.raises(AttributeError):
        p.reinstalls_ptk = True
    with pytest.raises(ValueError):
        replace(p, eapol_retries=0)
    with pytest.raises(ValueError):
        replace(p, assumed=frozenset({"no_such_knob"}))
    assert set(_CLIENT_KNOBS) | set(_AP_KNOBS) == set(_KNOB_NAMES)


@pytest.mark.parametrize("name", sorted(TABLE1))
def test_client_presets_follow_table_1(name):
    p = PRESETS[name]
    re_msg3, pt, quick_pt, quick_ct, four_way, group, note = TABLE1[name]
    assert p.role is Role.CLIENT
    assert p.accepts_retransmitted_msg3 is re_msg3
    for cell, knob in (
        (pt, "accepts_plaintext_eapol_after_ptk"),
        (quick_pt, "quick_plaintext_race"),
        (quick_ct, "encrypted_msg3_race"),
    ):
        if cell is NA:
            assert knob in p.assumed  # untestable for this row: the value is an assumption
        else:
            assert getattr(p, knob) is cell
    assert p.reinstalls_gtk is group  # the Group column is an in-use GTK reinstall
    assert (p.zero_tk is ZeroTk.ON_RETRANSMITTED_MSG3) is (note == "a")
    assert (p.zero_tk is ZeroTk.AFTER_FORGED_MSG1) is (note == "b")
    if note == "b":
        assert not p.reinstalls_ptk  # "only the group key is reinstalled in the 4-way handshake"
    if four_way and not note:
        assert p.reinstalls_ptk  # the real TK is reinstalled
    if note == "c":
        assert not four_way


def test_standard_and_patched():
    std, fix = PRESETS["ieee80211-2016"], PRESETS["patched"]
    assert std.role is fix.role is Role.BOTH
    assert (
        std.accepts_retransmitted_msg3 and std.reinstalls_ptk and std.reinstalls_gtk and std.reinstalls_igtk
    )
    assert fix.accepts_retransmitted_msg3  # patched peers still answer (README-client.md)
    assert not (fix.reinstalls_ptk or fix.reinstalls_gtk or fix.reinstalls_igtk)
    assert fix.zero_tk is ZeroTk.NEVER and not fix.ft_reinstalls_ptk_on_reassoc_replay
    assert fix.fresh_anonce_on_rekey and fix.honours_key_rsc and fix.checks_broadcast_replays


def test_hostapd_presets_follow_the_2017_commits():
    old, new = PRESETS["hostapd-2.6"], PRESETS["hostapd-2.7"]
    assert old.role is new.role is Role.AP
    assert (
        old.ft_reinstalls_ptk_on_reassoc_replay and not new.ft_reinstalls_ptk_on_reassoc_replay
    )  # 0e3bd7ac6
    assert not old.fresh_anonce_on_rekey and new.fresh_anonce_on_rekey  # 0adc9b28b
    for p in (old, new):
        assert p.gtk_install is GtkInstall.DELAYED and p.accepts_pending_replay_counters
        assert p.eapol_retries == 4
        assert (p.timeouts.first, p.timeouts.first_group, p.timeouts.subsequent) == (0.1, 0.5, 1.0)
    # The 2.6 release's supplicant code is wpa_supplicant 2.6's.
    assert {k: getattr(old, k) for k in _CLIENT_KNOBS} == {
        k: getattr(PRESETS["wpa_supplicant-2.6"], k) for k in _CLIENT_KNOBS
    }


def test_every_preset_documents_itself():
    for p in PRESETS.values():
        assert p.notes and len(p.notes) > 40
        if p.role is Role.CLIENT:
            assert set(_AP_KNOBS) <= p.assumed  # AP knobs of client presets are not claims


def test_every_knob_has_a_documented_source():
    source = inspect.getsource(Profile)
    for f in fields(Profile):
        if f.name in _KNOB_NAMES:
            after = source.split(f"    {f.name}:", 1)[1].split('"""', 2)[1]
            assert any(tag in after for tag in ("CVE-", "[", "hostap", "paper", "Table")), f.name


def test_machines_never_look_at_the_profile_name():
    for module in (supplicant, authenticator):
        text = inspect.getsource(module)
        assert "profile.name" not in text and ".role" not in text


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_behaviour_depends_on_knobs_only(name):
    def run(profile):
        ns = nonces(3)
        gs = GroupState(nonce_source=ns)
        auth = Authenticator(profile, addr=AP, sta_addr=STA, pmk=bytes(32), group_state=gs, nonce_source=ns)
        sup = Supplicant(profile, addr=STA, ap_addr=AP, pmk=bytes(32), nonce_source=ns)
        air = Air(auth, sup)
        air.start()
        air.run(auth.resend_m3(1.0), "ap")
        air.run(auth.resend_m1(1.1), "ap")
        air.run(auth.resend_m3(1.2), "ap")
        air.run(auth.rekey_ptk(2.0), "ap")
        air.advance(10.0)
        return air.commands

    assert run(PRESETS[name]) == run(replace(PRESETS[name], name="renamed", notes="x"))
