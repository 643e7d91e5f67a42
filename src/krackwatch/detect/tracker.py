"""Streaming state of the passive analysis: sessions keyed by (BSSID, STA) and their key epochs, PN streams,
handshake messages, reinstallation triggers and the events the rules judge.

Memory is bounded by the number of stations, never by the capture: a PN stream keeps its highest PN per
TID, the first :data:`HEAD` frames of each key epoch (a reinstalled key restarts its PN at 1, so those are
the frames a reuse collides with) and a ring of the last :data:`RING` frames (what a retransmission
repeats); sessions keep a bounded tail of handshake messages; every list of events is capped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from krackwatch.wire.capture import Record

__all__ = [
    "HEAD",
    "MAX_EVENTS",
    "RING",
    "BssState",
    "Entry",
    "Event",
    "Message",
    "Session",
    "Stream",
    "Trigger",
    "mac_str",
    "pair_key",
]

HEAD = 16  # first frames of a key epoch kept per stream
RING = 8  # last frames kept per stream (a power of two)
RING_MASK = RING - 1
MAX_EVENTS = 16  # events kept per stream (more are only counted)
MAX_TRIGGERS = 32  # triggers kept per session
N_SLOTS = 18  # PN slots per stream: TIDs 0-15, 16 = non-QoS data, 17 = management
SLOT_NONQOS = 16
SLOT_MGMT = 17

# A frame kept for evidence: (PN, slot, global frame number, record, body offset, body end, plaintext).
# The body runs from the security header to the end of the MIC/ICV (FCS excluded); plaintext is the
# decrypted MSDU when a key decrypted it, else None.
Entry = tuple[int, int, int, Record, int, int, "bytes | None"]


def mac_str(addr: bytes | None) -> str | None:
    if addr is None:
        return None
    return ":".join(f"{b:02x}" for b in addr)


def pair_key(a: bytes, b: bytes) -> bytes:
    """Order-independent key of an address pair."""
    return a + b if a <= b else b + a


@dataclass(slots=True)
class Message:
    """One EAPOL-Key message as seen on the air."""

    name: str  # M1..M4, G1, G2
    rc: int
    nonce: bytes
    rsc: int
    gno: int
    rec: Record
    retry: bool
    protected: bool
    freq: int | None
    key_data_len: int
    mic: bytes
    sender: bytes
    key_ids: tuple[tuple[str, int, bytes], ...] = ()  # (GTK|IGTK, key id, key) delivered, when keys decrypt it
    ipn: int | None = None  # IPN of a delivered IGTK


@dataclass(slots=True)
class Trigger:
    """Something that makes a vulnerable device reinstall a key: a repeated message 3, a replayed FT
    Reassociation Request, a group key re-delivered with an old Key RSC. ``watch`` names the stream whose
    packet numbers tell the device's reaction; ``after`` keeps its first frames after the trigger."""

    kind: str  # "msg3", "ft-reassoc", "gtk"
    session: Session
    gno: int
    rec: Record
    freq: int | None
    details: dict[str, object] = field(default_factory=dict)
    watch_key: bytes = b""  # stream key of the reacting transmitter
    base_total: int | None = None  # that stream's frame count when the trigger happened (None: no stream yet)
    end_gno: int | None = None  # the next trigger or key epoch of the session ends this one's window
    end_total: int | None = None
    after: list[Entry] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)  # PN events of the watched stream in the window
    answered: Message | None = None  # message 4 (or group message 2) replying to it
    m1_between: list[Message] = field(default_factory=list)
    previous: Message | None = None  # the message it repeats


@dataclass(slots=True)
class Event:
    """A PN at or below the highest one seen on its slot, that is not a retransmission or a relayed copy.

    ``kind``: ``reuse`` (an earlier frame with the same PN and different ciphertext), ``identical`` (the
    same frame again, Retry clear or long after), ``restart`` (below the highest PN, the frame with that
    PN was not kept), ``zero-tk`` (authenticates under an all-zero key)."""

    kind: str
    stream: Stream
    pn: int
    slot: int
    cur: Entry
    orig: Entry | None = None
    same_key: bool | None = None  # with keys: both frames decrypted under the same TK
    proof: tuple[int, str, str, bool] | None = None  # (length, C1^C2 hex, P1^P2 hex, equal)
    epoch: int = 0
    note: str = ""


