"""Hypothesis: any bytes, and any sequence of deliveries, drops, duplicates, replays, timeouts and
rekeys, give commands (a rejected input is a ``Dropped``), never another exception; a lone
``Dropped`` leaves the state unchanged; and the patched profile never reinstalls a key."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protocol.playbook import AP, AP2, STA, nonces

from krackwatch.crypto import AKM, aes_key_wrap, eapol_key_mic
from krackwatch.protocol import (
    PRESETS,
    Authenticator,
    CancelTimer,
    Deauthenticate,
    Dropped,
    FTConfig,
    GroupState,
    InstallKey,
    KeyKind,
    Log,
    SendEAPOL,
    SendMgmt,
    SetTimer,
    Supplicant,
)
from krackwatch.wire import pad_key_data

COMMANDS = (SendEAPOL, InstallKey, Deauthenticate, SetTimer, CancelTimer, SendMgmt, Log, Dropped)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PMK = bytes(range(32))
FT = FTConfig(mdid=b"\x01\x02", r0kh_id=b"r0kh", r1kh_id=AP, ssid=b"fuzz")


def pair(profile="patched", *, completed=False, pmf=True, ft=False):
    ns = nonces(17)
    gs = GroupState(nonce_source=ns, pmf=pmf)
    kw = {"akm": AKM.FT_PSK, "ft": FT} if ft else {}
    auth = Authenticator(
        PRESETS["hostapd-2.6"], addr=AP, sta_addr=STA, pmk=PMK, group_state=gs, pmf=pmf, nonce_source=ns, **kw
    )
    sup = Supplicant(PRESETS[profile], addr=STA, ap_addr=AP, pmk=PMK, pmf=pmf, nonce_source=ns, **kw)
    m1 = auth.start(0.0)[0].eapol
    if completed:
        m2 = sup.receive_eapol(m1, protected=False, now=0)[0].eapol
        m3 = auth.receive_eapol(m2, protected=False, now=0)[0].eapol
        m4 = sup.receive_eapol(m3, protected=False, now=0)[0].eapol
        auth.receive_eapol(m4, protected=False, now=0)
    return auth, sup, m1


def check(cmds):
    assert isinstance(cmds, list)
    assert all(isinstance(c, COMMANDS) for c in cmds), cmds
    return cmds


deliveries = st.sampled_from([(False, None), (False, "old"), (True, None), (True, "old")])


@SETTINGS
@given(data=st.binary(max_size=300), completed=st.booleans(), delivery=deliveries)
def test_random_bytes_to_the_supplicant(data, completed, delivery):
    _, sup, _ = pair(completed=completed)
    before = sup.state
    cmds = check(sup.receive_eapol(data, protected=delivery[0], decrypted_with=delivery[1], now=1.0))
    assert len(cmds) == 1 and isinstance(cmds[0], Dropped)
    assert sup.state is before


@SETTINGS
@given(data=st.binary(max_size=300), completed=st.booleans())
def test_random_bytes_to_the_authenticator(data, completed):
    auth, _, _ = pair(completed=completed)
    before = auth.state
    cmds = check(auth.receive_eapol(data, protected=completed, now=1.0))
    assert len(cmds) == 1 and isinstance(cmds[0], Dropped) and auth.state is before


@SETTINGS
@given(
    flips=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 255)), max_size=4),
    cut=st.integers(0, 400),
    completed=st.booleans(),
)
def test_mutated_real_frames(flips, cut, completed):
    auth, sup, m1 = pair(completed=completed)
    frames = [m1]
    if completed:
        frames += [auth.resend_m3(1.0)[0].eapol, auth.resend_group_m1(1.0)[0].eapol]
    for frame in frames:
        b = bytearray(frame)
        for pos, x in flips:
            if pos < len(b):
                b[pos] ^= x
        check(sup.receive_eapol(bytes(b[: max(cut, 1)]), protected=completed, now=2.0))
        check(auth.receive_eapol(bytes(b), protected=completed, now=2.0))


@SETTINGS
@given(plain=st.binary(max_size=120), group=st.booleans(), key_rsc=st.integers(0, 2**64 - 1))
def test_key_data_behind_a_valid_mic(plain, group, key_rsc):
    # Any plaintext Key Data, wrapped with the right KEK under a valid MIC, reaches the parser.
    auth, sup, _ = pair(completed=True)
    frame = bytearray(auth.resend_group_m1(1.0)[0].eapol if group else auth.resend_m3(1.0)[0].eapol)
    wrapped = aes_key_wrap(sup.ptk.kek, pad_key_data(plain))
    body = bytes(frame[:97]) + len(wrapped).to_bytes(2, "big") + wrapped
    body = (
        body[:2] + (len(body) - 4).to_bytes(2, "big") + body[4:65] + key_rsc.to_bytes(8, "little") + body[73:]
    )
    mic = eapol_key_mic(sup.ptk.kck, body[:81] + bytes(16) + body[97:], descriptor_version=2)
    check(sup.receive_eapol(body[:81] + mic + body[97:], protected=True, now=2.0))


@SETTINGS
@given(subtype=st.integers(0, 15), body=st.binary(max_size=200), src=st.sampled_from([AP, AP2, STA]))
def test_random_management_frames(subtype, body, src):
    auth, sup, _ = pair(completed=True, ft=True)
    check(auth.receive_mgmt(subtype, body, src, 1.0))
    check(sup.receive_mgmt(subtype, body, src, 1.0))
    check(sup.ft_auth_request(AP2, 1.0))
    check(sup.receive_mgmt(subtype, body, src, 1.0))
    check(auth.timeout("eapol-pairwise", 5.0))


# --------------------------------------------------------------------------- random sequences

ACTIONS = (
    "deliver",
    "drop",
    "duplicate",
    "replay",
    "old",
    "timeout",
    "rekey_ptk",
    "rekey_gtk",
    "new_gtk",
    "resend_m1",
    "resend_m3",
    "resend_group_m1",
)


class Net:
    """A lossy, reordering link under random control."""

    def __init__(self, sup_profile: str, ap_profile: str) -> None:
        ns = nonces(23)
        self.group = GroupState(nonce_source=ns, pmf=True)
        self.auth = Authenticator(
            PRESETS[ap_profile],
            addr=AP,
            sta_addr=STA,
            pmk=PMK,
            group_state=self.group,
            pmf=True,
            nonce_source=ns,
        )
        self.sup = Supplicant(PRESETS[sup_profile], addr=STA, ap_addr=AP, pmk=PMK, pmf=True, nonce_source=ns)
        self.now = 0.0
        self.flight: list[SendEAPOL] = []
        self.history: list[SendEAPOL] = []
        self.timers: dict[str, float] = {}
        self.installs = {"ap": [], "sta": []}
        self.feed("ap", self.auth.start(0.0))

    def feed(self, who: str, cmds) -> None:
        for c in check(cmds):
            if isinstance(c, SendEAPOL):
                self.flight.append(c)
                self.history.append(c)
            elif isinstance(c, SetTimer):
                self.timers[c.name] = c.deadline
            elif isinstance(c, CancelTimer):
                self.timers.pop(c.name, None)
            elif isinstance(c, InstallKey):
                self.installs[who].append(c)

    def deliver(self, frame: SendEAPOL, decrypted_with: str | None = None) -> None:
        if frame.dst == STA:
            before = self.sup.state
            out = self.sup.receive_eapol(
                frame.eapol, protected=frame.protected, decrypted_with=decrypted_with, now=self.now
            )
            if len(out) == 1 and isinstance(out[0], Dropped):
                assert self.sup.state is before
            self.feed("sta", out)
        else:
            before = self.auth.state
            out = self.auth.receive_eapol(frame.eapol, protected=frame.protected, now=self.now)
            if len(out) == 1 and isinstance(out[0], Dropped):
                assert self.auth.state is before
            self.feed("ap", out)

    def step(self, action: str, n: int, flag: bool) -> None:
        self.now += 0.05
        a = self.auth
        if action in ("deliver", "drop", "duplicate", "old") and self.flight:
            frame = self.flight.pop(n % len(self.flight))
            if action == "drop":
                return
            dw = "old" if action == "old" else None
            self.deliver(frame, dw)
            if action == "duplicate":
                self.deliver(frame, dw)
        elif action == "replay" and self.history:
            self.deliver(self.history[n % len(self.history)], "old" if flag else None)
        elif action == "timeout" and self.timers:
            name, deadline = min(self.timers.items(), key=lambda kv: kv[1])
            del self.timers[name]
            self.now = max(self.now, deadline)
            self.feed("ap", a.timeout(name, self.now))
        elif action == "rekey_ptk":
            self.feed("ap", a.rekey_ptk(self.now))
        elif action == "rekey_gtk":
            self.feed("ap", a.rekey_gtk(self.now))
        elif action == "new_gtk":
            self.group.new_gtk()
        elif action == "resend_m1":
            self.feed("ap", a.resend_m1(self.now, change_anonce=flag))
        elif action == "resend_m3":
            self.feed("ap", a.resend_m3(self.now, max_rsc=flag))
        elif action == "resend_group_m1":
            self.feed("ap", a.resend_group_m1(self.now, max_rsc=flag))


steps = st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 64), st.booleans()), max_size=40)


def _run(sup_profile, ap_profile, script):
    net = Net(sup_profile, ap_profile)
    for action, n, flag in script:
        net.step(action, n, flag)
    return net


def _no_consecutive_repeats(installs, kind):
    keys = [(i.key_id, i.key) for i in installs if i.kind is kind]
    return all(a != b for a, b in itertools.pairwise(keys))


@SETTINGS
@given(script=steps)
def test_patched_never_reinstalls_a_key(script):
    net = _run("patched", "hostapd-2.7", script)
    sta = net.installs["sta"]
    assert not any(i.zero for i in sta)
    for kind in KeyKind:
        assert _no_consecutive_repeats(sta, kind)
    # hostapd's 4-way handshake installs each new PTK once.
    assert _no_consecutive_repeats(net.installs["ap"], KeyKind.PTK)


@SETTINGS
@given(script=steps, profile=st.sampled_from(sorted(set(PRESETS) - {"patched"})))
def test_any_profile_survives_any_sequence(script, profile):
    net = _run(profile, profile if PRESETS[profile].role.name != "CLIENT" else "hostapd-2.6", script)
    assert _no_consecutive_repeats(net.installs["ap"], KeyKind.PTK)
