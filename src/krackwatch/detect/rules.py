"""The detectors' registry: one :class:`Rule` per detector, with its metadata.

Each rule states its CVEs, default severity and confidence, the benign explanations an analyst must weigh
(Kismet switched its nonce-reuse alerts off by default because it could not tell a retransmission from a
reinstallation; every rule here names the harmless readings and each finding says which it ruled out), and
whether it runs by default. CVE meanings: research/protocol.md 2.4; detector facts: 4.1-4.5.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from krackwatch.detect.findings import Confidence, RuleKind, Severity
from krackwatch.errors import InputError

__all__ = ["RULES", "Rule", "cve", "select_rules"]


def cve(n: int) -> str:
    return f"CVE-2017-{n}"


_PAIRWISE = (cve(13077), cve(13082), cve(13086))


@dataclass(frozen=True, slots=True)
class Rule:
    """A detector: what it judges and how to read its findings."""

    id: str
    title: str
    cves: tuple[str, ...]
    kind: RuleKind
    severity: Severity
    confidence: Confidence  # of a vulnerable verdict backed by the rule's usual evidence
    description: str
    benign: tuple[str, ...]
    default_on: bool = True
    depends_on: tuple[str, ...] = ()  # preflight checks whose failure makes the verdict inconclusive


_RETRANSMISSION = ("a MAC retransmission: the same MPDU again, Retry bit set, same sequence number, "
                   "identical ciphertext, shortly after the original")
_DUPLICATE = ("the same transmission captured twice (by two interfaces, or relayed on another channel "
              "moments later)")
_REKEY = ("a new key: a PTK rekey or a new association whose handshake is not in the capture or travelled "
          "encrypted (invisible without the passphrase)")
_BIT_ERROR = "a bit error in a frame whose FCS was not captured"

_ALL = (
    Rule(
        "pairwise-nonce-reuse",
        "Pairwise PN (nonce) reuse under one key",
        _PAIRWISE,
        RuleKind.REINSTALLATION,
        Severity.HIGH,
        Confidence.HIGH,
        "A transmitter sends a unicast frame with a PN at or below one it already used under the same key "
        "(tracked per transmitter, receiver, key id, key epoch and TID). With CCMP/GCMP/TKIP the keystream "
        "repeats, so the frames can be decrypted (and, for TKIP and GCMP, forged). Given the key, both frames "
        "are decrypted and their plaintexts XOR to the XOR of their ciphertexts.",
        (_RETRANSMISSION, _DUPLICATE, _REKEY, _BIT_ERROR,
         "a third party replaying a captured frame (identical ciphertext long after the original)"),
        depends_on=("hardware_decryption", "fcs"),
    ),
    Rule(
        "ptk-reinstall-4way",
        "Client reinstalls the PTK on a repeated message 3 (4-way handshake)",
        (cve(13077),),
        RuleKind.REINSTALLATION,
        Severity.HIGH,
        Confidence.HIGH,
        "After the AP repeats message 3 of the 4-way handshake with the same ANonce (a natural "
        "retransmission or an attacker's), a vulnerable client installs the same PTK again and its packet "
        "numbers restart; a patched client keeps counting. Passive fingerprinting: no attack is needed when "
        "the AP retransmits message 3 on its own.",
        (_REKEY, "the client never received the repeated message 3 (no message 4 answers it)",
         _RETRANSMISSION),
        depends_on=("hardware_decryption", "fcs", "handshakes"),
    ),
    Rule(
        "zero-tk",
        "All-zero temporal key in use",
        (cve(13077),),
        RuleKind.REINSTALLATION,
        Severity.CRITICAL,
        Confidence.HIGH,
        "A unicast frame authenticates under an all-zero TK (wpa_supplicant 2.4/2.5 and Android 6 after a "
        "repeated message 3; 2.6 after a forged message 1). Tried on frames no known key decrypts, without "
        "any passphrase. Anyone can decrypt and forge that traffic.",
        ("a 64-bit (CCMP-128) MIC collision: negligible",),
    ),
    Rule(
        "gtk-reinstall",
        "Group key (GTK) re-delivered with a Key RSC going back; replayed broadcasts accepted",
        (cve(13078), cve(13080)),
        RuleKind.REINSTALLATION,
        Severity.MEDIUM,
        Confidence.MEDIUM,
        "Message 3 or group message 1 hands a client the GTK already in use with a Key RSC below packet "
        "numbers the AP has since sent under it; a vulnerable client reinstalls it, resets its replay "
        "counter and accepts replayed broadcast frames. The verdict needs the client's reaction: it answers "
        "a replayed broadcast (an ARP request for its address) that it had answered before.",
        ("the AP retransmitted the message because the client's reply was lost (the RSC is then current)",
         "the client answered a new, not a replayed, broadcast", _DUPLICATE),
        depends_on=("fcs",),
    ),
    Rule(
        "group-replay",
        "Group-addressed frames replayed or group PN reused",
        (cve(13078), cve(13080)),
        RuleKind.ATTACK,
        Severity.MEDIUM,
        Confidence.HIGH,
        "A group-addressed data frame appears again with a PN at or below one the AP already used under the "
        "same group key: a replay of a captured broadcast (identical ciphertext) is the second half of a "
        "group key reinstallation attack; a different ciphertext at a used PN is group keystream reuse by "
        "the AP.",
        ("the same transmission captured twice (two interfaces on one channel)", _REKEY, _BIT_ERROR),
        depends_on=("fcs",),
    ),
    Rule(
        "igtk-reinstall",
        "Integrity group key (IGTK): IPN going back, replayed BIP frames",
        (cve(13079), cve(13081)),
        RuleKind.ATTACK,
        Severity.MEDIUM,
        Confidence.MEDIUM,
        "A BIP-protected group-addressed management frame repeats an IPN already used, or message 3 / group "
        "message 1 re-delivers the in-use IGTK with an IPN going back. The verdict about a client needs its "
        "reaction: a replayed group-addressed Radio Measurement Request (a robust Action frame every associated "
        "client answers, 802.11-2020 9.6.6) answered with a second Radio Measurement Report carrying the "
        "request's dialog token within the request's report window means it accepted the replay; no report "
        "while it answers genuine requests means it dropped it. Reports are read with the passphrase (or under "
        "an all-zero TK).",
        ("the same transmission captured twice", "a new IGTK whose delivery was not captured",
         "the report answers the original request, not the replay"),
    ),
    Rule(
        "ft-reassoc-replay",
        "AP reinstalls the PTK on a replayed FT Reassociation Request",
        (cve(13082),),
        RuleKind.REINSTALLATION,
        Severity.HIGH,
        Confidence.HIGH,
        "A Reassociation Request with the same FTE (ANonce, SNonce, MIC) arrives again with no FT "
        "Authentication in between; a vulnerable AP installs the PTK again and its packet numbers to the "
        "client restart (hostapd before 2.7 also restarts its sequence numbers and resends identical "
        "frames); a patched AP keeps counting.",
        ("a MAC retransmission of the Reassociation Request (Retry set, same sequence number)", _REKEY),
        depends_on=("hardware_decryption", "fcs"),
    ),
    Rule(
        "tptk-attack",
        "Forged message 1 between two message 3 (TPTK attack)",
        (cve(13077),),
        RuleKind.ATTACK,
        Severity.HIGH,
        Confidence.HIGH,
        "Message 1 arrives after message 3 and message 3 is then repeated with its old ANonce: the "
        "krackattacks `--tptk` / `--tptk-rand` pattern that makes wpa_supplicant 2.6 install an all-zero TK. "
        "A genuine authenticator never gives two EAPOL-Key frames the same replay counter; the forged "
        "message 1 usually shares the repeated message 3's.",
        (("a PTK rekey by an AP that reuses its ANonce (hostapd before 2.7): message 1 then has a replay "
          "counter below the next message 3's, and message 3 verifies under the new PTK"),),
        depends_on=("handshakes",),
    ),
    Rule(
        "msg4-blocked",
        "Message 4 never reaches the AP while message 3 repeats",
        (cve(13077), cve(13078)),
        RuleKind.ATTACK,
        Severity.MEDIUM,
        Confidence.MEDIUM,
        "The client answers message 3 with message 4, yet the AP keeps retransmitting message 3: a "
        "man-in-the-middle blocks message 4 to trigger reinstallations. Strongest when message 4 appears only "
        "on a channel other than the AP's.",
        ("message 4 was lost on the air (one retransmission is routine)",),
    ),
    Rule(
        "bssid-clone",
        "BSSID cloned on another channel",
        (cve(13077), cve(13078), cve(13080)),
        RuleKind.ATTACK,
        Severity.HIGH,
        Confidence.HIGH,
        "Beacons of one BSSID announce different channels (DS Parameter Set), or a beacon is received on a "
        "channel far from the one it announces: the channel-based man-in-the-middle of the KRACK attacks "
        "clones the AP on a rogue channel.",
        ("adjacent-channel reception in 2.4 GHz (a beacon heard one or two channels away)",
         "the AP switched channels (DFS), announced by CSA first"),
    ),
    Rule(
        "csa-beacons",
        "Channel Switch Announcements",
        (cve(13077), cve(13078), cve(13080)),
        RuleKind.ATTACK,
        Severity.LOW,
        Confidence.LOW,
        "Beacons or action frames announce a channel switch. Attackers send them (a pair with count 2 then "
        "1) to lure clients to their rogue channel; APs send them legitimately for DFS.",
        ("a genuine channel switch by the AP (DFS radar detection, operator action)",),
    ),
    Rule(
        "msg3-retransmission",
        "Message 3 retransmitted (reinstallation trigger)",
        (cve(13077), cve(13078)),
        RuleKind.ATTACK,
        Severity.INFO,
        Confidence.LOW,
        "The AP sent message 3 again with the same ANonce after the client had installed the PTK. Routine "
        "when message 4 is lost, and the trigger every 4-way reinstallation needs; off by default (it is "
        "what Kismet's NONCEREUSE alert flagged); ptk-reinstall-4way judges the client's reaction.",
        ("message 4 was lost on the air",),
        default_on=False,
    ),
    Rule(
        "unicast-replay",
        "Protected unicast frames replayed",
        (cve(13077), cve(13082)),
        RuleKind.ATTACK,
        Severity.MEDIUM,
        Confidence.MEDIUM,
        "A protected unicast frame appears again byte for byte (same PN, sequence number and ciphertext) with "
        "the Retry bit clear or long after the original and no reinstallation trigger around it: someone "
        "replays captured frames, which a receiver accepts once its key has been reinstalled.",
        (_RETRANSMISSION, _DUPLICATE,
         "a transmitter that reinstalled its key resending the same plaintext (judged by the trigger rules)"),
    ),
    Rule(
        "weak-wep",
        "WEP in use",
        (),
        RuleKind.CONFIGURATION,
        Severity.HIGH,
        Confidence.HIGH,
        "WEP (no replay protection, keys recoverable from traffic) is announced or used.",
        ("an isolated legacy network kept on purpose (still broken)",),
    ),
    Rule(
        "weak-tkip",
        "TKIP in use",
        (cve(13077), cve(13078)),
        RuleKind.CONFIGURATION,
        Severity.MEDIUM,
        Confidence.HIGH,
        "TKIP is offered as pairwise or group cipher. Under nonce reuse TKIP leaks the Michael key, so an "
        "attacker can forge frames as well as decrypt them.",
        ("TKIP offered only as group cipher for old clients (still affects broadcast traffic)",),
    ),
    Rule(
        "weak-wpa1",
        "WPA (version 1) in use",
        (),
        RuleKind.CONFIGURATION,
        Severity.MEDIUM,
        Confidence.HIGH,
        "The WPA IE (WPA1) is announced; WPA1 implies TKIP support in practice and is deprecated.",
        ("mixed WPA/WPA2 mode where every client uses WPA2",),
    ),
    Rule(
        "ft-enabled",
        "802.11r Fast BSS Transition enabled",
        (cve(13082),),
        RuleKind.CONFIGURATION,
        Severity.LOW,
        Confidence.LOW,
        "FT is announced (MDE or an FT AKM). An AP whose FT implementation predates the 2017 fixes reinstalls "
        "the PTK on a replayed Reassociation Request; the capture alone cannot tell its patch level.",
        ("the AP runs a fixed FT implementation (hostapd 2.7 or later, vendor fix)",),
    ),
)

RULES: Mapping[str, Rule] = MappingProxyType({r.id: r for r in _ALL})
"""Every rule, by id, in the order findings are reported."""


def select_rules(enable: Iterable[str] = (), disable: Iterable[str] = ()) -> frozenset[str]:
    """The rule ids to run: the default-on ones, plus ``enable``, minus ``disable`` ("all" names every rule).

    Raises InputError for an id that is not a rule.
    """
    enable, disable = list(enable), list(disable)
    for name in (*enable, *disable):
        if name != "all" and name not in RULES:
            raise InputError(f"unknown rule {name!r}; rules: {', '.join(RULES)}")
    on = {r.id for r in _ALL if r.default_on}
    on |= set(RULES) if "all" in enable else set(enable)
    on -= set(RULES) if "all" in disable else set(disable)
    return frozenset(on)
