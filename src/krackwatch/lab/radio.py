"""The radio the active tests use: monitor mode plus frame injection, nothing else.

The test logic (:mod:`krackwatch.lab.active`) only calls :class:`Radio`, so a real monitor-mode
interface can replace :class:`SimulatedRadio` without touching it: ``send`` injects an MPDU (no
FCS, no radiotap), ``receive(until)`` returns the next MPDU heard on the channel before ``until``
(seconds on the radio's clock) or None, ``now()`` reads that clock.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable
from typing import Protocol

from krackwatch.lab.sim import Timer
from krackwatch.lab.world import World

__all__ = ["Radio", "RadioClock", "RadioPort", "SimulatedRadio"]


class Radio(Protocol):
    """A monitor-mode radio that can inject frames on one channel."""

    channel: int

    def now(self) -> float: ...

    def send(self, frame: bytes) -> None: ...

    def receive(self, until: float) -> tuple[float, bytes] | None: ...


class SimulatedRadio:
    """A :class:`Radio` on the simulated air; waiting on it runs the simulation."""

    def __init__(self, world: World, *, name: str, channel: int) -> None:
        self.world = world
        self.channel = channel
        self._inbox: deque[tuple[float, bytes]] = deque()
        self._port = world.air.port(name, channel, self._heard)
        self.comment: str | None = None  # attached to the next frame sent (for the capture)

    def _heard(self, frame: bytes, channel: int) -> None:
        self._inbox.append((self.world.loop.now, frame))

    def now(self) -> float:
        return self.world.loop.now

    def send(self, frame: bytes) -> None:
        self._port.send(frame, self.comment)
        self.comment = None

    def receive(self, until: float) -> tuple[float, bytes] | None:
        if not self._inbox:
            self.world.loop.run(until, lambda: bool(self._inbox))
        return self._inbox.popleft() if self._inbox else None


class RadioClock:
    """Timers on a radio's clock, for machines the test logic runs locally (its own AP)."""

    def __init__(self, radio: Radio) -> None:
        self.radio = radio
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()

    @property
    def now(self) -> float:
        return self.radio.now()

    def at(self, when: float, fn: Callable[[], None]) -> Timer:
        t = Timer(when, fn)
        heapq.heappush(self._heap, (when, next(self._seq), t))
        return t

    def next_deadline(self) -> float | None:
        while self._heap and not self._heap[0][2].alive:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def run_due(self) -> None:
        now = self.radio.now()
        while self._heap and self._heap[0][0] <= now:
            _, _, t = heapq.heappop(self._heap)
            if t.alive:
                t.alive = False
                t.fn()


class RadioPort:
    """What a locally run station transmits through: the radio."""

    def __init__(self, radio: Radio) -> None:
        self.radio = radio

    def send(self, data: bytes, comment: str | None = None) -> None:
        if comment is not None and isinstance(self.radio, SimulatedRadio):
            self.radio.comment = comment
        self.radio.send(data)
