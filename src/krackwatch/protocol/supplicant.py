"""Sans-IO supplicant: the 4-way handshake, the group key handshake and FT over the air, with the
behaviour differences of real implementations taken from a :class:`Profile`.

State names are the supplicant 4-way handshake states of IEEE 802.11 (PTK-INIT, PTK-START,
PTK-NEGOTIATING, PTK-DONE; paper Fig. 3). Received EAPOL-Key frames are checked in the order of
hostap's ``wpa_sm_rx_eapol``; the replay counter moves only after a MIC verified.

Delivery model (``receive_eapol``): ``protected`` says whether the frame arrived encrypted;
``decrypted_with`` says under which key state the NIC received it:

* ``"ptk"`` (default for protected frames): decrypted with the PTK installed now;
* ``"none"`` (default for unprotected frames): received in plaintext under the current key state;
* ``"old"``: received before the PTK now installed was installed, and queued. On a protected frame
  the NIC decrypted it with the previous PTK (the encrypted msg 3 race of a rekey, paper 3.4); on an
  unprotected frame the NIC passed it because no PTK was installed yet (the quick plaintext race).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from enum import Enum
from types import MappingProxyType

from krackwatch.crypto.errors import CryptoError
from krackwatch.crypto.ft import derive_ft_ptk, verify_ft_mic
from krackwatch.crypto.keywrap import aes_key_unwrap
from krackwatch.crypto.mic import verify_eapol_key_mic
from krackwatch.crypto.ptk import PTK, derive_ptk
from krackwatch.crypto.suites import AKM, Cipher
from krackwatch.protocol import keymsg
from krackwatch.protocol.commands import (
    Command,
    Deauthenticate,
    Dropped,
    DropReason,
    InstallKey,
    KeyKind,
    Log,
    SendEAPOL,
    SendMgmt,
)
from krackwatch.protocol.errors import ProtocolError
from krackwatch.protocol.ft import FTConfig, FTReassocSeq, ft_element, ft_elements, pmk_r1, seal_fte
from krackwatch.protocol.profile import Profile, ZeroTk
from krackwatch.wire.dot11 import (
    AssocReqBody,
    AuthAlgorithm,
    AuthBody,
    MgmtSubtype,
    ReasonCode,
    decode_mgmt_body,
)
from krackwatch.wire.eapol import EapolKey, GtkKDE, IgtkKDE
from krackwatch.wire.elements import FTE, RSNE, Element, ElementID
from krackwatch.wire.errors import DecodeError

__all__ = ["FT_TRANSITIONS", "TRANSITIONS", "FTState", "Supplicant", "SupplicantEvent", "SupplicantState"]

NonceSource = Callable[[int], bytes]

_PN_MASK = (1 << 48) - 1  # Key RSC / IPN: 6 octets are used by CCMP, GCMP, TKIP and BIP
_CAPABILITY = 0x0011  # ESS | Privacy
_LISTEN_INTERVAL = 10


class SupplicantState(Enum):
    """The supplicant 4-way handshake states (IEEE 802.11 / paper Fig. 3)."""

    DISCONNECTED = 0
    PTK_INIT = 1  # associated, waiting for msg 1
    PTK_START = 2  # msg 1 processed, TPTK derived, msg 2 sent
    PTK_NEGOTIATING = 3  # msg 3 verified; msg 4 being sent
    PTK_DONE = 4  # keys installed (wpa_supplicant: COMPLETED)
    COMPLETED = 4  # noqa: PIE796 - wpa_supplicant's name for PTK_DONE, an alias


class FTState(Enum):
    """Progress of an over-the-air FT protocol instance (13.5)."""

    IDLE = 0
    AUTHENTICATING = 1  # FT Authentication Request sent
    REASSOCIATING = 2  # FT Reassociation Request sent


class SupplicantEvent(Enum):
    MSG1 = 1
    MSG3 = 2
    GROUP_MSG1 = 3
    MSG4_SENT = 4
    DEAUTH = 5
    FT_AUTH_REQUEST = 6
    FT_AUTH_RESPONSE = 7
    FT_REASSOC_RESPONSE = 8


_S = SupplicantState
_E = SupplicantEvent
_F = FTState

TRANSITIONS: Mapping[tuple[SupplicantState, SupplicantEvent], SupplicantState] = MappingProxyType(
    {
        (_S.PTK_INIT, _E.MSG1): _S.PTK_START,
        (_S.PTK_START, _E.MSG1): _S.PTK_START,  # retransmitted msg 1 (same SNonce) or a new ANonce
        (_S.PTK_DONE, _E.MSG1): _S.PTK_START,  # PTK rekey (or a forged msg 1)
        (_S.PTK_START, _E.MSG3): _S.PTK_NEGOTIATING,
        (_S.PTK_DONE, _E.MSG3): _S.PTK_NEGOTIATING,  # retransmitted msg 3: the profile decides
        (_S.PTK_NEGOTIATING, _E.MSG4_SENT): _S.PTK_DONE,
        (_S.PTK_DONE, _E.GROUP_MSG1): _S.PTK_DONE,
        (_S.PTK_START, _E.GROUP_MSG1): _S.PTK_START,  # group rekey while a PTK rekey is under way
        (_S.PTK_DONE, _E.FT_REASSOC_RESPONSE): _S.PTK_DONE,  # now with the target AP
        **{(s, _E.DEAUTH): _S.DISCONNECTED for s in (_S.PTK_INIT, _S.PTK_START, _S.PTK_DONE)},
    }
)
"""The 4-way / group key handshake transitions; (state, event) pairs not listed are dropped."""

FT_TRANSITIONS: Mapping[tuple[FTState, SupplicantEvent], FTState] = MappingProxyType(
    {
        (_F.IDLE, _E.FT_AUTH_REQUEST): _F.AUTHENTICATING,
        (_F.AUTHENTICATING, _E.FT_AUTH_REQUEST): _F.AUTHENTICATING,  # start over (new SNonce)
        (_F.REASSOCIATING, _E.FT_AUTH_REQUEST): _F.AUTHENTICATING,
        (_F.AUTHENTICATING, _E.FT_AUTH_RESPONSE): _F.REASSOCIATING,
        # A second Reassociation Response finds IDLE and is ignored (hostap 2a9c5217b).
        (_F.REASSOCIATING, _E.FT_REASSOC_RESPONSE): _F.IDLE,
    }
)


def _nonce_checked(source: NonceSource, n: int) -> bytes:
    value = source(n)
    if not isinstance(value, (bytes, bytearray)) or len(value) != n:
        raise ProtocolError(f"nonce_source({n}) must return {n} octets")
    return bytes(value)


class Supplicant:
    """One station's supplicant for one association (create a new one per association).

    ``pmk`` is the PMK (PSK, or the 802.1X PMK); for FT AKMs it is XXKey and ``ft`` describes the
    mobility domain of the AP associated with. ``rsne`` is the RSNE (element bytes) the station sent
    in its (Re)Association Request and ``ap_rsne`` the one the AP advertises; both default to the
    element built from the suites. ``eapol_version`` and ``echo_key_length`` only shape the frames
    sent (wpa_supplicant sends version 1 and Key Length 0; older supplicants copied the Key Length
    of msg 1/3 into msg 2/4).
    """

    def __init__(
        self,
        profile: Profile,
        *,
        addr: bytes,
        ap_addr: bytes,
        pmk: bytes,
        akm: AKM = AKM.PSK,
        pairwise: Cipher = Cipher.CCMP128,
        group: Cipher = Cipher.CCMP128,
        pmf: bool = False,
        mgmt_cipher: Cipher = Cipher.BIP_CMAC128,
        rsne: bytes | None = None,
        ap_rsne: bytes | None = None,
        ft: FTConfig | None = None,
        nonce_source: NonceSource,
        eapol_version: int = 1,
        echo_key_length: bool = False,
    ) -> None:
        keymsg.check_suites(akm, pairwise, group, mgmt_cipher if pmf else None)
        keymsg.check_config(pmk, akm, ft, nonce_source)
        self.profile = profile
        self.addr = keymsg.check_addr(addr, "addr")
        self.ap_addr = keymsg.check_addr(ap_addr, "ap_addr")
        self.pmk = bytes(pmk)
        self.akm = akm
        self.pairwise = pairwise
        self.group = group
        self.pmf = pmf
        self.mgmt_cipher = mgmt_cipher
        built = keymsg.rsn_element(akm=akm, pairwise=pairwise, group=group, pmf=pmf, mgmt_cipher=mgmt_cipher)
        self.rsne = bytes(rsne) if rsne is not None else built
        self.ap_rsne = bytes(ap_rsne) if ap_rsne is not None else built
        self.ft = ft
        self.eapol_version = eapol_version
        self.echo_key_length = echo_key_length
        self._nonce_source = nonce_source
        self._dv = keymsg.descriptor_version(akm, pairwise)

        self.state = SupplicantState.PTK_INIT
        self.ft_state = FTState.IDLE
        self.ptk: PTK | None = None  # the PTK in use (its TK installed or about to be)
        self.tptk: PTK | None = None  # derived from the latest msg 1, not yet confirmed by a msg 3
        self.anonce: bytes | None = None
        self.snonce: bytes | None = None
        self.rx_replay_counter: int | None = None
        self.ptk_installed = False  # some PTK is in the driver: frames go out protected
        self.installed: dict[KeyKind, InstallKey] = {}  # the last key installed of each kind
        self._renew_snonce = True
        self._ptk_tk_set = False  # the TK of self.ptk went to the driver (hostap ``ptk.installed``)
        self._msg1_since_install = False  # a msg 1 derived a TPTK since the last PTK install
        self._ft_r1: tuple[bytes, bytes, bytes] | None = None  # PMK-R1, PMKR1Name, PMKR0Name
        self._ft_target: bytes | None = None
        self._ft_snonce: bytes | None = None
        self._ft_pending: tuple[bytes, bytes, PTK, bytes] | None = None  # ANonce, SNonce, PTK, R1KH-ID
        if ft is not None:
            self._ft_r1 = pmk_r1(self.pmk, ft.ssid, ft.mdid, ft.r0kh_id, ft.r1kh_id, self.addr, akm)

    # ------------------------------------------------------------------ inputs
    def receive_eapol(
        self, eapol: bytes, *, protected: bool, decrypted_with: str | None = None, now: float
    ) -> list[Command]:
        """Handle one EAPOL frame from the AP (see the module docstring for the delivery model)."""
        if self.state is SupplicantState.DISCONNECTED:
            return [Dropped(DropReason.STATE, "not associated")]
        drop = self._driver_filter(protected, decrypted_with)
        if drop is not None:
            return [drop]
        key = keymsg.front_checks(eapol)
        if isinstance(key, Dropped):
            return [key]
        ki = key.key_info
        if ki & 0x7 != self._dv:
            return [
                Dropped(
                    DropReason.VERSION, f"unexpected Key Descriptor Version {ki & 7} (expected {self._dv})"
                )
            ]
        if self.rx_replay_counter is not None and key.replay_counter <= self.rx_replay_counter:
            return [Dropped(DropReason.REPLAY, "EAPOL-Key Replay Counter did not increase - dropping packet")]
        bits = self._key_info_problem(ki)
        if bits is not None:
            return [Dropped(DropReason.ACK_BITS, bits)]
        verified = None
        if ki & keymsg.KI_MIC:
            verified = self._verify_mic(eapol)
            if verified is None:
                return [Dropped(DropReason.MIC, "Invalid EAPOL-Key MIC - dropping packet")]
            self.rx_replay_counter = key.replay_counter
        plain = key.key_data
        if ki & keymsg.KI_ENCRYPTED:
            if verified is None:
                return [Dropped(DropReason.KEY_DATA, "encrypted Key Data in a frame without a MIC")]
            try:
                plain = keymsg.unwrap_key_data(self.ptk.kek, key, self._dv, self.akm)
            except CryptoError as exc:
                return [Dropped(DropReason.KEY_DATA, f"Failed to decrypt EAPOL-Key key data: {exc}")]
        try:
            items = keymsg.parse_key_data(plain)
        except DecodeError as exc:
            return [Dropped(DropReason.KEY_DATA, f"invalid Key Data: {exc}")]
        if ki & keymsg.KI_PAIRWISE:
            event = SupplicantEvent.MSG3 if verified else SupplicantEvent.MSG1
        else:
            event = SupplicantEvent.GROUP_MSG1
        nxt = TRANSITIONS.get((self.state, event))
        if nxt is None:
            return [Dropped(DropReason.STATE, f"{event.name} in state {self.state.name}")]
        if event is SupplicantEvent.MSG1:
            return self._msg1(key, nxt)
        if event is SupplicantEvent.MSG3:
            return self._msg3(key, items, nxt)
        return self._group_msg1(key, items)

    def timeout(self, name: str, now: float) -> list[Command]:
        """The supplicant arms no timers; any timeout is stale."""
        return [Dropped(DropReason.TIMER, f"no timer {name!r} is armed")]

    def ft_auth_request(self, target_ap: bytes, now: float) -> list[Command]:
        """Start FT over the air to ``target_ap``: an FT Authentication Request (13.5.2)."""
        if self.ft is None or self._ft_r1 is None:
            return [Dropped(DropReason.STATE, "FT is not configured for this association")]
        if self.state is not SupplicantState.PTK_DONE:
            return [Dropped(DropReason.STATE, f"FT authentication in state {self.state.name}")]
        nxt = FT_TRANSITIONS.get((self.ft_state, SupplicantEvent.FT_AUTH_REQUEST))
        if nxt is None:  # pragma: no cover - every FT state allows a new request
            return [Dropped(DropReason.STATE, f"FT authentication in FT state {self.ft_state.name}")]
        target = keymsg.check_addr(target_ap, "target_ap")
        self._ft_snonce = _nonce_checked(self._nonce_source, 32)
        self._ft_target = target
        self._ft_pending = None
        rsne = keymsg.with_pmkid(self.rsne, self._ft_r1[2])
        fte = ft_element(
            anonce=keymsg.ZERO_NONCE, snonce=self._ft_snonce, r0kh_id=self.ft.r0kh_id, r1kh_id=None
        )
        body = AuthBody(AuthAlgorithm.FT, 1, 0, (_element(rsne), _element(self.ft.mde), fte)).encode()
        self.ft_state = nxt
        return [SendMgmt(target, self.addr, MgmtSubtype.AUTH, body)]

    def receive_mgmt(self, subtype: int, body: bytes, src: bytes, now: float) -> list[Command]:
        """FT Authentication / Reassociation Responses, and Deauthentication / Disassociation."""
        if subtype in (MgmtSubtype.DEAUTH, MgmtSubtype.DISASSOC):
            if src != self.ap_addr:
                return [Dropped(DropReason.MGMT, "deauthentication from another station")]
            nxt = TRANSITIONS.get((self.state, SupplicantEvent.DEAUTH))
            if nxt is None:
                return [Dropped(DropReason.STATE, "not associated")]
            self._disconnect()
            return [Log("deauthenticated by the AP; keys dropped")]
        if self.state is SupplicantState.DISCONNECTED:
            return [Dropped(DropReason.STATE, "not associated")]
        if subtype == MgmtSubtype.AUTH:
            return self._ft_auth_response(body, src)
        if subtype == MgmtSubtype.REASSOC_RESP:
            return self._ft_reassoc_response(body, src)
        return [Dropped(DropReason.MGMT, f"management subtype {subtype} is not handled by the supplicant")]

    # ------------------------------------------------------------------ checks
    def _driver_filter(self, protected: bool, decrypted_with: str | None) -> Dropped | None:
        """What the driver lets through to the supplicant (Table 1 Pt.EAPOL / Quick Pt. / Quick Ct.)."""
        dw = decrypted_with or ("ptk" if protected else "none")
        if (
            dw not in ("ptk", "old", "none")
            or (protected and dw == "none")
            or (not protected and dw == "ptk")
        ):
            raise ProtocolError(f"decrypted_with={decrypted_with!r} does not fit protected={protected}")
        p = self.profile
        if protected:
            if not self.ptk_installed:
                return Dropped(DropReason.NO_KEY, "protected EAPOL frame while no PTK is installed")
            if dw == "old" and not p.encrypted_msg3_race:
                return Dropped(
                    DropReason.OLD_KEY, "frame was decrypted with a PTK that is no longer installed"
                )
        elif self.ptk_installed:
            allowed = p.quick_plaintext_race if dw == "old" else p.accepts_plaintext_eapol_after_ptk
            if not allowed:
                return Dropped(
                    DropReason.PLAINTEXT_AFTER_PTK, "unprotected EAPOL frame while a PTK is installed"
                )
        return None

    @staticmethod
    def _key_info_problem(ki: int) -> str | None:
        if ki & keymsg.KI_SMK:
            return "SMK (PeerKey) messages are not supported"
        if not ki & keymsg.KI_ACK:
            return "No Ack bit in key_info"
        if ki & keymsg.KI_REQUEST:
            return "EAPOL-Key with Request bit - dropped"
        if ki & keymsg.KI_PAIRWISE:
            if ki & keymsg.KI_INDEX:
                return "Ignored EAPOL-Key (Pairwise) with non-zero key index"
        elif not ki & keymsg.KI_MIC:
            return "EAPOL-Key (Group) without Mic bit - dropped"
        return None

    def _verify_mic(self, eapol: bytes) -> str | None:
        """TPTK first, then the PTK in use (``wpa_supplicant_verify_eapol_key_mic``). A TPTK that
        verifies becomes the PTK; one that does not stays pending. Returns which key verified."""
        if self.tptk is not None:
            try:
                verify_eapol_key_mic(self.tptk.kck, eapol, descriptor_version=self._dv, akm=self.akm)
            except CryptoError:
                pass
            else:
                self.ptk, self.tptk = self.tptk, None
                self._ptk_tk_set = False
                return "tptk"
        if self.ptk is not None:
            try:
                verify_eapol_key_mic(self.ptk.kck, eapol, descriptor_version=self._dv, akm=self.akm)
            except CryptoError:
                return None
            return "ptk"
        return None

    # ------------------------------------------------------------------ 4-way handshake
    def _derive(self, anonce: bytes, snonce: bytes) -> PTK:
        if self._ft_r1 is not None:
            return derive_ft_ptk(
                self._ft_r1[0], snonce, anonce, self.ap_addr, self.addr, akm=self.akm, cipher=self.pairwise
            )
        return derive_ptk(
            self.pmk, self.ap_addr, self.addr, anonce, snonce, akm=self.akm, cipher=self.pairwise
        )

    def _msg1(self, key: EapolKey, nxt: SupplicantState) -> list[Command]:
        if self._renew_snonce:
            self.snonce = _nonce_checked(self._nonce_source, 32)
            self._renew_snonce = False
        self.anonce = key.nonce
        self.tptk = self._derive(key.nonce, self.snonce)
        self._msg1_since_install = True
        key_data = self.rsne
        if self.ft is not None and self._ft_r1 is not None:
            # FT initial mobility domain association: PMKR1Name in the RSNE, MDE and the FTE the AP
            # sent in its (Re)Association Response (12.7.6.3).
            fte = ft_element(
                anonce=keymsg.ZERO_NONCE,
                snonce=keymsg.ZERO_NONCE,
                r0kh_id=self.ft.r0kh_id,
                r1kh_id=self.ft.r1kh_id,
            )
            key_data = keymsg.with_pmkid(self.rsne, self._ft_r1[1]) + self.ft.mde + fte.encode()
        msg2 = keymsg.build_key(
            eapol_version=self.eapol_version,
            key_info=keymsg.KI_PAIRWISE | keymsg.KI_MIC | self._dv,
            key_length=key.key_length if self.echo_key_length else 0,
            replay_counter=key.replay_counter,
            nonce=self.snonce,
            key_data=key_data,
            kck=self.tptk.kck,
            dv=self._dv,
            akm=self.akm,
        )
        self.state = nxt
        return [SendEAPOL(self.ap_addr, self.addr, msg2, self.ptk_installed)]

    def _msg3(self, key: EapolKey, items: keymsg.KeyDataItems, nxt: SupplicantState) -> list[Command]:
        ki = key.key_info
        if key.nonce != self.anonce:
            return [
                Dropped(
                    DropReason.NONCE,
                    "ANonce from message 1 of 4-Way Handshake differs from 3 of 4-Way Handshake - drop packet",
                )
            ]
        fresh = not self._ptk_tk_set
        if not fresh and not self.profile.accepts_retransmitted_msg3:
            return [
                Dropped(DropReason.RETRANSMISSION, "retransmitted message 3 of the 4-way handshake ignored")
            ]
        if items.gtk is not None and not ki & keymsg.KI_ENCRYPTED:
            return [Dropped(DropReason.KEY_DATA, "GTK IE in unencrypted key data")]
        if items.rsne is None or not keymsg.rsne_matches(self.ap_rsne, items.rsne):
            self._disconnect()
            return [
                Dropped(DropReason.RSNE, "IE in 3/4 msg does not match with IE in Beacon/ProbeResp"),
                Deauthenticate(self.ap_addr, ReasonCode.IE_IN_4WAY_DIFFERS),
            ]
        if self.ft is not None and self._ft_r1 is not None:
            problem = self._ft_msg3_problem(items)
            if problem is not None:
                return [problem]
        bad = self._group_key_problem(items)
        if bad is not None:
            return [bad]
        msg4 = keymsg.build_key(
            eapol_version=self.eapol_version,
            key_info=keymsg.KI_PAIRWISE | keymsg.KI_MIC | (ki & keymsg.KI_SECURE) | self._dv,
            key_length=key.key_length if self.echo_key_length else 0,
            replay_counter=key.replay_counter,
            kck=self.ptk.kck,
            dv=self._dv,
            akm=self.akm,
        )
        self.state = nxt
        # wpa_supplicant sends msg 4 before installing the keys: in the initial handshake it goes
        # out in plaintext, in a rekey (and for a retransmitted msg 3) under the PTK in use.
        out: list[Command] = [SendEAPOL(self.ap_addr, self.addr, msg4, self.ptk_installed)]
        if ki & keymsg.KI_INSTALL:
            out.extend(self._install_ptk(fresh))
        out.extend(self._install_group_keys(items, key.key_rsc))
        self._renew_snonce = True
        self.state = TRANSITIONS[(self.state, SupplicantEvent.MSG4_SENT)]
        return out

    def _ft_msg3_problem(self, items: keymsg.KeyDataItems) -> Dropped | None:
        assert self.ft is not None and self._ft_r1 is not None
        try:
            pmkids = RSNE.decode(items.rsne.data).pmkids if items.rsne is not None else None
        except DecodeError:
            pmkids = None
        if not pmkids or not hmac.compare_digest(pmkids[0], self._ft_r1[1]):
            return Dropped(DropReason.RSNE, "FT: PMKR1Name mismatch in FT 4-way handshake")
        if items.mde is None or items.mde.data[:2] != self.ft.mdid:
            return Dropped(
                DropReason.RSNE, "FT: MDE in msg 3/4 did not match with the current mobility domain"
            )
        return None

    def _group_key_problem(self, items: keymsg.KeyDataItems) -> Dropped | None:
        if items.gtk is not None and len(items.gtk.gtk) != self.group.tk_len:
            return Dropped(
                DropReason.KEY_DATA,
                f"GTK of {len(items.gtk.gtk)} octets for a {self.group.label} group cipher",
            )
        if items.igtk is not None and len(items.igtk.igtk) != self.mgmt_cipher.tk_len:
            return Dropped(DropReason.KEY_DATA, f"IGTK of {len(items.igtk.igtk)} octets")
        return None

    def _install_ptk(self, fresh: bool) -> list[Command]:
        """``wpa_supplicant_install_ptk`` with the profile's deviations (CVE-2017-13077)."""
        assert self.ptk is not None
        p = self.profile
        zero = bytes(len(self.ptk.tk))
        if fresh:
            tk = self.ptk.tk
        elif p.zero_tk is ZeroTk.ON_RETRANSMITTED_MSG3:
            tk = zero  # the TK was cleared from memory after the first install (7d711541d)
        elif p.zero_tk is ZeroTk.AFTER_FORGED_MSG1 and self._msg1_since_install:
            tk = zero  # tk_to_set was set by the msg 1 (ad00d64e7), the TK had been cleared
        elif p.reinstalls_ptk:
            tk = self.ptk.tk
        else:
            return [Log("WPA: Do not re-install same PTK to the driver")]
        self._ptk_tk_set = True
        self._msg1_since_install = False
        self.ptk_installed = True
        cmd = InstallKey(KeyKind.PTK, 0, tk, 0, self.pairwise, self.ap_addr)
        self.installed[KeyKind.PTK] = cmd
        return [cmd]

    def _install_group_keys(self, items: keymsg.KeyDataItems, key_rsc: int) -> list[Command]:
        out: list[Command] = []
        if items.gtk is not None:
            out.extend(self._install_group(KeyKind.GTK, items.gtk.key_id, items.gtk.gtk, key_rsc, self.group))
        if items.igtk is not None and self.pmf:
            igtk = items.igtk
            out.extend(self._install_group(KeyKind.IGTK, igtk.key_id, igtk.igtk, igtk.ipn, self.mgmt_cipher))
        return out

    def _install_group(
        self, kind: KeyKind, key_id: int, key: bytes, rsc: int, cipher: Cipher
    ) -> list[Command]:
        """``wpa_supplicant_install_gtk`` / ``_igtk`` with the profile's deviations (CVE-2017-13078..81)."""
        p = self.profile
        reinstall = p.reinstalls_gtk if kind is KeyKind.GTK else p.reinstalls_igtk
        prev = self.installed.get(kind)
        if not reinstall and prev is not None and hmac.compare_digest(prev.key, key):
            return [Log(f"WPA: Not reinstalling already in-use {kind.name} to the driver (keyidx={key_id})")]
        cmd = InstallKey(
            kind, key_id, bytes(key), (rsc & _PN_MASK) if p.honours_key_rsc else 0, cipher, self.ap_addr
        )
        self.installed[kind] = cmd
        return [cmd]

    # ------------------------------------------------------------------ group key handshake
    def _group_msg1(self, key: EapolKey, items: keymsg.KeyDataItems) -> list[Command]:
        if not key.key_info & keymsg.KI_ENCRYPTED:
            return [Dropped(DropReason.KEY_DATA, "Group Key msg 1/2 without encrypted Key Data")]
        if items.gtk is None:
            return [Dropped(DropReason.KEY_DATA, "No GTK KDE in Group Key msg 1/2")]
        bad = self._group_key_problem(items)
        if bad is not None:
            return [bad]
        out = self._install_group_keys(items, key.key_rsc)
        msg2 = keymsg.build_key(
            eapol_version=self.eapol_version,
            key_info=keymsg.KI_MIC | keymsg.KI_SECURE | self._dv,
            key_length=key.key_length if self.echo_key_length else 0,
            replay_counter=key.replay_counter,
            kck=self.ptk.kck,
            dv=self._dv,
            akm=self.akm,
        )
        out.append(SendEAPOL(self.ap_addr, self.addr, msg2, self.ptk_installed))
        return out

    # ------------------------------------------------------------------ FT over the air
    def _ft_auth_response(self, body: bytes, src: bytes) -> list[Command]:
        if self.ft is None or self._ft_r1 is None:
            return [Dropped(DropReason.STATE, "FT is not configured for this association")]
        try:
            auth = decode_mgmt_body(MgmtSubtype.AUTH, body)
        except DecodeError as exc:
            return [Dropped(DropReason.MGMT, f"malformed Authentication frame: {exc}")]
        if auth.algorithm != AuthAlgorithm.FT or auth.seq != 2:
            return [
                Dropped(
                    DropReason.MGMT, f"Authentication algorithm {auth.algorithm} seq {auth.seq} is not FT 2"
                )
            ]
        nxt = FT_TRANSITIONS.get((self.ft_state, SupplicantEvent.FT_AUTH_RESPONSE))
        if nxt is None or src != self._ft_target:
            return [Dropped(DropReason.STATE, "FT Authentication Response without a pending request")]
        if auth.status != 0:
            self.ft_state = FTState.IDLE
            return [Dropped(DropReason.MGMT, f"FT authentication refused with status {auth.status}")]
        parsed = self._ft_parse(auth.elements)
        if isinstance(parsed, Dropped):
            return [parsed]
        _, _, fte = parsed
        if self._ft_snonce is None or fte.snonce != self._ft_snonce:
            return [Dropped(DropReason.NONCE, "FT: SNonce mismatch in FT Authentication Response")]
        r1kh = fte.r1kh_id
        if r1kh is None or len(r1kh) != 6:
            return [Dropped(DropReason.MGMT, "FT: no valid R1KH-ID in FT Authentication Response")]
        r1, r1_name, _ = pmk_r1(
            self.pmk, self.ft.ssid, self.ft.mdid, self.ft.r0kh_id, r1kh, self.addr, self.akm
        )
        ptk = derive_ft_ptk(r1, fte.snonce, fte.anonce, src, self.addr, akm=self.akm, cipher=self.pairwise)
        self._ft_pending = (fte.anonce, fte.snonce, ptk, r1kh)
        rsne = keymsg.with_pmkid(self.rsne, r1_name)
        mde = self.ft.mde
        sealed = seal_fte(
            ft_element(anonce=fte.anonce, snonce=fte.snonce, r0kh_id=self.ft.r0kh_id, r1kh_id=r1kh),
            kck=ptk.kck,
            sta=self.addr,
            ap=src,
            seq=FTReassocSeq.REQUEST,
            rsne=rsne,
            mde=mde,
            akm=self.akm,
        )
        ssid = Element(ElementID.SSID, self.ft.ssid)
        req = AssocReqBody(
            _CAPABILITY, _LISTEN_INTERVAL, self.ap_addr, (ssid, _element(rsne), _element(mde), sealed)
        )
        self.ft_state = nxt
        return [SendMgmt(src, self.addr, MgmtSubtype.REASSOC_REQ, req.encode())]

    def _ft_reassoc_response(self, body: bytes, src: bytes) -> list[Command]:
        if self.ft is None:
            return [Dropped(DropReason.STATE, "FT is not configured for this association")]
        try:
            resp = decode_mgmt_body(MgmtSubtype.REASSOC_RESP, body)
        except DecodeError as exc:
            return [Dropped(DropReason.MGMT, f"malformed Reassociation Response: {exc}")]
        nxt = FT_TRANSITIONS.get((self.ft_state, SupplicantEvent.FT_REASSOC_RESPONSE))
        main = TRANSITIONS.get((self.state, SupplicantEvent.FT_REASSOC_RESPONSE))
        if nxt is None or main is None or src != self._ft_target or self._ft_pending is None:
            return [
                Dropped(
                    DropReason.STATE,
                    "FT: Reassociation has already been completed for this FT protocol instance - "
                    "ignore unexpected retransmission",
                )
            ]
        if resp.status != 0:
            self.ft_state = FTState.IDLE
            return [Dropped(DropReason.MGMT, f"FT reassociation refused with status {resp.status}")]
        parsed = self._ft_parse(resp.elements)
        if isinstance(parsed, Dropped):
            return [parsed]
        rsne_el, mde_el, fte = parsed
        anonce, snonce, ptk, r1kh = self._ft_pending
        if fte.anonce != anonce or fte.snonce != snonce:
            return [Dropped(DropReason.NONCE, "FT: ANonce/SNonce mismatch in Reassociation Response")]
        fte_el = next(e for e in resp.elements if e.id == ElementID.FAST_BSS_TRANSITION)
        try:
            verify_ft_mic(
                ptk.kck,
                self.addr,
                src,
                FTReassocSeq.RESPONSE,
                rsne_el.encode(),
                mde_el.encode(),
                fte_el.encode(),
                akm=self.akm,
            )
        except CryptoError:
            return [Dropped(DropReason.MIC, "FT: Invalid MIC in Reassociation Response")]
        group = self._ft_group_keys(fte, ptk)
        if isinstance(group, Dropped):
            return [group]
        items, gtk_rsc = group
        # Now associated with the target: new PTK, new replay counter space, same mobility domain.
        self.ap_addr = src
        self.ptk, self.tptk = ptk, None
        self.anonce, self.snonce = anonce, snonce
        self.rx_replay_counter = None
        self._renew_snonce = True
        self._ptk_tk_set = False
        self.ft = FTConfig(self.ft.mdid, self.ft.r0kh_id, r1kh, self.ft.ssid, self.ft.ft_capability)
        self._ft_r1 = pmk_r1(self.pmk, self.ft.ssid, self.ft.mdid, self.ft.r0kh_id, r1kh, self.addr, self.akm)
        self._ft_pending = None
        self.ft_state = nxt
        self.state = main
        return self._install_ptk(fresh=True) + self._install_group_keys(items, gtk_rsc)

    def _ft_parse(self, elements: tuple[Element, ...]) -> tuple[Element, Element, FTE] | Dropped:
        assert self.ft is not None
        rsne_el, mde_el, fte_el = ft_elements(elements)
        if rsne_el is None or mde_el is None or fte_el is None:
            return Dropped(DropReason.MGMT, "FT: RSNE, MDE or FTE missing")
        try:
            fte = FTE.decode(fte_el.data)
        except DecodeError as exc:
            return Dropped(DropReason.MGMT, f"FT: invalid FTE: {exc}")
        if mde_el.data[:2] != self.ft.mdid:
            return Dropped(DropReason.RSNE, "FT: MDE does not match the current mobility domain")
        if fte.r0kh_id != self.ft.r0kh_id:
            return Dropped(DropReason.MGMT, "FT: R0KH-ID mismatch")
        return rsne_el, mde_el, fte

    def _ft_group_keys(self, fte: FTE, ptk: PTK) -> tuple[keymsg.KeyDataItems, int] | Dropped:
        """GTK and IGTK from the FTE subelements, AES-key-unwrapped with the KEK (13.8.5), and the
        GTK's RSC."""
        items = keymsg.KeyDataItems()
        rsc = 0
        try:
            gtk = fte.gtk
            igtk = fte.igtk
            if gtk is not None:
                plain = aes_key_unwrap(ptk.kek, gtk.wrapped_key)[: gtk.key_length]
                items.gtk = GtkKDE(gtk.key_id, False, plain)
                rsc = gtk.rsc
            if igtk is not None:
                plain = aes_key_unwrap(ptk.kek, igtk.wrapped_key)[: igtk.key_length]
                items.igtk = IgtkKDE(igtk.key_id, igtk.ipn, plain)
        except (DecodeError, CryptoError) as exc:
            return Dropped(DropReason.KEY_DATA, f"FT: invalid GTK/IGTK subelement: {exc}")
        bad = self._group_key_problem(items)
        return bad if bad is not None else (items, rsc)

    def _disconnect(self) -> None:
        self.state = SupplicantState.DISCONNECTED
        self.ft_state = FTState.IDLE
        self.ptk = self.tptk = None
        self.ptk_installed = False
        self.installed.clear()


def _element(raw: bytes) -> Element:
    """An Element from element bytes (ID, Length, information)."""
    return Element(raw[0], bytes(raw[2:]))
