"""Implementation profiles: one frozen value per modelled implementation, one field per behaviour.

Each field mirrors one real patch site or one column of a published measurement, documented with its
CVE and source. The machines consult only these fields (never the profile's name), so a preset is
nothing but data. Sources are cited from ``research/protocol.md`` (section numbers in brackets):
[2.1] is Table 1 of Vanhoef & Piessens, "Key Reinstallation Attacks", CCS 2017; [3.1]/[3.2] the
hostap commits and the exact checks they changed; [3.3] hostapd's timers and replay-counter rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum
from types import MappingProxyType

from krackwatch.errors import InputError
from krackwatch.wire.dot11 import ReasonCode

__all__ = [
    "PRESETS",
    "EapolTimeouts",
    "GtkInstall",
    "Profile",
    "Role",
    "ZeroTk",
    "get_profile",
]


class ZeroTk(IntEnum):
    """When a supplicant installs an all-zero TK (CVE-2017-13077, paper 6.3, research [3.2])."""

    NEVER = 0
    #: wpa_supplicant 2.4/2.5: hostap 7d711541d clears the TK from memory after installing it, so
    #: a retransmitted msg 3 installs the cleared (all-zero) TK.
    ON_RETRANSMITTED_MSG3 = 1
    #: wpa_supplicant 2.6: ad00d64e7 reinstalls only when a msg 1 derived a new TPTK since the last
    #: install (``tk_to_set``); a forged msg 1 before the retransmitted msg 3 sets it, and the
    #: cleared TK is installed (krackattacks.com addendum; example-tptk-attack.pcapng).
    AFTER_FORGED_MSG1 = 2


class GtkInstall(IntEnum):
    """When an authenticator starts transmitting with a new GTK (paper 4.2/4.3)."""

    #: Installs the new GTK as soon as it starts the group key handshake.
    IMMEDIATE = 0
    #: Installs it once every station acknowledged it (group msg 2/2), as hostapd's SETKEYSDONE.
    DELAYED = 1


class Role(IntEnum):
    """What the preset models; the other role's knobs keep the standard's values (see ``assumed``)."""

    CLIENT = 1
    AP = 2
    BOTH = 3


@dataclass(frozen=True, slots=True)
class EapolTimeouts:
    """hostapd's EAPOL-Key retransmission timeouts in seconds ([3.3]: ``eapol_key_timeout_first``,
    ``eapol_key_timeout_first_group``, ``eapol_key_timeout_subseq``; the 0.5 s / 1 s / 1 s spacing of
    the group msg 1 retries in example-tptk-attack.pcapng matches)."""

    first: float = 0.1
    first_group: float = 0.5
    subsequent: float = 1.0


@dataclass(frozen=True, slots=True)
class Profile:
    """Behaviour of one implementation. Defaults are IEEE Std 802.11-2016's state machines as
    written (the ``ieee80211-2016`` preset)."""

    name: str
    role: Role
    notes: str
    #: Knob names whose value no source states; the standard's behaviour is assumed for them.
    assumed: frozenset[str] = field(default_factory=frozenset)

    # ----------------------------------------------------------------- supplicant (client) knobs
    accepts_retransmitted_msg3: bool = True
    """Processes a msg 3 that verifies under the PTK already in use (a retransmission) instead of a
    fresh TPTK. Precondition of CVE-2017-13077/13078; Table 1 column "Re.Msg3" [2.1]."""

    accepts_plaintext_eapol_after_ptk: bool = True
    """Accepts an unprotected EAPOL-Key frame once a PTK is installed. Table 1 "Pt.EAPOL" [2.1];
    paper 3.3 (plaintext msg 3 retransmission attack)."""

    quick_plaintext_race: bool = True
    """Accepts an unprotected msg 3 received before the PTK was installed but processed after it
    (``decrypted_with="old"`` on an unprotected frame). Table 1 "Quick Pt." [2.1]; paper 3.4."""

    encrypted_msg3_race: bool = True
    """Processes a msg 3 that the NIC decrypted with the previous PTK after the CPU installed the new
    one (``decrypted_with="old"`` on a protected frame; rekey race). Table 1 "Quick Ct." [2.1];
    paper 3.4, Figs. 5-6."""

    reinstalls_ptk: bool = True
    """Installs the PTK again on a retransmitted msg 3 (CVE-2017-13077). Fixed by hostap 53bb18cc8
    (``ptk.installed`` in ``wpa_supplicant_install_ptk``) [3.1], still answering with msg 4."""

    zero_tk: ZeroTk = ZeroTk.NEVER
    """All-zero TK installation (CVE-2017-13077, paper 6.3); takes precedence over
    ``reinstalls_ptk`` for the key that is installed [3.2]."""

    reinstalls_gtk: bool = True
    """Installs a GTK equal to the in-use one again, resetting its replay counter
    (CVE-2017-13078 in the 4-way, CVE-2017-13080 in the group key handshake). Fixed by hostap
    cb5132bb3 [3.1]; Table 1 "Group" [2.1]."""

    reinstalls_igtk: bool = True
    """Same for the IGTK (CVE-2017-13079 / CVE-2017-13081); hostap cb5132bb3 [3.1]."""

    honours_key_rsc: bool = True
    """Starts a new GTK/IGTK's replay counter at the Key RSC / IPN the AP sent (else at 0).
    "Release the Kraken" (CCS 2018) 6.4; krackattacks-scripts ``--group --gtkinit`` [1.3, 2.5]."""

    checks_broadcast_replays: bool = True
    """Drops group-addressed data whose PN is not above the GTK's replay counter. Not a handshake
    behaviour: the lab's receive path consults it. krackattacks-scripts ``--replay-broadcast``
    [1.3, 1.6]; IEEE 802.11-2016 12.5.3.4.4."""

    # ----------------------------------------------------------------- authenticator (AP) knobs
    ft_reinstalls_ptk_on_reassoc_replay: bool = False
    """Installs the PTK again when an FT Reassociation Request is replayed (CVE-2017-13082).
    hostapd before 0e3bd7ac6 ("Avoid key reinstallation in FT handshake", ``tk_already_set``) [3.1,
    3.2]. Per 802.11r the PTK is installed once, after FT authentication [2.2]."""

    fresh_anonce_on_rekey: bool = True
    """Uses a new ANonce for a PTK rekey. hostapd before 0adc9b28b ("Fix PTK rekeying to generate a
    new ANonce") reused the old one [3.1, 3.2]; no CVE."""

    gtk_install: GtkInstall = GtkInstall.DELAYED
    """When the AP transmits with a new GTK (paper 4.2 immediate / 4.3 delayed; hostapd installs it
    after the group key handshake completed [3.3])."""

    accepts_pending_replay_counters: bool = True
    """Accepts msg 2/4 and group msg 2 carrying any Key Replay Counter still pending (the last
    ``eapol_retries`` sent), not only the latest: hostapd ``wpa_replay_counter_valid`` [3.3]; the
    standard allows "a Key Replay Counter value that it used on this 4-way handshake" (paper 3.3).
    OpenBSD as an AP accepts only the latest [2.1]."""

    eapol_retries: int = 4
    """EAPOL-Key transmissions before giving up (hostapd ``wpa_pairwise_update_count`` /
    ``wpa_group_update_count`` = 4) [3.3]."""

    timeouts: EapolTimeouts = field(default_factory=EapolTimeouts)
    """Retransmission timeouts [3.3]."""

    deauth_reason: int = ReasonCode.PREV_AUTH_NOT_VALID
    """Reason code of the Deauthentication after the retry limit: 2 in hostapd 2.6-era builds
    (example-tptk-attack.pcapng frame 237 after four group msg 1; hostapd logs "WPA authenticator
    requests disconnect ... reason 2"); current hostap sends 15/16."""

    def __post_init__(self) -> None:
        if self.eapol_retries < 1:
            raise ValueError("eapol_retries must be at least 1")
        t = self.timeouts
        if min(t.first, t.first_group, t.subsequent) <= 0:
            raise ValueError("EAPOL-Key timeouts must be positive")
        unknown = self.assumed - set(_KNOB_NAMES)
        if unknown:
            raise ValueError(f"assumed names unknown knobs: {sorted(unknown)}")


_KNOB_NAMES = tuple(n for n in Profile.__dataclass_fields__ if n not in ("name", "role", "notes", "assumed"))
_CLIENT_KNOBS = (
    "accepts_retransmitted_msg3",
    "accepts_plaintext_eapol_after_ptk",
    "quick_plaintext_race",
    "encrypted_msg3_race",
    "reinstalls_ptk",
    "zero_tk",
    "reinstalls_gtk",
    "reinstalls_igtk",
    "honours_key_rsc",
    "checks_broadcast_replays",
)
_AP_KNOBS = tuple(n for n in _KNOB_NAMES if n not in _CLIENT_KNOBS)
# How an EAPOL-Key frame reached the supplicant: the Pt.EAPOL / Quick Pt. / Quick Ct. columns.
_DELIVERY_KNOBS = ("accepts_plaintext_eapol_after_ptk", "quick_plaintext_race", "encrypted_msg3_race")


def _client(base: Profile, name: str, notes: str, assumed: tuple[str, ...] = (), **knobs: object) -> Profile:
    """A client preset: client knobs as given, AP knobs the standard's (and marked assumed)."""
    return replace(
        base,
        name=name,
        role=Role.CLIENT,
        notes=notes,
        assumed=frozenset(assumed) | frozenset(_AP_KNOBS),
        **knobs,
    )


_STANDARD = Profile(
    name="ieee80211-2016",
    role=Role.BOTH,
    notes=(
        "IEEE Std 802.11-2016 state machines as written: the supplicant processes every msg 3 that "
        "verifies and installs the PTK and GTK each time (paper 3.2, Fig. 3); the authenticator installs "
        "a new GTK after all stations acknowledged it and the FT PTK once, after FT authentication. "
        "The state machine does not look at how an EAPOL-Key frame was protected, so no delivery check "
        "is modelled (those knobs are assumed)."
    ),
    assumed=frozenset(_DELIVERY_KNOBS + ("fresh_anonce_on_rekey",)),
)

_PATCHED = replace(
    _STANDARD,
    name="patched",
    notes=(
        "Every 2017 fix: no PTK reinstall (53bb18cc8, a00e946c1), no zero TK, no in-use GTK/IGTK "
        "reinstall (cb5132bb3, 87e2db16b), FT tk_already_set (0e3bd7ac6), fresh ANonce on rekey "
        "(0adc9b28b). Handshake messages are still answered (krackattacks-scripts README-client.md). "
        "The delivery knobs do not matter once nothing is reinstalled; Linux-like values are kept."
    ),
    assumed=frozenset(_DELIVERY_KNOBS),
    reinstalls_ptk=False,
    reinstalls_gtk=False,
    reinstalls_igtk=False,
    ft_reinstalls_ptk_on_reassoc_replay=False,
    fresh_anonce_on_rekey=True,
)

# Client presets: the Re.Msg3 / Pt.EAPOL / Quick Pt. / Quick Ct. cells of Table 1 [2.1] set the first
# four knobs; the Group cell sets reinstalls_gtk; footnotes a/b set zero_tk / reinstalls_ptk. Knobs
# Table 1 does not measure (IGTK, Key RSC, broadcast replay check) keep the standard's value and are
# listed as assumed.
_UNMEASURED = ("reinstalls_igtk", "honours_key_rsc", "checks_broadcast_replays")
# wpa_supplicant installs the GTK/IGTK with the Key RSC / IPN (the RSC-relaxation workaround exists
# because of that [3.2]) and reinstalled in-use IGTKs until cb5132bb3 [3.1]; the replay check is the
# kernel's, not wpa_supplicant's.
_UNMEASURED_WPAS = ("checks_broadcast_replays",)
# Table 1 footnote c: these rows have no Pt./Quick cells because msg 3 retransmissions are refused.
_NOT_APPLICABLE = (
    "accepts_plaintext_eapol_after_ptk",
    "quick_plaintext_race",
    "encrypted_msg3_race",
    "reinstalls_ptk",
)

_WPA_SUPPLICANT_23 = _client(
    _STANDARD,
    "wpa_supplicant-2.3",
    "Table 1 row wpa_supplicant v2.3: all columns vulnerable; reinstalls the real TK on every msg 3.",
    _UNMEASURED_WPAS,
)
_WPA_SUPPLICANT_24 = _client(
    _STANDARD,
    "wpa_supplicant-2.4",
    "Table 1 row v2.4-5 (footnote a): 7d711541d clears the TK after installing it, so a retransmitted "
    "msg 3 installs an all-zero TK (paper 6.3).",
    _UNMEASURED_WPAS,
    zero_tk=ZeroTk.ON_RETRANSMITTED_MSG3,
)
_WPA_SUPPLICANT_25 = replace(_WPA_SUPPLICANT_24, name="wpa_supplicant-2.5")
_WPA_SUPPLICANT_26 = _client(
    _STANDARD,
    "wpa_supplicant-2.6",
    "Table 1 row v2.6 (footnote b: only the group key is reinstalled in the 4-way handshake): ad00d64e7 "
    "skips the PTK reinstall unless a msg 1 came since, which a forged msg 1 provides, and the "
    "cleared TK is then installed (krackattacks.com addendum; example-tptk-attack.pcapng).",
    _UNMEASURED_WPAS,
    reinstalls_ptk=False,
    zero_tk=ZeroTk.AFTER_FORGED_MSG1,
)
_ANDROID_601 = _client(
    _STANDARD,
    "android-6.0.1",
    "Table 1 row Android 6.0.1: wpa_supplicant 2.4-based (all-zero TK, footnote a); the driver drops "
    "plaintext EAPOL once a PTK is installed but not frames already queued.",
    _UNMEASURED_WPAS,
    accepts_plaintext_eapol_after_ptk=False,
    zero_tk=ZeroTk.ON_RETRANSMITTED_MSG3,
)
_OSX_1095 = _client(
    _STANDARD,
    "osx-10.9.5",
    "Table 1 row OS X 10.9.5: refuses plaintext EAPOL after the PTK, even queued; vulnerable through "
    "the encrypted msg 3 race of a rekey (paper 3.4).",
    _UNMEASURED,
    accepts_plaintext_eapol_after_ptk=False,
    quick_plaintext_race=False,
)
_MACOS_1012 = replace(
    _OSX_1095,
    name="macos-10.12",
    notes="Table 1 row macOS Sierra 10.12: same cells as OS X 10.9.5.",
)
_IOS_1031 = _client(
    _STANDARD,
    "ios-10.3.1",
    "Table 1 row iOS 10.3.1 (footnote c): refuses retransmitted msg 3, so the 4-way attacks do not "
    "apply; reinstalls an in-use GTK in the group key handshake.",
    _UNMEASURED + _NOT_APPLICABLE,
    accepts_retransmitted_msg3=False,
    accepts_plaintext_eapol_after_ptk=False,
    quick_plaintext_race=False,
    encrypted_msg3_race=False,
)
_WINDOWS_7 = replace(
    _IOS_1031,
    name="windows-7",
    notes="Table 1 row Windows 7 (footnote c): refuses retransmitted msg 3; Group column vulnerable.",
)
_WINDOWS_10 = replace(
    _IOS_1031,
    name="windows-10",
    notes="Table 1 row Windows 10 (footnote c): refuses retransmitted msg 3; Group column vulnerable.",
)
_OPENBSD_RUM = _client(
    _STANDARD,
    "openbsd-6.1-rum",
    "Table 1 row OpenBSD 6.1 (rum): accepts msg 3 retransmissions but only encrypted ones, and the rum "
    "driver decrypts in software in the same entity, so no race reaches the reinstall (paper 3.4).",
    _UNMEASURED,
    accepts_plaintext_eapol_after_ptk=False,
    quick_plaintext_race=False,
    encrypted_msg3_race=False,
)
_OPENBSD_IWN = _client(
    _STANDARD,
    "openbsd-6.1-iwn",
    "Table 1 row OpenBSD 6.1 (iwn): the NIC decrypts a queued msg 3 with the old PTK, so the "
    "encrypted msg 3 race reinstalls the PTK (paper 3.4).",
    _UNMEASURED,
    accepts_plaintext_eapol_after_ptk=False,
    quick_plaintext_race=False,
)
_MEDIATEK = _client(
    _STANDARD,
    "mediatek",
    "Table 1 row MediaTek: every column vulnerable (the Linksys RE700's FT AP side is also vulnerable, "
    "paper 5; AP knobs are not modelled here).",
    _UNMEASURED,
)


def _ap(
    base_client: Profile, name: str, notes: str, assumed: tuple[str, ...] = (), **knobs: object
) -> Profile:
    """An AP preset: client knobs from the same hostap release, AP knobs as given."""
    return replace(
        base_client,
        name=name,
        role=Role.AP,
        notes=notes,
        assumed=(frozenset(base_client.assumed) - frozenset(_AP_KNOBS)) | frozenset(assumed),
        **knobs,
    )


_HOSTAPD_26 = _ap(
    _WPA_SUPPLICANT_26,
    "hostapd-2.6",
    "hostapd 2.6: reinstalls the PTK on every FT Reassociation Request (CVE-2017-13082, fixed by "
    "0e3bd7ac6), reuses the ANonce on PTK rekey (fixed by 0adc9b28b), delayed GTK install, accepts any "
    "of the last 4 replay counters, 4 tries at 100 ms / 500 ms then 1 s. Client knobs: the 2.6 "
    "supplicant of the same release.",
    ft_reinstalls_ptk_on_reassoc_replay=True,
    fresh_anonce_on_rekey=False,
    gtk_install=GtkInstall.DELAYED,
    accepts_pending_replay_counters=True,
)
_HOSTAPD_27 = _ap(
    _PATCHED,
    "hostapd-2.7",
    "hostapd 2.7: every 2017 fix landed (git describe --contains of each commit gives hostap_2_7 [3.1]); "
    "deauthentication reason after the retry limit assumed unchanged from 2.6.",
    ft_reinstalls_ptk_on_reassoc_replay=False,
    fresh_anonce_on_rekey=True,
    gtk_install=GtkInstall.DELAYED,
    accepts_pending_replay_counters=True,
    assumed=("deauth_reason",),
)

PRESETS: Mapping[str, Profile] = MappingProxyType(
    {
        p.name: p
        for p in (
            _STANDARD,
            _PATCHED,
            _WPA_SUPPLICANT_23,
            _WPA_SUPPLICANT_24,
            _WPA_SUPPLICANT_25,
            _WPA_SUPPLICANT_26,
            _ANDROID_601,
            _OSX_1095,
            _MACOS_1012,
            _IOS_1031,
            _WINDOWS_7,
            _WINDOWS_10,
            _OPENBSD_RUM,
            _OPENBSD_IWN,
            _MEDIATEK,
            _HOSTAPD_26,
            _HOSTAPD_27,
        )
    }
)
"""The named presets, in the order of the issue."""


def get_profile(name: str) -> Profile:
    """The preset called ``name``; InputError listing the valid names otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise InputError(f"unknown profile {name!r}; valid profiles: {', '.join(PRESETS)}") from None
