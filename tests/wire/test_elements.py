"""Element codecs: RSNE / WPA IE bytes from real handshakes (tests/data/vectors/eapol_key_mic.json,
research/protocol.md 1.8) and MDE / FTE / CSA / RSNXE elements built by hand from IEEE 802.11-2020
9.4.2; hypothesis round trips and robustness."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krackwatch.crypto.suites import AKM, Cipher
from krackwatch.wire.elements import (
    CSA,
    ECSA,
    FTE,
    MDE,
    RSNE,
    RSNXE,
    WPAIE,
    Element,
    ElementID,
    EncodeError,
    FtGtk,
    FtIgtk,
    FTSubelement,
    VendorElement,
    decode_elements,
    ds_channel,
    ds_element,
    encode_elements,
    find_element,
    iter_elements,
    network_info,
    ssid,
    ssid_element,
)
from krackwatch.wire.errors import DecodeError

VECTORS = Path(__file__).resolve().parents[1] / "data" / "vectors"


def _mic_vectors() -> list[dict]:
    return json.loads((VECTORS / "eapol_key_mic.json").read_text())["vectors"]


# --------------------------------------------------------------------------- generic elements


def test_iter_elements_and_extension_ids():
    raw = bytes.fromhex("0003616263ff03230102dd0400100203")
    els = decode_elements(raw)
    assert els == (Element(0, b"abc"), Element(255, b"\x01\x02", 0x23), Element(221, b"\x00\x10\x02\x03"))
    assert els[1].length == 3 and encode_elements(els) == raw
    assert list(iter_elements(raw)) == list(els)
    assert find_element(els, 255, 0x23) is els[1] and find_element(els, 48) is None


def test_element_length_past_the_end_reports_its_offset():
    with pytest.raises(DecodeError) as exc:
        decode_elements(bytes.fromhex("00016130140100"))
    assert exc.value.offset == 3
    with pytest.raises(DecodeError) as exc:
        decode_elements(bytes.fromhex("00016130"))
    assert exc.value.offset == 3


def test_element_encode_validation():
    with pytest.raises(EncodeError):
        Element(0, bytes(256)).encode()
    with pytest.raises(EncodeError):
        Element(48, b"", ext_id=1).encode()
    with pytest.raises(EncodeError):
        Element(255, b"\x01").encode()
    assert Element(255, b"").encode() == b"\xff\x00"


def test_ssid_is_raw_bytes_and_at_most_32():
    weird = b"\xff\xfe caf\xe9 \x00"
    assert ssid(ssid_element(weird)) == weird
    with pytest.raises(DecodeError):
        ssid(Element(0, bytes(33)))
    with pytest.raises(DecodeError):
        ssid(Element(1, b"x"))


def test_ds_parameter_set():
    assert ds_channel(Element(3, b"\x0b")) == 11 and ds_element(11) == Element(3, b"\x0b")
    with pytest.raises(DecodeError):
        ds_channel(Element(3, b""))


# --------------------------------------------------------------------------- RSNE


def test_rsne_from_the_wpa2_eapol_m2_vector():
    m2 = bytes.fromhex(_mic_vectors()[0]["eapol_m2_hex_with_mic_field_zeroed"])
    key_data = m2[99:]
    (el,) = decode_elements(key_data)
    rsne = RSNE.from_element(el)
    assert rsne.version == 1
    assert rsne.group_cipher is Cipher.CCMP128
    assert rsne.pairwise_ciphers == (Cipher.CCMP128,)
    assert rsne.akms == (AKM.PSK,)
    assert rsne.capabilities == 0x0001 and not rsne.mfpc and rsne.pmkids is None
    assert rsne.element().encode() == key_data


def test_rsne_from_the_tptk_capture_msg3_key_data():
    # protocol.md 1.8: unwrapped msg 3 key data of example-tptk-attack.pcapng (WPA+WPA2 AP,
    # group TKIP, pairwise CCMP and TKIP, PSK).
    data = bytes.fromhex("0100000fac020200000fac04000fac020100000fac020c00")
    rsne = RSNE.decode(data)
    assert rsne.group_cipher is Cipher.TKIP
    assert rsne.pairwise_ciphers == (Cipher.CCMP128, Cipher.TKIP)
    assert rsne.akms == (AKM.PSK,)
    # b2-3 = 3: 16 PTKSA replay counters (9.4.2.24.4), as hostapd advertises with WMM.
    assert rsne.ptksa_replay_counters == 16 and rsne.gtksa_replay_counters == 1
    assert rsne.encode() == data


def test_rsne_with_pmf_pmkid_and_group_management_cipher():
    pmkid = bytes.fromhex("c2ea9449c142e84a0479041702526532")
    rsne = RSNE(
        1, Cipher.CCMP128, (Cipher.CCMP128,), (AKM.SAE, AKM.PSK_SHA256), 0x00C0, (pmkid,), Cipher.BIP_CMAC128
    )
    raw = rsne.encode()
    assert raw == bytes.fromhex(
        "0100000fac040100000fac040200000fac08000fac06c0000100" + pmkid.hex() + "000fac06"
    )
    back = RSNE.decode(raw)
    assert back == rsne and back.mfpr and back.mfpc


@pytest.mark.parametrize(
    "hexdata",
    [
        "0100",
        "0100000fac04",
        "0100000fac040100000fac04",
        "0100000fac040100000fac040100000fac02",
        "0100000fac040100000fac040100000fac020000",
        "0100000fac040100000fac040100000fac0200000000",
        "0100000fac040100000fac040100000fac0200000000000fac06",
        "0100000fac040100000fac040100000fac0200000000000fac06abcd",
    ],
)
def test_rsne_truncated_at_any_field_boundary_decodes(hexdata):
    data = bytes.fromhex(hexdata)
    rsne = RSNE.decode(data)
    assert rsne.encode() == data
    present = [
        rsne.group_cipher,
        rsne.pairwise_ciphers,
        rsne.akms,
        rsne.capabilities,
        rsne.pmkids,
        rsne.group_mgmt_cipher,
    ]
    n = sum(p is not None for p in present)
    assert all(p is not None for p in present[:n]) and all(p is None for p in present[n:])


def test_rsne_defaults_for_absent_lists():
    rsne = RSNE.decode(b"\x01\x00")
    assert rsne.effective_akms == (AKM.IEEE8021X,)
    assert rsne.effective_pairwise_ciphers == (Cipher.CCMP128,)
    assert rsne.effective_group_cipher is Cipher.CCMP128


@pytest.mark.parametrize(
    ("hexdata", "offset"),
    [
        ("01", 0),
        ("0100000f", 2),
        ("0100000fac0401", 6),
        ("0100000fac040200000fac04", 6),
        ("0100000fac040100000fac040100000fac0200", 18),
        ("0100000fac040100000fac040100000fac0200000100", 20),
    ],
)
def test_rsne_garbled_fields_raise_with_offsets(hexdata, offset):
    with pytest.raises(DecodeError) as exc:
        RSNE.decode(bytes.fromhex(hexdata))
    assert exc.value.offset == offset


def test_rsne_unknown_vendor_suites_stay_ints():
    rsne = RSNE.decode(bytes.fromhex("010000904c01010000904c02010000904c03"))
    assert rsne.group_cipher == 0x00904C01 and not isinstance(rsne.group_cipher, Cipher)
    assert rsne.akms == (0x00904C03,)


def test_rsne_encode_rejects_gaps():
    with pytest.raises(EncodeError):
        RSNE(akms=None, capabilities=0).encode()


# --------------------------------------------------------------------------- WPA IE


def test_wpa_ie_from_the_hccapx_wpa1_m2():
    v = next(v for v in _mic_vectors() if "hccapx" in v["name"])
    eapol = bytes.fromhex(v["parsed"]["eapol_hex"])
    (el,) = decode_elements(eapol[99:])
    assert el.id == ElementID.VENDOR_SPECIFIC
    wpa = WPAIE.from_element(el)
    assert wpa.version == 1 and wpa.group_cipher is Cipher.WPA_TKIP
    assert wpa.pairwise_ciphers == (Cipher.WPA_TKIP,) and wpa.akms == (AKM.WPA_PSK,)
    assert wpa.capabilities is None and wpa.element().encode() == eapol[99:]
    assert VendorElement.from_element(el).oui == 0x0050F2


def test_wpa_ie_rejects_other_vendor_elements():
    with pytest.raises(DecodeError):
        WPAIE.decode(bytes.fromhex("0050f2020101"))  # WMM, not WPA
    with pytest.raises(DecodeError):
        WPAIE.decode(bytes.fromhex("0050f201"))


# --------------------------------------------------------------------------- FT elements


def test_mde_by_hand():
    # 9.4.2.46: MDID (2 octets) then FT Capability and Policy: b0 over DS, b1 resource request.
    mde = MDE.from_element(decode_elements(bytes.fromhex("3603a1b203"))[0])
    assert mde.mdid == b"\xa1\xb2" and mde.over_ds and mde.resource_request
    assert mde.element().encode() == bytes.fromhex("3603a1b203")
    with pytest.raises(DecodeError):
        MDE.decode(b"\xa1\xb2")


def _fte_bytes(mic_len: int) -> bytes:
    anonce = bytes(range(1, 33))
    snonce = bytes(range(101, 133))
    mic = bytes(range(200, 200 + mic_len))
    r1kh = bytes.fromhex("020000000300")
    r0kh = b"nas1.w1.fi"
    gtk = bytes.fromhex("0100") + b"\x10" + (5).to_bytes(8, "little") + bytes(range(24))
    igtk = (4).to_bytes(2, "little") + (7).to_bytes(6, "little") + b"\x10" + bytes(range(24))
    subs = (
        bytes((1, 6))
        + r1kh
        + bytes((2, len(gtk)))
        + gtk
        + bytes((3, len(r0kh)))
        + r0kh
        + bytes((4, len(igtk)))
        + igtk
    )
    return b"\x00\x03" + mic + anonce + snonce + subs  # MIC Control: element count 3


@pytest.mark.parametrize("mic_len", [16, 24])
def test_fte_by_hand(mic_len):
    raw = _fte_bytes(mic_len)
    fte = FTE.decode(raw, mic_len)
    assert fte.element_count == 3 and not fte.rsnxe_used
    assert fte.mic == bytes(range(200, 200 + mic_len))
    assert fte.anonce == bytes(range(1, 33)) and fte.snonce == bytes(range(101, 133))
    assert fte.r1kh_id == bytes.fromhex("020000000300") and fte.r0kh_id == b"nas1.w1.fi"
    assert fte.gtk == FtGtk(1, 16, 5, bytes(range(24))) and fte.gtk.key_id == 1
    assert fte.igtk == FtIgtk(4, 7, 16, bytes(range(24)))
    assert fte.oci is None and fte.bigtk is None
    assert fte.encode() == raw
    assert FTE.from_element(Element(55, raw), mic_len) == fte


def test_fte_wrong_mic_length_is_an_error_not_garbage():
    raw = _fte_bytes(24)
    with pytest.raises(DecodeError):
        FTE.decode(raw[:40], 16)
    with pytest.raises(DecodeError):
        FTE.decode(_fte_bytes(16)[:-1], 16)


def test_fte_mic_length_subfield():
    fte = FTE(0x0302 | 0x01, bytes(24), bytes(32), bytes(32))
    assert fte.mic_length_subfield == 1 and fte.rsnxe_used and fte.element_count == 3


# --------------------------------------------------------------------------- CSA, RSNXE, vendor


def test_csa_and_ecsa():
    assert CSA.from_element(Element(37, b"\x01\x0b\x02")) == CSA(1, 11, 2)
    assert ECSA.decode(b"\x00\x51\x24\x05").element() == Element(60, b"\x00\x51\x24\x05")
    with pytest.raises(DecodeError):
        CSA.decode(b"\x01\x0b")
    with pytest.raises(DecodeError):
        CSA.from_element(Element(60, b"\x00\x51\x24\x05"))


def test_rsnxe():
    r = RSNXE.decode(b"\x20")  # field length 1, SAE hash-to-element (b5)
    assert r.sae_h2e and not r.sae_pk and not r.protected_twt and r.encode() == b"\x20"
    r2 = RSNXE.decode(b"\x61\x03")
    assert r2.length == 2 and r2.sae_pk and r2.capabilities == 0x0361 and r2.encode() == b"\x61\x03"
    with pytest.raises(DecodeError):
        RSNXE.decode(b"")


def test_vendor_element():
    v = VendorElement.decode(bytes.fromhex("0050f2020101"))
    assert (v.oui, v.oui_type, v.data) == (0x0050F2, 2, b"\x01\x01") and v.encode() == bytes.fromhex(
        "0050f2020101"
    )
    assert VendorElement.decode(b"\x00\x10\x18") == VendorElement(0x001018, None)
    with pytest.raises(DecodeError):
        VendorElement.decode(b"\x00\x10")


# --------------------------------------------------------------------------- NetworkInfo


def _info(*els: Element, capability: int | None = None):
    return network_info(els, capability)


WPA1 = WPAIE().element()


@pytest.mark.parametrize(
    ("els", "cap", "security"),
    [
        ((RSNE().element(),), 0x0011, "WPA2"),
        ((WPA1,), 0x0011, "WPA"),
        ((RSNE().element(), WPA1), 0x0011, "WPA/WPA2"),
        ((RSNE(akms=(AKM.SAE,)).element(),), 0x0011, "WPA3"),
        ((RSNE(akms=(AKM.PSK, AKM.SAE)).element(),), 0x0011, "WPA2/WPA3"),
        ((RSNE(akms=(AKM.OWE,)).element(),), 0x0011, "OWE"),
        ((), 0x0011, "WEP"),
        ((), 0x0001, "open"),
        ((), None, "unknown"),
    ],
)
def test_network_security_labels(els, cap, security):
    assert _info(*els, capability=cap).security == security


def test_network_info_collects_first_of_each():
    info = _info(
        Element(0, b"lab"),
        Element(3, b"\x24"),
        RSNE(
            pairwise_ciphers=(Cipher.CCMP128, Cipher.TKIP), akms=(AKM.FT_PSK,), capabilities=0x0080
        ).element(),
        WPA1,
        MDE(b"\x01\x02", 0).element(),
        CSA(0, 40, 3).element(),
        Element(0, b"second"),
    )
    assert info.ssid == b"lab" and info.channel == 36
    assert info.akms == (AKM.FT_PSK, AKM.WPA_PSK)
    assert info.pairwise_ciphers == (Cipher.CCMP128, Cipher.TKIP, Cipher.WPA_TKIP)
    assert info.group_cipher is Cipher.CCMP128
    assert info.ft and info.pmf == "capable" and info.csa == CSA(0, 40, 3)


def test_network_ft_from_akm_only_and_no_pmf_without_rsne():
    assert _info(RSNE(akms=(AKM.FT_SAE,)).element()).ft
    assert not _info(RSNE().element()).ft
    assert _info(WPA1).pmf == "no" and _info().group_cipher is None


# --------------------------------------------------------------------------- properties

_suite = st.one_of(st.sampled_from(list(Cipher)), st.integers(0, 0xFFFFFFFF))
_akm = st.one_of(st.sampled_from(list(AKM)), st.integers(0, 0xFFFFFFFF))


@st.composite
def _rsnes(draw):
    fields = [
        draw(_suite),
        tuple(draw(st.lists(_suite, max_size=3))),
        tuple(draw(st.lists(_akm, max_size=3))),
        draw(st.integers(0, 0xFFFF)),
        tuple(draw(st.lists(st.binary(min_size=16, max_size=16), max_size=2))),
        draw(_suite),
    ]
    n = draw(st.integers(0, len(fields)))
    fields[n:] = [None] * (len(fields) - n)
    extra = draw(st.binary(max_size=4)) if n == len(fields) else b""
    return RSNE(draw(st.integers(0, 0xFFFF)), *fields, extra)


@settings(max_examples=200, deadline=None)
@given(_rsnes())
def test_generated_rsnes_round_trip(rsne):
    assert RSNE.decode(rsne.encode()) == rsne


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=30)), max_size=8))
def test_generated_element_lists_round_trip(items):
    els = tuple(Element(i, d[1:], d[0]) if i == 255 and d else Element(i, d) for i, d in items)
    assert decode_elements(encode_elements(els)) == els


_TYPED = [RSNE, WPAIE, MDE, FTE, CSA, ECSA, RSNXE, VendorElement, FtGtk, FtIgtk]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_TYPED), st.binary(max_size=120))
def test_random_bytes_to_typed_decoders_give_value_or_decode_error(cls, data):
    try:
        value = cls.decode(data)
    except DecodeError:
        return
    assert value.encode() == data


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_random_bytes_to_element_list_and_network_info(data):
    try:
        els = decode_elements(data)
    except DecodeError:
        return
    assert encode_elements(els) == data
    with contextlib.suppress(DecodeError):
        network_info(els, 0)


def test_fte_subelement_encode():
    assert FTSubelement(1, b"ab").encode() == b"\x01\x02ab"
