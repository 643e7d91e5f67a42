"""Every frame of every real capture in tests/data/captures decodes and re-encodes byte-exact:
MAC header and body, management bodies, EAPOL-Key frames and CCMP/TKIP headers. Frames that do not
decode must be exactly the ones whose FCS is bad (or the one frame tshark also calls malformed).

Truth: the captures' MANIFEST.tsv (SSID, BSSID, tshark's counts of protected frames and of FCS
errors) and the standards' rules (a TKIP header's WEPSeed[1], a CCMP header's reserved bits)."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from krackwatch.crypto.suites import Cipher
from krackwatch.wire.capture import open_capture
from krackwatch.wire.dot11 import (
    FrameType,
    MgmtSubtype,
    decode_dot11,
    decode_mgmt_body,
    encode_dot11,
    header_length,
)
from krackwatch.wire.eapol import decode_eapol_key
from krackwatch.wire.errors import DecodeError
from krackwatch.wire.linklayer import FcsStatus, split_link
from krackwatch.wire.llc import LLC_SNAP_EAPOL
from krackwatch.wire.security import CcmpHeader, TkipHeader, WepHeader, has_ext_iv

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"
MANIFEST = {
    row["filename"]: row for row in csv.DictReader((CAPTURES / "MANIFEST.tsv").open(), delimiter="\t")
}
MALFORMED = {"wpaclean_crash.pcap"}  # a 17-byte prism record: the link layer must refuse it
FILES = sorted(name for name in MANIFEST if name not in MALFORMED)

# Frames that are not FCS-bad yet do not decode, with the reason and the offset where decoding stops.
# 210411_win10_radiotap frame 2 (interface 1, no FCS flag) ends with 8 octets after the RSNE: the
# frame's own FCS followed by 4 more octets. tshark 4.0.17 reports it "Malformed: Tag Length is longer
# than remaining payload" (Hopping Pattern Parameters tag of length 100 at that position).
KNOWN_MALFORMED = {("210411_win10_radiotap.pcapng", 2): ("element", 191)}

# From MANIFEST.tsv: tshark's count of frames with the Protected bit, and wlantest's FCS errors.
PROTECTED = {
    "wpa-Induction.pcap": 280,
    "wpa2-psk-linksys.cap": 32,
    "wpa-psk-linksys.cap": 59,
    "example-tptk-attack.pcapng": 6,
}
FCS_ERRORS = {"wpa-Induction.pcap": 13}


@dataclass
class Result:
    frames: int = 0
    protected: int = 0
    bad_fcs: set[int] = field(default_factory=set)
    failures: dict[int, DecodeError] = field(default_factory=dict)
    mgmt_bodies: int = 0
    eapol_keys: int = 0
    security_headers: Counter = field(default_factory=Counter)
    networks: dict[bytes, object] = field(default_factory=dict)  # BSSID -> NetworkInfo (beacons)
    pairwise: dict[bytes, object] = field(default_factory=dict)  # BSSID -> cipher from (Re)Assoc Req
    wep_seed_violations: list[int] = field(default_factory=list)
    ccmp_reserved_violations: list[int] = field(default_factory=list)


def _frame(rec) -> tuple[FcsStatus, bytes]:
    info = split_link(rec.linktype, rec.data)
    end = len(rec.data) - (4 if info.fcs != FcsStatus.ABSENT else 0)
    frame = rec.data[info.header_len : end]
    if info.data_pad:  # radiotap "data pad": header padded to a multiple of 4 before the body
        hl = header_length(frame)
        frame = frame[:hl] + frame[hl + (-hl % 4) :]
    return info.fcs, frame


def _check_record(rec, res: Result, protected: list) -> None:
    fcs, raw = _frame(rec)
    res.frames += 1
    if fcs == FcsStatus.BAD:
        res.bad_fcs.add(rec.number)
    frame = decode_dot11(raw)
    assert encode_dot11(frame) == raw, rec.number
    h = frame.header
    res.protected += h.protected
    if h.protected:
        if frame.body:
            protected.append((rec.number, h, frame.body))
        return
    if h.type is FrameType.MGMT:
        body = decode_mgmt_body(h.subtype, frame.body)
        assert body.encode() == frame.body, rec.number
        res.mgmt_bodies += 1
        if h.subtype in (MgmtSubtype.BEACON, MgmtSubtype.PROBE_RESP):
            res.networks.setdefault(h.bssid, body.network)
        elif h.subtype in (MgmtSubtype.ASSOC_REQ, MgmtSubtype.REASSOC_REQ):
            ciphers = body.network.pairwise_ciphers
            if len(ciphers) == 1:
                res.pairwise[h.bssid] = ciphers[0]
    elif h.type is FrameType.DATA and frame.body.startswith(LLC_SNAP_EAPOL):
        key = decode_eapol_key(frame.body[8:])
        assert key.encode() == frame.body[8:], rec.number
        res.eapol_keys += 1


def _cipher_of(res: Result, h) -> Cipher | int | None:
    """The cipher protecting a frame: group cipher for group-addressed frames from the AP, else the
    pairwise cipher the STA chose in its (Re)Association Request (or the only one offered)."""
    net = res.networks.get(h.bssid)
    if net is None:
        return None
    if h.from_ds and h.addr1[0] & 1:
        cipher = net.group_cipher
    else:
        cipher = res.pairwise.get(h.bssid)
        if cipher is None and len(net.pairwise_ciphers) == 1:
            cipher = net.pairwise_ciphers[0]
    return cipher.canonical if isinstance(cipher, Cipher) else cipher


def _check_protected(res: Result, number: int, h, body: bytes) -> None:
    if not has_ext_iv(body):
        wep = WepHeader.decode(body)
        assert wep.encode() == body[:4]
        res.security_headers["WEP"] += 1
        return
    ccmp = CcmpHeader.decode(body)
    tkip = TkipHeader.decode(body)
    assert ccmp.encode() == body[:8] == tkip.encode(), number
    cipher = _cipher_of(res, h)
    if cipher == Cipher.TKIP:
        res.security_headers["TKIP"] += 1
        if not tkip.wep_seed_valid:
            res.wep_seed_violations.append(number)
    elif cipher in (Cipher.CCMP128, Cipher.CCMP256, Cipher.GCMP128, Cipher.GCMP256):
        res.security_headers["CCMP"] += 1
        if ccmp.reserved:
            res.ccmp_reserved_violations.append(number)
    else:
        res.security_headers["unknown"] += 1


def _run(name: str) -> Result:
    res = Result()
    protected: list = []
    with open_capture(CAPTURES / name) as reader:
        for rec in reader:
            try:
                _check_record(rec, res, protected)
            except DecodeError as exc:
                res.failures[rec.number] = exc
        assert reader.error is None
    for number, h, body in protected:
        if number not in res.bad_fcs:
            _check_protected(res, number, h, body)
    return res


_RESULTS: dict[str, Result] = {}


def _result(name: str) -> Result:
    if name not in _RESULTS:
        _RESULTS[name] = _run(name)
    return _RESULTS[name]


@pytest.mark.parametrize("name", FILES)
def test_every_frame_round_trips_or_is_bad_fcs(name):
    res = _result(name)
    assert res.frames > 0
    unexplained = {
        n: exc for n, exc in res.failures.items() if n not in res.bad_fcs and (name, n) not in KNOWN_MALFORMED
    }
    assert unexplained == {}
    for (file, number), (what, offset) in KNOWN_MALFORMED.items():
        if file == name:
            exc = res.failures[number]
            assert (exc.what, exc.offset) == (what, offset)


def test_bad_fcs_frames_are_the_ones_that_fail_in_wpa_induction():
    res = _result("wpa-Induction.pcap")
    assert len(res.bad_fcs) == FCS_ERRORS["wpa-Induction.pcap"]
    failed = set(res.failures)
    assert failed and failed <= res.bad_fcs
    # at least the frames whose protocol version bits are corrupted cannot be read as 802.11 at all
    assert any("protocol version" in str(e) for e in res.failures.values())


@pytest.mark.parametrize("name", sorted(PROTECTED))
def test_protected_frame_counts_match_tshark(name):
    assert _result(name).protected == PROTECTED[name]


@pytest.mark.parametrize("name", FILES)
def test_networks_match_the_manifest(name):
    row = MANIFEST[name]
    res = _result(name)
    bssid = bytes.fromhex(row["bssid"].replace(":", ""))
    assert bssid in res.networks
    expected_ssid = b"" if row["ssid"].startswith("(wildcard") else row["ssid"].encode()
    assert res.networks[bssid].ssid == expected_ssid


def test_security_labels_of_the_known_networks():
    assert _result("wpa-psk-linksys.cap").networks[bytes.fromhex("000b86c2a485")].security == "WPA"
    assert _result("wpa2-psk-linksys.cap").networks[bytes.fromhex("000b86c2a485")].security == "WPA2"
    induction = _result("wpa-Induction.pcap").networks[bytes.fromhex("000c4182b255")]
    # MANIFEST: RSN and WPA IEs, pairwise CCMP, group TKIP
    assert induction.security == "WPA/WPA2" and induction.group_cipher == Cipher.TKIP
    assert Cipher.CCMP128 in induction.pairwise_ciphers


@pytest.mark.parametrize("name", sorted(PROTECTED))
def test_security_headers_obey_their_cipher_rules(name):
    res = _result(name)
    assert res.security_headers["unknown"] == 0 and res.security_headers["WEP"] == 0
    assert sum(res.security_headers.values()) > 0
    assert res.wep_seed_violations == [] and res.ccmp_reserved_violations == []


def test_cipher_mix_per_capture():
    # wpa-psk-linksys is TKIP only; wpa2-psk-linksys CCMP only; wpa-Induction CCMP pairwise with
    # TKIP group traffic (wlantest: 73 GTK(TKIP) frames decrypted).
    assert set(_result("wpa-psk-linksys.cap").security_headers) == {"TKIP"}
    assert set(_result("wpa2-psk-linksys.cap").security_headers) == {"CCMP"}
    induction = _result("wpa-Induction.pcap").security_headers
    assert induction["CCMP"] > 0 and induction["TKIP"] >= 73


def test_every_cleartext_eapol_key_and_management_body_was_checked():
    assert _result("wpa2-psk-linksys.cap").eapol_keys == 12
    assert _result("example-tptk-attack.pcapng").eapol_keys == 6
    assert all(_result(name).mgmt_bodies > 0 for name in FILES)
