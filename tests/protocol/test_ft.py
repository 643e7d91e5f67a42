"""802.11r: FT initial mobility domain association, FT over the air, and the replayed
Reassociation Request of CVE-2017-13082 (hostapd before 0e3bd7ac6 reinstalls the PTK)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from protocol.playbook import AP, AP2, STA, Air, Carried, Drop, Installs, Playbook, dot11_frames, nonces

from krackwatch.crypto import AKM, Cipher, derive_ft_ptk, derive_pmk_r0, derive_pmk_r1, pbkdf2_psk
from krackwatch.decrypt.engine import Decryptor
from krackwatch.decrypt.keys import KeyRing, Pmk
from krackwatch.decrypt.state import pair_key
from krackwatch.protocol import (
    PRESETS,
    Authenticator,
    AuthenticatorState,
    DropReason,
    FTConfig,
    FTState,
    GroupState,
    KeyKind,
    Log,
    SendMgmt,
    Supplicant,
    SupplicantState,
)
from krackwatch.wire import (
    RSNE,
    AssocReqBody,
    Element,
    MgmtSubtype,
    decode_eapol_key,
    decode_mgmt_body,
    iter_key_data,
)
from krackwatch.wire.dot11 import AuthAlgorithm

SSID = b"ft-lab"
PMK = pbkdf2_psk("roaming is fun", SSID)
MDID = b"\x34\x12"
R0KH = b"nas1.example.com"
CFG1 = FTConfig(mdid=MDID, r0kh_id=R0KH, r1kh_id=AP, ssid=SSID)
CFG2 = FTConfig(mdid=MDID, r0kh_id=R0KH, r1kh_id=AP2, ssid=SSID)


def independent_ft_ptk(r1kh: bytes, bssid: bytes, anonce: bytes, snonce: bytes):
    r0, r0name = derive_pmk_r0(PMK, SSID, MDID, R0KH, STA, akm=AKM.FT_PSK)
    r1, r1name = derive_pmk_r1(r0, r0name, r1kh, STA, akm=AKM.FT_PSK)
    return derive_ft_ptk(r1, snonce, anonce, bssid, STA, akm=AKM.FT_PSK, cipher=Cipher.CCMP128), r1name


def setup(ap2_profile=PRESETS["hostapd-2.6"], pmf=False):
    ns = nonces(11)
    gs1 = GroupState(nonce_source=ns, pmf=pmf)
    gs2 = GroupState(nonce_source=ns, pmf=pmf)
    a1 = Authenticator(
        PRESETS["hostapd-2.6"],
        addr=AP,
        sta_addr=STA,
        pmk=PMK,
        akm=AKM.FT_PSK,
        group_state=gs1,
        ft=CFG1,
        nonce_source=ns,
        pmf=pmf,
    )
    a2 = Authenticator(
        ap2_profile,
        addr=AP2,
        sta_addr=STA,
        pmk=PMK,
        akm=AKM.FT_PSK,
        group_state=gs2,
        ft=CFG2,
        nonce_source=ns,
        pmf=pmf,
    )
    sup = Supplicant(
        PRESETS["patched"], addr=STA, ap_addr=AP, pmk=PMK, akm=AKM.FT_PSK, ft=CFG1, nonce_source=ns, pmf=pmf
    )
    air = Air(a1, sup)
    air.extra_aps[AP2] = a2
    # What the lab puts on the air first: the (Re)Association Request naming SSID, RSNE and MDE.
    assoc = AssocReqBody(
        0x0011, 10, None, (Element(0, SSID), Element(48, sup.rsne[2:]), Element(54, CFG1.mde[2:]))
    )
    air.carried.append(Carried(0.0, STA, AP, mgmt=(MgmtSubtype.ASSOC_REQ, assoc.encode())))
    air.start()
    return air, a1, a2, sup, gs1, gs2


def decryptor(air):
    dec = Decryptor(KeyRing(pmks=(Pmk(PMK),)))
    for frame in dot11_frames(air.carried, [AP, AP2]):
        dec.process(105, frame)
    return dec


def test_initial_mobility_domain_association():
    air, a1, _, sup, _, _ = setup()
    assert a1.state is AuthenticatorState.PTKINITDONE and sup.state is SupplicantState.PTK_DONE
    ptk, r1name = independent_ft_ptk(AP, AP, a1.anonce, sup.snonce)
    assert air.installs("sta", KeyKind.PTK)[0].key == air.installs("ap", KeyKind.PTK)[0].key == ptk.tk
    m2 = decode_eapol_key(air.carried[2].eapol)
    assert m2.descriptor_version == 3  # FT AKMs use AES-128-CMAC (12.7.2)
    items = list(iter_key_data(m2.key_data))
    assert [i.id for i in items] == [48, 54, 55]
    assert RSNE.decode(items[0].data).pmkids == (r1name,)
    link = decryptor(air).links[pair_key(AP, STA)]
    assert link.mic_verified >= 1 and link.mic_failed == 0 and link.current_ptk.tk == ptk.tk


@pytest.mark.parametrize("pmf", [False, True])
def test_ft_over_the_air(pmf):
    air, _, a2, sup, _, gs2 = setup(pmf=pmf)
    air.run(sup.ft_auth_request(AP2, 5.0), "sta")
    assert sup.ap_addr == AP2 and sup.state is SupplicantState.PTK_DONE and sup.ft_state is FTState.IDLE
    assert a2.state is AuthenticatorState.PTKINITDONE
    kinds = [m.mgmt[0] for m in air.carried if m.mgmt and m.dst in (AP2, STA) and m.src in (AP2, STA)]
    assert kinds == [MgmtSubtype.AUTH, MgmtSubtype.AUTH, MgmtSubtype.REASSOC_REQ, MgmtSubtype.REASSOC_RESP]
    ptk, _ = independent_ft_ptk(AP2, AP2, a2.anonce, a2.snonce)
    assert air.installs("sta", KeyKind.PTK)[-1].key == ptk.tk
    assert air.installs("sta", KeyKind.PTK)[-1].peer == AP2
    assert air.installs("sta", KeyKind.GTK)[-1].key == gs2.gtk
    if pmf:
        assert air.installs("sta", KeyKind.IGTK)[-1].key == gs2.igtk
    dec = decryptor(air)
    link = dec.links[pair_key(AP2, STA)]
    assert link.messages["FT-Auth"] == 1 and link.messages["FT-Reassoc"] == 1
    assert link.mic_failed == 0 and link.current_ptk.tk == ptk.tk
    assert dec.networks[AP2].gtks[gs2.gtk_id][0].key == gs2.gtk


def _reassoc_request(air):
    return next(m for m in air.carried if m.mgmt and m.mgmt[0] == MgmtSubtype.REASSOC_REQ)


@pytest.mark.parametrize(("profile", "reinstalls"), [("hostapd-2.6", True), ("hostapd-2.7", False)])
def test_replayed_reassociation_request(profile, reinstalls):
    air, _, a2, sup, _, _ = setup(ap2_profile=PRESETS[profile])
    air.run(sup.ft_auth_request(AP2, 5.0), "sta")
    (first,) = [i for i in air.installs("ap", KeyKind.PTK) if i.peer == STA and i.key == sup.ptk.tk]
    req = _reassoc_request(air).mgmt[1]
    pb = Playbook(a2, ignore_log=False)
    pb >> _mgmt(MgmtSubtype.REASSOC_REQ, req, STA, 6.0) << SendMgmt
    pb << (
        Installs(KeyKind.PTK, key=first.key)
        if reinstalls
        else Log("FT: Do not re-install same PTK to the driver")
    )
    assert pb
    # The Reassociation Response is answered again either way (README-ap.md: still respond).
    assert a2.state is AuthenticatorState.PTKINITDONE


def test_new_ft_authentication_allows_a_new_install():
    air, _, _, sup, _, _ = setup(ap2_profile=PRESETS["hostapd-2.7"])
    air.run(sup.ft_auth_request(AP2, 5.0), "sta")
    # The station roams back and forth: a new FT authentication derives a new PTK, installed once.
    air.run(sup.ft_auth_request(AP, 6.0), "sta")
    air.run(sup.ft_auth_request(AP2, 7.0), "sta")
    ap2_installs = [i for i in air.installs("ap", KeyKind.PTK) if i.key in (air.tk["sta"],)]
    assert len(ap2_installs) == 1 and sup.ap_addr == AP2


def test_supplicant_ignores_second_reassociation_response():
    air, _, _, sup, _, _ = setup()
    air.run(sup.ft_auth_request(AP2, 5.0), "sta")
    resp = next(m for m in air.carried if m.mgmt and m.mgmt[0] == MgmtSubtype.REASSOC_RESP).mgmt[1]
    assert Playbook(sup) >> _mgmt(MgmtSubtype.REASSOC_RESP, resp, AP2, 6.0) << Drop(DropReason.STATE)


def test_reassociation_without_authentication_and_bad_mic():
    air, _, a2, sup, _, _ = setup()
    air.policy = lambda a, c: "drop" if getattr(c, "subtype", None) == MgmtSubtype.REASSOC_REQ else "deliver"
    air.run(sup.ft_auth_request(AP2, 5.0), "sta")
    req = _reassoc_request_from(sup, air)
    body = decode_mgmt_body(MgmtSubtype.REASSOC_REQ, req)
    fte = body.elements[-1]
    tampered = bytearray(fte.data)
    tampered[5] ^= 1  # a MIC octet
    bad = AssocReqBody(
        body.capability,
        body.listen_interval,
        body.current_ap,
        (*body.elements[:-1], Element(55, bytes(tampered))),
    ).encode()
    assert Playbook(a2) >> _mgmt(MgmtSubtype.REASSOC_REQ, bad, STA, 6.0) << Drop(DropReason.MIC)
    fresh = Authenticator(
        PRESETS["hostapd-2.6"],
        addr=AP2,
        sta_addr=STA,
        pmk=PMK,
        akm=AKM.FT_PSK,
        group_state=GroupState(nonce_source=nonces(2)),
        ft=CFG2,
        nonce_source=nonces(2),
    )
    assert Playbook(fresh) >> _mgmt(MgmtSubtype.REASSOC_REQ, req, STA, 6.0) << Drop(DropReason.STATE)


def test_ft_authentication_checks():
    _, _, a2, sup, _, _ = setup()
    (auth_req,) = sup.ft_auth_request(AP2, 5.0)
    body = decode_mgmt_body(MgmtSubtype.AUTH, auth_req.body)
    rsne = RSNE.decode(body.elements[0].data)
    wrong = replace(rsne, pmkids=(bytes(16),)).encode()
    bad = type(body)(AuthAlgorithm.FT, 1, 0, (Element(48, wrong), *body.elements[1:])).encode()
    assert Playbook(a2) >> _mgmt(MgmtSubtype.AUTH, bad, STA, 5.0) << Drop(DropReason.RSNE)
    other_md = type(body)(
        AuthAlgorithm.FT, 1, 0, (body.elements[0], Element(54, b"\x99\x99\x00"), body.elements[2])
    )
    assert Playbook(a2) >> _mgmt(MgmtSubtype.AUTH, other_md.encode(), STA, 5.0) << Drop(DropReason.RSNE)
    assert Playbook(a2) >> _mgmt(MgmtSubtype.AUTH, b"\x00", STA, 5.0) << Drop(DropReason.MGMT)
    assert Playbook(a2) >> _mgmt(MgmtSubtype.AUTH, auth_req.body, AP, 5.0) << Drop(DropReason.MGMT)


def _reassoc_request_from(sup, air):
    return next(
        c.body
        for c in air.commands["sta"]
        if isinstance(c, SendMgmt) and c.subtype == MgmtSubtype.REASSOC_REQ
    )


def _mgmt(subtype, body, src, now):
    from protocol.playbook import Input

    return Input(f"mgmt {subtype}", lambda m: m.receive_mgmt(subtype, body, src, now))


def test_ft_requires_configuration():
    from krackwatch.protocol import ProtocolError

    with pytest.raises(ProtocolError):
        Supplicant(PRESETS["patched"], addr=STA, ap_addr=AP, pmk=PMK, akm=AKM.FT_PSK, nonce_source=nonces())
    with pytest.raises(ProtocolError):
        Supplicant(PRESETS["patched"], addr=STA, ap_addr=AP, pmk=PMK, ft=CFG1, nonce_source=nonces())
    sup = Supplicant(PRESETS["patched"], addr=STA, ap_addr=AP, pmk=PMK, nonce_source=nonces())
    assert Playbook(sup) >> _call_ft(sup) << Drop(DropReason.STATE)


def _call_ft(sup):
    from protocol.playbook import Input

    return Input("ft_auth_request", lambda m: m.ft_auth_request(AP2, 1.0))


def test_ft_association_and_roam_drop_nothing():
    air, _, _, sup, _, _ = setup()
    air.run(sup.ft_auth_request(AP2, 5.0), "sta")
    assert air.drops("ap") == [] and air.drops("sta") == []
