"""Sans-IO authenticator: hostapd's per-station WPA_PTK and WPA_PTK_GROUP state machines (names from
``src/ap/wpa_auth_i.h``), the shared group keys, and the AP side of FT over the air.

Timers and retries follow hostapd [research 3.3]: every EAPOL-Key frame gets the next replay counter
and the last four stay pending; a message is retransmitted after 100 ms (500 ms for group msg 1) and
then every second; after ``eapol_retries`` unanswered transmissions the station is deauthenticated.
Received frames are checked as in hostapd's ``wpa_receive``: length, descriptor type, descriptor
version, replay counter, Key Information bits, state, MIC, then the message itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from enum import Enum
from types import MappingProxyType

from krackwatch.crypto.errors import CryptoError
from krackwatch.crypto.ft import derive_ft_ptk, verify_ft_mic
from krackwatch.crypto.keywrap import aes_key_wrap
from krackwatch.crypto.mic import verify_eapol_key_mic
from krackwatch.crypto.ptk import PTK, derive_ptk, pmkid
from krackwatch.crypto.suites import AKM, Cipher
from krackwatch.protocol import keymsg
from krackwatch.protocol.commands import (
    CancelTimer,
    Command,
    Deauthenticate,
    Dropped,
    DropReason,
    InstallKey,
    KeyKind,
    Log,
    SendEAPOL,
    SendMgmt,
    SetTimer,
)
from krackwatch.protocol.errors import ProtocolError
from krackwatch.protocol.ft import FTConfig, FTReassocSeq, ft_element, ft_elements, pmk_r1, seal_fte
from krackwatch.protocol.profile import GtkInstall, Profile
from krackwatch.wire.dot11 import (
    AssocRespBody,
    AuthAlgorithm,
    AuthBody,
    MgmtSubtype,
    ReasonCode,
    decode_mgmt_body,
)
from krackwatch.wire.eapol import EapolKey, GtkKDE, IgtkKDE, PmkidKDE, pad_key_data
from krackwatch.wire.elements import FTE, RSNE, Element, FtGtk, FtIgtk, FTSubelement, FTSubelementID
from krackwatch.wire.errors import DecodeError

__all__ = [
    "GROUP_TIMER",
    "GROUP_TRANSITIONS",
    "MAX_RSC",
    "PAIRWISE_TIMER",
    "TRANSITIONS",
    "Authenticator",
    "AuthenticatorEvent",
    "AuthenticatorState",
    "GroupKeyState",
    "GroupState",
]

NonceSource = Callable[[int], bytes]

PAIRWISE_TIMER = "eapol-pairwise"
GROUP_TIMER = "eapol-group"
MAX_RSC = 0x02FFFF  # krackattacks-scripts "maxrsc": high but below wpa_supplicant's RSC relaxation [1.2]
_PENDING_COUNTERS = 4  # RSNA_MAX_EAPOL_RETRIES: replay counters hostapd keeps valid [3.3]
_CAPABILITY = 0x0011  # ESS | Privacy
_AID_FIELD = 0xC001  # AID 1 with b14-15 set (9.4.1.8)


def _nonce(source: NonceSource, n: int) -> bytes:
    value = source(n)
    if not isinstance(value, (bytes, bytearray)) or len(value) != n:
        raise ProtocolError(f"nonce_source({n}) must return {n} octets")
    return bytes(value)


# --------------------------------------------------------------------------- group keys


class GroupState:
    """The group keys one AP shares among its stations (hostapd ``struct wpa_group``).

    ``gtk``/``gtk_id`` is the newest GTK (key ids alternate 1, 2) and ``igtk``/``igtk_id`` the newest
    IGTK (4, 5) when PMF is on; handshakes distribute these. ``tx_gtk_id`` is the GTK the AP
    transmits group frames with: with delayed installation it lags behind ``gtk_id`` until every
    station acknowledged the new key. Packet numbers are kept per key id: ``tx_pn`` is the PN of the
    last group frame sent under the transmit GTK (the lab advances it, or resets it to model
    ``RESET_PN``), and the Key RSC of a handshake message is the PN of the GTK it carries.
    """

    def __init__(
        self,
        *,
        cipher: Cipher = Cipher.CCMP128,
        nonce_source: NonceSource,
        pmf: bool = False,
        mgmt_cipher: Cipher = Cipher.BIP_CMAC128,
    ) -> None:
        if cipher not in keymsg.DATA_CIPHERS:
            raise ProtocolError(f"group cipher {cipher!r} is not supported")
        if pmf and mgmt_cipher not in keymsg.MGMT_CIPHERS:
            raise ProtocolError(f"group management cipher {mgmt_cipher!r} is not a BIP suite")
        self.cipher = cipher
        self.mgmt_cipher = mgmt_cipher
        self.pmf = pmf
        self._nonce_source = nonce_source
        self.gtk_id = 1
        self.gtk = _nonce(nonce_source, cipher.tk_len)
        self.igtk_id = 4
        self.igtk: bytes | None = _nonce(nonce_source, mgmt_cipher.tk_len) if pmf else None
        self._pn: dict[int, int] = {1: 0}
        self._ipn: dict[int, int] = {4: 0}
        self.tx_gtk_id: int | None = None
        self.tx_igtk_id: int | None = None
        self._tx_gtk = b""
        self._tx_igtk = b""
        self.stations: set[bytes] = set()  # stations holding a completed PTK handshake
        self.awaiting: set[bytes] = set()  # stations that have not acknowledged the newest GTK
        # hostapd's 256-bit GKeyCounter; its low 128 bits are the EAPOL-Key IV of RC4 key data.
        self._counter = int.from_bytes(_nonce(nonce_source, 32), "big")

    def new_gtk(self, nonce_source: NonceSource | None = None) -> None:
        """Generate the next GTK (and IGTK) in the other key slot; every station must now get it."""
        source = nonce_source or self._nonce_source
        self.gtk_id = 3 - self.gtk_id
        self.gtk = _nonce(source, self.cipher.tk_len)
        self._pn[self.gtk_id] = 0
        if self.pmf:
            self.igtk_id = 9 - self.igtk_id
            self.igtk = _nonce(source, self.mgmt_cipher.tk_len)
            self._ipn[self.igtk_id] = 0
        self.awaiting = set(self.stations)

    def pn(self, key_id: int) -> int:
        """PN of the last group frame sent under GTK ``key_id`` (0 if none)."""
        return self._pn.get(key_id, 0)

    def ipn(self, key_id: int) -> int:
        return self._ipn.get(key_id, 0)

    @property
    def tx_pn(self) -> int:
        return self._pn.get(self.tx_gtk_id, 0) if self.tx_gtk_id is not None else 0

    @tx_pn.setter
    def tx_pn(self, value: int) -> None:
        if self.tx_gtk_id is None:
            raise ProtocolError("no GTK is installed for transmission yet")
        if not 0 <= value < 1 << 48:
            raise ProtocolError("a PN is a 48-bit counter")
        self._pn[self.tx_gtk_id] = value

    @property
    def tx_ipn(self) -> int:
        return self._ipn.get(self.tx_igtk_id, 0) if self.tx_igtk_id is not None else 0

    @tx_ipn.setter
    def tx_ipn(self, value: int) -> None:
        if self.tx_igtk_id is None:
            raise ProtocolError("no IGTK is installed for transmission yet")
        if not 0 <= value < 1 << 48:
            raise ProtocolError("an IPN is a 48-bit counter")
        self._ipn[self.tx_igtk_id] = value

    def next_key_iv(self) -> bytes:
        """EAPOL-Key IV for RC4 key data: the low 128 bits of GKeyCounter, which then increments."""
        iv = (self._counter & ((1 << 128) - 1)).to_bytes(16, "big")
        self._counter = (self._counter + 1) % (1 << 256)
        return iv

    def install_tx(self) -> list[Command]:
        """Start transmitting with the newest GTK/IGTK (commands only when they change)."""
        out: list[Command] = []
        if self.tx_gtk_id != self.gtk_id or self._tx_gtk != self.gtk:
            self.tx_gtk_id, self._tx_gtk = self.gtk_id, self.gtk
            out.append(
                InstallKey(KeyKind.GTK, self.gtk_id, self.gtk, self.pn(self.gtk_id), self.cipher, None)
            )
        if self.igtk is not None and (self.tx_igtk_id != self.igtk_id or self._tx_igtk != self.igtk):
            self.tx_igtk_id, self._tx_igtk = self.igtk_id, self.igtk
            out.append(
                InstallKey(
                    KeyKind.IGTK, self.igtk_id, self.igtk, self.ipn(self.igtk_id), self.mgmt_cipher, None
                )
            )
        return out

    def join(self, sta: bytes) -> list[Command]:
        """A station completed a PTK handshake (it got the newest GTK in msg 3 or FT)."""
        self.stations.add(sta)
        self.awaiting.discard(sta)
        return self.install_tx() if self.tx_gtk_id is None else []

    def acknowledged(self, sta: bytes, mode: GtkInstall) -> list[Command]:
        """``sta`` acknowledged the newest GTK; with delayed install the last one switches TX keys."""
        self.awaiting.discard(sta)
        if mode is GtkInstall.DELAYED and not self.awaiting:
            return self.install_tx()
        return []

    def leave(self, sta: bytes, mode: GtkInstall) -> list[Command]:
        self.stations.discard(sta)
        if sta in self.awaiting:
            return self.acknowledged(sta, mode)
        return []


# --------------------------------------------------------------------------- states and tables


class AuthenticatorState(Enum):
    """hostapd ``enum wpa_ptk_state`` (the 802.11 Authenticator 4-way handshake states)."""

    INITIALIZE = 0
    DISCONNECT = 1
    DISCONNECTED = 2
    AUTHENTICATION = 3
    AUTHENTICATION2 = 4
    INITPMK = 5
    INITPSK = 6
    PTKSTART = 7
    PTKCALCNEGOTIATING = 8
    PTKCALCNEGOTIATING2 = 9
    PTKINITNEGOTIATING = 10
    PTKINITDONE = 11


class GroupKeyState(Enum):
    """hostapd ``enum wpa_ptk_group_state`` (per-station group key handshake)."""

    IDLE = 0
    REKEYNEGOTIATING = 1
    REKEYESTABLISHED = 2
    KEYERROR = 3


class AuthenticatorEvent(Enum):
    START = 1
    UCT = 2  # unconditional transition
    USE_PSK = 3
    USE_PMK = 4
    MSG2 = 5
    MSG4 = 6
    TIMEOUT = 7
    RETRY_LIMIT = 8
    PTK_REKEY = 9
    FT_AUTH = 10
    FT_REASSOC = 11
    DEAUTH = 12
    GROUP_REKEY = 13
    GROUP_MSG2 = 14


_A = AuthenticatorState
_G = GroupKeyState
_V = AuthenticatorEvent

TRANSITIONS: Mapping[tuple[AuthenticatorState, AuthenticatorEvent], AuthenticatorState] = MappingProxyType(
    {
        (_A.INITIALIZE, _V.START): _A.AUTHENTICATION,
        (_A.AUTHENTICATION, _V.UCT): _A.AUTHENTICATION2,
        (_A.AUTHENTICATION2, _V.USE_PSK): _A.INITPSK,
        (_A.AUTHENTICATION2, _V.USE_PMK): _A.INITPMK,
        (_A.INITPSK, _V.UCT): _A.PTKSTART,
        (_A.INITPMK, _V.UCT): _A.PTKSTART,
        (_A.PTKSTART, _V.TIMEOUT): _A.PTKSTART,
        (_A.PTKSTART, _V.MSG2): _A.PTKCALCNEGOTIATING,
        (_A.PTKCALCNEGOTIATING, _V.UCT): _A.PTKCALCNEGOTIATING2,
        (_A.PTKCALCNEGOTIATING2, _V.UCT): _A.PTKINITNEGOTIATING,
        (_A.PTKINITNEGOTIATING, _V.TIMEOUT): _A.PTKINITNEGOTIATING,
        (_A.PTKINITNEGOTIATING, _V.MSG4): _A.PTKINITDONE,
        (_A.PTKSTART, _V.RETRY_LIMIT): _A.DISCONNECT,
        (_A.PTKINITNEGOTIATING, _V.RETRY_LIMIT): _A.DISCONNECT,
        (_A.PTKINITDONE, _V.RETRY_LIMIT): _A.DISCONNECT,  # group key handshake failed (KEYERROR)
        (_A.DISCONNECT, _V.UCT): _A.DISCONNECTED,
        (_A.PTKINITDONE, _V.PTK_REKEY): _A.PTKSTART,
        (_A.INITIALIZE, _V.FT_AUTH): _A.INITIALIZE,
        (_A.PTKINITDONE, _V.FT_AUTH): _A.PTKINITDONE,
        (_A.INITIALIZE, _V.FT_REASSOC): _A.PTKINITDONE,
        (_A.PTKINITDONE, _V.FT_REASSOC): _A.PTKINITDONE,  # a replayed Reassociation Request
        **{(s, _V.DEAUTH): _A.DISCONNECTED for s in _A if s not in (_A.DISCONNECTED, _A.DISCONNECT)},
    }
)
"""WPA_PTK transitions (hostapd ``SM_STEP(WPA_PTK)``); pairs not listed are dropped."""

GROUP_TRANSITIONS: Mapping[tuple[GroupKeyState, AuthenticatorEvent], GroupKeyState] = MappingProxyType(
    {
        (_G.IDLE, _V.GROUP_REKEY): _G.REKEYNEGOTIATING,
        (_G.REKEYNEGOTIATING, _V.GROUP_REKEY): _G.REKEYNEGOTIATING,
        (_G.REKEYNEGOTIATING, _V.TIMEOUT): _G.REKEYNEGOTIATING,
        (_G.REKEYNEGOTIATING, _V.GROUP_MSG2): _G.REKEYESTABLISHED,
        (_G.REKEYESTABLISHED, _V.UCT): _G.IDLE,
        # KEYERROR disconnects the station (WPA_PTK DISCONNECT), which resets this machine to IDLE.
        (_G.REKEYNEGOTIATING, _V.RETRY_LIMIT): _G.KEYERROR,
    }
)
"""WPA_PTK_GROUP transitions (hostapd ``SM_STEP(WPA_PTK_GROUP)``)."""


# --------------------------------------------------------------------------- the machine


class Authenticator:
    """The authenticator of one AP for one station (create one per association).

    ``pmk`` is the PSK / 802.1X PMK, or XXKey with an FT AKM (then ``ft`` is required and this
    authenticator also acts as R0KH and R1KH). ``rsne`` is the AP's advertised RSNE and ``sta_rsne``
    the one from the station's (Re)Association Request (element bytes; both default to the element
    built from the suites). ``eapol_version`` is hostapd's ``eapol_version`` (2).
    """

    def __init__(
        self,
        profile: Profile,
        *,
        addr: bytes,
        sta_addr: bytes,
        pmk: bytes,
        akm: AKM = AKM.PSK,
        pairwise: Cipher = Cipher.CCMP128,
        group_state: GroupState,
        pmf: bool = False,
        ft: FTConfig | None = None,
        nonce_source: NonceSource,
        rsne: bytes | None = None,
        sta_rsne: bytes | None = None,
        eapol_version: int = 2,
    ) -> None:
        keymsg.check_suites(akm, pairwise, group_state.cipher, group_state.mgmt_cipher if pmf else None)
        if pmf and not group_state.pmf:
            raise ProtocolError("PMF needs a GroupState created with pmf=True (it holds the IGTK)")
        keymsg.check_config(pmk, akm, ft, nonce_source)
        self.profile = profile
        self.addr = keymsg.check_addr(addr, "addr")
        self.sta_addr = keymsg.check_addr(sta_addr, "sta_addr")
        self.pmk = bytes(pmk)
        self.akm = akm
        self.pairwise = pairwise
        self.group = group_state
        self.pmf = pmf
        self.ft = ft
        self.eapol_version = eapol_version
        built = keymsg.rsn_element(
            akm=akm, pairwise=pairwise, group=group_state.cipher, pmf=pmf, mgmt_cipher=group_state.mgmt_cipher
        )
        self.rsne = bytes(rsne) if rsne is not None else built
        self.sta_rsne = bytes(sta_rsne) if sta_rsne is not None else built
        self._nonce_source = nonce_source
        self._dv = keymsg.descriptor_version(akm, pairwise)

        self.state = AuthenticatorState.INITIALIZE
        self.group_key_state = GroupKeyState.IDLE
        self.anonce: bytes | None = None
        self.snonce: bytes | None = None
        self.ptk: PTK | None = None  # the PTK negotiated last (installed at PTKINITDONE)
        self.ptk_installed = False  # a TK for this station is in the driver
        self.replay_counter = 0  # the last Key Replay Counter used
        self._pending: list[int] = []  # replay counters a reply may still carry
        self._request_counter: int | None = None
        self._timeout_ctr = 0
        self._gtimeout_ctr = 0
        self._timers: dict[str, float] = {}
        self._ft_r1: tuple[bytes, bytes, bytes] | None = None
        self._ft_ctx: tuple[bytes, bytes, PTK] | None = None  # ANonce, SNonce, PTK of FT auth
        self._tk_already_set = False
        if ft is not None:
            self._ft_r1 = pmk_r1(self.pmk, ft.ssid, ft.mdid, ft.r0kh_id, ft.r1kh_id, self.sta_addr, akm)

    # ------------------------------------------------------------------ driver-facing API
    def start(self, now: float) -> list[Command]:
        """The station associated: start the 4-way handshake (msg 1 and its timer)."""
        return self._event(AuthenticatorEvent.START, now)

    def rekey_ptk(self, now: float) -> list[Command]:
        """PTK rekey: a new 4-way handshake under the current PTK. hostapd 0adc9b28b assigns a new
        ANonce and clears TimeoutCtr first; without that fix both carry over."""
        if (self.state, AuthenticatorEvent.PTK_REKEY) not in TRANSITIONS:
            return [Dropped(DropReason.STATE, f"PTK rekey in state {self.state.name}")]
        if self.profile.fresh_anonce_on_rekey:
            self.anonce = _nonce(self._nonce_source, 32)
            self._timeout_ctr = 0
        return self._event(AuthenticatorEvent.PTK_REKEY, now)

    def rekey_gtk(self, now: float) -> list[Command]:
        """Group key handshake with this station for the newest GTK (call ``GroupState.new_gtk``
        first to change it). With immediate installation the AP starts using the new GTK now."""
        if self.state is not AuthenticatorState.PTKINITDONE:
            return [Dropped(DropReason.STATE, f"group key handshake in state {self.state.name}")]
        if (self.group_key_state, AuthenticatorEvent.GROUP_REKEY) not in GROUP_TRANSITIONS:
            return [Dropped(DropReason.STATE, f"group key handshake in state {self.group_key_state.name}")]
        out: list[Command] = []
        if self.profile.gtk_install is GtkInstall.IMMEDIATE:
            out.extend(self.group.install_tx())
        self._gtimeout_ctr = 0
        out.extend(self._group_event(AuthenticatorEvent.GROUP_REKEY, now))
        return out

    def timeout(self, name: str, now: float) -> list[Command]:
        """A timer set with ``SetTimer`` expired: retransmit, or give up after the retry limit."""
        deadline = self._timers.get(name)
        if deadline is None:
            return [Dropped(DropReason.TIMER, f"timer {name!r} is not armed")]
        if now < deadline - 1e-9:
            return [Dropped(DropReason.TIMER, f"timer {name!r} fires at {deadline}, not {now}")]
        del self._timers[name]
        if name == PAIRWISE_TIMER:
            return self._event(AuthenticatorEvent.TIMEOUT, now)
        return self._group_event(AuthenticatorEvent.TIMEOUT, now)

    def receive_eapol(self, eapol: bytes, *, protected: bool, now: float) -> list[Command]:
        """An EAPOL frame from the station (``protected``: it arrived encrypted; hostapd does not
        look at that)."""
        if self.state in (AuthenticatorState.INITIALIZE, AuthenticatorState.DISCONNECTED):
            return [Dropped(DropReason.STATE, f"no key handshake with this station ({self.state.name})")]
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
        request = bool(ki & keymsg.KI_REQUEST)
        if request:
            if self._request_counter is not None and key.replay_counter <= self._request_counter:
                return [Dropped(DropReason.REPLAY, "received EAPOL-Key request with replayed counter")]
        elif key.replay_counter not in self._valid_counters():
            return [Dropped(DropReason.REPLAY, "received EAPOL-Key with unexpected replay counter")]
        if ki & (keymsg.KI_ACK | keymsg.KI_SMK) or not ki & keymsg.KI_MIC:
            return [
                Dropped(DropReason.ACK_BITS, "EAPOL-Key from a station with Ack or SMK set, or no MIC bit")
            ]
        if request:
            return self._request(eapol, key, now)
        if not ki & keymsg.KI_PAIRWISE:
            return self._group_msg2(eapol, now)
        if key.key_data:
            return self._msg2(eapol, key, now)
        return self._msg4(eapol, now)

    def receive_mgmt(self, subtype: int, body: bytes, src: bytes, now: float) -> list[Command]:
        """FT Authentication / Reassociation Requests (CVE-2017-13082), Deauthentication and
        Disassociation from the station."""
        if src != self.sta_addr:
            return [Dropped(DropReason.MGMT, "management frame from another station")]
        if subtype in (MgmtSubtype.DEAUTH, MgmtSubtype.DISASSOC):
            if (self.state, AuthenticatorEvent.DEAUTH) not in TRANSITIONS:
                return [Dropped(DropReason.STATE, "station is not associated")]
            return self._event(AuthenticatorEvent.DEAUTH, now) + [Log("station left; keys dropped")]
        if subtype == MgmtSubtype.AUTH:
            return self._ft_auth(body, now)
        if subtype == MgmtSubtype.REASSOC_REQ:
            return self._ft_reassoc(body, now)
        return [Dropped(DropReason.MGMT, f"management subtype {subtype} is not handled by the authenticator")]

    # ------------------------------------------------------------------ test AP controls
    def resend_m1(self, now: float, *, change_anonce: bool = False, plaintext: bool = False) -> list[Command]:
        """hostapd ``RESEND_M1 [change-anonce]``: a new msg 1 with the current (or a fresh) ANonce."""
        if self.anonce is None or self.state is AuthenticatorState.DISCONNECTED:
            return [Dropped(DropReason.STATE, "no 4-way handshake to resend")]
        if change_anonce:
            self.anonce = _nonce(self._nonce_source, 32)
        return [self._msg1_command(force_plaintext=plaintext)]

    def resend_m3(self, now: float, *, max_rsc: bool = False, plaintext: bool = False) -> list[Command]:
        """hostapd ``RESEND_M3 [maxrsc]`` of the krackattacks-scripts AP: msg 3 for the current PTK
        with Key RSC 0 (or ``MAX_RSC``) and IPN 0 [1.2]."""
        if self.ptk is None or self.state is AuthenticatorState.DISCONNECTED:
            return [Dropped(DropReason.STATE, "no PTK to send msg 3 for")]
        rsc = MAX_RSC if max_rsc else 0
        return [self._msg3_command(rsc=rsc, ipn=0, force_plaintext=plaintext)]

    def resend_group_m1(self, now: float, *, max_rsc: bool = False, plaintext: bool = False) -> list[Command]:
        """hostapd ``RESEND_GROUP_M1 [maxrsc]``: group msg 1 for the newest GTK with Key RSC 0 (or
        ``MAX_RSC``) [1.2]."""
        if self.state is not AuthenticatorState.PTKINITDONE:
            return [Dropped(DropReason.STATE, f"group msg 1 in state {self.state.name}")]
        rsc = MAX_RSC if max_rsc else 0
        return [self._group_msg1_command(rsc=rsc, ipn=0, force_plaintext=plaintext)]

    # ------------------------------------------------------------------ state machine core
    def _event(self, event: AuthenticatorEvent, now: float) -> list[Command]:
        out: list[Command] = []
        while event is not None:
            nxt = TRANSITIONS.get((self.state, event))
            if nxt is None:
                return out + [Dropped(DropReason.STATE, f"{event.name} in state {self.state.name}")]
            self.state = nxt
            event = self._enter(nxt, now, out)
        return out

    def _enter(self, state: AuthenticatorState, now: float, out: list[Command]) -> AuthenticatorEvent | None:
        """Entry actions (hostapd ``SM_STATE``); returns the event that follows, if any."""
        S, E = AuthenticatorState, AuthenticatorEvent
        if state is S.AUTHENTICATION:
            return E.UCT
        if state is S.AUTHENTICATION2:
            self.anonce = _nonce(self._nonce_source, 32)
            self._timeout_ctr = 0
            return E.USE_PSK if self.akm.is_psk else E.USE_PMK
        if state in (S.INITPSK, S.INITPMK):
            return E.UCT
        if state is S.PTKSTART:
            self._timeout_ctr += 1
            if self._timeout_ctr > self.profile.eapol_retries:
                return E.RETRY_LIMIT  # "No point in sending the EAPOL-Key - we will disconnect"
            out.append(self._msg1_command())
            out.append(self._set_timer(PAIRWISE_TIMER, now, self._timeout_ctr, group=False))
            return None
        if state is S.PTKCALCNEGOTIATING:
            return E.UCT  # the MIC of msg 2 was verified before the transition
        if state is S.PTKCALCNEGOTIATING2:
            self._timeout_ctr = 0
            return E.UCT
        if state is S.PTKINITNEGOTIATING:
            self._timeout_ctr += 1
            if self._timeout_ctr > self.profile.eapol_retries:
                return E.RETRY_LIMIT
            out.append(self._msg3_command(rsc=self.group.pn(self.group.gtk_id), ipn=self._igtk_ipn()))
            out.append(self._set_timer(PAIRWISE_TIMER, now, self._timeout_ctr, group=False))
            return None
        if state is S.PTKINITDONE:
            out.extend(self._cancel_timer(PAIRWISE_TIMER))
            out.append(self._install_ptk())
            out.extend(self.group.join(self.sta_addr))
            out.append(Log("pairwise key handshake completed (RSN)"))
            return None
        if state is S.DISCONNECT:
            out.append(Deauthenticate(self.sta_addr, self.profile.deauth_reason))
            return E.UCT
        if state is S.DISCONNECTED:
            out.extend(self._cancel_timer(PAIRWISE_TIMER))
            out.extend(self._cancel_timer(GROUP_TIMER))
            out.extend(self.group.leave(self.sta_addr, self.profile.gtk_install))
            self.group_key_state = GroupKeyState.IDLE
            self.ptk = None
            self.ptk_installed = False
            self._pending.clear()
            self._ft_ctx = None
            return None
        return None  # pragma: no cover - INITIALIZE is never entered again

    def _group_event(self, event: AuthenticatorEvent, now: float) -> list[Command]:
        out: list[Command] = []
        while event is not None:
            nxt = GROUP_TRANSITIONS.get((self.group_key_state, event))
            if nxt is None:
                return out + [
                    Dropped(DropReason.STATE, f"{event.name} in group state {self.group_key_state.name}")
                ]
            self.group_key_state = nxt
            event = self._enter_group(nxt, now, out)
        return out

    def _enter_group(self, state: GroupKeyState, now: float, out: list[Command]) -> AuthenticatorEvent | None:
        G, E = GroupKeyState, AuthenticatorEvent
        if state is G.REKEYNEGOTIATING:
            self._gtimeout_ctr += 1
            if self._gtimeout_ctr > self.profile.eapol_retries:
                return E.RETRY_LIMIT
            out.append(self._group_msg1_command(rsc=self.group.pn(self.group.gtk_id), ipn=self._igtk_ipn()))
            out.append(self._set_timer(GROUP_TIMER, now, self._gtimeout_ctr, group=True))
            return None
        if state is G.REKEYESTABLISHED:
            out.extend(self._cancel_timer(GROUP_TIMER))
            self._gtimeout_ctr = 0
            out.extend(self.group.acknowledged(self.sta_addr, self.profile.gtk_install))
            out.append(Log("group key handshake completed (RSN)"))
            return E.UCT
        if state is G.KEYERROR:
            out.append(Log(f"group key handshake failed (RSN) after {self.profile.eapol_retries} tries"))
            out.extend(self._event(E.RETRY_LIMIT, now))
            return None
        return None

    def _set_timer(self, name: str, now: float, ctr: int, *, group: bool) -> SetTimer:
        t = self.profile.timeouts
        first = t.first_group if group else t.first
        deadline = now + (first if ctr == 1 else t.subsequent)
        self._timers[name] = deadline
        return SetTimer(name, deadline)

    def _cancel_timer(self, name: str) -> list[Command]:
        if self._timers.pop(name, None) is None:
            return []
        return [CancelTimer(name)]

    def _valid_counters(self) -> list[int]:
        if self.profile.accepts_pending_replay_counters:
            return self._pending
        return self._pending[-1:]

    def _next_counter(self) -> int:
        self.replay_counter += 1
        self._pending.append(self.replay_counter)
        del self._pending[:-_PENDING_COUNTERS]
        return self.replay_counter

    def _igtk_ipn(self) -> int:
        return self.group.ipn(self.group.igtk_id)

    def _install_ptk(self) -> InstallKey:
        assert self.ptk is not None
        self.ptk_installed = True
        return InstallKey(KeyKind.PTK, 0, self.ptk.tk, 0, self.pairwise, self.sta_addr)

    # ------------------------------------------------------------------ messages sent
    def _send(self, frame: bytes, force_plaintext: bool = False) -> SendEAPOL:
        return SendEAPOL(self.sta_addr, self.addr, frame, self.ptk_installed and not force_plaintext)

    def _msg1_command(self, *, force_plaintext: bool = False) -> SendEAPOL:
        key_data = b""
        if self._ft_r1 is not None:
            key_data = PmkidKDE(self._ft_r1[1]).encode()  # PMKR1Name (12.7.6.2)
        elif not self.akm.is_psk:
            key_data = PmkidKDE(pmkid(self.pmk, self.addr, self.sta_addr, akm=self.akm)).encode()
        frame = keymsg.build_key(
            eapol_version=self.eapol_version,
            key_info=keymsg.KI_PAIRWISE | keymsg.KI_ACK | self._dv,
            key_length=self.pairwise.tk_len,
            replay_counter=self._next_counter(),
            nonce=self.anonce,
            key_data=key_data,
        )
        return self._send(frame, force_plaintext)

    def _group_kdes(self, ipn: int) -> bytes:
        out = GtkKDE(self.group.gtk_id, False, self.group.gtk).encode()
        if self.pmf and self.group.igtk is not None:
            out += IgtkKDE(self.group.igtk_id, ipn, self.group.igtk).encode()
        return out

    def _key_iv(self) -> bytes:
        return self.group.next_key_iv() if self._dv == 1 else keymsg.ZERO_IV

    def _msg3_command(self, *, rsc: int, ipn: int, force_plaintext: bool = False) -> SendEAPOL:
        assert self.ptk is not None
        plain = self.rsne
        if self.ft is not None and self._ft_r1 is not None:
            fte = ft_element(
                anonce=keymsg.ZERO_NONCE,
                snonce=keymsg.ZERO_NONCE,
                r0kh_id=self.ft.r0kh_id,
                r1kh_id=self.ft.r1kh_id,
            )
            plain = keymsg.with_pmkid(self.rsne, self._ft_r1[1]) + self.ft.mde + fte.encode()
        plain += self._group_kdes(ipn)
        key_iv = self._key_iv()
        frame = keymsg.build_key(
            eapol_version=self.eapol_version,
            key_info=keymsg.KI_PAIRWISE
            | keymsg.KI_INSTALL
            | keymsg.KI_ACK
            | keymsg.KI_MIC
            | keymsg.KI_SECURE
            | keymsg.KI_ENCRYPTED
            | self._dv,
            key_length=self.pairwise.tk_len,
            replay_counter=self._next_counter(),
            nonce=self.anonce,
            key_iv=key_iv,
            key_rsc=rsc,
            key_data=keymsg.encrypt_key_data(self.ptk.kek, plain, self._dv, key_iv),
            kck=self.ptk.kck,
            dv=self._dv,
            akm=self.akm,
        )
        return self._send(frame, force_plaintext)

    def _group_msg1_command(self, *, rsc: int, ipn: int, force_plaintext: bool = False) -> SendEAPOL:
        assert self.ptk is not None
        key_iv = self._key_iv()
        frame = keymsg.build_key(
            eapol_version=self.eapol_version,
            key_info=keymsg.KI_SECURE | keymsg.KI_MIC | keymsg.KI_ACK | keymsg.KI_ENCRYPTED | self._dv,
            key_length=0,
            replay_counter=self._next_counter(),
            key_iv=key_iv,
            key_rsc=rsc,
            key_data=keymsg.encrypt_key_data(self.ptk.kek, self._group_kdes(ipn), self._dv, key_iv),
            kck=self.ptk.kck,
            dv=self._dv,
            akm=self.akm,
        )
        return self._send(frame, force_plaintext)

    # ------------------------------------------------------------------ messages received
    def _verify(self, kck: bytes, eapol: bytes) -> bool:
        try:
            verify_eapol_key_mic(kck, eapol, descriptor_version=self._dv, akm=self.akm)
        except CryptoError:
            return False
        return True

    def _derive(self, snonce: bytes) -> PTK:
        if self._ft_r1 is not None:
            return derive_ft_ptk(
                self._ft_r1[0],
                snonce,
                self.anonce,
                self.addr,
                self.sta_addr,
                akm=self.akm,
                cipher=self.pairwise,
            )
        return derive_ptk(
            self.pmk, self.addr, self.sta_addr, self.anonce, snonce, akm=self.akm, cipher=self.pairwise
        )

    def _msg2(self, eapol: bytes, key: EapolKey, now: float) -> list[Command]:
        if (self.state, AuthenticatorEvent.MSG2) not in TRANSITIONS:
            return [
                Dropped(DropReason.STATE, f"received EAPOL-Key msg 2/4 in invalid state ({self.state.name})")
            ]
        ptk = self._derive(key.nonce)
        if not self._verify(ptk.kck, eapol):
            return [Dropped(DropReason.MIC, "invalid MIC in msg 2/4 of 4-Way Handshake")]
        try:
            items = keymsg.parse_key_data(key.key_data)
        except DecodeError as exc:
            return [Dropped(DropReason.KEY_DATA, f"invalid Key Data in msg 2/4: {exc}")]
        problem = self._msg2_rsne_problem(items)
        if problem is not None:
            return [Dropped(DropReason.RSNE, problem), *self._deauth(ReasonCode.IE_IN_4WAY_DIFFERS, now)]
        self.snonce = key.nonce
        self.ptk = ptk
        self._pending.clear()
        return self._event(AuthenticatorEvent.MSG2, now)

    def _msg2_rsne_problem(self, items: keymsg.KeyDataItems) -> str | None:
        if items.rsne is None or not keymsg.rsne_matches(self.sta_rsne, items.rsne):
            return "WPA IE from (Re)AssocReq did not match with msg 2/4"
        if self._ft_r1 is not None and self.ft is not None:
            try:
                pmkids = RSNE.decode(items.rsne.data).pmkids
            except DecodeError:
                pmkids = None
            if not pmkids or not hmac.compare_digest(pmkids[0], self._ft_r1[1]):
                return "FT: PMKR1Name mismatch in msg 2/4"
            if items.mde is None or items.mde.data[:2] != self.ft.mdid:
                return "FT: MDE mismatch in msg 2/4"
        return None

    def _deauth(self, reason: int, now: float) -> list[Command]:
        out: list[Command] = [Deauthenticate(self.sta_addr, reason)]
        out.extend(self._event(AuthenticatorEvent.DEAUTH, now))
        return out

    def _msg4(self, eapol: bytes, now: float) -> list[Command]:
        if (self.state, AuthenticatorEvent.MSG4) not in TRANSITIONS:
            return [
                Dropped(DropReason.STATE, f"received EAPOL-Key msg 4/4 in invalid state ({self.state.name})")
            ]
        if self.ptk is None or not self._verify(self.ptk.kck, eapol):
            return [Dropped(DropReason.MIC, "invalid MIC in msg 4/4 of 4-Way Handshake")]
        self._pending.clear()
        return self._event(AuthenticatorEvent.MSG4, now)

    def _group_msg2(self, eapol: bytes, now: float) -> list[Command]:
        if (self.group_key_state, AuthenticatorEvent.GROUP_MSG2) not in GROUP_TRANSITIONS:
            return [
                Dropped(
                    DropReason.STATE,
                    f"received EAPOL-Key group msg 2/2 in invalid state ({self.group_key_state.name})",
                )
            ]
        if self.ptk is None or not self._verify(self.ptk.kck, eapol):
            return [Dropped(DropReason.MIC, "invalid MIC in group msg 2/2")]
        self._pending.clear()
        return self._group_event(AuthenticatorEvent.GROUP_MSG2, now)

    def _request(self, eapol: bytes, key: EapolKey, now: float) -> list[Command]:
        if self.ptk is None or not self._verify(self.ptk.kck, eapol):
            return [Dropped(DropReason.MIC, "invalid MIC in EAPOL-Key Request")]
        self._request_counter = key.replay_counter
        if key.key_info & keymsg.KI_ERROR:
            return [Log("received EAPOL-Key Request with Error bit (Michael MIC failure report)")]
        if key.key_info & keymsg.KI_PAIRWISE:
            return [Log("received EAPOL-Key Request for a new 4-Way Handshake")] + self.rekey_ptk(now)
        return [Log("received EAPOL-Key Request for a GTK rekey: run GroupState.new_gtk and rekey_gtk")]

    # ------------------------------------------------------------------ FT over the air
    def _ft_auth(self, body: bytes, now: float) -> list[Command]:
        if self.ft is None or self._ft_r1 is None:
            return [Dropped(DropReason.STATE, "FT is not enabled on this authenticator")]
        try:
            auth = decode_mgmt_body(MgmtSubtype.AUTH, body)
        except DecodeError as exc:
            return [Dropped(DropReason.MGMT, f"malformed Authentication frame: {exc}")]
        if auth.algorithm != AuthAlgorithm.FT or auth.seq != 1:
            return [
                Dropped(
                    DropReason.MGMT, f"Authentication algorithm {auth.algorithm} seq {auth.seq} is not FT 1"
                )
            ]
        if (self.state, AuthenticatorEvent.FT_AUTH) not in TRANSITIONS:
            return [Dropped(DropReason.STATE, f"FT authentication in state {self.state.name}")]
        parsed = self._ft_parse(auth.elements, self._ft_r1[2], "PMKR0Name")
        if isinstance(parsed, Dropped):
            return [parsed]
        _, _, fte = parsed
        anonce = _nonce(self._nonce_source, 32)
        ptk = derive_ft_ptk(
            self._ft_r1[0], fte.snonce, anonce, self.addr, self.sta_addr, akm=self.akm, cipher=self.pairwise
        )
        self._ft_ctx = (anonce, fte.snonce, ptk)
        self._tk_already_set = False  # a new FT authentication derives a new PTK (0e3bd7ac6)
        elements = (
            _element(keymsg.with_pmkid(self.rsne, self._ft_r1[2])),
            _element(self.ft.mde),
            ft_element(anonce=anonce, snonce=fte.snonce, r0kh_id=self.ft.r0kh_id, r1kh_id=self.ft.r1kh_id),
        )
        resp = AuthBody(AuthAlgorithm.FT, 2, 0, elements).encode()
        return [SendMgmt(self.sta_addr, self.addr, MgmtSubtype.AUTH, resp)]

    def _ft_reassoc(self, body: bytes, now: float) -> list[Command]:
        if self.ft is None or self._ft_r1 is None:
            return [Dropped(DropReason.STATE, "FT is not enabled on this authenticator")]
        try:
            req = decode_mgmt_body(MgmtSubtype.REASSOC_REQ, body)
        except DecodeError as exc:
            return [Dropped(DropReason.MGMT, f"malformed Reassociation Request: {exc}")]
        if (self.state, AuthenticatorEvent.FT_REASSOC) not in TRANSITIONS or self._ft_ctx is None:
            return [Dropped(DropReason.STATE, "FT Reassociation Request without FT authentication")]
        parsed = self._ft_parse(req.elements, self._ft_r1[1], "PMKR1Name")
        if isinstance(parsed, Dropped):
            return [parsed]
        rsne_el, mde_el, fte = parsed
        anonce, snonce, ptk = self._ft_ctx
        if fte.anonce != anonce or fte.snonce != snonce:
            return [Dropped(DropReason.NONCE, "FT: ANonce/SNonce mismatch in Reassociation Request")]
        fte_el = ft_elements(req.elements)[2]
        try:
            verify_ft_mic(
                ptk.kck,
                self.sta_addr,
                self.addr,
                FTReassocSeq.REQUEST,
                rsne_el.encode(),
                mde_el.encode(),
                fte_el.encode(),
                akm=self.akm,
            )
        except CryptoError:
            return [Dropped(DropReason.MIC, "FT: Invalid MIC in Reassociation Request")]
        self.anonce, self.snonce, self.ptk = anonce, snonce, ptk
        out: list[Command] = [
            SendMgmt(
                self.sta_addr,
                self.addr,
                MgmtSubtype.REASSOC_RESP,
                self._ft_reassoc_response(ptk, anonce, snonce),
            )
        ]
        if not self._tk_already_set or self.profile.ft_reinstalls_ptk_on_reassoc_replay:
            self._tk_already_set = True
            out.append(self._install_ptk())
        else:
            out.append(Log("FT: Do not re-install same PTK to the driver"))
        self.state = TRANSITIONS[(self.state, AuthenticatorEvent.FT_REASSOC)]
        out.extend(self.group.join(self.sta_addr))
        return out

    def _ft_reassoc_response(self, ptk: PTK, anonce: bytes, snonce: bytes) -> bytes:
        assert self.ft is not None and self._ft_r1 is not None
        g = self.group
        subs = [
            FTSubelement(
                FTSubelementID.GTK,
                FtGtk(
                    g.gtk_id & 0x3, len(g.gtk), g.pn(g.gtk_id), aes_key_wrap(ptk.kek, pad_key_data(g.gtk))
                ).encode(),
            )
        ]
        if self.pmf and g.igtk is not None:
            wrapped = aes_key_wrap(ptk.kek, pad_key_data(g.igtk))
            subs.append(
                FTSubelement(
                    FTSubelementID.IGTK, FtIgtk(g.igtk_id, g.ipn(g.igtk_id), len(g.igtk), wrapped).encode()
                )
            )
        rsne = keymsg.with_pmkid(self.rsne, self._ft_r1[1])
        mde = self.ft.mde
        fte = seal_fte(
            ft_element(
                anonce=anonce,
                snonce=snonce,
                r0kh_id=self.ft.r0kh_id,
                r1kh_id=self.ft.r1kh_id,
                subelements=tuple(subs),
            ),
            kck=ptk.kck,
            sta=self.sta_addr,
            ap=self.addr,
            seq=FTReassocSeq.RESPONSE,
            rsne=rsne,
            mde=mde,
            akm=self.akm,
        )
        return AssocRespBody(_CAPABILITY, 0, _AID_FIELD, (_element(rsne), _element(mde), fte)).encode()

    def _ft_parse(
        self, elements: tuple[Element, ...], pmkid_expected: bytes, pmkid_name: str
    ) -> tuple[Element, Element, FTE] | Dropped:
        assert self.ft is not None
        rsne_el, mde_el, fte_el = ft_elements(elements)
        if rsne_el is None or mde_el is None or fte_el is None:
            return Dropped(DropReason.MGMT, "FT: RSNE, MDE or FTE missing")
        try:
            rsne = RSNE.decode(rsne_el.data)
            fte = FTE.decode(fte_el.data)
        except DecodeError as exc:
            return Dropped(DropReason.MGMT, f"FT: invalid RSNE or FTE: {exc}")
        if not rsne.pmkids or not hmac.compare_digest(rsne.pmkids[0], pmkid_expected):
            return Dropped(DropReason.RSNE, f"FT: {pmkid_name} in RSNE did not match")
        if mde_el.data[:2] != self.ft.mdid:
            return Dropped(DropReason.RSNE, "FT: MDE does not match this mobility domain")
        if fte.r0kh_id != self.ft.r0kh_id:
            return Dropped(DropReason.MGMT, "FT: R0KH-ID mismatch")
        return rsne_el, mde_el, fte


def _element(raw: bytes) -> Element:
    return Element(raw[0], bytes(raw[2:]))
