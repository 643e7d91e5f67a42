"""Scenarios: which attacks a name runs, against which side of a profile, and the verdict.

Verdict rule (documented in ``krackwatch lab list``):

* ``vulnerable``: an attempt concretely succeeded in the run: the victim's plaintext was recovered
  (keystream reuse with known plaintext, or an all-zero TK; the HTTP login password is reported when
  it is among it), or the victim accepted a frame it had already accepted (a replay), or it accepted
  a forged frame.
* ``not_vulnerable``: every attempt ran and none of the above happened, including when the profile
  refused the trigger (a client that rejects retransmitted message 3s is not vulnerable to the 4-way
  attacks, as Table 1 of the KRACK paper marks it).
* ``not_applicable``: the scenario has no target in the profile: a client-side attack against a
  profile that only models an AP, or the AP-side FT attack against a client-only profile.

The attacker never reads the profile: it tries the variants in the order an attacker would (the
plaintext attack first, then the races) and stops at the first that works.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from krackwatch.crypto import AKM, Cipher
from krackwatch.errors import InputError
from krackwatch.lab.attacks import (
    AP2_MAC,
    VICTIM_MAC,
    BroadcastReplay,
    EncryptedRekeyRace,
    FtLab,
    FtReassocReplay,
    GroupKeyAttack,
    Lab,
    Outcome,
    PlaintextRetransmission,
    QuickPlaintextRace,
)
from krackwatch.lab.sim import AirFrame
from krackwatch.lab.world import NetConfig
from krackwatch.protocol.profile import PRESETS, GtkInstall, Profile, Role, get_profile

__all__ = [
    "CIPHERS",
    "SCENARIOS",
    "MatrixRow",
    "RunResult",
    "Scenario",
    "Verdict",
    "run_matrix",
    "run_scenario",
]

REFERENCE_AP = "hostapd-2.7"
REFERENCE_CLIENT = "patched"
CIPHERS: Mapping[str, Cipher] = MappingProxyType(
    {"ccmp": Cipher.CCMP128, "tkip": Cipher.TKIP, "gcmp": Cipher.GCMP128}
)


class Verdict(StrEnum):
    VULNERABLE = "vulnerable"
    NOT_VULNERABLE = "not_vulnerable"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attack variant as it ran: the attacker's account and the world it ran in."""

    outcome: Outcome
    frames: tuple[AirFrame, ...]
    truth: dict
    victim_sent: tuple[bytes, ...] = ()  # MSDUs the victim's host sent (ground truth, when recorded)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    cves: tuple[str, ...]
    target: Role  # CLIENT: the profile is the victim station; AP: the profile is the attacked AP
    summary: str
    attempts: Callable[[Profile, int, NetConfig, bool], Iterable[Attempt]] = field(repr=False, compare=False)
    stop_at_first_success: bool = True


def _client_world(profile: Profile, seed: int, net: NetConfig, record: bool, *, ap: Profile | None = None,
                  **kw) -> Lab:
    return Lab(seed=seed, net=net, victim_profile=profile, ap_profile=ap or get_profile(REFERENCE_AP),
               record=record, **kw)


def _truth_client(lab: Lab) -> dict:
    keys = lab.victim.trace.keys
    return {
        "victim_password": lab.password,
        "victim_key_installs": len(keys),
        "victim_reinstalls": sum(1 for k in keys if k.reinstall),
        "victim_zero_tk_installs": sum(1 for k in keys if k.zero),
        "victim_drops": [d for _, d in lab.victim.trace.drops][-5:],
    }


def _run(lab, attack) -> Attempt:
    outcome = attack.run()
    truth = _truth_client(lab) if isinstance(lab, Lab) else {
        "victim_password": lab.password,
        "ap_key_installs": len(lab.ap2.trace.keys),
        "ap_reinstalls": sum(1 for k in lab.ap2.trace.keys if k.reinstall),
    }
    return Attempt(outcome, tuple(lab.world.air.frames), truth, tuple(m for _, m in lab.victim.sent))