class Stream:
    """Packet numbers of one transmitter towards one receiver (or towards all, for group frames) under one
    key id: the highest PN per slot, the head and tail frames of the current key epoch, and the events."""

    __slots__ = (
        "base",
        "bss",
        "cipher",
        "epoch",
        "events",
        "first_gno",
        "gen",
        "group",
        "head",
        "hook",
        "hw_decrypted",
        "key",
        "kid",
        "maxpn",
        "n",
        "n_events",
        "prev_head",
        "prev_max",
        "prev_until",
        "ra",
        "relays",
        "restarts",
        "retransmissions",
        "ri",
        "ring",
        "session",
        "ta",
        "tk",
        "tkip",
        "unverified_retries",
        "watch",
        "zero_hits",
        "zero_tries",
    )

    def __init__(self, key: bytes, ta: bytes, ra: bytes, kid: int, group: bool) -> None:
        self.key = key
        self.ta = ta
        self.ra = ra
        self.kid = kid
        self.group = group
        self.session: Session | None = None
        self.bss: BssState | None = None
        self.gen = 0  # session epoch this stream's state belongs to
        self.tk: object = None  # identity of the key that last decrypted it (with keys)
        self.maxpn = [-1] * N_SLOTS
        self.n = 0  # frames in the current (sub-)epoch
        self.base = 0  # frames before it: base + n counts every frame of the stream
        self.head: list[Entry] = []
        self.ring: list[Entry | None] = [None] * RING
        self.ri = 0
        self.prev_head: list[Entry] = []  # head of the epoch before a restart (more reuse pairs)
        self.prev_max: list[int] | None = None  # highest PNs of the previous key epoch (late frames)
        self.prev_until = 0  # ns: frames above prev_max until then belong to the previous epoch
        self.tkip = False
        self.cipher: str | None = None
        self.events: list[Event] = []
        self.n_events = 0
        self.retransmissions = 0
        self.relays = 0
        self.unverified_retries = 0
        self.watch: Trigger | None = None
        self.zero_tries = 0
        self.zero_hits = 0
        self.epoch = 0  # increments with every key epoch or restart, for labelling events
        self.hw_decrypted = 0
        self.first_gno = 0
        self.restarts: list[tuple[int, int]] = []  # (gno, ts) of the last PN restarts, for pairing directions
        self.hook = False  # the hot path must look closer: a new key epoch of the session, or a watching trigger

    @property
    def total(self) -> int:
        return self.base + self.n

    @property
    def last_ts(self) -> int | None:
        """Time of the newest kept frame (the ring's)."""
        e = self.ring[(self.ri - 1) % RING]
        return e[3].ts_ns if e is not None else None

    def add_event(self, ev: Event) -> None:
        self.n_events += 1
        if len(self.events) < MAX_EVENTS:
            self.events.append(ev)

    def entries(self):
        """Kept frames, newest first: the ring, then the head, then the previous head."""
        ring = self.ring
        i = self.ri
        for k in range(RING):
            e = ring[(i - 1 - k) % RING]
            if e is not None:
                yield e
        yield from reversed(self.head)
        yield from reversed(self.prev_head)

    def new_epoch(self, ts: int, *, keep_late: bool) -> None:
        """A new key: forget the PNs of the old one. With ``keep_late`` frames above the old key's highest
        PNs for two more seconds are taken as late frames of the old key (drivers flush queued frames)."""
        self.prev_max = self.maxpn if keep_late else None
        self.prev_until = ts + 2_000_000_000
        self.maxpn = [-1] * N_SLOTS
        self.base += self.n
        self.n = 0
        self.head = []
        self.prev_head = []
        self.ring = [None] * RING
        self.epoch += 1
        self.zero_tries = 0

    def restart(self) -> None:
        """The PN went back within one key: keep counting from the new value (one event, not thousands),
        and keep the old head to pair the next low PNs with."""
        if self.head:
            self.prev_head = self.head
        self.maxpn = [-1] * N_SLOTS
        self.base += self.n
        self.n = 0
        self.head = []
        self.epoch += 1
        self.zero_tries = 0


