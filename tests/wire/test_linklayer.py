"""split_link / dot11_payload: FCS decisions on real captures, Prism/AVS/PPI layouts, tshark, hypothesis."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.errors import InputError
from krackwatch.wire.capture import PcapWriter, open_capture
from krackwatch.wire.errors import DecodeError
from krackwatch.wire.linklayer import (
    FCS_MODES,
    FcsStatus,
    LinkInfo,
    LinkType,
    UnsupportedLinkType,
    channel_to_freq,
    dot11_payload,
    split_link,
)

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed (apt-get install tshark)")


def _records(name: str) -> list[tuple[int, bytes]]:
    with open_capture(CAPTURES / name) as reader:
        return [(r.linktype, r.data) for r in reader]


def _tshark(path: Path, *fields: str) -> list[list[str]]:
    cmd = [
        TSHARK,
        "-n",
        "-o",
        "wlan.check_checksum:TRUE",
        "-r",
        str(path),
        "-T",
        "fields",
        "-E",
        "separator=|",
    ]
    for f in fields:
        cmd += ["-e", f]
    return [
        line.split("|")
        for line in subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()
    ]


# ------------------------------------------------------------------------------------------ real captures
def test_induction_has_13_bad_fcs_frames() -> None:
    infos = [split_link(lt, data) for lt, data in _records("wpa-Induction.pcap")]
    assert sum(i.fcs == FcsStatus.BAD for i in infos) == 13  # MANIFEST: "13 frames with bad FCS"
    assert sum(i.fcs == FcsStatus.VALID for i in infos) == 1093 - 13
    assert {i.header_len for i in infos} == {24} and {i.freq for i in infos} == {2412}


def test_induction_fcs_modes() -> None:
    records = _records("wpa-Induction.pcap")
    auto = [split_link(lt, d).fcs for lt, d in records]
    assert [split_link(lt, d, fcs_mode="yes").fcs for lt, d in records] == auto  # the flag is set on all
    assert {split_link(lt, d, fcs_mode="no").fcs for lt, d in records} == {FcsStatus.ABSENT}
    # the driver never set the bad-FCS flag: "flag" cannot tell the 13 damaged frames apart
    assert {split_link(lt, d, fcs_mode="flag").fcs for lt, d in records} == {FcsStatus.UNCHECKED}


@needs_tshark
@pytest.mark.interop
def test_induction_bad_fcs_frames_are_the_ones_tshark_rejects() -> None:
    rows = _tshark(CAPTURES / "wpa-Induction.pcap", "frame.number", "wlan.fcs.status", "radiotap.length")
    ours = [split_link(lt, d) for lt, d in _records("wpa-Induction.pcap")]
    tshark_bad = {int(n) for n, status, _ in rows if status != "1"}  # 0 = bad, 2 = gave up on the frame
    assert {n for n, info in enumerate(ours, 1) if info.fcs == FcsStatus.BAD} == tshark_bad
    assert [info.header_len for info in ours] == [int(length) for _, _, length in rows]


@pytest.mark.parametrize(
    "name", ["wpa2-psk-linksys.cap", "wpa-psk-linksys.cap", "wpa2.eapol.cap", "test-pmkid.pcap"]
)
def test_plain_80211_captures_carry_no_fcs(name: str) -> None:
    records = _records(name)
    assert {split_link(lt, d).fcs for lt, d in records} == {FcsStatus.ABSENT}
    assert {split_link(lt, d, fcs_mode="flag").fcs for lt, d in records} == {FcsStatus.ABSENT}
    # forcing an FCS makes the CRC fail on frames that have none
    assert {split_link(lt, d, fcs_mode="yes").fcs for lt, d in records} == {FcsStatus.BAD}
    for lt, d in records:
        info, frame = dot11_payload(lt, d)
        assert info == LinkInfo(0, FcsStatus.ABSENT, None, None) and frame is d


def test_two_adapters_one_with_fcs() -> None:
    (lt0, first), (lt1, second) = _records("210411_win10_radiotap.pcapng")
    a, b = split_link(lt0, first), split_link(lt1, second)
    # the first adapter flags an FCS but writes a wrong one (tshark: "Bad checksum [should be 0xdc126408]")
    assert a.fcs == FcsStatus.BAD and b.fcs == FcsStatus.ABSENT
    assert zlib.crc32(first[a.header_len : -4]) == 0xDC126408
    assert a.freq is None and b.freq is None  # both drivers wrote channel frequency 0
    assert (a.signal_dbm, b.signal_dbm) == (0, -32)
    _, frame = dot11_payload(lt0, first)
    assert bytes(frame) == first[a.header_len : -4] and frame[0] == 0x80  # a beacon
    assert split_link(lt0, first, fcs_mode="flag").fcs == FcsStatus.UNCHECKED


@needs_tshark
@pytest.mark.interop
@pytest.mark.parametrize("name", ["testm1m2m3.pcap", "example-tptk-attack.pcapng"])
def test_radio_info_matches_tshark(name: str) -> None:
    rows = _tshark(
        CAPTURES / name, "radiotap.length", "wlan_radio.frequency", "wlan_radio.signal_dbm", "wlan.ta"
    )
    records = _records(name)
    assert len(rows) == len(records)
    for (lt, data), (length, freq, signal, _ta) in zip(records, rows, strict=True):
        info = split_link(lt, data)
        assert info.header_len == int(length)
        assert info.freq == (int(freq) if freq else None)
        assert info.signal_dbm == (int(signal) if signal else None)
        assert info.fcs == FcsStatus.ABSENT


# --------------------------------------------------------------------------------- hand-built headers
FRAME = bytes.fromhex("084200000013cefe320100146c7e408000146c7e40801000") + b"payload!"
FCS = struct.pack("<I", zlib.crc32(FRAME))


def _prism(order: str, *, channel: int = 6, rssi: int = -40, msgcode: int = 0x44, status: int = 0) -> bytes:
    # msgcode, msglen, devname[16], ten items (did, status, len, data); DIDs per the two known numberings
    header = struct.pack(order + "II", msgcode, 144) + b"wlan0".ljust(16, b"\0")
    for n in range(1, 11):
        did = (n << 16) | 0x44 if msgcode == 0x44 else (n << 12) | 0x41
        value = {3: channel, 4: rssi & 0xFFFFFFFF, 10: len(FRAME) + 4}.get(n, 0)
        header += struct.pack(order + "IHHI", did, status, 4, value)
    return header


def _avs(*, channel: int = 11, ssi: int = -55, ssi_type: int = 2, version: int = 0x80211001) -> bytes:
    # AVS capture header v1: big-endian, 64 octets
    return struct.pack(">IIQQIIIIIIiiII", version, 64, 0, 0, 4, channel, 20, 0, 0, ssi_type, ssi, -90, 0, 0)


def _ppi(
    flags: int, *, freq: int = 2437, signal: int = -50, dlt: int = 105, align: int = 0, extra: bytes = b""
) -> bytes:
    common = struct.pack("<QHHHHBBbb", 0, flags, 2, freq, 0xA0, 0, 0, signal, -90)
    fields = extra + struct.pack("<HH", 2, 20) + common
    return struct.pack("<BBHI", 0, align, 8 + len(fields), dlt) + fields


HANDMADE = {
    "prism-le": (119, _prism("<") + FRAME + FCS, LinkInfo(144, FcsStatus.VALID, 2437, -40)),
    "prism-be": (119, _prism(">") + FRAME, LinkInfo(144, FcsStatus.ABSENT, 2437, -40)),
    "prism-0x41": (
        119,
        _prism("<", msgcode=0x41, channel=40, rssi=-70) + FRAME,
        LinkInfo(144, FcsStatus.ABSENT, 5200, -70),
    ),
    "prism-no-data": (119, _prism("<", status=1) + FRAME, LinkInfo(144, FcsStatus.ABSENT, None, None)),
    "avs-in-prism": (119, _avs() + FRAME + FCS, LinkInfo(64, FcsStatus.VALID, 2462, -55)),
    "avs": (163, _avs(channel=14, ssi_type=1) + FRAME, LinkInfo(64, FcsStatus.ABSENT, 2484, None)),
    "ppi-fcs": (192, _ppi(0x1) + FRAME + FCS, LinkInfo(32, FcsStatus.VALID, 2437, -50)),
    "ppi-bad": (192, _ppi(0x1) + FRAME + b"\0\0\0\0", LinkInfo(32, FcsStatus.BAD, 2437, -50)),
    "ppi-none": (192, _ppi(0x0, signal=-128, freq=0) + FRAME, LinkInfo(32, FcsStatus.ABSENT, None, None)),
    "ppi-aligned": (
        192,
        _ppi(0x1, align=1, extra=struct.pack("<HH", 30002, 3) + b"gps\0") + FRAME + FCS,
        LinkInfo(40, FcsStatus.VALID, 2437, -50),
    ),
}


@pytest.mark.parametrize("case", sorted(HANDMADE))
def test_handmade_headers(case: str) -> None:
    linktype, data, expected = HANDMADE[case]
    info = split_link(linktype, data)
    assert info == expected
    _, frame = dot11_payload(linktype, data)
    assert bytes(frame) == FRAME


def test_flag_mode_trusts_the_header() -> None:
    data = _ppi(0x1 | 0x4) + FRAME + FCS  # FCS present and marked bad although the CRC is right
    assert split_link(LinkType.PPI, data, fcs_mode="flag").fcs == FcsStatus.BAD
    assert split_link(LinkType.PPI, data).fcs == FcsStatus.VALID  # auto: the CRC decides
    assert split_link(LinkType.PPI, _ppi(0x1) + FRAME + FCS, fcs_mode="flag").fcs == FcsStatus.UNCHECKED
    assert split_link(LinkType.PPI, _ppi(0x0) + FRAME + FCS, fcs_mode="flag").fcs == FcsStatus.ABSENT
    assert split_link(LinkType.PPI, _ppi(0x0) + FRAME + FCS).fcs == FcsStatus.VALID  # unflagged but valid


def test_ppi_wrapping_radiotap() -> None:
    radiotap = struct.pack("<BBHI", 0, 0, 9, 0x2) + b"\x10"  # Flags: FCS at end
    data = _ppi(0x0, dlt=127) + radiotap + FRAME + FCS
    assert split_link(LinkType.PPI, data) == LinkInfo(32 + 9, FcsStatus.VALID, 2437, -50)


@needs_tshark
@pytest.mark.interop
@pytest.mark.parametrize("case", sorted(HANDMADE))
def test_handmade_headers_match_tshark(case: str, tmp_path: Path) -> None:
    if case == "ppi-aligned":
        pytest.skip("tshark 4.0 does not count PPI alignment padding against pph_len and overruns the header")
    linktype, data, expected = HANDMADE[case]
    path = tmp_path / f"{case}.pcap"
    with open(path, "wb") as fh:
        PcapWriter(fh, linktype).write(10**18, data)
    ((freq, signal, ta, fcs_status),) = _tshark(
        path, "wlan_radio.frequency", "wlan_radio.signal_dbm", "wlan.ta", "wlan.fcs.status"
    )
    assert ta == "00:14:6c:7e:40:80"  # tshark found the 802.11 header where we did
    if freq:  # tshark derives no frequency from a Prism channel number
        assert int(freq) == expected.freq
    assert (int(signal) if signal else None) == expected.signal_dbm
    if fcs_status:  # only PPI tells tshark whether an FCS is present
        assert expected.fcs == (FcsStatus.VALID if fcs_status == "1" else FcsStatus.BAD)


def test_radiotap_data_pad_flag() -> None:
    data = struct.pack("<BBHI", 0, 0, 9, 0x2) + b"\x20" + FRAME
    assert split_link(LinkType.IEEE802_11_RADIOTAP, data) == LinkInfo(9, FcsStatus.ABSENT, None, None, True)


# ------------------------------------------------------------------------------------------------ errors
def test_short_prism_record_from_wpaclean_crash() -> None:
    ((linktype, data),) = _records("wpaclean_crash.pcap")
    with pytest.raises(DecodeError, match="shorter than the 144-octet Prism header"):
        split_link(linktype, data)


@pytest.mark.parametrize(
    "linktype,data,complaint",
    [
        (119, bytes(144) + FRAME, "unknown message code"),
        (163, _avs()[:6], "cannot hold"),
        (163, struct.pack(">II", 0x80211001, 4) + bytes(60), "header length"),
        (192, struct.pack("<BBHI", 1, 0, 8, 105) + FRAME, "version"),
        (192, struct.pack("<BBHI", 0, 0, 200, 105) + FRAME, "header length"),
        (192, struct.pack("<BBHIHH", 0, 0, 16, 105, 2, 4) + bytes(4) + FRAME, "not 20"),
        (192, struct.pack("<BBHIHH", 0, 0, 14, 105, 7, 9) + bytes(2) + FRAME, "runs past"),
        (127, b"\x00\x00\x40\x00" + bytes(8), "header length"),
        (127, struct.pack("<BBHI", 0, 0, 9, 0x2) + b"\x10" + b"ab", "an FCS is expected"),
    ],
)
def test_inconsistent_headers_raise_decode_error(linktype: int, data: bytes, complaint: str) -> None:
    with pytest.raises(DecodeError, match=complaint):
        split_link(linktype, data)


def test_non_80211_link_types() -> None:
    with pytest.raises(UnsupportedLinkType, match="Ethernet"):
        split_link(LinkType.ETHERNET, bytes(60))
    with pytest.raises(UnsupportedLinkType, match="link type 228"):
        split_link(228, bytes(60))
    with pytest.raises(UnsupportedLinkType, match="PPI encapsulates link type 1"):
        split_link(LinkType.PPI, _ppi(0, dlt=1) + bytes(20))
    assert issubclass(UnsupportedLinkType, InputError)
    with pytest.raises(InputError, match="fcs_mode"):
        split_link(105, FRAME, fcs_mode="maybe")


def test_channel_numbers() -> None:
    assert [channel_to_freq(c) for c in (1, 6, 13, 14, 36, 165, 0, 250)] == [
        2412,
        2437,
        2472,
        2484,
        5180,
        5825,
        None,
        None,
    ]


# -------------------------------------------------------------------------------------------- hypothesis
@settings(max_examples=200, deadline=None)
@given(st.sampled_from([105, 119, 127, 163, 192]), st.sampled_from(FCS_MODES), st.binary(max_size=200))
def test_random_bytes_give_info_or_typed_error(linktype: int, mode: str, data: bytes) -> None:
    _check(linktype, mode, data)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(HANDMADE)),
    st.sampled_from(FCS_MODES),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=4),
    st.integers(0, 400),
)
def test_damaged_handmade_headers(case: str, mode: str, flips: list[tuple[int, int]], cut: int) -> None:
    linktype, data, _ = HANDMADE[case]
    raw = bytearray(data)
    for where, value in flips:
        raw[where % len(raw)] = value
    _check(linktype, mode, bytes(raw[:cut]))


def _check(linktype: int, mode: str, data: bytes) -> None:
    try:
        info, frame = dot11_payload(linktype, data, mode)
    except (DecodeError, UnsupportedLinkType):
        return
    assert 0 <= info.header_len <= len(data)
    end = len(data) - (4 if info.fcs != FcsStatus.ABSENT else 0)
    assert info.header_len <= end
    assert bytes(frame) == data[info.header_len : end]
    # In "flag" mode BAD means the capture header marks the frame bad (no CRC is computed), so the CRC
    # property holds for the modes that check it.
    if info.fcs in (FcsStatus.VALID, FcsStatus.BAD) and mode != "flag":
        assert (info.fcs == FcsStatus.VALID) == (
            zlib.crc32(data[info.header_len : end]) == int.from_bytes(data[end:], "little")
        )
