"""A lab run's shared context: the clock, the air, seeded randomness, and the network's settings."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from krackwatch.crypto import AKM, Cipher, pbkdf2_psk
from krackwatch.lab.hosts import LanConfig
from krackwatch.lab.sim import Air, EventLoop

__all__ = ["NetConfig", "World"]


# Default addresses of the lab's AP and client: locally administered, so never a real vendor's.
DEFAULT_AP_MAC = bytes.fromhex("024b57000001")
DEFAULT_VICTIM_MAC = bytes.fromhex("024b57001001")


@dataclass(frozen=True, slots=True)
class NetConfig:
    """The WLAN every station of a run shares: SSID, passphrase, suites, PMF and FT settings."""

    ssid: bytes = b"krackwatch-lab"
    passphrase: str = "correct horse battery staple"
    pairwise: Cipher = Cipher.CCMP128
    group: Cipher = Cipher.CCMP128
    akm: AKM = AKM.PSK
    pmf: bool = False
    mdid: bytes = b"\x4b\x57"
    lan: LanConfig = field(default_factory=LanConfig)
    # Addresses of the attacked pair (locally administered by default; a demo may use a real device's).
    ap_mac: bytes = DEFAULT_AP_MAC
    victim_mac: bytes = DEFAULT_VICTIM_MAC

    @property
    def pmk(self) -> bytes:
        """PBKDF2 of the passphrase (cached by :func:`krackwatch.crypto.pbkdf2_psk`)."""
        return pbkdf2_psk(self.passphrase, self.ssid)


class World:
    """Clock, air and per-component random streams derived from one seed."""

    def __init__(self, seed: int, net: NetConfig, *, record: bool = True) -> None:
        self.seed = seed
        self.net = net
        self.loop = EventLoop()
        self.air = Air(self.loop, record=record)

    def rng(self, component: str) -> random.Random:
        """An independent, reproducible random stream for one component of the run."""
        return random.Random(f"krackwatch-lab/{self.seed}/{component}")

    def nonce_source(self, component: str) -> Callable[[int], bytes]:
        return self.rng(component).randbytes