@dataclass(slots=True)
class Session:
    """An authenticator and a supplicant: the handshake messages between them, their key epochs and the
    reinstallation triggers seen. ``gen`` increases with every new key (a fresh handshake)."""

    key: bytes
    a: bytes
    b: bytes
    bssid: bytes | None = None
    sta: bytes | None = None
    gen: int = 0
    anonce: bytes | None = None  # of the current epoch (its message 3)
    snonce: bytes | None = None
    confirmed: dict[bytes, int] = field(default_factory=dict)  # ANonce -> gno of its first message 3
    m3s: list[Message] = field(default_factory=list)  # of the current epoch
    m1_since_m3: list[Message] = field(default_factory=list)
    m4_since_m3: list[Message] = field(default_factory=list)
    last_m1: Message | None = None
    last_m2: Message | None = None
    pending: tuple[bytes, bytes] | None = None  # (ANonce, SNonce) of a handshake whose message 3 is missing
    installed: bool = False  # the supplicant has installed the epoch's PTK (message 4 sent)
    counts: dict[str, int] = field(default_factory=dict)
    recent: dict[tuple, tuple[int, int, tuple]] = field(default_factory=dict)  # dedupe: (gno, ts, location)
    triggers: list[Trigger] = field(default_factory=list)
    n_triggers: int = 0
    tptk: list[tuple[Message, Message, Message]] = field(default_factory=list)  # (M3, forged M1, M3 again)
    m4_then_m3: list[tuple[Message, Message]] = field(default_factory=list)  # (M4 sent, M3 repeated after)
    replayed_eapol: list[Message] = field(default_factory=list)
    parked: dict[tuple, Message] = field(default_factory=dict)  # heard away from the client, not yet relayed
    sta_loc: tuple[int, int | None] | None = None  # where the client transmits (interface, frequency)
    m4_pending: list[Message] = field(default_factory=list)  # message 4 sent since the last message 3 sent
    last_m3_sent: Message | None = None
    ft_req: tuple[bytes, int, int, Record] | None = None  # (FTE, gno, link header length, record)
    ft_auth_since: bool = False
    ft_reassocs: int = 0
    akm: int | None = None
    # group keys handed over: (kind, key id) -> [key, epoch, replay counter of the message, acknowledged]
    delivered: dict[tuple[str, int], list] = field(default_factory=dict)
    streams: list[Stream] = field(default_factory=list, repr=False)  # its unicast PN streams
    first_gno: int = 0

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def add_trigger(self, t: Trigger) -> None:
        self.close_trigger(t.gno)
        self.n_triggers += 1
        if len(self.triggers) < MAX_TRIGGERS:
            self.triggers.append(t)

    def close_trigger(self, gno: int, total_of=None) -> None:
        """End the window of the open trigger (a new trigger or a new key epoch begins)."""
        if self.triggers and self.triggers[-1].end_gno is None:
            t = self.triggers[-1]
            t.end_gno = gno
            if total_of is not None:
                t.end_total = total_of(t)


@dataclass(slots=True)
class BssState:
    """What beacons, probe responses and group traffic say about one BSSID."""

    bssid: bytes
    ssid: bytes | None = None
    beacons: int = 0
    ds_channels: dict[int, list] = field(default_factory=dict)  # DS channel -> [count, first gno, record, freq]
    freqs: dict[int, int] = field(default_factory=dict)  # radio frequency -> beacons heard there
    far: list = field(default_factory=list)  # (gno, record, announced channel, heard freq)
    csa: list = field(default_factory=list)  # (gno, record, new channel, count, freq)
    security: str | None = None
    wep: bool = False
    wep_frames: int = 0
    wep_sample: tuple[int, Record] | None = None
    tkip: bool = False
    pairwise: tuple[str, ...] = ()
    group_cipher: str | None = None
    wpa1: bool = False
    ft: bool = False
    pmf: str = "no"
    rsn: bool = False
    sample: tuple[int, Record] | None = None  # a beacon for the evidence of configuration findings
    last_body: bytes = b""
    gtk: dict[int, bytes] = field(default_factory=dict)  # key id -> GTK in use (with keys)
    igtk: dict[int, bytes] = field(default_factory=dict)
    group_triggers: list = field(default_factory=list)  # GTK/IGTK re-deliveries with old RSC/IPN
    bip: dict[int, list] = field(default_factory=dict)  # IGTK key id -> [max IPN, kept frames, events]