def _fourway(tptk: str | None):
    def attempts(profile: Profile, seed: int, net: NetConfig, record: bool) -> Iterable[Attempt]:
        lab = _client_world(profile, seed, net, record)
        yield _run(lab, PlaintextRetransmission(lab, tptk=tptk))
        lab = _client_world(profile, seed, net, record)
        yield _run(lab, QuickPlaintextRace(lab, tptk=tptk))
        if tptk is None:  # a forged msg 1 cannot be encrypted under a PTK the attacker does not know
            lab = _client_world(profile, seed, net, record, ptk_rekey_after=1.0)
            yield _run(lab, EncryptedRekeyRace(lab))

    return attempts


def _group(kind: str):
    def attempts(profile: Profile, seed: int, net: NetConfig, record: bool) -> Iterable[Attempt]:
        if kind == "group-mgmt":
            net = replace(net, pmf=True)
        for mode in (GtkInstall.IMMEDIATE, GtkInstall.DELAYED):
            ap = replace(get_profile(REFERENCE_AP), gtk_install=mode)
            lab = _client_world(profile, seed, net, record, ap=ap, gtk_rekey_after=0.8)
            label = f", AP installs the new group key {'immediately' if mode is GtkInstall.IMMEDIATE else 'delayed'}"
            yield _run(lab, GroupKeyAttack(lab, replay_kind=kind, label=label))
        if kind == "group-mgmt":
            lab = _client_world(profile, seed, net, record)
            # Replayed right after msg 3/4: the AP's next BIP frame would otherwise reach the victim first.
            attack = PlaintextRetransmission(lab, replay_kinds=("group-mgmt",), replay_after=0.05)
            attack.outcome.variant = "4-way handshake (IGTK in the retransmitted msg 3/4)"
            attempt = _run(lab, attack)
            o = attempt.outcome
            # Only the IGTK counts here: keep the BIP replay result, drop what the PTK gave away.
            igtk = Outcome(o.variant, evidence=list(o.evidence), replays_sent=o.replays_sent,
                           replays_accepted=o.replays_accepted,
                           achieved=[a for a in o.achieved if "group-addressed" in a])
            yield replace(attempt, outcome=igtk)

    return attempts


def _ft(profile: Profile, seed: int, net: NetConfig, record: bool) -> Iterable[Attempt]:
    lab = FtLab(seed=seed, net=replace(net, akm=AKM.FT_PSK), ap_profile=profile,
                client_profile=get_profile(REFERENCE_CLIENT), record=record)
    yield _run(lab, FtReassocReplay(lab))


def _broadcast(profile: Profile, seed: int, net: NetConfig, record: bool) -> Iterable[Attempt]:
    lab = _client_world(profile, seed, net, record)
    yield _run(lab, BroadcastReplay(lab))


