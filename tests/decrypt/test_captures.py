"""Decryption of the real shared captures against the peers' figures in MANIFEST.tsv.

wlantest's de-duplicated counts are the definition: unique MPDUs, a Retry copy of a frame already counted
is a duplicate, FCS-bad frames are not counted.
"""

from __future__ import annotations

import pytest
from kwtest import manifest, manifest_entry

from krackwatch.decrypt import keys
from krackwatch.decrypt.run import analyse_capture

WITH_COUNTS = [e for e in manifest() if e.passphrase and e.wlantest_counts() is not None]


@pytest.mark.parametrize("entry", WITH_COUNTS, ids=lambda e: e.filename)
def test_counts_match_wlantest(entry):
    ring = keys.KeyRing.of([keys.passphrase(entry.passphrase, entry.ssid)])
    s = analyse_capture(entry.path, ring)
    assert (s.decrypted_unicast, s.decrypted_group) == entry.expected_counts()
    wl_unicast, wl_group = entry.wlantest_counts()
    assert s.decrypted_group == wl_group
    if entry.filename != "wpa-psk-linksys.cap":  # see kwtest.ManifestEntry.expected_counts
        assert s.decrypted_unicast == wl_unicast
    assert s.frames == entry.tshark_frames()
    assert s.error is None


@pytest.mark.parametrize("entry", WITH_COUNTS, ids=lambda e: e.filename)
def test_ssid_learnt_from_beacons(entry):
    """Without --ssid the SSID comes from beacons / probe responses and the counts are the same."""
    ring = keys.KeyRing.of([keys.passphrase(entry.passphrase, None)])
    s = analyse_capture(entry.path, ring)
    assert (s.decrypted_unicast, s.decrypted_group) == entry.expected_counts()


@pytest.mark.parametrize("name", ["wpa2.eapol.cap", "testm1m2m3.pcap", "wpa2-psk-linksys.cap", "wpa-Induction.pcap",
                                  "wpa-psk-linksys.cap", "example-tptk-attack.pcapng"])
def test_mic_verifies_under_right_passphrase(name):
    e = manifest_entry(name)
    s = analyse_capture(e.path, keys.KeyRing.of([keys.passphrase(e.passphrase, e.ssid)]))
    links = [link for link in s.links if link.bssid == e.bssid.lower()]
    assert links and all(link.mic == "verified" for link in links if link.messages.get("M2"))


@pytest.mark.parametrize("name", ["wpa2.eapol.cap", "wpa2-psk-linksys.cap", "wpa-psk-linksys.cap"])
def test_wrong_passphrase_is_reported(name):
    e = manifest_entry(name)
    s = analyse_capture(e.path, keys.KeyRing.of([keys.passphrase("not-the-passphrase", e.ssid)]))
    assert s.decrypted_unicast == 0
    assert {link.mic for link in s.links if link.messages.get("M2")} == {"wrong passphrase"}


def test_incomplete_handshake_is_not_a_wrong_passphrase():
    e = manifest_entry("test-pmkid.pcap")  # a single message 1
    s = analyse_capture(e.path, keys.KeyRing.of([keys.passphrase(e.passphrase, e.ssid)]))
    (link,) = s.links
    assert link.messages == {"M1": 1}
    assert link.mic == "incomplete handshake"


def test_handshakes_paired_per_anonce():
    """wpa2-psk-linksys holds three complete handshakes with distinct ANonces (MANIFEST)."""
    e = manifest_entry("wpa2-psk-linksys.cap")
    s = analyse_capture(e.path, None, decrypt=False)
    (link,) = [link for link in s.links if link.messages]
    assert [sorted(set(h.messages)) for h in link.handshakes] == [["M1", "M2", "M3", "M4"]] * 3
    assert len({h.anonce for h in link.handshakes}) == 3


def test_tptk_capture_messages():
    """example-tptk-attack: cleartext M1=2 M2=1 M3=2 M4=1, then M2/M4 again encrypted (MANIFEST, tshark)."""
    e = manifest_entry("example-tptk-attack.pcapng")
    s = analyse_capture(e.path, keys.KeyRing.of([keys.passphrase(e.passphrase, e.ssid)]))
    (link,) = [link for link in s.links if link.messages]
    # 2 cleartext M2/M4 + the encrypted copies decrypted under the TK, and 4 encrypted group message 1.
    assert link.messages["M1"] == 2 and link.messages["M3"] == 2
    assert link.messages["M2"] == 2 and link.messages["M4"] == 2
    assert link.messages["G1"] == 4


def test_pmk_and_tk_keys_decrypt_like_the_passphrase():
    from krackwatch.crypto.kdf import pbkdf2_psk

    e = manifest_entry("wpa2-psk-linksys.cap")
    pmk_hex = pbkdf2_psk(e.passphrase, e.ssid).hex()
    s = analyse_capture(e.path, keys.KeyRing.of([keys.parse_wireshark_key(f"wpa-psk:{pmk_hex}")]))
    assert (s.decrypted_unicast, s.decrypted_group) == e.expected_counts()