SCENARIOS: Mapping[str, Scenario] = MappingProxyType({s.name: s for s in (
    Scenario("fourway", "4-way handshake: retransmitted message 3", ("CVE-2017-13077", "CVE-2017-13078"),
             Role.CLIENT,
             "Channel MitM; the AP's retransmitted msg 3/4 reaches the victim as a plaintext retransmission, in "
             "the quick plaintext race, or in the encrypted race of a PTK rekey (the AP rekeys the PTK 1 s after "
             "the victim connected, as hostapd's wpa_ptk_rekey does) (paper 3.3, 3.4).",
             _fourway(None)),
    Scenario("tptk", "4-way handshake: forged message 1 (same ANonce) before message 3", ("CVE-2017-13077",),
             Role.CLIENT,
             "As fourway, with a forged msg 1/4 carrying the original ANonce right before the retransmitted msg "
             "3/4 (krackattacks-scripts --tptk; the wpa_supplicant 2.6 all-zero TK).", _fourway("same")),
    Scenario("tptk-rand", "4-way handshake: forged message 1 (random ANonce) before message 3",
             ("CVE-2017-13077",), Role.CLIENT,
             "As tptk with a forged msg 1/4 carrying a random ANonce, then one with the original ANonce so that "
             "msg 3/4 still matches (krackattacks-scripts --tptk-rand).", _fourway("rand")),
    Scenario("group", "Group key handshake: retransmitted group message 1", ("CVE-2017-13080",), Role.CLIENT,
             "Channel MitM during a GTK rekey (the AP rekeys 0.8 s after the victim connected, as hostapd's "
             "wpa_group_rekey does); against an AP that installs the new GTK immediately and one that installs it "
             "once every station answered (paper 4.2, 4.3).", _group("group-data"),
             stop_at_first_success=False),
    Scenario("igtk", "IGTK reinstallation (PMF)", ("CVE-2017-13079", "CVE-2017-13081"), Role.CLIENT,
             "PMF network; the IGTK of a retransmitted group msg 1/2 (both AP install modes) and of a "
             "retransmitted msg 3/4; the replayed frame is the AP's BIP-protected broadcast Radio Measurement "
             "Request, which a client that accepts it answers again (a visible Radio Measurement Report).",
             _group("group-mgmt"), stop_at_first_success=False),
    Scenario("ft", "FT: replayed Reassociation Request against the AP", ("CVE-2017-13082",), Role.AP,
             "FT over the air between two APs of one mobility domain; the attacker replays the client's "
             "Reassociation Request every second (krack-ft-test.py) and a frame of the client after each.",
             _ft),
    Scenario("replay-broadcast", "Baseline: replayed broadcast without reinstallation", (), Role.CLIENT,
             "No handshake is touched: a recorded broadcast frame is replayed (krackattacks-scripts "
             "--replay-broadcast).", _broadcast),
)})
"""The scenarios, in the order ``krackwatch lab list`` shows them."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """Everything a scenario run produced: the verdict and what the attacker achieved."""

    scenario: Scenario
    profile: Profile
    seed: int
    verdict: Verdict
    reason: str
    net: NetConfig
    attempts: tuple[Attempt, ...]
    decisive: Attempt | None  # the successful attempt, else the last one
    elapsed: float

    @property
    def frames(self) -> tuple[AirFrame, ...]:
        return self.decisive.frames if self.decisive is not None else ()

    def to_dict(self) -> dict:
        o = self.decisive.outcome if self.decisive is not None else None
        recovered: dict = {}
        if o is not None:
            recovered = {
                "http_password": o.password,
                "decrypted_frames": o.decrypted_frames,
                "keystream_reuse_frames": o.keystream_reuse,
                "all_zero_tk": o.zero_tk,
                "replayed_sent": o.replays_sent,
                "replayed_accepted": o.replays_accepted,
                "forged_sent": o.forged_sent,
                "forged_accepted": o.forged_accepted,
                "keys": dict(o.recovered_keys),
                "plaintext_samples": list(o.samples),
            }
        return {
            "scenario": self.scenario.name,
            "profile": self.profile.name,
            "seed": self.seed,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "cves": list(self.scenario.cves),
            "ssid": self.net.ssid.decode("utf-8", "replace"),
            "passphrase": self.net.passphrase,
            "cipher": self.net.pairwise.label,
            "ap": (AP2_MAC if self.scenario.target is Role.AP else self.net.ap_mac).hex(":"),
            "client": (VICTIM_MAC if self.scenario.target is Role.AP else self.net.victim_mac).hex(":"),
            "victim": (AP2_MAC if self.scenario.target is Role.AP else self.net.victim_mac).hex(":"),
            "variant": o.variant if o is not None else None,
            "achieved": list(o.achieved) if o is not None else [],
            "evidence": list(o.evidence) if o is not None else [],
            "recovered": recovered,
            "attempts": [
                {"variant": a.outcome.variant, "success": a.outcome.success, "achieved": list(a.outcome.achieved),
                 "evidence": list(a.outcome.evidence)}
                for a in self.attempts
            ],
            "ground_truth": self.decisive.truth if self.decisive is not None else {},
            "frames": len(self.frames),
        }


def _net(cipher: Cipher | str) -> NetConfig:
    if isinstance(cipher, str):
        try:
            cipher = CIPHERS[cipher.lower()]
        except KeyError:
            raise InputError(f"unknown cipher {cipher!r}; valid: {', '.join(CIPHERS)}") from None
    return NetConfig(pairwise=cipher, group=cipher)


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise InputError(f"unknown scenario {name!r}; valid scenarios: {', '.join(SCENARIOS)}") from None


def applicable(scenario: Scenario, profile: Profile) -> bool:
    return profile.role is Role.BOTH or profile.role is scenario.target


def run_scenario(scenario: str | Scenario, profile: str | Profile, *, seed: int = 1,
                 cipher: Cipher | str = Cipher.CCMP128, record: bool = True,
                 ap_mac: bytes | None = None, client_mac: bytes | None = None) -> RunResult:
    """Run one scenario against one profile (see the module docstring for the verdict rule).

    ``ap_mac`` / ``client_mac`` replace the default (locally administered) addresses of the AP and the
    client of the client-side scenarios, e.g. to stage a capture with a real device's address.
    """
    sc = get_scenario(scenario) if isinstance(scenario, str) else scenario
    prof = get_profile(profile) if isinstance(profile, str) else profile
    net = _net(cipher)
    if ap_mac is not None:
        net = replace(net, ap_mac=bytes(ap_mac))
    if client_mac is not None:
        net = replace(net, victim_mac=bytes(client_mac))
    t0 = time.perf_counter()
    if not applicable(sc, prof):
        side = "an access point" if sc.target is Role.AP else "a client"
        return RunResult(sc, prof, seed, Verdict.NOT_APPLICABLE,
                         f"{prof.name} models {prof.role.name.lower()} behaviour only; {sc.name} attacks {side}",
                         net, (), None, time.perf_counter() - t0)
    attempts: list[Attempt] = []
    success: Attempt | None = None
    for attempt in sc.attempts(prof, seed, net, record):
        attempts.append(attempt)
        if attempt.outcome.success and success is None:
            success = attempt
            if sc.stop_at_first_success:
                break
    if success is not None:
        verdict, reason = Verdict.VULNERABLE, f"the attack succeeded ({success.outcome.variant})"
    else:
        verdict = Verdict.NOT_VULNERABLE
        reason = "no attempt recovered plaintext or had a replayed or forged frame accepted (" + \
            "; ".join(a.outcome.variant for a in attempts) + ")"
    return RunResult(sc, prof, seed, verdict, reason, net, tuple(attempts), success or (attempts[-1] if attempts
                     else None), time.perf_counter() - t0)


@dataclass(frozen=True, slots=True)
class MatrixRow:
    profile: str
    scenario: str
    verdict: Verdict

    def to_dict(self) -> dict:
        return {"profile": self.profile, "scenario": self.scenario, "verdict": self.verdict.value}


def run_matrix(*, profiles: Iterable[str] | None = None, scenarios: Iterable[str] | None = None,
               seed: int = 1, progress: Callable[[str, str], None] | None = None) -> list[MatrixRow]:
    """Every scenario against every profile (no capture is kept)."""
    rows = []
    for p in (profiles if profiles is not None else PRESETS):
        for s in (scenarios if scenarios is not None else SCENARIOS):
            if progress is not None:
                progress(p, s)
            r = run_scenario(s, p, seed=seed, record=False)
            rows.append(MatrixRow(r.profile.name, r.scenario.name, r.verdict))
    return rows
